//! `runbook check` through the built binary: exit codes (0 clean, 1 errors,
//! 2 unreadable), JSON output, directory walking, and hostile files that must
//! give a diagnostic rather than a panic (exit 101).

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::process::{flat, text};

fn runbook() -> Command {
    let mut command = Command::cargo_bin("runbook").expect("the binary is built");
    command.env("NO_COLOR", "1");
    command
}

fn fixture(path: &str) -> String {
    format!(
        "{}/tests/fixtures/syntax/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn clean_fixtures_exit_0() {
    runbook()
        .args(["check", &fixture("ok")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("files: no errors"));
}

#[test]
fn the_draft_transcription_checks_clean() {
    runbook()
        .args(["check", &fixture("ok/upgrade-with-downtime-draft.runbook")])
        .assert()
        .code(0)
        .stdout("checked 1 file: no errors\n");
}

#[test]
fn errors_exit_1_with_located_diagnostics() {
    runbook()
        .args(["check", &fixture("err/several-errors.runbook")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("runbook::syntax::unexpected"))
        .stdout(predicate::str::contains("several-errors.runbook:5:25"))
        .stdout(predicate::str::contains(
            "checked 1 file: 3 errors in 1 file",
        ))
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn several_files_are_reported_in_one_call() {
    runbook()
        .args([
            "check",
            &fixture("err/bad-duration.runbook"),
            &fixture("err/unknown-operation.runbook"),
            &fixture("ok/prompts.runbook"),
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "checked 3 files: 3 errors in 2 files",
        ));
}

#[test]
fn json_format_gives_one_object_per_diagnostic() {
    let output = runbook()
        .args([
            "check",
            "--format",
            "json",
            &fixture("err/non-ascii-before-error.runbook"),
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let diagnostics: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("valid JSON");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostics.as_array().map(Vec::len), Some(1));
    assert!(diagnostic["file"]
        .as_str()
        .unwrap_or("")
        .ends_with("non-ascii-before-error.runbook"));
    // Column in characters: `«`, `»` and `é` are two bytes each.
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["column"], 45);
    assert_eq!(diagnostic["code"], "runbook::syntax::unexpected");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["message"], "expected an expression, found `=`");
    assert!(diagnostic["help"].is_string());
}

#[test]
fn json_format_on_clean_files_is_an_empty_array() {
    runbook()
        .args(["check", "--format", "json", &fixture("ok")])
        .assert()
        .code(0)
        .stdout("[]\n");
}

#[test]
fn a_missing_path_exits_2() {
    runbook()
        .args(["check", "does/not/exist.runbook"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read `does/not/exist.runbook`",
        ));
}

#[test]
fn usage_errors_exit_2() {
    runbook()
        .args(["check", "--format", "xml"])
        .assert()
        .code(2);
    runbook().args(["no-such-command"]).assert().code(2);
}

#[test]
fn the_default_path_walks_the_current_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("good.runbook", "runbook good { title \"Good\" }\n");
    write(
        "sub/also-good.runbook",
        "procedure also-good { param server: server }\n",
    );
    write("notes.txt", "not a runbook");
    write(".hidden/bad.runbook", "this is not checked");
    write("target/bad.runbook", "neither is this");
    runbook()
        .arg("check")
        .current_dir(dir.path())
        .assert()
        .code(0)
        // The procedure's unused parameter is a lint warning: warnings exit 0.
        .stdout(predicate::str::contains("checked 2 files: no errors"));
}

fn check_file(dir: &Path, name: &str, bytes: &[u8]) -> std::process::Output {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    runbook()
        .args(["check", "--format", "json"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs")
}

fn single_code(output: &std::process::Output) -> String {
    let diagnostics: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("valid JSON");
    diagnostics[0]["code"].as_str().unwrap_or("").to_string()
}

#[test]
fn hostile_files_give_a_diagnostic_never_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deep = format!(
        "runbook deep {{ title \"T\" {}",
        "if true { ".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "deep.runbook",
            deep.into_bytes(),
            "runbook::syntax::too_deep",
        ),
        (
            "parens.runbook",
            format!("runbook p {{ check {}", "(".repeat(100_000)).into_bytes(),
            "runbook::syntax::too_deep",
        ),
        (
            "nots.runbook",
            format!(
                "runbook n {{ title \"T\" check {}x else \"m\" }}",
                "not ".repeat(100_000)
            )
            .into_bytes(),
            "runbook::syntax::expression_too_complex",
        ),
        ("empty.runbook", Vec::new(), "runbook::syntax::empty"),
        (
            "utf8.runbook",
            b"runbook bad {\n  title \"caf\xe9\"\n}\n".to_vec(),
            "runbook::syntax::invalid_utf8",
        ),
        (
            "binary.runbook",
            (0..=255u8).cycle().take(4096).collect(),
            "runbook::syntax::binary",
        ),
        (
            "huge.runbook",
            vec![b'x'; 17 * 1024 * 1024],
            "runbook::syntax::too_large",
        ),
        (
            "string.runbook",
            b"runbook s { title \"never closed }\n".to_vec(),
            "runbook::syntax::unterminated_string",
        ),
    ];
    for (name, bytes, code) in cases {
        let output = check_file(dir.path(), name, &bytes);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(single_code(&output), code, "{name}");
    }
}

#[test]
fn a_ten_megabyte_runbook_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("runbook big {\n    title \"Big\"\n    let active = active()\n");
    let mut index = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "    step {index} s-{index} \"Step {index}\" {{\n        check active.running and not active.excluded else \"step {index}\"\n        wait until healthy() timeout 10m every 10s\n    }}\n"
        ));
        index += 1;
    }
    text.push_str("}\n");
    let output = check_file(dir.path(), "big.runbook", text.as_bytes());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // Past the size limit: a diagnostic naming the limit.
    let too_big = format!("{text}{}", " ".repeat(7 * 1024 * 1024));
    let output = check_file(dir.path(), "too-big.runbook", too_big.as_bytes());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(single_code(&output), "runbook::syntax::too_large");
}

