//! RB008: a `choose` with no `default` option.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::StmtKind;
use crate::syntax::visit::for_each_stmt;

declare_rule! {
    /// ## What it does
    /// Flags a `choose` none of whose options is marked `default`.
    ///
    /// ## Why is this bad?
    /// `runbook run --yes` answers every prompt without asking, and takes the
    /// `default` option of a `choose`. Without one, an unattended run (a
    /// rehearsal in CI, `runbook verify`'s default path) stops at this prompt
    /// and needs an answers file.
    ///
    /// ## Example
    /// ```runbook
    /// choose standby-handling "Stop the Standby Servers or exclude them?" {
    ///     option stop "Stop them" { stop-server(server: standby) }
    ///     option exclude "Exclude them" { exclude(server: standby) }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// choose standby-handling "Stop the Standby Servers or exclude them?" {
    ///     option stop "Stop them" default { stop-server(server: standby) }
    ///     option exclude "Exclude them" { exclude(server: standby) }
    /// }
    /// ```
    code: "RB008",
    name: "choose-without-default",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for_each_stmt(context.file, |stmt, _| {
        if let StmtKind::Choose(choose) = &stmt.kind {
            if !choose.options.iter().any(|option| option.is_default) {
                sink.report(
                    choose.id.span,
                    format!("`choose {}` has no default option", choose.id.name),
                )
                .label("no option is marked `default`")
                .help("Mark the safest option `default` so `--yes` can answer this prompt.");
            }
        }
    });
}
