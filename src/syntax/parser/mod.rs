//! Source text → [`ast::File`], through the pest grammar in
//! `grammar/runbook.pest`. Pest pairs are converted into the AST at once and
//! never leave this module.
//!
//! Robustness comes before pest runs: a size limit, a NUL/UTF-8 check
//! ([`decode`]), and a lexical scan that counts bracket nesting outside
//! strings and comments (so deep nesting is a diagnostic, never a stack
//! overflow), finds unterminated strings and collects comments. The body is
//! then parsed one item at a time, so that after an error the parser can
//! resynchronise at the next line that starts an item and report more errors.
//!
//! The parts, in the order they act:
//! - this file: the limits, [`decode`] and [`parse`] (its own thread, its
//!   own stack);
//! - [`scan`](mod@scan): the lexical scan before pest (comments, nesting, lines);
//! - [`file`](mod@file): the file header, then one item at a time with
//!   resynchronisation after an error;
//! - [`messages`]: pest's errors in words ("expected ..., found ...");
//! - [`convert`]: the pair → AST converter's shared helpers (spans, names,
//!   doc comments); [`items`] (declarations and What-ifs), [`stmt`]
//!   (statements), [`expr`] (expressions) and [`literal`] (strings, numbers,
//!   durations) convert one kind of node each.
//!
//! [`ast::File`]: super::ast::File

mod convert;
mod expr;
mod file;
mod items;
mod literal;
mod messages;
mod scan;
mod stmt;

use std::sync::Once;

use super::ast::File;
use super::error::ParseError;
use super::span::Span;
use file::FileParser;
use scan::{blank_comments, scan};

/// The largest file accepted, in bytes (16 MiB).
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// The deepest bracket nesting accepted (`{`, `(` and `[` together).
pub const MAX_NESTING: usize = 64;
/// The deepest expression tree accepted (operators nested in one another).
pub const MAX_EXPRESSION_DEPTH: usize = 128;
/// Pest's budget of rule calls per parsed item: a backstop against
/// pathological input that the scan does not catch.
const CALL_LIMIT: usize = 50_000_000;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/runbook.pest"]
struct RunbookParser;

/// Checks raw bytes before parsing: size, NUL bytes (binary files) and UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, ParseError> {
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ParseError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_SIZE,
        });
    }
    if let Some(offset) = bytes.iter().position(|byte| *byte == 0) {
        return Err(ParseError::Binary { offset });
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let offset = error.valid_up_to();
        let line_start = bytes[..offset]
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |index| index + 1);
        let line_end = bytes[offset..]
            .iter()
            .position(|byte| *byte == b'\n')
            .map_or(bytes.len(), |index| offset + index);
        // The lossy text shown in the report has U+FFFD (3 bytes) here; a
        // long line of garbage is not worth showing.
        let span = (line_end - line_start < 200).then(|| Span::new(offset, offset + 3));
        ParseError::InvalidUtf8 { span, offset }
    })
}

/// The stack the parser runs on: pest's generated code recurses once per
/// grammar rule, and unoptimised builds use large frames, so the nesting the
/// scan allows must not depend on the caller's stack (2 MiB on test threads).
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// Parses one file. On failure, every error found (several when the parser
/// could resynchronise), in source order.
pub fn parse(source: &str) -> Result<File, Vec<ParseError>> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("runbook-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_on_this_thread(source))
            .map_or_else(
                // No thread could be made (resource exhaustion): parse here.
                |_| parse_on_this_thread(source),
                |handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(vec![ParseError::TooComplex {
                            span: Span::empty(0),
                            reason: "the parser failed unexpectedly".into(),
                        }])
                    })
                },
            )
    })
}

fn parse_on_this_thread(source: &str) -> Result<File, Vec<ParseError>> {
    static SET_CALL_LIMIT: Once = Once::new();
    SET_CALL_LIMIT.call_once(|| pest::set_call_limit(std::num::NonZeroUsize::new(CALL_LIMIT)));

    if source.len() as u64 > MAX_FILE_SIZE {
        return Err(vec![ParseError::TooLarge {
            size: source.len() as u64,
            limit: MAX_FILE_SIZE,
        }]);
    }
    if source.contains('\0') {
        return Err(vec![ParseError::Binary {
            offset: source.find('\0').unwrap_or(0),
        }]);
    }
    let scan = scan(source).map_err(|error| vec![error])?;
    if !scan.has_code {
        let end = source.trim_end().len();
        return Err(vec![ParseError::Empty {
            span: (!source.is_empty()).then(|| Span::empty(end)),
        }]);
    }
    // Ordinary comments become spaces (same byte offsets) so that pest's
    // whitespace skipping, tried between every two tokens, needs no comment
    // rule; the comments themselves are already collected by the scan.
    let blanked = blank_comments(source, &scan.comments);
    let mut parser = FileParser {
        source: &blanked,
        scan,
        errors: Vec::new(),
    };
    match parser.file() {
        Some(file) if parser.errors.is_empty() => Ok(file),
        _ => {
            parser.errors.sort_by_key(first_offset);
            Err(parser.errors)
        }
    }
}

fn first_offset(error: &ParseError) -> usize {
    super::error::first_label_offset(error).unwrap_or(0)
}
