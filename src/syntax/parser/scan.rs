//! The lexical scan that runs before pest: comments (collected, and blanked
//! out of the text pest sees), bracket nesting outside strings and comments
//! (so deep nesting is a diagnostic, never a stack overflow), unterminated
//! strings, and the lines that hold code (where items can start). Also the
//! small word helpers the parser's recovery and messages share.

use super::MAX_NESTING;
use crate::syntax::ast::{Comment, CommentKind};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

/// What the lexical scan learns before pest runs.
pub(super) struct Scan {
    pub(super) comments: Vec<Comment>,
    /// For every line that holds code: the offset of its first token and the
    /// bracket depth there.
    pub(super) lines: Vec<(usize, usize)>,
    /// Whether anything but whitespace and comments is present.
    pub(super) has_code: bool,
    /// The first `{` whose `}` starts a line indented differently from the
    /// line of the `{`: where a missing `}` most likely belongs.
    pub(super) suspect_unclosed: Option<usize>,
}

/// The bytes [`scan`] acts on: newlines, quotes, slashes and brackets.
const SCAN_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    let mut index = 0;
    let special = b"\n\"/{([})]";
    while index < special.len() {
        stops[special[index] as usize] = true;
        index += 1;
    }
    stops
};

pub(super) fn scan(source: &str) -> Result<Scan, ParseError> {
    let bytes = source.as_bytes();
    let mut comments = Vec::new();
    let mut lines = Vec::new();
    let mut has_code = false;
    let mut depth = 0usize;
    let mut index = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let mut at_line_start = true;
    let mut line_start = index;
    let mut line_indent = 0usize;
    let mut line_first_token = index;
    let mut open_braces: Vec<(usize, usize)> = Vec::new();
    let mut suspect_unclosed = None;
    while index < bytes.len() {
        let byte = bytes[index];
        if at_line_start {
            if matches!(byte, b' ' | b'\t' | b'\r') {
                index += 1;
                continue;
            }
            at_line_start = false;
            line_indent = index - line_start;
            line_first_token = index;
            if byte != b'\n' {
                let is_comment = bytes.get(index..index + 2) == Some(b"//");
                if !is_comment {
                    has_code = true;
                }
                lines.push((index, depth));
            }
        }
        match byte {
            b'\n' => {
                at_line_start = true;
                index += 1;
                line_start = index;
            }
            b'"' => {
                index = string_end(bytes, index)?;
                has_code = true;
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let (comment, end) = comment_at(source, index);
                comments.push(comment);
                index = end;
            }
            b'{' | b'(' | b'[' => {
                if byte == b'{' {
                    open_braces.push((index, line_indent));
                }
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ParseError::TooDeep {
                        span: Span::new(index, index + 1),
                        limit: MAX_NESTING,
                    });
                }
                index += 1;
            }
            b'}' | b')' | b']' => {
                if byte == b'}' {
                    if let Some((open, indent)) = open_braces.pop() {
                        if index == line_first_token
                            && indent != line_indent
                            && suspect_unclosed.is_none()
                        {
                            suspect_unclosed = Some(open);
                        }
                    }
                }
                depth = depth.saturating_sub(1);
                index += 1;
            }
            _ => {
                // Skip the run of bytes that need no attention at once.
                let start = index;
                index += 1;
                while index < bytes.len() && !SCAN_STOPS[bytes[index] as usize] {
                    index += 1;
                }
                if !has_code {
                    has_code = bytes[start..index]
                        .iter()
                        .any(|byte| !byte.is_ascii_whitespace());
                }
            }
        }
    }
    Ok(Scan {
        comments,
        lines,
        has_code,
        suspect_unclosed,
    })
}

/// The offset just after the string literal whose opening quote is at
/// `start`, or the error for a string that is never closed.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut index = start + 1;
    loop {
        match bytes.get(index) {
            None => {
                return Err(ParseError::UnterminatedString {
                    span: Span::new(start, start + 1),
                })
            }
            Some(b'\\') => index += 2,
            Some(b'"') => return Ok(index + 1),
            Some(_) => index += 1,
        }
    }
}

/// The comment that starts at `start` (with `//`), and the offset where it
/// ends (its newline, or the end of the text).
fn comment_at(source: &str, start: usize) -> (Comment, usize) {
    let bytes = source.as_bytes();
    let end = bytes[start..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map_or(bytes.len(), |offset| start + offset);
    let text = &source[start..end];
    let (kind, marker) = if text.starts_with("////") {
        (CommentKind::Line, 2)
    } else if text.starts_with("///") {
        (CommentKind::Doc, 3)
    } else if text.starts_with("//!") {
        (CommentKind::ModuleDoc, 3)
    } else {
        (CommentKind::Line, 2)
    };
    let text = text[marker..].trim_end_matches('\r');
    let comment = Comment {
        kind,
        text: text.to_string(),
        span: Span::new(start, start + marker + text.len()),
    };
    (comment, end)
}

/// Words that start an item: where the parser resynchronises after an error.
pub(super) const ITEM_KEYWORDS: &[&str] = &[
    "title", "summary", "param", "import", "let", "step", "what-if", "note", "warning", "confirm",
    "choose", "record", "check", "wait", "if", "for", "call", "stop", "fail", "retry",
];

/// `source` with every ordinary `//` comment replaced by spaces, byte for
/// byte, so every offset stays valid.
pub(super) fn blank_comments<'s>(
    source: &'s str,
    comments: &[Comment],
) -> std::borrow::Cow<'s, str> {
    let ordinary = comments
        .iter()
        .filter(|comment| comment.kind == CommentKind::Line);
    if ordinary.clone().next().is_none() {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut bytes = source.as_bytes().to_vec();
    for comment in ordinary {
        bytes[comment.span.start as usize..comment.span.end as usize].fill(b' ');
    }
    // Whole characters were replaced by ASCII spaces: still UTF-8.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| source.to_string()))
}

/// Whether `text` holds only whitespace and ordinary `//` comments.
pub(super) fn only_trivia(text: &str) -> bool {
    let mut rest = text.trim_start();
    while rest.starts_with("//") && !rest.starts_with("///") || rest.starts_with("////") {
        rest = rest
            .find('\n')
            .map_or("", |newline| &rest[newline..])
            .trim_start();
    }
    rest.is_empty()
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

pub(super) fn word_at(source: &str, offset: usize) -> &str {
    let rest = source.get(offset..).unwrap_or("");
    let length = rest.bytes().take_while(|byte| is_ident_byte(*byte)).count();
    &rest[..length]
}
