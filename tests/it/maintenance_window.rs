//! Maintenance windows (`--window-ends`) through the binary: a run whose
//! worst case does not fit is refused before anything acts; one that fits
//! says so at its start and journals the window; and a run slowed past
//! what the model counts (an operator who answers two and a half hours
//! late, played by advancing the clock of a `runbook sim serve`) stops
//! resumably before the next step, keeps its window on resume, and
//! finishes on an upgraded cluster when resumed with a later window.

use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support::process::{
    assert_upgraded_event, binary, command_in, events, final_state, flat, journal_header,
    last_event, records, show, text, SimServe, KEY,
};

/// Simulated seconds per real second: the downtime upgrade (1h1m at
/// worst) runs in seconds; the margins below are tens of minutes.
const SPEED: u32 = 600;

#[test]
fn a_window_shorter_than_the_worst_case_is_refused_before_anything_acts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = command_in(dir.path())
        .args(["run", "upgrade-with-downtime", "--yes", "--format", "json"])
        .args(["--window-ends", "30m", "--journal", "run.jsonl"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let stderr = flat(&text(&output.stderr));
    assert!(
        stderr.contains("runbook::run::window_too_short"),
        "{}",
        show(&output)
    );
    assert!(
        // The worst case takes a moment to compute, longer on a busy machine.
        stderr.contains("its worst case is 1h18m30s") && stderr.contains("29m5"),
        "{}",
        show(&output)
    );
    assert!(!dir.path().join("run.jsonl").exists());
    let started: Vec<Value> = events(&output)
        .into_iter()
        .filter(|event| event["event"] == "step_started")
        .collect();
    assert!(started.is_empty(), "{}", show(&output));
    assert_eq!(last_event(&output)["outcome"], "failed");
}

#[test]
fn a_window_that_fits_is_shown_and_journaled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ends = time::OffsetDateTime::now_utc() + time::Duration::hours(3);
    let ends = runbook::interp::window::rfc3339(ends);
    let output = command_in(dir.path())
        .args([
            "run",
            "upgrade-with-downtime",
            "--yes",
            "--window-ends",
            &ends,
        ])
        .args(["--journal", "run.jsonl"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("maintenance window: ends {ends}, 2h59m")),
        "{stdout}"
    );
    assert!(
        stdout.contains("worst case of the run: 1h18m30s"),
        "{stdout}"
    );
    let header = journal_header(&dir.path().join("run.jsonl"));
    assert_eq!(header["window"]["ends"], ends.as_str());
}

fn run_json(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(binary())
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .env("RUNBOOK_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .output()
        .expect("runbook runs")
}

#[test]
fn a_slowed_run_stops_before_a_step_and_a_later_window_finishes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimServe::start(dir.path(), SPEED);
    let answers = dir.path().join("answers.toml");
    // The Standbys are stopped; `verify-client`, after the Active's
    // upgrade, is left unanswered: the run stops there.
    std::fs::write(&answers, "standby-handling = \"stop\"\n").expect("answers");
    let answers = answers.to_str().expect("UTF-8");
    let first = run_json(
        dir.path(),
        &[
            "run",
            "upgrade-with-downtime",
            "--answers",
            answers,
            "--target",
            &sim.url,
            "--window-ends",
            "3h",
            "--journal",
            "run.jsonl",
        ],
    );
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    assert!(
        text(&first.stderr).contains("runbook::run::prompt_unavailable"),
        "{}",
        show(&first)
    );
    let journal = dir.path().join("run.jsonl");
    let journaled = journal_header(&journal)["window"].clone();
    assert!(journaled["ends_clock_seconds"].is_number(), "{journaled}");

    // The operator answers two and a half hours later: less is left than
    // the worst case from the step under way.
    sim.request(
        "POST",
        "/sim/control/advance",
        Some(&json!({ "seconds": 9000 })),
    );
    let journal_arg = journal.to_str().expect("UTF-8");
    let stopped = run_json(dir.path(), &["resume", journal_arg, "--yes"]);
    assert_eq!(stopped.status.code(), Some(1), "{}", show(&stopped));
    let stderr = flat(&text(&stopped.stderr));
    assert!(
        stderr.contains("runbook::run::maintenance_window_closing")
            && stderr.contains("stopped before step `upgrade-active`"),
        "{}",
        show(&stopped)
    );
    assert!(stderr.contains("--window-ends TIME"), "{}", show(&stopped));
    let last = last_event(&stopped);
    assert_eq!(last["outcome"], "stopped", "{last}");
    assert!(last["resume"].is_string(), "{last}");
    // The resume kept the window the run journaled.
    let resumed: Vec<Value> = records(&journal)
        .into_iter()
        .filter(|record| record["record"] == "resumed")
        .collect();
    assert_eq!(resumed[0]["window"], journaled, "{:?}", resumed);
    // No step started after the window closed.
    assert!(
        !events(&stopped)
            .iter()
            .any(|event| event["event"] == "operation_started"),
        "{}",
        show(&stopped)
    );

    let finished = run_json(
        dir.path(),
        &["resume", journal_arg, "--yes", "--window-ends", "3h"],
    );
    assert_eq!(finished.status.code(), Some(0), "{}", show(&finished));
    let resumed: Vec<Value> = records(&journal)
        .into_iter()
        .filter(|record| record["record"] == "resumed")
        .collect();
    assert_ne!(resumed[1]["window"], journaled);
    assert_upgraded_event(&last_event(&finished), "the resume in a later window");
    // The simulator's own cluster, not only what the run read of it.
    let cluster = sim.cluster();
    assert_eq!(cluster.servers.len(), 3);
    assert!(
        cluster
            .servers
            .iter()
            .all(|server| server.version.to_string() == "7.4.0"
                && server.running
                && !server.excluded),
        "{:?}",
        final_state(&cluster)
    );
}
