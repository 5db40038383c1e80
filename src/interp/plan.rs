//! `runbook plan`: what a run would do from the target's current state —
//! the steps, operations, prompts and choices, and the What-ifs that could
//! fire — computed by reading the target once and changing nothing. A
//! driver of the one small-step machine ([`crate::semantics::machine`]),
//! which answers no effect: it shows them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::error::RuntimeError;
use super::eval::{self, parse_param, EvalContext, EvalError, Value};
use super::observe::{self, cluster_table};
use super::program::Program;
use crate::cluster::{Operation, OperationOutput, Snapshot};
use crate::connect::Connector;
use crate::semantics::code::{Code, Instr, Pc, UnitId, WindowId};
use crate::semantics::machine::{
    Effect, Ending, Event, Gate, Input, Machine, Observation, Since, State, Subject, World,
};
use crate::semantics::prompt::{Answer, PromptKind, PromptRequest};
use crate::syntax::ast::{self, TriggerKind};
use crate::syntax::Span;

/// What a run would do.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Plan {
    /// The runbook.
    pub runbook: String,
    /// The target.
    pub target: String,
    /// The cluster now.
    pub cluster: Snapshot,
    /// The parameters, with defaults applied.
    pub params: BTreeMap<String, String>,
    /// What would happen, in order, nested by depth.
    pub items: Vec<PlanItem>,
    /// The What-if handlers that could fire.
    pub what_ifs: Vec<PlanWhatIf>,
    /// The version of this output's shape (`runbook schema plan`).
    pub schema_version: crate::schema::SchemaVersion,
}

/// One line of the plan.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanItem {
    /// Nesting depth (0: top level).
    pub depth: usize,
    /// `step`, `operation`, `prompt`, `choice`, `option`, `if`, `else`, `for`, `call`, `check`, `wait`, `note`, `warning`, `stop`, `fail`, `let`,
    /// `what-if` (a handler the path enters), or `discards` (the `discards
    /// changes on` clause of the step or option above it).
    pub kind: &'static str,
    /// What it does, with values from the current state where they are known.
    pub text: String,
    /// The 1-based line in its file.
    pub line: u32,
}

/// A What-if handler and what would fire it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanWhatIf {
    /// The handler's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its triggers, as written.
    pub triggers: Vec<String>,
    /// The steps it watches (empty: every step).
    pub during: Vec<String>,
    /// A condition that already holds now, if any.
    pub holds_now: Option<String>,
    /// Its `discards changes on` clause, if any.
    pub discards_changes: Option<PlanDiscards>,
}

/// A `discards changes on SERVER` clause (of a step, a `choose` option or a
/// What-if): the run counts the administrator changes made on the server
/// since it started and, when there are any, asks before they are lost.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanDiscards {
    /// The server, evaluated on the current cluster where it can be.
    pub server: String,
    /// The confirmation's prompt id (`STEP.discard-changes`...).
    pub prompt: String,
    /// Whether the target can count the changes (a real SMC cannot: the
    /// run then always asks).
    pub counted: bool,
}

impl PlanDiscards {
    /// The clause in words; `when` says when the run counts the changes.
    pub fn describe(&self, when: &str) -> String {
        if self.counted {
            format!(
                "discards administrator changes made on {} since the run started: {when}, the run counts them and, if there are any, asks `{}` to confirm",
                self.server, self.prompt
            )
        } else {
            format!(
                "discards administrator changes made on {} since the run started: this target cannot count them, so {when} the run says so and asks `{}` to confirm",
                self.server, self.prompt
            )
        }
    }
}

