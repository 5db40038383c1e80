//! Completion, from the text before the cursor and the document's names
//! (its syntax tree, or the last one that parsed while the text is being
//! typed): after `after`, `during` or `failed(` the step ids; after `call`
//! the callable procedures; inside `OPERATION(` or `call NAME(` the named
//! arguments not written yet; after `.` the server fields; in an
//! expression the parameters, bindings (`let`, `for`, `record` prompts),
//! built-in functions and literals; at the start of a statement the
//! keywords and the operations, inserted with their required arguments.

use lsp_types::{
    CompletionItem, CompletionItemKind, Documentation, InsertTextFormat, MarkupContent, MarkupKind,
};

use super::analysis::Analysis;
use super::hover::{operation_markdown, operation_signature};
use crate::syntax::ast::{ExprKind, File, StmtKind};
use crate::syntax::resolve::{operation, FUNCTIONS, OPERATIONS, SERVER_FIELDS};
use crate::syntax::visit;

/// Keywords that start a statement or an item of a file's body.
const STATEMENT_KEYWORDS: &[&str] = &[
    "step",
    "let",
    "note",
    "warning",
    "confirm",
    "choose",
    "record",
    "check",
    "wait until",
    "if",
    "else",
    "for",
    "call",
    "stop",
    "pause",
    "requires",
    "goal",
    "from",
    "fail",
    "retry",
    "what-if",
    "param",
    "import",
    "title",
    "summary",
    "option",
    "within",
    "after",
    "discards changes on",
    "during",
    "when",
    "timeout",
    "every",
];

/// Words of the expression language.
const EXPRESSION_KEYWORDS: &[&str] = &[
    "true", "false", "not", "and", "or", "in", "without", "all", "any", "select",
];

/// The replication state codes.
const STATES: &[&str] = &[
    "ACT_REP",
    "ACT_REP_EX",
    "ACT_NO_REP",
    "ACT_ONHOLD",
    "STB_REP",
    "STB_NO_REP",
    "STB_ONHOLD",
    "STB_ACTREP",
    "BROKEN_ACT_STB",
    "UNKNOWN",
    "SINGLE_SERVER",
];

/// What the client can take.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The client inserts snippets (`$1` placeholders).
    pub snippets: bool,
}

/// Where the cursor is, as far as completion cares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Context {
    /// A step id (`after`, `during`, `failed(`).
    Step,
    /// A callee, after `call`.
    Callee,
    /// A named argument of an operation.
    OperationArg(String),
    /// A named argument of a `call`.
    CallArg(String),
    /// A field, after `.`.
    Field,
    /// Inside an expression (after `=`, `:`, an operator, `if`, `check`...).
    Expression,
    /// Anywhere else: the start of a statement.
    Statement,
}

/// The completions at byte `offset` of `text`; `fallback` is the last tree
/// of the document that parsed, used while the text does not.
pub fn completion(
    analysis: &Analysis,
    fallback: Option<&File>,
    text: &str,
    offset: usize,
    options: Options,
) -> Vec<CompletionItem> {
    let file = analysis.ast.as_deref().or(fallback);
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let word_start = word_start(before, is_ident_char);
    let head = &before[..word_start];
    match context(head) {
        Context::Step => steps(file),
        Context::Callee => callees(analysis, file, options),
        Context::OperationArg(name) => operation_args(&name, head),
        Context::CallArg(name) => call_args(analysis, file, &name, head),
        Context::Field => fields(),
        Context::Expression => expression(file),
        Context::Statement => {
            let mut items = keywords(STATEMENT_KEYWORDS);
            items.extend(operations(options));
            items.extend(expression(file));
            items
        }
    }
}

