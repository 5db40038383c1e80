//! Nondeterminism made explicit: the points where faults can fire, the fault
//! events, which events each configured fault allows at a point, and how an
//! event changes the cluster. The simulator picks among them with its seed;
//! the verifier explores them all.

use serde::{Deserialize, Serialize};

use super::config::Fault;
use super::durations::OPERATOR_CHANGES;
use super::error::{FailureKind, SimError};
use super::model::{Cluster, Job, JobId, JobKind, JobOutcome, Progress, WIZARD_DEMOTES_AFTER};
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
    /// A standby initialization enters its synchronizing phase (the
    /// standby runs again after its first restart): a crash of the standby
    /// or of its Active may happen here.
    StandbySynchronizing {
        /// The initialization job.
        job: JobId,
        /// The standby being initialized.
        server: String,
    },
    /// Virtual time passed ([`CHANGE_INTERVAL`](super::durations::CHANGE_INTERVAL)
    /// for `changes-on-active`).
    Tick,
    /// The run is about to send an operation (`crash:SERVER`, and
    /// `unreachable:SERVER` when it did not fire before the run; both may
    /// also fire while an installer runs).
    BeforeOperation,
}

impl FaultPoint {
    /// Whether the point is in the course of the run: right before an
    /// operation, or during a long one (where a server may crash or stop
    /// answering), not before the run or a mere lapse of time.
    pub fn during_run(&self) -> bool {
        !matches!(self, FaultPoint::RunStart | FaultPoint::Tick)
    }
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
            // Later, between two operations or during a long operation on
            // another server (an installer, a standby initialization, a
            // wizard): the network to that server fails in the middle of
            // the run (the preparation page's notice). Not on a server a
            // background operation runs on: what the runner then sees of
            // that operation is not modelled. Nor on a server a fault made
            // Active: the run could neither see nor reach it.
            (Fault::Unreachable(server), point) if point.during_run() => {
                let busy = cluster.jobs().iter().any(|job| job.server() == server);
                match cluster.server(server) {
                    Some(found) if !found.unreachable && !found.activated_by_fault && !busy => {
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
            // A running server no installer runs on (the installer's own
            // server's failures are the installer's outcomes).
            // Also during a long operation: while an installer runs (on
            // another server), while a standby initialization synchronizes
            // (its standby, its Active: the initialization fails), at each
            // phase of an activation wizard (its target, or the Active it
            // demotes before that is done: the wizard stops). The simulator
            // fires a crash at its first occasion, which is always right
            // before an operation.
            (Fault::Crash(server), point) if point.during_run() => {
                let busy = cluster.jobs().iter().any(|job| {
                    job.server() == server && matches!(job.kind, JobKind::Upgrade { .. })
                });
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

impl Cluster {
    /// Ends the background operations that cannot go on once `server`
    /// stopped: the initialization of that standby (its partial copy is
    /// no database), a wizard activating it, and a wizard that has not yet
    /// demoted it as the previous Active. An initialization whose Active
    /// stopped fails when it completes (see `complete`); an installer's
    /// server does not crash (its failures are the installer's outcomes).
    fn end_jobs_needing(&mut self, server: &str) -> Vec<Progress> {
        let mut progress = Vec::new();
        let ended: Vec<(JobId, bool)> = self
            .jobs
            .iter()
            .filter_map(|job| match &job.kind {
                JobKind::InitStandby {
                    server: standby, ..
                } if standby == server => Some((job.id, true)),
                JobKind::Activate {
                    server: target,
                    previous_active,
                    ..
                } if target == server
                    || (previous_active == server && job.phase <= WIZARD_DEMOTES_AFTER) =>
                {
                    Some((job.id, false))
                }
                _ => None,
            })
            .collect();
        for (job, initialization) in ended {
            if !initialization {
                progress.extend(self.interrupt_activation(job, Some(server)));
                continue;
            }
            let Some(position) = self.jobs.iter().position(|candidate| candidate.id == job) else {
                continue;
            };
            let failed = self.jobs.remove(position);
            if let Ok(index) = self.index(server) {
                self.servers[index].database = None;
            }
            let message = format!(
                "The initialization of Management Server {server} failed: it stopped during the phase \"{}\"; it must be initialized again.",
                failed.phase_name()
            );
            progress.push(Progress::Finished {
                job: failed.id,
                operation: failed.operation,
                result: Err::<OperationOutput, _>(SimError::failed(FailureKind::Failed, message)),
            });
        }
        progress
    }

    /// Stops the activation wizard `job` where it is (`stopped`: the server
    /// whose crash stopped it).
    fn interrupt_activation(&mut self, job: JobId, stopped: Option<&str>) -> Vec<Progress> {
        let Some(position) = self.jobs.iter().position(|candidate| candidate.id == job) else {
            return Vec::new();
        };
        let interrupted = self.jobs.remove(position);
        if let JobKind::Activate { restarting, .. } = &interrupted.kind {
            // Standbys restarting when the wizard stopped still come back.
            for server in &mut self.servers {
                if restarting.contains(&server.name) && stopped != Some(server.name.as_str()) {
                    server.running = true;
                }
            }
        }
        let cause = match stopped {
            Some(server) => format!(": Management Server {server} stopped"),
            None => String::new(),
        };
        let message = format!(
            "The activation of Management Server {} was interrupted during the phase \"{}\"{cause}.",
            interrupted.server(),
            interrupted.phase_name()
        );
        vec![Progress::Finished {
            job: interrupted.id,
            operation: interrupted.operation,
            result: Err::<OperationOutput, _>(SimError::failed(FailureKind::Interrupted, message)),
        }]
    }
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
                progress.extend(self.end_jobs_needing(server));
            }
            FaultEvent::ActivationInterrupted { job } => {
                progress.extend(self.interrupt_activation(*job, None));
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
        server.activated_by_fault = true;
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
