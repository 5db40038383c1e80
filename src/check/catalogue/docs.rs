//! The catalogue rendered: the text of `runbook explain CODE` for a
//! `runbook::…` code, the list of every code (`runbook explain --list`) and
//! the page `docs/diagnostics.md`. Returns strings; only the CLI prints.

use super::{entries, phase_of, Entry, Example, PHASES};
use crate::check::lint::{docs as lint_docs, registry};

/// The width `runbook explain` wraps prose to.
const WIDTH: usize = 80;

/// `runbook explain CODE` for a catalogued code.
pub fn explain(entry: &Entry) -> String {
    let phase = phase_of(entry);
    let mut out = format!(
        "{}\nSeverity: {}. Group: {}.\n\n{}\n\n## What causes it\n{}\n",
        entry.code,
        entry.severity,
        phase.title,
        wrap(entry.summary, WIDTH),
        wrap(entry.cause, WIDTH)
    );
    if let Some(example) = &entry.example {
        out.push_str("\n## Example\n");
        out.push_str(&example_markdown(example));
    }
    out.push_str(&format!(
        "\n## How to fix it\n{}\n",
        wrap(&sentence(entry.fix), WIDTH)
    ));
    out
}

/// Every code, one a line: the lint rules, then the catalogue phase by phase
/// (`runbook explain --list`).
pub fn list() -> String {
    let mut out = String::from("Lint rules (runbook check; docs/lint-rules.md):\n");
    for line in lint_docs::list().lines() {
        out.push_str(&format!("  {line}\n"));
    }
    let width = entries().map(|entry| entry.code.len()).max().unwrap_or(0);
    for phase in PHASES {
        out.push_str(&format!("\n{}:\n", phase.title));
        for entry in phase.entries {
            out.push_str(&format!(
                "  {:<width$}  {:<8} {}\n",
                entry.code,
                entry.severity.as_str(),
                entry.summary
            ));
        }
    }
    out.push_str(
        "\n`runbook explain CODE` explains one (the `runbook::` prefix may be left out).\n",
    );
    out
}

/// The whole of `docs/diagnostics.md`.
pub fn markdown() -> String {
    let mut out = String::from("# Diagnostic codes\n\n");
    out.push_str(&format!(
        "<!-- Generated from the catalogue (src/check/catalogue/). Do not edit: run `{}`. -->\n\n",
        lint_docs::REGENERATE_COMMAND
    ));
    out.push_str(&format!(
        "Every diagnostic `runbook` reports has a stable code: a lint rule such as `RB003` \
(the {} rules are documented in [lint-rules.md](lint-rules.md)) or a `runbook::…` code, \
documented here: what causes it, an example that triggers it, and how to fix it. \
`runbook explain CODE` prints the same text in the terminal (the `runbook::` prefix may be \
left out: `runbook explain syntax::unexpected`), and `runbook explain --list` lists every \
code.\n\n\
The examples are run by the test suite (`tests/it/diagnostics.rs`): each command, given its \
files in an empty directory, reports its code. Those marked *(by hand)* need a running \
server, a terminal or a keystroke. An error of the target during a step is reported as \
`runbook::run::step_failed`, whose help line names the target's own code \
(`runbook::connector::…`).\n\n",
        registry::RULES.len()
    ));
    out.push_str("## Index\n\n");
    for phase in PHASES {
        let mut namespaces: Vec<String> = Vec::new();
        for entry in phase.entries {
            let namespace = entry
                .code
                .rsplit_once("::")
                .map_or(entry.code, |(head, _)| head);
            let namespace = format!("`{namespace}::…`");
            if !namespaces.contains(&namespace) {
                namespaces.push(namespace);
            }
        }
        out.push_str(&format!(
            "- [{}](#{}): {} ({} codes)\n",
            phase.title,
            anchor(phase.title),
            namespaces.join(", "),
            phase.entries.len()
        ));
    }
    for phase in PHASES {
        out.push_str(&format!("\n## {}\n\n{}\n\n", phase.title, phase.intro));
        out.push_str("| Code | Severity | Summary |\n|---|---|---|\n");
        for entry in phase.entries {
            out.push_str(&format!(
                "| [`{}`](#{}) | {} | {} |\n",
                entry.code,
                code_anchor(entry.code),
                entry.severity,
                entry.summary.replace('|', "\\|")
            ));
        }
        for entry in phase.entries {
            out.push_str(&format!(
                "\n### `{}`\n\nSeverity: **{}**. {}\n\n**What causes it.** {}\n",
                entry.code,
                entry.severity,
                entry.summary,
                entry.cause.replace('\n', "\n\n")
            ));
            if let Some(example) = &entry.example {
                let by_hand = if example.runnable { "" } else { " *(by hand)*" };
                out.push_str(&format!(
                    "\n**Example.**{by_hand}\n\n{}",
                    example_markdown(example)
                ));
            }
            out.push_str(&format!(
                "\n**How to fix it.** {}\n",
                sentence(entry.fix).replace('\n', "\n\n")
            ));
        }
    }
    out
}

/// An example as Markdown: its files in fenced blocks, then the command.
pub fn example_markdown(example: &Example) -> String {
    let mut out = String::new();
    let files = example
        .runbook
        .map(|text| (Example::RUNBOOK_FILE, text))
        .into_iter()
        .chain(example.file);
    for (name, text) in files {
        let language = match name.rsplit_once('.').map(|(_, extension)| extension) {
            Some("runbook") => "runbook",
            Some("toml") => "toml",
            Some("json") => "json",
            _ => "text",
        };
        out.push_str(&format!(
            "`{name}`:\n```{language}\n{}\n```\n",
            file_text(text).trim_end()
        ));
    }
    out.push_str(&format!("```sh\n{}\n```\n", example.command.trim()));
    out
}

/// A file of an example as it is written to disk: without the blank line
/// that opens a raw string literal.
pub fn file_text(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let mut text = text.trim_end().to_owned();
    text.push('\n');
    text
}

/// `text` as a sentence: capitalized, ending with a full stop (the
/// verifier's help lines, shared with its counterexamples, are neither).
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut characters = text.chars();
    let mut out: String = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) && !out.ends_with(".)") {
        out.push('.');
    }
    out
}

/// The GitHub anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|character| match character {
            ' ' => Some('-'),
            '-' | '_' => Some(character),
            _ if character.is_alphanumeric() => Some(character),
            _ => None,
        })
        .collect()
}

/// The GitHub anchor of an entry's heading (`` ### `runbook::syntax::unexpected` ``).
pub fn code_anchor(code: &str) -> String {
    anchor(code)
}

pub use crate::wrap::wrap;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_capitalizes_and_ends_with_a_stop() {
        assert_eq!(sentence("bound the loop"), "Bound the loop.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("see `x` (or y)"), "See `x` (or y).");
    }

    #[test]
    fn anchors_are_github_anchors() {
        assert_eq!(
            code_anchor("runbook::syntax::unexpected"),
            "runbooksyntaxunexpected"
        );
        assert_eq!(anchor("Run errors and warnings"), "run-errors-and-warnings");
    }
}
