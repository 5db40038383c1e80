//! The starting states of [`StartingState`] built on the model: each one is
//! reached from a healthy cluster by the operations and fault events that
//! make it on a real setup, so every invariant the model keeps holds of it.
//! A state with variants (which servers were Active before a split brain,
//! the phase an activation wizard stopped at) gives one cluster per variant.

use super::faults::FaultEvent;
use super::model::{Cluster, WIZARD_PHASES};
use super::{Operation, Version};
use crate::domain::StartingState;

/// One starting cluster of a [`StartingState`].
#[derive(Debug, Clone)]
pub struct StartingCluster {
    /// The state it is one variant of.
    pub state: StartingState,
    /// The variant in words, e.g. `split-brain (mgt-1 and mgt-2 were
    /// Active)`.
    pub label: String,
    /// The cluster.
    pub cluster: Cluster,
}

/// Administrator changes made on each Active of a split brain before the
/// product detected it: a recovery that keeps one side discards the other's.
pub const SPLIT_BRAIN_CHANGES: u64 = 2;

/// Every variant of `state` on a cluster of `names` (the first one the
/// Active of the healthy setup) on `version`. Empty when the cluster is too
/// small for the state (a split brain or a wizard needs two servers).
pub fn starting_clusters(
    names: &[String],
    version: &Version,
    state: StartingState,
) -> Vec<StartingCluster> {
    let healthy = Cluster::new(names, version);
    let one = |label: String, cluster: Cluster| {
        vec![StartingCluster {
            state,
            label,
            cluster,
        }]
    };
    match state {
        StartingState::Healthy => one(state.name().to_string(), healthy),
        StartingState::ReplicationBroken => {
            let mut cluster = healthy;
            cluster.inject(&FaultEvent::ReplicationBroken);
            one(state.name().to_string(), cluster)
        }
        StartingState::StandbyStopped => {
            let Some(standby) = names.last().filter(|_| names.len() > 1) else {
                return Vec::new();
            };
            let mut cluster = healthy;
            if !apply(
                &mut cluster,
                &Operation::StopServer {
                    server: standby.clone(),
                },
            ) {
                return Vec::new();
            }
            one(format!("{} ({standby} stopped)", state.name()), cluster)
        }
        StartingState::SplitBrain => {
            let mut pairs = Vec::new();
            if names.len() >= 2 {
                pairs.push((0, 1));
            }
            if names.len() >= 3 {
                pairs.push((1, 2));
            }
            pairs
                .into_iter()
                .filter_map(|(first, second)| {
                    let cluster = split_brain(&healthy, &names[first], &names[second])?;
                    Some(StartingCluster {
                        state,
                        label: format!(
                            "{} ({} and {} were Active)",
                            state.name(),
                            names[first],
                            names[second]
                        ),
                        cluster,
                    })
                })
                .collect()
        }
        StartingState::WizardInterrupted => {
            let Some(target) = names.get(1) else {
                return Vec::new();
            };
            (0..WIZARD_PHASES.len())
                .filter_map(|phase| {
                    let cluster = wizard_interrupted(&healthy, target, phase)?;
                    Some(StartingCluster {
                        state,
                        label: format!(
                            "{} (activating {target}, stopped at \"{}\")",
                            state.name(),
                            WIZARD_PHASES[phase].name
                        ),
                        cluster,
                    })
                })
                .collect()
        }
        StartingState::AfterRestore => {
            let Some(active) = names.first() else {
                return Vec::new();
            };
            let mut cluster = healthy;
            let restored = apply(
                &mut cluster,
                &Operation::Backup {
                    server: active.clone(),
                },
            ) && apply(
                &mut cluster,
                &Operation::RestoreBackup {
                    server: active.clone(),
                },
            );
            if !restored {
                return Vec::new();
            }
            one(format!("{} (restored on {active})", state.name()), cluster)
        }
    }
}

/// Applies `operation` and lets every background operation finish; whether
/// the model accepted it.
fn apply(cluster: &mut Cluster, operation: &Operation) -> bool {
    if cluster.apply(operation).is_err() {
        return false;
    }
    while cluster.step().is_some() {}
    true
}

/// `first` and `second` both Active, each with administrator changes of its
/// own, then the product's reaction: every server Standby.
fn split_brain(healthy: &Cluster, first: &str, second: &str) -> Option<Cluster> {
    let mut cluster = healthy.clone();
    let active = cluster.running_actives().first()?.name.clone();
    if active != first {
        // `first` becomes the Active the way an operator makes one: the old
        // Active set Standby, `first` forced.
        let demoted = apply(
            &mut cluster,
            &Operation::SetStandby {
                server: active,
                force: true,
            },
        ) && apply(
            &mut cluster,
            &Operation::ForceActivate {
                server: first.to_string(),
            },
        );
        if !demoted {
            return None;
        }
    }
    cluster.inject(&FaultEvent::AdministratorChange {
        server: first.to_string(),
    });
    cluster.inject(&FaultEvent::StandbyActivatedByOperator {
        server: second.to_string(),
        changes: SPLIT_BRAIN_CHANGES,
    });
    cluster.split_brain.is_some().then_some(cluster)
}

/// An activation of `target` that stopped when it entered `phase`.
fn wizard_interrupted(healthy: &Cluster, target: &str, phase: usize) -> Option<Cluster> {
    let mut cluster = healthy.clone();
    cluster
        .apply(&Operation::Activate {
            server: target.to_string(),
        })
        .ok()?;
    let job = cluster.jobs().first()?.id;
    while cluster.job(job)?.phase < phase {
        cluster.step()?;
    }
    cluster.inject(&FaultEvent::ActivationInterrupted { job });
    Some(cluster)
}
