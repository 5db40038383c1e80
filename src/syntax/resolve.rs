//! Name resolution and type checking: from parsed files to a [`Program`]
//! the interpreter, the verifier and the graph can run directly.
//!
//! A [`Workspace`] loads files through a [`Loader`] (the file system, with
//! the shipped runbooks embedded in the binary as a fallback), parses each
//! once, follows `import`s (reporting missing files and cycles), then checks
//! every file: variables, steps, What-ifs, procedures, operations and their
//! named arguments, prompt ids, and the type of every expression.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::ast::{self, BinaryOp, ExprKind, FileKind, ParamType, StmtKind, TriggerKind};
use super::embedded;
use super::error::{Located, ParseError, ResolveError};
use super::parser::{decode, parse, MAX_FILE_SIZE};
use super::source::{FileId, Origin, Sources};
use super::span::Span;

// ------------------------------------------------------------------ types

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `true`/`false`, conditions.
    Bool,
    /// A non-negative integer.
    Number,
    /// Text.
    String,
    /// A length of time.
    Duration,
    /// A product version.
    Version,
    /// A replication state code.
    State,
    /// One server of the cluster.
    Server,
    /// A list whose elements have this type.
    List(Box<Type>),
    /// Unknown after an error (fits anywhere, so one mistake is reported once).
    Unknown,
}

impl Type {
    /// `[server]`
    pub fn server_list() -> Type {
        Type::List(Box::new(Type::Server))
    }

    /// The type a parameter declared with `ty` has.
    pub fn of_param(ty: ParamType) -> Type {
        match ty {
            ParamType::String => Type::String,
            ParamType::Number => Type::Number,
            ParamType::Bool => Type::Bool,
            ParamType::Duration => Type::Duration,
            ParamType::Version => Type::Version,
            ParamType::Server => Type::Server,
            ParamType::ServerList => Type::server_list(),
        }
    }

    /// Whether a value of this type can be used where `expected` is required.
    pub fn fits(&self, expected: &Type) -> bool {
        match (self, expected) {
            (Type::Unknown, _) | (_, Type::Unknown) => true,
            (Type::List(found), Type::List(expected)) => found.fits(expected),
            (found, expected) => found == expected,
        }
    }

    /// The type in words, with an article: "a server", "a list of servers".
    pub fn describe(&self) -> String {
        match self {
            Type::Bool => "a bool".into(),
            Type::Number => "a number".into(),
            Type::String => "a string".into(),
            Type::Duration => "a duration".into(),
            Type::Version => "a version".into(),
            Type::State => "a replication state".into(),
            Type::Server => "a server".into(),
            Type::List(element) => match element.as_ref() {
                Type::Unknown => "a list".into(),
                Type::Server => "a list of servers".into(),
                other => format!("a list of {}", plural(other)),
            },
            Type::Unknown => "a value of unknown type".into(),
        }
    }

    fn is_list(&self) -> bool {
        matches!(self, Type::List(_) | Type::Unknown)
    }

    fn element(&self) -> Type {
        match self {
            Type::List(element) => (**element).clone(),
            _ => Type::Unknown,
        }
    }
}

fn plural(ty: &Type) -> String {
    match ty {
        Type::Bool => "bools".into(),
        Type::Number => "numbers".into(),
        Type::String => "strings".into(),
        Type::Duration => "durations".into(),
        Type::Version => "versions".into(),
        Type::State => "replication states".into(),
        Type::Server => "servers".into(),
        Type::List(_) => "lists".into(),
        Type::Unknown => "values".into(),
    }
}

// ------------------------------------------------------------------ built-in tables

/// One named argument of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationParam {
    /// The argument's name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Whether it may be left out (its default is documented on the operation).
    pub optional: bool,
}

/// An operation of the language (the table of `domain.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSignature {
    /// The name written in runbooks, e.g. `init-standby`.
    pub name: &'static str,
    /// Its named arguments.
    pub params: &'static [OperationParam],
    /// What it does, in one line.
    pub doc: &'static str,
}

const SERVER: OperationParam = OperationParam {
    name: "server",
    ty: ParamType::Server,
    optional: false,
};

