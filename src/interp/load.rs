//! Loading a runbook and everything it imports into a [`Program`]: from a
//! path on disk, or from text (tests, benchmarks). Imports resolve relative
//! to the importing file; each file is loaded once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::program::{Program, SourceFile};
use crate::syntax;

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

/// Reads a file for the loader: `(display name, text)` or a reason.
pub type Reader<'a> = dyn Fn(&Path) -> Result<(String, String), String> + 'a;

/// Loads the runbook at `path` and its imports from disk.
pub fn load_path(path: &Path, reference: &str) -> Result<Program, LoadError> {
    let read = |path: &Path| -> Result<(String, String), String> {
        let bytes = std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
        Ok((path.display().to_string(), text))
    };
    load_with(path, reference, &read)
}

/// Loads a runbook given as text named `name`; imports are read from disk
/// relative to `name`'s folder.
pub fn load_text(name: &str, text: &str) -> Result<Program, LoadError> {
    let owned = text.to_string();
    let root = PathBuf::from(name);
    let read = |path: &Path| -> Result<(String, String), String> {
        if path == root {
            return Ok((name.to_string(), owned.clone()));
        }
        let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        Ok((path.display().to_string(), text))
    };
    load_with(&root, name, &read)
}

/// Loads `root` and its imports with `read`.
pub fn load_with(root: &Path, reference: &str, read: &Reader<'_>) -> Result<Program, LoadError> {
    let mut files: Vec<SourceFile> = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut queue = vec![root.to_path_buf()];
    let mut reports = Vec::new();
    while let Some(path) = queue.pop() {
        if paths.contains(&path) {
            continue;
        }
        let (name, text) = read(&path).map_err(LoadError::unreadable)?;
        let text: Arc<str> = Arc::from(text);
        match syntax::parse(&text) {
            Ok(ast) => {
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                for import in &ast.imports {
                    queue.push(normalize(&base.join(&import.path.value)));
                }
                paths.push(path);
                files.push(SourceFile { name, text, ast });
            }
            Err(errors) => {
                let source = miette::NamedSource::new(&name, Arc::clone(&text));
                for error in errors {
                    reports.push(miette::Report::new(error).with_source_code(source.clone()));
                }
                paths.push(path);
            }
        }
    }
    if !reports.is_empty() {
        return Err(LoadError {
            reports,
            unreadable: false,
        });
    }
    Ok(Program::new(files, 0, reference))
}

/// `a/b/../c` → `a/c`, so one file imported by two paths is loaded once.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
