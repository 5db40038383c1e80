//! The invariants of `domain.md` a cluster state or one transition can be
//! judged on. Time windows ("as soon as possible") are the verifier's
//! business: [`check_invariants`] reports two Actives whenever they exist.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::model::Cluster;
use super::{Mode, Operation, ReplicationState, Snapshot, Version};

/// One invariant broken.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Error, Serialize, Deserialize)]
#[serde(tag = "violation", rename_all = "kebab-case")]
pub enum InvariantViolation {
    /// Invariant 2: several running servers declare themselves Active.
    #[error("several servers are active at once: {}", servers.join(", "))]
    TwoActives {
        /// The Active servers.
        servers: Vec<String>,
    },
    /// Invariant 1: no running Active at the end.
    #[error("no server is active")]
    NoActive,
    /// Invariant 6: a server is not on the target version.
    #[error("{server} runs {version}, not the target version {target}")]
    NotUpgraded {
        /// The server.
        server: String,
        /// Its version.
        version: Version,
        /// The target version.
        target: Version,
    },
    /// A healthy end: the servers run different versions.
    #[error("{server} runs {version}, the Active {active} runs {active_version}")]
    MixedVersions {
        /// The server.
        server: String,
        /// Its version.
        version: Version,
        /// The Active.
        active: String,
        /// The Active's version.
        active_version: Version,
    },
    /// Invariant 6: a server is stopped at the end.
    #[error("{server} is stopped")]
    Stopped {
        /// The server.
        server: String,
    },
    /// Invariant 6: a server is still excluded from replication at the end.
    #[error("{server} is still excluded from replication")]
    StillExcluded {
        /// The server.
        server: String,
    },
    /// Invariant 6: a server does not replicate (`ACT_REP` / `STB_REP` expected).
    #[error("{server} reports {state}, not {expected}")]
    NotReplicating {
        /// The server.
        server: String,
        /// What it reports.
        state: ReplicationState,
        /// What a healthy end state needs.
        expected: ReplicationState,
    },
    /// Invariant 3: the Active was upgraded while Standbys ran and were still declared.
    #[error("the Active {active} is upgraded while {} still run(s) declared in replication", standbys.join(", "))]
    ActiveUpgradedWithDeclaredStandby {
        /// The Active.
        active: String,
        /// The running, declared Standbys.
        standbys: Vec<String>,
    },
    /// Invariant 4: a standby is initialized although it holds a replica and was not excluded.
    #[error("{server} is initialized without having been excluded first")]
    StandbyInitializedWithoutExclusion {
        /// The standby.
        server: String,
    },
    /// Invariant 5: the operation discards administrator changes.
    #[error("{operation} discards {count} administrator change(s) made on {server}")]
    ChangesDiscarded {
        /// The operation.
        operation: String,
        /// The server whose changes are lost.
        server: String,
        /// How many.
        count: u64,
    },
}

/// Invariants judged on a state alone: several Actives at once.
pub fn check_invariants(cluster: &Cluster) -> Vec<InvariantViolation> {
    let actives: Vec<String> = cluster
        .running_actives()
        .iter()
        .map(|server| server.name.clone())
        .collect();
    if actives.len() > 1 {
        vec![InvariantViolation::TwoActives { servers: actives }]
    } else {
        Vec::new()
    }
}

/// Invariants 1 and 6 on an end state: exactly one Active in `ACT_REP`, every
/// server running on `target`, every Standby in `STB_REP`, none excluded.
/// Empty exactly when the state is the healthy upgraded cluster.
pub fn check_upgraded(snapshot: &Snapshot, target: &Version) -> Vec<InvariantViolation> {
    check_end(snapshot, Some(target))
}

/// The healthy setup of `domain.md` on an end state: exactly one Active in
/// `ACT_REP`, every Standby running, not excluded, in `STB_REP`, every
/// server on the Active's version. Empty exactly when the state is healthy.
pub fn check_healthy(snapshot: &Snapshot) -> Vec<InvariantViolation> {
    check_end(snapshot, None)
}

/// [`check_upgraded`] on `Some(target)`, [`check_healthy`] on `None`.
fn check_end(snapshot: &Snapshot, target: Option<&Version>) -> Vec<InvariantViolation> {
    let mut violations = Vec::new();
    let actives: Vec<&super::ServerSnapshot> = snapshot.actives().collect();
    match actives.as_slice() {
        [] => violations.push(InvariantViolation::NoActive),
        [_] => {}
        several => violations.push(InvariantViolation::TwoActives {
            servers: several.iter().map(|server| server.name.clone()).collect(),
        }),
    }
    let only_active = match actives.as_slice() {
        [active] => Some(*active),
        _ => None,
    };
    for server in &snapshot.servers {
        if !server.running {
            violations.push(InvariantViolation::Stopped {
                server: server.name.clone(),
            });
            continue;
        }
        match (target, only_active) {
            (Some(target), _) if server.version != *target => {
                violations.push(InvariantViolation::NotUpgraded {
                    server: server.name.clone(),
                    version: server.version.clone(),
                    target: target.clone(),
                });
            }
            (None, Some(active)) if server.version != active.version => {
                violations.push(InvariantViolation::MixedVersions {
                    server: server.name.clone(),
                    version: server.version.clone(),
                    active: active.name.clone(),
                    active_version: active.version.clone(),
                });
            }
            _ => {}
        }
        if server.excluded {
            violations.push(InvariantViolation::StillExcluded {
                server: server.name.clone(),
            });
        }
        let expected = match server.mode {
            Mode::Active => ReplicationState::ActRep,
            Mode::Standby => ReplicationState::StbRep,
        };
        if server.replication != expected {
            violations.push(InvariantViolation::NotReplicating {
                server: server.name.clone(),
                state: server.replication,
                expected,
            });
        }
    }
    violations
}

/// Invariants 3, 4 and 5, judged on an operation about to be applied to
/// `before` (whether or not the model then accepts it).
pub fn check_transition(before: &Cluster, operation: &Operation) -> Vec<InvariantViolation> {
    let mut violations = Vec::new();
    let Some(server) = before.server(operation.server()) else {
        return violations;
    };
    match operation {
        Operation::Upgrade { .. } if server.mode == Mode::Active => {
            let standbys: Vec<String> = before
                .servers()
                .iter()
                .filter(|other| {
                    other.name != server.name
                        && other.mode == Mode::Standby
                        && other.running
                        && !other.excluded
                })
                .map(|other| other.name.clone())
                .collect();
            if !standbys.is_empty() {
                violations.push(InvariantViolation::ActiveUpgradedWithDeclaredStandby {
                    active: server.name.clone(),
                    standbys,
                });
            }
        }
        Operation::InitStandby { .. } if server.is_initialized() && !server.excluded => {
            violations.push(InvariantViolation::StandbyInitializedWithoutExclusion {
                server: server.name.clone(),
            });
        }
        _ => {}
    }
    let count = before.changes_discarded_by(operation);
    if count > 0 {
        violations.push(InvariantViolation::ChangesDiscarded {
            operation: operation.to_string(),
            server: server.name.clone(),
            count,
        });
    }
    violations
}
