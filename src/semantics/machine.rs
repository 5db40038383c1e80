//! The one small-step machine: what every statement means, written once for
//! the interpreter, the verifier and `plan`. A [`State`] is `Hash + Eq` (a
//! continuation of frames over the lowered [`Code`], the step under way and
//! what the run agreed to); [`Machine::run`] executes instructions until it
//! needs something from outside and returns that request as an [`Effect`]:
//! observe the cluster, perform an operation, ask the operator, let time
//! pass, decide a journaled value, or take note of an [`Event`]. The driver
//! answers with [`Machine::deliver`] and calls `run` again; the instruction
//! that asked runs again with the answer, so a position in the program is
//! always an instruction boundary.
//!
//! The rules here — steps and their resume gate, time windows, `discards
//! changes on`, What-if triggers and handler lookup, `retry` and the redo of
//! a half-done step — exist nowhere else.

use std::collections::VecDeque;
use std::time::Duration;

use super::code::{Code, HandlerId, Instr, Pc, StepId, UnitId, WindowId};
use super::eval::{self, format_duration, EvalContext, EvalError, Value};
use super::observe::{self, OperationRecord};
use super::prompt::{Answer, ChoiceOption, PromptKind, PromptRequest};
use crate::cluster::{Mode, Operation, OperationOutput, ReplicationState, Snapshot};
use crate::domain::OperationKind;
use crate::syntax::ast::{self, TriggerKind};
use crate::syntax::Span;

/// How many times `retry` may run one step again before the run fails.
pub const MAX_RETRIES: u32 = 3;
/// The longest a `wait` without `timeout` polls before failing.
pub const MAX_UNBOUNDED_WAIT: Duration = Duration::from_secs(24 * 3600);
/// The polling interval of a `wait` without `every`.
pub const DEFAULT_WAIT_INTERVAL: Duration = Duration::from_secs(10);
/// How many instructions one call of [`Machine::run`] may execute before it
/// reports that the program makes no progress.
pub const MAX_INSTRUCTIONS: usize = 200_000;

/// What the machine reads of the cluster: a snapshot and, when asked for,
/// the split brain the target reports (`None`: not read yet).
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The cluster.
    pub snapshot: Snapshot,
    /// The servers of a settled split brain, when read.
    pub split_brain: Option<Option<Vec<String>>>,
}

/// Which kind of goal is not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalCheck {
    /// `goal upgrade to VERSION`.
    Upgrade,
    /// `goal healthy`, or no goal declared (the safe default).
    Healthy,
    /// `goal EXPR else "MESSAGE"`.
    Condition,
}

/// A goal the cluster at the end of a successful run does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetGoal {
    /// Which kind of goal.
    pub kind: GoalCheck,
    /// What is not so, in words.
    pub message: String,
    /// The `goal` declaration, or `None` for the default goal.
    pub span: Option<Span>,
}

/// How long ago a window's anchor step ended, and on which clock that was
/// measured when it ended before a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Since {
    /// The time since the anchor ended.
    pub elapsed: Duration,
    /// The clock it was measured on, when the anchor ended before a resume.
    pub across_resume: Option<&'static str>,
}

/// What the machine asks of its driver synchronously.
pub trait World {
    /// The cluster as last observed, while it is still current.
    fn observation(&self) -> Option<&Observation>;
    /// Forgets the observation: the cluster may have changed.
    fn forget(&mut self);
    /// The cluster when the run started.
    fn initial(&self) -> &Snapshot;
    /// How long ago the anchor of `window` ended (`None`: it has not).
    fn since_anchor(&self, window: WindowId) -> Option<Since>;
    /// Whether the target counts administrator changes (a real SMC does not).
    fn counts_changes(&self) -> bool;
    /// Whether What-if conditions are judged after operations (`plan`,
    /// which predicts no fault, does not).
    fn judges_conditions(&self) -> bool {
        true
    }
    /// Whether the driver cannot know the value of `expr` (`plan`, once an
    /// operation would have changed the cluster): a message shows it as
    /// written instead.
    fn unknown(&self, _expr: &ast::Expr) -> bool {
        false
    }
}

/// How a driver lets a step run (the resume gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Run it.
    Run,
    /// Run it again: it started before an interruption; what already took
    /// effect is not repeated and its window is not judged again.
    Redo,
    /// It completed before the interruption: skip it.
    Skip,
    /// A What-if had interrupted it and its body was under way when the run
    /// stopped: go on inside that handler (what already took effect is not
    /// repeated).
    Handler(HandlerId),
}

/// A step, or a What-if run alone (`--what-if NAME`) as its own step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A step.
    Step(StepId),
    /// A What-if run alone.
    WhatIf(HandlerId),
}

/// How a step instance ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepFinish {
    /// Its body completed.
    Ok,
    /// `stop` ended the run inside it (it counts as done).
    Stopped(String),
    /// A What-if interrupted it (the message says why).
    Interrupted(String),
    /// It failed: the message and the connector error's code, if any.
    Failed(String, Option<String>),
}

/// What a handler body resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// The run continues after the interrupted step.
    Continue,
    /// The interrupted step runs again.
    Retry,
}

/// Something the driver takes note of (emits, journals, checks); the
/// machine goes on when `run` is called again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// A step starts (again, after `retry`).
    StepStarted {
        /// The step.
        subject: Subject,
        /// Whether `retry` started it again.
        retry: bool,
    },
    /// A step instance ended.
    StepFinished {
        /// The step.
        subject: Subject,
        /// How.
        outcome: StepFinish,
    },
    /// A step starts later than its window allows.
    WindowExceeded {
        /// The late step.
        step: StepId,
        /// Its window.
        window: WindowId,
        /// The window's length.
        limit: Duration,
        /// How long ago the anchor ended.
        since: Since,
    },
    /// A What-if handler is entered.
    WhatIfEntered {
        /// The handler.
        handler: HandlerId,
        /// Why.
        reason: String,
        /// The step it interrupts (`None`: run alone).
        step: Option<StepId>,
        /// Entered again on resume (it was entered before the interruption).
        resumed: bool,
    },
    /// A handler body ended.
    WhatIfFinished {
        /// The handler.
        handler: HandlerId,
        /// The step it interrupted.
        step: StepId,
        /// What happens next.
        resolution: Resolution,
    },
    /// `note "..."`.
    Note(String),
    /// A warning with its diagnostic code.
    Warning {
        /// The code (`runbook::run::...`).
        code: &'static str,
        /// The text.
        message: String,
    },
    /// On a redone step, an operation whose effect is already visible.
    OperationSkipped(Operation),
    /// The operator agreed to lose `changes` administrator changes on
    /// `server` (journaled: a resumed run knows it agreed).
    ChangesAgreed {
        /// The server.
        server: String,
        /// How many changes (`u64::MAX`: a target that cannot count them).
        changes: u64,
    },
    /// A `wait` starts polling.
    WaitStarted {
        /// The condition, as written.
        condition: String,
        /// Its limit, when it has one.
        timeout: Option<Duration>,
    },
    /// A `wait` ended.
    WaitFinished {
        /// The condition, as written.
        condition: String,
        /// Whether it held.
        ok: bool,
        /// How long it waited.
        waited: Duration,
    },
    /// A value decided outside steps (see [`Effect::Decide`]), to journal.
    Decided {
        /// What was decided (`let NAME`, `if`, `for`, `check at OFFSET`).
        what: String,
        /// The value.
        value: Value,
    },
    /// An expression could not be evaluated (the failure follows as usual;
    /// the verifier reports it as a property of its own).
    EvaluationFailed(Box<Failure>),
    /// A `discards changes on` clause is reached (before its count and
    /// confirmation).
    Discards {
        /// The confirmation's prompt id.
        prompt_id: String,
        /// What discards the changes, in words.
        subject: String,
        /// The server.
        server: String,
    },
    /// With [`Machine::tracing`]: the machine is about to run an
    /// instruction (the state is at it).
    Executing {
        /// Its unit.
        unit: UnitId,
        /// Its position.
        pc: Pc,
        /// The depth of the statement: calls, steps and blocks nest.
        depth: usize,
    },
}

/// A failure a `failed(STEP)` handler can catch, with everything a
/// diagnostic needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Failure {
    /// Why, in words.
    pub reason: String,
    /// The label of the source excerpt.
    pub label: String,
    /// The file.
    pub file: usize,
    /// Where.
    pub span: Span,
    /// A help line.
    pub help: Option<String>,
    /// For a `wait` timeout: the condition and the limit, as shown.
    pub wait: Option<(String, String)>,
    /// The code of the connector error behind it.
    pub cause_code: Option<String>,
    /// The step (or What-if) it happened in.
    pub within: Option<String>,
    /// Whether an expression could not be evaluated (a runbook error, not
    /// the cluster's).
    pub evaluation: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ending {
    /// The program ran to its end.
    Completed,
    /// A failure no handler caught.
    Failed(Box<Failure>),
    /// `stop "MESSAGE"`: the run ended for good.
    Stopped(String),
    /// `pause "MESSAGE"` in a What-if body: the run stops, and a resume
    /// runs the interrupted step again.
    Paused(String),
    /// The operator declined a confirmation (its id).
    Declined(String),
    /// `fail "MESSAGE"`.
    Fail {
        /// The message.
        message: String,
        /// The file.
        file: usize,
        /// The statement.
        span: Span,
    },
    /// `retry` outside a What-if body.
    RetryOutside {
        /// The file.
        file: usize,
        /// The statement.
        span: Span,
    },
}

