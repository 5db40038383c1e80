//! The run journal: JSON Lines, one record per line, so that a run stopped
//! at any point can be resumed. Reading it back tolerates a torn last line
//! (the process died mid-write). It never holds a secret: targets are
//! recorded by address or file, never with their keys.
//!
//! # Durability
//!
//! Every record is written to the file (one `write`, no user-space buffer)
//! before the run goes on, so a runner that is killed loses nothing the
//! kernel has seen. Records are forced to the disk ([`Journal::sync`], an
//! `fdatasync`) at the points where losing them on a power cut could matter:
//! before an operation is sent to a server, before the run waits (an operator
//! prompt, a `wait` poll) and when the run ends. After a power cut the journal
//! can therefore lack only records written since the last operation was sent:
//! steps that only read the cluster or spoke to the operator, which a resume
//! redoes harmlessly, or the end of a sent operation, which a resume sees as
//! in flight and re-checks against the live cluster before redoing it.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::RuntimeError;
use super::events::{now_rfc3339, RunOutcome};
use super::prompt::Answer;
use crate::cluster::{Operation, Snapshot};
use crate::connect::sim::Lived;
use crate::connect::{ClockKind, TargetRecord};
use crate::schema::SchemaVersion;

/// How a step ended, in the journal (richer than the event's outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JournalOutcome {
    /// The step completed.
    Ok,
    /// The step failed.
    Failed,
    /// The step was not run (completed before a resume).
    Skipped,
    /// A What-if interrupted the step.
    Interrupted,
}

/// How a What-if handler's body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhatIfResolution {
    /// The body ended: the run goes on after the interrupted step.
    Continue,
    /// `retry`: the interrupted step runs again.
    Retry,
}

/// One source file of the runbook and the SHA-256 of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SourceHash {
    /// The file name as loaded (a path, or `shipped:NAME` for embedded files).
    pub file: String,
    /// Hex SHA-256 of the file's text.
    pub sha256: String,
}

impl SourceHash {
    /// Hashes `text`.
    pub fn of(file: impl Into<String>, text: &str) -> Self {
        use sha2::{Digest, Sha256};
        Self {
            file: file.into(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        }
    }
}

/// The first record of a journal: everything needed to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunHeader {
    /// The version of the journal's shape (`runbook schema journal`);
    /// absent from journals written before versions (version 1).
    #[serde(default)]
    pub schema_version: SchemaVersion,
    /// The run's id.
    pub run_id: String,
    /// The runbook's name.
    pub runbook: String,
    /// How the runbook was given: a path (absolute) or a shipped name.
    pub runbook_ref: String,
    /// Every source file of the runbook (imports included) with its hash.
    pub sources: Vec<SourceHash>,
    /// How the run reaches its target (`target`, `sim`, `connection`).
    #[serde(flatten)]
    pub reach: TargetRecord,
    /// The target's description.
    pub target_description: String,
    /// The parameters given with `--set` (name → text as given).
    pub params: BTreeMap<String, String>,
    /// The What-if run directly (`--what-if`), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub what_if: Option<String>,
    /// The cluster when the run started (the base of `changes` and
    /// `standby-activated`): `cluster`, as on the `run_started` event
    /// (`initial` in journals written before schema version 1 was named).
    #[serde(rename = "cluster", alias = "initial")]
    pub initial: Snapshot,
    /// The target's clock (seconds) when the run started.
    #[serde(default)]
    pub clock_seconds: f64,
    /// Which clock every `clock_seconds` of the journal reads (absent from
    /// journals written before clocks were comparable across processes:
    /// their readings count from the start of each process).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub clock: Option<ClockKind>,
    /// Every step of the program with the hash of its source text, in source
    /// order: what a resume checks when the runbook changed since.
    #[serde(default)]
    pub steps: Vec<SourceHash>,
    /// Who started the run, and on which host.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub by: Option<Actor>,
    /// The cluster acted on: each server's name and its element key, as
    /// the target published them when the run started (absent for the
    /// in-process simulator). A resume refuses another cluster.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cluster_identity: Option<BTreeMap<String, String>>,
    /// The approved proof the run was required to have (`--require-proof`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof: Option<ProofRecord>,
    /// The maintenance window the run must fit in (`--window-ends`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window: Option<WindowRecord>,
}

