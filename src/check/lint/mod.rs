//! The linter: coded rules (one file each under [`rules`], listed in
//! [`registry`]), their documentation (the single source of `runbook explain`
//! and `docs/lint-rules.md`), suppression comments and `runbook.toml`.
//!
//! [`lint`] runs every enabled rule on one parsed file and applies the
//! suppressions; the flow facts the domain rules share are computed once
//! ([`flow`]).

mod context;
mod diagnostic;
mod rule;
mod severity;

pub mod config;
pub mod docs;
pub mod flow;
pub mod model_verdict;
pub mod registry;
pub mod rules;
pub mod scope;
pub mod suppression;

pub use config::LintConfig;
pub use context::LintContext;
pub use diagnostic::{LintDiagnostic, Sink};
pub(crate) use rule::declare_rule;
pub use rule::Rule;
pub use severity::{Level, Severity};

use std::collections::HashMap;

use miette::SourceSpan;

use crate::syntax::ast::{File, StmtKind};
use crate::syntax::visit;
use crate::syntax::LineIndex;
use suppression::Suppressions;

/// Lints one parsed file: every rule the configuration enables, minus the
/// findings its suppression comments allow, plus the unknown codes found in
/// those comments. Findings are sorted by position.
pub fn lint(
    file: &File,
    source: &str,
    procedures: &HashMap<String, &File>,
    config: &LintConfig,
) -> Vec<LintDiagnostic> {
    let context = LintContext::new(file, source, procedures);
    let lines = LineIndex::new(source);
    let (suppressions, mut findings) = Suppressions::parse(source, &lines);
    let blocks = suppressible_blocks(file);
    // Which (suppression, code) pairs allowed at least one finding.
    let mut used: Vec<(usize, &'static str)> = Vec::new();
    for rule in registry::RULES {
        let Level::On(severity) = config.level(rule.code) else {
            continue;
        };
        let mut sink = Sink::new(rule, severity);
        (rule.check)(&context, &mut sink);
        for finding in sink.into_findings() {
            match suppressions.suppressed_by(finding.code, finding.span, &lines, &blocks) {
                Some(entry) => used.push((entry, finding.code)),
                None => findings.push(finding),
            }
        }
    }
    if let Level::On(severity) = config.level(rules::unused_suppression::RULE.code) {
        findings.extend(rules::unused_suppression::findings(
            &suppressions,
            &used,
            config,
            severity,
        ));
    }
    for finding in &mut findings {
        finding.span = trim_trailing_blanks(finding.span, source);
    }
    findings.sort_by_key(|finding| (finding.span.offset(), finding.code));
    findings.dedup();
    findings
}

/// The spans a suppression comment above them covers whole: steps and What-ifs.
fn suppressible_blocks(file: &File) -> Vec<SourceSpan> {
    let mut blocks: Vec<SourceSpan> = file.steps().iter().map(|step| step.span.into()).collect();
    blocks.extend(
        file.what_ifs
            .iter()
            .map(|what_if| SourceSpan::from(what_if.span)),
    );
    // A step's own span starts at `step`; its docs come before and are not code.
    visit::for_each_stmt(file, |stmt, _| {
        if let StmtKind::Step(_) = stmt.kind {
            blocks.push(stmt.span.into());
        }
    });
    blocks
}

/// A span without the blanks and newlines at its end, so a label never hangs
/// over the next line.
fn trim_trailing_blanks(span: SourceSpan, source: &str) -> SourceSpan {
    let start = span.offset();
    let end = (start + span.len()).min(source.len());
    match source.get(start..end) {
        Some(text) => SourceSpan::new(start.into(), text.trim_end().len()),
        None => span,
    }
}
