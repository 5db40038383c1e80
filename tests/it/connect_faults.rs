//! Connector fault matrix: whole `runbook run` processes against a
//! `runbook sim serve` whose SMC routes answer 500, time out, close the
//! connection, return malformed JSON or expire the session
//! (`/sim/control/http-fault`, `/sim/control/expire-sessions`).
//!
//! For every route the `smc` connector uses and every kind of fault, once
//! (a transient fault) and for good (until the test lifts it): the run
//! either recovers (it must, for a transient fault on a read or a single
//! 401, which are safe to retry) or stops with a diagnostic and a resumable
//! journal; then, the fault lifted, `runbook resume` completes the upgrade
//! with no step that finished ok run twice.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::process::{
    count_records, finished_ok_per_step, last_event, records, resume, run, show, spawn_run,
    SimServe,
};
use crate::support::{assert_upgraded, process};

const SPEED: u32 = 100_000;

/// The routes of the SMC API the connector uses (substrings of the path).
/// `true` for reads, which are retried; actions never are.
const ROUTES: &[(&str, bool)] = &[
    ("/api", true), // version discovery and entry points
    ("/login", false),
    ("/elements/mgt_server", true),
    ("/database_replication_diagnostic", true),
    ("/all_servers_replication_states", true),
    ("/ha/operations/", true),
    ("/ha/exclude", false),
    ("/ha/set_active", false),
    ("/ha/set_standby", false),
    ("/ha/full_replication", false),
];

/// The runbook that reaches a route: the preparation is the only one that
/// reads every server's replication state; the upgrade without downtime
/// uses every HA action.
fn runbook_for(route: &str) -> &'static str {
    if route == "/all_servers_replication_states" {
        "upgrade-preparation"
    } else {
        "upgrade-no-downtime"
    }
}

/// How one faulty run ended.
#[derive(Debug, PartialEq)]
enum Ending {
    Recovered,
    StoppedThenResumed,
    /// Exit 2: the target could not be reached before anything changed;
    /// a new run (fault lifted) does the upgrade.
    RefusedThenRerun,
}

/// After the run: either it succeeded, or it stopped with a diagnostic and
/// a resumable journal, and a resume (fault lifted) completes the upgrade.
fn settle(
    dir: &Path,
    sim: &SimServe,
    runbook: &str,
    journal: &Path,
    output: &std::process::Output,
    context: &str,
) -> Ending {
    let last = last_event(output);
    assert_eq!(last["event"], "run_finished", "{context}: {}", show(output));
    let ending = if output.status.code() == Some(0) {
        assert_eq!(last["outcome"], "succeeded", "{context}: {last}");
        Ending::Recovered
    } else if output.status.code() == Some(2) {
        assert_eq!(count_records(journal, "operation_started"), 0, "{context}");
        assert!(
            !String::from_utf8_lossy(&output.stderr).trim().is_empty(),
            "{context}: no diagnostic"
        );
        sim.request("DELETE", "/sim/control/http-fault", None);
        let rerun_journal = journal.with_extension("rerun.jsonl");
        let rerun = run(dir, runbook, &sim.url, &rerun_journal);
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "{context}: rerun: {}",
            show(&rerun)
        );
        Ending::RefusedThenRerun
    } else {
        assert_eq!(output.status.code(), Some(1), "{context}: {}", show(output));
        let message = last["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{context}: no diagnostic: {last}");
        let journaled = records(journal);
        let finished = journaled
            .iter()
            .rev()
            .find(|record| record["record"] == "run_finished")
            .unwrap_or_else(|| panic!("{context}: no run_finished record"));
        assert_eq!(finished["resumable"], true, "{context}: {finished}");
        sim.request("DELETE", "/sim/control/http-fault", None);
        let resumed = resume(dir, journal);
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "{context}: resume: {}",
            show(&resumed)
        );
        assert_eq!(last_event(&resumed)["outcome"], "succeeded", "{context}");
        Ending::StoppedThenResumed
    };
    assert_upgraded(&sim.cluster(), context);
    for (step, times) in finished_ok_per_step(journal) {
        assert_eq!(times, 1, "{context}: step {step} finished ok {times} times");
    }
    ending
}

fn inject(sim: &SimServe, route: &str, kind: Value, count: u32) {
    sim.request(
        "POST",
        "/sim/control/http-fault",
        Some(&json!({"route": route, "kind": kind, "count": count})),
    );
}

fn one_case(route: &str, read: bool, kind: &str, count: u32) -> Ending {
    let runbook = runbook_for(route);
    let context = format!("{runbook}: `{kind}` x{count} on {route}");
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = SimServe::start(dir.path(), SPEED);
    inject(&sim, route, json!({"type": kind}), count);
    let journal = dir.path().join("run.jsonl");
    let output = run(dir.path(), runbook, &sim.url, &journal);
    let ending = settle(dir.path(), &sim, runbook, &journal, &output, &context);
    let transient = count == 1;
    // Retrying is safe for a read, and after a 401 (nothing was executed).
    // Discovery and login are judged by the run as a whole: a 401 on the
    // login itself means the key was refused, not that a session expired.
    let discovery = route == "/api" || route == "/login";
    let must_recover = transient && !discovery && (read || kind == "unauthorized");
    if must_recover {
        assert_eq!(ending, Ending::Recovered, "{context}: {}", show(&output));
    }
    ending
}