/// The proof certificate a run was started with (`run --require-proof`),
/// as its journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProofRecord {
    /// Hex SHA-256 of the certificate file's bytes.
    pub certificate_sha256: String,
    /// The runbook the certificate proves.
    pub runbook: String,
    /// The approvers whose trusted signatures were counted, by name.
    #[serde(default)]
    pub approvers: Vec<String>,
}

/// A maintenance window (`--window-ends`), as the journal records it: the
/// run stops before a step whose worst case no longer fits before it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WindowRecord {
    /// When the window ends (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub ends: String,
    /// When it ends on the target's clock (the clock of `clock_seconds`:
    /// a resume measures the time left on the same clock).
    pub ends_clock_seconds: f64,
}

/// Who acts: the operator (`--operator`, `RUNBOOK_OPERATOR`, or the
/// operating system's user) and the host the runner runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actor {
    /// The operator's name.
    pub operator: String,
    /// The runner's host name.
    pub host: String,
}

impl Actor {
    /// `operator` (when given), else `RUNBOOK_OPERATOR`, else the
    /// operating system's user, on this host.
    pub fn resolve(operator: Option<&str>) -> Self {
        let operator = operator
            .map(str::to_owned)
            .filter(|name| !name.trim().is_empty())
            .or_else(|| {
                std::env::var("RUNBOOK_OPERATOR")
                    .ok()
                    .filter(|name| !name.trim().is_empty())
            })
            .or_else(|| std::env::var("USER").ok().filter(|name| !name.is_empty()))
            .or_else(|| {
                std::env::var("LOGNAME")
                    .ok()
                    .filter(|name| !name.is_empty())
            })
            .unwrap_or_else(|| String::from("unknown operator"));
        Self {
            operator,
            host: crate::connect::lease::Holder::this_process("").host,
        }
    }
}

