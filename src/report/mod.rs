//! Run reports (`runbook report JOURNAL`): a run's journal told as one story
//! for a change record — the runbook and its hashes, who ran and resumed it
//! where, a timeline of steps with durations (resumes inline), every prompt
//! with its answer and who gave it, What-ifs, time windows against their
//! limit, warnings and runtime guard findings, the cluster before and after
//! with the differences marked, and the proof certificate the run was
//! started under.
//!
//! [`Report::from_journal`] builds the model once; [`html`] renders a
//! self-contained page (inline CSS, no script, no external asset, every
//! journal string escaped) and [`markdown`] a Markdown document (every
//! journal string escaped). Nothing here prints or writes a file: the CLI
//! does (`cli/report.rs`).

// A journal that is not one carries its text for the excerpt; it is built
// once, when the command fails, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod error;
pub mod html;
pub mod markdown;

use std::collections::HashMap;
use std::path::Path;

use miette::{NamedSource, SourceSpan};

pub use error::ReportError;

use crate::cluster::{Mode, ServerSnapshot, Snapshot};
use crate::interp::journal::{
    Actor, JournalOutcome, ProofRecord, Record, RunHeader, StepKey, WhatIfResolution,
};
use crate::interp::RunOutcome;

/// The formats of `runbook report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A self-contained HTML page.
    Html,
    /// A Markdown document.
    Markdown,
}

impl Format {
    /// The format a report written to `output` gets when none is given: a
    /// file ending in `.md` or `.markdown` is Markdown, any other file is
    /// HTML, standard output is Markdown.
    pub fn for_output(output: Option<&Path>) -> Self {
        match output.and_then(|path| path.extension()) {
            Some(extension)
                if extension.eq_ignore_ascii_case("md")
                    || extension.eq_ignore_ascii_case("markdown") =>
            {
                Self::Markdown
            }
            Some(_) => Self::Html,
            None if output.is_some() => Self::Html,
            None => Self::Markdown,
        }
    }
}

/// A run as its report tells it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The journal's name as given.
    pub journal: String,
    /// The journal's header (runbook, sources and hashes, target, who).
    pub header: RunHeader,
    /// When the run started.
    pub started_at: String,
    /// How the run ended last (a resumed run ends more than once).
    pub end: Option<Ending>,
    /// The processes that worked on the run: the start, then each resume.
    pub sessions: Vec<Session>,
    /// Everything in order.
    pub timeline: Vec<Entry>,
    /// Every prompt answered.
    pub prompts: Vec<PromptAnswer>,
    /// Every What-if entered.
    pub what_ifs: Vec<WhatIf>,
    /// Every windowed step's start against its window.
    pub windows: Vec<Window>,
    /// Every warning (runtime guard findings among them).
    pub warnings: Vec<Warning>,
    /// The cluster when the run started.
    pub before: Snapshot,
    /// The cluster at the end, and whether the journal recorded it at the
    /// end (`false`: the last one a step observed).
    pub after: Option<(Snapshot, bool)>,
    /// The target's clock at the first and the last reading (seconds).
    pub clock_span: Option<(f64, f64)>,
    /// Whether the journal's last line was incomplete (dropped).
    pub torn_tail: bool,
}

/// How one process's part of the run ended.
#[derive(Debug, Clone)]
pub struct Ending {
    /// When.
    pub ts: String,
    /// How.
    pub outcome: RunOutcome,
    /// Why.
    pub message: String,
    /// Whether it could be resumed.
    pub resumable: bool,
}

/// One process that worked on the run.
#[derive(Debug, Clone)]
pub struct Session {
    /// `false` for the start, `true` for a resume.
    pub resumed: bool,
    /// When it began.
    pub ts: String,
    /// Who ran it, and where.
    pub by: Option<Actor>,
    /// How it ended (none: the process ended without saying, killed).
    pub ended: Option<Ending>,
}