/// Reads the target once and lays out what `run` would do: the program runs
/// on the one small-step machine with the cluster as it is now and no
/// effect — an operation is shown, not sent. Every option of a `choose` is
/// shown; the path goes on with the option `--yes` takes. Once an operation
/// would have changed the cluster, a value read from the cluster is no
/// longer known: the plan says so, shows both ways of an `if`, and names
/// the binding instead of a value that would be stale.
pub async fn plan(
    program: &Program,
    connector: &dyn Connector,
    params: &BTreeMap<String, String>,
) -> Result<Plan, RuntimeError> {
    let snapshot = connector.snapshot().await?;
    let main = program.main_file();
    for name in params.keys() {
        if main.ast.param(name).is_none() {
            return Err(RuntimeError::Parameter {
                name: name.clone(),
                reason: format!("`{}` has no such parameter", main.ast.name.name),
            });
        }
    }
    let BoundParams {
        values: bindings,
        shown: shown_params,
    } = bind_params(program, params, &snapshot)?;
    let code = Code::new(program);
    let mut planner = Planner {
        program,
        code: &code,
        machine: Machine::tracing(&code),
        world: PlanWorld {
            observation: Observation {
                split_brain: Some(None),
                snapshot: snapshot.clone(),
            },
            counts_changes: connector.counts_changes(),
            stale: false,
            unknown: Vec::new(),
        },
        items: Vec::new(),
        top_level: bindings.clone(),
        budget: MAX_EFFECTS,
    };
    let params: Vec<(String, Value)> = bindings.into_iter().collect();
    let start = Path {
        state: planner.machine.start(params),
        stale: false,
        offset: 0,
        deciding: None,
        unknown: Vec::new(),
        indents: Vec::new(),
    };
    planner.walk(start, None);
    let what_ifs = what_ifs(
        program,
        &snapshot,
        &planner.top_level,
        planner.world.counts_changes,
    );
    Ok(Plan {
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: snapshot,
        params: shown_params,
        items: planner.items,
        what_ifs,
        schema_version: crate::schema::SchemaVersion::CURRENT,
    })
}

/// The main file's parameters: `--set` values, else defaults (evaluated on
/// the cluster as it is now), and how each is shown.
fn bind_params(
    program: &Program,
    params: &BTreeMap<String, String>,
    snapshot: &Snapshot,
) -> Result<BoundParams, RuntimeError> {
    let main = program.main_file();
    let mut bindings = HashMap::new();
    let mut shown_params = BTreeMap::new();
    for param in &main.ast.params {
        let value = match params.get(&param.name.name) {
            Some(text) => {
                Some(
                    parse_param(param.ty, text).map_err(|reason| RuntimeError::Parameter {
                        name: param.name.name.clone(),
                        reason,
                    })?,
                )
            }
            None => param.default.as_ref().and_then(|default| {
                let mut context = PlanContext {
                    bindings: &HashMap::new(),
                    snapshot,
                };
                eval::eval(default, &mut context).ok()
            }),
        };
        shown_params.insert(
            param.name.name.clone(),
            value
                .as_ref()
                .map_or_else(|| String::from("(not given)"), ToString::to_string),
        );
        match value {
            Some(value) => {
                bindings.insert(param.name.name.clone(), value);
            }
            None => {
                return Err(RuntimeError::Parameter {
                    name: param.name.name.clone(),
                    reason: format!(
                        "it has no default; give it with `--set {}=VALUE`",
                        param.name.name
                    ),
                })
            }
        }
    }
    Ok(BoundParams {
        values: bindings,
        shown: shown_params,
    })
}

/// The main file's parameters, bound and as shown.
struct BoundParams {
    values: HashMap<String, Value>,
    shown: BTreeMap<String, String>,
}

/// Every What-if that could fire, with what would fire it; a handler sees
/// the top-level bindings of its own file (the main file's are those the
/// walk met; others are shown as written).
fn what_ifs(
    program: &Program,
    snapshot: &Snapshot,
    top_level: &HashMap<String, Value>,
    counts_changes: bool,
) -> Vec<PlanWhatIf> {
    let no_bindings = HashMap::new();
    program
        .files
        .iter()
        .enumerate()
        .flat_map(|(index, file)| {
            file.ast
                .what_ifs
                .iter()
                .map(move |handler| (index, file, handler))
        })
        .map(|(index, file, handler)| PlanWhatIf {
            id: handler.id.name.clone(),
            title: handler.title.value.clone(),
            triggers: handler
                .triggers
                .iter()
                .map(|trigger| trigger.span.text(&file.text).to_string())
                .collect(),
            during: handler.during.iter().map(|id| id.name.clone()).collect(),
            holds_now: handler
                .triggers
                .iter()
                .find_map(|trigger| match trigger.kind {
                    TriggerKind::TwoActives if observe::two_actives(snapshot) => {
                        Some(String::from("two servers are Active now"))
                    }
                    TriggerKind::ReplicationBroken if observe::replication_broken(snapshot) => {
                        Some(String::from("replication is broken now"))
                    }
                    _ => None,
                }),
            discards_changes: handler.discards_changes_on.as_ref().map(|server| {
                let visible = if index == program.main {
                    top_level
                } else {
                    &no_bindings
                };
                let mut context = PlanContext {
                    bindings: visible,
                    snapshot,
                };
                PlanDiscards {
                    server: eval::eval(server, &mut context)
                        .map(|value| value.to_string())
                        .unwrap_or_else(|_| server.span.text(&file.text).to_string()),
                    prompt: crate::semantics::code::discard_prompt_id(&handler.id.name),
                    counted: counts_changes,
                }
            }),
        })
        .collect()
}

