//! The inventory: a TOML file that describes a real HA Management setup —
//! its servers, the API address, where the API key is, TLS options and how
//! each console operation is performed. See `docs/inventory.md`.
//!
//! Validation happens while deserializing wherever possible, so that a bad
//! value is reported with the file, line and column of the value itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use thiserror::Error;

use super::api_key::ApiKey;
use super::ConnectorError;

/// A parsed, validated inventory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// How to reach the SMC API.
    #[serde(default)]
    pub api: ApiSettings,
    /// TLS options for the API.
    #[serde(default)]
    pub tls: TlsSettings,
    /// Every Management Server of the setup.
    pub servers: Vec<ServerEntry>,
    /// How console operations (stop, start, upgrade, backup, restore) are done.
    #[serde(default)]
    pub console: ConsoleSettings,
    /// Webhooks every run on this setup notifies (as `--notify URL` does),
    /// besides those given on the command line.
    #[serde(default)]
    pub notify: Vec<WebhookUrl>,
    /// The file the inventory was read from (filled in by [`Inventory::load`]).
    #[serde(skip)]
    pub path: PathBuf,
}

/// The `[api]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The default API address, e.g. `https://mgt-1.example.net:8082`; a
    /// server's own `api` overrides it.
    pub url: Option<String>,
    /// The environment variable that holds the API key.
    pub api_key_env: Option<String>,
    /// A file whose content is the API key (read when connecting).
    pub api_key_file: Option<PathBuf>,
    /// An API version to use (e.g. `7.3`) instead of the newest the server offers.
    pub version: Option<String>,
    /// Time allowed to open a connection.
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: DurationSetting,
    /// Time allowed for one request.
    #[serde(default = "defaults::request_timeout")]
    pub request_timeout: DurationSetting,
    /// How many times an idempotent read is retried after a transport error.
    #[serde(default = "defaults::read_retries")]
    pub read_retries: u32,
    /// Pause between two polls of a background operation.
    #[serde(default = "defaults::poll_interval")]
    pub poll_interval: DurationSetting,
    /// Longest time a background operation may take before the run stops.
    #[serde(default = "defaults::operation_timeout")]
    pub operation_timeout: DurationSetting,
    /// The administrative domain to log in to (default: the Shared Domain).
    pub domain: Option<String>,
    /// How long `GET /ha/diagnostic` may spend asking every server (its
    /// `global_timeout`); the request itself is allowed
    /// `request_timeout` more.
    #[serde(default = "defaults::diagnostic_timeout")]
    pub diagnostic_timeout: DurationSetting,
    /// How long the diagnostic waits for one server (its `server_timeout`).
    #[serde(default = "defaults::diagnostic_server_timeout")]
    pub diagnostic_server_timeout: DurationSetting,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            url: None,
            api_key_env: None,
            api_key_file: None,
            version: None,
            connect_timeout: defaults::connect_timeout(),
            request_timeout: defaults::request_timeout(),
            read_retries: defaults::read_retries(),
            poll_interval: defaults::poll_interval(),
            operation_timeout: defaults::operation_timeout(),
            domain: None,
            diagnostic_timeout: defaults::diagnostic_timeout(),
            diagnostic_server_timeout: defaults::diagnostic_server_timeout(),
        }
    }
}

mod defaults {
    use super::DurationSetting;
    use std::time::Duration;

    pub fn connect_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(10))
    }
    pub fn request_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(60))
    }
    pub fn read_retries() -> u32 {
        3
    }
    pub fn poll_interval() -> DurationSetting {
        DurationSetting(Duration::from_secs(5))
    }
    pub fn operation_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(2 * 60 * 60))
    }
    pub fn diagnostic_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(60))
    }
    pub fn diagnostic_server_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(20))
    }
    pub fn console_timeout() -> DurationSetting {
        DurationSetting(Duration::from_secs(2 * 60 * 60))
    }
    pub fn verify() -> bool {
        true
    }
}

/// The `[tls]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Verify the server's certificate (default `true`). Turn off only for a
    /// lab with self-signed certificates; prefer `ca_file`.
    #[serde(default = "defaults::verify")]
    pub verify: bool,
    /// A PEM file with the CA (or self-signed certificate) to trust in
    /// addition to the system roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify: true,
            ca_file: None,
        }
    }
}

