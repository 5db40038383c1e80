//! Document symbols, the outline of a document: its parameters, its steps
//! (nested as written: a step inside an `if`, a `for` or an option sits
//! under the step that holds it), its `choose` prompts with their options,
//! and its What-if handlers.

use lsp_types::{DocumentSymbol, SymbolKind};

use super::position::Text;
use crate::syntax::ast::{Block, File, Stmt, StmtKind};
use crate::syntax::Span;

/// The outline of `file`, parsed from `text`.
pub fn symbols(file: &File, text: &Text<'_>) -> Vec<DocumentSymbol> {
    let mut out = Vec::new();
    for param in &file.params {
        out.push(symbol(
            text,
            &param.name.name,
            Some(format!("param: {}", param.ty.keyword())),
            SymbolKind::VARIABLE,
            param.span,
            param.name.span,
            Vec::new(),
        ));
    }
    out.extend(statements(&file.body, text));
    for what_if in &file.what_ifs {
        out.push(symbol(
            text,
            &what_if.id.name,
            Some(format!("what-if \"{}\"", what_if.title.value)),
            SymbolKind::EVENT,
            what_if.span,
            what_if.id.span,
            block(&what_if.body, text),
        ));
    }
    out
}

fn block(block: &Block, text: &Text<'_>) -> Vec<DocumentSymbol> {
    statements(&block.stmts, text)
}

fn statements(stmts: &[Stmt], text: &Text<'_>) -> Vec<DocumentSymbol> {
    let mut out = Vec::new();
    for stmt in stmts {
        match &stmt.kind {
            StmtKind::Step(step) => {
                let name = match &step.number {
                    Some(number) => format!("{} {}", number.text, step.id.name),
                    None => step.id.name.clone(),
                };
                out.push(symbol(
                    text,
                    &name,
                    Some(step.title.value.clone()),
                    SymbolKind::FUNCTION,
                    step.span,
                    step.id.span,
                    block(&step.body, text),
                ));
            }
            StmtKind::Choose(choose) => {
                let options = choose
                    .options
                    .iter()
                    .map(|option| {
                        symbol(
                            text,
                            &option.name.name,
                            Some(format!(
                                "{}{}",
                                option.label.value,
                                if option.is_default { " (default)" } else { "" }
                            )),
                            SymbolKind::ENUM_MEMBER,
                            option.span,
                            option.name.span,
                            block(&option.body, text),
                        )
                    })
                    .collect();
                out.push(symbol(
                    text,
                    &choose.id.name,
                    Some(format!("choose \"{}\"", choose.text.value)),
                    SymbolKind::ENUM,
                    choose.span,
                    choose.id.span,
                    options,
                ));
            }
            StmtKind::If(if_stmt) => {
                for branch in &if_stmt.branches {
                    out.extend(block(&branch.body, text));
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    out.extend(block(otherwise, text));
                }
            }
            StmtKind::For { body, .. } => out.extend(block(body, text)),
            _ => {}
        }
    }
    out
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written.
fn symbol(
    text: &Text<'_>,
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: if name.is_empty() {
            "?".to_owned()
        } else {
            name.to_owned()
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: text.range(span.to(selection)),
        selection_range: text.range(selection),
        children: Some(children),
    }
}
