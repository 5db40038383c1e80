//! The typed syntax tree of one `.runbook` file, as written: no name is
//! resolved here (see [`crate::syntax::resolve`]). Every node carries the
//! [`Span`] of its source text; [`File::eq_ignoring_spans`] compares two trees
//! as the formatter's round-trip property needs (parse → fmt → parse).

use std::time::Duration;

use serde::Serialize;

use super::span::Span;
use crate::domain::{ReplicationState, Version};

/// One parsed `.runbook` file: a `runbook` or a `procedure`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct File {
    /// The `//!` lines at the top of the file: what the file encodes.
    pub module_docs: Option<Doc>,
    /// The `///` lines just before the `runbook`/`procedure` keyword.
    pub docs: Option<Doc>,
    /// Whether this is a `runbook` or a `procedure`.
    pub kind: FileKind,
    /// The name after the keyword: what `call NAME(...)` refers to.
    pub name: Ident,
    /// `title "..."`: required for a `runbook`.
    pub title: Option<StringLit>,
    /// `summary "..."`: the line `runbook list` shows.
    pub summary: Option<StringLit>,
    /// `param NAME: TYPE [= DEFAULT]`, in source order.
    pub params: Vec<Param>,
    /// `import "PATH"`, in source order.
    pub imports: Vec<Import>,
    /// `requires EXPR else "MESSAGE"`: what the cluster must be for the
    /// runbook to start, in source order.
    pub requires: Vec<Requirement>,
    /// `goal ...`: what a run that succeeds leaves, in source order (none:
    /// the safe default, a healthy cluster).
    pub goals: Vec<Goal>,
    /// `from STATE, ...`: the starting states the runbook is written for
    /// (none: a healthy cluster).
    pub from: Vec<FromDecl>,
    /// The statements of the body (bindings, steps, ...), in source order.
    pub body: Vec<Stmt>,
    /// The What-if handlers, in source order.
    pub what_ifs: Vec<WhatIf>,
    /// Every comment of the file (ordinary and doc), in source order, so the
    /// formatter can keep them and the linter can read `// allow(RB003)`.
    pub comments: Vec<Comment>,
    /// The whole file.
    pub span: Span,
}

/// `requires EXPR else "MESSAGE"`: a condition on the cluster when the run
/// starts (e.g. `count(standbys()) >= 1`); a run whose cluster does not
/// meet it is refused before anything acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// A `bool` expression on the cluster and the parameters.
    pub condition: Expr,
    /// What the operator is told when it does not hold.
    pub message: Message,
    /// The whole declaration.
    pub span: Span,
}

/// `goal ...`: what the cluster is when a run of the runbook succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Goal {
    /// Which goal.
    pub kind: GoalKind,
    /// The whole declaration.
    pub span: Span,
}

/// The kinds of goal a runbook declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum GoalKind {
    /// `goal upgrade to EXPR`: every server running that `version`, one
    /// Active in `ACT_REP`, every Standby in `STB_REP`, none excluded.
    Upgrade(Expr),
    /// `goal healthy`: one Active in `ACT_REP`, every Standby running in
    /// `STB_REP`, none excluded, every server on one version.
    Healthy,
    /// `goal EXPR else "MESSAGE"`: a declared condition on the cluster at
    /// the end.
    Condition {
        /// A `bool` expression on the cluster and the parameters.
        condition: Expr,
        /// What is said when it does not hold.
        message: Message,
    },
}

/// `from STATE, ...`: the starting states a runbook is written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromDecl {
    /// The states, in source order.
    pub states: Vec<StartingStateDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// One starting state of `from STATE, ...`, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartingStateDecl {
    /// The state's name as written (the resolver checks it names a
    /// [`crate::domain::StartingState`]).
    pub name: String,
    /// The name in the source.
    pub span: Span,
}

/// Whether a file is a top-level runbook or a callable sub-procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// `runbook NAME { ... }`: listed by `runbook list`, runnable, callable.
    Runbook,
    /// `procedure NAME { ... }`: meant to be called; has no steps.
    Procedure,
}

impl FileKind {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            FileKind::Runbook => "runbook",
            FileKind::Procedure => "procedure",
        }
    }
}

