//! The symbolic small-step machine: the interpreter's statement semantics
//! (steps, What-if triggers, `retry`, windows, discarded changes, prompts)
//! over the pure [`Cluster`], with every nondeterministic point (a prompt, a
//! fault, a background outcome) turned into a branch. A machine [`State`] is
//! `Hash + Eq`: a continuation (stack of frames: unit, program counter,
//! bindings, loops) plus the cluster, so the explorer can memoize it.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::compile::{Compiled, HandlerId, Instr, Pc, StepId, UnitId};
use super::property::{Property, Violation};
use crate::cluster::durations::CHANGE_INTERVAL;
use crate::cluster::{
    check_transition, check_upgraded, possible_fault_events, possible_job_outcomes, Cluster,
    FailureKind, Fault, FaultEvent, FaultPoint, InvariantViolation, JobId, JobOutcome, Operation,
    OperationOutput, Progress, ReplicationState, SimError, Snapshot, Started, Version,
};
use crate::connect::sim::connector_error;
use crate::interp::eval::{self, format_duration, EvalContext, EvalError, Value};
use crate::interp::events::RunOutcome;
use crate::interp::machine::{DEFAULT_WAIT_INTERVAL, MAX_RETRIES, MAX_UNBOUNDED_WAIT};
use crate::interp::observe::{self, OperationRecord};
use crate::syntax::ast::{self, TriggerKind};
use crate::syntax::Span;

/// The text a `record` prompt is answered with: the verifier treats every
/// observation alike (a recorded string only ever compares with strings).
pub const RECORDED_TEXT: &str = "(any text)";

/// How many instructions one deterministic run may execute before the
/// verifier reports that the runbook does not terminate.
const MAX_INSTRUCTIONS: usize = 200_000;

/// An operator answer, kept in the state while the instruction that asked
/// for it is executed again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Choice {
    /// A confirmation.
    Bool(bool),
    /// An option name, a server name or recorded text.
    Text(String),
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Choice::Bool(true) => f.write_str("yes"),
            Choice::Bool(false) => f.write_str("no"),
            Choice::Text(text) => f.write_str(text),
        }
    }
}

/// One thing that happened on a path, in order: what a counterexample shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum PathEvent {
    /// A step started (again, after `retry`).
    StepStarted {
        /// The step id.
        step: String,
        /// The step's number, as written.
        number: Option<String>,
        /// Index of the file in the program.
        #[serde(skip)]
        file: usize,
        /// The step's id in the source.
        #[serde(skip)]
        span: Span,
        /// Whether `retry` started it again.
        retry: bool,
    },
    /// An operator answer.
    Prompt {
        /// The prompt id (the answers file key).
        id: String,
        /// The answer.
        answer: Choice,
        /// Index of the file.
        #[serde(skip)]
        file: usize,
        /// The prompt in the source.
        #[serde(skip)]
        span: Span,
    },
    /// An operation on the cluster and its result.
    Operation {
        /// The operation, e.g. `upgrade mgt-1 to 7.4.0`.
        operation: String,
        /// The error message when it failed.
        error: Option<String>,
        /// Index of the file.
        #[serde(skip)]
        file: usize,
        /// The operation in the source.
        #[serde(skip)]
        span: Span,
    },
    /// A fault fired.
    Fault {
        /// The contract fault (`upgrade-fails:mgt-2`), or `background-outcome`.
        fault: String,
        /// What happened.
        description: String,
        /// The `--sim-fault` that plays it on the simulator, if one does.
        replay: Option<String>,
    },
    /// A What-if handler was entered.
    WhatIf {
        /// The handler id.
        name: String,
        /// Why it fired.
        reason: String,
        /// Index of the file.
        #[serde(skip)]
        file: usize,
        /// The handler's id in the source.
        #[serde(skip)]
        span: Span,
    },
}

/// How a path ended (properties already checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndInfo {
    /// Succeeded, failed or stopped.
    pub outcome: RunOutcome,
    /// The run's final message.
    pub message: String,
    /// The faults of the configuration that fired on the path (bit per fault).
    pub fired: u32,
    /// Whether a What-if was entered after a fault fired.
    pub handled: bool,
}

/// What follows a deterministic run.
#[derive(Debug)]
pub enum Next {
    /// A state where the run continues (after a branch was taken).
    State(Box<State>),
    /// The run ended well.
    End(EndInfo),
    /// A property broke.
    Violation(Box<Violation>),
}

/// One edge of the exploration graph.
#[derive(Debug)]
pub struct Transition {
    /// What happened along it.
    pub events: Vec<PathEvent>,
    /// Where it leads.
    pub next: Next,
}

/// One activation record: a file body, a called procedure or a What-if body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    unit: UnitId,
    pc: Pc,
    vars: Vec<(String, Value)>,
    marks: Vec<u32>,
    loops: Vec<VecDeque<String>>,
    handler: bool,
}

impl Frame {
    fn new(unit: UnitId, vars: Vec<(String, Value)>) -> Self {
        Frame {
            unit,
            pc: 0,
            vars,
            marks: Vec::new(),
            loops: Vec::new(),
            handler: false,
        }
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        self.vars
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value.clone())
    }

    fn bind(&mut self, name: &str, value: Value) {
        let scope_start = self.marks.last().copied().unwrap_or(0) as usize;
        if let Some(slot) = self.vars[scope_start..]
            .iter_mut()
            .find(|(bound, _)| bound == name)
        {
            slot.1 = value;
        } else {
            self.vars.push((name.to_string(), value));
        }
    }
}

/// The step being run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StepContext {
    step: StepId,
    depth: u16,
    saved: Frame,
    /// Handlers already fired for this step instance (each fires once).
    fired: Vec<HandlerId>,
    retries: u8,
    in_handler: bool,
}

/// A background operation waiting for its end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PendingOperation {
    operation: Operation,
    job: JobId,
    before: Snapshot,
    file: u16,
    span: Span,
    /// The job ended through a fault (an interrupted wizard).
    ended: Option<SimError>,
    /// The split brain the model reported before the operation.
    split_brain_before: Option<Vec<String>>,
}

/// Virtual time, kept only as far as properties need it, so that two paths
/// reaching the same situation at different times still merge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Clock {
    /// Per window: time since its anchor step ended (capped).
    since_anchor: Vec<Option<Duration>>,
    /// Time to the next `changes-on-active` tick.
    tick_in: Option<Duration>,
}

/// A memoizable machine state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    cluster: Cluster,
    frames: Vec<Frame>,
    step: Option<StepContext>,
    pending: Option<PendingOperation>,
    answers: Vec<(String, Choice)>,
    fired: u32,
    outcome_used: bool,
    clock: Clock,
    windows_open: Vec<u16>,
    reported_changes: Vec<(String, u64)>,
    /// Servers the run itself made Active (sorted): they do not fire
    /// `standby-activated`, exactly as in the interpreter.
    activated_by_run: Vec<String>,
    handled: bool,
}

/// Why execution leaves the normal path (mirrors the interpreter's).
enum Abort {
    Failure { reason: String },
    WhatIf { handler: HandlerId, reason: String },
    Stop(String),
    Declined(String),
    Fail(String),
    Retry,
}

