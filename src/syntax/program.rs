//! The one program every later phase runs: the root runbook and every file
//! it imports, each with its text, syntax tree and line index, and what
//! `call NAME` in each file reaches (by index, resolved once). Built by the
//! resolver ([`super::Workspace::check`]) when every file checks; the
//! lowering, the interpreter, `plan`, the verifier, the graph and the linter
//! read it as it is — the syntax trees are shared, never copied.

use std::collections::HashMap;
use std::sync::Arc;

use miette::NamedSource;

use super::ast;
use super::error::ResolveError;
use super::source::{FileId, LineIndex};

/// One file of a [`Program`].
#[derive(Debug, Clone)]
pub struct ProgramFile {
    /// The name diagnostics and events show (a path, or the shipped name).
    pub name: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Its syntax tree.
    pub ast: Arc<ast::File>,
    /// Where its lines start (events carry line numbers).
    pub lines: LineIndex,
    /// Its id in the workspace it was loaded in.
    pub id: FileId,
}

impl ProgramFile {
    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> u32 {
        u32::try_from(self.lines.line(offset).0 + 1).unwrap_or(u32::MAX)
    }

    /// The file as miette source code.
    pub fn source_text(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(&self.name, Arc::clone(&self.text))
    }
}

/// A runbook with everything it imports, checked: every name refers to
/// something, every operation exists with the right arguments, every
/// expression has the type its place requires.
#[derive(Debug, Clone)]
pub struct Program {
    /// Every file; [`Program::main`] is the runbook itself.
    pub files: Vec<ProgramFile>,
    /// The index of the runbook that is run.
    pub main: usize,
    /// How the runbook was named on the command line (a path or a shipped name).
    pub reference: String,
    /// For each file, what `call NAME` written in it reaches (file indexes).
    pub callables: Vec<HashMap<String, usize>>,
}

impl Program {
    /// The runbook that is run.
    pub fn main_file(&self) -> &ProgramFile {
        &self.files[self.main]
    }

    /// The file of `index` (always valid for indexes the program hands out).
    pub fn file(&self, index: usize) -> &ProgramFile {
        &self.files[index.min(self.files.len().saturating_sub(1))]
    }

    /// The file `call NAME` written in file `from` runs.
    pub fn callee(&self, from: usize, name: &str) -> Option<usize> {
        self.callables.get(from)?.get(name).copied()
    }

    /// The runbook's name.
    pub fn name(&self) -> &str {
        &self.main_file().ast.name.name
    }

    /// The main file's What-if handler with this id, or an error listing the ids.
    pub fn what_if(&self, id: &str) -> Result<&ast::WhatIf, ResolveError> {
        let root = &self.main_file().ast;
        root.what_if(id)
            .ok_or_else(|| ResolveError::UndefinedWhatIf {
                name: id.to_string(),
                help: match root.what_ifs.as_slice() {
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
