//! The interpreter's driver of the one small-step machine
//! ([`crate::semantics::machine`]): it answers the machine's effects against
//! a [`Connector`] (observe, perform), a [`Prompter`] (ask) and the target's
//! clock (sleep), journals every step before and after it acts, replays a
//! journal when a run is resumed, and turns what the machine reports into
//! the run's events. What a statement means is the machine's business; what
//! a run does about it (durability, the resume gate, progress, Ctrl-C) is
//! this module's.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use miette::SourceSpan;

use super::error::RuntimeError;
use super::events::{Event as RunEvent, EventKind, EventSink, RunOutcome, StepOutcome};
use super::in_flight::{self, Seen};
use super::journal::{Journal, JournalOutcome, Record, StepKey, WhatIfResolution};
use super::machine::{RunReport, RunSettings};
use super::program::Program;
use super::prompt::{Answer, AnswerSource, PromptError, PromptRequest, Prompter};
use super::replay::{Instances, JournaledEnd, Replay};
use crate::cluster::{Operation, Snapshot};
use crate::connect::{ClockKind, Connector, ConnectorError};
use crate::semantics::code::{Code, HandlerId, StepId, WindowId};
use crate::semantics::eval::{self, format_duration, Value};
use crate::semantics::machine::{
    self as core, Effect, Ending, Event, Failure, Gate, Input, Observation, OperationError,
    Resolution, Since, StepFinish, Subject, World, DEFAULT_WAIT_INTERVAL,
};
use crate::semantics::observe::cluster_table;
use crate::syntax::ast::TriggerKind;
use crate::syntax::Span;

/// How many times a failed read of the cluster is tried again (a poll
/// interval apart) before the run stops resumably.
const READ_RETRIES: u32 = 5;

/// How often the run looks at the time while a person answers a question
/// at the terminal (a time window may come to close meanwhile).
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// Holds the prompter's place while it asks on a thread of its own (see
/// `Driver::ask_watching_windows`); never asked.
struct NoPrompter;

impl Prompter for NoPrompter {
    fn ask(&mut self, _request: &PromptRequest) -> Result<(Answer, AnswerSource), PromptError> {
        Err(PromptError::Unavailable)
    }
}

/// Why the driver stops a run the machine would go on with.
#[derive(Debug)]
pub(super) enum Halt {
    /// Ctrl-C (or the test hook): stop before the next step, or, when it
    /// says where (e.g. "at prompt `ID`"), in the middle of the step under way.
    Interrupted(Option<String>),
    /// An error that ends the run (the journal cannot be written, nothing
    /// can answer a prompt...).
    Fatal(RuntimeError),
    /// The outcome of an operation could not be seen (it stays in flight in
    /// the journal), or the cluster could not be read: what, and why.
    Unseen(String),
    /// The test hook that simulates `kill -9`.
    Crash,
    /// The maintenance window: what is left from the next step does not fit.
    Window(RuntimeError),
}

/// How the run ended, as the driver saw it.
pub(super) type Outcome = Result<Ending, Halt>;

/// Where a step ended, for the time windows measured from it.
#[derive(Debug, Clone)]
enum StepEnd {
    /// In this process: the connector's clock at its end.
    Here(Duration),
    /// Before the run was resumed, as the journal holds it.
    Journaled(JournaledEnd),
}

/// What the machine sees of the target: the last observation while it is
/// current, and the time since each step ended.
struct Sight<'a> {
    connector: &'a dyn Connector,
    code: &'a Code<'a>,
    initial: Arc<Snapshot>,
    live: Option<Observation>,
    /// Where the last instance of each step id ended (time windows).
    step_ends: HashMap<String, StepEnd>,
    /// Which clock the journal's `clock_seconds` read (none: an old journal).
    journal_clock: Option<ClockKind>,
}

impl World for Sight<'_> {
    fn observation(&self) -> Option<&Observation> {
        self.live.as_ref()
    }

    fn forget(&mut self) {
        self.live = None;
    }

    fn initial(&self) -> &Snapshot {
        &self.initial
    }

    fn since_anchor(&self, window: WindowId) -> Option<Since> {
        let anchor = &self.code.windows[window as usize].clause.after.name;
        self.step_ends.get(anchor).and_then(|end| self.since(end))
    }

    fn counts_changes(&self) -> bool {
        self.connector.counts_changes()
    }
}

impl Sight<'_> {
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
            .filter(|_| self.journal_clock == Some(kind))
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
}

/// The interpreter's side of a run.
pub(super) struct Driver<'p> {
    program: &'p Program,
    code: &'p Code<'p>,
    machine: core::Machine<'p, 'p>,
    connector: &'p dyn Connector,
    sink: &'p mut dyn EventSink,
    prompter: &'p mut dyn Prompter,
    sight: Sight<'p>,
    pub(super) journal: Option<Journal>,
    pub(super) run_id: String,
    pub(super) params: BTreeMap<String, String>,
    pub(super) replay: Replay,
    /// The step instances and prompt occurrences met in this process.
    instances: Instances,
    /// The step instance under way (its handlers included).
    step_key: Option<StepKey>,
    /// Whether that step's own end is still to be journaled.
    step_open: bool,
    warnings: Vec<RuntimeError>,
    interrupt: Arc<AtomicBool>,
    steps_finished: usize,
    operations_done: usize,
    stop_after_steps: Option<usize>,
    crash_after_operations: Option<usize>,
    crash_entering_what_if: bool,
    /// The What-if the machine enters right after the step end it reports
    /// (see `core::State::entering_what_if`): journaled with that end.
    entering: Option<(HandlerId, String)>,
    /// Whether the entry of the What-if now entered is journaled already
    /// (with the end of the step it interrupted).
    entry_journaled: bool,
    /// Whether the sink was last told of a window's deadline.
    countdown_shown: bool,
    /// The runtime guard: the invariants judged on what the run observes.
    guard: super::guard::Guard,
    /// The step under way (its windows decide whether two Actives may be).
    current_step: Option<crate::semantics::code::StepId>,
    /// The windows whose anchor step ended and whose own step has not.
    open_windows: std::collections::BTreeSet<crate::semantics::code::WindowId>,
    /// The open windows already said to be closing (once per anchor end).
    closing_said: std::collections::BTreeSet<crate::semantics::code::WindowId>,
    /// The main runbook's parameters as bound (a window's length may be one).
    bound_params: Vec<(String, Value)>,
    /// How many What-if handlers are under way.
    handlers_running: usize,
    /// When the step under way started, on the target's clock.
    step_started_at: Option<Duration>,
    /// Who runs this process, on which host (journaled with each answer).
    pub(super) actor: super::journal::Actor,
    /// The maintenance window (`--window-ends`) and its worst cases.
    pub(super) window: Option<super::window::Window>,
}

impl<'p> Driver<'p> {
    pub(super) fn new(
        program: &'p Program,
        code: &'p Code<'p>,
        connector: &'p dyn Connector,
        sink: &'p mut dyn EventSink,
        prompter: &'p mut dyn Prompter,
        settings: &RunSettings,
        run_id: String,
    ) -> Self {
        Self {
            program,
            code,
            machine: core::Machine::new(code),
            connector,
            sink,
            prompter,
            sight: Sight {
                connector,
                code,
                initial: Arc::new(Snapshot::default()),
                live: None,
                step_ends: HashMap::new(),
                journal_clock: None,
            },
            journal: None,
            run_id,
            params: settings.params.clone(),
            replay: Replay::default(),
            instances: Instances::default(),
            step_key: None,
            step_open: false,
            warnings: Vec::new(),
            interrupt: Arc::clone(&settings.interrupt),
            steps_finished: 0,
            operations_done: 0,
            stop_after_steps: settings.stop_after_steps,
            crash_after_operations: settings.crash_after_operations,
            crash_entering_what_if: settings.crash_entering_what_if,
            entering: None,
            entry_journaled: false,
            countdown_shown: false,
            guard: super::guard::Guard::default(),
            current_step: None,
            open_windows: std::collections::BTreeSet::new(),
            closing_said: std::collections::BTreeSet::new(),
            bound_params: Vec::new(),
            handlers_running: 0,
            step_started_at: None,
            actor: super::journal::Actor::resolve(settings.operator.as_deref()),
            window: None,
        }
    }

