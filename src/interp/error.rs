//! The run phase's error enum: every way a run, a resume or a plan can end
//! in error, each with a stable `runbook::run::...` code, the source excerpt
//! where it applies, and a help line saying what to do next.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use crate::connect::ConnectorError;

/// The source text of one runbook file, shared by the diagnostics that point into it.
pub type SourceText = NamedSource<Arc<str>>;

/// An error raised while running, resuming or planning a runbook.
#[derive(Debug, Error, Diagnostic)]
pub enum RuntimeError {
    /// A step failed: an operation was refused or failed, or a `check` did not hold.
    #[error("step `{step}` failed: {reason}")]
    #[diagnostic(code(runbook::run::step_failed))]
    StepFailed {
        /// The step id.
        step: String,
        /// What went wrong (the connector's error or the check's message).
        reason: String,
        /// The file the failing statement is in.
        #[source_code]
        source_code: SourceText,
        /// The failing statement.
        #[label("{label}")]
        span: SourceSpan,
        /// The label under the excerpt.
        label: String,
        /// When the target caused the failure: the connector error's code
        /// (`runbook::connector::...`), which the help line points at.
        cause_code: Option<String>,
        /// Which What-if applies or how to resume, and the cluster at that moment.
        #[help]
        help: String,
    },
    /// A `wait until` did not come true in time.
    #[error("step `{step}`: the condition `{condition}` did not hold within {timeout}")]
    #[diagnostic(code(runbook::run::wait_timeout))]
    WaitTimeout {
        /// The step id.
        step: String,
        /// The condition, as written.
        condition: String,
        /// The time limit, as written.
        timeout: String,
        /// The file of the `wait`.
        #[source_code]
        source_code: SourceText,
        /// The `wait` statement.
        #[label("waited {timeout} for this")]
        span: SourceSpan,
        /// How to continue, and the cluster at that moment.
        #[help]
        help: String,
    },
    /// A prompt needs an answer and none can be had (no terminal, no answer given).
    #[error("prompt `{id}` needs an answer, but there is no terminal and no answer for it")]
    #[diagnostic(
        code(runbook::run::prompt_unavailable),
        help("give the answer in an answers file (`--answers FILE` with `{id} = ...`), use `--yes` to confirm every prompt and take each choice's default, or run in a terminal")
    )]
    PromptUnavailable {
        /// The prompt id.
        id: String,
        /// The file of the prompt.
        #[source_code]
        source_code: SourceText,
        /// The prompt statement.
        #[label("this prompt")]
        span: SourceSpan,
    },
    /// The answers file cannot be read or has a wrong answer in it.
    #[error("answers file {path}: {reason}")]
    #[diagnostic(
        code(runbook::run::answers_file),
        help("an answers file is TOML: `prompt-id = true` for a confirm, `= \"option\"` for a choice, `= \"mgt-2\"` for a server, `= \"text\"` for a record")
    )]
    AnswersFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
        /// The file's text, when it could be read.
        #[source_code]
        source_code: Option<SourceText>,
        /// Where in the file.
        #[label("here")]
        span: Option<SourceSpan>,
    },
    /// The operator's terminal failed while prompting.
    #[error("prompt `{id}`: the terminal failed: {reason}")]
    #[diagnostic(
        code(runbook::run::terminal),
        help("resume the run with `runbook resume JOURNAL`, or answer with `--answers FILE`")
    )]
    Terminal {
        /// The prompt id.
        id: String,
        /// The I/O error.
        reason: String,
    },
    /// An expression could not be evaluated against the live cluster.
    #[error("{message}")]
    #[diagnostic(code(runbook::run::evaluation))]
    Evaluation {
        /// What went wrong.
        message: String,
        /// The file of the expression.
        #[source_code]
        source_code: SourceText,
        /// The expression.
        #[label("evaluated here")]
        span: SourceSpan,
        /// What to do.
        #[help]
        help: Option<String>,
    },
    /// The runbook ended itself with `fail "..."`.
    #[error("{message}")]
    #[diagnostic(code(runbook::run::failed))]
    FailStatement {
        /// The `fail` message.
        message: String,
        /// The file of the `fail`.
        #[source_code]
        source_code: SourceText,
        /// The `fail` statement.
        #[label("the runbook stopped here")]
        span: SourceSpan,
        /// The cluster at that moment.
        #[help]
        help: String,
    },
    /// A time window (`within D after STEP`) was exceeded; reported as a warning.
    #[error(
        "step `{step}` started {elapsed} after `{after}` ended{measured}, later than its window of {window}"
    )]
    #[diagnostic(
        code(runbook::run::window_exceeded),
        severity(Warning),
        help("the page asks for this step \"as soon as possible\"; check the cluster now (two Actives must not last)")
    )]
    WindowExceeded {
        /// The late step.
        step: String,
        /// The step the window is measured from.
        after: String,
        /// The window, as written.
        window: String,
        /// How long it actually took.
        elapsed: String,
        /// Empty, or how it was measured when `after` ended before the run
        /// was resumed, e.g. ` (before the run was resumed; measured on wall time)`.
        measured: String,
        /// The file of the step.
        #[source_code]
        source_code: SourceText,
        /// The `within` clause.
        #[label("window exceeded")]
        span: SourceSpan,
    },
    /// A parameter given with `--set` is unknown or has the wrong type.
    #[error("parameter `{name}`: {reason}")]
    #[diagnostic(
        code(runbook::run::parameter),
        help("the runbook's parameters are listed by `runbook show NAME`; give them as `--set NAME=VALUE`")
    )]
    Parameter {
        /// The parameter.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// `run --force` with nothing to force: no `--what-if`, and the runbook
    /// declares no starting state.
    #[error("`--force` has nothing to force here")]
    #[diagnostic(
        code(runbook::run::nothing_to_force),
        help("`--force` runs a `--what-if` handler none of whose triggers holds, or a runbook that declares `from STATE` on a target in none of those states; this runbook declares none and no `--what-if` was given. Run it without `--force`")
    )]
    NothingToForce,
    /// `--what-if NAME` names no What-if of the runbook.
    #[error("the runbook has no What-if `{name}`")]
    #[diagnostic(
        code(runbook::run::unknown_what_if),
        help("{suggestion}its What-ifs are: {available}")
    )]
    UnknownWhatIf {
        /// The name given.
        name: String,
        /// `did you mean `NAME`? ` with the closest What-if, or nothing.
        suggestion: String,
        /// The What-ifs of the runbook, comma-separated.
        available: String,
    },
    /// `--what-if NAME` on a runbook that has no What-if handler at all.
    #[error("`--what-if {name}`: the runbook has no What-if handlers")]
    #[diagnostic(
        code(runbook::run::unknown_what_if),
        help("`--what-if` runs one of the runbook's `what-if ID \"...\" when ...` handlers alone; this runbook declares none. Run it without `--what-if`")
    )]
    NoWhatIfs {
        /// The name given.
        name: String,
    },
    /// `--what-if NAME` on a target where none of the handler's triggers
    /// holds: nothing runs, no journal is written.
    #[error("`--what-if {name}`: none of the handler's triggers holds on the target")]
    #[diagnostic(code(runbook::run::what_if_not_holding))]
    WhatIfNotHolding {
        /// The handler.
        name: String,
        /// The file of the handler.
        #[source_code]
        source_code: SourceText,
        /// Its triggers.
        #[label("none of these holds")]
        span: SourceSpan,
        /// Each trigger as judged, and `--force`.
        #[help]
        help: String,
    },
    /// The runbook declares the states it is written for (`from STATE,
    /// ...`) and the target is in none of them: nothing runs, no journal is
    /// written.
    #[error("the target is in none of the states `{name}` is written for")]
    #[diagnostic(code(runbook::run::not_a_starting_state))]
    NotAStartingState {
        /// The runbook.
        name: String,
        /// The main file.
        #[source_code]
        source_code: SourceText,
        /// Its `from` declaration.
        #[label("written for these states")]
        span: SourceSpan,
        /// The cluster as judged, and `--force`.
        #[help]
        help: String,
    },
    /// `run --force` on a target in none of the declared starting states.
    #[error(
        "`--force`: the target is in none of the states `{name}` is written for; it runs anyway"
    )]
    #[diagnostic(code(runbook::run::starting_state_forced), severity(Warning))]
    StartingStateForced {
        /// The runbook.
        name: String,
        /// The main file.
        #[source_code]
        source_code: SourceText,
        /// Its `from` declaration.
        #[label("written for these states")]
        span: SourceSpan,
        /// The cluster as judged.
        #[help]
        help: String,
    },
    /// `--what-if NAME --force` where none of the handler's triggers holds:
    /// what the handler will do, before it does it.
    #[error("`--what-if {name} --force`: none of the handler's triggers holds; it runs anyway")]
    #[diagnostic(code(runbook::run::what_if_forced), severity(Warning))]
    WhatIfForced {
        /// The handler.
        name: String,
        /// The file of the handler.
        #[source_code]
        source_code: SourceText,
        /// Its triggers.
        #[label("none of these holds")]
        span: SourceSpan,
        /// The triggers as judged, and the handler's operations.
        #[help]
        help: String,
    },
    /// The journal could not be written or read.
    #[error("journal {path}: {reason}")]
    #[diagnostic(
        code(runbook::run::journal),
        help("the journal is what makes a run resumable: check the disk and the path (`--journal FILE` chooses another)")
    )]
    Journal {
        /// The journal file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// `runbook resume` cannot continue this journal.
    #[error("cannot resume {journal}: {reason}")]
    #[diagnostic(code(runbook::run::resume_refused))]
    ResumeRefused {
        /// The journal file.
        journal: String,
        /// Why.
        reason: String,
        /// What to do instead.
        #[help]
        help: String,
    },
    /// The runbook ended, but the run upgraded the Initial Active and the
    /// cluster is not the healthy upgraded one: not a success.
    #[error("the runbook ended, but the cluster is not the healthy upgraded one: {violations}")]
    #[diagnostic(
        code(runbook::run::guard_unhealthy_end),
        help("check the cluster by hand (`runbook probe`), then bring it to one Active in ACT_REP and every Standby in STB_REP on the new version; the runbook should end with `wait until healthy()` or stop with instructions")
    )]
    UnhealthyEnd {
        /// What is not so.
        violations: String,
    },
    /// The runbook ended, but the cluster does not meet its goal (`goal
    /// ...`; without one, the healthy cluster): not a success.
    #[error("the runbook ended, but its goal is not met: {message}")]
    #[diagnostic(
        code(runbook::run::goal_not_met),
        help("check the cluster by hand (`runbook probe`) and finish what is left; a runbook reaches its goal (`goal upgrade to V`, `goal healthy` — the default — or `goal EXPR else \"MESSAGE\"`) on every path that succeeds, or stops with instructions: `runbook verify` proves it")
    )]
    GoalNotMet {
        /// What is not so.
        message: String,
        /// Whether the goal is declared (otherwise: the default, healthy).
        declared: bool,
        /// The main file.
        #[source_code]
        source_code: SourceText,
        /// The `goal` declaration, when declared.
        #[label("the goal")]
        span: Option<miette::SourceSpan>,
    },
    /// The cluster is not one the runbook is written for (`requires`).
    #[error("{runbook} cannot run on this cluster: {message}")]
    #[diagnostic(
        code(runbook::run::requirement_not_met),
        help("the runbook's `requires` says what cluster it is written for; nothing was done and no journal was written")
    )]
    RequirementNotMet {
        /// The runbook.
        runbook: String,
        /// The requirement's message.
        message: String,
        /// The main file.
        #[source_code]
        source_code: SourceText,
        /// The `requires` declaration.
        #[label("not met by this cluster")]
        span: SourceSpan,
    },
    /// The live cluster is not the one the journal's run acted on.
    #[error("{target} is not the cluster this run acted on: {differences}")]
    #[diagnostic(
        code(runbook::run::other_cluster),
        help("resume against the cluster the run started on (the journal's target); nothing was done to this one")
    )]
    OtherCluster {
        /// The target as the journal names it.
        target: String,
        /// What differs, server by server.
        differences: String,
    },
    /// Another process holds the journal: a second `resume` of one run.
    #[error(
        "{journal} is in use by another runbook process: one process at a time continues a run"
    )]
    #[diagnostic(
        code(runbook::run::journal_in_use),
        help("wait for that process to end (or stop it with Ctrl-C), then resume again; nothing was done")
    )]
    JournalInUse {
        /// The journal file.
        journal: String,
    },
    /// The target could not be read or reached.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] ConnectorError),
    /// The outcome of an operation was not seen, or the cluster could not be
    /// read: the run stopped, resumable, without judging the step.
    #[error("{what}")]
    #[diagnostic(code(runbook::run::outcome_not_seen), help("{help}"))]
    OutcomeNotSeen {
        /// What was not seen, and why.
        what: String,
        /// What to do, with the command that continues the run.
        help: String,
    },
    /// The run was interrupted (Ctrl-C) after the current step was journaled.
    #[error("the run was interrupted")]
    #[diagnostic(code(runbook::run::interrupted), help("{resume}"))]
    Interrupted {
        /// The command that continues the run.
        resume: String,
    },
    /// `--window-ends`: the runbook's worst case does not fit in the time left.
    #[error("the maintenance window is too short for `{runbook}`: its worst case is {worst}, the window ends at {ends} ({left} left)")]
    #[diagnostic(code(runbook::run::window_too_short))]
    WindowTooShort {
        /// The runbook.
        runbook: String,
        /// The verifier's worst case from the start, formatted.
        worst: String,
        /// The time left, formatted.
        left: String,
        /// When the window ends (RFC 3339).
        ends: String,
        /// Where the worst case comes from; what to do.
        #[help]
        help: String,
    },
    /// `--window-ends`: what is left from a step no longer fits: the run
    /// stopped before it, resumably.
    #[error("stopped before step `{step}`: the worst case of what is left is {worst}, and the maintenance window ends at {ends} ({left} left)")]
    #[diagnostic(code(runbook::run::maintenance_window_closing))]
    WindowClosing {
        /// The step not started.
        step: String,
        /// The verifier's worst case from that step, formatted.
        worst: String,
        /// The time left, formatted.
        left: String,
        /// When the window ends (RFC 3339).
        ends: String,
        /// How to continue.
        #[help]
        help: String,
    },
}

impl RuntimeError {
    /// A `Journal` error from an I/O error.
    pub fn journal(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        Self::Journal {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
