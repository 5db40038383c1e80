//! The `smc` connector: a real Management Server through its published
//! REST API (reqwest over rustls), plus console operations.
//!
//! The API is driven exactly as the official Python client and the
//! published HA pages describe it (`docs/smc-api-facts.md` gives the source
//! of each fact, and the project's own derivations where nothing is
//! published):
//!
//! - [`transport`]: API versions, login (key and domain), entry points, the
//!   SMC version of each server, retries, logout;
//! - [`answers`]: each published answer read field by field;
//! - [`read`]: every server's own view and the snapshot derived from them;
//! - [`act`]: the HA actions and how their background work is followed;
//! - [`options`]: time limits, TLS, command-line overrides.
//!
//! Console operations (stop, start, installer, backup, restore, stop
//! replication — the API has none for it) go to a [`ConsoleOperations`]:
//! the inventory's commands or an operator, or, for `--target http://…`
//! pointing at `runbook sim serve`, the simulator's own console routes
//! ([`sim_console`]).

mod act;
mod answers;
mod lease;
mod options;
pub mod read;
pub mod record;
mod sim_console;
mod tls;
mod transport;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;

use self::read::Memory;
use self::sim_console::SimConsole;
use self::transport::{Purpose, Session};
use super::inventory::Inventory;
use super::manual::{ManualConnector, OperatorPrompt};
use super::{ApiKey, ClockKind, Connector, ConnectorError, ConsoleConnector, ConsoleOperations};
use crate::cluster::{parse_split_brain_message, Operation, OperationOutput, Snapshot};

use options::tls_note;
pub use options::{ConnectionOptions, SmcSettings, TLS_VERIFICATION_OFF};
pub use transport::OLDEST_SUPPORTED;

/// One server of the target and its API address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmcServer {
    /// The server's name.
    pub name: String,
    /// Its API root, e.g. `https://mgt-1.example.net:8082` (without `/api`).
    pub api: String,
}

/// Target time against real time: `sim serve` runs `speed` times faster.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) started: Instant,
    speed: f64,
    /// The target's clock when the connector was created: the simulator's
    /// time for `sim serve`, time since the Unix epoch for a real cluster.
    origin: Duration,
    kind: ClockKind,
}

impl Clock {
    /// Wall time, read once: later readings add the monotonic time since,
    /// so the clock never goes back within one process.
    fn wall() -> Self {
        Clock {
            started: Instant::now(),
            speed: 1.0,
            origin: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
            kind: ClockKind::Wall,
        }
    }

    pub(super) fn real(&self, target: Duration) -> Duration {
        target.div_f64(self.speed)
    }

    fn now(&self) -> Duration {
        self.origin + self.started.elapsed().mul_f64(self.speed)
    }
}

/// The `smc` connector.
pub struct SmcConnector {
    client: reqwest::Client,
    servers: Vec<SmcServer>,
    key: ApiKey,
    settings: SmcSettings,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    console: Option<Arc<dyn ConsoleOperations>>,
    clock: Clock,
    description: String,
    /// What was last derived and what this run's actions changed.
    memory: Mutex<Memory>,
    /// Element key → server name, read once per key.
    element_names: Mutex<HashMap<String, String>>,
    /// The split brain the diagnostic last reported (what [`Connector::split_brain`]
    /// answers while no server answers).
    last_split_brain: Mutex<Option<Vec<String>>>,
    /// The `sim serve` behind a `--target http://…` (its `/sim/…` routes).
    sim_base: Option<String>,
    /// The run's lease on the cluster, while it lasts.
    held_lease: Mutex<Option<lease::Held>>,
    /// What the background operation being followed last showed.
    progress: Mutex<Option<String>>,
}

impl std::fmt::Debug for SmcConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmcConnector")
            .field("description", &self.description)
            .field("servers", &self.servers)
            .field("key", &self.key)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct SimInfo {
    speed: f64,
    /// The simulator's clock (milliseconds); absent from older simulators.
    #[serde(default)]
    now_ms: Option<u64>,
    servers: Vec<SimInfoServer>,
}

