//! The scenario suite of the shipped runbooks (issue 5). Each row of the
//! table — a runbook, the faults the procedure pages describe, the expected
//! end — is declared once, as a function of the [`Target`] it runs on, and
//! runs on both (the list is at the end, [`on_both_targets!`]):
//!
//! - [`Target::InProcess`]: the runbook embedded in the binary against the
//!   simulator on virtual time;
//! - [`Target::Http`]: the same runbook through the `smc` connector against
//!   `runbook sim serve` started inside the test on `127.0.0.1:0` (the
//!   server's code in-process at high speed, so that the simulator's
//!   recorded violations can be read).
//!
//! Each asserts the final cluster — the true one, and as the connector reads
//! it (through the API over HTTP) —, the invariants of `domain.md`
//! (`check_upgraded`, the simulator's recorded `violations()`), the outcome
//! and the messages. Where the targets differ by design (the published API
//! has no count of administrator changes), the scenario says how.
//!
//! A split brain is compared across the targets; a few rows run the built
//! binary against both (`--sim-fault`, and `--target` on a `runbook sim
//! serve` process); the verifier proves every shipped runbook.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use runbook::check::verify::{self, VerifyOptions};
use runbook::cluster::{
    FaultEvent, InvariantViolation, Mode, Operation, OperationOutput, ReplicationState, Simulator,
    Snapshot,
};
use runbook::connect::sim::SimConnector;
use runbook::connect::sim_server::RunningSimServer;
use runbook::connect::smc::{SmcConnector, SmcSettings};
use runbook::connect::{ApiKey, ClockKind, Connector, ConnectorError};
use runbook::interp::events::{EventKind, RunOutcome};
use runbook::interp::program::Program;

use crate::support::process::{self, SimServe};
use crate::support::*;

const DOWNTIME: &str = "upgrade-with-downtime";
const NO_DOWNTIME: &str = "upgrade-no-downtime";
const PREPARATION: &str = "upgrade-preparation";

/// The key of every `sim serve` started here.
const KEY: &str = "scenario-key-7d1e4b";
/// `sim serve`'s speed: 12.5 simulated minutes of an upgrade take about 0.1 s.
const SPEED: f64 = 6000.0;

// ----- the targets -------------------------------------------------------------

/// Where a scenario runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// The simulator in-process, on virtual time (the `sim` connector).
    InProcess,
    /// `runbook sim serve` on loopback, through the `smc` connector.
    Http,
}

impl Target {
    /// A fresh simulated cluster of `servers` with these faults and `seed`.
    async fn cluster(self, servers: usize, faults: &[&str], seed: u64) -> Cluster {
        self.cluster_at(servers, faults, seed, SPEED).await
    }

    /// [`Target::cluster`], served at `speed` simulated seconds per real
    /// second over HTTP (the in-process simulator's time is virtual).
    async fn cluster_at(self, servers: usize, faults: &[&str], seed: u64, speed: f64) -> Cluster {
        match self {
            Target::InProcess => Cluster::InProcess(Box::new(sim(servers, faults, seed))),
            Target::Http => {
                let server = serve_sim(sim_config(servers, faults, seed), KEY, speed).await;
                let connector =
                    SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(KEY), smc_settings())
                        .await
                        .expect("connect");
                Cluster::Http {
                    server,
                    connector: Box::new(connector),
                }
            }
        }
    }
}

/// Short timeouts: a server that does not answer is given up on quickly.
fn smc_settings() -> SmcSettings {
    SmcSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(500),
        read_retries: 1,
        retry_backoff: Duration::from_millis(10),
        ..SmcSettings::default()
    }
}

/// A simulated cluster on a [`Target`], with the connector that reaches it.
enum Cluster {
    InProcess(Box<SimConnector>),
    Http {
        server: RunningSimServer,
        connector: Box<SmcConnector>,
    },
}

impl Cluster {
    /// The connector a run uses.
    fn connector(&self) -> &dyn Connector {
        match self {
            Cluster::InProcess(connector) => connector.as_ref(),
            Cluster::Http { connector, .. } => connector.as_ref(),
        }
    }

    /// Reads the simulator behind the target.
    fn read<R>(&self, read: impl FnOnce(&Simulator) -> R) -> R {
        match self {
            Cluster::InProcess(connector) => read(&connector.simulator()),
            Cluster::Http { server, .. } => server.shared().read(read),
        }
    }

    /// The true cluster, unreachable servers included.
    fn truth(&self) -> Snapshot {
        self.read(Simulator::snapshot)
    }

    /// The cluster as the connector reads it (through the API over HTTP).
    async fn seen(&self) -> Snapshot {
        self.connector()
            .snapshot()
            .await
            .expect("snapshot through the connector")
    }

    /// Every invariant violation the simulator recorded.
    fn violations(&self) -> Vec<InvariantViolation> {
        self.read(|simulator| simulator.violations().to_vec())
    }

    /// The recorded violations, less the discarded changes.
    fn safety_violations(&self) -> Vec<InvariantViolation> {
        self.read(safety_violations)
    }

    /// Runs `program` with `--yes` and `answers`, journaled in `journal`.
    async fn play(
        &self,
        program: &Program,
        answers: Option<&str>,
        journal: Option<&Path>,
    ) -> Played {
        play(program, self.connector(), answers, journal).await
    }

    /// Runs the shipped runbook `runbook` with `--yes` and `answers`.
    async fn play_shipped(&self, runbook: &str, answers: Option<&str>) -> Played {
        self.play(&shipped(runbook), answers, None).await
    }

    /// Stops `sim serve`.
    async fn shutdown(self) {
        if let Cluster::Http { server, .. } = self {
            server.shutdown().await;
        }
    }
}

// ----- what the simulator recorded ---------------------------------------------

fn discarded_changes(simulator: &Simulator) -> Vec<(String, String, u64)> {
    simulator
        .violations()
        .iter()
        .filter_map(|violation| match violation {
            InvariantViolation::ChangesDiscarded {
                operation,
                server,
                count,
            } => Some((operation.clone(), server.clone(), *count)),
            _ => None,
        })
        .collect()
}

