//! `runbook show RUNBOOK`: the source of a shipped runbook, exactly as
//! embedded in the binary. A `lib/` procedure is shown by its path
//! (`runbook show lib/exclude-server.runbook`, `lib/exclude-server`) or its
//! name; a path to a file on disk shows that file, like every other
//! command that takes a RUNBOOK.

use super::stdout::out;
use crate::syntax::embedded;

/// `runbook show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The shipped runbook's name (`upgrade-with-downtime`), a path under
    /// `runbooks/` (`lib/exclude-server.runbook`, `lib/exclude-server`), or
    /// the path of a `.runbook` file.
    #[arg(add = super::completions::runbooks())]
    pub name: String,
}

/// The source of the shipped file `name` designates: a top-level runbook's
/// name, a path under `runbooks/`, or the name of a `lib/` procedure.
pub fn shipped_source(name: &str) -> Option<&'static str> {
    let trimmed = name.trim_end_matches(".runbook");
    embedded::find(name)
        .or_else(|| embedded::find(trimmed))
        .or_else(|| embedded::find(&format!("{trimmed}.runbook")))
        .or_else(|| {
            embedded::all()
                .into_iter()
                .find(|file| file.name == trimmed)
        })
        .map(|file| file.source)
}

/// Runs `runbook show`; returns the exit code.
pub fn show(args: ShowArgs) -> i32 {
    let path = std::path::Path::new(&args.name);
    if path.exists() {
        // A folder, a pipe or a device is named as such, never opened.
        let read = if path.is_file() {
            std::fs::read(path)
        } else {
            crate::syntax::read_runbook_file(path)
        };
        return match read {
            Ok(bytes) => {
                out!("{}", String::from_utf8_lossy(&bytes));
                0
            }
            Err(error) => {
                eprintln!(
                    "{:?}",
                    miette::miette!(
                        code = "runbook::run::unreadable",
                        help = "check the path and its permissions",
                        "cannot read `{}`: {error}",
                        path.display()
                    )
                );
                2
            }
        };
    }
    match shipped_source(&args.name) {
        Some(source) => {
            out!("{source}");
            0
        }
        None => {
            eprintln!(
                "{:?}",
                miette::Report::new(embedded::UnknownRunbook::new(&args.name))
            );
            2
        }
    }
}
