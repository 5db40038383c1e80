//! The [`Checker`] of one file: its state (scopes, prompt and step ids),
//! the checks of the file as a whole (the title, unique ids, parameters,
//! the body, then the What-if handlers with the bindings they see), and the
//! helpers every check uses (scopes, expected types, references to steps
//! and prompt ids). Statements, calls and expressions are checked in
//! [`super::stmt`], [`super::calls`] and [`super::expr`].

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use super::suggest::{closest, list_names};
use super::types::Type;
use crate::syntax::ast::{self, FileKind, TriggerKind};
use crate::syntax::error::ResolveError;
use crate::syntax::span::Span;

/// Records where `key` (the name of `ident`) is first defined in `seen`:
/// `true` the first time; after that, a [`ResolveError::Duplicate`] naming
/// `what` (with `help`) joins `errors` and the answer is `false`.
pub(super) fn first_definition<K: Eq + std::hash::Hash>(
    errors: &mut Vec<ResolveError>,
    seen: &mut HashMap<K, Span>,
    key: K,
    ident: &ast::Ident,
    what: &str,
    help: &str,
) -> bool {
    match seen.entry(key) {
        Entry::Occupied(first) => {
            errors.push(ResolveError::Duplicate {
                span: ident.span,
                first: *first.get(),
                what: what.into(),
                name: ident.name.clone(),
                help: help.into(),
            });
            false
        }
        Entry::Vacant(entry) => {
            entry.insert(ident.span);
            true
        }
    }
}

/// Where a statement sits, for the rules on steps and `retry`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Context {
    pub(super) in_step: bool,
    pub(super) in_what_if: bool,
    pub(super) top_level: bool,
}

/// What a name in scope stands for.
pub(super) struct Binding {
    pub(super) ty: Type,
}

/// A binding made at the top level of the body: the offset of the
/// statement that makes it, its name and its type.
type TopLevelBinding = (u32, String, Type);

/// Checks one file, given the files its `call`s can reach.
pub(super) struct Checker<'a> {
    pub(super) file: &'a ast::File,
    pub(super) callees: &'a HashMap<String, Arc<ast::File>>,
    pub(super) imports_complete: bool,
    pub(super) errors: Vec<ResolveError>,
    pub(super) scopes: Vec<HashMap<String, Binding>>,
    prompts: HashMap<String, Span>,
    steps: HashMap<String, Span>,
}

impl<'a> Checker<'a> {
    /// A checker of `file`, whose `call NAME` reaches `callees[NAME]`;
    /// `imports_complete` is false when an import is missing or does not
    /// parse (calls to unknown names are then not reported).
    pub(super) fn new(
        file: &'a ast::File,
        callees: &'a HashMap<String, Arc<ast::File>>,
        imports_complete: bool,
    ) -> Self {
        Checker {
            file,
            callees,
            imports_complete,
            errors: Vec::new(),
            scopes: Vec::new(),
            prompts: HashMap::new(),
            steps: HashMap::new(),
        }
    }
}