/// The changes the operator made on the Standby it activated.
fn urgent_changes_made(simulator: &Simulator) -> u64 {
    simulator
        .fired_faults()
        .iter()
        .find_map(|fired| match &fired.event {
            FaultEvent::StandbyActivatedByOperator { changes, .. } => Some(*changes),
            _ => None,
        })
        .expect("the operator activated a Standby")
}

/// The promoted server a fault made Active, as the simulator recorded it.
fn promoted_by_fault(simulator: &Simulator) -> String {
    simulator
        .fired_faults()
        .iter()
        .find_map(|fired| match &fired.event {
            FaultEvent::StandbyAutoActivates { server }
            | FaultEvent::StandbyActivatedByOperator { server, .. } => Some(server.clone()),
            _ => None,
        })
        .expect("a Standby was activated")
}

/// The operator is told that a Standby was activated: by the What-if,
/// whether two Actives are visible or the product already set every server
/// to Standby (the split brain the `smc` connector reads from
/// `ha/diagnostic`); the decision "once the upgrade resumes" follows.
fn assert_standby_activation_seen(played: &Played, context: &str) {
    assert_eq!(
        played.what_ifs(),
        ["standby-activated"],
        "{context}: {:?}",
        played.all_warnings()
    );
    assert!(
        played.events.iter().any(|event| matches!(
            event,
            EventKind::Prompt { id, .. } if id == "urgent-change"
        )),
        "{context}: the operator decides how to proceed"
    );
}

// ----- the rows ------------------------------------------------------------------

/// Row 1: "with downtime; preparation — none; 3 and 5 servers — succeeded,
/// all on the target version, one Active ACT_REP, Standbys STB_REP, none
/// excluded".
async fn downtime_and_preparation_without_faults_upgrade_3_and_5_servers(target: Target) {
    for name in [DOWNTIME, PREPARATION] {
        for servers in [3, 5] {
            let context = format!("{target:?}, {name}, {servers} servers");
            let cluster = target.cluster(servers, &[], 0).await;
            let played = cluster.play_shipped(name, None).await;
            played.assert_outcome(RunOutcome::Succeeded, &context);
            assert_upgraded(&played.report.cluster, &context);
            let (truth, seen) = (cluster.truth(), cluster.seen().await);
            for snapshot in [&truth, &seen] {
                assert_upgraded(snapshot, &context);
                assert_eq!(active_name(snapshot), "mgt-1", "{context}");
                assert_eq!(snapshot.servers.len(), servers, "{context}");
            }
            assert!(
                cluster.violations().is_empty(),
                "{context}: {:?}",
                cluster.violations()
            );
            assert!(
                played.what_ifs().is_empty(),
                "{context}: {:?}",
                played.what_ifs()
            );
            // The page's four steps, in order.
            let steps = played.steps_started();
            let order: Vec<usize> = [
                "stop-servers",
                "upgrade-active",
                "upgrade-standbys",
                "init-standbys",
            ]
            .iter()
            .map(|step| {
                steps
                    .iter()
                    .position(|started| started == step)
                    .unwrap_or_else(|| panic!("{context}: step {step} never started: {steps:?}"))
            })
            .collect();
            assert!(
                order.windows(2).all(|pair| pair[0] < pair[1]),
                "{context}: {steps:?}"
            );
            cluster.shutdown().await;
        }
    }
}

/// Row 1 through the preparation's other branches: downtime acceptable, or
/// minimal but servers never switched → with downtime; switched → without.
async fn preparation_chooses_the_method_by_the_page_rules(target: Target) {
    for (answers, expected) in [
        ("downtime-acceptable = \"acceptable\"", "stop-servers"),
        (
            "downtime-acceptable = \"minimal\"\nserver-switching = \"never\"",
            "stop-servers",
        ),
        (
            "downtime-acceptable = \"minimal\"\nserver-switching = \"performed\"\nfinal-active = \"mgt-3\"",
            "force-final-active",
        ),
        ("take-backup = \"skip\"", "stop-servers"),
    ] {
        let context = format!("{target:?}, {answers}");
        let cluster = target.cluster(3, &[], 0).await;
        let played = cluster.play_shipped(PREPARATION, Some(answers)).await;
        played.assert_outcome(RunOutcome::Succeeded, &context);
        assert!(
            played.steps_started().iter().any(|step| step == expected),
            "{context}"
        );
        assert_upgraded(&played.report.cluster, &context);
        let took_backup = cluster.read(|simulator| !simulator.cluster().backups().is_empty());
        assert_eq!(took_backup, !answers.contains("skip"), "{context}");
        // The IMPORTANT NOTICE is shown whatever the method.
        assert!(
            played
                .all_warnings()
                .iter()
                .any(|warning| warning.starts_with("IMPORTANT NOTICE")),
            "{context}"
        );
        cluster.shutdown().await;
    }
}

