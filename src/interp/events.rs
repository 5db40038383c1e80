//! The events a run emits, in the JSON shape of the contract (`--format json`
//! prints one per line). The interpreter hands every event to an
//! [`EventSink`]; only the CLI turns them into output.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cluster::Snapshot;
use crate::schema::SchemaVersion;

/// The current time as RFC 3339 (UTC), as every event and journal record carries it.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

/// How a step ended, as the contract's `step_finished.outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    /// The step did everything it says.
    Ok,
    /// The step failed (or was interrupted by a What-if).
    Failed,
    /// The step did not run (e.g. completed before a resume).
    Skipped,
}

/// How a run ended, as the contract's `run_finished.outcome` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    /// Every step ran to the end.
    Succeeded,
    /// A step failed, a `fail` ran, or the runbook could not be executed.
    Failed,
    /// A `stop` ran, the operator declined, or the run was interrupted (Ctrl-C).
    Stopped,
}

impl RunOutcome {
    /// As the contract spells it: `succeeded`, `failed`, `stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
        }
    }

    /// The process exit code the contract gives this outcome.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Succeeded => 0,
            Self::Failed | Self::Stopped => 1,
        }
    }
}

/// One event with its timestamp and the stream's shape version:
/// `{"ts": ..., "event": ..., ..., "schema_version": 1}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    /// When the event happened (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub ts: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// The version of the event stream's shape (`runbook schema events`).
    #[serde(default)]
    pub schema_version: SchemaVersion,
}

impl Event {
    /// Stamps `kind` with the current time.
    pub fn now(kind: EventKind) -> Self {
        Self {
            ts: now_rfc3339(),
            kind,
            schema_version: SchemaVersion::CURRENT,
        }
    }

    /// The event as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Every kind of event; the `event` field names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Always the first event of a run (or of a resumed run).
    RunStarted {
        /// The run's id (kept across resumes).
        run_id: String,
        /// The runbook's name.
        runbook: String,
        /// A description of the target the run acts on.
        target: String,
        /// The cluster when the run started.
        cluster: Snapshot,
        /// Where the journal is written.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        journal: Option<String>,
        /// `true` when this continues an interrupted run.
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        resumed: bool,
    },
    /// A step begins.
    StepStarted {
        /// The step id.
        step: String,
        /// The step title.
        title: String,
        /// The file the step is written in.
        file: String,
        /// Its 1-based line.
        line: u32,
        /// The step number from the page, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        number: Option<String>,
    },
    /// A step ended.
    StepFinished {
        /// The step id.
        step: String,
        /// How it ended.
        outcome: StepOutcome,
        /// Why it failed or was skipped.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        message: Option<String>,
        /// When it failed because of the target (a refused or failed
        /// operation, a server that did not answer): the connector error's
        /// code, e.g. `runbook::connector::refused_action`, which `runbook
        /// explain` documents.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        cause_code: Option<String>,
        /// How long it took on the target's clock, in seconds (a step run
        /// in this process; absent for one skipped on resume).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        duration_seconds: Option<f64>,
    },
    /// A `note` for the operator.
    Note {
        /// The text.
        message: String,
    },
    /// An operator prompt and the answer it got.
    Prompt {
        /// The prompt id.
        id: String,
        /// The question.
        text: String,
        /// The answer (bool, option name, server name or text).
        #[schemars(with = "crate::semantics::prompt::Answer")]
        answer: serde_json::Value,
        /// Where the answer came from: `terminal`, `answers-file`, `yes`, `journal`.
        source: String,
    },
    /// A prompt waits for a person at the terminal (no answers file or
    /// `--yes` answers it); its `prompt` event follows once it is answered.
    /// An operation the inventory marks `manual` waits the same way, after
    /// its `operation_started` (id `manual.OPERATION.SERVER`); its
    /// `operation_finished` follows once the operator answered.
    PromptWaiting {
        /// The prompt id.
        id: String,
        /// The question.
        text: String,
        /// Who is expected to answer: the operator running the process.
        operator: String,
    },
    /// A What-if branch is entered.
    WhatIf {
        /// The What-if id.
        name: String,
        /// Why it fired.
        reason: String,
    },
    /// Something the operator must know; not an error.
    Warning {
        /// A stable code (`runbook::run::...`).
        code: String,
        /// The message.
        message: String,
    },
    /// An operation is sent to the target.
    OperationStarted {
        /// The operation in words, e.g. `upgrade mgt-1 to 7.4.0`.
        operation: String,
        /// Whether it is a long (background) operation worth a spinner.
        long: bool,
        /// For a long operation: how long the cluster model expects it to
        /// take on the target's clock, in seconds (an estimate).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        expected_seconds: Option<u64>,
    },
    /// Where a long operation is, as the target shows it (said when it
    /// changes), e.g. `mgt-3 reports STB_INIT`.
    OperationProgress {
        /// The operation in words.
        operation: String,
        /// Where it is.
        phase: String,
    },
    /// An operation returned.
    OperationFinished {
        /// The operation in words.
        operation: String,
        /// Whether it succeeded.
        ok: bool,
        /// The error, when it did not.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        error: Option<String>,
        /// The error's code when the target refused or failed it, e.g.
        /// `runbook::connector::operation_failed`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        error_code: Option<String>,
    },
    /// A `wait until` begins polling.
    WaitStarted {
        /// The condition, as written.
        condition: String,
        /// The time limit in seconds, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        timeout_seconds: Option<u64>,
    },
    /// A `wait until` ended.
    WaitFinished {
        /// The condition, as written.
        condition: String,
        /// Whether the condition came true.
        ok: bool,
        /// Seconds waited on the target's clock.
        waited_seconds: u64,
    },
    /// Always the last event.
    RunFinished {
        /// How the run ended.
        outcome: RunOutcome,
        /// A sentence saying why.
        message: String,
        /// The cluster at the end (empty if the target could not be read).
        cluster: Snapshot,
        /// The command that continues the run, when it can be resumed.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        resume: Option<String>,
        /// When a step failed because of the target: the connector error's
        /// code (as on that step's `step_finished`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        cause_code: Option<String>,
    },
}