impl Plan {
    /// The plan as text for a person.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Target: {}", self.target);
        let _ = writeln!(text, "Plan for: {} (nothing is changed)", self.runbook);
        let _ = writeln!(text);
        for line in cluster_table(&self.cluster).lines() {
            let _ = writeln!(text, "  {line}");
        }
        if !self.params.is_empty() {
            let _ = writeln!(text, "\nParameters:");
            for (name, value) in &self.params {
                let _ = writeln!(text, "  {name} = {value}");
            }
        }
        let _ = writeln!(text, "\nWould run:");
        for item in &self.items {
            let indent = "  ".repeat(item.depth + 1);
            let marker = match item.kind {
                "step" => "▶",
                "operation" => "→",
                "prompt" | "choice" => "?",
                "option" => "•",
                "discards" => "!",
                _ => "·",
            };
            let _ = writeln!(text, "{indent}{marker} {}", item.text);
        }
        if !self.what_ifs.is_empty() {
            let _ = writeln!(text, "\nWhat-ifs that could fire:");
            for handler in &self.what_ifs {
                let during = if handler.during.is_empty() {
                    String::from("any step")
                } else {
                    handler.during.join(", ")
                };
                let _ = writeln!(
                    text,
                    "  {} \"{}\" when {} during {}",
                    handler.id,
                    handler.title,
                    handler.triggers.join(", "),
                    during
                );
                if let Some(now) = &handler.holds_now {
                    let _ = writeln!(text, "    (already: {now})");
                }
                if let Some(discards) = &handler.discards_changes {
                    let _ = writeln!(
                        text,
                        "    ! {}",
                        discards.describe("when the handler is entered, before its body acts")
                    );
                }
            }
        }
        text
    }
}

/// How many effects one plan may handle (a bound, not a limit met in practice).
const MAX_EFFECTS: usize = 200_000;

/// What `plan` shows the machine: the cluster as it was read, once.
struct PlanWorld {
    observation: Observation,
    counts_changes: bool,
    /// What the path being walked cannot know ([`Path::stale`] and
    /// [`Path::unknown`]), so a message shows such a value as written.
    stale: bool,
    unknown: Vec<String>,
}

impl World for PlanWorld {
    fn observation(&self) -> Option<&Observation> {
        Some(&self.observation)
    }

    fn forget(&mut self) {}

    fn initial(&self) -> &Snapshot {
        &self.observation.snapshot
    }

    fn since_anchor(&self, _window: WindowId) -> Option<Since> {
        None
    }

    fn counts_changes(&self) -> bool {
        self.counts_changes
    }

    fn judges_conditions(&self) -> bool {
        false
    }

    fn unknown(&self, expr: &ast::Expr) -> bool {
        unknown_on(self.stale, &self.unknown, expr)
    }
}

/// One way through the program.
#[derive(Clone)]
struct Path {
    state: State,
    /// An operation would have changed the cluster: what is read from it
    /// now is not what the run will read.
    stale: bool,
    /// How much deeper than the machine's own depth its items are shown
    /// (under an option or a branch).
    offset: usize,
    /// The instruction whose decision the machine computes (what
    /// [`Event::Decided`] is about), and its depth.
    deciding: Option<(UnitId, Pc, usize)>,
    /// Bindings read from the cluster after it would have changed: their
    /// value now is not the run's.
    unknown: Vec<String>,
    /// Where the bodies shown indented under their `if` or `for` end
    /// (frames, unit, instruction), innermost last.
    indents: Vec<(usize, UnitId, Pc)>,
}

