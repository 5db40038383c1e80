//! `--target`: the in-process simulator (`sim`, the default), a running
//! `runbook sim serve` (`http://HOST:PORT`) or an inventory file. Builds the
//! connector a run, a resume or a plan acts on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use console::style;

use crate::cluster::{Fault, SimConfig};
use crate::connect::manual::{ManualAnswer, ManualRequest, OperatorPrompt};
use crate::connect::sim::SimConnector;
use crate::connect::smc::SmcConnector;
use crate::connect::{ApiKey, Connector, ConnectorError, Inventory, InventoryError};
use crate::interp::prompt::{
    Answer, AnswerSource, AnswersFile, ChoiceOption, OperatorPrompter, PromptError, PromptKind,
    PromptRequest, Prompter,
};

/// Simulator options shared by `run`, `resume` and `plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SimArgs {
    /// Number of simulated servers (`--target sim`).
    #[arg(long = "sim-servers", value_name = "N", default_value_t = 3)]
    pub sim_servers: usize,
    /// A simulator fault to play (repeatable), e.g. `changes-on-active`, `upgrade-fails:mgt-2`.
    #[arg(long = "sim-fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
}

/// A target as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// The in-process simulator.
    Sim,
    /// A `runbook sim serve` at this address.
    Url(String),
    /// An inventory file.
    Inventory(String),
}

impl TargetSpec {
    /// Reads `--target`.
    pub fn parse(text: &str) -> Self {
        if text == "sim" {
            Self::Sim
        } else if text.starts_with("http://") || text.starts_with("https://") {
            Self::Url(text.to_string())
        } else {
            Self::Inventory(text.to_string())
        }
    }
}

/// The connector of a target, and the simulator configuration to journal.
pub struct OpenTarget {
    /// The connector.
    pub connector: Box<dyn Connector>,
    /// The simulator configuration, for `--target sim`.
    pub sim: Option<serde_json::Value>,
}

/// Why a target cannot be used (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TargetError {
    /// A simulator option is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sim(#[from] crate::cluster::SimConfigError),
    /// The target cannot be reached or configured.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] ConnectorError),
    /// The inventory file is unreadable or invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] InventoryError),
    /// `--set version=...` is not a version.
    #[error("`--set version={0}` is not a version like 7.4.0")]
    #[diagnostic(
        code(runbook::run::parameter),
        help("write the version as dot-separated numbers, e.g. `--set version=7.4.0`")
    )]
    Version(String),
}

/// The environment variable holding the API key of a `--target http://...`.
pub const API_KEY_ENV: &str = "RUNBOOK_API_KEY";

/// Opens `spec`; `params` are the `--set` values (`version` sets the
/// simulator's target version); `answers` is the `--answers` file, which can
/// also answer the operations an inventory marks `manual`.
pub async fn open(
    spec: &TargetSpec,
    sim: &SimArgs,
    params: &BTreeMap<String, String>,
    answers: Option<&PathBuf>,
) -> Result<OpenTarget, TargetError> {
    match spec {
        TargetSpec::Sim => {
            let mut config = SimConfig::with_servers(sim.sim_servers);
            for fault in &sim.sim_faults {
                config.faults.push(fault.parse::<Fault>()?);
            }
            if let Some(version) = params.get("version") {
                config.target_version = version
                    .parse()
                    .map_err(|_| TargetError::Version(version.clone()))?;
            }
            config.validate()?;
            let journaled = serde_json::to_value(&config).ok();
            Ok(OpenTarget {
                connector: Box::new(SimConnector::new(config)),
                sim: journaled,
            })
        }
        TargetSpec::Url(url) => {
            let key = std::env::var(API_KEY_ENV).unwrap_or_default();
            if key.trim().is_empty() {
                return Err(TargetError::Connector(ConnectorError::Config {
                    message: format!(
                        "{API_KEY_ENV} is not set: it must hold the API key of the simulator at {url}"
                    ),
                }));
            }
            let connector = SmcConnector::for_sim_url(url, ApiKey::new(key)).await?;
            Ok(OpenTarget {
                connector: Box::new(connector),
                sim: None,
            })
        }
        TargetSpec::Inventory(path) => {
            let inventory = Inventory::load(std::path::Path::new(path))?;
            let operator: Arc<dyn OperatorPrompt> = Arc::new(ManualOperator {
                answers: answers.cloned(),
            });
            let connector = SmcConnector::from_inventory(&inventory, Some(operator))?;
            Ok(OpenTarget {
                connector: Box::new(connector),
                sim: None,
            })
        }
    }
}

