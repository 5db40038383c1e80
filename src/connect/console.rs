//! The `console` connector: runs the inventory's command template for an
//! operation (stop, start, installer, backup, restore) as argv — never
//! through a shell — with a timeout, and reports the exit status and the
//! captured output when it fails.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;

use super::inventory::{ConsoleCommand, ConsoleOperation, ConsoleSettings, Inventory};
use super::manual::ManualConnector;
use super::{ConnectorError, ConsoleOperations};
use crate::cluster::{Operation, OperationOutput};

/// How much of stdout and of stderr is kept in an error message.
pub const OUTPUT_LIMIT: usize = 2000;

/// Runs console operations from argv templates.
#[derive(Debug, Clone)]
pub struct ConsoleConnector {
    hosts: BTreeMap<String, String>,
    settings: ConsoleSettings,
    manual: Option<ManualConnector>,
}

impl ConsoleConnector {
    /// A console connector; `hosts` maps server names to hosts (for `{host}`),
    /// `manual` performs the operations configured as `"manual"`.
    pub fn new(
        hosts: BTreeMap<String, String>,
        settings: ConsoleSettings,
        manual: Option<ManualConnector>,
    ) -> Self {
        ConsoleConnector {
            hosts,
            settings,
            manual,
        }
    }

    /// The console connector an inventory describes.
    pub fn from_inventory(inventory: &Inventory, manual: Option<ManualConnector>) -> Self {
        let hosts = inventory
            .servers
            .iter()
            .map(|server| (server.name().to_owned(), server.host.to_string()))
            .collect();
        Self::new(hosts, inventory.console.clone(), manual)
    }

    /// The time allowed for one command.
    pub fn timeout(&self) -> Duration {
        self.settings.timeout.0
    }

    /// The argv that performs `operation`: the template with `{host}`,
    /// `{server}` and `{version}` substituted inside each element (a value
    /// never becomes more than the one element it is written in).
    pub fn argv(&self, operation: &Operation) -> Result<Vec<String>, ConnectorError> {
        let kind = console_operation(operation)?;
        match self.settings.command(kind) {
            Some(ConsoleCommand::Argv(template)) => substitute(template, operation, &self.hosts),
            Some(ConsoleCommand::Manual) => Err(ConnectorError::Config {
                message: format!("`{operation}` is configured as manual, not as a command"),
            }),
            None => Err(missing_command(kind)),
        }
    }

    async fn run(
        &self,
        operation: &Operation,
        argv: Vec<String>,
    ) -> Result<OperationOutput, ConnectorError> {
        let Some((program, arguments)) = argv.split_first() else {
            return Err(missing_command(console_operation(operation)?));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|error| ConnectorError::Console {
            operation: operation.to_string(),
            message: format!("cannot start `{program}`: {error}"),
        })?;
        let output = match tokio::time::timeout(self.timeout(), child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => {
                return Err(ConnectorError::Console {
                    operation: operation.to_string(),
                    message: format!("waiting for `{program}` failed: {error}"),
                })
            }
            Err(_) => {
                return Err(ConnectorError::Timeout {
                    server: operation.server().to_owned(),
                    what: format!("console command `{program}` for {operation}"),
                    limit: self.timeout(),
                })
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let status = match output.status.code() {
                Some(code) => format!("exit status {code}"),
                None => "killed by a signal".to_owned(),
            };
            return Err(ConnectorError::Console {
                operation: operation.to_string(),
                message: format!(
                    "`{program}` ended with {status}; stderr: {}; stdout: {}",
                    tail(&stderr),
                    tail(&stdout)
                ),
            });
        }
        Ok(match operation {
            Operation::Backup { server } => OperationOutput::Backup {
                backup_id: stdout
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|line| !line.is_empty())
                    .map(|line| line.chars().take(200).collect())
                    .unwrap_or_else(|| format!("console-backup-of-{server}")),
            },
            _ => OperationOutput::Done,
        })
    }
}

#[async_trait]
impl ConsoleOperations for ConsoleConnector {
    fn describe(&self) -> String {
        "console commands from the inventory".to_owned()
    }

    async fn perform_console(
        &self,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        let kind = console_operation(operation)?;
        match self.settings.command(kind) {
            Some(ConsoleCommand::Argv(template)) => {
                let argv = substitute(template, operation, &self.hosts)?;
                self.run(operation, argv).await
            }
            Some(ConsoleCommand::Manual) => match &self.manual {
                Some(manual) => manual.perform_console(operation).await,
                None => Err(ConnectorError::Config {
                    message: format!(
                        "`{operation}` is configured as manual but no operator can be asked (use an interactive run or an answers file)"
                    ),
                }),
            },
            None => Err(missing_command(kind)),
        }
    }

    fn waits_for_operator(&self, operation: &Operation) -> Option<super::WaitingPrompt> {
        let kind = console_operation(operation).ok()?;
        match self.settings.command(kind) {
            Some(ConsoleCommand::Manual) => self.manual.as_ref()?.waits(operation),
            _ => None,
        }
    }
}

fn console_operation(operation: &Operation) -> Result<ConsoleOperation, ConnectorError> {
    match operation {
        Operation::StopReplication { .. } => Ok(ConsoleOperation::StopReplication),
        other => ConsoleOperation::of(other).ok_or_else(|| ConnectorError::Config {
            message: format!("`{other}` is an API operation, not a console one"),
        }),
    }
}

fn missing_command(kind: ConsoleOperation) -> ConnectorError {
    ConnectorError::Config {
        message: format!(
            "the inventory has no console command for `{kind}`; add `{kind} = [\"program\", \"arg\", ...]` or `{kind} = \"manual\"` to its [console] table"
        ),
    }
}

fn substitute(
    template: &[String],
    operation: &Operation,
    hosts: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConnectorError> {
    let server = operation.server();
    let host = hosts
        .get(server)
        .ok_or_else(|| ConnectorError::UnknownServer {
            server: server.to_owned(),
        })?;
    let version = match operation {
        Operation::Upgrade { version, .. } => Some(version.to_string()),
        _ => None,
    };
    template
        .iter()
        .map(|argument| {
            let mut result = String::with_capacity(argument.len());
            let mut rest = argument.as_str();
            while let Some(open) = rest.find('{') {
                result.push_str(&rest[..open]);
                let after = &rest[open + 1..];
                let close = after.find('}').ok_or_else(|| ConnectorError::Config {
                    message: format!("unclosed `{{` in console argument `{argument}`"),
                })?;
                match &after[..close] {
                    "host" => result.push_str(host),
                    "server" => result.push_str(server),
                    "version" => result.push_str(version.as_deref().ok_or_else(|| {
                        ConnectorError::Config {
                            message: format!(
                                "`{{version}}` is only known for an upgrade, not for `{operation}`"
                            ),
                        }
                    })?),
                    other => {
                        return Err(ConnectorError::Config {
                            message: format!("unknown placeholder `{{{other}}}` in `{argument}`"),
                        })
                    }
                }
                rest = &after[close + 1..];
            }
            result.push_str(rest);
            Ok(result)
        })
        .collect()
}

/// The last [`OUTPUT_LIMIT`] bytes of a command's output, on one line.
fn tail(output: &str) -> String {
    let trimmed = output.trim();
    if trimmed.is_empty() {
        return "(empty)".to_owned();
    }
    let mut start = trimmed.len().saturating_sub(OUTPUT_LIMIT);
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    let prefix = if start > 0 { "…" } else { "" };
    format!("{prefix}{}", trimmed[start..].replace('\n', " | "))
}