#[test]
fn a_finding_about_the_whole_file_shows_no_excerpt() {
    // A too-large file is one 17 MiB line, a binary one raw bytes: the human
    // report names the file and the code, and quotes none of it.
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in [
        ("huge.runbook", vec![b' '; 17 * 1024 * 1024]),
        ("binary.runbook", b"runbook\0".to_vec()),
    ] {
        std::fs::write(dir.path().join(name), &bytes).expect("write");
        let output = runbook()
            .current_dir(dir.path())
            .args(["check", name])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.len() < 2000,
            "{name}: {} bytes of output",
            stdout.len()
        );
        assert!(!stdout.contains('\0'), "{name}: {stdout}");
        assert!(!stdout.contains("╭─"), "{name}: {stdout}");
        assert!(stdout.contains("runbook::syntax::"), "{name}: {stdout}");
    }
}

/// Imports stay in the runbook's folder tree: a file elsewhere (`../`, an
/// absolute path) is refused where it is written and never read, so none
/// of its text reaches a report; a subfolder, a shipped procedure and a
/// folder given to `check` are fine; `--allow-outside-imports` lifts it.
#[test]
fn imports_stay_in_the_runbook_folder_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("lib-local")).expect("folders");
    let procedure = "procedure helper {\n    title \"Helper\"\n    summary \"Says hello\"\n    note \"hello\"\n}\n";
    std::fs::write(dir.path().join("outside.runbook"), procedure).expect("outside");
    std::fs::write(project.join("lib-local/helper.runbook"), procedure).expect("inside");
    std::fs::write(
        dir.path().join("secret.runbook"),
        "TOP-SECRET-LINE that must never be shown\n",
    )
    .expect("secret");
    let main = project.join("main.runbook");
    std::fs::write(
        &main,
        "runbook main {\n    title \"Main\"\n    import \"lib-local/helper.runbook\"\n    import \"lib/exclude-server.runbook\"\n    import \"../outside.runbook\"\n    import \"../secret.runbook\"\n    step one \"One\" {\n        note \"x\"\n    }\n}\n",
    )
    .expect("main");
    for format in ["human", "sarif", "json"] {
        let output = runbook()
            .args(["check", "--format", format])
            .arg(&main)
            .output()
            .expect("runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(1), "{printed}");
        assert!(printed.contains("import_outside"), "{format}: {printed}");
        assert!(!printed.contains("TOP-SECRET"), "{format}: {printed}");
        assert!(printed.matches("import_outside").count() >= 2, "{printed}");
    }
    // A folder given to `check` confines imports to that folder instead.
    runbook()
        .args(["check"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("import_outside").not());
    runbook()
        .args(["check", "--allow-outside-imports"])
        .arg(&main)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("import_outside").not());
}