/// A name as written: a variable, a step id, an operation, an option...
///
/// Identifiers are letters, digits, `_` and `-` (not first).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Ident {
    /// The text of the identifier.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

impl Ident {
    /// The identifier's text.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// A string literal with its escapes already decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StringLit {
    /// The decoded text.
    pub value: String,
    /// Where the literal is written, quotes included.
    pub span: Span,
}

/// The text of a `note`, a `warning`, a `check ... else`, a `stop` or a
/// `fail`: a string literal in which `{EXPR}` shows a value when the
/// statement runs, and `{{`/`}}` write a brace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The literal as written (escapes decoded, braces as written): what
    /// the formatter keeps, and what a lint reads as text.
    pub text: StringLit,
    /// The literal cut into text and interpolated expressions, in order.
    pub parts: Vec<MessagePart>,
}

impl Message {
    /// Where the literal is written, quotes included.
    pub fn span(&self) -> Span {
        self.text.span
    }

    /// The text, when the message interpolates nothing (`{{`/`}}` read as
    /// braces).
    pub fn plain(&self) -> Option<String> {
        self.parts
            .iter()
            .map(|part| match part {
                MessagePart::Text(text) => Some(text.as_str()),
                MessagePart::Expr { .. } => None,
            })
            .collect()
    }

    /// The interpolated expressions, in order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|part| match part {
            MessagePart::Expr { expr, .. } => Some(expr),
            MessagePart::Text(_) => None,
        })
    }
}

/// One piece of a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessagePart {
    /// Text shown as is (`{{` and `}}` already read as one brace).
    Text(String),
    /// `{EXPR}`: the value of EXPR when the statement runs.
    Expr {
        /// The expression.
        expr: Expr,
        /// The text between the braces, trimmed: what `plan` shows for a
        /// value it cannot know.
        written: String,
    },
}

/// Consecutive `///` (or `//!`) lines, joined with `\n`, each without its
/// marker and one leading space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Doc {
    /// The text of the lines, joined with `\n`.
    pub text: String,
    /// From the first marker to the end of the last line.
    pub span: Span,
}

/// One comment, as collected by the parser's scan of the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Comment {
    /// What kind of comment.
    pub kind: CommentKind,
    /// The text after the marker (`//`, `///` or `//!`), leading space kept.
    pub text: String,
    /// The whole comment, marker included, newline excluded.
    pub span: Span,
}

/// The three comment forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommentKind {
    /// `// ...`: ignored by the language (`////...` is one too).
    Line,
    /// `/// ...`: documents the next item.
    Doc,
    /// `//! ...`: documents the file.
    ModuleDoc,
}

/// `param NAME: TYPE [= DEFAULT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// `///` lines before the parameter.
    pub docs: Option<Doc>,
    /// The parameter's name, bound in the whole file.
    pub name: Ident,
    /// The declared type.
    pub ty: ParamType,
    /// Where the type is written.
    pub ty_span: Span,
    /// The default; without one the value must be given (`--set`, or the caller).
    pub default: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// The types a parameter can be declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    /// `string`
    String,
    /// `number`: a non-negative integer.
    Number,
    /// `bool`
    Bool,
    /// `duration`, e.g. `10m`.
    Duration,
    /// `version`, e.g. `7.4.0`.
    Version,
    /// `server`: one server of the cluster, by name.
    Server,
    /// `[server]`: a list of servers.
    ServerList,
}

impl ParamType {
    /// The type as written in source.
    pub fn keyword(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Number => "number",
            ParamType::Bool => "bool",
            ParamType::Duration => "duration",
            ParamType::Version => "version",
            ParamType::Server => "server",
            ParamType::ServerList => "[server]",
        }
    }
}

/// `import "PATH"`: makes the `procedure`/`runbook` in that file callable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// The path, relative to the importing file.
    pub path: StringLit,
    /// The whole declaration.
    pub span: Span,
}

/// A sequence of statements between `{` and `}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// The statements, in order.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}` included.
    pub span: Span,
}

/// One statement, with the `///` lines written before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stmt {
    /// `///` lines before the statement (mostly used on steps).
    pub docs: Option<Doc>,
    /// What the statement is.
    pub kind: StmtKind,
    /// The whole statement, docs excluded.
    pub span: Span,
}