enum Flow {
    Continue,
    Branch(Vec<(Vec<PathEvent>, State)>),
    End(RunOutcome, String),
    Violation(Violation),
}

/// What evaluation can end with besides a value.
enum EvalStop {
    Error(EvalError),
    Select {
        id: String,
        servers: Vec<String>,
        span: Span,
    },
}

impl From<EvalError> for EvalStop {
    fn from(error: EvalError) -> Self {
        EvalStop::Error(error)
    }
}

struct Context<'a> {
    frame: &'a Frame,
    snapshot: &'a Snapshot,
    initial: &'a Snapshot,
    answers: &'a [(String, Choice)],
}

impl EvalContext for Context<'_> {
    type Error = EvalStop;

    fn lookup(&self, name: &str) -> Option<Value> {
        self.frame.lookup(name)
    }

    fn snapshot(&self) -> &Snapshot {
        self.snapshot
    }

    fn initial(&self) -> &Snapshot {
        self.initial
    }

    fn select(
        &mut self,
        id: &ast::Ident,
        _text: &ast::StringLit,
        servers: Vec<String>,
        span: Span,
    ) -> Result<String, EvalStop> {
        match self
            .answers
            .iter()
            .find(|(answered, _)| *answered == id.name)
        {
            Some((_, Choice::Text(server))) if servers.contains(server) => Ok(server.clone()),
            _ => Err(EvalStop::Select {
                id: id.name.clone(),
                servers,
                span,
            }),
        }
    }
}

/// One fault configuration: which faults may fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSet {
    /// The contract faults.
    pub faults: Vec<Fault>,
    /// Also explore every outcome of every background operation (at most one per path).
    pub any_outcome: bool,
}

impl FaultSet {
    /// How the set is named in reports.
    pub fn label(&self) -> String {
        let mut names: Vec<String> = self.faults.iter().map(ToString::to_string).collect();
        if self.any_outcome {
            names.push(String::from("background-outcome"));
        }
        if names.is_empty() {
            String::from("no fault")
        } else {
            names.join(" + ")
        }
    }
}

/// The machine for one fault configuration.
pub struct Machine<'c, 'p> {
    compiled: &'c Compiled<'p>,
    faults: FaultSet,
    initial: Snapshot,
    initial_cluster: Cluster,
    initial_active: String,
    target: Version,
    window_limits: Vec<Duration>,
    anchor_cap: Duration,
}

impl<'c, 'p> Machine<'c, 'p> {
    /// A machine over `servers` servers on `initial_version`, upgrading to
    /// `target`, with `faults` enabled.
    pub fn new(
        compiled: &'c Compiled<'p>,
        names: &[String],
        initial_version: &Version,
        target: Version,
        faults: FaultSet,
    ) -> Self {
        let mut cluster = Cluster::new(names, initial_version);
        let initial_active = names.first().cloned().unwrap_or_default();
        // Faults before the run always fire, as in the simulator.
        let start_events = possible_fault_events(
            &cluster,
            &faults.faults,
            &FaultPoint::RunStart,
            &initial_active,
        );
        for (_, event) in &start_events {
            cluster.inject(event);
        }
        let initial = observed(&cluster);
        let mut machine = Machine {
            compiled,
            faults,
            initial,
            initial_cluster: cluster,
            initial_active,
            target,
            window_limits: Vec::new(),
            anchor_cap: Duration::ZERO,
        };
        machine.window_limits = compiled
            .windows
            .iter()
            .map(|window| {
                let frame = Frame::new(0, Vec::new());
                match machine.eval_in(&window.clause.duration, &frame, &machine.initial, &[]) {
                    Ok(Value::Duration(limit)) => limit,
                    _ => Duration::ZERO,
                }
            })
            .collect();
        machine.anchor_cap = machine
            .window_limits
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            + Duration::from_secs(1);
        machine
    }

    /// The state before the first statement.
    pub fn initial_state(&self) -> State {
        let main = self.compiled.program.main;
        let params = self.default_params(main);
        let fired = self
            .faults
            .faults
            .iter()
            .enumerate()
            .filter(|(_, fault)| matches!(fault, Fault::ReplicationDown | Fault::Unreachable(_)))
            .fold(0u32, |mask, (index, _)| mask | (1 << index));
        State {
            cluster: self.initial_cluster.clone(),
            frames: vec![Frame::new(self.compiled.file_units[main], params)],
            step: None,
            pending: None,
            answers: Vec::new(),
            fired,
            outcome_used: false,
            clock: Clock {
                since_anchor: vec![None; self.compiled.windows.len()],
                tick_in: self
                    .faults
                    .faults
                    .contains(&Fault::ChangesOnActive)
                    .then_some(CHANGE_INTERVAL),
            },
            windows_open: Vec::new(),
            reported_changes: Vec::new(),
            activated_by_run: Vec::new(),
            handled: false,
        }
    }

    fn default_params(&self, file: usize) -> Vec<(String, Value)> {
        let frame = Frame::new(0, Vec::new());
        self.compiled.program.files[file]
            .ast
            .params
            .iter()
            .filter_map(|param| {
                let default = param.default.as_ref()?;
                self.eval_in(default, &frame, &self.initial, &[])
                    .ok()
                    .map(|value| (param.name.name.clone(), value))
            })
            .collect()
    }

    /// Runs `state` deterministically until it branches or ends.
    pub fn run(&self, mut state: State) -> Vec<Transition> {
        let mut events = Vec::new();
        for _ in 0..MAX_INSTRUCTIONS {
            match self.step_once(&mut state, &mut events) {
                Flow::Continue => {}
                Flow::Branch(options) => {
                    return options
                        .into_iter()
                        .map(|(mut extra, next)| {
                            let mut all = events.clone();
                            all.append(&mut extra);
                            Transition {
                                events: all,
                                next: Next::State(Box::new(next)),
                            }
                        })
                        .collect();
                }
                Flow::End(outcome, message) => {
                    let next = match self.end_violation(&state, outcome, &message) {
                        Some(violation) => Next::Violation(Box::new(violation)),
                        None => Next::End(EndInfo {
                            outcome,
                            message,
                            fired: self.fired_on_path(&state),
                            handled: state.handled,
                        }),
                    };
                    return vec![Transition { events, next }];
                }
                Flow::Violation(violation) => {
                    return vec![Transition {
                        events,
                        next: Next::Violation(Box::new(violation)),
                    }]
                }
            }
        }
        let (file, span) = self.position(&state);
        vec![Transition {
            events,
            next: Next::Violation(Box::new(Violation {
                property: Property::NoTermination,
                message: format!(
                    "the run executed {MAX_INSTRUCTIONS} statements without reaching a prompt, a fault point or an end"
                ),
                file,
                span,
                cluster: observed(&state.cluster),
                fired: self.fired_on_path(&state),
            })),
        }]
    }

    /// Faults that fired on the path (bit per fault of the configuration;
    /// the top bit for a background outcome), those before the run excepted.
    fn fired_on_path(&self, state: &State) -> u32 {
        let outcome = if state.outcome_used { 1 << 31 } else { 0 };
        (state.fired & !self.start_faults_mask()) | outcome
    }

