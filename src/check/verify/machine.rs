//! The verifier's driver of the one small-step machine
//! ([`crate::semantics::machine`]): it answers the machine's effects over the
//! pure [`Cluster`] model and turns every nondeterministic point (a prompt,
//! a fault, a background outcome) into a branch. A verifier [`State`] is
//! `Hash + Eq` — the machine's state plus the cluster, the background
//! operation under way and the clock as far as properties need it — so the
//! explorer can memoize it. The properties are judged here, on what the
//! machine reports: the statement semantics are the interpreter's own.

use std::time::Duration;

use serde::Serialize;

use super::property::{Property, Violation};
use crate::cluster::durations::CHANGE_INTERVAL;
use crate::cluster::{
    check_transition, possible_fault_events, possible_job_outcomes, Cluster, FailureKind, Fault,
    FaultEvent, FaultPoint, InvariantViolation, JobId, JobOutcome, Operation, OperationOutput,
    Progress, ReplicationState, SimError, Snapshot, Started,
};
use crate::connect::sim::{connector_error, SIM_TIMEOUT_SECONDS};
use crate::interp::events::RunOutcome;
use crate::interp::in_flight::{self, Seen};
use crate::interp::journal::{JournalOutcome, Record, StepKey, WhatIfResolution};
use crate::interp::replay::{InFlight, Instances, Replay};
use crate::semantics::code::{Code, StepId, WindowId};
use crate::semantics::eval::format_duration;
use crate::semantics::machine::{
    self as core, Effect, Ending, Event, Gate, GoalCheck, Input, Observation, OperationError,
    Resolution, Since, StepFinish, Subject, World, MAX_INSTRUCTIONS,
};
use crate::semantics::observe;
use crate::semantics::prompt::{Answer, PromptKind};
use crate::syntax::Span;

/// The text a `record` prompt is answered with: the verifier treats every
/// observation alike (a recorded string only ever compares with strings).
pub const RECORDED_TEXT: &str = "(any text)";

/// An operator answer on a path (the interpreter's [`Answer`]).
pub type Choice = Answer;

/// One thing that happened on a path, in order: what a counterexample shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
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
        /// Whether it fires at a later occasion than its first on the path
        /// (the simulator fires each fault at its first).
        #[serde(skip)]
        later_occasion: bool,
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
    /// Whether the whole configuration happened on the path: every one of
    /// its faults fired (those before the run always do), and with
    /// `background-outcome`, an outcome was chosen.
    pub combination: bool,
    /// The cluster at the end, as the operator reads it.
    pub cluster: Snapshot,
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
    /// The path ran past the exploration's budget without a branch or an
    /// end: the exploration is incomplete there (a limit, not a
    /// counterexample — the language's loops are bounded).
    LimitReached,
}

/// One edge of the exploration graph.
#[derive(Debug)]
pub struct Transition {
    /// What happened along it.
    pub events: Vec<PathEvent>,
    /// For each event, the model time along the edge when it happened.
    pub stamps: Vec<Duration>,
    /// The model time the edge takes: background operations at their full
    /// duration, `wait`s as they poll (to their timeout when nothing can
    /// change), each operator prompt [`Machine::with_prompt_time`].
    pub elapsed: Duration,
    /// Where it leads.
    pub next: Next,
}

/// What a deterministic run has seen so far: the events and the model time.
#[derive(Debug, Default)]
struct Trail {
    events: Vec<PathEvent>,
    stamps: Vec<Duration>,
    elapsed: Duration,
}

impl Trail {
    fn push(&mut self, event: PathEvent) {
        self.events.push(event);
        self.stamps.push(self.elapsed);
    }

    fn transition(&self, extra: Vec<PathEvent>, next: Next) -> Transition {
        let mut events = self.events.clone();
        let mut stamps = self.stamps.clone();
        stamps.extend(extra.iter().map(|_| self.elapsed));
        events.extend(extra);
        Transition {
            events,
            stamps,
            elapsed: self.elapsed,
            next,
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
    /// Also crash the runner (`kill -9`) at any point, once per path, and
    /// go on with `runbook resume` from what the journal holds.
    pub runner_crash: bool,
}

impl FaultSet {
    /// How the set is named in reports.
    pub fn label(&self) -> String {
        let mut names: Vec<String> = self.faults.iter().map(ToString::to_string).collect();
        if self.runner_crash {
            names.push(String::from(RUNNER_CRASH));
        }
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

/// The name of the runner's own crash among a configuration's faults.
pub const RUNNER_CRASH: &str = "runner-crash";

/// The bit of [`EndInfo::fired`] for the runner's crash.
pub const RUNNER_CRASH_BIT: u32 = 1 << 30;

/// The runner's side of a path, kept only when the configuration crashes
/// the runner: what its journal holds, and after the crash what the resumed
/// run replays from it — the interpreter's own [`Replay`], built from the
/// records its driver writes, in the same order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Runner {
    /// What the journal holds (no longer kept once the runner crashed:
    /// one crash per path).
    journal: Replay,
    /// What this process replays: nothing before the crash.
    replay: Replay,
    /// The step instances and prompt occurrences met in this process.
    instances: Instances,
    /// The step instance under way.
    step_key: Option<StepKey>,
    /// The runner crashed on this path (and was resumed).
    crashed: bool,
    /// A record was journaled since the last point the runner could crash.
    crash_due: bool,
    /// A step let through the resume gate once the operations it left in
    /// flight have ended: the gate, and those still to wait for.
    gate: Option<(Gate, StepKey, Vec<InFlight>)>,
}

/// One way the faults may fire at a fault point.
#[derive(Debug, Clone, Default)]
struct FaultOption {
    /// The faults (by index in the configuration) that had an occasion.
    offered: Vec<usize>,
    /// The events that fire, in order: a fault's index, or `None` for a
    /// background outcome.
    chosen: Vec<(Option<usize>, FaultEvent)>,
}

/// A background operation waiting for its end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PendingOperation {
    operation: Operation,
    job: JobId,
    /// The job ended through a fault (an interrupted wizard).
    ended: Option<SimError>,
    /// Left in flight by the crashed runner: the resumed run waits for it
    /// to end and judges from the cluster whether it took effect.
    awaited: bool,
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

/// A memoizable verifier state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    machine: core::State,
    cluster: Cluster,
    pending: Option<PendingOperation>,
    /// An operation about to be sent whose fault point (a crash before
    /// it) was already branched on.
    about_to_send: Option<Operation>,
    /// What the last lapse of time brought that is still to be judged (a
    /// branch at one fault point leaves the points after it).
    leftover: Vec<Progress>,
    fired: u32,
    /// Faults that had an occasion on the path and did not take it.
    declined: u32,
    outcome_used: bool,
    clock: Clock,
    windows_open: Vec<WindowId>,
    handled: bool,
    /// A fault fired since the current step started: until the step ends,
    /// two Actives are its What-ifs' to handle (judged at the step's end),
    /// not the operations'.
    fault_in_step: bool,
    /// With `runner-crash`: the runner's journal and replay.
    runner: Option<Box<Runner>>,
    /// An operation that took effect and whose result the runner has not
    /// seen yet (the runner may crash first).
    unseen: Option<(Operation, Result<OperationOutput, SimError>)>,
}

/// What the model shows the machine.
struct ModelWorld<'a> {
    observation: Option<Observation>,
    initial: &'a Snapshot,
    since_anchor: &'a [Option<Duration>],
}

impl World for ModelWorld<'_> {
    fn observation(&self) -> Option<&Observation> {
        self.observation.as_ref()
    }

