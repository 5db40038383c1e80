//! Expression values and their evaluation against the live cluster: server
//! bindings are names read again at each evaluation, roles (`active()`,
//! `standbys()`) come from the snapshot the context provides.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::observe::changes_since;
use crate::cluster::{Mode, Operation, ReplicationState, Snapshot, Version};
use crate::domain::OperationKind;
use crate::syntax::ast::{self, BinaryOp, ExprKind, Quantifier};
use crate::syntax::Span;

/// A runtime value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum Value {
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    Number(u64),
    /// Text.
    String(String),
    /// A duration.
    Duration(Duration),
    /// A product version.
    Version(Version),
    /// A replication state code.
    State(ReplicationState),
    /// A server, by name.
    Server(String),
    /// A list of servers, by name.
    Servers(Vec<String>),
}

impl Value {
    /// The value's type, in words, for diagnostics.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Bool(_) => "bool",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Duration(_) => "duration",
            Self::Version(_) => "version",
            Self::State(_) => "replication state",
            Self::Server(_) => "server",
            Self::Servers(_) => "[server]",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(value) => write!(f, "{value}"),
            Self::Number(value) => write!(f, "{value}"),
            Self::String(value) => f.write_str(value),
            Self::Duration(value) => f.write_str(&format_duration(*value)),
            Self::Version(value) => write!(f, "{value}"),
            Self::State(value) => write!(f, "{value}"),
            Self::Server(value) => f.write_str(value),
            Self::Servers(values) => write!(f, "[{}]", values.join(", ")),
        }
    }
}

/// A duration as the language writes it (`90s`, `5m`, `2h`, `1h30m`).
pub fn format_duration(duration: Duration) -> String {
    crate::domain::duration::format(duration)
}

/// An expression that cannot be evaluated (a type error, a role that does not hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
    /// The expression.
    pub span: Span,
    /// What to do, if there is something to say.
    pub help: Option<String>,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>, span: Span) -> Self {
        Self {
            message: message.into(),
            span,
            help: None,
        }
    }
}

/// What evaluation needs from the run.
pub trait EvalContext {
    /// The error evaluation can end with (eval errors, or a failed prompt).
    type Error: From<EvalError>;
    /// The value bound to `name`, if any.
    fn lookup(&self, name: &str) -> Option<Value>;
    /// The cluster now.
    fn snapshot(&self) -> &Snapshot;
    /// The cluster when the run started.
    fn initial(&self) -> &Snapshot;
    /// Each server's configuration revision when step `step` last started
    /// in this run (`None`: it has not started, or nothing kept it).
    fn step_mark(&self, _step: &str) -> Option<&[(String, u64)]> {
        None
    }
    /// The servers that were Active when the target last detected a split
    /// brain (`split_brain()`), empty when it did not.
    fn split_brain(&mut self, span: Span) -> Result<Vec<String>, Self::Error> {
        Err(EvalError {
            message: "`split_brain()` is read from the cluster while the run goes: not here".into(),
            span,
            help: Some(
                "read it in a statement of the body (`let was_active = split_brain()`)".into(),
            ),
        }
        .into())
    }
    /// Asks the operator to pick one of `servers` (`select ID "TEXT" from LIST`).
    fn select(
        &mut self,
        id: &ast::Ident,
        text: &ast::StringLit,
        servers: Vec<String>,
        span: Span,
    ) -> Result<String, Self::Error>;
}

