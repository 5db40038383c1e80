//! The interpreter's semantics, construct by construct, against the
//! in-process simulator: prompts, What-ifs, windows, discarded changes, the
//! journal, resume after an interruption, and `plan`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use runbook::cluster::{Fault, SimConfig};
use runbook::cluster::{Mode, ReplicationState};
use runbook::connect::sim::SimConnector;
use runbook::connect::Connector;
use runbook::interp::events::{CollectingSink, EventKind, RunOutcome, StepOutcome};
use runbook::interp::journal::{read_journal, JournalOutcome, Record};
use runbook::interp::load::load_path;
use runbook::interp::machine::JournalChoice;
use runbook::interp::machine::{self, RunReport, RunSettings};
use runbook::interp::plan;
use runbook::interp::program::Program;
use runbook::interp::prompt::OperatorPrompter;
use runbook::interp::RuntimeError;

use crate::support;
use crate::support::{fixture, journaled, play, resume_with, run, Played};

fn program(name: &str) -> Program {
    let path = fixture(name);
    match load_path(&path, &path.display().to_string()) {
        Ok(program) => program,
        Err(error) => panic!("{name} does not load: {:?}", error.reports),
    }
}

fn sim(faults: &[&str]) -> SimConnector {
    support::sim(3, faults, 0)
}

/// Runs `constructs.runbook` on a healthy simulator, with `answers` and
/// without `--yes`.
async fn constructs(answers: Option<&str>) -> (Played, SimConnector) {
    let connector = sim(&[]);
    let outcome = run(
        &program("constructs.runbook"),
        &connector,
        answers,
        false,
        RunSettings::default(),
    )
    .await;
    (outcome, connector)
}

const CONSTRUCT_ANSWERS: &str =
    "first-standby = \"mgt-2\"\nobserved = \"all green\"\npath = \"left\"\ngo-on = true\n";

