//! The run itself: walks a [`Program`] statement by statement against a
//! [`Connector`], journaling every step before and after it acts, asking the
//! operator through a [`Prompter`], firing What-if handlers, measuring time
//! windows, and replaying a journal when a run is resumed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use miette::SourceSpan;

use super::error::RuntimeError;
use super::eval::{
    self, expect_bool, expect_servers, format_duration, EvalContext, EvalError, Value,
};
use super::events::{Event, EventKind, EventSink, RunOutcome, StepOutcome};
use super::journal::{
    read_journal, Journal, JournalContents, JournalOutcome, Record, RunHeader, SourceHash, StepKey,
    WhatIfResolution,
};
use super::observe::{self, cluster_table, OperationRecord};
use super::program::Program;
use super::prompt::{
    Answer, AnswerSource, ChoiceOption, PromptError, PromptKind, PromptRequest, Prompter,
};
use crate::cluster::{Operation, Snapshot};
use crate::connect::smc::ConnectionOptions;
use crate::connect::{ClockKind, Connector, ConnectorError};
use crate::syntax::ast::{self, ExprKind, Stmt, StmtKind, TriggerKind};
use crate::syntax::Span;

/// How many times `retry` may run one step again before the run fails.
pub const MAX_RETRIES: u32 = 3;
/// The longest a `wait` without `timeout` polls before failing.
pub const MAX_UNBOUNDED_WAIT: Duration = Duration::from_secs(24 * 3600);
/// How long a resumed run waits for an operation that was in flight when
/// the previous run died, before sending it again.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(30 * 60);
/// The polling interval of a `wait` without `every`.
pub const DEFAULT_WAIT_INTERVAL: Duration = Duration::from_secs(10);

/// Where the journal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalChoice {
    /// No journal (benchmarks, `plan`): the run cannot be resumed.
    Disabled,
    /// `runs/<runbook>-<timestamp>-<id>.jsonl` under this folder.
    Default(PathBuf),
    /// This file (`--journal FILE`).
    File(PathBuf),
}

/// What a run needs besides the program, the target and the operator.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// `--set NAME=VALUE` parameters, as given.
    pub params: BTreeMap<String, String>,
    /// `--what-if NAME`: run only that handler.
    pub what_if: Option<String>,
    /// Where to journal.
    pub journal: JournalChoice,
    /// The target as given on the command line (recorded, never with a key).
    pub target: String,
    /// The simulator configuration, for simulated targets (recorded for resume).
    pub sim: Option<serde_json::Value>,
    /// The connection options given on the command line (recorded for resume).
    pub connection: ConnectionOptions,
    /// Set (e.g. by Ctrl-C) to stop after the current step.
    pub interrupt: Arc<AtomicBool>,
    /// Test hook: stop like Ctrl-C once this many steps finished in this process.
    pub stop_after_steps: Option<usize>,
    /// Test hook: end abruptly, like `kill -9`, once this many operations
    /// returned in this process (nothing more is journaled).
    pub crash_after_operations: Option<usize>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            params: BTreeMap::new(),
            what_if: None,
            journal: JournalChoice::Disabled,
            target: String::from("sim"),
            sim: None,
            connection: ConnectionOptions::default(),
            interrupt: Arc::new(AtomicBool::new(false)),
            stop_after_steps: None,
            crash_after_operations: None,
        }
    }
}

/// How a run (or a resumed run) ended.
#[derive(Debug)]
pub struct RunReport {
    /// The outcome.
    pub outcome: RunOutcome,
    /// A sentence saying why.
    pub message: String,
    /// The error that ended the run, if any.
    pub error: Option<RuntimeError>,
    /// Warnings worth a diagnostic (time windows exceeded).
    pub warnings: Vec<RuntimeError>,
    /// The cluster at the end.
    pub cluster: Snapshot,
    /// The journal, if one was written.
    pub journal: Option<PathBuf>,
    /// The command that continues the run, when it can be resumed.
    pub resume_command: Option<String>,
    /// Whether the target could not be reached before anything changed (exit 2).
    pub unreachable_before_start: bool,
    /// Whether the run ended abruptly (test hook `crash_after_operations`).
    pub crashed: bool,
}

impl RunReport {
    /// The process exit code of the contract.
    pub fn exit_code(&self) -> i32 {
        if self.unreachable_before_start {
            2
        } else {
            self.outcome.exit_code()
        }
    }
}

/// Runs `program` against `connector`.
pub async fn run(
    program: &Program,
    connector: &dyn Connector,
    sink: &mut dyn EventSink,
    prompter: &mut dyn Prompter,
    settings: RunSettings,
) -> RunReport {
    let run_id = uuid::Uuid::new_v4().to_string();
    let mut machine = Machine::new(program, connector, sink, prompter, &settings, run_id);
    let initial = match connector.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => return machine.unreachable(RuntimeError::Connector(error)),
    };
    machine.initial = Arc::new(initial.clone());
    let journal_path = match &settings.journal {
        JournalChoice::Disabled => None,
        JournalChoice::Default(dir) => {
            Some(Journal::default_path(dir, program.name(), &machine.run_id))
        }
        JournalChoice::File(path) => Some(path.clone()),
    };
    if let Some(path) = journal_path {
        match Journal::create(&path) {
            Ok(journal) => machine.journal = Some(journal),
            Err(error) => return machine.unreachable(error),
        }
    }
    let header = RunHeader {
        run_id: machine.run_id.clone(),
        runbook: program.name().to_string(),
        runbook_ref: program.reference.clone(),
        sources: program.hashes(),
        target: settings.target.clone(),
        target_description: connector.describe(),
        params: settings.params.clone(),
        sim: settings.sim.clone(),
        connection: settings.connection.clone(),
        what_if: settings.what_if.clone(),
        initial: initial.clone(),
        clock_seconds: connector.clock().as_secs_f64(),
        clock: Some(connector.clock_kind()),
        steps: step_fingerprints(program),
    };
    machine.emit(EventKind::RunStarted {
        run_id: machine.run_id.clone(),
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: initial,
        journal: machine.journal_display(),
        resumed: false,
    });
    machine.emit_target_warnings();
    if let Err(error) = machine.journal(Record::RunHeader {
        ts: super::events::now_rfc3339(),
        header: Box::new(header),
    }) {
        return machine.finish(Err(Abort::Fatal(error))).await;
    }
    let result = machine.run_program(settings.what_if.as_deref()).await;
    machine.finish(result).await
}

/// Continues the run journaled in `journal_path`; `program` must be the
/// runbook the journal names (the caller loads it from the header).
pub async fn resume(
    journal_path: &Path,
    program: &Program,
    connector: &dyn Connector,
    sink: &mut dyn EventSink,
    prompter: &mut dyn Prompter,
    settings: RunSettings,
) -> RunReport {
    let contents = match read_journal(journal_path) {
        Ok(contents) => contents,
        Err(error) => {
            let mut machine =
                Machine::new(program, connector, sink, prompter, &settings, String::new());
            return machine.unreachable(error);
        }
    };
    let Some(header) = contents.header().cloned() else {
        let mut machine =
            Machine::new(program, connector, sink, prompter, &settings, String::new());
        return machine.unreachable(RuntimeError::journal(journal_path, "no run header"));
    };
    let mut machine = Machine::new(
        program,
        connector,
        sink,
        prompter,
        &settings,
        header.run_id.clone(),
    );
    machine.initial = Arc::new(header.initial.clone());
    if let Err(error) = check_resumable(journal_path, &contents, &header, program) {
        return machine.unreachable(error);
    }
    let now = match connector.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => return machine.unreachable(RuntimeError::Connector(error)),
    };
    match Journal::open_append(journal_path) {
        Ok(journal) => machine.journal = Some(journal),
        Err(error) => return machine.unreachable(error),
    }
    machine.replay = Replay::from_journal(&contents);
    machine.activated_by_run = machine.replay.activated.clone();
    machine.params = header.params.clone();
    machine.emit(EventKind::RunStarted {
        run_id: header.run_id.clone(),
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: now.clone(),
        journal: machine.journal_display(),
        resumed: true,
    });
    machine.emit_target_warnings();
    if let Err(error) = machine.journal(Record::Resumed {
        ts: super::events::now_rfc3339(),
        snapshot: now,
    }) {
        return machine.finish(Err(Abort::Fatal(error))).await;
    }
    let result = machine.run_program(header.what_if.as_deref()).await;
    machine.finish(result).await
}

