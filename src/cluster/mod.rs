//! The HA cluster model shared by the simulator and the verifier: pure and
//! deterministic, no I/O. Servers, operations with their preconditions and
//! effects, background operations, split-brain detection and the invariants;
//! [`Simulator`] drives it on a virtual clock with the configured faults.

mod config;
pub mod durations;
mod error;
mod faults;
mod invariants;
mod model;
mod simulator;
mod starting;

pub use crate::domain::{
    Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot, Snapshot, Version,
};
pub use config::{parse_fault_spec, server_name, Fault, SimConfig, SimConfigError, StartSpec};
pub use error::{FailureKind, SimError};
pub use faults::{possible_fault_events, possible_job_outcomes, FaultEvent, FaultPoint};
pub use invariants::{
    check_healthy, check_invariants, check_transition, check_upgraded, InvariantViolation,
};
pub use model::{
    parse_split_brain_message, split_brain_message, two_actives_message, Backup, Cluster, Job,
    JobId, JobKind, JobOutcome, Lineage, Phase, Progress, Server, Started, INIT_PHASES,
    MUST_USE_ACTIVE, UPGRADE_PHASES, WIZARD_DEMOTES_AFTER, WIZARD_PHASES, WIZARD_PROMOTES_AFTER,
    WIZARD_RESTARTS_STANDBYS,
};
pub use simulator::{FiredFault, JobState, Simulator, FINISHED_JOBS_KEPT};
pub use starting::{starting_clusters, StartingCluster, SPLIT_BRAIN_CHANGES};