/// One line of the timeline.
#[derive(Debug, Clone)]
pub enum Entry {
    /// The run started (index 0) or was resumed: an index into `sessions`.
    Session(usize),
    /// A step (or a What-if run alone) ran.
    Step(Step),
    /// A What-if was entered: an index into `what_ifs`.
    WhatIf(usize),
    /// A What-if's body ended.
    WhatIfFinished {
        /// When.
        ts: String,
        /// The What-if.
        name: String,
        /// Whether the interrupted step runs again.
        resolution: WhatIfResolution,
    },
    /// `resume --reanswer ID`: an answer was asked again.
    Reanswered {
        /// When.
        ts: String,
        /// The prompt.
        id: String,
    },
    /// A process's part of the run ended: an index into `sessions`.
    Ended(usize),
}

/// A step instance in the timeline.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step and its occurrence.
    pub key: StepKey,
    /// Its title, when the journal has it.
    pub title: Option<String>,
    /// When it started.
    pub started: String,
    /// When it ended (none: the process ended inside it).
    pub finished: Option<String>,
    /// How it ended.
    pub outcome: Option<JournalOutcome>,
    /// How long it took on the target's clock.
    pub duration_seconds: Option<f64>,
    /// Why it did not end ok.
    pub message: Option<String>,
    clock_started: f64,
}

/// A prompt and its answer.
#[derive(Debug, Clone)]
pub struct PromptAnswer {
    /// When it was answered.
    pub ts: String,
    /// The step it was asked in.
    pub step: Option<StepKey>,
    /// The prompt id.
    pub id: String,
    /// The question, when the journal has it.
    pub text: Option<String>,
    /// The answer, as the operator would say it (`yes`, `no`, a name, text).
    pub answer: String,
    /// Who answered.
    pub by: Option<String>,
    /// How: `terminal`, `answers-file` or `yes`.
    pub source: Option<String>,
}

/// A What-if entered.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// When.
    pub ts: String,
    /// The What-if id.
    pub name: String,
    /// Why it fired.
    pub reason: String,
    /// The step it interrupted.
    pub step: Option<StepKey>,
    /// How its body ended (none: it stopped the run, or the run ended inside it).
    pub resolution: Option<WhatIfResolution>,
}

/// A windowed step's start.
#[derive(Debug, Clone)]
pub struct Window {
    /// When the step started.
    pub ts: String,
    /// The windowed step.
    pub step: StepKey,
    /// The anchor step.
    pub after: String,
    /// The window's length (seconds), when it is a literal duration.
    pub limit_seconds: Option<f64>,
    /// From the anchor's end to the step's start (seconds).
    pub elapsed_seconds: f64,
    /// Whether the anchor ended before a resume.
    pub across_resume: bool,
}

impl Window {
    /// Whether the step started later than its window allows.
    pub fn exceeded(&self) -> bool {
        self.limit_seconds
            .is_some_and(|limit| self.elapsed_seconds > limit)
    }
}

/// A warning of the run.
#[derive(Debug, Clone)]
pub struct Warning {
    /// When.
    pub ts: String,
    /// The step under way.
    pub step: Option<StepKey>,
    /// Its code.
    pub code: String,
    /// The message.
    pub message: String,
}

impl Warning {
    /// Whether the runtime guard found it (`runbook::guard::…`).
    pub fn is_guard(&self) -> bool {
        self.code.starts_with("runbook::guard::")
    }
}

/// Reads the journal at `path` into a report.
pub fn read(path: &Path) -> Result<Report, ReportError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| ReportError::Unreadable {
        path: name.clone(),
        reason: error.to_string(),
    })?;
    Report::from_journal(&name, &text)
}

