//! The published JSON Schemas (`runbook schema NAME`, `docs/schemas/`):
//! the committed files are the derived ones, and real output of the binary
//! — runs with What-ifs and failures, their journals and a resume, `plan`,
//! `verify`, `check`, `list`, `probe` — validates against them, every
//! document and every line of a stream. Refresh the committed schemas with
//! `RUNBOOK_BLESS=1 cargo test --test it schemas::`.

use std::path::{Path, PathBuf};
use std::process::Output;

use runbook::cli::schema::{published, SCHEMAS};
use runbook::schema::SCHEMA_VERSION;
use serde_json::Value;

use crate::support::manifest_dir;
use crate::support::process::{command_in, text, SimServe, KEY};

/// A file of `tests/fixtures/`.
fn fixture(path: &str) -> PathBuf {
    manifest_dir().join("tests/fixtures").join(path)
}

fn schemas_dir() -> PathBuf {
    manifest_dir().join("docs").join("schemas")
}

#[test]
fn committed_schemas_are_up_to_date() {
    let dir = schemas_dir();
    let bless = std::env::var_os("RUNBOOK_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).expect("docs/schemas");
    }
    for schema in SCHEMAS {
        let path = dir.join(format!("{}.json", schema.name));
        let generated = schema.text();
        if bless {
            std::fs::write(&path, &generated).expect("write the schema");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/schemas/{}.json is stale: run `RUNBOOK_BLESS=1 cargo test --test it schemas::` and commit it",
            schema.name
        );
    }
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("docs/schemas") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let known = name
            .strip_suffix(".json")
            .is_some_and(|stem| published(stem).is_some());
        if !known {
            orphans.push(name);
        }
    }
    assert!(
        orphans.is_empty(),
        "docs/schemas/ holds files no schema is published as: {orphans:?}"
    );
}

