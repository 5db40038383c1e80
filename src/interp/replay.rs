//! What a resumed run knows from its journal — which step instances
//! completed or were left half-done, the answers and decisions to replay,
//! the operations in flight — and the checks that refuse a resume that
//! cannot be done safely.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::journal::{
    JournalContents, JournalOutcome, Record, RunHeader, StepKey, WhatIfResolution,
};
use super::machine::step_fingerprints;
use super::program::Program;
use super::prompt::Answer;
use super::RuntimeError;
use crate::cluster::Operation;
use crate::connect::ClockKind;
use crate::semantics::code::{Code, HandlerId};
use crate::semantics::eval::Value;
use crate::semantics::machine::{Gate, OperationError, Subject};
use crate::semantics::observe;
use crate::semantics::prompt::PromptKind;

/// The code of a manual operation's prompt interrupted by Ctrl-C.
const INTERRUPTED_CODE: &str = "runbook::connector::interrupted";

/// Refuses a resume that cannot be done safely.
pub(super) fn check_resumable(
    journal_path: &Path,
    contents: &JournalContents,
    header: &RunHeader,
    program: &Program,
) -> Result<(), RuntimeError> {
    let journal = journal_path.display().to_string();
    let refuse = |reason: String, help: &str| RuntimeError::ResumeRefused {
        journal: journal.clone(),
        reason,
        help: help.to_string(),
    };
    if let Some(Record::RunFinished {
        outcome,
        message,
        resumable: false,
        ..
    }) = contents
        .records
        .iter()
        .rev()
        .find(|record| matches!(record, Record::RunFinished { .. } | Record::Resumed { .. }))
    {
        return Err(refuse(
            format!(
                "the run already ended ({}): {message}",
                serde_json::to_value(outcome)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
            "start a new run with `runbook run`",
        ));
    }
    if let Some(message) = Replay::from_journal(contents).stopped {
        return Err(refuse(
            format!("the run already ended (stopped): {message}"),
            "start a new run with `runbook run`",
        ));
    }
    let unchanged = header.sources.len() == program.files.len()
        && header
            .sources
            .iter()
            .zip(super::program::hashes(program))
            .all(|(old, new)| old.sha256 == new.sha256);
    if unchanged {
        return Ok(());
    }
    // The runbook changed: resuming is still sound when every step already
    // done keeps its place and the half-done step is unchanged.
    let new_steps = step_fingerprints(program);
    let position = |id: &str| new_steps.iter().position(|step| step.file == id);
    let replay = Replay::from_journal(contents);
    let mut last_position = None;
    for key in &replay.order {
        let Some(at) = position(&key.id) else {
            return Err(refuse(
                format!(
                    "step `{}`, already run, is no longer in the runbook",
                    key.id
                ),
                "restore the runbook as it was when the run started, or start a new run",
            ));
        };
        if last_position.is_some_and(|last| at < last) {
            return Err(refuse(
                format!(
                    "the steps already run are no longer in the same order (`{}` moved)",
                    key.id
                ),
                "restore the runbook as it was when the run started, or start a new run",
            ));
        }
        last_position = Some(at);
    }
    for (key, status) in &replay.steps {
        if *status == StepStatus::Completed {
            continue;
        }
        let old = header.steps.iter().find(|step| step.file == key.id);
        let new = new_steps.iter().find(|step| step.file == key.id);
        if old.map(|step| &step.sha256) != new.map(|step| &step.sha256) {
            return Err(refuse(
                format!(
                    "step `{}` was interrupted half-way and has changed since",
                    key.id
                ),
                "restore that step as it was, or check the cluster by hand and start a new run",
            ));
        }
    }
    Ok(())
}

/// What a resumed run knows from the journal. Built record by record
/// ([`Replay::record`]), so the verifier keeps one along each path as the
/// interpreter would journal it, and resumes from it after a runner crash
/// with the very rules the interpreter's driver follows.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Replay {
    /// The status of each step instance that started.
    pub(super) steps: BTreeMap<StepKey, StepStatus>,
    /// Step instances in the order they first started.
    pub(super) order: Vec<StepKey>,
    /// Answers given, by step, prompt id and occurrence.
    pub(super) prompts: BTreeMap<(Option<StepKey>, String, u32), Answer>,
    /// Decisions made outside steps, in order.
    pub(super) decisions: Vec<(String, Value)>,
    /// The next decision to replay.
    pub(super) cursor: usize,
    /// How many decisions the journal already holds (the next seq).
    pub(super) recorded: u64,
    /// Operations sent but never seen returning (the run died meanwhile).
    pub(super) in_flight: Vec<InFlight>,
    /// Per unfinished step instance, the operations that completed in its
    /// current attempt (since it started, or since its What-if was entered):
    /// a resume does not send them again.
    pub(super) completed: BTreeMap<StepKey, Vec<Operation>>,
    /// Per unfinished step instance, the operations that failed in its
    /// current attempt before the run could act on the failure (no What-if
    /// entered, the step not failed): a resume replays the failure.
    pub(super) failed: BTreeMap<StepKey, Vec<(Operation, OperationError)>>,
    /// Step instances whose What-if body was under way: the handler's id.
    pub(super) handlers: BTreeMap<StepKey, String>,
    /// The changes the operator agreed to lose, per server.
    pub(super) agreed: BTreeMap<String, u64>,
    /// Servers the run made Active before the interruption.
    pub(super) activated: BTreeSet<String>,
    /// Where each completed step instance ended: what a time window
    /// anchored on it is measured from after the resume.
    pub(super) ends: BTreeMap<StepKey, JournaledEnd>,
    /// Which clock the journal's `clock_seconds` read (none: an old journal).
    pub(super) clock: Option<ClockKind>,
    /// The step instance of the last operation sent.
    sent_in: Option<StepKey>,
    /// A `stop` ended the run inside a step (its message): the run is over
    /// even when the runner died before it journaled the run's end.
    pub(crate) stopped: Option<String>,
}

