//! Server connectors: the one trait the interpreter drives, and its
//! implementations — the in-process simulator (`sim`), the SMC-shaped HTTP
//! API (`smc`), console commands (`console`) and a human operator (`manual`).

use std::time::Duration;

use async_trait::async_trait;

use crate::cluster::{Operation, OperationOutput, Snapshot};

mod error;
pub mod sim;

pub use error::ConnectorError;

/// How the interpreter reaches a cluster.
///
/// Every method is async; `perform` returns only when the operation is
/// finished (background operations are polled by the connector).
#[async_trait]
pub trait Connector: Send + Sync {
    /// A one-line description of the target, shown first in human output
    /// (e.g. `simulated cluster (3 servers, in-process)`).
    fn describe(&self) -> String;

    /// Reads the state of every server.
    async fn snapshot(&self) -> Result<Snapshot, ConnectorError>;

    /// Performs one operation and waits until it has finished.
    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError>;

    /// Lets `duration` pass: real time for real targets, virtual time for the
    /// in-process simulator (so a whole upgrade simulates in milliseconds).
    async fn sleep(&self, duration: Duration);

    /// Time elapsed on the target's clock since the connector was created.
    fn elapsed(&self) -> Duration;
}