impl Report {
    /// Builds the report of the journal `text` (named `name`). A torn last
    /// line is dropped (and said); any other line that is not a record is
    /// an error pointing at it.
    pub fn from_journal(name: &str, text: &str) -> Result<Self, ReportError> {
        let not_a_journal = |reason: String, span: Option<SourceSpan>| ReportError::NotAJournal {
            path: name.to_string(),
            reason,
            source_code: span.map(|_| NamedSource::new(name, text.to_string())),
            span,
        };
        let mut records = Vec::new();
        let mut torn_tail = false;
        let mut offset = 0usize;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (index, line) in lines.iter().enumerate() {
            let start = offset;
            offset += line.len();
            let content = line.trim_end_matches(['\n', '\r']);
            if content.trim().is_empty() {
                continue;
            }
            let complete = line.ends_with('\n');
            match serde_json::from_str::<Record>(content) {
                Ok(record) if complete => records.push(record),
                // A last line without its newline was cut mid-write.
                Ok(_) => torn_tail = true,
                Err(_) if !complete && index + 1 == lines.len() => torn_tail = true,
                Err(error) => {
                    return Err(not_a_journal(
                        format!("line {} is not a journal record: {error}", index + 1),
                        Some(SourceSpan::from(start..start + content.len())),
                    ))
                }
            }
        }
        let Some(Record::RunHeader { ts, header }) = records.first() else {
            return Err(not_a_journal(
                String::from("it does not start with a `run_started` record"),
                (!text.is_empty())
                    .then(|| SourceSpan::from(0..text.find('\n').unwrap_or(text.len()))),
            ));
        };
        let mut report = Report {
            journal: name.to_string(),
            header: (**header).clone(),
            started_at: ts.clone(),
            end: None,
            sessions: Vec::new(),
            timeline: Vec::new(),
            prompts: Vec::new(),
            what_ifs: Vec::new(),
            windows: Vec::new(),
            warnings: Vec::new(),
            before: header.initial.clone(),
            after: None,
            clock_span: None,
            torn_tail,
        };
        report.tell(&records);
        Ok(report)
    }