#[tokio::test]
async fn every_construct_runs_with_its_documented_meaning() {
    let (outcome, connector) = constructs(Some(CONSTRUCT_ANSWERS)).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    assert_eq!(
        outcome.steps_finished(StepOutcome::Ok),
        ["look", "branch", "finish"]
    );
    let cluster = connector.snapshot().await.unwrap();
    let second = cluster.server("mgt-2").unwrap();
    assert!(
        second.excluded,
        "the called procedure excluded the selected standby"
    );
    assert!(
        !cluster.server("mgt-3").unwrap().running,
        "the loop stopped the other standby"
    );
    let prompts: Vec<(String, serde_json::Value)> = outcome
        .events
        .iter()
        .filter_map(|event| match event {
            EventKind::Prompt { id, answer, .. } => Some((id.clone(), answer.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        prompts,
        [
            ("first-standby".to_string(), serde_json::json!("mgt-2")),
            ("observed".to_string(), serde_json::json!("all green")),
            ("path".to_string(), serde_json::json!("left")),
            ("go-on".to_string(), serde_json::json!(true)),
        ]
    );
    assert!(outcome
        .events
        .iter()
        .any(|event| matches!(event, EventKind::Note { message } if message == "went left")));
    assert!(outcome
        .warnings("runbook::run::runbook_warning")
        .iter()
        .any(|(_, message)| message == "Careful."));
}

#[tokio::test]
async fn choosing_the_other_option_runs_its_branch_and_fail_ends_the_run() {
    let answers = CONSTRUCT_ANSWERS.replace("path = \"left\"", "path = \"right\"");
    let (outcome, _) = constructs(Some(&answers)).await;
    assert_eq!(outcome.report.outcome, RunOutcome::Failed);
    assert!(
        matches!(outcome.report.error, Some(RuntimeError::FailStatement { ref message, .. }) if message == "should not go right")
    );
}

#[tokio::test]
async fn declining_a_confirmation_stops_the_run() {
    let answers = CONSTRUCT_ANSWERS.replace("go-on = true", "go-on = false");
    let (outcome, _) = constructs(Some(&answers)).await;
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert!(
        outcome.report.message.contains("go-on"),
        "{}",
        outcome.report.message
    );
}

#[tokio::test]
async fn a_prompt_without_terminal_or_answer_fails_at_once_naming_it() {
    let (outcome, connector) = constructs(None).await;
    assert_eq!(outcome.report.outcome, RunOutcome::Failed);
    match &outcome.report.error {
        Some(RuntimeError::PromptUnavailable { id, .. }) => assert_eq!(id, "first-standby"),
        other => panic!("expected prompt_unavailable, got {other:?}"),
    }
    let code = miette::Diagnostic::code(outcome.report.error.as_ref().unwrap())
        .unwrap()
        .to_string();
    assert_eq!(code, "runbook::run::prompt_unavailable");
    assert!(
        connector.snapshot().await.unwrap().is_healthy(),
        "nothing was changed"
    );
}

#[tokio::test]
async fn a_wrong_answer_in_the_answers_file_points_at_it() {
    let answers = CONSTRUCT_ANSWERS.replace("\"mgt-2\"", "\"mgt-9\"");
    let (outcome, _) = constructs(Some(&answers)).await;
    match &outcome.report.error {
        Some(RuntimeError::AnswersFile { reason, span, .. }) => {
            assert!(reason.contains("first-standby"), "{reason}");
            assert!(reason.contains("\"mgt-2\", \"mgt-3\""), "{reason}");
            let span = span.expect("a location in the answers file");
            assert_eq!(
                &answers[span.offset()..span.offset() + span.len()],
                "\"mgt-9\""
            );
        }
        other => panic!("expected answers_file, got {other:?}"),
    }
}

#[tokio::test]
async fn the_downtime_upgrade_ends_healthy_on_the_new_version() {
    let program = program("downtime.runbook");
    let connector = sim(&[]);
    let outcome = play(&program, &connector, None, None).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    let cluster = connector.snapshot().await.unwrap();
    assert!(cluster.is_healthy(), "{cluster:?}");
    assert!(cluster
        .servers
        .iter()
        .all(|server| server.version.to_string() == "7.4.0"));
    assert_eq!(cluster.server("mgt-1").unwrap().mode, Mode::Active);
}

#[tokio::test]
async fn a_failed_step_fires_its_failed_handler_and_the_run_continues() {
    let program = program("whatifs.runbook");
    let connector = sim(&["upgrade-fails:mgt-2"]);
    let outcome = play(&program, &connector, None, None).await;
    assert_eq!(outcome.what_ifs(), ["upgrade-failed"]);
    assert_eq!(
        outcome.steps_finished(StepOutcome::Failed),
        ["upgrade-standbys"]
    );
    assert_eq!(
        outcome.steps_finished(StepOutcome::Ok),
        ["prepare", "force-second", "touch-active"]
    );
    assert_eq!(outcome.report.outcome, RunOutcome::Succeeded);
}

#[tokio::test]
async fn two_actives_fire_their_handler_during_the_named_step() {
    let program = program("whatifs.runbook");
    let connector = sim(&[]);
    let settings = RunSettings {
        params: BTreeMap::from([("mode".to_string(), "two-actives".to_string())]),
        ..RunSettings::default()
    };
    let outcome = run(&program, &connector, None, true, settings).await;
    assert_eq!(outcome.what_ifs(), ["split"]);
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert_eq!(outcome.report.message, "Two Actives: recover by hand.");
}

#[tokio::test]
async fn broken_replication_fires_its_handler_after_an_operation() {
    let program = program("broken.runbook");
    let connector = sim(&["replication-down"]);
    let outcome = play(&program, &connector, None, None).await;
    assert_eq!(outcome.what_ifs(), ["broken"]);
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert!(
        !outcome
            .events
            .iter()
            .any(|event| matches!(event, EventKind::Note { message } if message == "states read")),
        "the handler interrupts the step"
    );
}

#[tokio::test]
async fn a_cancelled_active_upgrade_fires_upgrade_cancelled() {
    let program = program("downtime.runbook");
    let connector = sim(&["active-upgrade-cancelled"]);
    let outcome = play(&program, &connector, None, None).await;
    assert_eq!(outcome.what_ifs(), ["active-upgrade-cancelled"]);
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    let cluster = connector.snapshot().await.unwrap();
    assert!(
        cluster.is_healthy(),
        "the handler restores replication: {cluster:?}"
    );
    assert_eq!(
        cluster.server("mgt-1").unwrap().version.to_string(),
        "7.3.4"
    );
}

#[tokio::test]
async fn a_standby_that_became_active_fires_standby_activated() {
    let program = program("downtime.runbook");
    for fault in ["standby-auto-activates", "standby-activated-by-operator"] {
        let connector = sim(&[fault]);
        let outcome = play(&program, &connector, None, None).await;
        assert_eq!(outcome.what_ifs(), ["standby-activated"], "{fault}");
    }
}

#[tokio::test]
async fn a_what_if_runs_directly() {
    let program = program("direct.runbook");
    let connector = sim(&[]);
    let settings = RunSettings {
        what_if: Some("exclude-all".to_string()),
        ..RunSettings::default()
    };
    let outcome = run(&program, &connector, None, false, settings).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    assert_eq!(outcome.what_ifs(), ["exclude-all"]);
    let cluster = connector.snapshot().await.unwrap();
    assert!(cluster.server("mgt-2").unwrap().excluded && cluster.server("mgt-3").unwrap().excluded);

    let settings = RunSettings {
        what_if: Some("nope".to_string()),
        ..RunSettings::default()
    };
    let outcome = run(&program, &sim(&[]), None, false, settings).await;
    assert!(
        matches!(outcome.report.error, Some(RuntimeError::UnknownWhatIf { ref available, .. }) if available == "exclude-all")
    );
}

#[tokio::test]
async fn an_exceeded_window_is_a_warning_and_discarded_changes_are_counted() {
    let program = program("window.runbook");
    let connector = sim(&["changes-on-active"]);
    let outcome = play(&program, &connector, None, None).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    let (_, window) = outcome
        .warnings("runbook::run::window_exceeded")
        .into_iter()
        .next()
        .expect("a window_exceeded warning");
    assert!(window.contains("window of 1m"), "{window}");
    assert!(matches!(
        outcome.report.warnings.as_slice(),
        [RuntimeError::WindowExceeded { .. }]
    ));
    let (_, discarded) = outcome
        .warnings("runbook::run::discards_changes")
        .into_iter()
        .next()
        .expect("a discards_changes warning");
    let count: u64 = discarded
        .split_whitespace()
        .nth(3)
        .and_then(|word| word.parse().ok())
        .expect("the number of changes");
    assert!(count > 0, "{discarded}");
    assert!(discarded.contains("on mgt-1"), "{discarded}");
    assert!(outcome.events.iter().any(
        |event| matches!(event, EventKind::Prompt { id, .. } if id == "hurry.discard-changes")
    ));

    // Declining the discard stops the run before the step acts.
    let connector = sim(&["changes-on-active"]);
    let outcome = play(
        &program,
        &connector,
        Some("\"hurry.discard-changes\" = false\n"),
        None,
    )
    .await;
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert!(!outcome
        .events
        .iter()
        .any(|event| matches!(event, EventKind::Note { message } if message == "in a hurry")));
}

#[tokio::test]
async fn without_changes_the_discard_step_asks_nothing() {
    let program = program("window.runbook");
    let connector = sim(&[]);
    let outcome = play(&program, &connector, None, None).await;
    assert!(!outcome.events.iter().any(
        |event| matches!(event, EventKind::Prompt { id, .. } if id == "hurry.discard-changes")
    ));
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    let (_, discarded) = outcome
        .warnings("runbook::run::discards_changes")
        .into_iter()
        .next()
        .expect("the count is shown even when zero");
    assert!(
        discarded.contains("discards 0 administrator changes"),
        "{discarded}"
    );
}

#[tokio::test]
async fn the_journal_records_every_step_with_snapshots_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = program("resume.runbook");
    let connector = sim(&[]);
    let outcome = run(
        &program,
        &connector,
        Some("upgraded = true\n"),
        false,
        journaled(Some(&journal)),
    )
    .await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    let contents = read_journal(&journal).unwrap();
    let header = contents.header().unwrap();
    assert_eq!(header.runbook, "resume-me");
    assert_eq!(header.sources.len(), 1);
    assert_eq!(header.sources[0].sha256.len(), 64);
    assert!(header.initial.is_healthy());
    let mut started = Vec::new();
    let mut finished = Vec::new();
    for record in &contents.records {
        match record {
            Record::StepStarted { step, snapshot, .. } => {
                assert_eq!(snapshot.servers.len(), 3);
                started.push(step.id.clone());
            }
            Record::StepFinished {
                step,
                outcome,
                snapshot,
                ..
            } => {
                assert_eq!(*outcome, JournalOutcome::Ok);
                assert_eq!(snapshot.servers.len(), 3);
                finished.push(step.id.clone());
            }
            _ => {}
        }
    }
    assert_eq!(
        started,
        [
            "stop-standbys",
            "upgrade-standbys",
            "start-standbys",
            "done"
        ]
    );
    assert_eq!(started, finished);
    assert!(contents
        .records
        .iter()
        .any(|record| matches!(record, Record::PromptAnswered { id, .. } if id == "upgraded")));
    assert!(matches!(
        contents.records.last(),
        Some(Record::RunFinished {
            outcome: RunOutcome::Succeeded,
            ..
        })
    ));
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.to_ascii_lowercase().contains("authenticationkey"));
}

fn step_finishes(journal: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for record in read_journal(journal).unwrap().records {
        if let Record::StepFinished {
            step,
            outcome: JournalOutcome::Ok,
            ..
        } = record
        {
            *counts.entry(step.id).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test]
async fn resume_after_a_stop_never_repeats_a_completed_step() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = program("resume.runbook");
    let connector = sim(&[]);
    let settings = RunSettings {
        stop_after_steps: Some(2),
        ..journaled(Some(&journal))
    };
    let first = run(
        &program,
        &connector,
        Some("upgraded = true\n"),
        false,
        settings,
    )
    .await;
    assert_eq!(first.report.outcome, RunOutcome::Stopped);
    assert_eq!(
        first.report.resume_command.as_deref(),
        Some(format!("runbook resume {}", journal.display()).as_str())
    );
    assert!(matches!(
        first.report.error,
        Some(RuntimeError::Interrupted { .. })
    ));

    let second = resume_with(&program, &connector, &journal, None, false).await;
    second.assert_outcome(RunOutcome::Succeeded, "");
    assert_eq!(
        second.steps_finished(StepOutcome::Skipped),
        ["stop-standbys", "upgrade-standbys"]
    );
    assert_eq!(
        second.steps_finished(StepOutcome::Ok),
        ["start-standbys", "done"]
    );
    let counts = step_finishes(&journal);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert_eq!(counts.len(), 4);

    // A finished run cannot be resumed again.
    let third = resume_with(&program, &connector, &journal, None, false).await;
    assert!(matches!(
        third.report.error,
        Some(RuntimeError::ResumeRefused { .. })
    ));
    assert_eq!(third.report.exit_code(), 2);
}

#[tokio::test]
async fn resume_after_a_kill_mid_step_does_not_redo_what_took_effect() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = program("resume.runbook");
    let connector = sim(&[]);
    // Operations: stop mgt-2, stop mgt-3, upgrade mgt-2 (killed right after it returns).
    let settings = RunSettings {
        crash_after_operations: Some(3),
        ..journaled(Some(&journal))
    };
    let first = run_crashing(&program, &connector, settings).await;
    assert!(first.crashed);
    assert_eq!(
        connector
            .snapshot()
            .await
            .unwrap()
            .server("mgt-2")
            .unwrap()
            .version
            .to_string(),
        "7.4.0"
    );

    let second = resume_with(
        &program,
        &connector,
        &journal,
        Some("upgraded = true\n"),
        false,
    )
    .await;
    second.assert_outcome(RunOutcome::Succeeded, "");
    assert_eq!(
        second.steps_finished(StepOutcome::Skipped),
        ["stop-standbys"]
    );
    assert!(second.events.iter().any(|event| matches!(
        event,
        EventKind::Note { message } if message.contains("upgrade mgt-2 to 7.4.0: already done")
    )));
    let upgrades_of_mgt2 = read_journal(&journal)
        .unwrap()
        .records
        .iter()
        .filter(|record| matches!(record, Record::OperationStarted { operation, .. } if operation.to_string() == "upgrade mgt-2 to 7.4.0"))
        .count();
    assert_eq!(upgrades_of_mgt2, 1, "the upgrade is not sent twice");
    let cluster = connector.snapshot().await.unwrap();
    assert!(cluster
        .standbys()
        .all(|server| server.running && server.version.to_string() == "7.4.0"));
}

async fn run_crashing(
    program: &Program,
    connector: &dyn Connector,
    settings: RunSettings,
) -> RunReport {
    let mut prompter = OperatorPrompter::non_interactive(None, true).accepting_data_loss(true);
    let mut sink = CollectingSink::default();
    machine::run(program, connector, &mut sink, &mut prompter, settings).await
}

#[tokio::test]
async fn resume_refuses_when_the_completed_steps_changed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let copy = dir.path().join("resume.runbook");
    let original = std::fs::read_to_string(fixture("resume.runbook")).unwrap();
    std::fs::write(&copy, &original).unwrap();
    let load = |path: &Path| load_path(path, &path.display().to_string()).unwrap();
    let connector = sim(&[]);
    let settings = RunSettings {
        stop_after_steps: Some(2),
        ..journaled(Some(&journal))
    };
    let first = run(
        &load(&copy),
        &connector,
        Some("upgraded = true\n"),
        false,
        settings,
    )
    .await;
    assert_eq!(first.report.outcome, RunOutcome::Stopped);

    // A change after the resume point is fine: a comment in step 4.
    std::fs::write(
        &copy,
        original.replace(
            "step 4 done \"Check\" {",
            "step 4 done \"Check\" {\n        // checked",
        ),
    )
    .unwrap();
    // Renaming a completed step is not.
    let renamed = original.replace("stop-standbys", "halt-standbys");
    std::fs::write(&copy, &renamed).unwrap();
    let refused = resume_with(&load(&copy), &connector, &journal, None, false).await;
    match &refused.report.error {
        Some(RuntimeError::ResumeRefused { reason, .. }) => {
            assert!(reason.contains("stop-standbys"), "{reason}")
        }
        other => panic!("expected resume_refused, got {other:?}"),
    }
    assert_eq!(refused.report.exit_code(), 2);

    let edited = original.replace(
        "step 4 done \"Check\" {",
        "step 4 done \"Check\" {\n        // checked",
    );
    std::fs::write(&copy, &edited).unwrap();
    let resumed = resume_with(&load(&copy), &connector, &journal, None, false).await;
    resumed.assert_outcome(RunOutcome::Succeeded, "");
}

