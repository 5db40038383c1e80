//! The scenario suite of the shipped runbooks over real HTTP: every row of
//! issue 5's table runs the embedded runbook through the `smc` connector
//! against `runbook sim serve` started inside the test on `127.0.0.1:0`
//! (the server's code in-process at high speed, so that the simulator's
//! recorded violations can be read), and one row runs the `runbook` binary
//! against a `runbook sim serve` child process. Same assertions as
//! `tests/scenarios.rs`: the final cluster read through the API, the
//! invariants, the outcome and the messages.

mod process;
mod support;

use std::ffi::OsString;
use std::time::Duration;

use runbook::cluster::InvariantViolation;
use runbook::connect::sim_server::RunningSimServer;
use runbook::connect::smc::{SmcConnector, SmcSettings};
use runbook::connect::{ApiKey, Connector, ConnectorError};
use runbook::interp::events::RunOutcome;
use support::*;

const KEY: &str = "scenario-key-7d1e4b";
/// 12.5 simulated minutes of an upgrade take about 0.1 s.
const SPEED: f64 = 6000.0;

async fn serve(servers: usize, faults: &[&str]) -> RunningSimServer {
    serve_at(servers, faults, SPEED).await
}

async fn serve_at(servers: usize, faults: &[&str], speed: f64) -> RunningSimServer {
    serve_sim(sim_config(servers, faults, 0), KEY, speed).await
}

/// Short timeouts: a server that does not answer is given up on quickly.
fn settings() -> SmcSettings {
    SmcSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(500),
        read_retries: 1,
        retry_backoff: Duration::from_millis(10),
        ..SmcSettings::default()
    }
}

async fn connect(server: &RunningSimServer) -> SmcConnector {
    SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(KEY), settings())
        .await
        .expect("connect")
}

/// The simulator's recorded invariant violations, less discarded changes.
fn server_safety_violations(server: &RunningSimServer) -> Vec<InvariantViolation> {
    server.shared().read(safety_violations)
}

/// Runs `runbook` against a fresh `sim serve` with these faults; returns
/// what happened, the cluster read through the API at the end, and the
/// server (for its recorded violations).
async fn over_http(
    runbook: &str,
    servers: usize,
    faults: &[&str],
    answers: Option<&str>,
) -> (Played, runbook::cluster::Snapshot, RunningSimServer) {
    let server = serve(servers, faults).await;
    let connector = connect(&server).await;
    let program = shipped(runbook);
    let played = play(&program, &connector, answers, None).await;
    let snapshot = connector
        .snapshot()
        .await
        .expect("snapshot through the API");
    (played, snapshot, server)
}

/// Rows 1 and 2: no fault, 3 and 5 servers, each runbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_runbook_upgrades_3_and_5_servers_over_http() {
    for (runbook, final_active) in [
        ("upgrade-with-downtime", "mgt-1"),
        ("upgrade-preparation", "mgt-1"),
        ("upgrade-no-downtime", "mgt-2"),
    ] {
        for servers in [3, 5] {
            let context = format!("{runbook}, {servers} servers");
            let (played, snapshot, server) = over_http(runbook, servers, &[], None).await;
            played.assert_outcome(RunOutcome::Succeeded, &context);
            assert_upgraded(&snapshot, &context);
            assert_eq!(active_name(&snapshot), final_active, "{context}");
            assert_eq!(snapshot.servers.len(), servers);
            assert!(server_safety_violations(&server).is_empty(), "{context}");
            server.shutdown().await;
        }
    }
}

/// Row 3: preparation with replication down chooses the downtime method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preparation_with_replication_down_over_http() {
    let (played, snapshot, server) = over_http(
        "upgrade-preparation",
        3,
        &["replication-down"],
        Some("downtime-acceptable = \"minimal\"\nserver-switching = \"performed\""),
    )
    .await;
    played.assert_outcome(RunOutcome::Succeeded, "");
    assert!(played
        .steps_started()
        .iter()
        .any(|step| step == "stop-servers"));
    assert!(!played
        .steps_started()
        .iter()
        .any(|step| step == "force-final-active"));
    assert_upgraded(&snapshot, "replication-down");
    assert!(server_safety_violations(&server).is_empty());
    server.shutdown().await;
}

