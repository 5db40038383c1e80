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

use std::sync::{LazyLock, Once};

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use super::ast::*;
use super::error::ParseError;
use super::span::Span;
use crate::cluster::{ReplicationState, Version};

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

// ------------------------------------------------------------------ scan

/// What the lexical scan learns before pest runs.
struct Scan {
    comments: Vec<Comment>,
    /// For every line that holds code: the offset of its first token and the
    /// bracket depth there.
    lines: Vec<(usize, usize)>,
    /// Whether anything but whitespace and comments is present.
    has_code: bool,
    /// The first `{` whose `}` starts a line indented differently from the
    /// line of the `{`: where a missing `}` most likely belongs.
    suspect_unclosed: Option<usize>,
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

fn scan(source: &str) -> Result<Scan, ParseError> {
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
                let start = index;
                index += 1;
                loop {
                    match bytes.get(index) {
                        None => {
                            return Err(ParseError::UnterminatedString {
                                span: Span::new(start, start + 1),
                            })
                        }
                        Some(b'\\') => index += 2,
                        Some(b'"') => {
                            index += 1;
                            break;
                        }
                        Some(_) => index += 1,
                    }
                }
                has_code = true;
            }
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                let start = index;
                let end = bytes[index..]
                    .iter()
                    .position(|byte| *byte == b'\n')
                    .map_or(bytes.len(), |offset| index + offset);
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
                comments.push(Comment {
                    kind,
                    text: text.to_string(),
                    span: Span::new(start, start + marker + text.len()),
                });
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

/// Words that start an item: where the parser resynchronises after an error.
const ITEM_KEYWORDS: &[&str] = &[
    "title", "summary", "param", "import", "let", "step", "what-if", "note", "warning", "confirm",
    "choose", "record", "check", "wait", "if", "for", "call", "stop", "fail", "retry",
];

/// `source` with every ordinary `//` comment replaced by spaces, byte for
/// byte, so every offset stays valid.
fn blank_comments<'s>(source: &'s str, comments: &[Comment]) -> std::borrow::Cow<'s, str> {
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
fn only_trivia(text: &str) -> bool {
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

fn word_at(source: &str, offset: usize) -> &str {
    let rest = source.get(offset..).unwrap_or("");
    let length = rest.bytes().take_while(|byte| is_ident_byte(*byte)).count();
    &rest[..length]
}

// ------------------------------------------------------------------ file

struct FileParser<'s> {
    source: &'s str,
    scan: Scan,
    errors: Vec<ParseError>,
}

impl<'s> FileParser<'s> {
    fn file(&mut self) -> Option<File> {
        let start = if self.source.starts_with('\u{feff}') {
            3
        } else {
            0
        };
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
            body: Vec::new(),
            what_ifs: Vec::new(),
            comments: std::mem::take(&mut self.scan.comments),
            span: Span::new(0, self.source.len()),
        };
        let mut offset = start + head.as_span().end();
        for pair in head.into_inner() {
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
                    match self.resync(offset, error_offset) {
                        Some((next, lenient)) => {
                            offset = next;
                            lenient_end |= lenient;
                            continue;
                        }
                        None => return Some(file),
                    }
                }
            };
            let Some(entry) = entry else {
                return Some(file);
            };
            let entry_end = offset + entry.as_span().end();
            let converter = Converter {
                source: self.source,
                base: offset,
            };
            let Some(inner) = entry.into_inner().next() else {
                return Some(file);
            };
            if inner.as_rule() == Rule::rbrace {
                offset = entry_end;
                break;
            }
            if let Err(error) = converter.item(inner, &mut file, &mut first_statement) {
                self.errors.push(error);
            }
            offset = entry_end;
        }

        if let Err(error) = RunbookParser::parse(Rule::file_end, &self.source[offset..]) {
            if !lenient_end {
                self.errors.push(self.pest_error(error, offset));
            }
        }
        Some(file)
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

// ------------------------------------------------------------------ errors in words

