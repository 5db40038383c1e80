//! `runbook plan`: what a run would do from the target's current state —
//! the steps, operations, prompts and choices, and the What-ifs that could
//! fire — computed by reading the target once and changing nothing.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::error::RuntimeError;
use super::eval::{self, parse_param, EvalContext, EvalError, Value};
use super::observe::{self, cluster_table};
use super::program::Program;
use crate::cluster::Snapshot;
use crate::connect::Connector;
use crate::syntax::ast::{self, Stmt, StmtKind, TriggerKind};
use crate::syntax::Span;

/// How deep `call`s are followed (a runbook calling itself stops here).
const MAX_CALL_DEPTH: usize = 8;

/// What a run would do.
#[derive(Debug, Clone, Serialize)]
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
}

/// One line of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    /// Nesting depth (0: top level).
    pub depth: usize,
    /// `step`, `operation`, `prompt`, `choice`, `option`, `if`, `else`, `for`, `call`, `check`, `wait`, `note`, `warning`, `stop`, `fail`, `let`,
    /// or `discards` (the `discards changes on` clause of the step or option above it).
    pub kind: &'static str,
    /// What it does, with values from the current state where they are known.
    pub text: String,
    /// The 1-based line in its file.
    pub line: u32,
}

/// A What-if handler and what would fire it.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// Reads the target once and lays out what `run` would do.
pub async fn plan(
    program: &Program,
    connector: &dyn Connector,
    params: &BTreeMap<String, String>,
) -> Result<Plan, RuntimeError> {
    let snapshot = connector.snapshot().await?;
    let main = program.main_file();
    let mut bindings = HashMap::new();
    let mut shown_params = BTreeMap::new();
    for name in params.keys() {
        if main.ast.param(name).is_none() {
            return Err(RuntimeError::Parameter {
                name: name.clone(),
                reason: format!("`{}` has no such parameter", main.ast.name.name),
            });
        }
    }
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
                    snapshot: &snapshot,
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
        if let Some(value) = value {
            bindings.insert(param.name.name.clone(), value);
        }
    }
    let mut planner = Planner {
        program,
        snapshot: &snapshot,
        items: Vec::new(),
        counts_changes: connector.counts_changes(),
    };
    planner.stmts(program.main, &main.ast.body, &mut bindings, 0, 0);
    // A handler sees the top-level bindings of its own file: the main file's
    // are known from the walk above; others are shown as written.
    let no_bindings = HashMap::new();
    let what_ifs = program
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
                    TriggerKind::TwoActives if observe::two_actives(&snapshot) => {
                        Some(String::from("two servers are Active now"))
                    }
                    TriggerKind::ReplicationBroken if observe::replication_broken(&snapshot) => {
                        Some(String::from("replication is broken now"))
                    }
                    _ => None,
                }),
            discards_changes: handler.discards_changes_on.as_ref().map(|server| {
                let visible = if index == program.main {
                    &bindings
                } else {
                    &no_bindings
                };
                planner.discards(
                    index,
                    server,
                    visible,
                    format!("{}.discard-changes", handler.id.name),
                )
            }),
        })
        .collect();
    let items = planner.items;
    Ok(Plan {
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: snapshot,
        params: shown_params,
        items,
        what_ifs,
    })
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

struct Planner<'a> {
    program: &'a Program,
    snapshot: &'a Snapshot,
    items: Vec<PlanItem>,
    counts_changes: bool,
}

