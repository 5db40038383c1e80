//! The `smc` connector: the SMC-shaped REST API over reqwest (rustls).
//!
//! It discovers the API version (`GET /api`) and the entry points
//! (`GET /{ver}/api`, looked up by `rel`), logs in with the API key, logs in
//! again once when a session has expired, retries idempotent reads with
//! exponential backoff (never actions), and polls background operations.
//! Console operations go to a [`ConsoleOperations`] implementation: console
//! commands or an operator (inventory targets), or the simulator-only
//! console path (`--target http://HOST:PORT` pointing at `runbook sim serve`).
//!
//! How the snapshot is read: from the first server that answers (the last
//! known Active first), the `mgt_server` elements (name, `ha_mode`,
//! `version`, `running`, `config_revision`) and `ha/database_replication_diagnostic`
//! (state code and `excluded` of every server). See `docs/http-api.md`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::inventory::Inventory;
use super::manual::{ManualConnector, OperatorPrompt};
use super::{ApiKey, ClockKind, Connector, ConnectorError, ConsoleConnector, ConsoleOperations};
use crate::cluster::{
    parse_split_brain_message, Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot,
    Snapshot, Version,
};

/// Timeouts, retries and TLS options of the `smc` connector.
#[derive(Debug, Clone)]
pub struct SmcSettings {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request.
    pub request_timeout: Duration,
    /// Retries of an idempotent read after a transport error, 5xx or malformed answer.
    pub read_retries: u32,
    /// The first backoff pause; each retry doubles it.
    pub retry_backoff: Duration,
    /// Pause between two polls of a background operation (target time).
    pub poll_interval: Duration,
    /// Longest wait for a background operation (target time).
    pub operation_timeout: Duration,
    /// Verify TLS certificates (turn off only when the inventory says so).
    pub tls_verify: bool,
    /// An extra CA certificate (PEM) to trust.
    pub ca_file: Option<std::path::PathBuf>,
    /// The API version to use instead of the newest offered.
    pub api_version: Option<String>,
}

impl Default for SmcSettings {
    fn default() -> Self {
        SmcSettings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_retries: 3,
            retry_backoff: Duration::from_millis(200),
            poll_interval: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(2 * 60 * 60),
            tls_verify: true,
            ca_file: None,
            api_version: None,
        }
    }
}

impl SmcSettings {
    /// The settings an inventory describes.
    pub fn from_inventory(inventory: &Inventory) -> Self {
        SmcSettings {
            connect_timeout: inventory.api.connect_timeout.0,
            request_timeout: inventory.api.request_timeout.0,
            read_retries: inventory.api.read_retries,
            retry_backoff: SmcSettings::default().retry_backoff,
            poll_interval: inventory.api.poll_interval.0,
            operation_timeout: inventory.api.operation_timeout.0,
            tls_verify: inventory.tls.verify,
            ca_file: inventory
                .tls
                .ca_file
                .as_deref()
                .map(|path| inventory.relative(path)),
            api_version: inventory.api.version.clone(),
        }
    }

    fn client(&self, use_proxy: bool) -> Result<reqwest::Client, ConnectorError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .danger_accept_invalid_certs(!self.tls_verify);
        if !use_proxy {
            builder = builder.no_proxy();
        }
        if let Some(path) = &self.ca_file {
            builder = builder.add_root_certificate(read_certificate(path)?);
        }
        builder.build().map_err(|error| ConnectorError::Config {
            message: format!("cannot set up the HTTP client: {error}"),
        })
    }
}

/// Connection options given on the command line (`--request-timeout`,
/// `--connect-timeout`, `--ca-cert`, `--insecure-skip-tls-verify`). They
/// override an inventory's values and are recorded in the journal (nothing
/// in them is secret) so that `runbook resume` connects the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionOptions {
    /// Time allowed for one request.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_option"
    )]
    pub request_timeout: Option<Duration>,
    /// Time allowed to open a connection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_option"
    )]
    pub connect_timeout: Option<Duration>,
    /// A PEM CA certificate to trust (an absolute path once recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Do not verify TLS certificates.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
}

impl ConnectionOptions {
    /// Whether no option is given.
    pub fn is_empty(&self) -> bool {
        *self == ConnectionOptions::default()
    }

    /// These options, with those given in `later` taking precedence.
    pub fn overridden_by(&self, later: &ConnectionOptions) -> ConnectionOptions {
        let insecure = later.insecure_skip_tls_verify
            || (self.insecure_skip_tls_verify && later.ca_cert.is_none());
        ConnectionOptions {
            request_timeout: later.request_timeout.or(self.request_timeout),
            connect_timeout: later.connect_timeout.or(self.connect_timeout),
            ca_cert: if later.insecure_skip_tls_verify {
                None
            } else {
                later.ca_cert.clone().or_else(|| self.ca_cert.clone())
            },
            insecure_skip_tls_verify: insecure,
        }
    }

