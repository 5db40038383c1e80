//! The HA model and the simulator: every precondition with its message, every
//! operation's effect, background timing, split brain, every fault, the
//! invariant checker, determinism, and both upgrade procedures by hand.

use std::time::Duration;

use runbook::cluster::{
    check_invariants, check_transition, check_upgraded, durations, possible_fault_events,
    possible_job_outcomes, Cluster, FailureKind, Fault, FaultEvent, FaultPoint, InvariantViolation,
    JobId, JobOutcome, JobState, Mode, Operation, OperationOutput, ReplicationState,
    ServerSnapshot, SimConfig, SimConfigError, SimError, Simulator, Started, Version,
    MUST_USE_ACTIVE,
};
use runbook::cluster::{parse_split_brain_message, split_brain_message};

use crate::support::{target, upgrade, EVERY_FAULT};

// ----- helpers ---------------------------------------------------------------

fn version(text: &str) -> Version {
    text.parse().expect("test versions are valid")
}

fn sim(servers: usize, faults: &[&str]) -> Simulator {
    let config = SimConfig {
        servers,
        faults: faults
            .iter()
            .map(|fault| fault.parse().expect("test faults are valid"))
            .collect(),
        ..SimConfig::default()
    };
    config.validate().expect("test configs are valid");
    Simulator::new(config)
}

/// `fn name(server) -> Operation` for each operation that names only a
/// server.
macro_rules! on_server {
    ($($name:ident => $variant:ident),* $(,)?) => {
        $(
            fn $name(server: &str) -> Operation {
                Operation::$variant {
                    server: server.into(),
                }
            }
        )*
    };
}

on_server! {
    exclude => Exclude,
    init => InitStandby,
    activate => Activate,
    force_activate => ForceActivate,
    stop_replication => StopReplication,
    stop => StopServer,
    start => StartServer,
    diagnostic => Diagnostic,
    states => ReplicationStates,
    backup => Backup,
    restore => RestoreBackup,
}

fn set_standby(server: &str, force: bool) -> Operation {
    Operation::SetStandby {
        server: server.into(),
        force,
    }
}

fn ok(simulator: &mut Simulator, operation: Operation) -> OperationOutput {
    match simulator.run(&operation) {
        Ok(output) => output,
        Err(error) => panic!("{operation} failed: {error:?}"),
    }
}

fn refused(simulator: &mut Simulator, operation: Operation) -> (String, Vec<String>) {
    let before = simulator.cluster().clone();
    match simulator.run(&operation) {
        Err(SimError::Refused { message, details }) => {
            assert_eq!(simulator.cluster(), &before, "a refusal changes nothing");
            (message, details)
        }
        other => panic!("{operation} should be refused, got {other:?}"),
    }
}

/// Runs `operation` on each of `servers` in turn; each must succeed.
fn each(simulator: &mut Simulator, servers: &[&str], operation: fn(&str) -> Operation) {
    for server in servers {
        ok(simulator, operation(server));
    }
}

/// Starts `operation`, which must run in the background.
fn background(simulator: &mut Simulator, operation: Operation) -> JobId {
    match simulator.start(&operation) {
        Ok(Started::Background(job)) => job,
        other => panic!("{operation} should run in the background, got {other:?}"),
    }
}

/// What the simulator shows of `server` now.
fn shown(simulator: &Simulator, server: &str) -> ServerSnapshot {
    simulator
        .snapshot()
        .server(server)
        .cloned()
        .expect("server exists")
}

/// Whether the diagnostic read from `server` is OK, and its messages.
fn diagnose(simulator: &mut Simulator, server: &str) -> (bool, Vec<(String, Vec<String>)>) {
    match ok(simulator, diagnostic(server)) {
        OperationOutput::Diagnostic { ok, messages } => (ok, messages),
        other => panic!("not a diagnostic: {other:?}"),
    }
}

fn state(simulator: &Simulator, server: &str) -> ReplicationState {
    simulator.cluster().replication_state(server)
}

fn mode(simulator: &Simulator, server: &str) -> Mode {
    simulator
        .snapshot()
        .server(server)
        .expect("server exists")
        .mode
}

fn names(servers: usize) -> Vec<String> {
    (1..=servers).map(|index| format!("mgt-{index}")).collect()
}

// ----- default cluster -------------------------------------------------------

#[test]
fn default_cluster_is_healthy_with_mgt_1_active() {
    let simulator = Simulator::new(SimConfig::default());
    let snapshot = simulator.snapshot();
    assert_eq!(snapshot.servers.len(), 3);
    assert!(snapshot.is_healthy());
    assert_eq!(mode(&simulator, "mgt-1"), Mode::Active);
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActRep);
    for standby in ["mgt-2", "mgt-3"] {
        assert_eq!(mode(&simulator, standby), Mode::Standby);
        assert_eq!(state(&simulator, standby), ReplicationState::StbRep);
    }
    assert!(snapshot
        .servers
        .iter()
        .all(|server| server.version == version("7.3.4")));
    assert_eq!(simulator.now(), Duration::ZERO);
    assert!(check_invariants(simulator.cluster()).is_empty());
}

#[test]
fn snapshot_serializes_to_the_contract_shape() {
    let simulator = sim(2, &[]);
    let json = serde_json::to_value(simulator.snapshot()).expect("serializes");
    assert_eq!(json["servers"][0]["name"], "mgt-1");
    assert_eq!(json["servers"][0]["mode"], "active");
    assert_eq!(json["servers"][0]["replication"], "ACT_REP");
    assert_eq!(json["servers"][0]["version"], "7.3.4");
    assert_eq!(json["servers"][1]["running"], true);
    assert_eq!(json["servers"][1]["excluded"], false);
}

#[test]
fn single_server_cluster_has_no_replication() {
    let simulator = sim(1, &[]);
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActNoRep);
}

// ----- faults: parsing ---------------------------------------------------------

#[test]
fn fault_names_round_trip() {
    for text in EVERY_FAULT {
        let fault: Fault = text.parse().expect("valid fault");
        assert_eq!(fault.to_string(), text);
        let json = serde_json::to_string(&fault).expect("serializes");
        assert_eq!(
            serde_json::from_str::<Fault>(&json).expect("deserializes"),
            fault
        );
    }
}

#[test]
fn unknown_fault_lists_the_valid_names() {
    let error = "network-down".parse::<Fault>().expect_err("unknown");
    let SimConfigError::UnknownFault { name, valid } = &error else {
        panic!("wrong error {error:?}");
    };
    assert_eq!(name, "network-down");
    for known in Fault::NAMES {
        assert!(valid.contains(known), "{valid} lists {known}");
    }
    assert!(matches!(
        "upgrade-fails".parse::<Fault>(),
        Err(SimConfigError::MissingServer { .. })
    ));
    assert!(matches!(
        "replication-down:mgt-1".parse::<Fault>(),
        Err(SimConfigError::UnknownFault { .. })
    ));
}