impl Planner<'_> {
    fn push(&mut self, file: usize, span: Span, depth: usize, kind: &'static str, text: String) {
        let line = self.program.file(file).line_of(span.start);
        self.items.push(PlanItem {
            depth,
            kind,
            text,
            line,
        });
    }

    fn source(&self, file: usize, span: Span) -> String {
        span.text(&self.program.file(file).text).to_string()
    }

    fn value(&self, expr: &ast::Expr, bindings: &HashMap<String, Value>) -> Option<Value> {
        let mut context = PlanContext {
            bindings,
            snapshot: self.snapshot,
        };
        eval::eval(expr, &mut context).ok()
    }

    /// A `discards changes on SERVER` clause, its server evaluated where it can be.
    fn discards(
        &self,
        file: usize,
        server: &ast::Expr,
        bindings: &HashMap<String, Value>,
        prompt: String,
    ) -> PlanDiscards {
        PlanDiscards {
            server: self.shown(file, server, bindings),
            prompt,
            counted: self.counts_changes,
        }
    }

    fn shown(&self, file: usize, expr: &ast::Expr, bindings: &HashMap<String, Value>) -> String {
        match self.value(expr, bindings) {
            Some(value) => value.to_string(),
            None => self.source(file, expr.span),
        }
    }

    fn stmts(
        &mut self,
        file: usize,
        stmts: &[Stmt],
        bindings: &mut HashMap<String, Value>,
        depth: usize,
        calls: usize,
    ) {
        for stmt in stmts {
            self.stmt(file, stmt, bindings, depth, calls);
        }
    }

    fn block(
        &mut self,
        file: usize,
        block: &ast::Block,
        bindings: &HashMap<String, Value>,
        depth: usize,
        calls: usize,
    ) {
        let mut inner = bindings.clone();
        self.stmts(file, &block.stmts, &mut inner, depth, calls);
    }

    fn stmt(
        &mut self,
        file: usize,
        stmt: &Stmt,
        bindings: &mut HashMap<String, Value>,
        depth: usize,
        calls: usize,
    ) {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                if let ast::ExprKind::Select { id, text, from } = &value.kind {
                    let choices = self.shown(file, from, bindings);
                    self.push(
                        file,
                        span,
                        depth,
                        "prompt",
                        format!("select {} \"{}\" from {choices}", id.name, text.value),
                    );
                } else if let Some(result) = self.value(value, bindings) {
                    self.push(
                        file,
                        span,
                        depth,
                        "let",
                        format!("{} = {result}", name.name),
                    );
                    bindings.insert(name.name.clone(), result);
                }
            }
            StmtKind::Step(step) => {
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
                        self.source(file, window.duration.span),
                        window.after.name
                    );
                }
                self.push(file, span, depth, "step", text);
                if let Some(server) = &step.discards_changes_on {
                    let prompt = format!("{}.discard-changes", step.id.name);
                    let discards = self.discards(file, server, bindings, prompt);
                    self.push(
                        file,
                        server.span,
                        depth + 1,
                        "discards",
                        discards.describe("before the step acts"),
                    );
                }
                self.block(file, &step.body, bindings, depth + 1, calls);
            }
            StmtKind::Note { text } => {
                self.push(file, span, depth, "note", format!("note: {}", text.value))
            }
            StmtKind::Warning { text } => self.push(
                file,
                span,
                depth,
                "warning",
                format!("warning: {}", text.value),
            ),
            StmtKind::Operation(call) => {
                let args = call
                    .args
                    .iter()
                    .map(|arg| {
                        format!(
                            "{}: {}",
                            arg.name.name,
                            self.shown(file, &arg.value, bindings)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push(
                    file,
                    span,
                    depth,
                    "operation",
                    format!("{}({args})", call.name.name),
                );
                if call.name.name == "exclude" {
                    if let Some(active) = self
                        .snapshot
                        .actives()
                        .find(|active| active.version.has_smc_65140())
                    {
                        self.push(
                            file,
                            span,
                            depth + 1,
                            "warning",
                            format!(
                                "warning: {}: if the server is stopped when this runs, the run stops before sending it; start the server first, or exclude it on the Active's console (`sgReplicationAdmin -exclude standby-server-key=KEY`), then resume",
                                active.version.smc_65140_note(&active.name)
                            ),
                        );
                    }
                }
            }
            StmtKind::Confirm { id, text } => self.push(
                file,
                span,
                depth,
                "prompt",
                format!("confirm {} \"{}\"", id.name, text.value),
            ),
            StmtKind::Record { id, text } => self.push(
                file,
                span,
                depth,
                "prompt",
                format!("record {} \"{}\"", id.name, text.value),
            ),
            StmtKind::Choose(choose) => {
                self.push(
                    file,
                    span,
                    depth,
                    "choice",
                    format!("choose {} \"{}\"", choose.id.name, choose.text.value),
                );
                for option in &choose.options {
                    let default = if option.is_default { " (default)" } else { "" };
                    let text = format!("{} \"{}\"{default}", option.name.name, option.label.value);
                    self.push(file, option.span, depth + 1, "option", text);
                    if let Some(server) = &option.discards_changes_on {
                        let prompt =
                            format!("{}.{}.discard-changes", choose.id.name, option.name.name);
                        let discards = self.discards(file, server, bindings, prompt);
                        self.push(
                            file,
                            server.span,
                            depth + 2,
                            "discards",
                            discards.describe("when this option is chosen, before it acts"),
                        );
                    }
                    self.block(file, &option.body, bindings, depth + 2, calls);
                }
            }
            StmtKind::Check { condition, message } => {
                let now = self
                    .value(condition, bindings)
                    .map(|value| format!(" (now: {value})"))
                    .unwrap_or_default();
                self.push(
                    file,
                    span,
                    depth,
                    "check",
                    format!(
                        "check {}{now} else \"{}\"",
                        self.source(file, condition.span),
                        message.value
                    ),
                );
            }
            StmtKind::Wait {
                condition, timeout, ..
            } => {
                let timeout = timeout
                    .as_ref()
                    .map(|timeout| format!(" timeout {}", self.source(file, timeout.span)))
                    .unwrap_or_default();
                self.push(
                    file,
                    span,
                    depth,
                    "wait",
                    format!("wait until {}{timeout}", self.source(file, condition.span)),
                );
            }
            StmtKind::If(if_stmt) => {
                for (index, branch) in if_stmt.branches.iter().enumerate() {
                    let now = self
                        .value(&branch.condition, bindings)
                        .map(|value| format!(" (now: {value})"))
                        .unwrap_or_default();
                    let keyword = if index == 0 { "if" } else { "else if" };
                    self.push(
                        file,
                        branch.condition.span,
                        depth,
                        "if",
                        format!(
                            "{keyword} {}{now}",
                            self.source(file, branch.condition.span)
                        ),
                    );
                    self.block(file, &branch.body, bindings, depth + 1, calls);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    self.push(file, otherwise.span, depth, "else", String::from("else"));
                    self.block(file, otherwise, bindings, depth + 1, calls);
                }
            }
            StmtKind::For { var, list, body } => {
                let servers = self.value(list, bindings);
                let shown = servers
                    .as_ref()
                    .map_or_else(|| self.source(file, list.span), ToString::to_string);
                self.push(
                    file,
                    span,
                    depth,
                    "for",
                    format!("for {} in {shown}", var.name),
                );
                // The loop variable stays unbound: the body is shown once, as written.
                let mut inner = bindings.clone();
                inner.remove(&var.name);
                self.block(file, body, &inner, depth + 1, calls);
            }
            StmtKind::Call(call) => {
                let args = call
                    .args
                    .iter()
                    .map(|arg| {
                        format!(
                            "{}: {}",
                            arg.name.name,
                            self.shown(file, &arg.value, bindings)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                self.push(
                    file,
                    span,
                    depth,
                    "call",
                    format!("call {}({args})", call.target.name),
                );
                if calls < MAX_CALL_DEPTH {
                    if let Some(callee) = self.program.callee(file, &call.target.name) {
                        let mut inner = HashMap::new();
                        for arg in &call.args {
                            if let Some(value) = self.value(&arg.value, bindings) {
                                inner.insert(arg.name.name.clone(), value);
                            }
                        }
                        let body = &self.program.file(callee).ast.body;
                        self.stmts(callee, body, &mut inner, depth + 1, calls + 1);
                    }
                }
            }
            StmtKind::Stop { message } => self.push(
                file,
                span,
                depth,
                "stop",
                format!("stop \"{}\"", message.value),
            ),
            StmtKind::Fail { message } => self.push(
                file,
                span,
                depth,
                "fail",
                format!("fail \"{}\"", message.value),
            ),
            StmtKind::Retry => self.push(file, span, depth, "retry", String::from("retry")),
        }
    }
}

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