impl Path {
    /// Whether `expr` has a value the plan cannot know: it reads the
    /// cluster after an operation would have changed it, or a binding that
    /// did.
    fn unknown(&self, expr: &ast::Expr) -> bool {
        unknown_on(self.stale, &self.unknown, expr)
    }
}

/// Whether `expr` has a value a path cannot know, once the cluster would
/// have changed (`stale`) or for a binding read after it did (`names`).
fn unknown_on(stale: bool, names: &[String], expr: &ast::Expr) -> bool {
    (stale && eval::reads_cluster(expr)) || mentions(expr, names)
}

/// Whether `expr` names one of `names`.
fn mentions(expr: &ast::Expr, names: &[String]) -> bool {
    use ast::ExprKind;
    if names.is_empty() {
        return false;
    }
    match &expr.kind {
        ExprKind::Var(ident) => names.contains(&ident.name),
        ExprKind::Field { target, .. } => mentions(target, names),
        ExprKind::Call { args, .. } => args.iter().any(|arg| mentions(arg, names)),
        ExprKind::List(items) => items.iter().any(|item| mentions(item, names)),
        ExprKind::Not(inner) => mentions(inner, names),
        ExprKind::Binary { lhs, rhs, .. } => mentions(lhs, names) || mentions(rhs, names),
        ExprKind::Quantifier { list, body, .. } => mentions(list, names) || mentions(body, names),
        ExprKind::Select { from, .. } => mentions(from, names),
        _ => false,
    }
}

struct Planner<'a> {
    program: &'a Program,
    code: &'a Code<'a>,
    machine: Machine<'a, 'a>,
    world: PlanWorld,
    items: Vec<PlanItem>,
    /// The main file's parameters and top-level bindings.
    top_level: HashMap<String, Value>,
    budget: usize,
}

impl<'a> Planner<'a> {
    fn push(&mut self, path: &Path, depth: usize, kind: &'static str, text: String) {
        let (file, span) = self.machine.position(&path.state);
        let line = self.program.file(file).line_of(span.start);
        self.items.push(PlanItem {
            depth: depth + path.offset,
            kind,
            text,
            line,
        });
    }

    /// An item about the instruction at `unit`, `pc` (the machine may have
    /// moved past it).
    fn push_at(
        &mut self,
        path: &Path,
        at: (UnitId, Pc),
        depth: usize,
        kind: &'static str,
        text: String,
    ) {
        let (unit, pc) = at;
        let file = self.code.unit_file(unit);
        let line = self
            .program
            .file(file)
            .line_of(self.code.span(unit, pc).start);
        self.items.push(PlanItem {
            depth: depth + path.offset,
            kind,
            text,
            line,
        });
    }

    fn source(&self, path: &Path, span: Span) -> String {
        let (file, _) = self.machine.position(&path.state);
        span.text(&self.program.file(file).text).to_string()
    }

    fn instr(&self, path: &Path) -> Option<&'a Instr<'a>> {
        let (_, unit, pc) = self.machine.at(&path.state)?;
        let code: &'a Code<'a> = self.code;
        code.instr(unit, pc)
    }

    fn depth(&self, path: &Path) -> usize {
        self.machine.depth(&path.state)
    }