/// `plan` runs the machine: a branch's body is shown under it; once an
/// operation would have changed the cluster, what is read from it is said
/// to be unknown and an `if` on it shows both ways; a decision on a bound
/// value stays known.
#[tokio::test]
async fn plan_shows_what_it_knows_and_both_ways_of_what_it_does_not() {
    let program = runbook::interp::load::load_text(
        "plan-ways.runbook",
        "runbook plan-ways {\n    title \"Plan ways\"\n    let standbys = standbys()\n    step 1 first \"First\" {\n        if count(standbys) > 0 {\n            for standby in standbys {\n                stop-server(server: standby)\n            }\n        }\n        if active().running {\n            note \"still running\"\n        }\n        check active().running else \"stopped\"\n    }\n}\n",
    );
    let program = match program {
        Ok(program) => program,
        Err(error) => panic!("loads: {}", error.message()),
    };
    let connector = sim(&[]);
    let plan = plan::plan(&program, &connector, &BTreeMap::new())
        .await
        .unwrap();
    let shown: Vec<(usize, &str, &str)> = plan
        .items
        .iter()
        .map(|item| (item.depth, item.kind, item.text.as_str()))
        .collect();
    let at = |text: &str| {
        shown
            .iter()
            .position(|(_, _, shown)| shown.starts_with(text))
            .unwrap_or_else(|| panic!("no `{text}` in {shown:#?}"))
    };
    // Known before any operation: the branch taken, its body under it.
    let known = at("if count(standbys) > 0 (now: true)");
    let each = at("for standby in [mgt-2, mgt-3]");
    let stop = at("stop-server mgt-2");
    assert!(
        each > known && shown[each].0 == shown[known].0 + 1 && shown[stop].0 == shown[each].0 + 1,
        "{shown:#?}"
    );
    // After the stop, `active().running` is unknown: both ways are shown.
    at("decided when the run gets there");
    at("if active().running");
    at("else: nothing to do");
    at("check active().running else \"stopped\" (checked when the run gets there)");
}