#[test]
fn the_schema_command_prints_lists_and_suggests() {
    let dir = manifest_dir();
    let output = command_in(&dir)
        .args(["schema", "journal"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(schemas_dir().join("journal.json")).expect("journal.json");
    assert_eq!(text(&output.stdout), committed);

    for args in [&["schema"][..], &["schema", "--list"]] {
        let output = command_in(&dir).args(args).output().expect("runs");
        assert_eq!(output.status.code(), Some(0));
        let listing = text(&output.stdout);
        for schema in SCHEMAS {
            assert!(
                listing.contains(&format!("{}  {}", schema.name, schema.description))
                    || listing.contains(schema.description),
                "{listing}"
            );
        }
    }

    let output = command_in(&dir)
        .args(["schema", "evnts"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("runbook::schema::unknown_schema"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `events`?"), "{stderr}");
}

/// The validator of the published schema `name`, formats (`date-time`) checked.
fn validator(name: &str) -> jsonschema::Validator {
    let schema = published(name).expect("a published schema").schema();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// Validates `instance` against the published schema `name`; panics with
/// every error and the instance.
fn assert_valid(name: &str, instance: &Value, context: &str) {
    let errors: Vec<String> = validator(name)
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{context}: not a valid `{name}` document:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

/// The `schema_version` of `document` is this build's.
fn assert_versioned(document: &Value, context: &str) {
    assert_eq!(
        document["schema_version"],
        Value::from(SCHEMA_VERSION),
        "{context}: {document}"
    );
}

/// Validates every line of a JSON Lines text; returns the lines parsed.
fn assert_valid_lines(name: &str, lines: &str, context: &str) -> Vec<Value> {
    let parsed: Vec<Value> = lines
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("{context}: not JSON ({error}): {line}"))
        })
        .collect();
    assert!(!parsed.is_empty(), "{context}: no line");
    for line in &parsed {
        assert_valid(name, line, context);
    }
    parsed
}

/// Validates one JSON document printed on stdout.
fn assert_valid_output(name: &str, output: &Output, context: &str) -> Value {
    let stdout = text(&output.stdout);
    let document: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("{context}: not JSON ({error}): {stdout}"));
    assert_valid(name, &document, context);
    match &document {
        Value::Array(items) => items
            .iter()
            .for_each(|item| assert_versioned(item, context)),
        other => assert_versioned(other, context),
    }
    document
}

/// `runbook run RUNBOOK --yes [--sim-fault FAULT] --format json --journal
/// DIR/NAME.jsonl`: the events and the journal both validate. Returns them
/// and the journal's path.
fn run_and_validate(
    dir: &Path,
    runbook: &str,
    fault: Option<&str>,
) -> (Vec<Value>, Vec<Value>, PathBuf) {
    let journal = dir.join(format!("{runbook}-{}.jsonl", fault.unwrap_or("no-fault")));
    let mut command = command_in(dir);
    command.args(["run", runbook, "--yes", "--format", "json", "--journal"]);
    command.arg(&journal);
    if let Some(fault) = fault {
        command.args(["--sim-fault", fault]);
    }
    let output = command.output().expect("runs");
    let context = format!("run {runbook} with {fault:?}");
    let events = assert_valid_lines("events", &text(&output.stdout), &context);
    events
        .iter()
        .for_each(|event| assert_versioned(event, &context));
    let text_of_journal = std::fs::read_to_string(&journal).expect("the journal");
    let records = assert_valid_lines("journal", &text_of_journal, &context);
    assert_versioned(&records[0], &context);
    (events, records, journal)
}

fn names<'a>(lines: &'a [Value], tag: &str) -> Vec<&'a str> {
    lines.iter().filter_map(|line| line[tag].as_str()).collect()
}

#[test]
fn runs_resumes_and_their_journals_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();

    let (events, records, _) = run_and_validate(dir, "upgrade-with-downtime", None);
    assert_eq!(events.last().expect("events")["outcome"], "succeeded");
    assert_eq!(records[0]["record"], "run_started");

    // A What-if handles a cancelled upgrade of the Active.
    let (events, records, _) = run_and_validate(
        dir,
        "upgrade-with-downtime",
        Some("active-upgrade-cancelled"),
    );
    assert!(names(&events, "event").contains(&"what_if"), "{events:?}");
    assert!(
        names(&records, "record").contains(&"what_if"),
        "{records:?}"
    );

    // A failed step that a What-if handles: the run stops.
    let (events, records, _) =
        run_and_validate(dir, "upgrade-with-downtime", Some("upgrade-fails:mgt-1"));
    assert_eq!(events.last().expect("events")["outcome"], "stopped");
    let failed = |lines: &[Value], tag: &str, outcome: &str| {
        lines
            .iter()
            .any(|line| line[tag] == "step_finished" && line["outcome"] == outcome)
    };
    assert!(failed(&events, "event", "failed"), "{events:?}");
    assert!(failed(&records, "record", "interrupted"), "{records:?}");

    // A failed run (a server that does not answer), then a resume of its journal.
    let (events, _, journal) =
        run_and_validate(dir, "upgrade-with-downtime", Some("unreachable:mgt-2"));
    let last = events.last().expect("events");
    assert_eq!(last["outcome"], "failed", "{last}");
    assert_eq!(last["cause_code"], "runbook::connector::timeout", "{last}");
    let output = command_in(dir)
        .args(["resume", "--yes", "--format", "json"])
        .arg(&journal)
        .output()
        .expect("resumes");
    let events = assert_valid_lines("events", &text(&output.stdout), "resume");
    assert_eq!(events[0]["resumed"], true, "{events:?}");
    let text_of_journal = std::fs::read_to_string(&journal).expect("the journal");
    let records = assert_valid_lines("journal", &text_of_journal, "resumed journal");
    assert!(
        names(&records, "record").contains(&"resumed"),
        "{records:?}"
    );

    // A run that cannot start still prints `run_started` and `run_finished`.
    for args in [
        &["run", "no-such-runbook", "--format", "json"][..],
        &[
            "run",
            "upgrade-with-downtime",
            "--sim-fault",
            "meteor",
            "--format",
            "json",
        ],
    ] {
        let output = command_in(dir).args(args).output().expect("runs");
        let events = assert_valid_lines("events", &text(&output.stdout), &args.join(" "));
        assert_eq!(names(&events, "event"), ["run_started", "run_finished"]);
    }

    // A prompt answered (by `--yes`) is a `prompt` in both.
    let (events, records, _) = run_and_validate(dir, "upgrade-preparation", None);
    assert!(names(&events, "event").contains(&"prompt"), "{events:?}");
    assert!(names(&records, "record").contains(&"prompt"), "{records:?}");
}

#[test]
fn journals_of_older_names_still_read() {
    // Journals written before the records took the events' names.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, _, journal) = run_and_validate(dir.path(), "upgrade-preparation", None);
    let renamed: String = std::fs::read_to_string(&journal)
        .expect("the journal")
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).expect("JSON");
            let object = record.as_object_mut().expect("an object");
            object.remove("schema_version");
            let old_name = match object["record"].as_str() {
                Some("run_started") => Some("run_header"),
                Some("prompt") => Some("prompt_answered"),
                Some("what_if") => Some("what_if_entered"),
                _ => None,
            };
            if let Some(old_name) = old_name {
                object.insert("record".into(), old_name.into());
            }
            let cluster_was = if old_name == Some("run_header") {
                "initial"
            } else {
                "snapshot"
            };
            if let Some(cluster) = object.remove("cluster") {
                object.insert(cluster_was.into(), cluster);
            }
            record.to_string() + "\n"
        })
        .collect();
    let contents = runbook::interp::journal::parse_journal(&journal, &renamed).expect("reads");
    let header = contents.header().expect("a header");
    assert!(!header.initial.servers.is_empty(), "`initial` read back");
    assert_eq!(
        header.schema_version,
        runbook::schema::SchemaVersion::UNVERSIONED
    );
    assert!(contents.records.iter().any(|record| matches!(
        record,
        runbook::interp::journal::Record::PromptAnswered { .. }
    )));
}

