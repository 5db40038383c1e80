//! The language front end: source text → typed AST with spans → resolved
//! program. Pest pairs never leave [`parser`]; every later phase works on
//! [`ast`] and on the [`resolve::Program`] built from it.

pub mod ast;
pub mod span;

pub use span::Span;
