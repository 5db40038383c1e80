//! What a resumed run knows from its journal — which step instances
//! completed or were left half-done, the answers and decisions to replay,
//! the operations in flight — and the checks that refuse a resume that
//! cannot be done safely.

use std::collections::{HashMap, HashSet};
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
use crate::semantics::eval::Value;
use crate::semantics::observe;

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

/// What a resumed run knows from the journal.
#[derive(Debug, Default)]
pub(super) struct Replay {
    /// The status of each step instance that started.
    pub(super) steps: HashMap<StepKey, StepStatus>,
    /// Step instances in the order they first started.
    pub(super) order: Vec<StepKey>,
    /// Answers given, by step, prompt id and occurrence.
    pub(super) prompts: HashMap<(Option<StepKey>, String, u32), Answer>,
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
    pub(super) completed: HashMap<StepKey, Vec<Operation>>,
    /// Step instances whose What-if body was under way: the handler's id.
    pub(super) handlers: HashMap<StepKey, String>,
    /// Servers the run made Active before the interruption.
    pub(super) activated: HashSet<String>,
    /// Where each completed step instance ended: what a time window
    /// anchored on it is measured from after the resume.
    pub(super) ends: HashMap<StepKey, JournaledEnd>,
    /// Which clock the journal's `clock_seconds` read (none: an old journal).
    pub(super) clock: Option<ClockKind>,
}

/// An operation sent whose result the journal does not hold.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct InFlight {
    /// The operation.
    pub(super) operation: Operation,
    /// The step instance that sent it.
    pub(super) step: Option<StepKey>,
    /// The target's clock when it was sent (seconds), when journaled.
    pub(super) clock_seconds: Option<f64>,
}

/// The end of a step instance as the journal holds it.
#[derive(Debug, Clone)]
pub(super) struct JournaledEnd {
    /// The target's clock, in seconds.
    pub(super) clock_seconds: Option<f64>,
    /// The record's timestamp (RFC 3339).
    pub(super) ts: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StepStatus {
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
    pub(super) fn take_completed(&mut self, step: &StepKey, operation: &Operation) -> bool {
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

    pub(super) fn from_journal(contents: &JournalContents) -> Self {
        let mut replay = Replay::default();
        // The step instance of the last operation sent.
        let mut sent_in: Option<StepKey> = None;
        for record in &contents.records {
            match record {
                Record::StepStarted { step, .. } => {
                    if !replay.steps.contains_key(step) {
                        replay.order.push(step.clone());
                    }
                    replay.steps.insert(step.clone(), StepStatus::Started);
                }
                Record::RunHeader { header, .. } => replay.clock = header.clock,
                Record::StepFinished {
                    ts,
                    step,
                    outcome,
                    clock_seconds,
                    ..
                } => {
                    let status = match outcome {
                        JournalOutcome::Ok | JournalOutcome::Skipped => StepStatus::Completed,
                        JournalOutcome::Failed | JournalOutcome::Interrupted => StepStatus::Started,
                    };
                    replay.steps.insert(step.clone(), status);
                    if *outcome == JournalOutcome::Ok {
                        replay.ends.insert(
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
                    replay.handlers.remove(step);
                    replay.completed.remove(step);
                    replay.steps.insert(step.clone(), status);
                    if *resolution == WhatIfResolution::Continue {
                        replay.ends.insert(
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
                    replay
                        .prompts
                        .insert((step.clone(), id.clone(), *occurrence), answer.clone());
                }
                Record::Reanswered {
                    id,
                    step,
                    decisions_kept,
                    ..
                } => {
                    replay
                        .prompts
                        .retain(|(asked_in, asked, _), _| !(asked == id && asked_in == step));
                    replay.decisions.truncate(*decisions_kept as usize);
                }
                Record::Decision { what, value, .. } => {
                    if let Ok(value) = serde_json::from_value::<Value>(value.clone()) {
                        replay.decisions.push((what.clone(), value));
                    }
                    replay.recorded += 1;
                }
                Record::OperationStarted {
                    operation,
                    step,
                    clock_seconds,
                    ..
                } => {
                    replay.in_flight.push(InFlight {
                        operation: operation.clone(),
                        step: step.clone(),
                        clock_seconds: *clock_seconds,
                    });
                    sent_in = step.clone();
                }
                Record::WhatIfEntered {
                    name,
                    step: Some(step),
                    ..
                } => {
                    replay.handlers.insert(step.clone(), name.clone());
                    replay.completed.remove(step);
                }
                Record::OperationFinished { operation, ok, .. } => {
                    if let Some(at) = replay
                        .in_flight
                        .iter()
                        .rposition(|sent| sent.operation == *operation)
                    {
                        replay.in_flight.remove(at);
                    }
                    if let (true, Some(step)) = (*ok, &sent_in) {
                        replay
                            .completed
                            .entry(step.clone())
                            .or_default()
                            .push(operation.clone());
                    }
                    if *ok && observe::activates(operation) {
                        replay.activated.insert(operation.server().to_string());
                    }
                }
                _ => {}
            }
        }
        replay
    }
}