#[test]
fn config_validation_rejects_unknown_servers_and_zero_servers() {
    let mut config = SimConfig::default();
    config.faults.push(Fault::Unreachable("mgt-9".into()));
    assert!(matches!(
        config.validate(),
        Err(SimConfigError::UnknownServer { .. })
    ));
    assert!(matches!(
        SimConfig::with_servers(0).validate(),
        Err(SimConfigError::NoServers)
    ));
    let backwards = SimConfig {
        target_version: version("7.3.0"),
        ..SimConfig::default()
    };
    assert!(matches!(
        backwards.validate(),
        Err(SimConfigError::TargetNotNewer { .. })
    ));
}

// ----- preconditions -------------------------------------------------------------

#[test]
fn activating_the_active_is_refused_with_the_product_message() {
    let mut simulator = sim(3, &[]);
    let (message, _) = refused(&mut simulator, activate("mgt-1"));
    assert_eq!(
        message,
        "Management Server mgt-1 is already the active Management Server."
    );
    let (message, _) = refused(&mut simulator, force_activate("mgt-1"));
    assert_eq!(
        message,
        "Management Server mgt-1 is already the active Management Server."
    );
}

#[test]
fn excluding_the_active_is_refused() {
    let mut simulator = sim(3, &[]);
    let (message, _) = refused(&mut simulator, exclude("mgt-1"));
    assert_eq!(
        message,
        "The active Management Server mgt-1 cannot be excluded from replication."
    );
}

#[test]
fn api_actions_without_a_running_active_must_use_the_active() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-1"));
    for operation in [exclude("mgt-2"), init("mgt-2"), activate("mgt-2")] {
        let (message, details) = refused(&mut simulator, operation);
        assert_eq!(message, MUST_USE_ACTIVE);
        assert_eq!(
            details,
            vec!["No running Management Server is active.".to_string()]
        );
    }
    let (message, _) = refused(&mut simulator, states("mgt-2"));
    assert_eq!(message, MUST_USE_ACTIVE);
}

#[test]
fn set_standby_on_the_active_without_force_is_refused() {
    let mut simulator = sim(3, &[]);
    let (message, _) = refused(&mut simulator, set_standby("mgt-1", false));
    assert_eq!(
        message,
        "Setting the active Management Server mgt-1 to standby would interrupt database replication."
    );
    ok(&mut simulator, set_standby("mgt-1", true));
    assert_eq!(mode(&simulator, "mgt-1"), Mode::Standby);
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbOnhold);
}

/// The API's set_standby is "Set Standby and Stop Replication": on a
/// Standby it leaves the mode alone and clears its replication.
#[test]
fn set_standby_on_a_standby_stops_its_replication() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, set_standby("mgt-2", false));
    assert_eq!(mode(&simulator, "mgt-2"), Mode::Standby);
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbNoRep);
    assert!(simulator
        .snapshot()
        .server("mgt-2")
        .is_some_and(|server| server.excluded));
    assert_eq!(mode(&simulator, "mgt-1"), Mode::Active);
}

#[test]
fn init_of_an_initialized_declared_standby_is_refused() {
    let mut simulator = sim(3, &[]);
    let (message, details) = refused(&mut simulator, init("mgt-2"));
    assert_eq!(message, "Management Server mgt-2 is already initialized.");
    assert_eq!(
        details,
        vec!["Exclude mgt-2 from replication before initializing it again.".to_string()]
    );
}

#[test]
fn init_of_a_stopped_or_active_or_other_version_standby_is_refused() {
    let mut simulator = sim(3, &[]);
    let (message, _) = refused(&mut simulator, init("mgt-1"));
    assert!(
        message.contains("is an active Management Server"),
        "{message}"
    );
    ok(&mut simulator, exclude("mgt-2"));
    ok(&mut simulator, stop("mgt-2"));
    let (message, _) = refused(&mut simulator, init("mgt-2"));
    assert_eq!(
        message,
        "Management Server mgt-2 is not running: start it before initializing it."
    );
    ok(&mut simulator, upgrade("mgt-2"));
    let (message, _) = refused(&mut simulator, init("mgt-2"));
    assert_eq!(
        message,
        "Management Server mgt-2 runs version 7.4.0 but the active Management Server mgt-1 runs version 7.3.4: upgrade it first."
    );
}

#[test]
fn upgrade_of_a_running_declared_server_is_refused() {
    let mut simulator = sim(3, &[]);
    for server in ["mgt-1", "mgt-2"] {
        let (message, details) = refused(&mut simulator, upgrade(server));
        assert_eq!(
            message,
            format!("Management Server {server} is running and declared in replication: it cannot be upgraded.")
        );
        assert_eq!(details.len(), 1);
    }
}

#[test]
fn upgrade_to_the_same_or_an_older_version_is_refused() {
    let mut simulator = sim(2, &[]);
    ok(&mut simulator, stop("mgt-2"));
    let (message, _) = refused(
        &mut simulator,
        Operation::Upgrade {
            server: "mgt-2".into(),
            version: version("7.3.4"),
        },
    );
    assert_eq!(
        message,
        "Management Server mgt-2 already runs version 7.3.4."
    );
    let (message, _) = refused(
        &mut simulator,
        Operation::Upgrade {
            server: "mgt-2".into(),
            version: version("7.2.0"),
        },
    );
    assert!(message.contains("cannot downgrade"), "{message}");
}

#[test]
fn activation_wizard_needs_a_stable_system() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    let (message, _) = refused(&mut simulator, activate("mgt-2"));
    assert!(
        message.contains("is excluded from replication"),
        "{message}"
    );
    ok(&mut simulator, stop("mgt-3"));
    ok(&mut simulator, start("mgt-3"));
    let mut broken = sim(3, &["replication-down"]);
    let (message, details) = refused(&mut broken, activate("mgt-2"));
    assert_eq!(
        message,
        "The system is not stable: the activation cannot start."
    );
    assert_eq!(details.len(), 2);
}

#[test]
fn force_activation_while_a_visible_active_runs_is_refused() {
    let mut simulator = sim(3, &[]);
    let (message, details) = refused(&mut simulator, force_activate("mgt-2"));
    assert_eq!(
        message,
        "Management Server mgt-1 is the active Management Server: the activation of mgt-2 cannot be forced."
    );
    assert_eq!(details.len(), 1);
}

#[test]
fn stopped_and_unknown_servers_answer_nothing() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-3"));
    assert_eq!(
        simulator.run(&diagnostic("mgt-3")),
        Err(SimError::Stopped {
            server: "mgt-3".into()
        })
    );
    assert_eq!(
        simulator.run(&diagnostic("mgt-9")),
        Err(SimError::UnknownServer {
            server: "mgt-9".into()
        })
    );
}

#[test]
fn restore_needs_a_backup_and_the_active() {
    let mut simulator = sim(3, &[]);
    let (message, _) = refused(&mut simulator, restore("mgt-1"));
    assert!(
        message.starts_with("No Management Server backup is available"),
        "{message}"
    );
    let (message, _) = refused(&mut simulator, restore("mgt-2"));
    assert_eq!(message, MUST_USE_ACTIVE);
}

