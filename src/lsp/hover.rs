//! Hover: what the name under the cursor is. Operations with their named
//! arguments (the resolver's table), an argument of an operation or of a
//! `call` (the callee's parameter), a called procedure (its title, summary
//! and parameters), steps, What-ifs and their triggers, prompts, variables
//! and parameters, server fields and built-in functions, imports; in a
//! comment, a lint code or a `runbook::…` code shows its catalogue entry
//! (`runbook explain CODE`).

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::analysis::Analysis;
use super::index::{Index, Occurrence};
use super::position::Text;
use crate::check::catalogue;
use crate::check::lint::{docs, registry};
use crate::syntax::ast::{File, Param};
use crate::syntax::resolve::{operation, OperationSignature, FUNCTIONS, SERVER_FIELDS};
use crate::syntax::{Origin, Span};

/// What each server field means (the table of `docs/language.md`).
const FIELD_MEANINGS: &[(&str, &str)] = &[
    ("name", "the server's name"),
    ("running", "whether the server is running"),
    (
        "excluded",
        "whether the server is excluded from replication",
    ),
    ("is_active", "whether the server is in Active mode"),
    ("is_standby", "whether the server is in Standby mode"),
    ("version", "the server's version"),
    (
        "changes",
        "administrator changes on the server since the run started",
    ),
    (
        "state",
        "the server's replication state (`ACT_REP`, `STB_REP`, ...)",
    ),
];

/// What each What-if trigger fires on (the table of `docs/language.md`).
const TRIGGER_MEANINGS: &[(&str, &str)] = &[
    ("failed", "`failed(STEP_ID)`: fires when that step fails"),
    ("two-actives", "`two-actives`: fires when the cluster has two Active servers"),
    (
        "standby-activated",
        "`standby-activated`: fires when a server that was Standby when the run started is now Active",
    ),
    (
        "upgrade-cancelled",
        "`upgrade-cancelled(EXPR)`: fires when the upgrade of that server was cancelled and reverted",
    ),
    (
        "replication-broken",
        "`replication-broken`: fires when replication is broken (a `BROKEN_ACT_STB`/`UNKNOWN` state, or an Active with declared Standbys not replicating)",
    ),
];

/// The hover at byte `offset` of the document.
pub fn hover(analysis: &Analysis, text: &Text<'_>, offset: usize) -> Option<Hover> {
    let found = analysis.ast.as_ref().and_then(|file| {
        let index = Index::new(file);
        let (span, occurrence) = index.at(offset)?;
        let markdown = describe(file, text.as_str(), analysis, occurrence, offset)?;
        Some((span, markdown))
    });
    let (span, markdown) = found.or_else(|| code_hover(analysis, text, offset))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(text.range(span)),
    })
}

/// The Markdown of an operation's signature and documentation.
pub fn operation_markdown(signature: &OperationSignature) -> String {
    format!(
        "```runbook\n{}\n```\n{}",
        operation_signature(signature),
        sentence(signature.doc)
    )
}

/// `name(server: server, force?: bool)`.
pub fn operation_signature(signature: &OperationSignature) -> String {
    let params: Vec<String> = signature
        .params
        .iter()
        .map(|param| {
            format!(
                "{}{}: {}",
                param.name,
                if param.optional { "?" } else { "" },
                param.ty.keyword()
            )
        })
        .collect();
    format!("{}({})", signature.name, params.join(", "))
}

