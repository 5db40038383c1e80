//! Literals: numbers, durations (`90s`, `1h30m`, with overflow checked) and
//! strings (quotes removed, escapes decoded, a bad escape reported where it
//! is written).

use pest::iterators::Pair;

use super::convert::{Converted, Converter};
use super::Rule;
use crate::syntax::ast::StringLit;
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

impl Converter<'_> {
    pub(super) fn number(&self, text: &str, span: Span) -> Converted<u64> {
        text.parse().map_err(|_| ParseError::InvalidNumber {
            span,
            text: text.to_string(),
        })
    }

    pub(super) fn duration(&self, text: &str, span: Span) -> Converted<std::time::Duration> {
        crate::domain::duration::parse(text.trim_end()).map_err(|_| ParseError::InvalidNumber {
            span,
            text: text.to_string(),
        })
    }

    pub(super) fn string(&self, pair: Pair<'_, Rule>) -> Converted<StringLit> {
        let (span, raw) = self.token(&pair);
        let content = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        let content_start = span.start as usize + 1;
        let mut value = String::with_capacity(content.len());
        let mut chars = content.char_indices();
        while let Some((index, character)) = chars.next() {
            if character != '\\' {
                value.push(character);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                other => {
                    let width = 1 + other.map_or(0, |(_, escaped)| escaped.len_utf8());
                    let escape_span =
                        Span::new(content_start + index, content_start + index + width);
                    return Err(ParseError::InvalidEscape {
                        span: escape_span,
                        escape: escape_span.text(self.source).to_string(),
                    });
                }
            }
        }
        Ok(StringLit { value, span })
    }
}
