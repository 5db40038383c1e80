//! The starting states a runbook is written for (`from STATE, ...`): the
//! states of an HA setup that the procedure pages start from, by name. The
//! verifier builds each one on the model (`verify --from STATE`); the
//! interpreter tells which one a live cluster is in.

use serde::{Deserialize, Serialize};

use super::{ReplicationState, ServerSnapshot, Snapshot};

/// A state of the cluster a runbook can start from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum StartingState {
    /// One Active in `ACT_REP`, every Standby in `STB_REP` (the default).
    Healthy,
    /// Every initialized Standby's replica is damaged.
    ReplicationBroken,
    /// A Standby is stopped (the others are healthy).
    StandbyStopped,
    /// Two servers were Active; the product detected it and put every
    /// server in Standby.
    SplitBrain,
    /// The activation wizard stopped at one of its phases.
    WizardInterrupted,
    /// A backup was restored on the Active: every Standby is excluded.
    AfterRestore,
}

impl StartingState {
    /// Every starting state, in documentation order.
    pub const ALL: [StartingState; 6] = [
        StartingState::Healthy,
        StartingState::ReplicationBroken,
        StartingState::StandbyStopped,
        StartingState::SplitBrain,
        StartingState::WizardInterrupted,
        StartingState::AfterRestore,
    ];

    /// The name written after `from` and `verify --from`.
    pub const fn name(self) -> &'static str {
        match self {
            StartingState::Healthy => "healthy",
            StartingState::ReplicationBroken => "replication-broken",
            StartingState::StandbyStopped => "standby-stopped",
            StartingState::SplitBrain => "split-brain",
            StartingState::WizardInterrupted => "wizard-interrupted",
            StartingState::AfterRestore => "after-restore",
        }
    }

    /// The state named `name`.
    pub fn from_name(name: &str) -> Option<StartingState> {
        StartingState::ALL
            .into_iter()
            .find(|state| state.name() == name)
    }

    /// The state in words.
    pub const fn description(self) -> &'static str {
        match self {
            StartingState::Healthy => "one Active in ACT_REP, every Standby in STB_REP",
            StartingState::ReplicationBroken => {
                "every initialized Standby's replica is damaged (BROKEN_ACT_STB)"
            }
            StartingState::StandbyStopped => "one Standby is stopped, the others replicate",
            StartingState::SplitBrain => {
                "two servers were Active; the product put every server in Standby"
            }
            StartingState::WizardInterrupted => {
                "the activation wizard stopped at one of its phases"
            }
            StartingState::AfterRestore => {
                "a backup was restored on the Active: every Standby is excluded"
            }
        }
    }
}

impl StartingState {
    /// Whether a live cluster, as a run reads it (`snapshot`, and the
    /// servers that were Active when the product last detected two Actives),
    /// may be in this state: judged on what every target shows (roles,
    /// replication states, exclusion, whether a server answers). An
    /// interrupted wizard cannot be told from other states (its phase is
    /// not published): it fits any cluster with at most one running Active.
    pub fn fits(self, snapshot: &Snapshot, split_brain: Option<&[String]>) -> bool {
        let actives = snapshot.actives().count();
        let standbys: Vec<&ServerSnapshot> = snapshot.standbys().collect();
        match self {
            StartingState::Healthy => snapshot.is_healthy(),
            StartingState::ReplicationBroken => {
                actives == 1
                    && snapshot
                        .servers
                        .iter()
                        .any(|server| server.replication == ReplicationState::BrokenActStb)
            }
            StartingState::StandbyStopped => {
                actives == 1
                    && standbys.iter().any(|standby| !standby.running)
                    && standbys
                        .iter()
                        .filter(|standby| standby.running)
                        .all(|standby| standby.replication == ReplicationState::StbRep)
            }
            StartingState::SplitBrain => {
                actives == 0 && split_brain.is_some_and(|servers| !servers.is_empty())
            }
            StartingState::WizardInterrupted => actives <= 1,
            StartingState::AfterRestore => {
                actives == 1
                    && !standbys.is_empty()
                    && standbys.iter().all(|standby| standby.excluded)
            }
        }
    }
}

impl std::fmt::Display for StartingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
