//! `runbook show NAME`: the source of a shipped runbook, exactly as embedded
//! in the binary. A `lib/` procedure is shown by its path
//! (`runbook show lib/exclude-server.runbook`) or its name.

use super::stdout::out;
use crate::syntax::embedded;

/// `runbook show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The shipped runbook's name (`upgrade-with-downtime`), or a path under
    /// `runbooks/` (`lib/exclude-server.runbook`).
    pub name: String,
}

/// The source of the shipped file `name` designates: a top-level runbook's
/// name, a path under `runbooks/`, or the name of a `lib/` procedure.
pub fn shipped_source(name: &str) -> Option<&'static str> {
    let trimmed = name.trim_end_matches(".runbook");
    embedded::find(name)
        .or_else(|| embedded::find(trimmed))
        .or_else(|| {
            embedded::all()
                .into_iter()
                .find(|file| file.name == trimmed)
        })
        .map(|file| file.source)
}

/// Runs `runbook show`; returns the exit code.
pub fn show(args: ShowArgs) -> i32 {
    match shipped_source(&args.name) {
        Some(source) => {
            out!("{source}");
            0
        }
        None => {
            let names: Vec<String> = super::list::shipped_runbooks()
                .into_iter()
                .map(|runbook| runbook.name)
                .collect();
            eprintln!(
                "error[runbook::show::unknown_runbook]: no shipped runbook is called `{}`\n  help: the shipped runbooks are: {} (see `runbook list`)",
                args.name,
                names.join(", ")
            );
            2
        }
    }
}
