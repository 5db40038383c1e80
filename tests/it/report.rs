//! `runbook report JOURNAL`: journals made by really running shipped
//! runbooks on the simulator — a fault that enters a What-if and stops the
//! run, then a resume by another operator; a run killed mid-way and resumed;
//! a run through a time window — told as one story. The Markdown report is
//! a snapshot (times, ids, host and hashes redacted); the HTML page is
//! opened in a real headless Chromium (`tools/report-check`, playwright-core
//! on Debian's `/usr/bin/chromium`): its sections are there, it makes no
//! network request, and a `<script>` written into an answer does not run.
//! That check runs with `RUNBOOK_REPORT_BROWSER=1` or `CI=true` (where it
//! must not be skipped); `RUNBOOK_REPORT_SCREENSHOT=FILE` also saves the
//! page as a PNG (`docs/images/report.png`).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::manifest_dir;
use crate::support::process::{command_in, records, show};

/// A string no runbook or simulator would write, as an answer: a script, an
/// image from the network, and a table's `|`.
const INJECTED: &str = "<script>window.__runbookInjected=true;document.title='pwned'</script><img src=\"http://127.0.0.1:9/x.png\" onerror=\"window.__runbookInjected=true\"> | **bold**";

/// `upgrade-with-downtime` on the in-process simulator with the installer
/// failing on `mgt-2`: the What-if `installer-failed` stops the run
/// (operator alice); `resume` (operator bob) finishes it. The journal is
/// `dir/run.jsonl`.
fn fault_then_resume(dir: &Path) -> PathBuf {
    let journal = dir.join("run.jsonl");
    let first = command_in(dir)
        .args(["run", "upgrade-with-downtime", "--yes", "--format", "json"])
        .args(["--sim-fault", "upgrade-fails:mgt-2"])
        .args(["--journal", "run.jsonl", "--operator", "alice"])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    let resumed = command_in(dir)
        .args(["resume", "run.jsonl", "--yes", "--format", "json"])
        .env("RUNBOOK_OPERATOR", "bob")
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    journal
}

