//! Time windows across a resume, through the binary, against a cluster that
//! lives in its own `runbook sim serve` process: a run stops at a prompt
//! between a window's anchor step and the windowed step, simulated time
//! passes in the server (`POST /sim/control/advance`, no sleeping), and the
//! resumed run measures the window from the journaled end of the anchor on
//! the server's clock.

use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support::fixture;
use crate::support::process::{binary, last_event, show, SimServe, KEY};

/// Real seconds count for little at this speed: the margins below are hours.
const SPEED: u32 = 1;

fn events(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn window_warnings(output: &Output) -> Vec<String> {
    events(output)
        .iter()
        .filter(|event| {
            event["event"] == "warning" && event["code"] == "runbook::run::window_exceeded"
        })
        .map(|event| event["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Runs `window-pause.runbook` (window 1h) against a fresh `sim serve`
/// with an answers file that picks the spare but not the confirmation:
/// the run stops at `pause`, after the anchor ended. Then `advance` seconds
/// pass on the server's clock, and the run is resumed with `--yes`.
fn stop_advance_resume(advance: u64) -> Output {
    stop_advance_resume_with(advance, &[])
}

/// [`stop_advance_resume`], the resume given `extra` arguments too.
fn stop_advance_resume_with(advance: u64, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimServe::start(dir.path(), SPEED);
    let journal = dir.path().join("run.jsonl");
    let answers = dir.path().join("answers.toml");
    std::fs::write(&answers, "spare = \"mgt-3\"\n").expect("answers written");
    let first = Command::new(binary())
        .current_dir(dir.path())
        .arg("run")
        .arg(fixture("window-pause.runbook"))
        .arg("--answers")
        .arg(&answers)
        .args(["--format", "json", "--target", &sim.url, "--journal"])
        .arg(&journal)
        .env("RUNBOOK_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .output()
        .expect("runbook run runs");
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("runbook::run::prompt_unavailable"),
        "{}",
        show(&first)
    );
    assert!(last_event(&first)["resume"].is_string(), "{}", show(&first));
    let anchor_done = events(&first).iter().any(|event| {
        event["event"] == "step_finished"
            && event["step"] == "stop-standby"
            && event["outcome"] == "ok"
    });
    assert!(anchor_done, "{}", show(&first));
    assert!(window_warnings(&first).is_empty());

    let answer = sim.request(
        "POST",
        "/sim/control/advance",
        Some(&json!({ "seconds": advance })),
    );
    let now: Value = serde_json::from_str(&answer).expect("JSON answer");
    assert!(
        now["now_ms"].as_u64().expect("now_ms") >= advance * 1000,
        "{answer}"
    );

    let resumed = Command::new(binary())
        .current_dir(dir.path())
        .args(["resume", "--yes", "--format", "json"])
        .arg(&journal)
        .args(extra)
        .env("RUNBOOK_API_KEY", KEY)
        .output()
        .expect("runbook resume runs");
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    let skipped = events(&resumed).iter().any(|event| {
        event["event"] == "step_finished"
            && event["step"] == "stop-standby"
            && event["outcome"] == "skipped"
    });
    assert!(skipped, "{}", show(&resumed));
    assert!(sim.cluster().server("mgt-3").expect("mgt-3").running);
    resumed
}

#[test]
fn a_window_exceeded_while_the_run_was_stopped_is_reported_on_resume() {
    let resumed = stop_advance_resume(2 * 3600);
    let warnings = window_warnings(&resumed);
    assert_eq!(warnings.len(), 1, "{}", show(&resumed));
    assert!(
        warnings[0].starts_with("step `restart` started 2h")
            && warnings[0].contains(
                "after `stop-standby` ended (before the run was resumed; measured on the clock of `runbook sim serve`), later than its window of 1h"
            ),
        "{}",
        warnings[0]
    );
    // The diagnostic, on stderr.
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("runbook::run::window_exceeded") && stderr.contains("window exceeded"),
        "{}",
        show(&resumed)
    );
}

#[test]
fn a_window_the_interruption_did_not_exceed_is_not_reported() {
    let resumed = stop_advance_resume(10 * 60);
    assert!(window_warnings(&resumed).is_empty(), "{}", show(&resumed));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(!stderr.contains("window_exceeded"), "{}", show(&resumed));
}

/// The anchor ended before the interruption and 57m of the 1h window
/// passed while the run was stopped: the resumed run says, at once, that
/// the window closes in about 3m (a warning, posted to `--notify`).
#[test]
fn a_window_closing_after_a_resume_is_said_and_posted() {
    let (url, received) = crate::notify::webhook();
    let resumed = stop_advance_resume_with(57 * 60, &["--notify", &url]);
    let closing: Vec<String> = events(&resumed)
        .iter()
        .filter(|event| {
            event["event"] == "warning" && event["code"] == "runbook::run::window_closing"
        })
        .map(|event| event["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(closing.len(), 1, "{}", show(&resumed));
    assert!(
        closing[0].starts_with("the 1h window after `stop-standby` closes in 2m")
            && closing[0].ends_with("step `restart` must start before then"),
        "{}",
        closing[0]
    );
    // Said before the step in between asks its question.
    let position = |wanted: &dyn Fn(&Value) -> bool| {
        events(&resumed).iter().position(wanted).expect("the event")
    };
    assert!(
        position(&|event| event["code"] == "runbook::run::window_closing")
            < position(&|event| event["event"] == "prompt" && event["id"] == "ready")
    );
    assert!(window_warnings(&resumed).is_empty(), "{}", show(&resumed));
    let posted = received.lock().expect("bodies").clone();
    assert!(
        posted
            .iter()
            .any(|body| body["text"] == format!("runbook window-pause: {}", closing[0]).as_str()),
        "{posted:?}"
    );
}