/// Row 2: "without downtime — none; 3 and 5 servers — the same, and the
/// Active is no longer the Initial Active", the extra Standbys stopped or
/// excluded (or as the runbook proposes).
async fn no_downtime_without_faults_upgrades_3_and_5_servers_and_switches_the_active(
    target: Target,
) {
    for servers in [3, 5] {
        for extra in [None, Some("stop"), Some("exclude")] {
            let context = format!("{target:?}, {servers} servers, extra Standbys: {extra:?}");
            let cluster = target.cluster(servers, &[], 0).await;
            let answers = extra.map(|extra| format!("extra-standby-handling = \"{extra}\""));
            let played = cluster.play_shipped(NO_DOWNTIME, answers.as_deref()).await;
            played.assert_outcome(RunOutcome::Succeeded, &context);
            let (truth, seen) = (cluster.truth(), cluster.seen().await);
            for snapshot in [&truth, &seen] {
                assert_upgraded(snapshot, &context);
                // The Initial Active (mgt-1) is a Standby; the Final Active
                // (the first Standby offered, mgt-2) is the Active.
                assert_eq!(active_name(snapshot), "mgt-2", "{context}");
                assert_eq!(
                    snapshot.server("mgt-1").map(|server| server.mode),
                    Some(Mode::Standby),
                    "{context}"
                );
                assert_eq!(snapshot.servers.len(), servers, "{context}");
            }
            assert!(
                cluster.violations().is_empty(),
                "{context}: {:?}",
                cluster.violations()
            );
            // Steps 4 and 5 each say what they discard: in-process, 0
            // changes (there were none); over HTTP, that the published API
            // cannot count them.
            let counted = played.warnings("runbook::run::discards_changes");
            assert_eq!(counted.len(), 2, "{context}: {counted:?}");
            match target {
                Target::InProcess => assert!(
                    counted
                        .iter()
                        .all(|(_, message)| discarded_count(message) == 0),
                    "{context}: {counted:?}"
                ),
                Target::Http => assert!(
                    counted
                        .iter()
                        .all(|(_, message)| message.contains("cannot count them")),
                    "{context}: {counted:?}"
                ),
            }
            // The page's seven steps, in order.
            let steps = played.steps_started();
            let expected = [
                "exclude-final-active",
                "take-out-extra-standbys",
                "upgrade-final-active",
                "force-final-active",
                "demote-initial-active",
                "upgrade-initial-active",
                "upgrade-other-standbys",
                "init-standbys",
            ];
            let positions: Vec<usize> = expected
                .iter()
                .map(|step| {
                    steps
                        .iter()
                        .position(|started| started == step)
                        .unwrap_or_else(|| panic!("{context}: step {step} never started"))
                })
                .collect();
            assert!(
                positions.windows(2).all(|pair| pair[0] < pair[1]),
                "{context}: {steps:?}"
            );
            cluster.shutdown().await;
        }
    }
}

/// Row 3: "preparation — replication-down — the downtime method is chosen
/// and the upgrade succeeds", even when the operator would rather avoid
/// downtime.
async fn preparation_with_replication_down_chooses_downtime_and_succeeds(target: Target) {
    for answers in [
        None,
        Some("downtime-acceptable = \"minimal\"\nserver-switching = \"performed\""),
    ] {
        let context = format!("{target:?}, replication-down, {answers:?}");
        let cluster = target.cluster(3, &["replication-down"], 0).await;
        assert_eq!(
            state_of(&cluster.truth(), "mgt-2"),
            ReplicationState::BrokenActStb,
            "{context}"
        );
        let played = cluster.play_shipped(PREPARATION, answers).await;
        played.assert_outcome(RunOutcome::Succeeded, &context);
        let steps = played.steps_started();
        assert!(
            steps.iter().any(|step| step == "stop-servers"),
            "{context}: {steps:?}"
        );
        assert!(
            !steps.iter().any(|step| step == "force-final-active"),
            "{context}: {steps:?}"
        );
        assert!(
            played
                .all_warnings()
                .iter()
                .any(|warning| warning.starts_with("Replication is down")),
            "{context}: the operator is told that replication is down"
        );
        assert_upgraded(&cluster.truth(), &context);
        assert_upgraded(&cluster.seen().await, &context);
        assert!(
            cluster.safety_violations().is_empty(),
            "{context}: {:?}",
            cluster.violations()
        );
        cluster.shutdown().await;
    }
}

/// Row 4: "with downtime — active-upgrade-cancelled — the What-if runs; one
/// Active, replication restored, the operator told what happened". With
/// replication still declared (Standbys stopped) and not (Standbys
/// excluded), and with the backup restored.
async fn a_cancelled_active_upgrade_runs_the_what_if_and_restores_replication(target: Target) {
    for (name, answers) in [
        (DOWNTIME, "standby-handling = \"stop\""),
        (DOWNTIME, "standby-handling = \"exclude\""),
        (PREPARATION, "after-cancel = \"restore-backup\""),
        (
            PREPARATION,
            "standby-handling = \"exclude\"\nafter-cancel = \"keep-state\"",
        ),
    ] {
        for servers in [3, 5] {
            let context = format!("{target:?}, {name}, {answers}, {servers} servers");
            let cluster = target
                .cluster(servers, &["active-upgrade-cancelled"], 0)
                .await;
            let played = cluster.play_shipped(name, Some(answers)).await;
            assert_eq!(played.what_ifs(), ["active-upgrade-cancelled"], "{context}");
            played.assert_outcome(RunOutcome::Stopped, &context);
            assert!(
                played.report.message.contains("cancelled")
                    && played.report.message.contains("replication")
                    && played.report.message.contains("run the upgrade again"),
                "{context}: the operator is told: {}",
                played.report.message
            );
            assert!(
                played
                    .all_warnings()
                    .iter()
                    .any(|warning| warning.contains("cancelled")),
                "{context}"
            );
            // One Active, the original one, replication restored on the
            // previous version.
            let (truth, seen) = (cluster.truth(), cluster.seen().await);
            for snapshot in [&truth, &seen] {
                assert_eq!(active_name(snapshot), "mgt-1", "{context}");
                assert_healthy_on(snapshot, &initial(), &context);
            }
            assert!(
                cluster.safety_violations().is_empty(),
                "{context}: {:?}",
                cluster.violations()
            );
            if answers.contains("restore-backup") {
                assert!(
                    played.first_operation("restore-backup mgt-1").is_some(),
                    "{context}: the backup is restored"
                );
            }
            cluster.shutdown().await;
        }
    }
}