/// Row 4: the cancelled upgrade of the Active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_active_upgrade_over_http() {
    for handling in ["stop", "exclude"] {
        let answers = format!("standby-handling = \"{handling}\"");
        let (played, snapshot, server) = over_http(
            "upgrade-with-downtime",
            3,
            &["active-upgrade-cancelled"],
            Some(&answers),
        )
        .await;
        assert_eq!(
            played.what_ifs(),
            ["active-upgrade-cancelled"],
            "{handling}"
        );
        assert_eq!(played.outcome(), RunOutcome::Stopped, "{handling}");
        assert!(
            played.report.message.contains("cancelled"),
            "{}",
            played.report.message
        );
        assert_eq!(active_name(&snapshot), "mgt-1");
        assert_healthy_on(&snapshot, &initial(), handling);
        assert!(server_safety_violations(&server).is_empty());
        server.shutdown().await;
    }
}

/// The operator is told that a Standby was activated: by the What-if,
/// whether two Actives are visible or the product already set every server
/// to Standby (the split brain the connector reads from `ha/diagnostic`);
/// the decision "once the upgrade resumes" follows.
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
            runbook::interp::events::EventKind::Prompt { id, .. } if id == "urgent-change"
        )),
        "{context}: the operator decides how to proceed"
    );
}

/// A connector that records every answer of `split_brain()`.
struct SplitBrainLog<C> {
    inner: C,
    answers: std::sync::Mutex<Vec<Option<Vec<String>>>>,
}

