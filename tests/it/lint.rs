//! The linter end to end: shipped runbooks, suppression comments,
//! `runbook.toml`, the JSON and SARIF renderings, `runbook explain`, and the
//! `runbook check` command's exit codes.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use runbook::check::lint::{registry, LintConfig};
use runbook::check::project::check_paths;
use runbook::check::report::{render_json, render_sarif, CheckReport};
use runbook::cli::explain::explanation;
use serde_json::Value;

use crate::support;
use crate::support::manifest_dir;

fn codes(report: &CheckReport) -> Vec<(String, String)> {
    report
        .files
        .iter()
        .flat_map(|file| {
            file.findings
                .iter()
                .map(move |finding| (file.path.clone(), finding.code.clone()))
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create fixture dir");
    }
    std::fs::write(&path, text).expect("write fixture");
    path
}

// ---------------------------------------------------------------- shipped

/// Findings on the shipped runbooks that are real problems of the runbooks
/// (not of the rules), reported to the maintainers: each entry is
/// (file suffix, code). The test fails on any other finding, and when one of
/// these disappears (so the list is kept exact).
const KNOWN_SHIPPED_FINDINGS: &[(&str, &str)] = &[];

#[test]
fn shipped_runbooks_lint_clean() {
    let report = check_paths(&[manifest_dir().join("runbooks")]);
    assert!(report.files_checked >= 10, "{}", report.files_checked);
    let found = codes(&report);
    for (path, code) in &found {
        assert!(
            KNOWN_SHIPPED_FINDINGS
                .iter()
                .any(|(suffix, known)| path.ends_with(suffix) && code == known),
            "unexpected finding {code} in {path}:\n{}",
            support::lint::render_report(&report)
        );
    }
    for (suffix, known) in KNOWN_SHIPPED_FINDINGS {
        assert!(
            found
                .iter()
                .any(|(path, code)| path.ends_with(suffix) && code == known),
            "{known} no longer fires on {suffix}: remove it from KNOWN_SHIPPED_FINDINGS"
        );
    }
}

// ------------------------------------------------------------ suppression

const WAITS: &str = r#"runbook waits {
    title "Waits"

    step 1 first "First" {
        wait until healthy() every 15s // allow(RB003)
        wait until healthy() every 15s
    }

    // allow(wait-without-timeout)
    step 2 second "Second" {
        wait until healthy()
        wait until healthy()
    }

    step 3 third "Third" {
        // allow(RB003)
        wait until healthy()
        wait until healthy() // allow(RB999, RB003)
    }
}
"#;

#[test]
fn suppression_comments_allow_a_line_or_a_whole_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "waits.runbook", WAITS);
    let (text, findings) = support::lint::lint_path(&path, &LintConfig::default());
    let lines: Vec<(String, usize)> = findings
        .iter()
        .map(|finding| {
            let line = text[..finding.span.offset()].lines().count();
            (finding.code.to_owned(), line)
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("RB003".to_owned(), 6),
            ("runbook::lint::unknown_code".to_owned(), 18),
        ]
    );
    insta::assert_snapshot!(support::lint::render("waits.runbook", &text, &findings));
}

// ----------------------------------------------------------------- config

const ONE_WAIT: &str = r#"runbook one-wait {
    title "One wait"

    step 1 first "First" {
        wait until healthy() every 15s
    }
}
"#;

#[test]
fn runbook_toml_raises_a_warning_to_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "runbook.toml",
        "[lint]\nseverity = { RB003 = \"error\" }\n",
    );
    let runbook = write(dir.path(), "nested/deeper/one.runbook", ONE_WAIT);
    let report = check_paths(&[runbook]);
    let finding = &report.files[0].findings[0];
    assert_eq!(finding.code, "RB003");
    assert_eq!(finding.severity.as_str(), "error");
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn runbook_toml_turns_a_rule_off_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "runbook.toml",
        "[lint.severity]\nwait-without-timeout = \"off\"\n",
    );
    write(dir.path(), "one.runbook", ONE_WAIT);
    let report = check_paths(&[dir.path().to_path_buf()]);
    assert!(codes(&report).is_empty(), "{:?}", codes(&report));
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn warnings_alone_exit_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "one.runbook", ONE_WAIT);
    let report = check_paths(&[dir.path().to_path_buf()]);
    assert_eq!(report.warnings(), 1);
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn unknown_codes_and_bad_levels_in_runbook_toml_are_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "runbook.toml",
        "# project settings\n[lint]\nseverity = { RB03 = \"error\", RB001 = \"loud\" }\n",
    );
    write(dir.path(), "one.runbook", ONE_WAIT);
    let report = check_paths(&[dir.path().to_path_buf()]);
    let config = report
        .files
        .iter()
        .find(|file| file.path.ends_with("runbook.toml"))
        .expect("runbook.toml has findings");
    let found: Vec<&str> = config
        .findings
        .iter()
        .map(|finding| finding.code.as_str())
        .collect();
    assert_eq!(
        found,
        vec![
            "runbook::config::unknown_code",
            "runbook::config::invalid_level"
        ]
    );
    let json = serde_json::to_value(render_json(&report)).expect("JSON");
    let unknown = json
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|item| item["code"] == "runbook::config::unknown_code")
        })
        .expect("unknown code in JSON");
    assert_eq!(unknown["line"], 3);
    assert_eq!(unknown["column"], 14);
    assert!(unknown["help"]
        .as_str()
        .unwrap_or_default()
        .contains("RB003"));
    assert_eq!(report.exit_code(), 1, "a bad level is an error");
}

