//! `runbook check [PATH...] [--format human|json|sarif]`: parse, resolve and
//! lint every runbook under the given paths and report every finding.
//! Exit code: 0 when there is no error (warnings alone exit 0), 1 when there
//! is one, 2 when a path cannot be read.

use super::stdout::{out, outln};
use std::path::PathBuf;

use crate::check::project::check_paths;
use crate::check::report::{render_human, render_json, render_sarif};

use super::render;

/// `runbook check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories recursively, `*.runbook`);
    /// a shipped runbook's name also works. Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
}

/// How `check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Graphical reports with source excerpts, then a summary line.
    Human,
    /// A JSON array of diagnostics on stdout.
    Json,
    /// A SARIF 2.1.0 log on stdout, for code-scanning tools.
    Sarif,
}

/// Runs `runbook check`; returns the exit code.
pub fn check(args: CheckArgs) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let report = check_paths(&paths);
    match args.format {
        CheckFormat::Human => {
            out!("{}", render_human(&report, &render::handler()));
            for (path, reason) in &report.unreadable {
                eprintln!(
                    "{:?}",
                    miette::miette!(
                        code = crate::check::report::UNREADABLE,
                        help = crate::check::report::unreadable_help(path),
                        "cannot read `{path}`: {reason}"
                    )
                );
            }
            outln!("{}", report.summary_line());
        }
        CheckFormat::Json | CheckFormat::Sarif => {
            let json = if args.format == CheckFormat::Json {
                serde_json::to_string_pretty(&render_json(&report))
            } else {
                serde_json::to_string_pretty(&render_sarif(&report))
            };
            match json {
                Ok(json) => outln!("{json}"),
                Err(error) => {
                    eprintln!("error: cannot write JSON: {error}");
                    return 2;
                }
            }
        }
    }
    report.exit_code()
}
