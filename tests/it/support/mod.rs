//! The one support module of the test binary.
//!
//! Here: the simulated cluster, in-process or behind `runbook sim serve`
//! started inside the test; running a program through the library API
//! without a terminal and reading what happened from its events (the
//! scenario suite `scenarios`, `interp_run`); the paths of the fixtures; the
//! checks of an upgraded cluster.
//!
//! [`process`]: the tests that drive the built `runbook` binary as separate
//! processes. [`lint`]: linting and rendering findings as `runbook check`
//! does, for the lint snapshots.

pub mod lint;
pub mod process;

use std::path::{Path, PathBuf};

use runbook::check::verify::VerifyReport;
use runbook::cluster::{
    check_upgraded, InvariantViolation, Mode, Operation, ReplicationState, SimConfig, Simulator,
    Snapshot, Version,
};
use runbook::connect::sim::SimConnector;
use runbook::connect::sim_server::{self, RunningSimServer, SimServeConfig};
use runbook::connect::{ApiKey, Connector, ConnectorError};
use runbook::interp::events::{CollectingSink, EventKind, RunOutcome, StepOutcome};
use runbook::interp::load::load_runbook;
use runbook::interp::machine::{self, JournalChoice, RunReport, RunSettings};
use runbook::interp::program::Program;
use runbook::interp::prompt::{AnswersFile, OperatorPrompter};

/// The version every scenario upgrades to (the simulator's default target).
pub const TARGET: &str = "7.4.0";
/// The version every simulated server runs at first.
pub const INITIAL: &str = "7.3.4";

/// The crate's root, where `tests/fixtures/`, `runbooks/` and `docs/` are.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The file `name` of `tests/fixtures/run/`.
pub fn fixture(name: &str) -> PathBuf {
    manifest_dir().join("tests/fixtures/run").join(name)
}

/// The configuration of a `proptest!` block with `cases` cases. Its
/// regressions are kept next to the suite's file
/// (`tests/it/SUITE.proptest-regressions`): proptest's default would find
/// `tests/it/main.rs` and put every suite's in `tests/proptest-regressions/`.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..proptest::test_runner::Config::default()
    }
}

/// The diagnostic code of a connector error (`runbook::connector::…`), or
/// nothing.
pub fn code(error: &ConnectorError) -> String {
    miette::Diagnostic::code(error)
        .map(|code| code.to_string())
        .unwrap_or_default()
}

/// Upgrading `server` to the target version.
pub fn upgrade(server: &str) -> Operation {
    Operation::Upgrade {
        server: server.into(),
        version: target(),
    }
}

/// The shipped runbook called `name`, from the copies embedded in the binary.
pub fn shipped(name: &str) -> Program {
    match load_runbook(name) {
        Ok(program) => program,
        Err(error) => panic!("{name} does not load: {}", error.message()),
    }
}

/// Every fault of the contract once, by its name (with a server where it
/// takes one).
pub const EVERY_FAULT: [&str; 7] = [
    "replication-down",
    "active-upgrade-cancelled",
    "standby-auto-activates",
    "standby-activated-by-operator",
    "upgrade-fails:mgt-2",
    "unreachable:mgt-3",
    "changes-on-active",
];

/// A simulated cluster of `servers` with these faults (by their contract
/// names) and `seed`.
pub fn sim_config(servers: usize, faults: &[&str], seed: u64) -> SimConfig {
    let mut config = SimConfig {
        servers,
        seed,
        ..SimConfig::default()
    };
    // As `--sim-fault` reads them (`crash:mgt-2@3`, `standby-auto-activates:mgt-2`).
    for fault in faults {
        config.add_fault(fault).expect("fault");
    }
    config
}

/// The in-process simulator of [`sim_config`].
pub fn sim(servers: usize, faults: &[&str], seed: u64) -> SimConnector {
    SimConnector::new(sim_config(servers, faults, seed))
}

/// `runbook sim serve` started in-process on a free loopback port, with
/// `key`, at `speed` simulated seconds per real second, persisting nothing.
pub async fn serve_sim(sim: SimConfig, key: &str, speed: f64) -> RunningSimServer {
    let listener = sim_server::bind("127.0.0.1:0").await.expect("bind");
    sim_server::start(
        listener,
        SimServeConfig {
            sim,
            key: ApiKey::new(key),
            speed,
            state_file: None,
            // The fixtures' first server is element 10, as on a new setup.
            first_element_key: Some(10),
            lease_stale_after: runbook::connect::lease::STALE_AFTER,
        },
    )
    .await
    .expect("sim serve starts")
}

