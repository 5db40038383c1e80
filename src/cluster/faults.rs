//! Nondeterminism made explicit: the points where faults can fire, the fault
//! events, which events each configured fault allows at a point, and how an
//! event changes the cluster. The simulator picks among them with its seed;
//! the verifier explores them all.

use serde::{Deserialize, Serialize};

use super::config::Fault;
use super::durations::OPERATOR_CHANGES;
use super::error::{FailureKind, SimError};
use super::model::{Cluster, Job, JobId, JobKind, JobOutcome, Progress};
use super::{Mode, OperationOutput};

/// A point in a run where faults may fire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "point", rename_all = "kebab-case")]
pub enum FaultPoint {
    /// Before the run (`replication-down`, `unreachable:SERVER`).
    RunStart,
    /// The installer has stopped the server and starts installing
    /// (`standby-auto-activates`, `standby-activated-by-operator` when the
    /// server was the Active).
    UpgradeInstalling {
        /// The upgrade job.
        job: JobId,
        /// The server being upgraded.
        server: String,
        /// Whether it was the Active when its upgrade started.
        was_active: bool,
    },
    /// The installer is about to finish (`upgrade-fails:SERVER`;
    /// `active-upgrade-cancelled` when the server was the Active or is the
    /// Initial Active).
    UpgradeCompleting {
        /// The upgrade job.
        job: JobId,
        /// The server being upgraded.
        server: String,
        /// Whether it was the Active when its upgrade started.
        was_active: bool,
    },
    /// The activation wizard enters a phase (an interruption may happen here).
    ActivationPhase {
        /// The wizard job.
        job: JobId,
        /// Index in [`WIZARD_PHASES`](super::model::WIZARD_PHASES).
        phase: usize,
    },
    /// Virtual time passed ([`CHANGE_INTERVAL`](super::durations::CHANGE_INTERVAL)
    /// for `changes-on-active`).
    Tick,
    /// The run is about to send an operation (`crash:SERVER`, and
    /// `unreachable:SERVER` when it did not fire before the run; both may
    /// also fire while an installer runs).
    BeforeOperation,
}

/// One fault happening.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum FaultEvent {
    /// Every initialized Standby's replica is damaged.
    ReplicationBroken,
    /// `server` stops answering the operator.
    ServerUnreachable {
        /// The server.
        server: String,
    },
    /// `server` (a not-yet-upgraded Standby) becomes Active by itself,
    /// starting first if it was stopped.
    StandbyAutoActivates {
        /// The server.
        server: String,
    },
    /// An operator starts `server` if needed, forces its activation and makes
    /// `changes` configuration changes on it.
    StandbyActivatedByOperator {
        /// The server.
        server: String,
        /// How many changes.
        changes: u64,
    },
    /// The upgrade `job` will be cancelled and reverted.
    UpgradeCancelled {
        /// The upgrade job.
        job: JobId,
    },
    /// The installer of `job` will fail.
    UpgradeFails {
        /// The upgrade job.
        job: JobId,
    },
    /// An administrator changes the configuration on `server` (if it is a running Active).
    AdministratorChange {
        /// The server.
        server: String,
    },
    /// `server` stops: its host or its service went down.
    ServerCrashed {
        /// The server.
        server: String,
    },
    /// The activation wizard `job` stops where it is (not a contract fault:
    /// offered by [`possible_job_outcomes`] for the verifier).
    ActivationInterrupted {
        /// The wizard job.
        job: JobId,
    },
}

impl FaultEvent {
    /// The server the event picks, for the faults that pick one.
    pub fn server(&self) -> Option<&str> {
        match self {
            FaultEvent::ServerUnreachable { server }
            | FaultEvent::StandbyAutoActivates { server }
            | FaultEvent::StandbyActivatedByOperator { server, .. }
            | FaultEvent::AdministratorChange { server }
            | FaultEvent::ServerCrashed { server } => Some(server),
            _ => None,
        }
    }
}