/// What the machine needs before it can go on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Read the cluster into [`World::observation`] (with the split brain
    /// when `split_brain`), or deliver [`Input::ObserveFailed`].
    Observe {
        /// Whether the split brain must be read too.
        split_brain: bool,
    },
    /// A step is about to start: deliver [`Input::Gate`].
    Gate(Subject),
    /// Outside steps, a value the path depends on: deliver
    /// [`Input::Decision`] with the journaled value on resume, `None` to
    /// compute it (then [`Event::Decided`] follows).
    Decide {
        /// What is decided.
        what: String,
        /// Whether the value reads the live cluster.
        reads_cluster: bool,
    },
    /// On a redone step, before an operation that may have been sent before
    /// the interruption: wait until it is no longer in progress, then
    /// deliver [`Input::Settled`].
    Settle(Operation),
    /// Perform the operation; deliver [`Input::Performed`].
    Perform(Operation),
    /// Ask the operator; deliver [`Input::Answer`].
    Ask {
        /// The question.
        request: PromptRequest,
        /// The file of the prompt.
        file: usize,
        /// Where it is written.
        span: Span,
    },
    /// Let time pass while a `wait` polls; deliver [`Input::Slept`].
    Sleep {
        /// The polling interval.
        interval: Duration,
        /// How long the wait has waited.
        waited: Duration,
        /// Its limit.
        limit: Duration,
        /// The condition, as written.
        condition: String,
    },
    /// Take note and call `run` again.
    Event(Event),
    /// The run ended.
    End(Ending),
    /// [`MAX_INSTRUCTIONS`] ran without any effect: the program does not
    /// terminate.
    NoProgress,
}

/// Why an operation did not succeed, as the machine judges it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationError {
    /// The message.
    pub message: String,
    /// Whether the upgrade was cancelled and reverted.
    pub cancelled: bool,
    /// The connector error's code.
    pub code: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

/// The driver's answer to an [`Effect`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    /// For [`Effect::Gate`].
    Gate(Gate),
    /// For [`Effect::Decide`].
    Decision(Option<Value>),
    /// For [`Effect::Ask`].
    Answer(String, Answer),
    /// For [`Effect::Settle`]: what the journal holds of the operation in
    /// the interrupted attempt of the step.
    Settled {
        /// It completed (the journal holds its success): an operation whose
        /// effect the cluster cannot show (a backup) is not sent again.
        done: bool,
        /// It failed and the interrupted run had not yet acted on the
        /// failure (no What-if entered since): the failure is replayed, so
        /// the What-ifs it fires fire now, and it is not sent again.
        failed: Option<OperationError>,
    },
    /// For [`Effect::Perform`].
    Performed(Result<OperationOutput, OperationError>),
    /// For [`Effect::Sleep`]: how long actually passed.
    Slept(Duration),
    /// For [`Effect::Observe`], when the cluster could not be read.
    ObserveFailed(OperationError),
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

    fn pop_scope(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.vars.truncate(mark as usize);
        }
    }
}

/// The step under way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StepContext {
    subject: Subject,
    depth: u16,
    /// The frame when the step started: what a handler sees and `retry`
    /// starts from.
    saved: Frame,
    /// Handlers already fired for this step instance (each fires once).
    fired: Vec<HandlerId>,
    retries: u8,
    /// In a handler body (the step itself already ended as interrupted).
    in_handler: bool,
    /// Resumed half-done or retried: operations whose effect is already
    /// visible are not repeated.
    redo: bool,
}

impl StepContext {
    /// Whether the step's own end is still to be told (not yet ended as
    /// interrupted by a handler; a What-if run alone is its own step).
    fn open(&self) -> bool {
        !self.in_handler || matches!(self.subject, Subject::WhatIf(_))
    }
}

/// An operation sent and what the cluster was before it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Sent {
    operation: Operation,
    before: Snapshot,
    split_brain_before: Option<Vec<String>>,
    result: Option<Result<OperationOutput, OperationError>>,
}

/// What the instruction under way has been given so far (cleared when the
/// program counter moves).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Here {
    answers: Vec<(String, Answer)>,
    gate: Option<Gate>,
    decision: Option<Option<Value>>,
    settled: Option<(bool, Option<OperationError>)>,
    sent: Option<Box<Sent>>,
    waited: Option<Duration>,
    observe_failed: Option<OperationError>,
    /// With tracing: the instruction was reported before it ran.
    traced: bool,
}

/// A memoizable machine state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    frames: Vec<Frame>,
    step: Option<StepContext>,
    here: Here,
    /// Per server, the administrator changes the operator agreed to lose
    /// (or, for the verifier's sake, that were reported and were none).
    agreed: Vec<(String, u64)>,
    /// Servers the run itself made Active (sorted): they do not fire
    /// `standby-activated`.
    activated_by_run: Vec<String>,
    /// Per step `changes_since` names, each server's configuration
    /// revision when it last started.
    marks: Vec<(String, Vec<(String, u64)>)>,
    queue: VecDeque<Effect>,
    ended: bool,
}

impl State {
    /// Whether the run ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The changes the operator agreed to lose on `server`, if asked.
    pub fn agreed_changes(&self, server: &str) -> Option<u64> {
        self.agreed
            .iter()
            .find(|(name, _)| name == server)
            .map(|(_, count)| *count)
    }

    /// The What-if the machine reports entering next, for the step under
    /// way (not one entered again on resume): its handler and why. Right
    /// after a step's interrupted end, this says which What-if interrupted
    /// it, so that both can be journaled at once.
    pub fn entering_what_if(&self) -> Option<(HandlerId, &str)> {
        match self.queue.front() {
            Some(Effect::Event(Event::WhatIfEntered {
                handler,
                reason,
                step: Some(_),
                resumed: false,
            })) => Some((*handler, reason.as_str())),
            _ => None,
        }
    }

    /// Marks `server` as made Active by the run (a resumed run learns it
    /// from its journal).
    pub fn note_activated(&mut self, server: &str) {
        if let Err(at) = self
            .activated_by_run
            .binary_search_by(|name| name.as_str().cmp(server))
        {
            self.activated_by_run.insert(at, server.to_string());
        }
    }

    /// Notes that the operator agreed to lose `changes` changes on `server`
    /// (a resumed run learns it from its journal).
    pub fn note_agreed(&mut self, server: &str, changes: u64) {
        let agreed = self.agreed_changes(server).unwrap_or(0);
        set_agreed(self, server, changes.max(agreed));
    }

    /// The step under way, if any.
    pub fn current_step(&self) -> Option<Subject> {
        self.step.as_ref().map(|context| context.subject)
    }
}

/// What evaluation can end with besides a value.
enum EvalStop {
    Error(EvalError),
    /// `split_brain()` needs the split brain the target reports, not read yet.
    NeedSplitBrain(Span),
    Select {
        id: String,
        text: String,
        servers: Vec<String>,
        span: Span,
    },
}

impl EvalStop {
    /// Where nothing can be asked nor read live (a parameter's default, a
    /// window, `requires`, `goal`): what stopped evaluation, as an error.
    fn into_static_error(self) -> EvalError {
        match self {
            EvalStop::Error(error) => error,
            EvalStop::Select { span, .. } => {
                EvalError::new("this value cannot ask the operator", span)
            }
            EvalStop::NeedSplitBrain(span) => EvalError {
                message: "`split_brain()` is read from the cluster while the run goes: not here"
                    .into(),
                span,
                help: Some(
                    "read it in a statement of the body (`let was_active = split_brain()`)".into(),
                ),
            },
        }
    }
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
    /// The marked step starts ([`State::marks`]).
    marks: &'a [(String, Vec<(String, u64)>)],
    answers: &'a [(String, Answer)],
    /// The split brain as read (`None`: not read).
    split_brain: Option<&'a Option<Vec<String>>>,
}

impl EvalContext for Context<'_> {
    type Error = EvalStop;

    fn split_brain(&mut self, span: Span) -> Result<Vec<String>, EvalStop> {
        match self.split_brain {
            Some(found) => Ok(found.clone().unwrap_or_default()),
            None => Err(EvalStop::NeedSplitBrain(span)),
        }
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        self.frame.lookup(name)
    }

    fn snapshot(&self) -> &Snapshot {
        self.snapshot
    }

    fn initial(&self) -> &Snapshot {
        self.initial
    }

    fn step_mark(&self, step: &str) -> Option<&[(String, u64)]> {
        self.marks
            .iter()
            .find(|(name, _)| name == step)
            .map(|(_, revisions)| revisions.as_slice())
    }

    fn select(
        &mut self,
        id: &ast::Ident,
        text: &ast::StringLit,
        servers: Vec<String>,
        span: Span,
    ) -> Result<String, EvalStop> {
        match self
            .answers
            .iter()
            .find(|(answered, _)| *answered == id.name)
        {
            Some((_, Answer::Text(server))) => Ok(server.clone()),
            _ => Err(EvalStop::Select {
                id: id.name.clone(),
                text: text.value.clone(),
                servers,
                span,
            }),
        }
    }
}

/// Why execution leaves the normal path.
enum Abort {
    Failure(Box<Failure>),
    WhatIf { handler: HandlerId, reason: String },
    Stop(String),
    Pause(String),
    Declined(String),
    Fail { message: String, span: Span },
    Retry { span: Span },
}

/// What one instruction did.
enum Flow {
    /// Go on with the next instruction (or the queue).
    Next,
    /// Return this effect to the driver.
    Yield(Effect),
}

/// The machine over one lowered program.
pub struct Machine<'c, 'p> {
    code: &'c Code<'p>,
    tracing: bool,
}

impl<'c, 'p> Machine<'c, 'p> {
    /// The machine of `code`.
    pub fn new(code: &'c Code<'p>) -> Self {
        Machine {
            code,
            tracing: false,
        }
    }

    /// The machine of `code` for `plan`: it reports every statement it
    /// starts ([`Event::Executing`]), and every value the path depends on
    /// is a decision ([`Effect::Decide`]) in steps too, `wait`s included, so
    /// the driver can say where the path depends on what it cannot know.
    pub fn tracing(code: &'c Code<'p>) -> Self {
        Machine {
            code,
            tracing: true,
        }
    }

