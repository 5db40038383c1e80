//! `runbook::fleet::*`: a fleet file refused before any cluster starts
//! ([`crate::fleet::FleetError`]).

use super::{Entry, Example, Phase, Severity};

/// The fleet phase.
pub static PHASE: Phase = Phase {
    name: "fleet",
    title: "Fleet errors",
    intro: "Reported by `runbook fleet run` and `runbook fleet resume` before any cluster \
starts: every cluster of the fleet file is checked against the runbook first (its inventory \
and API key, its parameters, its answers file, its journal), every error is reported at once \
with the file, line and column in the fleet file, and the command exits 2 with nothing done. \
A cluster that fails once the fleet runs is reported in the fleet's table (and `--json`) \
with its own run's diagnostic. See docs/fleets.md.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::fleet::unreadable",
        severity: Severity::Error,
        summary: "The fleet file cannot be read.",
        cause: "The path given to `runbook fleet run` or `fleet resume` names no file, or one \
that cannot be read.",
        example: Some(Example::command("runbook fleet run upgrade-with-downtime no-such-fleet.toml")),
        fix: "Give the path of the fleet file.",
    },
    Entry {
        code: "runbook::fleet::invalid",
        severity: Severity::Error,
        summary: "The fleet file is not a valid fleet.",
        cause: "The TOML does not parse, a key is unknown (a typo such as `inventroy`), a \
cluster has no `name` or no `inventory` (or both `inventory` and `target`), a name cannot \
name a journal file, a parameter's value is not a single value, or the fleet names no \
cluster. `fleet resume` reports it too when no cluster of the fleet has a journal in the \
journal folder.",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml")
            .with_file(
                "fleet.toml",
                "[[clusters]]\nname = \"emea-1\"\ninventroy = \"emea-1.toml\"\n",
            ),
        ),
        fix: "Fix the value the label points at; docs/fleets.md lists every key.",
    },
    Entry {
        code: "runbook::fleet::duplicate_cluster",
        severity: Severity::Error,
        summary: "Two clusters of the fleet have the same name.",
        cause: "A cluster's name names its journal (`JOURNAL_DIR/NAME.jsonl`) and its line in \
the summary: two clusters of one name would write one journal.",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml")
            .with_file(
                "fleet.toml",
                "[[clusters]]\nname = \"emea-1\"\ninventory = \"a.toml\"\n\n[[clusters]]\nname = \"emea-1\"\ninventory = \"b.toml\"\n",
            ),
        ),
        fix: "Rename one of them.",
    },
    Entry {
        code: "runbook::fleet::inventory",
        severity: Severity::Error,
        summary: "A cluster's inventory cannot be used.",
        cause: "The inventory the cluster names (relative to the fleet file) does not exist, \
is invalid (its own diagnostic follows), or its API key is not at hand: the variable its \
`api_key_env` names is not set, or its `api_key_file` cannot be read. For a `target = \
\"http://...\"`, `RUNBOOK_API_KEY` is not set. Refused before any cluster starts, rather \
than failing that cluster in the middle of the fleet.",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml")
            .with_file(
                "fleet.toml",
                "[[clusters]]\nname = \"emea-1\"\ninventory = \"inventories/emea-1.toml\"\n",
            ),
        ),
        fix: "Fix the path (relative to the fleet file) or the inventory, or set the API key's \
variable.",
    },
    Entry {
        code: "runbook::fleet::parameter",
        severity: Severity::Error,
        summary: "A cluster sets a parameter the runbook does not declare, or a value of the \
wrong type.",
        cause: "A `set` table of the fleet file (a cluster's, or `[defaults]`) names a \
parameter the runbook does not have, or gives one a value its type refuses (`version = \
\"latest\"`).",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml")
            .with_file(
                "fleet.toml",
                "[[clusters]]\nname = \"emea-1\"\ntarget = \"http://127.0.0.1:1\"\nset = { verison = \"7.4.1\" }\n",
            ),
        ),
        fix: "Use the runbook's parameter names (`runbook show RUNBOOK`) and values of their \
types.",
    },
    Entry {
        code: "runbook::fleet::answers",
        severity: Severity::Error,
        summary: "A cluster's answers file cannot be read, or answers a prompt the runbook \
does not ask.",
        cause: "The answers file of a cluster (or of `[defaults]`) does not exist, is not \
TOML, answers a prompt id the runbook (and the procedures it calls) never asks, or answers \
one with the wrong kind of value. The answers file's own diagnostic follows.",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml")
            .with_file(
                "fleet.toml",
                "[[clusters]]\nname = \"emea-1\"\ntarget = \"http://127.0.0.1:1\"\nanswers = \"missing-answers.toml\"\n",
            ),
        ),
        fix: "Fix the path (relative to the fleet file), or the prompt id (`runbook show \
RUNBOOK` shows the prompts).",
    },
    Entry {
        code: "runbook::fleet::journal",
        severity: Severity::Error,
        summary: "A cluster's journal stands in the way, or cannot be read.",
        cause: "`fleet run` found a journal of the cluster in the journal folder already (an \
earlier fleet: starting again would lose its record), or `fleet resume` found one it cannot \
read.",
        example: Some(
            Example::command("runbook fleet run upgrade-with-downtime fleet.toml --journal-dir . ")
                .by_hand(),
        ),
        fix: "`runbook fleet resume FLEET --journal-dir DIR` continues that fleet; give \
another `--journal-dir` to start a new one.",
    },
];
