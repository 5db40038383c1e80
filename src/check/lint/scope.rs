//! Name bindings of one file, resolved lexically: what each `let`, `for`,
//! quantifier, `record` and parameter binds, whether it is used, and which
//! outer binding it shadows. Shared by the rules about names.

use crate::syntax::ast::{Block, Expr, ExprKind, File, Stmt, StmtKind, TriggerKind};
use crate::syntax::Span;

/// What introduced a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingKind {
    /// `param NAME: TYPE`
    Param,
    /// `let NAME = ...`
    Let,
    /// `for NAME in ...`
    For,
    /// `all NAME in ...:` / `any NAME in ...:`
    Quantifier,
    /// `record ID "..."` (the id with `-` read as `_`)
    Record,
}

impl BindingKind {
    /// How a message names it.
    pub fn describe(self) -> &'static str {
        match self {
            BindingKind::Param => "parameter",
            BindingKind::Let => "binding",
            BindingKind::For => "loop variable",
            BindingKind::Quantifier => "quantifier variable",
            BindingKind::Record => "recorded answer",
        }
    }
}

/// One binding.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The bound name.
    pub name: String,
    /// What introduced it.
    pub kind: BindingKind,
    /// Where the name is written.
    pub span: Span,
    /// Whether some expression refers to it.
    pub used: bool,
    /// The binding of the same name it hides, if any (index into the list).
    pub shadows: Option<usize>,
}

/// Every binding of a file, in the order they are met.
pub fn bindings(file: &File) -> Vec<Binding> {
    let mut resolver = Resolver::default();
    for param in &file.params {
        if let Some(default) = &param.default {
            resolver.expr(default);
        }
        resolver.bind(&param.name.name, BindingKind::Param, param.name.span);
    }
    resolver.stmts(&file.body);
    // What-if bodies see the parameters and the top-level bindings.
    for what_if in &file.what_ifs {
        for trigger in &what_if.triggers {
            if let TriggerKind::UpgradeCancelled(expr) = &trigger.kind {
                resolver.expr(expr);
            }
        }
        if let Some(server) = &what_if.discards_changes_on {
            resolver.expr(server);
        }
        resolver.block(&what_if.body);
    }
    resolver.bindings
}

/// The bindings of `kind` that nothing reads, in the order they are met;
/// a name starting with `_` says it is meant to be unused and is left out.
pub fn unused(file: &File, kind: BindingKind) -> impl Iterator<Item = Binding> {
    bindings(file).into_iter().filter(move |binding| {
        binding.kind == kind && !binding.used && !binding.name.starts_with('_')
    })
}

#[derive(Default)]
struct Resolver {
    bindings: Vec<Binding>,
    /// Indices of the bindings in scope, innermost last.
    scope: Vec<usize>,
}

impl Resolver {
    fn bind(&mut self, name: &str, kind: BindingKind, span: Span) {
        let shadows = self
            .scope
            .iter()
            .rev()
            .copied()
            .find(|index| self.bindings[*index].name == name);
        self.bindings.push(Binding {
            name: name.to_owned(),
            kind,
            span,
            used: false,
            shadows,
        });
        self.scope.push(self.bindings.len() - 1);
    }

    fn use_name(&mut self, name: &str) {
        if let Some(index) = self
            .scope
            .iter()
            .rev()
            .copied()
            .find(|index| self.bindings[*index].name == name)
        {
            self.bindings[index].used = true;
        }
    }

    fn block(&mut self, block: &Block) {
        let depth = self.scope.len();
        self.stmts(&block.stmts);
        self.scope.truncate(depth);
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                self.expr(value);
                self.bind(&name.name, BindingKind::Let, name.span);
            }
            StmtKind::Record { id, .. } => {
                self.bind(&id.name.replace('-', "_"), BindingKind::Record, id.span);
            }
            StmtKind::Step(step) => {
                if let Some(window) = &step.window {
                    self.expr(&window.duration);
                }
                if let Some(server) = &step.discards_changes_on {
                    self.expr(server);
                }
                self.block(&step.body);
            }
            StmtKind::Operation(call) => call.args.iter().for_each(|arg| self.expr(&arg.value)),
            StmtKind::Call(call) => call.args.iter().for_each(|arg| self.expr(&arg.value)),
            StmtKind::Choose(choose) => {
                for option in &choose.options {
                    if let Some(server) = &option.discards_changes_on {
                        self.expr(server);
                    }
                    self.block(&option.body);
                }
            }
            StmtKind::Check { condition, message } => {
                self.expr(condition);
                message.exprs().for_each(|expr| self.expr(expr));
            }
            StmtKind::Note { text: message }
            | StmtKind::Warning { text: message }
            | StmtKind::Stop { message }
            | StmtKind::Pause { message }
            | StmtKind::Fail { message } => message.exprs().for_each(|expr| self.expr(expr)),
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => {
                self.expr(condition);
                timeout.iter().chain(every).for_each(|expr| self.expr(expr));
            }
            StmtKind::If(if_stmt) => {
                for branch in &if_stmt.branches {
                    self.expr(&branch.condition);
                    self.block(&branch.body);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    self.block(otherwise);
                }
            }
            StmtKind::For { var, list, body } => {
                self.expr(list);
                let depth = self.scope.len();
                self.bind(&var.name, BindingKind::For, var.span);
                self.block(body);
                self.scope.truncate(depth);
            }
            StmtKind::Confirm { .. } | StmtKind::Retry => {}
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Var(ident) => self.use_name(&ident.name),
            ExprKind::List(items) => items.iter().for_each(|item| self.expr(item)),
            ExprKind::Field { target, .. } => self.expr(target),
            ExprKind::Call { args, .. } => args.iter().for_each(|arg| self.expr(arg)),
            ExprKind::Not(inner) => self.expr(inner),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Quantifier {
                var, list, body, ..
            } => {
                self.expr(list);
                let depth = self.scope.len();
                self.bind(&var.name, BindingKind::Quantifier, var.span);
                self.expr(body);
                self.scope.truncate(depth);
            }
            ExprKind::Select { from, .. } => self.expr(from),
            ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Duration(_)
            | ExprKind::Version(_)
            | ExprKind::State(_) => {}
        }
    }
}
