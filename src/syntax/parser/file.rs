//! The file driver: parses the header (kind, name, doc comments, imports),
//! then the body one item at a time from a slice that most likely holds just
//! that item, and after a syntax error resynchronises at the next line that
//! starts an item, so one run reports several errors.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use super::convert::Converter;
use super::messages::{reported_rules, token_span, unexpected};
use super::scan::{only_trivia, word_at, Scan, ITEM_KEYWORDS};
use super::{Rule, RunbookParser};
use crate::syntax::ast::{File, FileKind, Ident, Import};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

pub(super) struct FileParser<'s> {
    pub(super) source: &'s str,
    pub(super) scan: Scan,
    pub(super) errors: Vec<ParseError>,
}

impl FileParser<'_> {
    pub(super) fn file(&mut self) -> Option<File> {
        let start = if self.source.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        let (mut file, offset) = self.head(start)?;
        if let Some((offset, lenient_end)) = self.items(&mut file, offset) {
            if let Err(error) = RunbookParser::parse(Rule::file_end, &self.source[offset..]) {
                if !lenient_end {
                    self.errors.push(self.pest_error(error, offset));
                }
            }
        }
        Some(file)
    }

    /// The file with its header filled in (everything before the body's
    /// items), and the offset where the body's items start. `None` when
    /// the header does not parse (the error is recorded).
    fn head(&mut self, start: usize) -> Option<(File, usize)> {
        let head = match RunbookParser::parse(Rule::file_head, &self.source[start..]) {
            Ok(mut pairs) => pairs.next()?,
            Err(error) => {
                self.errors.push(self.pest_error(error, start));
                return None;
            }
        };
        let converter = Converter {
            source: self.source,
            base: start,
        };
        let mut file = File {
            module_docs: None,
            docs: None,
            kind: FileKind::Runbook,
            name: Ident {
                name: String::new(),
                span: Span::default(),
            },
            title: None,
            summary: None,
            params: Vec::new(),
            imports: Vec::new(),
            requires: Vec::new(),
            goals: Vec::new(),
            from: Vec::new(),
            body: Vec::new(),
            what_ifs: Vec::new(),
            comments: std::mem::take(&mut self.scan.comments),
            span: Span::new(0, self.source.len()),
        };
        let offset = start + head.as_span().end();
        for pair in head.into_inner() {
            self.head_part(&converter, pair, &mut file);
        }
        Some((file, offset))
    }

    /// One part of the header (doc comments, kind, name or an import).
    fn head_part(&mut self, converter: &Converter<'_>, pair: Pair<'_, Rule>, file: &mut File) {
        match pair.as_rule() {
            Rule::module_docs => file.module_docs = Some(converter.docs(pair)),
            Rule::docs => file.docs = Some(converter.docs(pair)),
            Rule::file_kind => {
                file.kind = match pair.into_inner().next().map(|kw| kw.as_rule()) {
                    Some(Rule::kw_procedure) => FileKind::Procedure,
                    _ => FileKind::Runbook,
                }
            }
            Rule::file_name => file.name = converter.ident(&pair),
            Rule::import_decl => {
                let span = converter.span(&pair);
                match converter.string_child(pair) {
                    Ok(path) => file.imports.push(Import { path, span }),
                    Err(error) => self.errors.push(error),
                }
            }
            _ => {}
        }
    }

    /// Parses the body's items from `offset` on, into `file`. The offset
    /// where the body ends (after its `}`) and whether the file's end is not
    /// to be checked; `None` when nothing more can be parsed.
    fn items(&mut self, file: &mut File, mut offset: usize) -> Option<(usize, bool)> {
        let mut first_statement: Option<Span> = None;
        let mut lenient_end = false;
        let cuts = self.item_starts();
        loop {
            // Pest indexes the lines of its whole input on every call, so
            // each item is parsed from a slice that ends where the next item
            // most likely starts; should the guess be wrong, from the rest.
            let bounded = &self.source[offset..self.likely_item_end(&cuts, offset)];
            let parsed = match RunbookParser::parse(Rule::item_entry, bounded) {
                Ok(pairs) => Ok(pairs),
                Err(_) if bounded.len() < self.source.len() - offset => {
                    RunbookParser::parse(Rule::item_entry, &self.source[offset..])
                }
                Err(error) => Err(error),
            };
            let entry = match parsed {
                Ok(mut pairs) => pairs.next(),
                Err(error) => {
                    let error_offset = match error.location {
                        InputLocation::Pos(position) => position,
                        InputLocation::Span((position, _)) => position,
                    } + offset;
                    self.errors.push(self.pest_error(error, offset));
                    let (next, lenient) = self.resync(offset, error_offset)?;
                    offset = next;
                    lenient_end |= lenient;
                    continue;
                }
            };
            let entry = entry?;
            let entry_end = offset + entry.as_span().end();
            let converter = Converter {
                source: self.source,
                base: offset,
            };
            let inner = entry.into_inner().next()?;
            if inner.as_rule() == Rule::rbrace {
                offset = entry_end;
                break;
            }
            if let Err(error) = converter.item(inner, file, &mut first_statement) {
                self.errors.push(error);
            }
            offset = entry_end;
        }
        Some((offset, lenient_end))
    }

    /// Offsets of the lines of the body (depth 1) that start an item: a
    /// keyword that starts a statement, or the first of a run of `///` lines.
    fn item_starts(&self) -> Vec<usize> {
        let mut cuts = Vec::new();
        let mut previous_was_doc = false;
        for (offset, depth) in &self.scan.lines {
            let rest = &self.source[*offset..];
            let is_doc = rest.starts_with("///") && !rest.starts_with("////");
            if *depth == 1
                && !previous_was_doc
                && (is_doc || ITEM_KEYWORDS.contains(&word_at(self.source, *offset)))
            {
                cuts.push(*offset);
            }
            previous_was_doc = is_doc;
        }
        cuts
    }

    /// Where the item that starts at `offset` (after trivia) most likely
    /// ends: at the next item start after its own.
    fn likely_item_end(&self, cuts: &[usize], offset: usize) -> usize {
        let index = cuts.partition_point(|cut| *cut <= offset);
        match cuts.get(index) {
            Some(cut) if !only_trivia(&self.source[offset..*cut]) => *cut,
            // `cut` is where this very item starts: the next one ends it.
            Some(_) => cuts.get(index + 1).copied().unwrap_or(self.source.len()),
            None => self.source.len(),
        }
    }

    /// The offset of the next line after `error_offset` that starts an item,
    /// and whether it was found inside a block (the item structure is then
    /// off by one brace, and the file's end is not checked).
    fn resync(&self, item_start: usize, error_offset: usize) -> Option<(usize, bool)> {
        let after = error_offset.max(item_start + 1);
        let starts_item = |offset: usize| {
            let rest = &self.source[offset..];
            if rest.starts_with("///") && !rest.starts_with("////") {
                return true;
            }
            let word = word_at(self.source, offset);
            if word.is_empty() {
                return false;
            }
            ITEM_KEYWORDS.contains(&word) || rest[word.len()..].trim_start().starts_with('(')
        };
        let candidates = || {
            self.scan
                .lines
                .iter()
                .filter(|(offset, _)| *offset >= after)
        };
        if let Some((offset, _)) =
            candidates().find(|(offset, depth)| *depth == 1 && starts_item(*offset))
        {
            return Some((*offset, false));
        }
        candidates()
            .find(|(offset, _)| matches!(word_at(self.source, *offset), "step" | "what-if"))
            .map(|(offset, _)| (*offset, true))
    }

    fn pest_error(&self, error: pest::error::Error<Rule>, base: usize) -> ParseError {
        let position = match error.location {
            InputLocation::Pos(position) => position,
            InputLocation::Span((position, _)) => position,
        } + base;
        match error.variant {
            ErrorVariant::ParsingError { positives, .. } => unexpected(
                self.source,
                position,
                &reported_rules(&positives),
                self.scan.suspect_unclosed,
            ),
            ErrorVariant::CustomError { message } => ParseError::TooComplex {
                span: token_span(self.source, position),
                reason: message,
            },
        }
    }
}
