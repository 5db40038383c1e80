//! The operations a connector performs on the cluster (the table of
//! `domain.md`) and what they report back.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ReplicationState, Version};

/// An operation a connector performs on the cluster (the table of `domain.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    /// The HA diagnostic, run on `server`.
    Diagnostic {
        /// The server that runs the diagnostic.
        server: String,
    },
    /// The state code of every server, read from the Active.
    ReplicationStates {
        /// The server asked (must be the Active).
        server: String,
    },
    /// Exclude `server` from replication (issued on the Active).
    Exclude {
        /// The Standby to exclude.
        server: String,
    },
    /// Full replication of `server` (issued on the Active; background).
    InitStandby {
        /// The Standby to initialize.
        server: String,
    },
    /// Switch wizard making `server` the Active (background).
    Activate {
        /// The Standby to activate.
        server: String,
    },
    /// Declare `server` Active without the wizard.
    ForceActivate {
        /// The server to declare Active.
        server: String,
    },
    /// Declare `server` Standby.
    SetStandby {
        /// The server to declare Standby.
        server: String,
        /// Required when `server` is the Active.
        force: bool,
    },
    /// Clear the replication configuration on `server`.
    StopReplication {
        /// The server whose replication configuration is cleared.
        server: String,
    },
    /// Stop `server` (console).
    StopServer {
        /// The server to stop.
        server: String,
    },
    /// Start `server` (console).
    StartServer {
        /// The server to start.
        server: String,
    },
    /// Run the SMC installer on `server` (console).
    Upgrade {
        /// The server to upgrade.
        server: String,
        /// The version to install.
        version: Version,
    },
    /// Take a Management Server backup of `server` (console).
    Backup {
        /// The server to back up.
        server: String,
    },
    /// Restore the latest backup on `server`; every Standby is excluded.
    RestoreBackup {
        /// The server the backup is restored on.
        server: String,
    },
}

impl Operation {
    /// The operation a runbook names `name` (as in the language), about
    /// `server`. `force` only matters to `set-standby`, `version` only to
    /// `upgrade`. `None` when the name is unknown, or for an `upgrade`
    /// without a version.
    pub fn from_name(
        name: &str,
        server: String,
        force: bool,
        version: Option<Version>,
    ) -> Option<Self> {
        OperationKind::from_name(name)?.build(server, force, version)
    }

    /// The DSL name of the operation, e.g. `init-standby`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Diagnostic { .. } => "diagnostic",
            Self::ReplicationStates { .. } => "replication-states",
            Self::Exclude { .. } => "exclude",
            Self::InitStandby { .. } => "init-standby",
            Self::Activate { .. } => "activate",
            Self::ForceActivate { .. } => "force-activate",
            Self::SetStandby { .. } => "set-standby",
            Self::StopReplication { .. } => "stop-replication",
            Self::StopServer { .. } => "stop-server",
            Self::StartServer { .. } => "start-server",
            Self::Upgrade { .. } => "upgrade",
            Self::Backup { .. } => "backup",
            Self::RestoreBackup { .. } => "restore-backup",
        }
    }

    /// The server the operation is about.
    pub fn server(&self) -> &str {
        match self {
            Self::Diagnostic { server }
            | Self::ReplicationStates { server }
            | Self::Exclude { server }
            | Self::InitStandby { server }
            | Self::Activate { server }
            | Self::ForceActivate { server }
            | Self::SetStandby { server, .. }
            | Self::StopReplication { server }
            | Self::StopServer { server }
            | Self::StartServer { server }
            | Self::Upgrade { server, .. }
            | Self::Backup { server }
            | Self::RestoreBackup { server } => server,
        }
    }

    /// Whether the operation runs on the server's console rather than the API.
    pub fn is_console(&self) -> bool {
        matches!(
            self,
            Self::StopServer { .. }
                | Self::StartServer { .. }
                | Self::Upgrade { .. }
                | Self::Backup { .. }
        )
    }

    /// Whether the operation only reads state (safe to retry).
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Self::Diagnostic { .. } | Self::ReplicationStates { .. }
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Upgrade { server, version } => write!(f, "upgrade {server} to {version}"),
            Self::SetStandby {
                server,
                force: true,
            } => write!(f, "set-standby {server} (force)"),
            other => write!(f, "{} {}", other.name(), other.server()),
        }
    }
}

