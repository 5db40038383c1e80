//! `runbook list`: the shipped runbooks embedded in the binary — name,
//! title, one-line summary. Sub-procedures under `lib/` are not listed:
//! they are called by the runbooks, not run on their own.

use super::stdout::outln;
use crate::syntax::ast::FileKind;
use crate::syntax::{embedded, parse};

/// `runbook list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

/// How `list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// A table: name, title, summary.
    Human,
    /// A JSON array of `{"name", "title", "summary", "schema_version"}`.
    Json,
}

/// One shipped runbook as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ListedRunbook {
    /// The name a RUNBOOK argument takes (`upgrade-with-downtime`).
    pub name: String,
    /// Its `title`.
    pub title: String,
    /// Its `summary` (empty when it has none).
    pub summary: String,
    /// The version of `list --format json`'s shape (`runbook schema list`),
    /// on every entry: the document is an array.
    pub schema_version: crate::schema::SchemaVersion,
}

/// The shipped runbooks (top-level `runbook` files, not `lib/` procedures),
/// sorted by name. A shipped file that does not parse is skipped: the
/// test suite checks that every one does.
pub fn shipped_runbooks() -> Vec<ListedRunbook> {
    let mut listed: Vec<ListedRunbook> = embedded::shipped()
        .into_iter()
        .filter_map(|file| {
            let ast = parse(file.source).ok()?;
            (ast.kind == FileKind::Runbook).then(|| ListedRunbook {
                name: file.name.to_owned(),
                title: ast.title.map(|title| title.value).unwrap_or_default(),
                summary: ast.summary.map(|summary| summary.value).unwrap_or_default(),
                schema_version: crate::schema::SchemaVersion::CURRENT,
            })
        })
        .collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    listed
}

/// Runs `runbook list`; returns the exit code.
pub fn list(args: ListArgs) -> i32 {
    let listed = shipped_runbooks();
    match args.format {
        ListFormat::Json => match serde_json::to_string_pretty(&listed) {
            Ok(text) => outln!("{text}"),
            Err(error) => {
                eprintln!("error: cannot encode the list as JSON: {error}");
                return 1;
            }
        },
        ListFormat::Human => {
            let width = listed
                .iter()
                .map(|runbook| runbook.name.chars().count())
                .max()
                .unwrap_or(0);
            for runbook in &listed {
                outln!("{:<width$}  {}", runbook.name, runbook.title);
                if !runbook.summary.is_empty() {
                    outln!("{:<width$}  {}", "", runbook.summary);
                }
            }
            outln!();
            outln!("Run one with `runbook run NAME`; read it with `runbook show NAME`.");
        }
    }
    0
}
