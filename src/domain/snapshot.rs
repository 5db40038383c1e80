//! A point-in-time snapshot of the cluster: the contract's `CLUSTER`.

use serde::{Deserialize, Serialize};

use super::{Mode, ReplicationState, Version};

/// One server as observed at one moment: the contract's `CLUSTER.servers[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
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
