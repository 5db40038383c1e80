//! The catalogue of every `runbook::…` diagnostic code the tool emits — parse,
//! resolution, `runbook check` itself, the verifier, runs, connectors, the
//! cluster model, the simulator server — each with a one-line summary, what
//! causes it, an example that triggers it and how to fix it. It is the single
//! source of `runbook explain` for these codes and of `docs/diagnostics.md`
//! ([`docs`]); lint rules (`RB…`) keep theirs in their doc comments.
//!
//! The table is data only: [`docs`] renders it and the CLI prints it. Tests
//! check that every code written in `src/` has an entry and that every
//! runnable example really reports its code.

mod checking;
mod cluster;
mod connector;
pub mod docs;
mod fleet;
mod proof;
mod report;
mod resolve;
mod run;
mod syntax;
mod verify;

use super::lint::registry;
use super::lint::Severity;

/// The namespace every catalogued code starts with.
pub const PREFIX: &str = "runbook::";

/// One diagnostic code and its documentation.
#[derive(Debug)]
pub struct Entry {
    /// The full code, e.g. `runbook::syntax::unexpected`.
    pub code: &'static str,
    /// How serious it is when it is reported.
    pub severity: Severity,
    /// What it reports, in one line.
    pub summary: &'static str,
    /// What causes it (Markdown; one paragraph per line).
    pub cause: &'static str,
    /// A way to see it, where one can be written down.
    pub example: Option<Example>,
    /// How to fix it (Markdown; one paragraph per line).
    pub fix: &'static str,
}

/// A command that reports an entry's code, and the files it reads.
#[derive(Debug)]
pub struct Example {
    /// The runbook the command reads, written to `example.runbook`.
    pub runbook: Option<&'static str>,
    /// Another file the command reads: its name and text.
    pub file: Option<(&'static str, &'static str)>,
    /// The shell command (one or more lines), run in the directory of the files.
    pub command: &'static str,
    /// Whether the command needs nothing but the files and the `runbook`
    /// binary (the test suite runs it and looks for the code in its output);
    /// `false` when it needs a server, a terminal or a keystroke, or when the
    /// code only shows as the reason of a failed step.
    pub runnable: bool,
}

impl Example {
    /// The file name the example's runbook is written to.
    pub const RUNBOOK_FILE: &'static str = "example.runbook";

    /// `runbook check example.runbook` on this runbook.
    pub const fn check(runbook: &'static str) -> Example {
        Example {
            runbook: Some(runbook),
            file: None,
            command: "runbook check example.runbook",
            runnable: true,
        }
    }

    /// This command, on this runbook (`example.runbook`).
    pub const fn run(runbook: &'static str, command: &'static str) -> Example {
        Example {
            runbook: Some(runbook),
            file: None,
            command,
            runnable: true,
        }
    }

    /// This command, without a runbook of its own.
    pub const fn command(command: &'static str) -> Example {
        Example {
            runbook: None,
            file: None,
            command,
            runnable: true,
        }
    }

    /// The same example, with one more file.
    pub const fn with_file(self, name: &'static str, text: &'static str) -> Example {
        Example {
            file: Some((name, text)),
            ..self
        }
    }

    /// The same example, marked as needing more than the files (not run by tests).
    pub const fn by_hand(self) -> Example {
        Example {
            runnable: false,
            ..self
        }
    }
}

/// The codes of one phase of the pipeline.
#[derive(Debug)]
pub struct Phase {
    /// A short name, e.g. `syntax`.
    pub name: &'static str,
    /// The section title, e.g. `Parse errors`.
    pub title: &'static str,
    /// When these codes are reported, in a paragraph.
    pub intro: &'static str,
    /// The codes, in the order they are documented.
    pub entries: &'static [Entry],
}

/// Every phase, in pipeline order.
pub static PHASES: &[&Phase] = &[
    &syntax::PHASE,
    &resolve::PHASE,
    &checking::PHASE,
    &verify::PHASE,
    &run::PHASE,
    &proof::PHASE,
    &connector::PHASE,
    &fleet::PHASE,
    &cluster::PHASE,
    &report::PHASE,
    &checking::COMMANDS,
];

/// Every catalogued entry, phase by phase.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    PHASES.iter().flat_map(|phase| phase.entries.iter())
}

/// The entry of `code`: the full code (`runbook::syntax::unexpected`) or the
/// code without its `runbook::` prefix (`syntax::unexpected`), in any case.
/// Dashes are accepted for underscores (`run::wait-timeout`).
pub fn entry(code: &str) -> Option<&'static Entry> {
    let short = normalize(code);
    entries().find(|entry| strip_prefix(entry.code) == short)
}

/// A help line for a code that is neither a lint rule nor catalogued: the
/// closest codes, or what codes look like.
pub fn suggestion_help(unknown: &str) -> String {
    let trimmed = unknown.trim();
    if trimmed
        .get(..2)
        .is_some_and(|head| head.eq_ignore_ascii_case("RB"))
    {
        return registry::suggestion_help(trimmed);
    }
    let short = normalize(trimmed);
    let last = short.rsplit("::").next().unwrap_or_default();
    let mut candidates: Vec<&str> = by_last_segment(last)
        .into_iter()
        .map(|entry| entry.code)
        .collect();
    if candidates.is_empty() {
        let closest = entries()
            .map(|entry| {
                (
                    strsim::levenshtein(&short, strip_prefix(entry.code)),
                    entry.code,
                )
            })
            .min_by_key(|(distance, _)| *distance);
        if let Some((distance, code)) = closest {
            if distance <= 3 {
                candidates.push(code);
            }
        }
    }
    if candidates.is_empty() && trimmed.contains('-') && !trimmed.contains("::") {
        // A misspelt rule name (`wait-without-timout`).
        return registry::suggestion_help(trimmed);
    }
    if candidates.is_empty() {
        return "Codes are lint rules (`RB003` or `wait-without-timeout`) and `runbook::PHASE::NAME` \
codes (`runbook::syntax::unexpected`); `runbook explain --list` lists them all."
            .to_owned();
    }
    let quoted: Vec<String> = candidates.iter().map(|code| format!("`{code}`")).collect();
    format!(
        "did you mean {}? `runbook explain --list` lists every code.",
        quoted.join(" or ")
    )
}

/// `code` as the catalogue spells it: trimmed, lowercase, without the
/// `runbook::` prefix, dashes as underscores.
fn normalize(code: &str) -> String {
    strip_prefix(code.trim())
        .to_ascii_lowercase()
        .replace('-', "_")
}

/// The phase an entry belongs to.
pub fn phase_of(entry: &Entry) -> &'static Phase {
    PHASES
        .iter()
        .copied()
        .find(|phase| phase.entries.iter().any(|known| known.code == entry.code))
        .expect("every entry belongs to a phase")
}

/// `code` without a leading `runbook::` (any case).
pub fn strip_prefix(code: &str) -> &str {
    match code.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => &code[PREFIX.len()..],
        _ => code,
    }
}

/// The catalogued codes whose last segment is `name` (`unknown_server` →
/// the connector's and the cluster's), for suggestions.
pub fn by_last_segment(name: &str) -> Vec<&'static Entry> {
    let name = name.trim().replace('-', "_");
    entries()
        .filter(|entry| {
            entry
                .code
                .rsplit("::")
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(&name))
        })
        .collect()
}