/// The rules pest reports as expected, with the ones that stand for what
/// they guard replaced by it, in the grammar's order. Pest reports a rule
/// that failed before trying any rule of its own (its lookahead failed, or
/// several alternatives failed where it started) instead of what it holds.
fn reported_rules(positives: &[Rule]) -> Vec<Rule> {
    let mut rules = Vec::with_capacity(positives.len() + 1);
    for rule in positives {
        match rule {
            // Neither an item nor the closing `}` starts here.
            Rule::item_entry => rules.extend([Rule::item, Rule::rbrace]),
            Rule::field_access => rules.push(Rule::dot),
            Rule::call_args => rules.push(Rule::lparen),
            other => rules.push(*other),
        }
    }
    rules.sort();
    rules.dedup();
    rules
}

/// What a rule means to a reader, for "expected ..." labels.
fn expected_words(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        lbrace | block => "`{`",
        rbrace => "`}`",
        lparen => "`(`",
        rparen => "`)`",
        lbracket => "`[`",
        rbracket => "`]`",
        comma => "`,`",
        colon => "`:`",
        equals => "`=`",
        EOI | file_end => "the end of the file",
        item => "a statement",
        stmt => "a statement",
        file_kind | kw_runbook | kw_procedure => "`runbook` or `procedure`",
        file_name => "a runbook name",
        step_id | step_number | step_ref => "a step id",
        prompt_id => "a prompt id",
        option_id => "an option name",
        what_if_id => "a What-if id",
        call_target => "a procedure name",
        args | arg | arg_name => "an argument such as `server: active`",
        field_access | field_name | dot => "`.`",
        var_name => "a name",
        reference | reference_name => "an expression",
        call_args => "`(`",
        operation_name | operation => "an operation",
        string | string_content => "a string such as `\"...\"`",
        expr | term | paren_expr | list | select_expr | duration | version | number | boolean
        | state | bad_number | op_not | quantifier_head => "an expression",
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_in | op_without => {
            "an operator"
        }
        param_type | ty_string | ty_number | ty_bool | ty_duration | ty_version | ty_server
        | ty_server_list => "a type (`string`, `number`, `bool`, `duration`, `version`, `server` or `[server]`)",
        trigger | trig_failed | trig_upgrade_cancelled | trig_two_actives | trig_standby_activated
        | trig_replication_broken => {
            "a trigger (`failed(STEP)`, `two-actives`, `standby-activated`, `upgrade-cancelled(SERVER)` or `replication-broken`)"
        }
        choice_option | kw_option => "`option`",
        kw_title => "`title`",
        kw_summary => "`summary`",
        kw_param => "`param`",
        kw_import => "`import`",
        kw_what_if => "`what-if`",
        kw_when => "`when`",
        kw_during | during_clause => "`during`",
        kw_let => "`let`",
        kw_step => "`step`",
        kw_within | within_clause => "`within`",
        kw_after => "`after`",
        kw_discards | discards_clause => "`discards changes on`",
        kw_changes => "`changes`",
        kw_on => "`on`",
        kw_note => "`note`",
        kw_warning => "`warning`",
        kw_confirm => "`confirm`",
        kw_choose => "`choose`",
        kw_default => "`default`",
        kw_record => "`record`",
        kw_check => "`check`",
        kw_else | else_if | else_block => "`else`",
        kw_wait => "`wait`",
        kw_until => "`until`",
        kw_timeout | timeout_clause => "`timeout`",
        kw_every | every_clause => "`every`",
        kw_if => "`if`",
        kw_for => "`for`",
        kw_in => "`in`",
        kw_call => "`call`",
        kw_stop => "`stop`",
        kw_fail => "`fail`",
        kw_retry => "`retry`",
        kw_all | kw_any => "`all` or `any`",
        kw_select => "`select`",
        kw_from => "`from`",
        _ => return None,
    })
}

