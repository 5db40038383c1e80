//! `runbook fmt`, `runbook graph` and `runbook completions` through the built
//! binary: exit codes, messages, files rewritten or left alone.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const FORMATTED: &str = "runbook tidy {\n    title \"Tidy\"\n\n    step one \"One\" {\n        note \"hello\"\n    }\n}\n";
const UNFORMATTED: &str =
    "runbook messy {\ntitle   \"Messy\"\n  step one \"One\" { note \"hello\" } // kept\n}\n";
const BROKEN: &str = "runbook broken {\n    title \"Broken\"\n    step {\n}\n";

fn runbook() -> Command {
    let mut command = Command::cargo_bin("runbook").expect("the binary is built");
    command.env("NO_COLOR", "1");
    command
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writable");
    path
}

#[test]
fn fmt_check_passes_on_formatted_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "tidy.runbook", FORMATTED);
    runbook()
        .args(["fmt", "--check"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 file already formatted"));
}

#[test]
fn fmt_check_names_unformatted_files_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "tidy.runbook", FORMATTED);
    let messy = write(dir.path(), "messy.runbook", UNFORMATTED);
    runbook()
        .args(["fmt", "--check"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "would reformat {}",
            messy.display()
        )))
        .stdout(predicate::str::contains("tidy.runbook").not());
    assert_eq!(
        std::fs::read_to_string(&messy).expect("readable"),
        UNFORMATTED
    );
}

#[test]
fn fmt_rewrites_files_in_place_and_counts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = write(dir.path(), "messy.runbook", UNFORMATTED);
    write(dir.path(), "tidy.runbook", FORMATTED);
    runbook()
        .arg("fmt")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "1 file reformatted, 1 left unchanged",
        ));
    let text = std::fs::read_to_string(&messy).expect("readable");
    assert_eq!(
        text,
        "runbook messy {\n    title \"Messy\"\n\n    step one \"One\" {\n        note \"hello\"\n    } // kept\n}\n"
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("readable")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    runbook()
        .args(["fmt", "--check"])
        .arg(&messy)
        .assert()
        .code(0);
}

#[test]
fn fmt_refuses_files_with_syntax_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(dir.path(), "broken.runbook", BROKEN);
    for check in [false, true] {
        let mut command = runbook();
        command.arg("fmt");
        if check {
            command.arg("--check");
        }
        command
            .arg(&broken)
            .assert()
            .code(1)
            .stdout(predicate::str::contains("runbook::syntax::"))
            .stdout(predicate::str::contains("broken.runbook"))
            .stderr(predicate::str::contains("syntax errors left unformatted"));
        assert_eq!(std::fs::read_to_string(&broken).expect("readable"), BROKEN);
    }
}

#[test]
fn fmt_of_a_missing_path_is_a_usage_error() {
    runbook()
        .args(["fmt", "no/such/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/dir"))
        // No "0 files reformatted" summary, as if something had succeeded.
        .stdout(predicate::str::is_empty());
}

#[test]
fn shipped_runbooks_pass_fmt_check() {
    runbook()
        .args(["fmt", "--check"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks"))
        .assert()
        .code(0);
}

#[test]
fn graph_prints_mermaid_by_default_and_dot_on_request() {
    runbook()
        .args(["graph", "upgrade-with-downtime"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("---\nconfig:\n"))
        .stdout(predicate::str::contains("\n---\nflowchart TD\n"))
        .stdout(predicate::str::contains("subgraph cluster_whatif_"))
        .stdout(predicate::str::contains("-.->"));
    runbook()
        .args(["graph", "upgrade-with-downtime", "--format", "dot"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "digraph \"upgrade-with-downtime\" {",
        ))
        .stdout(predicate::str::contains("style=dashed"));
}

#[test]
fn graph_takes_a_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "tidy.runbook", FORMATTED);
    runbook()
        .arg("graph")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("step_one[\"One\"]"));
}

#[test]
fn graph_reports_syntax_errors_and_unknown_runbooks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = write(dir.path(), "broken.runbook", BROKEN);
    runbook()
        .arg("graph")
        .arg(&broken)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("runbook::syntax::"));
    runbook()
        .args(["graph", "no-such-runbook"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-runbook"));
    runbook()
        .args(["graph", "upgrade-with-downtime", "--format", "png"])
        .assert()
        .code(2);
}

#[test]
fn completions_are_generated_for_every_shell() {
    runbook()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("_clap_complete_runbook()"))
        .stdout(predicate::str::contains("RUNBOOK_COMPLETE"));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        runbook()
            .args(["completions", shell])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("runbook"));
    }
    runbook().args(["completions", "tcsh"]).assert().code(2);
}

