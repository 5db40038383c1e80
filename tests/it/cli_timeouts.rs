//! `--request-timeout` and `--connect-timeout` through the built binary,
//! against a `runbook sim serve` started inside the test on `127.0.0.1:0`
//! whose HTTP-level `slow` fault answers long after the limit: the run names
//! the server and the limit (`runbook::connector::timeout`), exits with the
//! contract's code (an action whose answer did not come is in flight, not
//! failed), and its journal resumes — with the limit it recorded, or the
//! one given to `resume`. No timing is asserted: the slow answers
//! come ten minutes late, the limits are a fraction of a second.

use std::path::Path;
use std::process::Output;

use runbook::cluster::SimConfig;
use runbook::connect::sim_server::{HttpFault, HttpFaultKind, RunningSimServer};

use crate::support::process::{
    assert_upgraded_event, command_in, downtime_run, flat, journal_header, last_event,
    output_blocking, text,
};
use crate::support::{process, serve_sim};

const KEY: &str = "timeout-test-key-51c2e9";
/// Far longer than any limit given here: these answers never arrive.
const NEVER_MS: u64 = 600_000;

async fn serve() -> RunningSimServer {
    serve_sim(SimConfig::default(), KEY, 6000.0).await
}

fn slow(route: &str, count: u32) -> HttpFault {
    HttpFault {
        route: route.to_owned(),
        kind: HttpFaultKind::Slow { delay_ms: NEVER_MS },
        remaining: count,
    }
}

/// Runs the binary with `args` in `dir` (blocking, off the server's runtime).
async fn runbook(dir: &Path, args: &[&str]) -> Output {
    let mut command = command_in(dir);
    command.env("RUNBOOK_API_KEY", KEY).args(args);
    output_blocking(command).await
}

fn assert_no_key(output: &Output, journal: Option<&Path>) {
    process::assert_no_key(output, journal, KEY);
}

/// Every server answers slower than the limit from the first request: the
/// target is unreachable before anything changed — exit 2, the diagnostic
/// names the limit as given, no journal to resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_slower_than_the_limit_from_the_start_exits_2() {
    let server = serve().await;
    server.shared().add_fault(slow("", 1000));
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("run.jsonl");
    let url = server.url();
    let args = ["--format", "json", "--request-timeout", "300ms"];
    let output = runbook(dir.path(), &downtime_run(&url, &args, &journal)).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("runbook::connector::timeout"), "{stderr}");
    assert!(stderr.contains("did not answer within 300ms"), "{stderr}");
    assert!(
        stderr.contains("--request-timeout"),
        "the help names the flag: {stderr}"
    );
    let last = last_event(&output);
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["outcome"], "failed");
    assert!(!journal.exists(), "nothing changed, nothing to resume");
    assert_no_key(&output, Some(&journal));
    server.shutdown().await;
}