#[derive(Deserialize)]
struct SimInfoServer {
    name: String,
    api: String,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The environment variable holding the API key for a URL target.
pub const API_KEY_ENV: &str = "RUNBOOK_API_KEY";

/// Reads the API key of a URL target from [`API_KEY_ENV`].
pub fn api_key_from_env() -> Result<ApiKey, ConnectorError> {
    match std::env::var(API_KEY_ENV) {
        Ok(key) if !key.trim().is_empty() => Ok(ApiKey::new(key)),
        _ => Err(ConnectorError::Config {
            message: format!(
                "set {API_KEY_ENV} to the API key of the `runbook sim serve` (it printed a generated key at startup, or uses RUNBOOK_SIM_API_KEY)"
            ),
        }),
    }
}

impl SmcConnector {
    /// The `--target http://HOST:PORT` form: [`Self::for_sim_url`] with the
    /// key from `RUNBOOK_API_KEY`.
    pub async fn for_sim_url_from_env(url: &str) -> Result<Self, ConnectorError> {
        Self::for_sim_url(url, api_key_from_env()?).await
    }

    /// The `--target FILE.toml` form: loads the inventory and builds the
    /// connector (see [`Self::from_inventory`]).
    pub fn from_inventory_path(
        path: &Path,
        prompt: Option<Arc<dyn OperatorPrompt>>,
    ) -> Result<Self, ConnectorError> {
        let inventory = Inventory::load(path)?;
        Self::from_inventory(&inventory, prompt)
    }

    /// A connector for a `runbook sim serve` at `url` (`--target
    /// http://HOST:PORT`): asks the simulator for its servers and speed,
    /// then uses the SMC API for API operations and the simulator-only
    /// console path for console operations.
    pub async fn for_sim_url(url: &str, key: ApiKey) -> Result<Self, ConnectorError> {
        Self::for_sim_url_with(url, key, SmcSettings::default()).await
    }

    /// [`Self::for_sim_url`] with explicit settings (short timeouts in tests).
    pub async fn for_sim_url_with(
        url: &str,
        key: ApiKey,
        settings: SmcSettings,
    ) -> Result<Self, ConnectorError> {
        let base = super::redact_url(url.trim_end_matches('/'));
        let client = settings.client(false)?;
        let info_url = format!("{base}/sim/info");
        let body = sim_console::sim_route(
            &client,
            &info_url,
            &key,
            "sim",
            "reading the simulator's description",
            &settings,
            None,
        )
        .await?;
        let info: SimInfo =
            serde_json::from_value(body).map_err(|error| ConnectorError::Malformed {
                url: info_url.clone(),
                reason: format!("{error} (is this a `runbook sim serve`?)"),
            })?;
        let speed = if info.speed.is_finite() && info.speed > 0.0 {
            info.speed
        } else {
            1.0
        };
        let servers: Vec<SmcServer> = info
            .servers
            .into_iter()
            .map(|server| SmcServer {
                name: server.name,
                api: server.api,
            })
            .collect();
        // A console operation answers when it has finished: the same TLS
        // options, but the time a background operation may take.
        let console_settings = SmcSettings {
            request_timeout: settings.operation_timeout.div_f64(speed) + Duration::from_secs(30),
            ..settings.clone()
        };
        let console = SimConsole {
            client: console_settings.client(false)?,
            base: base.clone(),
            key: key.clone(),
            settings: console_settings,
        };
        let description = format!(
            "simulated cluster behind {base} ({} servers, runbook sim serve at {speed}x{})",
            servers.len(),
            tls_note(&settings, &base)
        );
        Ok(SmcConnector {
            client,
            servers,
            key,
            settings,
            sessions: Mutex::new(HashMap::new()),
            console: Some(Arc::new(console)),
            clock: Clock {
                started: Instant::now(),
                speed,
                origin: Duration::from_millis(info.now_ms.unwrap_or(0)),
                kind: ClockKind::SimServe,
            },
            description,
            memory: Mutex::new(Memory::default()),
            element_names: Mutex::new(HashMap::new()),
            last_split_brain: Mutex::new(None),
            sim_base: Some(base),
            held_lease: Mutex::new(None),
            progress: Mutex::new(None),
        })
    }

    /// A connector for the setup an inventory describes. Console operations
    /// run the inventory's commands; those configured as `"manual"` are asked
    /// through `prompt` (none: they fail with a clear error).
    pub fn from_inventory(
        inventory: &Inventory,
        prompt: Option<Arc<dyn OperatorPrompt>>,
    ) -> Result<Self, ConnectorError> {
        Self::from_inventory_with(inventory, prompt, &ConnectionOptions::default())
    }

