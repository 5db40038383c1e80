//! The model's error enum: an operation refused by a precondition, a
//! background operation that failed, a server that does not answer.

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an operation that started did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The operation failed (installer error, lost Active during initialization).
    Failed,
    /// The upgrade was cancelled and the server reverted to its previous version.
    UpgradeCancelled,
    /// The activation wizard stopped before its last phase.
    Interrupted,
}

/// An operation the model refused or that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error, Diagnostic, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum SimError {
    /// A precondition is not met; the message is the product's kind of message.
    #[error("{message}")]
    #[diagnostic(
        code(runbook::cluster::refused),
        help("the message says which precondition is not met; check the cluster state first")
    )]
    Refused {
        /// The product's message.
        message: String,
        /// The product's details lines.
        details: Vec<String>,
    },
    /// The operation started but did not succeed.
    #[error("{message}")]
    #[diagnostic(
        code(runbook::cluster::failed),
        help("look at the cluster state: the message says in which state the server was left")
    )]
    Failed {
        /// Failed, cancelled and reverted, or interrupted.
        kind: FailureKind,
        /// What happened.
        message: String,
    },
    /// The server does not answer (the `unreachable:SERVER` fault).
    #[error("{server} does not answer")]
    #[diagnostic(
        code(runbook::cluster::unreachable),
        help("the server is unreachable; exclude it from replication or fix the network, then resume")
    )]
    Unreachable {
        /// The server that does not answer.
        server: String,
    },
    /// The server is stopped, so it answers nothing.
    #[error("{server} is stopped")]
    #[diagnostic(code(runbook::cluster::stopped), help("start the server first"))]
    Stopped {
        /// The stopped server.
        server: String,
    },
    /// The server named is not part of the cluster.
    #[error("unknown server `{server}`")]
    #[diagnostic(
        code(runbook::cluster::unknown_server),
        help("the simulated servers are mgt-1 to mgt-N")
    )]
    UnknownServer {
        /// The name.
        server: String,
    },
}

impl SimError {
    /// A refusal without details lines.
    pub fn refused(message: impl Into<String>) -> Self {
        SimError::Refused {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A failure of the given kind.
    pub fn failed(kind: FailureKind, message: impl Into<String>) -> Self {
        SimError::Failed {
            kind,
            message: message.into(),
        }
    }
}
