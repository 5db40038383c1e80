//! The vocabulary of an HA Management setup, below every other module:
//! server modes, replication state codes, versions, durations, operations
//! and a point-in-time snapshot of the cluster. The syntax uses it (a version
//! literal, a state code) without depending on the cluster model; the
//! model, the simulator, the connectors, the interpreter and the verifier
//! share it.

pub mod duration;
mod operation;
mod snapshot;
mod starting;
mod state;
mod version;

pub use operation::{Operation, OperationKind, OperationOutput};
pub use snapshot::{ServerSnapshot, Snapshot};
pub use starting::StartingState;
pub use state::{Mode, ReplicationState};
pub use version::Version;
