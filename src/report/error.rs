//! Why a report cannot be made: the journal is missing or unreadable, or
//! it is not a runbook journal (a line that is no record, no run header).

use miette::{NamedSource, SourceSpan};

/// An error of `runbook report`; the command exits 2 on every one.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReportError {
    /// The file cannot be read.
    #[error("cannot read the journal `{path}`: {reason}")]
    #[diagnostic(
        code(runbook::report::unreadable),
        help("give the journal a run wrote (`runs/…jsonl`, or the file given with `--journal`)")
    )]
    Unreadable {
        /// The journal's path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not a runbook journal.
    #[error("`{path}` is not a runbook journal: {reason}")]
    #[diagnostic(
        code(runbook::report::not_a_journal),
        help("a journal is JSON Lines whose first record is `run_started` (`runbook schema journal`); only its last line may be incomplete")
    )]
    NotAJournal {
        /// The journal's path.
        path: String,
        /// What is wrong.
        reason: String,
        /// The journal's text.
        #[source_code]
        source_code: Option<NamedSource<String>>,
        /// The line at fault.
        #[label("here")]
        span: Option<SourceSpan>,
    },
    /// The report cannot be written to `-o FILE`.
    #[error("cannot write the report to `{path}`: {reason}")]
    #[diagnostic(
        code(runbook::report::output),
        help("choose a file in a folder that exists and can be written, or leave out `-o` to print the report")
    )]
    Output {
        /// The output path.
        path: String,
        /// Why.
        reason: String,
    },
}
