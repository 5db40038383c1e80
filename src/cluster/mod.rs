//! The HA cluster model shared by the simulator and the verifier: pure and
//! deterministic, no I/O. Servers, operations with their preconditions and
//! effects, background operations, split-brain detection and the invariants.

mod types;

pub use types::{
    Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot, Snapshot, Version,
};