/// An absolute import of a system file (`/etc/passwd`) is refused where it
/// is written, with file, line, column and help, by `check` (SARIF
/// included) and `run`; none of the file's text reaches the output.
#[cfg(unix)]
#[test]
fn an_absolute_import_of_a_system_file_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("main.runbook");
    std::fs::write(
        &main,
        "runbook main {\n    title \"Main\"\n    import \"/etc/passwd\"\n    step one \"One\" {\n        note \"x\"\n    }\n}\n",
    )
    .expect("main");
    let sarif = runbook()
        .args(["check", "--format", "sarif"])
        .arg(&main)
        .output()
        .expect("runs");
    assert_eq!(sarif.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{log}");
    assert_eq!(results[0]["ruleId"], "runbook::resolve::import_outside");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(3), Some(12))
    );
    let printed = String::from_utf8_lossy(&sarif.stdout);
    assert!(!printed.contains("root:"), "{printed}");

    let run = runbook()
        .arg("run")
        .arg(&main)
        .arg("--yes")
        .output()
        .expect("runs");
    let stderr = flat(&text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("main.runbook:3:12"), "{stderr}");
    assert!(stderr.contains("help: move the file under"), "{stderr}");
    assert!(stderr.contains("--allow-outside-imports"), "{stderr}");
    assert!(!stderr.contains("root:"), "{stderr}");
}