/// Row 5: "with downtime — standby-auto-activates — never two Actives at the
/// end; recovered or stopped with instructions", whichever Standby the seed
/// activates, Standbys stopped or excluded in step 1, 3 and 5 servers.
async fn a_standby_that_activates_itself_never_leaves_two_actives(target: Target) {
    let program = shipped(DOWNTIME);
    for servers in [3, 5] {
        for seed in 0..4 {
            for handling in ["stop", "exclude"] {
                let context =
                    format!("{target:?}, {servers} servers, seed {seed}, Standbys {handling}");
                // The operator names the server that activated itself (the
                // what_if reason says which); a first run finds it.
                let answers = format!("standby-handling = \"{handling}\"");
                let probe = target
                    .cluster(servers, &["standby-auto-activates"], seed)
                    .await;
                probe.play(&program, Some(&answers), None).await;
                let promoted = probe.read(promoted_by_fault);
                probe.shutdown().await;
                let cluster = target
                    .cluster(servers, &["standby-auto-activates"], seed)
                    .await;
                let answers = format!("{answers}\npromoted-server = \"{promoted}\"");
                let played = cluster.play(&program, Some(&answers), None).await;
                assert_standby_activation_seen(&played, &context);
                assert!(
                    played
                        .what_if_reason("standby-activated")
                        .is_some_and(|reason| reason.contains(&promoted)),
                    "{context}: the reason names {promoted}"
                );
                let (truth, seen) = (cluster.truth(), cluster.seen().await);
                for snapshot in [&truth, &seen] {
                    assert!(
                        running_actives(snapshot).len() <= 1,
                        "{context}: {snapshot:#?}"
                    );
                }
                match played.outcome() {
                    RunOutcome::Succeeded => {
                        assert_upgraded(&truth, &context);
                        assert_upgraded(&seen, &context);
                    }
                    other => panic!("{context}: {other:?}: {}", played.report.message),
                }
                // Recovered: the upgraded Active keeps the configuration.
                assert_eq!(active_name(&truth), "mgt-1", "{context}");
                assert!(
                    cluster.safety_violations().is_empty(),
                    "{context}: {:?}",
                    cluster.violations()
                );
                cluster.shutdown().await;
            }
        }
    }
}

/// Row 6: "with downtime — standby-activated-by-operator — option 1 and
/// option 2 each lead to a healthy upgraded cluster". Option 1 keeps the
/// urgent change (the promoted server ends Active, the change replicated
/// everywhere); option 2 discards it, after a warning that counts it (or,
/// over HTTP, says it cannot) and a confirmation.
async fn an_operator_activated_standby_option_1_and_option_2_end_healthy(target: Target) {
    let program = shipped(DOWNTIME);
    for servers in [3, 5] {
        for handling in ["stop", "exclude"] {
            let probe = target
                .cluster(servers, &["standby-activated-by-operator"], 0)
                .await;
            let answers = format!("standby-handling = \"{handling}\"");
            probe.play(&program, Some(&answers), None).await;
            let promoted = probe.read(promoted_by_fault);
            probe.shutdown().await;
            for option in ["keep", "discard"] {
                let context =
                    format!("{target:?}, {servers} servers, Standbys {handling}, option {option}");
                let cluster = target
                    .cluster(servers, &["standby-activated-by-operator"], 0)
                    .await;
                let answers = format!(
                    "standby-handling = \"{handling}\"\npromoted-server = \"{promoted}\"\nurgent-change = \"{option}\""
                );
                let played = cluster.play(&program, Some(&answers), None).await;
                assert_standby_activation_seen(&played, &context);
                played.assert_outcome(RunOutcome::Succeeded, &context);
                let (truth, seen) = (cluster.truth(), cluster.seen().await);
                assert_upgraded(&truth, &context);
                assert_upgraded(&seen, &context);
                assert!(
                    cluster.safety_violations().is_empty(),
                    "{context}: {:?}",
                    cluster.violations()
                );
                let urgent_changes = cluster.read(urgent_changes_made);
                assert!(urgent_changes > 0, "{context}");
                let lost = cluster.read(discarded_changes);
                if option == "keep" {
                    // Option 1: the promoted server is the Active, its change
                    // reached every server, nothing was discarded.
                    assert!(
                        played
                            .steps_started()
                            .contains(&"keep-urgent-change".to_string()),
                        "{context}"
                    );
                    assert_eq!(active_name(&truth), promoted, "{context}");
                    assert_eq!(active_name(&seen), promoted, "{context}");
                    let revision = truth.server(&promoted).map(|server| server.config_revision);
                    assert!(
                        truth
                            .servers
                            .iter()
                            .all(|server| Some(server.config_revision) == revision),
                        "{context}: {truth:#?}"
                    );
                    assert!(lost.is_empty(), "{context}: {lost:?}");
                } else {
                    // Option 2: the previous Active is Active again; the
                    // discarded changes were announced before they were lost.
                    assert!(
                        played
                            .steps_started()
                            .contains(&"discard-urgent-change".to_string()),
                        "{context}"
                    );
                    assert_eq!(active_name(&truth), "mgt-1", "{context}");
                    assert_eq!(active_name(&seen), "mgt-1", "{context}");
                    let counted = played.warnings("runbook::run::discards_changes");
                    assert_eq!(counted.len(), 1, "{context}: {counted:?}");
                    match target {
                        Target::InProcess => {
                            assert_eq!(discarded_count(&counted[0].1), urgent_changes, "{context}");
                            assert!(counted[0].1.contains(&promoted), "{context}");
                        }
                        Target::Http => {
                            // The published API has no count of changes: the
                            // run says so and asks, instead of announcing a
                            // number.
                            assert!(
                                counted[0].1.contains("cannot count them"),
                                "{context}: {}",
                                counted[0].1
                            );
                            assert!(
                                played
                                    .prompts()
                                    .iter()
                                    .any(|(id, answer)| id.ends_with(".discard-changes")
                                        && *answer == true),
                                "{context}: {:?}",
                                played.prompts()
                            );
                        }
                    }
                    assert!(
                        lost.iter()
                            .all(|(_, server, count)| *server == promoted
                                && *count <= urgent_changes),
                        "{context}: {lost:?}"
                    );
                    assert!(!lost.is_empty(), "{context}");
                }
                cluster.shutdown().await;
            }
        }
    }
}

