//! RB105: a runbook upgrades the Active with no What-if for the known surprises.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::cluster::Operation;
use crate::syntax::ast::{FileKind, TriggerKind, WhatIf};

declare_rule! {
    /// ## What it does
    /// Flags an upgrade of the Active with no What-if for its known
    /// surprises. In a `runbook` (not a `procedure`), it fires on the first `upgrade`
    /// of a server known to be the Active when the runbook has no What-if
    /// watching that step for `upgrade-cancelled(...)`, or none for
    /// `standby-activated` or `two-actives`.
    ///
    /// ## Why is this bad?
    /// The procedure names both surprises of an Active's upgrade: the
    /// installer can be cancelled and reverted (the Active comes back on its
    /// old version with replication broken), and a not-yet-upgraded Standby
    /// may become Active by itself, or be activated by an operator for an
    /// urgent change. Without a handler the run just fails, and the operator
    /// is left with a cluster in a state the runbook never described.
    ///
    /// ## Example
    /// ```runbook
    /// step 2 upgrade-active "Upgrade the Active Server" {
    ///     upgrade(server: active, version: version)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// step 2 upgrade-active "Upgrade the Active Server" {
    ///     upgrade(server: active, version: version)
    /// }
    /// what-if active-upgrade-cancelled "Cancel Active Server Upgrade"
    ///     when upgrade-cancelled(active) during upgrade-active
    /// {
    ///     stop "The upgrade was cancelled; restore replication, then run it again."
    /// }
    /// what-if standby-activated "A Standby Server Has Been Activated"
    ///     when standby-activated, two-actives during upgrade-active
    /// {
    ///     stop "A Standby became Active during the upgrade; recover before going on."
    /// }
    /// ```
    code: "RB105",
    name: "active-upgrade-without-what-if",
    severity: Warning,
    domain: true,
    check: check,
}

fn watches(what_if: &WhatIf, step: Option<&str>) -> bool {
    what_if.during.is_empty()
        || step.is_some_and(|step| what_if.during.iter().any(|id| id.name == step))
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    if context.file.kind != FileKind::Runbook {
        return;
    }
    let mut reported_cancel = false;
    let mut reported_activation = false;
    for visit in &context.flow().operations {
        let Operation::Upgrade { server, .. } = &visit.operation else {
            continue;
        };
        if !visit.before.is_active() || visit.what_if.is_some() {
            continue;
        }
        let step = visit.step.as_deref();
        let handles_cancel = context.file.what_ifs.iter().any(|what_if| {
            watches(what_if, step)
                && what_if
                    .triggers
                    .iter()
                    .any(|trigger| matches!(trigger.kind, TriggerKind::UpgradeCancelled(_)))
        });
        let handles_activation = context.file.what_ifs.iter().any(|what_if| {
            watches(what_if, step)
                && what_if.triggers.iter().any(|trigger| {
                    matches!(
                        trigger.kind,
                        TriggerKind::StandbyActivated | TriggerKind::TwoActives
                    )
                })
        });
        if !handles_cancel && !reported_cancel {
            reported_cancel = true;
            sink.report(
                visit.span,
                format!("the Active `{server}` is upgraded but no What-if handles a cancelled upgrade"),
            )
            .label("no `upgrade-cancelled` What-if watches this step")
            .help(format!(
                "Add `what-if ... when upgrade-cancelled({server}) during {}` that restores replication.",
                step.unwrap_or("STEP")
            ));
        }
        if !handles_activation && !reported_activation {
            reported_activation = true;
            sink.report(
                visit.span,
                format!("the Active `{server}` is upgraded but no What-if handles a Standby that became Active"),
            )
            .label("no `standby-activated`/`two-actives` What-if watches this step")
            .help(format!(
                "Add `what-if ... when standby-activated, two-actives during {}`.",
                step.unwrap_or("STEP")
            ));
        }
    }
}
