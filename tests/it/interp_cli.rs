//! `runbook run`, `resume` and `plan` through the built binary: the JSON
//! event stream's shape, exit codes, prompts without a terminal, resume.

use std::path::Path;
use std::process::Output;

use crate::support::fixture;
use crate::support::process::{assert_upgraded_event, command_in, events, show};

/// `runbook SUBCOMMAND FIXTURE ARGS` in `dir`, for a file of
/// `tests/fixtures/run/`.
fn on_fixture(dir: &Path, subcommand: &str, name: &str, args: &[&str]) -> Output {
    command_in(dir)
        .arg(subcommand)
        .arg(fixture(name))
        .args(args)
        .output()
        .unwrap()
}

fn assert_stream_shape(events: &[serde_json::Value]) {
    assert!(!events.is_empty());
    assert_eq!(events[0]["event"], "run_started", "{events:?}");
    assert_eq!(
        events[events.len() - 1]["event"],
        "run_finished",
        "{events:?}"
    );
    for event in events {
        let ts = event["ts"].as_str().expect("every event has ts");
        assert!(ts.contains('T') && ts.ends_with('Z'), "{ts}");
    }
}

#[test]
fn json_events_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let output = on_fixture(
        dir.path(),
        "run",
        "downtime.runbook",
        &["--yes", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let events = events(&output);
    assert_stream_shape(&events);
    let started = &events[0];
    assert_eq!(started["runbook"], "upgrade-with-downtime");
    assert!(started["target"]
        .as_str()
        .unwrap()
        .starts_with("simulated cluster (3 servers"));
    let servers = started["cluster"]["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 3);
    assert_eq!(servers[0]["name"], "mgt-1");
    assert_eq!(servers[0]["mode"], "active");
    assert_eq!(servers[0]["replication"], "ACT_REP");
    assert_eq!(servers[0]["running"], true);
    assert_eq!(servers[0]["excluded"], false);
    assert_eq!(servers[0]["version"], "7.3.4");
    let step = events
        .iter()
        .find(|event| event["event"] == "step_started")
        .unwrap();
    assert_eq!(step["step"], "stop-servers");
    assert!(step["file"].as_str().unwrap().ends_with("downtime.runbook"));
    assert!(step["line"].as_u64().unwrap() > 1);
    let outcomes: Vec<&str> = events
        .iter()
        .filter(|event| event["event"] == "step_finished")
        .map(|event| event["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "ok", "ok", "ok"]);
    assert!(events.iter().any(|event| event["event"] == "prompt"
        && event["id"] == "verify-client"
        && event["answer"] == true));
    let finished = events.last().unwrap();
    assert_eq!(finished["outcome"], "succeeded");
    assert!(finished["cluster"]["servers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|server| server["version"] == "7.4.0"));
    // The default journal goes under ./runs.
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 1);
}

#[test]
fn human_output_states_the_target_first_and_ends_with_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let output = on_fixture(dir.path(), "run", "downtime.runbook", &["--yes"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Target: simulated cluster (3 servers, in-process)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("▶ 2. Upgrade the Active Server (using SMC installer) [upgrade-active]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mgt-3   yes      standby  7.4.0    STB_REP      no"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("Outcome: succeeded: upgrade-with-downtime completed"),
        "{stdout}"
    );
}

#[test]
fn a_prompt_without_terminal_fails_at_once_and_names_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let output = on_fixture(
        dir.path(),
        "run",
        "constructs.runbook",
        &["--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("runbook::run::prompt_unavailable"),
        "{stderr}"
    );
    assert!(
        stderr.contains("prompt `first-standby` needs an answer"),
        "{stderr}"
    );
    let events = events(&output);
    assert_stream_shape(&events);
    assert_eq!(events.last().unwrap()["outcome"], "failed");
}

#[test]
fn an_unreadable_runbook_or_target_exits_2_with_both_events() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .args(["run", "no-such-runbook", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_stream_shape(&events(&output));

    let output = on_fixture(
        dir.path(),
        "run",
        "downtime.runbook",
        &["--sim-fault", "meteor", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_stream_shape(&events(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown simulator fault `meteor`"));

    let output = on_fixture(
        dir.path(),
        "run",
        "downtime.runbook",
        &["--answers", "missing.toml"],
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_failed_run_is_resumed_through_the_cli_without_repeating_steps() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    std::fs::write(dir.path().join("partial.toml"), "").unwrap();
    std::fs::write(dir.path().join("full.toml"), "upgraded = true\n").unwrap();
    let output = on_fixture(
        dir.path(),
        "run",
        "resume.runbook",
        &["--journal", "run.jsonl", "--answers", "partial.toml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runbook resume run.jsonl"), "{stderr}");

    let output = command_in(dir.path())
        .args([
            "resume",
            "run.jsonl",
            "--answers",
            "full.toml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let events = events(&output);
    assert_stream_shape(&events);
    assert_eq!(events[0]["resumed"], true);
    let text = std::fs::read_to_string(&journal).unwrap();
    for step in ["stop-standbys", "start-standbys", "done"] {
        let finished_ok = text
            .lines()
            .filter(|line| {
                line.contains("\"record\":\"step_finished\"")
                    && line.contains(&format!("\"id\":\"{step}\""))
                    && line.contains("\"outcome\":\"ok\"")
            })
            .count();
        assert_eq!(finished_ok, 1, "{step} finished once");
    }
    let cluster = &events.last().unwrap()["cluster"]["servers"];
    assert!(cluster
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .all(|server| server["version"] == "7.4.0" && server["running"] == true));
}

#[test]
fn plan_shows_the_steps_and_what_ifs() {
    let dir = tempfile::tempdir().unwrap();
    let output = on_fixture(dir.path(), "plan", "downtime.runbook", &[]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("Target: simulated cluster"), "{stdout}");
    assert!(
        stdout.contains(
            "▶ step 2. upgrade-active \"Upgrade the Active Server (using SMC installer)\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("active-upgrade-cancelled \"Cancel Active Server Upgrade\" when upgrade-cancelled(active) during upgrade-active"), "{stdout}");
    assert!(!dir.path().join("runs").exists(), "plan writes no journal");
}

#[test]
fn plan_shows_every_discards_changes_clause() {
    // Nothing lost silently: the plan announces, for a step, a `choose`
    // option and a What-if, that the run will count the administrators'
    // changes and ask before discarding them.
    let dir = tempfile::tempdir().unwrap();
    let plan = |format: &str| {
        on_fixture(
            dir.path(),
            "plan",
            "plan-discards.runbook",
            &["--format", format],
        )
    };
    let human = plan("human");
    assert_eq!(human.status.code(), Some(0));
    insta::assert_snapshot!(
        "plan_discards_changes",
        String::from_utf8_lossy(&human.stdout)
    );

    let json = plan("json");
    assert_eq!(json.status.code(), Some(0));
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let discards: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["kind"] == "discards")
        .map(|item| item["text"].as_str().unwrap())
        .collect();
    assert_eq!(discards.len(), 2, "{discards:?}");
    assert!(discards[0].contains("`demote-initial-active.discard-changes`"));
    assert!(discards[1].contains("`revert.revert.discard-changes`"));
    let what_ifs = plan["what_ifs"].as_array().unwrap();
    assert_eq!(
        what_ifs[0]["discards_changes"],
        serde_json::json!({"server": "mgt-1", "prompt": "second-active.discard-changes", "counted": true})
    );
    assert!(what_ifs[1]["discards_changes"].is_null());
}

#[test]
fn the_shipped_upgrades_run_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    for runbook_name in ["upgrade-with-downtime", "upgrade-no-downtime"] {
        let output = command_in(dir.path())
            .args([
                "run",
                runbook_name,
                "--yes",
                "--accept-data-loss",
                "--format",
                "json",
                "--sim-fault",
                "changes-on-active",
            ])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{runbook_name}: {}",
            show(&output)
        );
        let events = events(&output);
        assert_stream_shape(&events);
        assert_upgraded_event(events.last().unwrap(), runbook_name);
        if runbook_name == "upgrade-no-downtime" {
            // Forcing the Initial Active to Standby discards the administrators' changes: counted first.
            let warning = events
                .iter()
                .find(|event| {
                    event["event"] == "warning" && event["code"] == "runbook::run::discards_changes"
                })
                .expect("a discards_changes warning");
            let message = warning["message"].as_str().unwrap();
            let count: u64 = message.split_whitespace().nth(3).unwrap().parse().unwrap();
            assert!(count > 0, "{message}");
            assert!(events.iter().any(|event| event["event"] == "prompt"
                && event["id"].as_str().unwrap().ends_with(".discard-changes")));
        }
    }
}

#[test]
fn a_step_refused_by_the_target_names_the_connector_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refused.runbook");
    std::fs::write(
        &file,
        "runbook refused {\n    title \"A refused operation\"\n\n    step exclude-active \"Exclude the Active\" {\n        exclude(server: active())\n    }\n}\n",
    )
    .unwrap();
    let code = "runbook::connector::refused_action";

    let output = command_in(dir.path())
        .args(["run", "refused.runbook", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let events = events(&output);
    assert_stream_shape(&events);
    let operation = events
        .iter()
        .find(|event| event["event"] == "operation_finished")
        .expect("operation_finished");
    assert_eq!(operation["ok"], false);
    assert_eq!(operation["error_code"], code);
    let step = events
        .iter()
        .find(|event| event["event"] == "step_finished")
        .expect("step_finished");
    assert_eq!(step["outcome"], "failed");
    assert_eq!(step["cause_code"], code);
    let last = events.last().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["cause_code"], code);

    // The human diagnostic: still `step_failed`, with the way to the
    // connector code's documentation in its help.
    let output = command_in(dir.path())
        .args(["run", "refused.runbook"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runbook::run::step_failed"), "{stderr}");
    // The help is wrapped to the terminal's width.
    let flat = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "help: the target reported `{code}`: see `runbook explain {code}`"
        )),
        "{stderr}"
    );
    let explained = command_in(dir.path())
        .args(["explain", code])
        .output()
        .unwrap();
    assert_eq!(explained.status.code(), Some(0));
}

/// A misspelt `--what-if` gets the closest What-if, like every other name
/// on the command line, and the list of them; nothing runs.
#[test]
fn a_misspelt_what_if_gets_the_closest_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .args([
            "run",
            "upgrade-with-downtime",
            "--what-if",
            "standby-activatd",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let flat = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("runbook::run::unknown_what_if"), "{stderr}");
    assert!(
        flat.contains("help: did you mean `standby-activated`? its What-ifs are:"),
        "{stderr}"
    );
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn what_if_on_a_runbook_without_handlers_says_it_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .args([
            "run",
            fixture("resume.runbook").to_str().unwrap(),
            "--what-if",
            "bad",
        ])
        .output()
        .unwrap();
    // A usage error: nothing started, no journal.
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("runs").exists());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runbook::run::unknown_what_if"), "{stderr}");
    assert!(
        stderr.contains("`--what-if bad`: the runbook has no What-if handlers"),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(!stderr.contains("its What-ifs are"), "{stderr}");
    // Nothing to continue: resuming would fail the same way.
    assert!(!stderr.contains("To continue"), "{stderr}");
}

/// Inputs that would make a run fail later are refused before anything
/// acts (exit 2, no journal): an unknown `--set` name (with the closest
/// parameter), a value of the wrong type, and an answers file whose key
/// answers no prompt of the runbook or of the procedures it calls.
#[test]
fn inputs_that_could_never_work_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let answers = dir.path().join("answers.toml");
    std::fs::write(&answers, "promoted-servr = \"mgt-2\"\n").expect("answers");
    std::fs::write(dir.path().join("string.toml"), "verify-client = \"yes\"\n").unwrap();
    std::fs::write(
        dir.path().join("option.toml"),
        "standby-handling = \"sideways\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("server.toml"), "promoted-server = 2\n").unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--set", "versoin=7.4.0"], "did you mean `version`?"),
        (
            &["--set", "backup_taken=maybe"],
            "`maybe` is not `true` or `false`",
        ),
        (
            &["--answers", "answers.toml"],
            "did you mean `promoted-server`?",
        ),
        (
            &["--answers", "string.toml"],
            "`verify-client` must be `true` or `false`",
        ),
        (
            &["--answers", "option.toml"],
            "must be one of the options \"stop\", \"exclude\"",
        ),
        (
            &["--answers", "server.toml"],
            "`promoted-server` must be a server name (a string)",
        ),
        (
            &["--sim-servers", "1"],
            "upgrade-with-downtime cannot run on this cluster: this cluster has 1 Management Server(s) and no Standby Server",
        ),
    ];
    for (extra, expected) in cases {
        let output = assert_cmd::Command::cargo_bin("runbook")
            .expect("binary")
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["run", "upgrade-with-downtime", "--yes"])
            .args(extra)
            .output()
            .expect("runs");
        // The diagnostic wraps at the terminal width: compare words.
        let stderr = String::from_utf8_lossy(&output.stderr)
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!stderr.contains("To continue"), "{extra:?}: {stderr}");
        assert!(!dir.path().join("runs").exists(), "{extra:?}: no journal");
    }
}

/// A fault fires once, across a resume too: the installer fails on a
/// Standby, the run stops as its What-if says, and `resume` (whose
/// in-process cluster is rebuilt from the journal, the failed upgrade
/// included) upgrades it and ends on the healthy upgraded cluster.
#[test]
fn an_injected_fault_does_not_fire_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let first = command_in(dir.path())
        .args(["run", "upgrade-with-downtime", "--yes", "--format", "json"])
        .args(["--sim-fault", "upgrade-fails:mgt-2", "--journal"])
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    let stopped = events(&first);
    let last = stopped.last().unwrap();
    assert_eq!(last["outcome"], "stopped", "{last}");
    let resumed = command_in(dir.path())
        .args(["resume", "--yes", "--format", "json"])
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    assert_upgraded_event(events(&resumed).last().unwrap(), "resumed");
}

/// The final event's server `name`, as JSON.
fn server<'a>(last: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    last["cluster"]["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .find(|server| server["name"] == name)
        .expect("server in the final cluster")
}

/// `--yes` does not lose data: on a no-downtime upgrade where
/// administrators keep changing the Initial Active, the confirmation that
/// discards their changes is declined (the Initial Active keeps them and
/// stays Active); `--yes --accept-data-loss` confirms it and the upgrade
/// ends on the healthy upgraded cluster.
#[test]
fn yes_alone_never_discards_administrator_changes() {
    let dir = tempfile::tempdir().unwrap();
    let declined = command_in(dir.path())
        .args(["run", "upgrade-no-downtime", "--yes", "--format", "json"])
        .args(["--sim-fault", "changes-on-active"])
        .output()
        .unwrap();
    assert_eq!(declined.status.code(), Some(1), "{}", show(&declined));
    let stream = events(&declined);
    let last = stream.last().unwrap();
    assert_eq!(last["outcome"], "stopped", "{last}");
    let message = last["message"].as_str().unwrap();
    assert!(
        message.contains("discard-changes") && message.contains("--accept-data-loss"),
        "{message}"
    );
    let declined_prompt = stream
        .iter()
        .find(|event| {
            event["event"] == "prompt"
                && event["id"]
                    .as_str()
                    .is_some_and(|id| id.ends_with("discard-changes"))
        })
        .expect("the discard confirmation was asked");
    assert_eq!(declined_prompt["answer"], false, "{declined_prompt}");
    assert_eq!(declined_prompt["source"], "yes", "{declined_prompt}");
    // The Initial Active kept its changes: it is still the Active.
    assert_eq!(server(last, "mgt-1")["mode"], "active", "{last}");

    let accepted = command_in(dir.path())
        .args(["run", "upgrade-no-downtime", "--yes", "--accept-data-loss"])
        .args(["--format", "json", "--sim-fault", "changes-on-active"])
        .output()
        .unwrap();
    assert_eq!(accepted.status.code(), Some(0), "{}", show(&accepted));
    assert_upgraded_event(events(&accepted).last().unwrap(), "accepted");
}

/// A wrong `select` answer that made its step fail is asked again with
/// `resume --reanswer`: the confirmation names what was sent since, the
/// new answer is used, and the cluster ends as the operator meant.
/// Re-opening an unknown prompt, or an answer whose step completed, is
/// refused before anything acts (exit 2).
#[test]
fn a_wrong_answer_is_asked_again_with_reanswer() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    std::fs::write(dir.path().join("wrong.toml"), "stopped = \"mgt-2\"\n").unwrap();
    std::fs::write(
        dir.path().join("right.toml"),
        "stopped = \"mgt-3\"\nfinished = true\n\"reanswer.stopped\" = true\n",
    )
    .unwrap();
    let first = on_fixture(
        dir.path(),
        "run",
        "reanswer.runbook",
        &["--answers", "wrong.toml", "--journal", "run.jsonl"],
    );
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));

    let resume = |extra: &[&str]| {
        command_in(dir.path())
            .args(["resume", "run.jsonl", "--format", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let unknown = resume(&["--reanswer", "stoped", "--yes"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", show(&unknown));
    let refusal = events(&unknown).last().unwrap()["message"].clone();
    assert!(
        refusal.as_str().unwrap().contains("answered: stopped"),
        "{refusal}"
    );
    let unconfirmed = resume(&["--reanswer", "stopped"]);
    assert_eq!(unconfirmed.status.code(), Some(2), "{}", show(&unconfirmed));
    let before = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !before.contains("reanswered"),
        "nothing journaled when refused"
    );

    let corrected = resume(&["--reanswer", "stopped", "--answers", "right.toml"]);
    assert_eq!(corrected.status.code(), Some(0), "{}", show(&corrected));
    let stream = events(&corrected);
    let confirmation = stream
        .iter()
        .find(|event| event["id"] == "reanswer.stopped")
        .expect("the re-answer was confirmed");
    let text = confirmation["text"].as_str().unwrap();
    assert!(text.contains("stop-server mgt-2"), "{text}");
    let answer = stream
        .iter()
        .find(|event| event["id"] == "stopped")
        .expect("asked again");
    assert_eq!(answer["answer"], "mgt-3", "{answer}");
    let last = stream.last().unwrap();
    assert_eq!(server(last, "mgt-3")["running"], false, "{last}");
    assert_eq!(server(last, "mgt-1")["mode"], "active", "{last}");

    // A run whose prompt step completed: its answer can no longer change.
    std::fs::write(dir.path().join("later.toml"), "stopped = \"mgt-3\"\n").unwrap();
    let later = on_fixture(
        dir.path(),
        "run",
        "reanswer.runbook",
        &["--answers", "later.toml", "--journal", "later.jsonl"],
    );
    assert_eq!(later.status.code(), Some(1), "{}", show(&later));
    let completed = command_in(dir.path())
        .args(["resume", "later.jsonl", "--format", "json"])
        .args(["--reanswer", "stopped", "--yes"])
        .output()
        .unwrap();
    assert_eq!(completed.status.code(), Some(2), "{}", show(&completed));
    let refusal = events(&completed).last().unwrap()["message"].clone();
    assert!(
        refusal.as_str().unwrap().contains("has completed since"),
        "{refusal}"
    );
}

/// The runtime guard: the Active upgraded while a Standby replicates is a
/// warning with its code, said before the operation is sent; a run that
/// upgraded the Initial Active and ends on a cluster that is not the
/// healthy upgraded one fails (not resumable), naming what is not so.
#[test]
fn the_runtime_guard_warns_and_refuses_an_unhealthy_success() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, warned) in [(&[][..], true), (&["--set", "stop_all=true"][..], false)] {
        let output = on_fixture(
            dir.path(),
            "run",
            "guard.runbook",
            &[&["--yes", "--format", "json"], extra].concat(),
        );
        assert_eq!(output.status.code(), Some(1), "{}", show(&output));
        let stream = events(&output);
        let guard_warning = stream.iter().any(|event| {
            event["event"] == "warning"
                && event["code"] == "runbook::run::guard_active_upgraded_with_declared_standby"
        });
        assert_eq!(guard_warning, warned, "{extra:?}: {stream:?}");
        let last = stream.last().unwrap();
        assert_eq!(last["outcome"], "failed", "{last}");
        assert_eq!(last["cause_code"], serde_json::Value::Null, "{last}");
        let message = last["message"].as_str().unwrap();
        assert!(
            message.contains("not the healthy upgraded one")
                && message.contains("mgt-3 is stopped"),
            "{message}"
        );
        assert!(last["resume"].is_null(), "nothing to resume: {last}");
        assert_eq!(server(last, "mgt-1")["version"], "7.4.0", "{last}");
    }
}

/// `verify --servers 1` of a shipped HA upgrade: the runbook requires a
/// Standby, so there is nothing to prove on one server (exit 2, the
/// requirement named), as `run` refuses that cluster.
#[test]
fn verify_refuses_a_cluster_the_runbook_is_not_written_for() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .args(["verify", "upgrade-no-downtime", "--servers", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("runbook::run::requirement_not_met"),
        "{stderr}"
    );
}

/// A window is seen passing: its deadline when its anchor ends, how much
/// of it the step used when it starts, what is left before a question, and
/// each step's duration.
#[test]
fn a_window_says_its_deadline_and_counts_down() {
    let dir = tempfile::tempdir().unwrap();
    let output = on_fixture(
        dir.path(),
        "run",
        "window-left.runbook",
        &["--yes", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stream = events(&output);
    let notes: Vec<&str> = stream
        .iter()
        .filter(|event| event["event"] == "note")
        .filter_map(|event| event["message"].as_str())
        .collect();
    for expected in [
        "step `ask` must start within 5m of now",
        "started 0s after `anchor` ended (window: 5m)",
        "5m left of the 5m window after `anchor`",
    ] {
        assert!(
            notes.iter().any(|note| note.contains(expected)),
            "{expected}: {notes:?}"
        );
    }
    assert!(stream
        .iter()
        .filter(|event| event["event"] == "step_finished")
        .all(|event| event["duration_seconds"].is_number()));
}

/// Who did what: the run records its operator (`--operator`) and host, a
/// resume its own (`RUNBOOK_OPERATOR`), and every answer who gave it and how.
#[test]
fn the_journal_records_who_ran_resumed_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("partial.toml"), "").unwrap();
    std::fs::write(dir.path().join("full.toml"), "upgraded = true\n").unwrap();
    let first = on_fixture(
        dir.path(),
        "run",
        "resume.runbook",
        &[
            "--journal",
            "run.jsonl",
            "--answers",
            "partial.toml",
            "--operator",
            "alice",
        ],
    );
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    let resumed = command_in(dir.path())
        .args(["resume", "run.jsonl", "--answers", "full.toml"])
        .env("RUNBOOK_OPERATOR", "bob")
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", show(&resumed));
    let records: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("run.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records[0]["by"]["operator"], "alice", "{}", records[0]);
    assert!(records[0]["by"]["host"]
        .as_str()
        .is_some_and(|host| !host.is_empty()));
    let resume = records
        .iter()
        .find(|record| record["record"] == "resumed")
        .unwrap();
    assert_eq!(resume["by"]["operator"], "bob", "{resume}");
    let answer = records
        .iter()
        .find(|record| record["record"] == "prompt" && record["id"] == "upgraded")
        .unwrap();
    assert_eq!(answer["by"], "bob", "{answer}");
    assert_eq!(answer["source"], "answers-file", "{answer}");
}