/// A connector that, when no server answers at all, reports the cluster as
/// last observed with every server stopped — as the SMC connector does
/// within one process. A resumed run seeds it with the journal's last
/// snapshot, so a run killed while every server was stopped (downtime
/// upgrade) can be resumed.
pub struct SeededConnector {
    inner: Box<dyn Connector>,
    last: std::sync::Mutex<Option<crate::cluster::Snapshot>>,
}

impl SeededConnector {
    /// Wraps `inner`, starting from `seed`.
    pub fn new(inner: Box<dyn Connector>, seed: Option<crate::cluster::Snapshot>) -> Self {
        Self {
            inner,
            last: std::sync::Mutex::new(seed),
        }
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Option<crate::cluster::Snapshot>> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl Connector for SeededConnector {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn snapshot(&self) -> Result<crate::cluster::Snapshot, ConnectorError> {
        match self.inner.snapshot().await {
            Ok(snapshot) => {
                *self.last() = Some(snapshot.clone());
                Ok(snapshot)
            }
            Err(error @ (ConnectorError::Refused { .. } | ConnectorError::Timeout { .. })) => {
                match self.last().clone() {
                    Some(mut snapshot) => {
                        for server in &mut snapshot.servers {
                            server.running = false;
                        }
                        Ok(snapshot)
                    }
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    async fn perform(
        &self,
        operation: &crate::cluster::Operation,
    ) -> Result<crate::cluster::OperationOutput, ConnectorError> {
        self.inner.perform(operation).await
    }

    async fn sleep(&self, duration: std::time::Duration) {
        self.inner.sleep(duration).await;
    }

    fn elapsed(&self) -> std::time::Duration {
        self.inner.elapsed()
    }

    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        self.inner.split_brain().await
    }
}

/// Asks the operator to perform an operation the inventory marks `manual`:
/// prompt id `manual.OPERATION.SERVER`, answered `done`, `failed` or
/// `not-done` from the answers file or on the terminal. `--yes` never
/// answers it — confirming physical work nobody did would be a lie.
struct ManualOperator {
    answers: Option<PathBuf>,
}

#[async_trait]
impl OperatorPrompt for ManualOperator {
    async fn ask(&self, request: &ManualRequest) -> ManualAnswer {
        let operation = &request.operation;
        let prompt = PromptRequest {
            id: format!("manual.{}.{}", operation.name(), operation.server()),
            text: format!(
                "{} When it is done you should see: {}",
                request.instructions, request.expected
            ),
            kind: PromptKind::Choose(
                [
                    ("done", "Done, and it looks as expected"),
                    ("failed", "Performed, but it failed"),
                    ("not-done", "Not performed"),
                ]
                .into_iter()
                .map(|(name, label)| ChoiceOption {
                    name: name.to_string(),
                    label: label.to_string(),
                    is_default: false,
                })
                .collect(),
            ),
        };
        let answers = self.answers.clone();
        let operation_text = operation.to_string();
        let asked = tokio::task::spawn_blocking(move || {
            let loaded = answers
                .map(|path| AnswersFile::load(&path).map_err(|error| error.to_string()));
            let answers = loaded.transpose().map_err(ManualAnswer::not_done)?;
            let mut prompter = OperatorPrompter::new(answers, false, true);
            // The operation's spinner is hidden while the operator answers:
            // both draw on the terminal.
            super::output::suspend_progress(|| match prompter.ask(&prompt) {
                Ok((Answer::Text(choice), source)) => {
                    if source == AnswerSource::Terminal {
                        // The question's menu is gone: say what was answered.
                        eprintln!(
                            "  {} {} {} {} {}",
                            style("?").magenta().bold().for_stderr(),
                            operation_text,
                            style("→").dim().for_stderr(),
                            style(&choice).bold().for_stderr(),
                            style(format!("[{}, terminal]", prompt.id)).dim().for_stderr()
                        );
                    }
                    Ok(choice)
                }
                Ok((Answer::Bool(_), _)) => Err(ManualAnswer::not_done(
                    "the answer must be done, failed or not-done",
                )),
                Err(PromptError::Unavailable) => Err(ManualAnswer::not_done(format!(
                    "nobody can answer prompt `{}`: run on a terminal, or answer it in the --answers file",
                    prompt.id
                ))),
                Err(PromptError::Failed(error)) => Err(ManualAnswer::not_done(error)),
                Err(PromptError::Interrupted) => Err(ManualAnswer::Interrupted),
            })
        })
        .await;
        match asked {
            Ok(Ok(choice)) if choice == "done" => ManualAnswer::Done {
                observed: String::new(),
            },
            Ok(Ok(choice)) if choice == "failed" => ManualAnswer::Failed {
                observed: "the operator reported that it failed".to_string(),
            },
            Ok(Ok(_)) => ManualAnswer::not_done("the operator did not perform it"),
            Ok(Err(answer)) => answer,
            Err(error) => ManualAnswer::not_done(error),
        }
    }
}
