//! RB107: an "as soon as possible" step without a `within` time window.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::{Step, StmtKind};

/// The phrases that mark a step as urgent, lowercase.
const URGENT_PHRASES: [&str; 3] = ["as soon as possible", "asap", "immediately after"];

declare_rule! {
    /// ## What it does
    /// Flags an "as soon as possible" step without a time window. It fires
    /// on a step whose title, doc comment, `note` or `warning` says "as
    /// soon as possible" (or "ASAP", "immediately after") but that has no
    /// `within DURATION after STEP` clause.
    ///
    /// ## Why is this bad?
    /// "As soon as possible" in the procedure bounds a dangerous state: in
    /// the no-downtime upgrade, two servers are Active between the forced
    /// activation and the demotion of the Initial Active (invariant 2 of the
    /// HA model). Without a time window nobody is told when that state has
    /// lasted too long; with one the run emits
    /// `runbook::run::window_exceeded` and the verifier can check the bound.
    ///
    /// ## Example
    /// ```runbook
    /// step 5 demote-initial-active "As soon as possible, force the Initial Active to Standby" {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// step 5 demote-initial-active "As soon as possible, force the Initial Active to Standby"
    ///     within 5m after force-final-active
    /// {
    ///     set-standby(server: initial_active, force: true)
    /// }
    /// ```
    code: "RB107",
    name: "urgent-step-without-time-window",
    severity: Warning,
    domain: true,
    check: check,
}

fn says_urgent(text: &str) -> bool {
    let lower = text.to_lowercase();
    URGENT_PHRASES.iter().any(|phrase| {
        lower.match_indices(phrase).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + phrase.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

fn step_says_urgent(step: &Step, docs: Option<&str>) -> bool {
    says_urgent(&step.title.value)
        || docs.is_some_and(says_urgent)
        || step.body.stmts.iter().any(|stmt| match &stmt.kind {
            StmtKind::Note { text } | StmtKind::Warning { text } => says_urgent(&text.text.value),
            _ => false,
        })
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    crate::syntax::visit::for_each_stmt(context.file, |stmt, _| {
        let StmtKind::Step(step) = &stmt.kind else {
            return;
        };
        let docs = stmt.docs.as_ref().map(|doc| doc.text.as_str());
        if step.window.is_none() && step_says_urgent(step, docs) {
            sink.report(
                step.id.span,
                format!(
                    "step `{}` must happen as soon as possible but has no time window",
                    step.id.name
                ),
            )
            .label("urgent, with no `within` clause")
            .help(
                "Add `within DURATION after STEP_ID` so the run warns when the window is exceeded.",
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::says_urgent;

    #[test]
    fn phrases_match_whole_words_only() {
        assert!(says_urgent("As soon as possible, force it"));
        assert!(says_urgent("do it ASAP."));
        assert!(!says_urgent("wasap"));
    }
}
