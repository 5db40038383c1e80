//! The vocabulary of an HA Management setup: server modes, replication state
//! codes, versions, operations and a point-in-time snapshot of the cluster.
//! Shared by the model, the simulator, the connectors, the interpreter and
//! the verifier; the JSON shape of [`Snapshot`] is the contract's `CLUSTER`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether a server declares itself the Active or a Standby.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The Management Server that administrators work on.
    Active,
    /// A server holding a replicated copy of the Active's database.
    Standby,
}

/// A replication state code as reported by the database-replication diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReplicationState {
    /// Active, replication healthy.
    #[serde(rename = "ACT_REP")]
    ActRep,
    /// Standby, replication healthy.
    #[serde(rename = "STB_REP")]
    StbRep,
    /// Active, no standby initialized yet.
    #[serde(rename = "ACT_NO_REP")]
    ActNoRep,
    /// Standby, not initialized.
    #[serde(rename = "STB_NO_REP")]
    StbNoRep,
    /// Active, configuration valid but no standby connected.
    #[serde(rename = "ACT_ONHOLD")]
    ActOnhold,
    /// Standby, configured but cannot reach the Active.
    #[serde(rename = "STB_ONHOLD")]
    StbOnhold,
    /// Transitional, during a switch of Active.
    #[serde(rename = "STB_ACTREP")]
    StbActrep,
    /// Active, at least one standby replicating and another not.
    #[serde(rename = "ACT_REP_EX")]
    ActRepEx,
    /// Damaged; restoring a backup may be needed.
    #[serde(rename = "BROKEN_ACT_STB")]
    BrokenActStb,
    /// Damaged or unknown.
    #[serde(rename = "UNKNOWN")]
    Unknown,
    /// No replication needed.
    #[serde(rename = "SINGLE_SERVER")]
    SingleServer,
    /// The replication of versions before 7.3 (never reported on 7.3 or later).
    #[serde(rename = "LEGACY_MODE")]
    LegacyMode,
}

impl ReplicationState {
    /// Every code, in the order of `domain.md`, then `LEGACY_MODE`.
    pub const ALL: [ReplicationState; 12] = [
        Self::ActRep,
        Self::StbRep,
        Self::ActNoRep,
        Self::StbNoRep,
        Self::ActOnhold,
        Self::StbOnhold,
        Self::StbActrep,
        Self::ActRepEx,
        Self::BrokenActStb,
        Self::Unknown,
        Self::SingleServer,
        Self::LegacyMode,
    ];

    /// The code as the product prints it, e.g. `ACT_REP`.
    pub fn code(self) -> &'static str {
        match self {
            Self::ActRep => "ACT_REP",
            Self::StbRep => "STB_REP",
            Self::ActNoRep => "ACT_NO_REP",
            Self::StbNoRep => "STB_NO_REP",
            Self::ActOnhold => "ACT_ONHOLD",
            Self::StbOnhold => "STB_ONHOLD",
            Self::StbActrep => "STB_ACTREP",
            Self::ActRepEx => "ACT_REP_EX",
            Self::BrokenActStb => "BROKEN_ACT_STB",
            Self::Unknown => "UNKNOWN",
            Self::SingleServer => "SINGLE_SERVER",
            Self::LegacyMode => "LEGACY_MODE",
        }
    }

    /// The product's one-line description, as in `"[ACT_REP] Active database replication is enabled"`.
    pub fn description(self) -> &'static str {
        match self {
            Self::ActRep => "Active database replication is enabled",
            Self::StbRep => "Standby database replication is enabled",
            Self::ActNoRep => "Active server, no standby server initialized",
            Self::StbNoRep => "Standby database replication not enabled",
            Self::ActOnhold => {
                "Active database replication is on hold: no standby server connected"
            }
            Self::StbOnhold => {
                "Standby database replication is on hold: the active server cannot be reached"
            }
            Self::StbActrep => "Standby server is being activated",
            Self::ActRepEx => "Active database replication partially enabled",
            Self::BrokenActStb => "Database replication is broken",
            Self::Unknown => "Database replication state is unknown",
            Self::SingleServer => "Single server, no replication needed",
            Self::LegacyMode => "Legacy replication mode (before SMC 7.3)",
        }
    }

    /// The reported form: `[CODE] description`.
    pub fn reported(self) -> String {
        format!("[{}] {}", self.code(), self.description())
    }

    /// Parses a reported form (`"[ACT_REP] ..."`) or a bare code.
    pub fn from_reported(text: &str) -> Option<Self> {
        let text = text.trim();
        let code = match text.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => text.split_whitespace().next().unwrap_or(""),
        };
        code.parse().ok()
    }
}

impl fmt::Display for ReplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for ReplicationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| format!("unknown replication state code `{s}`"))
    }
}

/// A product version such as `7.4.0`; compares numerically part by part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(Vec<u32>);

impl Version {
    /// A version from its numeric parts, e.g. `[7, 4, 0]`.
    pub fn from_parts(parts: Vec<u32>) -> Self {
        Version(parts)
    }

    /// The dot-separated numeric parts (none for [`Version::unknown`]).
    pub fn parts(&self) -> &[u32] {
        &self.0
    }

    /// The version of a server nobody could read (it never answered and
    /// none is configured): shown as `unknown`, equal to no real version.
    pub fn unknown() -> Self {
        Version(Vec::new())
    }