/// A value the inventory substitutes into console commands (`{host}`,
/// `{server}`): never empty, never beginning with `-`, which a program
/// such as `ssh` would take for an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandValue(String);

impl CommandValue {
    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommandValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CommandValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().is_empty() {
            return Err(de::Error::custom("the value is empty"));
        }
        if text.starts_with('-') {
            return Err(de::Error::custom(format!(
                "`{text}` begins with `-`: substituted into a console command it would be read as an option; write the host name or address itself"
            )));
        }
        Ok(CommandValue(text))
    }
}

/// One `[[servers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerEntry {
    /// The Management Server's name as the SMC knows it, e.g. `mgt-1`.
    pub name: toml::Spanned<CommandValue>,
    /// Host name or address, substituted for `{host}` in console commands.
    pub host: CommandValue,
    /// This server's own API address, when it differs from `[api] url`.
    pub api: Option<String>,
    /// The SMC version installed, used only while the server has never
    /// answered (the API cannot tell the version of a server that is down).
    pub version: Option<crate::cluster::Version>,
}

impl ServerEntry {
    /// The server's name.
    pub fn name(&self) -> &str {
        self.name.get_ref().as_str()
    }
}

/// The `[console]` table: one entry per console operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Time allowed for one console command.
    #[serde(default = "defaults::console_timeout")]
    pub timeout: DurationSetting,
    /// Stop a Management Server.
    pub stop: Option<ConsoleCommand>,
    /// Start a Management Server.
    pub start: Option<ConsoleCommand>,
    /// Run the SMC installer (`{version}` is the target version).
    pub upgrade: Option<ConsoleCommand>,
    /// Take a Management Server backup.
    pub backup: Option<ConsoleCommand>,
    /// Restore the latest backup.
    pub restore: Option<ConsoleCommand>,
    /// Clear the replication configuration (`sgReplicationAdmin.sh -stop_replication`).
    pub stop_replication: Option<ConsoleCommand>,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            timeout: defaults::console_timeout(),
            stop: None,
            start: None,
            upgrade: None,
            backup: None,
            restore: None,
            stop_replication: None,
        }
    }
}

impl ConsoleSettings {
    /// The configured command for an operation name (`stop`, `start`,
    /// `upgrade`, `backup`, `restore`, `stop_replication`).
    pub fn command(&self, operation: ConsoleOperation) -> Option<&ConsoleCommand> {
        match operation {
            ConsoleOperation::Stop => self.stop.as_ref(),
            ConsoleOperation::Start => self.start.as_ref(),
            ConsoleOperation::Upgrade => self.upgrade.as_ref(),
            ConsoleOperation::Backup => self.backup.as_ref(),
            ConsoleOperation::Restore => self.restore.as_ref(),
            ConsoleOperation::StopReplication => self.stop_replication.as_ref(),
        }
    }
}

/// The operations performed on a server's console rather than through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsoleOperation {
    /// Stop the server.
    Stop,
    /// Start the server.
    Start,
    /// Run the installer.
    Upgrade,
    /// Take a backup.
    Backup,
    /// Restore the latest backup.
    Restore,
    /// Clear the replication configuration.
    StopReplication,
}

impl ConsoleOperation {
    /// The console operation that performs `operation`, if it is one.
    pub fn of(operation: &crate::cluster::Operation) -> Option<Self> {
        use crate::cluster::Operation;
        match operation {
            Operation::StopServer { .. } => Some(Self::Stop),
            Operation::StartServer { .. } => Some(Self::Start),
            Operation::Upgrade { .. } => Some(Self::Upgrade),
            Operation::Backup { .. } => Some(Self::Backup),
            Operation::RestoreBackup { .. } => Some(Self::Restore),
            Operation::StopReplication { .. } => Some(Self::StopReplication),
            _ => None,
        }
    }

    /// The key of the operation in the inventory's `[console]` table.
    pub fn key(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Upgrade => "upgrade",
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::StopReplication => "stop_replication",
        }
    }
}

