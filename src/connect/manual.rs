//! The `manual` connector: a human operator performs the operation and says
//! what they observed. The connector never prints; it asks through an
//! [`OperatorPrompt`] that the CLI (or a test) implements, and says
//! beforehand whether the question will wait for a person at the terminal
//! ([`ManualConnector::waits`]), so that the run can announce it (a
//! `prompt_waiting` event, which `--notify` posts) as it does for prompts.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{ConnectorError, ConsoleOperations};
use crate::cluster::{Operation, OperationOutput};

/// What the operator is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualRequest {
    /// The operation to perform.
    pub operation: Operation,
    /// The host of the server, when the inventory knows it.
    pub host: Option<String>,
    /// What to do, in one or two sentences.
    pub instructions: String,
    /// What the operator should see when it worked.
    pub expected: String,
}

impl ManualRequest {
    /// The id of the question that asks for it: `manual.OPERATION.SERVER`
    /// (the key that answers it in an answers file).
    pub fn prompt_id(&self) -> String {
        format!(
            "manual.{}.{}",
            self.operation.name(),
            self.operation.server()
        )
    }

    /// The question asked: what to do, and what to see when it is done.
    pub fn question(&self) -> String {
        format!(
            "{} When it is done you should see: {}",
            self.instructions, self.expected
        )
    }
}

/// A question about a manual operation that will wait for a person at the
/// terminal: what the run announces before asking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPrompt {
    /// The question's id (`manual.OPERATION.SERVER`).
    pub id: String,
    /// The question.
    pub text: String,
}

/// The operator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualAnswer {
    /// Done, and it looked as expected; `observed` is an optional note
    /// (for a backup: the backup's name).
    Done {
        /// What the operator noted, possibly empty.
        observed: String,
    },
    /// Performed, but it failed (e.g. the installer reported an error).
    Failed {
        /// What the operator saw.
        observed: String,
    },
    /// Not performed.
    NotDone {
        /// Why.
        reason: String,
    },
    /// The operator interrupted the run (Ctrl-C) instead of answering.
    Interrupted,
}

impl ManualAnswer {
    /// [`ManualAnswer::NotDone`] for `reason`.
    pub fn not_done(reason: impl std::fmt::Display) -> Self {
        Self::NotDone {
            reason: reason.to_string(),
        }
    }
}

/// How the connector reaches the operator. The CLI implements it with
/// terminal prompts (or an answers file); tests with a script.
#[async_trait]
pub trait OperatorPrompt: Send + Sync {
    /// Asks the operator to perform `request` and waits for the answer.
    async fn ask(&self, request: &ManualRequest) -> ManualAnswer;

    /// Whether asking `request` will wait for a person at the terminal
    /// (nothing else answers it): the question then, else `None`.
    fn waits(&self, _request: &ManualRequest) -> Option<WaitingPrompt> {
        None
    }
}

/// Performs operations by asking an operator.
#[derive(Clone)]
pub struct ManualConnector {
    prompt: Arc<dyn OperatorPrompt>,
    hosts: BTreeMap<String, String>,
}

impl std::fmt::Debug for ManualConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualConnector")
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl ManualConnector {
    /// A manual connector; `hosts` maps server names to host names for the
    /// instructions.
    pub fn new(prompt: Arc<dyn OperatorPrompt>, hosts: BTreeMap<String, String>) -> Self {
        ManualConnector { prompt, hosts }
    }

    /// Whether performing `operation` will wait for a person at the
    /// terminal: the question it will ask, else `None`.
    pub fn waits(&self, operation: &Operation) -> Option<WaitingPrompt> {
        if operation.is_read_only() {
            return None;
        }
        self.prompt.waits(&self.request(operation))
    }

    /// The request shown to the operator for `operation`.
    pub fn request(&self, operation: &Operation) -> ManualRequest {
        let server = operation.server();
        let host = self.hosts.get(server).cloned();
        let on = match &host {
            Some(host) => format!("{server} (host {host})"),
            None => server.to_owned(),
        };
        let (instructions, expected) = match operation {
            Operation::StopServer { .. } => (
                format!("Stop the Management Server {on}."),
                format!("{server} is stopped and no longer answers."),
            ),
            Operation::StartServer { .. } => (
                format!("Start the Management Server {on}."),
                format!("{server} is running and answers the Management Client."),
            ),
            Operation::Upgrade { version, .. } => (
                format!("Run the SMC installer on {on} to upgrade it to {version}."),
                format!("The installer finished without error and {server} runs {version}."),
            ),
            Operation::Backup { .. } => (
                format!("Take a Management Server backup on {on} (sgBackupMgtSrv.sh)."),
                "The backup finished; note its name.".to_owned(),
            ),
            Operation::RestoreBackup { .. } => (
                format!("Restore the latest Management Server backup on {on}."),
                "The restore finished; every Standby is now excluded from replication.".to_owned(),
            ),
            Operation::StopReplication { .. } => (
                format!("On {on}, run `sgReplicationAdmin.sh -stop_replication`."),
                format!("{server} no longer has a replication configuration."),
            ),
            other => (
                format!("Perform `{other}` in the Management Client."),
                "The Management Client reports it done.".to_owned(),
            ),
        };
        ManualRequest {
            operation: operation.clone(),
            host,
            instructions,
            expected,
        }
    }
}

#[async_trait]
impl ConsoleOperations for ManualConnector {
    fn describe(&self) -> String {
        "manual (the operator performs it)".to_owned()
    }

    async fn perform_console(
        &self,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        if operation.is_read_only() {
            return Err(ConnectorError::Config {
                message: format!("`{operation}` reads state and cannot be performed manually"),
            });
        }
        let request = self.request(operation);
        match self.prompt.ask(&request).await {
            ManualAnswer::Done { observed } => Ok(match operation {
                Operation::Backup { server } => OperationOutput::Backup {
                    backup_id: if observed.trim().is_empty() {
                        format!("manual-backup-of-{server}")
                    } else {
                        observed.trim().to_owned()
                    },
                },
                _ => OperationOutput::Done,
            }),
            ManualAnswer::Failed { observed } => Err(ConnectorError::OperationFailed {
                operation: operation.to_string(),
                message: format!("the operator reported: {observed}"),
            }),
            ManualAnswer::NotDone { reason } => Err(ConnectorError::Manual {
                operation: operation.to_string(),
                message: reason,
            }),
            ManualAnswer::Interrupted => Err(ConnectorError::Interrupted {
                operation: operation.to_string(),
            }),
        }
    }

    fn waits_for_operator(&self, operation: &Operation) -> Option<WaitingPrompt> {
        self.waits(operation)
    }
}
