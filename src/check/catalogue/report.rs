//! The codes of `runbook report`: a journal that cannot be read or is not a
//! journal, and a report that cannot be written.

use super::{Entry, Example, Phase};
use crate::check::lint::Severity;

/// `runbook report`.
pub static PHASE: Phase = Phase {
    name: "report",
    title: "Run reports",
    intro: "Reported by `runbook report JOURNAL`, which reads a run's journal and writes its \
report (HTML or Markdown). Each of them ends the command with exit code 2 and writes nothing.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::report::unreadable",
        severity: Severity::Error,
        summary: "The journal given to `runbook report` cannot be read.",
        cause: "The file does not exist, is a directory, cannot be read by this user, or is not \
UTF-8 text.",
        example: Some(Example::command("runbook report runs/no-such-run.jsonl")),
        fix:
            "Give the journal a run wrote: the path `runbook run` printed (`runs/…jsonl` under the \
folder it ran in), or the file given with `--journal`.",
    },
    Entry {
        code: "runbook::report::not_a_journal",
        severity: Severity::Error,
        summary: "The file given to `runbook report` is not a runbook journal.",
        cause: "A journal is JSON Lines whose first record is `run_started` (`runbook schema \
journal`). A line other than the last one is not a journal record (the file was edited, or is \
something else), or the first record is not the run's header. The label points at the line. \
A last line cut mid-write (the runner was killed) is not an error: the report leaves it out \
and says so.",
        example: Some(Example::command("runbook report notes.jsonl").with_file(
            "notes.jsonl",
            "{\"record\":\"note\",\"text\":\"not a journal\"}\n",
        )),
        fix: "Give the journal itself, as the run wrote it. If it was edited by hand, restore \
the line the label points at.",
    },
    Entry {
        code: "runbook::report::output",
        severity: Severity::Error,
        summary: "The report cannot be written to the file given with `-o`.",
        cause: "The folder of the file does not exist, or the file cannot be created or \
overwritten by this user.",
        example: Some(
            Example::command("runbook report run.jsonl -o no-such-folder/report.html").by_hand(),
        ),
        fix: "Choose a file in a folder that exists and can be written, or leave out `-o` to \
print the report.",
    },
];