    fn forget(&mut self) {
        self.observation = None;
    }

    fn initial(&self) -> &Snapshot {
        self.initial
    }

    fn since_anchor(&self, window: WindowId) -> Option<Since> {
        self.since_anchor
            .get(window as usize)
            .copied()
            .flatten()
            .map(|elapsed| Since {
                elapsed,
                across_resume: None,
            })
    }

    fn counts_changes(&self) -> bool {
        true
    }
}

/// What handling one effect leads to.
enum Flow {
    Continue,
    /// The machine's own budget ran out (see [`Next::LimitReached`]).
    Limit,
    Branch(Vec<(Vec<PathEvent>, State)>),
    End(RunOutcome, String),
    Violation(Violation),
}

/// The verifier's driver for one fault configuration.
pub struct Machine<'c, 'p> {
    core: core::Machine<'c, 'p>,
    code: &'c Code<'p>,
    faults: FaultSet,
    initial: Snapshot,
    initial_cluster: Cluster,
    initial_active: String,
    /// The main file's parameters at their defaults, bound once.
    params: Vec<(String, crate::semantics::eval::Value)>,
    anchor_cap: Duration,
    /// Effects one deterministic run may handle before it is a limit reached.
    budget: usize,
    /// The time an operator prompt counts for in a path's duration.
    prompt_time: Duration,
    /// Whether a failure after the runner's crash breaks
    /// [`Property::ResumeFails`] (the runbook never fails without faults).
    judge_resume: bool,
    /// The faults that fired before the run (bit per fault of the
    /// configuration).
    at_start: u32,
}

/// How the configuration's `unreachable:S` faults fire: before the run, or
/// later (between two operations, or while an installer runs on another
/// server). One bit per fault of the configuration: set when it fires
/// later. [`later_unreachable_variants`] lists them.
pub type LaterMask = u32;

/// Every way the `unreachable:S` faults of `faults` may fire: all before
/// the run first (the simulator's `unreachable:S` without `@N`), then each
/// one later while the others fire before the run. At most one server stops
/// answering during a run: with two (the runner cut off from the cluster)
/// no run can act, and the first one it meets stops it.
pub fn later_unreachable_variants(faults: &FaultSet) -> Vec<LaterMask> {
    let unreachable: Vec<usize> = faults
        .faults
        .iter()
        .enumerate()
        .filter(|(_, fault)| matches!(fault, Fault::Unreachable(_)))
        .map(|(index, _)| index)
        .collect();
    std::iter::once(0)
        .chain(unreachable.iter().map(|index| 1 << index))
        .collect()
}

impl<'c, 'p> Machine<'c, 'p> {
    /// A machine from the cluster `start` (a starting state of
    /// [`crate::cluster::starting_clusters`]), with `faults` enabled.
    /// The `unreachable:S` faults `later` names fire during the run
    /// instead of before it.
    pub fn new(code: &'c Code<'p>, start: &Cluster, faults: FaultSet, later: LaterMask) -> Self {
        let mut cluster = start.clone();
        // The Initial Active: the Active when the run starts (none after a
        // split brain: the first server, as the simulator says).
        let initial_active = cluster
            .running_actives()
            .first()
            .map(|server| server.name.clone())
            .or_else(|| cluster.servers().first().map(|server| server.name.clone()))
            .unwrap_or_default();
        // Faults before the run always fire, as in the simulator (but the
        // `unreachable:S` ones this variant fires later).
        let at_start = faults
            .faults
            .iter()
            .enumerate()
            .filter(|(index, fault)| {
                later & (1 << index) == 0
                    && matches!(fault, Fault::ReplicationDown | Fault::Unreachable(_))
            })
            .fold(0u32, |mask, (index, _)| mask | (1 << index));
        let before_run: Vec<Fault> = faults
            .faults
            .iter()
            .enumerate()
            .filter(|(index, _)| at_start & (1 << index) != 0)
            .map(|(_, fault)| fault.clone())
            .collect();
        let start_events = possible_fault_events(
            &cluster,
            &before_run,
            &FaultPoint::RunStart,
            &initial_active,
        );
        for (_, event) in &start_events {
            cluster.inject(event);
        }
        let initial = observed(&cluster);
        let core = core::Machine::new(code);
        let params = core.default_params(code.program.main, &initial);
        // Windows are measured up to just past the longest one.
        let longest = code
            .windows
            .iter()
            .filter_map(
                |window| match core.constant(&window.clause.duration, &initial) {
                    Some(crate::semantics::eval::Value::Duration(limit)) => Some(limit),
                    _ => None,
                },
            )
            .max()
            .unwrap_or_default();
        Machine {
            core,
            code,
            faults,
            initial,
            initial_cluster: cluster,
            initial_active,
            params,
            anchor_cap: longest + Duration::from_secs(1),
            budget: MAX_INSTRUCTIONS,
            prompt_time: Duration::ZERO,
            judge_resume: true,
            at_start,
        }
    }