fn describe(
    file: &File,
    source: &str,
    analysis: &Analysis,
    occurrence: &Occurrence,
    offset: usize,
) -> Option<String> {
    match occurrence {
        Occurrence::Operation(name) => operation(name).map(operation_markdown),
        Occurrence::OperationArg {
            operation: name,
            arg,
        } => {
            let signature = operation(name)?;
            let param = signature.params.iter().find(|param| param.name == *arg)?;
            Some(format!(
                "```runbook\n{}: {}\n```\n{} argument of `{}`.\n\n---\n{}",
                param.name,
                param.ty.keyword(),
                if param.optional { "An optional" } else { "A required" },
                signature.name,
                operation_markdown(signature)
            ))
        }
        Occurrence::CallTarget(name) => {
            let (callee, origin) = callee(analysis, name)?;
            Some(procedure_markdown(callee, origin))
        }
        Occurrence::CallArg { target, arg } => {
            let (callee, origin) = callee(analysis, target)?;
            let param = callee.param(arg)?;
            let callee_source = match origin {
                None => Some(source),
                Some(origin) => analysis
                    .imports
                    .iter()
                    .find(|import| import.origin.as_ref() == Some(origin))
                    .and_then(|import| import.text.as_deref()),
            };
            Some(format!(
                "{}\n\nA parameter of `{}`.",
                param_markdown(param, callee_source),
                callee.name.name
            ))
        }
        Occurrence::StepDef(id) | Occurrence::StepRef(id) => {
            let step = file.step(id)?;
            let mut out = format!(
                "```runbook\nstep {}{} \"{}\"\n```",
                step.number
                    .as_ref()
                    .map(|number| format!("{} ", number.text))
                    .unwrap_or_default(),
                step.id.name,
                step.title.value
            );
            if let Some(window) = &step.window {
                out.push_str(&format!(
                    "\nStarts within `{}` after step `{}`.",
                    crate::fmt::expr_to_string(&window.duration, source),
                    window.after.name
                ));
            }
            push_docs(&mut out, docs_of_step(file, step.span));
            Some(out)
        }
        Occurrence::WhatIfDef(id) => {
            let what_if = file.what_if(id)?;
            let triggers: Vec<String> = what_if
                .triggers
                .iter()
                .map(|trigger| crate::fmt::trigger_to_string(trigger, source))
                .collect();
            let mut out = format!(
                "```runbook\nwhat-if {} \"{}\"\n```\nWhen {}",
                what_if.id.name,
                what_if.title.value,
                triggers.join(", ")
            );
            if !what_if.during.is_empty() {
                let during: Vec<&str> = what_if.during.iter().map(|step| step.name.as_str()).collect();
                out.push_str(&format!(", during {}", during.join(", ")));
            }
            out.push('.');
            out.push_str(&format!(
                "\n\nRun it directly with `runbook run RUNBOOK --what-if {}`.",
                what_if.id.name
            ));
            push_docs(&mut out, what_if.docs.as_ref().map(|doc| doc.text.as_str()));
            Some(out)
        }
        Occurrence::Trigger(keyword) => TRIGGER_MEANINGS
            .iter()
            .find(|(name, _)| name == keyword)
            .map(|(_, meaning)| format!("What-if trigger {meaning}.")),
        Occurrence::Prompt { id, kind } => Some(format!(
            "A `{kind}` prompt, id `{id}`: answers files and `runbook resume --reanswer` name it.{}",
            if *kind == "record" {
                format!(" The answer is bound as `{}`.", id.replace('-', "_"))
            } else {
                String::new()
            }
        )),
        Occurrence::ChoiceOption(name) => Some(format!(
            "An option of a `choose`: `{name}` is its answer in an answers file."
        )),
        Occurrence::ParamDef(name) => file.param(name).map(|param| param_markdown(param, Some(source))),
        Occurrence::Var(name) => match file.param(name) {
            Some(param) if !bound_before(file, name, offset) => {
                Some(param_markdown(param, Some(source)))
            }
            _ => Some(format!("```runbook\n{name}\n```\nA name bound by `let`, `for`, a quantifier or a `record`.")),
        },
        Occurrence::Binding(name) => Some(format!("```runbook\n{name}\n```\nA name bound here.")),
        Occurrence::Field(name) => {
            let meaning = FIELD_MEANINGS
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, meaning)| *meaning)?;
            let ty = SERVER_FIELDS
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, ty)| ty.keyword())
                .unwrap_or("replication state");
            Some(format!("```runbook\nserver.{name}: {ty}\n```\n{}", sentence(meaning)))
        }
        Occurrence::Function(name) => FUNCTIONS
            .iter()
            .find(|function| function.name == name)
            .map(|function| format!("```runbook\n{}\n```\n{}", function.signature, sentence(function.doc))),
        Occurrence::Import(at) => {
            let import = analysis.imports.get(*at)?;
            let target = match &import.origin {
                Some(Origin::Path(path)) => format!("`{}`", path.display()),
                Some(Origin::Embedded(path)) => format!("the shipped `runbooks/{path}`"),
                Some(Origin::Memory) | None => return Some("Not found.".to_owned()),
            };
            let mut out = format!("Imports {target}");
            if let Some(ast) = &import.ast {
                out.push_str(&format!(
                    ": `{} {}`",
                    ast.kind.keyword(),
                    ast.name.name
                ));
            }
            out.push('.');
            Some(out)
        }
    }
}

