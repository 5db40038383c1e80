//! Name resolution and type checking: from parsed files to a [`Program`]
//! the interpreter, the verifier and the graph can run directly.
//!
//! A [`Workspace`] loads files through a [`Loader`] (the file system, with
//! the shipped runbooks embedded in the binary as a fallback), parses each
//! once, follows `import`s (reporting missing files and cycles), then checks
//! every file: variables, steps, What-ifs, procedures, operations and their
//! named arguments, prompt ids, and the type of every expression.
//!
//! The parts (private modules, their public items re-exported here):
//! - `types`: the [`Type`] of an expression;
//! - `builtins`: the tables of operations, functions and server fields;
//! - `loader`: where files come from ([`Loader`], [`FsLoader`]);
//! - `workspace`: the [`Workspace`] and [`Workspace::check`]; `imports`:
//!   following imports, cycles, what each file can call;
//! - `program`: [`check_source`], one text checked;
//! - `checker`: the checker of one file, its scopes and the file-level
//!   checks; `stmt`, `calls` and `expr` check statements, calls and
//!   expressions;
//! - `suggest`: "did you mean" suggestions.

mod builtins;
mod calls;
mod checker;
mod expr;
mod imports;
mod loader;
mod program;
mod stmt;
mod suggest;
mod types;
mod workspace;

pub use crate::syntax::program::Program;
pub use builtins::{
    operation, FunctionSignature, OperationParam, OperationSignature, FUNCTIONS, OPERATIONS,
    SERVER_FIELDS,
};
pub use loader::{display_name, read_runbook_file, FsLoader, Loader};
pub use program::check_source;
pub use types::Type;
pub use workspace::{allow_imports_anywhere, Checked, Workspace};

use super::error::{Located, ParseError};
use super::source::FileId;

/// Parse errors in the form the other phases report.
pub fn located(file: FileId, errors: Vec<ParseError>) -> Vec<Located> {
    errors
        .into_iter()
        .map(|error| Located::new(file, error))
        .collect()
}