    /// Runs `path` until it ends (`None`) or reaches `until` (a point where
    /// the branches of a statement join again).
    fn walk(&mut self, mut path: Path, until: Option<(usize, UnitId, Pc)>) -> Option<Path> {
        loop {
            if self.budget == 0 {
                return None;
            }
            self.budget -= 1;
            self.world.stale = path.stale;
            self.world.unknown.clone_from(&path.unknown);
            let effect = self.machine.run(&mut path.state, &mut self.world);
            let input = match effect {
                Effect::Event(Event::Executing { .. })
                    if until.is_some() && self.machine.at(&path.state) == until =>
                {
                    return Some(path);
                }
                Effect::Event(Event::Executing { .. }) => {
                    // A body shown under its `if` or `for` ends here.
                    let at = self.machine.at(&path.state);
                    while path.indents.last().is_some_and(|end| Some(*end) == at) {
                        path.indents.pop();
                        path.offset = path.offset.saturating_sub(1);
                    }
                    self.call(&path);
                    continue;
                }
                Effect::Event(Event::Decided { what, value }) => {
                    if let Some(at) = path.deciding {
                        self.decided(&path, at, &what, &value);
                        self.indent_body(&mut path, at, &value);
                    }
                    continue;
                }
                Effect::Event(event) => {
                    self.event(&path, event);
                    continue;
                }
                Effect::Observe { .. } => continue,
                Effect::Gate(_) => Input::Gate(Gate::Run),
                Effect::Settle(_) => Input::Settled {
                    done: false,
                    failed: None,
                },
                Effect::Decide {
                    what,
                    reads_cluster,
                } => match self.decide(&mut path, &what, reads_cluster) {
                    Decided::Value(None) => {
                        path.deciding = self
                            .machine
                            .at(&path.state)
                            .map(|(_, unit, pc)| (unit, pc, self.depth(&path)));
                        Input::Decision(None)
                    }
                    Decided::Value(value) => Input::Decision(value),
                    Decided::Forked(joined) => {
                        path = *joined?;
                        continue;
                    }
                },
                Effect::Perform(operation) => {
                    self.operation(&path, &operation);
                    // A backup reads the cluster as much as a diagnostic does.
                    if !operation.is_read_only() && !matches!(operation, Operation::Backup { .. }) {
                        path.stale = true;
                    }
                    Input::Performed(Ok(OperationOutput::Done))
                }
                Effect::Ask { request, .. } => match self.ask(&mut path, request) {
                    Asked::Answer(id, answer) => Input::Answer(id, answer),
                    Asked::Forked(joined) => {
                        path = *joined?;
                        continue;
                    }
                },
                Effect::Sleep { limit, waited, .. } => Input::Slept(limit.saturating_sub(waited)),
                Effect::End(ending) => {
                    self.end(&path, ending);
                    return None;
                }
                Effect::NoProgress => return None,
            };
            self.machine.deliver(&mut path.state, input);
        }
    }

    /// Shows what the machine reports.
    fn event(&mut self, path: &Path, event: Event) {
        let depth = self.depth(path);
        match event {
            Event::StepStarted {
                subject: Subject::Step(step),
                retry: false,
            } => {
                let step = self.code.steps[step as usize].step;
                let number = step
                    .number
                    .as_ref()
                    .map(|number| format!("{}. ", number.text))
                    .unwrap_or_default();
                let mut text = format!("step {number}{} \"{}\"", step.id.name, step.title.value);
                if let Some(window) = &step.window {
                    let _ = write!(
                        text,
                        " (within {} after {})",
                        self.source(path, window.duration.span),
                        window.after.name
                    );
                }
                self.push(path, depth.saturating_sub(1), "step", text);
            }
            Event::Discards {
                prompt_id,
                subject,
                server,
            } => {
                let when = if subject.starts_with("step") {
                    "before the step acts"
                } else if subject.starts_with("option") {
                    "when this option is chosen, before it acts"
                } else {
                    "when the handler is entered, before its body acts"
                };
                let discards = PlanDiscards {
                    server,
                    prompt: prompt_id,
                    counted: self.world.counts_changes,
                };
                self.push(path, depth, "discards", discards.describe(when));
            }
            Event::Note(message) => self.push(path, depth, "note", format!("note: {message}")),
            Event::Warning {
                code: "runbook::run::runbook_warning",
                message,
            } => self.push(path, depth, "warning", format!("warning: {message}")),
            Event::WhatIfEntered {
                handler, reason, ..
            } => {
                let name = &self.code.handlers[handler as usize].what_if.id.name;
                self.push(path, depth, "what-if", format!("What-if {name}: {reason}"));
            }
            // `Decided` and `Executing` are handled by `walk`, which
            // moves the indentation with them.
            _ => {}
        }
    }