impl<C: Connector> SplitBrainLog<C> {
    fn new(inner: C) -> Self {
        SplitBrainLog {
            inner,
            answers: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn answers(&self) -> Vec<Option<Vec<String>>> {
        self.answers.lock().expect("not poisoned").clone()
    }
}

#[async_trait::async_trait]
impl<C: Connector> Connector for SplitBrainLog<C> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn snapshot(&self) -> Result<runbook::cluster::Snapshot, ConnectorError> {
        self.inner.snapshot().await
    }

    async fn perform(
        &self,
        operation: &runbook::cluster::Operation,
    ) -> Result<runbook::cluster::OperationOutput, ConnectorError> {
        self.inner.perform(operation).await
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }

    fn clock(&self) -> Duration {
        self.inner.clock()
    }

    fn clock_kind(&self) -> runbook::connect::ClockKind {
        self.inner.clock_kind()
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
async fn a_split_brain_fires_the_what_if_over_http_as_in_process() {
    for (fault, extra) in [
        ("standby-auto-activates", ""),
        (
            "standby-activated-by-operator",
            "\nurgent-change = \"keep\"",
        ),
    ] {
        let answers = format!("standby-handling = \"stop\"\npromoted-server = \"mgt-2\"{extra}");
        let in_process = SplitBrainLog::new(sim(3, &[fault], 0));
        let program = shipped("upgrade-with-downtime");
        let expected = play(&program, &in_process, Some(&answers), None).await;
        let expected_final = in_process.inner.simulator().observed_snapshot();
        let expected_split = in_process.answers();

        let server = serve(3, &[fault]).await;
        let connector = SplitBrainLog::new(connect(&server).await);
        let played = play(&program, &connector, Some(&answers), None).await;
        let snapshot = connector
            .snapshot()
            .await
            .expect("snapshot through the API");
        let http_split = connector.answers();
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
        assert!(server_safety_violations(&server).is_empty(), "{fault}");
        server.shutdown().await;
    }
}

/// Row 5: a Standby activates itself during the Active's upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_that_activates_itself_over_http() {
    for handling in ["stop", "exclude"] {
        // The default seed activates mgt-2.
        let answers = format!("standby-handling = \"{handling}\"\npromoted-server = \"mgt-2\"");
        let (played, snapshot, server) = over_http(
            "upgrade-with-downtime",
            3,
            &["standby-auto-activates"],
            Some(&answers),
        )
        .await;
        assert_standby_activation_seen(&played, handling);
        assert!(
            running_actives(&snapshot).len() <= 1,
            "{handling}: {snapshot:#?}"
        );
        played.assert_outcome(RunOutcome::Succeeded, handling);
        assert_upgraded(&snapshot, handling);
        assert!(server_safety_violations(&server).is_empty());
        server.shutdown().await;
    }
}

/// Row 6: an operator activated a Standby; option 1 and option 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_activated_standby_options_over_http() {
    for (option, active) in [("keep", "mgt-2"), ("discard", "mgt-1")] {
        let answers = format!("promoted-server = \"mgt-2\"\nurgent-change = \"{option}\"");
        let (played, snapshot, server) = over_http(
            "upgrade-with-downtime",
            3,
            &["standby-activated-by-operator"],
            Some(&answers),
        )
        .await;
        assert_standby_activation_seen(&played, option);
        let chosen_step = if option == "keep" {
            "keep-urgent-change"
        } else {
            "discard-urgent-change"
        };
        assert!(
            played
                .steps_started()
                .iter()
                .any(|step| step == chosen_step),
            "{option}"
        );
        played.assert_outcome(RunOutcome::Succeeded, option);
        assert_upgraded(&snapshot, option);
        assert_eq!(active_name(&snapshot), active, "{option}");
        if option == "discard" {
            // The published API has no count of changes: the run says so
            // and asks, instead of announcing a number.
            let warned = played.warnings("runbook::run::discards_changes");
            assert_eq!(warned.len(), 1);
            assert!(warned[0].1.contains("cannot count them"), "{}", warned[0].1);
            assert!(
                played
                    .prompts()
                    .iter()
                    .any(|(id, answer)| id.ends_with(".discard-changes") && *answer == true),
                "{:?}",
                played.prompts()
            );
        }
        assert!(server_safety_violations(&server).is_empty());
        server.shutdown().await;
    }
}

/// Row 7: changes on the Initial Active. The published API has no count of
/// administrator changes, so over HTTP the run cannot count them: it says
/// so before step 4 forces the Final Active and before step 5 demotes the
/// Initial Active, and asks once (the operator checks the audit) — never
/// "0 changes". The simulator did lose changes at the demotion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_the_initial_active_over_http() {
    let server = serve_at(3, &["changes-on-active"], 600.0).await;
    let connector = connect(&server).await;
    let played = play(&shipped("upgrade-no-downtime"), &connector, None, None).await;
    let snapshot = connector
        .snapshot()
        .await
        .expect("snapshot through the API");
    played.assert_outcome(RunOutcome::Succeeded, "");
    assert_upgraded(&snapshot, "changes-on-active");
    let warned = played.warnings("runbook::run::discards_changes");
    assert_eq!(warned.len(), 2, "{warned:?}");
    for (_, message) in &warned {
        assert!(message.contains("cannot count them"), "{message}");
        assert!(!message.contains("discards 0"), "{message}");
    }
    let demotion = played
        .first_operation("set-standby mgt-1")
        .expect("step 5 ran");
    let activation = played
        .first_operation("force-activate mgt-2")
        .expect("step 4 ran");
    assert!(warned[0].0 < activation && warned[1].0 < demotion);
    let confirmations: Vec<_> = played
        .prompts()
        .into_iter()
        .filter(|(id, _)| id.ends_with("discard-changes"))
        .collect();
    assert_eq!(
        confirmations.len(),
        1,
        "asked once for mgt-1: {confirmations:?}"
    );
    let lost_at_demotion: Vec<u64> = server.shared().read(|simulator| {
        simulator
            .violations()
            .iter()
            .filter_map(|violation| match violation {
                InvariantViolation::ChangesDiscarded {
                    operation, count, ..
                } if operation.starts_with("set-standby mgt-1") => Some(*count),
                _ => None,
            })
            .collect()
    });
    assert_eq!(lost_at_demotion.len(), 1, "{lost_at_demotion:?}");
    assert!(lost_at_demotion[0] > 0, "{lost_at_demotion:?}");
    server.shutdown().await;
}

