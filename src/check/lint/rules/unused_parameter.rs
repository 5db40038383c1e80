//! RB002: a parameter that nothing reads.

use crate::check::lint::scope::{unused, BindingKind};
use crate::check::lint::{declare_rule, LintContext, Sink};

declare_rule! {
    /// ## What it does
    /// Flags a `param` that no expression of the file reads. Parameters whose
    /// name starts with `_` are left alone.
    ///
    /// ## Why is this bad?
    /// The operator (or the caller of a procedure) sets a value that changes
    /// nothing: `--set max_wait=2h` is accepted and ignored, which is worse
    /// than an error. Often the parameter was meant to be used and a literal
    /// was written instead.
    ///
    /// ## Example
    /// ```runbook
    /// param max_wait: duration = 30m
    /// wait until healthy() timeout 30m
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// param max_wait: duration = 30m
    /// wait until healthy() timeout max_wait
    /// ```
    code: "RB002",
    name: "unused-parameter",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    for binding in unused(context.file, BindingKind::Param) {
        sink.report(
            binding.span,
            format!("the parameter `{}` is never used", binding.name),
        )
        .label("declared here, read nowhere")
        .help(format!(
            "Use `{}` where its value matters, or remove the parameter (prefix it with `_` to keep it unused).",
            binding.name
        ));
    }
}
