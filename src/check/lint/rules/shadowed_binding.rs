//! RB006: a binding that hides another of the same name.

use crate::check::lint::scope::bindings;
use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::LineIndex;

declare_rule! {
    /// ## What it does
    /// Flags a binding that hides another of the same name. This covers a
    /// `let`, `for` variable, quantifier variable or recorded answer whose
    /// name is already bound in an enclosing scope (a parameter, an earlier
    /// `let`, an outer loop).
    ///
    /// ## Why is this bad?
    /// After the new binding, the name means another server than a few lines
    /// above. In a runbook that is how an operation lands on the wrong
    /// server: `for active in standbys()` makes every later `active` in the
    /// loop a Standby.
    ///
    /// ## Example
    /// ```runbook
    /// let active = active()
    /// for active in standbys() {
    ///     stop-server(server: active)
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// let active = active()
    /// for standby in standbys() {
    ///     stop-server(server: standby)
    /// }
    /// ```
    code: "RB006",
    name: "shadowed-binding",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    let all = bindings(context.file);
    let lines = LineIndex::new(context.source);
    for binding in &all {
        let Some(outer) = binding.shadows.and_then(|index| all.get(index)) else {
            continue;
        };
        let (line, _) = lines.position(context.source, outer.span.start as usize);
        sink.report(
            binding.span,
            format!(
                "this {} `{}` shadows the {} `{}` of line {line}",
                binding.kind.describe(),
                binding.name,
                outer.kind.describe(),
                outer.name
            ),
        )
        .label("hides an outer binding of the same name")
        .help("Give it a name of its own so every use names the server you mean.");
    }
}