fn report(dir: &Path, args: &[&str]) -> Output {
    command_in(dir).arg("report").args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Replaces what changes from run to run (times, the run id, the host,
/// source hashes) in `text`, for a snapshot.
fn redacted(text: &str, journal: &Path) -> String {
    let header = &records(journal)[0];
    let mut text = text.replace(header["run_id"].as_str().unwrap(), "[run-id]");
    if let Some(host) = header["by"]["host"].as_str() {
        text = text.replace(&format!(" on {host}"), " on [host]");
    }
    text
}

#[test]
fn a_stopped_and_resumed_run_is_one_story_in_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let journal = fault_then_resume(dir.path());
    let output = report(dir.path(), &["run.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let markdown = stdout(&output);
    // The pieces a change record needs, before the whole snapshot.
    for expected in [
        "| Outcome | **succeeded**",
        "| Resumed | 1 time(s):",
        "by alice on",
        "by bob on",
        "What-if **installer-failed** entered",
        "## Cluster before and after",
        "**7.4.0** (was 7.3.4)",
        "Proof: none recorded",
    ] {
        assert!(markdown.contains(expected), "{expected}:\n{markdown}");
    }
    // The resume sits inside the timeline, between the stop and the end.
    let stop = markdown.find("Run stopped").expect("the stop");
    let resume = markdown.find("**Resumed by bob").expect("the resume");
    let end = markdown.find("Run succeeded").expect("the end");
    assert!(stop < resume && resume < end, "{markdown}");
    insta::with_settings!({
        filters => vec![
            (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "[time]"),
            (r"[0-9a-f]{64}", "[sha256]"),
        ],
    }, {
        insta::assert_snapshot!("fault_then_resume_markdown", redacted(&markdown, &journal));
    });
}

#[cfg(unix)]
#[test]
fn a_killed_and_resumed_run_shows_the_step_the_kill_cut() {
    use crate::support::process::{resume, run_and_kill, SimServe};
    let dir = tempfile::tempdir().unwrap();
    let sim = SimServe::start(dir.path(), 20_000);
    let journal = dir.path().join("run.jsonl");
    // Killed once the second step started: that step has no end.
    let killed = run_and_kill(
        dir.path(),
        "upgrade-with-downtime",
        &sim.url,
        &journal,
        "step_started",
        2,
    );
    assert!(killed, "the run ended before the kill point");
    let resumed = resume(dir.path(), &journal);
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    let output = report(dir.path(), &["run.jsonl", "--format", "markdown"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let markdown = stdout(&output);
    assert!(markdown.contains("| Outcome | **succeeded**"), "{markdown}");
    assert!(markdown.contains("| Resumed | 1 time(s)"), "{markdown}");
    let cut = markdown.find("| not finished |").expect("the cut step");
    let resume = markdown.find("**Resumed by").expect("the resume");
    assert!(cut < resume, "{markdown}");
}

#[test]
fn a_window_is_measured_against_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .args(["run", "upgrade-no-downtime", "--yes", "--accept-data-loss"])
        .args(["--journal", "run.jsonl", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let markdown = stdout(&report(dir.path(), &["run.jsonl"]));
    let windows = &markdown[markdown.find("## Time windows").unwrap()..];
    let row = windows
        .lines()
        .find(|line| line.contains("**force\\-final\\-active**") || line.contains("force"))
        .unwrap_or_else(|| panic!("{windows}"));
    assert!(row.ends_with("| 5m | yes |"), "{row}");
}

#[test]
fn the_format_follows_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    fault_then_resume(dir.path());
    for (args, html) in [
        (&["run.jsonl", "-o", "page.html"][..], true),
        (&["run.jsonl", "-o", "notes.md"], false),
        (
            &["run.jsonl", "-o", "record.txt", "--format", "markdown"],
            false,
        ),
        (&["run.jsonl", "-o", "record"], true),
    ] {
        let output = report(dir.path(), args);
        assert_eq!(output.status.code(), Some(0), "{}", show(&output));
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
        let written = std::fs::read_to_string(dir.path().join(args[2])).unwrap();
        assert_eq!(
            written.starts_with("<!DOCTYPE html>"),
            html,
            "{args:?}: {}",
            &written[..40]
        );
    }
    let page = stdout(&report(dir.path(), &["run.jsonl", "--format", "html"]));
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Self-contained: no address to fetch anything from.
    for external in ["src=", "href=", "@import", "url(", "<script", "<link"] {
        assert!(!page.contains(external), "{external} in the page");
    }
}

#[test]
fn every_journal_string_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let journal = fault_then_resume(dir.path());
    inject(&journal);
    let page = stdout(&report(dir.path(), &["run.jsonl", "--format", "html"]));
    assert!(!page.contains("<script"), "a script element in the page");
    assert!(!page.contains("<img"), "an image element in the page");
    assert!(page.contains("&lt;script&gt;window.__runbookInjected"));
    let markdown = stdout(&report(dir.path(), &["run.jsonl"]));
    assert!(!markdown.contains("<script"), "{markdown}");
    let row = markdown
        .lines()
        .find(|line| line.contains("__runbookInjected") || line.contains("\\_\\_runbookInjected"))
        .expect("the injected answer");
    // Still one row of the prompts table: the `|` of the answer is escaped.
    assert_eq!(row.matches(" | ").count(), 5, "{row}");
    assert!(row.contains("\\| \\*\\*bold"), "{row}");
}

/// Writes [`INJECTED`] as the answer of the journal's first prompt and as
/// the operator of the resume, as a tampered or hostile journal would.
fn inject(journal: &Path) {
    let mut lines: Vec<serde_json::Value> = records(journal);
    let prompt = lines
        .iter_mut()
        .find(|record| record["record"] == "prompt")
        .expect("a prompt");
    prompt["answer"] = serde_json::Value::String(INJECTED.to_string());
    let text: String = lines.iter().map(|record| format!("{record}\n")).collect();
    std::fs::write(journal, text).unwrap();
}

#[test]
fn a_missing_or_corrupt_journal_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = report(dir.path(), &["nothing.jsonl"]);
    assert_eq!(missing.status.code(), Some(2), "{}", show(&missing));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("runbook::report::unreadable"),
        "{}",
        show(&missing)
    );

    let journal = fault_then_resume(dir.path());
    let mut text = std::fs::read_to_string(&journal).unwrap();
    let cut = text.match_indices('\n').nth(2).unwrap().0 + 1;
    text.insert_str(cut, "{\"record\": \"step_started\", oops\n");
    std::fs::write(dir.path().join("bad.jsonl"), &text).unwrap();
    let corrupt = report(dir.path(), &["bad.jsonl"]);
    assert_eq!(corrupt.status.code(), Some(2), "{}", show(&corrupt));
    let stderr = String::from_utf8_lossy(&corrupt.stderr);
    assert!(
        stderr.contains("runbook::report::not_a_journal") && stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(stderr.contains("bad.jsonl:4:1"), "the excerpt: {stderr}");

    // A torn last line (a kill mid-write) is not an error: it is said.
    let mut torn = std::fs::read_to_string(&journal).unwrap();
    torn.push_str("{\"record\":\"step_sta");
    std::fs::write(dir.path().join("torn.jsonl"), torn).unwrap();
    let output = report(dir.path(), &["torn.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(stdout(&output).contains("its last line was incomplete"));

    let unwritable = report(dir.path(), &["run.jsonl", "-o", "no/such/folder/r.html"]);
    assert_eq!(unwritable.status.code(), Some(2), "{}", show(&unwritable));
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("runbook::report::output"));
}

/// Whether the browser check must run: in CI, or when asked.
fn browser_wanted() -> Option<bool> {
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let asked = std::env::var("RUNBOOK_REPORT_BROWSER").is_ok_and(|value| value == "1");
    (ci || asked).then_some(ci)
}

#[test]
fn the_html_page_opens_offline_in_a_headless_browser() {
    let Some(ci) = browser_wanted() else {
        eprintln!(
            "skipped: the headless browser check runs with RUNBOOK_REPORT_BROWSER=1 (and in CI)"
        );
        return;
    };
    let tool = manifest_dir().join("tools/report-check");
    let chromium =
        std::env::var("RUNBOOK_CHROMIUM").unwrap_or_else(|_| String::from("/usr/bin/chromium"));
    let node = std::process::Command::new("node").arg("--version").output();
    let missing = if node.is_err() {
        Some(String::from("node is not installed"))
    } else if !Path::new(&chromium).exists() {
        Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ))
    } else if !tool.join("node_modules/playwright-core").exists() {
        Some(String::from(
            "tools/report-check has no node_modules (cd tools/report-check && npm ci)",
        ))
    } else {
        None
    };
    if let Some(missing) = missing {
        assert!(!ci, "the browser check cannot run in CI: {missing}");
        eprintln!("skipped: {missing}");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let journal = fault_then_resume(dir.path());
    let clean = report(dir.path(), &["run.jsonl", "-o", "report.html"]);
    assert_eq!(clean.status.code(), Some(0), "{}", show(&clean));
    inject(&journal);
    let hostile = report(dir.path(), &["run.jsonl", "-o", "injected.html"]);
    assert_eq!(hostile.status.code(), Some(0), "{}", show(&hostile));

    let mut check = std::process::Command::new("node");
    check
        .current_dir(&tool)
        .arg("check.js")
        .env("RUNBOOK_CHROMIUM", &chromium);
    if let Ok(screenshot) = std::env::var("RUNBOOK_REPORT_SCREENSHOT") {
        let screenshot = std::env::current_dir().unwrap().join(screenshot);
        check.arg("--screenshot").arg(screenshot);
    }
    let output = check
        .arg(dir.path().join("report.html"))
        .arg("--injected")
        .arg("<script>window.__runbookInjected=true;")
        .arg(dir.path().join("injected.html"))
        .output()
        .unwrap();
    let printed = stdout(&output);
    eprintln!("{printed}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(printed.contains(" passed, 0 failed"), "{printed}");
}