/// Whether `name` is bound (by `let`, `for` or a quantifier) somewhere
/// before `offset`, shadowing a parameter of the same name.
fn bound_before(file: &File, name: &str, offset: usize) -> bool {
    Index::new(file).entries().iter().any(|(span, occurrence)| {
        matches!(occurrence, Occurrence::Binding(bound) if bound == name)
            && (span.end as usize) <= offset
    })
}

/// The callee called `name`, and where it is declared (`None`: this document).
pub fn callee<'a>(analysis: &'a Analysis, name: &str) -> Option<(&'a File, Option<&'a Origin>)> {
    analysis
        .callables()
        .into_iter()
        .find(|(file, _)| file.name.name == name)
        .map(|(file, origin)| (file.as_ref(), origin))
}

fn procedure_markdown(callee: &File, origin: Option<&Origin>) -> String {
    let params: Vec<String> = callee
        .params
        .iter()
        .map(|param| {
            format!(
                "{}{}: {}",
                param.name.name,
                if param.default.is_some() { "?" } else { "" },
                param.ty.keyword()
            )
        })
        .collect();
    let mut out = format!(
        "```runbook\n{} {}({})\n```",
        callee.kind.keyword(),
        callee.name.name,
        params.join(", ")
    );
    if let Some(title) = &callee.title {
        out.push_str(&format!("\n**{}**", title.value));
    }
    if let Some(summary) = &callee.summary {
        out.push_str(&format!("\n\n{}", summary.value));
    }
    match origin {
        Some(Origin::Path(path)) => out.push_str(&format!("\n\nDeclared in `{}`.", path.display())),
        Some(Origin::Embedded(path)) => out.push_str(&format!("\n\nShipped: `runbooks/{path}`.")),
        _ => {}
    }
    push_docs(
        &mut out,
        callee.module_docs.as_ref().map(|doc| doc.text.as_str()),
    );
    out
}

/// A parameter's declaration (its default as written in `source`, the text
/// of the file that declares it, when known) and docs.
fn param_markdown(param: &Param, source: Option<&str>) -> String {
    let mut out = format!(
        "```runbook\nparam {}: {}{}\n```",
        param.name.name,
        param.ty.keyword(),
        param
            .default
            .as_ref()
            .zip(source)
            .map(|(default, source)| format!(" = {}", crate::fmt::expr_to_string(default, source)))
            .unwrap_or_default()
    );
    push_docs(&mut out, param.docs.as_ref().map(|doc| doc.text.as_str()));
    out
}

/// The `///` docs of the statement whose span holds the step at `span`.
fn docs_of_step(file: &File, span: Span) -> Option<&str> {
    let mut found = None;
    crate::syntax::visit::for_each_stmt(file, |stmt, _| {
        if stmt.span == span || stmt.span.start == span.start {
            if let Some(doc) = &stmt.docs {
                found = Some(doc.text.as_str());
            }
        }
    });
    found
}

fn push_docs(out: &mut String, docs: Option<&str>) {
    if let Some(docs) = docs {
        out.push_str("\n\n---\n");
        out.push_str(docs);
    }
}

/// `text` with a capital letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// A diagnostic code under the cursor, in a comment (`// allow(RB003)`) or
/// anywhere when the document does not parse: its `runbook explain` text.
fn code_hover(analysis: &Analysis, text: &Text<'_>, offset: usize) -> Option<(Span, String)> {
    let in_comment = match &analysis.ast {
        Some(file) => file.comments.iter().any(|comment| {
            comment.span.start as usize <= offset && offset <= comment.span.end as usize
        }),
        None => true,
    };
    if !in_comment {
        return None;
    }
    let source = text.as_str();
    let is_code_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-';
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = super::completion::word_start(&source[..offset], is_code_char);
    let end = source[offset..]
        .find(|c: char| !is_code_char(c))
        .map(|at| offset + at)
        .unwrap_or(source.len());
    let word = source
        .get(start..end)?
        .trim_matches(|c| c == ':' || c == '-');
    if word.is_empty() {
        return None;
    }
    let start = start + source[start..].find(word).unwrap_or(0);
    let explanation = if let Some(rule) = registry::rule(word) {
        docs::explain(rule)
    } else {
        catalogue::entry(word).map(catalogue::docs::explain)?
    };
    Some((Span::new(start, start + word.len()), explanation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_server_field_has_a_meaning() {
        for (field, _) in SERVER_FIELDS {
            assert!(
                FIELD_MEANINGS.iter().any(|(name, _)| name == field),
                "{field} has no meaning in the hover table"
            );
        }
    }
}