#[tokio::test]
async fn plan_reads_the_target_and_changes_nothing() {
    let program = program("downtime.runbook");
    let connector = sim(&["changes-on-active"]);
    let before = connector.snapshot().await.unwrap();
    let clock = connector.clock();
    let plan = plan::plan(&program, &connector, &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(connector.snapshot().await.unwrap(), before);
    assert_eq!(connector.clock(), clock);
    let steps: Vec<&str> = plan
        .items
        .iter()
        .filter(|item| item.kind == "step")
        .map(|item| item.text.as_str())
        .collect();
    assert_eq!(steps.len(), 4);
    assert!(steps[0].contains("stop-servers"));
    assert!(plan
        .items
        .iter()
        .any(|item| item.kind == "choice" && item.text.contains("standby-handling")));
    assert!(plan
        .items
        .iter()
        .any(|item| item.kind == "operation" && item.text == "upgrade mgt-1 to 7.4.0"));
    let what_ifs: Vec<&str> = plan
        .what_ifs
        .iter()
        .map(|handler| handler.id.as_str())
        .collect();
    assert_eq!(what_ifs, ["active-upgrade-cancelled", "standby-activated"]);
    let rendered = plan.render();
    assert!(
        rendered.starts_with("Target: simulated cluster"),
        "{rendered}"
    );
}

#[tokio::test]
async fn unknown_and_mistyped_parameters_are_refused() {
    let program = program("resume.runbook");
    for (name, value) in [("nope", "1"), ("version", "seven")] {
        let settings = RunSettings {
            params: BTreeMap::from([(name.to_string(), value.to_string())]),
            ..RunSettings::default()
        };
        let outcome = run(&program, &sim(&[]), None, true, settings).await;
        assert!(
            matches!(outcome.report.error, Some(RuntimeError::Parameter { .. })),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_wait_that_times_out_points_at_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wait.runbook");
    std::fs::write(
        &path,
        "runbook waits {\n    title \"Wait\"\n    step 1 wait-forever \"Wait for nothing\" {\n        wait until count(actives()) == 2 timeout 2m every 30s\n    }\n}\n",
    )
    .unwrap();
    let program = load_path(&path, "wait.runbook").unwrap();
    let connector = sim(&[]);
    let outcome = run(&program, &connector, None, false, RunSettings::default()).await;
    match &outcome.report.error {
        Some(RuntimeError::WaitTimeout {
            step,
            timeout,
            span,
            ..
        }) => {
            assert_eq!(step, "wait-forever");
            assert_eq!(timeout, "2m");
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text[span.offset()..].starts_with("wait until"));
        }
        other => panic!("expected wait_timeout, got {other:?}"),
    }
    assert!(connector.clock().as_secs() >= 120, "virtual time passed");
    let state = connector.snapshot().await.unwrap();
    assert_eq!(
        state.server("mgt-1").unwrap().replication,
        ReplicationState::ActRep
    );
}

/// The index of the first event matching `wanted`.
fn position(events: &[EventKind], wanted: impl Fn(&EventKind) -> bool) -> usize {
    events
        .iter()
        .position(wanted)
        .unwrap_or_else(|| panic!("no such event in {events:#?}"))
}

fn is_prompt(id: &'static str) -> impl Fn(&EventKind) -> bool {
    move |event| matches!(event, EventKind::Prompt { id: asked, .. } if asked == id)
}

fn is_discard_warning(subject: &'static str) -> impl Fn(&EventKind) -> bool {
    move |event| {
        matches!(event, EventKind::Warning { code, message }
            if code == "runbook::run::discards_changes" && message.starts_with(subject))
    }
}

fn is_operation(operation: &'static str) -> impl Fn(&EventKind) -> bool {
    move |event| matches!(event, EventKind::OperationStarted { operation: started, .. } if started == operation)
}

#[tokio::test]
async fn an_option_and_a_what_if_count_the_changes_they_discard_before_acting() {
    let program = program("discard.runbook");
    let connector = sim(&["changes-on-active"]);
    let outcome = play(&program, &connector, None, None).await;
    outcome.assert_outcome(RunOutcome::Stopped, "");
    let events = &outcome.events;

    // The option: chosen, then the count, then the confirmation, then its body.
    let chosen = position(events, is_prompt("changes"));
    let warned = position(events, is_discard_warning("option `discard` of `changes`"));
    let confirmed = position(events, is_prompt("changes.discard.discard-changes"));
    let acted = position(events, is_operation("replication-states mgt-1"));
    assert!(
        chosen < warned && warned < confirmed && confirmed < acted,
        "{events:#?}"
    );
    let EventKind::Warning { message, .. } = &events[warned] else {
        unreachable!()
    };
    let count: u64 = message
        .split_whitespace()
        .nth(5)
        .and_then(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no count in {message}"));
    assert!(count > 0, "{message}");
    assert!(message.contains("made on mgt-1"), "{message}");

    // The What-if: entered, then the count, then the confirmation, then its body.
    let entered = position(
        events,
        |event| matches!(event, EventKind::WhatIf { name, .. } if name == "broken-failed"),
    );
    let warned = position(events, is_discard_warning("What-if `broken-failed`"));
    let confirmed = position(events, is_prompt("broken-failed.discard-changes"));
    let acted_in_handler = events
        .iter()
        .rposition(is_operation("replication-states mgt-1"))
        .unwrap();
    assert!(
        acted < entered && entered < warned && warned < confirmed && confirmed < acted_in_handler,
        "{events:#?}"
    );
}

#[tokio::test]
async fn declining_an_options_discard_stops_before_its_body() {
    let program = program("discard.runbook");
    let connector = sim(&["changes-on-active"]);
    let outcome = play(
        &program,
        &connector,
        Some("\"changes.discard.discard-changes\" = false\n"),
        None,
    )
    .await;
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert!(!outcome
        .events
        .iter()
        .any(is_operation("replication-states mgt-1")));
    assert!(outcome.what_ifs().is_empty());
    assert_eq!(outcome.steps_finished(StepOutcome::Failed), ["decide"]);
}

#[tokio::test]
async fn declining_a_what_ifs_discard_stops_before_its_body() {
    let program = program("discard.runbook");
    let connector = sim(&["changes-on-active"]);
    let outcome = play(
        &program,
        &connector,
        Some("\"broken-failed.discard-changes\" = false\n"),
        None,
    )
    .await;
    assert_eq!(outcome.report.outcome, RunOutcome::Stopped);
    assert_eq!(outcome.what_ifs(), ["broken-failed"]);
    let operations = outcome
        .events
        .iter()
        .filter(|event| is_operation("replication-states mgt-1")(event))
        .count();
    assert_eq!(operations, 1, "only the option's, not the handler's");
    assert!(!outcome.events.iter().any(
        |event| matches!(event, EventKind::RunFinished { message, .. } if message == "handled")
    ));
}

#[tokio::test]
async fn resume_keeps_an_options_discard_agreement_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = program("discard.runbook");
    let connector = sim(&["changes-on-active"]);
    // Operations: stop mgt-2, upgrade mgt-2, replication-states mgt-1 in the
    // option (killed right after it returns, mid-step).
    let settings = RunSettings {
        crash_after_operations: Some(3),
        ..journaled(Some(&journal))
    };
    let first = run_crashing(&program, &connector, settings).await;
    assert!(first.crashed);

    // No answer for the option's confirmation: it can only come from the journal.
    let second = resume_with(
        &program,
        &connector,
        &journal,
        Some("\"broken-failed.discard-changes\" = true\n"),
        false,
    )
    .await;
    second.assert_outcome(RunOutcome::Stopped, "");
    // The journal holds the agreement: as many changes as were agreed to
    // are not asked about again (no answer for it could be given here).
    assert!(!second.events.iter().any(|event| matches!(
        event,
        EventKind::Prompt { id, source, .. } if id == "changes.discard.discard-changes" && source != "journal"
    )));
    assert!(read_journal(&journal)
        .unwrap()
        .records
        .iter()
        .any(|record| matches!(
            record,
            Record::ChangesAgreed { server, changes, .. } if server == "mgt-1" && *changes > 0
        )));
    assert!(second.events.iter().any(|event| matches!(
        event,
        EventKind::Prompt { id, source, .. } if id == "broken-failed.discard-changes" && source == "answers-file"
    )));
    let answered: Vec<String> = read_journal(&journal)
        .unwrap()
        .records
        .into_iter()
        .filter_map(|record| match record {
            Record::PromptAnswered { id, .. } if id.ends_with(".discard-changes") => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(
        answered,
        [
            "changes.discard.discard-changes",
            "broken-failed.discard-changes"
        ]
    );
}

#[tokio::test]
async fn a_what_if_run_directly_counts_the_changes_it_discards_first() {
    let program = program("discard.runbook");
    let connector = sim(&[]);
    let settings = RunSettings {
        what_if: Some(String::from("broken-failed")),
        ..RunSettings::default()
    };
    // `--yes` answers the top-level `select` the handler's bindings need.
    let outcome = run(&program, &connector, None, true, settings).await;
    outcome.assert_outcome(RunOutcome::Stopped, "");
    let warned = position(
        &outcome.events,
        is_discard_warning("What-if `broken-failed` discards 0 administrator changes"),
    );
    let acted = position(&outcome.events, is_operation("replication-states mgt-1"));
    assert!(warned < acted);
    // No change, no question.
    assert!(!outcome
        .events
        .iter()
        .any(is_prompt("broken-failed.discard-changes")));
}

/// Wraps the simulator and, each time an operation is sent, reads the journal
/// file back as another process would after a `kill -9` at that instant.
struct JournalWatcher {
    inner: SimConnector,
    journal: PathBuf,
    sent: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Connector for JournalWatcher {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn snapshot(
        &self,
    ) -> Result<runbook::cluster::Snapshot, runbook::connect::ConnectorError> {
        self.inner.snapshot().await
    }

    async fn perform(
        &self,
        operation: &runbook::cluster::Operation,
    ) -> Result<runbook::cluster::OperationOutput, runbook::connect::ConnectorError> {
        let records = read_journal(&self.journal).unwrap().records;
        match records.last() {
            Some(Record::OperationStarted {
                operation: journaled,
                step,
                ..
            }) => {
                assert_eq!(journaled, operation, "the journal names what is sent");
                let step = step
                    .as_ref()
                    .expect("operations of the shipped runbook run in steps");
                let started = records.iter().any(
                    |record| matches!(record, Record::StepStarted { step: key, .. } if key == step),
                );
                let finished = records.iter().any(|record| matches!(record, Record::StepFinished { step: key, .. } if key == step));
                assert!(
                    started && !finished,
                    "{operation}: its step is journaled as started, not finished"
                );
            }
            other => panic!("{operation} is sent but the journal ends with {other:?}"),
        }
        self.sent.lock().unwrap().push(operation.to_string());
        self.inner.perform(operation).await
    }

    async fn sleep(&self, duration: std::time::Duration) {
        self.inner.sleep(duration).await;
    }

    fn clock(&self) -> std::time::Duration {
        self.inner.clock()
    }

    fn clock_kind(&self) -> runbook::connect::ClockKind {
        self.inner.clock_kind()
    }

    fn outcome_always_seen(&self) -> bool {
        self.inner.outcome_always_seen()
    }

    async fn split_brain(&self) -> Result<Option<Vec<String>>, runbook::connect::ConnectorError> {
        self.inner.split_brain().await
    }
}

#[tokio::test]
async fn every_operation_is_in_the_journal_before_it_is_sent() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/upgrade-with-downtime.runbook");
    let program = load_path(&path, "upgrade-with-downtime").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let connector = JournalWatcher {
        inner: sim(&[]),
        journal: journal.clone(),
        sent: std::sync::Mutex::new(Vec::new()),
    };
    let outcome = run(&program, &connector, None, true, journaled(Some(&journal))).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    let sent = connector.sent.into_inner().unwrap();
    assert!(
        sent.iter()
            .any(|operation| operation.starts_with("upgrade ")),
        "{sent:?}"
    );
    // Every record is written by the time the run returns, the end included.
    let records = read_journal(&journal).unwrap().records;
    assert!(matches!(records.last(), Some(Record::RunFinished { .. })));
}

// ----- time windows across a resume -----

/// Runs `window-resume.runbook` with `--set window=WINDOW` until `steps`
/// steps finished (then it stops like Ctrl-C); the connector it ran on.
async fn run_window_until(journal: &Path, window: &str, steps: usize) -> SimConnector {
    let connector = sim(&[]);
    let settings = RunSettings {
        params: BTreeMap::from([(String::from("window"), window.to_string())]),
        journal: JournalChoice::File(journal.to_path_buf()),
        stop_after_steps: Some(steps),
        ..RunSettings::default()
    };
    let first = run(
        &program("window-resume.runbook"),
        &connector,
        None,
        true,
        settings,
    )
    .await;
    assert_eq!(
        first.report.outcome,
        RunOutcome::Stopped,
        "{:?}",
        first.report.error
    );
    assert!(first.report.warnings.is_empty());
    connector
}

/// The `window_exceeded` warning event's message, if the run emitted one.
fn window_warning(outcome: &Played) -> Option<String> {
    outcome
        .warnings("runbook::run::window_exceeded")
        .into_iter()
        .next()
        .map(|(_, message)| message)
}

fn assert_succeeded(outcome: &Played) {
    assert_eq!(
        outcome.report.outcome,
        RunOutcome::Succeeded,
        "{:?}",
        outcome.report.error
    );
}

#[tokio::test]
async fn a_window_anchored_before_an_interruption_is_measured_from_the_journal() {
    // Stopped right after the anchor: the 12-minute upgrade runs after the
    // resume, so only the journal knows when the window started.
    for (window, exceeded) in [("1m", true), ("2h", false)] {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.jsonl");
        let connector = run_window_until(&journal, window, 1).await;
        let resumed = resume_with(
            &program("window-resume.runbook"),
            &connector,
            &journal,
            None,
            false,
        )
        .await;
        assert_succeeded(&resumed);
        assert_eq!(
            resumed.steps_finished(StepOutcome::Skipped),
            ["stop-standby"]
        );
        match (window_warning(&resumed), exceeded) {
            (Some(message), true) => {
                assert!(
                    message.contains("after `stop-standby` ended (before the run was resumed; measured on the simulator's clock), later than its window of 1m"),
                    "{message}"
                );
                assert!(matches!(
                    resumed.report.warnings.as_slice(),
                    [RuntimeError::WindowExceeded { elapsed, .. }] if elapsed == "12m30s"
                ));
            }
            (None, false) => assert!(resumed.report.warnings.is_empty()),
            (warning, _) => panic!("window {window}: unexpected {warning:?}"),
        }
    }
}

#[tokio::test]
async fn a_rebuilt_simulator_keeps_the_clock_the_journal_left_so_time_before_the_interruption_counts(
) {
    // Stopped after a 10-minute `wait` that sent no operation: that time
    // passed in the first process, whose in-process cluster is gone; the
    // rebuilt one resumes its clock where the journal left it.
    for (window, exceeded) in [("1m", true), ("1h", false)] {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.jsonl");
        let config = SimConfig {
            faults: vec![Fault::ChangesOnActive],
            ..SimConfig::default()
        };
        let original = SimConnector::new(config.clone());
        let settings = RunSettings {
            params: BTreeMap::from([(String::from("window"), window.to_string())]),
            journal: JournalChoice::File(journal.clone()),
            target: runbook::connect::TargetRecord {
                target: String::from("sim"),
                sim: Some(config.clone()),
                ..Default::default()
            },
            stop_after_steps: Some(2),
            ..RunSettings::default()
        };
        let first = run(
            &program("window-wait.runbook"),
            &original,
            None,
            true,
            settings,
        )
        .await;
        assert_eq!(first.report.outcome, RunOutcome::Stopped);
        assert_eq!(original.clock(), std::time::Duration::from_secs(600));

        let contents = read_journal(&journal).unwrap();
        assert_eq!(
            contents.header().unwrap().clock,
            Some(runbook::connect::ClockKind::Simulated)
        );
        let rebuilt = SimConnector::rebuilt(config.clone(), contents.history());
        assert_eq!(rebuilt.clock(), original.clock());
        assert_eq!(
            rebuilt.simulator().snapshot(),
            original.simulator().snapshot()
        );
        drop(original);
        let resumed = resume_with(
            &program("window-wait.runbook"),
            &rebuilt,
            &journal,
            None,
            false,
        )
        .await;
        assert_succeeded(&resumed);
        assert_eq!(
            resumed.steps_finished(StepOutcome::Skipped),
            ["anchor", "wait-changes"]
        );
        match window_warning(&resumed) {
            Some(message) if exceeded => assert!(
                message.contains("started 10m after `anchor` ended (before the run was resumed; measured on the simulator's clock)"),
                "{message}"
            ),
            None if !exceeded => assert!(resumed.report.warnings.is_empty()),
            other => panic!("window {window}: unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn without_comparable_clock_readings_a_window_is_measured_in_wall_time() {
    // A journal that does not say which clock it read (written before clocks
    // were comparable across processes): the anchor's end is taken from its
    // timestamp, here an hour ago, although only 12 simulated minutes pass.
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let connector = run_window_until(&journal, "30m", 1).await;
    let hour_ago = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let text = std::fs::read_to_string(&journal).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            match record["record"].as_str() {
                Some("run_started") => {
                    record.as_object_mut().unwrap().remove("clock");
                }
                Some("step_finished") => record["ts"] = serde_json::json!(hour_ago),
                _ => {}
            }
            record.to_string()
        })
        .collect();
    std::fs::write(&journal, edited.join("\n") + "\n").unwrap();
    let resumed = resume_with(
        &program("window-resume.runbook"),
        &connector,
        &journal,
        None,
        false,
    )
    .await;
    assert_succeeded(&resumed);
    let message = window_warning(&resumed).expect("a window_exceeded warning");
    assert!(
        message.contains(
            "(before the run was resumed; measured on wall time), later than its window of 30m"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_step_resumed_half_done_is_not_judged_late_again() {
    // The windowed step itself started before the interruption (its start
    // was judged then): running it again on resume is not a late start.
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let connector = sim(&[]);
    let settings = RunSettings {
        journal: JournalChoice::File(journal.clone()),
        ..RunSettings::default()
    };
    let first = run(
        &program("window-resume.runbook"),
        &connector,
        None,
        true,
        settings,
    )
    .await;
    assert_succeeded(&first);
    assert!(
        window_warning(&first).is_some(),
        "judged late when it started"
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    // Cut the journal after `hurry` started, as a kill there would.
    let cut: Vec<&str> = text
        .lines()
        .take_while(|line| !(line.contains("\"step_finished\"") && line.contains("\"hurry\"")))
        .collect();
    assert!(cut.last().unwrap().contains("\"hurry\""), "{cut:?}");
    std::fs::write(&journal, cut.join("\n") + "\n").unwrap();
    let resumed = resume_with(
        &program("window-resume.runbook"),
        &connector,
        &journal,
        None,
        false,
    )
    .await;
    assert_succeeded(&resumed);
    assert_eq!(window_warning(&resumed), None);
}

// ----- failures caused by the target -----

#[tokio::test]
async fn a_step_failed_by_the_target_carries_the_connector_errors_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.runbook");
    std::fs::write(
        &path,
        "runbook refused {\n    title \"A refused operation\"\n\n    step exclude-active \"Exclude the Active\" {\n        exclude(server: active())\n    }\n}\n",
    )
    .unwrap();
    let program = load_path(&path, "refused.runbook").unwrap();
    let outcome = run(&program, &sim(&[]), None, true, RunSettings::default()).await;
    assert_eq!(outcome.report.outcome, RunOutcome::Failed);
    let code = "runbook::connector::refused_action";
    match &outcome.report.error {
        Some(RuntimeError::StepFailed {
            cause_code, help, ..
        }) => {
            assert_eq!(cause_code.as_deref(), Some(code));
            assert!(
                help.starts_with(&format!(
                    "the target reported `{code}`: see `runbook explain {code}`\n"
                )),
                "{help}"
            );
        }
        other => panic!("expected step_failed, got {other:?}"),
    }
    assert!(outcome.events.iter().any(|event| matches!(
        event,
        EventKind::OperationFinished { ok: false, error_code: Some(c), .. } if c == code
    )));
    assert!(outcome.events.iter().any(|event| matches!(
        event,
        EventKind::StepFinished { outcome: StepOutcome::Failed, cause_code: Some(c), .. } if c == code
    )));
    assert!(matches!(
        outcome.events.last(),
        Some(EventKind::RunFinished { cause_code: Some(c), .. }) if c == code
    ));

    // A check that does not hold is not the target's doing: no code.
    let outcome = run(
        &program_text(
            &dir,
            "check.runbook",
            "runbook checked {\n    title \"A false check\"\n\n    step look \"Look\" {\n        check count(actives()) == 2 else \"two Actives\"\n    }\n}\n",
        ),
        &sim(&[]),
        None,
        true,
        RunSettings::default(),
    )
    .await;
    assert!(matches!(
        &outcome.report.error,
        Some(RuntimeError::StepFailed { cause_code: None, help, .. }) if !help.contains("runbook explain")
    ));
    assert!(matches!(
        outcome.events.last(),
        Some(EventKind::RunFinished {
            cause_code: None,
            ..
        })
    ));
}

fn program_text(dir: &tempfile::TempDir, name: &str, text: &str) -> Program {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    load_path(&path, name).unwrap()
}

#[tokio::test]
async fn what_if_on_a_runbook_without_handlers_says_there_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let settings = RunSettings {
        what_if: Some(String::from("bad")),
        ..journaled(Some(&dir.path().join("run.jsonl")))
    };
    let outcome = run(&program("resume.runbook"), &sim(&[]), None, true, settings).await;
    assert_eq!(outcome.report.outcome, RunOutcome::Failed);
    let error = outcome.report.error.expect("an error");
    assert!(matches!(error, RuntimeError::NoWhatIfs { ref name } if name == "bad"));
    assert_eq!(
        error.to_string(),
        "`--what-if bad`: the runbook has no What-if handlers"
    );
    let help = miette::Diagnostic::help(&error).unwrap().to_string();
    assert!(help.contains("declares none"), "{help}");
    assert_eq!(
        miette::Diagnostic::code(&error).unwrap().to_string(),
        "runbook::run::unknown_what_if"
    );
    // Resuming would fail the same way: nothing to continue.
    assert_eq!(outcome.report.resume_command, None);
}

/// The operations of the journal, in the order they were sent.
fn sent_operations(journal: &Path) -> Vec<String> {
    read_journal(journal)
        .unwrap()
        .records
        .into_iter()
        .filter_map(|record| match record {
            Record::OperationStarted { operation, .. } => Some(operation.to_string()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_completed_backup_is_not_taken_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = program("backup-resume.runbook");
    let connector = sim(&[]);
    // Killed when `stop-server mgt-2` returns: the backup's success is in
    // the journal, the stop is in flight.
    let settings = RunSettings {
        crash_after_operations: Some(2),
        ..journaled(Some(&journal))
    };
    assert!(run_crashing(&program, &connector, settings).await.crashed);
    let resumed = resume_with(&program, &connector, &journal, None, true).await;
    resumed.assert_outcome(RunOutcome::Succeeded, "");
    // The backup is not taken again; the stop left in flight is sent again
    // (stopping is idempotent, and a server that does not answer reads as
    // stopped: the cluster cannot show that it took effect).
    assert_eq!(
        sent_operations(&journal),
        [
            "backup mgt-1",
            "stop-server mgt-2",
            "stop-server mgt-2",
            "stop-server mgt-3"
        ],
        "only the stop is sent twice"
    );
    let cluster = connector.snapshot().await.unwrap();
    assert!(cluster.standbys().all(|server| !server.running));
}

/// Killed at the very moment a What-if takes over the step it interrupted
/// (the step's interrupted end is journaled, the What-if's entry with it):
/// the resume enters the What-if, and the step is not run again.
#[tokio::test]
async fn a_run_killed_entering_a_what_if_resumes_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = support::shipped("upgrade-with-downtime");
    let connector = sim(&["upgrade-fails:mgt-1"]);
    let settings = RunSettings {
        crash_entering_what_if: true,
        ..journaled(Some(&journal))
    };
    assert!(run_crashing(&program, &connector, settings).await.crashed);
    let records = read_journal(&journal).unwrap().records;
    let interrupted = records.iter().position(|record| {
        matches!(
            record,
            Record::StepFinished { step, outcome: JournalOutcome::Interrupted, .. }
                if step.id == "upgrade-active"
        )
    });
    let entered = records.iter().position(
        |record| matches!(record, Record::WhatIfEntered { name, .. } if name == "installer-failed"),
    );
    assert!(
        interrupted.is_some() && entered == interrupted.map(|at| at + 1),
        "the interrupted end and the entry, together: {records:?}"
    );
    let resumed = resume_with(&program, &connector, &journal, None, true).await;
    resumed.assert_outcome(RunOutcome::Stopped, "");
    assert!(
        resumed.report.message.contains("run the upgrade again"),
        "{}",
        resumed.report.message
    );
    assert!(resumed.events.iter().any(|event| matches!(
        event,
        EventKind::WhatIf { name, reason } if name == "installer-failed" && reason.contains("interrupted")
    )));
    let sent = sent_operations(&journal);
    assert_eq!(
        sent.iter()
            .filter(|operation| operation.starts_with("upgrade"))
            .count(),
        1,
        "the interrupted step's upgrade is not sent again: {sent:?}"
    );
    // The entry is journaled once, before the kill.
    let entries = read_journal(&journal)
        .unwrap()
        .records
        .iter()
        .filter(|record| matches!(record, Record::WhatIfEntered { .. }))
        .count();
    assert_eq!(entries, 1);
}

#[tokio::test]
async fn a_run_killed_inside_a_what_if_resumes_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let program = support::shipped("upgrade-with-downtime");
    let connector = sim(&["upgrade-fails:mgt-1"]);
    // stop-server ×3, the Active's upgrade (fails: installer-failed), then
    // the handler's first start-server: killed when it returns.
    let settings = RunSettings {
        crash_after_operations: Some(5),
        ..journaled(Some(&journal))
    };
    assert!(run_crashing(&program, &connector, settings).await.crashed);
    let resumed = resume_with(&program, &connector, &journal, None, true).await;
    // The handler went on where it was and ended with its `stop`: the
    // step it interrupted was not run again.
    resumed.assert_outcome(RunOutcome::Stopped, "");
    assert!(
        resumed.report.message.contains("run the upgrade again"),
        "{}",
        resumed.report.message
    );
    assert!(resumed.events.iter().any(|event| matches!(
        event,
        EventKind::WhatIf { name, reason } if name == "installer-failed" && reason.contains("interrupted")
    )));
    let sent = sent_operations(&journal);
    assert_eq!(
        sent.iter()
            .filter(|operation| operation.starts_with("upgrade"))
            .count(),
        1,
        "{sent:?}"
    );
    assert_eq!(
        sent.iter()
            .filter(|operation| *operation == "start-server mgt-1")
            .count(),
        1,
        "{sent:?}"
    );
    // A `stop` ends the run for good: no resume is offered, and one is refused.
    assert!(resumed.report.resume_command.is_none());
    let again = resume_with(&program, &connector, &journal, None, true).await;
    assert!(
        again.report.message.contains("already ended"),
        "{}",
        again.report.message
    );
    let cluster = connector.snapshot().await.unwrap();
    assert!(cluster.is_healthy(), "{cluster:?}");
    assert!(cluster
        .servers
        .iter()
        .all(|server| server.version.to_string() == "7.3.4"));
}

#[tokio::test]
async fn changes_since_a_step_count_from_its_start() {
    let program = program("changes-since.runbook");
    let connector = sim(&["changes-on-active"]);
    let outcome = play(&program, &connector, None, None).await;
    outcome.assert_outcome(RunOutcome::Succeeded, "");
    assert!(
        outcome.events.iter().any(|event| matches!(
            event,
            EventKind::Note { message } if message == "1 change(s) since step counted, 3 since the run started"
        )),
        "{:#?}",
        outcome.events
    );
}