/// Whether `c` may be part of a name.
fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Where the run of `is_word` characters that ends `text` starts (a char
/// boundary: the character before it may be of any width).
pub fn word_start(text: &str, is_word: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map(|(at, c)| at + c.len_utf8())
        .unwrap_or(0)
}

fn context(head: &str) -> Context {
    if head.ends_with('.') {
        return Context::Field;
    }
    let line = head.rsplit('\n').next().unwrap_or("");
    let trimmed = line.trim_end();
    let last_word = trimmed
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .next()
        .unwrap_or("");
    if last_word == "after" || trimmed.ends_with("failed(") || in_during_list(trimmed) {
        return Context::Step;
    }
    if last_word == "call" {
        return Context::Callee;
    }
    if let Some((callee, is_call, args)) = open_call(head) {
        let in_name_position = args
            .rsplit(',')
            .next()
            .is_none_or(|current| current.trim().is_empty());
        if in_name_position {
            if is_call {
                return Context::CallArg(callee);
            }
            if operation(&callee).is_some() {
                return Context::OperationArg(callee);
            }
        }
        return Context::Expression;
    }
    let expression_end = ["=", ":", "(", "[", ",", "==", "!=", "<", ">", "<=", ">="];
    let expression_words = [
        "if", "check", "until", "timeout", "every", "within", "on", "and", "or", "not", "in",
        "without", "from", "let", "for",
    ];
    if expression_end.iter().any(|end| trimmed.ends_with(end))
        || expression_words.contains(&last_word)
        || trimmed.starts_with("let ")
        || trimmed.starts_with("check ")
        || trimmed.starts_with("wait ")
        || trimmed.starts_with("if ")
    {
        return Context::Expression;
    }
    Context::Statement
}

/// Whether the line ends in `during STEP, STEP, ` (a step id comes next).
fn in_during_list(line: &str) -> bool {
    let Some(at) = line.rfind("during") else {
        return false;
    };
    let rest = &line[at + "during".len()..];
    let ok = rest.chars().all(|c| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ',' || c == ' ' || c == '\t'
    });
    let ready = rest.is_empty() || rest.trim_end().is_empty() || rest.trim_end().ends_with(',');
    ok && ready && (line[..at].is_empty() || line[..at].ends_with(char::is_whitespace))
}

/// The innermost `(` not closed before the cursor: the name before it,
/// whether it follows `call`, and the text of the arguments so far.
fn open_call(head: &str) -> Option<(String, bool, &str)> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut open = None;
    // A string never spans a `(` we care about in practice; count quotes
    // from the start of the current statement's line.
    for (at, c) in head.char_indices().rev() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            ')' | ']' => depth += 1,
            '[' => depth = depth.checked_sub(1)?,
            '(' => {
                if depth == 0 {
                    open = Some(at);
                    break;
                }
                depth -= 1;
            }
            '{' | '}' => return None,
            _ => {}
        }
    }
    let open = open?;
    let name_part = head[..open].trim_end();
    let name_start = word_start(name_part, is_ident_char);
    let name = &name_part[name_start..];
    if name.is_empty() {
        return None;
    }
    let is_call = name_part[..name_start].trim_end().ends_with("call");
    Some((name.to_owned(), is_call, &head[open + 1..]))
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

fn markdown(value: String) -> Option<Documentation> {
    Some(Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    }))
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|word| item(word, CompletionItemKind::KEYWORD, None))
        .collect()
}