// ------------------------------------------------------------------ SARIF

fn assert_no_nulls(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("null at {at}: SARIF properties are omitted, never null"),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(index, item)| assert_no_nulls(item, &format!("{at}[{index}]"))),
        Value::Object(map) => map
            .iter()
            .for_each(|(key, item)| assert_no_nulls(item, &format!("{at}.{key}"))),
        _ => {}
    }
}

fn text_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]["text"].as_str().unwrap_or_default()
}

#[test]
fn sarif_has_the_required_structure_of_2_1_0() {
    let report = check_paths(&[manifest_dir().join("tests/fixtures/lint")]);
    let sarif = render_sarif(&report);
    assert_no_nulls(&sarif, "$");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"]
        .as_str()
        .unwrap_or_default()
        .contains("sarif-2.1.0"));
    let runs = sarif["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "runbook");
    assert!(driver["informationUri"]
        .as_str()
        .unwrap_or_default()
        .starts_with("https://"));

    let rules = driver["rules"].as_array().expect("rules is an array");
    assert_eq!(rules.len(), registry::RULES.len(), "every rule is listed");
    for (rule, expected) in rules.iter().zip(registry::RULES) {
        assert_eq!(rule["id"], expected.code);
        assert_eq!(rule["name"], expected.name);
        assert!(!text_of(rule, "shortDescription").is_empty());
        assert!(!text_of(rule, "fullDescription").is_empty());
        assert!(text_of(rule, "help").contains("## Why is this bad?"));
        let level = rule["defaultConfiguration"]["level"]
            .as_str()
            .unwrap_or_default();
        assert!(
            ["none", "note", "warning", "error"].contains(&level),
            "{level}"
        );
    }

    let results = runs[0]["results"].as_array().expect("results is an array");
    assert!(results.len() >= registry::RULES.len());
    for result in results {
        let rule_id = result["ruleId"].as_str().expect("ruleId");
        let level = result["level"].as_str().unwrap_or_default();
        assert!(
            ["none", "note", "warning", "error"].contains(&level),
            "{level}"
        );
        assert!(!text_of(result, "message").is_empty());
        if let Some(index) = result["ruleIndex"].as_u64() {
            assert_eq!(rules[index as usize]["id"], rule_id);
        } else {
            assert!(
                rule_id.starts_with("runbook::"),
                "{rule_id} has no ruleIndex"
            );
        }
        let locations = result["locations"].as_array().expect("locations");
        assert!(!locations.is_empty());
        for location in locations {
            let physical = &location["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(!uri.contains('\\') && !uri.contains(' '), "{uri}");
            let region = &physical["region"];
            let start_line = region["startLine"].as_u64().expect("startLine");
            let start_column = region["startColumn"].as_u64().expect("startColumn");
            let end_line = region["endLine"].as_u64().expect("endLine");
            let end_column = region["endColumn"].as_u64().expect("endColumn");
            assert!(start_line >= 1 && start_column >= 1);
            assert!(
                end_line > start_line || (end_line == start_line && end_column >= start_column)
            );
        }
    }
}

// ---------------------------------------------------------------- explain

#[test]
fn explain_prints_every_rule_documentation() {
    for rule in registry::RULES {
        let text = explanation(rule.code).expect("every rule is explained");
        assert_eq!(explanation(rule.name).as_deref(), Some(text.as_str()));
        insta::assert_snapshot!(format!("explain_{}", rule.code), text);
    }
}

#[test]
fn explain_command_prints_the_rule_and_rejects_unknown_codes() {
    let output = Command::cargo_bin("runbook")
        .expect("binary")
        .args(["explain", "RB003"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("RB003 wait-without-timeout"), "{stdout}");
    assert!(stdout.contains("## Example"));

    let output = Command::cargo_bin("runbook")
        .expect("binary")
        .args(["explain", "RB0003"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown code `RB0003`"), "{stderr}");
    assert!(stderr.contains("help: did you mean `RB003`"), "{stderr}");
}

// ------------------------------------------------------------------ check

#[test]
fn check_command_exit_codes_and_formats() {
    let fixtures = manifest_dir().join("tests/fixtures/lint");
    let run = |args: &[&str]| {
        Command::cargo_bin("runbook")
            .expect("binary")
            .current_dir(&fixtures)
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("runs")
    };
    let warning_only = run(&["check", "RB003-wait-without-timeout/bad.runbook"]);
    assert_eq!(warning_only.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&warning_only.stdout);
    assert!(stdout.contains("RB003(wait-without-timeout)"), "{stdout}");
    assert!(
        stdout.contains("checked 1 file: no errors, 1 warning in 1 file"),
        "{stdout}"
    );

    let error = run(&[
        "check",
        "RB104-active-server-excluded/bad.runbook",
        "--format",
        "json",
    ]);
    assert_eq!(error.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&error.stdout).expect("JSON output");
    assert_eq!(json[0]["code"], "RB104");
    assert_eq!(json[0]["rule"], "active-server-excluded");
    assert_eq!(json[0]["severity"], "error");
    assert_eq!(json[0]["line"], 7);

    let sarif = run(&["check", ".", "--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF output");
    assert_eq!(sarif["version"], "2.1.0");

    let clean = run(&["check", "RB003-wait-without-timeout/good.runbook"]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("checked 1 file: no errors"));

    let missing = run(&["check", "no-such-file.runbook"]);
    assert_eq!(missing.status.code(), Some(2));
}

// ------------------------------------------------------------- procedures

#[test]
fn findings_inside_called_procedures_are_reported_at_the_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "lib/reinit.runbook",
        r#"procedure reinit {
    title "Initialize a server"
    summary "Full replication, without excluding first."
    param server: server
    init-standby(server: server)
    wait until server.state == STB_REP timeout 30m
}
"#,
    );
    let root = write(
        dir.path(),
        "main.runbook",
        r#"runbook main {
    title "Re-initialize the Standbys"
    import "lib/reinit.runbook"

    step 1 reinit-standbys "Re-initialize every Standby Server" {
        for standby in standbys() {
            call reinit(server: standby)
        }
    }
}
"#,
    );
    let report = check_paths(&[root]);
    let main = report
        .files
        .iter()
        .find(|file| file.path.ends_with("main.runbook"))
        .expect("main.runbook is reported");
    let finding = main
        .findings
        .iter()
        .find(|finding| finding.code == "RB102")
        .expect("RB102 through the call");
    let at = &main.source[finding.span.offset()..finding.span.offset() + finding.span.len()];
    assert_eq!(at, "call reinit(server: standby)");
    assert!(finding
        .label
        .as_deref()
        .unwrap_or_default()
        .contains("in `reinit`"));
}

#[test]
fn linting_never_panics_on_any_fixture() {
    fn visit(dir: &Path, count: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                visit(&path, count);
            } else if path.extension().is_some_and(|ext| ext == "runbook") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if let Ok(file) = runbook::syntax::parse(&text) {
                    let procedures = std::collections::HashMap::new();
                    let _ = runbook::check::lint::lint(
                        &file,
                        &text,
                        &procedures,
                        &LintConfig::default(),
                    );
                    *count += 1;
                }
            }
        }
    }
    let mut count = 0;
    visit(&manifest_dir().join("tests/fixtures"), &mut count);
    visit(&manifest_dir().join("runbooks"), &mut count);
    assert!(count > 40, "{count} files linted");
}

