//! Loads the files a runbook imports (transitively), so the linter can follow
//! `call`s into procedures. Unreadable or unparsable imports are skipped:
//! reporting them is the resolver's job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::syntax::ast::File;

/// Callable files by their declared name, loaded from `file`'s imports.
#[derive(Debug, Default)]
pub struct Callables {
    files: HashMap<String, File>,
}

impl Callables {
    /// Loads the imports of `file` (written at `path`) and theirs.
    pub fn load(path: &Path, file: &File) -> Self {
        let mut callables = Callables::default();
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut pending: Vec<(PathBuf, Vec<String>)> = vec![(
            path.to_path_buf(),
            file.imports
                .iter()
                .map(|import| import.path.value.clone())
                .collect(),
        )];
        while let Some((from, imports)) = pending.pop() {
            let directory = from.parent().map(Path::to_path_buf).unwrap_or_default();
            for import in imports {
                let target = directory.join(&import);
                if seen.contains(&target) {
                    continue;
                }
                seen.push(target.clone());
                let Ok(text) = std::fs::read_to_string(&target) else {
                    continue;
                };
                let Ok(imported) = crate::syntax::parse(&text) else {
                    continue;
                };
                pending.push((
                    target,
                    imported
                        .imports
                        .iter()
                        .map(|import| import.path.value.clone())
                        .collect(),
                ));
                callables
                    .files
                    .entry(imported.name.name.clone())
                    .or_insert(imported);
            }
        }
        callables
    }

    /// Adds a callable file (tests, embedded runbooks).
    pub fn insert(&mut self, file: File) {
        self.files.insert(file.name.name.clone(), file);
    }

    /// The map the linter reads: name → file.
    pub fn by_name(&self) -> HashMap<String, &File> {
        self.files
            .iter()
            .map(|(name, file)| (name.clone(), file))
            .collect()
    }
}
