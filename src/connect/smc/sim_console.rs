//! Console operations through the simulator-only routes of `runbook sim
//! serve` (`POST /sim/console/{server}/{operation}`), for `--target
//! http://…`: what an inventory's console commands do on a real setup.

use async_trait::async_trait;
use reqwest::StatusCode;

use super::options::SmcSettings;
use super::transport::{check_status, transport_error};
use crate::cluster::{Operation, OperationOutput};
use crate::connect::{ApiKey, ConnectorError, ConsoleOperations};

/// Console operations through the simulator-only path of `runbook sim serve`
/// (`POST /sim/console/{server}/{operation}`).
pub(super) struct SimConsole {
    pub client: reqwest::Client,
    pub base: String,
    pub key: ApiKey,
    pub settings: SmcSettings,
}

#[async_trait]
impl ConsoleOperations for SimConsole {
    fn describe(&self) -> String {
        format!("simulator console at {}/sim/console", self.base)
    }

    async fn perform_console(
        &self,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        let (name, version) = match operation {
            Operation::StopServer { .. } => ("stop", None),
            Operation::StartServer { .. } => ("start", None),
            Operation::Upgrade { version, .. } => ("upgrade", Some(version.to_string())),
            Operation::Backup { .. } => ("backup", None),
            Operation::RestoreBackup { .. } => ("restore", None),
            Operation::StopReplication { .. } => ("stop_replication", None),
            other => {
                return Err(ConnectorError::Config {
                    message: format!("`{other}` is not a console operation"),
                })
            }
        };
        let mut url = format!("{}/sim/console/{}/{name}", self.base, operation.server());
        if let Some(version) = version {
            url.push_str(&format!("?version={version}"));
        }
        let answer = sim_route(
            &self.client,
            &url,
            &self.key,
            operation.server(),
            &operation.to_string(),
            &self.settings,
            Some(operation),
        )
        .await?;
        Ok(answer
            .get("output")
            .cloned()
            .and_then(|output| serde_json::from_value(output).ok())
            .unwrap_or(OperationOutput::Done))
    }
}

/// A `POST` (`operation` given) or `GET` on a simulator route with the
/// bearer key: the JSON answer, or the connector's error.
pub(super) async fn sim_route(
    client: &reqwest::Client,
    url: &str,
    key: &ApiKey,
    server: &str,
    what: &str,
    settings: &SmcSettings,
    operation: Option<&Operation>,
) -> Result<serde_json::Value, ConnectorError> {
    let request = match operation {
        Some(_) => client.post(url),
        None => client.get(url),
    };
    let transport = |error| transport_error(url, server, what, settings, error);
    let response = request
        .bearer_auth(key.expose())
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let body = response.bytes().await.map_err(transport)?;
    if status == StatusCode::UNAUTHORIZED {
        return Err(ConnectorError::WrongKey {
            url: url.to_owned(),
        });
    }
    check_status(url, status, &body, operation)
}
