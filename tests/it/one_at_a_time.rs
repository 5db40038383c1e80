//! One run at a time on one journal and one cluster: a second `resume` of
//! a journal another process is continuing is refused before it reads the
//! cluster or acts, and the first ends as if it were alone.

use std::time::Duration;

use crate::support::fixture;
use crate::support::process::{
    assert_upgraded_event, count_records, events, finished_ok_per_step, resume, run_and_kill, show,
    spawn_resume, SimServe,
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
