//! How the `smc` connector connects: time limits, retries, TLS, the login
//! domain and the diagnostic's own time limits ([`SmcSettings`]), and the
//! options given on the command line that override an inventory's
//! ([`ConnectionOptions`], recorded in the journal for `resume`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connect::inventory::Inventory;
use crate::connect::ConnectorError;

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
    /// The administrative domain to log in to (the Shared Domain when `None`).
    pub domain: Option<String>,
    /// `global_timeout` of `GET /ha/diagnostic`: how long the server may
    /// spend asking the others (the product's default is 3 minutes).
    pub diagnostic_timeout: Duration,
    /// `server_timeout` of `GET /ha/diagnostic`: how long it waits for one server.
    pub diagnostic_server_timeout: Duration,
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
            domain: None,
            diagnostic_timeout: Duration::from_secs(60),
            diagnostic_server_timeout: Duration::from_secs(20),
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
            domain: inventory.api.domain.clone(),
            diagnostic_timeout: inventory.api.diagnostic_timeout.0,
            diagnostic_server_timeout: inventory.api.diagnostic_server_timeout.0,
        }
    }

    pub(super) fn client(&self, use_proxy: bool) -> Result<reqwest::Client, ConnectorError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .danger_accept_invalid_certs(!self.tls_verify);
        if !use_proxy {
            builder = builder.no_proxy();
        }
        if let (true, Some(path)) = (self.tls_verify, &self.ca_file) {
            builder = builder.use_preconfigured_tls(super::tls::with_ca_file(path)?);
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConnectionOptions {
    /// Time allowed for one request.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_option"
    )]
    #[schemars(with = "Option<String>")]
    pub request_timeout: Option<Duration>,
    /// Time allowed to open a connection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_option"
    )]
    #[schemars(with = "Option<String>")]
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

/// The code of the warning shown when TLS certificate verification is off.
pub const TLS_VERIFICATION_OFF: &str = "runbook::connector::tls_verification_off";

/// `, TLS certificate verification off` for an `https` address reached
/// without verification, else nothing.
pub(super) fn tls_note(settings: &SmcSettings, url: &str) -> &'static str {
    if !settings.tls_verify && url.starts_with("https://") {
        ", TLS certificate verification off"
    } else {
        ""
    }
}