    /// Faults that fire before the run (not chosen on the path).
    pub fn start_faults_mask(&self) -> u32 {
        self.faults
            .faults
            .iter()
            .enumerate()
            .filter(|(_, fault)| matches!(fault, Fault::ReplicationDown | Fault::Unreachable(_)))
            .fold(0u32, |mask, (index, _)| mask | (1 << index))
    }

    fn position(&self, state: &State) -> (usize, Span) {
        match state.frames.last() {
            Some(frame) => {
                let file = self.compiled.unit_file(frame.unit);
                (file, self.instr_span(frame.unit, frame.pc))
            }
            None => (self.compiled.program.main, Span::default()),
        }
    }

    fn instr_span(&self, unit: UnitId, pc: Pc) -> Span {
        match self.compiled.units[unit as usize].code.get(pc as usize) {
            Some(Instr::Let { value, name }) => name.span.to(value.span),
            Some(Instr::StepBegin(step)) | Some(Instr::StepEnd(step)) => {
                self.compiled.steps[*step as usize].step.id.span
            }
            Some(Instr::Operation(call)) => call.span,
            Some(Instr::Call(call)) => call.span,
            Some(
                Instr::Confirm { span, .. }
                | Instr::Record { span, .. }
                | Instr::Check { span, .. }
                | Instr::Wait { span, .. }
                | Instr::Stop { span, .. }
                | Instr::Fail { span, .. }
                | Instr::Retry { span },
            ) => *span,
            Some(Instr::Choose { choose, .. }) => choose.id.span,
            Some(Instr::BranchUnless { condition, .. }) => condition.span,
            Some(Instr::ForStart { list }) => list.span,
            Some(Instr::DiscardsChanges { server, .. }) => server.span,
            _ => Span::default(),
        }
    }

    fn violation(
        &self,
        state: &State,
        property: Property,
        message: String,
        file: usize,
        span: Span,
    ) -> Violation {
        Violation {
            property,
            message,
            file,
            span,
            cluster: observed(&state.cluster),
            fired: self.fired_on_path(state),
        }
    }

