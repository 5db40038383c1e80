//! The [`Workspace`]: loads files through a [`Loader`], parses each once,
//! keeps their text for reports, and checks a root file with everything it
//! imports into a [`Checked`] (a [`Program`] when nothing is wrong, and
//! every error). Following the imports is in [`super::imports`]; checking
//! one file is the [`Checker`]'s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checker::Checker;
use super::loader::{display_name, FsLoader, Loader};
use crate::syntax::ast;
use crate::syntax::embedded;
use crate::syntax::error::Located;
use crate::syntax::parser::{decode, parse};
use crate::syntax::program::{Program, ProgramFile};
use crate::syntax::source::{FileId, Origin, Sources};

/// One file as loaded: its syntax tree (when it parsed) and its imports.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    pub(super) ast: Option<Arc<ast::File>>,
    pub(super) parse_errors: Vec<Located>,
    /// For each `import` of the file, in order: the file it names, or why not.
    pub(super) imports: Option<Vec<Result<FileId, Located>>>,
    pub(super) resolve_errors: Option<Vec<Located>>,
}

/// What checking one root file found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The resolved program, when no file it reaches has an error.
    pub program: Option<Program>,
    /// Every error of every file the root reaches, in file then source order.
    pub errors: Vec<Located>,
}

/// Whether imports may leave the folder tree of the runbook being checked
/// or run (`--allow-outside-imports`); off unless the command line says so.
static IMPORTS_ANYWHERE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Allows (or forbids again) imports outside the folder tree of the
/// runbooks a workspace loads, for every workspace made afterwards.
pub fn allow_imports_anywhere(allowed: bool) {
    IMPORTS_ANYWHERE.store(allowed, std::sync::atomic::Ordering::Relaxed);
}

/// Loads, parses and resolves files, each once, and keeps their text for
/// reports. One workspace serves one command (several files can be checked
/// with it; shared imports are parsed once).
pub struct Workspace {
    /// Every loaded file's name and text (for reports and line numbers).
    pub sources: Sources,
    pub(super) loader: Box<dyn Loader>,
    pub(super) loaded: HashMap<FileId, Loaded>,
    /// The folders imports are confined to: the folder of each runbook
    /// loaded by path (none: no file system root, nothing to confine).
    pub(super) roots: Vec<PathBuf>,
    /// Imports may go anywhere (`--allow-outside-imports`).
    pub(super) imports_anywhere: bool,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("files", &self.loaded.len())
            .finish_non_exhaustive()
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new(FsLoader)
    }
}

