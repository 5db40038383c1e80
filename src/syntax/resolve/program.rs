//! The result of resolution: a [`Program`] (the root runbook and every file
//! it imports, each a [`Unit`]) that the interpreter, the verifier and the
//! graph run directly, and [`check_source`] for one text.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::workspace::{Checked, Workspace};
use crate::syntax::ast;
use crate::syntax::error::ResolveError;
use crate::syntax::source::FileId;

/// One resolved file of a [`Program`].
#[derive(Debug, Clone)]
pub struct Unit {
    /// The file's id in the workspace's [`Sources`](crate::syntax::Sources).
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