/// A step instance: its id and how many times that id has started before (1-based).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct StepKey {
    /// The step id.
    pub id: String,
    /// 1 for the first instance of the id in the run, 2 for the next (in a `for`), ...
    pub occurrence: u32,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The first record: `run_started`, as the event (`run_header` in
    /// journals written before schema version 1 was named).
    #[serde(rename = "run_started", alias = "run_header")]
    RunHeader {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The header.
        #[serde(flatten)]
        header: Box<RunHeader>,
    },
    /// A `runbook resume` continued the run from here.
    Resumed {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The cluster observed when resuming.
        #[serde(rename = "cluster", alias = "snapshot")]
        snapshot: Snapshot,
        /// Who resumed it, and on which host.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        by: Option<Actor>,
        /// The maintenance window from here on (`resume --window-ends`, or
        /// the one journaled before).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        window: Option<WindowRecord>,
    },
    /// `runbook resume --reanswer ID`: the answers to prompt `ID` in the
    /// step instance `step` are forgotten (asked again), and so are the
    /// values decided outside steps after it (the path may change).
    Reanswered {
        /// When.
        ts: String,
        /// The prompt id.
        id: String,
        /// The step instance that asked it (`None`: outside steps).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
        /// How many decisions made outside steps are kept.
        decisions_kept: u64,
    },
    /// A step is about to act.
    StepStarted {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The step instance.
        step: StepKey,
        /// The cluster observed before it acts.
        #[serde(rename = "cluster", alias = "snapshot")]
        snapshot: Snapshot,
        /// The target's clock (seconds).
        clock_seconds: f64,
        /// The step's title, as written (absent in older journals).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        title: Option<String>,
    },
    /// A step ended.
    StepFinished {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The step instance.
        step: StepKey,
        /// How it ended.
        outcome: JournalOutcome,
        /// Why, when it did not end ok.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        message: Option<String>,
        /// The cluster observed after it acted.
        #[serde(rename = "cluster", alias = "snapshot")]
        snapshot: Snapshot,
        /// The target's clock (seconds).
        clock_seconds: f64,
    },
    /// A prompt was answered: `prompt`, as the event (`prompt_answered`
    /// in older journals).
    #[serde(rename = "prompt", alias = "prompt_answered")]
    PromptAnswered {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The step the prompt was asked in (none outside steps).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
        /// The prompt id.
        id: String,
        /// 1 for the first time this prompt was asked in that step (or outside steps), ...
        occurrence: u32,
        /// The answer.
        answer: Answer,
        /// Who answered: the operator running the process.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        by: Option<String>,
        /// How it was answered: `terminal`, `answers-file` or `yes`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        source: Option<String>,
        /// The question, as the operator saw it (absent in older journals).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        text: Option<String>,
    },
    /// A value computed outside any step (a binding, a branch, a loop's list),
    /// replayed in order on resume so the run takes the same path.
    Decision {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// Its position among the decisions of the run (0-based).
        seq: u64,
        /// What was decided, e.g. `let active` or `if at line 12`.
        what: String,
        /// The value.
        value: serde_json::Value,
    },
    /// An operation was sent.
    OperationStarted {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The step it belongs to.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
        /// The operation.
        operation: Operation,
        /// The target's clock (seconds) when it was sent: how long an
        /// operation left in flight has been running, on resume.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        clock_seconds: Option<f64>,
    },
    /// An operation returned.
    OperationFinished {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The operation.
        operation: Operation,
        /// Whether it succeeded.
        ok: bool,
        /// The error, when it did not.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        error: Option<String>,
        /// The connector error's code, when it failed with one.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        code: Option<String>,
        /// Whether it was an upgrade cancelled and reverted.
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        cancelled: bool,
    },
    /// A What-if branch was entered: `what_if`, as the event
    /// (`what_if_entered` in older journals).
    #[serde(rename = "what_if", alias = "what_if_entered")]
    WhatIfEntered {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The What-if id.
        name: String,
        /// Why it fired.
        reason: String,
        /// The step it interrupted, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
    },
    /// A What-if body ended without stopping the run.
    WhatIfFinished {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The What-if id.
        name: String,
        /// The step it interrupted, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
        /// What happens next.
        resolution: WhatIfResolution,
        /// The target's clock (seconds): with `continue`, the end of the
        /// interrupted step, which time windows are measured from.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        clock_seconds: Option<f64>,
    },
    /// The operator agreed to lose administrator changes on a server (a
    /// `discards changes on` confirmation): a resumed run does not count
    /// them as lost unreported.
    ChangesAgreed {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The server.
        server: String,
        /// How many changes (the largest number: a target that cannot count them).
        changes: u64,
    },
    /// Something the operator had to know, as the `warning` event: a
    /// window exceeded, a runtime guard's finding (`runbook::guard::…`), a
    /// target reached without TLS verification...
    Warning {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The step instance under way, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        step: Option<StepKey>,
        /// The warning's stable code.
        code: String,
        /// The message.
        message: String,
    },
    /// A step with a `within D after ANCHOR` window started: how much of
    /// the window it used.
    Window {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// The windowed step's instance.
        step: StepKey,
        /// The anchor step the window is measured from.
        after: String,
        /// The window's length in seconds (absent when it is not a literal
        /// duration).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        limit_seconds: Option<f64>,
        /// Seconds from the anchor's end to the step's start.
        elapsed_seconds: f64,
        /// Whether the anchor ended before the run was resumed.
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        across_resume: bool,
    },
    /// The run ended (a resumed run appends another one later).
    RunFinished {
        /// When.
        #[schemars(extend("format" = "date-time"))]
        ts: String,
        /// How.
        outcome: RunOutcome,
        /// Why.
        message: String,
        /// Whether the run can be continued with `runbook resume`.
        resumable: bool,
        /// The cluster read from the target at the end (absent in older
        /// journals, or when the target could not be read).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        cluster: Option<Snapshot>,
    },
}

/// An open journal: appended to record by record, forced to disk at the
/// points the interpreter chooses (see the module docs).
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Whether records were written since the last [`Journal::sync`].
    unsynced: bool,
}

/// Holds `file`'s exclusive lock for as long as it is open (the operating
/// system releases it when the process ends, however it ends): one process
/// at a time writes a journal.
fn lock(file: &File, path: &Path) -> Result<(), RuntimeError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(RuntimeError::JournalInUse {
            journal: path.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(error)) => Err(RuntimeError::journal(path, error)),
    }
}

