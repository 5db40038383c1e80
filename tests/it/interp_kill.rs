//! `kill -9` of the `runbook` process at several points of a run while the
//! cluster lives in a separate `runbook sim serve --state` process: each
//! resumed run must end in the correct final state with no step done twice.

use std::process::Command;
use std::time::Duration;

use crate::support::fixture;
use crate::support::process::{
    assert_upgraded_event, count_records, finished_ok_per_step, last_event, resume,
    run_and_kill_when, show, spawn_run, SimServe, KEY,
};

/// The simulator's default speed (simulated seconds per real second).
const SPEED: u32 = 600;

/// The downtime upgrade fixture, as a `runbook run` argument.
fn downtime() -> String {
    fixture("downtime.runbook")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

#[test]
fn killed_runs_resume_to_the_correct_final_state_without_repeating_steps() {
    // Journal lines: header, steps, prompts, operations... — kill points spread over the run.
    for records in [3, 8, 14, 21, 27, 33] {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServe::start(dir.path(), SPEED);
        let journal = dir.path().join("run.jsonl");
        let killed = run_and_kill_when(dir.path(), &downtime(), &sim.url, &journal, |written| {
            written.len() >= records
        });
        let output = resume(dir.path(), &journal);
        if !killed {
            // The run finished before the kill point: nothing to resume.
            assert_eq!(output.status.code(), Some(2), "records {records}");
            continue;
        }
        assert_eq!(
            output.status.code(),
            Some(0),
            "kill after {records} records: {}",
            show(&output)
        );
        let last = last_event(&output);
        assert_upgraded_event(&last, &format!("kill after {records} records"));
        assert!(last["cluster"]["servers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|server| server["replication"] == "ACT_REP"));
        let counts = finished_ok_per_step(&journal);
        assert_eq!(counts.len(), 4, "kill after {records}: {counts:?}");
        assert!(
            counts.values().all(|count| *count == 1),
            "kill after {records}: {counts:?}"
        );
    }
}

#[test]
fn ctrl_c_stops_after_the_current_step_and_prints_the_resume_command() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::start(dir.path(), SPEED);
    let journal = dir.path().join("run.jsonl");
    let child = spawn_run(dir.path(), &downtime(), &sim.url, &journal);
    // Interrupt as soon as the first step has started.
    while count_records(&journal, "step_started") == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let last = last_event(&output);
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["outcome"], "stopped");
    assert!(last["resume"]
        .as_str()
        .unwrap()
        .starts_with("runbook resume "));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runbook::run::interrupted"), "{stderr}");
    // The step under way was finished and journaled; no step is left half-done.
    let text = std::fs::read_to_string(&journal).unwrap();
    let started = count_records(&journal, "step_started");
    let finished = count_records(&journal, "step_finished");
    assert_eq!(started, finished, "{text}");
    assert!(!text.contains(KEY), "the API key is never journaled");
    assert!(finished < 4, "the run stopped early");

    let resumed = resume(dir.path(), &journal);
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    let counts = finished_ok_per_step(&journal);
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

/// `kill -9` while a long operation is still running on `sim serve` at its
/// default speed (the Active's installer, a standby initialization): the
/// resumed run ends with the cluster an operator expects — every server on
/// the new version, one Active in `ACT_REP`, the Standbys in `STB_REP` —
/// and no step finished twice.
#[test]
fn a_run_killed_during_a_long_operation_resumes_to_a_healthy_cluster() {
    for (operation, server) in [("upgrade", "mgt-1"), ("init-standby", "mgt-2")] {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServe::start(dir.path(), SPEED);
        let journal = dir.path().join("run.jsonl");
        let context = format!("killed during {operation} {server}");
        let killed = run_and_kill_when(
            dir.path(),
            "upgrade-with-downtime",
            &sim.url,
            &journal,
            |written| {
                written.last().is_some_and(|last| {
                    last["record"] == "operation_started"
                        && last["operation"]["operation"] == operation
                        && last["operation"]["server"] == server
                })
            },
        );
        assert!(killed, "{context}: the run ended before the kill point");
        let cluster = sim.cluster();
        assert!(
            !cluster.is_healthy(),
            "{context}: the operation was still running when the runner died"
        );
        let output = resume(dir.path(), &journal);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{context}: {}",
            show(&output)
        );
        let cluster = sim.cluster();
        assert!(cluster.is_healthy(), "{context}: {cluster:?}");
        assert!(
            cluster
                .servers
                .iter()
                .all(|server| server.version.to_string() == "7.4.0"),
            "{context}: {cluster:?}"
        );
        let counts = finished_ok_per_step(&journal);
        assert!(
            counts.values().all(|count| *count == 1),
            "{context}: {counts:?}"
        );
    }
}

/// `kill -9` inside a What-if body at `sim serve`'s default speed (the
/// Active's installer failed; the handler is starting the servers again):
/// the resumed run goes on inside the handler — it neither runs the failed
/// step again nor sends an operation twice — and ends as the handler says,
/// the cluster back on its previous version with one Active.
#[test]
fn a_run_killed_inside_a_what_if_resumes_inside_it_at_default_speed() {
    // Kill points: a start-server of the handler sent (in flight) or
    // returned (completed).
    for (record_kind, starts_seen) in [
        ("operation_started", 1),
        ("operation_finished", 1),
        ("operation_started", 2),
        ("operation_finished", 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServe::with_args([
            std::ffi::OsString::from("--speed"),
            SPEED.to_string().into(),
            "--state".into(),
            dir.path().join("cluster.json").into(),
            "--sim-fault".into(),
            "upgrade-fails:mgt-1".into(),
        ]);
        let journal = dir.path().join("run.jsonl");
        let context =
            format!("killed at {record_kind} of start-server #{starts_seen} in the What-if");
        let killed = run_and_kill_when(
            dir.path(),
            "upgrade-with-downtime",
            &sim.url,
            &journal,
            |written| {
                written.iter().any(|record| record["record"] == "what_if")
                    && written
                        .iter()
                        .filter(|record| {
                            record["record"] == record_kind
                                && (record["operation"]["operation"] == "start-server")
                        })
                        .count()
                        >= starts_seen
            },
        );
        assert!(killed, "{context}: the run ended before the kill point");
        let output = resume(dir.path(), &journal);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{context}: {}",
            show(&output)
        );
        let last = last_event(&output);
        assert_eq!(last["outcome"], "stopped", "{context}: {last}");
        assert!(
            last["message"]
                .as_str()
                .unwrap_or("")
                .contains("run the upgrade again"),
            "{context}: {last}"
        );
        assert!(
            last["resume"].is_null(),
            "a `stop` offers no resume: {last}"
        );
        let cluster = sim.cluster();
        assert!(cluster.is_healthy(), "{context}: {cluster:?}");
        let sent: Vec<String> = crate::support::process::records(&journal)
            .iter()
            .filter(|record| record["record"] == "operation_started")
            .map(|record| {
                format!(
                    "{} {}",
                    record["operation"]["operation"].as_str().unwrap_or(""),
                    record["operation"]["server"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            sent.iter()
                .filter(|sent| sent.starts_with("upgrade"))
                .count(),
            1,
            "{context}: {sent:?}"
        );
        // A start that completed is not sent again; one in flight is sent
        // again only if it had not taken effect: nothing is refused.
        let completed = if record_kind == "operation_finished" {
            starts_seen
        } else {
            starts_seen - 1
        };
        for server in ["mgt-1", "mgt-2", "mgt-3"].iter().take(completed) {
            let starts = sent
                .iter()
                .filter(|sent| **sent == format!("start-server {server}"))
                .count();
            assert_eq!(starts, 1, "{context}: {sent:?}");
        }
        let refused = crate::support::process::events(&output)
            .into_iter()
            .filter(|event| event["event"] == "operation_finished" && event["ok"] == false)
            .count();
        assert_eq!(refused, 0, "{context}: {}", show(&output));
    }
}