/// "a, b or c"
fn join_words(words: &[&str]) -> String {
    match words {
        [] => "something else".to_string(),
        [only] => (*only).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn unexpected(
    source: &str,
    position: usize,
    positives: &[Rule],
    suspect_unclosed: Option<usize>,
) -> ParseError {
    let mut words: Vec<&str> = Vec::new();
    for word in positives.iter().filter_map(|rule| expected_words(*rule)) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Generic alternatives go last: "expected `else` or an operator".
    words.sort_by_key(|word| matches!(*word, "an operator" | "`.`"));
    let expected = join_words(&words);
    let at_end = source[position.min(source.len())..].trim().is_empty();
    let word = word_at(source, position);
    let found = if at_end {
        "the end of the file".to_string()
    } else if source[position..].starts_with('"') {
        "a string".to_string()
    } else if !word.is_empty() {
        format!("`{word}`")
    } else {
        let character = source[position..].chars().next().unwrap_or(' ');
        format!("`{character}`")
    };
    let is_keyword = ITEM_KEYWORDS.contains(&word)
        || matches!(
            word,
            "and"
                | "or"
                | "not"
                | "in"
                | "without"
                | "all"
                | "any"
                | "true"
                | "false"
                | "else"
                | "option"
                | "default"
        );
    let unclosed = suspect_unclosed
        .filter(|_| at_end && words.contains(&"`}`"))
        .map(|offset| Span::new(offset, offset + 1));
    let help = if unclosed.is_some() {
        "judging by the indentation, this `{` lacks its `}`: add it where the block ends"
            .to_string()
    } else if at_end {
        "the file ends too early: a closing `}` or the end of a statement is missing".to_string()
    } else if words.contains(&"`}`") && matches!(word, "step" | "what-if" | "param" | "import") {
        "a block is not closed before this line: add the missing `}`".to_string()
    } else if is_keyword && words.iter().any(|word| word.contains("name")) {
        format!("`{word}` is a keyword and cannot be used as a name here")
    } else if words.contains(&"a statement") {
        "statements start with a keyword (`let`, `step`, `check`, `wait`, `if`, ...) or an operation such as `exclude(server: s)`; see docs/language.md".to_string()
    } else {
        "see docs/language.md for the syntax of this construct".to_string()
    };
    let span = if at_end {
        let end = source.trim_end().len();
        if end == source.len() {
            // miette shows no label at the very end of a file without a
            // final newline: point at the last character instead.
            let width = source[..end].chars().next_back().map_or(0, char::len_utf8);
            Span::new(end - width, end)
        } else {
            Span::empty(end)
        }
    } else {
        token_span(source, position)
    };
    ParseError::Unexpected {
        span,
        expected,
        found,
        help,
        unclosed,
    }
}

/// The token at `position`: a word, or one character.
fn token_span(source: &str, position: usize) -> Span {
    let position = position.min(source.len());
    let word = word_at(source, position);
    if !word.is_empty() {
        return Span::new(position, position + word.len());
    }
    let width = source[position..].chars().next().map_or(0, char::len_utf8);
    Span::new(position, position + width)
}

// ------------------------------------------------------------------ conversion

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::prefix(Rule::quantifier_head))
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_without, Assoc::Left))
});

/// Converts the pairs of one pest parse (whose input started at `base`).
struct Converter<'s> {
    source: &'s str,
    base: usize,
}

type Converted<T> = Result<T, ParseError>;

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
            | kw_fail
            | kw_retry
            | kw_select
            | kw_from
    )
}

fn significant(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|child| !is_token(child.as_rule()))
}

/// A missing child where the grammar guarantees one: reported rather than
/// panicking, should grammar and converter ever disagree.
fn missing(span: Span, what: &str) -> ParseError {
    ParseError::Unexpected {
        span,
        expected: what.to_string(),
        found: "something else".to_string(),
        help: "this is a bug in the runbook parser; please report it with the file".to_string(),
        unclosed: None,
    }
}

