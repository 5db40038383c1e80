//! `runbook check [PATH...] [--format human|json]`: parse and resolve every
//! runbook under the given paths and report every error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::syntax::{embedded, FileId, Located, Origin, Workspace};

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
}

/// The `*.runbook` files under `dir`, sorted, skipping `target/` and hidden
/// directories.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, unreadable: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            unreadable.push((dir.to_path_buf(), error.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, files, unreadable);
            }
        } else if path.extension().and_then(|ext| ext.to_str()) == Some("runbook") {
            files.push(path);
        }
    }
}

/// Runs `runbook check`; returns the exit code.
pub fn check(args: CheckArgs) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut workspace = Workspace::default();
    let mut roots: Vec<FileId> = Vec::new();
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, &mut unreadable);
            for file in files {
                match workspace.load_path(&file) {
                    Ok(id) => roots.push(id),
                    Err(error) => unreadable.push((file, error.to_string())),
                }
            }
        } else if path.exists() {
            match workspace.load_path(path) {
                Ok(id) => roots.push(id),
                Err(error) => unreadable.push((path.clone(), error.to_string())),
            }
        } else if let Some(shipped) = path.to_str().and_then(embedded::find) {
            match workspace.load_origin(Origin::Embedded(shipped.path.to_string())) {
                Ok(id) => roots.push(id),
                Err(error) => unreadable.push((path.clone(), error.to_string())),
            }
        } else {
            unreadable.push((path.clone(), "no such file or directory".to_string()));
        }
    }

    let mut seen = HashSet::new();
    let mut errors: Vec<Located> = Vec::new();
    for root in &roots {
        for error in workspace.check(*root).errors {
            let key = (error.file, error.offset(), error.error.to_string());
            if seen.insert(key) {
                errors.push(error);
            }
        }
    }
    errors.sort_by(|a, b| {
        workspace
            .sources
            .get(a.file)
            .name
            .cmp(&workspace.sources.get(b.file).name)
            .then(a.offset().cmp(&b.offset()))
    });

    let files_with_errors: HashSet<FileId> = errors.iter().map(|error| error.file).collect();
    match args.format {
        CheckFormat::Human => {
            let handler = render::handler();
            for error in &errors {
                print!(
                    "{}",
                    render::human(
                        &handler,
                        &workspace.sources,
                        error.file,
                        error.error.clone()
                    )
                );
                println!();
            }
            for (path, reason) in &unreadable {
                eprintln!("error: cannot read `{}`: {reason}", path.display());
            }
            let checked = roots.len();
            let files = if checked == 1 { "file" } else { "files" };
            if errors.is_empty() && unreadable.is_empty() {
                println!("checked {checked} {files}: no errors");
            } else {
                let count = errors.len() + unreadable.len();
                let plural = if count == 1 { "error" } else { "errors" };
                println!(
                    "checked {checked} {files}: {count} {plural} in {} {}",
                    files_with_errors.len() + unreadable.len(),
                    if files_with_errors.len() + unreadable.len() == 1 {
                        "file"
                    } else {
                        "files"
                    }
                );
            }
        }
        CheckFormat::Json => {
            let mut diagnostics: Vec<render::JsonDiagnostic> = errors
                .iter()
                .map(|error| {
                    render::json(&workspace.sources, error.file, &error.error, error.offset())
                })
                .collect();
            diagnostics.extend(
                unreadable
                    .iter()
                    .map(|(path, reason)| render::JsonDiagnostic {
                        file: path.display().to_string(),
                        line: 1,
                        column: 1,
                        end_line: 1,
                        end_column: 1,
                        code: "runbook::io::unreadable".to_string(),
                        severity: "error",
                        message: format!("cannot read `{}`: {reason}", path.display()),
                        labels: Vec::new(),
                        help: Some("check the path and its permissions".to_string()),
                    }),
            );
            match serde_json::to_string_pretty(&diagnostics) {
                Ok(json) => println!("{json}"),
                Err(error) => {
                    eprintln!("error: cannot write JSON: {error}");
                    return 2;
                }
            }
        }
    }
    if !unreadable.is_empty() {
        2
    } else if !errors.is_empty() {
        1
    } else {
        0
    }
}