/// Backup management: when the Active is unusable (stopped), a backup is
/// restored on a Standby, followed by a forced activation of that server;
/// the other Standbys are excluded and initialized again.
#[test]
fn restore_on_a_standby_when_the_active_is_unusable() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, backup("mgt-1"));
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, restore("mgt-2"));
    assert_eq!(mode(&simulator, "mgt-2"), Mode::Standby);
    assert!(simulator
        .snapshot()
        .server("mgt-3")
        .is_some_and(|server| server.excluded));
    ok(&mut simulator, force_activate("mgt-2"));
    assert_eq!(mode(&simulator, "mgt-2"), Mode::Active);
    ok(&mut simulator, init("mgt-3"));
    simulator.advance(Duration::from_secs(3600));
    assert_eq!(state(&simulator, "mgt-3"), ReplicationState::StbRep);
}

#[test]
fn operations_on_a_busy_server_are_refused() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    background(&mut simulator, init("mgt-2"));
    let (message, _) = refused(&mut simulator, stop("mgt-2"));
    assert!(
        message.starts_with("Management Server mgt-2 is busy: init-standby mgt-2 is in progress"),
        "{message}"
    );
}

#[test]
fn actions_during_the_wizard_are_refused() {
    let mut simulator = sim(3, &[]);
    background(&mut simulator, activate("mgt-2"));
    let (message, _) = refused(&mut simulator, exclude("mgt-3"));
    assert!(
        message.starts_with("The activation of Management Server mgt-2 is in progress"),
        "{message}"
    );
}

// ----- effects --------------------------------------------------------------------

#[test]
fn exclude_makes_the_active_report_some_replication_only() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    let snapshot = simulator.snapshot();
    assert!(snapshot
        .server("mgt-2")
        .is_some_and(|server| server.excluded));
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbNoRep);
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActRepEx);
    ok(&mut simulator, exclude("mgt-3"));
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActNoRep);
}

#[test]
fn excluding_an_offline_standby_is_allowed() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-3"));
    ok(&mut simulator, exclude("mgt-3"));
    assert!(shown(&simulator, "mgt-3").excluded);
}

#[test]
fn stopped_standbys_put_the_active_on_hold() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-2"));
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActRepEx);
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::Unknown);
    ok(&mut simulator, stop("mgt-3"));
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActOnhold);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, start("mgt-2"));
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbOnhold);
}

#[test]
fn start_and_stop_are_idempotent() {
    let mut simulator = sim(2, &[]);
    ok(&mut simulator, start("mgt-2"));
    ok(&mut simulator, stop("mgt-2"));
    ok(&mut simulator, stop("mgt-2"));
    assert!(!shown(&simulator, "mgt-2").running);
}

#[test]
fn upgrade_of_the_active_leaves_it_without_replication() {
    let mut simulator = sim(3, &[]);
    each(&mut simulator, &["mgt-2", "mgt-3", "mgt-1"], stop);
    ok(&mut simulator, upgrade("mgt-1"));
    let active = shown(&simulator, "mgt-1");
    assert!(active.running, "the installer starts the server again");
    assert_eq!(active.version, target());
    assert_eq!(active.replication, ReplicationState::ActNoRep);
}

#[test]
fn upgrade_of_a_running_excluded_standby_is_allowed_and_clears_its_replica() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    ok(&mut simulator, upgrade("mgt-2"));
    let standby = shown(&simulator, "mgt-2");
    assert!(standby.running);
    assert_eq!(standby.version, target());
    assert_eq!(standby.replication, ReplicationState::StbNoRep);
    assert!(!simulator
        .cluster()
        .server("mgt-2")
        .is_some_and(|server| server.is_initialized()));
}

#[test]
fn upgrade_runs_in_the_background_with_the_server_down() {
    let mut simulator = sim(2, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    let job = background(&mut simulator, upgrade("mgt-2"));
    let total =
        durations::UPGRADE_STOPPING + durations::UPGRADE_INSTALLING + durations::UPGRADE_STARTING;
    assert_eq!(
        simulator.job(job),
        Some(JobState::Running {
            operation: upgrade("mgt-2"),
            phase: "stopping services".into(),
            remaining: total,
        })
    );
    assert!(!shown(&simulator, "mgt-2").running);
    simulator.advance(durations::UPGRADE_STOPPING + Duration::from_secs(60));
    let Some(JobState::Running {
        phase, remaining, ..
    }) = simulator.job(job)
    else {
        panic!("still running");
    };
    assert_eq!(phase, "installing");
    assert_eq!(
        remaining,
        total - durations::UPGRADE_STOPPING - Duration::from_secs(60)
    );
    simulator.advance(remaining);
    assert_eq!(
        simulator.job(job),
        Some(JobState::Finished(Ok(OperationOutput::Done)))
    );
    assert_eq!(simulator.now(), total);
}

#[test]
fn init_standby_restarts_the_standby_twice_then_replicates() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    let job = background(&mut simulator, init("mgt-2"));
    assert!(!shown(&simulator, "mgt-2").excluded);
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbNoRep);
    let mut restarts = 0;
    let mut was_running = true;
    let step = Duration::from_secs(10);
    while matches!(simulator.job(job), Some(JobState::Running { .. })) {
        simulator.advance(step);
        let running = shown(&simulator, "mgt-2").running;
        if was_running && !running {
            restarts += 1;
        }
        was_running = running;
    }
    assert_eq!(restarts, 2);
    assert_eq!(
        simulator.now(),
        durations::INIT_COPYING + durations::INIT_RESTART * 2 + durations::INIT_SYNCHRONIZING
    );
    assert_eq!(
        simulator.job(job),
        Some(JobState::Finished(Ok(OperationOutput::Done)))
    );
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbRep);
    assert!(simulator.snapshot().is_healthy());
}

#[test]
fn activation_wizard_switches_the_active_through_its_phases() {
    let mut simulator = sim(3, &[]);
    let job = background(&mut simulator, activate("mgt-2"));
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::StbActrep);
    let mut phases = Vec::new();
    while let Some(JobState::Running { phase, .. }) = simulator.job(job) {
        if phases.last() != Some(&phase) {
            phases.push(phase.clone());
        }
        if phase == "standby replication" {
            let snapshot = simulator.snapshot();
            assert!(
                snapshot.standbys().all(|standby| !standby.running),
                "every Standby restarts during the last phase"
            );
        }
        if phase == "server activation" {
            assert!(
                simulator.cluster().running_actives().is_empty(),
                "no Active between demotion and promotion"
            );
        }
        simulator.advance(durations::WIZARD_PHASE / 2);
    }
    assert_eq!(
        phases,
        [
            "switch initialized",
            "target standby ready",
            "other standbys ready",
            "current active ready",
            "server activation",
            "secure replication ready",
            "standby replication",
        ]
    );
    assert_eq!(simulator.now(), durations::WIZARD_PHASE * 7);
    assert_eq!(mode(&simulator, "mgt-1"), Mode::Standby);
    assert_eq!(mode(&simulator, "mgt-2"), Mode::Active);
    assert!(simulator.snapshot().is_healthy());
}

