//! The findings of `runbook check` over many files (parse and resolution
//! errors, lint findings, configuration problems) and their three renderings:
//! human (miette's graphical report), JSON and SARIF 2.1.0. Rendering returns
//! strings and values; only the CLI prints.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, LabeledSpan, SourceSpan};
use serde_json::{json, Value};

use super::lint::config::{ConfigProblem, LoadedConfig};
use super::lint::{docs, registry, LintDiagnostic, Severity};
use crate::schema::SchemaVersion;
use crate::syntax::LineIndex;

/// Where the rules' documentation lives, for SARIF's `informationUri`/`helpUri`.
pub const RULES_DOCUMENTATION_URI: &str =
    "https://github.com/runbook-dev/runbook/blob/main/docs/lint-rules.md";

/// Where every other code's documentation lives (`docs/diagnostics.md`).
pub const DIAGNOSTICS_DOCUMENTATION_URI: &str =
    "https://github.com/runbook-dev/runbook/blob/main/docs/diagnostics.md";

/// The code of a path that cannot be read.
pub const UNREADABLE: &str = "runbook::io::unreadable";

/// One finding, whatever phase produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A lint code (`RB003`) or a `runbook::...` code.
    pub code: String,
    /// The lint rule's name, for lint findings.
    pub rule_name: Option<String>,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where, in the file's text (byte offsets).
    pub span: SourceSpan,
    /// The label under the excerpt.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
    /// Secondary labelled places.
    pub related: Vec<(SourceSpan, String)>,
}

impl From<LintDiagnostic> for Finding {
    fn from(diagnostic: LintDiagnostic) -> Self {
        Finding {
            code: diagnostic.code.to_owned(),
            rule_name: diagnostic.rule_name.map(str::to_owned),
            severity: diagnostic.severity,
            message: diagnostic.message,
            span: diagnostic.span,
            label: diagnostic.label,
            help: diagnostic.help,
            related: diagnostic.related,
        }
    }
}

impl From<ConfigProblem> for Finding {
    fn from(problem: ConfigProblem) -> Self {
        Finding {
            code: problem.code.to_owned(),
            rule_name: None,
            severity: problem.severity,
            message: problem.message,
            span: problem.span,
            label: Some(
                match problem.code {
                    "runbook::config::unknown_code" => "not a lint rule",
                    "runbook::config::invalid_level" => "not a level",
                    _ => "here",
                }
                .to_owned(),
            ),
            help: Some(problem.help),
            related: Vec::new(),
        }
    }
}