    /// Walks the records in order.
    fn tell(&mut self, records: &[Record]) {
        // The open instance of each step: its index in the timeline.
        let mut open: HashMap<StepKey, usize> = HashMap::new();
        let mut last_seen: Option<Snapshot> = None;
        for record in records {
            if let Some(clock) = record.clock_seconds() {
                self.clock_span = Some(match self.clock_span {
                    Some((first, last)) => (first.min(clock), last.max(clock)),
                    None => (clock, clock),
                });
            }
            match record {
                Record::RunHeader { ts, header } => {
                    self.sessions.push(Session {
                        resumed: false,
                        ts: ts.clone(),
                        by: header.by.clone(),
                        ended: None,
                    });
                    self.timeline.push(Entry::Session(self.sessions.len() - 1));
                }
                Record::Resumed {
                    ts, snapshot, by, ..
                } => {
                    open.clear();
                    last_seen = Some(snapshot.clone());
                    self.sessions.push(Session {
                        resumed: true,
                        ts: ts.clone(),
                        by: by.clone(),
                        ended: None,
                    });
                    self.timeline.push(Entry::Session(self.sessions.len() - 1));
                }
                Record::Reanswered { ts, id, .. } => self.timeline.push(Entry::Reanswered {
                    ts: ts.clone(),
                    id: id.clone(),
                }),
                Record::StepStarted {
                    ts,
                    step,
                    snapshot,
                    clock_seconds,
                    title,
                } => {
                    last_seen = Some(snapshot.clone());
                    open.insert(step.clone(), self.timeline.len());
                    self.timeline.push(Entry::Step(Step {
                        key: step.clone(),
                        title: title.clone(),
                        started: ts.clone(),
                        finished: None,
                        outcome: None,
                        duration_seconds: None,
                        message: None,
                        clock_started: *clock_seconds,
                    }));
                }
                Record::StepFinished {
                    ts,
                    step,
                    outcome,
                    message,
                    snapshot,
                    clock_seconds,
                } => {
                    last_seen = Some(snapshot.clone());
                    if let Some(Entry::Step(entry)) = open
                        .remove(step)
                        .and_then(|index| self.timeline.get_mut(index))
                    {
                        entry.finished = Some(ts.clone());
                        entry.outcome = Some(*outcome);
                        entry.message.clone_from(message);
                        entry.duration_seconds =
                            Some((clock_seconds - entry.clock_started).max(0.0));
                    }
                }
                Record::PromptAnswered {
                    ts,
                    step,
                    id,
                    answer,
                    by,
                    source,
                    text,
                    ..
                } => self.prompts.push(PromptAnswer {
                    ts: ts.clone(),
                    step: step.clone(),
                    id: id.clone(),
                    text: text.clone(),
                    answer: answer.to_string(),
                    by: by.clone(),
                    source: source.clone(),
                }),
                Record::WhatIfEntered {
                    ts,
                    name,
                    reason,
                    step,
                } => {
                    self.what_ifs.push(WhatIf {
                        ts: ts.clone(),
                        name: name.clone(),
                        reason: reason.clone(),
                        step: step.clone(),
                        resolution: None,
                    });
                    self.timeline.push(Entry::WhatIf(self.what_ifs.len() - 1));
                }
                Record::WhatIfFinished {
                    ts,
                    name,
                    resolution,
                    ..
                } => {
                    if let Some(what_if) = self
                        .what_ifs
                        .iter_mut()
                        .rev()
                        .find(|what_if| what_if.name == *name && what_if.resolution.is_none())
                    {
                        what_if.resolution = Some(*resolution);
                    }
                    self.timeline.push(Entry::WhatIfFinished {
                        ts: ts.clone(),
                        name: name.clone(),
                        resolution: *resolution,
                    });
                }
                Record::Warning {
                    ts,
                    step,
                    code,
                    message,
                } => self.warnings.push(Warning {
                    ts: ts.clone(),
                    step: step.clone(),
                    code: code.clone(),
                    message: message.clone(),
                }),
                Record::Window {
                    ts,
                    step,
                    after,
                    limit_seconds,
                    elapsed_seconds,
                    across_resume,
                } => self.windows.push(Window {
                    ts: ts.clone(),
                    step: step.clone(),
                    after: after.clone(),
                    limit_seconds: *limit_seconds,
                    elapsed_seconds: *elapsed_seconds,
                    across_resume: *across_resume,
                }),
                Record::RunFinished {
                    ts,
                    outcome,
                    message,
                    resumable,
                    cluster,
                } => {
                    let ending = Ending {
                        ts: ts.clone(),
                        outcome: *outcome,
                        message: message.clone(),
                        resumable: *resumable,
                    };
                    if let Some(session) = self.sessions.last_mut() {
                        session.ended = Some(ending.clone());
                    }
                    self.timeline.push(Entry::Ended(self.sessions.len() - 1));
                    self.end = Some(ending);
                    self.after = match cluster {
                        Some(cluster) => Some((cluster.clone(), true)),
                        None => last_seen.clone().map(|seen| (seen, false)),
                    };
                }
                // The confirmation and its answer are in the prompts.
                Record::Decision { .. }
                | Record::ChangesAgreed { .. }
                | Record::OperationStarted { .. }
                | Record::OperationFinished { .. } => {}
            }
        }
        // A last process that ended without a word (killed): the cluster
        // its steps saw last, not an earlier process's end.
        if self
            .sessions
            .last()
            .is_none_or(|session| session.ended.is_none())
        {
            self.after = last_seen.map(|seen| (seen, false)).or(self.after.take());
        }
    }

    /// The run's outcome in words: `succeeded`, `stopped (resumable)`,
    /// `not finished` for a journal whose last process ended without a word.
    pub fn outcome_words(&self) -> String {
        let last_session_ended = self
            .sessions
            .last()
            .is_some_and(|session| session.ended.is_some());
        match &self.end {
            Some(end) if last_session_ended => {
                if end.resumable {
                    format!("{} (resumable)", end.outcome.as_str())
                } else {
                    end.outcome.as_str().to_string()
                }
            }
            _ => String::from("not finished (the process ended without recording an outcome)"),
        }
    }

    /// The run's length on the target's clock, from the first reading to
    /// the last.
    pub fn clock_seconds(&self) -> Option<f64> {
        self.clock_span.map(|(first, last)| (last - first).max(0.0))
    }