/// Row 7: "without downtime — changes-on-active — a warning with the number
/// of changes that will be lost, before they are". The published API has no
/// count of administrator changes, so over HTTP the run says it cannot
/// count them — never "0 changes" — and asks once (the operator checks the
/// audit). Either way the simulator lost changes at the demotion, and only
/// there.
async fn changes_on_the_initial_active_are_counted_before_they_are_lost(target: Target) {
    let program = shipped(NO_DOWNTIME);
    for servers in [3, 5] {
        let context = format!("{target:?}, {servers} servers, changes-on-active");
        // Over HTTP, slow enough that changes are made while the run goes.
        let cluster = target
            .cluster_at(servers, &["changes-on-active"], 0, 600.0)
            .await;
        let played = cluster.play(&program, None, None).await;
        played.assert_outcome(RunOutcome::Succeeded, &context);
        assert_upgraded(&cluster.truth(), &context);
        assert_upgraded(&cluster.seen().await, &context);
        assert!(
            cluster.safety_violations().is_empty(),
            "{context}: {:?}",
            cluster.violations()
        );

        // The page's warning comes first, when the run starts.
        let page_warning = played
            .all_warnings()
            .iter()
            .position(|warning| warning.starts_with("Any changes made on the Active Server after the upgrade process has started will be lost"));
        assert!(page_warning.is_some(), "{context}");

        // Then what is discarded on the Initial Active: before the Final
        // Active is forced Active (step 4), and again, up to date, before
        // the Initial Active is forced to Standby (step 5), which is where
        // the changes are lost.
        let counted = played.warnings("runbook::run::discards_changes");
        assert_eq!(counted.len(), 2, "{context}: {counted:?}");
        let (before_activation, first) = &counted[0];
        let (at, message) = &counted[1];
        assert!(
            first.contains("force-final-active") && first.contains("mgt-1"),
            "{context}: {first}"
        );
        assert!(
            message.contains("demote-initial-active") && message.contains("mgt-1"),
            "{context}: {message}"
        );
        let activation = played
            .first_operation("force-activate mgt-2")
            .expect("step 4 ran");
        let demotion = played
            .first_operation("set-standby mgt-1")
            .expect("step 5 ran");
        assert!(
            *before_activation < activation && activation < *at && *at < demotion,
            "{context}"
        );
        // The operator confirmed losing them once, in step 4, while one
        // server was still Active; step 5 announces but does not ask again
        // — a refusal there could only leave two Actives.
        let discard_prompts: Vec<&str> = played
            .events
            .iter()
            .filter_map(|event| match event {
                EventKind::Prompt { id, .. } if id.ends_with("discard-changes") => {
                    Some(id.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            discard_prompts,
            ["force-final-active.discard-changes"],
            "{context}"
        );
        // What the simulator saw lost when the Initial Active was set to
        // Standby.
        let lost = cluster.read(discarded_changes);
        let at_demotion: Vec<u64> = lost
            .iter()
            .filter(|(operation, server, _)| {
                operation.starts_with("set-standby mgt-1") && server == "mgt-1"
            })
            .map(|(_, _, count)| *count)
            .collect();
        assert_eq!(at_demotion.len(), 1, "{context}: {lost:?}");
        assert!(at_demotion[0] > 0, "{context}: {lost:?}");
        match target {
            Target::InProcess => {
                assert!(
                    discarded_count(first) > 0,
                    "{context}: the fault made changes: {first}"
                );
                let announced = discarded_count(message);
                assert!(announced >= discarded_count(first), "{context}");
                // Step 5 loses no more than step 4 announced (virtual time
                // does not pass between them)...
                assert_eq!(discarded_count(first), announced, "{context}");
                // ...and exactly what was announced: nothing lost silently.
                assert_eq!(at_demotion, [announced], "{context}: {lost:?}");
            }
            Target::Http => {
                for (_, message) in &counted {
                    assert!(
                        message.contains("cannot count them"),
                        "{context}: {message}"
                    );
                    assert!(!message.contains("discards 0"), "{context}: {message}");
                }
            }
        }
        cluster.shutdown().await;
    }
}

/// Declining to lose the changes stops the run before two servers are Active.
async fn declining_to_lose_the_changes_stops_with_the_initial_active(target: Target) {
    let context = format!("{target:?}");
    let cluster = target.cluster(3, &["changes-on-active"], 0).await;
    let played = cluster
        .play_shipped(
            NO_DOWNTIME,
            Some("\"force-final-active.discard-changes\" = false"),
        )
        .await;
    played.assert_outcome(RunOutcome::Stopped, &context);
    assert_eq!(active_name(&cluster.truth()), "mgt-1", "{context}");
    assert_eq!(active_name(&cluster.seen().await), "mgt-1", "{context}");
    assert!(
        played.first_operation("force-activate").is_none(),
        "{context}"
    );
    cluster.shutdown().await;
}

/// Row 8: "any — upgrade-fails:SERVER — stopped with one Active and a
/// message saying how to continue", for every runbook and every server.
async fn a_failed_installer_stops_with_one_active_and_says_how_to_continue(target: Target) {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        for server in ["mgt-1", "mgt-2", "mgt-3"] {
            let context = format!("{target:?}, {name}, upgrade-fails:{server}");
            let fault = format!("upgrade-fails:{server}");
            let cluster = target.cluster(3, &[fault.as_str()], 0).await;
            let played = cluster.play_shipped(name, None).await;
            played.assert_outcome(RunOutcome::Stopped, &context);
            assert_eq!(played.what_ifs(), ["installer-failed"], "{context}");
            assert!(
                played
                    .what_if_reason("installer-failed")
                    .is_some_and(|reason| reason.contains(server)),
                "{context}: the reason names the server"
            );
            let message = &played.report.message;
            assert!(
                message.contains("installer")
                    && (message.contains("resume the run")
                        || message.contains("run the upgrade again")),
                "{context}: how to continue: {message}"
            );

            let (truth, seen) = (cluster.truth(), cluster.seen().await);
            for snapshot in [&truth, &seen] {
                assert_eq!(
                    running_actives(snapshot).len(),
                    1,
                    "{context}: {snapshot:#?}"
                );
            }
            assert!(
                cluster.safety_violations().is_empty(),
                "{context}: {:?}",
                cluster.violations()
            );
            cluster.shutdown().await;
        }
    }
}

/// Row 8, continued: following the message — `runbook resume` once the
/// installer is fixed — completes the upgrade.
async fn after_a_failed_installer_resume_completes_the_upgrade(target: Target) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, server) in [
        (DOWNTIME, "mgt-2"),
        (DOWNTIME, "mgt-3"),
        (NO_DOWNTIME, "mgt-1"),
        (NO_DOWNTIME, "mgt-2"),
        (NO_DOWNTIME, "mgt-3"),
    ] {
        let context = format!("{target:?}, {name}, upgrade-fails:{server}");
        let program = shipped(name);
        let fault = format!("upgrade-fails:{server}");
        let cluster = target.cluster(3, &[fault.as_str()], 0).await;
        let journal = dir.path().join(format!("{name}-{server}.jsonl"));
        let played = cluster.play(&program, None, Some(&journal)).await;
        assert_eq!(played.outcome(), RunOutcome::Stopped, "{context}");
        assert!(
            played.report.message.contains("resume the run")
                && played.report.resume_command.is_some(),
            "{context}: {}",
            played.report.message
        );
        // The installer now works (the fault fires once): resume.
        let resumed = resume(&program, cluster.connector(), &journal).await;
        resumed.assert_outcome(RunOutcome::Succeeded, &context);
        assert_upgraded(&cluster.truth(), &context);
        assert_upgraded(&cluster.seen().await, &context);
        assert!(
            cluster.safety_violations().is_empty(),
            "{context}: {:?}",
            cluster.violations()
        );
        cluster.shutdown().await;
    }
}

