//! The in-process simulator as a connector: virtual time, so `sleep` and the
//! wait for a background operation advance the simulator's clock instead of
//! the wall clock, and a whole upgrade simulates in milliseconds.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::{ClockKind, Connector, ConnectorError};
use crate::cluster::{
    FailureKind, Operation, OperationOutput, SimConfig, SimError, Simulator, Snapshot,
};

/// One thing an in-process simulated cluster went through, as a journal
/// holds it (see [`SimConnector::rebuilt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lived<'a> {
    /// Its clock read this.
    Clock(Duration),
    /// This operation was performed and its result seen (success or
    /// failure: replaying a failure fires its fault again, so the rebuilt
    /// cluster has it fired, and a resume does not meet it a second time).
    Finished(&'a Operation),
}

/// The time limit a timeout of an unreachable simulated server reports.
pub const SIM_TIMEOUT_SECONDS: u64 = 30;

/// A [`Connector`] over an in-process [`Simulator`].
#[derive(Debug)]
pub struct SimConnector {
    simulator: Mutex<Simulator>,
}

impl SimConnector {
    /// A connector over a new simulator built from `config`.
    pub fn new(config: SimConfig) -> Self {
        Self::from_simulator(Simulator::new(config))
    }

    /// A connector over an existing simulator.
    pub fn from_simulator(simulator: Simulator) -> Self {
        SimConnector {
            simulator: Mutex::new(simulator),
        }
    }

    /// The in-process cluster of an interrupted run, rebuilt from what it
    /// went through: built from `config`, it replays every operation whose
    /// result was seen (the simulator is deterministic: a failure fails
    /// again, firing its fault once, as it did), in order, each no earlier on the simulator's clock than
    /// the reading before it, and ends with its clock at the last reading —
    /// no simulated time passes while no process runs the cluster, so a time
    /// window measured across the resume counts exactly the simulated time
    /// the run spent.
    pub fn rebuilt<'a>(config: SimConfig, history: impl IntoIterator<Item = Lived<'a>>) -> Self {
        let mut simulator = Simulator::new(config);
        for lived in history {
            match lived {
                Lived::Clock(at) => simulator.advance_to(at),
                Lived::Finished(operation) => {
                    let _ = simulator.run(operation);
                }
            }
        }
        Self::from_simulator(simulator)
    }

    /// The simulator, locked (for tests and for reading the true state).
    pub fn simulator(&self) -> MutexGuard<'_, Simulator> {
        // A panic while holding the lock cannot leave the simulator half-updated
        // in a way later readers care about, so poisoning is ignored.
        self.simulator
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The simulator back, ending the connector.
    pub fn into_simulator(self) -> Simulator {
        self.simulator
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Maps a model error to the connector's error for `operation`.
pub fn connector_error(operation: &Operation, error: SimError) -> ConnectorError {
    let described = operation.to_string();
    match error {
        SimError::Refused { message, details } => ConnectorError::ActionRefused {
            operation: described,
            message,
            details,
        },
        SimError::Failed {
            kind: FailureKind::UpgradeCancelled,
            message,
        } => ConnectorError::UpgradeCancelled {
            operation: described,
            server: operation.server().to_string(),
            message,
        },
        SimError::Failed { message, .. } => ConnectorError::OperationFailed {
            operation: described,
            message,
        },
        SimError::Unreachable { server } => ConnectorError::Timeout {
            server,
            what: described,
            limit: std::time::Duration::from_secs(SIM_TIMEOUT_SECONDS),
        },
        SimError::Stopped { server } => ConnectorError::Refused {
            url: format!("sim://{server}"),
            reason: format!("{server} is stopped"),
        },
        SimError::UnknownServer { server } => ConnectorError::UnknownServer { server },
    }
}

#[async_trait]
impl Connector for SimConnector {
    fn describe(&self) -> String {
        let simulator = self.simulator();
        let config = simulator.config();
        let mut text = format!("simulated cluster ({} servers, in-process", config.servers);
        if !config.faults.is_empty() {
            let faults: Vec<String> = config.faults.iter().map(ToString::to_string).collect();
            text.push_str(&format!(", faults: {}", faults.join(", ")));
        }
        text.push(')');
        text
    }

    async fn snapshot(&self) -> Result<Snapshot, ConnectorError> {
        Ok(self.simulator().observed_snapshot())
    }

    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        self.simulator()
            .run(operation)
            .map_err(|error| connector_error(operation, error))
    }

    async fn sleep(&self, duration: Duration) {
        self.simulator().advance(duration);
    }

    fn clock(&self) -> Duration {
        self.simulator().now()
    }

    fn clock_kind(&self) -> ClockKind {
        ClockKind::Simulated
    }

    fn outcome_always_seen(&self) -> bool {
        true
    }

    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        Ok(self
            .simulator()
            .cluster()
            .split_brain()
            .map(<[String]>::to_vec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Fault, Version};

    /// A fault that fired before the interruption does not fire again on
    /// the rebuilt cluster: the failed operation is replayed, and fails, once.
    #[test]
    fn a_rebuilt_cluster_has_its_faults_fired_once() {
        let config = SimConfig {
            faults: vec![Fault::UpgradeFails(String::from("mgt-2"))],
            ..SimConfig::default()
        };
        let version: Version = "7.4.0".parse().expect("a version");
        let exclude = Operation::Exclude {
            server: String::from("mgt-2"),
        };
        let stop = Operation::StopServer {
            server: String::from("mgt-2"),
        };
        let upgrade = Operation::Upgrade {
            server: String::from("mgt-2"),
            version,
        };
        let mut original = Simulator::new(config.clone());
        for operation in [&exclude, &stop] {
            original.run(operation).expect("accepted");
        }
        assert!(original.run(&upgrade).is_err(), "the fault fires");
        let history = [
            Lived::Finished(&exclude),
            Lived::Finished(&stop),
            Lived::Finished(&upgrade),
        ];
        let rebuilt = SimConnector::rebuilt(config, history);
        let mut simulator = rebuilt.simulator();
        assert_eq!(simulator.snapshot(), original.snapshot());
        assert!(
            simulator.run(&upgrade).is_ok(),
            "the fault already fired: the resumed upgrade succeeds"
        );
    }
}
