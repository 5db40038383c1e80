//! RB003: a `wait until` without `timeout`.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::StmtKind;
use crate::syntax::visit::for_each_stmt;

declare_rule! {
    /// ## What it does
    /// Flags a `wait until` that has no `timeout`.
    ///
    /// ## Why is this bad?
    /// A condition that never holds (a Standby that never reaches `STB_REP`,
    /// a server that never comes back) makes the run wait forever: the
    /// operator sees a spinner, no diagnostic, and no path to the What-if
    /// that would handle the failure. With a timeout the step fails with a
    /// diagnostic pointing at the `wait`.
    ///
    /// ## Example
    /// ```runbook
    /// wait until standby.state == STB_REP every 15s
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// wait until standby.state == STB_REP timeout 30m every 15s
    /// ```
    code: "RB003",
    name: "wait-without-timeout",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for_each_stmt(context.file, |stmt, _| {
        if let StmtKind::Wait { timeout: None, .. } = &stmt.kind {
            sink.report(stmt.span, "this `wait` has no timeout: it may wait forever")
                .label("waits with no time limit")
                .help("Add `timeout DURATION`, e.g. `timeout 30m`, so the step fails instead of hanging.");
        }
    });
}