    /// Says, at the start of a run or a resume, when the maintenance window
    /// ends, the time left and the worst case it is judged against.
    pub(super) fn emit_window_note(&mut self, from_start: bool) {
        let Some(window) = &self.window else { return };
        let left = window.left(self.connector.clock());
        let ends = format!(
            "maintenance window: ends {}, {} left",
            window.record().ends,
            super::window::format_left(left)
        );
        let worst = if from_start {
            match &window.worst.start {
                Some(start) => format!(
                    "worst case of the run: {} (faults: {}{}; computed in {}ms)",
                    crate::domain::duration::format(start.duration),
                    start.configuration,
                    if start.complete {
                        ""
                    } else {
                        "; exploration incomplete"
                    },
                    window.worst.elapsed.as_millis()
                ),
                None => String::from("the verifier found no path that ends: no worst case known"),
            }
        } else {
            String::from("each step starts only if the worst case from it fits")
        };
        self.emit(EventKind::Note { message: ends });
        self.emit(EventKind::Note { message: worst });
    }

    /// Whether what is left from step `step` still fits in the maintenance
    /// window; the halt that stops the run resumably when it does not.
    fn maintenance_window_closing(&self, step: &str) -> Option<Halt> {
        let window = self.window.as_ref()?;
        let worst = window.worst.steps.get(step)?;
        let left = window.left(self.connector.clock());
        if worst.duration <= left {
            return None;
        }
        let help = match self.resume_command() {
            Some(command) => format!(
                "the run stopped before this step (re)started; continue in the next window with `{command} --window-ends TIME` (the worst case from `{step}`: {}, faults: {})",
                super::machine::describe_outcome(worst.outcome),
                worst.configuration
            ),
            None => String::from("the run had no journal; start it again in the next window"),
        };
        Some(Halt::Window(RuntimeError::WindowClosing {
            step: step.to_string(),
            worst: crate::domain::duration::format(worst.duration),
            left: super::window::format_left(left),
            ends: window.record().ends,
            help,
        }))
    }

    /// Sets the cluster the run started on.
    pub(super) fn set_initial(&mut self, initial: Snapshot) {
        self.sight.initial = Arc::new(initial);
    }

    /// Takes what a resumed run knows from its journal.
    pub(super) fn set_replay(&mut self, replay: Replay) {
        self.sight.journal_clock = replay.clock;
        self.replay = replay;
    }

    pub(super) fn emit(&mut self, kind: EventKind) {
        // Warnings are kept in the journal too, for the run's report; a
        // journal that cannot be written is reported by the next record.
        if let (EventKind::Warning { code, message }, Some(journal)) = (&kind, &mut self.journal) {
            let _ = journal.append(&Record::Warning {
                ts: super::events::now_rfc3339(),
                step: self.step_key.clone(),
                code: code.clone(),
                message: message.clone(),
            });
        }
        self.sink.emit(RunEvent::now(kind));
    }

    pub(super) fn journal(&mut self, record: Record) -> Result<(), RuntimeError> {
        match &mut self.journal {
            Some(journal) => journal.append(&record),
            None => Ok(()),
        }
    }

    fn journal_or_halt(&mut self, record: Record) -> Result<(), Halt> {
        self.journal(record).map_err(Halt::Fatal)
    }

    /// Forces the journal to disk: before an operation is sent and before
    /// the run waits (see the durability notes in [`super::journal`]).
    fn sync_journal(&mut self) -> Result<(), Halt> {
        match &mut self.journal {
            Some(journal) => journal.sync().map_err(Halt::Fatal),
            None => Ok(()),
        }
    }

