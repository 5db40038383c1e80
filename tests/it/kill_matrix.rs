//! The kill matrix at `sim serve`'s default speed, where operations take
//! real seconds: each shipped runbook is run, killed with SIGKILL at evenly
//! spaced moments of its run, and resumed; the cluster must end upgraded
//! and healthy, as an operator would check it (`/sim/cluster`).
//!
//! CI runs a representative subset (3 kill points of the downtime
//! upgrade); `RUNBOOK_KILL_MATRIX=N` runs N kill points of each shipped
//! runbook (the closing notes report N = 20).

use std::time::{Duration, Instant};

use crate::support::assert_upgraded;
use crate::support::process::{resume, show, spawn_run, SimServe};

/// The simulator's default speed.
const SPEED: u32 = 600;

/// How long an uninterrupted run of `runbook` takes, in real time.
fn uninterrupted(runbook: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::start(dir.path(), SPEED);
    let started = Instant::now();
    let output = spawn_run(dir.path(), runbook, &sim.url, &dir.path().join("run.jsonl"))
        .wait_with_output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{runbook}: {}",
        show(&output)
    );
    started.elapsed()
}

/// Kills `runbook` at `points` evenly spaced moments and resumes each.
fn kill_and_resume(runbook: &str, points: u32) {
    let whole = uninterrupted(runbook);
    for point in 1..=points {
        let at = whole.mul_f64(f64::from(point) / f64::from(points + 1));
        let context = format!("{runbook}, killed after {at:?} of {whole:?}");
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServe::start(dir.path(), SPEED);
        let journal = dir.path().join("run.jsonl");
        let mut child = spawn_run(dir.path(), runbook, &sim.url, &journal);
        let deadline = Instant::now() + at;
        let ended = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        if !ended {
            let resumed = resume(dir.path(), &journal);
            // A kill that landed after the run wrote its end leaves
            // nothing to resume (exit 2); otherwise the resume succeeds.
            assert!(
                matches!(resumed.status.code(), Some(0 | 2)),
                "{context}: {}",
                show(&resumed)
            );
        }
        assert_upgraded(&sim.cluster(), &context);
    }
}

#[test]
fn killed_at_default_speed_the_shipped_runbooks_resume_to_a_healthy_cluster() {
    match std::env::var("RUNBOOK_KILL_MATRIX")
        .ok()
        .and_then(|points| points.parse::<u32>().ok())
    {
        Some(points) => {
            for runbook in [
                "upgrade-with-downtime",
                "upgrade-no-downtime",
                "upgrade-preparation",
            ] {
                kill_and_resume(runbook, points);
            }
        }
        None => kill_and_resume("upgrade-with-downtime", 3),
    }
}