    /// [`Self::from_inventory`] with command-line options overriding the
    /// inventory's timeouts and TLS options.
    pub fn from_inventory_with(
        inventory: &Inventory,
        prompt: Option<Arc<dyn OperatorPrompt>>,
        options: &ConnectionOptions,
    ) -> Result<Self, ConnectorError> {
        let key = inventory.api_key()?;
        let settings = options.apply(SmcSettings::from_inventory(inventory));
        let servers = inventory
            .servers
            .iter()
            .map(|server| {
                let api = inventory
                    .api_url(server)
                    .ok_or_else(|| ConnectorError::Config {
                        message: format!(
                            "no API address for server `{}` in the inventory",
                            server.name()
                        ),
                    })?;
                Ok(SmcServer {
                    name: server.name().to_owned(),
                    api: super::redact_url(api.trim_end_matches('/')),
                })
            })
            .collect::<Result<Vec<_>, ConnectorError>>()?;
        let hosts = inventory
            .servers
            .iter()
            .map(|server| (server.name().to_owned(), server.host.to_string()))
            .collect();
        let manual = prompt.map(|prompt| ManualConnector::new(prompt, hosts));
        let console = ConsoleConnector::from_inventory(inventory, manual);
        let mut connector = Self::new(servers, key, settings)?;
        lock(&connector.memory).configured_versions = inventory
            .servers
            .iter()
            .filter_map(|server| Some((server.name().to_owned(), server.version.clone()?)))
            .collect();
        let tls = connector
            .servers
            .first()
            .map(|server| tls_note(&connector.settings, &server.api))
            .unwrap_or_default();
        connector.description = format!(
            "HA Management setup of {} ({} servers, SMC API{tls})",
            inventory.path.display(),
            connector.servers.len()
        );
        connector.console = Some(Arc::new(console));
        Ok(connector)
    }

    /// A connector for explicit servers, without console operations (add
    /// them with [`Self::with_console`]).
    pub fn new(
        servers: Vec<SmcServer>,
        key: ApiKey,
        settings: SmcSettings,
    ) -> Result<Self, ConnectorError> {
        if servers.is_empty() {
            return Err(ConnectorError::Config {
                message: "the target names no servers".to_owned(),
            });
        }
        let client = settings.client(true)?;
        Ok(SmcConnector {
            client,
            description: format!("SMC API ({} servers)", servers.len()),
            servers,
            key,
            settings,
            sessions: Mutex::new(HashMap::new()),
            console: None,
            clock: Clock::wall(),
            memory: Mutex::new(Memory::default()),
            element_names: Mutex::new(HashMap::new()),
            last_split_brain: Mutex::new(None),
            sim_base: None,
            held_lease: Mutex::new(None),
            progress: Mutex::new(None),
        })
    }

    /// Seeds the snapshot reported when no server answers at all (e.g. a
    /// resumed run whose journal ends while every server was stopped).
    pub fn with_last_snapshot(self, snapshot: Snapshot) -> Self {
        lock(&self.memory).last = Some(snapshot);
        self
    }

    /// Uses `console` for console operations.
    pub fn with_console(mut self, console: Arc<dyn ConsoleOperations>) -> Self {
        self.console = Some(console);
        self
    }

    /// The servers of the target.
    pub fn servers(&self) -> &[SmcServer] {
        &self.servers
    }

    /// Logs out of every open session (`PUT` on the `logout` entry point).
    pub async fn logout(&self) {
        let sessions: Vec<Arc<Session>> = lock(&self.sessions)
            .drain()
            .map(|(_, session)| session)
            .collect();
        for session in sessions {
            self.logout_session(&session).await;
        }
    }

    /// What one server's answers say and what the connector derives from
    /// them, with the reasons (`runbook probe`).
    pub async fn probe(&self) -> Result<read::Derived, ConnectorError> {
        self.derive_now(self.settings.read_retries).await
    }

    pub(super) fn server(&self, name: &str) -> Result<&SmcServer, ConnectorError> {
        self.servers
            .iter()
            .find(|server| server.name == name)
            .ok_or_else(|| ConnectorError::UnknownServer {
                server: name.to_owned(),
            })
    }
}

impl SmcConnector {
    async fn sleep_target(&self, duration: Duration) {
        tokio::time::sleep(self.clock.real(duration)).await;
    }