    /// Where the state is: how many frames deep, and the instruction (the
    /// point where the branches of a `choose` or an `if` join again).
    pub fn at(&self, state: &State) -> Option<(usize, UnitId, Pc)> {
        state
            .frames
            .last()
            .map(|frame| (state.frames.len(), frame.unit, frame.pc))
    }

    /// How deep the statement under way is nested (frames, the step).
    pub fn depth(&self, state: &State) -> usize {
        let step = usize::from(state.step.as_ref().is_some_and(StepContext::open));
        state.frames.len().saturating_sub(1) + step
    }

    /// The lowered program.
    pub fn code(&self) -> &'c Code<'p> {
        self.code
    }

    /// The state before the main file's first statement, its parameters bound.
    pub fn start(&self, params: Vec<(String, Value)>) -> State {
        let main = self.code.program.main;
        self.state_at(Frame::new(self.code.file_units[main], params))
    }

    /// The state that runs What-if `handler` of the main file alone
    /// (`--what-if NAME`), after the main file's top-level `let`s.
    pub fn start_what_if(&self, handler: usize, params: Vec<(String, Value)>) -> Option<State> {
        let unit = *self.code.run_what_if_units.get(handler)?;
        Some(self.state_at(Frame::new(unit, params)))
    }

    fn state_at(&self, frame: Frame) -> State {
        State {
            frames: vec![frame],
            step: None,
            here: Here::default(),
            agreed: Vec::new(),
            activated_by_run: Vec::new(),
            marks: Vec::new(),
            queue: VecDeque::new(),
            ended: false,
        }
    }

    /// The default values of `file`'s parameters (evaluated on `initial`).
    pub fn default_params(&self, file: usize, initial: &Snapshot) -> Vec<(String, Value)> {
        let frame = Frame::new(0, Vec::new());
        self.code.program.files[file]
            .ast
            .params
            .iter()
            .filter_map(|param| {
                let default = param.default.as_ref()?;
                static_eval(default, &frame, initial)
                    .ok()
                    .map(|value| (param.name.name.clone(), value))
            })
            .collect()
    }

    /// The `requires` of the main file that the cluster `initial`, with
    /// `params` bound, does not meet: each one's message (interpolated)
    /// and where it is written. A requirement that cannot be evaluated
    /// counts as not met, its message naming why.
    pub fn unmet_requirements(
        &self,
        params: Vec<(String, Value)>,
        initial: &Snapshot,
    ) -> Vec<(String, Span)> {
        let frame = Frame::new(0, params);
        let main = self.code.program.main;
        let mut unmet = Vec::new();
        for requirement in &self.code.program.files[main].ast.requires {
            if let Some(message) = declared_condition_unmet(
                &requirement.condition,
                &requirement.message,
                &frame,
                initial,
                initial,
            ) {
                unmet.push((message, requirement.span));
            }
        }
        unmet
    }

