//! Statements: [`Checker::block`] (a scope of its own) and
//! [`Checker::stmt`], with one method per kind of statement that binds a
//! name, holds blocks or has rules of its place (`let`, `step`, `record`,
//! `choose`, `wait`, `if`, `for`, `retry`), and the `{EXPR}`s of messages. Calls are in [`super::calls`].

use std::collections::HashMap;

use super::checker::{first_definition, Checker, Context};
use super::types::Type;
use crate::syntax::ast::{self, FileKind, StmtKind};
use crate::syntax::error::ResolveError;
use crate::syntax::span::Span;

impl Checker<'_> {
    pub(super) fn block(&mut self, block: &ast::Block, context: Context) {
        self.scopes.push(HashMap::new());
        for stmt in &block.stmts {
            self.stmt(stmt, context);
        }
        self.scopes.pop();
    }

    pub(super) fn stmt(&mut self, stmt: &ast::Stmt, context: Context) {
        // Steps may sit in `if`/`for`/`choose` branches of the top level.
        let inner = Context {
            top_level: context.top_level && !context.in_step,
            ..context
        };
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                let ty = self.expr(value);
                self.bind(&name.name, ty);
            }
            StmtKind::Step(step) => self.step(step, context, inner),
            StmtKind::Note { text: message }
            | StmtKind::Warning { text: message }
            | StmtKind::Stop { message }
            | StmtKind::Fail { message } => self.message(message),
            StmtKind::Pause { message } => {
                if !context.in_what_if {
                    self.errors
                        .push(ResolveError::MisplacedPause { span: stmt.span });
                }
                self.message(message);
            }
            StmtKind::Operation(call) => self.operation(call),
            StmtKind::Confirm { id, .. } => self.prompt(id),
            StmtKind::Record { id, .. } => {
                self.prompt(id);
                let name = id.name.replace('-', "_");
                self.bind(&name, Type::String);
            }
            StmtKind::Choose(choose) => self.choose(choose, inner),
            StmtKind::Check { condition, message } => {
                let found = self.expr(condition);
                self.expect(condition, &found, &Type::Bool, "`check` needs a condition");
                self.message(message);
            }
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => self.wait(condition, [timeout, every]),
            StmtKind::If(if_stmt) => self.if_stmt(if_stmt, inner),
            StmtKind::For { var, list, body } => self.for_stmt(var, list, body, inner),
            StmtKind::Call(call) => self.call(call, context),
            StmtKind::Retry => {
                if !context.in_what_if {
                    self.errors
                        .push(ResolveError::MisplacedRetry { span: stmt.span });
                }
            }
        }
    }

    /// A message's `{EXPR}`s: names and fields resolved like any
    /// expression's; a value of any type can be shown.
    fn message(&mut self, message: &ast::Message) {
        for expr in message.exprs() {
            self.expr(expr);
        }
    }

    /// A step: where it may sit, its time window, its `discards changes on`
    /// clause and its body. `inner` is the context of the statements it
    /// holds, before they are marked as inside a step.
    fn step(&mut self, step: &ast::Step, context: Context, inner: Context) {
        let place = if context.in_step {
            Some("inside another step")
        } else if context.in_what_if {
            Some("inside a What-if handler")
        } else if self.file.kind == FileKind::Procedure {
            Some("in a procedure")
        } else {
            None
        };
        if let Some(place) = place {
            self.errors.push(ResolveError::MisplacedStep {
                span: step.id.span,
                place: place.to_string(),
                help: "steps sit at the top of a runbook's body (or in `if`/`for`/`choose` branches there); use a plain block of statements here".into(),
            });
        }
        if let Some(window) = &step.window {
            let found = self.expr(&window.duration);
            self.expect(
                &window.duration,
                &found,
                &Type::Duration,
                "a time window is a duration, e.g. `within 5m after STEP`",
            );
            self.step_ref(&window.after);
        }
        if let Some(server) = &step.discards_changes_on {
            self.discards_clause(server);
        }
        self.block(
            &step.body,
            Context {
                in_step: true,
                ..inner
            },
        );
    }

    /// `choose`: its prompt id, unique option names, at most one default,
    /// and each option's clause and body.
    fn choose(&mut self, choose: &ast::Choose, inner: Context) {
        self.prompt(&choose.id);
        let mut names: HashMap<&str, Span> = HashMap::new();
        let mut default: Option<Span> = None;
        for option in &choose.options {
            first_definition(
                &mut self.errors,
                &mut names,
                &option.name.name,
                &option.name,
                "option",
                "option names must be unique in a `choose`: answers refer to them",
            );
            if option.is_default {
                if let Some(first) = default {
                    self.errors.push(ResolveError::Duplicate {
                        span: option.name.span,
                        first,
                        what: "default option".into(),
                        name: option.name.name.clone(),
                        help: "`--yes` takes the default option: mark only one option `default`"
                            .into(),
                    });
                }
                default.get_or_insert(option.name.span);
            }
            if let Some(server) = &option.discards_changes_on {
                self.discards_clause(server);
            }
            self.block(&option.body, inner);
        }
    }

    /// `wait until CONDITION`, with its `timeout` and `every` durations.
    fn wait(&mut self, condition: &ast::Expr, durations: [&Option<ast::Expr>; 2]) {
        let found = self.expr(condition);
        self.expect(
            condition,
            &found,
            &Type::Bool,
            "`wait until` needs a condition",
        );
        for duration in durations.into_iter().flatten() {
            let found = self.expr(duration);
            self.expect(
                duration,
                &found,
                &Type::Duration,
                "`timeout` and `every` take a duration such as `10m`",
            );
        }
    }

    /// `if`: each branch's condition and body, then the `else` block.
    fn if_stmt(&mut self, if_stmt: &ast::If, inner: Context) {
        for branch in &if_stmt.branches {
            let found = self.expr(&branch.condition);
            self.expect(
                &branch.condition,
                &found,
                &Type::Bool,
                "`if` needs a condition",
            );
            self.block(&branch.body, inner);
        }
        if let Some(otherwise) = &if_stmt.otherwise {
            self.block(otherwise, inner);
        }
    }

    /// `for VAR in LIST { BODY }`: VAR is bound to the list's element type
    /// in a scope of its own.
    fn for_stmt(&mut self, var: &ast::Ident, list: &ast::Expr, body: &ast::Block, inner: Context) {
        let found = self.expr(list);
        self.expect(
            list,
            &found,
            &Type::server_list(),
            "`for` goes over a list of servers",
        );
        self.scopes.push(HashMap::new());
        self.bind(&var.name, found.element());
        self.block(body, inner);
        self.scopes.pop();
    }
}