    /// `settings` with these options applied.
    pub fn apply(&self, settings: SmcSettings) -> SmcSettings {
        let mut settings = settings;
        if let Some(timeout) = self.request_timeout {
            settings.request_timeout = timeout;
        }
        if let Some(timeout) = self.connect_timeout {
            settings.connect_timeout = timeout;
        }
        if let Some(path) = &self.ca_cert {
            settings.ca_file = Some(path.clone());
            settings.tls_verify = true;
        }
        if self.insecure_skip_tls_verify {
            settings.tls_verify = false;
            settings.ca_file = None;
        }
        settings
    }
}

/// An optional duration written as text in the duration syntax (`500ms`, `30s`).
mod duration_option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::connect::duration_text;
    use crate::connect::inventory::DurationSetting;

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_str(&duration_text(*duration)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<DurationSetting>::deserialize(deserializer)
            .map(|setting| setting.map(|setting| setting.0))
    }
}

fn read_certificate(path: &Path) -> Result<reqwest::Certificate, ConnectorError> {
    let pem = std::fs::read(path).map_err(|error| ConnectorError::Config {
        message: format!("cannot read the CA file {}: {error}", path.display()),
    })?;
    reqwest::Certificate::from_pem(&pem).map_err(|error| ConnectorError::Config {
        message: format!(
            "the CA file {} is not a PEM certificate: {error}",
            path.display()
        ),
    })
}

/// The code of the warning shown when TLS certificate verification is off.
pub const TLS_VERIFICATION_OFF: &str = "runbook::connector::tls_verification_off";

/// `, TLS certificate verification off` for an `https` address reached
/// without verification, else nothing.
fn tls_note(settings: &SmcSettings, url: &str) -> &'static str {
    if !settings.tls_verify && url.starts_with("https://") {
        ", TLS certificate verification off"
    } else {
        ""
    }
}

/// One server of the target and its API address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmcServer {
    /// The server's name.
    pub name: String,
    /// Its API root, e.g. `https://mgt-1.example.net:8082` (without `/api`).
    pub api: String,
}

/// A logged-in session on one server, with what discovery found.
#[derive(Debug)]
struct Session {
    cookie: String,
    entry_points: HashMap<String, String>,
    ha_links: HashMap<String, String>,
}

/// Target time against real time: `sim serve` runs `speed` times faster.
#[derive(Debug, Clone, Copy)]
struct Clock {
    started: Instant,
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