/// What an operation reported back, beyond success.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OperationOutput {
    /// The operation completed; nothing more to say.
    Done,
    /// The HA diagnostic: global status and per-server messages.
    Diagnostic {
        /// `true` for `OK`, `false` for `KO`.
        ok: bool,
        /// One entry per server: its name and its message lines.
        messages: Vec<(String, Vec<String>)>,
    },
    /// The replication state of every server.
    ReplicationStates {
        /// Server name and state code.
        states: Vec<(String, ReplicationState)>,
    },
    /// A backup was taken.
    Backup {
        /// An identifier for the backup.
        backup_id: String,
    },
}

impl OperationOutput {
    /// Why a completed operation still counts as failed: a `KO` diagnostic,
    /// with every server's messages. `None` for any other output.
    pub fn failure(&self) -> Option<String> {
        match self {
            Self::Diagnostic {
                ok: false,
                messages,
            } => Some(format!(
                "the HA diagnostic reported KO: {}",
                messages
                    .iter()
                    .map(|(server, lines)| format!("{server}: {}", lines.join("; ")))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )),
            _ => None,
        }
    }
}

/// Which operation a call names, resolved once from its DSL name when the
/// program is lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// `diagnostic`.
    Diagnostic,
    /// `replication-states`.
    ReplicationStates,
    /// `exclude`.
    Exclude,
    /// `init-standby`.
    InitStandby,
    /// `activate`.
    Activate,
    /// `force-activate`.
    ForceActivate,
    /// `set-standby`.
    SetStandby,
    /// `stop-replication`.
    StopReplication,
    /// `stop-server`.
    StopServer,
    /// `start-server`.
    StartServer,
    /// `upgrade`.
    Upgrade,
    /// `backup`.
    Backup,
    /// `restore-backup`.
    RestoreBackup,
}

impl OperationKind {
    /// The kind a DSL name names, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "diagnostic" => Self::Diagnostic,
            "replication-states" => Self::ReplicationStates,
            "exclude" => Self::Exclude,
            "init-standby" => Self::InitStandby,
            "activate" => Self::Activate,
            "force-activate" => Self::ForceActivate,
            "set-standby" => Self::SetStandby,
            "stop-replication" => Self::StopReplication,
            "stop-server" => Self::StopServer,
            "start-server" => Self::StartServer,
            "upgrade" => Self::Upgrade,
            "backup" => Self::Backup,
            "restore-backup" => Self::RestoreBackup,
            _ => return None,
        })
    }

    /// Whether the operation needs `version:` (only `upgrade`).
    pub fn needs_version(self) -> bool {
        self == Self::Upgrade
    }

    /// The operation on `server` (`force` for `set-standby`, `version` for
    /// `upgrade`, which needs it).
    pub fn build(self, server: String, force: bool, version: Option<Version>) -> Option<Operation> {
        Some(match self {
            Self::Diagnostic => Operation::Diagnostic { server },
            Self::ReplicationStates => Operation::ReplicationStates { server },
            Self::Exclude => Operation::Exclude { server },
            Self::InitStandby => Operation::InitStandby { server },
            Self::Activate => Operation::Activate { server },
            Self::ForceActivate => Operation::ForceActivate { server },
            Self::SetStandby => Operation::SetStandby { server, force },
            Self::StopReplication => Operation::StopReplication { server },
            Self::StopServer => Operation::StopServer { server },
            Self::StartServer => Operation::StartServer { server },
            Self::Upgrade => Operation::Upgrade {
                server,
                version: version?,
            },
            Self::Backup => Operation::Backup { server },
            Self::RestoreBackup => Operation::RestoreBackup { server },
        })
    }
}
