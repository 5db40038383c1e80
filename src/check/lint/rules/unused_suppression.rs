//! RB010: a suppression comment that suppresses nothing.

use crate::check::lint::suppression::Suppressions;
use crate::check::lint::{
    declare_rule, Level, LintConfig, LintContext, LintDiagnostic, Severity, Sink,
};

declare_rule! {
    /// ## What it does
    /// Flags a code in an `// allow(...)` comment that suppresses no finding
    /// where the comment applies. Codes of rules switched off in
    /// `runbook.toml` are left alone.
    ///
    /// ## Why is this bad?
    /// A stale suppression hides the next real finding of that rule on the
    /// same line or step: the problem it was written for was fixed (or moved),
    /// but the comment still silences the rule there. It also misleads
    /// readers into thinking something is wrong with the line.
    ///
    /// ## Example
    /// ```runbook
    /// wait until healthy() timeout 30m // allow(RB003)
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// wait until healthy() timeout 30m
    /// ```
    code: "RB010",
    name: "unused-suppression",
    severity: Warning,
    domain: false,
    check: check,
}

/// The findings come from [`findings`], which needs the suppressions the
/// other rules used: `lint` calls it after every other rule has run.
fn check(_context: &LintContext<'_>, _sink: &mut Sink) {}

/// One finding per listed code that suppressed nothing.
pub fn findings(
    suppressions: &Suppressions,
    used: &[(usize, &'static str)],
    config: &LintConfig,
    severity: Severity,
) -> Vec<LintDiagnostic> {
    let mut found = Vec::new();
    for (index, entry) in suppressions.entries().iter().enumerate() {
        for (code, span) in entry.codes.iter().zip(&entry.code_spans) {
            let enabled = matches!(config.level(code), Level::On(_));
            if !enabled || *code == RULE.code || used.contains(&(index, *code)) {
                continue;
            }
            found.push(LintDiagnostic {
                code: RULE.code,
                rule_name: Some(RULE.name),
                severity,
                message: format!("`allow({code})` suppresses nothing here"),
                span: *span,
                label: Some("no finding of this rule here".to_owned()),
                help: Some("Remove this code from the comment (or the whole comment).".to_owned()),
                related: Vec::new(),
            });
        }
    }
    found
}
