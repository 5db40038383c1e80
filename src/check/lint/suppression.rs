//! Suppression comments: `// allow(RB003)` (several codes or rule names may be
//! listed, separated by commas).
//!
//! - At the end of a line holding code, it suppresses the listed rules for
//!   findings that start on that line.
//! - On a line of its own, it applies to the next line that holds code: to
//!   findings that start on that line and, when that line starts a step or a
//!   What-if, to every finding inside it.
//!
//! Unknown codes in a suppression comment are findings of their own
//! (`runbook::lint::unknown_code`).

use miette::SourceSpan;

use super::diagnostic::LintDiagnostic;
use super::registry;
use super::severity::Severity;
use crate::syntax::LineIndex;

/// The code of the finding for an unknown code in a suppression comment.
pub const UNKNOWN_CODE: &str = "runbook::lint::unknown_code";

/// One `// allow(...)` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The rule codes it allows (names are resolved to codes).
    pub codes: Vec<&'static str>,
    /// Where each code (or name) is written in the comment, in the same order.
    pub code_spans: Vec<SourceSpan>,
    /// The 0-based line the comment applies to.
    pub target_line: usize,
    /// Whether the comment is on a line of its own (it then also covers a
    /// step or What-if that starts on the target line).
    pub own_line: bool,
}

/// Every suppression comment of one file.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    entries: Vec<Suppression>,
}

/// A `//` comment found in the source: its byte range and text after `//`.
struct Comment<'a> {
    start: usize,
    text: &'a str,
}

/// Finds line comments, skipping string literals (which may span lines).
fn comments(source: &str) -> Vec<Comment<'_>> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut index = 0;
    let mut in_string = false;
    while index < bytes.len() {
        let byte = bytes[index];
        if in_string {
            match byte {
                b'\\' => index += 1,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let end = source[index..]
                    .find('\n')
                    .map_or(source.len(), |length| index + length);
                found.push(Comment {
                    start: index,
                    text: &source[index + 2..end],
                });
                index = end;
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    found
}

/// Whether a line holds nothing but blanks and comments.
fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with("//")
}

impl Suppressions {
    /// Parses the suppression comments of `source`; unknown codes are returned
    /// as findings.
    pub fn parse(source: &str, lines: &LineIndex) -> (Suppressions, Vec<LintDiagnostic>) {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for comment in comments(source) {
            // `///` and `//!` are documentation, never directives.
            if comment.text.starts_with('/') || comment.text.starts_with('!') {
                continue;
            }
            let body = comment.text.trim_start();
            let Some(arguments) = body.strip_prefix("allow(") else {
                continue;
            };
            let Some(close) = arguments.find(')') else {
                continue;
            };
            let arguments_start = comment.start + 2 + (comment.text.len() - body.len()) + 6;
            let mut codes = Vec::new();
            let mut code_spans = Vec::new();
            let mut offset = 0;
            for part in arguments[..close].split(',') {
                let trimmed = part.trim();
                let leading = part.len() - part.trim_start().len();
                let start = arguments_start + offset + leading;
                offset += part.len() + 1;
                if trimmed.is_empty() {
                    continue;
                }
                match registry::rule(trimmed) {
                    Some(rule) => {
                        codes.push(rule.code);
                        code_spans.push(SourceSpan::from(start..start + trimmed.len()));
                    }
                    None => problems.push(LintDiagnostic {
                        code: UNKNOWN_CODE,
                        rule_name: None,
                        severity: Severity::Warning,
                        message: format!("unknown lint rule `{trimmed}` in a suppression comment"),
                        span: SourceSpan::from(start..start + trimmed.len()),
                        label: Some("not a lint rule".to_owned()),
                        help: Some(registry::suggestion_help(trimmed)),
                        related: Vec::new(),
                    }),
                }
            }
            let comment_line = lines.line_of(comment.start);
            let line_start = lines.line_start(comment_line).unwrap_or(0);
            let own_line = source[line_start..comment.start].trim().is_empty();
            let target_line = if own_line {
                let mut line = comment_line + 1;
                while line < lines.line_count() {
                    let start = lines.line_start(line).unwrap_or(source.len());
                    let end = lines.line_start(line + 1).unwrap_or(source.len());
                    if !is_blank_or_comment(&source[start..end]) {
                        break;
                    }
                    line += 1;
                }
                line
            } else {
                comment_line
            };
            entries.push(Suppression {
                codes,
                code_spans,
                target_line,
                own_line,
            });
        }
        (Suppressions { entries }, problems)
    }

    /// The parsed comments.
    pub fn entries(&self) -> &[Suppression] {
        &self.entries
    }

    /// Which suppression (by index into [`Suppressions::entries`]) allows a
    /// finding of rule `code` at `span`, if any. `blocks` are the spans of the
    /// file's steps and What-ifs.
    pub fn suppressed_by(
        &self,
        code: &str,
        span: SourceSpan,
        lines: &LineIndex,
        blocks: &[SourceSpan],
    ) -> Option<usize> {
        let line = lines.line_of(span.offset());
        self.entries.iter().position(|entry| {
            entry.codes.contains(&code)
                && (entry.target_line == line
                    || (entry.own_line
                        && blocks.iter().any(|block| {
                            lines.line_of(block.offset()) == entry.target_line
                                && block.offset() <= span.offset()
                                && span.offset() + span.len() <= block.offset() + block.len()
                        })))
        })
    }

    /// Whether a finding of rule `code` at `span` is suppressed.
    pub fn is_suppressed(
        &self,
        code: &str,
        span: SourceSpan,
        lines: &LineIndex,
        blocks: &[SourceSpan],
    ) -> bool {
        self.suppressed_by(code, span, lines, blocks).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_own_line_comments_are_found_but_not_in_strings() {
        let source = "note \"// allow(RB003)\"\nwait until x // allow(RB003)\n// allow(RB003, RB001)\n\nstep a \"t\" {\n}\n";
        let lines = LineIndex::new(source);
        let (suppressions, problems) = Suppressions::parse(source, &lines);
        assert!(problems.is_empty());
        let entries = suppressions.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].target_line, 1);
        assert!(!entries[0].own_line);
        assert_eq!(entries[1].target_line, 4);
        assert!(entries[1].own_line);
    }

    #[test]
    fn unknown_codes_are_reported_at_the_code() {
        let source = "x // allow(RB003,  RB999)\n";
        let lines = LineIndex::new(source);
        let (_, problems) = Suppressions::parse(source, &lines);
        assert_eq!(problems.len(), 1);
        let span = problems[0].span;
        assert_eq!(&source[span.offset()..span.offset() + span.len()], "RB999");
    }
}
