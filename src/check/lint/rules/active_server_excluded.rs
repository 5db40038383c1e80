//! RB104: excluding the Active server from replication.

use crate::check::lint::model_verdict::{exclusion_of_active, help_line};
use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::cluster::Operation;

declare_rule! {
    /// ## What it does
    /// Flags the exclusion of the Active server. It fires on an `exclude` of
    /// a server known to be the Active at that point
    /// (bound to `active()`, a `select` from `actives()`, checked
    /// `is_active`, or force-activated, and not demoted since).
    ///
    /// ## Why is this bad?
    /// Exclusion is issued on the Active and removes a Standby from
    /// replication; the Active itself cannot be excluded. The product refuses
    /// with "The active Management Server X cannot be excluded from
    /// replication.", so the step fails in the middle of the procedure. The
    /// runbook most likely names the wrong server.
    ///
    /// ## Example
    /// ```runbook
    /// let active = active()
    /// step 1 exclude "Exclude the server upgraded first" {
    ///     exclude(server: active)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let final_active = select final-active "Which Standby is upgraded first?" from standbys()
    /// step 1 exclude "Exclude the server upgraded first" {
    ///     exclude(server: final_active)
    /// }
    /// ```
    code: "RB104",
    name: "active-server-excluded",
    severity: Error,
    domain: true,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for visit in &context.flow().operations {
        let Operation::Exclude { server } = &visit.operation else {
            continue;
        };
        if !visit.before.is_active() {
            continue;
        }
        sink.report(
            visit.span,
            format!("`{server}` is the Active here: the Active cannot be excluded from replication"),
        )
        .label("excludes the Active server")
        .help(format!(
            "Exclude a Standby instead; to take the Active out, set it to Standby (or switch) first.{}",
            help_line(exclusion_of_active(server, "a Standby"))
        ));
    }
}