/// The violations the simulator recorded, less the discarded changes (those
/// are judged by the scenarios that expect them).
pub fn safety_violations(simulator: &Simulator) -> Vec<InvariantViolation> {
    simulator
        .violations()
        .iter()
        .filter(|violation| !matches!(violation, InvariantViolation::ChangesDiscarded { .. }))
        .cloned()
        .collect()
}

/// One line per counterexample of `report`: `CODE [CONFIGURATION] MESSAGE`.
pub fn counterexample_lines(report: &VerifyReport) -> Vec<String> {
    report
        .counterexamples
        .iter()
        .map(|counterexample| {
            format!(
                "{} [{}] {}",
                counterexample.code, counterexample.configuration, counterexample.message
            )
        })
        .collect()
}

/// What one run produced.
pub struct Played {
    /// The interpreter's report.
    pub report: RunReport,
    /// Every event, in order.
    pub events: Vec<EventKind>,
}

impl Played {
    /// The ids of the What-ifs entered, in order.
    pub fn what_ifs(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                EventKind::WhatIf { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The reason given when What-if `name` was entered.
    pub fn what_if_reason(&self, wanted: &str) -> Option<String> {
        self.events.iter().find_map(|event| match event {
            EventKind::WhatIf { name, reason } if name == wanted => Some(reason.clone()),
            _ => None,
        })
    }

    /// Index and message of every warning with this code.
    pub fn warnings(&self, wanted: &str) -> Vec<(usize, String)> {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(index, event)| match event {
                EventKind::Warning { code, message } if code == wanted => {
                    Some((index, message.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The ids of the prompts asked, in order, with their answers.
    pub fn prompts(&self) -> Vec<(String, serde_json::Value)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                EventKind::Prompt { id, answer, .. } => Some((id.clone(), answer.clone())),
                _ => None,
            })
            .collect()
    }

    /// Every warning message, whatever its code.
    pub fn all_warnings(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                EventKind::Warning { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    /// Index of the first operation sent whose words start with `prefix`
    /// (`set-standby mgt-1`).
    pub fn first_operation(&self, prefix: &str) -> Option<usize> {
        self.events.iter().position(|event| {
            matches!(event, EventKind::OperationStarted { operation, .. } if operation.starts_with(prefix))
        })
    }

    /// The ids of the steps that started, in order (repeats included).
    pub fn steps_started(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                EventKind::StepStarted { step, .. } => Some(step.clone()),
                _ => None,
            })
            .collect()
    }

    /// The ids of the steps that finished with `wanted`, in order.
    pub fn steps_finished(&self, wanted: StepOutcome) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                EventKind::StepFinished { step, outcome, .. } if *outcome == wanted => {
                    Some(step.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// The outcome.
    pub fn outcome(&self) -> RunOutcome {
        self.report.outcome
    }

    /// Panics unless the run ended with `expected`, showing `context`, the
    /// run's message and its error.
    #[track_caller]
    pub fn assert_outcome(&self, expected: RunOutcome, context: &str) {
        assert_eq!(
            self.report.outcome, expected,
            "{context}: {}\n{:?}",
            self.report.message, self.report.error
        );
    }
}

/// The settings of a run journaled in `journal` (none without).
pub fn journaled(journal: Option<&Path>) -> RunSettings {
    RunSettings {
        journal: journal.map_or(JournalChoice::Disabled, |path| {
            JournalChoice::File(path.to_path_buf())
        }),
        ..RunSettings::default()
    }
}

fn prompter(answers: Option<&str>, yes: bool) -> OperatorPrompter {
    let answers = answers.map(|text| AnswersFile::parse("answers.toml", text).expect("answers"));
    // The scenarios' `--yes` is the operator's `--yes --accept-data-loss`:
    // they follow the pages' "discard" branches; the default-no of `--yes`
    // alone is tested through the binary.
    OperatorPrompter::non_interactive(answers, yes).accepting_data_loss(yes)
}

/// Runs `program` against `connector` without a terminal: `--yes` plus
/// the answers in `answers` (TOML, as in an answers file).
pub async fn play(
    program: &Program,
    connector: &dyn Connector,
    answers: Option<&str>,
    journal: Option<&Path>,
) -> Played {
    run(program, connector, answers, true, journaled(journal)).await
}

/// Runs `program` against `connector` without a terminal with `settings`:
/// the answers in `answers`, and `--yes` if `yes`.
pub async fn run(
    program: &Program,
    connector: &dyn Connector,
    answers: Option<&str>,
    yes: bool,
    settings: RunSettings,
) -> Played {
    let mut prompter = prompter(answers, yes);
    let mut sink = CollectingSink::default();
    let report = machine::run(program, connector, &mut sink, &mut prompter, settings).await;
    finish(report, sink)
}

/// Resumes the run journaled in `journal` with `--yes`.
pub async fn resume(program: &Program, connector: &dyn Connector, journal: &Path) -> Played {
    resume_with(program, connector, journal, None, true).await
}

/// Resumes the run journaled in `journal` without a terminal: the answers
/// in `answers`, and `--yes` if `yes`.
pub async fn resume_with(
    program: &Program,
    connector: &dyn Connector,
    journal: &Path,
    answers: Option<&str>,
    yes: bool,
) -> Played {
    let mut prompter = prompter(answers, yes);
    let mut sink = CollectingSink::default();
    let report = machine::resume(
        journal,
        program,
        connector,
        &mut sink,
        &mut prompter,
        journaled(Some(journal)),
    )
    .await;
    finish(report, sink)
}

/// The events of a run, after checking their frame: `run_started` first,
/// one `run_finished`, last.
fn finish(report: RunReport, sink: CollectingSink) -> Played {
    let events: Vec<EventKind> = sink.events.into_iter().map(|event| event.kind).collect();
    assert!(
        matches!(events.first(), Some(EventKind::RunStarted { .. })),
        "run_started comes first"
    );
    assert!(
        matches!(events.last(), Some(EventKind::RunFinished { .. })),
        "run_finished comes last"
    );
    let finished = events
        .iter()
        .filter(|event| matches!(event, EventKind::RunFinished { .. }))
        .count();
    assert_eq!(finished, 1, "one run_finished");
    Played { report, events }
}

/// The target version.
pub fn target() -> Version {
    TARGET.parse().expect("version")
}

/// The initial version.
pub fn initial() -> Version {
    INITIAL.parse().expect("version")
}

/// The running Active servers of `snapshot`.
pub fn running_actives(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .servers
        .iter()
        .filter(|server| server.running && server.mode == Mode::Active)
        .map(|server| server.name.clone())
        .collect()
}

/// Invariants 1 and 6: the healthy upgraded cluster — every server running
/// on the target, one Active in `ACT_REP`, Standbys `STB_REP`, none excluded.
pub fn assert_upgraded(snapshot: &Snapshot, context: &str) {
    let violations = check_upgraded(snapshot, &target());
    assert!(
        violations.is_empty(),
        "{context}: not the healthy upgraded cluster: {violations:?}\n{snapshot:#?}"
    );
    assert_eq!(running_actives(snapshot).len(), 1, "{context}");
}

/// The healthy cluster on `version`: one Active in `ACT_REP`, every Standby
/// running, not excluded, `STB_REP`.
pub fn assert_healthy_on(snapshot: &Snapshot, version: &Version, context: &str) {
    let violations = check_upgraded(snapshot, version);
    assert!(
        violations.is_empty(),
        "{context}: not healthy on {version}: {violations:?}\n{snapshot:#?}"
    );
}

/// Each server of `snapshot` as a comparable tuple: name, running, mode,
/// version, replication, excluded — everything but the configuration
/// revision, which depends on how much time passed between operations, and
/// the version of a server that does not answer (over the API it is only
/// known if the server answered once).
pub fn comparable(
    snapshot: &Snapshot,
) -> Vec<(String, bool, Mode, String, ReplicationState, bool)> {
    snapshot
        .servers
        .iter()
        .map(|server| {
            (
                server.name.clone(),
                server.running,
                server.mode,
                if server.running {
                    server.version.to_string()
                } else {
                    "-".to_owned()
                },
                server.replication,
                server.excluded,
            )
        })
        .collect()
}

/// The name of the Active server.
pub fn active_name(snapshot: &Snapshot) -> String {
    let actives = running_actives(snapshot);
    assert_eq!(actives.len(), 1, "exactly one Active: {snapshot:#?}");
    actives[0].clone()
}

/// The replication state of `server`.
pub fn state_of(snapshot: &Snapshot, server: &str) -> ReplicationState {
    snapshot
        .server(server)
        .map(|server| server.replication)
        .expect("server exists")
}

/// The number in a message such as "step `x` discards 2 administrator
/// changes made on mgt-1 since the run started".
pub fn discarded_count(message: &str) -> u64 {
    message
        .split_once("discards ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no count in {message:?}"))
}
