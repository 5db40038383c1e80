//! RB011: a `for` loop whose variable its body never reads.

use crate::check::lint::scope::{unused, BindingKind};
use crate::check::lint::{declare_rule, LintContext, Sink};

declare_rule! {
    /// ## What it does
    /// Flags a `for NAME in LIST` loop whose body never reads NAME. Names
    /// starting with `_` (`for _ in standbys() { ... }`) are left alone.
    ///
    /// ## Why is this bad?
    /// The body then does the same thing once per server of the list:
    /// usually it names the wrong server (`active()`, or a binding made
    /// before the loop) where the loop variable was meant, so one server
    /// is acted on several times and the others never.
    ///
    /// ## Example
    /// ```runbook
    /// let initial_active = active()
    /// let standbys = standbys()
    /// step 1 stop-standbys "Stop the Standby Servers" {
    ///     for standby in standbys {
    ///         stop-server(server: initial_active)
    ///     }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let standbys = standbys()
    /// step 1 stop-standbys "Stop the Standby Servers" {
    ///     for standby in standbys {
    ///         stop-server(server: standby)
    ///     }
    /// }
    /// ```
    code: "RB011",
    name: "unused-loop-variable",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for binding in unused(context.file, BindingKind::For) {
        sink.report(
            binding.span,
            format!("the loop variable `{}` is never used in the loop's body", binding.name),
        )
        .label("bound for each server, read nowhere")
        .help(format!(
            "Use `{}` in the body where the server of each turn is meant; if the body is meant to run once per server as it is, name the variable `_` (`for _ in ...`); remove the loop when running the body once is enough.",
            binding.name
        ));
    }
}
