//! The `sim` connector: virtual time, background operations performed to the
//! end, and the mapping of model errors to connector errors.

use std::time::Duration;

use runbook::cluster::{
    durations, Fault, Mode, Operation, OperationOutput, ReplicationState, SimConfig,
};
use runbook::connect::sim::{SimConnector, SIM_TIMEOUT_SECONDS};
use runbook::connect::{Connector, ConnectorError};

use crate::support::upgrade;

fn connector(faults: Vec<Fault>) -> SimConnector {
    SimConnector::new(SimConfig {
        faults,
        ..SimConfig::default()
    })
}

#[tokio::test]
async fn describes_the_target() {
    assert_eq!(
        connector(Vec::new()).describe(),
        "simulated cluster (3 servers, in-process)"
    );
    assert_eq!(
        connector(vec![Fault::ReplicationDown]).describe(),
        "simulated cluster (3 servers, in-process, faults: replication-down)"
    );
}

#[tokio::test]
async fn sleep_advances_virtual_time_only() {
    let sim = connector(vec![Fault::ChangesOnActive]);
    sim.sleep(Duration::from_secs(3600)).await;
    assert_eq!(sim.clock(), Duration::from_secs(3600));
    assert_eq!(sim.simulator().changes_since_start("mgt-1"), 12);
}

#[tokio::test]
async fn perform_waits_for_background_operations() {
    let sim = connector(Vec::new());
    sim.perform(&Operation::StopServer {
        server: "mgt-2".into(),
    })
    .await
    .expect("stop");
    let output = sim.perform(&upgrade("mgt-2")).await.expect("upgrade");
    assert_eq!(output, OperationOutput::Done);
    assert_eq!(
        sim.clock(),
        durations::UPGRADE_STOPPING + durations::UPGRADE_INSTALLING + durations::UPGRADE_STARTING
    );
    let snapshot = sim.snapshot().await.expect("snapshot");
    let upgraded = snapshot.server("mgt-2").expect("listed");
    assert!(upgraded.running);
    assert_eq!(upgraded.version.to_string(), "7.4.0");
}

#[tokio::test]
async fn refusals_become_action_refused_with_the_product_message() {
    let sim = connector(Vec::new());
    let error = sim
        .perform(&Operation::Exclude {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("refused");
    let ConnectorError::ActionRefused {
        operation, message, ..
    } = error
    else {
        panic!("wrong error {error:?}");
    };
    assert_eq!(operation, "exclude mgt-1");
    assert_eq!(
        message,
        "The active Management Server mgt-1 cannot be excluded from replication."
    );
}

#[tokio::test]
async fn unreachable_servers_time_out_and_hide_in_the_snapshot() {
    let sim = connector(vec![Fault::Unreachable("mgt-3".into())]);
    let error = sim
        .perform(&Operation::Diagnostic {
            server: "mgt-3".into(),
        })
        .await
        .expect_err("times out");
    let ConnectorError::Timeout {
        server,
        what,
        limit,
    } = error
    else {
        panic!("wrong error {error:?}");
    };
    assert_eq!(
        (server.as_str(), what.as_str(), limit.as_secs()),
        ("mgt-3", "diagnostic mgt-3", SIM_TIMEOUT_SECONDS)
    );
    let snapshot = sim.snapshot().await.expect("snapshot");
    let hidden = snapshot.server("mgt-3").expect("listed");
    assert!(!hidden.running);
    assert_eq!(hidden.replication, ReplicationState::Unknown);
}

#[tokio::test]
async fn installer_failures_and_cancellations_are_distinct_errors() {
    let sim = connector(vec![
        Fault::UpgradeFails("mgt-2".into()),
        Fault::ActiveUpgradeCancelled,
    ]);
    for server in ["mgt-2", "mgt-3", "mgt-1"] {
        sim.perform(&Operation::StopServer {
            server: server.into(),
        })
        .await
        .expect("stop");
    }
    let error = sim.perform(&upgrade("mgt-1")).await.expect_err("cancelled");
    assert!(
        matches!(&error, ConnectorError::UpgradeCancelled { server, .. } if server == "mgt-1"),
        "{error:?}"
    );
    let error = sim.perform(&upgrade("mgt-2")).await.expect_err("fails");
    assert!(
        matches!(error, ConnectorError::OperationFailed { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn stopped_and_unknown_servers_map_to_connection_errors() {
    let sim = connector(Vec::new());
    sim.perform(&Operation::StopServer {
        server: "mgt-2".into(),
    })
    .await
    .expect("stop");
    let error = sim
        .perform(&Operation::Diagnostic {
            server: "mgt-2".into(),
        })
        .await
        .expect_err("stopped");
    assert!(matches!(error, ConnectorError::Refused { .. }), "{error:?}");
    let error = sim
        .perform(&Operation::Diagnostic {
            server: "mgt-7".into(),
        })
        .await
        .expect_err("unknown");
    assert!(matches!(error, ConnectorError::UnknownServer { server } if server == "mgt-7"));
}

#[tokio::test]
async fn the_simulator_comes_back_for_assertions() {
    let sim = connector(Vec::new());
    sim.perform(&Operation::SetStandby {
        server: "mgt-1".into(),
        force: true,
    })
    .await
    .expect("set standby");
    let simulator = sim.into_simulator();
    assert_eq!(
        simulator
            .snapshot()
            .server("mgt-1")
            .map(|server| server.mode),
        Some(Mode::Standby)
    );
}
