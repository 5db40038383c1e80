//! Helpers for the tests that drive the built `runbook` binary as separate
//! processes, often against a `runbook sim serve` child: start the server,
//! run and kill the runner, resume, read the journal, the JSON events and
//! the simulator's true cluster.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use runbook::cluster::Snapshot;
use serde_json::Value;

/// The API key every test server and runner shares.
pub const KEY: &str = "process-test-key";

/// The `runbook` binary under test.
pub fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("runbook")
}

/// `runbook` run in `dir`, without colours.
pub fn command_in(dir: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::cargo_bin("runbook").expect("the binary is built");
    command.current_dir(dir).env("NO_COLOR", "1");
    command
}

/// `runbook ARGS` run to its end in `dir`, with the exit code expected:
/// its output (the panic shows all of it otherwise).
pub fn run_in<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S], code: i32) -> Output {
    let output = command_in(dir).args(args).output().expect("runbook runs");
    assert_eq!(output.status.code(), Some(code), "{}", show(&output));
    output
}

/// Runs `command` to its end off the async runtime (a test's in-process
/// server keeps answering meanwhile).
pub async fn output_blocking(mut command: assert_cmd::Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("joined")
}

/// The arguments of `runbook run upgrade-with-downtime --yes --target URL
/// ARGS --journal JOURNAL`.
pub fn downtime_run<'a>(url: &'a str, args: &[&'a str], journal: &'a Path) -> Vec<&'a str> {
    let mut all = vec!["run", "upgrade-with-downtime", "--yes", "--target", url];
    all.extend_from_slice(args);
    all.extend(["--journal", journal.to_str().expect("a UTF-8 path")]);
    all
}