/// Row 9: "any — unreachable:SERVER — no hang; a clear diagnostic naming the
/// server", before anything was changed (over HTTP the connector gives up
/// after its request timeout).
async fn an_unreachable_server_is_named_and_nothing_changes(target: Target) {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        for server in ["mgt-1", "mgt-2", "mgt-3"] {
            let context = format!("{target:?}, {name}, unreachable:{server}");
            let fault = format!("unreachable:{server}");
            let cluster = target.cluster(3, &[fault.as_str()], 0).await;
            let played = cluster.play_shipped(name, None).await;
            assert_eq!(played.outcome(), RunOutcome::Failed, "{context}");
            let message = &played.report.message;
            assert!(
                message.contains(server),
                "{context}: the diagnostic names the server: {message}"
            );
            assert!(message.contains("did not answer"), "{context}: {message}");
            let error = played.report.error.as_ref().expect("a diagnostic");
            assert!(error.to_string().contains(server), "{context}: {error}");
            // Nothing was changed: every server still on its version, the
            // Active still Active, nothing excluded or stopped.
            let truth = cluster.truth();
            assert_healthy_on(&truth, &initial(), &context);
            assert_eq!(active_name(&truth), "mgt-1", "{context}");
            cluster.shutdown().await;
        }
    }
}

/// The preparation page's notice, a network failure during the upgrade:
/// the Initial Active stops answering before any operation of the
/// no-downtime run (`unreachable:mgt-1@N` for every N). Whatever the
/// occasion, the run never leaves two running Actives; when it is between
/// the forced activation and the demotion, the What-if sets the Final
/// Active back to Standby and stops.
async fn a_network_failure_to_the_initial_active_never_leaves_two_actives(target: Target) {
    let mut reverted = 0;
    for occasion in 1.. {
        let context = format!("{target:?}, {NO_DOWNTIME}, unreachable:mgt-1@{occasion}");
        let fault = format!("unreachable:mgt-1@{occasion}");
        let cluster = target.cluster(3, &[fault.as_str()], 0).await;
        let played = cluster.play_shipped(NO_DOWNTIME, None).await;
        let truth = cluster.truth();
        assert!(
            running_actives(&truth).len() <= 1,
            "{context}: {:?}\n{truth:#?}",
            played.what_ifs()
        );
        assert!(
            cluster.safety_violations().is_empty(),
            "{context}: {:?}",
            cluster.violations()
        );
        let succeeded = played.outcome() == RunOutcome::Succeeded;
        if played
            .what_ifs()
            .contains(&String::from("initial-active-not-demoted"))
        {
            reverted += 1;
            played.assert_outcome(RunOutcome::Stopped, &context);
            assert!(
                played.report.message.contains("did not answer"),
                "{context}: {}",
                played.report.message
            );
            assert_eq!(running_actives(&truth), ["mgt-1"], "{context}");
        }
        cluster.shutdown().await;
        // Past the run's last operation the fault never fires.
        if succeeded {
            break;
        }
        assert!(occasion < 200, "{context}: the run never succeeds");
    }
    assert!(reverted > 0, "{target:?}: no occasion reached the What-if");
}

/// Every scenario above, one test per target: `scenarios::in_process::NAME`
/// and `scenarios::over_http::NAME`.
macro_rules! on_both_targets {
    ($($scenario:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Target::InProcess).await;
                }
            )*
        }

        mod over_http {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Target::Http).await;
                }
            )*
        }
    };
}

on_both_targets![
    downtime_and_preparation_without_faults_upgrade_3_and_5_servers,
    preparation_chooses_the_method_by_the_page_rules,
    no_downtime_without_faults_upgrades_3_and_5_servers_and_switches_the_active,
    preparation_with_replication_down_chooses_downtime_and_succeeds,
    a_cancelled_active_upgrade_runs_the_what_if_and_restores_replication,
    a_standby_that_activates_itself_never_leaves_two_actives,
    an_operator_activated_standby_option_1_and_option_2_end_healthy,
    changes_on_the_initial_active_are_counted_before_they_are_lost,
    declining_to_lose_the_changes_stops_with_the_initial_active,
    a_failed_installer_stops_with_one_active_and_says_how_to_continue,
    after_a_failed_installer_resume_completes_the_upgrade,
    an_unreachable_server_is_named_and_nothing_changes,
    a_network_failure_to_the_initial_active_never_leaves_two_actives,
];

// ----- across the targets ----------------------------------------------------------

/// A connector that records every answer of `split_brain()`. It forwards
/// what a run reads and does; the rest keeps the trait's defaults — among
/// them `counts_changes` (true), so that both targets word a discard
/// warning alike and the runs compare warning for warning.
struct SplitBrainLog<'a> {
    inner: &'a dyn Connector,
    answers: Mutex<Vec<Option<Vec<String>>>>,
}