/// The statements of the language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stmt", rename_all = "kebab-case")]
pub enum StmtKind {
    /// `let NAME = EXPR`: binds NAME for the rest of the enclosing block.
    Let {
        /// The bound name.
        name: Ident,
        /// Its value (a `select` expression asks the operator).
        value: Expr,
    },
    /// `step [NUMBER] ID "TITLE" [CLAUSES] { ... }`: the unit of journaling.
    Step(Step),
    /// `note "TEXT"`: text shown to the operator.
    Note {
        /// The text.
        text: Message,
    },
    /// `warning "TEXT"`: shown to the operator and emitted as a `warning` event.
    Warning {
        /// The text.
        text: Message,
    },
    /// `NAME(ARG: EXPR, ...)`: an operation on the cluster.
    Operation(OperationCall),
    /// `confirm ID "TEXT"`: the operator confirms; declining stops the run.
    Confirm {
        /// The prompt id (answers files key on it).
        id: Ident,
        /// The question.
        text: StringLit,
    },
    /// `choose ID "TEXT" { option ... }`: the operator picks one branch.
    Choose(Choose),
    /// `record ID "TEXT"`: the operator types an observation, bound as a string.
    Record {
        /// The prompt id; the variable is this id with `-` read as `_`.
        id: Ident,
        /// The question.
        text: StringLit,
    },
    /// `check EXPR else "MESSAGE"`: fails the step when EXPR is false.
    Check {
        /// A `bool` expression.
        condition: Expr,
        /// The failure message.
        message: Message,
    },
    /// `wait until EXPR [timeout EXPR] [every EXPR]`: polls the cluster.
    Wait {
        /// A `bool` expression.
        condition: Expr,
        /// A `duration`: the step fails after it.
        timeout: Option<Expr>,
        /// A `duration`: the polling interval (default `10s`).
        every: Option<Expr>,
    },
    /// `if EXPR { } [else if EXPR { }]* [else { }]`.
    If(If),
    /// `for NAME in EXPR { ... }`: over a list of servers, in order.
    For {
        /// The loop variable (a `server`).
        var: Ident,
        /// A `[server]` expression.
        list: Expr,
        /// The loop body.
        body: Block,
    },
    /// `call NAME(ARG: EXPR, ...)`: runs an imported procedure or runbook.
    Call(Call),
    /// `stop "MESSAGE"`: ends the run for good with outcome `stopped` (the
    /// message says what the operator does next; the run cannot be resumed).
    Stop {
        /// What the operator is told.
        message: Message,
    },
    /// `pause "MESSAGE"`: in a What-if body, ends the run with outcome
    /// `stopped`, resumable: `runbook resume` runs the interrupted step again
    /// once the operator has done what the message says.
    Pause {
        /// What the operator is told to do before resuming.
        message: Message,
    },
    /// `fail "MESSAGE"`: ends the run with outcome `failed`.
    Fail {
        /// What the operator is told.
        message: Message,
    },
    /// `retry`: in a What-if, runs the interrupted step again.
    Retry,
}

/// A step: numbered, titled, with a stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The number as written (`1`, `4.1`), mirroring the procedure page.
    pub number: Option<StepNumber>,
    /// The stable id: journals, answers, `during`, `after` refer to it.
    pub id: Ident,
    /// The title shown to the operator.
    pub title: StringLit,
    /// `within DURATION after STEP`: a time window.
    pub window: Option<Window>,
    /// `discards changes on EXPR`: the server whose admin changes are lost.
    pub discards_changes_on: Option<Expr>,
    /// The step's statements.
    pub body: Block,
    /// From `step` to the closing `}`.
    pub span: Span,
}

/// A step number such as `4.1`, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StepNumber {
    /// The text, e.g. `4.1`.
    pub text: String,
    /// Where it is written.
    pub span: Span,
}

/// `within DURATION after STEP`: the step must start within DURATION of the
/// end of STEP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// A `duration` expression.
    pub duration: Expr,
    /// The step whose end starts the window.
    pub after: Ident,
    /// The whole clause.
    pub span: Span,
}

/// An operation on the cluster, e.g. `set-standby(server: s, force: true)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationCall {
    /// The operation's name (see the operation table of the resolver).
    pub name: Ident,
    /// The named arguments, as written.
    pub args: Vec<Arg>,
    /// From the name to `)`.
    pub span: Span,
}

