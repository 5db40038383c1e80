//! RB009: a `let` whose value nothing reads.

use crate::check::lint::scope::{unused, BindingKind};
use crate::check::lint::{declare_rule, LintContext, Sink};

declare_rule! {
    /// ## What it does
    /// Flags a `let` binding that no expression reads. Names starting with
    /// `_` are left alone.
    ///
    /// ## Why is this bad?
    /// A role read from the cluster (`let initial_active = active()`) or a
    /// server picked by the operator (`select`) that is never used usually
    /// means a later statement names the wrong server, e.g. `active()` read
    /// again after the roles changed instead of the server bound at the start.
    /// An unused `select` also asks the operator a question for nothing.
    ///
    /// ## Example
    /// ```runbook
    /// let initial_active = active()
    /// step demote "Set the Initial Active to Standby" {
    ///     set-standby(server: active(), force: true)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let initial_active = active()
    /// step demote "Set the Initial Active to Standby" {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    code: "RB009",
    name: "unused-binding",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for binding in unused(context.file, BindingKind::Let) {
        sink.report(
            binding.span,
            format!("`{}` is bound but never used", binding.name),
        )
        .label("bound here, read nowhere")
        .help("Use the binding, or remove it (prefix it with `_` to keep it unused).");
    }
}