/// Receives the events of a run, in order.
pub trait EventSink: Send {
    /// Handles one event.
    fn emit(&mut self, event: Event);

    /// The nearest deadline of a time window whose step has not started
    /// (`None`: no window runs), said again whenever the run looks at the
    /// time: what a terminal counts down. Not an event (no JSON line, no
    /// journal record); ignored by default.
    fn countdown(&mut self, _countdown: Option<Countdown>) {}
}

/// A time window running out, for a live countdown on a terminal: the step
/// that must start, and the time left when the run read its clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Countdown {
    /// The step that must start before the window closes.
    pub step: String,
    /// The seconds left then, on the target's clock (negative: the window
    /// closed that long ago).
    pub left_seconds: f64,
    /// How fast the target's clock runs while the run waits, in its seconds
    /// per real second (1 for wall time, `sim serve`'s speed); `None` when
    /// it moves only with the run (the in-process simulator): the time
    /// left then changes only when said again.
    pub speed: Option<f64>,
}

impl Countdown {
    /// The seconds left `since` after it was read (negative: closed).
    pub fn left_after(&self, since: std::time::Duration) -> f64 {
        self.left_seconds - self.speed.map_or(0.0, |speed| since.as_secs_f64() * speed)
    }
}

/// A sink that keeps every event (tests, `plan`).
#[derive(Debug, Default)]
pub struct CollectingSink {
    /// The events, in order.
    pub events: Vec<Event>,
}

impl EventSink for CollectingSink {
    fn emit(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// A sink that drops every event (benchmarks).
#[derive(Debug, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&mut self, _event: Event) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_contract_shape() {
        let event = Event::now(EventKind::StepFinished {
            step: "stop-servers".into(),
            outcome: StepOutcome::Ok,
            duration_seconds: None,
            message: None,
            cause_code: None,
        });
        let value: serde_json::Value = serde_json::from_str(&event.to_json_line()).unwrap();
        assert_eq!(value["event"], "step_finished");
        assert_eq!(value["step"], "stop-servers");
        assert_eq!(value["outcome"], "ok");
        assert!(value["ts"].as_str().unwrap().ends_with('Z'));
        assert_eq!(value["schema_version"], crate::schema::SCHEMA_VERSION);
        let back: Event = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }
}
