//! RB005: two steps (or What-ifs) with the same title.

use std::collections::HashMap;

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::StringLit;
use crate::syntax::LineIndex;

declare_rule! {
    /// ## What it does
    /// Flags two steps with the same title. Titles are compared ignoring case
    /// and surrounding blanks; What-if titles are checked the same way.
    ///
    /// ## Why is this bad?
    /// The operator follows the run by step titles, and the journal and the
    /// `step_started` events show them: two steps titled "Upgrade the
    /// server" make it impossible to tell, when a run stops, which one was
    /// done. Usually one of them was copied and its title not updated.
    ///
    /// ## Example
    /// ```runbook
    /// step 2 upgrade-active "Upgrade the server" { upgrade(server: active, version: version) }
    /// step 3 upgrade-standby "Upgrade the server" { upgrade(server: standby, version: version) }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// step 2 upgrade-active "Upgrade the Active Server" { upgrade(server: active, version: version) }
    /// step 3 upgrade-standby "Upgrade the Standby Server" { upgrade(server: standby, version: version) }
    /// ```
    code: "RB005",
    name: "duplicate-step-title",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    let lines = LineIndex::new(context.source);
    let steps: Vec<&StringLit> = context
        .file
        .steps()
        .iter()
        .map(|step| &step.title)
        .collect();
    report_duplicates(&steps, "step", context.source, &lines, sink);
    let what_ifs: Vec<&StringLit> = context
        .file
        .what_ifs
        .iter()
        .map(|what_if| &what_if.title)
        .collect();
    report_duplicates(&what_ifs, "What-if", context.source, &lines, sink);
}

fn report_duplicates(
    titles: &[&StringLit],
    what: &str,
    source: &str,
    lines: &LineIndex,
    sink: &mut Sink,
) {
    let mut seen: HashMap<String, &StringLit> = HashMap::new();
    for title in titles {
        let key = title.value.trim().to_lowercase();
        if key.is_empty() {
            continue;
        }
        match seen.get(&key) {
            Some(first) => {
                let (line, _) = lines.position(source, first.span.start as usize);
                sink.report(
                    title.span,
                    format!("this {what} has the same title as the {what} of line {line}"),
                )
                .label("duplicate title")
                .help(format!("Give each {what} a title that says what it does."));
            }
            None => {
                seen.insert(key, title);
            }
        }
    }
}