/// Evaluates `expr` in `context`.
pub fn eval<E: From<EvalError>>(
    expr: &ast::Expr,
    context: &mut dyn EvalContext<Error = E>,
) -> Result<Value, E> {
    let span = expr.span;
    Ok(match &expr.kind {
        ExprKind::Bool(value) => Value::Bool(*value),
        ExprKind::Number(value) => Value::Number(*value),
        ExprKind::String(value) => Value::String(value.clone()),
        ExprKind::Duration(value) => Value::Duration(*value),
        ExprKind::Version(value) => Value::Version(value.clone()),
        ExprKind::State(value) => Value::State(*value),
        ExprKind::List(items) => {
            let mut servers = Vec::with_capacity(items.len());
            for item in items {
                match eval(item, context)? {
                    Value::Server(name) => servers.push(name),
                    Value::Servers(names) => servers.extend(names),
                    other => {
                        return Err(EvalError::new(
                            format!("a list holds servers, not a {}", other.type_name()),
                            item.span,
                        )
                        .into())
                    }
                }
            }
            Value::Servers(servers)
        }
        ExprKind::Var(ident) => match context.lookup(&ident.name) {
            Some(value) => value,
            // A bare server name (`[mgt-1, mgt-2]`) names a server of the target.
            None if context.snapshot().server(&ident.name).is_some() => {
                Value::Server(ident.name.clone())
            }
            None => {
                return Err(EvalError::new(format!("`{}` is not bound", ident.name), span).into())
            }
        },
        ExprKind::Field { target, field } => {
            let value = eval(target, context)?;
            let Value::Server(name) = value else {
                return Err(EvalError::new(
                    format!(
                        "`.{}` is read on a server, not on a {}",
                        field.name,
                        value.type_name()
                    ),
                    span,
                )
                .into());
            };
            server_field(&name, &field.name, context, span)?
        }
        ExprKind::Call { function, args } => call_function(function, args, context, span)?,
        ExprKind::Not(inner) => Value::Bool(!expect_bool(eval(inner, context)?, inner.span)?),
        ExprKind::Binary { op, lhs, rhs, .. } => binary(*op, lhs, rhs, context, span)?,
        ExprKind::Quantifier {
            quantifier,
            var,
            list,
            body,
        } => {
            let servers = expect_servers(eval(list, context)?, list.span)?;
            let mut scoped = Scoped {
                inner: context,
                name: &var.name,
                value: Value::Bool(false),
            };
            let mut result = matches!(quantifier, Quantifier::All);
            for server in servers {
                scoped.value = Value::Server(server);
                let holds = expect_bool(eval(body, &mut scoped)?, body.span)?;
                match quantifier {
                    Quantifier::All if !holds => {
                        result = false;
                        break;
                    }
                    Quantifier::Any if holds => {
                        result = true;
                        break;
                    }
                    _ => {}
                }
            }
            Value::Bool(result)
        }
        ExprKind::Select { id, text, from } => {
            let servers = expect_servers(eval(from, context)?, from.span)?;
            if servers.is_empty() {
                return Err(EvalError::new(
                    format!("prompt `{}` has no server to select from", id.name),
                    from.span,
                )
                .into());
            }
            Value::Server(context.select(id, text, servers, span)?)
        }
    })
}

/// How a value shows in a message (`"{EXPR}"`): a server by its name, a
/// list of servers as their names joined by `, ` (`none` when empty), a
/// version in full (`7.4.0`), a duration as the language writes it
/// (`1h30m`), a replication state by its code (`STB_REP`), a string as
/// is, numbers and bools as written.
pub fn render(value: &Value) -> String {
    match value {
        Value::Servers(names) if names.is_empty() => String::from("none"),
        Value::Servers(names) => names.join(", "),
        Value::Version(version) => version.full(),
        other => other.to_string(),
    }
}

/// The text of `message` with each `{EXPR}` replaced by its value
/// ([`render`]), evaluated in `context`: the one meaning of an
/// interpolation, for every driver. An expression `unknown` says the
/// driver cannot know (`plan`, once the cluster would have changed) is
/// shown as written, in its braces.
pub fn interpolate<E: From<EvalError>>(
    message: &ast::Message,
    context: &mut dyn EvalContext<Error = E>,
    unknown: &dyn Fn(&ast::Expr) -> bool,
) -> Result<String, E> {
    let mut text = String::with_capacity(message.text.value.len());
    for part in &message.parts {
        match part {
            ast::MessagePart::Text(literal) => text.push_str(literal),
            ast::MessagePart::Expr { expr, written } if unknown(expr) => {
                text.push('{');
                text.push_str(written);
                text.push('}');
            }
            ast::MessagePart::Expr { expr, .. } => text.push_str(&render(&eval(expr, context)?)),
        }
    }
    Ok(text)
}

/// Whether evaluating `expr` reads the live cluster (a function such as
/// `active()`, a server's field): a value computed before the cluster
/// changes may no longer hold after it.
pub fn reads_cluster(expr: &ast::Expr) -> bool {
    match &expr.kind {
        ExprKind::Bool(_)
        | ExprKind::Number(_)
        | ExprKind::String(_)
        | ExprKind::Duration(_)
        | ExprKind::Version(_)
        | ExprKind::State(_)
        | ExprKind::Var(_) => false,
        ExprKind::Field { .. } => true,
        // `count(LIST)` reads only its list; every other function reads the cluster.
        ExprKind::Call { function, args } if function.name == "count" => {
            args.iter().any(reads_cluster)
        }
        ExprKind::Call { .. } => true,
        ExprKind::List(items) => items.iter().any(reads_cluster),
        ExprKind::Not(inner) => reads_cluster(inner),
        ExprKind::Binary { lhs, rhs, .. } => reads_cluster(lhs) || reads_cluster(rhs),
        ExprKind::Quantifier { list, body, .. } => reads_cluster(list) || reads_cluster(body),
        ExprKind::Select { from, .. } => reads_cluster(from),
    }
}