    pub(super) fn journal_display(&self) -> Option<String> {
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
    pub(super) fn emit_target_warnings(&mut self) {
        for warning in self.connector.warnings() {
            self.emit(EventKind::Warning {
                code: warning.code,
                message: warning.message,
            });
        }
    }

    // ----- the program -----

    /// Runs the main file (or, with `what_if`, that handler alone) to its end.
    pub(super) async fn run_program(&mut self, what_if: Option<&str>) -> Outcome {
        let params = self.bind_params()?;
        let mut state = match what_if {
            None => self.machine.start(params),
            Some(name) => {
                let index =
                    super::machine::what_if_index(self.program, name).map_err(Halt::Fatal)?;
                self.machine.start_what_if(index, params).ok_or_else(|| {
                    Halt::Fatal(RuntimeError::NoWhatIfs {
                        name: name.to_string(),
                    })
                })?
            }
        };
        for server in self.replay.activated() {
            state.note_activated(server);
        }
        for (server, changes) in self.replay.agreed() {
            state.note_agreed(server, *changes);
        }
        loop {
            let effect = self.machine.run(&mut state, &mut self.sight);
            let input = match effect {
                Effect::Observe { split_brain } => {
                    self.observe_patiently(split_brain).await?;
                    continue;
                }
                Effect::Gate(subject) => match self.gate(subject).await? {
                    Ok(gate) => Input::Gate(gate),
                    Err(failed) => Input::ObserveFailed(failed),
                },
                Effect::Decide { what, .. } => Input::Decision(self.replayed(&what, &state)?),
                Effect::Settle(operation) => self.settle(&operation).await?,
                Effect::Perform(operation) => Input::Performed(self.perform(operation).await?),
                Effect::Ask {
                    request,
                    file,
                    span,
                } => {
                    let id = request.id.clone();
                    Input::Answer(id, self.prompt(request, file, span)?)
                }
                Effect::Sleep {
                    interval,
                    condition,
                    ..
                } => {
                    if self.interrupt.load(Ordering::SeqCst) {
                        return Err(Halt::Interrupted(Some(format!(
                            "while waiting until {condition}"
                        ))));
                    }
                    // Time passes with what the last poll saw.
                    self.guard_lasting();
                    self.sync_journal()?;
                    let before = self.connector.clock();
                    self.connector.sleep(interval).await;
                    self.sight.forget();
                    self.window_closing();
                    Input::Slept(self.connector.clock().saturating_sub(before))
                }
                Effect::Event(event) => {
                    if let Event::StepFinished {
                        outcome: StepFinish::Interrupted(_),
                        ..
                    } = &event
                    {
                        self.entering = state
                            .entering_what_if()
                            .map(|(handler, reason)| (handler, reason.to_string()));
                    }
                    self.event(event).await?;
                    continue;
                }
                Effect::End(ending) => return Ok(ending),
                Effect::NoProgress => {
                    let (file, span) = self.machine.position(&state);
                    return Ok(Ending::Failed(Box::new(Failure {
                        reason: format!(
                            "the run executed {} statements without acting, asking or ending",
                            core::MAX_INSTRUCTIONS
                        ),
                        label: String::from("here"),
                        file,
                        span,
                        help: None,
                        wait: None,
                        cause_code: None,
                        within: None,
                        evaluation: true,
                    })));
                }
            };
            self.machine.deliver(&mut state, input);
        }
    }

    /// The first `requires` of the main file the cluster at the start does
    /// not meet, as the error that refuses the run.
    pub(super) fn unmet_requirement(&mut self) -> Option<RuntimeError> {
        let params = match self.bind_params() {
            Ok(params) => params,
            Err(Halt::Fatal(error)) => return Some(error),
            Err(_) => return None,
        };
        let (message, span) = self
            .machine
            .unmet_requirements(params, &self.sight.initial)
            .into_iter()
            .next()?;
        let main = self.program.main;
        Some(RuntimeError::RequirementNotMet {
            runbook: self.program.name().to_string(),
            message,
            source_code: self.program.file(main).source_text(),
            span: span.into(),
        })
    }

    /// The main file's parameters: `--set` values, else defaults.
    fn bind_params(&mut self) -> Result<Vec<(String, Value)>, Halt> {
        // The CLI checked them before anything ran; a library caller may not have.
        super::machine::check_params(self.program, &self.params).map_err(Halt::Fatal)?;
        let main = self.program.main;
        let defaults = self.machine.default_params(main, &self.sight.initial);
        let mut values = Vec::new();
        for param in &self.program.file(main).ast.params {
            let name = &param.name.name;
            let value = match self.params.get(name) {
                Some(text) => eval::parse_param(param.ty, text).map_err(|reason| {
                    Halt::Fatal(RuntimeError::Parameter {
                        name: name.clone(),
                        reason,
                    })
                })?,
                None => match defaults.iter().find(|(given, _)| given == name) {
                    Some((_, value)) => value.clone(),
                    None => {
                        return Err(Halt::Fatal(RuntimeError::Parameter {
                            name: name.clone(),
                            reason: format!("it has no default; give it with `--set {name}=VALUE`"),
                        }))
                    }
                },
            };
            values.push((name.clone(), value));
        }
        self.bound_params.clone_from(&values);
        Ok(values)
    }

    /// A window's length: a duration written in the clause, or a parameter
    /// of the main runbook; `None` for anything else (a sub-procedure's
    /// parameter), which the machine alone evaluates.
    fn window_length(&self, window: WindowId) -> Option<Duration> {
        let info = &self.code.windows[window as usize];
        match &info.clause.duration.kind {
            crate::syntax::ast::ExprKind::Duration(limit) => Some(*limit),
            crate::syntax::ast::ExprKind::Var(name)
                if self.code.steps[info.step as usize].file == self.program.main =>
            {
                self.bound_params
                    .iter()
                    .find_map(|(param, value)| match value {
                        Value::Duration(limit) if *param == name.name => Some(*limit),
                        _ => None,
                    })
            }
            _ => None,
        }
    }

    /// Reads the cluster into the machine's sight (and the split brain when asked).
    async fn observe(&mut self, split_brain: bool) -> Result<(), ConnectorError> {
        if self.sight.live.is_none() {
            let snapshot = self.connector.snapshot().await?;
            self.sight.live = Some(Observation {
                snapshot,
                split_brain: None,
            });
        }
        if split_brain {
            if let Some(live) = &mut self.sight.live {
                if live.split_brain.is_none() {
                    live.split_brain = Some(self.connector.split_brain().await.unwrap_or(None));
                }
            }
        }
        Ok(())
    }

    /// Reads the cluster, trying again a few times (a server restarting, a
    /// network blip); a cluster that still cannot be read stops the run
    /// resumably with the connector's diagnostic — it is not a step failure.
    async fn observe_patiently(&mut self, split_brain: bool) -> Result<(), Halt> {
        let mut attempts = 0;
        loop {
            match self.observe(split_brain).await {
                Ok(()) => return Ok(()),
                Err(error) if attempts >= READ_RETRIES => {
                    return Err(Halt::Unseen(format!(
                        "the cluster could not be read ({} attempts): {error}",
                        attempts + 1
                    )))
                }
                Err(_) => {
                    attempts += 1;
                    if self.interrupt.load(Ordering::SeqCst) {
                        return Err(Halt::Interrupted(Some(String::from(
                            "while reading the cluster",
                        ))));
                    }
                    self.sync_journal()?;
                    self.connector.sleep(DEFAULT_WAIT_INTERVAL).await;
                }
            }
        }
    }

    /// The resume gate: a step completed before the interruption is skipped,
    /// one left half-done is redone, any other runs. The cluster is read
    /// for the journal before it starts.
    async fn gate(&mut self, subject: Subject) -> Result<Result<Gate, OperationError>, Halt> {
        if matches!(subject, Subject::Step(_))
            && (self.interrupt.load(Ordering::SeqCst)
                || self
                    .stop_after_steps
                    .is_some_and(|limit| self.steps_finished >= limit))
        {
            return Err(Halt::Interrupted(None));
        }
        let name = self.machine.subject_name(subject);
        let key = self.instances.next_step(&name);
        let gate = self.replay.gate(self.code, subject, &key);
        if gate == Gate::Skip {
            if let Subject::Step(step) = subject {
                // A window anchored on this step is measured from its journaled end.
                if let Some(end) = self.replay.ends.get(&key) {
                    self.sight
                        .step_ends
                        .insert(key.id.clone(), StepEnd::Journaled(end.clone()));
                }
                self.emit(self.started_event(subject));
                self.emit(EventKind::StepFinished {
                    step: name,
                    outcome: StepOutcome::Skipped,
                    message: Some(String::from("completed before the run was resumed")),
                    cause_code: None,
                    duration_seconds: None,
                });
                // Its own window was met; those it anchors run as they did
                // before the interruption, and may be closing by now.
                self.step_ended(step);
                self.window_closing();
            }
            return Ok(Ok(Gate::Skip));
        }
        if let Subject::Step(_) = subject {
            if let Some(halt) = self.maintenance_window_closing(&key.id) {
                return Err(halt);
            }
        }
        if gate != Gate::Run {
            self.await_left_in_flight(&key).await?;
        }
        self.sight.forget();
        self.observe_patiently(false).await?;
        if let Gate::Handler(_) = gate {
            // Shown, not journaled: the step's start is in the journal.
            self.emit(self.started_event(subject));
        }
        self.step_key = Some(key);
        Ok(Ok(gate))
    }

    fn started_event(&self, subject: Subject) -> EventKind {
        match subject {
            Subject::Step(step) => {
                let info = &self.code.steps[step as usize];
                let source = self.program.file(info.file);
                EventKind::StepStarted {
                    step: info.step.id.name.clone(),
                    title: info.step.title.value.clone(),
                    file: source.name.clone(),
                    line: source.line_of(info.step.span.start),
                    number: info.step.number.as_ref().map(|number| number.text.clone()),
                }
            }
            Subject::WhatIf(handler) => {
                let info = &self.code.handlers[handler as usize];
                let source = self.program.file(info.file);
                EventKind::StepStarted {
                    step: info.what_if.id.name.clone(),
                    title: info.what_if.title.value.clone(),
                    file: source.name.clone(),
                    line: source.line_of(info.what_if.span.start),
                    number: None,
                }
            }
        }
    }

    /// Journals and emits what the machine reports.
    async fn event(&mut self, event: Event) -> Result<(), Halt> {
        match event {
            Event::StepStarted { subject, retry } => {
                self.guard.step_started();
                if let Subject::Step(step) = subject {
                    self.current_step = Some(step);
                }
                self.step_started_at = Some(self.connector.clock());
                self.step_started(subject, retry).await?;
                if let Subject::Step(step) = subject {
                    self.window_started(step);
                }
                // A step that started met its window.
                self.update_countdown();
            }
            Event::StepFinished { subject, outcome } => {
                let ok = outcome == StepFinish::Ok;
                if let (Subject::Step(step), true) = (subject, ok) {
                    self.step_ended(step);
                    self.current_step = None;
                }
                self.end_step(outcome).await?;
                if let (Subject::Step(step), true) = (subject, ok) {
                    self.window_opened(step);
                }
                self.window_closing();
                if ok {
                    if let Subject::Step(_) = subject {
                        self.steps_finished += 1;
                    }
                    self.step_key = None;
                }
            }
            Event::WindowExceeded {
                step,
                window,
                limit,
                since,
            } => self.window_exceeded(step, window, limit, since),
            Event::WhatIfEntered {
                handler,
                reason,
                step,
                resumed,
            } => {
                if self.crash_entering_what_if && step.is_some() && !resumed {
                    return Err(Halt::Crash);
                }
                let name = self.code.handlers[handler as usize].what_if.id.name.clone();
                self.handlers_running += 1;
                self.guard.step_started();
                self.emit(EventKind::WhatIf {
                    name: name.clone(),
                    reason: reason.clone(),
                });
                // A What-if run alone (`--what-if`) is journaled as its own
                // step; one entered again on resume is journaled already,
                // and so is one journaled with the end of its step.
                let journaled = std::mem::take(&mut self.entry_journaled);
                if step.is_some() && !resumed && !journaled {
                    let step = self.step_key.clone();
                    self.journal_or_halt(Record::WhatIfEntered {
                        ts: super::events::now_rfc3339(),
                        name,
                        reason,
                        step,
                    })?;
                }
            }
            Event::WhatIfFinished {
                handler,
                step,
                resolution,
            } => {
                self.handlers_running = self.handlers_running.saturating_sub(1);
                self.what_if_finished(handler, step, resolution)?
            }
            Event::Note(message) => self.emit(EventKind::Note { message }),
            Event::Warning { code, message } => self.emit(EventKind::Warning {
                code: code.to_string(),
                message,
            }),
            Event::OperationSkipped(operation) => self.emit(EventKind::Note {
                message: format!(
                    "{operation}: already done before the step was interrupted, not repeated"
                ),
            }),
            Event::WaitStarted { condition, timeout } => self.emit(EventKind::WaitStarted {
                condition,
                timeout_seconds: timeout.map(|limit| limit.as_secs()),
            }),
            Event::WaitFinished {
                condition,
                ok,
                waited,
            } => self.emit(EventKind::WaitFinished {
                condition,
                ok,
                waited_seconds: waited.as_secs(),
            }),
            Event::Decided { what, value } => self.record_decision(&what, value)?,
            Event::Discards { server, .. } => self.guard.discards_counted(&server),
            Event::ChangesAgreed { server, changes } => {
                self.journal_or_halt(Record::ChangesAgreed {
                    ts: super::events::now_rfc3339(),
                    server,
                    changes,
                })?
            }
            Event::EvaluationFailed(_) | Event::Executing { .. } => {}
        }
        Ok(())
    }

    /// A step starts (again, after `retry`): journaled with the cluster it
    /// starts on, then shown.
    async fn step_started(&mut self, subject: Subject, retry: bool) -> Result<(), Halt> {
        if retry {
            self.sight.forget();
        }
        if self.journal.is_some() {
            let snapshot = match self.observe(false).await {
                Ok(()) => self
                    .sight
                    .live
                    .as_ref()
                    .map(|live| live.snapshot.clone())
                    .unwrap_or_default(),
                Err(_) => Snapshot::default(),
            };
            let key = self.step_key.clone().unwrap_or_else(|| StepKey {
                id: self.machine.subject_name(subject),
                occurrence: 1,
            });
            let title = match self.started_event(subject) {
                EventKind::StepStarted { title, .. } => Some(title),
                _ => None,
            };
            self.journal_or_halt(Record::StepStarted {
                ts: super::events::now_rfc3339(),
                step: key,
                snapshot,
                clock_seconds: self.connector.clock().as_secs_f64(),
                title,
            })?;
        }
        self.step_open = true;
        self.emit(self.started_event(subject));
        self.guard_lasting();
        Ok(())
    }

    /// Step `step` ended (here, by a What-if's `continue`, or before the
    /// run was resumed): its own window is met, those it anchors are open.
    fn step_ended(&mut self, step: StepId) {
        let info = &self.code.steps[step as usize];
        if let Some(window) = info.window {
            self.open_windows.remove(&window);
        }
        self.open_windows.extend(info.anchors.iter().copied());
        for window in &info.anchors {
            self.closing_said.remove(window);
        }
    }

    /// A step starts later than its window allows: a warning, kept for the report.
    fn window_exceeded(&mut self, step: StepId, window: WindowId, limit: Duration, since: Since) {
        let info = &self.code.steps[step as usize];
        let clause = self.code.windows[window as usize].clause;
        let error = RuntimeError::WindowExceeded {
            step: info.step.id.name.clone(),
            after: clause.after.name.clone(),
            window: format_duration(limit),
            elapsed: format_duration(since.elapsed),
            measured: since
                .across_resume
                .map(|clock| format!(" (before the run was resumed; measured on {clock})"))
                .unwrap_or_default(),
            source_code: self.program.file(info.file).source_text(),
            span: clause.span.into(),
        };
        self.emit(EventKind::Warning {
            code: String::from("runbook::run::window_exceeded"),
            message: error.to_string(),
        });
        self.warnings.push(error);
    }

    /// A handler body ended: journaled; when the run goes on after the
    /// interrupted step, that step counts as ended (windows, `--stop-after`).
    fn what_if_finished(
        &mut self,
        handler: HandlerId,
        step: StepId,
        resolution: Resolution,
    ) -> Result<(), Halt> {
        let name = self.code.handlers[handler as usize].what_if.id.name.clone();
        let resolution = match resolution {
            Resolution::Continue => WhatIfResolution::Continue,
            Resolution::Retry => WhatIfResolution::Retry,
        };
        self.journal_or_halt(Record::WhatIfFinished {
            ts: super::events::now_rfc3339(),
            name,
            step: self.step_key.clone(),
            resolution,
            clock_seconds: Some(self.connector.clock().as_secs_f64()),
        })?;
        if resolution == WhatIfResolution::Continue {
            let id = self.code.steps[step as usize].step.id.name.clone();
            self.sight
                .step_ends
                .insert(id, StepEnd::Here(self.connector.clock()));
            self.step_ended(step);
            self.steps_finished += 1;
            self.step_key = None;
        }
        Ok(())
    }

    /// Journals and emits the end of the step instance under way.
    async fn end_step(&mut self, finish: StepFinish) -> Result<(), Halt> {
        let Some(key) = self.step_key.clone() else {
            return Ok(());
        };
        self.step_open = false;
        let entering = self.entering.take();
        let mut cause_code = None;
        let (outcome, journal_outcome, message) = match finish {
            StepFinish::Ok => (StepOutcome::Ok, JournalOutcome::Ok, None),
            StepFinish::Stopped(message) => (StepOutcome::Ok, JournalOutcome::Ok, Some(message)),
            StepFinish::Interrupted(message) => (
                StepOutcome::Failed,
                JournalOutcome::Interrupted,
                Some(message),
            ),
            StepFinish::Failed(message, code) => {
                cause_code = code;
                (StepOutcome::Failed, JournalOutcome::Failed, Some(message))
            }
        };
        self.sight.forget();
        if self.journal.is_some() {
            let snapshot = self.connector.snapshot().await.unwrap_or_default();
            let window_open = self.two_actives_allowed();
            for finding in self.guard.observed(&snapshot, window_open) {
                self.guard_warning(finding);
            }
            let finished = Record::StepFinished {
                ts: super::events::now_rfc3339(),
                step: key.clone(),
                outcome: journal_outcome,
                message: message.clone(),
                snapshot,
                clock_seconds: self.connector.clock().as_secs_f64(),
            };
            // A step a What-if interrupted ends with the What-if's entry, in
            // one write: a kill in between would leave a resume redoing the
            // step instead of entering the What-if.
            match entering {
                Some((handler, reason)) if journal_outcome == JournalOutcome::Interrupted => {
                    let entered = Record::WhatIfEntered {
                        ts: super::events::now_rfc3339(),
                        name: self.code.handlers[handler as usize].what_if.id.name.clone(),
                        reason,
                        step: Some(key.clone()),
                    };
                    if let Some(journal) = &mut self.journal {
                        journal
                            .append_all(&[&finished, &entered])
                            .map_err(Halt::Fatal)?;
                    }
                    self.entry_journaled = true;
                }
                _ => self.journal_or_halt(finished)?,
            }
        }
        if outcome == StepOutcome::Ok {
            self.sight
                .step_ends
                .insert(key.id.clone(), StepEnd::Here(self.connector.clock()));
        }
        let duration_seconds = self
            .step_started_at
            .take()
            .map(|at| self.connector.clock().saturating_sub(at).as_secs_f64());
        self.emit(EventKind::StepFinished {
            step: key.id,
            outcome,
            message,
            cause_code,
            duration_seconds,
        });
        Ok(())
    }

    /// Ends the step under way when the driver stops the run.
    async fn end_halted_step(&mut self, halt: &Halt) -> Result<(), Halt> {
        if !self.step_open {
            return Ok(());
        }
        let finish = match halt {
            Halt::Interrupted(None) => StepFinish::Interrupted(String::from("interrupted")),
            Halt::Interrupted(Some(at)) => StepFinish::Interrupted(format!("interrupted {at}")),
            Halt::Fatal(error) => StepFinish::Failed(error.to_string(), None),
            Halt::Unseen(what) => StepFinish::Interrupted(what.clone()),
            Halt::Window(error) => StepFinish::Interrupted(error.to_string()),
            Halt::Crash => return Err(Halt::Crash),
        };
        self.end_step(finish).await
    }

    // ----- operations -----

    /// On a redone step, before an operation: whether it already completed
    /// in this attempt before the interruption (the journal holds its
    /// success), so it is not sent again. Operations left in flight were
    /// awaited when the step was let through the gate.
    async fn settle(&mut self, operation: &Operation) -> Result<Input, Halt> {
        let Some(key) = self.step_key.clone() else {
            return Ok(Input::Settled {
                done: false,
                failed: None,
            });
        };
        Ok(Input::Settled {
            done: self.replay.take_completed(&key, operation),
            failed: self.replay.take_failed(&key, operation),
        })
    }

    /// Before a half-done step runs again (or its What-if goes on): waits
    /// for every operation it left in flight to end, so that nothing is
    /// decided on a cluster still busy with it. One seen done is journaled as
    /// completed and not sent again.
    async fn await_left_in_flight(&mut self, key: &StepKey) -> Result<(), Halt> {
        for sent in self.replay.take_in_flight(key) {
            // Comparable only on the clock the journal read.
            let since = sent
                .clock_seconds
                .filter(|_| self.replay.clock == Some(self.connector.clock_kind()))
                .map(super::journal::seconds);
            let seen = self
                .await_in_flight(&sent.operation, since, "before the run was interrupted")
                .await?;
            // The in-process cluster died with the runner: nothing of it
            // ended there.
            let live = self.sight.live.as_ref().map(|live| live.snapshot.clone());
            if let (Seen::EndedWithout, false, Some(live)) =
                (seen, self.connector.outcome_always_seen(), live)
            {
                if let Some(failure) = self.replay.ended_without(key, &sent.operation, &live) {
                    self.journal_or_halt(Record::OperationFinished {
                        ts: super::events::now_rfc3339(),
                        operation: sent.operation.clone(),
                        ok: false,
                        error: Some(failure.message),
                        code: None,
                        cancelled: failure.cancelled,
                    })?;
                }
            }
            if seen == Seen::Done {
                self.journal_or_halt(Record::OperationFinished {
                    ts: super::events::now_rfc3339(),
                    operation: sent.operation.clone(),
                    ok: true,
                    error: None,
                    code: None,
                    cancelled: false,
                })?;
                self.replay.seen_done(key, sent.operation);
            }
        }
        Ok(())
    }

    /// Reads the cluster until `operation`, sent at `sent_at` on the target's
    /// clock (unknown: now), has visibly ended: done, or ended without its
    /// effect. Still running past its limit, or a cluster that cannot be
    /// read meanwhile, stops the run resumably ([`Halt::Unseen`]).
    async fn await_in_flight(
        &mut self,
        operation: &Operation,
        sent_at: Option<Duration>,
        when: &str,
    ) -> Result<Seen, Halt> {
        if self.connector.outcome_always_seen() {
            // The in-process cluster died with the process that sent it:
            // nothing of it is still running.
            self.sight.forget();
            return Ok(match self.observe(false).await {
                Ok(()) => match self.sight.live.as_ref() {
                    Some(live) if in_flight::seen(operation, &live.snapshot) == Seen::Done => {
                        Seen::Done
                    }
                    _ => Seen::EndedWithout,
                },
                Err(_) => Seen::EndedWithout,
            });
        }
        let limit = in_flight::limit(operation);
        let started = sent_at
            .filter(|at| *at <= self.connector.clock())
            .unwrap_or_else(|| self.connector.clock());
        let waiting_from = self.connector.clock();
        let mut announced = false;
        loop {
            self.sight.forget();
            let now = self.connector.clock();
            let failure = match self.observe(false).await {
                Ok(()) => {
                    let live = &self.sight.live.as_ref().expect("just observed").snapshot;
                    match in_flight::seen(operation, live) {
                        Seen::Done => return Ok(Seen::Done),
                        // What a quick operation left is judged after a poll.
                        Seen::EndedWithout
                            if now.saturating_sub(waiting_from) >= DEFAULT_WAIT_INTERVAL
                                || crate::cluster::durations::expected(operation)
                                    > Duration::ZERO =>
                        {
                            return Ok(Seen::EndedWithout)
                        }
                        _ => None,
                    }
                }
                Err(error) => Some(error),
            };
            if now.saturating_sub(started) >= limit
                && now.saturating_sub(waiting_from) >= DEFAULT_WAIT_INTERVAL
            {
                return match failure {
                    None => Ok(Seen::EndedWithout),
                    Some(error) => Err(Halt::Unseen(format!(
                        "the outcome of `{operation}` (sent {when}) was not seen: the cluster could not be read for {}: {error}",
                        format_duration(now.saturating_sub(waiting_from))
                    ))),
                };
            }
            if !announced {
                announced = true;
                self.emit(EventKind::Note {
                    message: format!(
                        "{operation}: sent {when}, its outcome was not seen; waiting until it ends (at most {} after it was sent)",
                        format_duration(limit)
                    ),
                });
            }
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(Halt::Interrupted(Some(format!(
                    "while waiting for `{operation}` to end"
                ))));
            }
            self.sync_journal()?;
            self.connector.sleep(DEFAULT_WAIT_INTERVAL).await;
        }
    }