    /// The machine that does not judge failures after the runner's crash
    /// (the runbook may fail without any fault: a failure after a resume
    /// then says nothing of the resume).
    pub fn without_resume_judgement(mut self) -> Self {
        self.judge_resume = false;
        self
    }

    /// The machine with another budget of effects per deterministic run.
    pub fn with_budget(mut self, budget: usize) -> Self {
        self.budget = budget.max(1);
        self
    }

    /// The machine with every operator prompt counting `prompt_time` in a
    /// path's duration (zero by default: a prompt is answered at once).
    pub fn with_prompt_time(mut self, prompt_time: Duration) -> Self {
        self.prompt_time = prompt_time;
        self
    }

    /// The state before the first statement.
    pub fn initial_state(&self) -> State {
        State {
            machine: self.core.start(self.params.clone()),
            cluster: self.initial_cluster.clone(),
            pending: None,
            about_to_send: None,
            leftover: Vec::new(),
            fired: self.start_faults_mask(),
            declined: 0,
            outcome_used: false,
            clock: Clock {
                since_anchor: vec![None; self.code.windows.len()],
                tick_in: self
                    .faults
                    .faults
                    .contains(&Fault::ChangesOnActive)
                    .then_some(CHANGE_INTERVAL),
            },
            windows_open: Vec::new(),
            handled: false,
            fault_in_step: false,
            runner: self.faults.runner_crash.then(Box::default),
            unseen: None,
        }
    }

