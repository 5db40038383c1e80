//! The simulator: the pure [`Cluster`] driven by a virtual clock, with the
//! configured faults fired at their fault points (choices made by a seeded
//! generator, so a run is reproducible). Serializable, so `sim serve --state`
//! can persist it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::{Fault, SimConfig};
use super::durations::{CHANGE_INTERVAL, RUN_LIMIT};
use super::error::{FailureKind, SimError};
use super::faults::{possible_fault_events, FaultEvent, FaultPoint};
use super::invariants::{check_transition, InvariantViolation};
use super::model::{Cluster, JobId, Progress, Started};
use super::{Operation, OperationOutput, ReplicationState, Snapshot};

/// How many finished jobs keep their result for [`Simulator::job`].
pub const FINISHED_JOBS_KEPT: usize = 1024;

/// Where a background operation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum JobState {
    /// Still running.
    Running {
        /// The operation.
        operation: Operation,
        /// The current phase's name.
        phase: String,
        /// Virtual time until it finishes.
        remaining: Duration,
    },
    /// Ended, with its result.
    Finished(Result<OperationOutput, SimError>),
}

/// A fault that fired, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredFault {
    /// Virtual time since creation.
    pub at: Duration,
    /// The configured fault.
    pub fault: Fault,
    /// What happened.
    pub event: FaultEvent,
}

/// A simulated cluster on a virtual clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simulator {
    config: SimConfig,
    cluster: Cluster,
    now: Duration,
    rng: u64,
    initial_active: String,
    initial_revisions: Vec<(String, u64)>,
    next_change_at: Option<Duration>,
    fired: Vec<FiredFault>,
    finished: BTreeMap<JobId, Result<OperationOutput, SimError>>,
    violations: Vec<InvariantViolation>,
    /// The element key of the first Management Server (the others follow):
    /// what tells this simulated cluster from another one behind the same
    /// address, as element keys do on a real setup (10 on a fresh one).
    #[serde(default = "first_element_key")]
    element_base: usize,
    /// Operations started so far (what `crash:SERVER@N` counts).
    #[serde(default)]
    operations_started: usize,
}

fn first_element_key() -> usize {
    10
}

impl Simulator {
    /// A healthy cluster (`mgt-1` Active, the others Standby, all on the
    /// initial version, `ACT_REP` / `STB_REP`), then the faults that fire
    /// before the run (`replication-down`, `unreachable:SERVER`). Faults
    /// naming unknown servers are ignored: call [`SimConfig::validate`] first.
    pub fn new(config: SimConfig) -> Self {
        let names = config.server_names();
        let cluster = config
            .start
            .as_ref()
            .and_then(|start| {
                super::starting_clusters(&names, &config.initial_version, start.state)
                    .into_iter()
                    .nth(start.variant.saturating_sub(1))
            })
            .map_or_else(
                || Cluster::new(&names, &config.initial_version),
                |start| start.cluster,
            );
        let initial_active = cluster
            .running_actives()
            .first()
            .map(|server| server.name.clone())
            .or_else(|| names.first().cloned())
            .unwrap_or_default();
        let initial_revisions = cluster
            .servers()
            .iter()
            .map(|server| (server.name.clone(), server.config_revision))
            .collect();
        let next_change_at = config
            .faults
            .contains(&Fault::ChangesOnActive)
            .then_some(CHANGE_INTERVAL);
        let mut simulator = Simulator {
            rng: config.seed ^ 0x9E37_79B9_7F4A_7C15,
            config,
            cluster,
            now: Duration::ZERO,
            initial_active,
            initial_revisions,
            next_change_at,
            fired: Vec::new(),
            finished: BTreeMap::new(),
            violations: Vec::new(),
            element_base: first_element_key(),
            operations_started: 0,
        };
        simulator.reach(&FaultPoint::RunStart);
        simulator
    }

    /// The element key of `name`'s Management Server element: its position
    /// in the cluster after the first key.
    pub fn element_key(&self, name: &str) -> Option<usize> {
        self.cluster
            .servers()
            .iter()
            .position(|server| server.name == name)
            .map(|index| index + self.element_base)
    }

