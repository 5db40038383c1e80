//! Crash-and-resume matrix: for each shipped runbook, the runner is killed
//! with SIGKILL at every step boundary (when a `step_finished` record has
//! just been written) and in the middle of every operation (when an
//! `operation_started` record has just been written), while the cluster
//! lives on in a separate `runbook sim serve --state` process; then
//! `runbook resume` continues the journal. Every resumed run must end in the
//! same final state as an uninterrupted run, upgraded, with no step that
//! finished ok before the kill run again.

use crate::support::assert_upgraded;
use crate::support::process::{
    count_records, final_state, finished_ok_per_step, last_event, records, resume, run,
    run_and_kill, show, SimServe,
};

/// Fast enough that a whole upgrade takes a fraction of a second, slow
/// enough that a kill at `operation_started` often lands while the
/// operation runs in the server.
const SPEED: u32 = 20_000;

/// The uninterrupted run: its final state and the kill points it offers
/// (record kind, how many of them must be in the journal).
fn baseline(runbook: &str) -> (Vec<String>, Vec<(&'static str, usize)>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimServe::start(dir.path(), SPEED);
    let journal = dir.path().join("run.jsonl");
    let output = run(dir.path(), runbook, &sim.url, &journal);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{runbook}: {}",
        show(&output)
    );
    let cluster = sim.cluster();
    assert_upgraded(&cluster, runbook);
    let mut points = Vec::new();
    for kind in ["step_finished", "operation_started"] {
        for count in 1..=count_records(&journal, kind) {
            points.push((kind, count));
        }
    }
    (final_state(&cluster), points)
}

fn kill_and_resume_everywhere(runbook: &str) {
    let (expected, points) = baseline(runbook);
    assert!(
        points.len() >= 5,
        "{runbook}: too few kill points {points:?}"
    );
    let mut resumed = 0;
    // Kills that left an operation without its `operation_finished`.
    let mut in_flight = 0;
    for (kind, count) in points {
        let context = format!("{runbook}, killed at {kind} #{count}");
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = SimServe::start(dir.path(), SPEED);
        let journal = dir.path().join("run.jsonl");
        if !run_and_kill(dir.path(), runbook, &sim.url, &journal, kind, count) {
            // The run ended before the kill point (it went another way):
            // nothing to resume, but it must have ended well.
            assert_upgraded(&sim.cluster(), &context);
            continue;
        }
        let done_before = finished_ok_per_step(&journal);
        if records(&journal)
            .last()
            .is_some_and(|record| record["record"] == "operation_started")
        {
            in_flight += 1;
        }
        let output = resume(dir.path(), &journal);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{context}: {}",
            show(&output)
        );
        let last = last_event(&output);
        assert_eq!(last["event"], "run_finished", "{context}");
        assert_eq!(last["outcome"], "succeeded", "{context}: {last}");
        let cluster = sim.cluster();
        assert_upgraded(&cluster, &context);
        assert_eq!(final_state(&cluster), expected, "{context}");
        let done_after = finished_ok_per_step(&journal);
        for (step, times) in &done_after {
            assert_eq!(
                *times, 1,
                "{context}: step {step} finished ok {times} times"
            );
        }
        for step in done_before.keys() {
            assert!(done_after.contains_key(step), "{context}: {step} lost");
        }
        assert!(
            records(&journal)
                .iter()
                .any(|record| record["record"] == "resumed"),
            "{context}: no `resumed` record"
        );
        resumed += 1;
    }
    assert!(resumed > 0, "{runbook}: no kill point was reached");
    eprintln!("{runbook}: {resumed} kill points resumed, {in_flight} with an operation in flight");
}

#[test]
fn upgrade_with_downtime_survives_a_kill_anywhere() {
    kill_and_resume_everywhere("upgrade-with-downtime");
}

#[test]
fn upgrade_no_downtime_survives_a_kill_anywhere() {
    kill_and_resume_everywhere("upgrade-no-downtime");
}

#[test]
fn upgrade_preparation_survives_a_kill_anywhere() {
    kill_and_resume_everywhere("upgrade-preparation");
}

/// A `stop` inside a step, the runner killed after the step's end was
/// journaled and before the run's: the run ended for good, and `runbook
/// resume` refuses (before the fix it skipped the step and reported the
/// unhealthy cluster as a success). The kill is the journal cut after its
/// last `step_finished`, exactly what a SIGKILL there leaves.
#[test]
fn a_stop_journaled_in_a_step_is_not_resumed_after_a_kill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runbook = crate::support::manifest_dir()
        .join("tests/fixtures/verify/clean/option-discard-with-count.runbook");
    std::fs::write(
        dir.path().join("answers.toml"),
        "final-active = \"mgt-2\"\nhow = \"later\"\n",
    )
    .expect("answers written");
    let journal = dir.path().join("run.jsonl");
    let output = crate::support::process::command_in(dir.path())
        .arg("run")
        .arg(&runbook)
        .args(["--answers", "answers.toml", "--format", "json", "--journal"])
        .arg(&journal)
        .output()
        .expect("runs");
    assert_eq!(
        last_event(&output)["outcome"],
        "stopped",
        "{}",
        show(&output)
    );
    let text = std::fs::read_to_string(&journal).expect("journal");
    let lines: Vec<&str> = text.lines().collect();
    let last_step_end = lines
        .iter()
        .rposition(|line| line.contains("\"record\":\"step_finished\""))
        .expect("a step finished");
    assert!(lines[last_step_end].contains("Nothing switched."));
    std::fs::write(&journal, lines[..=last_step_end].join("\n") + "\n").expect("cut");
    let output = resume(dir.path(), &journal);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let stderr = crate::support::process::flat(&crate::support::process::text(&output.stderr));
    assert!(
        stderr.contains("runbook::run::resume_refused") && stderr.contains("Nothing switched."),
        "{}",
        show(&output)
    );
}