/// Every operation, in the order of `domain.md`.
pub const OPERATIONS: &[OperationSignature] = &[
    OperationSignature {
        name: "diagnostic",
        params: &[SERVER],
        doc: "runs the HA diagnostic on the server; fails on KO",
    },
    OperationSignature {
        name: "replication-states",
        params: &[SERVER],
        doc: "reads the state code of every server (issued on the Active)",
    },
    OperationSignature {
        name: "exclude",
        params: &[SERVER],
        doc: "excludes a Standby from replication (issued on the Active)",
    },
    OperationSignature {
        name: "init-standby",
        params: &[SERVER],
        doc: "full replication of a Standby; waits for STB_REP",
    },
    OperationSignature {
        name: "activate",
        params: &[SERVER],
        doc: "switch wizard: makes the Standby Active",
    },
    OperationSignature {
        name: "force-activate",
        params: &[SERVER],
        doc: "declares the server Active without the wizard",
    },
    OperationSignature {
        name: "set-standby",
        params: &[
            SERVER,
            OperationParam {
                name: "force",
                ty: ParamType::Bool,
                optional: true,
            },
        ],
        doc: "declares the server Standby (`force` defaults to false)",
    },
    OperationSignature {
        name: "stop-replication",
        params: &[SERVER],
        doc: "clears the replication configuration on the server",
    },
    OperationSignature {
        name: "stop-server",
        params: &[SERVER],
        doc: "stops the server (console)",
    },
    OperationSignature {
        name: "start-server",
        params: &[SERVER],
        doc: "starts the server (console)",
    },
    OperationSignature {
        name: "upgrade",
        params: &[
            SERVER,
            OperationParam {
                name: "version",
                ty: ParamType::Version,
                optional: false,
            },
        ],
        doc: "runs the SMC installer (console)",
    },
    OperationSignature {
        name: "backup",
        params: &[SERVER],
        doc: "takes a Management Server backup (console)",
    },
    OperationSignature {
        name: "restore-backup",
        params: &[SERVER],
        doc: "restores the latest backup on the server; every Standby is excluded",
    },
];

/// The operation called `name`.
pub fn operation(name: &str) -> Option<&'static OperationSignature> {
    OPERATIONS.iter().find(|operation| operation.name == name)
}

/// A built-in function of the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSignature {
    /// Its name.
    pub name: &'static str,
    /// How it is written, e.g. `count(LIST)`.
    pub signature: &'static str,
    /// What it returns.
    pub doc: &'static str,
}

/// Every built-in function.
pub const FUNCTIONS: &[FunctionSignature] = &[
    FunctionSignature { name: "active", signature: "active() -> server", doc: "the one Active server (the run fails if there is not exactly one)" },
    FunctionSignature { name: "actives", signature: "actives() -> [server]", doc: "every running Active server" },
    FunctionSignature { name: "standbys", signature: "standbys() -> [server]", doc: "every Standby server" },
    FunctionSignature { name: "servers", signature: "servers() -> [server]", doc: "every server" },
    FunctionSignature { name: "count", signature: "count(LIST) -> number", doc: "the number of elements of a list" },
    FunctionSignature { name: "healthy", signature: "healthy() -> bool", doc: "the healthy setup: one Active in ACT_REP, every Standby running, not excluded, STB_REP, one version" },
    FunctionSignature { name: "replication_ok", signature: "replication_ok() -> bool", doc: "every running server in ACT_REP or STB_REP" },
];

/// The fields of a server value: name and type.
pub const SERVER_FIELDS: &[(&str, ParamType)] = &[
    ("name", ParamType::String),
    ("running", ParamType::Bool),
    ("excluded", ParamType::Bool),
    ("is_active", ParamType::Bool),
    ("is_standby", ParamType::Bool),
    ("version", ParamType::Version),
    ("changes", ParamType::Number),
];

fn field_type(name: &str) -> Option<Type> {
    if name == "state" {
        return Some(Type::State);
    }
    SERVER_FIELDS
        .iter()
        .find(|(field, _)| *field == name)
        .map(|(_, ty)| Type::of_param(*ty))
}

// ------------------------------------------------------------------ loading

/// Where files come from.
pub trait Loader {
    /// The file an `import "PATH"` written in the file at `from` refers to,
    /// or a reason why there is none.
    fn locate(&self, from: &Origin, path: &str) -> Result<Origin, String>;
    /// The file's bytes; at most [`MAX_FILE_SIZE`] + 1 of them need be read.
    fn read(&self, origin: &Origin) -> std::io::Result<Vec<u8>>;
}

/// The file system, with the shipped runbooks as a fallback for imports
/// (`import "lib/exclude-server.runbook"` works from any directory).
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

/// Joins `path` to the directory of `file` inside the embedded tree,
/// resolving `.` and `..`; `None` when it leaves the tree.
fn embedded_join(file: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = file.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if normalized.file_name().is_some() => {
                normalized.pop();
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    normalized
}

impl Loader for FsLoader {
    fn locate(&self, from: &Origin, path: &str) -> Result<Origin, String> {
        match from {
            Origin::Embedded(file) => embedded_join(file, path)
                .filter(|joined| embedded::file(joined).is_some())
                .map(Origin::Embedded)
                .ok_or_else(|| format!("no shipped file `{path}`")),
            Origin::Path(_) | Origin::Memory => {
                let base = match from {
                    Origin::Path(file) => file.parent().map(Path::to_path_buf).unwrap_or_default(),
                    _ => PathBuf::new(),
                };
                let joined = normalize(&base.join(path));
                if joined.is_file() {
                    return Ok(Origin::Path(joined));
                }
                match embedded_join("", path).filter(|shipped| embedded::file(shipped).is_some()) {
                    Some(shipped) => Ok(Origin::Embedded(shipped)),
                    None => Err(format!(
                        "`{}` does not exist and no shipped file has that path",
                        joined.display()
                    )),
                }
            }
        }
    }

    fn read(&self, origin: &Origin) -> std::io::Result<Vec<u8>> {
        match origin {
            Origin::Path(path) => {
                let mut bytes = Vec::new();
                std::fs::File::open(path)?
                    .take(MAX_FILE_SIZE + 1)
                    .read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            Origin::Embedded(path) => embedded::file(path)
                .map(|text| text.as_bytes().to_vec())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no shipped file `{path}`"),
                    )
                }),
            Origin::Memory => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "text given in memory cannot be read again",
            )),
        }
    }
}