impl Journal {
    /// `runs/<runbook>-<timestamp>-<id>.jsonl` under `dir`.
    pub fn default_path(dir: &Path, runbook: &str, run_id: &str) -> PathBuf {
        let stamp = now_rfc3339().replace([':', '-'], "");
        let stamp = stamp
            .split('.')
            .next()
            .unwrap_or(&stamp)
            .trim_end_matches('Z');
        let short_id: String = run_id.chars().take(8).collect();
        dir.join("runs")
            .join(format!("{runbook}-{stamp}Z-{short_id}.jsonl"))
    }

    /// Creates a new journal (and its folder); refuses to overwrite a file.
    pub fn create(path: &Path) -> Result<Self, RuntimeError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| RuntimeError::journal(path, error))?;
        }
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)
            .map_err(|error| RuntimeError::journal(path, error))?;
        lock(&file, path)?;
        sync_parent_dir(path);
        Ok(Self {
            path: path.to_path_buf(),
            file,
            unsynced: true,
        })
    }

    /// Opens an existing journal for appending, cutting off a torn last line
    /// first. Refused while another process holds it (a second `resume`).
    pub fn open_append(path: &Path) -> Result<Self, RuntimeError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|error| RuntimeError::journal(path, error))?;
        lock(&file, path)?;
        let bytes = std::fs::read(path).map_err(|error| RuntimeError::journal(path, error))?;
        let complete = bytes
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |at| at + 1);
        if complete < bytes.len() {
            file.set_len(complete as u64)
                .map_err(|error| RuntimeError::journal(path, error))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            unsynced: complete < bytes.len(),
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record with a single write: once this returns, the record
    /// survives the runner being killed, but not yet a power cut (see
    /// [`Journal::sync`]).
    pub fn append(&mut self, record: &Record) -> Result<(), RuntimeError> {
        let mut line =
            serde_json::to_vec(record).map_err(|error| RuntimeError::journal(&self.path, error))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|error| RuntimeError::journal(&self.path, error))?;
        self.unsynced = true;
        Ok(())
    }

    /// Appends several records with a single write: a runner killed
    /// meanwhile leaves all of them or none (a last line cut short is left
    /// out on reading).
    pub fn append_all(&mut self, records: &[&Record]) -> Result<(), RuntimeError> {
        let mut lines = Vec::new();
        for record in records {
            serde_json::to_writer(&mut lines, record)
                .map_err(|error| RuntimeError::journal(&self.path, error))?;
            lines.push(b'\n');
        }
        self.file
            .write_all(&lines)
            .map_err(|error| RuntimeError::journal(&self.path, error))?;
        self.unsynced = true;
        Ok(())
    }

    /// Waits until every record appended so far is on disk; free when
    /// nothing was appended since the last call.
    pub fn sync(&mut self) -> Result<(), RuntimeError> {
        if self.unsynced {
            self.file
                .sync_data()
                .map_err(|error| RuntimeError::journal(&self.path, error))?;
            self.unsynced = false;
        }
        Ok(())
    }
}

/// Makes a new journal's directory entry durable, so that a synced journal
/// cannot vanish with a power cut. Best effort: not every platform or file
/// system can sync a directory, and the records' own syncs do not depend on it.
fn sync_parent_dir(path: &Path) {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// A journal read back.
#[derive(Debug, Clone)]
pub struct JournalContents {
    /// The records, in order.
    pub records: Vec<Record>,
    /// Whether an incomplete last line was dropped.
    pub torn_tail: bool,
}

impl JournalContents {
    /// The run header (the first record).
    pub fn header(&self) -> Option<&RunHeader> {
        match self.records.first() {
            Some(Record::RunHeader { header, .. }) => Some(header),
            _ => None,
        }
    }

    /// What the in-process simulated cluster of a journaled run (target
    /// `sim`) went through, in order, for `runbook resume` to rebuild it (it
    /// died with the interrupted process): every clock reading and every
    /// operation whose result was seen.
    pub fn history(&self) -> Vec<Lived<'_>> {
        self.records
            .iter()
            .flat_map(|record| {
                let clock = record.clock_seconds().map(|at| Lived::Clock(seconds(at)));
                let operation = match record {
                    Record::OperationFinished { operation, .. } => Some(Lived::Finished(operation)),
                    _ => None,
                };
                clock.into_iter().chain(operation)
            })
            .collect()
    }
}