    /// The goals of the main file (`goal ...`; none declared: `goal
    /// healthy`, the safe default) that the cluster `end` of a run that
    /// succeeded does not meet, with `params` bound and `initial` the
    /// cluster at the start. A goal that cannot be evaluated counts as not
    /// met, its message naming why.
    pub fn unmet_goals(
        &self,
        params: Vec<(String, Value)>,
        initial: &Snapshot,
        end: &Snapshot,
    ) -> Vec<UnmetGoal> {
        let frame = Frame::new(0, params);
        let goals = &self.code.program.files[self.code.program.main].ast.goals;
        let healthy_by_default = [ast::Goal {
            kind: ast::GoalKind::Healthy,
            span: Span::default(),
        }];
        let (goals, declared) = if goals.is_empty() {
            (&healthy_by_default[..], false)
        } else {
            (&goals[..], true)
        };
        let mut unmet = Vec::new();
        for goal in goals {
            let span = declared.then_some(goal.span);
            let problems = |violations: Vec<crate::cluster::InvariantViolation>| {
                violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            match &goal.kind {
                ast::GoalKind::Healthy => {
                    let violations = crate::cluster::check_healthy(end);
                    if !violations.is_empty() {
                        unmet.push(UnmetGoal {
                            kind: GoalCheck::Healthy,
                            message: format!(
                                "the cluster is not healthy: {}",
                                problems(violations)
                            ),
                            span,
                        });
                    }
                }
                ast::GoalKind::Upgrade(version) => {
                    match static_eval(version, &frame, initial).and_then(|value| match value {
                        Value::Version(version) => Ok(version),
                        other => Err(EvalError::new(
                            format!(
                                "`goal upgrade to` needs a version, not a {}",
                                other.type_name()
                            ),
                            version.span,
                        )),
                    }) {
                        Ok(target) => {
                            let violations = crate::cluster::check_upgraded(end, &target);
                            if !violations.is_empty() {
                                unmet.push(UnmetGoal {
                                    kind: GoalCheck::Upgrade,
                                    message: format!(
                                        "the cluster is not upgraded to {target} and healthy: {}",
                                        problems(violations)
                                    ),
                                    span,
                                });
                            }
                        }
                        Err(error) => unmet.push(UnmetGoal {
                            kind: GoalCheck::Upgrade,
                            message: format!(
                                "the goal's version could not be evaluated: {}",
                                error.message
                            ),
                            span,
                        }),
                    }
                }
                ast::GoalKind::Condition { condition, message } => {
                    if let Some(message) =
                        declared_condition_unmet(condition, message, &frame, end, initial)
                    {
                        unmet.push(UnmetGoal {
                            kind: GoalCheck::Condition,
                            message,
                            span,
                        });
                    }
                }
            }
        }
        unmet
    }

    /// The version of the main file's `goal upgrade to VERSION`, with
    /// `params` bound: the version a run upgrades the cluster to, if it
    /// says it upgrades.
    pub fn goal_version(
        &self,
        params: Vec<(String, Value)>,
        initial: &Snapshot,
    ) -> Option<crate::cluster::Version> {
        let frame = Frame::new(0, params);
        self.code.program.files[self.code.program.main]
            .ast
            .goals
            .iter()
            .find_map(|goal| match &goal.kind {
                ast::GoalKind::Upgrade(version) => match static_eval(version, &frame, initial) {
                    Ok(Value::Version(version)) => Some(version),
                    _ => None,
                },
                _ => None,
            })
    }

    /// The value of an expression that needs no binding, no live cluster
    /// and no operator (a literal window), if it has one.
    pub fn constant(&self, expr: &ast::Expr, initial: &Snapshot) -> Option<Value> {
        static_eval(expr, &Frame::new(0, Vec::new()), initial).ok()
    }

    /// Where the state is in the source: the file and the instruction's span.
    pub fn position(&self, state: &State) -> (usize, Span) {
        match state.frames.last() {
            Some(frame) => (
                self.code.unit_file(frame.unit),
                self.code.span(frame.unit, frame.pc),
            ),
            None => (self.code.program.main, Span::default()),
        }
    }

    /// Gives the instruction under way what it asked for.
    pub fn deliver(&self, state: &mut State, input: Input) {
        let here = &mut state.here;
        match input {
            Input::Gate(gate) => here.gate = Some(gate),
            Input::Decision(value) => here.decision = Some(value),
            Input::Answer(id, answer) => here.answers.push((id, answer)),
            Input::Settled { done, failed } => here.settled = Some((done, failed)),
            Input::Performed(result) => {
                if let Some(sent) = &mut here.sent {
                    sent.result = Some(result);
                }
            }
            Input::Slept(by) => {
                if let Some(waited) = &mut here.waited {
                    *waited += by;
                }
            }
            Input::ObserveFailed(error) => here.observe_failed = Some(error),
        }
    }

    /// Runs until the driver is needed.
    pub fn run(&self, state: &mut State, world: &mut dyn World) -> Effect {
        for _ in 0..MAX_INSTRUCTIONS {
            if let Some(effect) = state.queue.pop_front() {
                if matches!(effect, Effect::End(_)) {
                    state.ended = true;
                }
                return effect;
            }
            if state.ended {
                return Effect::End(Ending::Completed);
            }
            match self.exec(state, world) {
                Flow::Next => {}
                // What the instruction reported comes before what it asks.
                Flow::Yield(effect) if !state.queue.is_empty() => state.queue.push_back(effect),
                Flow::Yield(effect) => return effect,
            }
        }
        Effect::NoProgress
    }

    // ----- one instruction -----

    fn exec(&self, state: &mut State, world: &mut dyn World) -> Flow {
        let Some(frame) = state.frames.last() else {
            state.queue.push_back(Effect::End(Ending::Completed));
            return Flow::Next;
        };
        let (unit, pc) = (frame.unit, frame.pc);
        let file = self.code.unit_file(unit);
        let Some(instr) = self.code.instr(unit, pc) else {
            return self.abort(
                state,
                Abort::Failure(Box::new(self.failure(
                    state,
                    "the program counter left its unit",
                    "here",
                    file,
                    Span::default(),
                ))),
            );
        };
        if let Some(error) = state.here.observe_failed.take() {
            let mut failure = self.failure(
                state,
                format!("the cluster could not be read: {}", error.message),
                "reading the cluster failed here",
                file,
                self.code.span(unit, pc),
            );
            failure.cause_code = error.code;
            return self.abort(state, Abort::Failure(Box::new(failure)));
        }
        if self.tracing && !state.here.traced {
            // A pause before the instruction: the driver sees the state at it.
            state.here.traced = true;
            let depth = self.depth(state);
            return Flow::Yield(Effect::Event(Event::Executing { unit, pc, depth }));
        }
        match self.instr(state, world, instr, file) {
            Ok(flow) => flow,
            Err(Interrupt::Abort(abort)) => self.abort(state, abort),
            Err(Interrupt::Yield(effect)) => Flow::Yield(*effect),
        }
    }

    /// Runs one instruction: each kind's meaning is its own method.
    fn instr(
        &self,
        state: &mut State,
        world: &mut dyn World,
        instr: &Instr<'p>,
        file: usize,
    ) -> Result<Flow, Interrupt> {
        match instr {
            Instr::Let {
                name,
                value,
                decision,
            } => self.let_binding(state, world, name, value, *decision, file)?,
            Instr::StepBegin(step) => return self.step_begin(state, world, *step, file),
            Instr::StepEnd(step) => self.step_end(state, *step),
            Instr::Note(text) => {
                let text = self.message(state, world, text, file)?;
                self.report(state, Event::Note(text));
            }
            Instr::Warning(text) => {
                let message = self.message(state, world, text, file)?;
                self.report(
                    state,
                    Event::Warning {
                        code: "runbook::run::runbook_warning",
                        message,
                    },
                );
            }
            Instr::Operation { call, kind } => {
                return self.operation(state, world, call, *kind, file)
            }
            Instr::DiscardsChanges {
                server,
                prompt_id,
                subject,
            } => {
                self.discards_changes(state, world, server, prompt_id, subject, file)?;
                self.advance(state);
            }
            Instr::Confirm { id, text, span } => self.confirm(state, id, text, *span, file)?,
            Instr::Choose {
                choose, targets, ..
            } => self.choose(state, choose, targets, file)?,
            Instr::Record { id, text, span } => self.record(state, id, text, *span, file)?,
            Instr::Check {
                condition,
                message,
                span,
            } => self.check(state, world, condition, message, *span, file)?,
            Instr::Wait {
                condition,
                timeout,
                every,
                span,
            } => return self.wait(state, world, condition, *timeout, *every, *span, file),
            Instr::If {
                conditions,
                targets,
                ..
            } => self.branch(state, world, conditions, targets, file)?,
            Instr::Jump(target) => self.jump(state, *target),
            Instr::ScopePush => {
                let frame = top(state);
                frame.marks.push(frame.vars.len() as u32);
                self.advance(state);
            }
            Instr::ScopePop => {
                top(state).pop_scope();
                self.advance(state);
            }
            Instr::ForStart { list } => self.for_start(state, world, list, file)?,
            Instr::ForNext { var, end } => self.for_next(state, var, *end),
            Instr::ForLoop { head } => {
                top(state).pop_scope();
                self.jump(state, *head);
            }
            Instr::Call { call, callee } => return self.call(state, world, call, *callee, file),
            Instr::Stop { message } => {
                let message = self.message(state, world, message, file)?;
                return Err(Interrupt::Abort(Abort::Stop(message)));
            }
            Instr::Pause { message } => {
                let message = self.message(state, world, message, file)?;
                return Err(Interrupt::Abort(Abort::Pause(message)));
            }
            Instr::Fail { message, span } => {
                let message = self.message(state, world, message, file)?;
                return Err(Interrupt::Abort(Abort::Fail {
                    message,
                    span: *span,
                }));
            }
            Instr::Retry { span } => return Err(Interrupt::Abort(Abort::Retry { span: *span })),
            Instr::RunWhatIf(handler) => return self.run_what_if(state, world, *handler),
            Instr::Return => return Ok(self.return_from_unit(state)),
        }
        Ok(Flow::Next)
    }

    /// `note`, `warning`: reported, then the next instruction.
    fn report(&self, state: &mut State, event: Event) {
        state.queue.push_back(Effect::Event(event));
        self.advance(state);
    }

    /// `let NAME = EXPR`: outside steps a decision the journal replays
    /// (unless the value is an operator's `select`).
    fn let_binding(
        &self,
        state: &mut State,
        world: &mut dyn World,
        name: &ast::Ident,
        value: &ast::Expr,
        decision: bool,
        file: usize,
    ) -> Result<(), Interrupt> {
        let value = if decision {
            let what = format!("let {}", name.name);
            let reads = eval::reads_cluster(value);
            self.decide(state, world, &what, reads, |machine, state, world| {
                machine.eval(state, world, value, file)
            })?
        } else {
            self.eval(state, world, value, file)?
        };
        top(state).bind(&name.name, value);
        self.advance(state);
        Ok(())
    }

    /// The end of a step's body: the step completed (a step of a runbook
    /// called inside a step belongs to that one and ends nothing).
    fn step_end(&self, state: &mut State, step: StepId) {
        let ours = state.step.as_ref().is_some_and(|context| {
            context.subject == Subject::Step(step)
                && context.depth as usize + 1 == state.frames.len()
        });
        self.advance(state);
        if ours {
            state.step = None;
            state.queue.push_back(Effect::Event(Event::StepFinished {
                subject: Subject::Step(step),
                outcome: StepFinish::Ok,
            }));
        }
    }

    /// `confirm ID "TEXT"`: yes goes on, no stops the run.
    fn confirm(
        &self,
        state: &mut State,
        id: &ast::Ident,
        text: &ast::StringLit,
        span: Span,
        file: usize,
    ) -> Result<(), Interrupt> {
        match self.ask(state, request(id, text, PromptKind::Confirm), file, span)? {
            Answer::Bool(true) => {
                self.advance(state);
                Ok(())
            }
            _ => Err(Interrupt::Abort(Abort::Declined(id.name.clone()))),
        }
    }

    /// `choose`: the chosen option's code runs.
    fn choose(
        &self,
        state: &mut State,
        choose: &ast::Choose,
        targets: &[Pc],
        file: usize,
    ) -> Result<(), Interrupt> {
        let options = choose
            .options
            .iter()
            .map(|option| ChoiceOption {
                name: option.name.name.clone(),
                label: option.label.value.clone(),
                is_default: option.is_default,
            })
            .collect();
        let request = PromptRequest {
            id: choose.id.name.clone(),
            text: choose.text.value.clone(),
            kind: PromptKind::Choose(options),
            default: None,
            data_loss: false,
        };
        let answer = self.ask(state, request, file, choose.span)?;
        let chosen = choose
            .options
            .iter()
            .position(|option| Answer::Text(option.name.name.clone()) == answer);
        let Some(index) = chosen else {
            return Err(self.failed(
                state,
                format!("no option of `{}` was chosen", choose.id.name),
                "this choice",
                file,
                choose.span,
            ));
        };
        self.jump(state, targets[index]);
        Ok(())
    }

    /// `record ID "TEXT"`: the operator's text, bound as `ID` (dashes as
    /// underscores).
    fn record(
        &self,
        state: &mut State,
        id: &ast::Ident,
        text: &ast::StringLit,
        span: Span,
        file: usize,
    ) -> Result<(), Interrupt> {
        let text = match self.ask(state, request(id, text, PromptKind::Record), file, span)? {
            Answer::Text(text) => text,
            Answer::Bool(flag) => flag.to_string(),
        };
        top(state).bind(&id.name.replace('-', "_"), Value::String(text));
        self.advance(state);
        Ok(())
    }

    /// `check EXPR else "MESSAGE"`: a failure a `failed(STEP)` handler can
    /// catch when it does not hold.
    fn check(
        &self,
        state: &mut State,
        world: &mut dyn World,
        condition: &ast::Expr,
        message: &ast::Message,
        span: Span,
        file: usize,
    ) -> Result<(), Interrupt> {
        let what = format!("check at {}", span.start);
        let reads = eval::reads_cluster(condition);
        let holds = self.decide(state, world, &what, reads, |machine, state, world| {
            machine.eval(state, world, condition, file)
        })?;
        if !self.expect(state, eval::expect_bool(holds, condition.span), file)? {
            let message = self.message(state, world, message, file)?;
            return Err(self.failed(state, message, "this check did not hold", file, span));
        }
        self.advance(state);
        Ok(())
    }

    /// `if`/`else if`/`else`: the first condition that holds picks its
    /// branch, decided once.
    fn branch(
        &self,
        state: &mut State,
        world: &mut dyn World,
        conditions: &[&ast::Expr],
        targets: &[Pc],
        file: usize,
    ) -> Result<(), Interrupt> {
        let reads = conditions
            .iter()
            .any(|condition| eval::reads_cluster(condition));
        let taken = self.decide(state, world, "if", reads, |machine, state, world| {
            for (index, condition) in conditions.iter().enumerate() {
                let value = machine.eval(state, world, condition, file)?;
                if machine.expect(state, eval::expect_bool(value, condition.span), file)? {
                    return Ok(Value::Number(index as u64));
                }
            }
            Ok(Value::Number(conditions.len() as u64))
        })?;
        let index = match taken {
            Value::Number(index) => (index as usize).min(targets.len() - 1),
            _ => targets.len() - 1,
        };
        self.jump(state, targets[index]);
        Ok(())
    }

    /// `for VAR in LIST`: the list, decided once.
    fn for_start(
        &self,
        state: &mut State,
        world: &mut dyn World,
        list: &ast::Expr,
        file: usize,
    ) -> Result<(), Interrupt> {
        let reads = eval::reads_cluster(list);
        let value = self.decide(state, world, "for", reads, |machine, state, world| {
            machine.eval(state, world, list, file)
        })?;
        let servers = self.expect(state, eval::expect_servers(value, list.span), file)?;
        top(state).loops.push(servers.into());
        self.advance(state);
        Ok(())
    }

    /// The next element of a `for`, bound in its own scope, or the loop's end.
    fn for_next(&self, state: &mut State, var: &ast::Ident, end: Pc) {
        let frame = top(state);
        match frame.loops.last_mut().and_then(VecDeque::pop_front) {
            Some(server) => {
                frame.marks.push(frame.vars.len() as u32);
                frame.vars.push((var.name.clone(), Value::Server(server)));
                self.advance(state);
            }
            None => {
                frame.loops.pop();
                self.jump(state, end);
            }
        }
    }

    /// Moves past the current instruction, forgetting what it was given.
    fn advance(&self, state: &mut State) {
        state.here = Here::default();
        top(state).pc += 1;
    }

    fn jump(&self, state: &mut State, target: Pc) {
        state.here = Here::default();
        top(state).pc = target;
    }

    // ----- evaluation -----

    /// The observation, or the request for one.
    fn observed<'w>(
        &self,
        world: &'w dyn World,
        split_brain: bool,
    ) -> Result<&'w Observation, Interrupt> {
        match world.observation() {
            Some(observation) if !split_brain || observation.split_brain.is_some() => {
                Ok(observation)
            }
            _ => Err(Interrupt::Yield(Box::new(Effect::Observe { split_brain }))),
        }
    }

    fn eval(
        &self,
        state: &mut State,
        world: &mut dyn World,
        expr: &ast::Expr,
        file: usize,
    ) -> Result<Value, Interrupt> {
        self.evaluate(state, world, file, |context, _| eval::eval(expr, context))
    }

    /// The text of a message, its `{EXPR}`s evaluated as [`Self::eval`]
    /// evaluates an expression (a text without any reads no cluster).
    fn message(
        &self,
        state: &mut State,
        world: &mut dyn World,
        message: &ast::Message,
        file: usize,
    ) -> Result<String, Interrupt> {
        if let Some(text) = message.plain() {
            return Ok(text);
        }
        self.evaluate(state, world, file, |context, world| {
            eval::interpolate(message, context, &|expr| world.unknown(expr))
        })
    }

    /// Runs `evaluation` in the context of the running frame on the cluster
    /// as observed: an operator's `select` becomes the request to ask, an
    /// error the step's failure.
    fn evaluate<T>(
        &self,
        state: &mut State,
        world: &mut dyn World,
        file: usize,
        evaluation: impl FnOnce(&mut Context<'_>, &dyn World) -> Result<T, EvalStop>,
    ) -> Result<T, Interrupt> {
        let observation = self.observed(world, false)?;
        let frame = state.frames.last().expect("a frame is running");
        let mut context = Context {
            frame,
            snapshot: &observation.snapshot,
            initial: world.initial(),
            marks: &state.marks,
            answers: &state.here.answers,
            split_brain: observation.split_brain.as_ref(),
        };
        match evaluation(&mut context, world) {
            Ok(value) => Ok(value),
            Err(EvalStop::NeedSplitBrain(_)) => Err(Interrupt::Yield(Box::new(Effect::Observe {
                split_brain: true,
            }))),
            Err(EvalStop::Select {
                id,
                text,
                servers,
                span,
            }) => Err(Interrupt::Yield(Box::new(Effect::Ask {
                request: PromptRequest {
                    id,
                    text,
                    default: became_active(&servers, &observation.snapshot, world.initial())
                        .map(Answer::Text),
                    kind: PromptKind::Select(servers),
                    data_loss: false,
                },
                file,
                span,
            }))),
            Err(EvalStop::Error(error)) => Err(self.evaluation_failure(state, error, file)),
        }
    }

    /// Evaluates an expression that reads no live cluster (a duration, a
    /// window, a parameter default) on the cluster at the start.
    fn eval_static(
        &self,
        state: &State,
        world: &dyn World,
        expr: &ast::Expr,
        file: usize,
    ) -> Result<Value, Interrupt> {
        let frame = state.frames.last().expect("a frame is running");
        static_eval(expr, frame, world.initial())
            .map_err(|error| self.evaluation_failure(state, error, file))
    }

    fn expect<T>(
        &self,
        state: &State,
        result: Result<T, EvalError>,
        file: usize,
    ) -> Result<T, Interrupt> {
        result.map_err(|error| self.evaluation_failure(state, error, file))
    }

    fn evaluation_failure(&self, state: &State, error: EvalError, file: usize) -> Interrupt {
        let mut failure = self.failure(state, error.message, "evaluated here", file, error.span);
        failure.help = error.help;
        failure.evaluation = true;
        Interrupt::Abort(Abort::Failure(Box::new(failure)))
    }

    /// Outside steps, a value the path depends on is decided once and
    /// journaled: a resumed run replays it instead of reading the cluster.
    fn decide(
        &self,
        state: &mut State,
        world: &mut dyn World,
        what: &str,
        reads_cluster: bool,
        compute: impl FnOnce(&Self, &mut State, &mut dyn World) -> Result<Value, Interrupt>,
    ) -> Result<Value, Interrupt> {
        if state.step.is_some() && !self.tracing {
            return compute(self, state, world);
        }
        match state.here.decision.clone() {
            None => Err(Interrupt::Yield(Box::new(Effect::Decide {
                what: what.to_string(),
                reads_cluster,
            }))),
            Some(Some(value)) => Ok(value),
            Some(None) => {
                let value = compute(self, state, world)?;
                state.queue.push_back(Effect::Event(Event::Decided {
                    what: what.to_string(),
                    value: value.clone(),
                }));
                Ok(value)
            }
        }
    }

    fn ask(
        &self,
        state: &State,
        request: PromptRequest,
        file: usize,
        span: Span,
    ) -> Result<Answer, Interrupt> {
        match take_answer(state, &request.id) {
            Some(answer) => Ok(answer),
            None => Err(Interrupt::Yield(Box::new(Effect::Ask {
                request,
                file,
                span,
            }))),
        }
    }

    fn failure(
        &self,
        state: &State,
        reason: impl Into<String>,
        label: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Failure {
        Failure {
            reason: reason.into(),
            label: label.into(),
            file,
            span,
            help: None,
            wait: None,
            cause_code: None,
            within: self.within(state),
            evaluation: false,
        }
    }

    fn failed(
        &self,
        state: &State,
        reason: impl Into<String>,
        label: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Interrupt {
        Interrupt::Abort(Abort::Failure(Box::new(
            self.failure(state, reason, label, file, span),
        )))
    }

    /// A failure of the runbook itself (a value of the wrong type, a call
    /// that cannot be made).
    fn misuse(
        &self,
        state: &State,
        reason: impl Into<String>,
        label: impl Into<String>,
        file: usize,
        span: Span,
    ) -> Interrupt {
        let mut failure = self.failure(state, reason, label, file, span);
        failure.evaluation = true;
        Interrupt::Abort(Abort::Failure(Box::new(failure)))
    }

    /// The step (or What-if) a failure happens in.
    fn within(&self, state: &State) -> Option<String> {
        let context = state.step.as_ref()?;
        if context.in_handler {
            if let Some(frame) = state.frames.iter().rev().find(|frame| frame.handler) {
                if let Some(handler) = self
                    .code
                    .handlers
                    .iter()
                    .find(|handler| handler.unit == frame.unit)
                {
                    return Some(handler.what_if.id.name.clone());
                }
            }
        }
        Some(self.subject_name(context.subject))
    }

    /// The id of a step or What-if.
    pub fn subject_name(&self, subject: Subject) -> String {
        match subject {
            Subject::Step(step) => self.code.steps[step as usize].step.id.name.clone(),
            Subject::WhatIf(handler) => {
                self.code.handlers[handler as usize].what_if.id.name.clone()
            }
        }
    }

    // ----- steps -----

    fn step_begin(
        &self,
        state: &mut State,
        world: &mut dyn World,
        step: StepId,
        file: usize,
    ) -> Result<Flow, Interrupt> {
        let info = &self.code.steps[step as usize];
        let marked = self.code.marked_steps.contains(&info.step.id.name);
        if state.step.is_some() {
            // A runbook called inside a step: its steps belong to this one.
            if marked {
                let revisions = revisions(&self.observed(world, false)?.snapshot);
                mark(state, &info.step.id.name, revisions);
            }
            self.advance(state);
            return Ok(Flow::Next);
        }
        let Some(gate) = state.here.gate else {
            return Ok(Flow::Yield(Effect::Gate(Subject::Step(step))));
        };
        if marked {
            // A step that started before a resume counts from the start of
            // the run: never fewer changes than were made since it started.
            let revisions = match gate {
                Gate::Run => revisions(&self.observed(world, false)?.snapshot),
                _ => revisions(world.initial()),
            };
            mark(state, &info.step.id.name, revisions);
        }
        if gate == Gate::Skip {
            self.jump(state, info.after_end);
            return Ok(Flow::Next);
        }
        // A step that had started before an interruption had its start
        // judged then: running it again on resume is not a late start.
        if let (Some(window), Gate::Run) = (info.window, gate) {
            let clause = self.code.windows[window as usize].clause;
            let limit = match self.eval_static(state, world, &clause.duration, file)? {
                Value::Duration(limit) => limit,
                _ => {
                    return Err(self.misuse(
                        state,
                        "a window is a duration",
                        "not a duration",
                        file,
                        clause.duration.span,
                    ))
                }
            };
            if let Some(since) = world.since_anchor(window) {
                if since.elapsed > limit {
                    state.queue.push_back(Effect::Event(Event::WindowExceeded {
                        step,
                        window,
                        limit,
                        since,
                    }));
                }
            }
        }
        state.queue.push_back(Effect::Event(Event::StepStarted {
            subject: Subject::Step(step),
            retry: false,
        }));
        let depth = (state.frames.len() - 1) as u16;
        state.step = Some(StepContext {
            subject: Subject::Step(step),
            depth,
            saved: state.frames[depth as usize].clone(),
            fired: Vec::new(),
            retries: 0,
            in_handler: false,
            redo: gate != Gate::Run,
        });
        if let Gate::Handler(handler) = gate {
            // The step itself ended (interrupted) before the run stopped.
            state.queue.pop_back();
            let reason = String::from("its body was under way when the run was interrupted");
            self.enter_handler_as(state, handler, reason, true);
            return Ok(Flow::Next);
        }
        self.advance(state);
        // A step redone on resume: the interrupted run may have died before
        // its What-ifs looked at what its last operation brought (a Standby
        // that became Active during an installer), or something happened
        // while no runner watched. They judge the cluster the redo finds.
        if gate == Gate::Redo {
            if let Some((handler, reason)) = self.check_conditions(state, world, None)? {
                return Err(Interrupt::Abort(Abort::WhatIf { handler, reason }));
            }
        }
        Ok(Flow::Next)
    }

    fn run_what_if(
        &self,
        state: &mut State,
        world: &mut dyn World,
        handler: HandlerId,
    ) -> Result<Flow, Interrupt> {
        let Some(gate) = state.here.gate else {
            return Ok(Flow::Yield(Effect::Gate(Subject::WhatIf(handler))));
        };
        self.advance(state);
        if gate == Gate::Skip {
            return Ok(Flow::Next);
        }
        world.forget();
        let info = &self.code.handlers[handler as usize];
        state.queue.push_back(Effect::Event(Event::StepStarted {
            subject: Subject::WhatIf(handler),
            retry: false,
        }));
        state.queue.push_back(Effect::Event(Event::WhatIfEntered {
            handler,
            reason: String::from("run directly with --what-if"),
            step: None,
            resumed: false,
        }));
        let depth = (state.frames.len() - 1) as u16;
        let saved = state.frames[depth as usize].clone();
        let mut frame = saved.clone();
        frame.loops.clear();
        frame.unit = info.unit;
        frame.pc = 0;
        frame.handler = true;
        state.step = Some(StepContext {
            subject: Subject::WhatIf(handler),
            depth,
            saved,
            fired: vec![handler],
            retries: 0,
            in_handler: true,
            redo: gate == Gate::Redo,
        });
        state.frames.push(frame);
        Ok(Flow::Next)
    }

    fn call(
        &self,
        state: &mut State,
        world: &mut dyn World,
        call: &ast::Call,
        callee: Option<usize>,
        file: usize,
    ) -> Result<Flow, Interrupt> {
        let Some(callee) = callee else {
            return Err(self.misuse(
                state,
                format!("nothing named `{}` can be called", call.target.name),
                "unknown procedure",
                file,
                call.span,
            ));
        };
        let mut params = Vec::new();
        for arg in &call.args {
            let value = self.eval(state, world, &arg.value, file)?;
            params.push((arg.name.name.clone(), value));
        }
        for (name, value) in self.default_params(callee, world.initial()) {
            if !params.iter().any(|(given, _)| *given == name) {
                params.push((name, value));
            }
        }
        let missing = self.code.program.files[callee]
            .ast
            .params
            .iter()
            .find(|param| !params.iter().any(|(given, _)| *given == param.name.name));
        if let Some(param) = missing {
            return Err(self.misuse(
                state,
                format!(
                    "`{}` needs the argument `{}`",
                    call.target.name, param.name.name
                ),
                "missing argument",
                file,
                call.span,
            ));
        }
        self.advance(state);
        state
            .frames
            .push(Frame::new(self.code.file_units[callee], params));
        Ok(Flow::Next)
    }

    fn return_from_unit(&self, state: &mut State) -> Flow {
        state.here = Here::default();
        let Some(frame) = state.frames.pop() else {
            return Flow::Next;
        };
        if frame.handler {
            self.handler_finished(state);
        }
        Flow::Next
    }

    // ----- wait -----

    #[allow(clippy::too_many_arguments)]
    fn wait(
        &self,
        state: &mut State,
        world: &mut dyn World,
        condition: &ast::Expr,
        timeout: Option<&ast::Expr>,
        every: Option<&ast::Expr>,
        span: Span,
        file: usize,
    ) -> Result<Flow, Interrupt> {
        let duration = |expr: Option<&ast::Expr>| -> Result<Option<Duration>, Interrupt> {
            let Some(expr) = expr else { return Ok(None) };
            match self.eval_static(state, world, expr, file)? {
                Value::Duration(duration) => Ok(Some(duration)),
                other => Err(self.misuse(
                    state,
                    format!("expected a duration, found a {}", other.type_name()),
                    "not a duration",
                    file,
                    expr.span,
                )),
            }
        };
        let limit = duration(timeout)?;
        let interval = duration(every)?
            .unwrap_or(DEFAULT_WAIT_INTERVAL)
            .max(Duration::from_millis(100));
        let text = condition
            .span
            .text(&self.code.program.files[file].text)
            .to_string();
        let Some(waited) = state.here.waited else {
            state.here.waited = Some(Duration::ZERO);
            world.forget();
            state.queue.push_back(Effect::Event(Event::WaitStarted {
                condition: text,
                timeout: limit,
            }));
            return Ok(Flow::Next);
        };
        let value = if self.tracing {
            let what = format!("wait at {}", span.start);
            let reads = eval::reads_cluster(condition);
            self.decide(state, world, &what, reads, |machine, state, world| {
                machine.eval(state, world, condition, file)
            })?
        } else {
            self.eval(state, world, condition, file)?
        };
        if self.expect(state, eval::expect_bool(value, condition.span), file)? {
            state.queue.push_back(Effect::Event(Event::WaitFinished {
                condition: text,
                ok: true,
                waited,
            }));
            self.advance(state);
            return Ok(Flow::Next);
        }
        let limit = limit.unwrap_or(MAX_UNBOUNDED_WAIT);
        if waited >= limit {
            state.queue.push_back(Effect::Event(Event::WaitFinished {
                condition: text.clone(),
                ok: false,
                waited,
            }));
            let shown = format_duration(limit);
            let mut failure = self.failure(
                state,
                format!("`{text}` did not hold within {shown}"),
                format!("waited {shown} for this"),
                file,
                span,
            );
            failure.wait = Some((text, shown));
            return Err(Interrupt::Abort(Abort::Failure(Box::new(failure))));
        }
        world.forget();
        Ok(Flow::Yield(Effect::Sleep {
            interval,
            waited,
            limit,
            condition: text,
        }))
    }

    // ----- discarded changes -----

    /// `discards changes on EXPR` (on a step, a `choose` option or a
    /// What-if; EXPR a server or a list of servers): counts the
    /// administrator changes made on each server since the run started,
    /// warns with each count and, when there are any the operator has not
    /// agreed to lose yet, asks `prompt_id` once for all of them. A target
    /// that cannot count them is said so, and the operator asked once per
    /// clause.
    fn discards_changes(
        &self,
        state: &mut State,
        world: &mut dyn World,
        server_expr: &ast::Expr,
        prompt_id: &str,
        subject: &str,
        file: usize,
    ) -> Result<(), Interrupt> {
        let servers = match self.eval(state, world, server_expr, file)? {
            Value::Server(server) => vec![server],
            Value::Servers(servers) => servers,
            other => {
                return Err(self.evaluation_failure(
                    state,
                    EvalError {
                        message: format!(
                            "`discards changes on` names a server or a list of servers, not a {}",
                            other.type_name()
                        ),
                        span: server_expr.span,
                        help: None,
                    },
                    file,
                ))
            }
        };
        let answered = take_answer(state, prompt_id);
        let counted = world.counts_changes();
        let mut counts = Vec::with_capacity(servers.len());
        for server in &servers {
            if answered.is_none() {
                state.queue.push_back(Effect::Event(Event::Discards {
                    prompt_id: prompt_id.to_string(),
                    subject: subject.to_string(),
                    server: server.clone(),
                }));
            }
            let changes = if counted {
                let now = &self.observed(world, false)?.snapshot;
                observe::changes_since(world.initial(), now, server)
            } else {
                u64::MAX
            };
            // A list says nothing of its servers without changes.
            if answered.is_none() && (servers.len() == 1 || changes > 0) {
                let message = if counted {
                    format!(
                        "{subject} discards {changes} administrator change{} made on {server} since the run started",
                        plural(changes)
                    )
                } else {
                    format!(
                        "{subject} discards the administrator changes made on {server} since the run started; this target cannot count them (the SMC API publishes no count of changes): check the audit of {server} before you continue"
                    )
                };
                state.queue.push_back(Effect::Event(Event::Warning {
                    code: "runbook::run::discards_changes",
                    message,
                }));
            }
            counts.push((server.clone(), changes));
        }
        // Nothing to ask when the operator already agreed to lose at least
        // as many on every server (counted before two servers became
        // Active, and counted again, unchanged, by the step that demotes
        // one of them).
        let to_ask: Vec<&(String, u64)> = counts
            .iter()
            .filter(|(server, changes)| {
                *changes > 0
                    && state
                        .agreed_changes(server)
                        .is_none_or(|agreed| *changes > agreed)
            })
            .collect();
        if to_ask.is_empty() {
            for (server, changes) in &counts {
                let agreed = state.agreed_changes(server).unwrap_or(0);
                set_agreed(state, server, (*changes).max(agreed));
            }
            return Ok(());
        }
        let text = if counted {
            let parts: Vec<String> = to_ask
                .iter()
                .map(|(server, changes)| {
                    format!(
                        "{changes} administrator change{} made on {server}",
                        plural(*changes)
                    )
                })
                .collect();
            format!(
                "{} since the run started will be lost. Continue?",
                join_and(&parts)
            )
        } else {
            let names: Vec<String> = to_ask.iter().map(|(server, _)| server.clone()).collect();
            format!(
                "Any administrator change made on {} since the run started will be lost (they cannot be counted on this target). Continue?",
                join_and(&names)
            )
        };
        let request = PromptRequest {
            id: prompt_id.to_string(),
            text,
            kind: PromptKind::Confirm,
            default: Some(Answer::Bool(false)),
            data_loss: true,
        };
        match self.ask(state, request, file, server_expr.span)? {
            Answer::Bool(true) => {
                for (server, changes) in &counts {
                    set_agreed(state, server, *changes);
                    state.queue.push_back(Effect::Event(Event::ChangesAgreed {
                        server: server.clone(),
                        changes: *changes,
                    }));
                }
                Ok(())
            }
            _ => Err(Interrupt::Abort(Abort::Declined(prompt_id.to_string()))),
        }
    }

    // ----- operations -----

    fn operation(
        &self,
        state: &mut State,
        world: &mut dyn World,
        call: &ast::OperationCall,
        kind: Option<OperationKind>,
        file: usize,
    ) -> Result<Flow, Interrupt> {
        if state.here.sent.is_none() {
            let mut values = Vec::with_capacity(call.args.len());
            for arg in &call.args {
                values.push(self.eval(state, world, &arg.value, file)?);
            }
            let operation = eval::build_operation(call, kind, values).map_err(|error| {
                self.misuse(state, error.message, error.label, file, error.span)
            })?;
            let redo = state.step.as_ref().is_some_and(|context| context.redo);
            if redo && !operation.is_read_only() {
                let Some((done, failed)) = state.here.settled.clone() else {
                    return Ok(Flow::Yield(Effect::Settle(operation)));
                };
                // A failure the interrupted run had not acted on yet is
                // replayed first: what the cluster shows may only look
                // like the effect (a server that does not answer reads as
                // stopped).
                if let Some(error) = failed {
                    let observation = self.observed(world, true)?;
                    state.here.sent = Some(Box::new(Sent {
                        operation,
                        before: observation.snapshot.clone(),
                        split_brain_before: observation.split_brain.clone().flatten(),
                        result: Some(Err(error)),
                    }));
                    return self.operation(state, world, call, kind, file);
                }
                let now = &self.observed(world, false)?.snapshot;
                // What the cluster shows decides; the journal only for what
                // it cannot show (the redo may have undone the rest: a
                // server it started again is stopped again).
                if redo_sees_done(&operation, now) || (done && !effect_observable(&operation)) {
                    state
                        .queue
                        .push_back(Effect::Event(Event::OperationSkipped(operation)));
                    self.advance(state);
                    return Ok(Flow::Next);
                }
            }
            let observation = self.observed(world, true)?;
            state.here.sent = Some(Box::new(Sent {
                operation: operation.clone(),
                before: observation.snapshot.clone(),
                split_brain_before: observation.split_brain.clone().flatten(),
                result: None,
            }));
            world.forget();
            return Ok(Flow::Yield(Effect::Perform(operation)));
        }
        let sent = state.here.sent.clone().expect("an operation was sent");
        let Some(result) = sent.result.clone() else {
            return Ok(Flow::Yield(Effect::Perform(sent.operation.clone())));
        };
        let error = match &result {
            Ok(output) => output.failure(),
            Err(error) => Some(error.message.clone()),
        };
        if error.is_none() && observe::activates(&sent.operation) {
            state.note_activated(sent.operation.server());
        }
        let record = OperationRecord {
            operation: sent.operation.clone(),
            before: sent.before.clone(),
            error: error.clone(),
            cancelled: matches!(&result, Err(error) if error.cancelled),
            split_brain_before: sent.split_brain_before.clone(),
        };
        if let Some((handler, reason)) = self.check_conditions(state, world, Some(&record))? {
            return Err(Interrupt::Abort(Abort::WhatIf { handler, reason }));
        }
        match (error, result) {
            (None, _) => {
                self.advance(state);
                Ok(Flow::Next)
            }
            (Some(reason), Err(cause)) => {
                let mut failure =
                    self.failure(state, reason, "this operation failed", file, call.span);
                failure.cause_code = cause.code;
                failure.help = cause.help;
                Err(Interrupt::Abort(Abort::Failure(Box::new(failure))))
            }
            (Some(reason), Ok(_)) => {
                Err(self.failed(state, reason, "this operation failed", file, call.span))
            }
        }
    }

    // ----- What-if handlers -----

    /// Handlers of the running step's file, then of the main file.
    fn handler_files(&self, step_file: usize) -> Vec<usize> {
        let main = self.code.program.main;
        if step_file == main {
            vec![step_file]
        } else {
            vec![step_file, main]
        }
    }

    fn step_file(&self, subject: Subject) -> usize {
        match subject {
            Subject::Step(step) => self.code.steps[step as usize].file,
            Subject::WhatIf(handler) => self.code.handlers[handler as usize].file,
        }
    }

    fn failed_handler(&self, context: &StepContext) -> Option<HandlerId> {
        let Subject::Step(step) = context.subject else {
            return None;
        };
        let name = &self.code.steps[step as usize].step.id.name;
        for file in self.handler_files(self.step_file(context.subject)) {
            for (id, handler) in self.code.handlers.iter().enumerate() {
                if handler.file != file || context.fired.contains(&(id as HandlerId)) {
                    continue;
                }
                let watches = handler.what_if.triggers.iter().any(
                    |trigger| matches!(&trigger.kind, TriggerKind::Failed(step) if step.name == *name),
                );
                if watches {
                    return Some(id as HandlerId);
                }
            }
        }
        None
    }

    /// After an operation: the first condition handler that fires, if any.
    fn check_conditions(
        &self,
        state: &State,
        world: &mut dyn World,
        last: Option<&OperationRecord>,
    ) -> Result<Option<(HandlerId, String)>, Interrupt> {
        let Some(context) = state.step.as_ref().filter(|context| !context.in_handler) else {
            return Ok(None);
        };
        let Subject::Step(step) = context.subject else {
            return Ok(None);
        };
        if !world.judges_conditions() {
            return Ok(None);
        }
        let name = &self.code.steps[step as usize].step.id.name;
        let mut candidates = Vec::new();
        for file in self.handler_files(self.step_file(context.subject)) {
            for (id, handler) in self.code.handlers.iter().enumerate() {
                let what_if = handler.what_if;
                let watching = what_if.during.is_empty()
                    || what_if.during.iter().any(|during| during.name == *name);
                let has_condition = what_if
                    .triggers
                    .iter()
                    .any(|trigger| !matches!(trigger.kind, TriggerKind::Failed(_)));
                if handler.file == file
                    && watching
                    && has_condition
                    && !context.fired.contains(&(id as HandlerId))
                {
                    candidates.push(id as HandlerId);
                }
            }
        }
        if candidates.is_empty() {
            return Ok(None);
        }
        let observation = self.observed(world, true)?;
        let snapshot = &observation.snapshot;
        let split_brain = observation.split_brain.clone().flatten();
        let new_split = match last {
            Some(last) => observe::new_split_brain(last, &split_brain),
            None => split_brain.as_deref(),
        };
        let activated_by_run =
            |server: &str| state.activated_by_run.iter().any(|name| name == server);
        for id in candidates {
            for trigger in &self.code.handlers[id as usize].what_if.triggers {
                let facts = observe::ConditionFacts {
                    initial: world.initial(),
                    now: snapshot,
                    last,
                    new_split,
                    activated_by_run: &activated_by_run,
                };
                // `upgrade-cancelled(EXPR)` names its server in the step's bindings.
                let reason = observe::condition_reason(&trigger.kind, &facts, |expr| {
                    let mut context = Context {
                        frame: &context.saved,
                        snapshot,
                        initial: world.initial(),
                        marks: &[],
                        answers: &[],
                        split_brain: None,
                    };
                    match eval::eval(expr, &mut context) {
                        Ok(Value::Server(server)) => Some(server),
                        _ => None,
                    }
                });
                if let Some(reason) = reason {
                    return Ok(Some((id, reason)));
                }
            }
        }
        Ok(None)
    }

    fn abort(&self, state: &mut State, abort: Abort) -> Flow {
        state.here = Here::default();
        let file = self.position(state).0;
        let open = state
            .step
            .as_ref()
            .filter(|context| context.open())
            .cloned();
        let finish = |state: &mut State, outcome: StepFinish| {
            if let Some(context) = &open {
                state.queue.push_back(Effect::Event(Event::StepFinished {
                    subject: context.subject,
                    outcome,
                }));
            }
        };
        let end = |state: &mut State, ending: Ending| {
            state.queue.push_back(Effect::End(ending));
            Flow::Next
        };
        match abort {
            Abort::Failure(failure) => {
                if failure.evaluation {
                    state
                        .queue
                        .push_back(Effect::Event(Event::EvaluationFailed(failure.clone())));
                }
                let handler = open
                    .as_ref()
                    .filter(|context| !context.in_handler)
                    .and_then(|context| self.failed_handler(context));
                match handler {
                    Some(handler) => {
                        let step = open
                            .as_ref()
                            .map(|context| self.subject_name(context.subject))
                            .unwrap_or_default();
                        finish(state, StepFinish::Interrupted(failure.reason.clone()));
                        let reason = format!("step `{step}` failed: {}", failure.reason);
                        self.enter_handler(state, handler, reason);
                        Flow::Next
                    }
                    None => {
                        finish(
                            state,
                            StepFinish::Failed(failure.reason.clone(), failure.cause_code.clone()),
                        );
                        end(state, Ending::Failed(failure))
                    }
                }
            }
            Abort::WhatIf { handler, reason } => {
                finish(
                    state,
                    StepFinish::Interrupted(format!("interrupted: {reason}")),
                );
                self.enter_handler(state, handler, reason);
                Flow::Next
            }
            Abort::Stop(message) => {
                finish(state, StepFinish::Stopped(message.clone()));
                end(state, Ending::Stopped(message))
            }
            Abort::Pause(message) => {
                match state.step.as_ref().map(|context| context.subject) {
                    // The handler leaves its step to be run again on resume.
                    Some(Subject::Step(step)) if open.is_none() => {
                        let handler = state
                            .step
                            .as_ref()
                            .and_then(|context| context.fired.last().copied())
                            .unwrap_or_default();
                        state.queue.push_back(Effect::Event(Event::WhatIfFinished {
                            handler,
                            step,
                            resolution: Resolution::Retry,
                        }));
                    }
                    // A What-if run alone is its own step: left unfinished.
                    _ => finish(state, StepFinish::Interrupted(message.clone())),
                }
                end(state, Ending::Paused(message))
            }
            Abort::Declined(id) => {
                finish(
                    state,
                    StepFinish::Failed(format!("the operator declined `{id}`"), None),
                );
                end(state, Ending::Declined(id))
            }
            Abort::Fail { message, span } => {
                finish(state, StepFinish::Failed(message.clone(), None));
                end(
                    state,
                    Ending::Fail {
                        message,
                        file,
                        span,
                    },
                )
            }
            Abort::Retry { span } => match state.step.as_ref() {
                Some(context) if matches!(context.subject, Subject::WhatIf(_)) => {
                    // A What-if run alone has no step to run again: it is done.
                    state.frames.truncate(context.depth as usize + 1);
                    self.handler_finished(state);
                    Flow::Next
                }
                Some(context) if context.in_handler => self.retry(state),
                _ => {
                    finish(
                        state,
                        StepFinish::Failed(String::from("`retry` outside a What-if"), None),
                    );
                    end(state, Ending::RetryOutside { file, span })
                }
            },
        }
    }

    fn enter_handler(&self, state: &mut State, handler: HandlerId, reason: String) {
        self.enter_handler_as(state, handler, reason, false);
    }

    /// Enters `handler` for the step under way; `resumed`: it had been
    /// entered before the run was interrupted.
    fn enter_handler_as(
        &self,
        state: &mut State,
        handler: HandlerId,
        reason: String,
        resumed: bool,
    ) {
        let info = &self.code.handlers[handler as usize];
        let Some(context) = state.step.as_mut() else {
            return;
        };
        if !context.fired.contains(&handler) {
            context.fired.push(handler);
        }
        context.in_handler = true;
        let depth = context.depth as usize;
        let saved = context.saved.clone();
        let Subject::Step(step) = context.subject else {
            return;
        };
        state.queue.push_back(Effect::Event(Event::WhatIfEntered {
            handler,
            reason,
            step: Some(step),
            resumed,
        }));
        state.frames.truncate(depth + 1);
        let step_file = self.code.unit_file(saved.unit);
        let mut frame = if info.file == step_file {
            let mut frame = saved.clone();
            frame.loops.clear();
            frame
        } else {
            let initial = Snapshot::default();
            Frame::new(info.unit, self.default_params(info.file, &initial))
        };
        frame.unit = info.unit;
        frame.pc = 0;
        frame.handler = true;
        state.frames[depth] = saved;
        state.frames.push(frame);
    }

    /// A handler body ended: the run goes on after the interrupted step
    /// (a What-if run alone ends its own step).
    fn handler_finished(&self, state: &mut State) {
        let Some(context) = state.step.take() else {
            return;
        };
        let depth = context.depth as usize;
        match context.subject {
            Subject::WhatIf(_) => {
                state.frames.truncate(depth + 1);
                state.queue.push_back(Effect::Event(Event::StepFinished {
                    subject: context.subject,
                    outcome: StepFinish::Ok,
                }));
            }
            Subject::Step(step) => {
                let info = &self.code.steps[step as usize];
                state.frames.truncate(depth + 1);
                let mut frame = context.saved;
                frame.pc = info.after_end;
                state.frames[depth] = frame;
                let handler = context.fired.last().copied().unwrap_or_default();
                state.queue.push_back(Effect::Event(Event::WhatIfFinished {
                    handler,
                    step,
                    resolution: Resolution::Continue,
                }));
            }
        }
    }

    fn retry(&self, state: &mut State) -> Flow {
        let context = state.step.as_mut().expect("retry runs in a handler");
        let Subject::Step(step) = context.subject else {
            return Flow::Next;
        };
        context.retries += 1;
        let info = &self.code.steps[step as usize];
        let handler = context.fired.last().copied().unwrap_or_default();
        state.queue.push_back(Effect::Event(Event::WhatIfFinished {
            handler,
            step,
            resolution: Resolution::Retry,
        }));
        if u32::from(context.retries) > MAX_RETRIES {
            let failure = Failure {
                reason: format!(
                    "`retry` ran step `{}` {MAX_RETRIES} times; giving up",
                    info.step.id.name
                ),
                label: String::from("this step"),
                file: info.file,
                span: info.step.span,
                help: None,
                wait: None,
                cause_code: None,
                within: Some(info.step.id.name.clone()),
                evaluation: false,
            };
            state
                .queue
                .push_back(Effect::End(Ending::Failed(Box::new(failure))));
            return Flow::Next;
        }
        // Like a resumed half-done step: what already took effect is not redone.
        context.in_handler = false;
        context.redo = true;
        let depth = context.depth as usize;
        let mut frame = context.saved.clone();
        frame.pc = info.body_start;
        state.frames.truncate(depth + 1);
        state.frames[depth] = frame;
        state.queue.push_back(Effect::Event(Event::StepStarted {
            subject: Subject::Step(step),
            retry: true,
        }));
        Flow::Next
    }
}

/// What interrupts an instruction: an abort, or a request to the driver.
enum Interrupt {
    Abort(Abort),
    /// Boxed: an effect is large, and most results are `Ok`.
    Yield(Box<Effect>),
}

/// The request of a `confirm` or `record` statement.
fn request(id: &ast::Ident, text: &ast::StringLit, kind: PromptKind) -> PromptRequest {
    PromptRequest {
        id: id.name.clone(),
        text: text.value.clone(),
        kind,
        default: None,
        data_loss: false,
    }
}

/// Among `servers`, the one the run saw become Active: running Active now,
/// a Standby when the run started (the default of a `select`).
fn became_active(servers: &[String], now: &Snapshot, initial: &Snapshot) -> Option<String> {
    servers
        .iter()
        .find(|name| {
            now.actives().any(|active| active.name == **name)
                && initial
                    .server(name)
                    .is_some_and(|server| server.mode == Mode::Standby)
        })
        .cloned()
}

fn top(state: &mut State) -> &mut Frame {
    state.frames.last_mut().expect("a frame is running")
}

fn take_answer(state: &State, id: &str) -> Option<Answer> {
    state
        .here
        .answers
        .iter()
        .find(|(answered, _)| answered == id)
        .map(|(_, answer)| answer.clone())
}

fn set_agreed(state: &mut State, server: &str, changes: u64) {
    state.agreed.retain(|(name, _)| name != server);
    state.agreed.push((server.to_string(), changes));
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// Evaluates an expression that needs no live cluster and no operator.
/// A declared condition (`requires EXPR else "MESSAGE"`, `goal EXPR else
/// "MESSAGE"`) judged on `snapshot` with `frame` bound: `None` when it
/// holds, else its message (interpolated), saying why when the condition
/// could not be evaluated (which counts as not holding).
fn declared_condition_unmet(
    condition: &ast::Expr,
    message: &ast::Message,
    frame: &Frame,
    snapshot: &Snapshot,
    initial: &Snapshot,
) -> Option<String> {
    let mut context = Context {
        frame,
        snapshot,
        initial,
        marks: &[],
        answers: &[],
        split_brain: None,
    };
    let holds = eval::eval(condition, &mut context)
        .map_err(EvalStop::into_static_error)
        .and_then(|value| eval::expect_bool(value, condition.span));
    let text = eval::interpolate(message, &mut context, &|_| false)
        .unwrap_or_else(|_| message.text.value.clone());
    match holds {
        Ok(true) => None,
        Ok(false) => Some(text),
        Err(error) => Some(format!(
            "{text} (the condition could not be evaluated: {})",
            error.message
        )),
    }
}

/// Each server's configuration revision in `snapshot`.
fn revisions(snapshot: &Snapshot) -> Vec<(String, u64)> {
    snapshot
        .servers
        .iter()
        .map(|server| (server.name.clone(), server.config_revision))
        .collect()
}

/// Marks the start of step `step` (see [`State::marks`]).
fn mark(state: &mut State, step: &str, revisions: Vec<(String, u64)>) {
    match state.marks.iter_mut().find(|(name, _)| name == step) {
        Some((_, known)) => *known = revisions,
        None => state.marks.push((step.to_string(), revisions)),
    }
}

fn static_eval(expr: &ast::Expr, frame: &Frame, initial: &Snapshot) -> Result<Value, EvalError> {
    let mut context = Context {
        frame,
        snapshot: initial,
        initial,
        marks: &[],
        answers: &[],
        split_brain: None,
    };
    eval::eval(expr, &mut context).map_err(EvalStop::into_static_error)
}

/// Whether the cluster can show that `operation` took effect (see
/// [`effect_visible`]): reads, backups, restores and stopping replication
/// leave nothing a snapshot tells apart.
pub fn effect_observable(operation: &Operation) -> bool {
    !matches!(
        operation,
        Operation::Diagnostic { .. }
            | Operation::ReplicationStates { .. }
            | Operation::StopReplication { .. }
            | Operation::Backup { .. }
            | Operation::RestoreBackup { .. }
    )
}

/// Whether a redone step takes `operation` as done from what `snapshot`
/// shows ([`effect_visible`]), but for `stop-server`: a server that does not
/// answer reads as stopped, and stopping is idempotent, so it is sent again
/// (it fails on a server that does not answer, as it would have).
fn redo_sees_done(operation: &Operation, snapshot: &Snapshot) -> bool {
    !matches!(operation, Operation::StopServer { .. }) && effect_visible(operation, snapshot)
}

/// Whether the effect of `operation` is already visible in `snapshot`: on a
/// redone step such an operation is not repeated (see [`redo_sees_done`]).
pub fn effect_visible(operation: &Operation, snapshot: &Snapshot) -> bool {
    let Some(server) = snapshot.server(operation.server()) else {
        return false;
    };
    match operation {
        Operation::Exclude { .. } => server.excluded,
        Operation::InitStandby { .. } => {
            server.running
                && !server.excluded
                && server.mode == Mode::Standby
                && server.replication == ReplicationState::StbRep
        }
        Operation::Activate { .. } | Operation::ForceActivate { .. } => {
            server.running && server.mode == Mode::Active
        }
        Operation::SetStandby { .. } => server.mode == Mode::Standby,
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
