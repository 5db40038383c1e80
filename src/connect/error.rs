//! The connector phase's error enum: every way reaching a server can fail,
//! each with a stable `runbook::connector::...` code and a help line.

use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

/// An error raised while talking to a server.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum ConnectorError {
    /// Another runner holds the cluster.
    #[error("{target} is in use by another runner: {holder}")]
    #[diagnostic(code(runbook::connector::cluster_in_use), help("{help}"))]
    ClusterInUse {
        /// The cluster, as the target names it.
        target: String,
        /// Who holds it, since when, and when it was last heard of.
        holder: String,
        /// What the operator can do.
        help: String,
    },
    /// The API key was rejected at login.
    #[error("the API key was rejected by {url}")]
    #[diagnostic(
        code(runbook::connector::wrong_key),
        help("check the environment variable that holds the API key (the key itself is never printed)")
    )]
    WrongKey {
        /// The login address.
        url: String,
    },
    /// The session expired and logging in again did not help.
    #[error("the session with {url} expired and could not be renewed")]
    #[diagnostic(
        code(runbook::connector::session_expired),
        help("the server ended the session twice in a row; check its session timeout, then try again (`runbook resume JOURNAL` if a run stopped)")
    )]
    SessionExpired {
        /// The address that answered 401.
        url: String,
    },
    /// The connection was refused or could not be made.
    #[error("could not connect to {url}: {reason}")]
    #[diagnostic(
        code(runbook::connector::refused),
        help("is the server running and is the address right? For a rehearsal, start one with `runbook sim serve`")
    )]
    Refused {
        /// The address.
        url: String,
        /// What the network layer said.
        reason: String,
    },
    /// The server's TLS certificate could not be verified.
    #[error("TLS certificate verification failed for {url}: {reason}")]
    #[diagnostic(
        code(runbook::connector::tls_verification),
        help("the server's certificate is not trusted: signed by a CA that is not trusted here (or self-signed), expired, or issued for another name. Trust the CA that signed it with `--ca-cert FILE` (inventory: `[tls] ca_file`); only in a lab, turn verification off with `--insecure-skip-tls-verify` (inventory: `[tls] verify = false`)")
    )]
    TlsVerification {
        /// The address.
        url: String,
        /// What the TLS layer said.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("{server} did not answer {} ({what})", within(*limit))]
    #[diagnostic(
        code(runbook::connector::timeout),
        help("the server may be down, unreachable or only slow; check it, then try again (`runbook resume JOURNAL` if a run stopped). Time limits: `--request-timeout` and `--connect-timeout` (inventory: `request_timeout`, `connect_timeout`, `operation_timeout`, console `timeout`)")
    )]
    Timeout {
        /// The server (or address) that did not answer.
        server: String,
        /// What was being done.
        what: String,
        /// The time limit (zero: a gateway's own limit, not known here).
        limit: Duration,
    },
    /// The server answered with a 5xx status.
    #[error("{url} answered {status}: {message}")]
    #[diagnostic(
        code(runbook::connector::server_error),
        help("the server failed internally; look at its logs, then try again (`runbook resume JOURNAL` if a run stopped)")
    )]
    ServerError {
        /// The address.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The message of the error body, if any.
        message: String,
    },
    /// The server answered with a status the connector does not expect.
    #[error("{url} answered {status}: {message}")]
    #[diagnostic(
        code(runbook::connector::unexpected_status),
        help("is the address really an SMC API of a supported version? Check the inventory's `api` address")
    )]
    UnexpectedStatus {
        /// The address.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The message of the error body, if any.
        message: String,
    },
    /// The server answered something that is not the expected JSON.
    #[error("{url} answered malformed JSON: {reason}")]
    #[diagnostic(
        code(runbook::connector::malformed_response),
        help("is the address really an SMC API? Check the inventory's `api` address")
    )]
    Malformed {
        /// The address.
        url: String,
        /// What did not parse.
        reason: String,
    },
    /// The server refused the action (its precondition is not met).
    #[error("{operation} was refused: {message}")]
    #[diagnostic(
        code(runbook::connector::refused_action),
        help("the server's message says which precondition is not met")
    )]
    ActionRefused {
        /// The operation, e.g. `exclude mgt-1`.
        operation: String,
        /// The server's message.
        message: String,
        /// The server's details lines.
        details: Vec<String>,
    },
    /// An operation ran but did not succeed (installer failed, cancelled...).
    #[error("{operation} failed: {message}")]
    #[diagnostic(code(runbook::connector::operation_failed))]
    OperationFailed {
        /// The operation, e.g. `upgrade mgt-1 to 7.4.0`.
        operation: String,
        /// What happened.
        message: String,
    },
    /// An upgrade was cancelled and the server reverted to its previous version.
    #[error("{operation} was cancelled and reverted: {message}")]
    #[diagnostic(
        code(runbook::connector::upgrade_cancelled),
        help("the server is back on its previous version with replication most likely broken: exclude the standbys and re-initialize them")
    )]
    UpgradeCancelled {
        /// The operation, e.g. `upgrade mgt-1 to 7.4.0`.
        operation: String,
        /// The server whose upgrade was cancelled.
        server: String,
        /// What happened.
        message: String,
    },
    /// A console command failed or could not be started.
    #[error("console command for {operation} failed: {message}")]
    #[diagnostic(
        code(runbook::connector::console),
        help(
            "the inventory's command template for this operation is run as argv, without a shell"
        )
    )]
    Console {
        /// The operation.
        operation: String,
        /// Exit status and captured output.
        message: String,
    },
    /// The operator declined or could not perform a manual operation.
    #[error("the operator did not perform {operation}: {message}")]
    #[diagnostic(code(runbook::connector::manual))]
    Manual {
        /// The operation.
        operation: String,
        /// Why.
        message: String,
    },
    /// The operator pressed Ctrl-C instead of answering whether a manual
    /// operation was performed: the run stops, and a resumed run asks again.
    #[error("the operator interrupted the run at the prompt for {operation}")]
    #[diagnostic(
        code(runbook::connector::interrupted),
        help("perform the operation if it is still needed, then resume the run")
    )]
    Interrupted {
        /// The operation.
        operation: String,
    },
    /// The server named is not part of the target.
    #[error("unknown server `{server}`")]
    #[diagnostic(
        code(runbook::connector::unknown_server),
        help("the servers of the target are listed by `runbook plan`")
    )]
    UnknownServer {
        /// The name.
        server: String,
    },
    /// A server runs an SMC version whose HA API the connector does not drive.
    #[error("{server} runs SMC {version}: runbook drives the HA API of SMC 7.3 and later")]
    #[diagnostic(
        code(runbook::connector::unsupported_version),
        help("upgrade this setup to SMC 7.3 or later by following the product's own procedure first; the HA API (set_active, full_replication, exclude) changed in 7.3")
    )]
    UnsupportedVersion {
        /// The server.
        server: String,
        /// The version it reports (`system` → `smc_version`).
        version: String,
    },
    /// The login was accepted but opened no session the client can send back.
    #[error("{url} accepted the login but set no JSESSIONID cookie")]
    #[diagnostic(
        code(runbook::connector::no_session_cookie),
        help("the SMC API is probably configured to track sessions with SSL sessions instead of cookies; runbook needs cookie sessions: set the API's session tracking to cookies in the Management Client (SMC API settings of the Management Server)")
    )]
    NoSessionCookie {
        /// The login address.
        url: String,
    },
    /// The operation would meet a published known issue of the product.
    #[error("{operation} was not sent: {message}")]
    #[diagnostic(code(runbook::connector::known_issue), help("{help}"))]
    KnownIssue {
        /// The operation, e.g. `exclude mgt-2`.
        operation: String,
        /// The issue's identifier, e.g. `SMC-65140`.
        issue: String,
        /// What the issue does.
        message: String,
        /// What the operator can do instead.
        help: String,
    },
    /// The inventory file is unreadable or invalid (with file, line and column).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(Box<super::InventoryError>),
    /// The target's configuration (inventory) is unusable.
    #[error("{message}")]
    #[diagnostic(code(runbook::connector::config))]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl ConnectorError {
    /// Whether an action that ended with this error may still have taken
    /// effect: no answer came back (a time limit, a dropped or refused
    /// connection, a server failing while it restarts). Such an operation
    /// is in flight, not failed: the runner reads the cluster to find out.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Refused { .. } | Self::ServerError { .. }
        )
    }

    /// The help line of an error about reaching the server (time limit,
    /// TLS, refused connection, API key, session), `None` for an error
    /// about the operation itself, whose message says it all.
    pub fn reach_help(&self) -> Option<String> {
        match self {
            ConnectorError::Timeout { .. }
            | ConnectorError::TlsVerification { .. }
            | ConnectorError::Refused { .. }
            | ConnectorError::WrongKey { .. }
            | ConnectorError::SessionExpired { .. } => {
                Diagnostic::help(self).map(|help| help.to_string())
            }
            _ => None,
        }
    }
}

