//! Rendering diagnostics: miette's graphical reports for people (plain when
//! `NO_COLOR` is set or stdout is not a terminal), JSON objects for tools.

use std::io::IsTerminal;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

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
    // A diagnostic without a source label names its file in its message.
    let report = sources.report(file, diagnostic);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{report}\n");
    }
    out
}