/// A context with one more binding (the variable of a quantifier).
struct Scoped<'a, E> {
    inner: &'a mut dyn EvalContext<Error = E>,
    name: &'a str,
    value: Value,
}

impl<E: From<EvalError>> EvalContext for Scoped<'_, E> {
    type Error = E;
    fn lookup(&self, name: &str) -> Option<Value> {
        if name == self.name {
            Some(self.value.clone())
        } else {
            self.inner.lookup(name)
        }
    }
    fn snapshot(&self) -> &Snapshot {
        self.inner.snapshot()
    }
    fn initial(&self) -> &Snapshot {
        self.inner.initial()
    }
    fn split_brain(&mut self, span: Span) -> Result<Vec<String>, Self::Error> {
        self.inner.split_brain(span)
    }
    fn select(
        &mut self,
        id: &ast::Ident,
        text: &ast::StringLit,
        servers: Vec<String>,
        span: Span,
    ) -> Result<String, Self::Error> {
        self.inner.select(id, text, servers, span)
    }
}

fn server_field<E: From<EvalError>>(
    name: &str,
    field: &str,
    context: &dyn EvalContext<Error = E>,
    span: Span,
) -> Result<Value, EvalError> {
    let snapshot = context.snapshot();
    let Some(server) = snapshot.server(name) else {
        return Err(EvalError::new(
            format!("the target has no server `{name}`"),
            span,
        ));
    };
    Ok(match field {
        "running" => Value::Bool(server.running),
        "excluded" => Value::Bool(server.excluded),
        "is_active" => Value::Bool(server.running && server.mode == Mode::Active),
        "is_standby" => Value::Bool(server.mode == Mode::Standby),
        "version" => Value::Version(server.version.clone()),
        "state" => Value::State(server.replication),
        "name" => Value::String(server.name.clone()),
        "changes" => Value::Number(changes_since(context.initial(), snapshot, name)),
        other => {
            return Err(EvalError::new(
                format!("a server has no field `{other}`"),
                span,
            ))
        }
    })
}

fn call_function<E: From<EvalError>>(
    function: &ast::Ident,
    args: &[ast::Expr],
    context: &mut dyn EvalContext<Error = E>,
    span: Span,
) -> Result<Value, E> {
    let snapshot = context.snapshot();
    let names = |servers: &mut dyn Iterator<Item = &crate::cluster::ServerSnapshot>| {
        servers
            .map(|server| server.name.clone())
            .collect::<Vec<_>>()
    };
    Ok(match (function.name.as_str(), args) {
        ("active", []) => {
            let actives = names(&mut snapshot.actives());
            match actives.as_slice() {
                [only] => Value::Server(only.clone()),
                [] => {
                    return Err(EvalError {
                        message: "`active()` needs exactly one Active server, and there is none"
                            .into(),
                        span,
                        help: Some(
                            "start or activate a server first; `runbook plan` shows the cluster"
                                .into(),
                        ),
                    }
                    .into())
                }
                several => {
                    return Err(EvalError {
                        message: format!(
                            "`active()` needs exactly one Active server, and there are {}: {}",
                            several.len(),
                            several.join(", ")
                        ),
                        span,
                        help: Some("two Actives need the split-brain recovery first".into()),
                    }
                    .into())
                }
            }
        }
        ("actives", []) => Value::Servers(names(&mut snapshot.actives())),
        ("standbys", []) => Value::Servers(names(&mut snapshot.standbys())),
        ("servers", []) => Value::Servers(names(&mut snapshot.servers.iter())),
        ("healthy", []) => Value::Bool(snapshot.is_healthy()),
        ("split_brain", []) => Value::Servers(context.split_brain(span)?),
        ("replication_ok", []) => Value::Bool(snapshot.servers.iter().all(|server| {
            !server.running
                || matches!(
                    server.replication,
                    ReplicationState::ActRep | ReplicationState::StbRep
                )
        })),
        ("changes_since", [server, step]) => {
            let Value::Server(name) = eval(server, context)? else {
                return Err(EvalError::new(
                    "`changes_since` counts changes on a server",
                    server.span,
                )
                .into());
            };
            let ExprKind::Var(id) = &step.kind else {
                return Err(EvalError::new("`changes_since` names a step", step.span).into());
            };
            let Some(mark) = context.step_mark(&id.name) else {
                return Err(EvalError {
                    message: format!("step `{}` has not started in this run", id.name),
                    span: step.span,
                    help: Some(String::from(
                        "read `changes_since` once the step started (after it, or inside it)",
                    )),
                }
                .into());
            };
            let before = mark
                .iter()
                .find(|(server, _)| *server == name)
                .map_or(0, |(_, revision)| *revision);
            let after = context
                .snapshot()
                .server(&name)
                .map_or(0, |server| server.config_revision);
            Value::Number(after.saturating_sub(before))
        }
        ("count", [list]) => {
            let servers = expect_servers(eval(list, context)?, list.span)?;
            Value::Number(servers.len() as u64)
        }
        (name, _) => {
            return Err(EvalError::new(
                format!("unknown function `{name}` (or wrong number of arguments)"),
                span,
            )
            .into())
        }
    })
}