impl<'a> SplitBrainLog<'a> {
    fn new(inner: &'a dyn Connector) -> Self {
        SplitBrainLog {
            inner,
            answers: Mutex::new(Vec::new()),
        }
    }

    fn answers(&self) -> Vec<Option<Vec<String>>> {
        self.answers.lock().expect("not poisoned").clone()
    }
}

#[async_trait::async_trait]
impl Connector for SplitBrainLog<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn snapshot(&self) -> Result<Snapshot, ConnectorError> {
        self.inner.snapshot().await
    }

    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError> {
        self.inner.perform(operation).await
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }

    fn clock(&self) -> Duration {
        self.inner.clock()
    }

    fn clock_kind(&self) -> ClockKind {
        self.inner.clock_kind()
    }

    fn outcome_always_seen(&self) -> bool {
        self.inner.outcome_always_seen()
    }

    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        let answer = self.inner.split_brain().await?;
        self.answers
            .lock()
            .expect("not poisoned")
            .push(answer.clone());
        Ok(answer)
    }
}

/// A split brain (the upgraded Active came back while a Standby it still
/// replicated with had become Active: the product set every server to
/// Standby) fires the What-if over HTTP exactly as in-process: same
/// handler, same reason, same steps, warnings, outcome and final cluster.
/// Over HTTP the fact comes from the monitoring message every running
/// server reports in `ha/diagnostic`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_brain_fires_the_what_if_alike_on_both_targets() {
    let program = shipped(DOWNTIME);
    for (fault, extra) in [
        ("standby-auto-activates", ""),
        (
            "standby-activated-by-operator",
            "\nurgent-change = \"keep\"",
        ),
    ] {
        let answers = format!("standby-handling = \"stop\"\npromoted-server = \"mgt-2\"{extra}");
        let in_process = Target::InProcess.cluster(3, &[fault], 0).await;
        let logged = SplitBrainLog::new(in_process.connector());
        let expected = play(&program, &logged, Some(&answers), None).await;
        let expected_split = logged.answers();
        let expected_final = in_process.read(Simulator::observed_snapshot);

        let http = Target::Http.cluster(3, &[fault], 0).await;
        let logged = SplitBrainLog::new(http.connector());
        let played = play(&program, &logged, Some(&answers), None).await;
        let http_split = logged.answers();
        let snapshot = http.seen().await;
        // It was a split brain, and both targets reported it alike: every
        // answer of `split_brain()` along the run is the same.
        let split = Some(vec!["mgt-1".to_string(), "mgt-2".to_string()]);
        assert!(
            expected_split.contains(&split),
            "{fault}: in-process, the run met a split brain: {expected_split:?}"
        );
        assert_eq!(http_split, expected_split, "{fault}");
        assert_eq!(expected.what_ifs(), ["standby-activated"], "{fault}");
        assert_eq!(played.what_ifs(), expected.what_ifs(), "{fault}");
        assert_eq!(
            played.what_if_reason("standby-activated"),
            expected.what_if_reason("standby-activated"),
            "{fault}"
        );
        assert!(
            played
                .what_if_reason("standby-activated")
                .is_some_and(|reason| reason.contains("mgt-2")),
            "{fault}: the reason names the server that became Active"
        );
        assert_eq!(played.steps_started(), expected.steps_started(), "{fault}");
        assert_eq!(played.all_warnings(), expected.all_warnings(), "{fault}");
        assert_eq!(played.outcome(), expected.outcome(), "{fault}");
        played.assert_outcome(RunOutcome::Succeeded, fault);
        assert_eq!(
            comparable(&snapshot),
            comparable(&expected_final),
            "{fault}"
        );
        assert!(http.safety_violations().is_empty(), "{fault}");
        http.shutdown().await;
    }
}

// ----- the built binary --------------------------------------------------------------

/// Where the built binary runs: `--sim-fault` (its in-process simulator),
/// or `--target URL` on a `runbook sim serve` process.
enum BinaryTarget {
    InProcess(Vec<String>),
    Http(SimServe),
}

impl BinaryTarget {
    fn start(target: Target, faults: &[&str]) -> Self {
        match target {
            Target::InProcess => {
                BinaryTarget::InProcess(faults.iter().map(|fault| fault.to_string()).collect())
            }
            Target::Http => {
                let mut args: Vec<OsString> = vec!["--speed".into(), "6000".into()];
                for fault in faults {
                    args.extend(["--sim-fault".into(), (*fault).into()]);
                }
                BinaryTarget::Http(SimServe::with_args(args))
            }
        }
    }

    /// Points `command` at the target.
    fn apply(&self, command: &mut assert_cmd::Command) {
        match self {
            BinaryTarget::InProcess(faults) => {
                for fault in faults {
                    command.args(["--sim-fault", fault]);
                }
            }
            BinaryTarget::Http(sim) => {
                command
                    .args(["--target", &sim.url, "--request-timeout", "1s"])
                    .env("RUNBOOK_API_KEY", process::KEY);
            }
        }
    }
}