    /// Servers in the order to ask them: the last known Active first.
    fn servers_by_preference(&self) -> Vec<&SmcServer> {
        let preferred = lock(&self.memory)
            .last
            .as_ref()
            .and_then(|last| last.actives().next().map(|active| active.name.clone()));
        let mut servers: Vec<&SmcServer> = self.servers.iter().collect();
        if let Some(preferred) = preferred {
            servers.sort_by_key(|server| server.name != preferred);
        }
        servers
    }

    /// What a console operation did to what no answer publishes.
    fn remember_console(&self, operation: &Operation) {
        match operation {
            Operation::StopReplication { server } => self.remember_excluded(server, true),
            Operation::RestoreBackup { server } => {
                // A restore on the Active excludes every Standby.
                let standbys: Vec<String> = lock(&self.memory)
                    .last
                    .as_ref()
                    .map(|last| {
                        last.standbys()
                            .filter(|standby| standby.name != *server)
                            .map(|standby| standby.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for standby in standbys {
                    self.remember_excluded(&standby, true);
                }
            }
            _ => {}
        }
    }
}

#[async_trait]
impl Connector for SmcConnector {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn snapshot(&self) -> Result<Snapshot, ConnectorError> {
        Ok(self.derive_now(self.settings.read_retries).await?.snapshot)
    }

    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        let console_operation = operation.is_console()
            || matches!(
                operation,
                Operation::RestoreBackup { .. } | Operation::StopReplication { .. }
            );
        if !console_operation {
            let result = self.perform_api(operation).await;
            lock(&self.memory).stale = true;
            return result;
        }
        self.server(operation.server())?;
        let console = self
            .console
            .as_ref()
            .ok_or_else(|| ConnectorError::Config {
                message: format!(
                    "`{operation}` is a console operation and the target has no console configured"
                ),
            })?;
        let result = console.perform_console(operation).await;
        lock(&self.memory).stale = true;
        // A server that was stopped, started, upgraded or restored has no
        // session any more (and may run another version).
        self.forget_session(operation.server());
        if result.is_ok() {
            self.remember_console(operation);
        }
        result
    }

    async fn sleep(&self, duration: Duration) {
        self.sleep_target(duration).await;
    }

    fn waits_for_operator(&self, operation: &Operation) -> Option<crate::connect::WaitingPrompt> {
        self.console.as_ref()?.waits_for_operator(operation)
    }

    fn clock(&self) -> Duration {
        self.clock.now()
    }

    fn clock_kind(&self) -> ClockKind {
        self.clock.kind
    }

    fn clock_speed(&self) -> Option<f64> {
        Some(self.clock.speed)
    }

    /// Read from `ha/diagnostic`: after a split brain every running server
    /// reports the monitoring message that names the servers that were
    /// Active (its text is not published: see `split_brain_message`).
    /// Asked of the servers last seen running; when none answers, the last
    /// answer stands.
    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        let running: Option<Vec<String>> = {
            let memory = lock(&self.memory);
            memory.last.as_ref().map(|_| memory.last_running())
        };
        let candidates: Vec<&SmcServer> = self
            .servers_by_preference()
            .into_iter()
            .filter(|server| {
                running
                    .as_ref()
                    .is_none_or(|names| names.contains(&server.name))
            })
            .collect();
        let mut answered_badly = None;
        for server in &candidates {
            match self.diagnostic_split_brain(server, 0).await {
                Ok(found) => return Ok(self.remember_split_brain(found)),
                Err(
                    error @ (ConnectorError::WrongKey { .. }
                    | ConnectorError::SessionExpired { .. }),
                ) => return Err(error),
                Err(ConnectorError::Refused { .. } | ConnectorError::Timeout { .. }) => {}
                Err(_) => answered_badly = answered_badly.or(Some(*server)),
            }
        }
        // A server answered a 5xx or malformed JSON: its reads are retried.
        if let Some(server) = answered_badly {
            if self.settings.read_retries > 0 {
                self.backoff(0).await;
                if let Ok(found) = self
                    .diagnostic_split_brain(server, self.settings.read_retries)
                    .await
                {
                    return Ok(self.remember_split_brain(found));
                }
            }
        }
        Ok(lock(&self.last_split_brain).clone())
    }

    fn warnings(&self) -> Vec<super::TargetWarning> {
        let https = self
            .servers
            .iter()
            .any(|server| server.api.starts_with("https://"));
        let mut warnings: Vec<super::TargetWarning> = self.lease_warning().into_iter().collect();
        if self.settings.tls_verify || !https {
            return warnings;
        }
        warnings.push(super::TargetWarning {
            code: TLS_VERIFICATION_OFF.to_owned(),
            message: String::from(
                "TLS certificate verification is off (--insecure-skip-tls-verify, or `[tls] verify = false`): any server that answers at the target's address receives the API key. Trust the CA instead with --ca-cert FILE (inventory: `[tls] ca_file`).",
            ),
        });
        warnings
    }

    /// The published API has no count of administrator changes.
    fn counts_changes(&self) -> bool {
        false
    }

    async fn close(&self) {
        self.release_lease().await;
        self.logout().await;
    }

    async fn take_lease(
        &self,
        holder: &super::lease::Holder,
        take_over: bool,
    ) -> Result<(), ConnectorError> {
        self.lease(holder, take_over).await
    }

    fn seed(&self, last_seen: &Snapshot) {
        lock(&self.memory)
            .last
            .get_or_insert_with(|| last_seen.clone());
    }

    fn progress(&self) -> Option<String> {
        lock(&self.progress).clone()
    }

    /// The element keys read so far (each answering server's `/ha` names
    /// itself by its element href), by server name.
    fn identity(&self) -> Option<std::collections::BTreeMap<String, String>> {
        let keys: std::collections::BTreeMap<String, String> = lock(&self.element_names)
            .iter()
            .map(|(key, name)| (name.clone(), key.clone()))
            .collect();
        (!keys.is_empty()).then_some(keys)
    }
}

impl SmcConnector {
    /// The split brain one server's `ha/diagnostic` reports, if any.
    async fn diagnostic_split_brain(
        &self,
        server: &SmcServer,
        retries: u32,
    ) -> Result<Option<Vec<String>>, ConnectorError> {
        let purpose = Purpose {
            query: vec![("exclude_info", "true".to_owned())],
            ..Purpose::read(retries)
        };
        let url = |session: &Session| session.ha(&server.api, "diagnostic");
        let body = self.call(server, Method::GET, &url, &purpose).await?;
        let OperationOutput::Diagnostic { messages, .. } =
            answers::diagnostic(&format!("{}/…/ha/diagnostic", server.api), &body)?
        else {
            return Ok(None);
        };
        Ok(messages
            .iter()
            .flat_map(|(_, lines)| lines)
            .find_map(|line| parse_split_brain_message(line)))
    }