/// The name diagnostics show for a file.
pub fn display_name(origin: &Origin) -> String {
    match origin {
        Origin::Path(path) => path.display().to_string(),
        Origin::Embedded(path) => format!("runbooks/{path}"),
        Origin::Memory => "<input>".to_string(),
    }
}

/// One file as loaded: its syntax tree (when it parsed) and its imports.
#[derive(Debug, Clone)]
struct Loaded {
    ast: Option<Arc<ast::File>>,
    parse_errors: Vec<Located>,
    /// For each `import` of the file, in order: the file it names, or why not.
    imports: Option<Vec<Result<FileId, Located>>>,
    resolve_errors: Option<Vec<Located>>,
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
    loader: Box<dyn Loader>,
    loaded: HashMap<FileId, Loaded>,
    /// The folders imports are confined to: the folder of each runbook
    /// loaded by path (none: no file system root, nothing to confine).
    roots: Vec<PathBuf>,
    /// Imports may go anywhere (`--allow-outside-imports`).
    imports_anywhere: bool,
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

    /// Follows the imports of `id` depth first, loading what is missing and
    /// reporting cycles on the import that closes them.
    fn load_imports(&mut self, id: FileId, stack: &mut Vec<FileId>) {
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
    fn reachable(&self, root: FileId) -> Vec<FileId> {
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
    fn callables(&self, id: FileId) -> (HashMap<String, FileId>, Vec<Located>) {
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
        let units = files
            .iter()
            .filter_map(|id| {
                let ast = self.ast(*id)?.clone();
                let source = self.sources.get(*id);
                Some((
                    *id,
                    Unit {
                        id: *id,
                        name: source.name.clone(),
                        text: source.text.clone(),
                        ast,
                        callables: self.callables(*id).0,
                    },
                ))
            })
            .collect();
        Program { root, units }
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
        let mut checker = Checker {
            file: &file,
            callees: &callees,
            imports_complete,
            errors: Vec::new(),
            scopes: Vec::new(),
            prompts: HashMap::new(),
            steps: HashMap::new(),
        };
        checker.check_file();
        errors.extend(
            checker
                .errors
                .into_iter()
                .map(|error| Located::new(id, error)),
        );
        errors
    }
}

// ------------------------------------------------------------------ program

/// One resolved file of a [`Program`].
#[derive(Debug, Clone)]
pub struct Unit {
    /// The file's id in the workspace's [`Sources`].
    pub id: FileId,
    /// The name diagnostics and events show (a path, or `runbooks/...`).
    pub name: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Its syntax tree.
    pub ast: Arc<ast::File>,
    /// What `call NAME` in this file reaches: the file itself and every
    /// imported file, by the name they declare.
    pub callables: HashMap<String, FileId>,
}

/// A runbook with everything it imports, checked: every name refers to
/// something, every operation exists with the right arguments, every
/// expression has the type its place requires.
#[derive(Debug, Clone)]
pub struct Program {
    /// The runbook that was asked for.
    pub root: FileId,
    /// The root and every file it imports, transitively.
    pub units: BTreeMap<FileId, Unit>,
}

impl Program {
    /// The root file's unit.
    pub fn root_unit(&self) -> &Unit {
        // The root is always among the units: `check` builds them from it.
        &self.units[&self.root]
    }

    /// The root file's syntax tree.
    pub fn root(&self) -> &ast::File {
        &self.root_unit().ast
    }

    /// The unit of a file.
    pub fn unit(&self, id: FileId) -> Option<&Unit> {
        self.units.get(&id)
    }

    /// The file `call NAME` in file `from` runs.
    pub fn callee(&self, from: FileId, name: &str) -> Option<&Unit> {
        self.unit(from)?
            .callables
            .get(name)
            .and_then(|id| self.unit(*id))
    }

    /// The root's What-if handler with this id, or an error listing the ids.
    pub fn what_if(&self, id: &str) -> Result<&ast::WhatIf, ResolveError> {
        self.root()
            .what_if(id)
            .ok_or_else(|| ResolveError::UndefinedWhatIf {
                name: id.to_string(),
                help: match self.root().what_ifs.as_slice() {
                    [] => "this runbook has no What-if handlers".to_string(),
                    handlers => format!(
                        "the What-if handlers are: {}",
                        handlers
                            .iter()
                            .map(|handler| format!("`{}`", handler.id.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            })
    }
}

/// Parses and resolves one text with no file system access beyond the
/// shipped runbooks (tests, benches, `runbook show`).
pub fn check_source(name: &str, text: &str) -> (Workspace, Checked) {
    let mut workspace = Workspace::default();
    let id = workspace.add_source(name, text);
    let checked = workspace.check(id);
    (workspace, checked)
}

// ------------------------------------------------------------------ checker

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (distance(name, candidate), candidate))
        .filter(|(score, _)| *score <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

fn list_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records where `key` (the name of `ident`) is first defined in `seen`:
/// `true` the first time; after that, a [`ResolveError::Duplicate`] naming
/// `what` (with `help`) joins `errors` and the answer is `false`.
fn first_definition<K: Eq + std::hash::Hash>(
    errors: &mut Vec<ResolveError>,
    seen: &mut HashMap<K, Span>,
    key: K,
    ident: &ast::Ident,
    what: &str,
    help: &str,
) -> bool {
    match seen.entry(key) {
        Entry::Occupied(first) => {
            errors.push(ResolveError::Duplicate {
                span: ident.span,
                first: *first.get(),
                what: what.into(),
                name: ident.name.clone(),
                help: help.into(),
            });
            false
        }
        Entry::Vacant(entry) => {
            entry.insert(ident.span);
            true
        }
    }
}

/// Where a statement sits, for the rules on steps and `retry`.
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    in_step: bool,
    in_what_if: bool,
    top_level: bool,
}

struct Binding {
    ty: Type,
}

struct Checker<'a> {
    file: &'a ast::File,
    callees: &'a HashMap<String, Arc<ast::File>>,
    imports_complete: bool,
    errors: Vec<ResolveError>,
    scopes: Vec<HashMap<String, Binding>>,
    prompts: HashMap<String, Span>,
    steps: HashMap<String, Span>,
}

impl Checker<'_> {
    fn check_file(&mut self) {
        let file = self.file;
        if file.kind == FileKind::Runbook && file.title.is_none() {
            self.errors.push(ResolveError::MissingTitle {
                span: file.name.span,
                name: file.name.name.clone(),
            });
        }
        for step in file.steps() {
            first_definition(
                &mut self.errors,
                &mut self.steps,
                step.id.name.clone(),
                &step.id,
                "step id",
                "step ids must be unique in a file: journals and `during` refer to them",
            );
        }
        let mut what_ifs: HashMap<&str, Span> = HashMap::new();
        for what_if in &file.what_ifs {
            first_definition(
                &mut self.errors,
                &mut what_ifs,
                &what_if.id.name,
                &what_if.id,
                "What-if id",
                "rename one of the handlers",
            );
        }

        // Parameters: the file scope.
        let mut file_scope = HashMap::new();
        let mut param_spans: HashMap<&str, Span> = HashMap::new();
        for param in &file.params {
            let ty = Type::of_param(param.ty);
            if let Some(default) = &param.default {
                self.scopes.push(HashMap::new());
                let found = self.expr(default);
                self.scopes.pop();
                self.expect(
                    default,
                    &found,
                    &ty,
                    "a parameter's default must have the declared type",
                );
            }
            if !first_definition(
                &mut self.errors,
                &mut param_spans,
                &param.name.name,
                &param.name,
                "parameter",
                "rename or remove one of them",
            ) {
                continue;
            }
            file_scope.insert(param.name.name.clone(), Binding { ty });
        }
        self.scopes.push(file_scope);

        // The body; remember the top-level bindings and where they are made.
        let context = Context {
            top_level: true,
            ..Context::default()
        };
        self.scopes.push(HashMap::new());
        let mut top_level_bindings: Vec<(u32, String, Type)> = Vec::new();
        for stmt in &file.body {
            self.stmt(stmt, context);
            if let Some(scope) = self.scopes.last() {
                for (name, binding) in scope {
                    if !top_level_bindings.iter().any(|(_, bound, _)| bound == name) {
                        top_level_bindings.push((
                            stmt.span.start,
                            name.clone(),
                            binding.ty.clone(),
                        ));
                    }
                }
            }
        }
        self.scopes.pop();

        // What-if handlers see the parameters and the top-level bindings
        // written before them.
        for what_if in &file.what_ifs {
            for trigger in &what_if.triggers {
                match &trigger.kind {
                    TriggerKind::Failed(step) => self.step_ref(step),
                    TriggerKind::UpgradeCancelled(server) => {
                        let scope = top_level_bindings
                            .iter()
                            .filter(|(start, _, _)| *start < what_if.span.start)
                            .map(|(_, name, ty)| (name.clone(), Binding { ty: ty.clone() }))
                            .collect();
                        self.scopes.push(scope);
                        let found = self.expr(server);
                        self.scopes.pop();
                        self.expect(
                            server,
                            &found,
                            &Type::Server,
                            "`upgrade-cancelled` watches one server",
                        );
                    }
                    _ => {}
                }
            }
            for step in &what_if.during {
                self.step_ref(step);
            }
            let scope = top_level_bindings
                .iter()
                .filter(|(start, _, _)| *start < what_if.span.start)
                .map(|(_, name, ty)| (name.clone(), Binding { ty: ty.clone() }))
                .collect();
            self.scopes.push(scope);
            if let Some(server) = &what_if.discards_changes_on {
                self.discards_clause(server);
            }
            self.block(
                &what_if.body,
                Context {
                    in_what_if: true,
                    ..Context::default()
                },
            );
            self.scopes.pop();
        }
        self.scopes.pop();
    }

    /// `discards changes on EXPR` (on a step, an option or a What-if): EXPR
    /// is a server.
    fn discards_clause(&mut self, server: &ast::Expr) {
        let found = self.expr(server);
        self.expect(
            server,
            &found,
            &Type::Server,
            "`discards changes on` names the server whose changes are lost",
        );
    }

    fn step_ref(&mut self, step: &ast::Ident) {
        if !self.steps.contains_key(&step.name) {
            let help = match closest(&step.name, self.steps.keys().map(String::as_str)) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if self.steps.is_empty() => "this file has no steps".to_string(),
                None => {
                    let mut ids: Vec<&str> = self.steps.keys().map(String::as_str).collect();
                    ids.sort_unstable();
                    format!("the steps of this file are: {}", list_names(ids))
                }
            };
            self.errors.push(ResolveError::UndefinedStep {
                span: step.span,
                name: step.name.clone(),
                help,
            });
        }
    }

    fn prompt(&mut self, id: &ast::Ident) {
        first_definition(
            &mut self.errors,
            &mut self.prompts,
            id.name.clone(),
            id,
            "prompt id",
            "prompt ids must be unique in a file: answers files refer to them",
        );
    }

    fn bind(&mut self, name: &str, ty: Type) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), Binding { ty });
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    fn block(&mut self, block: &ast::Block, context: Context) {
        self.scopes.push(HashMap::new());
        for stmt in &block.stmts {
            self.stmt(stmt, context);
        }
        self.scopes.pop();
    }

