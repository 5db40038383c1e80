//! What a rule sees: the file, its source, the procedures it can call, and
//! the flow facts computed once and shared by the domain rules.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::flow::{self, FlowFacts};
use crate::syntax::ast::File;

/// The input of every rule for one file.
pub struct LintContext<'a> {
    /// The parsed file being linted.
    pub file: &'a File,
    /// Its source text.
    pub source: &'a str,
    /// Callable procedures and runbooks by name (the file's imports, resolved).
    pub procedures: &'a HashMap<String, &'a File>,
    flow: OnceLock<FlowFacts>,
}

impl<'a> LintContext<'a> {
    /// A context for `file`.
    pub fn new(file: &'a File, source: &'a str, procedures: &'a HashMap<String, &'a File>) -> Self {
        Self {
            file,
            source,
            procedures,
            flow: OnceLock::new(),
        }
    }

    /// The flow facts, computed on first use.
    pub fn flow(&self) -> &FlowFacts {
        self.flow
            .get_or_init(|| flow::analyze(self.file, self.procedures))
    }
}
