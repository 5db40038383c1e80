//! One open document analysed as `runbook check` would: parsed, its imports
//! followed and resolved (open documents are read from the editor's
//! buffers, other files from disk or the shipped runbooks), and linted with
//! the `runbook.toml` that applies when everything resolves. What the other
//! capabilities need is kept: the syntax tree, each import's target and the
//! findings, with byte spans into the document's text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::lint::{config, LintConfig};
use crate::check::project::lint_program;
use crate::check::report::Finding;
use crate::syntax::ast::File;
use crate::syntax::{FileId, FsLoader, Loader, Origin, Span, Workspace};

/// The texts of the open documents that are files, by path: what the
/// analysis reads instead of the disk.
pub type Overlay = Arc<HashMap<PathBuf, Arc<str>>>;

/// Reads open documents from the editor's buffers, everything else as
/// `runbook check` does.
#[derive(Clone)]
struct OverlayLoader {
    open: Overlay,
}

impl Loader for OverlayLoader {
    fn locate(&self, from: &Origin, path: &str) -> Result<Origin, String> {
        FsLoader.locate(from, path)
    }

    fn read(&self, origin: &Origin) -> std::io::Result<Vec<u8>> {
        if let Origin::Path(path) = origin {
            if let Some(text) = self.open.get(path) {
                return Ok(text.as_bytes().to_vec());
            }
        }
        FsLoader.read(origin)
    }
}

/// An import of the document and the file it names.
#[derive(Debug, Clone)]
pub struct ImportTarget {
    /// The import's path literal in the document (quotes included).
    pub span: Span,
    /// The file it names, when it was found.
    pub origin: Option<Origin>,
    /// That file's syntax tree, when it parsed.
    pub ast: Option<Arc<File>>,
    /// That file's text, when it was read.
    pub text: Option<Arc<str>>,
}

/// What the analysis of one document found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The document's syntax tree, when it parses.
    pub ast: Option<Arc<File>>,
    /// Its imports, in order (empty when it does not parse).
    pub imports: Vec<ImportTarget>,
    /// Every finding, located in the document (a problem of an imported
    /// file is shown on the import that reaches it).
    pub findings: Vec<Finding>,
}

impl Analysis {
    /// The procedures and runbooks the document can call, by name, with
    /// their syntax trees and where they are declared (the document itself
    /// included).
    pub fn callables(&self) -> Vec<(&Arc<File>, Option<&Origin>)> {
        let own = self.ast.iter().map(|ast| (ast, None));
        let imported = self
            .imports
            .iter()
            .filter_map(|import| Some((import.ast.as_ref()?, import.origin.as_ref())));
        own.chain(imported).collect()
    }
}

/// Analyses `text`, the document at `path` (`None`: not a file, e.g. an
/// unsaved buffer), reading the other open documents from `open`.
pub fn analyse(path: Option<&Path>, text: &str, open: &Overlay) -> Analysis {
    let loader = OverlayLoader {
        open: Arc::clone(open),
    };
    let mut workspace = Workspace::new(loader.clone());
    let root = match path {
        Some(path) if open.contains_key(path) => workspace.load_path(path).ok(),
        _ => None,
    };
    let root = root.unwrap_or_else(|| workspace.add_source("<buffer>", text));
    let checked = workspace.check(root);
    let ast = workspace.ast(root).cloned();
    let root_origin = workspace.sources.get(root).origin.clone();

    let imports: Vec<ImportTarget> = ast
        .iter()
        .flat_map(|file| file.imports.iter())
        .map(|import| {
            let origin = loader.locate(&root_origin, &import.path.value).ok();
            let id = origin
                .as_ref()
                .and_then(|origin| workspace.sources.find(origin));
            ImportTarget {
                span: import.path.span,
                origin,
                ast: id.and_then(|id| workspace.ast(id).cloned()),
                text: id
                    .and_then(|id| workspace.sources.try_get(id))
                    .map(|source| Arc::clone(&source.text)),
            }
        })
        .collect();

    let mut findings = Vec::new();
    for error in &checked.errors {
        let mut finding = Finding::from_diagnostic(&error.error);
        if error.file != root {
            finding = imported_finding(&workspace, &imports, error.file, finding);
        }
        if !findings.contains(&finding) {
            findings.push(finding);
        }
    }
    if let Some(program) = &checked.program {
        let config = match path {
            Some(path) => lint_config(path),
            None => LintConfig::default(),
        };
        findings.extend(
            lint_program(program, &config)
                .into_iter()
                .map(Finding::from),
        );
    }
    findings.sort_by(|left, right| {
        left.span
            .offset()
            .cmp(&right.span.offset())
            .then(left.code.cmp(&right.code))
    });
    findings.dedup();
    Analysis {
        ast,
        imports,
        findings,
    }
}

/// The lint configuration that applies to `path` (its `runbook.toml`; the
/// defaults when there is none or it cannot be read).
fn lint_config(path: &Path) -> LintConfig {
    match config::load_for(path) {
        Ok(Some(loaded)) => loaded.config,
        Ok(None) | Err(_) => LintConfig::default(),
    }
}

/// A finding of an imported file, moved onto the import of the document
/// that names that file (else its first import): the editor shows one
/// document at a time.
fn imported_finding(
    workspace: &Workspace,
    imports: &[ImportTarget],
    file: FileId,
    finding: Finding,
) -> Finding {
    let source = workspace.sources.try_get(file);
    let name = source.map(|source| source.name.as_str()).unwrap_or("?");
    let (line, column) = source
        .map(|source| source.line_column(finding.span.offset()))
        .unwrap_or((1, 1));
    let direct = imports.iter().find(|import| {
        import
            .origin
            .as_ref()
            .and_then(|origin| workspace.sources.find(origin))
            == Some(file)
    });
    let span = direct
        .or(imports.first())
        .map(|import| import.span)
        .unwrap_or_default();
    Finding {
        message: format!("in `{name}` ({line}:{column}): {}", finding.message),
        span: (span.start as usize..span.end as usize).into(),
        label: None,
        related: Vec::new(),
        ..finding
    }
}
