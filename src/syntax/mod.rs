//! The language front end: source text → typed AST with spans → resolved
//! program. Pest pairs never leave the parser; every later phase works on
//! [`ast`] and on the [`Program`] built from it.
//!
//! Entry points: [`parse`] (one text → [`ast::File`]), [`Workspace`] (load
//! files and their imports, [`Workspace::check`] → [`Checked`] with a
//! [`Program`] and every [`Located`] error), [`check_source`] (one text, no
//! file system), [`embedded`] (the shipped runbooks), [`visit`] (walks over
//! every statement or expression of a file).

pub mod ast;
pub mod embedded;
pub mod error;
mod parser;
pub mod program;
pub mod resolve;
pub mod source;
pub mod span;
pub mod visit;

pub use error::{Located, ParseError, ResolveError, SyntaxError};
pub use parser::{decode, parse, MAX_EXPRESSION_DEPTH, MAX_FILE_SIZE, MAX_NESTING};
pub use program::{Program, ProgramFile};
pub use resolve::{check_source, read_runbook_file, Checked, FsLoader, Loader, Type, Workspace};
pub use source::{FileId, LineIndex, Origin, SourceFile, Sources};
pub use span::Span;
