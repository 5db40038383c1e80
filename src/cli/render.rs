//! Rendering diagnostics: miette's graphical reports for people (plain when
//! `NO_COLOR` is set or stdout is not a terminal), JSON objects for tools.

use std::io::IsTerminal;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Severity};
use serde::Serialize;

use crate::syntax::{FileId, Sources};

/// The handler for human output on stdout.
pub fn handler() -> GraphicalReportHandler {
    let plain = std::env::var_os("NO_COLOR").is_some() || !std::io::stdout().is_terminal();
    let theme = if plain {
        GraphicalTheme::unicode_nocolor()
    } else {
        GraphicalTheme::unicode()
    };
    let width = if plain {
        80
    } else {
        console::Term::stdout().size().1.max(60) as usize
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// Makes every `miette::Report` printed with `{:?}` (runtime and usage
/// errors on stderr) wrap help lines between words only: a flag such as
/// `--insecure-skip-tls-verify` is never cut at one of its hyphens, so it
/// can be copied from the terminal.
pub fn install_report_hook() {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .build(),
        )
    }));
}

/// One diagnostic rendered for people, with its file's text attached.
pub fn human<D>(
    handler: &GraphicalReportHandler,
    sources: &Sources,
    file: FileId,
    diagnostic: D,
) -> String
where
    D: Diagnostic + Send + Sync + 'static,
{
    // A diagnostic without a source label (a binary or unreadable file)
    // would show no file name: its message names the file instead.
    let report = if diagnostic.labels().is_none() {
        sources.report(
            file,
            InFile {
                file: sources.get(file).name.clone(),
                inner: Box::new(diagnostic),
            },
        )
    } else {
        sources.report(file, diagnostic)
    };
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{report}\n");
    }
    out
}

/// One diagnostic as `runbook check --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// The file, as named in human output.
    pub file: String,
    /// 1-based line of the primary label (or of the offending byte).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 1-based line where the primary label ends.
    pub end_line: usize,
    /// 1-based column where the primary label ends.
    pub end_column: usize,
    /// The stable code, e.g. `runbook::syntax::unexpected`.
    pub code: String,
    /// `error`, `warning` or `advice`.
    pub severity: &'static str,
    /// The one-line message.
    pub message: String,
    /// The label texts, primary first.
    pub labels: Vec<String>,
    /// What to do, when there is advice.
    pub help: Option<String>,
}

/// A diagnostic as a JSON object; `fallback_offset` locates diagnostics
/// without a label.
pub fn json(
    sources: &Sources,
    file: FileId,
    diagnostic: &dyn Diagnostic,
    fallback_offset: usize,
) -> JsonDiagnostic {
    let source = sources.get(file);
    let mut labels: Vec<_> = diagnostic
        .labels()
        .map(|labels| labels.collect())
        .unwrap_or_default();
    labels.sort_by_key(|label| !label.primary());
    let (start, end) = labels
        .iter()
        .find(|label| label.primary())
        .or(labels.first())
        .map(|label| (label.offset(), label.offset() + label.len()))
        .unwrap_or((fallback_offset, fallback_offset));
    let (line, column) = source.line_column(start);
    let (end_line, end_column) = source.line_column(end);
    JsonDiagnostic {
        file: source.name.clone(),
        line,
        column,
        end_line,
        end_column,
        code: diagnostic
            .code()
            .map(|code| code.to_string())
            .unwrap_or_default(),
        severity: match diagnostic.severity() {
            Some(Severity::Warning) => "warning",
            Some(Severity::Advice) => "advice",
            _ => "error",
        },
        message: diagnostic.to_string(),
        labels: labels
            .iter()
            .filter_map(|label| label.label().map(str::to_string))
            .collect(),
        help: diagnostic.help().map(|help| help.to_string()),
    }
}

/// A diagnostic whose message starts with the file it is about.
#[derive(Debug)]
struct InFile {
    file: String,
    inner: Box<dyn Diagnostic + Send + Sync>,
}

impl std::fmt::Display for InFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.inner)
    }
}

impl std::error::Error for InFile {}

impl Diagnostic for InFile {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.url()
    }
}
