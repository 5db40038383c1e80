//! Helpers shared by the lint tests: lint a file as `runbook check` does and
//! render its findings with the fixed theme and width of the snapshots.

use std::path::Path;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::check::lint::{LintConfig, LintDiagnostic};
use runbook::check::project::lint_program;
use runbook::check::report::{render_human, CheckReport, Finding};
use runbook::syntax::Workspace;

/// The handler every snapshot uses.
pub fn handler() -> GraphicalReportHandler {
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false)
}

/// Parses, resolves and lints the file at `path` with `config`, as
/// `runbook check` does.
pub fn lint_path(path: &Path, config: &LintConfig) -> (String, Vec<LintDiagnostic>) {
    let mut workspace = Workspace::default();
    let id = workspace.load_path(path).expect("fixture is readable");
    let checked = workspace.check(id);
    let Some(program) = checked.program else {
        panic!("{} does not resolve: {:?}", path.display(), checked.errors);
    };
    let text = program.main_file().text.to_string();
    (text, lint_program(&program, config))
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
