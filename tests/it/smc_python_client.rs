//! The official SMC Python client (`fp-ngfw-smc-python`) logs in to
//! `runbook sim serve` with its defaults and runs its own HA flows against it
//! (tests/python/ha_flows.py): get_ha, diagnostic, the replication
//! diagnostics, smc_version, exclude and full_replication of a Standby on the
//! Active, then set_active on that Standby. Afterwards the cluster shows what
//! an operator would check: the activated Standby is the Active, the previous
//! Active a Standby, both running.
//!
//! The Python that has the client installed is named by `RUNBOOK_SMC_PYTHON`;
//! without it the test makes the venv `target/smc-python` and installs the
//! client from PyPI (as `.ci/run` does). When that cannot be done (no
//! python3, no network) the test is skipped, except in CI (`CI=true`),
//! where it fails.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use runbook::cluster::Mode;

use crate::support::process;
use crate::support::process::KEY;

const PYTHON_ENV: &str = "RUNBOOK_SMC_PYTHON";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/ha_flows.py");
/// The script bounds its whole run with this (its `--timeout`).
const SCRIPT_SECONDS: u64 = 240;
/// The test gives the script a little more before killing it.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(SCRIPT_SECONDS + 30);

/// A child process whose stdout and stderr lines are collected by threads;
/// killed and reaped when dropped, also when the test panics.
struct Process {
    child: Child,
    lines: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
    seen: String,
}

impl Process {
    // The child is owned by `Process`, whose `Drop` (and `stop`) waits for it.
    #[allow(clippy::zombie_processes)]
    fn spawn(command: &mut Command, what: &str) -> Process {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {what}: {error}"));
        let (sender, lines) = mpsc::channel();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(forward(stdout, sender.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(forward(stderr, sender));
        }
        Process {
            child,
            lines,
            readers,
            seen: String::new(),
        }
    }

    /// Waits for the process to exit; kills it after `timeout` (None then).
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
                Ok(None) | Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        }
    }

    /// Kills the process (if still running) and returns everything it printed.
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.seen.extend(self.lines.try_iter());
        self.seen.clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends every line read from `pipe` (newline included) until its end.
fn forward(pipe: impl Read + Send + 'static, sender: mpsc::Sender<String>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        loop {
            let mut bytes = Vec::new();
            match pipe.read_until(b'\n', &mut bytes) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if sender
                        .send(String::from_utf8_lossy(&bytes).into_owned())
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    })
}

/// A Python with the official client: `RUNBOOK_SMC_PYTHON` when set, else
/// the venv `target/smc-python` (what `.ci/run` makes), made and filled
/// from PyPI here when it is missing.
fn python_with_client() -> Result<std::path::PathBuf, String> {
    if let Some(python) = std::env::var_os(PYTHON_ENV).filter(|python| !python.is_empty()) {
        return Ok(python.into());
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/smc-python");
    let python = venv.join("bin/python");
    let has_client = |python: &std::path::Path| {
        Command::new(python)
            .args(["-c", "import smc.core.ha_management"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if has_client(&python) {
        return Ok(python);
    }
    let run = |command: &mut Command, what: &str| -> Result<(), String> {
        let output = command
            .output()
            .map_err(|error| format!("{what}: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv target/smc-python",
    )?;
    run(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "fp-ngfw-smc-python",
            "packaging",
        ]),
        "pip install fp-ngfw-smc-python (set RUNBOOK_SMC_PYTHON to a Python that has it)",
    )?;
    if has_client(&python) {
        Ok(python)
    } else {
        Err("fp-ngfw-smc-python installed but `import smc` fails".to_owned())
    }
}

#[test]
fn the_official_python_client_runs_its_ha_flows_against_sim_serve() {
    let python = match python_with_client() {
        Ok(python) => python,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("the official client must run in CI: {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };

    let served = process::SimServe::with_args(Vec::<std::ffi::OsString>::new());
    let url = served.url.clone();
    let active_url = format!("{url}/servers/mgt-1");
    let standby_url = format!("{url}/servers/mgt-2");

    let mut script = Process::spawn(
        Command::new(&python)
            .arg(SCRIPT)
            .arg("--url")
            .arg(&active_url)
            .arg("--standby-url")
            .arg(&standby_url)
            .args(["--api-key", KEY])
            .arg("--timeout")
            .arg(SCRIPT_SECONDS.to_string())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        &format!("{} (from {PYTHON_ENV})", python.to_string_lossy()),
    );
    let status = script.wait(SCRIPT_DEADLINE);
    let printed = script.stop();
    println!("{printed}");
    if !status.is_some_and(|status| status.success()) {
        let outcome = status.map_or_else(
            || format!("killed after {} s", SCRIPT_DEADLINE.as_secs()),
            |status| status.to_string(),
        );
        panic!("tests/python/ha_flows.py failed ({outcome}):\n{printed}");
    }

    // What an operator would check: the Standby the client activated is the
    // one Active, the previous Active a running Standby.
    let cluster = served.cluster();
    let mode = |name: &str| {
        let server = cluster.server(name).expect("server");
        assert!(server.running, "{name} runs: {cluster:?}");
        server.mode
    };
    assert_eq!(mode("mgt-2"), Mode::Active, "{cluster:?}");
    assert_eq!(mode("mgt-1"), Mode::Standby, "{cluster:?}");
    assert_eq!(
        cluster.actives().count(),
        1,
        "exactly one Active: {cluster:?}"
    );
    // `served` is killed here, as on every failure above, when dropped.
}
