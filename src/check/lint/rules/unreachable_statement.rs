//! RB001: statements after `stop`, `fail` or `retry`.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::{Stmt, StmtKind};
use crate::syntax::visit::{child_blocks, for_each_stmt};
use crate::syntax::Span;

declare_rule! {
    /// ## What it does
    /// Flags statements that can never run. A statement (a step included) is
    /// unreachable after a statement that always ends the run or the handler:
    /// `stop`, `fail`, `retry`, or an `if`/`else` or `choose` every branch of
    /// which ends that way.
    ///
    /// ## Why is this bad?
    /// The statements never run. A step written after a `stop` looks like
    /// part of the procedure to a reader, but the operator is never taken
    /// there: usually the `stop` was meant to be inside an `if`, or the steps
    /// after it were meant to run first.
    ///
    /// ## Example
    /// ```runbook
    /// stop "Replication restored; run the upgrade again."
    /// step 4 init-standbys "Initialize the Standby Servers" {
    ///     call init-standby(server: standby)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// step 4 init-standbys "Initialize the Standby Servers" {
    ///     call init-standby(server: standby)
    /// }
    /// stop "Replication restored; run the upgrade again."
    /// ```
    code: "RB001",
    name: "unreachable-statement",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    check_block(&context.file.body, sink);
    for_each_stmt(context.file, |stmt, _| {
        for block in child_blocks(stmt) {
            check_block(&block.stmts, sink);
        }
    });
    for what_if in &context.file.what_ifs {
        check_block(&what_if.body.stmts, sink);
    }
}

fn check_block(stmts: &[Stmt], sink: &mut Sink) {
    let Some(end) = stmts.iter().position(always_ends) else {
        return;
    };
    let (Some(first), Some(last)) = (stmts.get(end + 1), stmts.last()) else {
        return;
    };
    let ender = &stmts[end];
    sink.report(
        Span::new(first.span.start as usize, last.span.end as usize),
        "this code is never reached",
    )
    .label(format!(
        "unreachable: the {} above always ends the run",
        describe(ender)
    ))
    .help("Move these statements before it, or put the ending statement inside an `if`.");
}

fn describe(stmt: &Stmt) -> &'static str {
    match stmt.kind {
        StmtKind::Stop { .. } => "`stop`",
        StmtKind::Pause { .. } => "`pause`",
        StmtKind::Fail { .. } => "`fail`",
        StmtKind::Retry => "`retry`",
        StmtKind::If(_) => "`if` (every branch ends)",
        StmtKind::Choose(_) => "`choose` (every option ends)",
        _ => "statement",
    }
}

/// Whether running `stmt` never continues with the next statement.
pub(crate) fn always_ends(stmt: &Stmt) -> bool {
    match &stmt.kind {
        StmtKind::Stop { .. }
        | StmtKind::Pause { .. }
        | StmtKind::Fail { .. }
        | StmtKind::Retry => true,
        StmtKind::If(if_stmt) => {
            if_stmt
                .otherwise
                .as_ref()
                .is_some_and(|block| block.stmts.iter().any(always_ends))
                && if_stmt
                    .branches
                    .iter()
                    .all(|branch| branch.body.stmts.iter().any(always_ends))
        }
        StmtKind::Choose(choose) => {
            !choose.options.is_empty()
                && choose
                    .options
                    .iter()
                    .all(|option| option.body.stmts.iter().any(always_ends))
        }
        _ => false,
    }
}
