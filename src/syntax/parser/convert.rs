//! The converter from pest pairs to the AST, and what every kind of node
//! needs: spans without trailing whitespace, names, doc comments, the
//! significant children of a pair (keywords and punctuation dropped), and
//! the report for a child the grammar guarantees but is missing. The
//! conversion of each kind of node lives in [`super::items`],
//! [`super::stmt`], [`super::expr`] and [`super::literal`].

use pest::iterators::Pair;

use super::Rule;
use crate::syntax::ast::{Doc, Ident, StringLit};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

/// Converts the pairs of one pest parse (whose input started at `base`).
pub(super) struct Converter<'s> {
    pub(super) source: &'s str,
    pub(super) base: usize,
}

pub(super) type Converted<T> = Result<T, ParseError>;

/// Keywords and punctuation carry no information once parsed.
fn is_token(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        lbrace
            | rbrace
            | lparen
            | rparen
            | lbracket
            | rbracket
            | comma
            | colon
            | equals
            | dot
            | kw_runbook
            | kw_procedure
            | kw_title
            | kw_requires
            | kw_goal
            | kw_upgrade
            | kw_to
            | kw_healthy
            | kw_summary
            | kw_param
            | kw_import
            | kw_what_if
            | kw_when
            | kw_during
            | kw_let
            | kw_step
            | kw_within
            | kw_after
            | kw_discards
            | kw_changes
            | kw_on
            | kw_note
            | kw_warning
            | kw_confirm
            | kw_choose
            | kw_option
            | kw_record
            | kw_check
            | kw_else
            | kw_wait
            | kw_until
            | kw_timeout
            | kw_every
            | kw_if
            | kw_for
            | kw_in
            | kw_call
            | kw_stop
            | kw_pause
            | kw_fail
            | kw_retry
            | kw_select
            | kw_from
    )
}

pub(super) fn significant(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|child| !is_token(child.as_rule()))
}

/// A missing child where the grammar guarantees one: reported rather than
/// panicking, should grammar and converter ever disagree.
pub(super) fn missing(span: Span, what: &str) -> ParseError {
    ParseError::Unexpected {
        span,
        expected: what.to_string(),
        found: "something else".to_string(),
        help: "this is a bug in the runbook parser; please report it with the file".to_string(),
        unclosed: None,
    }
}

/// The next significant child, or the report that it is missing.
pub(super) fn next_child<'p>(
    children: &mut impl Iterator<Item = Pair<'p, Rule>>,
    span: Span,
    what: &str,
) -> Converted<Pair<'p, Rule>> {
    children.next().ok_or_else(|| missing(span, what))
}

impl<'s> Converter<'s> {
    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        let start = self.base + span.start();
        let mut end = self.base + span.end();
        // Every token ends with the whitespace that follows it, which the
        // span of a node must not cover. (Ordinary comments were blanked to
        // spaces; doc comments are never trailing trivia.)
        let bytes = self.source.as_bytes();
        while end > start && matches!(bytes[end - 1], b' ' | b'\t'..=b'\r') {
            end -= 1;
        }
        if end > start && !bytes[end - 1].is_ascii() {
            // A doc line may end with other Unicode whitespace.
            end = start + self.source[start..end].trim_end().len();
        }
        Span::new(start, end)
    }

    /// A token's span and text, without the whitespace that follows it
    /// (every token of the grammar skips its trailing whitespace).
    pub(super) fn token(&self, pair: &Pair<'_, Rule>) -> (Span, &'s str) {
        let span = self.span(pair);
        (span, &self.source[span.start as usize..span.end as usize])
    }

    pub(super) fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        let (span, name) = self.token(pair);
        Ident {
            name: name.to_string(),
            span,
        }
    }

    pub(super) fn docs(&self, pair: Pair<'_, Rule>) -> Doc {
        let span = self.span(&pair);
        let lines: Vec<&str> = pair
            .into_inner()
            .map(|line| {
                // The line's text ends at its newline; the whitespace after
                // it belongs to the token too.
                let line = line.as_str().split('\n').next().unwrap_or("");
                let text = line.get(3..).unwrap_or("").trim_end_matches('\r');
                text.strip_prefix(' ').unwrap_or(text)
            })
            .collect();
        Doc {
            text: lines.join("\n"),
            span,
        }
    }

    pub(super) fn string_child(&self, pair: Pair<'_, Rule>) -> Converted<StringLit> {
        let span = self.span(&pair);
        let child = significant(pair)
            .find(|child| child.as_rule() == Rule::string)
            .ok_or_else(|| missing(span, "a string"))?;
        self.string(child)
    }
}
