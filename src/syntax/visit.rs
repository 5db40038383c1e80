//! Walks over the statements and expressions of a file, for the code that
//! looks at every node of a kind: the lint rules, and `run` for the prompt
//! ids a runbook can ask.

use crate::syntax::ast::{Block, Expr, ExprKind, File, Stmt, StmtKind, TriggerKind, WhatIf};

/// Where a statement sits.
#[derive(Debug, Clone, Copy, Default)]
pub struct StmtPlace<'a> {
    /// The What-if whose body holds it, if any.
    pub what_if: Option<&'a WhatIf>,
}

/// Calls `visit` on every statement of the body and of every What-if, outer first.
pub fn for_each_stmt<'a>(file: &'a File, mut visit: impl FnMut(&'a Stmt, StmtPlace<'a>)) {
    walk_stmts(&file.body, StmtPlace::default(), &mut visit);
    for what_if in &file.what_ifs {
        walk_stmts(
            &what_if.body.stmts,
            StmtPlace {
                what_if: Some(what_if),
            },
            &mut visit,
        );
    }
}

fn walk_stmts<'a>(
    stmts: &'a [Stmt],
    place: StmtPlace<'a>,
    visit: &mut impl FnMut(&'a Stmt, StmtPlace<'a>),
) {
    for stmt in stmts {
        visit(stmt, place);
        for block in child_blocks(stmt) {
            walk_stmts(&block.stmts, place, visit);
        }
    }
}

/// The blocks directly inside a statement.
pub fn child_blocks(stmt: &Stmt) -> Vec<&Block> {
    match &stmt.kind {
        StmtKind::Step(step) => vec![&step.body],
        StmtKind::If(if_stmt) => if_stmt
            .branches
            .iter()
            .map(|branch| &branch.body)
            .chain(&if_stmt.otherwise)
            .collect(),
        StmtKind::For { body, .. } => vec![body],
        StmtKind::Choose(choose) => choose.options.iter().map(|option| &option.body).collect(),
        _ => Vec::new(),
    }
}

/// The expressions written directly in a statement (not in nested blocks).
pub fn stmt_exprs(stmt: &Stmt) -> Vec<&Expr> {
    match &stmt.kind {
        StmtKind::Let { value, .. } => vec![value],
        StmtKind::Step(step) => step
            .window
            .iter()
            .map(|window| &window.duration)
            .chain(&step.discards_changes_on)
            .collect(),
        StmtKind::Operation(call) => call.args.iter().map(|arg| &arg.value).collect(),
        StmtKind::Call(call) => call.args.iter().map(|arg| &arg.value).collect(),
        StmtKind::Check { condition, message } => {
            std::iter::once(condition).chain(message.exprs()).collect()
        }
        StmtKind::Note { text: message }
        | StmtKind::Warning { text: message }
        | StmtKind::Stop { message }
        | StmtKind::Pause { message }
        | StmtKind::Fail { message } => message.exprs().collect(),
        StmtKind::Wait {
            condition,
            timeout,
            every,
        } => std::iter::once(condition)
            .chain(timeout)
            .chain(every)
            .collect(),
        StmtKind::If(if_stmt) => if_stmt
            .branches
            .iter()
            .map(|branch| &branch.condition)
            .collect(),
        StmtKind::For { list, .. } => vec![list],
        StmtKind::Choose(choose) => choose
            .options
            .iter()
            .filter_map(|option| option.discards_changes_on.as_ref())
            .collect(),
        _ => Vec::new(),
    }
}

/// Calls `visit` on every expression of the file (parameter defaults,
/// requirements, goals, statements, What-if triggers), sub-expressions included.
pub fn for_each_expr<'a>(file: &'a File, mut visit: impl FnMut(&'a Expr)) {
    for param in &file.params {
        if let Some(default) = &param.default {
            walk_expr(default, &mut visit);
        }
    }
    for requirement in &file.requires {
        walk_expr(&requirement.condition, &mut visit);
        for expr in requirement.message.exprs() {
            walk_expr(expr, &mut visit);
        }
    }
    for goal in &file.goals {
        match &goal.kind {
            crate::syntax::ast::GoalKind::Healthy => {}
            crate::syntax::ast::GoalKind::Upgrade(version) => walk_expr(version, &mut visit),
            crate::syntax::ast::GoalKind::Condition { condition, message } => {
                walk_expr(condition, &mut visit);
                for expr in message.exprs() {
                    walk_expr(expr, &mut visit);
                }
            }
        }
    }
    for_each_stmt(file, |stmt, _| {
        for expr in stmt_exprs(stmt) {
            walk_expr(expr, &mut visit);
        }
    });
    for what_if in &file.what_ifs {
        for trigger in &what_if.triggers {
            if let TriggerKind::UpgradeCancelled(expr) = &trigger.kind {
                walk_expr(expr, &mut visit);
            }
        }
        if let Some(server) = &what_if.discards_changes_on {
            walk_expr(server, &mut visit);
        }
    }
}

/// Calls `visit` on `expr` and every sub-expression.
pub fn walk_expr<'a>(expr: &'a Expr, visit: &mut impl FnMut(&'a Expr)) {
    visit(expr);
    match &expr.kind {
        ExprKind::List(items) => items.iter().for_each(|item| walk_expr(item, visit)),
        ExprKind::Field { target, .. } => walk_expr(target, visit),
        ExprKind::Call { args, .. } => args.iter().for_each(|arg| walk_expr(arg, visit)),
        ExprKind::Not(inner) => walk_expr(inner, visit),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, visit);
            walk_expr(rhs, visit);
        }
        ExprKind::Quantifier { list, body, .. } => {
            walk_expr(list, visit);
            walk_expr(body, visit);
        }
        ExprKind::Select { from, .. } => walk_expr(from, visit),
        ExprKind::Bool(_)
        | ExprKind::Number(_)
        | ExprKind::String(_)
        | ExprKind::Duration(_)
        | ExprKind::Version(_)
        | ExprKind::State(_)
        | ExprKind::Var(_) => {}
    }
}
