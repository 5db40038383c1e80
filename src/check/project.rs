//! `runbook check` as a library function: find the runbooks under the given
//! paths, parse and resolve each (imports included), lint the ones that
//! resolve with the `runbook.toml` that applies, and collect every finding
//! in one [`CheckReport`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::lint::config::{self, LoadedConfig};
use super::lint::{lint, LintConfig, LintDiagnostic};
use super::report::{CheckReport, Finding};
use crate::syntax::ast::File;
use crate::syntax::Program;
use crate::syntax::{embedded, FileId, Origin, Workspace};

/// Appends the `*.runbook` files under `dir` to `files`, sorted, skipping
/// `target/` and hidden directories; a folder that cannot be read is
/// appended to `unreadable` with the reason. Shared by `check`, `fmt` and
/// `graph`, so that they all see the same set of files.
pub fn find_runbooks(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    unreadable: &mut Vec<(PathBuf, String)>,
) {
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
                find_runbooks(&path, files, unreadable);
            }
        } else if path.extension().and_then(|ext| ext.to_str()) == Some("runbook") {
            files.push(path);
        }
    }
}

/// Lints the root of a resolved program with `config`, following calls into
/// every file the program reaches.
pub fn lint_program(program: &Program, config: &LintConfig) -> Vec<LintDiagnostic> {
    let root = program.main_file();
    let procedures: HashMap<String, &File> = program
        .files
        .iter()
        .map(|file| (file.ast.name.name.clone(), file.ast.as_ref()))
        .collect();
    lint(&root.ast, &root.text, &procedures, config)
}

/// Configurations by file, loaded once each.
#[derive(Default)]
struct Configs {
    loaded: HashMap<PathBuf, Option<LoadedConfig>>,
}

impl Configs {
    fn for_path(&mut self, path: &Path, report: &mut CheckReport) -> LintConfig {
        let Some(config_path) = config::find_config(path) else {
            return LintConfig::default();
        };
        let entry =
            self.loaded.entry(config_path.clone()).or_insert_with(|| {
                match config::load_for(path) {
                    Ok(loaded) => loaded,
                    Err(error) => {
                        report
                            .unreadable
                            .push((config_path.display().to_string(), error.to_string()));
                        None
                    }
                }
            });
        match entry {
            Some(loaded) => {
                report.add_config(loaded);
                loaded.config.clone()
            }
            None => LintConfig::default(),
        }
    }
}

/// Checks every runbook under `paths` (files, directories searched
/// recursively, or names of shipped runbooks).
pub fn check_paths(paths: &[PathBuf]) -> CheckReport {
    let mut report = CheckReport::default();
    let mut workspace = Workspace::default();
    let mut roots: Vec<FileId> = Vec::new();
    for path in paths {
        let mut files = Vec::new();
        if path.is_dir() {
            // Imports may come from anywhere under a folder given to check.
            workspace.allow_root(path);
            let mut unreadable = Vec::new();
            find_runbooks(path, &mut files, &mut unreadable);
            report.unreadable.extend(
                unreadable
                    .into_iter()
                    .map(|(path, reason)| (path.display().to_string(), reason)),
            );
        } else if path.exists() {
            files.push(path.clone());
        } else if let Some(shipped) = path.to_str().and_then(embedded::find) {
            match workspace.load_origin(Origin::Embedded(shipped.path.to_string())) {
                Ok(id) => roots.push(id),
                Err(error) => report
                    .unreadable
                    .push((path.display().to_string(), error.to_string())),
            }
            continue;
        } else {
            report.unreadable.push((
                path.display().to_string(),
                "no such file or directory, nor a shipped runbook".to_owned(),
            ));
            continue;
        }
        for file in files {
            match workspace.load_path(&file) {
                Ok(id) => roots.push(id),
                Err(error) => report
                    .unreadable
                    .push((file.display().to_string(), error.to_string())),
            }
        }
    }
    roots.dedup();

    let mut configs = Configs::default();
    for root in roots {
        let checked = workspace.check(root);
        let root_file = workspace.sources.get(root).clone();
        report.files_checked += 1;
        report.add_findings(root_file.name.clone(), root_file.text.clone(), Vec::new());
        for error in &checked.errors {
            let file = workspace.sources.get(error.file);
            report.add_findings(
                file.name.clone(),
                file.text.clone(),
                vec![Finding::from_diagnostic(&error.error)],
            );
        }
        let Some(program) = checked.program else {
            continue;
        };
        let config = match &root_file.origin {
            Origin::Path(path) => configs.for_path(path, &mut report),
            Origin::Embedded(_) | Origin::Memory => LintConfig::default(),
        };
        let findings = lint_program(&program, &config)
            .into_iter()
            .map(Finding::from)
            .collect();
        report.add_findings(
            root_file.name.clone(),
            Arc::clone(&root_file.text),
            findings,
        );
    }
    report
}