    /// Runs `state` deterministically until it branches or ends.
    pub fn run(&self, mut state: State) -> Vec<Transition> {
        let mut events = Trail::default();
        for _ in 0..self.budget {
            let flow = if let Some(crash) = self.runner_may_crash(&state) {
                crash
            } else if let Some((operation, result)) = state.unseen.take() {
                self.finish_operation(&mut state, operation, result, &mut events)
            } else if state.pending.is_some() {
                self.advance_pending(&mut state, &mut events)
            } else if let Some(operation) = state.about_to_send.take() {
                self.send(&mut state, operation, &mut events)
            } else {
                self.step(&mut state, &mut events)
            };
            match flow {
                Flow::Continue => {}
                Flow::Branch(options) => {
                    return options
                        .into_iter()
                        .map(|(extra, next)| events.transition(extra, Next::State(Box::new(next))))
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
                            combination: self.combination_fired(&state),
                            cluster: observed(&state.cluster),
                        }),
                    };
                    return vec![events.transition(Vec::new(), next)];
                }
                Flow::Violation(violation) => {
                    return vec![events.transition(Vec::new(), Next::Violation(Box::new(violation)))]
                }
                Flow::Limit => return vec![events.transition(Vec::new(), Next::LimitReached)],
            }
        }
        vec![events.transition(Vec::new(), Next::LimitReached)]
    }

    /// Runs the machine to its next effect and answers it.
    fn step(&self, state: &mut State, events: &mut Trail) -> Flow {
        let effect = {
            let mut world = ModelWorld {
                observation: Some(Observation {
                    snapshot: observed(&state.cluster),
                    split_brain: Some(state.cluster.split_brain().map(<[String]>::to_vec)),
                }),
                initial: &self.initial,
                since_anchor: &state.clock.since_anchor,
            };
            self.core.run(&mut state.machine, &mut world)
        };
        match effect {
            Effect::Observe { .. } => Flow::Continue,
            Effect::Gate(subject) => self.gate(state, subject),
            Effect::Decide { what, .. } => {
                // After a crash, the decisions the journal holds are
                // replayed: the resumed run takes the same path.
                let replayed = match state.runner.as_mut().and_then(|runner| runner.replay.next_decision()) {
                    Some((recorded, value)) if recorded == what => Some(value),
                    Some((recorded, _)) => {
                        return Flow::End(
                            RunOutcome::Failed,
                            format!("the resume is refused: the journal has `{recorded}` where the runbook has `{what}`"),
                        )
                    }
                    None => None,
                };
                self.core
                    .deliver(&mut state.machine, Input::Decision(replayed));
                Flow::Continue
            }
            Effect::Settle(operation) => {
                // What the journal holds of it in the interrupted attempt.
                let (done, failed) = match state.runner.as_mut() {
                    Some(runner) => match runner.step_key.clone() {
                        Some(key) => (
                            runner.replay.take_completed(&key, &operation),
                            runner.replay.take_failed(&key, &operation),
                        ),
                        None => (false, None),
                    },
                    None => (false, None),
                };
                self.core
                    .deliver(&mut state.machine, Input::Settled { done, failed });
                Flow::Continue
            }
            Effect::Event(event) => match self.event(state, event, events) {
                Some(violation) => Flow::Violation(violation),
                None => Flow::Continue,
            },
            Effect::Ask {
                request,
                file,
                span,
            } => {
                let answers = match &request.kind {
                    PromptKind::Confirm => vec![Answer::Bool(true), Answer::Bool(false)],
                    PromptKind::Choose(options) => options
                        .iter()
                        .map(|option| Answer::Text(option.name.clone()))
                        .collect(),
                    PromptKind::Select(servers) => {
                        servers.iter().cloned().map(Answer::Text).collect()
                    }
                    PromptKind::Record => vec![Answer::Text(RECORDED_TEXT.to_string())],
                };
                // After a crash, the answers the journal holds are given again.
                let mut occurrence = 0;
                if let Some(runner) = state.runner.as_mut() {
                    let step = runner.step_key.clone();
                    occurrence = runner.instances.next_prompt(&step, &request.id);
                    if let Some(answer) =
                        runner
                            .replay
                            .answer(&step, &request.id, occurrence, &request.kind)
                    {
                        self.core.deliver(
                            &mut state.machine,
                            Input::Answer(request.id.clone(), answer),
                        );
                        return Flow::Continue;
                    }
                }
                let answer_with = |state: &mut State, answer: Answer| {
                    self.core.deliver(
                        &mut state.machine,
                        Input::Answer(request.id.clone(), answer.clone()),
                    );
                    let step = step_under_way(state);
                    journal(
                        state,
                        Record::PromptAnswered {
                            ts: String::new(),
                            step,
                            id: request.id.clone(),
                            occurrence,
                            answer: answer.clone(),
                            by: None,
                            source: None,
                            text: None,
                        },
                    );
                    PathEvent::Prompt {
                        id: request.id.clone(),
                        answer,
                        file,
                        span,
                    }
                };
                // Two Actives may not last while the operator answers.
                let when = format!("while the operator is asked `{}`", request.id);
                if let Some(violation) = self.lasting_two_actives(state, &when, file, span) {
                    return Flow::Violation(violation);
                }
                events.elapsed += self.prompt_time;
                if let [only] = answers.as_slice() {
                    events.push(answer_with(state, only.clone()));
                    return Flow::Continue;
                }
                Flow::Branch(
                    answers
                        .into_iter()
                        .map(|answer| {
                            let mut next = state.clone();
                            let event = answer_with(&mut next, answer);
                            (vec![event], next)
                        })
                        .collect(),
                )
            }
            Effect::Perform(operation) => self.perform(state, operation, events),
            Effect::Sleep {
                interval,
                waited,
                limit,
                ..
            } => {
                // Nothing changes while the run only polls, unless time-driven
                // faults or background jobs are pending: jump to the timeout.
                let by = if state.clock.tick_in.is_none() && state.cluster.jobs().is_empty() {
                    let polls = limit.as_nanos().div_ceil(interval.as_nanos()).max(1);
                    let total = interval.saturating_mul(u32::try_from(polls).unwrap_or(u32::MAX));
                    total.saturating_sub(waited).max(interval)
                } else {
                    interval
                };
                // Two Actives may not last while a `wait` polls.
                let (file, span) = self.core.position(&state.machine);
                if let Some(violation) =
                    self.lasting_two_actives(state, "while a `wait` polls", file, span)
                {
                    return Flow::Violation(violation);
                }
                self.pass_time(state, by);
                events.elapsed += by;
                self.core.deliver(&mut state.machine, Input::Slept(by));
                Flow::Continue
            }
            Effect::End(ending) => {
                let (outcome, message) = match ending {
                    Ending::Completed => (
                        RunOutcome::Succeeded,
                        format!("{} completed", self.code.program.name()),
                    ),
                    Ending::Failed(failure) => (RunOutcome::Failed, failure.reason),
                    Ending::Stopped(message) | Ending::Paused(message) => {
                        (RunOutcome::Stopped, message)
                    }
                    Ending::Declined(id) => {
                        (RunOutcome::Stopped, format!("the operator declined `{id}`"))
                    }
                    Ending::Fail { message, .. } => (RunOutcome::Failed, message),
                    Ending::RetryOutside { .. } => (
                        RunOutcome::Failed,
                        String::from("`retry` outside a What-if handler"),
                    ),
                };
                Flow::End(outcome, message)
            }
            Effect::NoProgress => Flow::Limit,
        }
    }

    /// Takes note of what the machine reports; a property may break.
    fn event(&self, state: &mut State, event: Event, events: &mut Trail) -> Option<Violation> {
        self.journal_event(state, &event);
        match event {
            Event::StepStarted {
                subject: Subject::Step(step),
                retry,
            } => {
                let info = &self.code.steps[step as usize];
                // A step the resumed run redoes goes on where the crashed
                // runner left it: what it started with is its own doing.
                let redone = state.runner.as_ref().is_some_and(|runner| {
                    runner.crashed
                        && runner
                            .step_key
                            .as_ref()
                            .is_some_and(|key| runner.replay.status(key).is_some())
                });
                if !retry && !redone {
                    state.fault_in_step = false;
                    if let Some(violation) = self.two_actives_violation(
                        state,
                        "when the step starts",
                        info.file,
                        info.step.id.span,
                    ) {
                        return Some(violation);
                    }
                    for &window in &info.anchors {
                        if !state.windows_open.contains(&window) {
                            state.windows_open.push(window);
                            state.windows_open.sort_unstable();
                        }
                    }
                }
                events.push(step_started(self.code, step, retry));
                None
            }
            Event::WindowExceeded {
                step,
                window,
                limit,
                ..
            } => {
                let info = &self.code.steps[step as usize];
                let clause = self.code.windows[window as usize].clause;
                Some(self.violation(
                    state,
                    Property::WindowExceeded,
                    format!(
                        "step `{}` starts more than {} after `{}` ended, when every background operation takes its full time",
                        info.step.id.name,
                        format_duration(limit),
                        clause.after.name,
                    ),
                    info.file,
                    clause.span,
                ))
            }
            Event::StepFinished {
                subject: Subject::Step(step),
                outcome: StepFinish::Ok,
            }
            | Event::WhatIfFinished {
                step,
                resolution: Resolution::Continue,
                ..
            } => self.step_finished(state, step),
            Event::WhatIfEntered {
                handler, reason, ..
            } => {
                let info = &self.code.handlers[handler as usize];
                if state.fired & !self.start_faults_mask() != 0 || state.outcome_used {
                    state.handled = true;
                }
                events.push(PathEvent::WhatIf {
                    name: info.what_if.id.name.clone(),
                    reason,
                    file: info.file,
                    span: info.what_if.id.span,
                });
                None
            }
            Event::EvaluationFailed(failure) => {
                let message = match &failure.help {
                    Some(help) => format!("{} ({help})", failure.reason),
                    None => failure.reason.clone(),
                };
                Some(self.violation(
                    state,
                    Property::EvaluationError,
                    format!("an expression cannot be evaluated: {message}"),
                    failure.file,
                    failure.span,
                ))
            }
            _ => None,
        }
    }

    /// Faults that fired on the path (bit per fault of the configuration;
    /// the top bit for a background outcome), those before the run excepted.
    fn fired_on_path(&self, state: &State) -> u32 {
        let outcome = if state.outcome_used { 1 << 31 } else { 0 };
        let crash = if crashed(state) { RUNNER_CRASH_BIT } else { 0 };
        (state.fired & !self.start_faults_mask()) | outcome | crash
    }

    /// Whether every fault of the configuration fired on the path (and a
    /// background outcome was chosen, when the configuration explores them).
    fn combination_fired(&self, state: &State) -> bool {
        let every = (0..self.faults.faults.len()).fold(0u32, |mask, index| mask | (1 << index));
        let faults = (state.fired | self.start_faults_mask()) & every == every;
        faults
            && (!self.faults.any_outcome || state.outcome_used)
            && (!self.faults.runner_crash || crashed(state))
    }

    /// Faults that fire before the run (not chosen on the path).
    pub fn start_faults_mask(&self) -> u32 {
        self.at_start
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
            before_run: self.at_start,
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
        let (file, span) = self.core.position(&state.machine);
        // Only the runner's crash happened (no fault before the run either).
        if outcome == RunOutcome::Failed
            && self.judge_resume
            && crashed(state)
            && state.fired == 0
            && !state.outcome_used
        {
            return Some(self.violation(
                state,
                Property::ResumeFails,
                format!(
                    "the runner is killed, `runbook resume` goes on from the journal, and the run fails: {message}"
                ),
                file,
                span,
            ));
        }
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
            let end = state.cluster.snapshot();
            if let Some(goal) = self
                .core
                .unmet_goals(self.params.clone(), &self.initial, &end)
                .into_iter()
                .next()
            {
                let property = match goal.kind {
                    GoalCheck::Upgrade => Property::NotUpgraded,
                    GoalCheck::Healthy => Property::NotHealthy,
                    GoalCheck::Condition => Property::GoalNotMet,
                };
                let (file, span) = match goal.span {
                    Some(span) => (self.code.program.main, span),
                    None => (file, span),
                };
                return Some(self.violation(
                    state,
                    property,
                    format!("the run succeeds but {}", goal.message),
                    file,
                    span,
                ));
            }
        }
        None
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

    /// Two Actives that last, outside any window: model time is about to
    /// pass with them (a phase of a background operation, a `wait`'s poll)
    /// or the run waits for the operator. Two Actives that the next
    /// operation resolves at once are the "as soon as possible" of the
    /// procedure; they are judged at the step's boundaries as before. After
    /// a fault fired in the step, two Actives are its What-ifs' to handle
    /// until the step ends.
    fn lasting_two_actives(
        &self,
        state: &State,
        when: &str,
        file: usize,
        span: Span,
    ) -> Option<Violation> {
        if state.fault_in_step {
            return None;
        }
        self.two_actives_violation(state, when, file, span)
    }

    /// A step ended (normally, or through a handler that let the run go on).
    fn step_finished(&self, state: &mut State, step: StepId) -> Option<Violation> {
        let info = &self.code.steps[step as usize];
        for &window in &info.anchors {
            state.clock.since_anchor[window as usize] = Some(Duration::ZERO);
        }
        if let Some(window) = info.window {
            state.windows_open.retain(|open| *open != window);
        }
        state.fault_in_step = false;
        self.two_actives_violation(state, "when the step ends", info.file, info.step.id.span)
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

    // ----- the runner's crash and resume -----

    /// The journal records the driver writes for what the machine reports,
    /// in the driver's order ([`crate::interp`]'s `Driver::event`).
    fn journal_event(&self, state: &mut State, event: &Event) {
        let Some(runner) = state.runner.as_mut() else {
            return;
        };
        let key = runner.step_key.clone();
        let record = match event {
            Event::StepStarted { subject, .. } => Record::StepStarted {
                ts: String::new(),
                step: key.unwrap_or_else(|| StepKey {
                    id: self.core.subject_name(*subject),
                    occurrence: 1,
                }),
                snapshot: Snapshot::default(),
                clock_seconds: 0.0,
                title: None,
            },
            Event::StepFinished { outcome, .. } => {
                let Some(step) = key else { return };
                if *outcome == StepFinish::Ok {
                    runner.step_key = None;
                }
                Record::StepFinished {
                    ts: String::new(),
                    step,
                    outcome: match outcome {
                        StepFinish::Ok | StepFinish::Stopped(_) => JournalOutcome::Ok,
                        StepFinish::Interrupted(_) => JournalOutcome::Interrupted,
                        StepFinish::Failed(..) => JournalOutcome::Failed,
                    },
                    message: match outcome {
                        StepFinish::Stopped(message) => Some(message.clone()),
                        _ => None,
                    },
                    snapshot: Snapshot::default(),
                    clock_seconds: 0.0,
                }
            }
            Event::WhatIfEntered {
                handler,
                reason,
                step: Some(_),
                resumed: false,
            } => Record::WhatIfEntered {
                ts: String::new(),
                name: self.code.handlers[*handler as usize]
                    .what_if
                    .id
                    .name
                    .clone(),
                reason: reason.clone(),
                step: key,
            },
            Event::WhatIfFinished {
                handler,
                resolution,
                ..
            } => {
                if *resolution == Resolution::Continue {
                    runner.step_key = None;
                }
                Record::WhatIfFinished {
                    ts: String::new(),
                    name: self.code.handlers[*handler as usize]
                        .what_if
                        .id
                        .name
                        .clone(),
                    step: key,
                    resolution: match resolution {
                        Resolution::Continue => WhatIfResolution::Continue,
                        Resolution::Retry => WhatIfResolution::Retry,
                    },
                    clock_seconds: None,
                }
            }
            Event::ChangesAgreed { server, changes } => Record::ChangesAgreed {
                ts: String::new(),
                server: server.clone(),
                changes: *changes,
            },
            Event::Decided { what, value } => Record::Decision {
                ts: String::new(),
                seq: 0,
                what: what.clone(),
                value: serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
            },
            _ => return,
        };
        // The driver writes a step's interrupted end and the What-if's
        // entry in one write: no crash point between them.
        let crash_point = !matches!(
            event,
            Event::StepFinished {
                outcome: StepFinish::Interrupted(_),
                ..
            }
        );
        write_journal(state, &record, crash_point);
    }

    /// A point where the runner may crash: something was journaled since
    /// the last such point, and nothing is left to judge of the last lapse
    /// of time. Two branches: the run goes on, or the runner is killed here
    /// and the operator resumes it.
    fn runner_may_crash(&self, state: &State) -> Option<Flow> {
        let runner = state.runner.as_ref()?;
        // The journal says a `stop` ended the run: `runbook resume` refuses.
        if let Some(message) = runner.replay.stopped.clone().filter(|_| runner.crashed) {
            return Some(Flow::End(RunOutcome::Stopped, message));
        }
        if runner.crashed
            || !runner.crash_due
            || !state.leftover.is_empty()
            || state.about_to_send.is_some()
        {
            return None;
        }
        let mut going_on = state.clone();
        if let Some(runner) = going_on.runner.as_mut() {
            runner.crash_due = false;
        }
        let mut resumed = state.clone();
        let in_flight = resumed
            .pending
            .take()
            .map(|pending| pending.operation)
            .or_else(|| resumed.unseen.take().map(|(operation, _)| operation));
        let journal = state
            .runner
            .as_ref()
            .map(|runner| runner.journal.clone())
            .unwrap_or_default();
        resumed.machine = self.core.start(self.params.clone());
        for server in journal.activated() {
            resumed.machine.note_activated(server);
        }
        for (server, changes) in journal.agreed() {
            resumed.machine.note_agreed(server, *changes);
        }
        resumed.runner = Some(Box::new(Runner {
            replay: journal,
            crashed: true,
            ..Runner::default()
        }));
        let description = match in_flight {
            Some(operation) => format!(
                "the runner is killed while `{operation}` is in flight (its outcome unseen); the operator runs `runbook resume`"
            ),
            None => String::from(
                "the runner is killed; the operator runs `runbook resume`",
            ),
        };
        let event = PathEvent::Fault {
            fault: String::from(RUNNER_CRASH),
            description,
            replay: None,
            later_occasion: false,
        };
        Some(Flow::Branch(vec![
            (Vec::new(), going_on),
            (vec![event], resumed),
        ]))
    }

    /// The resume gate (the interpreter's own rules, [`Replay::gate`]): a
    /// step completed before the crash is skipped; one left half-done waits
    /// for the operations it left in flight, then is redone or goes on in
    /// its What-if; any other runs.
    fn gate(&self, state: &mut State, subject: Subject) -> Flow {
        let Some(runner) = state.runner.as_mut() else {
            self.core
                .deliver(&mut state.machine, Input::Gate(Gate::Run));
            return Flow::Continue;
        };
        let key = runner.instances.next_step(&self.core.subject_name(subject));
        let gate = runner.replay.gate(self.code, subject, &key);
        if gate == Gate::Skip {
            self.core
                .deliver(&mut state.machine, Input::Gate(Gate::Skip));
            return Flow::Continue;
        }
        runner.step_key = Some(key.clone());
        let left = if gate == Gate::Run {
            Vec::new()
        } else {
            runner.replay.take_in_flight(&key)
        };
        runner.gate = Some((gate, key, left));
        self.await_left_in_flight(state)
    }

    /// Waits, one after the other, for the operations the step let through
    /// the gate left in flight; then lets it through.
    fn await_left_in_flight(&self, state: &mut State) -> Flow {
        loop {
            let Some(runner) = state.runner.as_mut() else {
                return Flow::Continue;
            };
            let Some((gate, key, left)) = runner.gate.as_mut() else {
                return Flow::Continue;
            };
            if left.is_empty() {
                let gate = *gate;
                runner.gate = None;
                self.core.deliver(&mut state.machine, Input::Gate(gate));
                return Flow::Continue;
            }
            let sent = left.remove(0);
            let key = key.clone();
            let running = state
                .cluster
                .jobs()
                .iter()
                .find(|job| job.operation == sent.operation)
                .map(|job| job.id);
            match running {
                Some(job) => {
                    state.pending = Some(PendingOperation {
                        operation: sent.operation,
                        job,
                        ended: None,
                        awaited: true,
                    });
                    return Flow::Continue;
                }
                None => self.judge_awaited(state, &key, sent.operation),
            }
        }
    }

    /// An operation left in flight ended: the cluster tells whether it took
    /// effect (then it is not sent again).
    fn judge_awaited(&self, state: &mut State, key: &StepKey, operation: Operation) {
        let now = observed(&state.cluster);
        let seen = in_flight::seen(&operation, &now);
        let Some(runner) = state.runner.as_mut() else {
            return;
        };
        match seen {
            Seen::Done => runner.replay.seen_done(key, operation),
            // It ended without its effect; one the cluster cannot tell
            // from one still running is judged so when its time is up, as
            // the driver does. A reverted or failed upgrade fails, as the
            // driver journals it; any other is sent again.
            Seen::EndedWithout | Seen::Running => {
                runner.replay.ended_without(key, &operation, &now);
            }
        }
    }

    /// A background operation ended: its result goes to the machine, or,
    /// for one the crashed runner left in flight, the cluster is judged.
    fn pending_ended(
        &self,
        state: &mut State,
        pending: PendingOperation,
        result: Result<OperationOutput, SimError>,
        events: &mut Trail,
    ) -> Flow {
        if !pending.awaited {
            return self.finish_operation(state, pending.operation, result, events);
        }
        let key = state
            .runner
            .as_ref()
            .and_then(|runner| runner.gate.as_ref())
            .map(|(_, key, _)| key.clone());
        if let Some(key) = key {
            self.judge_awaited(state, &key, pending.operation);
        }
        self.await_left_in_flight(state)
    }

    // ----- operations -----

    /// An operation the machine performs: first the faults that may fire
    /// right before it is sent (a crash), each a branch, then [`Self::send`].
    fn perform(&self, state: &mut State, operation: Operation, events: &mut Trail) -> Flow {
        let options = self.fault_options(state, &FaultPoint::BeforeOperation);
        if options.len() > 1 {
            state.about_to_send = Some(operation);
            return Flow::Branch(
                options
                    .into_iter()
                    .map(|option| self.apply_faults(state, &option.offered, option.chosen, false))
                    .collect(),
            );
        }
        self.send(state, operation, events)
    }

    /// Applies `operation` to the model: its refusal, its result, or its
    /// background job.
    fn send(&self, state: &mut State, operation: Operation, events: &mut Trail) -> Flow {
        let (file, span) = self.core.position(&state.machine);
        let step = step_under_way(state);
        journal(
            state,
            Record::OperationStarted {
                ts: String::new(),
                step,
                operation: operation.clone(),
                clock_seconds: None,
            },
        );
        let transition = check_transition(&state.cluster, &operation);
        let before = observed(&state.cluster);
        match state.cluster.apply(&operation) {
            Err(
                error @ (SimError::Refused { .. }
                | SimError::Stopped { .. }
                | SimError::UnknownServer { .. }),
            ) => {
                // A server that crashed (the `crash:S` fault) and is still
                // down makes the run's next operations fail as a real
                // target would (a connection refused, a timeout): no
                // check could have seen it coming, so the step fails — an
                // end the run reports — rather than breaking a property.
                if self.crashed_and_down(state) {
                    return self.finish_operation(state, operation, Err(error), events);
                }
                events.push(PathEvent::Operation {
                    operation: operation.to_string(),
                    error: Some(error.to_string()),
                    file,
                    span,
                });
                // The product refuses to initialize a Standby that was not
                // excluded: the property broken is that one, not a missing check.
                let uninitialized = transition.iter().any(|violation| {
                    matches!(
                        violation,
                        InvariantViolation::StandbyInitializedWithoutExclusion { .. }
                    )
                });
                if uninitialized {
                    if let Some(mut violation) =
                        self.transition_violation(state, &before, &transition, file, span)
                    {
                        violation.cluster = before;
                        return Flow::Violation(violation);
                    }
                }
                let message = connector_error(&operation, error).to_string();
                Flow::Violation(self.violation(
                    state,
                    Property::UncheckedPrecondition,
                    format!("`{operation}` is refused: {message}"),
                    file,
                    span,
                ))
            }
            Err(error) => {
                // A server that does not answer costs the run the
                // connector's timeout (the path's time, not the model's
                // clock: the simulator's does not move either).
                if matches!(error, SimError::Unreachable { .. }) {
                    events.elapsed += Duration::from_secs(SIM_TIMEOUT_SECONDS);
                }
                self.finish_operation(state, operation, Err(error), events)
            }
            Ok(started) => {
                if let Some(mut violation) =
                    self.transition_violation(state, &before, &transition, file, span)
                {
                    // Judged on the cluster before the operation.
                    violation.cluster = before;
                    events.push(PathEvent::Operation {
                        operation: operation.to_string(),
                        error: None,
                        file,
                        span,
                    });
                    return Flow::Violation(violation);
                }
                match started {
                    // The runner may crash before it sees the result.
                    Started::Finished(output)
                        if state.runner.as_ref().is_some_and(|runner| !runner.crashed) =>
                    {
                        state.unseen = Some((operation, Ok(output)));
                        Flow::Continue
                    }
                    Started::Finished(output) => {
                        self.finish_operation(state, operation, Ok(output), events)
                    }
                    Started::Background(job) => {
                        state.pending = Some(PendingOperation {
                            operation,
                            job,
                            ended: None,
                            awaited: false,
                        });
                        Flow::Continue
                    }
                }
            }
        }
    }

    /// Whether a server a `crash:S` fault stopped on this path is still down.
    fn crashed_and_down(&self, state: &State) -> bool {
        self.faults
            .faults
            .iter()
            .enumerate()
            .any(|(index, fault)| match fault {
                Fault::Crash(server) if state.fired & (1 << index) != 0 => state
                    .cluster
                    .server(server)
                    .is_some_and(|found| !found.running),
                _ => false,
            })
    }

    fn transition_violation(
        &self,
        state: &State,
        before: &Snapshot,
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
                    // Reported when the operator agreed to lose at least the
                    // changes there were.
                    let changes = observe::changes_since(&self.initial, before, server);
                    let reported = state
                        .machine
                        .agreed_changes(server)
                        .is_some_and(|agreed| changes <= agreed);
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

    fn advance_pending(&self, state: &mut State, events: &mut Trail) -> Flow {
        loop {
            let Some(pending) = state.pending.clone() else {
                return Flow::Continue;
            };
            if let Some(error) = pending.ended.clone() {
                state.pending = None;
                return self.pending_ended(state, pending, Err(error), events);
            }
            let progress = if state.leftover.is_empty() {
                let Some(boundary) = state.cluster.time_to_next_boundary() else {
                    state.pending = None;
                    return self.pending_ended(state, pending, Ok(OperationOutput::Done), events);
                };
                let mut step = boundary;
                if let Some(tick) = state.clock.tick_in {
                    step = step.min(tick);
                }
                // Two Actives may not last while a phase of the operation
                // runs.
                if let Some(job) = state.cluster.job(pending.job) {
                    let when = format!(
                        "while `{}` runs (phase: {})",
                        pending.operation,
                        job.phase_name()
                    );
                    let (file, span) = self.core.position(&state.machine);
                    if let Some(violation) = self.lasting_two_actives(state, &when, file, span) {
                        return Flow::Violation(violation);
                    }
                }
                let progress = state.cluster.elapse(step);
                self.clock_passes(state, step);
                events.elapsed += step;
                progress
            } else {
                std::mem::take(&mut state.leftover)
            };
            let mut items = progress.into_iter();
            while let Some(item) = items.next() {
                match item {
                    Progress::Reached(point) => {
                        let options = self.fault_options(state, &point);
                        if options.len() > 1 {
                            // The points after this one are judged in every branch.
                            state.leftover = items.collect();
                            return Flow::Branch(
                                options
                                    .into_iter()
                                    .map(|option| {
                                        self.apply_faults(
                                            state,
                                            &option.offered,
                                            option.chosen,
                                            true,
                                        )
                                    })
                                    .collect(),
                            );
                        }
                    }
                    Progress::Finished { job, result, .. } if job == pending.job => {
                        state.pending = None;
                        return self.pending_ended(state, pending, result, events);
                    }
                    Progress::Finished { .. } => {}
                }
            }
        }
    }

    /// Every combination of the faults that may fire at `point`: for each
    /// fault not yet fired, in the configuration's order, one of its events
    /// or nothing (firing first, so a depth-first search meets the
    /// simulator's behaviour first). As on the simulator, a fault's events
    /// are computed on the cluster the faults before it at this point left
    /// (a Standby that activated by itself is no longer one an operator can
    /// activate). Each combination comes with the faults that had an
    /// occasion in it.
    fn fault_options(&self, state: &State, point: &FaultPoint) -> Vec<FaultOption> {
        let mut partial = vec![(state.cluster.clone(), FaultOption::default())];
        for (index, fault) in self.faults.faults.iter().enumerate() {
            if state.fired & (1 << index) != 0 || matches!(fault, Fault::ChangesOnActive) {
                continue;
            }
            let mut next = Vec::new();
            for (cluster, option) in partial {
                let events = possible_fault_events(
                    &cluster,
                    std::slice::from_ref(fault),
                    point,
                    &self.initial_active,
                );
                if events.is_empty() {
                    next.push((cluster, option));
                    continue;
                }
                let mut declined = option.clone();
                declined.offered.push(index);
                for (_, event) in events {
                    let mut fired = cluster.clone();
                    fired.inject(&event);
                    let mut taken = declined.clone();
                    taken.chosen.push((Some(index), event));
                    next.push((fired, taken));
                }
                next.push((cluster, declined));
            }
            partial = next;
        }
        if !self.faults.any_outcome || state.outcome_used {
            return partial.into_iter().map(|(_, option)| option).collect();
        }
        let mut options = Vec::new();
        for (cluster, option) in partial {
            let mut outcomes = Vec::new();
            match point {
                FaultPoint::UpgradeCompleting { job, .. } => {
                    if let Some(running) = cluster.job(*job) {
                        for outcome in possible_job_outcomes(running) {
                            match outcome {
                                JobOutcome::Fails => {
                                    outcomes.push(FaultEvent::UpgradeFails { job: *job })
                                }
                                JobOutcome::CancelledAndReverted => {
                                    outcomes.push(FaultEvent::UpgradeCancelled { job: *job })
                                }
                                JobOutcome::Succeeds => {}
                            }
                        }
                    }
                }
                FaultPoint::ActivationPhase { job, .. } => {
                    outcomes.push(FaultEvent::ActivationInterrupted { job: *job })
                }
                _ => {}
            }
            for event in outcomes {
                let mut taken = option.clone();
                taken.chosen.push((None, event));
                options.push(taken);
            }
            options.push(option);
        }
        options
    }

    fn apply_faults(
        &self,
        state: &State,
        offered: &[usize],
        chosen: Vec<(Option<usize>, FaultEvent)>,
        during_operation: bool,
    ) -> (Vec<PathEvent>, State) {
        let mut next = state.clone();
        let mut events = Vec::new();
        if !chosen.is_empty() {
            next.fault_in_step = true;
        }
        for index in offered {
            if !chosen.iter().any(|(taken, _)| *taken == Some(*index)) {
                next.declined |= 1 << index;
            }
        }
        for (index, event) in chosen {
            // A crash names its occasion in the replay (`crash:S@N`), right
            // before an operation: one during an operation has none.
            let later_occasion = match event {
                FaultEvent::ServerCrashed { .. } | FaultEvent::ServerUnreachable { .. } => {
                    during_operation
                }
                _ => index.is_some_and(|index| state.declined & (1 << index) != 0),
            };
            let (fault, replay) = match index {
                Some(index) => {
                    next.fired |= 1 << index;
                    let name = self.faults.faults[index].to_string();
                    // The simulator picks the Standby with its seed: the
                    // replay pins the one this path picked.
                    let replay = match &event {
                        FaultEvent::StandbyAutoActivates { server }
                        | FaultEvent::StandbyActivatedByOperator { server, .. } => {
                            format!("{name}:{server}")
                        }
                        _ => name.clone(),
                    };
                    (name, Some(replay))
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
                later_occasion,
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

    /// Gives the machine the operation's result, as the simulator connector
    /// reports it to the interpreter.
    fn finish_operation(
        &self,
        state: &mut State,
        operation: Operation,
        result: Result<OperationOutput, SimError>,
        events: &mut Trail,
    ) -> Flow {
        let (file, span) = self.core.position(&state.machine);
        let result = result.map_err(|error| {
            let cancelled = matches!(
                error,
                SimError::Failed {
                    kind: FailureKind::UpgradeCancelled,
                    ..
                }
            );
            let error = connector_error(&operation, error);
            OperationError {
                message: error.to_string(),
                cancelled,
                code: miette::Diagnostic::code(&error).map(|code| code.to_string()),
                help: error.reach_help(),
            }
        });
        let error = match &result {
            Ok(output) => output.failure(),
            Err(error) => Some(error.message.clone()),
        };
        let (code, cancelled) = match &result {
            Err(failure) => (failure.code.clone(), failure.cancelled),
            Ok(_) => (None, false),
        };
        journal(
            state,
            Record::OperationFinished {
                ts: String::new(),
                operation: operation.clone(),
                ok: error.is_none(),
                error: error.clone(),
                code,
                cancelled,
            },
        );
        events.push(PathEvent::Operation {
            operation: operation.to_string(),
            error,
            file,
            span,
        });
        self.core
            .deliver(&mut state.machine, Input::Performed(result));
        Flow::Continue
    }
}

/// Journals `record` on the path (when the configuration crashes the
/// runner and it has not crashed yet): the runner may crash after it.
fn journal(state: &mut State, record: Record) {
    write_journal(state, &record, true);
}

/// Journals `record`; the runner may crash after it when `crash_point`
/// (not between two records the driver writes at once).
fn write_journal(state: &mut State, record: &Record, crash_point: bool) {
    if let Some(runner) = state.runner.as_mut().filter(|runner| !runner.crashed) {
        runner.journal.record(record);
        runner.crash_due |= crash_point;
    }
}

/// The step instance under way, as the runner journals it.
fn step_under_way(state: &State) -> Option<StepKey> {
    state
        .runner
        .as_ref()
        .and_then(|runner| runner.step_key.clone())
}

/// Whether the runner crashed on the path.
fn crashed(state: &State) -> bool {
    state.runner.as_ref().is_some_and(|runner| runner.crashed)
}

fn step_started(code: &Code<'_>, step: StepId, retry: bool) -> PathEvent {
    let info = &code.steps[step as usize];
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
        FaultEvent::ServerCrashed { server } => {
            format!("{server} crashes (its host or its service goes down)")
        }
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
