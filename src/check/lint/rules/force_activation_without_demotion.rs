//! RB103: a force activation leaves the previous Active Active (two Actives).

use crate::check::lint::model_verdict::{force_activation_beside_active, help_line};
use crate::check::lint::{declare_rule, LintContext, Sink};

declare_rule! {
    /// ## What it does
    /// Flags a force activation that leaves two Actives. It fires on a
    /// `force-activate` (or a `call` that performs one) while another
    /// server is known to be Active and running, when some path from there to
    /// the end of the run (or of the What-if) never sets that other server to
    /// Standby, stops it for good, or checks that only one server is Active.
    /// A stop is not a demotion: an `upgrade` (the installer starts the
    /// server again in its role) or a `start-server` after it runs the
    /// other server again as Active, as the cluster model has it.
    ///
    /// ## Why is this bad?
    /// Force activation declares a server Active without the switch wizard:
    /// the previous Active stays Active. Two Actives is a split brain; the
    /// product then puts every server in Standby and never chooses the right
    /// one (invariants 1 and 2 of the HA model). The no-downtime procedure
    /// demotes the Initial Active "as soon as possible" right after.
    ///
    /// ## Example
    /// ```runbook
    /// let initial_active = active()
    /// step 4 force-final-active "Force the activation of the upgraded server" {
    ///     force-activate(server: final_active)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let initial_active = active()
    /// step 4 force-final-active "Force the activation of the upgraded server" {
    ///     force-activate(server: final_active)
    /// }
    /// step 5 demote-initial-active "As soon as possible, set the Initial Active to Standby"
    ///     within 5m after force-final-active
    ///     discards changes on initial_active
    /// {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    code: "RB103",
    name: "force-activation-without-demotion",
    severity: Error,
    domain: true,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    let mut reported = Vec::new();
    for finding in &context.flow().undemoted_actives {
        let key = (finding.force_activation, finding.other_active.clone());
        if reported.contains(&key) {
            continue;
        }
        reported.push(key);
        let diagnostic = sink.report(
            finding.force_activation,
            format!(
                "after this force activation `{}` is still Active on some path to the end: two Actives are left",
                finding.other_active
            ),
        )
        .label(format!("`{}` is never set to Standby after this", finding.other_active))
        .related(finding.path_end, format!("this path ends with `{}` still Active", finding.other_active));
        if let Some(restarted) = finding.restarted_at {
            diagnostic.related(
                restarted,
                format!(
                    "stopping it did not demote it: this runs `{}` again in its role, Active",
                    finding.other_active
                ),
            );
        }
        diagnostic.help(format!(
            "Set the other Active to Standby afterwards (`set-standby(server: {}, force: true)`), or stop it before forcing the activation.{}",
            finding.other_active,
            help_line(force_activation_beside_active(&finding.other_active, &finding.forced))
        ));
    }
}
