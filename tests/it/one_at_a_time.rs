//! One run at a time, on the right cluster: a second `resume` of a journal
//! another process is continuing is refused before it reads the cluster or
//! acts, and a journal resumed against another cluster at the same address
//! is refused too; in each case the run's own cluster ends upgraded.

use std::ffi::OsString;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::fixture;
use crate::support::process::{
    assert_upgraded_event, binary, count_records, events, final_state, finished_ok_per_step,
    journal_header, resume, run_and_kill, show, spawn_resume, spawn_run, SimServe, KEY,
};

/// The simulator's default speed: operations take real seconds.
const SPEED: u32 = 600;

#[test]
fn a_second_resume_of_a_journal_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::start(dir.path(), SPEED);
    let journal = dir.path().join("run.jsonl");
    let runbook = fixture("downtime.runbook");
    let killed = run_and_kill(
        dir.path(),
        runbook.to_str().unwrap(),
        &sim.url,
        &journal,
        "operation_started",
        1,
    );
    assert!(killed, "the kill landed before the run ended");

    let first = spawn_resume(dir.path(), &journal);
    while count_records(&journal, "resumed") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = resume(dir.path(), &journal);
    assert_eq!(second.status.code(), Some(2), "{}", show(&second));
    let refusal = events(&second);
    let message = refusal.last().unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("in use by another runbook process"),
        "{message}"
    );
    assert_eq!(count_records(&journal, "resumed"), 1, "nothing journaled");

    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    assert_upgraded_event(events(&first).last().unwrap(), "the first resume");
    let counts = finished_ok_per_step(&journal);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

/// `sim serve --speed SPEED --state DIR/cluster.json` at `addr`.
fn serve_at(addr: &str, dir: &std::path::Path) -> SimServe {
    SimServe::at(
        addr,
        [
            OsString::from("--speed"),
            SPEED.to_string().into(),
            "--state".into(),
            dir.join("cluster.json").into(),
        ],
    )
}

/// A journal resumed against another cluster served at the same address
/// is refused before anything acts, and says what differs; against the
/// run's own cluster (served again from its state) it ends the upgrade.
#[test]
fn a_resume_against_another_cluster_at_the_same_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let runbook = fixture("downtime.runbook");
    let first = SimServe::start(dir.path(), SPEED);
    let addr = first.authority().to_owned();
    let killed = run_and_kill(
        dir.path(),
        runbook.to_str().unwrap(),
        &first.url,
        &journal,
        "operation_started",
        1,
    );
    assert!(killed, "the kill landed before the run ended");
    drop(first);

    let elsewhere = tempfile::tempdir().unwrap();
    let other = serve_at(&addr, elsewhere.path());
    let before = other.cluster();
    let refused = resume(dir.path(), &journal);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    let message = events(&refused).last().unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("is not the cluster this run acted on")
            && message.contains("mgt-1 is element"),
        "{message}"
    );
    std::thread::sleep(Duration::from_millis(200));
    let after = other.cluster();
    assert_eq!(
        final_state(&after),
        final_state(&before),
        "the other cluster was not touched"
    );
    assert_eq!(count_records(&journal, "resumed"), 0, "nothing journaled");
    drop(other);

    let again = serve_at(&addr, dir.path());
    let resumed = resume(dir.path(), &journal);
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    assert_upgraded_event(events(&resumed).last().unwrap(), "its own cluster");
    drop(again);
}

/// `runbook run FIXTURE --yes --format json --target URL --journal FILE
/// EXTRA`, waited for.
fn run_with(dir: &std::path::Path, url: &str, journal: &str, extra: &[&str]) -> Output {
    Command::new(binary())
        .current_dir(dir)
        .args(["run"])
        .arg(fixture("downtime.runbook"))
        .args([
            "--yes",
            "--format",
            "json",
            "--target",
            url,
            "--journal",
            journal,
        ])
        .args(extra)
        .env("RUNBOOK_API_KEY", KEY)
        .output()
        .expect("runbook run")
}

/// The last event's message.
fn message(output: &Output) -> String {
    events(output).last().unwrap()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// While a run acts on a `sim serve` cluster, a second run of it is refused
/// before it reads or acts (it names the run that holds the cluster); the
/// first ends as if it were alone.
#[test]
fn a_second_runner_is_refused_while_the_first_acts() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::start(dir.path(), SPEED);
    let journal = dir.path().join("first.jsonl");
    let runbook = fixture("downtime.runbook");
    let first = spawn_run(dir.path(), runbook.to_str().unwrap(), &sim.url, &journal);
    while count_records(&journal, "operation_started") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let run_id = journal_header(&journal)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = run_with(dir.path(), &sim.url, "second.jsonl", &[]);
    assert_eq!(second.status.code(), Some(2), "{}", show(&second));
    let refusal = message(&second);
    assert!(
        refusal.contains("in use by another runner") && refusal.contains(&run_id),
        "{refusal}"
    );
    assert!(!dir.path().join("second.jsonl").exists(), "no journal");
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let stream = events(&first);
    assert_upgraded_event(stream.last().unwrap(), "the first run");
    // The standby initializations take real seconds at this speed: the
    // run says where they are, as the servers show it.
    assert!(
        stream
            .iter()
            .any(|event| event["event"] == "operation_progress"
                && event["operation"]
                    .as_str()
                    .is_some_and(|operation| operation.starts_with("init-standby"))
                && event["phase"]
                    .as_str()
                    .is_some_and(|phase| phase.starts_with("mgt-"))),
        "{stream:?}"
    );
    assert!(sim
        .cluster()
        .servers
        .iter()
        .all(|s| s.version.to_string() == "7.4.0"));
}

/// A runner killed without giving its lease back: a new run is refused
/// while the lease is fresh, and while it is stale unless it says
/// `--take-over`; with it, the new run takes the cluster and upgrades it.
#[test]
fn a_stale_lease_is_taken_over_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::with_args([
        OsString::from("--speed"),
        SPEED.to_string().into(),
        "--lease-stale-after".into(),
        "1s".into(),
    ]);
    let journal = dir.path().join("killed.jsonl");
    let runbook = fixture("downtime.runbook");
    let killed = run_and_kill(
        dir.path(),
        runbook.to_str().unwrap(),
        &sim.url,
        &journal,
        "run_started",
        1,
    );
    assert!(killed, "the kill landed before the run ended");

    let fresh = run_with(dir.path(), &sim.url, "fresh.jsonl", &["--take-over"]);
    assert_eq!(fresh.status.code(), Some(2), "{}", show(&fresh));
    assert!(!message(&fresh).contains("(stale)"), "{}", message(&fresh));

    std::thread::sleep(Duration::from_millis(1500));
    let stale = run_with(dir.path(), &sim.url, "stale.jsonl", &[]);
    assert_eq!(stale.status.code(), Some(2), "{}", show(&stale));
    assert!(message(&stale).contains("(stale)"), "{}", message(&stale));
    assert!(
        String::from_utf8_lossy(&stale.stderr).contains("--take-over"),
        "{}",
        show(&stale)
    );

    let taken = run_with(dir.path(), &sim.url, "taken.jsonl", &["--take-over"]);
    assert_eq!(taken.status.code(), Some(0), "{}", show(&taken));
    assert_upgraded_event(events(&taken).last().unwrap(), "taken over");
    assert_eq!(
        sim.request("GET", "/sim/lease", None).trim(),
        "null",
        "the lease was given back"
    );
}