    fn real(&self, target: Duration) -> Duration {
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
    last_active: Mutex<Option<String>>,
    last_snapshot: Mutex<Option<Snapshot>>,
    /// The split brain the diagnostic last reported (what [`Connector::split_brain`]
    /// answers while no server answers).
    last_split_brain: Mutex<Option<Vec<String>>>,
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
        let base = url.trim_end_matches('/').to_owned();
        let client = settings.client(false)?;
        let info_url = format!("{base}/sim/info");
        let response = client
            .get(&info_url)
            .bearer_auth(key.expose())
            .send()
            .await
            .map_err(|error| {
                transport_error(
                    &info_url,
                    "sim",
                    "reading the simulator's description",
                    &settings,
                    error,
                )
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| {
            transport_error(
                &info_url,
                "sim",
                "reading the simulator's description",
                &settings,
                error,
            )
        })?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::WrongKey { url: info_url });
        }
        let body = check_status(&info_url, status, &body, None)?;
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
            last_active: Mutex::new(None),
            last_snapshot: Mutex::new(None),
            last_split_brain: Mutex::new(None),
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
                    api: api.trim_end_matches('/').to_owned(),
                })
            })
            .collect::<Result<Vec<_>, ConnectorError>>()?;
        let hosts = inventory
            .servers
            .iter()
            .map(|server| (server.name().to_owned(), server.host.clone()))
            .collect();
        let manual = prompt.map(|prompt| ManualConnector::new(prompt, hosts));
        let console = ConsoleConnector::from_inventory(inventory, manual);
        let mut connector = Self::new(servers, key, settings)?;
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
            last_active: Mutex::new(None),
            last_snapshot: Mutex::new(None),
            last_split_brain: Mutex::new(None),
        })
    }

    /// Seeds the snapshot reported when no server answers at all (e.g. a
    /// resumed run whose journal ends while every server was stopped).
    pub fn with_last_snapshot(self, snapshot: Snapshot) -> Self {
        *lock(&self.last_active) = snapshot.actives().next().map(|active| active.name.clone());
        *lock(&self.last_snapshot) = Some(snapshot);
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
            if let Some(url) = session.entry_points.get("logout") {
                let _ = self
                    .client
                    .put(url)
                    .header(reqwest::header::COOKIE, &session.cookie)
                    .send()
                    .await;
            }
        }
    }

    fn server(&self, name: &str) -> Result<&SmcServer, ConnectorError> {
        self.servers
            .iter()
            .find(|server| server.name == name)
            .ok_or_else(|| ConnectorError::UnknownServer {
                server: name.to_owned(),
            })
    }

    // ---- transport -------------------------------------------------------

    /// Sends one request and returns the status and body; maps transport errors.
    async fn send(
        &self,
        server: &str,
        what: &str,
        method: Method,
        url: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Body), ConnectorError> {
        let mut request = self.client.request(method, url);
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport_error(url, server, what, &self.settings, error))?;
        let status = response.status();
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .find(|pair| pair.trim_start().starts_with("JSESSIONID="))
            .map(|pair| pair.trim().to_owned());
        let bytes = response
            .bytes()
            .await
            .map_err(|error| transport_error(url, server, what, &self.settings, error))?;
        Ok((
            status,
            Body {
                bytes: bytes.to_vec(),
                cookie,
            },
        ))
    }

    /// A read without a session (`GET /api`), tried once: discovery only
    /// happens inside [`Self::call`], whose loop retries with the caller's
    /// budget. Retrying here as well multiplied the retries (and their
    /// backoff: 1.4 s per stopped server per snapshot during a downtime
    /// upgrade, when the caller asked for none).
    async fn get_anonymous(&self, server: &str, url: &str) -> Result<Value, ConnectorError> {
        let (status, body) = self
            .send(
                server,
                "discovering the API version",
                Method::GET,
                url,
                None,
                None,
            )
            .await?;
        check_status(url, status, &body.bytes, None)
    }

    async fn backoff(&self, attempt: u32) {
        let pause = self
            .settings
            .retry_backoff
            .saturating_mul(1u32 << attempt.min(10));
        tokio::time::sleep(pause).await;
    }

    // ---- sessions --------------------------------------------------------

    async fn session(&self, server: &SmcServer) -> Result<Arc<Session>, ConnectorError> {
        if let Some(session) = lock(&self.sessions).get(&server.name) {
            return Ok(session.clone());
        }
        let session = Arc::new(self.login(server).await?);
        lock(&self.sessions).insert(server.name.clone(), session.clone());
        Ok(session)
    }

    fn forget_session(&self, server: &str) {
        lock(&self.sessions).remove(server);
    }

    /// Discovers the version, logs in, reads the entry points and the `ha` links.
    async fn login(&self, server: &SmcServer) -> Result<Session, ConnectorError> {
        let versions_url = format!("{}/api", server.api);
        let versions = self.get_anonymous(&server.name, &versions_url).await?;
        let offered: Vec<(String, String)> = versions
            .get("version")
            .and_then(Value::as_array)
            .map(|versions| {
                versions
                    .iter()
                    .filter_map(|entry| {
                        Some((
                            entry.get("rel")?.as_str()?.to_owned(),
                            entry.get("href")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let chosen = match &self.settings.api_version {
            Some(wanted) => offered
                .iter()
                .find(|(rel, _)| rel == wanted)
                .cloned()
                .ok_or_else(|| ConnectorError::Config {
                    message: format!(
                        "{versions_url} does not offer API version {wanted} (offered: {})",
                        offered
                            .iter()
                            .map(|(rel, _)| rel.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?,
            None => offered
                .iter()
                .max_by_key(|(rel, _)| rel.parse::<Version>().ok())
                .cloned()
                .ok_or_else(|| ConnectorError::Malformed {
                    url: versions_url.clone(),
                    reason: "no API version in `version`".to_owned(),
                })?,
        };
        let (_, entry_url) = chosen;
        let version_base = entry_url
            .strip_suffix("/api")
            .unwrap_or(&entry_url)
            .trim_end_matches('/')
            .to_owned();
        let login_url = format!("{version_base}/login");
        let (status, body) = self
            .send(
                &server.name,
                "logging in",
                Method::POST,
                &login_url,
                None,
                Some(serde_json::json!({ "authenticationkey": self.key.expose() })),
            )
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::WrongKey { url: login_url });
        }
        check_status(&login_url, status, &body.bytes, None)?;
        let cookie = body.cookie.ok_or_else(|| ConnectorError::Malformed {
            url: login_url.clone(),
            reason: "the login answer set no JSESSIONID cookie".to_owned(),
        })?;

        let mut session = Session {
            cookie,
            entry_points: HashMap::new(),
            ha_links: HashMap::new(),
        };
        let entry_points = self.get_with(&server.name, &session, &entry_url).await?;
        session.entry_points = links(&entry_points, "entry_point");
        let ha_url =
            session
                .entry_points
                .get("ha")
                .cloned()
                .ok_or_else(|| ConnectorError::Malformed {
                    url: entry_url.clone(),
                    reason: "no `ha` entry point".to_owned(),
                })?;
        let ha = self.get_with(&server.name, &session, &ha_url).await?;
        session.ha_links = links(&ha, "link");
        Ok(session)
    }

    /// A read with a session being built (no re-login).
    async fn get_with(
        &self,
        server: &str,
        session: &Session,
        url: &str,
    ) -> Result<Value, ConnectorError> {
        let (status, body) = self
            .send(
                server,
                "discovering the entry points",
                Method::GET,
                url,
                Some(&session.cookie),
                None,
            )
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::SessionExpired {
                url: url.to_owned(),
            });
        }
        check_status(url, status, &body.bytes, None)
    }

    /// One API call on `server`: logs in if needed, logs in again once on
    /// 401; reads (`retries > 0`) are retried with backoff on transport
    /// errors, 5xx and malformed answers; actions never are.
    async fn call(
        &self,
        server: &SmcServer,
        method: Method,
        target: &(dyn Fn(&Session) -> Result<String, ConnectorError> + Sync),
        operation: Option<&Operation>,
        retries: u32,
    ) -> Result<Value, ConnectorError> {
        let what = operation.map_or_else(
            || "reading the cluster state".to_owned(),
            ToString::to_string,
        );
        let mut logged_in_again = false;
        let mut attempt = 0;
        loop {
            match self
                .attempt(server, &method, target, operation, &what)
                .await
            {
                Attempt::Answer(value) => return Ok(value),
                Attempt::Unauthorized(url) => {
                    // The session expired; the request was not executed, so
                    // sending it again (even an action) is safe.
                    self.forget_session(&server.name);
                    if logged_in_again {
                        return Err(ConnectorError::SessionExpired { url });
                    }
                    logged_in_again = true;
                }
                Attempt::Failed(error) if attempt < retries && retryable(&error) => {
                    self.backoff(attempt).await;
                    attempt += 1;
                }
                Attempt::Failed(error) => return Err(error),
            }
        }
    }

    async fn attempt(
        &self,
        server: &SmcServer,
        method: &Method,
        target: &(dyn Fn(&Session) -> Result<String, ConnectorError> + Sync),
        operation: Option<&Operation>,
        what: &str,
    ) -> Attempt {
        let session = match self.session(server).await {
            Ok(session) => session,
            Err(error) => return Attempt::Failed(error),
        };
        let url = match target(&session) {
            Ok(url) => url,
            Err(error) => return Attempt::Failed(error),
        };
        match self
            .send(
                &server.name,
                what,
                method.clone(),
                &url,
                Some(&session.cookie),
                None,
            )
            .await
        {
            Ok((StatusCode::UNAUTHORIZED, _)) => Attempt::Unauthorized(url),
            Ok((status, body)) => match check_status(&url, status, &body.bytes, operation) {
                Ok(value) => Attempt::Answer(value),
                Err(error) => Attempt::Failed(error),
            },
            Err(error) => Attempt::Failed(error),
        }
    }
}

enum Attempt {
    Answer(Value),
    Unauthorized(String),
    Failed(ConnectorError),
}

/// A response body and the session cookie it set, if any.
struct Body {
    bytes: Vec<u8>,
    cookie: Option<String>,
}

// ---- answers ---------------------------------------------------------------

/// Maps a reqwest error: timeout, refused connection, closed connection.
fn transport_error(
    url: &str,
    server: &str,
    what: &str,
    settings: &SmcSettings,
    error: reqwest::Error,
) -> ConnectorError {
    if error.is_timeout() {
        if error.is_connect() {
            return ConnectorError::Timeout {
                server: server.to_owned(),
                what: format!("connecting to {url}, for {what}"),
                limit: settings.connect_timeout,
            };
        }
        return ConnectorError::Timeout {
            server: server.to_owned(),
            what: what.to_owned(),
            limit: settings.request_timeout,
        };
    }
    if let Some(tls) = rustls_error(&error) {
        if matches!(
            tls,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        ) {
            return ConnectorError::TlsVerification {
                url: url.to_owned(),
                reason: tls.to_string(),
            };
        }
    }
    let reason = if error.is_connect() {
        let mut cause = String::from("connection refused or address unreachable");
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        cause
    } else {
        "the connection was closed without an answer (is the server stopped?)".to_owned()
    };
    ConnectorError::Refused {
        url: url.to_owned(),
        reason,
    }
}

/// The TLS error somewhere in the causes of `error`. The TLS layer reports
/// it inside an `io::Error`, whose `source()` skips the error it wraps, so
/// those are opened with `get_ref()`.
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = Some(error);
    while let Some(inner) = current {
        if let Some(found) = inner.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(found) = rustls_error(wrapped) {
                return Some(found);
            }
        }
        current = inner.source();
    }
    None
}

/// Turns a status and body into the JSON value or the connector error.
fn check_status(
    url: &str,
    status: StatusCode,
    body: &[u8],
    operation: Option<&Operation>,
) -> Result<Value, ConnectorError> {
    let parsed: Result<Value, _> = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    if status.is_success() {
        return parsed.map_err(|error| ConnectorError::Malformed {
            url: url.to_owned(),
            reason: error.to_string(),
        });
    }
    let body = parsed.unwrap_or(Value::Null);
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .to_owned();
    let details: Vec<String> = body
        .get("details")
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .filter_map(|line| line.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let described = operation.map_or_else(|| format!("the request to {url}"), ToString::to_string);
    Err(match status.as_u16() {
        504 => ConnectorError::Timeout {
            server: operation
                .map_or_else(|| url.to_owned(), |operation| operation.server().to_owned()),
            what: format!("{described}: {message}"),
            limit: Duration::ZERO,
        },
        500..=599 => ConnectorError::ServerError {
            url: url.to_owned(),
            status: status.as_u16(),
            message,
        },
        // 409: the server the operation needs is stopped.
        409 => ConnectorError::Refused {
            url: url.to_owned(),
            reason: message,
        },
        400 | 403 => ConnectorError::ActionRefused {
            operation: described,
            message,
            details,
        },
        422 => failure_error(operation, &described, message, body.get("failure")),
        other => ConnectorError::UnexpectedStatus {
            url: url.to_owned(),
            status: other,
            message,
        },
    })
}

/// The error of an operation that ran and did not succeed.
fn failure_error(
    operation: Option<&Operation>,
    described: &str,
    message: String,
    failure: Option<&Value>,
) -> ConnectorError {
    match (failure.and_then(Value::as_str), operation) {
        (Some("upgrade-cancelled"), Some(operation)) => ConnectorError::UpgradeCancelled {
            operation: described.to_owned(),
            server: operation.server().to_owned(),
            message,
        },
        _ => ConnectorError::OperationFailed {
            operation: described.to_owned(),
            message,
        },
    }
}

/// Whether a read may be retried after this error.
fn retryable(error: &ConnectorError) -> bool {
    matches!(
        error,
        ConnectorError::Refused { .. }
            | ConnectorError::ServerError { .. }
            | ConnectorError::Malformed { .. }
    )
}

/// `rel → href` of a list of links (`entry_point`, `link`).
fn links(value: &Value, list: &str) -> HashMap<String, String> {
    value
        .get(list)
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| {
                    Some((
                        entry.get("rel")?.as_str()?.to_owned(),
                        entry.get("href")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn link(
    links: &HashMap<String, String>,
    rel: &str,
    context: &str,
) -> Result<String, ConnectorError> {
    links
        .get(rel)
        .cloned()
        .ok_or_else(|| ConnectorError::Malformed {
            url: context.to_owned(),
            reason: format!("no `{rel}` link"),
        })
}

fn malformed(url: &str, reason: impl Into<String>) -> ConnectorError {
    ConnectorError::Malformed {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

fn state_of(text: Option<&Value>) -> ReplicationState {
    text.and_then(Value::as_str)
        .and_then(ReplicationState::from_reported)
        .unwrap_or(ReplicationState::Unknown)
}

// ---- operations --------------------------------------------------------------

/// An API action: the `ha/ACTION` link, its query, and whether it is issued
/// on the Active.
type HaAction = (&'static str, Vec<(&'static str, String)>, bool);

/// The HA action of an API operation.
fn ha_action(operation: &Operation) -> Option<HaAction> {
    let server = operation.server().to_owned();
    Some(match operation {
        Operation::Exclude { .. } => ("exclude", vec![("server_name", server)], true),
        Operation::InitStandby { .. } => ("full_replication", vec![("server_name", server)], true),
        Operation::Activate { .. } => (
            "set_active",
            vec![("server_name", server), ("force", "false".into())],
            true,
        ),
        Operation::ForceActivate { .. } => (
            "set_active",
            vec![("server_name", server), ("force", "true".into())],
            false,
        ),
        Operation::SetStandby { force, .. } => (
            "set_standby",
            vec![("server_name", server), ("force", force.to_string())],
            false,
        ),
        Operation::StopReplication { .. } => {
            ("stop_replication", vec![("server_name", server)], false)
        }
        _ => return None,
    })
}

impl SmcConnector {
    /// Servers in the order to ask them: the last known Active first.
    fn servers_by_preference(&self) -> Vec<&SmcServer> {
        let preferred = lock(&self.last_active).clone();
        let mut servers: Vec<&SmcServer> = self.servers.iter().collect();
        if let Some(preferred) = preferred {
            servers.sort_by_key(|server| server.name != preferred);
        }
        servers
    }

    fn remember(&self, snapshot: Snapshot) -> Snapshot {
        *lock(&self.last_active) = snapshot.actives().next().map(|active| active.name.clone());
        *lock(&self.last_snapshot) = Some(snapshot.clone());
        snapshot
    }

    /// The snapshot as one server reports it.
    async fn snapshot_from(
        &self,
        server: &SmcServer,
        retries: u32,
    ) -> Result<Snapshot, ConnectorError> {
        let list = self
            .call(
                server,
                Method::GET,
                &|session| link(&session.entry_points, "mgt_server", &server.api),
                None,
                retries,
            )
            .await?;
        let entries = list
            .get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(&server.api, "the mgt_server list has no `result`"))?;
        let diagnostic = self
            .call(
                server,
                Method::GET,
                &|session| {
                    link(
                        &session.ha_links,
                        "database_replication_diagnostic",
                        &server.api,
                    )
                },
                None,
                retries,
            )
            .await?;
        let replication: HashMap<String, (ReplicationState, bool)> = diagnostic
            .get("servers")
            .and_then(Value::as_array)
            .map(|servers| {
                servers
                    .iter()
                    .filter_map(|entry| {
                        Some((
                            entry.get("server_name")?.as_str()?.to_owned(),
                            (
                                state_of(entry.get("state")),
                                entry
                                    .get("excluded")
                                    .and_then(Value::as_bool)
                                    .unwrap_or(false),
                            ),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut servers = Vec::with_capacity(entries.len());
        for entry in entries {
            let href = entry
                .get("href")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(&server.api, "an mgt_server entry has no `href`"))?
                .to_owned();
            let element = self
                .call(server, Method::GET, &|_| Ok(href.clone()), None, retries)
                .await?;
            let name = element
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(&href, "the element has no `name`"))?
                .to_owned();
            let mode: Mode = element
                .get("ha_mode")
                .cloned()
                .and_then(|mode| serde_json::from_value(mode).ok())
                .ok_or_else(|| {
                    malformed(&href, "the element has no `ha_mode` (active or standby)")
                })?;
            let version: Version = element
                .get("version")
                .and_then(Value::as_str)
                .and_then(|version| version.parse().ok())
                .ok_or_else(|| malformed(&href, "the element has no `version`"))?;
            let (replication, excluded) = replication
                .get(&name)
                .copied()
                .unwrap_or((ReplicationState::Unknown, false));
            servers.push(ServerSnapshot {
                running: element
                    .get("running")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                config_revision: element
                    .get("config_revision")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                name,
                mode,
                version,
                replication,
                excluded,
            });
        }
        Ok(Snapshot { servers })
    }

    /// The running Active, as the cluster reports it.
    async fn find_active(&self) -> Result<Option<String>, ConnectorError> {
        let snapshot = Connector::snapshot(self).await?;
        let active = snapshot.actives().next().map(|server| server.name.clone());
        Ok(active)
    }

    async fn perform_api(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        let target = self.server(operation.server())?;
        match operation {
            Operation::Diagnostic { .. } => {
                let body = self
                    .call(
                        target,
                        Method::GET,
                        &|session| link(&session.ha_links, "diagnostic", &target.api),
                        Some(operation),
                        self.settings.read_retries,
                    )
                    .await?;
                return diagnostic_output(&target.api, &body);
            }
            Operation::ReplicationStates { .. } => {
                let body = self
                    .call(
                        target,
                        Method::GET,
                        &|session| {
                            link(
                                &session.ha_links,
                                "all_servers_replication_states",
                                &target.api,
                            )
                        },
                        Some(operation),
                        self.settings.read_retries,
                    )
                    .await?;
                return replication_states_output(&target.name, &body);
            }
            _ => {}
        }
        let Some((action, query, on_active)) = ha_action(operation) else {
            return Err(ConnectorError::Config {
                message: format!("`{operation}` is not an API operation"),
            });
        };
        let issuer = if on_active {
            match self.find_active().await? {
                Some(active) => self.server(&active).unwrap_or(target),
                None => target,
            }
        } else {
            target
        };
        let target_url = |session: &Session| -> Result<String, ConnectorError> {
            let base = link(&session.ha_links, action, &issuer.api)?;
            let mut url =
                reqwest::Url::parse(&base).map_err(|error| malformed(&base, error.to_string()))?;
            {
                let mut pairs = url.query_pairs_mut();
                for (name, value) in &query {
                    pairs.append_pair(name, value);
                }
            }
            Ok(url.to_string())
        };
        // Actions are never retried: 0 retries.
        let answer = self
            .call(issuer, Method::POST, &target_url, Some(operation), 0)
            .await?;
        if let Some(progress) = answer.get("progress").and_then(Value::as_str) {
            return self.poll(issuer, operation, progress).await;
        }
        if answer
            .get("value")
            .and_then(Value::as_str)
            .is_some_and(|value| value.contains("in progress"))
        {
            return self.poll_state(operation).await;
        }
        Ok(OperationOutput::Done)
    }

    /// Polls a background operation's progress resource until it has finished.
    async fn poll(
        &self,
        issuer: &SmcServer,
        operation: &Operation,
        progress: &str,
    ) -> Result<OperationOutput, ConnectorError> {
        let deadline =
            self.clock.started.elapsed() + self.clock.real(self.settings.operation_timeout);
        loop {
            if self.clock.started.elapsed() > deadline {
                return Err(self.operation_timeout(operation));
            }
            self.sleep_target(self.settings.poll_interval).await;
            let answer = match self
                .call(
                    issuer,
                    Method::GET,
                    &|_| Ok(progress.to_owned()),
                    Some(operation),
                    self.settings.read_retries,
                )
                .await
            {
                Ok(answer) => answer,
                // The issuer may restart during the operation: keep polling.
                Err(ConnectorError::Refused { .. } | ConnectorError::Timeout { .. }) => continue,
                Err(error) => return Err(error),
            };
            if answer.get("in_progress").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if answer.get("success").and_then(Value::as_bool) == Some(true) {
                return Ok(answer
                    .get("output")
                    .cloned()
                    .and_then(|output| serde_json::from_value(output).ok())
                    .unwrap_or(OperationOutput::Done));
            }
            let message = answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the operation failed")
                .to_owned();
            return Err(failure_error(
                Some(operation),
                &operation.to_string(),
                message,
                answer.get("failure"),
            ));
        }
    }

    /// Without a progress resource (a real SMC): polls the replication
    /// state until the operation's expected end state.
    async fn poll_state(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        let server = operation.server();
        let deadline =
            self.clock.started.elapsed() + self.clock.real(self.settings.operation_timeout);
        loop {
            if self.clock.started.elapsed() > deadline {
                return Err(self.operation_timeout(operation));
            }
            self.sleep_target(self.settings.poll_interval).await;
            let Ok(snapshot) = Connector::snapshot(self).await else {
                continue;
            };
            let Some(state) = snapshot.server(server) else {
                continue;
            };
            let done = match operation {
                Operation::Activate { .. } => {
                    state.mode == Mode::Active && state.replication == ReplicationState::ActRep
                }
                Operation::InitStandby { .. } => state.replication == ReplicationState::StbRep,
                _ => true,
            };
            if done {
                return Ok(OperationOutput::Done);
            }
        }
    }

    fn operation_timeout(&self, operation: &Operation) -> ConnectorError {
        ConnectorError::Timeout {
            server: operation.server().to_owned(),
            what: format!("waiting for {operation} to finish"),
            limit: self.settings.operation_timeout,
        }
    }

    async fn sleep_target(&self, duration: Duration) {
        tokio::time::sleep(self.clock.real(duration)).await;
    }
}

fn diagnostic_output(url: &str, body: &Value) -> Result<OperationOutput, ConnectorError> {
    let ok = match body.get("status").and_then(Value::as_str) {
        Some("OK") => true,
        Some("KO") => false,
        _ => return Err(malformed(url, "the diagnostic has no `status` OK or KO")),
    };
    let messages = body
        .get("message")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| {
                    let title = entry.get("title")?.as_str()?.to_owned();
                    let lines = entry
                        .get("message")
                        .and_then(Value::as_array)
                        .map(|lines| {
                            lines
                                .iter()
                                .filter_map(|line| line.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((title, lines))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(OperationOutput::Diagnostic { ok, messages })
}

fn replication_states_output(
    active: &str,
    body: &Value,
) -> Result<OperationOutput, ConnectorError> {
    let mut states = vec![(active.to_owned(), state_of(body.get("active_server_state")))];
    if let Some(standbys) = body.get("standby_server_states").and_then(Value::as_array) {
        for entry in standbys {
            if let Some(name) = entry.get("server_name").and_then(Value::as_str) {
                states.push((name.to_owned(), state_of(entry.get("state"))));
            }
        }
    }
    states.sort();
    Ok(OperationOutput::ReplicationStates { states })
}

#[async_trait]
impl Connector for SmcConnector {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn snapshot(&self) -> Result<Snapshot, ConnectorError> {
        // First round: one try per server (a stopped one refuses at once);
        // then the read retries against the preferred server.
        let mut last_error = None;
        let mut all_silent = true;
        for server in self.servers_by_preference() {
            match self.snapshot_from(server, 0).await {
                Ok(snapshot) => return Ok(self.remember(snapshot)),
                Err(
                    error @ (ConnectorError::WrongKey { .. }
                    | ConnectorError::SessionExpired { .. }),
                ) => return Err(error),
                Err(error) => {
                    all_silent &= matches!(
                        error,
                        ConnectorError::Refused { .. } | ConnectorError::Timeout { .. }
                    );
                    last_error = Some(error);
                }
            }
        }
        if let Some(first) = self.servers_by_preference().first() {
            if self.settings.read_retries > 0 && !all_silent {
                self.backoff(0).await;
                if let Ok(snapshot) = self.snapshot_from(first, self.settings.read_retries).await {
                    return Ok(self.remember(snapshot));
                }
            }
        }
        // Every server refused, closed the connection or timed out: they are all
        // stopped (as during a downtime upgrade). Report them not running,
        // with what was last observed of them.
        if all_silent {
            if let Some(mut snapshot) = lock(&self.last_snapshot).clone() {
                for server in &mut snapshot.servers {
                    server.running = false;
                }
                return Ok(snapshot);
            }
        }
        Err(last_error.unwrap_or_else(|| ConnectorError::Config {
            message: "the target names no servers".to_owned(),
        }))
    }

    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        let console_operation =
            operation.is_console() || matches!(operation, Operation::RestoreBackup { .. });
        if !console_operation {
            return self.perform_api(operation).await;
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
        // A server that was stopped, started or restored has no session any more.
        self.forget_session(operation.server());
        result
    }

    async fn sleep(&self, duration: Duration) {
        self.sleep_target(duration).await;
    }

    fn clock(&self) -> Duration {
        self.clock.now()
    }

    fn clock_kind(&self) -> ClockKind {
        self.clock.kind
    }

    /// Read from `ha/diagnostic`: after a split brain every running server
    /// reports the monitoring message that names the servers that were
    /// Active (see `split_brain_message`). Asked of the servers the last
    /// snapshot saw running (one that does not answer would cost a request
    /// timeout); when none answers, the last answer stands.
    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        let running: Option<Vec<String>> = lock(&self.last_snapshot).as_ref().map(|snapshot| {
            snapshot
                .servers
                .iter()
                .filter(|server| server.running)
                .map(|server| server.name.clone())
                .collect()
        });
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
        if self.settings.tls_verify || !https {
            return Vec::new();
        }
        vec![super::TargetWarning {
            code: TLS_VERIFICATION_OFF.to_owned(),
            message: String::from(
                "TLS certificate verification is off (--insecure-skip-tls-verify, or `[tls] verify = false`): any server that answers at the target's address receives the API key. Trust the CA instead with --ca-cert FILE (inventory: `[tls] ca_file`).",
            ),
        }]
    }
}

impl SmcConnector {
    /// The split brain one server's `ha/diagnostic` reports, if any.
    async fn diagnostic_split_brain(
        &self,
        server: &SmcServer,
        retries: u32,
    ) -> Result<Option<Vec<String>>, ConnectorError> {
        let body = self
            .call(
                server,
                Method::GET,
                &|session| link(&session.ha_links, "diagnostic", &server.api),
                None,
                retries,
            )
            .await?;
        let OperationOutput::Diagnostic { messages, .. } = diagnostic_output(&server.api, &body)?
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

/// Console operations through the simulator-only path of `runbook sim serve`
/// (`POST /sim/console/{server}/{operation}`).
struct SimConsole {
    client: reqwest::Client,
    base: String,
    key: ApiKey,
    settings: SmcSettings,
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
        let settings = &self.settings;
        let response = self
            .client
            .post(&url)
            .bearer_auth(self.key.expose())
            .send()
            .await
            .map_err(|error| {
                transport_error(
                    &url,
                    operation.server(),
                    &operation.to_string(),
                    settings,
                    error,
                )
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| {
            transport_error(
                &url,
                operation.server(),
                &operation.to_string(),
                settings,
                error,
            )
        })?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::WrongKey { url });
        }
        let answer = check_status(&url, status, &body, Some(operation))?;
        Ok(answer
            .get("output")
            .cloned()
            .and_then(|output| serde_json::from_value(output).ok())
            .unwrap_or(OperationOutput::Done))
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

    #[test]
    fn answers_map_to_connector_errors() {
        let exclude = Operation::Exclude {
            server: "mgt-1".into(),
        };
        let refused = check_status(
            "u",
            StatusCode::BAD_REQUEST,
            br#"{"message":"no","details":["d"],"status":400}"#,
            Some(&exclude),
        );
        assert!(
            matches!(refused, Err(ConnectorError::ActionRefused { ref details, .. }) if details == &["d"])
        );
        let cancelled = check_status(
            "u",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"message":"m","failure":"upgrade-cancelled"}"#,
            Some(&exclude),
        );
        assert!(matches!(
            cancelled,
            Err(ConnectorError::UpgradeCancelled { .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::BAD_GATEWAY, b"<html>", None),
            Err(ConnectorError::ServerError { status: 502, .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::OK, b"{", None),
            Err(ConnectorError::Malformed { .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::NOT_FOUND, b"", None),
            Err(ConnectorError::UnexpectedStatus { status: 404, .. })
        ));
        assert_eq!(
            check_status("u", StatusCode::NO_CONTENT, b"", None).ok(),
            Some(Value::Null)
        );
    }
}
