//! `runbook report JOURNAL [--format html|markdown] [-o FILE]`: the report
//! of a run for the change record, from its journal. Without `--format`, a
//! file ending in `.md`/`.markdown` gets Markdown, any other file HTML, and
//! standard output Markdown.

use std::path::PathBuf;

use super::stdout::out;
use crate::report::{self, Format, ReportError};

/// `runbook report`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::REPORT)]
pub struct ReportArgs {
    /// The run's journal (`runs/…jsonl`, or the file given to `--journal`).
    pub journal: PathBuf,
    /// Output format (default: Markdown on standard output, HTML in a file
    /// unless its name ends in `.md` or `.markdown`).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Writes the report; returns the exit code (2 when the journal cannot be
/// read or the report cannot be written).
pub fn report(args: ReportArgs) -> i32 {
    match make(&args) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            2
        }
    }
}

#[allow(clippy::result_large_err)] // built once, when the command fails
fn make(args: &ReportArgs) -> Result<(), ReportError> {
    let run = report::read(&args.journal)?;
    let format = args
        .format
        .unwrap_or_else(|| Format::for_output(args.output.as_deref()));
    let text = match format {
        Format::Html => report::html::render(&run),
        Format::Markdown => report::markdown::render(&run),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|error| ReportError::Output {
            path: path.display().to_string(),
            reason: error.to_string(),
        }),
        None => {
            out!("{text}");
            Ok(())
        }
    }
}
