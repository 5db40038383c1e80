//! `runbook graph RUNBOOK [--format mermaid|dot]`: the flow graph of a
//! runbook (a path or a shipped runbook's name) on stdout.

use super::stdout::out;
use crate::graph::Format;
use crate::syntax::{Located, Workspace};

use super::render;

/// `runbook graph`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::GRAPH)]
pub struct GraphArgs {
    /// A runbook file, or the name of a shipped runbook (`runbook list`).
    #[arg(add = super::completions::runbooks())]
    pub runbook: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
}

/// Prints the graph; returns the exit code (1 when the file does not parse,
/// 2 when it cannot be read).
pub fn graph(args: GraphArgs) -> i32 {
    let mut workspace = Workspace::default();
    let id = match workspace.load_runbook(&args.runbook) {
        Ok(id) => id,
        Err(error) if !std::path::Path::new(&args.runbook).exists() => {
            let _ = error;
            eprintln!(
                "{:?}",
                miette::Report::new(crate::syntax::embedded::UnknownRunbook::new(&args.runbook))
            );
            return 2;
        }
        Err(error) => {
            eprintln!(
                "{:?}",
                miette::miette!(
                    code = "runbook::run::unreadable",
                    help = "give a path to a `.runbook` file or the name of a shipped runbook (`runbook list`)",
                    "cannot read `{}`: {error}",
                    args.runbook
                )
            );
            return 2;
        }
    };
    let Some(file) = workspace.ast(id).cloned() else {
        // Only the parse errors matter: a graph is drawn from the syntax alone.
        let handler = render::handler();
        let errors: Vec<Located> = workspace
            .check(id)
            .errors
            .into_iter()
            .filter(|error| error.file == id)
            .collect();
        for error in errors {
            eprint!(
                "{}",
                render::human(&handler, &workspace.sources, error.file, error.error)
            );
        }
        return 1;
    };
    let source = workspace.sources.get(id).text.clone();
    out!("{}", crate::graph::render(&file, &source, args.format));
    0
}