/// Every command that takes a RUNBOOK says the same thing for an unknown
/// name, with the closest shipped one; `show` takes paths and `lib/NAME`;
/// a binary file is named in its diagnostic.
#[test]
fn unknown_runbooks_get_one_error_with_a_suggestion() {
    for command in ["run", "plan", "verify", "graph", "show"] {
        runbook()
            .args([command, "upgrade-with-downtim"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("runbook::run::unknown_runbook"))
            .stderr(predicate::str::contains(
                "did you mean `upgrade-with-downtime`?",
            ));
    }
    runbook()
        .args(["show", "lib/exclude-server"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("procedure exclude-server"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mine = dir.path().join("mine.runbook");
    std::fs::write(&mine, "runbook mine {\n    title \"Mine\"\n}\n").expect("write");
    runbook()
        .arg("show")
        .arg(&mine)
        .assert()
        .code(0)
        .stdout("runbook mine {\n    title \"Mine\"\n}\n");
    let binary = dir.path().join("tool.runbook");
    std::fs::write(&binary, b"\x7fELF\x00\x01\x02").expect("write");
    runbook()
        .arg("check")
        .arg(&binary)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{}: this is a binary file",
            binary.display()
        )));
}

/// A path no command can read is named in one diagnostic style (code,
/// message naming the path, help) and exits 2: a missing path close to a
/// shipped name gets the same did-you-mean as `run`; a directory given as
/// a RUNBOOK, and a pipe (which would block) are refused without reading;
/// a binary file is named when `run` refuses it.
#[test]
fn unreadable_paths_are_named_in_one_diagnostic_style() {
    runbook()
        .args(["check", "upgrade-with-downtim"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("runbook::io::unreadable"))
        .stderr(predicate::str::contains(
            "cannot read `upgrade-with-downtim`",
        ))
        .stderr(predicate::str::contains(
            "did you mean `upgrade-with-downtime`?",
        ));
    let output = runbook()
        .args(["check", "--format", "json", "upgrade-with-downtim"])
        .output()
        .expect("runs");
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(findings[0]["code"], "runbook::io::unreadable");
    assert!(
        findings[0]["help"]
            .as_str()
            .is_some_and(|help| help.starts_with("did you mean `upgrade-with-downtime`?")),
        "{findings}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("folder.runbook");
    std::fs::create_dir(&folder).expect("folder");
    for command in ["run", "verify", "graph", "show"] {
        let output = runbook().arg(command).arg(&folder).output().expect("runs");
        let stderr = flat(&text(&output.stderr));
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("runbook::run::unreadable"),
            "{command}: {stderr}"
        );
        assert!(
            stderr.contains("it is a directory, not a file"),
            "{command}: {stderr}"
        );
    }

    let binary = dir.path().join("tool.runbook");
    std::fs::write(&binary, b"\x7fELF\x00\x01\x02").expect("write");
    runbook()
        .arg("run")
        .arg(&binary)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{}: this is a binary file",
            binary.display()
        )));

    #[cfg(unix)]
    {
        let pipe = dir.path().join("pipe.runbook");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .is_ok_and(|status| status.success());
        if made {
            for command in ["check", "run", "fmt"] {
                let output = runbook()
                    .arg(command)
                    .arg(&pipe)
                    .timeout(std::time::Duration::from_secs(20))
                    .output()
                    .expect("runs");
                let stderr = flat(&text(&output.stderr));
                assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
                assert!(stderr.contains("pipe.runbook"), "{command}: {stderr}");
                assert!(
                    stderr.contains("it is not a regular file"),
                    "{command}: {stderr}"
                );
            }
        }
    }
}

/// Columns count characters in every format: after a non-ASCII character,
/// the human header says the same column as JSON (and SARIF).
#[test]
fn human_and_json_columns_are_characters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("accents.runbook");
    std::fs::write(
        &file,
        "runbook demo {\n    title \"Démo é\"\n    step a \"é\" { wait until nosuch.state == ACT_REP }\n}\n",
    )
    .expect("write");
    let json = runbook()
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .expect("runs");
    let findings: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let column = findings[0]["column"].as_u64().expect("column");
    assert_eq!(column, 29, "{findings}");
    let human = runbook().arg("check").arg(&file).output().expect("runs");
    let printed = String::from_utf8_lossy(&human.stdout);
    assert!(
        printed.contains(&format!("accents.runbook:3:{column}]")),
        "{printed}"
    );
}

/// Every SARIF result names a rule of the log: lint rules and the other
/// codes alike (a parse or resolve error has its `rules[]` entry too, with
/// a helpUri into docs/diagnostics.md).
#[test]
fn every_sarif_result_has_its_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.runbook");
    std::fs::write(
        &broken,
        "runbook demo {\n    title \"Demo\"\n    step a \"A\" { wait until nosuch.state == ACT_REP }\n}\n",
    )
    .expect("write");
    let unparsable = dir.path().join("unparsable.runbook");
    std::fs::write(&unparsable, "runbook {\n").expect("write");
    let output = runbook()
        .args(["check", "--format", "sarif"])
        .arg(&broken)
        .arg(&unparsable)
        .output()
        .expect("runs");
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("sarif");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    assert!(results.len() >= 2, "{results:?}");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"], "{result}");
        let help = rules[index]["helpUri"].as_str().expect("helpUri");
        assert!(help.starts_with("https://"), "{help}");
    }
    assert!(results
        .iter()
        .any(|result| result["ruleId"] == "runbook::resolve::undefined_variable"));
}
