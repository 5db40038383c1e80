//! Literals: numbers, durations (`90s`, `1h30m`, with overflow checked),
//! strings (quotes removed, escapes decoded, a bad escape reported where it
//! is written) and messages (strings cut at their `{EXPR}` interpolations,
//! each expression parsed where it is written, so its spans point into the
//! string).

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser;

use super::convert::{Converted, Converter};
use super::messages::{reported_rules, unexpected};
use super::{Rule, RunbookParser, MAX_NESTING};
use crate::syntax::ast::{Expr, ExprKind, Message, MessagePart, StringLit};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;
use crate::syntax::visit::walk_expr;

/// The help of every malformed brace of a message.
const BRACE_HELP: &str =
    "`{EXPR}` shows a value (`{server.name}`); write `{{` and `}}` for a brace";

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

    /// A message: the string, and its parts (text, `{EXPR}`, `{{`, `}}`).
    pub(super) fn message(&self, pair: Pair<'_, Rule>) -> Converted<Message> {
        let text = self.string(pair)?;
        let parts = self.message_parts(text.span)?;
        Ok(Message { text, parts })
    }

    /// Cuts the string written at `span` (escapes already checked by
    /// [`Self::string`]) into text and interpolated expressions.
    fn message_parts(&self, span: Span) -> Converted<Vec<MessagePart>> {
        let start = span.start as usize + 1;
        let content = &self.source[start..(span.end as usize).saturating_sub(1).max(start)];
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = content.char_indices().peekable();
        while let Some((index, character)) = chars.next() {
            let next = chars.peek().map(|(_, next)| *next);
            match (character, next) {
                ('\\', _) => {
                    chars.next();
                    text.push(match next {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        other => other.unwrap_or('\\'),
                    });
                }
                ('{', Some('{')) | ('}', Some('}')) => {
                    chars.next();
                    text.push(character);
                }
                ('{', _) => {
                    let open = start + index;
                    let closing = content[index + 1..]
                        .find(['}', '{'])
                        .map(|length| open + 1 + length)
                        .filter(|close| self.source.as_bytes()[*close] == b'}');
                    let Some(close) = closing else {
                        return Err(interpolation_error(
                            Span::new(open, open + 1),
                            "this `{` is never closed",
                            "not closed",
                        ));
                    };
                    if !text.is_empty() {
                        parts.push(MessagePart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(MessagePart::Expr {
                        expr: self.interpolated(open, close)?,
                        written: self.source[open + 1..close].trim().to_string(),
                    });
                    while chars.next_if(|(at, _)| start + at <= close).is_some() {}
                }
                ('}', _) => {
                    let at = start + index;
                    return Err(interpolation_error(
                        Span::new(at, at + 1),
                        "this `}` closes no `{`",
                        "closes nothing",
                    ));
                }
                _ => text.push(character),
            }
        }
        if !text.is_empty() {
            parts.push(MessagePart::Text(text));
        }
        Ok(parts)
    }

    /// The expression between the braces at `open` and `close`.
    fn interpolated(&self, open: usize, close: usize) -> Converted<Expr> {
        let inner = &self.source[open + 1..close];
        let braces = Span::new(open, close + 1);
        if inner.trim().is_empty() {
            return Err(interpolation_error(
                braces,
                "an empty `{}` in a message",
                "nothing to show",
            ));
        }
        if inner.contains('\\') {
            return Err(ParseError::InvalidInterpolation {
                span: braces,
                reason: "an interpolated expression cannot contain an escape".into(),
                label: "a string or an escape inside `{...}`".into(),
                help: "bind the value first (`let NAME = ...`), then write `{NAME}`".into(),
            });
        }
        let mut depth = 0usize;
        for character in inner.chars() {
            match character {
                '(' | '[' => depth += 1,
                ')' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Err(ParseError::TooDeep {
                    span: braces,
                    limit: MAX_NESTING,
                });
            }
        }
        let pair = RunbookParser::parse(Rule::interpolation, inner)
            .map_err(|error| self.interpolation_syntax(error, open + 1, close))?
            .next()
            .and_then(|entry| entry.into_inner().find(|pair| pair.as_rule() == Rule::expr));
        let Some(pair) = pair else {
            return Err(interpolation_error(
                braces,
                "an empty `{}` in a message",
                "here",
            ));
        };
        let converter = Converter {
            source: self.source,
            base: open + 1,
        };
        let expr = converter.expr(pair)?;
        let mut prompt = None;
        walk_expr(&expr, &mut |sub| {
            if let ExprKind::Select { .. } = sub.kind {
                prompt.get_or_insert(sub.span);
            }
        });
        if let Some(span) = prompt {
            return Err(ParseError::InvalidInterpolation {
                span,
                reason: "a message cannot ask the operator".into(),
                label: "a prompt".into(),
                help: "bind the answer first (`let NAME = select ...`), then write `{NAME}`".into(),
            });
        }
        Ok(expr)
    }

    /// A syntax error inside `{...}`: said as for any expression, the
    /// closing brace standing for the end.
    fn interpolation_syntax(
        &self,
        error: pest::error::Error<Rule>,
        base: usize,
        close: usize,
    ) -> ParseError {
        let position = match error.location {
            InputLocation::Pos(position) | InputLocation::Span((position, _)) => position,
        } + base;
        match error.variant {
            ErrorVariant::ParsingError { positives, .. } => {
                let mut error = unexpected(
                    &self.source[..close],
                    position,
                    &reported_rules(&positives),
                    None,
                );
                if let ParseError::Unexpected {
                    expected,
                    found,
                    help,
                    ..
                } = &mut error
                {
                    // The closing brace ends the expression's text.
                    *expected = expected.replace("the end of the file", "`}`");
                    *found = found.replace("the end of the file", "`}`");
                    *help = format!("{BRACE_HELP}; between the braces goes an expression");
                }
                error
            }
            ErrorVariant::CustomError { message } => ParseError::TooComplex {
                span: Span::new(position, position.max(close)),
                reason: message,
            },
        }
    }
}

fn interpolation_error(span: Span, reason: &str, label: &str) -> ParseError {
    ParseError::InvalidInterpolation {
        span,
        reason: reason.to_string(),
        label: label.to_string(),
        help: BRACE_HELP.to_string(),
    }
}