#[test]
fn calls_that_multiply_cannot_make_the_analysis_explode() {
    // Each level calls the next one ten times: 10^6 statements if every call
    // were followed; the inlining budget keeps the lint fast and finite.
    let dir = tempfile::tempdir().expect("tempdir");
    let levels = 6;
    for level in 0..levels {
        let body = if level + 1 == levels {
            "    stop-server(server: server)\n".to_owned()
        } else {
            format!("    call level-{}(server: server)\n", level + 1).repeat(10)
        };
        let import = if level + 1 == levels {
            String::new()
        } else {
            format!("    import \"level-{}.runbook\"\n", level + 1)
        };
        write(
            dir.path(),
            &format!("level-{level}.runbook"),
            &format!(
                "procedure level-{level} {{\n    title \"Level {level}\"\n{import}    param server: server\n{body}}}\n"
            ),
        );
    }
    let root = write(
        dir.path(),
        "main.runbook",
        "runbook main {\n    title \"Main\"\n    import \"level-0.runbook\"\n    step 1 go \"Go\" {\n        for standby in standbys() {\n            call level-0(server: standby)\n        }\n    }\n}\n",
    );
    let report = check_paths(&[root]);
    assert_eq!(report.files_checked, 1);
    assert_eq!(report.unreadable, Vec::<(String, String)>::new());
    assert_eq!(
        report.errors(),
        0,
        "{}",
        support::lint::render_report(&report)
    );
}