impl fmt::Display for ConsoleOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How one console operation is performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleCommand {
    /// Run this argv (after placeholder substitution), without a shell.
    Argv(Vec<String>),
    /// Ask the operator to do it and confirm.
    Manual,
}

/// The placeholders a console command template may use.
pub const PLACEHOLDERS: [&str; 3] = ["host", "server", "version"];

impl<'de> Deserialize<'de> for ConsoleCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Argv(Vec<String>),
        }
        let raw = Raw::deserialize(deserializer).map_err(|_| {
            de::Error::custom(
                "expected a list of arguments such as [\"ssh\", \"{host}\", \"/opt/smc/stop\"] or the string \"manual\"",
            )
        })?;
        match raw {
            Raw::Text(text) if text == "manual" => Ok(ConsoleCommand::Manual),
            Raw::Text(_) => Err(de::Error::custom(
                "a command is a list of arguments (it is never split or run by a shell); write [\"program\", \"arg\", ...] or \"manual\"",
            )),
            Raw::Argv(argv) if argv.is_empty() => Err(de::Error::custom(
                "the command is empty; give at least the program to run, or \"manual\"",
            )),
            Raw::Argv(argv) => {
                for argument in &argv {
                    check_placeholders(argument).map_err(de::Error::custom)?;
                }
                Ok(ConsoleCommand::Argv(argv))
            }
        }
    }
}

/// Checks that every `{name}` in a template argument is a known placeholder.
fn check_placeholders(argument: &str) -> Result<(), String> {
    let mut rest = argument;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("unclosed `{{` in `{argument}`"));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder `{{{name}}}` in `{argument}`; known placeholders: {{host}}, {{server}}, {{version}}"
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// A webhook's address (`notify = ["https://..."]`): an `http` or `https`
/// URL. It may hold a secret (a token in its path or query, a password in
/// its user-info), so it is never shown: its `Debug` and `Display` give the
/// scheme and host only.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks that `text` is an `http(s)` URL with a host.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = reqwest::Url::parse(text.trim())
            .map_err(|error| format!("a webhook is an http(s) URL ({error})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(String::from(
                "a webhook is an http(s) URL, e.g. \"https://chat.example.net/hooks/…\"",
            ));
        }
        Ok(Self(text.trim().to_owned()))
    }

    /// The full URL, secrets included: for posting only, never for showing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown: the scheme and host (with its port).
    pub fn shown(&self) -> String {
        match reqwest::Url::parse(&self.0) {
            Ok(url) => format!(
                "{}://{}{}/…",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.port()
                    .map(|port| format!(":{port}"))
                    .unwrap_or_default()
            ),
            Err(_) => String::from("<webhook>"),
        }
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.shown())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        WebhookUrl::parse(&text).map_err(de::Error::custom)
    }
}

/// A duration written as runbooks write it (`500ms`, `30s`, `1h30m`) or a
/// number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationSetting(pub Duration);

impl DurationSetting {
    /// Parses a duration as runbooks write it (`500ms`, `30s`, `5m`,
    /// `1h30m`), or a bare number of seconds.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<u64>() {
            return Ok(DurationSetting(Duration::from_secs(seconds)));
        }
        crate::domain::duration::parse(text)
            .map(DurationSetting)
            .map_err(|error| format!("`{text}` is {error}"))
    }
}

impl<'de> Deserialize<'de> for DurationSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)
            .map_err(|_| de::Error::custom("expected a duration like \"30s\", \"5m\" or \"2h\""))?
        {
            Raw::Seconds(seconds) => Ok(DurationSetting(Duration::from_secs(seconds))),
            Raw::Text(text) => DurationSetting::parse(&text).map_err(de::Error::custom),
        }
    }
}