fn steps(file: Option<&File>) -> Vec<CompletionItem> {
    file.map(|file| {
        file.steps()
            .iter()
            .map(|step| {
                item(
                    &step.id.name,
                    CompletionItemKind::REFERENCE,
                    Some(format!("step \"{}\"", step.title.value)),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

fn operations(options: Options) -> Vec<CompletionItem> {
    OPERATIONS
        .iter()
        .map(|signature| {
            let required: Vec<String> = signature
                .params
                .iter()
                .filter(|param| !param.optional)
                .enumerate()
                .map(|(at, param)| {
                    if options.snippets {
                        format!("{}: ${}", param.name, at + 1)
                    } else {
                        format!("{}: ", param.name)
                    }
                })
                .collect();
            let mut completion = item(
                signature.name,
                CompletionItemKind::FUNCTION,
                Some(operation_signature(signature)),
            );
            completion.documentation = markdown(operation_markdown(signature));
            completion.insert_text = Some(format!("{}({})", signature.name, required.join(", ")));
            if options.snippets {
                completion.insert_text_format = Some(InsertTextFormat::SNIPPET);
            }
            completion
        })
        .collect()
}

fn operation_args(name: &str, head: &str) -> Vec<CompletionItem> {
    let Some(signature) = operation(name) else {
        return Vec::new();
    };
    signature
        .params
        .iter()
        .filter(|param| !already_given(head, param.name))
        .map(|param| {
            let mut completion = item(
                param.name,
                CompletionItemKind::FIELD,
                Some(format!(
                    "{}{}",
                    param.ty.keyword(),
                    if param.optional { " (optional)" } else { "" }
                )),
            );
            completion.insert_text = Some(format!("{}: ", param.name));
            completion
        })
        .collect()
}

fn call_args(
    analysis: &Analysis,
    file: Option<&File>,
    name: &str,
    head: &str,
) -> Vec<CompletionItem> {
    let callee = super::hover::callee(analysis, name)
        .map(|(callee, _)| callee)
        .or(file.filter(|file| file.name.name == name));
    let Some(callee) = callee else {
        return Vec::new();
    };
    callee
        .params
        .iter()
        .filter(|param| !already_given(head, &param.name.name))
        .map(|param| {
            let mut completion = item(
                &param.name.name,
                CompletionItemKind::FIELD,
                Some(format!(
                    "{}{}",
                    param.ty.keyword(),
                    if param.default.is_some() {
                        " (optional)"
                    } else {
                        ""
                    }
                )),
            );
            completion.documentation = param
                .docs
                .as_ref()
                .and_then(|doc| markdown(doc.text.clone()));
            completion.insert_text = Some(format!("{}: ", param.name.name));
            completion
        })
        .collect()
}

/// Whether `name:` is already written among the arguments being typed.
fn already_given(head: &str, name: &str) -> bool {
    let args = head.rsplit('(').next().unwrap_or("");
    args.split(',').any(|arg| {
        arg.split(':')
            .next()
            .is_some_and(|written| written.trim() == name)
            && arg.contains(':')
    })
}

fn callees(analysis: &Analysis, file: Option<&File>, options: Options) -> Vec<CompletionItem> {
    let mut files: Vec<&File> = analysis
        .imports
        .iter()
        .filter_map(|import| import.ast.as_deref())
        .collect();
    if analysis.imports.is_empty() {
        if let Some(file) = file {
            files.push(file);
        }
    }
    files
        .into_iter()
        .map(|callee| {
            let required: Vec<String> = callee
                .params
                .iter()
                .filter(|param| param.default.is_none())
                .enumerate()
                .map(|(at, param)| {
                    if options.snippets {
                        format!("{}: ${}", param.name.name, at + 1)
                    } else {
                        format!("{}: ", param.name.name)
                    }
                })
                .collect();
            let mut completion = item(
                &callee.name.name,
                CompletionItemKind::MODULE,
                callee.title.as_ref().map(|title| title.value.clone()),
            );
            completion.insert_text = Some(format!("{}({})", callee.name.name, required.join(", ")));
            if options.snippets {
                completion.insert_text_format = Some(InsertTextFormat::SNIPPET);
            }
            completion
        })
        .collect()
}

fn fields() -> Vec<CompletionItem> {
    SERVER_FIELDS
        .iter()
        .map(|(name, ty)| (*name, ty.keyword()))
        .chain(std::iter::once(("state", "replication state")))
        .map(|(name, ty)| item(name, CompletionItemKind::FIELD, Some(ty.to_owned())))
        .collect()
}

/// Parameters, bindings, functions, states and expression keywords.
fn expression(file: Option<&File>) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut push = |items: &mut Vec<CompletionItem>, name: String, detail: String| {
        if !seen.contains(&name) {
            items.push(item(&name, CompletionItemKind::VARIABLE, Some(detail)));
            seen.push(name);
        }
    };
    if let Some(file) = file {
        for param in &file.params {
            push(
                &mut items,
                param.name.name.clone(),
                format!("param: {}", param.ty.keyword()),
            );
        }
        visit::for_each_stmt(file, |stmt, _| match &stmt.kind {
            StmtKind::Let { name, .. } => push(&mut items, name.name.clone(), "let".to_owned()),
            StmtKind::For { var, .. } => push(&mut items, var.name.clone(), "for".to_owned()),
            StmtKind::Record { id, .. } => push(
                &mut items,
                id.name.replace('-', "_"),
                format!("record prompt `{}`", id.name),
            ),
            _ => {}
        });
        visit::for_each_expr(file, |expr| {
            if let ExprKind::Quantifier { var, .. } = &expr.kind {
                push(&mut items, var.name.clone(), "quantifier".to_owned());
            }
        });
    }
    for function in FUNCTIONS {
        let mut completion = item(
            function.name,
            CompletionItemKind::FUNCTION,
            Some(function.signature.to_owned()),
        );
        completion.documentation = markdown(function.doc.to_owned());
        completion.insert_text = Some(if function.signature.contains("()") {
            format!("{}()", function.name)
        } else {
            format!("{}(", function.name)
        });
        items.push(completion);
    }
    items.extend(STATES.iter().map(|state| {
        item(
            state,
            CompletionItemKind::CONSTANT,
            Some("replication state".to_owned()),
        )
    }));
    items.extend(keywords(EXPRESSION_KEYWORDS));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        assert_eq!(context("    step b \"B\" within 5m after "), Context::Step);
        assert_eq!(context("what-if w \"W\" when failed("), Context::Step);
        assert_eq!(context("    when two-actives during a, "), Context::Step);
        assert_eq!(context("    call "), Context::Callee);
        assert_eq!(
            context("    set-standby(server: s, "),
            Context::OperationArg("set-standby".into())
        );
        assert_eq!(context("    set-standby(server: "), Context::Expression);
        assert_eq!(
            context("    call exclude-server("),
            Context::CallArg("exclude-server".into())
        );
        assert_eq!(context("    check s."), Context::Field);
        assert_eq!(context("    let x = "), Context::Expression);
        assert_eq!(context("    "), Context::Statement);
    }
}