    /// A value the path depends on: computed on the cluster as it is now
    /// while that is what the run will read; otherwise said so (an `if`
    /// shows both ways).
    fn decide(&mut self, path: &mut Path, what: &str, reads_cluster: bool) -> Decided {
        let depth = self.depth(path);
        let Some(instr) = self.instr(path) else {
            return Decided::Value(None);
        };
        let unknown = match instr {
            Instr::Let { value, .. } => path.unknown(value),
            Instr::Check { condition, .. } => path.unknown(condition),
            Instr::If { conditions, .. } => {
                conditions.iter().any(|condition| path.unknown(condition))
            }
            Instr::ForStart { list } => path.unknown(list),
            _ => path.stale && reads_cluster,
        };
        match instr {
            Instr::Let { name, value, .. } if unknown => {
                path.unknown.push(name.name.clone());
                let text = format!(
                    "{} = {} (read when the run gets there)",
                    name.name,
                    self.source(path, value.span)
                );
                self.push(path, depth, "let", text);
                Decided::Value(None)
            }
            Instr::Check {
                condition, message, ..
            } if unknown => {
                let text = format!(
                    "check {} else \"{}\" (checked when the run gets there)",
                    self.source(path, condition.span),
                    message.text.value
                );
                self.push(path, depth, "check", text);
                Decided::Value(Some(Value::Bool(true)))
            }
            Instr::Wait {
                condition, timeout, ..
            } => {
                let timeout = timeout
                    .map(|timeout| format!(" timeout {}", self.source(path, timeout.span)))
                    .unwrap_or_default();
                let text = format!("wait until {}{timeout}", self.source(path, condition.span));
                self.push(path, depth, "wait", text);
                Decided::Value(Some(Value::Bool(true)))
            }
            Instr::If { statement, end, .. } if unknown => {
                let (statement, end) = (*statement, *end);
                let Some((frames, unit, _)) = self.machine.at(&path.state) else {
                    return Decided::Value(None);
                };
                self.push(
                    path,
                    depth,
                    "if",
                    String::from("decided when the run gets there, on the cluster then:"),
                );
                let mut joined = None;
                let ways = statement.branches.len() + 1;
                for way in 0..ways {
                    let label = match statement.branches.get(way) {
                        Some(branch) if way == 0 => {
                            format!("if {}", self.source(path, branch.condition.span))
                        }
                        Some(branch) => {
                            format!("else if {}", self.source(path, branch.condition.span))
                        }
                        None if statement.otherwise.is_some() => String::from("else"),
                        None => String::from("else: nothing to do"),
                    };
                    self.push(
                        path,
                        depth + 1,
                        if way < ways - 1 { "if" } else { "else" },
                        label,
                    );
                    let mut fork = path.clone();
                    fork.offset += 2;
                    self.machine.deliver(
                        &mut fork.state,
                        Input::Decision(Some(Value::Number(way as u64))),
                    );
                    if let Some(mut rejoined) = self.walk(fork, Some((frames, unit, end))) {
                        rejoined.offset = path.offset;
                        rejoined.indents.clone_from(&path.indents);
                        joined.get_or_insert(Box::new(rejoined));
                    }
                }
                let _ = what;
                Decided::Forked(joined)
            }
            _ => Decided::Value(None),
        }
    }

    /// The body of an `if` branch taken or of a `for` is shown indented
    /// under it, until the statement's end.
    fn indent_body(&self, path: &mut Path, at: (UnitId, Pc, usize), value: &Value) {
        let (unit, pc, _) = at;
        let Some((frames, _, _)) = self.machine.at(&path.state) else {
            return;
        };
        let end = match self.code.instr(unit, pc) {
            Some(Instr::If {
                end,
                conditions,
                statement,
                ..
            }) => {
                let taken = match value {
                    Value::Number(index) => *index as usize,
                    _ => 0,
                };
                // Nothing shown: no condition holds and there is no `else`.
                if taken >= conditions.len() && statement.otherwise.is_none() {
                    return;
                }
                *end
            }
            Some(Instr::ForStart { .. }) => match self.code.instr(unit, pc + 1) {
                Some(Instr::ForNext { end, .. }) => *end,
                _ => return,
            },
            _ => return,
        };
        path.indents.push((frames, unit, end));
        path.offset += 1;
    }

    /// A `call` about to run is shown as written.
    fn call(&mut self, path: &Path) {
        if let Some(Instr::Call { call, .. }) = self.instr(path) {
            let text = self.source(path, call.span);
            self.push(path, self.depth(path), "call", text);
        }
    }