/// An operation sent whose result the journal does not hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InFlight {
    /// The operation.
    pub(crate) operation: Operation,
    /// The step instance that sent it.
    pub(super) step: Option<StepKey>,
    /// The target's clock when it was sent (seconds), when journaled.
    pub(super) clock_seconds: Option<f64>,
}

impl Eq for InFlight {}

impl std::hash::Hash for InFlight {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.operation.hash(state);
        self.step.hash(state);
        self.clock_seconds.map(f64::to_bits).hash(state);
    }
}

/// How many times each step id and each prompt of a step instance came in
/// this process: what names a step instance ([`StepKey`]) and a prompt's
/// occurrence in the journal.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Instances {
    steps: BTreeMap<String, u32>,
    prompts: BTreeMap<(Option<StepKey>, String), u32>,
}

impl Instances {
    /// The key of the next instance of step `id`.
    pub(crate) fn next_step(&mut self, id: &str) -> StepKey {
        let occurrence = self.steps.entry(id.to_string()).or_insert(0);
        *occurrence += 1;
        StepKey {
            id: id.to_string(),
            occurrence: *occurrence,
        }
    }

    /// The occurrence of prompt `id` asked next in step instance `step`.
    pub(crate) fn next_prompt(&mut self, step: &Option<StepKey>, id: &str) -> u32 {
        let count = self
            .prompts
            .entry((step.clone(), id.to_string()))
            .or_insert(0);
        *count += 1;
        *count
    }
}

/// The end of a step instance as the journal holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct JournaledEnd {
    /// The target's clock, in seconds.
    pub(super) clock_seconds: Option<f64>,
    /// The record's timestamp (RFC 3339).
    pub(super) ts: String,
}

/// How far a step instance got, as the journal holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StepStatus {
    Started,
    Completed,
}

/// What `resume --reanswer ID` re-opens: the journal record that forgets
/// the answer, and what was done since the operator gave it.
#[derive(Debug)]
pub(super) struct Reopening {
    /// The record to journal.
    pub(super) record: Record,
    /// The answer given.
    pub(super) answer: Answer,
    /// The operations sent since, in order.
    pub(super) done_since: Vec<String>,
}

