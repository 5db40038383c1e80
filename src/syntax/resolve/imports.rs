//! Following imports: where an import may point (the folders of the
//! runbooks loaded, unless `--allow-outside-imports`), loading the imported
//! files depth first with cycles reported on the import that closes them,
//! the files a root reaches, and the procedure names each file can call.

use std::collections::HashMap;

use super::workspace::Workspace;
use crate::syntax::error::{Located, ResolveError};
use crate::syntax::source::{FileId, Origin};
use crate::syntax::span::Span;

impl Workspace {
    /// Why `target` may not be imported: the folder it is outside of.
    fn outside_roots(&self, target: &Origin) -> Option<String> {
        let Origin::Path(path) = target else {
            return None;
        };
        if self.imports_anywhere || self.roots.is_empty() {
            return None;
        }
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if self.roots.iter().any(|root| real.starts_with(root)) {
            None
        } else {
            Some(
                self.roots
                    .iter()
                    .map(|root| root.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            )
        }
    }

    /// Follows the imports of `id` depth first, loading what is missing and
    /// reporting cycles on the import that closes them.
    pub(super) fn load_imports(&mut self, id: FileId, stack: &mut Vec<FileId>) {
        if self
            .loaded
            .get(&id)
            .is_none_or(|loaded| loaded.imports.is_some())
        {
            return;
        }
        let Some(file) = self.ast(id).cloned() else {
            if let Some(loaded) = self.loaded.get_mut(&id) {
                loaded.imports = Some(Vec::new());
            }
            return;
        };
        stack.push(id);
        let origin = self.sources.get(id).origin.clone();
        let mut imports = Vec::new();
        for import in &file.imports {
            let path = &import.path.value;
            let located = self.loader.locate(&origin, path);
            if let Some(root) = located
                .as_ref()
                .ok()
                .and_then(|target| self.outside_roots(target))
            {
                // Never read: its content must not reach a report.
                imports.push(Err(Located::new(
                    id,
                    ResolveError::ImportOutside {
                        span: import.path.span,
                        path: path.clone(),
                        root,
                    },
                )));
                continue;
            }
            let target = located
                .and_then(|target| self.load_origin(target).map_err(|error| error.to_string()));
            let target = match target {
                Ok(target) => target,
                Err(reason) => {
                    imports.push(Err(Located::new(
                        id,
                        ResolveError::ImportNotFound {
                            span: import.path.span,
                            path: path.clone(),
                            reason,
                            help: "import paths are relative to the importing file; shipped procedures are under `lib/`".into(),
                        },
                    )));
                    continue;
                }
            };
            if let Some(position) = stack.iter().position(|on_stack| *on_stack == target) {
                let chain = stack[position..]
                    .iter()
                    .chain(std::iter::once(&target))
                    .map(|file| self.sources.get(*file).name.clone())
                    .collect::<Vec<_>>()
                    .join(" → ");
                imports.push(Err(Located::new(
                    id,
                    ResolveError::ImportCycle {
                        span: import.path.span,
                        chain,
                    },
                )));
                continue;
            }
            self.load_imports(target, stack);
            imports.push(Ok(target));
        }
        stack.pop();
        if let Some(loaded) = self.loaded.get_mut(&id) {
            loaded.imports = Some(imports);
        }
    }

    /// Every file `root` reaches through imports, root first.
    pub(super) fn reachable(&self, root: FileId) -> Vec<FileId> {
        let mut seen = vec![root];
        let mut index = 0;
        while index < seen.len() {
            let current = seen[index];
            index += 1;
            let imports = self
                .loaded
                .get(&current)
                .and_then(|loaded| loaded.imports.as_ref());
            for target in imports
                .into_iter()
                .flatten()
                .filter_map(|import| import.as_ref().ok())
            {
                if !seen.contains(target) {
                    seen.push(*target);
                }
            }
        }
        seen
    }

    /// The names `id` can call: itself and each imported file, by name.
    pub(super) fn callables(&self, id: FileId) -> (HashMap<String, FileId>, Vec<Located>) {
        let mut callables = HashMap::new();
        let mut first_span: HashMap<String, (Span, FileId)> = HashMap::new();
        let mut errors = Vec::new();
        let Some(file) = self.ast(id) else {
            return (callables, errors);
        };
        callables.insert(file.name.name.clone(), id);
        let imports = self
            .loaded
            .get(&id)
            .and_then(|loaded| loaded.imports.as_ref());
        for (import, target) in file.imports.iter().zip(imports.into_iter().flatten()) {
            let Ok(target) = target else { continue };
            let Some(imported) = self.ast(*target) else {
                continue;
            };
            let name = imported.name.name.clone();
            if let Some((first, first_target)) = first_span.get(&name) {
                let error = if first_target == target {
                    ResolveError::Duplicate {
                        span: import.path.span,
                        first: *first,
                        what: "import of".into(),
                        name: import.path.value.clone(),
                        help: "the file is already imported: remove this import".into(),
                    }
                } else {
                    ResolveError::Duplicate {
                        span: import.path.span,
                        first: *first,
                        what: "procedure name".into(),
                        name,
                        help: "two imported files declare the same name; rename one of them".into(),
                    }
                };
                errors.push(Located::new(id, error));
                continue;
            }
            first_span.insert(name.clone(), (import.path.span, *target));
            callables.insert(name, *target);
        }
        (callables, errors)
    }
}