impl Record {
    /// The target's clock this record holds, in seconds, if any.
    pub fn clock_seconds(&self) -> Option<f64> {
        match self {
            Record::RunHeader { header, .. } => Some(header.clock_seconds),
            Record::StepStarted { clock_seconds, .. }
            | Record::StepFinished { clock_seconds, .. } => Some(*clock_seconds),
            Record::WhatIfFinished { clock_seconds, .. } => *clock_seconds,
            _ => None,
        }
    }
}

/// A journaled clock reading as a duration (negative or not a number: zero).
pub fn seconds(clock_seconds: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(clock_seconds).unwrap_or_default()
}

/// Reads a journal; a torn last line is dropped, a bad line elsewhere is an error.
pub fn read_journal(path: &Path) -> Result<JournalContents, RuntimeError> {
    let text = std::fs::read_to_string(path).map_err(|error| RuntimeError::journal(path, error))?;
    parse_journal(path, &text)
}

/// Parses a journal's text (see [`read_journal`]).
pub fn parse_journal(path: &Path, text: &str) -> Result<JournalContents, RuntimeError> {
    let mut records = Vec::new();
    let mut torn_tail = false;
    let ends_complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let is_last = index + 1 == lines.len();
        match serde_json::from_str::<Record>(line) {
            Ok(record) if !is_last || ends_complete => records.push(record),
            // A last line without its newline was cut mid-write, even if it parses.
            Ok(_) => torn_tail = true,
            Err(_) if is_last => torn_tail = true,
            Err(error) => {
                return Err(RuntimeError::journal(
                    path,
                    format!("line {} is not a journal record: {error}", index + 1),
                ))
            }
        }
    }
    if !matches!(records.first(), Some(Record::RunHeader { .. })) {
        return Err(RuntimeError::journal(
            path,
            "the file does not start with a run header; is it a runbook journal?",
        ));
    }
    Ok(JournalContents { records, torn_tail })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Record {
        Record::RunHeader {
            ts: now_rfc3339(),
            header: Box::new(RunHeader {
                schema_version: SchemaVersion::CURRENT,
                run_id: "0123456789".into(),
                runbook: "demo".into(),
                runbook_ref: "demo".into(),
                sources: vec![SourceHash::of("demo.runbook", "runbook demo {}")],
                reach: TargetRecord::named("sim"),
                target_description: "simulated".into(),
                params: BTreeMap::new(),
                what_if: None,
                initial: Snapshot::default(),
                clock_seconds: 0.0,
                clock: None,
                steps: Vec::new(),
                cluster_identity: None,
                by: None,
                proof: None,
                window: None,
            }),
        }
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs").join("demo.jsonl");
        let mut journal = Journal::create(&path).unwrap();
        journal.append(&header()).unwrap();
        drop(journal);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"record\":\"step_sta");
        std::fs::write(&path, &text).unwrap();

        let contents = read_journal(&path).unwrap();
        assert!(contents.torn_tail);
        assert_eq!(contents.records.len(), 1);

        let mut journal = Journal::open_append(&path).unwrap();
        journal
            .append(&Record::Resumed {
                ts: now_rfc3339(),
                snapshot: Snapshot::default(),
                by: None,
                window: None,
            })
            .unwrap();
        let contents = read_journal(&path).unwrap();
        assert!(!contents.torn_tail);
        assert_eq!(contents.records.len(), 2);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let header = serde_json::to_string(&header()).unwrap();
        std::fs::write(&path, format!("{header}\nnot json\n{header}\n")).unwrap();
        let error = read_journal(&path).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn default_path_is_under_runs() {
        let path = Journal::default_path(Path::new("."), "upgrade", "abcdef0123456789");
        let text = path.display().to_string();
        assert!(text.starts_with("./runs/upgrade-"), "{text}");
        assert!(text.ends_with("-abcdef01.jsonl"), "{text}");
    }
}
