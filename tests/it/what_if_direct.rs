//! `runbook run --what-if NAME` judges the handler's triggers on the target
//! first: refused (exit 2, nothing acts, no journal) when none holds,
//! run when one does, and with `--force` run anyway after saying what the
//! handler will do.

use std::process::Output;

use crate::support::fixture;
use crate::support::process::{events, flat, run_in, show, SimServe, KEY};

/// Stderr with the diagnostics' line wrapping undone.
fn stderr(output: &Output) -> String {
    flat(&String::from_utf8_lossy(&output.stderr))
}

/// The 1-based line and column of the first `needle` after `after` in the
/// shipped downtime runbook (so the expectations follow its edits).
fn place(after: &str, needle: &str) -> (usize, usize) {
    let source = include_str!("../../runbooks/upgrade-with-downtime.runbook");
    let start = source.find(after).expect("anchor");
    let at = start + source[start..].find(needle).expect("needle");
    let line = source[..at].lines().count() + usize::from(source[..at].ends_with('\n'));
    let column = at - source[..at].rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}

/// Panics unless stderr says each of `expected`.
fn assert_says(output: &Output, expected: &[&str]) {
    let stderr = stderr(output);
    for expected in expected {
        assert!(stderr.contains(expected), "{expected}\n{}", show(output));
    }
}

#[test]
fn a_handler_whose_triggers_do_not_hold_is_refused_before_anything_acts() {
    let dir = tempfile::tempdir().unwrap();
    let server = SimServe::start(dir.path(), 1);
    let before = server.cluster();
    let output = crate::support::process::command_in(dir.path())
        .args([
            "run",
            "upgrade-with-downtime",
            "--what-if",
            "standby-activated",
        ])
        .args(["--yes", "--target", &server.url])
        .env("RUNBOOK_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let (line, column) = place("what-if standby-activated", "standby-activated,");
    let at = format!("upgrade-with-downtime.runbook:{line}:{column}");
    assert_says(
        &output,
        &[
            "runbook::run::what_if_not_holding",
            "none of the handler's triggers holds on the target",
            &at,
            "`standby-activated`: mgt-1 is the only",
            "`two-actives`: mgt-1 is the only Active server",
            "`--force` runs the handler anyway",
        ],
    );
    assert!(!dir.path().join("runs").exists(), "no journal");
    let after = server.cluster();
    assert_eq!(
        serde_json::to_value(&before.servers).unwrap(),
        serde_json::to_value(&after.servers).unwrap(),
        "nothing acted"
    );
}

#[test]
fn a_refusal_in_json_still_starts_and_finishes_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_in(
        dir.path(),
        &[
            "run",
            "upgrade-with-downtime",
            "--what-if",
            "installer-failed",
            "--yes",
            "--format",
            "json",
        ],
        2,
    );
    let events = events(&output);
    assert_eq!(events.first().unwrap()["event"], "run_started");
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    // Failed steps cannot have happened: no step ran.
    assert_says(&output, &["`failed(upgrade-active)`: no step failed"]);
}

#[test]
fn a_handler_whose_trigger_holds_runs() {
    let dir = tempfile::tempdir().unwrap();
    let runbook = fixture("broken.runbook");
    let runbook = runbook.to_str().unwrap();
    let args = ["run", runbook, "--what-if", "broken", "--yes"];
    // The handler's `stop` ends the run.
    let output = run_in(
        dir.path(),
        &[&args[..], &["--sim-fault", "replication-down"]].concat(),
        1,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("What-if broken"), "{}", show(&output));
    assert!(
        !stderr(&output).contains("what_if_forced"),
        "{}",
        show(&output)
    );
}

#[test]
fn force_says_what_the_handler_will_do_then_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "upgrade-with-downtime",
        "--what-if",
        "installer-failed",
        "--yes",
        "--force",
    ];
    // The handler's `stop` ends the run.
    let output = run_in(dir.path(), &args, 1);
    let (start, _) = place("what-if installer-failed", "start-server(server: active)");
    let (init, _) = place(
        "what-if installer-failed",
        "call init-standby(server: standby)",
    );
    assert_says(
        &output,
        &[
            "runbook::run::what_if_forced",
            "it runs anyway",
            &format!("It will run: `start-server(server: active)` (line {start})"),
            &format!("`call init-standby(server: standby)` (line {init})"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("What-if installer-failed"), "{stdout}");
}

#[test]
fn force_without_what_if_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", "upgrade-with-downtime", "--force", "--yes"];
    let output = run_in(dir.path(), &args, 2);
    assert_says(
        &output,
        &["runbook::run::nothing_to_force", "--what-if", "from STATE"],
    );
}

/// A runbook that declares the states it is written for (`from`) is refused
/// on a target in none of them (exit 2, no journal), runs on one that is,
/// and with `--force` runs anyway after saying how the target looks.
#[test]
fn a_runbook_written_for_other_states_is_refused_before_anything_acts() {
    let dir = tempfile::tempdir().unwrap();
    let runbook =
        crate::support::manifest_dir().join("tests/fixtures/verify/goals/recover-split.runbook");
    let runbook = runbook.to_str().unwrap();
    let refused = run_in(dir.path(), &["run", runbook, "--yes"], 2);
    assert_says(
        &refused,
        &[
            "runbook::run::not_a_starting_state",
            "it looks healthy",
            "`--force` runs it anyway",
        ],
    );
    assert!(!dir.path().join("runs").exists(), "no journal was written");
    // On the state it is written for, it runs.
    run_in(
        dir.path(),
        &["run", runbook, "--yes", "--sim-start", "split-brain"],
        0,
    );
    // Forced on a healthy cluster: a warning, then the run (which fails
    // there: a split-brain recovery finds no split brain).
    let forced = run_in(
        dir.path(),
        &[
            "run",
            runbook,
            "--yes",
            "--force",
            "--journal",
            "forced.jsonl",
        ],
        1,
    );
    assert_says(
        &forced,
        &["runbook::run::starting_state_forced", "it looks healthy"],
    );
}