#[test]
fn interrupted_wizard_is_an_enumerable_outcome() {
    let mut cluster = Cluster::new(&names(3), &version("7.3.4"));
    let Ok(Started::Background(job)) = cluster.apply(&activate("mgt-2")) else {
        panic!("background");
    };
    let mut points = Vec::new();
    while cluster.jobs().iter().any(|candidate| candidate.id == job) {
        let step = cluster.time_to_next_boundary().expect("a job runs");
        for progress in cluster.elapse(step) {
            if let runbook::cluster::Progress::Reached(point) = progress {
                points.push(point);
            }
        }
        if points.len() == 4 {
            // Entered "server activation": the old Active is already Standby.
            let finished = cluster.inject(&FaultEvent::ActivationInterrupted { job });
            let [runbook::cluster::Progress::Finished {
                result: Err(SimError::Failed { kind, message }),
                ..
            }] = finished.as_slice()
            else {
                panic!("the wizard ends interrupted: {finished:?}");
            };
            assert_eq!(*kind, FailureKind::Interrupted);
            assert!(message.contains("\"server activation\""), "{message}");
        }
    }
    assert!(
        cluster.running_actives().is_empty(),
        "interrupted between demotion and promotion: no Active"
    );
    let ok = cluster.apply(&force_activate("mgt-2"));
    assert!(
        ok.is_ok(),
        "recovery: force the activation of one server: {ok:?}"
    );
}

#[test]
fn stop_replication_clears_the_replica_without_changing_the_mode() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop_replication("mgt-2"));
    let server = simulator
        .cluster()
        .server("mgt-2")
        .cloned()
        .expect("exists");
    assert_eq!(server.mode, Mode::Standby);
    assert!(server.excluded && !server.is_initialized());
    ok(&mut simulator, stop_replication("mgt-1"));
    assert_eq!(mode(&simulator, "mgt-1"), Mode::Active);
}

#[test]
fn restore_excludes_every_standby_and_discards_later_changes() {
    let mut simulator = sim(3, &["changes-on-active"]);
    let OperationOutput::Backup { backup_id } = ok(&mut simulator, backup("mgt-1")) else {
        panic!("a backup id");
    };
    assert_eq!(backup_id, "backup-1-mgt-1");
    simulator.advance(durations::CHANGE_INTERVAL * 2);
    assert_eq!(simulator.changes_since_start("mgt-1"), 2);
    assert_eq!(
        simulator.cluster().changes_discarded_by(&restore("mgt-1")),
        2
    );
    ok(&mut simulator, restore("mgt-1"));
    assert_eq!(simulator.changes_since_start("mgt-1"), 0);
    let snapshot = simulator.snapshot();
    assert!(snapshot.standbys().all(|server| server.excluded));
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActNoRep);
}

#[test]
fn diagnostic_is_ok_only_when_healthy() {
    let mut simulator = sim(3, &[]);
    let (healthy, messages) = diagnose(&mut simulator, "mgt-2");
    assert!(healthy);
    assert_eq!(
        messages[0],
        (
            "mgt-1".to_string(),
            vec!["[ACT_REP] Active database replication is enabled".to_string()]
        )
    );
    ok(&mut simulator, stop("mgt-3"));
    let (healthy, messages) = diagnose(&mut simulator, "mgt-1");
    assert!(!healthy, "a server down for maintenance makes it KO");
    assert_eq!(
        messages[2].1,
        vec!["Management Server mgt-3 is not running.".to_string()]
    );
}

#[test]
fn replication_states_are_read_from_the_active() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-3"));
    assert_eq!(
        ok(&mut simulator, states("mgt-1")),
        OperationOutput::ReplicationStates {
            states: vec![
                ("mgt-1".into(), ReplicationState::ActRepEx),
                ("mgt-2".into(), ReplicationState::StbRep),
                ("mgt-3".into(), ReplicationState::Unknown),
            ]
        }
    );
}

// ----- split brain --------------------------------------------------------------

#[test]
fn two_visible_actives_put_every_server_in_standby() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, force_activate("mgt-2"));
    assert!(simulator.cluster().split_brain().is_none());
    ok(&mut simulator, start("mgt-1"));
    let snapshot = simulator.snapshot();
    assert!(snapshot
        .servers
        .iter()
        .all(|server| server.mode == Mode::Standby));
    assert_eq!(
        simulator.cluster().split_brain(),
        Some(&["mgt-1".to_string(), "mgt-2".to_string()][..])
    );
    let alerts = simulator.monitoring_alerts();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].starts_with(
        "[HA_SPLIT_BRAIN] Management Servers mgt-1, mgt-2 were active at the same time"
    ));
    // Recovery of domain.md: stop replication everywhere, force one, re-initialize the others.
    each(
        &mut simulator,
        &["mgt-1", "mgt-2", "mgt-3"],
        stop_replication,
    );
    ok(&mut simulator, force_activate("mgt-1"));
    assert!(simulator.cluster().split_brain().is_none());
    ok(&mut simulator, init("mgt-2"));
    ok(&mut simulator, init("mgt-3"));
    assert!(simulator.snapshot().is_healthy());
}

/// The diagnostic is how a client of the API learns of a split brain: every
/// running server reports the monitoring message, which names the servers
/// that were Active and reads back with `parse_split_brain_message`.
#[test]
fn every_running_server_reports_a_split_brain_in_the_diagnostic() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, force_activate("mgt-2"));
    ok(&mut simulator, start("mgt-1"));
    ok(&mut simulator, stop("mgt-3"));
    let (healthy, messages) = diagnose(&mut simulator, "mgt-2");
    assert!(!healthy);
    let reported: Vec<(String, Option<Vec<String>>)> = messages
        .iter()
        .map(|(server, lines)| {
            (
                server.clone(),
                lines
                    .iter()
                    .find_map(|line| parse_split_brain_message(line)),
            )
        })
        .collect();
    let pair = Some(vec!["mgt-1".to_string(), "mgt-2".to_string()]);
    assert_eq!(
        reported,
        vec![
            ("mgt-1".to_string(), pair.clone()),
            ("mgt-2".to_string(), pair),
            ("mgt-3".to_string(), None),
        ],
        "the stopped mgt-3 reports nothing"
    );
    assert_eq!(
        parse_split_brain_message(&split_brain_message(&["a", "b-2", "c"])),
        Some(vec!["a".to_string(), "b-2".to_string(), "c".to_string()])
    );
    assert_eq!(
        parse_split_brain_message("[ACT_REP] Active database replication is enabled"),
        None
    );
    // A forced activation clears it: the diagnostic no longer reports it.
    each(&mut simulator, &["mgt-1", "mgt-2"], stop_replication);
    ok(&mut simulator, force_activate("mgt-1"));
    let (_, messages) = diagnose(&mut simulator, "mgt-1");
    assert!(messages
        .iter()
        .flat_map(|(_, lines)| lines)
        .all(|line| parse_split_brain_message(line).is_none()));
}

#[test]
fn an_excluded_active_does_not_trigger_split_brain_but_shows_two_actives() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, exclude("mgt-2"));
    ok(&mut simulator, force_activate("mgt-2"));
    assert!(simulator.cluster().split_brain().is_none());
    assert_eq!(simulator.cluster().running_actives().len(), 2);
    let alerts = simulator.monitoring_alerts();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].starts_with(
        "[HA_MULTIPLE_ACTIVE] Several Management Servers declare themselves active: mgt-1, mgt-2."
    ));
    assert_eq!(
        check_invariants(simulator.cluster()),
        vec![InvariantViolation::TwoActives {
            servers: vec!["mgt-1".into(), "mgt-2".into()]
        }]
    );
    let (healthy, messages) = diagnose(&mut simulator, "mgt-1");
    assert!(!healthy);
    assert!(messages[0]
        .1
        .iter()
        .any(|line| line.starts_with("[HA_MULTIPLE_ACTIVE]")));
}

