//! RB101: the Active is upgraded while a Standby may still replicate (invariant 3).

use crate::check::lint::model_verdict::{help_line, upgrade_beside_replicating_standby};
use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::cluster::Operation;

declare_rule! {
    /// ## What it does
    /// Flags an upgrade of the Active while a Standby may still replicate.
    /// It fires on an `upgrade` of a server known to be the Active at that point
    /// (bound to `active()`, or checked `is_active`, and not demoted since)
    /// when, on some path to it, the Standby servers are not all known to be
    /// stopped or excluded from replication. A Standby counts as stopped or
    /// excluded after `stop-server`/`exclude` (or `call exclude-server`) on
    /// every element of `standbys()`, after `restore-backup`, or after a
    /// `check all standby in standbys(): not standby.running or standby.excluded`.
    ///
    /// ## Why is this bad?
    /// Invariant 3 of the HA model: the Active is not upgraded while a Standby
    /// is running and still declared in replication. The procedure's What-if
    /// "the Standby Servers remain running and are not excluded while the
    /// Active Server is being upgraded" describes the result: errors in
    /// monitoring, a Standby replicating from a server that changes version
    /// under it, and a Standby that may activate itself.
    ///
    /// ## Example
    /// ```runbook
    /// let active = active()
    /// step 2 upgrade-active "Upgrade the Active Server" {
    ///     stop-server(server: active)
    ///     upgrade(server: active, version: version)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let active = active()
    /// step 1 stop-servers "Stop all Management Servers" {
    ///     for standby in standbys() {
    ///         stop-server(server: standby)
    ///     }
    ///     stop-server(server: active)
    /// }
    /// step 2 upgrade-active "Upgrade the Active Server" {
    ///     upgrade(server: active, version: version)
    /// }
    /// ```
    code: "RB101",
    name: "active-upgraded-while-standbys-replicate",
    severity: Error,
    domain: true,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for visit in &context.flow().operations {
        let Operation::Upgrade { server, .. } = &visit.operation else {
            continue;
        };
        if !visit.before.is_active() || visit.group.standbys_detached {
            continue;
        }
        let diagnostic = sink.report(
            visit.span,
            format!("the Active `{server}` is upgraded while the Standby servers may still be running and declared in replication"),
        );
        diagnostic.label(match &visit.via_procedure {
            Some(procedure) => {
                format!("upgrades the Active (in `{procedure}`) with Standbys possibly replicating")
            }
            None => "upgrades the Active with Standbys possibly replicating".to_owned(),
        });
        if let Some(reattached) = visit.group.reattached_at {
            diagnostic.related(
                reattached,
                "a Standby may run and replicate again after this",
            );
        }
        diagnostic.help(format!(
            "Before this, stop or exclude every Standby (`for standby in standbys() {{ stop-server(server: standby) }}`), or `check all standby in standbys(): not standby.running or standby.excluded`.{}",
            help_line(upgrade_beside_replicating_standby(server, "a Standby"))
        ));
    }
}