    /// Whether this is [`Version::unknown`].
    pub fn is_unknown(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the HA API of this SMC version has
    /// `GET /ha/all_servers_replication_states` (since 7.3.4, 7.4.2, 7.5.0).
    pub fn has_all_servers_replication_states(&self) -> bool {
        match self.parts() {
            [7, 3, patch, ..] => *patch >= 4,
            [7, 4, patch, ..] => *patch >= 2,
            [7, minor, ..] => *minor >= 5,
            [major, ..] => *major > 7,
            [] => false,
        }
    }

    /// What an Active called `active` running this version means for an
    /// exclusion: the known issue, said the same by `plan` and the connector.
    pub fn smc_65140_note(&self, active: &str) -> String {
        format!(
            "{active} runs SMC {self}, whose API cannot exclude a stopped Standby (known issue SMC-65140, 7.3.0 to 7.3.3 and 7.4.0 to 7.4.1)"
        )
    }

    /// Whether excluding a stopped Standby through the API fails on this
    /// SMC version (published known issue SMC-65140: 7.3.0 to 7.3.3 and
    /// 7.4.0 to 7.4.1).
    pub fn has_smc_65140(&self) -> bool {
        match self.parts() {
            [7, 3] | [7, 4] => true,
            [7, 3, patch, ..] => *patch <= 3,
            [7, 4, patch, ..] => *patch <= 1,
            _ => false,
        }
    }
}

#[cfg(test)]
mod version_tests {
    use super::Version;

    #[test]
    fn versions_with_known_issues_and_entry_points() {
        let version = |text: &str| text.parse::<Version>().expect("version");
        for affected in ["7.3.0", "7.3.3", "7.4.0", "7.4.1"] {
            assert!(version(affected).has_smc_65140(), "{affected}");
        }
        for fixed in ["7.3.4", "7.4.2", "7.5.0", "8.0.0"] {
            assert!(!version(fixed).has_smc_65140(), "{fixed}");
            assert!(
                version(fixed).has_all_servers_replication_states(),
                "{fixed}"
            );
        }
        for old in ["7.3.3", "7.4.1"] {
            assert!(!version(old).has_all_servers_replication_states(), "{old}");
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unknown() {
            return f.write_str("unknown");
        }
        for (index, part) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "unknown" {
            return Ok(Version::unknown());
        }
        let parts: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match parts {
            Ok(parts) if !parts.is_empty() => Ok(Version(parts)),
            _ => Err(format!("`{s}` is not a version like 7.4.0")),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One server as observed at one moment: the contract's `CLUSTER.servers[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServerSnapshot {
    /// The server's name, e.g. `mgt-1`.
    pub name: String,
    /// Whether the server answers at all.
    pub running: bool,
    /// Active or Standby, as the server declares it.
    pub mode: Mode,
    /// The installed version.
    pub version: Version,
    /// The replication state code.
    pub replication: ReplicationState,
    /// Whether the server is excluded from replication.
    pub excluded: bool,
    /// Administrator configuration revision (counts changes made on the server).
    #[serde(default)]
    pub config_revision: u64,
}

/// The whole cluster as observed at one moment: the contract's `CLUSTER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every server, in a stable order (by name).
    pub servers: Vec<ServerSnapshot>,
}

impl Snapshot {
    /// The server with this name.
    pub fn server(&self, name: &str) -> Option<&ServerSnapshot> {
        self.servers.iter().find(|server| server.name == name)
    }

    /// Running servers that declare themselves Active.
    pub fn actives(&self) -> impl Iterator<Item = &ServerSnapshot> {
        self.servers
            .iter()
            .filter(|server| server.running && server.mode == Mode::Active)
    }

    /// Servers that declare themselves Standby (running or not).
    pub fn standbys(&self) -> impl Iterator<Item = &ServerSnapshot> {
        self.servers
            .iter()
            .filter(|server| server.mode == Mode::Standby)
    }

    /// The healthy setup of `domain.md`: exactly one Active in `ACT_REP`,
    /// every Standby running, not excluded, in `STB_REP`, all on one version.
    pub fn is_healthy(&self) -> bool {
        let actives: Vec<_> = self.actives().collect();
        let [active] = actives.as_slice() else {
            return false;
        };
        active.replication == ReplicationState::ActRep
            && self.servers.iter().all(|server| {
                server.version == active.version
                    && server.running
                    && !server.excluded
                    && (server.name == active.name
                        || (server.mode == Mode::Standby
                            && server.replication == ReplicationState::StbRep))
            })
    }
}

/// An operation a connector performs on the cluster (the table of `domain.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        Some(match name {
            "diagnostic" => Self::Diagnostic { server },
            "replication-states" => Self::ReplicationStates { server },
            "exclude" => Self::Exclude { server },
            "init-standby" => Self::InitStandby { server },
            "activate" => Self::Activate { server },
            "force-activate" => Self::ForceActivate { server },
            "set-standby" => Self::SetStandby { server, force },
            "stop-replication" => Self::StopReplication { server },
            "stop-server" => Self::StopServer { server },
            "start-server" => Self::StartServer { server },
            "upgrade" => Self::Upgrade {
                server,
                version: version?,
            },
            "backup" => Self::Backup { server },
            "restore-backup" => Self::RestoreBackup { server },
            _ => return None,
        })
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