/// `call NAME(ARG: EXPR, ...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// The callee's name (declared by `procedure NAME`/`runbook NAME` in an
    /// imported file, or the file itself).
    pub target: Ident,
    /// The named arguments, bound to the callee's parameters.
    pub args: Vec<Arg>,
    /// From `call` to `)`.
    pub span: Span,
}

/// A named argument `NAME: EXPR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arg {
    /// The argument's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole argument.
    pub span: Span,
}

/// `choose ID "TEXT" { option ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choose {
    /// The prompt id.
    pub id: Ident,
    /// The question.
    pub text: StringLit,
    /// The options, in order.
    pub options: Vec<ChoiceOption>,
    /// From `choose` to the closing `}`.
    pub span: Span,
}

/// `option NAME "LABEL" [default] [discards changes on EXPR] { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceOption {
    /// `///` lines before the option.
    pub docs: Option<Doc>,
    /// The option's name: the answer in an answers file.
    pub name: Ident,
    /// The label shown to the operator.
    pub label: StringLit,
    /// Whether `--yes` picks this option.
    pub is_default: bool,
    /// `discards changes on EXPR`: the server whose admin changes the option
    /// loses; counted and confirmed when the option is chosen, before its body.
    pub discards_changes_on: Option<Expr>,
    /// What runs when the option is chosen.
    pub body: Block,
    /// From `option` to the closing `}`.
    pub span: Span,
}

/// `if` with its `else if` chain and optional `else`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct If {
    /// `if COND { }` then each `else if COND { }`, in order.
    pub branches: Vec<IfBranch>,
    /// The final `else { }`.
    pub otherwise: Option<Block>,
    /// From `if` to the last `}`.
    pub span: Span,
}

/// One `if COND { ... }` or `else if COND { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IfBranch {
    /// A `bool` expression.
    pub condition: Expr,
    /// What runs when it holds.
    pub body: Block,
}

/// `what-if ID "TITLE" when TRIGGER, ... [during STEP, ...] [discards changes on EXPR] { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    /// `///` lines before the handler.
    pub docs: Option<Doc>,
    /// The handler's id (`runbook run --what-if ID`).
    pub id: Ident,
    /// The title shown when it fires.
    pub title: StringLit,
    /// The conditions that fire it (any of them).
    pub triggers: Vec<Trigger>,
    /// The steps during which the conditions are watched (empty: every step).
    pub during: Vec<Ident>,
    /// `discards changes on EXPR`: the server whose admin changes the handler
    /// loses; counted and confirmed when it is entered, before its body.
    pub discards_changes_on: Option<Expr>,
    /// What runs when it fires.
    pub body: Block,
    /// From `what-if` to the closing `}`.
    pub span: Span,
}

/// One condition that fires a What-if handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// Which condition.
    pub kind: TriggerKind,
    /// Where it is written.
    pub span: Span,
}

/// The conditions a What-if handler can watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "trigger", content = "arg", rename_all = "kebab-case")]
pub enum TriggerKind {
    /// `failed(STEP)`: that step failed.
    Failed(Ident),
    /// `two-actives`: two servers are Active at once.
    TwoActives,
    /// `standby-activated`: a server that was Standby at the start is Active.
    StandbyActivated,
    /// `upgrade-cancelled(EXPR)`: that server's upgrade was cancelled and reverted.
    UpgradeCancelled(Expr),
    /// `replication-broken`: replication is broken.
    ReplicationBroken,
}

impl TriggerKind {
    /// The trigger's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            TriggerKind::Failed(_) => "failed",
            TriggerKind::TwoActives => "two-actives",
            TriggerKind::StandbyActivated => "standby-activated",
            TriggerKind::UpgradeCancelled(_) => "upgrade-cancelled",
            TriggerKind::ReplicationBroken => "replication-broken",
        }
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is written (parentheses of a grouped expression included).
    pub span: Span,
}