impl<'s> Converter<'s> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
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
    fn token(&self, pair: &Pair<'_, Rule>) -> (Span, &'s str) {
        let span = self.span(pair);
        (span, &self.source[span.start as usize..span.end as usize])
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        let (span, name) = self.token(pair);
        Ident {
            name: name.to_string(),
            span,
        }
    }

    fn docs(&self, pair: Pair<'_, Rule>) -> Doc {
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

    fn item(
        &self,
        pair: Pair<'_, Rule>,
        file: &mut File,
        first_statement: &mut Option<Span>,
    ) -> Converted<()> {
        let mut docs = None;
        for child in pair.into_inner() {
            let span = self.span(&child);
            let header = |what: &str, first_statement: &Option<Span>| match first_statement {
                Some(first) => Err(ParseError::MisplacedDeclaration {
                    span,
                    first_statement: *first,
                    what: what.to_string(),
                }),
                None => Ok(()),
            };
            match child.as_rule() {
                Rule::docs => docs = Some(self.docs(child)),
                Rule::title_decl => {
                    header("title", first_statement)?;
                    let text = self.string_child(child)?;
                    if let Some(first) = &file.title {
                        return Err(ParseError::DuplicateDeclaration {
                            span,
                            first: first.span,
                            what: "title".to_string(),
                        });
                    }
                    file.title = Some(text);
                }
                Rule::summary_decl => {
                    header("summary", first_statement)?;
                    let text = self.string_child(child)?;
                    if let Some(first) = &file.summary {
                        return Err(ParseError::DuplicateDeclaration {
                            span,
                            first: first.span,
                            what: "summary".to_string(),
                        });
                    }
                    file.summary = Some(text);
                }
                Rule::param_decl => {
                    header("param", first_statement)?;
                    file.params.push(self.param(child, docs.take())?);
                }
                Rule::import_decl => {
                    header("import", first_statement)?;
                    let path = self.string_child(child)?;
                    file.imports.push(Import { path, span });
                }
                Rule::what_if => file.what_ifs.push(self.what_if(child, docs.take())?),
                _ => {
                    first_statement.get_or_insert(span);
                    let kind = self.stmt_kind(child, span)?;
                    file.body.push(Stmt {
                        docs: docs.take(),
                        kind,
                        span,
                    });
                }
            }
        }
        Ok(())
    }

    fn string_child(&self, pair: Pair<'_, Rule>) -> Converted<StringLit> {
        let span = self.span(&pair);
        let child = significant(pair)
            .find(|child| child.as_rule() == Rule::string)
            .ok_or_else(|| missing(span, "a string"))?;
        self.string(child)
    }

    fn param(&self, pair: Pair<'_, Rule>, docs: Option<Doc>) -> Converted<Param> {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        let mut default = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::var_name => name = Some(self.ident(&child)),
                Rule::param_type => {
                    let ty_span = self.span(&child);
                    let kind = match child.into_inner().next().map(|inner| inner.as_rule()) {
                        Some(Rule::ty_string) => ParamType::String,
                        Some(Rule::ty_number) => ParamType::Number,
                        Some(Rule::ty_bool) => ParamType::Bool,
                        Some(Rule::ty_duration) => ParamType::Duration,
                        Some(Rule::ty_version) => ParamType::Version,
                        Some(Rule::ty_server) => ParamType::Server,
                        _ => ParamType::ServerList,
                    };
                    ty = Some((kind, ty_span));
                }
                Rule::expr => default = Some(self.expr(child)?),
                _ => {}
            }
        }
        let (ty, ty_span) = ty.ok_or_else(|| missing(span, "a type"))?;
        Ok(Param {
            docs,
            name: name.ok_or_else(|| missing(span, "a name"))?,
            ty,
            ty_span,
            default,
            span,
        })
    }

    fn what_if(&self, pair: Pair<'_, Rule>, docs: Option<Doc>) -> Converted<WhatIf> {
        let span = self.span(&pair);
        let mut id = None;
        let mut title = None;
        let mut triggers = Vec::new();
        let mut during = Vec::new();
        let mut discards_changes_on = None;
        let mut body = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::what_if_id => id = Some(self.ident(&child)),
                Rule::string => title = Some(self.string(child)?),
                Rule::trigger => triggers.push(self.trigger(child)?),
                Rule::during_clause => {
                    during.extend(significant(child).map(|step| self.ident(&step)));
                }
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(WhatIf {
            docs,
            id: id.ok_or_else(|| missing(span, "a What-if id"))?,
            title: title.ok_or_else(|| missing(span, "a title"))?,
            triggers,
            during,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    fn trigger(&self, pair: Pair<'_, Rule>) -> Converted<Trigger> {
        let span = self.span(&pair);
        let mut children = significant(pair);
        let keyword = children.next().ok_or_else(|| missing(span, "a trigger"))?;
        let kind = match keyword.as_rule() {
            Rule::trig_failed => {
                let step = children.next().ok_or_else(|| missing(span, "a step id"))?;
                TriggerKind::Failed(self.ident(&step))
            }
            Rule::trig_upgrade_cancelled => {
                let server = children
                    .next()
                    .ok_or_else(|| missing(span, "an expression"))?;
                TriggerKind::UpgradeCancelled(self.expr(server)?)
            }
            Rule::trig_two_actives => TriggerKind::TwoActives,
            Rule::trig_standby_activated => TriggerKind::StandbyActivated,
            _ => TriggerKind::ReplicationBroken,
        };
        Ok(Trigger { kind, span })
    }

    fn block(&self, pair: Pair<'_, Rule>) -> Converted<Block> {
        let span = self.span(&pair);
        let stmts = significant(pair)
            .map(|stmt| self.stmt(stmt))
            .collect::<Converted<Vec<_>>>()?;
        Ok(Block { stmts, span })
    }

    fn stmt(&self, pair: Pair<'_, Rule>) -> Converted<Stmt> {
        let mut docs = None;
        let whole = pair.clone();
        for child in pair.into_inner() {
            if child.as_rule() == Rule::docs {
                docs = Some(self.docs(child));
            } else {
                let span = self.span(&child);
                return Ok(Stmt {
                    docs,
                    kind: self.stmt_kind(child, span)?,
                    span,
                });
            }
        }
        Err(missing(self.span(&whole), "a statement"))
    }

    /// `span` is the statement's (`self.span(&pair)`).
    fn stmt_kind(&self, pair: Pair<'_, Rule>, span: Span) -> Converted<StmtKind> {
        let rule = pair.as_rule();
        let mut children = significant(pair);
        let mut next = |what: &str| children.next().ok_or_else(|| missing(span, what));
        Ok(match rule {
            Rule::let_stmt => StmtKind::Let {
                name: self.ident(&next("a name")?),
                value: self.expr(next("an expression")?)?,
            },
            Rule::step_stmt => {
                return self.step(children, span).map(StmtKind::Step);
            }
            Rule::note_stmt => StmtKind::Note {
                text: self.string(next("a string")?)?,
            },
            Rule::warning_stmt => StmtKind::Warning {
                text: self.string(next("a string")?)?,
            },
            Rule::confirm_stmt => StmtKind::Confirm {
                id: self.ident(&next("a prompt id")?),
                text: self.string(next("a string")?)?,
            },
            Rule::record_stmt => StmtKind::Record {
                id: self.ident(&next("a prompt id")?),
                text: self.string(next("a string")?)?,
            },
            Rule::choose_stmt => {
                let id = self.ident(&next("a prompt id")?);
                let text = self.string(next("a string")?)?;
                let options = children
                    .map(|option| self.choice_option(option))
                    .collect::<Converted<Vec<_>>>()?;
                StmtKind::Choose(Choose {
                    id,
                    text,
                    options,
                    span,
                })
            }
            Rule::check_stmt => StmtKind::Check {
                condition: self.expr(next("an expression")?)?,
                message: self.string(next("a string")?)?,
            },
            Rule::wait_stmt => {
                let condition = self.expr(next("an expression")?)?;
                let mut timeout = None;
                let mut every = None;
                for clause in children {
                    let clause_rule = clause.as_rule();
                    let clause_span = self.span(&clause);
                    let value = significant(clause)
                        .next()
                        .ok_or_else(|| missing(clause_span, "a duration"))?;
                    let value = Some(self.expr(value)?);
                    if clause_rule == Rule::timeout_clause {
                        timeout = value;
                    } else {
                        every = value;
                    }
                }
                StmtKind::Wait {
                    condition,
                    timeout,
                    every,
                }
            }
            Rule::if_stmt => {
                let condition = self.expr(next("an expression")?)?;
                let body = self.block(next("a block")?)?;
                let mut branches = vec![IfBranch { condition, body }];
                let mut otherwise = None;
                for clause in children {
                    let clause_span = self.span(&clause);
                    if clause.as_rule() == Rule::else_if {
                        let mut parts = significant(clause);
                        let condition = parts
                            .next()
                            .ok_or_else(|| missing(clause_span, "an expression"))?;
                        let body = parts
                            .next()
                            .ok_or_else(|| missing(clause_span, "a block"))?;
                        branches.push(IfBranch {
                            condition: self.expr(condition)?,
                            body: self.block(body)?,
                        });
                    } else {
                        let body = significant(clause)
                            .next()
                            .ok_or_else(|| missing(clause_span, "a block"))?;
                        otherwise = Some(self.block(body)?);
                    }
                }
                StmtKind::If(If {
                    branches,
                    otherwise,
                    span,
                })
            }
            Rule::for_stmt => StmtKind::For {
                var: self.ident(&next("a name")?),
                list: self.expr(next("an expression")?)?,
                body: self.block(next("a block")?)?,
            },
            Rule::call_stmt => {
                let target = self.ident(&next("a procedure name")?);
                StmtKind::Call(Call {
                    target,
                    args: self.args(children.next())?,
                    span,
                })
            }
            Rule::stop_stmt => StmtKind::Stop {
                message: self.string(next("a string")?)?,
            },
            Rule::fail_stmt => StmtKind::Fail {
                message: self.string(next("a string")?)?,
            },
            Rule::retry_stmt => StmtKind::Retry,
            Rule::operation => {
                let name = self.ident(&next("an operation")?);
                StmtKind::Operation(OperationCall {
                    name,
                    args: self.args(children.next())?,
                    span,
                })
            }
            _ => return Err(missing(span, "a statement")),
        })
    }

    fn step<'p>(
        &self,
        children: impl Iterator<Item = Pair<'p, Rule>>,
        span: Span,
    ) -> Converted<Step> {
        let mut number = None;
        let mut id = None;
        let mut title = None;
        let mut window = None;
        let mut discards_changes_on = None;
        let mut body = None;
        for child in children {
            match child.as_rule() {
                Rule::step_number => {
                    let (span, text) = self.token(&child);
                    number = Some(StepNumber {
                        text: text.to_string(),
                        span,
                    })
                }
                Rule::step_id => id = Some(self.ident(&child)),
                Rule::string => title = Some(self.string(child)?),
                Rule::within_clause => {
                    let clause_span = self.span(&child);
                    let mut parts = significant(child);
                    let duration = parts
                        .next()
                        .ok_or_else(|| missing(clause_span, "a duration"))?;
                    let after = parts
                        .next()
                        .ok_or_else(|| missing(clause_span, "a step id"))?;
                    window = Some(Window {
                        duration: self.expr(duration)?,
                        after: self.ident(&after),
                        span: clause_span,
                    });
                }
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(Step {
            number,
            id: id.ok_or_else(|| missing(span, "a step id"))?,
            title: title.ok_or_else(|| missing(span, "a title"))?,
            window,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    /// The server of `discards changes on EXPR` (steps, options, What-ifs).
    fn discards_clause(&self, clause: Pair<'_, Rule>) -> Converted<Expr> {
        let clause_span = self.span(&clause);
        let server = significant(clause)
            .next()
            .ok_or_else(|| missing(clause_span, "an expression"))?;
        self.expr(server)
    }

    fn choice_option(&self, pair: Pair<'_, Rule>) -> Converted<ChoiceOption> {
        let span = self.span(&pair);
        let mut docs = None;
        let mut name = None;
        let mut label = None;
        let mut is_default = false;
        let mut discards_changes_on = None;
        let mut body = None;
        for child in significant(pair) {
            match child.as_rule() {
                Rule::docs => docs = Some(self.docs(child)),
                Rule::option_id => name = Some(self.ident(&child)),
                Rule::string => label = Some(self.string(child)?),
                Rule::kw_default => is_default = true,
                Rule::discards_clause => discards_changes_on = Some(self.discards_clause(child)?),
                Rule::block => body = Some(self.block(child)?),
                _ => {}
            }
        }
        Ok(ChoiceOption {
            docs,
            name: name.ok_or_else(|| missing(span, "an option name"))?,
            label: label.ok_or_else(|| missing(span, "a label"))?,
            is_default,
            discards_changes_on,
            body: body.ok_or_else(|| missing(span, "a block"))?,
            span,
        })
    }

    fn args(&self, pair: Option<Pair<'_, Rule>>) -> Converted<Vec<Arg>> {
        let Some(pair) = pair else {
            return Ok(Vec::new());
        };
        significant(pair)
            .map(|arg| {
                let span = self.span(&arg);
                let mut parts = significant(arg);
                let name = parts
                    .next()
                    .ok_or_else(|| missing(span, "an argument name"))?;
                let value = parts.next().ok_or_else(|| missing(span, "an expression"))?;
                Ok(Arg {
                    name: self.ident(&name),
                    value: self.expr(value)?,
                    span,
                })
            })
            .collect()
    }

    // -------------------------------------------------------------- expressions

    fn expr(&self, pair: Pair<'_, Rule>) -> Converted<Expr> {
        self.expr_with_depth(pair).map(|(expr, _)| expr)
    }

    fn too_complex(&self, span: Span) -> ParseError {
        ParseError::ExpressionTooComplex {
            span,
            limit: MAX_EXPRESSION_DEPTH,
        }
    }

    fn expr_with_depth(&self, pair: Pair<'_, Rule>) -> Converted<(Expr, usize)> {
        let pairs = pair.clone().into_inner();
        // Most expressions are a single term: no operators to structure.
        let mut single = pairs.clone();
        if let (Some(term), None) = (single.next(), single.next()) {
            if term.as_rule() == Rule::term {
                return self.term(term);
            }
        }
        let span = self.span(&pair);
        // The Pratt parser recurses once per prefix operator.
        let prefixes = pairs
            .clone()
            .filter(|child| matches!(child.as_rule(), Rule::op_not | Rule::quantifier_head))
            .count();
        if prefixes > MAX_EXPRESSION_DEPTH {
            return Err(self.too_complex(span));
        }
        self.pratt(pairs)
    }

    fn checked(&self, expr: Expr, depth: usize) -> Converted<(Expr, usize)> {
        if depth > MAX_EXPRESSION_DEPTH {
            Err(self.too_complex(expr.span))
        } else {
            Ok((expr, depth))
        }
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Converted<(Expr, usize)> {
        PRATT
            .map_primary(|term| self.term(term))
            .map_prefix(|op, operand| {
                let (operand, depth) = operand?;
                let op_span = self.span(&op);
                let span = op_span.to(operand.span);
                let kind = if op.as_rule() == Rule::op_not {
                    ExprKind::Not(Box::new(operand))
                } else {
                    let mut quantifier = Quantifier::All;
                    let mut var = None;
                    let mut list: Option<(Expr, usize)> = None;
                    let mut without_span = None;
                    for child in significant(op) {
                        match child.as_rule() {
                            Rule::kw_any => quantifier = Quantifier::Any,
                            Rule::var_name => var = Some(self.ident(&child)),
                            Rule::op_without => without_span = Some(self.span(&child)),
                            Rule::term => {
                                let (term, term_depth) = self.term(child)?;
                                list = Some(match (list, without_span.take()) {
                                    (Some((lhs, lhs_depth)), Some(op_span)) => {
                                        let span = lhs.span.to(term.span);
                                        self.checked(
                                            Expr {
                                                kind: ExprKind::Binary {
                                                    op: BinaryOp::Without,
                                                    op_span,
                                                    lhs: Box::new(lhs),
                                                    rhs: Box::new(term),
                                                },
                                                span,
                                            },
                                            lhs_depth.max(term_depth) + 1,
                                        )?
                                    }
                                    _ => (term, term_depth),
                                });
                            }
                            _ => {}
                        }
                    }
                    let (list, list_depth) = list.ok_or_else(|| missing(op_span, "a list"))?;
                    return self.checked(
                        Expr {
                            kind: ExprKind::Quantifier {
                                quantifier,
                                var: var.ok_or_else(|| missing(op_span, "a name"))?,
                                list: Box::new(list),
                                body: Box::new(operand),
                            },
                            span,
                        },
                        depth.max(list_depth) + 1,
                    );
                };
                self.checked(Expr { kind, span }, depth + 1)
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, lhs_depth) = lhs?;
                let (rhs, rhs_depth) = rhs?;
                let op_kind = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_in => BinaryOp::In,
                    _ => BinaryOp::Without,
                };
                let span = lhs.span.to(rhs.span);
                self.checked(
                    Expr {
                        kind: ExprKind::Binary {
                            op: op_kind,
                            op_span: self.span(&op),
                            lhs: Box::new(lhs),
                            rhs: Box::new(rhs),
                        },
                        span,
                    },
                    lhs_depth.max(rhs_depth) + 1,
                )
            })
            .parse(pairs)
    }

    fn term(&self, pair: Pair<'_, Rule>) -> Converted<(Expr, usize)> {
        // The term's own span is only needed for an error.
        let whole = pair.clone();
        let mut children = pair.into_inner();
        let atom = children
            .next()
            .ok_or_else(|| missing(self.span(&whole), "an expression"))?;
        let (mut expr, mut depth) = self.atom(atom)?;
        for access in children {
            let field = significant(access)
                .next()
                .ok_or_else(|| missing(self.span(&whole), "a field name"))?;
            let field = self.ident(&field);
            let span = expr.span.to(field.span);
            depth += 1;
            if depth > MAX_EXPRESSION_DEPTH {
                return Err(self.too_complex(span));
            }
            expr = Expr {
                kind: ExprKind::Field {
                    target: Box::new(expr),
                    field,
                },
                span,
            };
        }
        Ok((expr, depth))
    }

    fn atom(&self, pair: Pair<'_, Rule>) -> Converted<(Expr, usize)> {
        let (span, text) = self.token(&pair);
        let leaf = |kind| Ok((Expr { kind, span }, 1));
        match pair.as_rule() {
            Rule::paren_expr => {
                let inner = significant(pair)
                    .next()
                    .ok_or_else(|| missing(span, "an expression"))?;
                let (mut expr, depth) = self.expr_with_depth(inner)?;
                expr.span = span;
                Ok((expr, depth))
            }
            Rule::list => {
                let mut depth = 0;
                let mut items = Vec::new();
                for item in significant(pair) {
                    let (item, item_depth) = self.expr_with_depth(item)?;
                    depth = depth.max(item_depth);
                    items.push(item);
                }
                Ok((
                    Expr {
                        kind: ExprKind::List(items),
                        span,
                    },
                    depth + 1,
                ))
            }
            Rule::select_expr => {
                let mut parts = significant(pair);
                let id = parts.next().ok_or_else(|| missing(span, "a prompt id"))?;
                let question = parts.next().ok_or_else(|| missing(span, "a string"))?;
                let from = parts.next().ok_or_else(|| missing(span, "a list"))?;
                let (from, depth) = self.term(from)?;
                Ok((
                    Expr {
                        kind: ExprKind::Select {
                            id: self.ident(&id),
                            text: self.string(question)?,
                            from: Box::new(from),
                        },
                        span,
                    },
                    depth + 1,
                ))
            }
            Rule::reference => {
                let mut parts = pair.into_inner();
                let name = parts.next().ok_or_else(|| missing(span, "a name"))?;
                let name = self.ident(&name);
                let Some(call_args) = parts.next() else {
                    return leaf(ExprKind::Var(name));
                };
                let mut depth = 0;
                let mut args = Vec::new();
                for arg in significant(call_args) {
                    let (arg, arg_depth) = self.expr_with_depth(arg)?;
                    depth = depth.max(arg_depth);
                    args.push(arg);
                }
                Ok((
                    Expr {
                        kind: ExprKind::Call {
                            function: name,
                            args,
                        },
                        span,
                    },
                    depth + 1,
                ))
            }
            Rule::string => {
                let literal = self.string(pair)?;
                leaf(ExprKind::String(literal.value))
            }
            Rule::duration => leaf(ExprKind::Duration(self.duration(text, span)?)),
            Rule::version => match text.parse::<Version>() {
                Ok(version) => leaf(ExprKind::Version(version)),
                Err(_) => Err(ParseError::InvalidNumber {
                    span,
                    text: text.to_string(),
                }),
            },
            Rule::number => leaf(ExprKind::Number(self.number(text, span)?)),
            Rule::bad_number => Err(ParseError::InvalidDuration {
                span,
                text: text.to_string(),
            }),
            Rule::boolean => leaf(ExprKind::Bool(text == "true")),
            Rule::state => match text.parse::<ReplicationState>() {
                Ok(state) => leaf(ExprKind::State(state)),
                Err(_) => Err(missing(span, "a replication state")),
            },
            _ => Err(missing(span, "an expression")),
        }
    }

    fn number(&self, text: &str, span: Span) -> Converted<u64> {
        text.parse().map_err(|_| ParseError::InvalidNumber {
            span,
            text: text.to_string(),
        })
    }

    fn duration(&self, text: &str, span: Span) -> Converted<std::time::Duration> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let amount = self.number(&text[..digits], span)?;
        let millis_per_unit: u64 = match &text[digits..] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => 86_400_000,
        };
        amount
            .checked_mul(millis_per_unit)
            .map(std::time::Duration::from_millis)
            .ok_or_else(|| ParseError::InvalidNumber {
                span,
                text: text.to_string(),
            })
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Converted<StringLit> {
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