    /// A decision the machine computed on the cluster as it is now.
    fn decided(&mut self, path: &Path, at: (UnitId, Pc, usize), what: &str, value: &Value) {
        let (unit, pc, depth) = at;
        let code: &'a Code<'a> = self.code;
        let Some(instr) = code.instr(unit, pc) else {
            return;
        };
        match instr {
            Instr::Let { name, .. } => {
                if depth == 0 {
                    self.top_level.insert(name.name.clone(), value.clone());
                }
                let text = format!("{} = {value}", name.name);
                self.push_at(path, (unit, pc), depth, "let", text);
            }
            Instr::Check {
                condition, message, ..
            } => {
                let text = format!(
                    "check {} (now: {value}) else \"{}\"",
                    self.source(path, condition.span),
                    message.text.value
                );
                self.push_at(path, (unit, pc), depth, "check", text);
            }
            Instr::If { statement, .. } => {
                let taken = match value {
                    Value::Number(index) => *index as usize,
                    _ => 0,
                };
                let text = match statement.branches.get(taken) {
                    Some(branch) if taken == 0 => {
                        format!(
                            "if {} (now: true)",
                            self.source(path, branch.condition.span)
                        )
                    }
                    Some(branch) => format!(
                        "else if {} (now: true)",
                        self.source(path, branch.condition.span)
                    ),
                    None if statement.otherwise.is_some() => {
                        String::from("else (now: no condition holds)")
                    }
                    // Nothing to show: no condition holds and there is no `else`.
                    None => return,
                };
                self.push_at(path, (unit, pc), depth, "if", text);
            }
            Instr::ForStart { list } => {
                let var = match code.instr(unit, pc + 1) {
                    Some(Instr::ForNext { var, .. }) => var.name.clone(),
                    _ => String::from("_"),
                };
                let note = if path.unknown(list) {
                    " (as the cluster is now; read again when the run gets there)"
                } else {
                    ""
                };
                self.push_at(
                    path,
                    (unit, pc),
                    depth,
                    "for",
                    format!("for {var} in {value}{note}"),
                );
            }
            _ => {
                let _ = what;
            }
        }
    }

    fn operation(&mut self, path: &Path, operation: &Operation) {
        let depth = self.depth(path);
        let text = match self.instr(path) {
            // A value the plan cannot know: the call is shown as written.
            Some(Instr::Operation { call, .. })
                if call.args.iter().any(|arg| path.unknown(&arg.value)) =>
            {
                format!("{operation} (as written: {})", self.source(path, call.span))
            }
            _ => operation.to_string(),
        };
        self.push(path, depth, "operation", text);
        if let Operation::Exclude { .. } = operation {
            let note = self
                .world
                .observation
                .snapshot
                .actives()
                .find(|active| active.version.has_smc_65140())
                .map(|active| active.version.smc_65140_note(&active.name));
            if let Some(note) = note {
                self.push(
                    path,
                    depth + 1,
                    "warning",
                    format!(
                        "warning: {note}: if the server is stopped when this runs, the run stops before sending it; start the server first, or exclude it on the Active's console (`sgReplicationAdmin -exclude standby-server-key=KEY`), then resume"
                    ),
                );
            }
        }
    }

