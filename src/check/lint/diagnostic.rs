//! A lint finding and the sink rules report into.

use miette::SourceSpan;

use super::rule::Rule;
use super::severity::Severity;

/// One finding of a lint rule (or of the linter itself, e.g. an unknown code
/// in a suppression comment), located in the file being linted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintDiagnostic {
    /// The rule's code (`RB003`) or a `runbook::lint::...` code.
    pub code: &'static str,
    /// The rule's kebab-case name, when the finding comes from a rule.
    pub rule_name: Option<&'static str>,
    /// The severity after configuration.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where: byte offsets into the linted file.
    pub span: SourceSpan,
    /// The label under the source excerpt.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
    /// Secondary places that explain the finding, with their labels.
    pub related: Vec<(SourceSpan, String)>,
}

impl LintDiagnostic {
    /// Adds a secondary labelled place (e.g. where the cause happened).
    pub fn related(&mut self, span: impl Into<SourceSpan>, label: impl Into<String>) -> &mut Self {
        self.related.push((span.into(), label.into()));
        self
    }

    /// Sets the label shown under the source excerpt.
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the help line.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}

/// Collects the findings of the rule that is running.
#[derive(Debug)]
pub struct Sink {
    rule: &'static Rule,
    severity: Severity,
    found: Vec<LintDiagnostic>,
}

impl Sink {
    pub(crate) fn new(rule: &'static Rule, severity: Severity) -> Self {
        Self {
            rule,
            severity,
            found: Vec::new(),
        }
    }

    /// Reports a finding of the running rule at `span`; chain `label`/`help`.
    pub fn report(
        &mut self,
        span: impl Into<SourceSpan>,
        message: impl Into<String>,
    ) -> &mut LintDiagnostic {
        self.found.push(LintDiagnostic {
            code: self.rule.code,
            rule_name: Some(self.rule.name),
            severity: self.severity,
            message: message.into(),
            span: span.into(),
            label: None,
            help: None,
            related: Vec::new(),
        });
        let last = self.found.len() - 1;
        &mut self.found[last]
    }

    pub(crate) fn into_findings(self) -> Vec<LintDiagnostic> {
        self.found
    }
}