/// An action answers slower than the limit in the middle of a run: the
/// server acted, the answer never came. The run does not take it for a
/// failure: it says so, naming the server, the limit and the action, reads
/// the cluster, sees the exclusion took effect and goes on to the upgraded
/// cluster. The journal records the limit: an action whose connection
/// closes before it acts stops the run resumably (once the runner waited
/// for it in vain), the resume connects with the recorded limit (a slow
/// answer is again noted at 300ms), and a resume given a longer
/// `--request-timeout` overrides it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_action_is_in_flight_and_the_journal_resumes_with_its_limit() {
    let server = serve().await;
    // Step 1 keeps the Standbys running and excludes them: the first
    // exclusion never gets its answer.
    server.shared().add_fault(slow("/ha/exclude", 1));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("answers.toml"),
        "standby-handling = \"exclude\"\n",
    )
    .expect("answers");
    let journal = dir.path().join("run.jsonl");
    let journal_arg = journal.to_str().expect("utf-8").to_owned();
    let url = server.url();
    let args = [
        "--answers",
        "answers.toml",
        "--request-timeout",
        "300ms",
        "--connect-timeout",
        "2s",
    ];
    let output = runbook(dir.path(), &downtime_run(&url, &args, &journal)).await;
    let stdout = flat(&text(&output.stdout));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        stdout.contains("mgt-1 did not answer within 300ms (exclude mgt-2)")
            && stdout.contains("reading the cluster to see whether it took effect"),
        "the note names the server, the limit and the action: {stdout}"
    );
    let header = journal_header(&journal);
    assert_eq!(
        header["connection"],
        serde_json::json!({ "request_timeout": "300ms", "connect_timeout": "2s" })
    );
    assert_no_key(&output, Some(&journal));

    // A second run, whose standby initializations never reach the server
    // (the connection closes first): it waits for them in vain and stops.
    server.shared().clear_faults();
    let second = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("answers.toml"),
        second.path().join("answers.toml"),
    )
    .unwrap();
    let fresh = serve().await;
    let url = fresh.url();
    let journal = second.path().join("run.jsonl");
    let journal_arg2 = journal.to_str().expect("utf-8").to_owned();
    fresh.shared().add_fault(HttpFault {
        route: "/ha/full_replication".to_owned(),
        kind: HttpFaultKind::CloseConnection,
        remaining: 1000,
    });
    let stopped = runbook(second.path(), &downtime_run(&url, &args, &journal)).await;
    let stderr = text(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("To continue: runbook resume {journal_arg2}")),
        "{stderr}"
    );

    // The resume connects as the run did: a slow answer is noted at 300ms.
    fresh.shared().clear_faults();
    fresh.shared().add_fault(slow("/ha/full_replication", 1));
    fresh.shared().add_fault(HttpFault {
        route: "/ha/full_replication".to_owned(),
        kind: HttpFaultKind::CloseConnection,
        remaining: 1000,
    });
    let resumed = runbook(second.path(), &["resume", &journal_arg2, "--yes"]).await;
    let stdout = flat(&text(&resumed.stdout));
    assert_eq!(resumed.status.code(), Some(1), "{}", text(&resumed.stderr));
    assert!(stdout.contains("did not answer within 300ms"), "{stdout}");
    assert_no_key(&resumed, Some(&journal));

    // A longer limit given to `resume` overrides the recorded one.
    fresh.shared().clear_faults();
    fresh.shared().add_fault(HttpFault {
        route: "/ha/full_replication".to_owned(),
        kind: HttpFaultKind::Slow { delay_ms: 500 },
        remaining: 1,
    });
    let finished = runbook(
        second.path(),
        &[
            "resume",
            &journal_arg2,
            "--yes",
            "--format",
            "json",
            "--request-timeout",
            "30s",
        ],
    )
    .await;
    let out = text(&finished.stdout);
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{}",
        text(&finished.stderr)
    );
    assert!(!out.contains("did not answer within"), "{out}");
    assert_upgraded_event(&last_event(&finished), "resumed with a longer limit");
    assert_no_key(&finished, Some(&journal));
    let _ = journal_arg;
    fresh.shutdown().await;
    server.shutdown().await;
}

/// Bad values are usage errors (exit 2): not a duration, zero, and a
/// connection option for the in-process simulator.
#[test]
fn bad_time_limits_are_usage_errors() {
    for (args, expected) in [
        (
            vec![
                "--target",
                "http://127.0.0.1:9",
                "--request-timeout",
                "10min",
            ],
            "not a duration like 500ms, 30s, 5m, 2h or 1h30m",
        ),
        (
            vec!["--target", "http://127.0.0.1:9", "--connect-timeout", "0s"],
            "must be more than zero",
        ),
        (
            vec!["--request-timeout", "5s"],
            "--request-timeout applies to an http(s):// or inventory target",
        ),
    ] {
        let output = assert_cmd::Command::cargo_bin("runbook")
            .expect("binary")
            .env("NO_COLOR", "1")
            .args(["run", "upgrade-with-downtime", "--yes"])
            .args(&args)
            .output()
            .expect("runs");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
