//! The language front end: source text → typed AST with spans → resolved
//! program. Pest pairs never leave [`parser`]; every later phase works on
//! [`ast`] and on the [`resolve::Program`] built from it.

pub mod ast;
pub mod error;
mod parser;
pub mod source;
pub mod span;

pub use error::{Located, ParseError, ResolveError, SyntaxError};
pub use parser::{decode, parse, MAX_EXPRESSION_DEPTH, MAX_FILE_SIZE, MAX_NESTING};
pub use source::{FileId, Origin, SourceFile, Sources};
pub use span::Span;