    /// Properties of an end: never two Actives; a success is the upgraded,
    /// healthy cluster.
    fn end_violation(
        &self,
        state: &State,
        outcome: RunOutcome,
        message: &str,
    ) -> Option<Violation> {
        let (file, span) = self.position(state);
        let actives = running_actives(&state.cluster);
        if actives.len() > 1 {
            return Some(self.violation(
                state,
                Property::TwoActivesAtEnd,
                format!(
                    "the run ends ({}) with several Active servers: {}",
                    outcome_word(outcome),
                    actives.join(", ")
                ),
                file,
                span,
            ));
        }
        if outcome == RunOutcome::Succeeded {
            let problems = check_upgraded(&state.cluster.snapshot(), &self.target);
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Some(self.violation(
                    state,
                    Property::NotUpgraded,
                    format!(
                        "the run succeeds but the cluster is not upgraded and healthy: {}",
                        list.join("; ")
                    ),
                    file,
                    span,
                ));
            }
        }
        let _ = message;
        None
    }

    // ----- evaluation -----

    fn eval_in(
        &self,
        expr: &ast::Expr,
        frame: &Frame,
        snapshot: &Snapshot,
        answers: &[(String, Choice)],
    ) -> Result<Value, EvalStop> {
        let mut context = Context {
            frame,
            snapshot,
            initial: &self.initial,
            answers,
        };
        eval::eval(expr, &mut context)
    }

    fn branch_select(&self, state: &State, id: String, servers: Vec<String>, span: Span) -> Flow {
        let file = self.position(state).0;
        Flow::Branch(
            servers
                .into_iter()
                .map(|server| {
                    let mut next = state.clone();
                    next.answers
                        .push((id.clone(), Choice::Text(server.clone())));
                    let event = PathEvent::Prompt {
                        id: id.clone(),
                        answer: Choice::Text(server),
                        file,
                        span,
                    };
                    (vec![event], next)
                })
                .collect(),
        )
    }

    fn branch_answers(
        &self,
        state: &State,
        id: &str,
        answers: Vec<Choice>,
        file: usize,
        span: Span,
    ) -> Flow {
        Flow::Branch(
            answers
                .into_iter()
                .map(|answer| {
                    let mut next = state.clone();
                    next.answers.push((id.to_string(), answer.clone()));
                    let event = PathEvent::Prompt {
                        id: id.to_string(),
                        answer,
                        file,
                        span,
                    };
                    (vec![event], next)
                })
                .collect(),
        )
    }

    // ----- the small step -----

    fn step_once(&self, state: &mut State, events: &mut Vec<PathEvent>) -> Flow {
        if state.pending.is_some() {
            return self.advance_pending(state, events);
        }
        let Some(frame) = state.frames.last() else {
            return Flow::End(
                RunOutcome::Succeeded,
                format!("{} completed", self.compiled.program.name()),
            );
        };
        let (unit, pc) = (frame.unit, frame.pc);
        let file = self.compiled.unit_file(unit);
        let Some(instr) = self.compiled.units[unit as usize].code.get(pc as usize) else {
            return Flow::End(
                RunOutcome::Failed,
                String::from("the program counter left its unit"),
            );
        };
        let snapshot = observed(&state.cluster);

        macro_rules! eval_here {
            ($expr:expr) => {{
                let frame = state.frames.last().expect("a frame is running");
                match self.eval_in($expr, frame, &snapshot, &state.answers) {
                    Ok(value) => value,
                    Err(EvalStop::Select { id, servers, span }) => {
                        return self.branch_select(state, id, servers, span)
                    }
                    Err(EvalStop::Error(error)) => {
                        return self.eval_failure(state, error, file);
                    }
                }
            }};
        }
        macro_rules! expect {
            ($result:expr) => {
                match $result {
                    Ok(value) => value,
                    Err(error) => return self.eval_failure(state, error, file),
                }
            };
        }

        match instr {
            Instr::Let { name, value } => {
                let value = eval_here!(value);
                let frame = top(state);
                frame.bind(&name.name, value);
                self.advance(state);
                Flow::Continue
            }
            Instr::StepBegin(step) => self.step_begin(state, *step, &snapshot, events),
            Instr::StepEnd(step) => {
                let ours = state.step.as_ref().is_some_and(|context| {
                    context.step == *step && context.depth as usize + 1 == state.frames.len()
                });
                if ours {
                    state.step = None;
                    self.advance(state);
                    self.step_finished(state, *step)
                } else {
                    self.advance(state);
                    Flow::Continue
                }
            }
            Instr::Operation(call) => self.operation(state, call, file, &snapshot, events),
            Instr::DiscardsChanges { server, prompt_id } => {
                match self.discards_changes(state, server, prompt_id, file, &snapshot) {
                    Some(flow) => flow,
                    None => {
                        self.advance(state);
                        Flow::Continue
                    }
                }
            }
            Instr::Confirm { id, span } => match take_answer(state, &id.name) {
                Some(Choice::Bool(true)) => {
                    self.advance(state);
                    Flow::Continue
                }
                Some(_) => self.abort(state, Abort::Declined(id.name.clone()), events),
                None => self.branch_answers(
                    state,
                    &id.name,
                    vec![Choice::Bool(true), Choice::Bool(false)],
                    file,
                    *span,
                ),
            },
            Instr::Choose { choose, targets } => match take_answer(state, &choose.id.name) {
                Some(Choice::Text(option)) => {
                    let index = choose
                        .options
                        .iter()
                        .position(|candidate| candidate.name.name == option)
                        .unwrap_or(0);
                    top(state).pc = targets.get(index).copied().unwrap_or(pc + 1);
                    Flow::Continue
                }
                _ => self.branch_answers(
                    state,
                    &choose.id.name,
                    choose
                        .options
                        .iter()
                        .map(|option| Choice::Text(option.name.name.clone()))
                        .collect(),
                    file,
                    choose.id.span,
                ),
            },
            Instr::Record { id, span } => {
                events.push(PathEvent::Prompt {
                    id: id.name.clone(),
                    answer: Choice::Text(RECORDED_TEXT.to_string()),
                    file,
                    span: *span,
                });
                top(state).bind(
                    &id.name.replace('-', "_"),
                    Value::String(RECORDED_TEXT.to_string()),
                );
                self.advance(state);
                Flow::Continue
            }
            Instr::Check {
                condition, message, ..
            } => {
                let holds = eval_here!(condition);
                if expect!(eval::expect_bool(holds, condition.span)) {
                    self.advance(state);
                    Flow::Continue
                } else {
                    self.abort(
                        state,
                        Abort::Failure {
                            reason: message.value.clone(),
                        },
                        events,
                    )
                }
            }
            Instr::Wait {
                condition,
                timeout,
                every,
                ..
            } => self.wait(state, condition, *timeout, *every, file, events),
            Instr::BranchUnless { condition, target } => {
                let holds = eval_here!(condition);
                let holds = expect!(eval::expect_bool(holds, condition.span));
                let target = *target;
                let frame = top(state);
                frame.pc = if holds { pc + 1 } else { target };
                state.answers.clear();
                Flow::Continue
            }
            Instr::Jump(target) => {
                top(state).pc = *target;
                Flow::Continue
            }
            Instr::ScopePush => {
                let frame = top(state);
                frame.marks.push(frame.vars.len() as u32);
                frame.pc += 1;
                Flow::Continue
            }
            Instr::ScopePop => {
                pop_scope(top(state));
                top(state).pc += 1;
                Flow::Continue
            }
            Instr::ForStart { list } => {
                let value = eval_here!(list);
                let servers = expect!(eval::expect_servers(value, list.span));
                let frame = top(state);
                frame.loops.push(servers.into());
                self.advance(state);
                Flow::Continue
            }
            Instr::ForNext { var, end } => {
                let end = *end;
                let frame = top(state);
                match frame.loops.last_mut().and_then(VecDeque::pop_front) {
                    Some(server) => {
                        frame.marks.push(frame.vars.len() as u32);
                        frame.vars.push((var.name.clone(), Value::Server(server)));
                        frame.pc += 1;
                    }
                    None => {
                        frame.loops.pop();
                        frame.pc = end;
                    }
                }
                Flow::Continue
            }
            Instr::ForLoop { head } => {
                let head = *head;
                let frame = top(state);
                pop_scope(frame);
                frame.pc = head;
                Flow::Continue
            }
            Instr::Call(call) => self.call(state, call, file, &snapshot),
            Instr::Stop { message, .. } => {
                self.abort(state, Abort::Stop(message.value.clone()), events)
            }
            Instr::Fail { message, .. } => {
                self.abort(state, Abort::Fail(message.value.clone()), events)
            }
            Instr::Retry { .. } => self.abort(state, Abort::Retry, events),
            Instr::Return => {
                let Some(frame) = state.frames.pop() else {
                    return Flow::Continue;
                };
                if frame.handler {
                    self.handler_finished(state)
                } else if state.frames.is_empty() {
                    Flow::End(
                        RunOutcome::Succeeded,
                        format!("{} completed", self.compiled.program.name()),
                    )
                } else {
                    Flow::Continue
                }
            }
        }
    }

    /// Moves past the current instruction, forgetting its answers.
    fn advance(&self, state: &mut State) {
        state.answers.clear();
        top(state).pc += 1;
    }

    fn eval_failure(&self, state: &State, error: EvalError, file: usize) -> Flow {
        let message = match &error.help {
            Some(help) => format!("{} ({help})", error.message),
            None => error.message.clone(),
        };
        Flow::Violation(self.violation(
            state,
            Property::EvaluationError,
            format!("an expression cannot be evaluated: {message}"),
            file,
            error.span,
        ))
    }

    fn two_actives_violation(
        &self,
        state: &State,
        when: &str,
        file: usize,
        span: Span,
    ) -> Option<Violation> {
        if !state.windows_open.is_empty() {
            return None;
        }
        let actives = running_actives(&state.cluster);
        (actives.len() > 1).then(|| {
            self.violation(
                state,
                Property::TwoActives,
                format!(
                    "{} Active servers ({}) {when}, outside any `within ... after` window",
                    actives.len(),
                    actives.join(", ")
                ),
                file,
                span,
            )
        })
    }

    /// `discards changes on EXPR` (on a step, a `choose` option or a What-if),
    /// as the interpreter runs it: counts the administrator changes made on
    /// the server since the start, asks `prompt_id` when there are any, and
    /// records them as reported. `None`: go on; `Some`: the path branches on
    /// the answer or ends here.
    fn discards_changes(
        &self,
        state: &mut State,
        server_expr: &ast::Expr,
        prompt_id: &str,
        file: usize,
        snapshot: &Snapshot,
    ) -> Option<Flow> {
        let frame = state.frames.last().expect("a frame is running");
        let server = match self.eval_in(server_expr, frame, snapshot, &state.answers) {
            Ok(Value::Server(server)) => server,
            Ok(other) => {
                return Some(self.eval_failure(
                    state,
                    EvalError {
                        message: format!(
                            "`discards changes on` names a server, not a {}",
                            other.type_name()
                        ),
                        span: server_expr.span,
                        help: None,
                    },
                    file,
                ))
            }
            Err(EvalStop::Select { id, servers, span }) => {
                return Some(self.branch_select(state, id, servers, span))
            }
            Err(EvalStop::Error(error)) => return Some(self.eval_failure(state, error, file)),
        };
        let changes = observe::changes_since(&self.initial, snapshot, &server);
        let revision_now = state
            .cluster
            .server(&server)
            .map_or(0, |server| server.config_revision);
        // As the interpreter: changes the operator already agreed to lose
        // are announced again but not asked again.
        let already_agreed = state
            .reported_changes
            .iter()
            .any(|(name, at)| *name == server && revision_now <= *at);
        if changes > 0 && !already_agreed {
            match take_answer(state, prompt_id) {
                Some(Choice::Bool(true)) => {}
                Some(_) => {
                    return Some(Flow::End(
                        RunOutcome::Stopped,
                        format!("the operator declined `{prompt_id}`"),
                    ));
                }
                None => {
                    return Some(self.branch_answers(
                        state,
                        prompt_id,
                        vec![Choice::Bool(true), Choice::Bool(false)],
                        file,
                        server_expr.span,
                    ))
                }
            }
        }
        state.reported_changes.retain(|(name, _)| *name != server);
        state.reported_changes.push((server, revision_now));
        None
    }

    fn step_begin(
        &self,
        state: &mut State,
        step: StepId,
        snapshot: &Snapshot,
        events: &mut Vec<PathEvent>,
    ) -> Flow {
        if state.step.is_some() {
            // A runbook called inside a step: its steps belong to this one.
            self.advance(state);
            return Flow::Continue;
        }
        let info = &self.compiled.steps[step as usize];
        let file = info.file;
        if let Some(window) = info.window {
            if let Some(elapsed) = state.clock.since_anchor[window] {
                let limit = self.window_limits[window];
                if elapsed > limit {
                    let clause = self.compiled.windows[window].clause;
                    return Flow::Violation(self.violation(
                        state,
                        Property::WindowExceeded,
                        format!(
                            "step `{}` starts more than {} after `{}` ended, when every background operation takes its full time",
                            info.step.id.name,
                            format_duration(limit),
                            clause.after.name,
                        ),
                        file,
                        clause.span,
                    ));
                }
            }
        }
        if let Some(violation) =
            self.two_actives_violation(state, "when the step starts", file, info.step.id.span)
        {
            return Flow::Violation(violation);
        }
        if state.answers.is_empty() {
            events.push(step_started(info, false));
        }
        if let Some(server_expr) = &info.step.discards_changes_on {
            let prompt_id = format!("{}.discard-changes", info.step.id.name);
            if let Some(flow) =
                self.discards_changes(state, server_expr, &prompt_id, file, snapshot)
            {
                return flow;
            }
        }
        for &window in &info.anchors {
            let window = window as u16;
            if !state.windows_open.contains(&window) {
                state.windows_open.push(window);
                state.windows_open.sort_unstable();
            }
        }
        let depth = (state.frames.len() - 1) as u16;
        let saved = state.frames[depth as usize].clone();
        state.step = Some(StepContext {
            step,
            depth,
            saved,
            fired: Vec::new(),
            retries: 0,
            in_handler: false,
        });
        self.advance(state);
        Flow::Continue
    }

    /// A step ended (normally, or through a handler that let the run go on).
    fn step_finished(&self, state: &mut State, step: StepId) -> Flow {
        let info = &self.compiled.steps[step as usize];
        for &window in &info.anchors {
            state.clock.since_anchor[window] = Some(Duration::ZERO);
        }
        if let Some(window) = info.window {
            state.windows_open.retain(|open| *open as usize != window);
        }
        match self.two_actives_violation(state, "when the step ends", info.file, info.step.id.span)
        {
            Some(violation) => Flow::Violation(violation),
            None => Flow::Continue,
        }
    }

    fn call(&self, state: &mut State, call: &ast::Call, file: usize, snapshot: &Snapshot) -> Flow {
        let Some(callee) = self.compiled.program.callee(file, &call.target.name) else {
            return Flow::Violation(self.violation(
                state,
                Property::EvaluationError,
                format!("nothing named `{}` can be called", call.target.name),
                file,
                call.span,
            ));
        };
        let mut params = Vec::new();
        for arg in &call.args {
            let frame = state.frames.last().expect("a frame is running");
            match self.eval_in(&arg.value, frame, snapshot, &state.answers) {
                Ok(value) => params.push((arg.name.name.clone(), value)),
                Err(EvalStop::Select { id, servers, span }) => {
                    return self.branch_select(state, id, servers, span)
                }
                Err(EvalStop::Error(error)) => return self.eval_failure(state, error, file),
            }
        }
        for (name, value) in self.default_params(callee) {
            if !params.iter().any(|(given, _)| *given == name) {
                params.push((name, value));
            }
        }
        let missing = self.compiled.program.files[callee]
            .ast
            .params
            .iter()
            .find(|param| !params.iter().any(|(given, _)| *given == param.name.name));
        if let Some(param) = missing {
            return Flow::Violation(self.violation(
                state,
                Property::EvaluationError,
                format!(
                    "`{}` needs the argument `{}`",
                    call.target.name, param.name.name
                ),
                file,
                call.span,
            ));
        }
        self.advance(state);
        state
            .frames
            .push(Frame::new(self.compiled.file_units[callee], params));
        Flow::Continue
    }

    #[allow(clippy::too_many_arguments)]
    fn wait(
        &self,
        state: &mut State,
        condition: &ast::Expr,
        timeout: Option<&ast::Expr>,
        every: Option<&ast::Expr>,
        file: usize,
        events: &mut Vec<PathEvent>,
    ) -> Flow {
        let frame = state.frames.last().expect("a frame is running").clone();
        let duration = |expr: Option<&ast::Expr>| -> Result<Option<Duration>, EvalError> {
            let Some(expr) = expr else { return Ok(None) };
            match self.eval_in(expr, &frame, &self.initial, &[]) {
                Ok(Value::Duration(duration)) => Ok(Some(duration)),
                Ok(other) => Err(EvalError {
                    message: format!("expected a duration, found a {}", other.type_name()),
                    span: expr.span,
                    help: None,
                }),
                Err(EvalStop::Error(error)) => Err(error),
                Err(EvalStop::Select { span, .. }) => Err(EvalError {
                    message: String::from("a duration cannot ask the operator"),
                    span,
                    help: None,
                }),
            }
        };
        let limit = match duration(timeout) {
            Ok(limit) => limit.unwrap_or(MAX_UNBOUNDED_WAIT),
            Err(error) => return self.eval_failure(state, error, file),
        };
        let interval = match duration(every) {
            Ok(interval) => interval
                .unwrap_or(DEFAULT_WAIT_INTERVAL)
                .max(Duration::from_millis(100)),
            Err(error) => return self.eval_failure(state, error, file),
        };
        let mut waited = Duration::ZERO;
        loop {
            let snapshot = observed(&state.cluster);
            let holds = match self.eval_in(condition, &frame, &snapshot, &[]) {
                Ok(value) => match eval::expect_bool(value, condition.span) {
                    Ok(holds) => holds,
                    Err(error) => return self.eval_failure(state, error, file),
                },
                Err(EvalStop::Error(error)) => return self.eval_failure(state, error, file),
                Err(EvalStop::Select { span, .. }) => {
                    return self.eval_failure(
                        state,
                        EvalError {
                            message: String::from("a `wait` condition cannot ask the operator"),
                            span,
                            help: None,
                        },
                        file,
                    )
                }
            };
            if holds {
                self.advance(state);
                return Flow::Continue;
            }
            if waited >= limit {
                let text = condition
                    .span
                    .text(&self.compiled.program.files[file].text)
                    .to_string();
                return self.abort(
                    state,
                    Abort::Failure {
                        reason: format!("`{text}` did not hold within {}", format_duration(limit)),
                    },
                    events,
                );
            }
            // Nothing changes while the run only polls, unless time-driven
            // faults or background jobs are pending: jump to the timeout.
            if state.clock.tick_in.is_none() && state.cluster.jobs().is_empty() {
                let polls = limit.as_nanos().div_ceil(interval.as_nanos()).max(1);
                let total = interval.saturating_mul(u32::try_from(polls).unwrap_or(u32::MAX));
                let by = total.saturating_sub(waited);
                self.pass_time(state, by);
                waited = total;
            } else {
                self.pass_time(state, interval);
                waited += interval;
            }
        }
    }

    /// Lets time pass without branching (a `wait` polling): background jobs
    /// progress and time-driven faults fire.
    fn pass_time(&self, state: &mut State, by: Duration) {
        let mut left = by;
        while !left.is_zero() {
            let mut step = left;
            if let Some(boundary) = state.cluster.time_to_next_boundary() {
                step = step.min(boundary);
            }
            if let Some(tick) = state.clock.tick_in {
                step = step.min(tick);
            }
            state.cluster.elapse(step);
            self.clock_passes(state, step);
            left = left.saturating_sub(step);
        }
    }

    /// Advances the clock by `by`, firing `changes-on-active` when due.
    fn clock_passes(&self, state: &mut State, by: Duration) {
        for since in state.clock.since_anchor.iter_mut().flatten() {
            *since = (*since + by).min(self.anchor_cap);
        }
        if let Some(tick) = state.clock.tick_in {
            let left = tick.saturating_sub(by);
            if left.is_zero() {
                state.clock.tick_in = Some(CHANGE_INTERVAL);
                let events = possible_fault_events(
                    &state.cluster,
                    &[Fault::ChangesOnActive],
                    &FaultPoint::Tick,
                    &self.initial_active,
                );
                for (_, event) in events {
                    state.cluster.inject(&event);
                    if let Some(index) = self
                        .faults
                        .faults
                        .iter()
                        .position(|fault| *fault == Fault::ChangesOnActive)
                    {
                        state.fired |= 1 << index;
                    }
                }
            } else {
                state.clock.tick_in = Some(left);
            }
        }
    }

    // ----- operations -----

    fn operation(
        &self,
        state: &mut State,
        call: &ast::OperationCall,
        file: usize,
        snapshot: &Snapshot,
        events: &mut Vec<PathEvent>,
    ) -> Flow {
        let operation = {
            let frame = state.frames.last().expect("a frame is running");
            match self.build_operation(call, frame, snapshot, &state.answers) {
                Ok(operation) => operation,
                Err(EvalStop::Select { id, servers, span }) => {
                    return self.branch_select(state, id, servers, span)
                }
                Err(EvalStop::Error(error)) => return self.eval_failure(state, error, file),
            }
        };
        self.advance(state);
        let transition = check_transition(&state.cluster, &operation);
        let before = snapshot.clone();
        let split_brain_before = state.cluster.split_brain().map(<[String]>::to_vec);
        match state.cluster.apply(&operation) {
            Err(
                error @ (SimError::Refused { .. }
                | SimError::Stopped { .. }
                | SimError::UnknownServer { .. }),
            ) => {
                events.push(PathEvent::Operation {
                    operation: operation.to_string(),
                    error: Some(error.to_string()),
                    file,
                    span: call.span,
                });
                let message = connector_error(&operation, error).to_string();
                Flow::Violation(self.violation(
                    state,
                    Property::UncheckedPrecondition,
                    format!("`{operation}` is refused: {message}"),
                    file,
                    call.span,
                ))
            }
            Err(error) => self.finish_operation(
                state,
                operation,
                (before, split_brain_before),
                Err(error),
                file,
                call.span,
                events,
            ),
            Ok(started) => {
                if let Some(mut violation) =
                    self.transition_violation(state, &transition, file, call.span)
                {
                    // Judged on the cluster before the operation.
                    violation.cluster = before;
                    events.push(PathEvent::Operation {
                        operation: operation.to_string(),
                        error: None,
                        file,
                        span: call.span,
                    });
                    return Flow::Violation(violation);
                }
                match started {
                    Started::Finished(output) => self.finish_operation(
                        state,
                        operation,
                        (before, split_brain_before),
                        Ok(output),
                        file,
                        call.span,
                        events,
                    ),
                    Started::Background(job) => {
                        state.pending = Some(PendingOperation {
                            operation,
                            job,
                            before,
                            file: file as u16,
                            span: call.span,
                            ended: None,
                            split_brain_before,
                        });
                        Flow::Continue
                    }
                }
            }
        }
    }

    fn transition_violation(
        &self,
        state: &State,
        found: &[InvariantViolation],
        file: usize,
        span: Span,
    ) -> Option<Violation> {
        for violation in found {
            let property = match violation {
                InvariantViolation::ActiveUpgradedWithDeclaredStandby { .. } => {
                    Property::ActiveUpgradedWithDeclaredStandby
                }
                InvariantViolation::StandbyInitializedWithoutExclusion { .. } => {
                    Property::StandbyInitializedWithoutExclusion
                }
                InvariantViolation::ChangesDiscarded { server, .. } => {
                    let revision = state
                        .cluster
                        .server(server)
                        .map_or(0, |server| server.config_revision);
                    let reported = state
                        .reported_changes
                        .iter()
                        .any(|(name, at)| name == server && revision <= *at);
                    if reported {
                        continue;
                    }
                    Property::ChangesDiscardedUnreported
                }
                _ => continue,
            };
            return Some(self.violation(state, property, violation.to_string(), file, span));
        }
        None
    }

    fn advance_pending(&self, state: &mut State, events: &mut Vec<PathEvent>) -> Flow {
        loop {
            let Some(pending) = state.pending.clone() else {
                return Flow::Continue;
            };
            if let Some(error) = pending.ended.clone() {
                state.pending = None;
                return self.finish_operation(
                    state,
                    pending.operation,
                    (pending.before, pending.split_brain_before),
                    Err(error),
                    pending.file as usize,
                    pending.span,
                    events,
                );
            }
            let Some(boundary) = state.cluster.time_to_next_boundary() else {
                state.pending = None;
                return self.finish_operation(
                    state,
                    pending.operation,
                    (pending.before, pending.split_brain_before),
                    Ok(OperationOutput::Done),
                    pending.file as usize,
                    pending.span,
                    events,
                );
            };
            let mut step = boundary;
            if let Some(tick) = state.clock.tick_in {
                step = step.min(tick);
            }
            let progress = state.cluster.elapse(step);
            self.clock_passes(state, step);
            for item in progress {
                match item {
                    Progress::Reached(point) => {
                        let options = self.fault_options(state, &point);
                        if options.len() > 1 {
                            return Flow::Branch(
                                options
                                    .into_iter()
                                    .map(|chosen| self.apply_faults(state, chosen))
                                    .collect(),
                            );
                        }
                    }
                    Progress::Finished { job, result, .. } if job == pending.job => {
                        state.pending = None;
                        return self.finish_operation(
                            state,
                            pending.operation,
                            (pending.before, pending.split_brain_before),
                            result,
                            pending.file as usize,
                            pending.span,
                            events,
                        );
                    }
                    Progress::Finished { .. } => {}
                }
            }
        }
    }

    /// Every combination of the faults that may fire at `point`: for each
    /// fault not yet fired, one of its events or nothing (firing first, so a
    /// depth-first search meets the simulator's behaviour first).
    fn fault_options(
        &self,
        state: &State,
        point: &FaultPoint,
    ) -> Vec<Vec<(Option<usize>, FaultEvent)>> {
        let mut per_fault: Vec<Vec<(Option<usize>, FaultEvent)>> = Vec::new();
        for (index, fault) in self.faults.faults.iter().enumerate() {
            if state.fired & (1 << index) != 0 || matches!(fault, Fault::ChangesOnActive) {
                continue;
            }
            let events = possible_fault_events(
                &state.cluster,
                std::slice::from_ref(fault),
                point,
                &self.initial_active,
            );
            if !events.is_empty() {
                per_fault.push(
                    events
                        .into_iter()
                        .map(|(_, event)| (Some(index), event))
                        .collect(),
                );
            }
        }
        if self.faults.any_outcome && !state.outcome_used {
            let mut outcomes = Vec::new();
            match point {
                FaultPoint::UpgradeCompleting { job, .. } => {
                    if let Some(running) = state.cluster.job(*job) {
                        for outcome in possible_job_outcomes(running) {
                            match outcome {
                                JobOutcome::Fails => {
                                    outcomes.push((None, FaultEvent::UpgradeFails { job: *job }))
                                }
                                JobOutcome::CancelledAndReverted => outcomes
                                    .push((None, FaultEvent::UpgradeCancelled { job: *job })),
                                JobOutcome::Succeeds => {}
                            }
                        }
                    }
                }
                FaultPoint::ActivationPhase { job, .. } => {
                    outcomes.push((None, FaultEvent::ActivationInterrupted { job: *job }))
                }
                _ => {}
            }
            if !outcomes.is_empty() {
                per_fault.push(outcomes);
            }
        }
        let mut combinations: Vec<Vec<(Option<usize>, FaultEvent)>> = vec![Vec::new()];
        for alternatives in per_fault {
            let mut next = Vec::new();
            for prefix in &combinations {
                for alternative in &alternatives {
                    let mut combination = prefix.clone();
                    combination.push(alternative.clone());
                    next.push(combination);
                }
                next.push(prefix.clone());
            }
            combinations = next;
        }
        combinations
    }

    fn apply_faults(
        &self,
        state: &State,
        chosen: Vec<(Option<usize>, FaultEvent)>,
    ) -> (Vec<PathEvent>, State) {
        let mut next = state.clone();
        let mut events = Vec::new();
        for (index, event) in chosen {
            let (fault, replay) = match index {
                Some(index) => {
                    next.fired |= 1 << index;
                    let name = self.faults.faults[index].to_string();
                    (name.clone(), Some(name))
                }
                None => {
                    next.outcome_used = true;
                    (
                        String::from("background-outcome"),
                        self.outcome_as_fault(&next.cluster, &event),
                    )
                }
            };
            events.push(PathEvent::Fault {
                fault,
                description: describe_fault(&next.cluster, &event),
                replay,
            });
            for progress in next.cluster.inject(&event) {
                if let Progress::Finished {
                    job,
                    result: Err(error),
                    ..
                } = progress
                {
                    if let Some(pending) = &mut next.pending {
                        if pending.job == job {
                            pending.ended = Some(error);
                        }
                    }
                }
            }
        }
        (events, next)
    }

    /// The contract fault that makes the simulator play a background outcome.
    fn outcome_as_fault(&self, cluster: &Cluster, event: &FaultEvent) -> Option<String> {
        let job = match event {
            FaultEvent::UpgradeFails { job } | FaultEvent::UpgradeCancelled { job } => {
                cluster.job(*job)?
            }
            _ => return None,
        };
        let crate::cluster::JobKind::Upgrade {
            server, was_active, ..
        } = &job.kind
        else {
            return None;
        };
        match event {
            FaultEvent::UpgradeFails { .. } => Some(format!("upgrade-fails:{server}")),
            _ if *was_active || *server == self.initial_active => {
                Some(String::from("active-upgrade-cancelled"))
            }
            _ => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_operation(
        &self,
        state: &mut State,
        operation: Operation,
        (before, split_brain_before): (Snapshot, Option<Vec<String>>),
        result: Result<OperationOutput, SimError>,
        file: usize,
        span: Span,
        events: &mut Vec<PathEvent>,
    ) -> Flow {
        let error = match &result {
            Ok(output) => output.failure(),
            Err(error) => Some(connector_error(&operation, error.clone()).to_string()),
        };
        if error.is_none() && observe::activates(&operation) {
            let server = operation.server().to_string();
            if let Err(position) = state.activated_by_run.binary_search(&server) {
                state.activated_by_run.insert(position, server);
            }
        }
        let cancelled = matches!(
            result,
            Err(SimError::Failed {
                kind: FailureKind::UpgradeCancelled,
                ..
            })
        );
        events.push(PathEvent::Operation {
            operation: operation.to_string(),
            error: error.clone(),
            file,
            span,
        });
        let record = OperationRecord {
            operation,
            before,
            error: error.clone(),
            cancelled,
            split_brain_before,
        };
        if let Some((handler, reason)) = self.check_conditions(state, &record) {
            return self.abort(state, Abort::WhatIf { handler, reason }, events);
        }
        match error {
            Some(reason) => self.abort(state, Abort::Failure { reason }, events),
            None => Flow::Continue,
        }
    }

    fn build_operation(
        &self,
        call: &ast::OperationCall,
        frame: &Frame,
        snapshot: &Snapshot,
        answers: &[(String, Choice)],
    ) -> Result<Operation, EvalStop> {
        let values = call
            .args
            .iter()
            .map(|arg| self.eval_in(&arg.value, frame, snapshot, answers))
            .collect::<Result<Vec<_>, _>>()?;
        crate::interp::eval::build_operation(call, values).map_err(|error| {
            EvalStop::Error(EvalError {
                message: error.message,
                span: error.span,
                help: None,
            })
        })
    }

    // ----- What-if handlers -----

    fn handler_files(&self, step_file: usize) -> Vec<usize> {
        let main = self.compiled.program.main;
        if step_file == main {
            vec![step_file]
        } else {
            vec![step_file, main]
        }
    }

    fn failed_handler(&self, context: &StepContext) -> Option<HandlerId> {
        let info = &self.compiled.steps[context.step as usize];
        for file in self.handler_files(info.file) {
            for (id, handler) in self.compiled.handlers.iter().enumerate() {
                if handler.file != file || context.fired.contains(&(id as HandlerId)) {
                    continue;
                }
                let watches = handler.what_if.triggers.iter().any(|trigger| {
                    matches!(&trigger.kind, TriggerKind::Failed(step) if step.name == info.step.id.name)
                });
                if watches {
                    return Some(id as HandlerId);
                }
            }
        }
        None
    }

    fn check_conditions(
        &self,
        state: &State,
        last: &OperationRecord,
    ) -> Option<(HandlerId, String)> {
        let context = state.step.as_ref()?;
        if context.in_handler {
            return None;
        }
        let info = &self.compiled.steps[context.step as usize];
        let snapshot = observed(&state.cluster);
        let split_brain = state.cluster.split_brain().map(<[String]>::to_vec);
        let new_split = observe::new_split_brain(last, &split_brain);
        for file in self.handler_files(info.file) {
            for (id, handler) in self.compiled.handlers.iter().enumerate() {
                let what_if = handler.what_if;
                let watching = what_if.during.is_empty()
                    || what_if
                        .during
                        .iter()
                        .any(|during| during.name == info.step.id.name);
                let has_condition = what_if
                    .triggers
                    .iter()
                    .any(|trigger| !matches!(trigger.kind, TriggerKind::Failed(_)));
                if handler.file != file
                    || !watching
                    || !has_condition
                    || context.fired.contains(&(id as HandlerId))
                {
                    continue;
                }
                for trigger in &what_if.triggers {
                    let activated_by_run =
                        |server: &str| state.activated_by_run.iter().any(|name| name == server);
                    let facts = observe::ConditionFacts {
                        initial: &self.initial,
                        now: &snapshot,
                        last,
                        new_split,
                        activated_by_run: &activated_by_run,
                    };
                    let reason =
                        observe::condition_reason(&trigger.kind, &facts, |expr| {
                            match self.eval_in(expr, &context.saved, &snapshot, &[]) {
                                Ok(Value::Server(server)) => Some(server),
                                _ => None,
                            }
                        });
                    if let Some(reason) = reason {
                        return Some((id as HandlerId, reason));
                    }
                }
            }
        }
        None
    }

    fn abort(&self, state: &mut State, abort: Abort, events: &mut Vec<PathEvent>) -> Flow {
        state.answers.clear();
        match abort {
            Abort::Failure { reason, .. } => {
                let handler = state
                    .step
                    .as_ref()
                    .filter(|context| !context.in_handler)
                    .and_then(|context| {
                        self.failed_handler(context).map(|handler| {
                            let step = &self.compiled.steps[context.step as usize].step.id.name;
                            (handler, format!("step `{step}` failed: {reason}"))
                        })
                    });
                match handler {
                    Some((handler, reason)) => self.enter_handler(state, handler, reason, events),
                    None => Flow::End(RunOutcome::Failed, reason),
                }
            }
            Abort::WhatIf { handler, reason } => self.enter_handler(state, handler, reason, events),
            Abort::Stop(message) => Flow::End(RunOutcome::Stopped, message),
            Abort::Declined(id) => {
                Flow::End(RunOutcome::Stopped, format!("the operator declined `{id}`"))
            }
            Abort::Fail(message) => Flow::End(RunOutcome::Failed, message),
            Abort::Retry => self.retry(state, events),
        }
    }

    fn enter_handler(
        &self,
        state: &mut State,
        handler: HandlerId,
        reason: String,
        events: &mut Vec<PathEvent>,
    ) -> Flow {
        let info = &self.compiled.handlers[handler as usize];
        let Some(context) = state.step.as_mut() else {
            return Flow::End(RunOutcome::Failed, reason);
        };
        if !context.fired.contains(&handler) {
            context.fired.push(handler);
        }
        context.in_handler = true;
        let depth = context.depth as usize;
        let saved = context.saved.clone();
        if state.fired & !self.start_faults_mask() != 0 || state.outcome_used {
            state.handled = true;
        }
        events.push(PathEvent::WhatIf {
            name: info.what_if.id.name.clone(),
            reason,
            file: info.file,
            span: info.what_if.id.span,
        });
        state.pending = None;
        state.frames.truncate(depth + 1);
        let step_file = self.compiled.unit_file(saved.unit);
        let mut frame = if info.file == step_file {
            let mut frame = saved.clone();
            frame.loops.clear();
            frame
        } else {
            Frame::new(info.unit, self.default_params(info.file))
        };
        frame.unit = info.unit;
        frame.pc = 0;
        frame.handler = true;
        state.frames[depth] = saved;
        state.frames.push(frame);
        Flow::Continue
    }

    fn handler_finished(&self, state: &mut State) -> Flow {
        let Some(context) = state.step.take() else {
            return Flow::Continue;
        };
        let info = &self.compiled.steps[context.step as usize];
        let depth = context.depth as usize;
        state.frames.truncate(depth + 1);
        let mut frame = context.saved;
        frame.pc = info.after_end;
        state.frames[depth] = frame;
        self.step_finished(state, context.step)
    }

    fn retry(&self, state: &mut State, events: &mut Vec<PathEvent>) -> Flow {
        let Some(context) = state.step.as_mut().filter(|context| context.in_handler) else {
            return Flow::End(
                RunOutcome::Failed,
                String::from("`retry` outside a What-if handler"),
            );
        };
        context.retries += 1;
        let info = &self.compiled.steps[context.step as usize];
        if u32::from(context.retries) > MAX_RETRIES {
            return Flow::End(
                RunOutcome::Failed,
                format!(
                    "`retry` ran step `{}` {MAX_RETRIES} times; giving up",
                    info.step.id.name
                ),
            );
        }
        context.in_handler = false;
        let depth = context.depth as usize;
        let mut frame = context.saved.clone();
        frame.pc = info.body_start;
        state.frames.truncate(depth + 1);
        state.frames[depth] = frame;
        events.push(step_started(info, true));
        Flow::Continue
    }
}

fn top(state: &mut State) -> &mut Frame {
    state.frames.last_mut().expect("a frame is running")
}

fn pop_scope(frame: &mut Frame) {
    if let Some(mark) = frame.marks.pop() {
        frame.vars.truncate(mark as usize);
    }
}

fn take_answer(state: &State, id: &str) -> Option<Choice> {
    state
        .answers
        .iter()
        .find(|(answered, _)| answered == id)
        .map(|(_, answer)| answer.clone())
}

fn step_started(info: &super::compile::StepInfo<'_>, retry: bool) -> PathEvent {
    PathEvent::StepStarted {
        step: info.step.id.name.clone(),
        number: info.step.number.as_ref().map(|number| number.text.clone()),
        file: info.file,
        span: info.step.id.span,
        retry,
    }
}

fn running_actives(cluster: &Cluster) -> Vec<String> {
    cluster
        .running_actives()
        .iter()
        .map(|server| server.name.clone())
        .collect()
}

fn outcome_word(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Failed => "failed",
        RunOutcome::Stopped => "stopped",
    }
}