    fn remember_split_brain(&self, found: Option<Vec<String>>) -> Option<Vec<String>> {
        lock(&self.last_split_brain).clone_from(&found);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(extra: &str) -> Inventory {
        let text = format!(
            "[api]\nurl = \"https://127.0.0.1:1\"\napi_key_env = \"RUNBOOK_SMC_UNIT_TEST_KEY\"\n{extra}\n[[servers]]\nname = \"mgt-1\"\nhost = \"h\"\n"
        );
        Inventory::parse("unit.toml", &text).expect("inventory")
    }

    #[test]
    fn tls_options_are_checked_when_connecting() {
        std::env::set_var("RUNBOOK_SMC_UNIT_TEST_KEY", "unit-key");
        let missing = inventory("[tls]\nca_file = \"/nonexistent/ca.pem\"\n");
        let error = SmcConnector::from_inventory(&missing, None).expect_err("no CA file");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
        let lab = inventory("[tls]\nverify = false\n");
        let connector = SmcConnector::from_inventory(&lab, None).expect("verify off builds");
        assert!(!connector.settings.tls_verify);
        assert!(
            SmcConnector::from_inventory(&inventory(""), None)
                .expect("default")
                .settings
                .tls_verify
        );
    }

    #[test]
    fn a_missing_key_variable_is_named_not_shown() {
        let text = "[api]\nurl = \"https://127.0.0.1:1\"\napi_key_env = \"RUNBOOK_SMC_UNSET_VARIABLE\"\n[[servers]]\nname = \"mgt-1\"\nhost = \"h\"\n";
        let inventory = Inventory::parse("unit.toml", text).expect("inventory");
        let error = SmcConnector::from_inventory(&inventory, None).expect_err("unset");
        assert!(
            error.to_string().contains("RUNBOOK_SMC_UNSET_VARIABLE"),
            "{error}"
        );
    }
}
