//! Diagnostics as you type: the findings of the document's analysis (the
//! same as `runbook check`: parse and resolution errors, lint findings)
//! as protocol diagnostics, with UTF-16 ranges, the code (linked to its
//! documentation), the help line and the secondary labels. The primary
//! label is left out: the editor underlines the place, and the labels
//! mostly repeat the message.

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Url,
};

use super::position::Text;
use crate::check::lint::Severity;
use crate::check::report::{Finding, DIAGNOSTICS_DOCUMENTATION_URI, RULES_DOCUMENTATION_URI};
use crate::syntax::Span;

/// The name diagnostics are published under.
pub const SOURCE: &str = "runbook";

/// The protocol diagnostics of `findings`, in the document at `uri`.
pub fn diagnostics(findings: &[Finding], uri: &Url, text: &Text<'_>) -> Vec<Diagnostic> {
    findings
        .iter()
        .map(|finding| diagnostic(finding, uri, text))
        .collect()
}

fn span(span: miette::SourceSpan) -> Span {
    Span::new(span.offset(), span.offset() + span.len())
}

fn diagnostic(finding: &Finding, uri: &Url, text: &Text<'_>) -> Diagnostic {
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = finding
        .related
        .iter()
        .map(|(at, label)| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), text.range(span(*at))),
            message: label.clone(),
        })
        .collect();
    Diagnostic {
        range: text.range(span(finding.span)),
        severity: Some(match finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(finding.code.clone())),
        code_description: documentation(finding),
        source: Some(SOURCE.to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Where the code is documented: its section of `docs/lint-rules.md` or
/// `docs/diagnostics.md`.
fn documentation(finding: &Finding) -> Option<CodeDescription> {
    let href = match crate::check::lint::registry::rule(&finding.code) {
        Some(rule) => format!(
            "{RULES_DOCUMENTATION_URI}#{}",
            crate::check::lint::docs::anchor(rule)
        ),
        None => format!(
            "{DIAGNOSTICS_DOCUMENTATION_URI}#{}",
            crate::check::catalogue::docs::code_anchor(&finding.code)
        ),
    };
    Url::parse(&href).ok().map(|href| CodeDescription { href })
}