    fn expect(&mut self, expr: &ast::Expr, found: &Type, expected: &Type, why: &str) {
        self.expect_with(expr, found, expected, || why.to_string());
    }

    /// [`Checker::expect`] with the explanation built only on a mismatch.
    fn expect_with(
        &mut self,
        expr: &ast::Expr,
        found: &Type,
        expected: &Type,
        why: impl FnOnce() -> String,
    ) {
        if !found.fits(expected) {
            self.errors.push(ResolveError::TypeMismatch {
                span: expr.span,
                expected: expected.describe(),
                found: found.describe(),
                help: why(),
            });
        }
    }

    fn stmt(&mut self, stmt: &ast::Stmt, context: Context) {
        // Steps may sit in `if`/`for`/`choose` branches of the top level.
        let inner = Context {
            top_level: context.top_level && !context.in_step,
            ..context
        };
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                let ty = self.expr(value);
                self.bind(&name.name, ty);
            }
            StmtKind::Step(step) => {
                let place = if context.in_step {
                    Some("inside another step")
                } else if context.in_what_if {
                    Some("inside a What-if handler")
                } else if self.file.kind == FileKind::Procedure {
                    Some("in a procedure")
                } else {
                    None
                };
                if let Some(place) = place {
                    self.errors.push(ResolveError::MisplacedStep {
                        span: step.id.span,
                        place: place.to_string(),
                        help: "steps sit at the top of a runbook's body (or in `if`/`for`/`choose` branches there); use a plain block of statements here".into(),
                    });
                }
                if let Some(window) = &step.window {
                    let found = self.expr(&window.duration);
                    self.expect(
                        &window.duration,
                        &found,
                        &Type::Duration,
                        "a time window is a duration, e.g. `within 5m after STEP`",
                    );
                    self.step_ref(&window.after);
                }
                if let Some(server) = &step.discards_changes_on {
                    self.discards_clause(server);
                }
                self.block(
                    &step.body,
                    Context {
                        in_step: true,
                        ..inner
                    },
                );
            }
            StmtKind::Note { .. }
            | StmtKind::Warning { .. }
            | StmtKind::Stop { .. }
            | StmtKind::Fail { .. } => {}
            StmtKind::Operation(call) => self.operation(call),
            StmtKind::Confirm { id, .. } => self.prompt(id),
            StmtKind::Record { id, .. } => {
                self.prompt(id);
                let name = id.name.replace('-', "_");
                self.bind(&name, Type::String);
            }
            StmtKind::Choose(choose) => {
                self.prompt(&choose.id);
                let mut names: HashMap<&str, Span> = HashMap::new();
                let mut default: Option<Span> = None;
                for option in &choose.options {
                    first_definition(
                        &mut self.errors,
                        &mut names,
                        &option.name.name,
                        &option.name,
                        "option",
                        "option names must be unique in a `choose`: answers refer to them",
                    );
                    if option.is_default {
                        if let Some(first) = default {
                            self.errors.push(ResolveError::Duplicate {
                                span: option.name.span,
                                first,
                                what: "default option".into(),
                                name: option.name.name.clone(),
                                help: "`--yes` takes the default option: mark only one option `default`".into(),
                            });
                        }
                        default.get_or_insert(option.name.span);
                    }
                    if let Some(server) = &option.discards_changes_on {
                        self.discards_clause(server);
                    }
                    self.block(&option.body, inner);
                }
            }
            StmtKind::Check { condition, .. } => {
                let found = self.expr(condition);
                self.expect(condition, &found, &Type::Bool, "`check` needs a condition");
            }
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => {
                let found = self.expr(condition);
                self.expect(
                    condition,
                    &found,
                    &Type::Bool,
                    "`wait until` needs a condition",
                );
                for duration in [timeout, every].into_iter().flatten() {
                    let found = self.expr(duration);
                    self.expect(
                        duration,
                        &found,
                        &Type::Duration,
                        "`timeout` and `every` take a duration such as `10m`",
                    );
                }
            }
            StmtKind::If(if_stmt) => {
                for branch in &if_stmt.branches {
                    let found = self.expr(&branch.condition);
                    self.expect(
                        &branch.condition,
                        &found,
                        &Type::Bool,
                        "`if` needs a condition",
                    );
                    self.block(&branch.body, inner);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    self.block(otherwise, inner);
                }
            }
            StmtKind::For { var, list, body } => {
                let found = self.expr(list);
                self.expect(
                    list,
                    &found,
                    &Type::server_list(),
                    "`for` goes over a list of servers",
                );
                self.scopes.push(HashMap::new());
                self.bind(&var.name, found.element());
                self.block(body, inner);
                self.scopes.pop();
            }
            StmtKind::Call(call) => self.call(call, context),
            StmtKind::Retry => {
                if !context.in_what_if {
                    self.errors
                        .push(ResolveError::MisplacedRetry { span: stmt.span });
                }
            }
        }
    }

    /// Checks a call's arguments against `params` (name, type, optional);
    /// `example` (how a complete call looks) is built only for an error.
    fn args(
        &mut self,
        callee: &str,
        args: &[ast::Arg],
        params: &[(&str, Type, bool)],
        call_span: Span,
        example: impl Fn() -> String,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for arg in args {
            let found = self.expr(&arg.value);
            if !first_definition(
                &mut self.errors,
                &mut seen,
                &arg.name.name,
                &arg.name,
                "argument",
                "give each argument once",
            ) {
                continue;
            }
            match params.iter().find(|(name, _, _)| *name == arg.name.name) {
                Some((_, expected, _)) => {
                    self.expect_with(&arg.value, &found, expected, || {
                        format!(
                            "argument `{}` of `{callee}` is {}",
                            arg.name.name,
                            expected.describe()
                        )
                    });
                }
                None => {
                    let names = params.iter().map(|(name, _, _)| *name);
                    let help = match closest(&arg.name.name, names.clone()) {
                        Some(similar) => format!("did you mean `{similar}`?"),
                        None if params.is_empty() => format!("`{callee}` takes no arguments"),
                        None => format!("`{callee}` takes: {}", list_names(names)),
                    };
                    self.errors.push(ResolveError::UnknownArgument {
                        span: arg.name.span,
                        name: arg.name.name.clone(),
                        callee: callee.to_string(),
                        help,
                    });
                }
            }
        }
        for (name, _, optional) in params {
            if !optional && !seen.contains_key(name) {
                self.errors.push(ResolveError::MissingArgument {
                    span: call_span,
                    name: name.to_string(),
                    callee: callee.to_string(),
                    help: format!("add `{name}: ...`: `{}`", example()),
                });
            }
        }
    }

    fn operation(&mut self, call: &ast::OperationCall) {
        let Some(signature) = operation(&call.name.name) else {
            let help = match closest(
                &call.name.name,
                OPERATIONS.iter().map(|operation| operation.name),
            ) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if self.callees.contains_key(&call.name.name) => {
                    format!(
                        "`{}` is a procedure: write `call {}(...)`",
                        call.name.name, call.name.name
                    )
                }
                None => format!(
                    "the operations are: {}",
                    list_names(OPERATIONS.iter().map(|operation| operation.name))
                ),
            };
            self.errors.push(ResolveError::UnknownOperation {
                span: call.name.span,
                name: call.name.name.clone(),
                help,
            });
            for arg in &call.args {
                self.expr(&arg.value);
            }
            return;
        };
        let params: Vec<(&str, Type, bool)> = signature
            .params
            .iter()
            .map(|param| (param.name, Type::of_param(param.ty), param.optional))
            .collect();
        let example = || {
            format!(
                "{}({})",
                signature.name,
                signature
                    .params
                    .iter()
                    .filter(|param| !param.optional)
                    .map(|param| format!("{}: ...", param.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        self.args(signature.name, &call.args, &params, call.span, example);
    }

    fn call(&mut self, call: &ast::Call, context: Context) {
        let name = &call.target.name;
        if *name == self.file.name.name {
            self.errors.push(ResolveError::RecursiveCall {
                span: call.target.span,
                name: name.clone(),
            });
            return;
        }
        let Some(callee) = self.callees.get(name).cloned() else {
            if !self.imports_complete {
                for arg in &call.args {
                    self.expr(&arg.value);
                }
                return;
            }
            let help = match closest(name, self.callees.keys().map(String::as_str)) {
                Some(similar) => format!("did you mean `{similar}`?"),
                None if operation(name).is_some() => {
                    format!("`{name}` is an operation: write `{name}(...)` without `call`")
                }
                None => format!("import the file that declares `procedure {name}`, e.g. `import \"lib/{name}.runbook\"`"),
            };
            self.errors.push(ResolveError::UndefinedProcedure {
                span: call.target.span,
                name: name.clone(),
                help,
            });
            for arg in &call.args {
                self.expr(&arg.value);
            }
            return;
        };
        if context.in_step && !callee.steps().is_empty() {
            self.errors.push(ResolveError::MisplacedStep {
                span: call.target.span,
                place: "run inside another step".into(),
                help: format!("`{name}` has steps of its own: call it outside any step"),
            });
        }
        let params: Vec<(&str, Type, bool)> = callee
            .params
            .iter()
            .map(|param| {
                (
                    param.name.name.as_str(),
                    Type::of_param(param.ty),
                    param.default.is_some(),
                )
            })
            .collect();
        let example = || {
            format!(
                "call {name}({})",
                params
                    .iter()
                    .filter(|(_, _, optional)| !optional)
                    .map(|(param, _, _)| format!("{param}: ..."))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        self.args(name, &call.args, &params, call.span, example);
    }

    fn undefined_variable(&mut self, name: &ast::Ident) {
        let known: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|scope| scope.keys().cloned())
            .collect();
        let help = if FUNCTIONS.iter().any(|function| function.name == name.name) {
            format!("`{0}` is a function: write `{0}()`", name.name)
        } else if let Some(similar) = closest(&name.name, known.iter().map(String::as_str)) {
            format!("did you mean `{similar}`?")
        } else {
            format!(
                "bind it with `let {0} = ...` or declare it with `param {0}: TYPE`",
                name.name
            )
        };
        self.errors.push(ResolveError::UndefinedVariable {
            span: name.span,
            name: name.name.clone(),
            help,
        });
    }

    /// The type of an expression; reports what does not fit.
    fn expr(&mut self, expr: &ast::Expr) -> Type {
        match &expr.kind {
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Number(_) => Type::Number,
            ExprKind::String(_) => Type::String,
            ExprKind::Duration(_) => Type::Duration,
            ExprKind::Version(_) => Type::Version,
            ExprKind::State(_) => Type::State,
            ExprKind::List(items) => {
                let mut element = Type::Unknown;
                for item in items {
                    let found = self.expr(item);
                    if element == Type::Unknown {
                        element = found;
                    } else {
                        let expected = element.clone();
                        self.expect(
                            item,
                            &found,
                            &expected,
                            "the elements of a list have one type",
                        );
                    }
                }
                Type::List(Box::new(element))
            }
            ExprKind::Var(name) => match self.lookup(&name.name) {
                Some(binding) => binding.ty.clone(),
                None => {
                    self.undefined_variable(name);
                    Type::Unknown
                }
            },
            ExprKind::Field { target, field } => {
                let owner = self.expr(target);
                if !owner.fits(&Type::Server) {
                    let help = if owner.is_list() {
                        "this is a list: read the field of each server with `all s in LIST: s.FIELD`".to_string()
                    } else {
                        "only servers have fields".to_string()
                    };
                    self.errors.push(ResolveError::TypeMismatch {
                        span: target.span,
                        expected: Type::Server.describe(),
                        found: owner.describe(),
                        help,
                    });
                    return Type::Unknown;
                }
                match field_type(&field.name) {
                    Some(ty) => ty,
                    None => {
                        let names = SERVER_FIELDS.iter().map(|(name, _)| *name).chain(["state"]);
                        let help = match closest(&field.name, names.clone()) {
                            Some(similar) => format!("did you mean `{similar}`?"),
                            None => format!("servers have: {}", list_names(names)),
                        };
                        self.errors.push(ResolveError::UnknownField {
                            span: field.span,
                            name: field.name.clone(),
                            owner: "a server".into(),
                            help,
                        });
                        Type::Unknown
                    }
                }
            }
            ExprKind::Call { function, args } => self.function(expr, function, args),
            ExprKind::Not(operand) => {
                let found = self.expr(operand);
                self.expect(operand, &found, &Type::Bool, "`not` applies to a condition");
                Type::Bool
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs),
            ExprKind::Quantifier {
                quantifier,
                var,
                list,
                body,
            } => {
                let found = self.expr(list);
                if !found.is_list() {
                    self.expect(
                        list,
                        &found,
                        &Type::server_list(),
                        &format!("`{}` goes over a list", quantifier.keyword()),
                    );
                }
                self.scopes.push(HashMap::new());
                self.bind(&var.name, found.element());
                let condition = self.expr(body);
                self.scopes.pop();
                self.expect(
                    body,
                    &condition,
                    &Type::Bool,
                    "the body of a quantifier is a condition",
                );
                Type::Bool
            }
            ExprKind::Select { id, from, .. } => {
                self.prompt(id);
                let found = self.expr(from);
                self.expect(
                    from,
                    &found,
                    &Type::server_list(),
                    "`select` picks a server from a list of servers",
                );
                Type::Server
            }
        }
    }

    fn function(&mut self, call: &ast::Expr, function: &ast::Ident, args: &[ast::Expr]) -> Type {
        let arg_types: Vec<Type> = args.iter().map(|arg| self.expr(arg)).collect();
        let Some(signature) = FUNCTIONS
            .iter()
            .find(|candidate| candidate.name == function.name)
        else {
            let help = match closest(
                &function.name,
                FUNCTIONS.iter().map(|function| function.name),
            ) {
                Some(similar) => format!("did you mean `{similar}()`?"),
                None => format!(
                    "the functions are: {}",
                    list_names(FUNCTIONS.iter().map(|function| function.signature))
                ),
            };
            self.errors.push(ResolveError::UnknownFunction {
                span: function.span,
                name: function.name.clone(),
                help,
            });
            return Type::Unknown;
        };
        let expected_count = usize::from(signature.name == "count");
        if args.len() != expected_count {
            self.errors.push(ResolveError::WrongArgumentCount {
                span: call.span,
                function: signature.name.to_string(),
                expected: expected_count,
                found: args.len(),
                help: format!("write it as `{}`", signature.signature),
            });
            return Type::Unknown;
        }
        match signature.name {
            "active" => Type::Server,
            "actives" | "standbys" | "servers" => Type::server_list(),
            "count" => {
                if let (Some(arg), Some(found)) = (args.first(), arg_types.first()) {
                    if !found.is_list() {
                        self.expect(
                            arg,
                            found,
                            &Type::server_list(),
                            "`count` counts the elements of a list",
                        );
                    }
                }
                Type::Number
            }
            _ => Type::Bool,
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &ast::Expr, rhs: &ast::Expr) -> Type {
        let left = self.expr(lhs);
        let right = self.expr(rhs);
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let why = format!("`{}` combines conditions", op.symbol());
                self.expect(lhs, &left, &Type::Bool, &why);
                self.expect(rhs, &right, &Type::Bool, &why);
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if !right.fits(&left) {
                    self.expect(
                        rhs,
                        &right,
                        &left,
                        "both sides of a comparison have the same type",
                    );
                }
                Type::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ordered = |ty: &Type| {
                    matches!(
                        ty,
                        Type::Number | Type::Version | Type::Duration | Type::Unknown
                    )
                };
                if !ordered(&left) {
                    self.errors.push(ResolveError::TypeMismatch {
                        span: lhs.span,
                        expected: "a number, a version or a duration".into(),
                        found: left.describe(),
                        help: format!("`{}` compares numbers, versions or durations", op.symbol()),
                    });
                } else if !right.fits(&left) {
                    self.expect(
                        rhs,
                        &right,
                        &left,
                        "both sides of a comparison have the same type",
                    );
                }
                Type::Bool
            }
            BinaryOp::In => {
                if !right.is_list() {
                    self.expect(
                        rhs,
                        &right,
                        &Type::List(Box::new(left.clone())),
                        "`in` looks for a value in a list",
                    );
                } else {
                    let element = right.element();
                    if !left.fits(&element) {
                        self.expect(
                            lhs,
                            &left,
                            &element,
                            "`in` looks for a value of the list's element type",
                        );
                    }
                }
                Type::Bool
            }
            BinaryOp::Without => {
                if !left.is_list() {
                    self.expect(
                        lhs,
                        &left,
                        &Type::server_list(),
                        "`without` removes elements from a list",
                    );
                    return Type::Unknown;
                }
                let element = left.element();
                if !(right.fits(&element) || right.fits(&left)) {
                    self.expect(
                        rhs,
                        &right,
                        &element,
                        "`without` removes a value or a list of values of the list's element type",
                    );
                }
                left
            }
        }
    }
}

/// Parse errors in the form the other phases report.
pub fn located(file: FileId, errors: Vec<ParseError>) -> Vec<Located> {
    errors
        .into_iter()
        .map(|error| Located::new(file, error))
        .collect()
}