// ----- faults --------------------------------------------------------------------

#[test]
fn replication_down_breaks_replication_before_the_run() {
    let simulator = sim(3, &["replication-down"]);
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::BrokenActStb);
    assert_eq!(state(&simulator, "mgt-2"), ReplicationState::BrokenActStb);
    assert!(!simulator.snapshot().is_healthy());
    assert_eq!(simulator.fired_faults().len(), 1);
    assert_eq!(simulator.fired_faults()[0].at, Duration::ZERO);
}

#[test]
fn replication_down_is_repaired_by_exclude_and_init() {
    let mut simulator = sim(3, &["replication-down"]);
    each(&mut simulator, &["mgt-2", "mgt-3"], exclude);
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActNoRep);
    each(&mut simulator, &["mgt-2", "mgt-3"], init);
    assert!(simulator.snapshot().is_healthy());
}

#[test]
fn active_upgrade_cancelled_reverts_with_broken_replication() {
    let mut simulator = sim(3, &["active-upgrade-cancelled"]);
    each(&mut simulator, &["mgt-2", "mgt-3", "mgt-1"], stop);
    let result = simulator.run(&upgrade("mgt-1"));
    let Err(SimError::Failed {
        kind: FailureKind::UpgradeCancelled,
        message,
    }) = result
    else {
        panic!("cancelled: {result:?}");
    };
    assert!(message.contains("cancelled and reverted"), "{message}");
    let active = shown(&simulator, "mgt-1");
    assert!(active.running && active.mode == Mode::Active);
    assert_eq!(active.version, version("7.3.4"));
    assert_eq!(active.replication, ReplicationState::BrokenActStb);
    // The What-if: exclude every standby, re-initialize them; then the retry succeeds (fires once).
    for standby in ["mgt-2", "mgt-3"] {
        ok(&mut simulator, exclude(standby));
        ok(&mut simulator, start(standby));
        ok(&mut simulator, init(standby));
    }
    assert!(simulator.snapshot().is_healthy());
    each(&mut simulator, &["mgt-2", "mgt-3", "mgt-1"], stop);
    ok(&mut simulator, upgrade("mgt-1"));
}

#[test]
fn active_upgrade_cancelled_does_not_fire_on_standbys() {
    let mut simulator = sim(3, &["active-upgrade-cancelled"]);
    ok(&mut simulator, exclude("mgt-2"));
    ok(&mut simulator, upgrade("mgt-2"));
    assert!(simulator.fired_faults().is_empty());
}

#[test]
fn standby_auto_activates_during_the_active_upgrade_and_split_brain_follows() {
    let mut simulator = sim(3, &["standby-auto-activates"]);
    each(&mut simulator, &["mgt-2", "mgt-3", "mgt-1"], stop);
    background(&mut simulator, upgrade("mgt-1"));
    simulator.advance(durations::UPGRADE_STOPPING);
    let fired = simulator.fired_faults().to_vec();
    assert_eq!(fired.len(), 1);
    let FaultEvent::StandbyAutoActivates { server } = &fired[0].event else {
        panic!("auto-activation: {fired:?}");
    };
    let promoted = shown(&simulator, server);
    assert!(
        promoted.running && promoted.mode == Mode::Active,
        "it restarted to become Active"
    );
    simulator.advance(durations::UPGRADE_INSTALLING + durations::UPGRADE_STARTING);
    assert!(simulator
        .snapshot()
        .servers
        .iter()
        .all(|server| server.mode == Mode::Standby));
    assert!(simulator.cluster().split_brain().is_some());
}

#[test]
fn standby_auto_activation_of_an_excluded_standby_leaves_two_actives() {
    let mut simulator = sim(3, &["standby-auto-activates"]);
    each(&mut simulator, &["mgt-2", "mgt-3"], exclude);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, upgrade("mgt-1"));
    assert_eq!(simulator.cluster().running_actives().len(), 2);
    assert!(simulator.cluster().split_brain().is_none());
}

#[test]
fn standby_activated_by_operator_gets_changes_and_option_2_discards_them() {
    let mut simulator = sim(3, &["standby-activated-by-operator"]);
    each(&mut simulator, &["mgt-2", "mgt-3"], exclude);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, upgrade("mgt-1"));
    let FaultEvent::StandbyActivatedByOperator {
        server: promoted,
        changes,
    } = simulator.fired_faults()[0].event.clone()
    else {
        panic!("operator activation");
    };
    assert_eq!(changes, durations::OPERATOR_CHANGES);
    assert_eq!(
        simulator.changes_since_start(&promoted),
        durations::OPERATOR_CHANGES
    );
    assert_eq!(simulator.cluster().running_actives().len(), 2);
    // Option 2: discard the change: revert the promoted one to Standby and continue.
    assert_eq!(
        check_transition(simulator.cluster(), &set_standby(&promoted, true)),
        vec![InvariantViolation::ChangesDiscarded {
            operation: format!("set-standby {promoted} (force)"),
            server: promoted.clone(),
            count: durations::OPERATOR_CHANGES,
        }]
    );
    ok(&mut simulator, set_standby(&promoted, true));
    for standby in ["mgt-2", "mgt-3"] {
        ok(&mut simulator, upgrade(standby));
        ok(&mut simulator, init(standby));
    }
    assert_eq!(check_upgraded(&simulator.snapshot(), &target()), vec![]);
}

#[test]
fn standby_activated_by_operator_option_1_keeps_the_changes() {
    let mut simulator = sim(3, &["standby-activated-by-operator"]);
    each(&mut simulator, &["mgt-2", "mgt-3"], exclude);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, upgrade("mgt-1"));
    let FaultEvent::StandbyActivatedByOperator {
        server: promoted, ..
    } = simulator.fired_faults()[0].event.clone()
    else {
        panic!("operator activation");
    };
    let other = if promoted == "mgt-2" {
        "mgt-3"
    } else {
        "mgt-2"
    };
    // Option 1: previous Active to Standby, shut it down, upgrade the promoted one.
    ok(&mut simulator, set_standby("mgt-1", true));
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, upgrade(&promoted));
    assert_eq!(mode(&simulator, &promoted), Mode::Active);
    ok(&mut simulator, start("mgt-1"));
    ok(&mut simulator, exclude("mgt-1"));
    ok(&mut simulator, init("mgt-1"));
    ok(&mut simulator, upgrade(other));
    ok(&mut simulator, init(other));
    assert_eq!(check_upgraded(&simulator.snapshot(), &target()), vec![]);
    for server in ["mgt-1", "mgt-2", "mgt-3"] {
        assert_eq!(
            simulator
                .snapshot()
                .server(server)
                .map(|server| server.config_revision),
            Some(durations::OPERATOR_CHANGES),
            "the urgent change is kept everywhere"
        );
    }
}