/// Finds the last answer to prompt `id` and checks that it can be given
/// again: its step instance has not completed, and no step that started
/// after it has completed.
pub(super) fn reopen(contents: &JournalContents, id: &str) -> Result<Reopening, String> {
    let answered = contents.records.iter().rposition(
        |record| matches!(record, Record::PromptAnswered { id: asked, .. } if asked == id),
    );
    let Some(at) = answered else {
        let mut ids: Vec<&str> = contents
            .records
            .iter()
            .filter_map(|record| match record {
                Record::PromptAnswered { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return Err(if ids.is_empty() {
            format!("the journal holds no answer to `{id}` (no prompt was answered yet)")
        } else {
            format!(
                "the journal holds no answer to `{id}`; answered: {}",
                ids.join(", ")
            )
        });
    };
    let Record::PromptAnswered { step, answer, .. } = &contents.records[at] else {
        unreachable!("found as a PromptAnswered record");
    };
    let later = &contents.records[at + 1..];
    let completed = |key: &StepKey| {
        later.iter().any(|record| {
            matches!(record, Record::StepFinished { step, outcome: JournalOutcome::Ok, .. } if step == key)
                || matches!(record, Record::WhatIfFinished { step: Some(step), resolution: WhatIfResolution::Continue, .. } if step == key)
        })
    };
    if let Some(key) = step.as_ref().filter(|key| completed(key)) {
        return Err(format!(
            "step `{}` that asked `{id}` has completed since: its answer can no longer change",
            key.id
        ));
    }
    let started_later: Vec<&StepKey> = later
        .iter()
        .filter_map(|record| match record {
            Record::StepStarted { step: key, .. } if Some(key) != step.as_ref() => Some(key),
            _ => None,
        })
        .collect();
    if let Some(key) = started_later.into_iter().find(|key| completed(key)) {
        return Err(format!(
            "step `{}`, which ran after `{id}` was answered, has completed since: the answer can no longer change",
            key.id
        ));
    }
    let decisions_kept = contents.records[..at]
        .iter()
        .filter(|record| matches!(record, Record::Decision { .. }))
        .count() as u64;
    let done_since = later
        .iter()
        .filter_map(|record| match record {
            Record::OperationStarted { operation, .. } => Some(operation.to_string()),
            _ => None,
        })
        .collect();
    Ok(Reopening {
        record: Record::Reanswered {
            ts: super::events::now_rfc3339(),
            id: id.to_string(),
            step: step.clone(),
            decisions_kept,
        },
        answer: answer.clone(),
        done_since,
    })
}

impl Replay {
    /// Whether `operation` completed in the current attempt of `step` before
    /// the interruption (each journaled completion answers once).
    pub(crate) fn take_completed(&mut self, step: &StepKey, operation: &Operation) -> bool {
        let Some(done) = self.completed.get_mut(step) else {
            return false;
        };
        match done.iter().position(|sent| sent == operation) {
            Some(at) => {
                done.remove(at);
                true
            }
            None => false,
        }
    }

    /// How far the step instance `key` got before the interruption.
    pub(crate) fn status(&self, key: &StepKey) -> Option<StepStatus> {
        self.steps.get(key).copied()
    }

    /// The resume gate of a step instance: one completed before the
    /// interruption is skipped; one left half-done goes on inside the
    /// What-if whose body was under way, or is redone; any other runs.
    pub(crate) fn gate(&self, code: &Code<'_>, subject: Subject, key: &StepKey) -> Gate {
        match self.status(key) {
            Some(StepStatus::Completed) => Gate::Skip,
            Some(StepStatus::Started) => match self.pending_handler(code, subject, key) {
                Some(handler) => Gate::Handler(handler),
                None => Gate::Redo,
            },
            None => Gate::Run,
        }
    }

    /// The What-if whose body was under way in this step instance when the
    /// run was interrupted (a handler of the step's file or of the main file).
    fn pending_handler(
        &self,
        code: &Code<'_>,
        subject: Subject,
        key: &StepKey,
    ) -> Option<HandlerId> {
        let Subject::Step(step) = subject else {
            return None;
        };
        let name = self.handlers.get(key)?;
        let step_file = code.steps[step as usize].file;
        code.handlers
            .iter()
            .position(|handler| {
                handler.what_if.id.name == *name
                    && (handler.file == step_file || handler.file == code.program.main)
            })
            .map(|index| index as HandlerId)
    }

    /// The answer the interrupted run gave to this occurrence of a prompt,
    /// when it still fits the prompt.
    pub(crate) fn answer(
        &self,
        step: &Option<StepKey>,
        id: &str,
        occurrence: u32,
        kind: &PromptKind,
    ) -> Option<Answer> {
        self.prompts
            .get(&(step.clone(), id.to_string(), occurrence))
            .filter(|answer| answer.replays(kind))
            .cloned()
    }

    /// The next decision the interrupted run made outside steps, if any is
    /// left to replay.
    pub(crate) fn next_decision(&mut self) -> Option<(String, Value)> {
        let next = self.decisions.get(self.cursor).cloned()?;
        self.cursor += 1;
        Some(next)
    }

    /// Takes the operations the step instance `key` left in flight.
    pub(crate) fn take_in_flight(&mut self, key: &StepKey) -> Vec<InFlight> {
        let (left, others): (Vec<InFlight>, Vec<InFlight>) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|sent| sent.step.as_ref() == Some(key));
        self.in_flight = others;
        left
    }

    /// Notes that `operation`, left in flight by `key`, was seen done: it is
    /// not sent again.
    pub(crate) fn seen_done(&mut self, key: &StepKey, operation: Operation) {
        self.completed
            .entry(key.clone())
            .or_default()
            .push(operation);
    }

    /// Notes that `operation`, left in flight by `key`, visibly ended
    /// without its effect (or was still not done when its time was up). An
    /// upgrade whose server runs again on its previous version with its
    /// replication broken was cancelled and reverted: that is its failure, replayed when
    /// the step is redone so the What-ifs it fires fire (it is not sent
    /// again into a reverted cluster). Returns the failure to journal;
    /// other operations are sent again.
    pub(crate) fn ended_without(
        &mut self,
        key: &StepKey,
        operation: &Operation,
        now: &crate::cluster::Snapshot,
    ) -> Option<OperationError> {
        let Operation::Upgrade { server, .. } = operation else {
            return None;
        };
        // Only a server running again on its previous version with its
        // replication broken shows a revert (the procedure page: "replication
        // will most likely be broken"). Anything else may be an upgrade that
        // never reached the server (the runner died between journaling it
        // and sending it): it is sent again.
        let reverted = now.server(server).is_some_and(|found| {
            found.running && found.replication == crate::cluster::ReplicationState::BrokenActStb
        });
        if !reverted {
            return None;
        }
        let failure = OperationError {
            message: format!(
                "`{operation}` ended without its effect while no runner watched: {server} runs again on its previous version with its replication broken (the upgrade was cancelled and reverted)"
            ),
            cancelled: true,
            code: None,
            help: None,
        };
        self.failed
            .entry(key.clone())
            .or_default()
            .push((operation.clone(), failure.clone()));
        Some(failure)
    }

    /// The changes the operator of the interrupted run agreed to lose.
    pub(crate) fn agreed(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.agreed.iter()
    }

    /// The servers the interrupted run made Active.
    pub(crate) fn activated(&self) -> impl Iterator<Item = &String> {
        self.activated.iter()
    }

    /// The failure of `operation` in the current attempt of `step` that the
    /// interrupted run had not acted on yet (each journaled failure answers
    /// once).
    pub(crate) fn take_failed(
        &mut self,
        step: &StepKey,
        operation: &Operation,
    ) -> Option<OperationError> {
        let failed = self.failed.get_mut(step)?;
        let at = failed.iter().position(|(sent, _)| sent == operation)?;
        Some(failed.remove(at).1)
    }

    pub(super) fn from_journal(contents: &JournalContents) -> Self {
        let mut replay = Replay::default();
        for record in &contents.records {
            replay.record(record);
        }
        replay
    }

    /// Takes note of one journal record, in the journal's order.
    pub(crate) fn record(&mut self, record: &Record) {
        match record {
            Record::StepStarted { step, .. } => {
                if !self.steps.contains_key(step) {
                    self.order.push(step.clone());
                }
                self.steps.insert(step.clone(), StepStatus::Started);
            }
            Record::RunHeader { header, .. } => self.clock = header.clock,
            Record::StepFinished {
                ts,
                step,
                outcome,
                clock_seconds,
                message,
                ..
            } => {
                let status = match outcome {
                    JournalOutcome::Ok | JournalOutcome::Skipped => StepStatus::Completed,
                    JournalOutcome::Failed | JournalOutcome::Interrupted => StepStatus::Started,
                };
                // Only a `stop` ends a step with a message and no failure.
                if let (JournalOutcome::Ok, Some(message)) = (outcome, message) {
                    self.stopped = Some(message.clone());
                }
                // The run acted on the failures: a resume sends them again.
                if *outcome != JournalOutcome::Interrupted {
                    self.failed.remove(step);
                }
                self.steps.insert(step.clone(), status);
                if *outcome == JournalOutcome::Ok {
                    self.ends.insert(
                        step.clone(),
                        JournaledEnd {
                            clock_seconds: Some(*clock_seconds),
                            ts: ts.clone(),
                        },
                    );
                }
            }
            Record::WhatIfFinished {
                ts,
                step: Some(step),
                resolution,
                clock_seconds,
                ..
            } => {
                let status = match resolution {
                    WhatIfResolution::Continue => StepStatus::Completed,
                    WhatIfResolution::Retry => StepStatus::Started,
                };
                // The handler may have undone what the step did: a step
                // run again decides from the live cluster alone.
                self.handlers.remove(step);
                self.completed.remove(step);
                self.failed.remove(step);
                self.steps.insert(step.clone(), status);
                if *resolution == WhatIfResolution::Continue {
                    self.ends.insert(
                        step.clone(),
                        JournaledEnd {
                            clock_seconds: *clock_seconds,
                            ts: ts.clone(),
                        },
                    );
                }
            }
            // A declined confirmation is asked again: the operator may now agree.
            Record::PromptAnswered {
                step,
                id,
                occurrence,
                answer,
                ..
            } if *answer != Answer::Bool(false) => {
                self.prompts
                    .insert((step.clone(), id.clone(), *occurrence), answer.clone());
            }
            Record::Reanswered {
                id,
                step,
                decisions_kept,
                ..
            } => {
                self.prompts
                    .retain(|(asked_in, asked, _), _| !(asked == id && asked_in == step));
                self.decisions.truncate(*decisions_kept as usize);
            }
            Record::Decision { what, value, .. } => {
                if let Ok(value) = serde_json::from_value::<Value>(value.clone()) {
                    self.decisions.push((what.clone(), value));
                }
                self.recorded += 1;
            }
            Record::OperationStarted {
                operation,
                step,
                clock_seconds,
                ..
            } => {
                self.in_flight.push(InFlight {
                    operation: operation.clone(),
                    step: step.clone(),
                    clock_seconds: *clock_seconds,
                });
                self.sent_in = step.clone();
            }
            Record::ChangesAgreed {
                server, changes, ..
            } => {
                let agreed = self.agreed.entry(server.clone()).or_insert(0);
                *agreed = (*agreed).max(*changes);
            }
            Record::WhatIfEntered {
                name,
                step: Some(step),
                ..
            } => {
                self.handlers.insert(step.clone(), name.clone());
                self.completed.remove(step);
                self.failed.remove(step);
            }
            Record::OperationFinished {
                operation,
                ok,
                error,
                code,
                cancelled,
                ..
            } => {
                // Ctrl-C at a manual operation's prompt is no failure: the
                // resumed run asks again.
                let interrupted = code.as_deref() == Some(INTERRUPTED_CODE);
                if let (false, false, Some(step)) = (*ok, interrupted, &self.sent_in) {
                    self.failed.entry(step.clone()).or_default().push((
                        operation.clone(),
                        OperationError {
                            message: error.clone().unwrap_or_default(),
                            cancelled: *cancelled,
                            code: code.clone(),
                            help: None,
                        },
                    ));
                }
                if let Some(at) = self
                    .in_flight
                    .iter()
                    .rposition(|sent| sent.operation == *operation)
                {
                    self.in_flight.remove(at);
                }
                if let (true, Some(step)) = (*ok, &self.sent_in) {
                    self.completed
                        .entry(step.clone())
                        .or_default()
                        .push(operation.clone());
                }
                if *ok && observe::activates(operation) {
                    self.activated.insert(operation.server().to_string());
                }
            }
            _ => {}
        }
    }
}

impl Eq for JournaledEnd {}

impl std::hash::Hash for JournaledEnd {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.clock_seconds.map(f64::to_bits).hash(state);
        self.ts.hash(state);
    }
}