/// The candidates a shell gets at each Tab (asked as fish asks): shipped
/// runbook names, the What-ifs and parameters of the runbook already on
/// the line, diagnostic codes, and subcommands.
#[test]
fn completions_offer_what_the_line_can_take() {
    let complete = |words: &[&str]| -> String {
        let output = runbook()
            .env("RUNBOOK_COMPLETE", "fish")
            .arg("--")
            .arg("runbook")
            .args(words)
            .output()
            .expect("runs");
        assert!(output.status.success(), "{words:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let names = complete(&["run", "upgrade-w"]);
    assert!(names.starts_with("upgrade-with-downtime\t"), "{names}");
    let procedures = complete(&["show", "lib/exclude"]);
    assert!(procedures.contains("lib/exclude-server"), "{procedures}");
    let what_ifs = complete(&["run", "upgrade-with-downtime", "--what-if", ""]);
    assert!(
        what_ifs.contains("active-upgrade-cancelled\t"),
        "{what_ifs}"
    );
    assert!(what_ifs.contains("installer-failed\t"), "{what_ifs}");
    let parameters = complete(&["plan", "upgrade-no-downtime", "--set", ""]);
    assert!(parameters.contains("version="), "{parameters}");
    let codes = complete(&["explain", "runbook::connector::tl"]);
    assert!(
        codes.contains("runbook::connector::tls_verification"),
        "{codes}"
    );
    let commands = complete(&["pro"]);
    assert!(commands.contains("probe"), "{commands}");
}

#[test]
fn help_shows_an_example_for_each_command_here() {
    for command in ["check", "fmt", "graph", "completions"] {
        runbook()
            .args([command, "--help"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Examples:"))
            .stdout(predicate::str::contains(format!("runbook {command}")));
    }
}

#[test]
fn fmt_defaults_to_the_current_directory_recursively() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("nested/deeper")).expect("mkdir");
    let messy = write(
        &dir.path().join("nested/deeper"),
        "messy.runbook",
        UNFORMATTED,
    );
    std::fs::create_dir_all(dir.path().join(".hidden")).expect("mkdir");
    let hidden = write(&dir.path().join(".hidden"), "skipped.runbook", UNFORMATTED);
    runbook()
        .arg("fmt")
        .current_dir(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 file reformatted"));
    assert_ne!(
        std::fs::read_to_string(&messy).expect("readable"),
        UNFORMATTED
    );
    assert_eq!(
        std::fs::read_to_string(&hidden).expect("readable"),
        UNFORMATTED
    );
}

#[test]
fn fmt_refuses_binary_and_non_utf8_files_without_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("binary.runbook");
    std::fs::write(&binary, b"runbook x {\0}").expect("writable");
    let latin1 = dir.path().join("latin1.runbook");
    std::fs::write(&latin1, b"runbook x {\n    title \"caf\xe9\"\n}\n").expect("writable");
    runbook()
        .arg("fmt")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("runbook::syntax::"));
    assert_eq!(std::fs::read(&binary).expect("readable"), b"runbook x {\0}");
}

#[test]
fn fmt_dash_formats_standard_input_to_standard_output() {
    runbook()
        .args(["fmt", "-"])
        .write_stdin(UNFORMATTED)
        .assert()
        .code(0)
        .stdout("runbook messy {\n    title \"Messy\"\n\n    step one \"One\" {\n        note \"hello\"\n    } // kept\n}\n");
    runbook()
        .args(["fmt", "--check", "-"])
        .write_stdin(FORMATTED)
        .assert()
        .code(0)
        .stdout("");
    runbook()
        .args(["fmt", "--check", "-"])
        .write_stdin(UNFORMATTED)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("would reformat <stdin>"));
    runbook()
        .args(["fmt", "-"])
        .write_stdin(BROKEN)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("runbook::syntax::"));
}

/// A reader that stops early (`| head`) never makes a command panic: the
/// output is dropped and the command ends with its own exit code; a run
/// goes on to its end, journaled, without anyone reading its output.
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    // Far more output than a pipe buffers, so writes fail once the reader is gone.
    let mut text = String::from("runbook big {\n    title \"Big\"\n");
    for step in 1..=3000 {
        text.push_str(&format!(
            "    step {step} s{step} \"Step {step}\" {{\n        note \"step {step}\"\n    }}\n"
        ));
    }
    text.push_str("}\n");
    std::fs::write(dir.path().join("big.runbook"), text).unwrap();
    for (index, args) in [
        &["graph", "big.runbook"][..],
        &["run", "big.runbook", "--yes"],
        &["run", "big.runbook", "--yes", "--format", "json"],
    ]
    .into_iter()
    .enumerate()
    {
        let journal = dir.path().join(format!("run-{index}.jsonl"));
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("runbook"));
        command.args(args);
        if args[0] == "run" {
            command.arg("--journal").arg(&journal);
        }
        let mut child = command
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then hang up, as `head -c 1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args[0] == "run" {
            assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
            let journal = std::fs::read_to_string(&journal).unwrap();
            let last = journal.lines().last().unwrap();
            assert!(
                last.contains("\"run_finished\"") && last.contains("\"succeeded\""),
                "{args:?}: the run did not reach its end: {last}"
            );
        } else {
            assert!(matches!(status.code(), Some(0 | 1)), "{args:?}: {status:?}");
        }
    }
}
