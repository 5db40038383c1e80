//! The runbook as the interpreter sees it: every loaded source file (the
//! runbook and what it imports) with its text and syntax tree, and how
//! `call NAME` finds its callee.

use std::collections::HashMap;
use std::sync::Arc;

use miette::NamedSource;

use super::error::SourceText;
use super::journal::SourceHash;
use crate::syntax::{ast, LineIndex};

/// One loaded `.runbook` file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name diagnostics and events show (a path, or the shipped name).
    pub name: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Its syntax tree.
    pub ast: ast::File,
    /// Where its lines start (events carry line numbers).
    lines: LineIndex,
}

impl SourceFile {
    /// A loaded file.
    pub fn new(name: impl Into<String>, text: Arc<str>, ast: ast::File, lines: LineIndex) -> Self {
        Self {
            name: name.into(),
            text,
            ast,
            lines,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: u32) -> u32 {
        u32::try_from(self.lines.line(offset).0 + 1).unwrap_or(u32::MAX)
    }

    /// The file as miette source code.
    pub fn source_text(&self) -> SourceText {
        NamedSource::new(&self.name, Arc::clone(&self.text))
    }
}

/// A runbook with everything it imports, ready to run.
#[derive(Debug, Clone)]
pub struct Program {
    /// Every file; [`Program::main`] is the runbook itself.
    pub files: Vec<SourceFile>,
    /// The index of the runbook that is run.
    pub main: usize,
    /// How the runbook was named on the command line (a path or a shipped name).
    pub reference: String,
    /// For each file, what `call NAME` written in it reaches (file indexes);
    /// empty when the program was built without the resolver.
    pub callables: Vec<HashMap<String, usize>>,
}

impl Program {
    /// A program of already parsed files; `main` indexes `files`.
    pub fn new(files: Vec<SourceFile>, main: usize, reference: impl Into<String>) -> Self {
        Self {
            files,
            main,
            reference: reference.into(),
            callables: Vec::new(),
        }
    }

    /// The runbook that is run.
    pub fn main_file(&self) -> &SourceFile {
        &self.files[self.main]
    }

    /// The file of `index` (always valid for indexes the program hands out).
    pub fn file(&self, index: usize) -> &SourceFile {
        &self.files[index.min(self.files.len().saturating_sub(1))]
    }

    /// The file `call NAME` written in file `from` runs.
    pub fn callee(&self, from: usize, name: &str) -> Option<usize> {
        match self.callables.get(from) {
            Some(callables) => callables.get(name).copied(),
            None => self
                .files
                .iter()
                .position(|file| file.ast.name.name == name),
        }
    }

    /// The SHA-256 of every file, for the journal.
    pub fn hashes(&self) -> Vec<SourceHash> {
        self.files
            .iter()
            .map(|file| SourceHash::of(file.name.clone(), &file.text))
            .collect()
    }

    /// The runbook's name.
    pub fn name(&self) -> &str {
        &self.main_file().ast.name.name
    }
}