/// `within 30s` (in the duration syntax of `--request-timeout` and the
/// inventory), or `in time` for an unknown limit.
fn within(limit: Duration) -> String {
    if limit.is_zero() {
        String::from("in time")
    } else {
        format!("within {}", duration_text(limit))
    }
}

/// A duration as runbooks write it (`500ms`, `30s`, `5m`, `1h30m`).
pub fn duration_text(duration: Duration) -> String {
    crate::domain::duration::format(duration)
}

impl From<super::InventoryError> for ConnectorError {
    fn from(error: super::InventoryError) -> Self {
        ConnectorError::Inventory(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_in_the_duration_syntax() {
        let text = |millis| duration_text(Duration::from_millis(millis));
        assert_eq!(text(250), "250ms");
        assert_eq!(text(1_500), "1s500ms");
        assert_eq!(text(5_400_000), "1h30m");
        assert_eq!(text(30_000), "30s");
        assert_eq!(text(300_000), "5m");
        assert_eq!(text(7_200_000), "2h");
        assert_eq!(text(0), "0s");
        let timeout = ConnectorError::Timeout {
            server: "mgt-1".into(),
            what: "logging in".into(),
            limit: Duration::from_millis(300),
        };
        assert_eq!(
            timeout.to_string(),
            "mgt-1 did not answer within 300ms (logging in)"
        );
    }
}