    /// The rows of the before/after tables: each server's name and both sides.
    pub fn cluster_rows(&self) -> Vec<(String, Option<&ServerSnapshot>, Option<&ServerSnapshot>)> {
        let after = self.after.as_ref().map(|(snapshot, _)| snapshot);
        let mut names: Vec<String> = self
            .before
            .servers
            .iter()
            .map(|server| server.name.clone())
            .collect();
        for server in after.iter().flat_map(|after| after.servers.iter()) {
            if !names.contains(&server.name) {
                names.push(server.name.clone());
            }
        }
        names
            .into_iter()
            .map(|name| {
                let before = self.before.server(&name);
                let after = after.and_then(|after| after.server(&name));
                (name, before, after)
            })
            .collect()
    }
}

/// The columns of the cluster tables.
pub const CLUSTER_COLUMNS: [&str; 6] = [
    "server",
    "running",
    "mode",
    "version",
    "replication",
    "excluded",
];

/// A server's cells, in [`CLUSTER_COLUMNS`] order (the name excluded).
pub fn server_cells(server: &ServerSnapshot) -> [String; 5] {
    [
        yes_no(server.running).to_string(),
        match server.mode {
            Mode::Active => "Active",
            Mode::Standby => "Standby",
        }
        .to_string(),
        server.version.to_string(),
        server.replication.to_string(),
        yes_no(server.excluded).to_string(),
    ]
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// A journal timestamp as people read it: `2026-12-07 14:46:28 UTC`
/// (the text as is when it is not RFC 3339).
pub fn when(ts: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(ts, &Rfc3339) {
        Ok(at) => {
            let at = at.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            )
        }
        Err(_) => ts.to_string(),
    }
}

/// Seconds as the language writes durations (`0s`, `1m30s`, `2h`).
pub fn duration(seconds: f64) -> String {
    crate::domain::duration::format(std::time::Duration::from_secs_f64(seconds.max(0.0).round()))
}

/// A step instance in words: `upgrade-standbys`, `restart (2nd)`.
pub fn step_name(key: &StepKey) -> String {
    if key.occurrence <= 1 {
        key.id.clone()
    } else {
        format!("{} (#{})", key.id, key.occurrence)
    }
}

/// A step's outcome in words.
pub fn step_outcome(outcome: Option<JournalOutcome>) -> &'static str {
    match outcome {
        Some(JournalOutcome::Ok) => "ok",
        Some(JournalOutcome::Failed) => "failed",
        Some(JournalOutcome::Skipped) => "skipped",
        Some(JournalOutcome::Interrupted) => "interrupted by a What-if",
        None => "not finished",
    }
}

/// Who, in words: `alice on build-7`.
pub fn actor(by: Option<&Actor>) -> String {
    match by {
        Some(by) => format!("{} on {}", by.operator, by.host),
        None => String::from("not recorded"),
    }
}

/// A What-if's resolution in words.
pub fn resolution(resolution: Option<WhatIfResolution>) -> &'static str {
    match resolution {
        Some(WhatIfResolution::Continue) => "handled; the run goes on after the step",
        Some(WhatIfResolution::Retry) => "handled; the step runs again (retry)",
        None => "the run stopped or ended inside it",
    }
}

/// The proof section's lines: the certificate, what it proves, who approved.
pub fn proof_lines(proof: &ProofRecord) -> [(String, String); 3] {
    [
        (
            String::from("certificate SHA-256"),
            proof.certificate_sha256.clone(),
        ),
        (String::from("runbook"), proof.runbook.clone()),
        (
            String::from("approvers"),
            if proof.approvers.is_empty() {
                String::from("none")
            } else {
                proof.approvers.join(", ")
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_output() {
        assert_eq!(Format::for_output(None), Format::Markdown);
        for (file, format) in [
            ("r.html", Format::Html),
            ("r.htm", Format::Html),
            ("r", Format::Html),
            ("r.md", Format::Markdown),
            ("R.MARKDOWN", Format::Markdown),
        ] {
            assert_eq!(Format::for_output(Some(Path::new(file))), format, "{file}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_journal_points_at_its_line() {
        let error = Report::from_journal("j.jsonl", "{\"x\": 1}\n").unwrap_err();
        assert!(matches!(
            error,
            ReportError::NotAJournal { span: Some(_), .. }
        ));
        let empty = Report::from_journal("j.jsonl", "").unwrap_err();
        assert!(empty.to_string().contains("`run_started`"), "{empty}");
    }
}