/// The events `faults` allow at `point`, each with the fault it comes from.
/// Several events of one fault are alternatives (e.g. which Standby
/// auto-activates); the caller picks at most one per fault and decides
/// whether a fault fires only once (all but `changes-on-active` do).
pub fn possible_fault_events(
    cluster: &Cluster,
    faults: &[Fault],
    point: &FaultPoint,
    initial_active: &str,
) -> Vec<(Fault, FaultEvent)> {
    let mut events = Vec::new();
    for fault in faults {
        let alternatives: Vec<FaultEvent> = match (fault, point) {
            (Fault::ReplicationDown, FaultPoint::RunStart) => vec![FaultEvent::ReplicationBroken],
            (Fault::Unreachable(server), FaultPoint::RunStart) => {
                vec![FaultEvent::ServerUnreachable {
                    server: server.clone(),
                }]
            }
            // Later, between two operations or while an installer runs on
            // another server: the network to that server fails in the
            // middle of the run (the preparation page's notice). Not on a
            // server a background operation runs on: what the runner then
            // sees of that operation is not modelled.
            (
                Fault::Unreachable(server),
                FaultPoint::BeforeOperation
                | FaultPoint::UpgradeInstalling { .. }
                | FaultPoint::UpgradeCompleting { .. },
            ) => {
                let busy = cluster.jobs().iter().any(|job| job.server() == server);
                match cluster.server(server) {
                    Some(found) if !found.unreachable && !busy => {
                        vec![FaultEvent::ServerUnreachable {
                            server: server.clone(),
                        }]
                    }
                    _ => Vec::new(),
                }
            }
            (
                Fault::StandbyAutoActivates,
                FaultPoint::UpgradeInstalling {
                    job,
                    was_active: true,
                    ..
                },
            ) => not_yet_upgraded_standbys(cluster, *job)
                .into_iter()
                .map(|server| FaultEvent::StandbyAutoActivates { server })
                .collect(),
            (
                Fault::StandbyActivatedByOperator,
                FaultPoint::UpgradeInstalling {
                    job,
                    was_active: true,
                    ..
                },
            ) => not_yet_upgraded_standbys(cluster, *job)
                .into_iter()
                .map(|server| FaultEvent::StandbyActivatedByOperator {
                    server,
                    changes: OPERATOR_CHANGES,
                })
                .collect(),
            (
                Fault::ActiveUpgradeCancelled,
                FaultPoint::UpgradeCompleting {
                    job,
                    server,
                    was_active,
                },
            ) if *was_active || server == initial_active => {
                vec![FaultEvent::UpgradeCancelled { job: *job }]
            }
            (Fault::UpgradeFails(target), FaultPoint::UpgradeCompleting { job, server, .. })
                if target == server =>
            {
                vec![FaultEvent::UpgradeFails { job: *job }]
            }
            // A running server no background operation runs on (the
            // installer's own server, an initialization's standby, a
            // wizard's target are the operation's: their failures are the
            // operation's outcomes).
            // Also while an installer runs (on another server): a crash
            // during a long operation. The simulator fires a crash at its
            // first occasion, which is always right before an operation.
            (
                Fault::Crash(server),
                FaultPoint::BeforeOperation
                | FaultPoint::UpgradeInstalling { .. }
                | FaultPoint::UpgradeCompleting { .. },
            ) => {
                let busy = cluster.jobs().iter().any(|job| job.server() == server);
                match cluster.server(server) {
                    Some(found) if found.running && !busy => {
                        vec![FaultEvent::ServerCrashed {
                            server: server.clone(),
                        }]
                    }
                    _ => Vec::new(),
                }
            }
            (Fault::ChangesOnActive, FaultPoint::Tick) => match cluster.server(initial_active) {
                Some(server) if server.running && server.mode == Mode::Active => {
                    vec![FaultEvent::AdministratorChange {
                        server: initial_active.to_string(),
                    }]
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        events.extend(alternatives.into_iter().map(|event| (fault.clone(), event)));
    }
    events
}

/// Standbys on an older version than the one `job` installs, in name
/// order, that answer the runner: one that does not (`unreachable:S`) and
/// activates itself is a server no run can see or reach, so nothing a
/// runbook does can handle it (not modelled).
fn not_yet_upgraded_standbys(cluster: &Cluster, job: JobId) -> Vec<String> {
    let Some(Job {
        kind:
            JobKind::Upgrade {
                server: upgraded,
                to,
                ..
            },
        ..
    }) = cluster.job(job)
    else {
        return Vec::new();
    };
    cluster
        .servers()
        .iter()
        .filter(|server| {
            server.name != *upgraded
                && !server.unreachable
                && server.mode == Mode::Standby
                && server.version < *to
                && !cluster
                    .jobs()
                    .iter()
                    .any(|other| other.server() == server.name)
        })
        .map(|server| server.name.clone())
        .collect()
}

/// Every way a background job may end (for the verifier): upgrades may
/// succeed, fail or be cancelled; the wizard may be interrupted at any phase
/// (inject [`FaultEvent::ActivationInterrupted`] at a
/// [`FaultPoint::ActivationPhase`]); standby initialization succeeds unless
/// its Active is lost.
pub fn possible_job_outcomes(job: &Job) -> Vec<JobOutcome> {
    match job.kind {
        JobKind::Upgrade { .. } => vec![
            JobOutcome::Succeeds,
            JobOutcome::Fails,
            JobOutcome::CancelledAndReverted,
        ],
        JobKind::InitStandby { .. } | JobKind::Activate { .. } => vec![JobOutcome::Succeeds],
    }
}

impl Cluster {
    /// Applies a fault event. Returns the jobs it ended (an interrupted
    /// wizard). Events that no longer apply (the server became Active
    /// meanwhile, the job is gone) change nothing.
    pub fn inject(&mut self, event: &FaultEvent) -> Vec<Progress> {
        let mut progress = Vec::new();
        match event {
            FaultEvent::ReplicationBroken => {
                for server in &mut self.servers {
                    if server.mode == Mode::Standby && server.database.is_some() {
                        server.broken = true;
                    }
                }
            }
            FaultEvent::ServerUnreachable { server } => {
                if let Ok(index) = self.index(server) {
                    self.servers[index].unreachable = true;
                }
            }
            FaultEvent::StandbyAutoActivates { server } => {
                self.promote(server, 0);
            }
            FaultEvent::StandbyActivatedByOperator { server, changes } => {
                self.promote(server, *changes);
            }
            FaultEvent::UpgradeCancelled { job } => {
                self.set_outcome(*job, JobOutcome::CancelledAndReverted)
            }
            FaultEvent::UpgradeFails { job } => self.set_outcome(*job, JobOutcome::Fails),
            FaultEvent::AdministratorChange { server } => self.administrator_change(server),
            FaultEvent::ServerCrashed { server } => {
                if let Ok(index) = self.index(server) {
                    self.servers[index].running = false;
                }
            }
            FaultEvent::ActivationInterrupted { job } => {
                if let Some(position) = self.jobs.iter().position(|candidate| candidate.id == *job)
                {
                    let interrupted = self.jobs.remove(position);
                    if let JobKind::Activate { restarting, .. } = &interrupted.kind {
                        // Standbys restarting when the wizard stopped still come back.
                        for server in &mut self.servers {
                            if restarting.contains(&server.name) {
                                server.running = true;
                            }
                        }
                    }
                    let message = format!(
                        "The activation of Management Server {} was interrupted during the phase \"{}\".",
                        interrupted.server(),
                        interrupted.phase_name()
                    );
                    progress.push(Progress::Finished {
                        job: interrupted.id,
                        operation: interrupted.operation,
                        result: Err::<OperationOutput, _>(SimError::failed(
                            FailureKind::Interrupted,
                            message,
                        )),
                    });
                }
            }
        }
        self.detect_split_brain();
        progress
    }

    fn promote(&mut self, name: &str, changes: u64) {
        let Ok(index) = self.index(name) else {
            return;
        };
        if self.servers[index].mode == Mode::Active {
            return;
        }
        let lineage = self.new_lineage();
        let server = &mut self.servers[index];
        server.running = true;
        server.mode = Mode::Active;
        server.database = Some(lineage);
        server.broken = false;
        server.config_revision += changes;
    }

    fn set_outcome(&mut self, job: JobId, outcome: JobOutcome) {
        if let Some(job) = self.jobs.iter_mut().find(|candidate| candidate.id == job) {
            job.outcome = outcome;
        }
    }

    fn administrator_change(&mut self, name: &str) {
        let Ok(index) = self.index(name) else {
            return;
        };
        if !(self.servers[index].running && self.servers[index].mode == Mode::Active) {
            return;
        }
        self.servers[index].config_revision += 1;
        let active = self.servers[index].clone();
        let connected: Vec<usize> = (0..self.servers.len())
            .filter(|&other| other != index && self.is_connected(&active, &self.servers[other]))
            .collect();
        for other in connected {
            self.servers[other].config_revision = active.config_revision;
        }
    }
}