#[test]
fn upgrade_fails_leaves_the_server_stopped_on_its_old_version() {
    let mut simulator = sim(3, &["upgrade-fails:mgt-2"]);
    ok(&mut simulator, stop("mgt-2"));
    let result = simulator.run(&upgrade("mgt-2"));
    let Err(SimError::Failed {
        kind: FailureKind::Failed,
        message,
    }) = result
    else {
        panic!("installer failure: {result:?}");
    };
    assert_eq!(
        message,
        "The SMC installer failed on Management Server mgt-2: it is left stopped on version 7.3.4."
    );
    let server = shown(&simulator, "mgt-2");
    assert!(!server.running);
    assert_eq!(server.version, version("7.3.4"));
    ok(&mut simulator, upgrade("mgt-2"));
    assert_eq!(
        simulator
            .snapshot()
            .server("mgt-2")
            .map(|server| server.version.clone()),
        Some(target())
    );
}

#[test]
fn unreachable_server_answers_nothing_from_the_start() {
    let mut simulator = sim(3, &["unreachable:mgt-3"]);
    assert!(!simulator.is_reachable("mgt-3"));
    for operation in [
        diagnostic("mgt-3"),
        stop("mgt-3"),
        upgrade("mgt-3"),
        set_standby("mgt-3", true),
    ] {
        assert_eq!(
            simulator.run(&operation),
            Err(SimError::Unreachable {
                server: "mgt-3".into()
            }),
            "{operation}"
        );
    }
    let observed = simulator.observed_snapshot();
    let hidden = observed.server("mgt-3").expect("listed");
    assert!(!hidden.running);
    assert_eq!(hidden.replication, ReplicationState::Unknown);
    assert!(shown(&simulator, "mgt-3").running, "the truth");
    ok(&mut simulator, exclude("mgt-3"));
}

#[test]
fn unreachable_active_makes_api_actions_time_out() {
    let mut simulator = sim(3, &["unreachable:mgt-1"]);
    assert_eq!(
        simulator.run(&exclude("mgt-2")),
        Err(SimError::Unreachable {
            server: "mgt-1".into()
        })
    );
}

#[test]
fn changes_on_active_count_over_virtual_time_while_it_is_active() {
    let mut simulator = sim(3, &["changes-on-active"]);
    simulator.advance(durations::CHANGE_INTERVAL * 3 + Duration::from_secs(1));
    assert_eq!(simulator.changes_since_start("mgt-1"), 3);
    assert_eq!(
        simulator.changes_since_start("mgt-2"),
        3,
        "replicated to the standbys"
    );
    ok(&mut simulator, exclude("mgt-2"));
    simulator.advance(durations::CHANGE_INTERVAL);
    assert_eq!(
        simulator.changes_since_start("mgt-2"),
        3,
        "an excluded standby misses them"
    );
    ok(&mut simulator, set_standby("mgt-1", true));
    simulator.advance(durations::CHANGE_INTERVAL * 2);
    assert_eq!(
        simulator.changes_since_start("mgt-1"),
        4,
        "no changes once it is not Active"
    );
}

#[test]
fn possible_fault_events_enumerate_the_alternatives() {
    let mut cluster = Cluster::new(&names(3), &version("7.3.4"));
    for server in ["mgt-2", "mgt-3", "mgt-1"] {
        cluster.apply(&stop(server)).expect("stop");
    }
    let Ok(Started::Background(job)) = cluster.apply(&upgrade("mgt-1")) else {
        panic!("background");
    };
    let faults = vec![Fault::StandbyAutoActivates, Fault::ActiveUpgradeCancelled];
    let point = FaultPoint::UpgradeInstalling {
        job,
        server: "mgt-1".into(),
        was_active: true,
    };
    let events = possible_fault_events(&cluster, &faults, &point, "mgt-1");
    assert_eq!(
        events,
        vec![
            (
                Fault::StandbyAutoActivates,
                FaultEvent::StandbyAutoActivates {
                    server: "mgt-2".into()
                }
            ),
            (
                Fault::StandbyAutoActivates,
                FaultEvent::StandbyAutoActivates {
                    server: "mgt-3".into()
                }
            ),
        ]
    );
    let completing = FaultPoint::UpgradeCompleting {
        job,
        server: "mgt-1".into(),
        was_active: true,
    };
    assert_eq!(
        possible_fault_events(&cluster, &faults, &completing, "mgt-1"),
        vec![(
            Fault::ActiveUpgradeCancelled,
            FaultEvent::UpgradeCancelled { job }
        )]
    );
    let upgrade_job = cluster.job(job).expect("running");
    assert_eq!(
        possible_job_outcomes(upgrade_job),
        vec![
            JobOutcome::Succeeds,
            JobOutcome::Fails,
            JobOutcome::CancelledAndReverted
        ]
    );
}

// ----- invariants -------------------------------------------------------------------

#[test]
fn upgrading_the_active_with_declared_running_standbys_is_flagged() {
    let mut simulator = sim(3, &[]);
    ok(&mut simulator, stop("mgt-3"));
    ok(&mut simulator, stop("mgt-1"));
    assert_eq!(
        check_transition(simulator.cluster(), &upgrade("mgt-1")),
        vec![InvariantViolation::ActiveUpgradedWithDeclaredStandby {
            active: "mgt-1".into(),
            standbys: vec!["mgt-2".into()],
        }]
    );
    ok(&mut simulator, upgrade("mgt-1"));
    assert_eq!(simulator.violations().len(), 1);
    assert_eq!(
        state(&simulator, "mgt-2"),
        ReplicationState::BrokenActStb,
        "errors in monitoring"
    );
}

#[test]
fn initializing_without_exclusion_is_flagged() {
    let cluster = Cluster::new(&names(3), &version("7.3.4"));
    assert_eq!(
        check_transition(&cluster, &init("mgt-2")),
        vec![InvariantViolation::StandbyInitializedWithoutExclusion {
            server: "mgt-2".into()
        }]
    );
}

#[test]
fn upgraded_end_state_check_names_every_problem() {
    let simulator = sim(2, &[]);
    let violations = check_upgraded(&simulator.snapshot(), &target());
    assert_eq!(
        violations,
        vec![
            InvariantViolation::NotUpgraded {
                server: "mgt-1".into(),
                version: version("7.3.4"),
                target: target()
            },
            InvariantViolation::NotUpgraded {
                server: "mgt-2".into(),
                version: version("7.3.4"),
                target: target()
            },
        ]
    );
    assert_eq!(
        violations[0].to_string(),
        "mgt-1 runs 7.3.4, not the target version 7.4.0"
    );
}

// ----- determinism and persistence ------------------------------------------------------