/// Row 8: a failed installer stops the run with one Active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_installer_over_http() {
    for (runbook, server_name) in [
        ("upgrade-with-downtime", "mgt-1"),
        ("upgrade-with-downtime", "mgt-3"),
        ("upgrade-no-downtime", "mgt-1"),
        ("upgrade-no-downtime", "mgt-2"),
    ] {
        let context = format!("{runbook}, upgrade-fails:{server_name}");
        let fault = format!("upgrade-fails:{server_name}");
        let (played, snapshot, server) = over_http(runbook, 3, &[fault.as_str()], None).await;
        played.assert_outcome(RunOutcome::Stopped, &context);
        assert_eq!(played.what_ifs(), ["installer-failed"], "{context}");
        assert!(
            played.report.message.contains("runbook resume")
                || played.report.message.contains("run the upgrade again"),
            "{context}: {}",
            played.report.message
        );
        assert_eq!(
            running_actives(&snapshot).len(),
            1,
            "{context}: {snapshot:#?}"
        );
        assert!(server_safety_violations(&server).is_empty(), "{context}");
        server.shutdown().await;
    }
}

/// Row 9: an unreachable server is named; the run does not hang (the
/// connector gives up after its request timeout) and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_over_http() {
    for (runbook, server_name) in [
        ("upgrade-with-downtime", "mgt-1"),
        ("upgrade-with-downtime", "mgt-3"),
        ("upgrade-no-downtime", "mgt-2"),
        ("upgrade-preparation", "mgt-3"),
    ] {
        let context = format!("{runbook}, unreachable:{server_name}");
        let fault = format!("unreachable:{server_name}");
        let server = serve(3, &[fault.as_str()]).await;
        let connector = connect(&server).await;
        let program = shipped(runbook);
        let played = play(&program, &connector, None, None).await;
        assert_ne!(played.outcome(), RunOutcome::Succeeded, "{context}");
        assert!(
            played.report.message.contains(server_name),
            "{context}: the diagnostic names the server: {}",
            played.report.message
        );
        let truth = server.shared().snapshot();
        assert_healthy_on(&truth, &initial(), &context);
        assert_eq!(active_name(&truth), "mgt-1");
        server.shutdown().await;
    }
}

/// A `runbook sim serve` child process with these faults, killed when
/// dropped.
fn sim_serve_process(faults: &[&str]) -> process::SimServe {
    let mut args: Vec<OsString> = vec!["--speed".into(), "6000".into()];
    for fault in faults {
        args.extend(["--sim-fault".into(), (*fault).into()]);
    }
    process::SimServe::with_args(args)
}

/// Rows 1 and 7 as a user rehearses them: `runbook run NAME --target URL
/// --format json` against a `runbook sim serve` process.
#[test]
fn the_binary_rehearses_against_sim_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (runbook, faults) in [
        ("upgrade-with-downtime", vec![]),
        ("upgrade-no-downtime", vec!["changes-on-active"]),
    ] {
        let sim = sim_serve_process(&faults);
        let output = assert_cmd::Command::cargo_bin("runbook")
            .expect("binary")
            .current_dir(dir.path())
            .env("RUNBOOK_API_KEY", process::KEY)
            .args([
                "run", runbook, "--yes", "--format", "json", "--target", &sim.url,
            ])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{runbook}: {stdout}");
        assert!(!stdout.contains(process::KEY), "the key is never printed");
        let active = process::assert_upgraded_event(&process::last_event(&output), runbook);
        if !faults.is_empty() {
            assert_ne!(
                active, "mgt-1",
                "the Initial Active is no longer the Active"
            );
            assert!(stdout.contains("runbook::run::discards_changes"));
        }
    }
}