fn matrix(kinds: &[&str]) {
    let mut table = Vec::new();
    for &(route, read) in ROUTES {
        for &kind in kinds {
            for count in [1, 1000] {
                let ending = one_case(route, read, kind, count);
                table.push(format!("{route:36} {kind:17} x{count:<5} {ending:?}"));
            }
        }
    }
    eprintln!("{}", table.join("\n"));
}

#[test]
fn server_errors() {
    matrix(&["server-error"]);
}

#[test]
fn malformed_json() {
    matrix(&["malformed-json"]);
}

#[test]
fn closed_connections() {
    matrix(&["close-connection"]);
}

#[test]
fn expired_sessions_on_one_request() {
    matrix(&["unauthorized"]);
}

/// An inventory pointing at the simulator with a 1 s request timeout, its
/// console operations performed by `curl` on `/sim/console`.
fn inventory(dir: &Path, sim: &SimServe) -> std::path::PathBuf {
    let info: Value = serde_json::from_str(&sim.request("GET", "/sim/info", None)).expect("json");
    let mut text = format!(
        "[api]\nurl = \"{}\"\napi_key_env = \"RUNBOOK_API_KEY\"\nrequest_timeout = \"1s\"\n\
         poll_interval = \"50ms\"\nread_retries = 2\n\n",
        sim.url
    );
    for server in info["servers"].as_array().expect("servers") {
        text.push_str(&format!(
            "[[servers]]\nname = \"{}\"\nhost = \"{}\"\napi = \"{}\"\n\n",
            server["name"].as_str().unwrap_or_default(),
            server["name"].as_str().unwrap_or_default(),
            server["api"].as_str().unwrap_or_default()
        ));
    }
    let auth = format!("Authorization: Bearer {}", process::KEY);
    let console = |operation: &str| {
        format!(
            "[\"curl\", \"-sf\", \"-X\", \"POST\", \"-H\", \"{auth}\", \"{}/sim/console/{{server}}/{operation}\"]",
            sim.url
        )
    };
    text.push_str(&format!(
        "[console]\ntimeout = \"60s\"\nstop = {}\nstart = {}\nupgrade = {}\nbackup = {}\nrestore = {}\nstop_replication = {}\n",
        console("stop"),
        console("start"),
        console("upgrade?version={version}"),
        console("backup"),
        console("restore"),
        console("stop_replication"),
    ));
    let path = dir.join("inventory.toml");
    std::fs::write(&path, text).expect("inventory written");
    path
}

/// A request that times out: reads are not retried after a timeout, and an
/// action that timed out may have run (here it did: the simulator answers
/// late, after acting), so the run stops and the resume observes the
/// cluster before going on.
#[test]
fn timeouts_stop_the_run_resumably() {
    let mut table = Vec::new();
    for &(route, _) in ROUTES {
        if route == "/all_servers_replication_states" || route == "/login" {
            continue;
        }
        let runbook = runbook_for(route);
        let context = format!("{runbook}: timeout on {route}");
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = SimServe::start(dir.path(), SPEED);
        let target = inventory(dir.path(), &sim);
        inject(&sim, route, json!({"type": "slow", "delay_ms": 1500}), 1);
        let journal = dir.path().join("run.jsonl");
        let output = run(
            dir.path(),
            runbook,
            target.to_str().expect("utf-8"),
            &journal,
        );
        let ending = settle(dir.path(), &sim, runbook, &journal, &output, &context);
        table.push(format!("{route:36} timeout            {ending:?}"));
    }
    eprintln!("{}", table.join("\n"));
}

/// Every session expires between two steps: the connector logs in again.
#[test]
fn sessions_expiring_mid_run_are_renewed() {
    for runbook in ["upgrade-no-downtime", "upgrade-with-downtime"] {
        for boundary in [1, 2, 3] {
            let context = format!("{runbook}: sessions expired after step {boundary}");
            let dir = tempfile::tempdir().expect("temp dir");
            let sim = SimServe::start(dir.path(), SPEED);
            let journal = dir.path().join("run.jsonl");
            let child = spawn_run(dir.path(), runbook, &sim.url, &journal);
            while count_records(&journal, "step_finished") < boundary
                && count_records(&journal, "run_finished") == 0
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            sim.request("POST", "/sim/control/expire-sessions", None);
            let output = child.wait_with_output().expect("run ends");
            let ending = settle(dir.path(), &sim, runbook, &journal, &output, &context);
            assert_eq!(ending, Ending::Recovered, "{context}: {}", show(&output));
        }
    }
}