    async fn perform(
        &mut self,
        operation: Operation,
    ) -> Result<Result<crate::cluster::OperationOutput, OperationError>, Halt> {
        // The guard judges the operation on the cluster as it is now (a
        // read that fails is the operation's own business, not the guard's).
        let _ = self.observe(false).await;
        if let Some(live) = self.sight.live.as_ref().map(|live| live.snapshot.clone()) {
            let findings = self.guard.before(
                &operation,
                &live,
                &self.sight.initial,
                self.connector.counts_changes(),
            );
            for finding in findings {
                self.guard_warning(finding);
            }
        }
        let sent_at = self.connector.clock();
        self.journal_or_halt(Record::OperationStarted {
            ts: super::events::now_rfc3339(),
            step: self.step_key.clone(),
            operation: operation.clone(),
            clock_seconds: Some(sent_at.as_secs_f64()),
        })?;
        // The one record that must be on disk before the cluster changes.
        self.sync_journal()?;
        let described = operation.to_string();
        let long = is_long(&operation);
        self.emit(EventKind::OperationStarted {
            operation: described.clone(),
            long,
            expected_seconds: long
                .then(|| crate::cluster::durations::expected(&operation).as_secs())
                .filter(|seconds| *seconds > 0),
        });
        // An operation the operator performs at the console (an inventory's
        // `manual`) is announced as a prompt is, when it waits for them.
        let waiting = self.connector.waits_for_operator(&operation);
        if let Some(waiting) = &waiting {
            self.window_left();
            self.emit(EventKind::PromptWaiting {
                id: waiting.id.clone(),
                text: waiting.text.clone(),
                operator: self.actor.operator.clone(),
            });
        }
        let result = if long || waiting.is_some() {
            self.perform_showing_progress(&operation, &described).await
        } else {
            self.connector.perform(&operation).await
        };
        self.sight.forget();
        if long && result.is_ok() {
            // Minutes passed: judge the state the operation left.
            let _ = self.observe(false).await;
            self.guard_lasting();
        }
        // No answer is not a failure: see what the cluster says.
        let result = match result {
            Err(error)
                if !operation.is_read_only()
                    && error.outcome_unknown()
                    && !self.connector.outcome_always_seen() =>
            {
                self.emit(EventKind::Note {
                    message: format!(
                        "{operation}: no answer ({error}); reading the cluster to see whether it took effect"
                    ),
                });
                match self
                    .await_in_flight(&operation, Some(sent_at), "just now")
                    .await?
                {
                    Seen::Done => Ok(crate::cluster::OperationOutput::Done),
                    Seen::Running | Seen::EndedWithout => Err(error),
                }
            }
            other => other,
        };
        self.operations_done += 1;
        if self
            .crash_after_operations
            .is_some_and(|limit| self.operations_done >= limit)
        {
            return Err(Halt::Crash);
        }
        let error = match &result {
            Ok(output) => output.failure(),
            Err(error) => Some(error.to_string()),
        };
        let failure = result.as_ref().err().map(operation_error);
        self.journal_or_halt(Record::OperationFinished {
            ts: super::events::now_rfc3339(),
            operation: operation.clone(),
            ok: error.is_none(),
            error: error.clone(),
            code: failure.as_ref().and_then(|failure| failure.code.clone()),
            cancelled: failure.is_some_and(|failure| failure.cancelled),
        })?;
        self.emit(EventKind::OperationFinished {
            operation: described,
            ok: error.is_none(),
            error,
            error_code: result.as_ref().err().and_then(connector_code),
        });
        if matches!(result, Err(ConnectorError::Interrupted { .. })) {
            // Ctrl-C at the operator's prompt of a manual operation: the run
            // stops like at any prompt; no What-if fires, and the resumed
            // run asks again (the operation is not done).
            return Err(Halt::Interrupted(Some(format!(
                "at the prompt for `{operation}`"
            ))));
        }
        Ok(result.map_err(|error| operation_error(&error)))
    }

