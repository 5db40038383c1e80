//! RB106: a step discards administrator changes without `discards changes on`.

use crate::check::lint::model_verdict::{demotion_discarding_changes, help_line};
use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::cluster::Operation;

declare_rule! {
    /// ## What it does
    /// Flags a step that discards administrator changes without warning the
    /// operator. It fires on a forced `set-standby(server: S, force: true)` of a server known
    /// to be Active, in a step without a `discards changes on S` clause,
    /// neither on the step nor on an enclosing `choose` option (a clause
    /// naming another server does not count), when
    /// another server was force-activated earlier on some path or is known
    /// to be Active too. Operations in What-if bodies are left to
    /// `runbook verify` (property `changes_discarded_unreported`), where a
    /// clause on the What-if header or on a `choose` option in it counts too.
    ///
    /// ## Why is this bad?
    /// Once another server is Active, demoting S throws away every
    /// configuration change administrators made on S since the run started
    /// (the no-downtime procedure warns that they "will be lost"). Invariant
    /// 5 of the HA model: nothing is lost silently. With
    /// `discards changes on S` the run counts the changes, shows the count
    /// and asks for confirmation when it is not zero.
    ///
    /// ## Example
    /// ```runbook
    /// step 5 demote-initial-active "As soon as possible, set the Initial Active to Standby"
    ///     within 5m after force-final-active
    /// {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// step 5 demote-initial-active "As soon as possible, set the Initial Active to Standby"
    ///     within 5m after force-final-active
    ///     discards changes on initial_active
    /// {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    code: "RB106",
    name: "changes-discarded-without-warning",
    severity: Error,
    domain: true,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for visit in &context.flow().operations {
        let Operation::SetStandby {
            server,
            force: true,
        } = &visit.operation
        else {
            continue;
        };
        let Some(step) = &visit.step else {
            continue;
        };
        if visit.what_if.is_some() || !visit.before.is_active() {
            continue;
        }
        let warned = |named: &Option<String>| named.as_ref().is_none_or(|named| named == server);
        if visit.discards_changes_on.iter().any(warned) {
            continue;
        }
        let warned_about: Vec<String> = visit
            .discards_changes_on
            .iter()
            .flatten()
            .map(|named| format!("`{named}`"))
            .collect();
        let cause = match (&visit.other_active, visit.force_activated_before) {
            (Some(other), _) => format!("`{other}` is Active too"),
            (None, true) => "another server was force-activated".to_owned(),
            (None, false) => continue,
        };
        let label = if warned_about.is_empty() {
            "discards administrator changes silently".to_owned()
        } else {
            format!(
                "`discards changes on` names {}, not `{server}`",
                warned_about.join(", ")
            )
        };
        let place = match &visit.option {
            Some((choose, option)) => {
                format!("option `{option}` of `{choose}` (or to step `{step}`)")
            }
            None => format!("step `{step}`"),
        };
        sink.report(
            visit.span,
            format!("forcing the Active `{server}` to Standby discards the changes made on it, and {cause}"),
        )
        .label(label)
        .help(format!(
            "Add `discards changes on {server}` to {place} so the run counts the changes and asks before discarding them.{}",
            help_line(demotion_discarding_changes(
                server,
                visit.other_active.as_deref().unwrap_or("the force-activated server")
            ))
        ));
    }
}
