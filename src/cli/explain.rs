//! `runbook explain CODE`: the documentation of a diagnostic code — a lint
//! rule by code or name (from its doc comment), or any `runbook::…` code
//! (from the catalogue, with or without the `runbook::` prefix). `--list`
//! lists every code.

use super::stdout::out;
use crate::check::catalogue;
use crate::check::lint::{docs, registry};

/// The code `runbook explain` reports an unknown code with.
pub const UNKNOWN_CODE: &str = "runbook::explain::unknown_code";

/// `runbook explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// A lint code (`RB003`), a rule name (`wait-without-timeout`) or a
    /// `runbook::…` code (`runbook::syntax::unexpected`, or `syntax::unexpected`).
    #[arg(required_unless_present = "list")]
    #[arg(add = super::completions::codes())]
    pub code: Option<String>,
    /// List every code: the lint rules, then the `runbook::…` codes by phase.
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

/// The text `runbook explain` prints for `code`, if the code is known.
pub fn explanation(code: &str) -> Option<String> {
    if let Some(rule) = registry::rule(code.trim()) {
        return Some(docs::explain(rule));
    }
    catalogue::entry(code).map(catalogue::docs::explain)
}

/// Runs `runbook explain`; returns the exit code.
pub fn explain(args: ExplainArgs) -> i32 {
    if args.list {
        out!("{}", catalogue::docs::list());
        return 0;
    }
    let code = args.code.unwrap_or_default();
    match explanation(&code) {
        Some(text) => {
            out!("{text}");
            0
        }
        None => {
            eprintln!(
                "{:?}",
                miette::miette!(
                    code = UNKNOWN_CODE,
                    help = catalogue::suggestion_help(&code),
                    "unknown code `{code}`"
                )
            );
            2
        }
    }
}