    /// Performs a long operation, saying where it is whenever the target
    /// shows a new phase (polled every half second).
    async fn perform_showing_progress(
        &mut self,
        operation: &Operation,
        described: &str,
    ) -> Result<crate::cluster::OperationOutput, ConnectorError> {
        let connector = self.connector;
        let perform = connector.perform(operation);
        tokio::pin!(perform);
        let mut shown: Option<String> = None;
        loop {
            tokio::select! {
                result = &mut perform => return result,
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    // Minutes may pass: a window may come to close.
                    self.window_closing();
                    let phase = connector.progress();
                    if phase.is_some() && phase != shown {
                        shown.clone_from(&phase);
                        self.emit(EventKind::OperationProgress {
                            operation: described.to_owned(),
                            phase: phase.unwrap_or_default(),
                        });
                    }
                }
            }
        }
    }

    // ----- time windows, as the operator sees them -----

    /// An anchor step ended: each window it opens says its deadline.
    fn window_opened(&mut self, anchor: crate::semantics::code::StepId) {
        for &window in &self.code.steps[anchor as usize].anchors {
            self.closing_said.remove(&window);
            let info = &self.code.windows[window as usize];
            let length = self.window_length(window);
            let limit = length.map_or_else(|| window_limit(info.clause), format_duration);
            // On a real cluster the deadline is a time of day.
            let deadline = match (length, self.connector.clock_kind()) {
                (Some(length), crate::connect::ClockKind::Wall) => {
                    let at = time::OffsetDateTime::now_utc() + length;
                    format!(
                        ", by {:02}:{:02}:{:02} UTC",
                        at.hour(),
                        at.minute(),
                        at.second()
                    )
                }
                _ => String::new(),
            };
            let constrained = self.code.steps[info.step as usize].step.id.name.clone();
            self.emit(EventKind::Note {
                message: format!(
                    "the clock runs: step `{constrained}` must start within {limit} of now{deadline} (its `within` window after `{}`)",
                    info.clause.after.name
                ),
            });
        }
    }

    /// Before the operator is asked something in a step with a window (or
    /// between an anchor and its step): how much of the window is left, so
    /// the answer can come in time.
    fn window_left(&mut self) {
        self.window_closing();
        let windows: Vec<WindowId> = match self.current_step {
            Some(step) => self.code.steps[step as usize].window.into_iter().collect(),
            None => self.open_windows.iter().copied().collect(),
        };
        for window in windows {
            let info = &self.code.windows[window as usize];
            let Some(limit) = self.window_length(window) else {
                continue;
            };
            let Some(since) = self.sight.since_anchor(window) else {
                continue;
            };
            let message = match limit.checked_sub(since.elapsed) {
                Some(left) => format!(
                    "{} left of the {} window after `{}`",
                    format_duration(left),
                    format_duration(limit),
                    info.clause.after.name
                ),
                None => format!(
                    "the {} window after `{}` closed {} ago",
                    format_duration(limit),
                    info.clause.after.name,
                    format_duration(since.elapsed - limit)
                ),
            };
            self.emit(EventKind::Note { message });
        }
    }

    /// A window whose step has not started and that is about to close: a
    /// `runbook::run::window_closing` warning (which `--notify` posts), once
    /// per window each time its anchor ends, when at most
    /// [`closing_margin`] of it is left. Judged whenever the run looks at
    /// the time: a step ending, a `wait` poll, every half second of a long
    /// operation, before a prompt and while it waits at the terminal
    /// (`ask_watching_windows`), and as a resumed run skips an anchor.
    fn window_closing(&mut self) {
        let windows: Vec<WindowId> = self.open_windows.iter().copied().collect();
        for window in windows {
            let info = &self.code.windows[window as usize];
            // A step that started met its window.
            if self.current_step == Some(info.step) || self.closing_said.contains(&window) {
                continue;
            }
            let Some(limit) = self.window_length(window) else {
                continue;
            };
            let Some(since) = self.sight.since_anchor(window) else {
                continue;
            };
            // Closed already: the step's late start is warned about then.
            let Some(left) = limit
                .checked_sub(since.elapsed)
                .filter(|left| !left.is_zero())
            else {
                continue;
            };
            if left > closing_margin(limit) {
                continue;
            }
            self.closing_said.insert(window);
            let constrained = self.code.steps[info.step as usize].step.id.name.clone();
            let message = format!(
                "the {} window after `{}` closes in {}: step `{constrained}` must start before then",
                format_duration(limit),
                info.clause.after.name,
                format_duration(left)
            );
            self.emit(EventKind::Warning {
                code: String::from("runbook::run::window_closing"),
                message,
            });
        }
        self.update_countdown();
    }

    /// Tells the sink the nearest deadline of an open window whose step has
    /// not started (a terminal counts it down), or that none runs.
    fn update_countdown(&mut self) {
        let nearest = self
            .open_windows
            .iter()
            .filter_map(|&window| {
                let info = &self.code.windows[window as usize];
                if self.current_step == Some(info.step) {
                    return None;
                }
                let limit = self.window_length(window)?;
                let since = self.sight.since_anchor(window)?;
                Some((limit.as_secs_f64() - since.elapsed.as_secs_f64(), info.step))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let countdown = nearest.map(|(left_seconds, step)| super::events::Countdown {
            step: self.code.steps[step as usize].step.id.name.clone(),
            left_seconds,
            speed: self.connector.clock_speed(),
        });
        if countdown.is_some() || self.countdown_shown {
            self.countdown_shown = countdown.is_some();
            self.sink.countdown(countdown);
        }
    }

    /// A step with a window starts: how much of its window it used.
    fn window_started(&mut self, step: crate::semantics::code::StepId) {
        let Some(window) = self.code.steps[step as usize].window else {
            return;
        };
        let info = &self.code.windows[window as usize];
        let Some(since) = self.sight.since_anchor(window) else {
            return;
        };
        let limit = self
            .window_length(window)
            .map_or_else(|| window_limit(info.clause), format_duration);
        if let Some(step) = self.step_key.clone() {
            let limit_seconds = self.window_length(window).map(|limit| limit.as_secs_f64());
            let _ = self.journal(Record::Window {
                ts: super::events::now_rfc3339(),
                step,
                after: info.clause.after.name.clone(),
                limit_seconds,
                elapsed_seconds: since.elapsed.as_secs_f64(),
                across_resume: since.across_resume.is_some(),
            });
        }
        self.emit(EventKind::Note {
            message: format!(
                "started {} after `{}` ended (window: {limit})",
                format_duration(since.elapsed),
                info.clause.after.name
            ),
        });
    }

    // ----- the runtime guard -----

    /// Whether two Actives may be seen now: inside a What-if, in a step
    /// with a `within … after` window or the anchor of one, or between an
    /// anchor's end and its window's step.
    fn two_actives_allowed(&self) -> bool {
        if self.handlers_running > 0 || !self.open_windows.is_empty() {
            return true;
        }
        self.current_step.is_some_and(|step| {
            let info = &self.code.steps[step as usize];
            info.window.is_some() || !info.anchors.is_empty()
        })
    }

    /// Judges what the run last read as a state that lasts (a step starts
    /// or ends on it, a wait polls it, a long operation ended on it): two
    /// Actives there are a break, as the verifier judges them; two Actives
    /// for the instant between two operations are not.
    fn guard_lasting(&mut self) {
        let Some(snapshot) = self.sight.live.as_ref().map(|live| live.snapshot.clone()) else {
            return;
        };
        let window_open = self.two_actives_allowed();
        for finding in self.guard.observed(&snapshot, window_open) {
            self.guard_warning(finding);
        }
    }

    /// A break the guard saw: a warning event with its code.
    fn guard_warning(&mut self, finding: super::guard::Finding) {
        self.emit(EventKind::Warning {
            code: finding.code.to_string(),
            message: finding.message,
        });
    }

    // ----- prompts and decisions -----

    /// `resume --reanswer ID`: checks that the answer can be given again and
    /// has the operator confirm it, naming what was done since; the record
    /// to journal and the confirmation's event (emitted once the run has
    /// started).
    pub(super) fn reopen(
        &mut self,
        journal: &std::path::Path,
        contents: &super::journal::JournalContents,
        id: &str,
    ) -> Result<(Record, EventKind), RuntimeError> {
        let refuse = |reason: String, help: &str| RuntimeError::ResumeRefused {
            journal: journal.display().to_string(),
            reason,
            help: help.to_string(),
        };
        let reopening = super::replay::reopen(contents, id).map_err(|reason| {
            refuse(
                reason,
                "re-open only an answer whose step has not completed; check the cluster by hand for the rest",
            )
        })?;
        let since = if reopening.done_since.is_empty() {
            String::from("nothing was sent to the cluster since")
        } else {
            format!(
                "sent to the cluster since (not undone): {}",
                reopening.done_since.join(", ")
            )
        };
        let request = PromptRequest {
            id: format!("reanswer.{id}"),
            text: format!(
                "`{id}` was answered \"{}\"; {since}. Answer `{id}` again?",
                reopening.answer
            ),
            kind: crate::semantics::prompt::PromptKind::Confirm,
            default: None,
            data_loss: false,
        };
        let confirmed = match self.prompter.ask(&request) {
            Ok((answer, source)) => (answer == Answer::Bool(true)).then_some(source),
            Err(PromptError::Failed(error)) => return Err(*error),
            Err(PromptError::Unavailable | PromptError::Interrupted) => None,
        };
        let Some(source) = confirmed else {
            return Err(refuse(
                format!("re-answering `{id}` was not confirmed"),
                "confirm `reanswer.ID` (at the terminal, with --yes, or in the answers file), or resume without --reanswer",
            ));
        };
        let event = EventKind::Prompt {
            id: request.id,
            text: request.text,
            answer: Answer::Bool(true).to_json(),
            source: source.as_str().to_string(),
        };
        Ok((reopening.record, event))
    }

    fn prompt(&mut self, request: PromptRequest, file: usize, span: Span) -> Result<Answer, Halt> {
        let step = self.step_key.clone();
        let occurrence = self.instances.next_prompt(&step, &request.id);
        let replayed = self
            .replay
            .answer(&step, &request.id, occurrence, &request.kind);
        let (answer, source) = match replayed {
            Some(answer) => (answer, AnswerSource::Journal),
            None => {
                // An operator may take a while: leave a durable journal meanwhile.
                self.sync_journal()?;
                self.window_left();
                let waits = self.prompter.waits(&request);
                if waits {
                    self.emit(EventKind::PromptWaiting {
                        id: request.id.clone(),
                        text: request.text.clone(),
                        operator: self.actor.operator.clone(),
                    });
                }
                let (answer, source) = match self.ask_watching_windows(&request, waits) {
                    Ok(answered) => answered,
                    Err(PromptError::Unavailable) => {
                        return Err(Halt::Fatal(RuntimeError::PromptUnavailable {
                            id: request.id.clone(),
                            source_code: self.program.file(file).source_text(),
                            span: SourceSpan::from(span),
                        }))
                    }
                    Err(PromptError::Failed(error)) => return Err(Halt::Fatal(*error)),
                    // Nothing is journaled for the prompt: a resumed run asks it again.
                    Err(PromptError::Interrupted) => {
                        return Err(Halt::Interrupted(Some(format!(
                            "at prompt `{}`",
                            request.id
                        ))))
                    }
                };
                self.journal_or_halt(Record::PromptAnswered {
                    ts: super::events::now_rfc3339(),
                    step,
                    id: request.id.clone(),
                    occurrence,
                    answer: answer.clone(),
                    by: Some(self.actor.operator.clone()),
                    source: Some(source.as_str().to_string()),
                    text: Some(request.text.clone()),
                })?;
                (answer, source)
            }
        };
        self.sight.forget();
        self.emit(EventKind::Prompt {
            id: request.id.clone(),
            text: request.text.clone(),
            answer: answer.to_json(),
            source: source.as_str().to_string(),
        });
        Ok(answer)
    }

    /// Asks `request`. While a person takes their time at the terminal
    /// (`waits`) and the target's clock runs on its own (a real cluster,
    /// `sim serve`), a time window that comes to close meanwhile is still
    /// said: the question is asked on a thread of its own, and the run
    /// looks at the time every [`WATCH_INTERVAL`] until it is answered.
    fn ask_watching_windows(
        &mut self,
        request: &PromptRequest,
        waits: bool,
    ) -> Result<(Answer, AnswerSource), PromptError> {
        if !waits || self.connector.clock_kind() == ClockKind::Simulated || !self.window_may_close()
        {
            return self.prompter.ask(request);
        }
        // The prompter goes to the asking thread and comes back with the
        // answer; a stand-in (no state, no allocation) holds its place.
        let prompter = std::mem::replace(&mut self.prompter, Box::leak(Box::new(NoPrompter)));
        let watch = |driver: &mut Self| {
            std::thread::scope(|scope| {
                let asking = scope.spawn(move || {
                    let answered = prompter.ask(request);
                    (answered, prompter)
                });
                while !asking.is_finished() {
                    std::thread::sleep(WATCH_INTERVAL);
                    driver.window_closing();
                }
                asking.join()
            })
        };
        // The question blocks this thread until it is answered: on a
        // multi-threaded runtime (a fleet), its other tasks move elsewhere.
        let joined = match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| watch(self))
            }
            _ => watch(self),
        };
        match joined {
            Ok((answered, prompter)) => {
                self.prompter = prompter;
                answered
            }
            // The prompter panicked: so does the run, as it would have
            // had the question been asked on this thread.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Whether an open window whose step has not started is still to be
    /// said closing (it has not closed yet).
    fn window_may_close(&self) -> bool {
        self.open_windows.iter().any(|&window| {
            let info = &self.code.windows[window as usize];
            self.current_step != Some(info.step)
                && !self.closing_said.contains(&window)
                && self.window_length(window).is_some_and(|limit| {
                    self.sight
                        .since_anchor(window)
                        .is_some_and(|since| since.elapsed < limit)
                })
        })
    }

    /// On a resumed run, the value the interrupted run decided here (so the
    /// run takes the same path), else `None`: the machine computes it.
    fn replayed(&mut self, what: &str, state: &core::State) -> Result<Option<Value>, Halt> {
        let Some((recorded, value)) = self.replay.next_decision() else {
            return Ok(None);
        };
        if recorded != what {
            let (file, span) = self.machine.position(state);
            return Err(Halt::Fatal(RuntimeError::ResumeRefused {
                journal: self.journal_display().unwrap_or_default(),
                reason: format!(
                    "the runbook no longer takes the same path: the journal has `{recorded}` where the runbook now has `{what}` (line {})",
                    self.program.file(file).line_of(span.start)
                ),
                help: String::from(
                    "restore the runbook as it was when the run started, or start a new run",
                ),
            }));
        }
        Ok(Some(value))
    }

    fn record_decision(&mut self, what: &str, value: Value) -> Result<(), Halt> {
        let seq = self.replay.recorded;
        self.replay.recorded += 1;
        let value = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
        self.journal_or_halt(Record::Decision {
            ts: super::events::now_rfc3339(),
            seq,
            what: what.to_string(),
            value,
        })
    }

    // ----- the end -----

    /// Ends a run that could not start: `run_started` then `run_finished`, exit 2.
    pub(super) fn unreachable(&mut self, error: RuntimeError) -> RunReport {
        self.refused(error, Snapshot::default(), false)
    }

    /// A run (`resumed`: a resume) refused before anything acted, with the
    /// cluster as read so far (empty: not read) in `run_started`;
    /// `run_finished` follows with the refusal, nothing is journaled.
    pub(super) fn refused(
        &mut self,
        error: RuntimeError,
        cluster: Snapshot,
        resumed: bool,
    ) -> RunReport {
        let message = error.to_string();
        self.emit(EventKind::RunStarted {
            run_id: self.run_id.clone(),
            runbook: self.program.name().to_string(),
            target: self.connector.describe(),
            cluster: cluster.clone(),
            journal: None,
            resumed,
        });
        self.emit_target_warnings();
        self.emit(EventKind::RunFinished {
            outcome: RunOutcome::Failed,
            message: message.clone(),
            // Unchanged since `run_started`: not shown twice.
            cluster: Snapshot::default(),
            resume: None,
            cause_code: None,
        });
        RunReport {
            outcome: RunOutcome::Failed,
            message,
            error: Some(error),
            warnings: Vec::new(),
            cluster,
            journal: None,
            resume_command: None,
            unreachable_before_start: true,
            crashed: false,
        }
    }

    /// Turns how the program ended into the report, journaling and emitting
    /// `run_finished` (always the last event).
    pub(super) async fn finish(&mut self, result: Outcome) -> RunReport {
        let result = match result {
            Err(halt) => match self.end_halted_step(&halt).await {
                Ok(()) => Err(halt),
                Err(other) => Err(other),
            },
            ending => ending,
        };
        if matches!(result, Err(Halt::Crash)) {
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
        // A run that upgraded the Initial Active cannot succeed on a
        // cluster that is not the healthy upgraded one.
        let result = match result {
            Ok(Ending::Completed) => {
                let broken = self.guard.end(&cluster);
                let unmet = match self.bind_params() {
                    Ok(params) => self
                        .machine
                        .unmet_goals(params, &self.sight.initial, &cluster),
                    Err(_) => Vec::new(),
                };
                // A declared goal is judged on the live cluster; the
                // default one (healthy) is the verifier's to prove, and an
                // upgrade of the Initial Active is held to its end below.
                if let Some(goal) = unmet.into_iter().find(|goal| goal.span.is_some()) {
                    let main = self.program.main;
                    Err(Halt::Fatal(RuntimeError::GoalNotMet {
                        message: goal.message,
                        declared: goal.span.is_some(),
                        source_code: self.program.file(main).source_text(),
                        span: goal.span.map(Into::into),
                    }))
                } else if broken.is_empty() {
                    Ok(Ending::Completed)
                } else {
                    let violations = broken
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    Err(Halt::Fatal(RuntimeError::UnhealthyEnd { violations }))
                }
            }
            other => other,
        };
        let table = cluster_table(&cluster);
        let resume = self.resume_command();
        let cause_code = match &result {
            Ok(Ending::Failed(failure)) => failure.cause_code.clone(),
            _ => None,
        };
        let (outcome, message, error, resumable) =
            self.outcome_of(result, &table, resume.as_deref());
        let resumable = resumable && resume.is_some();
        // A journal that cannot be written any more is already reported by `error`.
        let _ = self.journal(Record::RunFinished {
            ts: super::events::now_rfc3339(),
            outcome,
            message: message.clone(),
            resumable,
            cluster: (!cluster.servers.is_empty()).then(|| cluster.clone()),
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

    /// How the run ended, in the report's words: the outcome, the message,
    /// the error to show and whether a resume can go on.
    fn outcome_of(
        &self,
        result: Outcome,
        table: &str,
        resume: Option<&str>,
    ) -> (RunOutcome, String, Option<RuntimeError>, bool) {
        match result {
            Ok(Ending::Completed) => (
                RunOutcome::Succeeded,
                format!("{} completed", self.program.name()),
                None,
                false,
            ),
            // A `stop` ends the run for good: its message says what the
            // operator does next (a resume could not make progress).
            Ok(Ending::Stopped(message)) => (RunOutcome::Stopped, message, None, false),
            // A `pause` tells the operator what to fix: once that is done,
            // `runbook resume` runs the interrupted step again.
            Ok(Ending::Paused(message)) => (RunOutcome::Stopped, message, None, true),
            Ok(Ending::Declined(id)) => (
                RunOutcome::Stopped,
                if id.ends_with("discard-changes") {
                    format!("the operator declined `{id}`: administrator changes would be lost (`--yes` alone never confirms that: add `--accept-data-loss`, or answer it in the answers file)")
                } else {
                    format!("the operator declined `{id}`")
                },
                None,
                true,
            ),
            Err(Halt::Interrupted(at)) => (
                RunOutcome::Stopped,
                match at {
                    None => String::from("interrupted; the current step was finished and journaled"),
                    Some(at) => format!(
                        "interrupted {at}; the step under way was journaled as interrupted and runs again on resume"
                    ),
                },
                Some(RuntimeError::Interrupted {
                    resume: resume
                        .map(|command| format!("continue with `{command}`"))
                        .unwrap_or_else(|| String::from("the run had no journal; start it again")),
                }),
                true,
            ),
            Ok(Ending::Fail {
                message,
                file,
                span,
            }) => {
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
            Ok(Ending::Failed(failure)) => {
                let error = self.failure_error(*failure, table, resume);
                (RunOutcome::Failed, error.to_string(), Some(error), true)
            }
            Ok(Ending::RetryOutside { file, span }) => {
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
            // A `--what-if` that names no handler fails the same way on resume.
            Err(Halt::Fatal(
                error @ (RuntimeError::UnknownWhatIf { .. } | RuntimeError::NoWhatIfs { .. }),
            )) => (RunOutcome::Failed, error.to_string(), Some(error), false),
            // The program ran to its end: there is nothing to resume.
            Err(Halt::Fatal(error @ RuntimeError::UnhealthyEnd { .. })) => {
                (RunOutcome::Failed, error.to_string(), Some(error), false)
            }
            Err(Halt::Fatal(error)) => (RunOutcome::Failed, error.to_string(), Some(error), true),
            Err(Halt::Unseen(what)) => (
                RunOutcome::Stopped,
                what.clone(),
                Some(RuntimeError::OutcomeNotSeen {
                    what,
                    help: match resume {
                        Some(command) => format!(
                            "nothing was judged failed; check the servers and the network, then continue with `{command}`: the run reads the cluster again and waits for what is still running"
                        ),
                        None => String::from("the run had no journal; check the cluster, then start it again"),
                    },
                }),
                true,
            ),
            Err(Halt::Window(error)) => (RunOutcome::Stopped, error.to_string(), Some(error), true),
            Err(Halt::Crash) => (RunOutcome::Failed, String::new(), None, true),
        }
    }

    fn failure_error(&self, failure: Failure, table: &str, resume: Option<&str>) -> RuntimeError {
        let source = self.program.file(failure.file);
        let step = failure
            .within
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
}

/// The machine's view of a connector error.
fn operation_error(error: &ConnectorError) -> OperationError {
    OperationError {
        message: error.to_string(),
        cancelled: matches!(error, ConnectorError::UpgradeCancelled { .. }),
        code: connector_code(error),
        // When the server could not be reached, the connector's help says
        // what to do (a slow server: the time limits; an untrusted
        // certificate: `--ca-cert`).
        help: error.reach_help(),
    }
}

/// The diagnostic code of a connector error (`runbook::connector::...`).
fn connector_code(error: &ConnectorError) -> Option<String> {
    miette::Diagnostic::code(error).map(|code| code.to_string())
}

/// Whether an operation is worth a spinner (it runs in the background on the server).
fn is_long(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::Upgrade { .. }
            | Operation::InitStandby { .. }
            | Operation::Activate { .. }
            | Operation::Backup { .. }
    )
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

/// A window's limit as written when it is a literal (`5m`), else in words.
/// How much of a window is left when the run says it is closing: a quarter
/// of it, at most five minutes (a 5m window: 1m15s; 2h: 5m).
pub(super) fn closing_margin(limit: Duration) -> Duration {
    (limit / 4).min(Duration::from_secs(5 * 60))
}

fn window_limit(clause: &crate::syntax::ast::Window) -> String {
    match &clause.duration.kind {
        crate::syntax::ast::ExprKind::Duration(limit) => format_duration(*limit),
        _ => String::from("its limit"),
    }
}