fn auto_activated_server(seed: u64) -> String {
    let mut simulator = Simulator::new(SimConfig {
        servers: 5,
        faults: vec![Fault::StandbyAutoActivates],
        seed,
        ..SimConfig::default()
    });
    each(
        &mut simulator,
        &["mgt-2", "mgt-3", "mgt-4", "mgt-5", "mgt-1"],
        stop,
    );
    ok(&mut simulator, upgrade("mgt-1"));
    match &simulator.fired_faults()[0].event {
        FaultEvent::StandbyAutoActivates { server } => server.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn same_seed_same_run_and_seeds_choose() {
    for seed in 0..8 {
        assert_eq!(auto_activated_server(seed), auto_activated_server(seed));
    }
    let chosen: std::collections::BTreeSet<String> = (0..32).map(auto_activated_server).collect();
    assert!(
        chosen.len() > 1,
        "the seed picks among the candidates: {chosen:?}"
    );
}

#[test]
fn simulator_round_trips_through_json() {
    let mut simulator = sim(3, &["changes-on-active", "unreachable:mgt-3"]);
    ok(&mut simulator, exclude("mgt-2"));
    let job = background(&mut simulator, upgrade("mgt-2"));
    simulator.advance(Duration::from_secs(400));
    let json = serde_json::to_string(&simulator).expect("serializes");
    let mut restored: Simulator = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(restored, simulator);
    restored.advance(Duration::from_secs(3600));
    simulator.advance(Duration::from_secs(3600));
    assert_eq!(restored, simulator);
    assert_eq!(
        restored.job(job),
        Some(JobState::Finished(Ok(OperationOutput::Done)))
    );
}

// ----- the procedures by hand --------------------------------------------------------------

fn downtime_upgrade(servers: usize) -> Simulator {
    let mut simulator = sim(servers, &[]);
    let standbys: Vec<String> = (2..=servers).map(|index| format!("mgt-{index}")).collect();
    // 1. Stop all Management Servers.
    for standby in &standbys {
        ok(&mut simulator, stop(standby));
    }
    ok(&mut simulator, stop("mgt-1"));
    // 2. Upgrade the Active Server.
    ok(&mut simulator, upgrade("mgt-1"));
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::ActNoRep);
    // 3. Upgrade the Standby Servers.
    for standby in &standbys {
        ok(&mut simulator, upgrade(standby));
    }
    // 4. Initialize each standby.
    for standby in &standbys {
        ok(&mut simulator, init(standby));
    }
    simulator
}

#[test]
fn downtime_procedure_reaches_the_healthy_upgraded_cluster() {
    for servers in [3, 5] {
        let simulator = downtime_upgrade(servers);
        assert_eq!(
            check_upgraded(&simulator.snapshot(), &target()),
            vec![],
            "{servers} servers"
        );
        assert!(simulator.snapshot().is_healthy());
        assert!(
            simulator.violations().is_empty(),
            "{:?}",
            simulator.violations()
        );
        assert!(check_invariants(simulator.cluster()).is_empty());
    }
}

#[test]
fn downtime_procedure_with_excluded_running_standbys_also_works() {
    let mut simulator = sim(3, &[]);
    each(&mut simulator, &["mgt-2", "mgt-3"], exclude);
    ok(&mut simulator, stop("mgt-1"));
    ok(&mut simulator, upgrade("mgt-1"));
    for standby in ["mgt-2", "mgt-3"] {
        ok(&mut simulator, upgrade(standby));
        ok(&mut simulator, init(standby));
    }
    assert_eq!(check_upgraded(&simulator.snapshot(), &target()), vec![]);
    assert!(simulator.violations().is_empty());
}

fn no_downtime_upgrade(servers: usize, faults: &[&str]) -> Simulator {
    let mut simulator = sim(servers, faults);
    let initial = "mgt-1";
    let final_active = "mgt-2";
    let extras: Vec<String> = (3..=servers).map(|index| format!("mgt-{index}")).collect();
    // 1. Exclude the Final Active Server.
    ok(&mut simulator, exclude(final_active));
    // 2. Stop the extra standbys (the first one is excluded instead, to cover both).
    for (index, extra) in extras.iter().enumerate() {
        if index == 0 {
            ok(&mut simulator, exclude(extra));
        } else {
            ok(&mut simulator, stop(extra));
        }
    }
    // 3. Upgrade the Final Active Server.
    ok(&mut simulator, upgrade(final_active));
    // 4. Force its activation: two Actives, no split brain (it is excluded).
    ok(&mut simulator, force_activate(final_active));
    assert_eq!(simulator.cluster().running_actives().len(), 2);
    assert!(simulator.cluster().split_brain().is_none());
    // 5. As soon as possible, force the Initial Active to Standby.
    ok(&mut simulator, set_standby(initial, true));
    // 6. Upgrade the Initial Active (stopped first: it is still declared).
    ok(&mut simulator, stop(initial));
    ok(&mut simulator, upgrade(initial));
    // 7. Upgrade the other standbys.
    for extra in &extras {
        ok(&mut simulator, upgrade(extra));
    }
    // Initialize every standby from the Final Active.
    ok(&mut simulator, init(initial));
    for extra in &extras {
        ok(&mut simulator, init(extra));
    }
    simulator
}

#[test]
fn no_downtime_procedure_reaches_the_healthy_upgraded_cluster() {
    for servers in [3, 5] {
        let simulator = no_downtime_upgrade(servers, &[]);
        assert_eq!(
            check_upgraded(&simulator.snapshot(), &target()),
            vec![],
            "{servers} servers"
        );
        assert_eq!(mode(&simulator, "mgt-2"), Mode::Active);
        assert!(
            simulator.violations().is_empty(),
            "{:?}",
            simulator.violations()
        );
    }
}

#[test]
fn no_downtime_procedure_counts_the_changes_it_discards() {
    let simulator = no_downtime_upgrade(3, &["changes-on-active"]);
    assert_eq!(check_upgraded(&simulator.snapshot(), &target()), vec![]);
    let discarded: Vec<&InvariantViolation> = simulator
        .violations()
        .iter()
        .filter(|violation| matches!(violation, InvariantViolation::ChangesDiscarded { .. }))
        .collect();
    assert!(
        !discarded.is_empty(),
        "changes made on the Initial Active during the upgrade are lost"
    );
    let InvariantViolation::ChangesDiscarded { server, count, .. } = discarded[0] else {
        unreachable!("filtered above");
    };
    assert_eq!(server, "mgt-1");
    assert!(
        *count >= 2,
        "at least the changes during the upgrade of the Final Active: {count}"
    );
}

#[test]
fn active_upgrade_cancelled_also_fires_on_the_initial_active_in_the_no_downtime_procedure() {
    let mut simulator = sim(3, &["active-upgrade-cancelled"]);
    ok(&mut simulator, exclude("mgt-2"));
    ok(&mut simulator, exclude("mgt-3"));
    ok(&mut simulator, upgrade("mgt-2"));
    assert!(
        simulator.fired_faults().is_empty(),
        "not on the Final Active"
    );
    ok(&mut simulator, force_activate("mgt-2"));
    ok(&mut simulator, set_standby("mgt-1", true));
    ok(&mut simulator, stop("mgt-1"));
    let result = simulator.run(&upgrade("mgt-1"));
    assert!(
        matches!(
            result,
            Err(SimError::Failed {
                kind: FailureKind::UpgradeCancelled,
                ..
            })
        ),
        "{result:?}"
    );
    // Set Standby (and Stop Replication) cleared its replication before the
    // installer ran: back on its old version, it is not initialized.
    assert_eq!(state(&simulator, "mgt-1"), ReplicationState::StbNoRep);
    // The What-if: exclude it, upgrade again, initialize.
    ok(&mut simulator, exclude("mgt-1"));
    ok(&mut simulator, upgrade("mgt-1"));
    ok(&mut simulator, upgrade("mgt-3"));
    ok(&mut simulator, init("mgt-1"));
    ok(&mut simulator, init("mgt-3"));
    assert_eq!(check_upgraded(&simulator.snapshot(), &target()), vec![]);
}

#[test]
fn the_pure_model_can_be_stepped_and_branched() {
    let mut cluster = Cluster::new(&names(3), &version("7.3.4"));
    for server in ["mgt-2", "mgt-3", "mgt-1"] {
        cluster.apply(&stop(server)).expect("stop");
    }
    let Ok(Started::Background(job)) = cluster.apply(&upgrade("mgt-1")) else {
        panic!("background");
    };
    let faults = [Fault::StandbyAutoActivates];
    let mut branches = Vec::new();
    while let Some((_, progress)) = cluster.step() {
        for item in progress {
            if let runbook::cluster::Progress::Reached(point) = item {
                for (_, event) in possible_fault_events(&cluster, &faults, &point, "mgt-1") {
                    let mut branch = cluster.clone();
                    branch.inject(&event);
                    branches.push(branch);
                }
            }
        }
    }
    assert!(cluster.job(job).is_none());
    assert_eq!(branches.len(), 2, "mgt-2 or mgt-3 may activate itself");
    assert_ne!(branches[0], branches[1]);
    assert_eq!(
        cluster.snapshot().server("mgt-1").map(|server| server.mode),
        Some(Mode::Active)
    );
}

/// Runs `cluster`'s background job `job` phase by phase, calling `at` at
/// every fault point it reaches, until the job ends; returns its result.
fn run_job(
    cluster: &mut Cluster,
    job: JobId,
    mut at: impl FnMut(&mut Cluster, &FaultPoint) -> Vec<runbook::cluster::Progress>,
) -> Result<OperationOutput, SimError> {
    loop {
        let Some((_, progress)) = cluster.step() else {
            panic!("the job never ended");
        };
        let mut all = progress;
        let points: Vec<FaultPoint> = all
            .iter()
            .filter_map(|item| match item {
                runbook::cluster::Progress::Reached(point) => Some(point.clone()),
                runbook::cluster::Progress::Finished { .. } => None,
            })
            .collect();
        for point in &points {
            all.extend(at(cluster, point));
        }
        for item in all {
            if let runbook::cluster::Progress::Finished {
                job: ended, result, ..
            } = item
            {
                if ended == job {
                    return result;
                }
            }
        }
    }
}

#[test]
fn a_crash_during_a_standby_initialization_fails_it() {
    let crash = [
        Fault::Crash(String::from("mgt-2")),
        Fault::Crash(String::from("mgt-1")),
    ];
    for crashed in ["mgt-2", "mgt-1"] {
        let mut cluster = Cluster::new(&names(3), &version("7.3.4"));
        cluster.apply(&exclude("mgt-2")).expect("exclude");
        let Ok(Started::Background(job)) = cluster.apply(&init("mgt-2")) else {
            panic!("background");
        };
        let mut fired = false;
        let result = run_job(&mut cluster, job, |cluster, point| {
            let events = possible_fault_events(cluster, &crash, point, "mgt-1");
            match events
                .into_iter()
                .find(|(_, event)| event.server() == Some(crashed))
            {
                Some((_, event)) if !fired => {
                    assert!(
                        matches!(point, FaultPoint::StandbySynchronizing { .. }),
                        "{point:?}"
                    );
                    fired = true;
                    cluster.inject(&event)
                }
                _ => Vec::new(),
            }
        });
        assert!(fired, "{crashed} may crash during the initialization");
        let Err(SimError::Failed { kind, message }) = result else {
            panic!("{crashed}: the initialization fails: {result:?}");
        };
        assert_eq!(kind, FailureKind::Failed);
        assert!(message.contains("mgt-2"), "{message}");
        let standby = cluster.server("mgt-2").expect("mgt-2");
        assert!(
            !standby.is_initialized(),
            "{crashed}: mgt-2 must be initialized again"
        );
        assert!(cluster.jobs().is_empty());
    }
}

#[test]
fn a_crash_of_the_wizards_target_or_of_the_active_it_demotes_stops_the_wizard() {
    // The target at any phase; the previous Active until it is demoted
    // (and, once Standby, up to the last phase, where it restarts).
    for (crashed, phase_limit, last) in [("mgt-2", 6, 6), ("mgt-1", 3, 5)] {
        for at_phase in 1..=last {
            let mut cluster = Cluster::new(&names(3), &version("7.3.4"));
            let Ok(Started::Background(job)) = cluster.apply(&activate("mgt-2")) else {
                panic!("background");
            };
            let crash = [Fault::Crash(crashed.to_string())];
            let result = run_job(&mut cluster, job, |cluster, point| match point {
                FaultPoint::ActivationPhase { phase, .. } if *phase == at_phase => {
                    let events = possible_fault_events(cluster, &crash, point, "mgt-1");
                    events
                        .into_iter()
                        .flat_map(|(_, event)| cluster.inject(&event))
                        .collect()
                }
                _ => Vec::new(),
            });
            let context = format!("{crashed} crashes entering phase {at_phase}");
            assert!(
                !cluster.server(crashed).expect("exists").running,
                "{context}"
            );
            if at_phase <= phase_limit {
                let Err(SimError::Failed { kind, message }) = &result else {
                    panic!("{context}: the wizard stops: {result:?}");
                };
                assert_eq!(*kind, FailureKind::Interrupted, "{context}");
                assert!(
                    message.contains(&format!("{crashed} stopped")),
                    "{context}: {message}"
                );
            } else {
                assert!(
                    result.is_ok(),
                    "{context}: the wizard no longer needs it: {result:?}"
                );
            }
        }
    }
}

/// What a run checks of a runbook's `from` declaration: every starting
/// cluster the verifier explores from (every variant, 2 to 8 servers), as
/// a run reads it, fits its state; a healthy cluster fits only `healthy`
/// (and the loose `wizard-interrupted`).
#[test]
fn every_starting_cluster_fits_its_state_as_a_run_reads_it() {
    use runbook::cluster::starting_clusters;
    use runbook::domain::StartingState;
    for servers in 2..=8 {
        for state in StartingState::ALL {
            for start in starting_clusters(&names(servers), &version("7.3.4"), state) {
                // No server of a starting cluster is unreachable: what a run
                // reads is the model's snapshot.
                let observed = start.cluster.snapshot();
                assert!(
                    state.fits(&observed, start.cluster.split_brain()),
                    "{servers} servers, {}: {observed:#?}",
                    start.label
                );
            }
        }
        let healthy = Cluster::new(&names(servers), &version("7.3.4")).snapshot();
        let fitting: Vec<StartingState> = StartingState::ALL
            .into_iter()
            .filter(|state| state.fits(&healthy, None))
            .collect();
        assert_eq!(
            fitting,
            [StartingState::Healthy, StartingState::WizardInterrupted],
            "{servers} servers"
        );
    }
}