/// A bad or unreadable inventory.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("cannot read the inventory {path}: {reason}")]
    #[diagnostic(
        code(runbook::inventory::unreadable),
        help("`--target` takes `sim`, an inventory file (TOML) or http://HOST:PORT")
    )]
    Unreadable {
        /// The path given.
        path: String,
        /// What the file system said.
        reason: String,
    },
    /// The file is not a valid inventory.
    #[error("invalid inventory: {message}")]
    #[diagnostic(code(runbook::inventory::invalid))]
    Invalid {
        /// The inventory's text, named by its path.
        #[source_code]
        source_code: Arc<NamedSource<String>>,
        /// Where the problem is.
        #[label("{label}")]
        span: SourceSpan,
        /// What is wrong.
        message: String,
        /// The label under the excerpt.
        label: String,
        /// What to do.
        #[help]
        help: Option<String>,
    },
}

impl Inventory {
    /// Reads and validates an inventory file.
    pub fn load(path: &Path) -> Result<Self, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|error| InventoryError::Unreadable {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let mut inventory = Self::parse(&path.display().to_string(), &text)?;
        inventory.path = path.to_owned();
        Ok(inventory)
    }

    /// Parses and validates inventory text; `name` labels diagnostics.
    pub fn parse(name: &str, text: &str) -> Result<Self, InventoryError> {
        let invalid = |span: std::ops::Range<usize>,
                       message: String,
                       label: &str,
                       help: Option<String>| {
            // A credential written in a URL never shows in the excerpt
            // nor in a parser's message quoting a value.
            InventoryError::Invalid {
                source_code: Arc::new(NamedSource::new(name, super::mask_url_credentials(text))),
                span: span.into(),
                message: super::mask_url_credentials(&message),
                label: label.to_owned(),
                help,
            }
        };
        let inventory: Inventory = toml::from_str(text).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            invalid(
                span,
                error.message().to_owned(),
                "here",
                Some("see docs/inventory.md for every key and an example".to_owned()),
            )
        })?;

        let whole = 0..text.len().min(1);
        if inventory.servers.is_empty() {
            return Err(invalid(
                whole,
                "no servers".to_owned(),
                "the inventory starts here",
                Some(
                    "add one [[servers]] table per Management Server, with `name` and `host`"
                        .to_owned(),
                ),
            ));
        }
        let mut seen: BTreeMap<&str, std::ops::Range<usize>> = BTreeMap::new();
        for server in &inventory.servers {
            if server.name().trim().is_empty() {
                return Err(invalid(
                    server.name.span(),
                    "a server name is empty".to_owned(),
                    "empty name",
                    Some("use the Management Server's name as the SMC shows it".to_owned()),
                ));
            }
            if seen.insert(server.name(), server.name.span()).is_some() {
                return Err(invalid(
                    server.name.span(),
                    format!("server `{}` is listed twice", server.name()),
                    "second entry",
                    Some("each Management Server appears once".to_owned()),
                ));
            }
            if server.api.is_none() && inventory.api.url.is_none() {
                return Err(invalid(
                    server.name.span(),
                    format!("no API address for server `{}`", server.name()),
                    "this server",
                    Some("set `url` in [api], or `api` on this server".to_owned()),
                ));
            }
        }
        match (&inventory.api.api_key_env, &inventory.api.api_key_file) {
            (None, None) => {
                return Err(invalid(
                    whole,
                    "no API key source".to_owned(),
                    "the inventory starts here",
                    Some("set `api_key_env = \"NAME\"` (the environment variable that holds the key) or `api_key_file` in [api]; never the key itself".to_owned()),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(invalid(
                    whole,
                    "both `api_key_env` and `api_key_file` are set".to_owned(),
                    "the inventory starts here",
                    Some("keep one of them".to_owned()),
                ))
            }
            _ => {}
        }
        Ok(inventory)
    }

    /// The server entry with this name.
    pub fn server(&self, name: &str) -> Option<&ServerEntry> {
        self.servers.iter().find(|server| server.name() == name)
    }

    /// The API address of a server: its own `api`, else `[api] url`.
    pub fn api_url<'a>(&'a self, server: &'a ServerEntry) -> Option<&'a str> {
        server.api.as_deref().or(self.api.url.as_deref())
    }

    /// Reads the API key from the environment variable or file the inventory names.
    pub fn api_key(&self) -> Result<ApiKey, ConnectorError> {
        let key = if let Some(variable) = &self.api.api_key_env {
            std::env::var(variable).map_err(|_| ConnectorError::Config {
                message: format!(
                    "the environment variable `{variable}` named by the inventory's `api_key_env` is not set"
                ),
            })?
        } else if let Some(file) = &self.api.api_key_file {
            let file = self.relative(file);
            std::fs::read_to_string(&file).map_err(|error| ConnectorError::Config {
                message: format!(
                    "cannot read the API key file {} named by the inventory: {error}",
                    file.display()
                ),
            })?
        } else {
            return Err(ConnectorError::Config {
                message: "the inventory names no API key source".to_owned(),
            });
        };
        let key = ApiKey::new(key);
        if key.is_empty() {
            return Err(ConnectorError::Config {
                message: "the API key named by the inventory is empty".to_owned(),
            });
        }
        Ok(key)
    }

    /// A path from the inventory, relative to the inventory's own folder.
    pub fn relative(&self, path: &Path) -> PathBuf {
        match self.path.parent() {
            Some(folder) if path.is_relative() => folder.join(path),
            _ => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[api]
url = "https://mgt-1.example.net:8082"
api_key_env = "SMC_API_KEY"
request_timeout = "30s"

[tls]
verify = true

[[servers]]
name = "mgt-1"
host = "mgt-1.example.net"

[[servers]]
name = "mgt-2"
host = "mgt-2.example.net"
api = "https://mgt-2.example.net:8082"

[console]
timeout = "1h"
stop = ["ssh", "{host}", "systemctl", "stop", "sgMgtServer"]
upgrade = ["ssh", "{host}", "/opt/smc/installer", "--version", "{version}"]
backup = "manual"
"#;

    #[test]
    fn parses_a_good_inventory() {
        let inventory = Inventory::parse("inv.toml", GOOD).expect("valid");
        assert_eq!(inventory.servers.len(), 2);
        assert_eq!(inventory.api.request_timeout.0, Duration::from_secs(30));
        assert_eq!(inventory.console.timeout.0, Duration::from_secs(3600));
        assert_eq!(inventory.console.backup, Some(ConsoleCommand::Manual));
        let second = inventory.server("mgt-2").expect("mgt-2");
        assert_eq!(
            inventory.api_url(second),
            Some("https://mgt-2.example.net:8082")
        );
    }

    fn error_of(text: &str) -> (String, usize) {
        match Inventory::parse("inv.toml", text) {
            Err(InventoryError::Invalid { message, span, .. }) => (message, span.offset()),
            other => panic!("expected an invalid inventory, got {other:?}"),
        }
    }

    #[test]
    fn a_shell_string_is_refused_where_it_is_written() {
        let text = GOOD.replace(
            "backup = \"manual\"",
            "backup = \"sgBackupMgtSrv.sh; rm -rf /\"",
        );
        let (message, offset) = error_of(&text);
        assert!(message.contains("never split"), "{message}");
        assert_eq!(&text[offset..offset + 1], "\"");
    }

    #[test]
    fn unknown_placeholders_and_bad_durations_are_reported() {
        let (message, _) = error_of(&GOOD.replace("{version}", "{release}"));
        assert!(
            message.contains("unknown placeholder `{release}`"),
            "{message}"
        );
        let (message, _) = error_of(&GOOD.replace("\"30s\"", "\"thirty\""));
        assert!(message.contains("not a duration"), "{message}");
        let (message, _) = error_of(&GOOD.replace("name = \"mgt-2\"", "name = \"mgt-1\""));
        assert!(message.contains("listed twice"), "{message}");
        let (message, _) = error_of(&GOOD.replace("api_key_env = \"SMC_API_KEY\"", ""));
        assert!(message.contains("no API key source"), "{message}");
        let (message, _) = error_of(&GOOD.replace("[tls]", "[tls]\nverfy = false"));
        assert!(message.contains("verfy"), "{message}");
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../../examples/inventory.toml");
        let inventory = Inventory::parse("examples/inventory.toml", text).expect("valid example");
        assert_eq!(inventory.servers.len(), 3);
        assert_eq!(inventory.console.restore, Some(ConsoleCommand::Manual));
        assert!(inventory.tls.verify);
    }
}