/// The position of the What-if `name` among the main file's handlers, as
/// `--what-if NAME` names it; the CLI checks it before anything runs.
pub fn what_if_index(program: &Program, name: &str) -> Result<usize, RuntimeError> {
    let what_ifs = &program.main_file().ast.what_ifs;
    if let Some(index) = what_ifs.iter().position(|handler| handler.id.name == name) {
        return Ok(index);
    }
    if what_ifs.is_empty() {
        return Err(RuntimeError::NoWhatIfs {
            name: name.to_string(),
        });
    }
    Err(RuntimeError::UnknownWhatIf {
        name: name.to_string(),
        available: what_ifs
            .iter()
            .map(|handler| handler.id.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks the `--set` values against the main file's parameters before
/// anything runs: every name is a parameter (else the closest one is
/// suggested), every value has the parameter's type. A usage error, so no
/// journal is written for a run that could never start.
pub fn check_params(
    program: &Program,
    params: &BTreeMap<String, String>,
) -> Result<(), RuntimeError> {
    let ast = &program.main_file().ast;
    for (name, text) in params {
        let Some(param) = ast.params.iter().find(|param| param.name.name == *name) else {
            let closest = ast
                .params
                .iter()
                .map(|param| {
                    (
                        strsim::levenshtein(name, &param.name.name),
                        &param.name.name,
                    )
                })
                .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
                .min()
                .map(|(_, candidate)| format!("did you mean `{candidate}`? "))
                .unwrap_or_default();
            let known = ast
                .params
                .iter()
                .map(|param| format!("`{}`", param.name.name))
                .collect::<Vec<_>>();
            return Err(RuntimeError::Parameter {
                name: name.clone(),
                reason: format!(
                    "`{}` has no such parameter: {closest}its parameters are {}",
                    ast.name.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        eval::parse_param(param.ty, text).map_err(|reason| RuntimeError::Parameter {
            name: name.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// The id and source hash of every step of the program, in source order.
pub fn step_fingerprints(program: &Program) -> Vec<SourceHash> {
    program
        .files
        .iter()
        .flat_map(|file| {
            file.ast
                .steps()
                .into_iter()
                .map(move |step| SourceHash::of(step.id.name.clone(), step.span.text(&file.text)))
        })
        .collect()
}

/// Refuses a resume that cannot be done safely.
fn check_resumable(
    journal_path: &Path,
    contents: &JournalContents,
    header: &RunHeader,
    program: &Program,
) -> Result<(), RuntimeError> {
    let journal = journal_path.display().to_string();
    let refuse = |reason: String, help: &str| RuntimeError::ResumeRefused {
        journal: journal.clone(),
        reason,
        help: help.to_string(),
    };
    if let Some(Record::RunFinished {
        outcome,
        message,
        resumable: false,
        ..
    }) = contents
        .records
        .iter()
        .rev()
        .find(|record| matches!(record, Record::RunFinished { .. } | Record::Resumed { .. }))
    {
        return Err(refuse(
            format!(
                "the run already ended ({}): {message}",
                serde_json::to_value(outcome)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
            "start a new run with `runbook run`",
        ));
    }
    let unchanged = header.sources.len() == program.files.len()
        && header
            .sources
            .iter()
            .zip(program.hashes())
            .all(|(old, new)| old.sha256 == new.sha256);
    if unchanged {
        return Ok(());
    }
    // The runbook changed: resuming is still sound when every step already
    // done keeps its place and the half-done step is unchanged.
    let new_steps = step_fingerprints(program);
    let position = |id: &str| new_steps.iter().position(|step| step.file == id);
    let replay = Replay::from_journal(contents);
    let mut last_position = None;
    for key in &replay.order {
        let Some(at) = position(&key.id) else {
            return Err(refuse(
                format!(
                    "step `{}`, already run, is no longer in the runbook",
                    key.id
                ),
                "restore the runbook as it was when the run started, or start a new run",
            ));
        };
        if last_position.is_some_and(|last| at < last) {
            return Err(refuse(
                format!(
                    "the steps already run are no longer in the same order (`{}` moved)",
                    key.id
                ),
                "restore the runbook as it was when the run started, or start a new run",
            ));
        }
        last_position = Some(at);
    }
    for (key, status) in &replay.steps {
        if *status == StepStatus::Completed {
            continue;
        }
        let old = header.steps.iter().find(|step| step.file == key.id);
        let new = new_steps.iter().find(|step| step.file == key.id);
        if old.map(|step| &step.sha256) != new.map(|step| &step.sha256) {
            return Err(refuse(
                format!(
                    "step `{}` was interrupted half-way and has changed since",
                    key.id
                ),
                "restore that step as it was, or check the cluster by hand and start a new run",
            ));
        }
    }
    Ok(())
}

/// What a resumed run knows from the journal.
#[derive(Debug, Default)]
struct Replay {
    /// The status of each step instance that started.
    steps: HashMap<StepKey, StepStatus>,
    /// Step instances in the order they first started.
    order: Vec<StepKey>,
    /// Answers given, by step, prompt id and occurrence.
    prompts: HashMap<(Option<StepKey>, String, u32), Answer>,
    /// Decisions made outside steps, in order.
    decisions: Vec<(String, Value)>,
    /// The next decision to replay.
    cursor: usize,
    /// How many decisions the journal already holds (the next seq).
    recorded: u64,
    /// Operations sent but never seen returning (the run died meanwhile).
    in_flight: Vec<Operation>,
    /// Servers the run made Active before the interruption.
    activated: HashSet<String>,
    /// Where each completed step instance ended: what a time window
    /// anchored on it is measured from after the resume.
    ends: HashMap<StepKey, JournaledEnd>,
    /// Which clock the journal's `clock_seconds` read (none: an old journal).
    clock: Option<ClockKind>,
}

/// The end of a step instance as the journal holds it.
#[derive(Debug, Clone)]
struct JournaledEnd {
    /// The target's clock, in seconds.
    clock_seconds: Option<f64>,
    /// The record's timestamp (RFC 3339).
    ts: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepStatus {
    Started,
    Completed,
}

impl Replay {
    fn from_journal(contents: &JournalContents) -> Self {
        let mut replay = Replay::default();
        for record in &contents.records {
            match record {
                Record::StepStarted { step, .. } => {
                    if !replay.steps.contains_key(step) {
                        replay.order.push(step.clone());
                    }
                    replay.steps.insert(step.clone(), StepStatus::Started);
                }
                Record::RunHeader { header, .. } => replay.clock = header.clock,
                Record::StepFinished {
                    ts,
                    step,
                    outcome,
                    clock_seconds,
                    ..
                } => {
                    let status = match outcome {
                        JournalOutcome::Ok | JournalOutcome::Skipped => StepStatus::Completed,
                        JournalOutcome::Failed | JournalOutcome::Interrupted => StepStatus::Started,
                    };
                    replay.steps.insert(step.clone(), status);
                    if *outcome == JournalOutcome::Ok {
                        replay.ends.insert(
                            step.clone(),
                            JournaledEnd {
                                clock_seconds: Some(*clock_seconds),
                                ts: ts.clone(),
                            },
                        );
                    }
                }
                Record::WhatIfFinished {
                    ts,
                    step: Some(step),
                    resolution,
                    clock_seconds,
                    ..
                } => {
                    let status = match resolution {
                        WhatIfResolution::Continue => StepStatus::Completed,
                        WhatIfResolution::Retry => StepStatus::Started,
                    };
                    replay.steps.insert(step.clone(), status);
                    if *resolution == WhatIfResolution::Continue {
                        replay.ends.insert(
                            step.clone(),
                            JournaledEnd {
                                clock_seconds: *clock_seconds,
                                ts: ts.clone(),
                            },
                        );
                    }
                }
                // A declined confirmation is asked again: the operator may now agree.
                Record::PromptAnswered {
                    step,
                    id,
                    occurrence,
                    answer,
                    ..
                } if *answer != Answer::Bool(false) => {
                    replay
                        .prompts
                        .insert((step.clone(), id.clone(), *occurrence), answer.clone());
                }
                Record::Decision { what, value, .. } => {
                    if let Ok(value) = serde_json::from_value::<Value>(value.clone()) {
                        replay.decisions.push((what.clone(), value));
                    }
                    replay.recorded += 1;
                }
                Record::OperationStarted { operation, .. } => {
                    replay.in_flight.push(operation.clone())
                }
                Record::OperationFinished { operation, ok, .. } => {
                    if let Some(at) = replay.in_flight.iter().rposition(|sent| sent == operation) {
                        replay.in_flight.remove(at);
                    }
                    if *ok && observe::activates(operation) {
                        replay.activated.insert(operation.server().to_string());
                    }
                }
                _ => {}
            }
        }
        replay
    }
}

/// Why execution left the normal path.
#[derive(Debug)]
enum Abort {
    /// A step failure a `failed(STEP)` handler can catch.
    Failure(Box<Failure>),
    /// A What-if condition fired: (file, handler index, reason).
    WhatIf(usize, usize, String),
    /// `stop "..."`.
    Stop(String),
    /// The operator declined a confirmation.
    Declined(String),
    /// `fail "..."`.
    Fail(String, usize, Span),
    /// `retry` (only meaningful in a What-if body).
    Retry(usize, Span),
    /// An error that ends the run.
    Fatal(RuntimeError),
    /// Ctrl-C (or the test hook): stop before the next step, or, when it
    /// says where (e.g. "at prompt `ID`"), in the middle of the step under way.
    Interrupted(Option<String>),
    /// The test hook that simulates `kill -9`.
    Crash,
}

#[derive(Debug)]
struct Failure {
    reason: String,
    label: String,
    file: usize,
    span: Span,
    help: Option<String>,
    /// For a `wait` timeout: the condition and the limit.
    wait: Option<(String, String)>,
    /// The code of the connector error behind the failure, if any
    /// (`runbook::connector::...`).
    cause_code: Option<String>,
}

impl Abort {
    fn failure(
        reason: impl Into<String>,
        label: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Self {
        Abort::Failure(Box::new(Failure {
            reason: reason.into(),
            label: label.into(),
            file,
            span,
            help: None,
            wait: None,
            cause_code: None,
        }))
    }

    /// The failure caused by a connector error, which keeps its code.
    fn connector_failure(
        reason: impl Into<String>,
        label: impl Into<String>,
        file: usize,
        span: Span,
        error: &ConnectorError,
    ) -> Self {
        match Abort::failure(reason, label, file, span) {
            Abort::Failure(mut failure) => {
                failure.cause_code = connector_code(error);
                Abort::Failure(failure)
            }
            other => other,
        }
    }

    /// The failure with a help line (nothing changes for other aborts).
    fn with_help(self, help: Option<String>) -> Self {
        match self {
            Abort::Failure(mut failure) => {
                failure.help = help.or(failure.help);
                Abort::Failure(failure)
            }
            other => other,
        }
    }

    fn from_eval(error: EvalError, file: usize) -> Self {
        Abort::Failure(Box::new(Failure {
            reason: error.message,
            label: String::from("evaluated here"),
            file,
            span: error.span,
            help: error.help,
            wait: None,
            cause_code: None,
        }))
    }
}

/// Variables of one file's invocation, innermost scope last.
#[derive(Debug, Clone)]
struct Frame {
    file: usize,
    scopes: Vec<HashMap<String, Value>>,
}

impl Frame {
    fn new(file: usize, params: HashMap<String, Value>) -> Self {
        Self {
            file,
            scopes: vec![params],
        }
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).cloned())
    }

    fn bind(&mut self, name: String, value: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name, value);
        }
    }
}

/// Where a step ended, for the time windows measured from it.
#[derive(Debug, Clone)]
enum StepEnd {
    /// In this process: the connector's clock at its end.
    Here(Duration),
    /// Before the run was resumed, as the journal holds it.
    Journaled(JournaledEnd),
}

/// How long ago a step ended, and on which clock that was measured when it
/// ended before a resume.
#[derive(Debug, Clone, Copy)]
struct Since {
    elapsed: Duration,
    across_resume: Option<&'static str>,
}

/// The step being run.
#[derive(Debug)]
struct StepContext {
    key: StepKey,
    file: usize,
    span: Span,
    /// The variables when the step started: what a What-if body sees.
    frame: Frame,
    /// Handlers already fired for this step instance (each fires once).
    fired: HashSet<(usize, usize)>,
    /// Resumed half-done: operations whose effect is already visible are skipped.
    redo: bool,
}

type Exec<'a> = Pin<Box<dyn Future<Output = Result<(), Abort>> + 'a>>;

struct Machine<'p> {
    program: &'p Program,
    connector: &'p dyn Connector,
    sink: &'p mut dyn EventSink,
    prompter: &'p mut dyn Prompter,
    journal: Option<Journal>,
    run_id: String,
    params: BTreeMap<String, String>,
    initial: Arc<Snapshot>,
    live: Option<Arc<Snapshot>>,
    /// The target's split-brain report read since the cluster last could
    /// have changed (cleared with `live`), so that the check after one
    /// operation and the record before the next share one read.
    live_split_brain: Option<Option<Vec<String>>>,
    step_occurrences: HashMap<String, u32>,
    prompt_counts: HashMap<(Option<StepKey>, String), u32>,
    current_step: Option<StepContext>,
    in_what_if: bool,
    /// Where the last instance of each step id ended (time windows).
    step_ends: HashMap<String, StepEnd>,
    /// Per server, how many discarded changes the operator already agreed
    /// to lose in this process: a later step that discards no more than
    /// that is announced again but not asked again.
    confirmed_discards: HashMap<String, u64>,
    replay: Replay,
    warnings: Vec<RuntimeError>,
    interrupt: Arc<AtomicBool>,
    steps_finished: usize,
    operations_done: usize,
    stop_after_steps: Option<usize>,
    crash_after_operations: Option<usize>,
    last_step_failed: Option<String>,
    /// Servers the run itself made Active (`activate`, `force-activate`):
    /// their activation is not a surprise for `standby-activated`.
    activated_by_run: HashSet<String>,
}

impl<'p> Machine<'p> {
    fn new(
        program: &'p Program,
        connector: &'p dyn Connector,
        sink: &'p mut dyn EventSink,
        prompter: &'p mut dyn Prompter,
        settings: &RunSettings,
        run_id: String,
    ) -> Self {
        Self {
            program,
            connector,
            sink,
            prompter,
            journal: None,
            run_id,
            params: settings.params.clone(),
            initial: Arc::new(Snapshot::default()),
            live: None,
            live_split_brain: None,
            step_occurrences: HashMap::new(),
            prompt_counts: HashMap::new(),
            current_step: None,
            in_what_if: false,
            step_ends: HashMap::new(),
            confirmed_discards: HashMap::new(),
            replay: Replay::default(),
            warnings: Vec::new(),
            interrupt: Arc::clone(&settings.interrupt),
            steps_finished: 0,
            operations_done: 0,
            stop_after_steps: settings.stop_after_steps,
            crash_after_operations: settings.crash_after_operations,
            last_step_failed: None,
            activated_by_run: HashSet::new(),
        }
    }

    fn emit(&mut self, kind: EventKind) {
        self.sink.emit(Event::now(kind));
    }

    fn journal(&mut self, record: Record) -> Result<(), RuntimeError> {
        match &mut self.journal {
            Some(journal) => journal.append(&record),
            None => Ok(()),
        }
    }

    fn journal_or_abort(&mut self, record: Record) -> Result<(), Abort> {
        self.journal(record).map_err(Abort::Fatal)
    }

    /// Forces the journal to disk: before an operation is sent and before
    /// the run waits (see the durability notes in [`super::journal`]).
    fn sync_journal(&mut self) -> Result<(), Abort> {
        match &mut self.journal {
            Some(journal) => journal.sync().map_err(Abort::Fatal),
            None => Ok(()),
        }
    }

    fn journal_display(&self) -> Option<String> {
        self.journal
            .as_ref()
            .map(|journal| journal.path().display().to_string())
    }

    fn resume_command(&self) -> Option<String> {
        self.journal_display()
            .map(|path| format!("runbook resume {}", shell_quote(&path)))
    }

    /// The connector's warnings about how the target is reached (TLS
    /// verification off...), right after `run_started`.
    fn emit_target_warnings(&mut self) {
        for warning in self.connector.warnings() {
            self.emit(EventKind::Warning {
                code: warning.code,
                message: warning.message,
            });
        }
    }

    /// Ends a run that could not start: `run_started` then `run_finished`, exit 2.
    fn unreachable(&mut self, error: RuntimeError) -> RunReport {
        let message = error.to_string();
        self.emit(EventKind::RunStarted {
            run_id: self.run_id.clone(),
            runbook: self.program.name().to_string(),
            target: self.connector.describe(),
            cluster: Snapshot::default(),
            journal: None,
            resumed: false,
        });
        self.emit_target_warnings();
        self.emit(EventKind::RunFinished {
            outcome: RunOutcome::Failed,
            message: message.clone(),
            cluster: Snapshot::default(),
            resume: None,
            cause_code: None,
        });
        RunReport {
            outcome: RunOutcome::Failed,
            message,
            error: Some(error),
            warnings: Vec::new(),
            cluster: Snapshot::default(),
            journal: None,
            resume_command: None,
            unreachable_before_start: true,
            crashed: false,
        }
    }

    /// Turns the result of the program into the report, journaling and
    /// emitting `run_finished` (always the last event).
    async fn finish(&mut self, result: Result<(), Abort>) -> RunReport {
        if matches!(result, Err(Abort::Crash)) {
            return RunReport {
                outcome: RunOutcome::Failed,
                message: String::from("the run ended abruptly (simulated kill)"),
                error: None,
                warnings: std::mem::take(&mut self.warnings),
                cluster: self.connector.snapshot().await.unwrap_or_default(),
                journal: self
                    .journal
                    .as_ref()
                    .map(|journal| journal.path().to_path_buf()),
                resume_command: self.resume_command(),
                unreachable_before_start: false,
                crashed: true,
            };
        }
        let cluster = self.connector.snapshot().await.unwrap_or_default();
        let table = cluster_table(&cluster);
        let resume = self.resume_command();
        let cause_code = match &result {
            Err(Abort::Failure(failure)) => failure.cause_code.clone(),
            _ => None,
        };
        let (outcome, message, error, resumable) = match result {
            Ok(()) => (
                RunOutcome::Succeeded,
                format!("{} completed", self.program.name()),
                None,
                false,
            ),
            // A planned stop tells the operator how to continue: once that is
            // done, `runbook resume` runs the interrupted step again.
            Err(Abort::Stop(message)) => (RunOutcome::Stopped, message, None, true),
            Err(Abort::Declined(id)) => (
                RunOutcome::Stopped,
                format!("the operator declined `{id}`"),
                None,
                true,
            ),
            Err(Abort::Interrupted(at)) => (
                RunOutcome::Stopped,
                match at {
                    None => String::from("interrupted; the current step was finished and journaled"),
                    Some(at) => format!(
                        "interrupted {at}; the step under way was journaled as interrupted and runs again on resume"
                    ),
                },
                Some(RuntimeError::Interrupted {
                    resume: resume
                        .clone()
                        .map(|command| format!("continue with `{command}`"))
                        .unwrap_or_else(|| String::from("the run had no journal; start it again")),
                }),
                true,
            ),
            Err(Abort::Fail(message, file, span)) => {
                let source = self.program.file(file);
                (
                    RunOutcome::Failed,
                    message.clone(),
                    Some(RuntimeError::FailStatement {
                        message,
                        source_code: source.source_text(),
                        span: span.into(),
                        help: format!("cluster at that moment:\n{table}"),
                    }),
                    false,
                )
            }
            Err(Abort::Failure(failure)) => {
                let error = self.failure_error(*failure, &table, resume.as_deref());
                (RunOutcome::Failed, error.to_string(), Some(error), true)
            }
            Err(Abort::Retry(file, span)) => {
                let source = self.program.file(file);
                let error = RuntimeError::Evaluation {
                    message: String::from("`retry` outside a What-if handler"),
                    source_code: source.source_text(),
                    span: span.into(),
                    help: Some(String::from(
                        "`retry` runs the interrupted step again; it belongs in a What-if body",
                    )),
                };
                (RunOutcome::Failed, error.to_string(), Some(error), false)
            }
            Err(Abort::WhatIf(_, _, reason)) => (RunOutcome::Failed, reason, None, true),
            // A `--what-if` that names no handler fails the same way on resume.
            Err(Abort::Fatal(
                error @ (RuntimeError::UnknownWhatIf { .. } | RuntimeError::NoWhatIfs { .. }),
            )) => (RunOutcome::Failed, error.to_string(), Some(error), false),
            Err(Abort::Fatal(error)) => (RunOutcome::Failed, error.to_string(), Some(error), true),
            Err(Abort::Crash) => (RunOutcome::Failed, String::new(), None, true),
        };
        let resumable = resumable && resume.is_some();
        // A journal that cannot be written any more is already reported by `error`.
        let _ = self.journal(Record::RunFinished {
            ts: super::events::now_rfc3339(),
            outcome,
            message: message.clone(),
            resumable,
        });
        let _ = self.sync_journal();
        let resume = if resumable { resume } else { None };
        self.emit(EventKind::RunFinished {
            outcome,
            message: message.clone(),
            cluster: cluster.clone(),
            resume: resume.clone(),
            cause_code,
        });
        RunReport {
            outcome,
            message,
            error,
            warnings: std::mem::take(&mut self.warnings),
            cluster,
            journal: self
                .journal
                .as_ref()
                .map(|journal| journal.path().to_path_buf()),
            resume_command: resume,
            unreachable_before_start: false,
            crashed: false,
        }
    }

    fn failure_error(&self, failure: Failure, table: &str, resume: Option<&str>) -> RuntimeError {
        let source = self.program.file(failure.file);
        let step = self
            .last_step_failed
            .clone()
            .unwrap_or_else(|| String::from("(outside any step)"));
        let mut help = String::new();
        if let Some(code) = &failure.cause_code {
            help.push_str(&format!(
                "the target reported `{code}`: see `runbook explain {code}`\n"
            ));
        }
        if let Some(extra) = &failure.help {
            help.push_str(extra);
            help.push('\n');
        }
        let applicable = self.applicable_what_ifs(&step);
        if !applicable.is_empty() {
            help.push_str(&format!(
                "this step is watched by What-if {}; to run one alone: `runbook run {} --what-if {}`\n",
                applicable
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.program.reference,
                applicable[0]
            ));
        }
        match resume {
            Some(command) => {
                help.push_str(&format!("fix the cause, then continue with `{command}`\n"))
            }
            None => help.push_str("fix the cause, then run the runbook again\n"),
        }
        help.push_str(&format!("cluster at that moment:\n{table}"));
        match failure.wait {
            Some((condition, timeout)) => RuntimeError::WaitTimeout {
                step,
                condition,
                timeout,
                source_code: source.source_text(),
                span: failure.span.into(),
                help,
            },
            None => RuntimeError::StepFailed {
                step,
                reason: failure.reason,
                source_code: source.source_text(),
                span: failure.span.into(),
                label: failure.label,
                cause_code: failure.cause_code,
                help,
            },
        }
    }

    /// What-if handlers that name `step` (in `failed(...)` or `during`).
    fn applicable_what_ifs(&self, step: &str) -> Vec<String> {
        self.program
            .files
            .iter()
            .flat_map(|file| file.ast.what_ifs.iter())
            .filter(|what_if| {
                what_if.during.iter().any(|id| id.name == step)
                    || what_if
                        .triggers
                        .iter()
                        .any(|trigger| matches!(&trigger.kind, TriggerKind::Failed(id) if id.name == step))
            })
            .map(|what_if| what_if.id.name.clone())
            .collect()
    }

    // ----- the program -----

    async fn run_program(&mut self, what_if: Option<&str>) -> Result<(), Abort> {
        let main = self.program.main;
        let params = self.bind_params(main)?;
        let mut frame = Frame::new(main, params);
        let file = &self.program.main_file().ast;
        match what_if {
            None => self.exec_stmts(&file.body, &mut frame).await,
            Some(name) => {
                let index = what_if_index(self.program, name).map_err(Abort::Fatal)?;
                // The handler sees the top-level bindings, as it would mid-run.
                for stmt in &file.body {
                    if let StmtKind::Let { .. } = stmt.kind {
                        self.exec_stmt(stmt, &mut frame).await?;
                    }
                }
                self.run_what_if_directly(main, index, frame).await
            }
        }
    }

    async fn run_what_if_directly(
        &mut self,
        file: usize,
        index: usize,
        frame: Frame,
    ) -> Result<(), Abort> {
        let handler = &self.program.file(file).ast.what_ifs[index];
        let key = self.next_step_key(&handler.id.name);
        if self.replay.steps.get(&key) == Some(&StepStatus::Completed) {
            return Ok(());
        }
        let snapshot = self.observe_at(file, handler.span).await?;
        self.journal_or_abort(Record::StepStarted {
            ts: super::events::now_rfc3339(),
            step: key.clone(),
            snapshot: (*snapshot).clone(),
            clock_seconds: self.connector.clock().as_secs_f64(),
        })?;
        let line = self.program.file(file).line_of(handler.span.start);
        self.emit(EventKind::StepStarted {
            step: handler.id.name.clone(),
            title: handler.title.value.clone(),
            file: self.program.file(file).name.clone(),
            line,
            number: None,
        });
        self.emit(EventKind::WhatIf {
            name: handler.id.name.clone(),
            reason: String::from("run directly with --what-if"),
        });
        self.current_step = Some(StepContext {
            key: key.clone(),
            file,
            span: handler.span,
            frame: frame.clone(),
            fired: HashSet::new(),
            redo: self.replay.steps.contains_key(&key),
        });
        self.in_what_if = true;
        let mut frame = frame;
        let result = self.run_handler_body(handler, &mut frame).await;
        self.in_what_if = false;
        let result = match result {
            Err(Abort::Retry(..)) => Ok(()),
            other => other,
        };
        self.end_step(&key, &result.as_ref().map(|_| ()).map_err(abort_ref))
            .await?;
        self.current_step = None;
        result
    }

    fn bind_params(&mut self, file: usize) -> Result<HashMap<String, Value>, Abort> {
        // The CLI checked them before anything ran; a library caller may not have.
        check_params(self.program, &self.params).map_err(Abort::Fatal)?;
        let ast = &self.program.file(file).ast;
        let mut values = HashMap::new();
        for param in &ast.params {
            let value = match self.params.get(&param.name.name) {
                Some(text) => eval::parse_param(param.ty, text).map_err(|reason| {
                    Abort::Fatal(RuntimeError::Parameter {
                        name: param.name.name.clone(),
                        reason,
                    })
                })?,
                None => match &param.default {
                    Some(default) => self.eval_static(default, file)?,
                    None => {
                        return Err(Abort::Fatal(RuntimeError::Parameter {
                            name: param.name.name.clone(),
                            reason: format!(
                                "it has no default; give it with `--set {}=VALUE`",
                                param.name.name
                            ),
                        }))
                    }
                },
            };
            values.insert(param.name.name.clone(), value);
        }
        Ok(values)
    }

    /// Evaluates an expression that needs no cluster (a parameter default).
    fn eval_static(&mut self, expr: &ast::Expr, file: usize) -> Result<Value, Abort> {
        let frame = Frame::new(file, HashMap::new());
        let snapshot = Arc::clone(&self.initial);
        self.eval_with(expr, &frame, snapshot)
    }

    fn exec_stmts<'a>(&'a mut self, stmts: &'p [Stmt], frame: &'a mut Frame) -> Exec<'a> {
        Box::pin(async move {
            for stmt in stmts {
                self.exec_stmt(stmt, frame).await?;
            }
            Ok(())
        })
    }

    fn exec_block<'a>(&'a mut self, block: &'p ast::Block, frame: &'a mut Frame) -> Exec<'a> {
        Box::pin(async move {
            frame.scopes.push(HashMap::new());
            let result = self.exec_stmts(&block.stmts, frame).await;
            frame.scopes.pop();
            result
        })
    }

    fn exec_stmt<'a>(&'a mut self, stmt: &'p Stmt, frame: &'a mut Frame) -> Exec<'a> {
        Box::pin(async move {
            let file = frame.file;
            match &stmt.kind {
                StmtKind::Let { name, value } => {
                    let is_prompt = matches!(value.kind, ExprKind::Select { .. });
                    let what = format!("let {}", name.name);
                    let value = if is_prompt {
                        self.eval(value, frame).await?
                    } else {
                        self.decide(&what, value, frame).await?
                    };
                    frame.bind(name.name.clone(), value);
                    Ok(())
                }
                StmtKind::Step(step) => self.exec_step(step, frame).await,
                StmtKind::Note { text } => {
                    self.emit(EventKind::Note {
                        message: text.value.clone(),
                    });
                    Ok(())
                }
                StmtKind::Warning { text } => {
                    self.emit(EventKind::Warning {
                        code: String::from("runbook::run::runbook_warning"),
                        message: text.value.clone(),
                    });
                    Ok(())
                }
                StmtKind::Operation(call) => self.exec_operation(call, frame).await,
                StmtKind::Confirm { id, text } => {
                    let answer = self.prompt(
                        PromptRequest {
                            id: id.name.clone(),
                            text: text.value.clone(),
                            kind: PromptKind::Confirm,
                        },
                        file,
                        stmt.span,
                    )?;
                    match answer {
                        Answer::Bool(true) => Ok(()),
                        _ => Err(Abort::Declined(id.name.clone())),
                    }
                }
                StmtKind::Choose(choose) => {
                    let options = choose
                        .options
                        .iter()
                        .map(|option| ChoiceOption {
                            name: option.name.name.clone(),
                            label: option.label.value.clone(),
                            is_default: option.is_default,
                        })
                        .collect();
                    let answer = self.prompt(
                        PromptRequest {
                            id: choose.id.name.clone(),
                            text: choose.text.value.clone(),
                            kind: PromptKind::Choose(options),
                        },
                        file,
                        choose.span,
                    )?;
                    let chosen = choose
                        .options
                        .iter()
                        .find(|option| Answer::Text(option.name.name.clone()) == answer);
                    match chosen {
                        Some(option) => {
                            if let Some(server_expr) = &option.discards_changes_on {
                                let subject = format!(
                                    "option `{}` of `{}`",
                                    option.name.name, choose.id.name
                                );
                                let prompt_id = format!(
                                    "{}.{}.discard-changes",
                                    choose.id.name, option.name.name
                                );
                                self.check_discarded_changes(
                                    &subject,
                                    prompt_id,
                                    server_expr,
                                    frame,
                                )
                                .await?;
                            }
                            self.exec_block(&option.body, frame).await
                        }
                        None => Err(Abort::failure(
                            format!("no option of `{}` was chosen", choose.id.name),
                            "this choice",
                            file,
                            choose.span,
                        )),
                    }
                }
                StmtKind::Record { id, text } => {
                    let answer = self.prompt(
                        PromptRequest {
                            id: id.name.clone(),
                            text: text.value.clone(),
                            kind: PromptKind::Record,
                        },
                        file,
                        stmt.span,
                    )?;
                    let text = match answer {
                        Answer::Text(text) => text,
                        Answer::Bool(flag) => flag.to_string(),
                    };
                    frame.bind(id.name.replace('-', "_"), Value::String(text));
                    Ok(())
                }
                StmtKind::Check { condition, message } => {
                    let holds = self
                        .decide(&format!("check at {}", stmt.span.start), condition, frame)
                        .await?;
                    let holds = expect_bool(holds, condition.span)
                        .map_err(|error| Abort::from_eval(error, file))?;
                    if holds {
                        Ok(())
                    } else {
                        Err(Abort::failure(
                            message.value.clone(),
                            "this check did not hold",
                            file,
                            stmt.span,
                        ))
                    }
                }
                StmtKind::Wait {
                    condition,
                    timeout,
                    every,
                } => {
                    self.exec_wait(
                        stmt.span,
                        condition,
                        timeout.as_ref(),
                        every.as_ref(),
                        frame,
                    )
                    .await
                }
                StmtKind::If(if_stmt) => {
                    let mut taken = None;
                    if self.current_step.is_none()
                        && self.replay.cursor < self.replay.decisions.len()
                    {
                        if let Value::Number(index) = self.replayed("if", file, stmt.span)? {
                            taken = Some(index as usize);
                        }
                    } else {
                        for (index, branch) in if_stmt.branches.iter().enumerate() {
                            let value = self.eval(&branch.condition, frame).await?;
                            if expect_bool(value, branch.condition.span)
                                .map_err(|error| Abort::from_eval(error, file))?
                            {
                                taken = Some(index);
                                break;
                            }
                        }
                        let index = taken.unwrap_or(if_stmt.branches.len());
                        self.record_decision("if", Value::Number(index as u64))?;
                        taken = Some(index);
                    }
                    match taken.and_then(|index| if_stmt.branches.get(index)) {
                        Some(branch) => self.exec_block(&branch.body, frame).await,
                        None => match &if_stmt.otherwise {
                            Some(otherwise) => self.exec_block(otherwise, frame).await,
                            None => Ok(()),
                        },
                    }
                }
                StmtKind::For { var, list, body } => {
                    let servers = self.decide("for", list, frame).await?;
                    let servers = expect_servers(servers, list.span)
                        .map_err(|error| Abort::from_eval(error, file))?;
                    for server in servers {
                        frame
                            .scopes
                            .push(HashMap::from([(var.name.clone(), Value::Server(server))]));
                        let result = self.exec_block(body, frame).await;
                        frame.scopes.pop();
                        result?;
                    }
                    Ok(())
                }
                StmtKind::Call(call) => self.exec_call(call, frame).await,
                StmtKind::Stop { message } => Err(Abort::Stop(message.value.clone())),
                StmtKind::Fail { message } => {
                    Err(Abort::Fail(message.value.clone(), file, stmt.span))
                }
                StmtKind::Retry => Err(Abort::Retry(file, stmt.span)),
            }
        })
    }

    async fn exec_call(&mut self, call: &'p ast::Call, frame: &mut Frame) -> Result<(), Abort> {
        let file = frame.file;
        let Some(callee) = self.program.callee(file, &call.target.name) else {
            return Err(Abort::failure(
                format!("nothing named `{}` can be called", call.target.name),
                "unknown procedure",
                file,
                call.span,
            ));
        };
        let callee_ast = &self.program.file(callee).ast;
        let mut params = HashMap::new();
        for arg in &call.args {
            let value = self.eval(&arg.value, frame).await?;
            params.insert(arg.name.name.clone(), value);
        }
        for param in &callee_ast.params {
            if params.contains_key(&param.name.name) {
                continue;
            }
            match &param.default {
                Some(default) => {
                    let value = self.eval_with(
                        default,
                        &Frame::new(callee, HashMap::new()),
                        Arc::clone(&self.initial),
                    )?;
                    params.insert(param.name.name.clone(), value);
                }
                None => {
                    return Err(Abort::failure(
                        format!(
                            "`{}` needs the argument `{}`",
                            call.target.name, param.name.name
                        ),
                        "missing argument",
                        file,
                        call.span,
                    ))
                }
            }
        }
        let mut callee_frame = Frame::new(callee, params);
        self.exec_stmts(&callee_ast.body, &mut callee_frame).await
    }

    async fn exec_wait(
        &mut self,
        span: Span,
        condition: &'p ast::Expr,
        timeout: Option<&'p ast::Expr>,
        every: Option<&'p ast::Expr>,
        frame: &mut Frame,
    ) -> Result<(), Abort> {
        let file = frame.file;
        let duration = |machine: &mut Self,
                        expr: Option<&'p ast::Expr>,
                        frame: &Frame|
         -> Result<Option<Duration>, Abort> {
            let Some(expr) = expr else { return Ok(None) };
            let snapshot = Arc::clone(&machine.initial);
            match machine.eval_with(expr, frame, snapshot)? {
                Value::Duration(duration) => Ok(Some(duration)),
                other => Err(Abort::failure(
                    format!("expected a duration, found a {}", other.type_name()),
                    "not a duration",
                    file,
                    expr.span,
                )),
            }
        };
        let limit = duration(self, timeout, frame)?;
        let interval = duration(self, every, frame)?
            .unwrap_or(DEFAULT_WAIT_INTERVAL)
            .max(Duration::from_millis(100));
        let text = condition
            .span
            .text(&self.program.file(file).text)
            .to_string();
        self.emit(EventKind::WaitStarted {
            condition: text.clone(),
            timeout_seconds: limit.map(|limit| limit.as_secs()),
        });
        let start = self.connector.clock();
        loop {
            self.forget_live();
            let value = self.eval(condition, frame).await?;
            let waited = self.connector.clock().saturating_sub(start);
            if expect_bool(value, condition.span).map_err(|error| Abort::from_eval(error, file))? {
                self.emit(EventKind::WaitFinished {
                    condition: text,
                    ok: true,
                    waited_seconds: waited.as_secs(),
                });
                return Ok(());
            }
            if waited >= limit.unwrap_or(MAX_UNBOUNDED_WAIT) {
                self.emit(EventKind::WaitFinished {
                    condition: text.clone(),
                    ok: false,
                    waited_seconds: waited.as_secs(),
                });
                let timeout = format_duration(limit.unwrap_or(MAX_UNBOUNDED_WAIT));
                return Err(Abort::Failure(Box::new(Failure {
                    reason: format!("`{text}` did not hold within {timeout}"),
                    label: format!("waited {timeout} for this"),
                    file,
                    span,
                    help: None,
                    wait: Some((text, timeout)),
                    cause_code: None,
                })));
            }
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(Abort::Interrupted(Some(format!(
                    "while waiting until {text}"
                ))));
            }
            self.sync_journal()?;
            self.connector.sleep(interval).await;
        }
    }

    // ----- steps -----

    fn next_step_key(&mut self, id: &str) -> StepKey {
        let occurrence = self.step_occurrences.entry(id.to_string()).or_insert(0);
        *occurrence += 1;
        StepKey {
            id: id.to_string(),
            occurrence: *occurrence,
        }
    }

    async fn exec_step(&mut self, step: &'p ast::Step, frame: &mut Frame) -> Result<(), Abort> {
        if self.current_step.is_some() {
            // A runbook called inside a step: its steps are part of this one.
            return self.exec_block(&step.body, frame).await;
        }
        if self.interrupt.load(Ordering::SeqCst)
            || self
                .stop_after_steps
                .is_some_and(|limit| self.steps_finished >= limit)
        {
            return Err(Abort::Interrupted(None));
        }
        let file = frame.file;
        let source = self.program.file(file);
        let key = self.next_step_key(&step.id.name);
        let line = source.line_of(step.span.start);
        let started = EventKind::StepStarted {
            step: step.id.name.clone(),
            title: step.title.value.clone(),
            file: source.name.clone(),
            line,
            number: step.number.as_ref().map(|number| number.text.clone()),
        };
        let status = self.replay.steps.get(&key).copied();
        if status == Some(StepStatus::Completed) {
            // A window anchored on this step is measured from its journaled end.
            if let Some(end) = self.replay.ends.get(&key) {
                self.step_ends
                    .insert(key.id.clone(), StepEnd::Journaled(end.clone()));
            }
            self.emit(started);
            self.emit(EventKind::StepFinished {
                step: step.id.name.clone(),
                outcome: StepOutcome::Skipped,
                message: Some(String::from("completed before the run was resumed")),
                cause_code: None,
            });
            return Ok(());
        }
        self.forget_live();
        let snapshot = self.observe_at(file, step.span).await?;
        // A step that had started before the interruption had its start
        // judged then: running it again on resume is not a late start.
        if let Some(window) = step.window.as_ref().filter(|_| status.is_none()) {
            self.check_window(step, window, frame)?;
        }
        self.journal_or_abort(Record::StepStarted {
            ts: super::events::now_rfc3339(),
            step: key.clone(),
            snapshot: (*snapshot).clone(),
            clock_seconds: self.connector.clock().as_secs_f64(),
        })?;
        self.emit(started.clone());
        self.current_step = Some(StepContext {
            key: key.clone(),
            file,
            span: step.span,
            frame: frame.clone(),
            fired: HashSet::new(),
            redo: status == Some(StepStatus::Started),
        });
        let result = self.run_step_body(step, frame, &started).await;
        self.current_step = None;
        if result.is_ok() {
            self.steps_finished += 1;
        }
        result
    }

    async fn run_step_body(
        &mut self,
        step: &'p ast::Step,
        frame: &mut Frame,
        started: &EventKind,
    ) -> Result<(), Abort> {
        let file = frame.file;
        let key = self
            .current_step
            .as_ref()
            .map(|context| context.key.clone())
            .unwrap_or_else(|| StepKey {
                id: step.id.name.clone(),
                occurrence: 1,
            });
        if let Some(server_expr) = &step.discards_changes_on {
            let subject = format!("step `{}`", step.id.name);
            let prompt_id = format!("{}.discard-changes", step.id.name);
            if let Err(abort) = self
                .check_discarded_changes(&subject, prompt_id, server_expr, frame)
                .await
            {
                self.end_step(&key, &Err(abort_ref(&abort))).await?;
                return Err(abort);
            }
        }
        let mut retries = 0;
        loop {
            let result = self.exec_block(&step.body, frame).await;
            let handler = match &result {
                Err(Abort::Failure(failure)) => {
                    self.failed_handler(file, &step.id.name)
                        .map(|(handler_file, index)| {
                            (
                                handler_file,
                                index,
                                format!("step `{}` failed: {}", step.id.name, failure.reason),
                            )
                        })
                }
                Err(Abort::WhatIf(handler_file, index, reason)) => {
                    Some((*handler_file, *index, reason.clone()))
                }
                _ => None,
            };
            let Some((handler_file, index, reason)) = handler else {
                if matches!(result, Err(Abort::Failure(_))) {
                    self.last_step_failed = Some(step.id.name.clone());
                }
                self.end_step(&key, &result.as_ref().map(|_| ()).map_err(abort_ref))
                    .await?;
                return result;
            };
            let step_message = match &result {
                Err(Abort::Failure(failure)) => failure.reason.clone(),
                _ => format!("interrupted: {reason}"),
            };
            let interrupted = Err(Aborted::Interrupted(step_message));
            self.end_step(&key, &interrupted).await?;
            match self.run_handler(handler_file, index, &reason, &key).await? {
                WhatIfResolution::Continue => {
                    self.step_ends
                        .insert(step.id.name.clone(), StepEnd::Here(self.connector.clock()));
                    return Ok(());
                }
                WhatIfResolution::Retry => {
                    retries += 1;
                    // Like a resumed half-done step: what already took effect is not redone.
                    if let Some(context) = &mut self.current_step {
                        context.redo = true;
                    }
                    if retries > MAX_RETRIES {
                        self.last_step_failed = Some(step.id.name.clone());
                        return Err(Abort::failure(
                            format!(
                                "`retry` ran step `{}` {MAX_RETRIES} times; giving up",
                                step.id.name
                            ),
                            "this step",
                            file,
                            step.span,
                        ));
                    }
                    self.forget_live();
                    let snapshot = self.observe_at(file, step.span).await?;
                    self.journal_or_abort(Record::StepStarted {
                        ts: super::events::now_rfc3339(),
                        step: key.clone(),
                        snapshot: (*snapshot).clone(),
                        clock_seconds: self.connector.clock().as_secs_f64(),
                    })?;
                    self.emit(started.clone());
                }
            }
        }
    }

    /// Journals and emits the end of a step.
    async fn end_step(&mut self, key: &StepKey, result: &Result<(), Aborted>) -> Result<(), Abort> {
        let mut cause_code = None;
        let (outcome, journal_outcome, message) = match result {
            Ok(()) => (StepOutcome::Ok, JournalOutcome::Ok, None),
            Err(Aborted::Stopped(message)) => {
                (StepOutcome::Ok, JournalOutcome::Ok, Some(message.clone()))
            }
            Err(Aborted::Interrupted(message)) => (
                StepOutcome::Failed,
                JournalOutcome::Interrupted,
                Some(message.clone()),
            ),
            Err(Aborted::Failed(message, code)) => {
                cause_code.clone_from(code);
                (
                    StepOutcome::Failed,
                    JournalOutcome::Failed,
                    Some(message.clone()),
                )
            }
            Err(Aborted::Crashed) => return Err(Abort::Crash),
        };
        self.forget_live();
        if self.journal.is_some() {
            let snapshot = self.connector.snapshot().await.unwrap_or_default();
            self.journal_or_abort(Record::StepFinished {
                ts: super::events::now_rfc3339(),
                step: key.clone(),
                outcome: journal_outcome,
                message: message.clone(),
                snapshot,
                clock_seconds: self.connector.clock().as_secs_f64(),
            })?;
        }
        if outcome == StepOutcome::Ok {
            self.step_ends
                .insert(key.id.clone(), StepEnd::Here(self.connector.clock()));
        }
        self.emit(EventKind::StepFinished {
            step: key.id.clone(),
            outcome,
            message,
            cause_code,
        });
        Ok(())
    }

    fn check_window(
        &mut self,
        step: &'p ast::Step,
        window: &'p ast::Window,
        frame: &Frame,
    ) -> Result<(), Abort> {
        let file = frame.file;
        let snapshot = Arc::clone(&self.initial);
        let Value::Duration(limit) = self.eval_with(&window.duration, frame, snapshot)? else {
            return Err(Abort::failure(
                "a window is a duration",
                "not a duration",
                file,
                window.duration.span,
            ));
        };
        let Some(since) = self
            .step_ends
            .get(&window.after.name)
            .and_then(|end| self.since(end))
        else {
            return Ok(());
        };
        if since.elapsed > limit {
            let error = RuntimeError::WindowExceeded {
                step: step.id.name.clone(),
                after: window.after.name.clone(),
                window: format_duration(limit),
                elapsed: format_duration(since.elapsed),
                measured: since
                    .across_resume
                    .map(|clock| format!(" (before the run was resumed; measured on {clock})"))
                    .unwrap_or_default(),
                source_code: self.program.file(file).source_text(),
                span: window.span.into(),
            };
            self.emit(EventKind::Warning {
                code: String::from("runbook::run::window_exceeded"),
                message: error.to_string(),
            });
            self.warnings.push(error);
        }
        Ok(())
    }

    /// How long ago a step ended. In this process: on the connector's
    /// clock. Before a resume: on the target's clock when the journal's
    /// readings are on the same clock and it has not gone back since (the
    /// simulator's clock, restored by the resume or kept by `sim serve`; wall
    /// time for a real cluster); otherwise in wall time from the journaled
    /// timestamp. `None` when that timestamp cannot be read.
    fn since(&self, end: &StepEnd) -> Option<Since> {
        let now = self.connector.clock();
        let end = match end {
            StepEnd::Here(at) => {
                return Some(Since {
                    elapsed: now.saturating_sub(*at),
                    across_resume: None,
                })
            }
            StepEnd::Journaled(end) => end,
        };
        let kind = self.connector.clock_kind();
        if let Some(at) = end
            .clock_seconds
            .filter(|_| self.replay.clock == Some(kind))
            .map(super::journal::seconds)
            .filter(|at| *at <= now)
        {
            return Some(Since {
                elapsed: now - at,
                across_resume: Some(kind.describe()),
            });
        }
        let ended =
            time::OffsetDateTime::parse(&end.ts, &time::format_description::well_known::Rfc3339)
                .ok()?;
        let elapsed = time::OffsetDateTime::now_utc() - ended;
        Some(Since {
            elapsed: Duration::try_from(elapsed).unwrap_or_default(),
            across_resume: Some(ClockKind::Wall.describe()),
        })
    }

    /// `discards changes on EXPR` on a step, a `choose` option or a What-if
    /// (`subject` names it in the warning): counts the administrator changes
    /// made on the server since the run started, warns with the count and,
    /// when there are any, asks `prompt_id` before they are lost.
    async fn check_discarded_changes(
        &mut self,
        subject: &str,
        prompt_id: String,
        server_expr: &'p ast::Expr,
        frame: &mut Frame,
    ) -> Result<(), Abort> {
        let file = frame.file;
        let server = self.eval(server_expr, frame).await?;
        let Value::Server(server) = server else {
            return Err(Abort::failure(
                format!(
                    "`discards changes on` names a server, not a {}",
                    server.type_name()
                ),
                "not a server",
                file,
                server_expr.span,
            ));
        };
        if !self.connector.counts_changes() {
            return self
                .confirm_uncounted_changes(subject, prompt_id, &server, file, server_expr.span)
                .await;
        }
        let now = self.observe_at(file, server_expr.span).await?;
        let changes = observe::changes_since(&self.initial, &now, &server);
        self.emit(EventKind::Warning {
            code: String::from("runbook::run::discards_changes"),
            message: format!(
                "{subject} discards {changes} administrator change{} made on {server} since the run started",
                if changes == 1 { "" } else { "s" }
            ),
        });
        // Nothing to ask when the operator already agreed to lose at least
        // as many (e.g. counted before two servers became Active, and
        // counted again, unchanged, by the step that demotes one of them).
        if changes == 0
            || self
                .confirmed_discards
                .get(&server)
                .is_some_and(|&agreed| changes <= agreed)
        {
            return Ok(());
        }
        let answer = self.prompt(
            PromptRequest {
                id: prompt_id.clone(),
                text: format!(
                    "{changes} administrator change{} made on {server} since the run started will be lost. Continue?",
                    if changes == 1 { "" } else { "s" }
                ),
                kind: PromptKind::Confirm,
            },
            file,
            server_expr.span,
        )?;
        if answer == Answer::Bool(true) {
            self.confirmed_discards.insert(server, changes);
            Ok(())
        } else {
            Err(Abort::Declined(prompt_id))
        }
    }

    /// `discards changes on` against a target that cannot count changes
    /// (a real SMC publishes no count): says so, and asks the operator, who
    /// can check the audit log, once per server.
    async fn confirm_uncounted_changes(
        &mut self,
        subject: &str,
        prompt_id: String,
        server: &str,
        file: usize,
        span: Span,
    ) -> Result<(), Abort> {
        self.emit(EventKind::Warning {
            code: String::from("runbook::run::discards_changes"),
            message: format!(
                "{subject} discards the administrator changes made on {server} since the run started; this target cannot count them (the SMC API publishes no count of changes): check the audit of {server} before you continue"
            ),
        });
        if self.confirmed_discards.contains_key(server) {
            return Ok(());
        }
        let answer = self.prompt(
            PromptRequest {
                id: prompt_id.clone(),
                text: format!(
                    "Any administrator change made on {server} since the run started will be lost (they cannot be counted on this target). Continue?"
                ),
                kind: PromptKind::Confirm,
            },
            file,
            span,
        )?;
        if answer == Answer::Bool(true) {
            self.confirmed_discards.insert(server.to_owned(), u64::MAX);
            Ok(())
        } else {
            Err(Abort::Declined(prompt_id))
        }
    }

    // ----- What-if handlers -----

    /// Handlers of the running step's file and of the main file.
    fn handler_files(&self, step_file: usize) -> Vec<usize> {
        if step_file == self.program.main {
            vec![step_file]
        } else {
            vec![step_file, self.program.main]
        }
    }

    fn failed_handler(&self, step_file: usize, step: &str) -> Option<(usize, usize)> {
        let fired = self.current_step.as_ref().map(|context| &context.fired);
        self.handler_files(step_file).into_iter().find_map(|file| {
            self.program.file(file).ast.what_ifs.iter().enumerate().find_map(|(index, handler)| {
                let watches = handler
                    .triggers
                    .iter()
                    .any(|trigger| matches!(&trigger.kind, TriggerKind::Failed(id) if id.name == step));
                (watches && !fired.is_some_and(|fired| fired.contains(&(file, index)))).then_some((file, index))
            })
        })
    }

    /// After an operation: the first condition handler that fires, if any.
    async fn check_conditions(
        &mut self,
        last: &OperationRecord,
    ) -> Result<Option<(usize, usize, String)>, Abort> {
        if self.in_what_if {
            return Ok(None);
        }
        let Some(context) = &self.current_step else {
            return Ok(None);
        };
        let step_id = context.key.id.clone();
        let mut candidates = Vec::new();
        for file in self.handler_files(context.file) {
            for (index, handler) in self.program.file(file).ast.what_ifs.iter().enumerate() {
                let watching =
                    handler.during.is_empty() || handler.during.iter().any(|id| id.name == step_id);
                let has_condition = handler
                    .triggers
                    .iter()
                    .any(|trigger| !matches!(trigger.kind, TriggerKind::Failed(_)));
                if watching && has_condition && !context.fired.contains(&(file, index)) {
                    candidates.push((file, index));
                }
            }
        }
        if candidates.is_empty() {
            return Ok(None);
        }
        let (step_file, step_span) = (context.file, context.span);
        let frame = context.frame.clone();
        self.forget_live();
        let snapshot = self.observe_at(step_file, step_span).await?;
        let split_brain = self.split_brain().await;
        let new_split = observe::new_split_brain(last, &split_brain);
        for (file, index) in candidates {
            let handler = &self.program.file(file).ast.what_ifs[index];
            for trigger in &handler.triggers {
                // `upgrade-cancelled(EXPR)` names its server in the step's bindings.
                let cancelled_server = match &trigger.kind {
                    TriggerKind::UpgradeCancelled(expr) => {
                        let mut handler_frame = frame.clone();
                        handler_frame.file = if file == frame.file { frame.file } else { file };
                        match self.eval_with(expr, &handler_frame, Arc::clone(&snapshot)) {
                            Ok(Value::Server(server)) => Some(server),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let activated_by_run = |server: &str| self.activated_by_run.contains(server);
                let facts = observe::ConditionFacts {
                    initial: &self.initial,
                    now: &snapshot,
                    last,
                    new_split,
                    activated_by_run: &activated_by_run,
                };
                let reason = observe::condition_reason(&trigger.kind, &facts, |_| cancelled_server);
                if let Some(reason) = reason {
                    if let Some(context) = &mut self.current_step {
                        context.fired.insert((file, index));
                    }
                    return Ok(Some((file, index, reason)));
                }
            }
        }
        Ok(None)
    }

    async fn run_handler(
        &mut self,
        file: usize,
        index: usize,
        reason: &str,
        key: &StepKey,
    ) -> Result<WhatIfResolution, Abort> {
        let handler = &self.program.file(file).ast.what_ifs[index];
        if let Some(context) = &mut self.current_step {
            context.fired.insert((file, index));
        }
        self.emit(EventKind::WhatIf {
            name: handler.id.name.clone(),
            reason: reason.to_string(),
        });
        self.journal_or_abort(Record::WhatIfEntered {
            ts: super::events::now_rfc3339(),
            name: handler.id.name.clone(),
            reason: reason.to_string(),
            step: Some(key.clone()),
        })?;
        let mut frame = match &self.current_step {
            Some(context) if context.frame.file == file => context.frame.clone(),
            _ => Frame::new(file, self.bind_params(file).unwrap_or_default()),
        };
        self.in_what_if = true;
        let result = self.run_handler_body(handler, &mut frame).await;
        self.in_what_if = false;
        let resolution = match result {
            Ok(()) => WhatIfResolution::Continue,
            Err(Abort::Retry(..)) => WhatIfResolution::Retry,
            Err(Abort::Failure(failure)) => {
                self.last_step_failed = Some(handler.id.name.clone());
                return Err(Abort::Failure(failure));
            }
            Err(other) => return Err(other),
        };
        self.journal_or_abort(Record::WhatIfFinished {
            ts: super::events::now_rfc3339(),
            name: handler.id.name.clone(),
            step: Some(key.clone()),
            resolution,
            clock_seconds: Some(self.connector.clock().as_secs_f64()),
        })?;
        Ok(resolution)
    }

    /// A What-if's body, after its `discards changes on` clause if it has one.
    async fn run_handler_body(
        &mut self,
        handler: &'p ast::WhatIf,
        frame: &mut Frame,
    ) -> Result<(), Abort> {
        if let Some(server_expr) = &handler.discards_changes_on {
            let subject = format!("What-if `{}`", handler.id.name);
            let prompt_id = format!("{}.discard-changes", handler.id.name);
            self.check_discarded_changes(&subject, prompt_id, server_expr, frame)
                .await?;
        }
        self.exec_block(&handler.body, frame).await
    }

    // ----- operations -----

    async fn exec_operation(
        &mut self,
        call: &'p ast::OperationCall,
        frame: &mut Frame,
    ) -> Result<(), Abort> {
        let file = frame.file;
        let operation = self.build_operation(call, frame).await?;
        let redo = self
            .current_step
            .as_ref()
            .is_some_and(|context| context.redo);
        if redo && !operation.is_read_only() {
            let mut snapshot = self.observe_at(file, call.span).await?;
            if !effect_visible(&operation, &snapshot) && self.replay.in_flight.contains(&operation)
            {
                // Sent just before the interruption: it may still be running
                // on the server, which would refuse it a second time.
                self.emit(EventKind::Note {
                    message: format!(
                        "{operation}: was in progress when the run was interrupted; waiting for it"
                    ),
                });
                let start = self.connector.clock();
                while self.connector.clock().saturating_sub(start) < IN_FLIGHT_WAIT {
                    self.sync_journal()?;
                    self.connector.sleep(DEFAULT_WAIT_INTERVAL).await;
                    self.forget_live();
                    snapshot = self.observe_at(file, call.span).await?;
                    if effect_visible(&operation, &snapshot) {
                        break;
                    }
                }
                self.replay.in_flight.retain(|sent| *sent != operation);
            }
            if effect_visible(&operation, &snapshot) {
                self.emit(EventKind::Note {
                    message: format!(
                        "{operation}: already done before the interruption, not repeated"
                    ),
                });
                return Ok(());
            }
        }
        let before = self.observe_at(file, call.span).await?;
        let split_brain_before = self.split_brain().await;
        let step = self
            .current_step
            .as_ref()
            .map(|context| context.key.clone());
        self.journal_or_abort(Record::OperationStarted {
            ts: super::events::now_rfc3339(),
            step,
            operation: operation.clone(),
        })?;
        // The one record that must be on disk before the cluster changes.
        self.sync_journal()?;
        let described = operation.to_string();
        self.emit(EventKind::OperationStarted {
            operation: described.clone(),
            long: is_long(&operation),
        });
        let result = self.connector.perform(&operation).await;
        self.forget_live();
        self.operations_done += 1;
        if self
            .crash_after_operations
            .is_some_and(|limit| self.operations_done >= limit)
        {
            return Err(Abort::Crash);
        }
        let error = match &result {
            Ok(output) => output.failure(),
            Err(error) => Some(error.to_string()),
        };
        self.journal_or_abort(Record::OperationFinished {
            ts: super::events::now_rfc3339(),
            operation: operation.clone(),
            ok: error.is_none(),
            error: error.clone(),
        })?;
        self.emit(EventKind::OperationFinished {
            operation: described,
            ok: error.is_none(),
            error: error.clone(),
            error_code: result.as_ref().err().and_then(connector_code),
        });
        if error.is_none() && observe::activates(&operation) {
            self.activated_by_run.insert(operation.server().to_string());
        }
        if matches!(result, Err(ConnectorError::Interrupted { .. })) {
            // Ctrl-C at the operator's prompt of a manual operation: the run
            // stops like at any prompt; no What-if fires, and the resumed
            // run asks again (the operation is not done).
            return Err(Abort::Interrupted(Some(format!(
                "at the prompt for `{operation}`"
            ))));
        }
        let record = OperationRecord {
            operation,
            before: (*before).clone(),
            error: error.clone(),
            cancelled: matches!(result, Err(ConnectorError::UpgradeCancelled { .. })),
            split_brain_before,
        };
        if let Some((handler_file, index, reason)) = self.check_conditions(&record).await? {
            return Err(Abort::WhatIf(handler_file, index, reason));
        }
        // When the server could not be reached, the connector's help says
        // what to do (a slow server: the time limits; an untrusted
        // certificate: `--ca-cert`).
        let help = result.as_ref().err().and_then(ConnectorError::reach_help);
        let label = "this operation failed";
        match (error, result.as_ref().err()) {
            (Some(reason), Some(cause)) => {
                Err(Abort::connector_failure(reason, label, file, call.span, cause).with_help(help))
            }
            (Some(reason), None) => Err(Abort::failure(reason, label, file, call.span)),
            (None, _) => Ok(()),
        }
    }

    async fn build_operation(
        &mut self,
        call: &'p ast::OperationCall,
        frame: &mut Frame,
    ) -> Result<Operation, Abort> {
        let mut values = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            values.push(self.eval(&arg.value, frame).await?);
        }
        super::eval::build_operation(call, values)
            .map_err(|error| Abort::failure(error.message, error.label, frame.file, error.span))
    }

    // ----- prompts -----

    fn prompt(&mut self, request: PromptRequest, file: usize, span: Span) -> Result<Answer, Abort> {
        let step = self
            .current_step
            .as_ref()
            .map(|context| context.key.clone());
        let count = self
            .prompt_counts
            .entry((step.clone(), request.id.clone()))
            .or_insert(0);
        *count += 1;
        let occurrence = *count;
        let replayed = self
            .replay
            .prompts
            .get(&(step.clone(), request.id.clone(), occurrence))
            .filter(|answer| answer.replays(&request.kind))
            .cloned();
        let (answer, source) = match replayed {
            Some(answer) => (answer, AnswerSource::Journal),
            None => {
                // An operator may take a while: leave a durable journal meanwhile.
                self.sync_journal()?;
                let (answer, source) = match self.prompter.ask(&request) {
                    Ok(answered) => answered,
                    Err(PromptError::Unavailable) => {
                        return Err(Abort::Fatal(RuntimeError::PromptUnavailable {
                            id: request.id.clone(),
                            source_code: self.program.file(file).source_text(),
                            span: SourceSpan::from(span),
                        }))
                    }
                    Err(PromptError::Failed(error)) => return Err(Abort::Fatal(*error)),
                    // Nothing is journaled for the prompt: a resumed run asks it again.
                    Err(PromptError::Interrupted) => {
                        return Err(Abort::Interrupted(Some(format!(
                            "at prompt `{}`",
                            request.id
                        ))))
                    }
                };
                self.journal_or_abort(Record::PromptAnswered {
                    ts: super::events::now_rfc3339(),
                    step,
                    id: request.id.clone(),
                    occurrence,
                    answer: answer.clone(),
                })?;
                (answer, source)
            }
        };
        self.forget_live();
        self.emit(EventKind::Prompt {
            id: request.id.clone(),
            text: request.text.clone(),
            answer: answer.to_json(),
            source: source.as_str().to_string(),
        });
        Ok(answer)
    }

    // ----- evaluation -----

    /// Forgets what was read of the cluster: it may have changed since.
    fn forget_live(&mut self) {
        self.live = None;
        self.live_split_brain = None;
    }

    /// The servers a settled split brain left, as the target reports them
    /// (`None` when there is none or it cannot be told); read once until the
    /// cluster may have changed.
    async fn split_brain(&mut self) -> Option<Vec<String>> {
        if let Some(known) = &self.live_split_brain {
            return known.clone();
        }
        let read = self.connector.split_brain().await.unwrap_or(None);
        self.live_split_brain = Some(read.clone());
        read
    }

    async fn observe_at(&mut self, file: usize, span: Span) -> Result<Arc<Snapshot>, Abort> {
        if let Some(live) = &self.live {
            return Ok(Arc::clone(live));
        }
        match self.connector.snapshot().await {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                self.live = Some(Arc::clone(&snapshot));
                Ok(snapshot)
            }
            Err(error) => Err(Abort::connector_failure(
                format!("the cluster could not be read: {error}"),
                "reading the cluster failed here",
                file,
                span,
                &error,
            )),
        }
    }

    async fn eval(&mut self, expr: &'p ast::Expr, frame: &Frame) -> Result<Value, Abort> {
        let snapshot = self.observe_at(frame.file, expr.span).await?;
        self.eval_with(expr, frame, snapshot)
    }

    fn eval_with(
        &mut self,
        expr: &ast::Expr,
        frame: &Frame,
        snapshot: Arc<Snapshot>,
    ) -> Result<Value, Abort> {
        let mut context = Context {
            machine: self,
            frame,
            snapshot,
        };
        eval::eval(expr, &mut context).map_err(|abort| match abort {
            Abort::Failure(mut failure) if failure.file == usize::MAX => {
                failure.file = frame.file;
                Abort::Failure(failure)
            }
            other => other,
        })
    }

    /// Evaluates `expr`, or, outside steps on a resumed run, replays the value
    /// the interrupted run computed, so the run takes the same path.
    async fn decide(
        &mut self,
        what: &str,
        expr: &'p ast::Expr,
        frame: &Frame,
    ) -> Result<Value, Abort> {
        if self.current_step.is_some() {
            return self.eval(expr, frame).await;
        }
        if self.replay.cursor < self.replay.decisions.len() {
            return self.replayed(what, frame.file, expr.span);
        }
        let value = self.eval(expr, frame).await?;
        self.record_decision(what, value.clone())?;
        Ok(value)
    }

    fn replayed(&mut self, what: &str, file: usize, span: Span) -> Result<Value, Abort> {
        let (recorded, value) = self.replay.decisions[self.replay.cursor].clone();
        self.replay.cursor += 1;
        if recorded != what {
            return Err(Abort::Fatal(RuntimeError::ResumeRefused {
                journal: self.journal_display().unwrap_or_default(),
                reason: format!(
                    "the runbook no longer takes the same path: the journal has `{recorded}` where the runbook now has `{what}` (line {})",
                    self.program.file(file).line_of(span.start)
                ),
                help: String::from("restore the runbook as it was when the run started, or start a new run"),
            }));
        }
        Ok(value)
    }

    fn record_decision(&mut self, what: &str, value: Value) -> Result<(), Abort> {
        if self.current_step.is_some() {
            return Ok(());
        }
        let seq = self.replay.recorded;
        self.replay.recorded += 1;
        let value = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
        self.journal_or_abort(Record::Decision {
            ts: super::events::now_rfc3339(),
            seq,
            what: what.to_string(),
            value,
        })
    }
}

/// The evaluation context of one expression: the frame's bindings and one snapshot.
struct Context<'m, 'p> {
    machine: &'m mut Machine<'p>,
    frame: &'m Frame,
    snapshot: Arc<Snapshot>,
}

impl EvalContext for Context<'_, '_> {
    type Error = Abort;

    fn lookup(&self, name: &str) -> Option<Value> {
        self.frame.lookup(name)
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn initial(&self) -> &Snapshot {
        &self.machine.initial
    }

    fn select(
        &mut self,
        id: &ast::Ident,
        text: &ast::StringLit,
        servers: Vec<String>,
        span: Span,
    ) -> Result<String, Abort> {
        let answer = self.machine.prompt(
            PromptRequest {
                id: id.name.clone(),
                text: text.value.clone(),
                kind: PromptKind::Select(servers),
            },
            self.frame.file,
            span,
        )?;
        match answer {
            Answer::Text(server) => Ok(server),
            Answer::Bool(_) => Err(Abort::failure(
                "a server must be selected",
                "this prompt",
                self.frame.file,
                span,
            )),
        }
    }
}

impl From<EvalError> for Abort {
    fn from(error: EvalError) -> Self {
        // The file is set where evaluation was started; see `Context`.
        Abort::Failure(Box::new(Failure {
            reason: error.message,
            label: String::from("evaluated here"),
            file: usize::MAX,
            span: error.span,
            help: error.help,
            wait: None,
            cause_code: None,
        }))
    }
}

/// How a step ended, for [`Machine::end_step`].
enum Aborted {
    Stopped(String),
    Interrupted(String),
    /// The message and, for a connector error, its code.
    Failed(String, Option<String>),
    Crashed,
}

/// The diagnostic code of a connector error (`runbook::connector::...`).
fn connector_code(error: &ConnectorError) -> Option<String> {
    miette::Diagnostic::code(error).map(|code| code.to_string())
}

fn abort_ref(abort: &Abort) -> Aborted {
    match abort {
        Abort::Stop(message) => Aborted::Stopped(message.clone()),
        Abort::Failure(failure) => {
            Aborted::Failed(failure.reason.clone(), failure.cause_code.clone())
        }
        Abort::WhatIf(_, _, reason) => Aborted::Interrupted(reason.clone()),
        Abort::Declined(id) => Aborted::Failed(format!("the operator declined `{id}`"), None),
        Abort::Fail(message, ..) => Aborted::Failed(message.clone(), None),
        Abort::Retry(..) => Aborted::Failed(String::from("`retry` outside a What-if"), None),
        Abort::Fatal(error) => Aborted::Failed(error.to_string(), None),
        Abort::Interrupted(None) => Aborted::Interrupted(String::from("interrupted")),
        Abort::Interrupted(Some(at)) => Aborted::Interrupted(format!("interrupted {at}")),
        Abort::Crash => Aborted::Crashed,
    }
}

/// Whether the operation makes its server Active.
/// Whether an operation worth a spinner (it runs in the background on the server).
fn is_long(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::Upgrade { .. }
            | Operation::InitStandby { .. }
            | Operation::Activate { .. }
            | Operation::Backup { .. }
    )
}

/// Whether the effect of `operation` is already visible in `snapshot`: on a
/// resumed half-done step such an operation is not repeated.
pub fn effect_visible(operation: &Operation, snapshot: &Snapshot) -> bool {
    let Some(server) = snapshot.server(operation.server()) else {
        return false;
    };
    match operation {
        Operation::Exclude { .. } => server.excluded,
        Operation::InitStandby { .. } => {
            server.running
                && !server.excluded
                && server.mode == crate::cluster::Mode::Standby
                && server.replication == crate::cluster::ReplicationState::StbRep
        }
        Operation::Activate { .. } | Operation::ForceActivate { .. } => {
            server.running && server.mode == crate::cluster::Mode::Active
        }
        Operation::SetStandby { .. } => server.mode == crate::cluster::Mode::Standby,
        Operation::StopServer { .. } => !server.running,
        Operation::StartServer { .. } => server.running,
        Operation::Upgrade { version, .. } => server.version == *version,
        Operation::Diagnostic { .. }
        | Operation::ReplicationStates { .. }
        | Operation::StopReplication { .. }
        | Operation::Backup { .. }
        | Operation::RestoreBackup { .. } => false,
    }
}

/// Quotes a path for a shell command line when it needs it.
fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:+=@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