#[test]
fn plan_check_list_and_probe_validate() {
    let root = manifest_dir();
    for args in [
        &["plan", "upgrade-with-downtime", "--format", "json"][..],
        &["plan", "upgrade-no-downtime", "--format", "json"],
    ] {
        let output = command_in(&root).args(args).output().expect("runs");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert_valid_output("plan", &output, &args.join(" "));
    }
    let discards = fixture("run/plan-discards.runbook");
    let output = command_in(&root)
        .arg("plan")
        .arg(&discards)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let plan = assert_valid_output("plan", &output, "plan plan-discards");
    assert!(plan["what_ifs"]
        .as_array()
        .is_some_and(|what_ifs| what_ifs.iter().any(|w| !w["discards_changes"].is_null())));

    // Findings of every rule and of the front end, and an unreadable path.
    let output = command_in(&root)
        .args(["check", "--format", "json"])
        .arg(fixture("lint"))
        .arg(fixture("syntax"))
        .arg("no-such-file.runbook")
        .output()
        .expect("runs");
    let findings = assert_valid_output("check", &output, "check");
    let findings = findings.as_array().expect("an array");
    assert!(findings.len() > 10, "{findings:?}");
    assert!(findings
        .iter()
        .all(|finding| finding["schema_version"] == SCHEMA_VERSION));

    let output = command_in(&root)
        .args(["list", "--format", "json"])
        .output()
        .expect("runs");
    assert_valid_output("list", &output, "list");

    let dir = tempfile::tempdir().expect("tempdir");
    let sim = SimServe::start(dir.path(), 600);
    let output = command_in(dir.path())
        .args(["probe", "--format", "json", "--target", &sim.url])
        .env("RUNBOOK_API_KEY", KEY)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_valid_output("probe", &output, "probe");
}

/// `verify --format json` of `reference`, with its answers files in `replay`.
fn verify_json(reference: &Path, replay: &Path) -> Value {
    let output = command_in(&manifest_dir())
        .arg("verify")
        .arg(reference)
        .args(["--format", "json", "--replay-dir"])
        .arg(replay)
        .output()
        .expect("runs");
    let context = format!("verify {}", reference.display());
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{context}: {}",
        text(&output.stderr)
    );
    assert_valid_output("verify", &output, &context)
}

/// Two verifications of the same runbook print the same document but for
/// `timing`: no order from a hash map, no other clock.
#[test]
fn verify_validates_and_is_stable_but_for_timing() {
    let replay = tempfile::tempdir().expect("tempdir");
    for reference in [
        PathBuf::from("upgrade-with-downtime"),
        fixture("verify/force-activation-unpaired.runbook"),
    ] {
        let mut first = verify_json(&reference, replay.path());
        let mut second = verify_json(&reference, replay.path());
        for document in [&mut first, &mut second] {
            let timing = document
                .as_object_mut()
                .and_then(|object| object.remove("timing"))
                .expect("a timing");
            assert!(timing["elapsed_ms"].is_u64(), "{timing}");
        }
        assert!(
            first == second,
            "{}: two runs differ beyond `timing`:\n{first:#}\n{second:#}",
            reference.display()
        );
    }
}

/// The schemas are not vacuous: what the binary never writes fails.
#[test]
fn the_schemas_reject_what_the_binary_never_writes() {
    let invalid = |name: &str, instance: Value| {
        assert!(
            !validator(name).is_valid(&instance),
            "{name} accepts {instance}"
        );
    };
    let ts = "2026-12-07T00:00:00Z";
    invalid(
        "events",
        serde_json::json!({"ts": ts, "event": "step_finished", "step": "s", "outcome": "done", "schema_version": 1}),
    );
    invalid(
        "events",
        serde_json::json!({"ts": ts, "event": "no_such_event", "schema_version": 1}),
    );
    invalid(
        "events",
        serde_json::json!({"ts": "yesterday", "event": "note", "message": "m", "schema_version": 1}),
    );
    invalid(
        "events",
        serde_json::json!({"ts": ts, "event": "note", "message": "m", "schema_version": 2}),
    );
    invalid(
        "journal",
        serde_json::json!({"ts": ts, "record": "resumed", "snapshot": {"servers": []}}),
    );
    invalid(
        "check",
        serde_json::json!([{"file": "f", "line": 1, "column": 1, "end_line": 1, "end_column": 1,
            "code": "RB003", "rule": null, "severity": "fatal", "message": "m", "labels": [],
            "help": null, "schema_version": 1}]),
    );
}

#[test]
fn certificates_validate() {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::process::run_in(
        dir.path(),
        &[
            "verify",
            "upgrade-no-downtime",
            "--certificate",
            "cert.json",
        ],
        0,
    );
    crate::support::process::run_in(
        dir.path(),
        &["keygen", "--out", "bob.key", "--name", "bob"],
        0,
    );
    crate::support::process::run_in(dir.path(), &["approve", "cert.json", "--key", "bob.key"], 0);
    let text = std::fs::read_to_string(dir.path().join("cert.json")).expect("certificate");
    let certificate: Value = serde_json::from_str(&text).expect("JSON");
    assert_valid("certificate", &certificate, "an approved certificate");
    assert!(!validator("certificate").is_valid(&serde_json::json!({"format": 1})));
}