impl Finding {
    /// A finding from any miette diagnostic (parse and resolution errors):
    /// its code, severity (error unless it says otherwise), first label and help.
    pub fn from_diagnostic(diagnostic: &dyn Diagnostic) -> Finding {
        let severity = match diagnostic.severity() {
            Some(miette::Severity::Advice) => Severity::Info,
            Some(miette::Severity::Warning) => Severity::Warning,
            Some(miette::Severity::Error) | None => Severity::Error,
        };
        let first_label = diagnostic.labels().and_then(|mut labels| labels.next());
        Finding {
            code: diagnostic
                .code()
                .map(|code| code.to_string())
                .unwrap_or_else(|| "runbook::check::error".to_owned()),
            rule_name: None,
            severity,
            message: diagnostic.to_string(),
            span: first_label
                .as_ref()
                .map(|label| *label.inner())
                .unwrap_or_else(|| SourceSpan::from(0..0)),
            label: first_label.and_then(|label| label.label().map(str::to_owned)),
            help: diagnostic.help().map(|help| help.to_string()),
            related: diagnostic
                .labels()
                .map(|labels| {
                    labels
                        .skip(1)
                        .map(|label| (*label.inner(), label.label().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The findings of one file (a runbook, or the `runbook.toml` that applies).
#[derive(Debug, Clone)]
pub struct FileFindings {
    /// The path as shown to the user (and used as the SARIF artifact URI).
    pub path: String,
    /// The file's text.
    pub source: Arc<str>,
    /// Its findings, sorted by position.
    pub findings: Vec<Finding>,
}

/// Everything `runbook check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Every checked file (and configuration file with problems), in order.
    pub files: Vec<FileFindings>,
    /// How many runbook files were checked.
    pub files_checked: usize,
    /// Paths that could not be read, with the reason (exit code 2).
    pub unreadable: Vec<(String, String)>,
}

impl CheckReport {
    /// Adds the findings of one checked runbook and counts it as checked.
    pub fn add_file(&mut self, path: impl Into<String>, source: Arc<str>, findings: Vec<Finding>) {
        self.files_checked += 1;
        self.add_findings(path, source, findings);
    }

    /// Adds findings to a file (merged with the file's earlier findings,
    /// duplicates dropped, sorted by position), without counting it as checked.
    pub fn add_findings(
        &mut self,
        path: impl Into<String>,
        source: Arc<str>,
        findings: Vec<Finding>,
    ) {
        let path = path.into();
        let index = match self.files.iter().position(|file| file.path == path) {
            Some(index) => index,
            None => {
                self.files.push(FileFindings {
                    path,
                    source,
                    findings: Vec::new(),
                });
                self.files.len() - 1
            }
        };
        let file = &mut self.files[index];
        for finding in findings {
            if !file.findings.contains(&finding) {
                file.findings.push(finding);
            }
        }
        file.findings.sort_by(|left, right| {
            left.span
                .offset()
                .cmp(&right.span.offset())
                .then(left.code.cmp(&right.code))
        });
    }

    /// Adds the problems of a configuration file, if it has any.
    pub fn add_config(&mut self, config: &LoadedConfig) {
        if config.problems.is_empty() {
            return;
        }
        self.add_findings(
            config.path.display().to_string(),
            Arc::from(config.source.as_str()),
            config.problems.iter().cloned().map(Finding::from).collect(),
        );
    }

    fn count(&self, severity: Severity) -> usize {
        self.files
            .iter()
            .flat_map(|file| &file.findings)
            .filter(|finding| finding.severity == severity)
            .count()
    }

    /// Number of error findings.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of warning findings.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Number of info findings.
    pub fn infos(&self) -> usize {
        self.count(Severity::Info)
    }

    /// The contract's exit code: 2 when a path could not be read, else 1
    /// when there is an error, else 0 (warnings alone exit 0).
    pub fn exit_code(&self) -> i32 {
        if !self.unreadable.is_empty() {
            2
        } else {
            i32::from(self.errors() > 0)
        }
    }

    /// The one-line summary printed after the human report, e.g.
    /// `checked 3 files: no errors`, `checked 3 files: 2 errors in 1 file`,
    /// `checked 3 files: no errors, 1 warning in 1 file`. Unreadable paths
    /// count as errors.
    pub fn summary_line(&self) -> String {
        let plural = |count: usize, word: &str| {
            format!("{count} {word}{}", if count == 1 { "" } else { "s" })
        };
        let files = plural(self.files_checked, "file");
        let errors = self.errors() + self.unreadable.len();
        let (warnings, infos) = (self.warnings(), self.infos());
        if errors + warnings + infos == 0 {
            return format!("checked {files}: no errors");
        }
        let mut parts = vec![if errors == 0 {
            "no errors".to_owned()
        } else {
            plural(errors, "error")
        }];
        if warnings > 0 {
            parts.push(plural(warnings, "warning"));
        }
        if infos > 0 {
            parts.push(plural(infos, "info"));
        }
        let with_findings = self
            .files
            .iter()
            .filter(|file| !file.findings.is_empty())
            .count()
            + self.unreadable.len();
        format!(
            "checked {files}: {} in {}",
            parts.join(", "),
            plural(with_findings, "file")
        )
    }
}

/// A finding with its file attached, so miette can render the excerpt.
#[derive(Debug)]
pub struct RenderableFinding<'a> {
    finding: &'a Finding,
    path: String,
    /// The file, whose report header counts columns in characters (as
    /// the JSON and SARIF output do), not bytes.
    source: crate::syntax::source::ReportSource,
}

impl<'a> RenderableFinding<'a> {
    /// `finding` of the file `path` whose text is `source`.
    pub fn new(finding: &'a Finding, path: &str, source: Arc<str>) -> Self {
        Self {
            finding,
            path: path.to_owned(),
            source: crate::syntax::source::ReportSource::new(path, source),
        }
    }
}

impl RenderableFinding<'_> {
    /// A finding about the whole file: no excerpt shows where it is.
    fn about_the_whole_file(&self) -> bool {
        self.finding.label.is_none()
            && self.finding.span.is_empty()
            && self.finding.related.is_empty()
    }
}

impl fmt::Display for RenderableFinding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // With no excerpt to name the file, the message does.
        if self.about_the_whole_file() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for RenderableFinding<'_> {}

impl Diagnostic for RenderableFinding<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let code = match &self.finding.rule_name {
            Some(name) => format!("{}({name})", self.finding.code),
            None => self.finding.code.clone(),
        };
        Some(Box::new(code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.finding.severity.to_miette())
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        // A finding about the whole file (too large, binary, not UTF-8) has
        // no place in it: no excerpt, which could be a 16 MiB line or raw bytes.
        if self.about_the_whole_file() {
            return None;
        }
        let primary =
            LabeledSpan::new_primary_with_span(self.finding.label.clone(), self.finding.span);
        let related = self
            .finding
            .related
            .iter()
            .map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), *span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Renders every finding with `handler`, one report after another.
pub fn render_human(report: &CheckReport, handler: &GraphicalReportHandler) -> String {
    let mut out = String::new();
    for file in &report.files {
        for finding in &file.findings {
            let renderable = RenderableFinding::new(finding, &file.path, file.source.clone());
            if handler.render_report(&mut out, &renderable).is_err() {
                out.push_str(&format!(
                    "{}: {}: {}\n",
                    file.path, finding.code, finding.message
                ));
            }
        }
    }
    out
}

fn region(source: &str, lines: &LineIndex, span: SourceSpan) -> (usize, usize, usize, usize) {
    let (start_line, start_column) = lines.position(source, span.offset());
    let (end_line, end_column) = lines.position(source, span.offset() + span.len());
    (start_line, start_column, end_line, end_column)
}

/// One finding of `runbook check --format json`, an element of its array.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct JsonFinding {
    /// The file, as given or found under a given folder.
    pub file: String,
    /// The 1-based line of the primary label.
    pub line: usize,
    /// The 1-based column (in characters) of the primary label.
    pub column: usize,
    /// The line where the primary label ends.
    pub end_line: usize,
    /// The column where the primary label ends.
    pub end_column: usize,
    /// The diagnostic code: a lint code (`RB003`) or a `runbook::…` code.
    pub code: String,
    /// The lint rule's name (`wait-without-timeout`), `null` for other codes.
    pub rule: Option<String>,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The labels: the primary one, then the related ones.
    pub labels: Vec<String>,
    /// What to do, where it helps.
    pub help: Option<String>,
    /// The version of this output's shape (`runbook schema check`), on
    /// every finding: the document is an array.
    pub schema_version: SchemaVersion,
}

/// The JSON array of `runbook check --format json`: one [`JsonFinding`]
/// per finding, unreadable files first.
pub fn render_json(report: &CheckReport) -> Vec<JsonFinding> {
    let mut findings = Vec::new();
    for (path, reason) in &report.unreadable {
        findings.push(JsonFinding {
            file: path.clone(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            code: UNREADABLE.to_owned(),
            rule: None,
            severity: Severity::Error,
            message: format!("cannot read `{path}`: {reason}"),
            labels: Vec::new(),
            help: Some(unreadable_help(path)),
            schema_version: SchemaVersion::CURRENT,
        });
    }
    for file in &report.files {
        let lines = LineIndex::new(&file.source);
        for finding in &file.findings {
            let (line, column, end_line, end_column) = region(&file.source, &lines, finding.span);
            findings.push(JsonFinding {
                file: file.path.clone(),
                line,
                column,
                end_line,
                end_column,
                code: finding.code.clone(),
                rule: finding.rule_name.clone(),
                severity: finding.severity,
                message: finding.message.clone(),
                labels: finding
                    .label
                    .iter()
                    .chain(finding.related.iter().map(|(_, label)| label))
                    .cloned()
                    .collect(),
                help: finding.help.clone(),
                schema_version: SchemaVersion::CURRENT,
            });
        }
    }
    findings
}

/// A file path as a SARIF artifact URI: relative paths stay relative (to the
/// directory `runbook check` ran in, as code-scanning tools expect), absolute
/// ones become `file://` URIs; forward slashes, percent-encoded.
fn artifact_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let is_windows_absolute = path.as_bytes().get(1) == Some(&b':');
    let mut uri = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        uri.push_str("file://");
    } else if is_windows_absolute {
        uri.push_str("file:///");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

/// The `tool.driver.rules` array: every lint rule with its documentation.
pub fn sarif_rules() -> Vec<Value> {
    registry::RULES
        .iter()
        .map(|rule| {
            let documentation = rule.documentation();
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": { "text": rule.summary() },
                "fullDescription": { "text": rule.section("What it does").unwrap_or_default() },
                "help": { "text": documentation, "markdown": documentation },
                "helpUri": format!("{RULES_DOCUMENTATION_URI}#{}", docs::anchor(rule)),
                "defaultConfiguration": { "level": rule.default_severity.sarif_level() },
                "properties": {
                    "tags": if rule.domain { vec!["domain", "safety"] } else { vec!["general"] },
                },
            })
        })
        .collect()
}

/// The SARIF rule of a catalogued `runbook::…` code.
fn catalogue_rule(entry: &super::catalogue::Entry) -> Value {
    json!({
        "id": entry.code,
        "name": super::catalogue::strip_prefix(entry.code).replace("::", "-"),
        "shortDescription": { "text": entry.summary },
        "fullDescription": { "text": entry.cause },
        "help": { "text": entry.fix, "markdown": entry.fix },
        "helpUri": format!(
            "{DIAGNOSTICS_DOCUMENTATION_URI}#{}",
            super::catalogue::docs::code_anchor(entry.code)
        ),
        "defaultConfiguration": { "level": entry.severity.sarif_level() },
    })
}

/// The help line of a path `check` cannot read: the closest shipped
/// runbook when the path is a near miss of one's name (as `run` says it),
/// else where to look.
pub fn unreadable_help(path: &str) -> String {
    if !std::path::Path::new(path).exists() {
        let wanted = path.trim_end_matches(".runbook");
        let names = crate::syntax::embedded::shipped();
        if let Some(name) =
            crate::syntax::embedded::closest_name(wanted, names.iter().map(|file| file.name))
        {
            return format!(
                "did you mean `{name}`? `runbook list` lists the shipped runbooks; a path must name an existing file"
            );
        }
    }
    "check the path and its permissions; `runbook list` names the shipped runbooks".to_owned()
}

/// The SARIF 2.1.0 log of `runbook check --format sarif`.
pub fn render_sarif(report: &CheckReport) -> Value {
    let mut results = Vec::new();
    for (path, reason) in &report.unreadable {
        results.push(json!({
            "ruleId": UNREADABLE,
            "level": "error",
            "message": { "text": format!("cannot read `{path}`: {reason} ({})", unreadable_help(path)) },
            "locations": [{ "physicalLocation": { "artifactLocation": { "uri": artifact_uri(path) } } }],
        }));
    }
    for file in &report.files {
        let lines = LineIndex::new(&file.source);
        // A SARIF `physicalLocation`: the file and the region of `span`.
        let location = |span: SourceSpan| {
            let (start_line, start_column, end_line, end_column) =
                region(&file.source, &lines, span);
            json!({
                "artifactLocation": { "uri": artifact_uri(&file.path) },
                "region": {
                    "startLine": start_line,
                    "startColumn": start_column,
                    "endLine": end_line,
                    "endColumn": end_column,
                },
            })
        };
        for finding in &file.findings {
            let mut result = json!({
                "ruleId": finding.code,
                "level": finding.severity.sarif_level(),
                "message": { "text": match &finding.help {
                    Some(help) => format!("{} ({help})", finding.message),
                    None => finding.message.clone(),
                } },
                "locations": [{ "physicalLocation": location(finding.span) }],
            });
            if !finding.related.is_empty() {
                let related: Vec<Value> = finding
                    .related
                    .iter()
                    .enumerate()
                    .map(|(index, (span, label))| {
                        json!({
                            "id": index,
                            "message": { "text": label },
                            "physicalLocation": location(*span),
                        })
                    })
                    .collect();
                result["relatedLocations"] = Value::Array(related);
            }
            if let Some(index) = registry::RULES
                .iter()
                .position(|rule| rule.code == finding.code)
            {
                result["ruleIndex"] = json!(index);
            }
            results.push(result);
        }
    }
    // Every code reported has its rule: the lint rules, then each other
    // code (parse, resolve, …) the log reports, from the catalogue.
    let mut rules = sarif_rules();
    for result in &mut results {
        let code = result["ruleId"].as_str().unwrap_or_default().to_owned();
        let index = match rules.iter().position(|rule| rule["id"] == code.as_str()) {
            Some(index) => index,
            None => match super::catalogue::entry(&code) {
                Some(entry) => {
                    rules.push(catalogue_rule(entry));
                    rules.len() - 1
                }
                None => continue,
            },
        };
        result["ruleIndex"] = json!(index);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "runbook",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": RULES_DOCUMENTATION_URI,
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn artifact_uris_are_relative_and_encoded() {
        assert_eq!(
            artifact_uri("./runbooks/a b.runbook"),
            "runbooks/a%20b.runbook"
        );
        assert_eq!(artifact_uri("dir\\x.runbook"), "dir/x.runbook");
        assert_eq!(
            artifact_uri("/srv/r b.runbook"),
            "file:///srv/r%20b.runbook"
        );
        assert_eq!(artifact_uri("C:\\r.runbook"), "file:///C:/r.runbook");
    }
}
