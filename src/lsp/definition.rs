//! Go to definition: a `call`'s callee (the `procedure`/`runbook` line of
//! the imported file, or of this one), an import's file, a named argument
//! of a `call` (the callee's parameter), a step named in `within … after`,
//! `during` or `failed(…)`, a variable (its `let`, `for`, quantifier or
//! `record`, else the parameter). What-if ids are declared, never
//! referenced, in the language: on one, the definition is itself.

use std::sync::Arc;

use lsp_types::{Location, Position, Range, Url};

use super::analysis::Analysis;
use super::index::{Index, Occurrence};
use super::position::Text;
use crate::syntax::ast::File;
use crate::syntax::{Origin, Span};

/// Where the name at byte `offset` of the document at `uri` is defined.
pub fn definition(
    analysis: &Analysis,
    uri: &Url,
    text: &Text<'_>,
    offset: usize,
) -> Option<Location> {
    let file = analysis.ast.as_ref()?;
    let index = Index::new(file);
    let (_, occurrence) = index.at(offset)?;
    let here = |span: Span| Some(Location::new(uri.clone(), text.range(span)));
    match occurrence {
        Occurrence::StepRef(id) | Occurrence::StepDef(id) => here(file.step(id)?.id.span),
        Occurrence::WhatIfDef(id) => here(file.what_if(id)?.id.span),
        Occurrence::ParamDef(name) => here(file.param(name)?.name.span),
        Occurrence::Var(name) => here(variable(file, &index, name, offset)?),
        Occurrence::CallTarget(name) => callee_location(analysis, uri, text, name, None),
        Occurrence::CallArg { target, arg } => {
            callee_location(analysis, uri, text, target, Some(arg))
        }
        Occurrence::Import(at) => {
            let import = analysis.imports.get(*at)?;
            let Some(Origin::Path(path)) = &import.origin else {
                return None;
            };
            let range = match (&import.ast, &import.text) {
                (Some(ast), Some(source)) => Text::new(source).range(ast.name.span),
                _ => Range::new(Position::new(0, 0), Position::new(0, 0)),
            };
            Some(Location::new(Url::from_file_path(path).ok()?, range))
        }
        Occurrence::Operation(_)
        | Occurrence::OperationArg { .. }
        | Occurrence::Trigger(_)
        | Occurrence::Prompt { .. }
        | Occurrence::ChoiceOption(_)
        | Occurrence::Binding(_)
        | Occurrence::Field(_)
        | Occurrence::Function(_) => None,
    }
}

/// Where the variable `name` read at `offset` is bound: the last binding
/// of that name before it (`let`, `for`, a quantifier, a `record` prompt
/// read with `-` as `_`), else the parameter.
fn variable(file: &File, index: &Index, name: &str, offset: usize) -> Option<Span> {
    let binding = index
        .entries()
        .iter()
        .rev()
        .filter(|(span, _)| (span.start as usize) < offset)
        .find(|(_, occurrence)| match occurrence {
            Occurrence::Binding(bound) => bound == name,
            Occurrence::Prompt { id, kind: "record" } => id.replace('-', "_") == name,
            _ => false,
        })
        .map(|(span, _)| *span);
    binding.or_else(|| file.param(name).map(|param| param.name.span))
}

/// The `procedure NAME`/`runbook NAME` line of the callee `name` (or its
/// parameter `param`), in this document or an imported file.
fn callee_location(
    analysis: &Analysis,
    uri: &Url,
    text: &Text<'_>,
    name: &str,
    param: Option<&str>,
) -> Option<Location> {
    let span_in = |file: &File| match param {
        Some(param) => file.param(param).map(|param| param.name.span),
        None => Some(file.name.span),
    };
    if let Some(own) = analysis.ast.as_ref().filter(|file| file.name.name == name) {
        return Some(Location::new(uri.clone(), text.range(span_in(own)?)));
    }
    let import = analysis
        .imports
        .iter()
        .find(|import| import.ast.as_ref().is_some_and(|ast| ast.name.name == name))?;
    let (Some(ast), Some(source), Some(Origin::Path(path))) =
        (&import.ast, &import.text, &import.origin)
    else {
        return None;
    };
    let source: &Arc<str> = source;
    Some(Location::new(
        Url::from_file_path(path).ok()?,
        Text::new(source).range(span_in(ast)?),
    ))
}