fn binary<E: From<EvalError>>(
    op: BinaryOp,
    lhs: &ast::Expr,
    rhs: &ast::Expr,
    context: &mut dyn EvalContext<Error = E>,
    span: Span,
) -> Result<Value, E> {
    // `and`/`or` short-circuit so a guard can protect the right side.
    match op {
        BinaryOp::And => {
            let left = expect_bool(eval(lhs, context)?, lhs.span)?;
            return Ok(Value::Bool(
                left && expect_bool(eval(rhs, context)?, rhs.span)?,
            ));
        }
        BinaryOp::Or => {
            let left = expect_bool(eval(lhs, context)?, lhs.span)?;
            return Ok(Value::Bool(
                left || expect_bool(eval(rhs, context)?, rhs.span)?,
            ));
        }
        _ => {}
    }
    let left = eval(lhs, context)?;
    let right = eval(rhs, context)?;
    Ok(match op {
        BinaryOp::Eq | BinaryOp::Ne => {
            let equal = values_equal(&left, &right).ok_or_else(|| {
                EvalError::new(
                    format!(
                        "cannot compare a {} with a {}",
                        left.type_name(),
                        right.type_name()
                    ),
                    span,
                )
            })?;
            Value::Bool(equal == (op == BinaryOp::Eq))
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let ordering = match (&left, &right) {
                (Value::Number(a), Value::Number(b)) => a.cmp(b),
                (Value::Version(a), Value::Version(b)) => a.cmp(b),
                (Value::Duration(a), Value::Duration(b)) => a.cmp(b),
                _ => {
                    return Err(EvalError::new(
                        format!(
                            "cannot order a {} and a {}",
                            left.type_name(),
                            right.type_name()
                        ),
                        span,
                    )
                    .into())
                }
            };
            Value::Bool(match op {
                BinaryOp::Lt => ordering.is_lt(),
                BinaryOp::Le => ordering.is_le(),
                BinaryOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        BinaryOp::In => {
            let list = expect_servers(right, rhs.span)?;
            match left {
                Value::Server(name) => Value::Bool(list.contains(&name)),
                other => {
                    return Err(EvalError::new(
                        format!("`in` tests a server, not a {}", other.type_name()),
                        lhs.span,
                    )
                    .into())
                }
            }
        }
        BinaryOp::Without => {
            let list = expect_servers(left, lhs.span)?;
            let removed = expect_servers(right, rhs.span)?;
            Value::Servers(
                list.into_iter()
                    .filter(|name| !removed.contains(name))
                    .collect(),
            )
        }
        BinaryOp::And | BinaryOp::Or => Value::Bool(false),
    })
}

fn values_equal(left: &Value, right: &Value) -> Option<bool> {
    Some(match (left, right) {
        (Value::Server(a), Value::String(b)) | (Value::String(b), Value::Server(a)) => a == b,
        (Value::Version(a), Value::String(b)) | (Value::String(b), Value::Version(a)) => {
            b.parse::<Version>().is_ok_and(|b| *a == b)
        }
        _ if std::mem::discriminant(left) == std::mem::discriminant(right) => left == right,
        _ => return None,
    })
}

/// The value as a `bool`, or a type error at `span`.
pub fn expect_bool(value: Value, span: Span) -> Result<bool, EvalError> {
    match value {
        Value::Bool(value) => Ok(value),
        other => Err(EvalError::new(
            format!("expected a bool, found a {}", other.type_name()),
            span,
        )),
    }
}

/// The value as a list of servers (a single server is a list of one).
pub fn expect_servers(value: Value, span: Span) -> Result<Vec<String>, EvalError> {
    match value {
        Value::Servers(names) => Ok(names),
        Value::Server(name) => Ok(vec![name]),
        other => Err(EvalError::new(
            format!("expected a list of servers, found a {}", other.type_name()),
            span,
        )),
    }
}

/// Parses a `--set NAME=VALUE` text as a value of `ty`.
pub fn parse_param(ty: ast::ParamType, text: &str) -> Result<Value, String> {
    use ast::ParamType;
    let text = text.trim();
    match ty {
        ParamType::String => Ok(Value::String(text.to_string())),
        ParamType::Number => text
            .parse()
            .map(Value::Number)
            .map_err(|_| format!("`{text}` is not a number")),
        ParamType::Bool => match text {
            "true" | "yes" => Ok(Value::Bool(true)),
            "false" | "no" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not `true` or `false`")),
        },
        ParamType::Duration => parse_duration(text).map(Value::Duration).ok_or_else(|| {
            format!(
                "`{text}` is not a duration like {}",
                crate::domain::duration::EXAMPLES
            )
        }),
        ParamType::Version => text.parse().map(Value::Version),
        ParamType::Server => Ok(Value::Server(text.to_string())),
        ParamType::ServerList => Ok(Value::Servers(
            text.trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
        )),
    }
}

/// Parses a duration as the language writes it (`500ms`, `5m`, `1h30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    crate::domain::duration::parse(text).ok()
}

/// Why the evaluated arguments of an operation call make no operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationArgError {
    /// What is wrong, in words.
    pub message: String,
    /// A short label for the source excerpt.
    pub label: &'static str,
    /// Where.
    pub span: Span,
}

/// Builds the [`Operation`] of `call` (whose name named `kind` when the
/// program was lowered) from its arguments' values, in the order of
/// `call.args`: the one mapping from the language's operation calls to the
/// cluster's operations.
pub fn build_operation(
    call: &ast::OperationCall,
    kind: Option<OperationKind>,
    values: Vec<Value>,
) -> Result<Operation, OperationArgError> {
    let fail = |message: String, label: &'static str, span: Span| OperationArgError {
        message,
        label,
        span,
    };
    let mut server = None;
    let mut version = None;
    let mut force = false;
    for (arg, value) in call.args.iter().zip(values) {
        let wrong = |expected: &str, value: &Value| {
            fail(
                format!(
                    "`{}` must be a {expected}, not a {}",
                    arg.name.name,
                    value.type_name()
                ),
                "wrong argument",
                arg.span,
            )
        };
        match (arg.name.name.as_str(), value) {
            ("server", Value::Server(name) | Value::String(name)) => server = Some(name),
            ("version", Value::Version(value)) => version = Some(value),
            ("version", Value::String(text)) => {
                version = Some(
                    text.parse()
                        .map_err(|reason: String| fail(reason, "not a version", arg.span))?,
                )
            }
            ("force", Value::Bool(flag)) => force = flag,
            ("server", value) => return Err(wrong("server", &value)),
            ("version", value) => return Err(wrong("version", &value)),
            ("force", value) => return Err(wrong("bool", &value)),
            (other, _) => {
                return Err(fail(
                    format!("`{}` takes no argument `{other}`", call.name.name),
                    "unknown argument",
                    arg.span,
                ))
            }
        }
    }
    let Some(server) = server else {
        return Err(fail(
            format!("`{}` needs `server: ...`", call.name.name),
            "missing server",
            call.span,
        ));
    };
    let Some(kind) = kind else {
        return Err(fail(
            format!("unknown operation `{}`", call.name.name),
            "unknown operation",
            call.name.span,
        ));
    };
    if kind.needs_version() && version.is_none() {
        return Err(fail(
            String::from("`upgrade` needs `version: ...`"),
            "missing version",
            call.span,
        ));
    }
    kind.build(server, force, version).ok_or_else(|| {
        fail(
            String::from("`upgrade` needs `version: ...`"),
            "missing version",
            call.span,
        )
    })
}
