//! Helpers shared by the lint tests: lint a file as `runbook check` does and
//! render its findings with the fixed theme and width of the snapshots.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::check::imports::Callables;
use runbook::check::lint::{lint, LintConfig, LintDiagnostic};
use runbook::check::report::{render_human, CheckReport, Finding};

/// The handler every snapshot uses.
pub fn handler() -> GraphicalReportHandler {
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false)
}

/// Parses and lints the file at `path` with `config`.
pub fn lint_path(path: &Path, config: &LintConfig) -> (String, Vec<LintDiagnostic>) {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let file = match runbook::syntax::parse(&text) {
        Ok(file) => file,
        Err(errors) => panic!("{} does not parse: {errors:?}", path.display()),
    };
    let callables = Callables::load(path, &file);
    let procedures = callables.by_name();
    let findings = lint(&file, &text, &procedures, config);
    (text, findings)
}

/// The findings rendered as a user sees them, under a stable file name.
pub fn render(name: &str, text: &str, findings: &[LintDiagnostic]) -> String {
    let mut report = CheckReport::default();
    report.add_file(
        name,
        Arc::from(text),
        findings.iter().cloned().map(Finding::from).collect(),
    );
    format!(
        "{}{}\n",
        render_human(&report, &handler()),
        report.summary_line()
    )
}

/// A whole report rendered as a user sees it.
pub fn render_report(report: &CheckReport) -> String {
    format!(
        "{}{}\n",
        render_human(report, &handler()),
        report.summary_line()
    )
}
