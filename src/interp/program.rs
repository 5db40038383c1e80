//! The runbook as the interpreter runs it: the one [`Program`] the resolver
//! builds (every loaded file with its text, syntax tree and line index, and
//! what `call NAME` reaches), and the source hashes its journal records.

pub use crate::syntax::program::{Program, ProgramFile as SourceFile};

use super::journal::SourceHash;

/// The SHA-256 of every file of `program`, for the journal.
pub fn hashes(program: &Program) -> Vec<SourceHash> {
    program
        .files
        .iter()
        .map(|file| SourceHash::of(file.name.clone(), &file.text))
        .collect()
}