    /// Numbers this cluster's elements from `first` (a `sim serve` picks
    /// a key of its own, so two simulated clusters are told apart).
    pub fn number_elements_from(&mut self, first: usize) {
        self.element_base = first;
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The pure model state.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The true state of every server (unreachable servers included).
    pub fn snapshot(&self) -> Snapshot {
        self.cluster.snapshot()
    }

    /// The state as the operator can read it: unreachable servers show as
    /// not running, replication `UNKNOWN`.
    pub fn observed_snapshot(&self) -> Snapshot {
        let mut snapshot = self.cluster.snapshot();
        for server in &mut snapshot.servers {
            if !self.is_reachable(&server.name) {
                server.running = false;
                server.replication = ReplicationState::Unknown;
            }
        }
        snapshot
    }

    /// Virtual time since creation.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The Active at creation (the Initial Active of the procedures).
    pub fn initial_active(&self) -> &str {
        &self.initial_active
    }

    /// The faults that fired so far, in order.
    pub fn fired_faults(&self) -> &[FiredFault] {
        &self.fired
    }

    /// Invariant violations of the operations started so far (invariants 3,
    /// 4 and 5, judged before each operation the model accepted).
    pub fn violations(&self) -> &[InvariantViolation] {
        &self.violations
    }

    /// The monitoring view's alerts now (two Actives, split brain).
    pub fn monitoring_alerts(&self) -> Vec<String> {
        self.cluster.monitoring_alerts()
    }

    /// Whether the server answers the operator.
    pub fn is_reachable(&self, server: &str) -> bool {
        self.cluster
            .server(server)
            .is_some_and(|server| !server.unreachable)
    }

    /// Administrator changes on `server` since creation (its configuration
    /// revision now minus at creation).
    pub fn changes_since_start(&self, server: &str) -> u64 {
        let start = self
            .initial_revisions
            .iter()
            .find(|(name, _)| name == server)
            .map_or(0, |(_, revision)| *revision);
        self.cluster
            .server(server)
            .map_or(0, |server| server.config_revision.saturating_sub(start))
    }

    /// Lets `by` pass: background operations progress, time-driven faults fire.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        loop {
            let mut step = end.saturating_sub(self.now);
            if let Some(boundary) = self.cluster.time_to_next_boundary() {
                step = step.min(boundary);
            }
            if let Some(change_at) = self.next_change_at {
                step = step.min(change_at.saturating_sub(self.now));
            }
            let progress = self.cluster.elapse(step);
            self.now += step;
            self.record(progress);
            if let Some(change_at) = self.next_change_at {
                if change_at <= self.now {
                    self.next_change_at = Some(change_at + CHANGE_INTERVAL);
                    self.reach(&FaultPoint::Tick);
                }
            }
            if self.now >= end {
                break;
            }
        }
    }

    /// Starts an operation: immediate ones finish at once, long ones run in
    /// the background (poll [`job`](Self::job)). The invariants judged on the
    /// transition are recorded when the model accepts the operation.
    pub fn start(&mut self, operation: &Operation) -> Result<Started, SimError> {
        self.operations_started += 1;
        self.reach(&FaultPoint::BeforeOperation);
        let violations = check_transition(&self.cluster, operation);
        let started = self.cluster.apply(operation)?;
        self.violations.extend(violations);
        Ok(started)
    }

    /// Lets virtual time pass until `at` (nothing happens if `at` is past):
    /// what `sim serve` calls with its scaled wall clock.
    pub fn advance_to(&mut self, at: Duration) {
        if at > self.now {
            self.advance(at - self.now);
        }
    }

    /// Where a background operation stands.
    pub fn job(&self, id: JobId) -> Option<JobState> {
        if let Some(job) = self.cluster.job(id) {
            return Some(JobState::Running {
                operation: job.operation.clone(),
                phase: job.phase_name().to_string(),
                remaining: job.remaining_total(),
            });
        }
        self.finished
            .get(&id)
            .map(|result| JobState::Finished(result.clone()))
    }

    /// Starts an operation and lets virtual time pass until it has finished.
    pub fn run(&mut self, operation: &Operation) -> Result<OperationOutput, SimError> {
        let id = match self.start(operation)? {
            Started::Finished(output) => return Ok(output),
            Started::Background(id) => id,
        };
        let deadline = self.now + RUN_LIMIT;
        loop {
            match self.job(id) {
                Some(JobState::Finished(result)) => return result,
                Some(JobState::Running { .. }) if self.now < deadline => {
                    let step = self
                        .cluster
                        .time_to_next_boundary()
                        .unwrap_or(Duration::from_secs(1));
                    self.advance(step);
                }
                _ => {
                    return Err(SimError::failed(
                        FailureKind::Failed,
                        format!("{operation} did not finish"),
                    ))
                }
            }
        }
    }

    fn record(&mut self, progress: Vec<Progress>) {
        for item in progress {
            match item {
                Progress::Reached(point) => self.reach(&point),
                Progress::Finished { job, result, .. } => {
                    self.finished.insert(job, result);
                    // Bounded, so a long-lived `sim serve` does not grow forever.
                    while self.finished.len() > FINISHED_JOBS_KEPT {
                        self.finished.pop_first();
                    }
                }
            }
        }
    }

    /// Fires the configured faults that can fire at `point`: each at most
    /// once (but `changes-on-active`, which repeats), choosing among
    /// alternatives with the seeded generator.
    fn reach(&mut self, point: &FaultPoint) {
        let events = possible_fault_events(
            &self.cluster,
            &self.config.faults,
            point,
            &self.initial_active,
        );
        let mut faults: Vec<Fault> = Vec::new();
        for (fault, _) in &events {
            if !faults.contains(fault) {
                faults.push(fault.clone());
            }
        }
        for fault in faults {
            let repeats = fault == Fault::ChangesOnActive;
            if !repeats && self.fired.iter().any(|fired| fired.fault == fault) {
                continue;
            }
            // `crash:SERVER@N` waits for the N-th operation.
            if let Some(occasion) = self.config.occasions.get(&fault.to_string()) {
                if *occasion != self.operations_started {
                    continue;
                }
            }
            // Recomputed: an earlier fault at this point may have changed the candidates.
            let alternatives: Vec<FaultEvent> = possible_fault_events(
                &self.cluster,
                std::slice::from_ref(&fault),
                point,
                &self.initial_active,
            )
            .into_iter()
            .map(|(_, event)| event)
            .filter(|event| {
                // A pinned fault fires only on its server.
                self.config
                    .pinned_server(&fault)
                    .is_none_or(|server| event.server() == Some(server))
            })
            .collect();
            if alternatives.is_empty() {
                continue;
            }
            let choice = (self.next_random() % alternatives.len() as u64) as usize;
            let event = alternatives[choice].clone();
            let progress = self.cluster.inject(&event);
            if !repeats {
                self.fired.push(FiredFault {
                    at: self.now,
                    fault,
                    event,
                });
            }
            self.record(progress);
        }
    }

    /// splitmix64: tiny, serializable, and the same on every platform.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.rng;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }
}