impl Workspace {
    /// A workspace loading through `loader`.
    pub fn new(loader: impl Loader + 'static) -> Self {
        Workspace {
            sources: Sources::new(),
            loader: Box::new(loader),
            loaded: HashMap::new(),
            roots: Vec::new(),
            imports_anywhere: IMPORTS_ANYWHERE.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Loads the file at `path` (already loaded: the same id). An error only
    /// when it cannot be read at all; bad content becomes diagnostics.
    pub fn load_path(&mut self, path: &Path) -> std::io::Result<FileId> {
        let folder = std::fs::canonicalize(path)
            .ok()
            .and_then(|path| path.parent().map(Path::to_path_buf));
        if let Some(folder) = folder {
            self.allow_root(&folder);
        }
        self.load_origin(Origin::Path(path.to_path_buf()))
    }

    /// Also allows imports from anywhere under `folder` (a folder given to
    /// `check`).
    pub fn allow_root(&mut self, folder: &Path) {
        let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
        if !self.roots.contains(&folder) {
            self.roots.push(folder);
        }
    }

    /// Loads a RUNBOOK argument: a path to an existing file, else the name
    /// (or `runbooks/` path) of a shipped runbook.
    pub fn load_runbook(&mut self, reference: &str) -> std::io::Result<FileId> {
        let path = Path::new(reference);
        if path.exists() {
            return self.load_path(path);
        }
        match embedded::find(reference) {
            Some(shipped) => self.load_origin(Origin::Embedded(shipped.path.to_string())),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "`{reference}` is neither a file nor a shipped runbook (see `runbook list`)"
                ),
            )),
        }
    }

    /// Adds text that is not read from a file (tests, benches).
    pub fn add_source(&mut self, name: &str, text: &str) -> FileId {
        let id = self.sources.add(name, Origin::Memory, text);
        self.register(id, text.as_bytes());
        id
    }

    /// Loads a file by origin.
    pub fn load_origin(&mut self, origin: Origin) -> std::io::Result<FileId> {
        if let Some(id) = self.sources.find(&origin) {
            return Ok(id);
        }
        let bytes = self.loader.read(&origin)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let id = self.sources.add(display_name(&origin), origin, text);
        self.register(id, &bytes);
        Ok(id)
    }

    fn register(&mut self, id: FileId, bytes: &[u8]) {
        let result = decode(bytes).map_err(|error| vec![error]).and_then(parse);
        let loaded = match result {
            Ok(file) => Loaded {
                ast: Some(Arc::new(file)),
                parse_errors: Vec::new(),
                imports: None,
                resolve_errors: None,
            },
            Err(errors) => Loaded {
                ast: None,
                parse_errors: errors
                    .into_iter()
                    .map(|error| Located::new(id, error))
                    .collect(),
                imports: None,
                resolve_errors: None,
            },
        };
        self.loaded.insert(id, loaded);
    }

    /// The syntax tree of a loaded file, when it parsed.
    pub fn ast(&self, id: FileId) -> Option<&Arc<ast::File>> {
        self.loaded.get(&id).and_then(|loaded| loaded.ast.as_ref())
    }

    /// Loads the imports of `root`, resolves every file it reaches and
    /// returns the program (when there is no error) and every error.
    pub fn check(&mut self, root: FileId) -> Checked {
        self.load_imports(root, &mut Vec::new());
        let files = self.reachable(root);
        for file in &files {
            if self
                .loaded
                .get(file)
                .is_some_and(|loaded| loaded.resolve_errors.is_none())
            {
                let errors = self.resolve_file(*file);
                if let Some(loaded) = self.loaded.get_mut(file) {
                    loaded.resolve_errors = Some(errors);
                }
            }
        }
        let mut errors = Vec::new();
        for file in &files {
            if let Some(loaded) = self.loaded.get(file) {
                let mut file_errors: Vec<Located> = loaded
                    .parse_errors
                    .iter()
                    .chain(
                        loaded
                            .imports
                            .iter()
                            .flatten()
                            .filter_map(|import| import.as_ref().err()),
                    )
                    .chain(loaded.resolve_errors.iter().flatten())
                    .cloned()
                    .collect();
                file_errors.sort_by_key(Located::offset);
                errors.extend(file_errors);
            }
        }
        let program = errors.is_empty().then(|| self.program(root, &files));
        Checked { program, errors }
    }

    fn program(&self, root: FileId, files: &[FileId]) -> Program {
        // The root first, then the imports in a stable order.
        let mut ids: Vec<FileId> = vec![root];
        let mut others: Vec<FileId> = files.iter().copied().filter(|id| *id != root).collect();
        others.sort();
        others.dedup();
        ids.extend(others);
        let ids: Vec<FileId> = ids
            .into_iter()
            .filter(|id| self.ast(*id).is_some())
            .collect();
        let index: HashMap<FileId, usize> =
            ids.iter().enumerate().map(|(at, id)| (*id, at)).collect();
        let mut program_files = Vec::with_capacity(ids.len());
        let mut callables = Vec::with_capacity(ids.len());
        for id in &ids {
            let Some(ast) = self.ast(*id) else { continue };
            let source = self.sources.get(*id);
            program_files.push(ProgramFile {
                name: source.name.clone(),
                text: source.text.clone(),
                ast: ast.clone(),
                lines: source.lines.clone(),
                id: *id,
            });
            callables.push(
                self.callables(*id)
                    .0
                    .iter()
                    .filter_map(|(name, target)| Some((name.clone(), *index.get(target)?)))
                    .collect(),
            );
        }
        Program {
            reference: self.sources.get(root).name.clone(),
            files: program_files,
            main: 0,
            callables,
        }
    }

    fn resolve_file(&self, id: FileId) -> Vec<Located> {
        let Some(file) = self.ast(id).cloned() else {
            return Vec::new();
        };
        let (callables, mut errors) = self.callables(id);
        let callees: HashMap<String, Arc<ast::File>> = callables
            .iter()
            .filter_map(|(name, target)| Some((name.clone(), self.ast(*target)?.clone())))
            .collect();
        // When an import is missing or does not parse, the names it would
        // declare are unknown: calls to them are not reported again.
        let imports_complete = self.loaded.get(&id).is_some_and(|loaded| {
            loaded.imports.iter().flatten().all(|import| {
                import
                    .as_ref()
                    .is_ok_and(|target| self.ast(*target).is_some())
            })
        });
        let found = Checker::new(&file, &callees, imports_complete).check_file();
        errors.extend(found.into_iter().map(|error| Located::new(id, error)));
        errors
    }
}