/// The cluster as the operator reads it: an unreachable server shows as not
/// running, replication `UNKNOWN` (as the simulator's observed snapshot).
pub fn observed(cluster: &Cluster) -> Snapshot {
    let mut snapshot = cluster.snapshot();
    for server in &mut snapshot.servers {
        if cluster
            .server(&server.name)
            .is_some_and(|model| model.unreachable)
        {
            server.running = false;
            server.replication = ReplicationState::Unknown;
        }
    }
    snapshot
}

/// A fault event in words, for the path.
fn describe_fault(cluster: &Cluster, event: &FaultEvent) -> String {
    let job_server = |job: &JobId| {
        cluster
            .job(*job)
            .map(|job| job.server().to_string())
            .unwrap_or_else(|| job.to_string())
    };
    match event {
        FaultEvent::ReplicationBroken => String::from("replication breaks on every Standby"),
        FaultEvent::ServerUnreachable { server } => format!("{server} stops answering"),
        FaultEvent::StandbyAutoActivates { server } => {
            format!("{server} becomes Active by itself")
        }
        FaultEvent::StandbyActivatedByOperator { server, changes } => format!(
            "an operator activates {server} and makes {changes} configuration changes on it"
        ),
        FaultEvent::UpgradeCancelled { job } => format!(
            "the upgrade of {} will be cancelled and reverted",
            job_server(job)
        ),
        FaultEvent::UpgradeFails { job } => {
            format!("the installer will fail on {}", job_server(job))
        }
        FaultEvent::AdministratorChange { server } => {
            format!("an administrator changes the configuration on {server}")
        }
        FaultEvent::ActivationInterrupted { job } => {
            format!(
                "the activation wizard of {} is interrupted",
                job_server(job)
            )
        }
    }
}
