//! What a lint rule is: its code, name, default severity, documentation and
//! check function; [`declare_rule!`](crate::check::lint::declare_rule) builds
//! one from a doc comment so that the doc comment stays the single source of
//! `runbook explain` and `docs/lint-rules.md`.

use super::context::LintContext;
use super::diagnostic::Sink;
use super::severity::Severity;

/// One lint rule.
#[derive(Debug)]
pub struct Rule {
    /// The stable code, e.g. `RB003`.
    pub code: &'static str,
    /// A kebab-case name saying what the rule flags, e.g. `wait-without-timeout`.
    pub name: &'static str,
    /// The severity unless `runbook.toml` says otherwise.
    pub default_severity: Severity,
    /// Whether the rule is about the HA domain (driven by the cluster model).
    pub domain: bool,
    /// The doc comment, as written (each line keeps its leading space).
    pub raw_doc: &'static str,
    /// Reports the rule's findings on one runbook.
    pub check: fn(&LintContext<'_>, &mut Sink),
}

impl Rule {
    /// The documentation as Markdown: the doc comment with the single space
    /// that follows `///` removed from each line.
    pub fn documentation(&self) -> String {
        let mut text = String::with_capacity(self.raw_doc.len());
        for line in self.raw_doc.lines() {
            text.push_str(line.strip_prefix(' ').unwrap_or(line));
            text.push('\n');
        }
        text.trim().to_owned()
    }

    /// The body of one `## HEADING` section of the documentation.
    pub fn section(&self, heading: &str) -> Option<String> {
        let documentation = self.documentation();
        let marker = format!("## {heading}");
        let start = documentation.find(&marker)? + marker.len();
        let rest = &documentation[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim().to_owned())
    }

    /// The first sentence of "What it does", used as the one-line summary.
    pub fn summary(&self) -> String {
        let what = self.section("What it does").unwrap_or_default();
        let paragraph = what.split("\n\n").next().unwrap_or("");
        let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        match joined.find(". ") {
            Some(end) => joined[..=end].to_owned(),
            None => joined,
        }
    }
}

/// Declares a lint rule as a documented `pub const RULE: Rule`.
///
/// The doc comment must have the sections `## What it does`,
/// `## Why is this bad?` and `## Example`; a test checks that every rule has
/// them.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        code: $code:literal,
        name: $name:literal,
        severity: $severity:ident,
        domain: $domain:literal,
        check: $check:path $(,)?
    ) => {
        $(#[doc = $doc])*
        pub const RULE: $crate::check::lint::Rule = $crate::check::lint::Rule {
            code: $code,
            name: $name,
            default_severity: $crate::check::lint::Severity::$severity,
            domain: $domain,
            raw_doc: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}

pub(crate) use declare_rule;