/// Bytes a process printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Output with the diagnostic's wrapping undone: frame characters removed,
/// whitespace runs collapsed.
pub fn flat(text: &str) -> String {
    text.replace(['│', '·'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Panics if `key` is in what the process printed or in `journal` (when
/// there is one).
pub fn assert_no_key(output: &Output, journal: Option<&Path>, key: &str) {
    assert!(
        !text(&output.stdout).contains(key),
        "the key is never printed"
    );
    assert!(
        !text(&output.stderr).contains(key),
        "the key is never printed"
    );
    if let Some(journal) = journal.filter(|path| path.exists()) {
        let journaled = std::fs::read_to_string(journal).expect("journal");
        assert!(!journaled.contains(key), "the key is never journaled");
    }
}

/// A `runbook sim serve` child, killed when dropped.
pub struct SimServe {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl SimServe {
    /// Starts a 3-server cluster persisted in `dir/cluster.json`, at `speed`
    /// simulated seconds per real second.
    pub fn start(dir: &Path, speed: u32) -> Self {
        Self::with_args([
            OsString::from("--speed"),
            speed.to_string().into(),
            "--state".into(),
            dir.join("cluster.json").into(),
        ])
    }

    /// Starts `runbook sim serve --addr 127.0.0.1:0 ARGS` with [`KEY`].
    pub fn with_args(args: impl IntoIterator<Item = OsString>) -> Self {
        Self::at("127.0.0.1:0", args)
    }

    /// Starts `runbook sim serve --addr ADDR ARGS` with [`KEY`] (an address
    /// another one served before: another cluster at the same address).
    pub fn at(addr: &str, args: impl IntoIterator<Item = OsString>) -> Self {
        let mut child = Command::new(binary())
            .args(["sim", "serve", "--addr", addr])
            .args(args)
            .env("RUNBOOK_SIM_API_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sim serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("sim serve printed its address")
                .expect("readable stdout");
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SimServe { child, url }
    }

    /// `127.0.0.1:PORT`.
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// One request to a `/sim/...` route with the bearer key; the body of
    /// the answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> String {
        let payload = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(self.authority()).expect("sim serve accepts");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            self.authority(),
            payload.len()
        );
        stream.write_all(request.as_bytes()).expect("request sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer read");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with("HTTP/1.1 2"),
            "{method} {path}: {head}\n{body}"
        );
        body.to_owned()
    }

    /// The true cluster (`GET /sim/cluster`).
    pub fn cluster(&self) -> Snapshot {
        let body = self.request("GET", "/sim/cluster", None);
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("{error}: {body}"))
    }
}

impl Drop for SimServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `runbook run RUNBOOK --yes --accept-data-loss --target URL --journal
/// JOURNAL --format json` (a rehearsal follows the pages' discard branches),
/// started (not waited for).
pub fn spawn_run(dir: &Path, runbook: &str, target: &str, journal: &Path) -> Child {
    Command::new(binary())
        .current_dir(dir)
        .args([
            "run",
            runbook,
            "--yes",
            "--accept-data-loss",
            "--format",
            "json",
            "--target",
            target,
        ])
        .arg("--journal")
        .arg(journal)
        .env("RUNBOOK_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runbook run starts")
}

/// Runs to the end.
pub fn run(dir: &Path, runbook: &str, target: &str, journal: &Path) -> Output {
    spawn_run(dir, runbook, target, journal)
        .wait_with_output()
        .expect("runbook run ends")
}

/// `runbook resume --yes --accept-data-loss --format json JOURNAL`.
pub fn resume(dir: &Path, journal: &Path) -> Output {
    spawn_resume(dir, journal)
        .wait_with_output()
        .expect("runbook resume runs")
}

/// [`resume`], started (not waited for).
pub fn spawn_resume(dir: &Path, journal: &Path) -> Child {
    Command::new(binary())
        .current_dir(dir)
        .args(["resume", "--yes", "--accept-data-loss", "--format", "json"])
        .arg(journal)
        .env("RUNBOOK_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runbook resume starts")
}

/// The journal's records (a line cut by a kill is skipped).
pub fn records(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The journal's header, its first record.
pub fn journal_header(journal: &Path) -> Value {
    records(journal)
        .into_iter()
        .next()
        .expect("a journal header")
}

/// How many records of kind `record` the journal holds.
pub fn count_records(journal: &Path, record: &str) -> usize {
    records(journal)
        .iter()
        .filter(|entry| entry["record"] == record)
        .count()
}

/// Runs and kills the runner with SIGKILL as soon as the journal holds
/// `count` records of kind `record`; `false` if the run ended first (or
/// had already journaled its end when the kill landed).
pub fn run_and_kill(
    dir: &Path,
    runbook: &str,
    target: &str,
    journal: &Path,
    record: &str,
    count: usize,
) -> bool {
    run_and_kill_when(dir, runbook, target, journal, |records| {
        records
            .iter()
            .filter(|entry| entry["record"] == record)
            .count()
            >= count
    })
}

/// Runs and kills the runner with SIGKILL as soon as the journal's records
/// satisfy `reached`; `false` if the run ended first (or had already
/// journaled its end when the kill landed).
pub fn run_and_kill_when(
    dir: &Path,
    runbook: &str,
    target: &str,
    journal: &Path,
    reached: impl Fn(&[Value]) -> bool,
) -> bool {
    let mut child = spawn_run(dir, runbook, target, journal);
    loop {
        if reached(&records(journal)) {
            let _ = child.kill();
            let _ = child.wait();
            // The kill can land after the run already wrote its end (a fast
            // tail after the kill point): then there is nothing to resume.
            return count_records(journal, "run_finished") == 0;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `step id#occurrence → times it finished ok` over the whole journal.
pub fn finished_ok_per_step(journal: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for record in records(journal) {
        if record["record"] == "step_finished" && record["outcome"] == "ok" {
            let key = format!(
                "{}#{}",
                record["step"]["id"].as_str().unwrap_or("?"),
                record["step"]["occurrence"]
            );
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

/// Every JSON event a run printed, one a line (panics on a line that is not
/// JSON).
pub fn events(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect()
}

/// The last JSON event a run printed.
pub fn last_event(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or(Value::Null)
}

/// Panics unless `last` is the `run_finished` event of a succeeded upgrade:
/// every server on 7.4.0, running, not excluded, and one Active, whose name
/// it returns.
pub fn assert_upgraded_event(last: &Value, context: &str) -> String {
    assert_eq!(last["event"], "run_finished", "{context}: {last}");
    assert_eq!(last["outcome"], "succeeded", "{context}: {last}");
    let servers = last["cluster"]["servers"].as_array().expect("servers");
    assert!(
        servers.iter().all(|server| server["version"] == "7.4.0"
            && server["running"] == true
            && server["excluded"] == false),
        "{context}: {last}"
    );
    let actives: Vec<&str> = servers
        .iter()
        .filter(|server| server["mode"] == "active")
        .filter_map(|server| server["name"].as_str())
        .collect();
    assert_eq!(actives.len(), 1, "{context}: {last}");
    actives[0].to_owned()
}

/// What an upgrade's end state must be, as comparable text: each server's
/// mode, version, running, replication and exclusion (revisions and clocks
/// may differ between runs).
pub fn final_state(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .servers
        .iter()
        .map(|server| {
            format!(
                "{} {:?} {} running={} {:?} excluded={}",
                server.name,
                server.mode,
                server.version,
                server.running,
                server.replication,
                server.excluded
            )
        })
        .collect()
}

/// Both outputs of a process, for assertion messages.
pub fn show(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