/// The expression forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "expr", content = "value", rename_all = "kebab-case")]
pub enum ExprKind {
    /// `true`, `false`
    Bool(bool),
    /// `3`, `10000`
    Number(u64),
    /// `"text"`, escapes decoded.
    String(String),
    /// `500ms`, `10s`, `5m`, `2h`, `1d`
    Duration(Duration),
    /// `7.4.0`
    Version(Version),
    /// A replication state code such as `ACT_REP`.
    State(ReplicationState),
    /// `[a, b]`
    List(Vec<Expr>),
    /// A variable or parameter by name.
    Var(Ident),
    /// `EXPR.FIELD`, e.g. `standby.running`.
    Field {
        /// The value whose field is read (a `server`).
        target: Box<Expr>,
        /// The field's name.
        field: Ident,
    },
    /// A built-in function: `active()`, `count(list)`, `healthy()`...
    Call {
        /// The function's name.
        function: Ident,
        /// Positional arguments.
        args: Vec<Expr>,
    },
    /// `not EXPR`
    Not(Box<Expr>),
    /// `LHS OP RHS`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator is written.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `all NAME in LIST: EXPR` / `any NAME in LIST: EXPR`
    Quantifier {
        /// `all` or `any`.
        quantifier: Quantifier,
        /// The bound name (a `server`).
        var: Ident,
        /// The list ranged over.
        list: Box<Expr>,
        /// A `bool` expression.
        body: Box<Expr>,
    },
    /// `select ID "TEXT" from LIST`: the operator picks a server of the list.
    Select {
        /// The prompt id.
        id: Ident,
        /// The question.
        text: StringLit,
        /// A `[server]` expression.
        from: Box<Expr>,
    },
}

/// Binary operators, loosest first: `or`, `and`, comparisons and `in`, `without`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`: membership of a server in a list.
    In,
    /// `without`: a list less a server or a list.
    Without,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Without => "without",
        }
    }

    /// Binding power: a larger number binds tighter (`not` sits at 3).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In => 4,
            BinaryOp::Without => 5,
        }
    }
}

/// `all` or `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantifier {
    /// Holds when the body holds for every element (and for an empty list).
    All,
    /// Holds when the body holds for at least one element.
    Any,
}

impl Quantifier {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            Quantifier::All => "all",
            Quantifier::Any => "any",
        }
    }
}

impl File {
    /// Every step of the file, at any depth (top level, `if`/`for`/`choose`
    /// branches), in source order.
    pub fn steps(&self) -> Vec<&Step> {
        let mut steps = Vec::new();
        collect_steps(&self.body, &mut steps);
        steps
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps().into_iter().find(|step| step.id.name == id)
    }

    /// The What-if handler with this id.
    pub fn what_if(&self, id: &str) -> Option<&WhatIf> {
        self.what_ifs.iter().find(|what_if| what_if.id.name == id)
    }

    /// The parameter with this name.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.name.name == name)
    }

    /// Whether two trees are equal when every span (and every comment's
    /// position) is ignored: the formatter's round-trip property.
    pub fn eq_ignoring_spans(&self, other: &File) -> bool {
        without_spans(self) == without_spans(other)
    }
}

/// The tree as JSON with every `span`/`op_span`/`ty_span` field removed:
/// a stable, position-free dump used by snapshot tests and comparisons.
pub fn without_spans(file: &File) -> serde_json::Value {
    let mut value = serde_json::to_value(file).unwrap_or(serde_json::Value::Null);
    strip_span_fields(&mut value);
    value
}

fn strip_span_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|key, _| !(key == "span" || key.ends_with("_span")));
            map.values_mut().for_each(strip_span_fields);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_span_fields),
        _ => {}
    }
}

fn collect_steps<'a>(stmts: &'a [Stmt], steps: &mut Vec<&'a Step>) {
    for stmt in stmts {
        match &stmt.kind {
            StmtKind::Step(step) => {
                steps.push(step);
                collect_steps(&step.body.stmts, steps);
            }
            StmtKind::If(if_stmt) => {
                for branch in &if_stmt.branches {
                    collect_steps(&branch.body.stmts, steps);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    collect_steps(&otherwise.stmts, steps);
                }
            }
            StmtKind::For { body, .. } => collect_steps(&body.stmts, steps),
            StmtKind::Choose(choose) => {
                for option in &choose.options {
                    collect_steps(&option.body.stmts, steps);
                }
            }
            _ => {}
        }
    }
}