/// A few rows through the built binary, as a user runs them (rehearses them,
/// over HTTP): `--format json`, answers files from
/// `tests/fixtures/answers/`, from a directory without the repository (the
/// runbooks are embedded).
async fn rows_through_the_binary_with_answers_files(target: Target) {
    let answers_dir = manifest_dir().join("tests/fixtures/answers");
    let dir = tempfile::tempdir().expect("tempdir");
    for (runbook, faults, answers, outcome, what_if) in [
        (DOWNTIME, vec![], None, "succeeded", None),
        (
            NO_DOWNTIME,
            vec!["changes-on-active"],
            None,
            "succeeded",
            None,
        ),
        (
            DOWNTIME,
            vec!["standby-activated-by-operator"],
            Some("option-1.toml"),
            "succeeded",
            Some("standby-activated"),
        ),
        (
            DOWNTIME,
            vec!["standby-activated-by-operator"],
            Some("option-2.toml"),
            "succeeded",
            Some("standby-activated"),
        ),
        (
            PREPARATION,
            vec!["replication-down"],
            Some("no-downtime-wanted.toml"),
            "succeeded",
            None,
        ),
        (
            DOWNTIME,
            vec!["upgrade-fails:mgt-2"],
            None,
            "stopped",
            Some("installer-failed"),
        ),
        (DOWNTIME, vec!["unreachable:mgt-3"], None, "failed", None),
    ] {
        let context = format!("{target:?}: {runbook} {faults:?} {answers:?}");
        let on = BinaryTarget::start(target, &faults);
        let mut command = process::command_in(dir.path());
        command.args([
            "run",
            runbook,
            "--yes",
            "--accept-data-loss",
            "--format",
            "json",
        ]);
        on.apply(&mut command);
        if let Some(file) = answers {
            command.arg("--answers").arg(answers_dir.join(file));
        }
        let output = process::output_blocking(command).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !stdout.contains(process::KEY) && !process::text(&output.stderr).contains(process::KEY),
            "{context}: the key is never printed"
        );
        let events: Vec<serde_json::Value> = stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| panic!("{context}: not JSON: {line}"))
            })
            .collect();
        let last = events.last().expect("events");
        assert_eq!(last["event"], "run_finished", "{context}");
        assert_eq!(last["outcome"], outcome, "{context}: {last}");
        let expected_code = if outcome == "succeeded" { 0 } else { 1 };
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{context}: {}",
            process::show(&output)
        );
        let servers = last["cluster"]["servers"].as_array().expect("servers");
        let actives = servers
            .iter()
            .filter(|server| server["running"] == true && server["mode"] == "active")
            .count();
        assert_eq!(actives, 1, "{context}: {last}");
        if outcome == "succeeded" {
            assert!(
                servers
                    .iter()
                    .all(|server| server["version"] == TARGET && server["excluded"] == false),
                "{context}"
            );
            let active = process::assert_upgraded_event(last, &context);
            if faults.contains(&"changes-on-active") {
                assert_ne!(
                    active, "mgt-1",
                    "{context}: the Initial Active is no longer the Active"
                );
            }
        }
        let entered: Vec<&str> = events
            .iter()
            .filter(|event| event["event"] == "what_if")
            .filter_map(|event| event["name"].as_str())
            .collect();
        assert_eq!(entered.first().copied(), what_if, "{context}");
        if faults.contains(&"changes-on-active") {
            assert!(
                stdout.contains("runbook::run::discards_changes"),
                "{context}"
            );
            let warning = events
                .iter()
                .position(|event| {
                    event["event"] == "warning" && event["code"] == "runbook::run::discards_changes"
                })
                .expect("the count is a warning event");
            let message = events[warning]["message"].as_str().unwrap_or("");
            match target {
                Target::InProcess => assert!(discarded_count(message) > 0, "{message}"),
                Target::Http => assert!(message.contains("cannot count them"), "{message}"),
            }
            let demoted = events
                .iter()
                .position(|event| {
                    event["event"] == "step_started" && event["step"] == "demote-initial-active"
                })
                .expect("step 5 ran");
            assert!(warning < demoted, "{context}");
        }
        if faults.iter().any(|fault| fault.starts_with("unreachable:")) {
            assert!(
                last["message"].as_str().unwrap_or("").contains("mgt-3"),
                "{context}: {last}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_through_the_binary_in_process() {
    rows_through_the_binary_with_answers_files(Target::InProcess).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_through_the_binary_over_http() {
    rows_through_the_binary_with_answers_files(Target::Http).await;
}

// ----- whatever the target -------------------------------------------------------------

/// Every shipped runbook is proven by the verifier with 3 and 5 servers
/// against every contract fault alone and every pair of them (the default,
/// `--max-faults 2`), and against the runner's own crash and resume at any
/// point: every path, fault and operator choice of the model keeps the
/// invariants and reaches the runbook's goal.
#[test]
fn every_shipped_runbook_is_proven_by_the_verifier() {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        let program = shipped(name);
        let max_faults = 2;
        for servers in [3, 5] {
            let report = verify::verify(
                &program,
                &VerifyOptions {
                    servers,
                    max_faults,
                    ..VerifyOptions::default()
                },
            );
            let found = counterexample_lines(&report);
            assert!(
                report.proven(),
                "{name}, {servers} servers, {max_faults} faults: {found:#?}"
            );
            assert!(
                report
                    .configurations
                    .iter()
                    .any(|configuration| configuration.faults == "runner-crash"),
                "{name}: the runner's crash is explored"
            );
        }
    }
}

/// `runbook list` shows the three runbooks and no `lib/` procedure; `runbook
/// show` prints the embedded source; the shipped files check clean.
#[test]
fn the_shipped_runbooks_are_listed_shown_and_check_clean() {
    let output = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["list", "--format", "json"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    assert!(output.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| entry["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, [NO_DOWNTIME, PREPARATION, DOWNTIME]);
    for entry in listed.as_array().expect("array") {
        assert!(!entry["title"].as_str().unwrap_or("").is_empty());
        assert!(!entry["summary"].as_str().unwrap_or("").is_empty());
    }
    let human = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .arg("list")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("Upgrade with downtime (recommended)"),
        "{text}"
    );
    assert!(!text.contains("exclude-server"), "{text}");

    let repository = manifest_dir().join("runbooks");
    for (name, path) in [
        (DOWNTIME, "upgrade-with-downtime.runbook"),
        ("lib/exclude-server.runbook", "lib/exclude-server.runbook"),
        ("init-standby", "lib/init-standby.runbook"),
    ] {
        let shown = assert_cmd::Command::cargo_bin("runbook")
            .expect("binary")
            .args(["show", name])
            .current_dir(std::env::temp_dir())
            .output()
            .expect("runs");
        assert!(shown.status.success(), "{name}");
        let on_disk = std::fs::read_to_string(repository.join(path)).expect("file");
        assert_eq!(String::from_utf8_lossy(&shown.stdout), on_disk, "{name}");
    }
    let unknown = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["show", "no-such-runbook"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("upgrade-with-downtime"));

    let checked = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .arg("check")
        .arg(&repository)
        .output()
        .expect("runs");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
