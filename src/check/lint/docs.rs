//! The documentation of the rules, generated from their doc comments: the
//! text of `runbook explain CODE` and the page `docs/lint-rules.md`.

use super::registry::RULES;
use super::rule::Rule;

/// The command that regenerates `docs/lint-rules.md`.
pub const REGENERATE_COMMAND: &str = "RUNBOOK_BLESS=1 cargo test --test it lint_docs::";

/// `runbook explain CODE` for a rule: a header line, then its documentation.
pub fn explain(rule: &Rule) -> String {
    format!(
        "{} {}\nDefault severity: {}. Kind: {}.\n\n{}\n",
        rule.code,
        rule.name,
        rule.default_severity,
        if rule.domain {
            "HA domain safety rule"
        } else {
            "general rule"
        },
        rule.documentation()
    )
}

/// One line per rule: code, name, severity, summary (`runbook explain --list`).
pub fn list() -> String {
    let mut out = String::new();
    for rule in RULES {
        out.push_str(&format!(
            "{}  {:<42} {:<8} {}\n",
            rule.code,
            rule.name,
            rule.default_severity.as_str(),
            rule.summary()
        ));
    }
    out
}

/// The whole of `docs/lint-rules.md`.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("# Lint rules\n\n");
    out.push_str(&format!(
        "<!-- Generated from the rules' doc comments (src/check/lint/rules/). Do not edit: run `{REGENERATE_COMMAND}`. -->\n\n"
    ));
    out.push_str(
        "`runbook check` parses, resolves and lints runbooks. Each rule has a code, a name \
that says what it flags and a default severity; `runbook explain CODE` prints the \
section below. Errors make `runbook check` exit 1; warnings and infos alone exit 0.\n\n\
Rules `RB0xx` are general; rules `RB1xx` are HA safety rules driven by the cluster \
model: a small abstract interpretation follows every path of the runbook and tracks \
what is known of each server (running or stopped, excluded, mode, replication state) \
from the operations performed, the `check`s and the `if` conditions. They only fire \
on what is known to be wrong on some path, and their help quotes the cluster model's \
verdict on that situation (the product's refusal, or the invariant of `domain.md` \
that breaks).\n\n\
The other codes — parse and resolution errors, run, connector and verifier \
diagnostics (`runbook::…`) — are documented in [diagnostics.md](diagnostics.md).\n\n",
    );
    out.push_str("## Output formats\n\n");
    out.push_str(
        "`runbook check --format human` (the default) shows each finding with its source \
excerpt; `--format json` prints one JSON array of findings (`file`, `line`, `column`, \
`end_line`, `end_column`, `code`, `rule`, `severity`, `message`, `labels`, `help`, `schema_version`: see `runbook schema check`); \
`--format sarif` prints a SARIF 2.1.0 log whose `tool.driver.rules` lists every rule \
below, for code-scanning tools:\n\n\
```sh\n\
runbook check runbooks/ --format sarif > runbook.sarif   # then upload it, e.g. with github/codeql-action/upload-sarif\n\
```\n\n",
    );
    out.push_str("## Suppressing a finding\n\n");
    out.push_str(
        "A comment `// allow(RB003)` (several codes or rule names may be listed, separated \
by commas):\n\n\
- at the end of a line, suppresses the listed rules for findings that start on that line;\n\
- on a line of its own, applies to the next line holding code: to findings that start \
on it and, when that line starts a step or a What-if, to every finding inside it.\n\n\
```runbook\n\
wait until healthy() every 15s // allow(RB003)\n\n\
// allow(wait-without-timeout)\n\
step 4 init-standbys \"Initialize the Standby Servers\" {\n    wait until healthy()\n}\n\
```\n\n\
An unknown code in a suppression comment is reported (`runbook::lint::unknown_code`).\n\n",
    );
    out.push_str("## Configuring severities: `runbook.toml`\n\n");
    out.push_str(
        "`runbook check` reads the `runbook.toml` found in the checked directory or the \
nearest ancestor (for a file, starting from its directory). Its `[lint]` table sets \
the level of rules by code or name: `\"error\"`, `\"warning\"`, `\"info\"` or `\"off\"`.\n\n\
```toml\n\
[lint]\n\
severity = { RB003 = \"error\", RB009 = \"off\" }\n\n\
# or, equivalently, as a table:\n\
# [lint.severity]\n\
# wait-without-timeout = \"error\"\n\
```\n\n\
`enabled = false` in `[lint]` switches the linter off for every file under that \
directory (parse and resolution errors are still reported), e.g. for parser fixtures.\n\n\
An unknown code is a warning (`runbook::config::unknown_code`) and a bad level an \
error (`runbook::config::invalid_level`), both located in `runbook.toml`.\n\n",
    );
    out.push_str("## Rules\n\n");
    out.push_str("| Code | Name | Default severity | Kind | What it flags |\n");
    out.push_str("|---|---|---|---|---|\n");
    for rule in RULES {
        out.push_str(&format!(
            "| [{code}](#{anchor}) | `{name}` | {severity} | {kind} | {summary} |\n",
            code = rule.code,
            anchor = anchor(rule),
            name = rule.name,
            severity = rule.default_severity,
            kind = if rule.domain { "domain" } else { "general" },
            summary = rule.summary().replace('|', "\\|"),
        ));
    }
    for rule in RULES {
        out.push_str(&format!(
            "\n## {} `{}`\n\nDefault severity: **{}**.\n\n",
            rule.code, rule.name, rule.default_severity
        ));
        let mut in_code = false;
        for line in rule.documentation().lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with("## ") {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The Markdown anchor of a rule's section in `docs/lint-rules.md`.
pub fn anchor(rule: &Rule) -> String {
    format!("{}-{}", rule.code.to_lowercase(), rule.name)
}
