//! RB004: a prompt, option, note or message with empty text.

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::{Expr, ExprKind, StmtKind, StringLit};
use crate::syntax::visit::for_each_stmt;

declare_rule! {
    /// ## What it does
    /// Flags empty text shown to the operator. Text made only of blanks is
    /// empty too. This covers the question of a `confirm`, `choose`, `record`
    /// or `select`, the label of an `option`, a `note` or `warning`, and the
    /// message of a `check`, `stop` or `fail`.
    ///
    /// ## Why is this bad?
    /// The operator is asked to confirm or choose without being told what;
    /// a failed `check` or a `stop` gives no reason and no way forward. The
    /// journal and the answers file keep only the prompt id, which says
    /// little about what was agreed to.
    ///
    /// ## Example
    /// ```runbook
    /// confirm verify-client ""
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// confirm verify-client "Start the Management Client and verify that everything works."
    /// ```
    code: "RB004",
    name: "empty-prompt-text",
    severity: Error,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    let mut report = |text: &StringLit, what: &str| {
        if text.value.trim().is_empty() {
            sink.report(text.span, format!("the {what} is empty"))
                .label("empty text")
                .help("Write what the operator must know or decide here.");
        }
    };
    for_each_stmt(context.file, |stmt, _| match &stmt.kind {
        StmtKind::Confirm { text, .. } => report(text, "text of this `confirm`"),
        StmtKind::Record { text, .. } => report(text, "text of this `record`"),
        StmtKind::Choose(choose) => {
            report(&choose.text, "text of this `choose`");
            for option in &choose.options {
                report(&option.label, "label of this option");
            }
        }
        StmtKind::Note { text } => report(&text.text, "text of this `note`"),
        StmtKind::Warning { text } => report(&text.text, "text of this `warning`"),
        StmtKind::Check { message, .. } => report(&message.text, "message of this `check`"),
        StmtKind::Stop { message } => report(&message.text, "message of this `stop`"),
        StmtKind::Pause { message } => report(&message.text, "message of this `pause`"),
        StmtKind::Fail { message } => report(&message.text, "message of this `fail`"),
        StmtKind::Let { value, .. } => {
            if let Some(text) = select_text(value) {
                report(text, "text of this `select`");
            }
        }
        _ => {}
    });
}

fn select_text(expr: &Expr) -> Option<&StringLit> {
    match &expr.kind {
        ExprKind::Select { text, .. } => Some(text),
        _ => None,
    }
}