    /// A prompt: every option of a `choose` is shown, each followed to where
    /// the options join again, and the path goes on with the option `--yes`
    /// takes; other prompts take the answer `--yes` would give.
    fn ask(&mut self, path: &mut Path, request: PromptRequest) -> Asked {
        let depth = self.depth(path);
        match &request.kind {
            PromptKind::Confirm => {
                // A discard confirmation is shown with its clause.
                if !request
                    .id
                    .ends_with(&crate::semantics::code::discard_prompt_id(""))
                {
                    let text = format!(
                        "confirm {} \"{}\" (no: the run stops)",
                        request.id, request.text
                    );
                    self.push(path, depth, "prompt", text);
                }
                Asked::Answer(request.id, Answer::Bool(true))
            }
            PromptKind::Record => {
                let text = format!("record {} \"{}\"", request.id, request.text);
                self.push(path, depth, "prompt", text);
                Asked::Answer(
                    request.id,
                    Answer::Text(String::from("(recorded at run time)")),
                )
            }
            PromptKind::Select(servers) => {
                let first = servers.first().cloned().unwrap_or_default();
                let text = format!(
                    "select {} \"{}\" from [{}] (shown with {first})",
                    request.id,
                    request.text,
                    servers.join(", ")
                );
                self.push(path, depth, "prompt", text);
                Asked::Answer(request.id, Answer::Text(first))
            }
            PromptKind::Choose(options) => {
                let end = match self.instr(path) {
                    Some(Instr::Choose { end, .. }) => Some(*end),
                    _ => None,
                };
                let (Some(end), Some((frames, unit, _))) = (end, self.machine.at(&path.state))
                else {
                    let first = options.first().map(|option| option.name.clone());
                    return Asked::Answer(request.id, Answer::Text(first.unwrap_or_default()));
                };
                self.push(
                    path,
                    depth,
                    "choice",
                    format!("choose {} \"{}\"", request.id, request.text),
                );
                let taken = options
                    .iter()
                    .position(|option| option.is_default)
                    .unwrap_or(0);
                let mut joined = None;
                for (index, option) in options.iter().enumerate() {
                    let default = if option.is_default { " (default)" } else { "" };
                    self.push(
                        path,
                        depth + 1,
                        "option",
                        format!("{} \"{}\"{default}", option.name, option.label),
                    );
                    let mut fork = path.clone();
                    fork.offset += 2;
                    self.machine.deliver(
                        &mut fork.state,
                        Input::Answer(request.id.clone(), Answer::Text(option.name.clone())),
                    );
                    if let Some(mut rejoined) = self.walk(fork, Some((frames, unit, end))) {
                        rejoined.offset = path.offset;
                        rejoined.indents.clone_from(&path.indents);
                        if index == taken || joined.is_none() {
                            joined = Some(Box::new(rejoined));
                        }
                    }
                }
                Asked::Forked(joined)
            }
        }
    }

    fn end(&mut self, path: &Path, ending: Ending) {
        let depth = self.depth(path);
        match ending {
            Ending::Completed | Ending::Declined(_) => {}
            Ending::Stopped(message) => {
                self.push(path, depth, "stop", format!("stop \"{message}\""))
            }
            Ending::Paused(message) => self.push(
                path,
                depth,
                "stop",
                format!("pause \"{message}\" (resume runs the step again)"),
            ),
            Ending::Fail { message, .. } => {
                self.push(path, depth, "fail", format!("fail \"{message}\""))
            }
            Ending::Failed(failure) => self.push(
                path,
                depth,
                "fail",
                format!("the run would fail here: {}", failure.reason),
            ),
            Ending::RetryOutside { .. } => self.push(
                path,
                depth,
                "fail",
                String::from("the run would fail here: `retry` outside a What-if handler"),
            ),
        }
    }
}

/// What a decision led to.
enum Decided {
    /// The value to deliver (`None`: the machine computes it).
    Value(Option<Value>),
    /// Both ways were shown; the path goes on from where they join (`None`:
    /// no way goes on).
    Forked(Option<Box<Path>>),
}

/// What a prompt led to.
enum Asked {
    /// The answer to deliver.
    Answer(String, Answer),
    /// Every option was shown; the path goes on from where they join.
    Forked(Option<Box<Path>>),
}

/// Evaluates a handler's `discards changes on` on the cluster as it is now.
struct PlanContext<'a> {
    bindings: &'a HashMap<String, Value>,
    snapshot: &'a Snapshot,
}

impl EvalContext for PlanContext<'_> {
    type Error = EvalError;

    fn lookup(&self, name: &str) -> Option<Value> {
        self.bindings.get(name).cloned()
    }

    fn snapshot(&self) -> &Snapshot {
        self.snapshot
    }

    fn initial(&self) -> &Snapshot {
        self.snapshot
    }

    fn select(
        &mut self,
        id: &ast::Ident,
        _text: &ast::StringLit,
        _servers: Vec<String>,
        span: Span,
    ) -> Result<String, EvalError> {
        Err(EvalError {
            message: format!("`{}` is chosen by the operator at run time", id.name),
            span,
            help: None,
        })
    }
}
