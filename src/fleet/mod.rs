//! Fleets: one runbook over many clusters. The fleet file (`FLEET.toml`)
//! names each cluster, its inventory, its answers and its parameters
//! ([`file`]); everything a fleet run could refuse is checked against the
//! runbook before anything acts ([`error`]); how each cluster ended is the
//! fleet's machine output ([`report`]). Running the clusters is the CLI's
//! (`cli::fleet`), which runs each one as `runbook run` does.

pub mod error;
pub mod file;
pub mod report;

pub use error::FleetError;
pub use file::{ClusterEntry, ClusterTarget, FleetFile};
pub use report::{ClusterResult, ClusterState, FleetReport};
