//! `kill -9` of the `runbook` process at several points of a run while the
//! cluster lives in a separate `runbook sim serve --state` process: each
//! resumed run must end in the correct final state with no step done twice.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const KEY: &str = "kill-test-key";

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("runbook")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/run")
        .join(name)
}

/// A `runbook sim serve` child, killed when dropped.
struct SimServe {
    child: Child,
    url: String,
}

impl SimServe {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(binary())
            .args(["sim", "serve", "--addr", "127.0.0.1:0", "--state"])
            .arg(dir.join("cluster.json"))
            .env("RUNBOOK_SIM_API_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("sim serve printed its address")
                .unwrap();
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SimServe { child, url }
    }
}

impl Drop for SimServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// Runs the downtime upgrade and kills it with SIGKILL once the journal
/// holds `records` lines; `false` if the run ended first.
fn run_and_kill(dir: &Path, url: &str, journal: &Path, records: usize) -> bool {
    let mut child = Command::new(binary())
        .current_dir(dir)
        .args([
            "run",
            fixture("downtime.runbook").to_str().unwrap(),
            "--yes",
            "--target",
            url,
            "--journal",
        ])
        .arg(journal)
        .env("RUNBOOK_API_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if journal_lines(journal) >= records {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn resume(dir: &Path, journal: &Path) -> std::process::Output {
    Command::new(binary())
        .current_dir(dir)
        .args(["resume", "--yes", "--format", "json"])
        .arg(journal)
        .env("RUNBOOK_API_KEY", KEY)
        .output()
        .unwrap()
}

fn finished_ok_per_step(journal: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in std::fs::read_to_string(journal).unwrap().lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if record["record"] == "step_finished" && record["outcome"] == "ok" {
            *counts
                .entry(record["step"]["id"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn killed_runs_resume_to_the_correct_final_state_without_repeating_steps() {
    // Journal lines: header, steps, prompts, operations... — kill points spread over the run.
    for records in [3, 8, 14, 21, 27, 33] {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServe::start(dir.path());
        let journal = dir.path().join("run.jsonl");
        let killed = run_and_kill(dir.path(), &sim.url, &journal, records);
        let output = resume(dir.path(), &journal);
        if !killed {
            // The run finished before the kill point: nothing to resume.
            assert_eq!(output.status.code(), Some(2), "records {records}");
            continue;
        }
        assert_eq!(
            output.status.code(),
            Some(0),
            "kill after {records} records: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(last["event"], "run_finished");
        assert_eq!(last["outcome"], "succeeded");
        let servers = last["cluster"]["servers"].as_array().unwrap();
        assert!(servers.iter().all(|server| server["version"] == "7.4.0"
            && server["running"] == true
            && server["excluded"] == false));
        assert_eq!(
            servers
                .iter()
                .filter(|server| server["mode"] == "active")
                .count(),
            1
        );
        assert!(servers
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
    let sim = SimServe::start(dir.path());
    let journal = dir.path().join("run.jsonl");
    let mut child = Command::new(binary())
        .current_dir(dir.path())
        .args([
            "run",
            fixture("downtime.runbook").to_str().unwrap(),
            "--yes",
            "--format",
            "json",
            "--target",
            &sim.url,
            "--journal",
        ])
        .arg(&journal)
        .env("RUNBOOK_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt as soon as the first step has started.
    while !std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .contains("\"record\":\"step_started\"")
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
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
    let started = text.matches("\"record\":\"step_started\"").count();
    let finished = text.matches("\"record\":\"step_finished\"").count();
    assert_eq!(started, finished, "{text}");
    assert!(!text.contains(KEY), "the API key is never journaled");
    assert!(finished < 4, "the run stopped early");

    let resumed = resume(dir.path(), &journal);
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let counts = finished_ok_per_step(&journal);
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}
