//! Loading a RUNBOOK argument (a path, or the name of a shipped runbook)
//! into the [`Program`] the interpreter runs, through the syntax phase's
//! resolver: every file parsed, every name and type checked, imports found.

use std::path::Path;

use super::program::Program;
use crate::syntax::{self, FileId, Origin, Workspace};

/// Why a runbook could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    /// The diagnostics, with their source attached, ready to print.
    pub reports: Vec<miette::Report>,
    /// `true` when a file could not be read (exit 2), `false` when it has errors (exit 1).
    pub unreadable: bool,
}

impl LoadError {
    fn unreadable(message: String) -> Self {
        Self {
            reports: vec![miette::miette!(
                code = "runbook::run::unreadable",
                help = "give a path to a `.runbook` file or the name of a shipped runbook (`runbook list`)",
                "{message}"
            )],
            unreadable: true,
        }
    }

    /// The first diagnostic's message.
    pub fn message(&self) -> String {
        self.reports
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

/// Loads `reference`: a path to an existing file, else a shipped runbook's name.
pub fn load_runbook(reference: &str) -> Result<Program, LoadError> {
    let mut workspace = Workspace::default();
    let root = workspace.load_runbook(reference).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound && !Path::new(reference).exists() {
            LoadError {
                reports: vec![miette::Report::new(
                    crate::syntax::embedded::UnknownRunbook::new(reference),
                )],
                unreadable: true,
            }
        } else {
            LoadError::unreadable(format!("cannot read `{reference}`: {error}"))
        }
    })?;
    // Journals name the runbook so that `resume` finds it from any folder.
    let recorded = match &workspace.sources.get(root).origin {
        Origin::Path(path) => std::fs::canonicalize(path)
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| reference.to_string()),
        _ => reference.to_string(),
    };
    finish(&mut workspace, root, &recorded)
}

/// Loads the runbook at `path`; `reference` is what the journal records.
pub fn load_path(path: &Path, reference: &str) -> Result<Program, LoadError> {
    let mut workspace = Workspace::default();
    let root = workspace.load_path(path).map_err(|error| {
        LoadError::unreadable(format!("cannot read {}: {error}", path.display()))
    })?;
    finish(&mut workspace, root, reference)
}

/// Loads a runbook given as text (tests, benchmarks); imports resolve to
/// the shipped runbooks.
pub fn load_text(name: &str, text: &str) -> Result<Program, LoadError> {
    let (mut workspace, _) = syntax::check_source(name, "");
    let root = workspace.add_source(name, text);
    finish(&mut workspace, root, name)
}

fn finish(workspace: &mut Workspace, root: FileId, reference: &str) -> Result<Program, LoadError> {
    let checked = workspace.check(root);
    let Some(resolved) = checked.program else {
        return Err(LoadError {
            reports: checked
                .errors
                .into_iter()
                .map(|located| workspace.sources.report(located.file, located.error))
                .collect(),
            unreadable: false,
        });
    };
    let mut program = resolved;
    program.reference = reference.to_string();
    Ok(program)
}