impl Checker<'_> {
    /// Checks the whole file; every error found.
    pub(super) fn check_file(mut self) -> Vec<ResolveError> {
        let file = self.file;
        self.declarations();
        let file_scope = self.params();
        self.scopes.push(file_scope);
        self.requirements();
        self.goals();
        self.starting_states();
        let top_level_bindings = self.body();
        for what_if in &file.what_ifs {
            self.what_if(what_if, &top_level_bindings);
        }
        self.scopes.pop();
        self.errors
    }

    /// A runbook's title, and the ids of steps and What-if handlers (each
    /// unique in the file).
    fn declarations(&mut self) {
        let file = self.file;
        if file.kind == FileKind::Runbook && file.title.is_none() {
            self.errors.push(ResolveError::MissingTitle {
                span: file.name.span,
                name: file.name.name.clone(),
            });
        }
        for step in file.steps() {
            first_definition(
                &mut self.errors,
                &mut self.steps,
                step.id.name.clone(),
                &step.id,
                "step id",
                "step ids must be unique in a file: journals and `during` refer to them",
            );
        }
        let mut what_ifs: HashMap<&str, Span> = HashMap::new();
        for what_if in &file.what_ifs {
            first_definition(
                &mut self.errors,
                &mut what_ifs,
                &what_if.id.name,
                &what_if.id,
                "What-if id",
                "rename one of the handlers",
            );
        }
    }

    /// `requires EXPR else "MESSAGE"`: a `bool` on the cluster and the
    /// parameters, which asks nothing.
    fn requirements(&mut self) {
        let file = self.file;
        for requirement in &file.requires {
            let found = self.expr(&requirement.condition);
            self.expect(
                &requirement.condition,
                &found,
                &Type::Bool,
                "`requires` needs a condition",
            );
            for expr in requirement.message.exprs() {
                self.expr(expr);
            }
            for expr in std::iter::once(&requirement.condition).chain(requirement.message.exprs()) {
                crate::syntax::visit::walk_expr(expr, &mut |inner| {
                    if let ast::ExprKind::Select { .. } = inner.kind {
                        self.errors
                            .push(ResolveError::SelectInRequires { span: inner.span });
                    }
                });
            }
        }
    }

    /// `goal ...`: a version to upgrade to, or a `bool` condition on the
    /// cluster and the parameters that asks nothing; only in a runbook.
    fn goals(&mut self) {
        let file = self.file;
        for goal in &file.goals {
            if file.kind == FileKind::Procedure {
                self.errors.push(ResolveError::RunDeclarationInProcedure {
                    what: "goal".into(),
                    span: goal.span,
                });
            }
            let exprs: Vec<&ast::Expr> = match &goal.kind {
                ast::GoalKind::Healthy => Vec::new(),
                ast::GoalKind::Upgrade(version) => {
                    let found = self.expr(version);
                    self.expect(
                        version,
                        &found,
                        &Type::Version,
                        "`goal upgrade to` needs a version",
                    );
                    vec![version]
                }
                ast::GoalKind::Condition { condition, message } => {
                    let found = self.expr(condition);
                    self.expect(condition, &found, &Type::Bool, "`goal` needs a condition");
                    for expr in message.exprs() {
                        self.expr(expr);
                    }
                    std::iter::once(condition).chain(message.exprs()).collect()
                }
            };
            for expr in exprs {
                crate::syntax::visit::walk_expr(expr, &mut |inner| {
                    if let ast::ExprKind::Select { .. } = inner.kind {
                        self.errors
                            .push(ResolveError::SelectInGoal { span: inner.span });
                    }
                });
            }
        }
    }

    /// `from STATE, ...`: names of starting states, only in a runbook.
    fn starting_states(&mut self) {
        let file = self.file;
        for state in file.from.iter().flat_map(|from| &from.states) {
            if file.kind == FileKind::Procedure {
                self.errors.push(ResolveError::RunDeclarationInProcedure {
                    what: "from".into(),
                    span: state.span,
                });
            }
            if crate::domain::StartingState::from_name(&state.name).is_none() {
                let names: Vec<&str> = crate::domain::StartingState::ALL
                    .iter()
                    .map(|known| known.name())
                    .collect();
                let closest = names
                    .iter()
                    .map(|known| (strsim::jaro_winkler(known, &state.name), *known))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, known)| format!("did you mean `{known}`? "))
                    .unwrap_or_default();
                self.errors.push(ResolveError::UnknownStartingState {
                    name: state.name.clone(),
                    span: state.span,
                    help: format!("{closest}the starting states are {}", names.join(", ")),
                });
            }
        }
    }

    /// The parameters (their defaults have the declared type): the file
    /// scope.
    fn params(&mut self) -> HashMap<String, Binding> {
        let file = self.file;
        let mut file_scope = HashMap::new();
        let mut param_spans: HashMap<&str, Span> = HashMap::new();
        for param in &file.params {
            let ty = Type::of_param(param.ty);
            if let Some(default) = &param.default {
                self.scopes.push(HashMap::new());
                let found = self.expr(default);
                self.scopes.pop();
                self.expect(
                    default,
                    &found,
                    &ty,
                    "a parameter's default must have the declared type",
                );
            }
            if !first_definition(
                &mut self.errors,
                &mut param_spans,
                &param.name.name,
                &param.name,
                "parameter",
                "rename or remove one of them",
            ) {
                continue;
            }
            file_scope.insert(param.name.name.clone(), Binding { ty });
        }
        file_scope
    }

    /// The body; the top-level bindings and where they are made.
    fn body(&mut self) -> Vec<TopLevelBinding> {
        let file = self.file;
        let context = Context {
            top_level: true,
            ..Context::default()
        };
        self.scopes.push(HashMap::new());
        let mut top_level_bindings: Vec<TopLevelBinding> = Vec::new();
        for stmt in &file.body {
            self.stmt(stmt, context);
            if let Some(scope) = self.scopes.last() {
                for (name, binding) in scope {
                    if !top_level_bindings.iter().any(|(_, bound, _)| bound == name) {
                        top_level_bindings.push((
                            stmt.span.start,
                            name.clone(),
                            binding.ty.clone(),
                        ));
                    }
                }
            }
        }
        self.scopes.pop();
        top_level_bindings
    }

    /// A What-if handler: it sees the parameters and the top-level bindings
    /// written before it.
    fn what_if(&mut self, what_if: &ast::WhatIf, top_level_bindings: &[TopLevelBinding]) {
        for trigger in &what_if.triggers {
            match &trigger.kind {
                TriggerKind::Failed(step) => self.step_ref(step),
                TriggerKind::UpgradeCancelled(server) => {
                    self.scopes
                        .push(bindings_before(top_level_bindings, what_if.span.start));
                    let found = self.expr(server);
                    self.scopes.pop();
                    self.expect(
                        server,
                        &found,
                        &Type::Server,
                        "`upgrade-cancelled` watches one server",
                    );
                }
                _ => {}
            }
        }
        for step in &what_if.during {
            self.step_ref(step);
        }
        self.scopes
            .push(bindings_before(top_level_bindings, what_if.span.start));
        if let Some(server) = &what_if.discards_changes_on {
            self.discards_clause(server);
        }
        self.block(
            &what_if.body,
            Context {
                in_what_if: true,
                ..Context::default()
            },
        );
        self.scopes.pop();
    }

    /// `discards changes on EXPR` (on a step, an option or a What-if): EXPR
    /// is a server or a list of servers.
    pub(super) fn discards_clause(&mut self, server: &ast::Expr) {
        let found = self.expr(server);
        if found.is_list() {
            self.expect(
                server,
                &found,
                &Type::server_list(),
                "`discards changes on` names the servers whose changes are lost",
            );
        } else {
            self.expect(
                server,
                &found,
                &Type::Server,
                "`discards changes on` names the server (or the list of servers) whose changes are lost",
            );
        }
    }

    pub(super) fn step_ref(&mut self, step: &ast::Ident) {
        if !self.steps.contains_key(&step.name) {
            let help = match closest(&step.name, self.steps.keys().map(String::as_str)) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if self.steps.is_empty() => "this file has no steps".to_string(),
                None => {
                    let mut ids: Vec<&str> = self.steps.keys().map(String::as_str).collect();
                    ids.sort_unstable();
                    format!("the steps of this file are: {}", list_names(ids))
                }
            };
            self.errors.push(ResolveError::UndefinedStep {
                span: step.span,
                name: step.name.clone(),
                help,
            });
        }
    }

    pub(super) fn prompt(&mut self, id: &ast::Ident) {
        first_definition(
            &mut self.errors,
            &mut self.prompts,
            id.name.clone(),
            id,
            "prompt id",
            "prompt ids must be unique in a file: answers files refer to them",
        );
    }

    pub(super) fn bind(&mut self, name: &str, ty: Type) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), Binding { ty });
        }
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    pub(super) fn expect(&mut self, expr: &ast::Expr, found: &Type, expected: &Type, why: &str) {
        self.expect_with(expr, found, expected, || why.to_string());
    }

    /// [`Checker::expect`] with the explanation built only on a mismatch.
    pub(super) fn expect_with(
        &mut self,
        expr: &ast::Expr,
        found: &Type,
        expected: &Type,
        why: impl FnOnce() -> String,
    ) {
        if !found.fits(expected) {
            self.errors.push(ResolveError::TypeMismatch {
                span: expr.span,
                expected: expected.describe(),
                found: found.describe(),
                help: why(),
            });
        }
    }
}

/// The scope of the top-level bindings made before `start`.
fn bindings_before(top_level_bindings: &[TopLevelBinding], start: u32) -> HashMap<String, Binding> {
    top_level_bindings
        .iter()
        .filter(|(bound_at, _, _)| *bound_at < start)
        .map(|(_, name, ty)| (name.clone(), Binding { ty: ty.clone() }))
        .collect()
}
