//! One cluster of a fleet, run as `runbook run` (or `resume`) runs it, in a
//! task of the fleet's runtime: its events change the [`Board`] (and, off a
//! terminal, print a plain line each) and are posted, naming the cluster,
//! to the fleet's `--notify` webhooks and its inventory's; its prompts are
//! answered from its answers file, by `--yes`, or at the terminal in turn
//! with the other clusters.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::super::run::{execute, notifying, resumed_connector, webhooks, Start};
use super::super::stdout::outln;
use super::super::target::{self, ConnectionArgs, SimArgs, TargetSpec};
use super::summary::Board;
use crate::connect::inventory::WebhookUrl;
use crate::connect::{Connector, TargetRecord};
use crate::fleet::{ClusterEntry, ClusterResult, ClusterState};
use crate::interp::events::{Event, EventKind, EventSink};
use crate::interp::journal::{JournalContents, RunHeader};
use crate::interp::machine::{JournalChoice, RunReport, RunSettings};
use crate::interp::program::Program;
use crate::interp::prompt::{
    Answer, AnswerSource, AnswersFile, OperatorPrompter, PromptError, PromptRequest, Prompter,
};

/// A diagnostic to print once the fleet has ended, with its cluster.
pub type Diagnostic = Box<dyn miette::Diagnostic + Send + Sync>;

/// What the fleet does with one cluster.
pub enum Job {
    /// Start its run (journal: `JOURNAL_DIR/NAME.jsonl`).
    Run {
        /// The runbook.
        program: Arc<Program>,
    },
    /// Continue its run from its journal.
    Resume {
        /// The runbook its journal names.
        program: Arc<Program>,
        /// The journal's header.
        header: Box<RunHeader>,
        /// The journal's records.
        contents: JournalContents,
    },
    /// Nothing: its run had finished before (`fleet resume`).
    Finished(ClusterResult),
}

/// What every cluster's run shares.
pub struct Common {
    /// The states the summary shows.
    pub board: Arc<Board>,
    /// Set by Ctrl-C: every run stops after its current step.
    pub interrupt: Arc<AtomicBool>,
    /// `--yes`.
    pub yes: bool,
    /// `--accept-data-loss`.
    pub accept_data_loss: bool,
    /// `--take-over`.
    pub take_over: bool,
    /// `--operator`.
    pub operator: Option<String>,
    /// `--notify`: webhooks every cluster posts to (besides its inventory's).
    pub notify: Vec<String>,
    /// Connection options for every cluster.
    pub connection: ConnectionArgs,
    /// Whether prompts nobody answered may be asked at the terminal.
    pub interactive: bool,
    /// Whether to print a plain line per event (no live summary).
    pub plain: bool,
    /// The summary's title.
    pub title: String,
}

/// Runs (or resumes) cluster `index` to its end; never panics on the
/// cluster's failures: they are its result.
pub async fn run_cluster(
    index: usize,
    entry: ClusterEntry,
    job: Job,
    journal: PathBuf,
    common: Arc<Common>,
) -> (ClusterResult, Vec<Diagnostic>) {
    let (program, resumed) = match &job {
        Job::Run { program } => (Arc::clone(program), None),
        Job::Resume {
            program,
            header,
            contents,
        } => (Arc::clone(program), Some((header, contents))),
        Job::Finished(result) => return (result.clone(), Vec::new()),
    };
    let started = Instant::now();
    common.board.set_state(index, ClusterState::Running);
    let target_arg = entry.target.as_arg();
    let answers = entry.answers.clone();
    let given = common.connection.options();
    type Opened = (Box<dyn Connector>, RunSettings, Vec<WebhookUrl>);
    let opened: Result<Opened, target::TargetError> = match resumed {
        None => target::open(
            &TargetSpec::parse(&target_arg),
            &SimArgs::default(),
            &given,
            &entry.params,
            answers.as_ref(),
            Some(&entry.name),
        )
        .await
        .map(|opened| {
            let settings = RunSettings {
                params: entry.params.clone(),
                journal: JournalChoice::File(journal.clone()),
                target: TargetRecord {
                    target: target_arg.clone(),
                    sim: opened.sim,
                    connection: given.clone(),
                },
                interrupt: Arc::clone(&common.interrupt),
                take_over: common.take_over,
                operator: common.operator.clone(),
                ..RunSettings::default()
            };
            (opened.connector, settings, opened.notify)
        }),
        Some((header, contents)) => resumed_connector(
            header,
            contents,
            &given,
            answers.as_ref(),
            Some(&entry.name),
        )
        .await
        .map(|(connector, inventory_webhooks)| {
            let settings = RunSettings {
                params: header.params.clone(),
                what_if: header.what_if.clone(),
                journal: JournalChoice::File(journal.clone()),
                target: header.reach.clone(),
                interrupt: Arc::clone(&common.interrupt),
                take_over: common.take_over,
                operator: common.operator.clone(),
                ..RunSettings::default()
            };
            (connector, settings, inventory_webhooks)
        }),
    };
    let mut result = ClusterResult {
        name: entry.name.clone(),
        target: target_arg,
        state: ClusterState::Failed,
        skipped: false,
        resumed: resumed.is_some(),
        last_step: None,
        message: String::new(),
        code: None,
        journal: None,
        duration_seconds: None,
        cluster: None,
    };
    let (connector, settings, inventory_webhooks) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            result.message = error.to_string();
            result.code = code_of(&error);
            if common.plain {
                outln!("{}: failed: {}", entry.name, result.message);
            }
            common.board.set_state(index, ClusterState::Failed);
            return (result, vec![Box::new(error)]);
        }
    };
    // A runbook written for other states than this cluster's (`from`) is
    // refused here as `run` refuses it (a fleet has no `--force`).
    if resumed.is_none() {
        if let Err(error) =
            crate::interp::machine::judge_starting_state(&program, connector.as_ref(), false).await
        {
            result.message = error.to_string();
            result.code = code_of(&error);
            if common.plain {
                outln!("{}: failed: {}", entry.name, result.message);
            }
            common.board.set_state(index, ClusterState::Failed);
            connector.close().await;
            return (result, vec![Box::new(error)]);
        }
    }
    let answers_file = match answers.as_deref().map(AnswersFile::load).transpose() {
        Ok(answers) => answers,
        Err(error) => {
            result.message = error.to_string();
            result.code = code_of(&error);
            common.board.set_state(index, ClusterState::Failed);
            return (result, vec![Box::new(error)]);
        }
    };
    let mut prompter = FleetPrompter {
        index,
        cluster: entry.name.clone(),
        answers: answers_file,
        common: Arc::clone(&common),
    };
    // The fleet's webhooks and the cluster's inventory's: each text names
    // the cluster.
    let mut sink = notifying(
        Box::new(FleetSink {
            index,
            cluster: entry.name.clone(),
            common: Arc::clone(&common),
        }),
        webhooks(&common.notify, &inventory_webhooks),
        Some(&entry.name),
    );
    let start = match resumed {
        Some(_) => Start::Resume(&journal),
        None => Start::Run,
    };
    let report = execute(
        start,
        &program,
        connector.as_ref(),
        &mut sink,
        &mut prompter,
        settings,
    )
    .await;
    sink.flush().await;
    let status = common.board.status(index);
    result.last_step = status.and_then(|status| status.step);
    result.duration_seconds = Some(started.elapsed().as_secs_f64());
    let diagnostics = finish(&mut result, report);
    if common.plain {
        outln!(
            "{}: {}: {}",
            entry.name,
            result.state.as_str(),
            result.message
        );
    }
    common.board.set_state(index, result.state);
    (result, diagnostics)
}

/// Fills `result` from the run's report; the diagnostics to print.
fn finish(result: &mut ClusterResult, report: RunReport) -> Vec<Diagnostic> {
    result.state = if report.unreachable_before_start {
        ClusterState::Failed
    } else {
        ClusterState::of(report.outcome)
    };
    // A prompt nobody could answer stops the cluster where it is: its
    // journal continues it, with an answer (`fleet resume`).
    if matches!(
        report.error,
        Some(crate::interp::RuntimeError::PromptUnavailable { .. })
    ) {
        result.state = ClusterState::Stopped;
    }
    result.message = report.message;
    result.journal = report.journal.map(|path| path.display().to_string());
    if !report.cluster.servers.is_empty() {
        result.cluster = Some(report.cluster);
    }
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for warning in report.warnings {
        diagnostics.push(Box::new(warning));
    }
    if let Some(error) = report.error {
        result.code = code_of(&error);
        diagnostics.push(Box::new(error));
    }
    diagnostics
}

fn code_of(diagnostic: &dyn miette::Diagnostic) -> Option<String> {
    diagnostic.code().map(|code| code.to_string())
}

/// A cluster's events: the board, and a plain line each when there is no
/// live summary.
struct FleetSink {
    index: usize,
    cluster: String,
    common: Arc<Common>,
}

impl EventSink for FleetSink {
    fn emit(&mut self, event: Event) {
        let line = match event.kind {
            EventKind::RunStarted {
                target, resumed, ..
            } => Some(format!(
                "{} on {target}",
                if resumed { "resuming" } else { "running" }
            )),
            EventKind::StepStarted { step, title, .. } => {
                self.common.board.set_step(self.index, step.clone());
                Some(format!("step {step}: {title}"))
            }
            EventKind::StepFinished {
                step,
                outcome: crate::interp::events::StepOutcome::Failed,
                message,
                ..
            } => Some(format!(
                "step {step} failed: {}",
                message.unwrap_or_default()
            )),
            EventKind::WhatIf { name, reason } => Some(format!("What-if {name}: {reason}")),
            EventKind::Prompt {
                id, answer, source, ..
            } => Some(format!("prompt {id} → {answer} [{source}]")),
            EventKind::Warning { message, .. } => Some(format!("warning: {message}")),
            // A question of an operation the inventory marks `manual`
            // waits at the terminal (the others' are asked by the
            // prompter, which says so itself).
            EventKind::PromptWaiting { .. } => {
                if self
                    .common
                    .board
                    .status(self.index)
                    .map(|status| status.state)
                    == Some(ClusterState::Running)
                {
                    self.common
                        .board
                        .set_state(self.index, ClusterState::Waiting);
                }
                None
            }
            EventKind::OperationFinished { .. } => {
                if self
                    .common
                    .board
                    .status(self.index)
                    .map(|status| status.state)
                    == Some(ClusterState::Waiting)
                {
                    self.common
                        .board
                        .set_state(self.index, ClusterState::Running);
                }
                None
            }
            // Said by the fleet, in the cluster's state (a prompt nobody
            // could answer stops a cluster of a fleet).
            _ => None,
        };
        if let Some(line) = line.filter(|_| self.common.plain) {
            outln!("{}: {line}", self.cluster);
        }
    }
}

/// A cluster's prompts: its answers file, `--yes`, then the terminal, one
/// cluster at a time (the question names its cluster).
struct FleetPrompter {
    index: usize,
    cluster: String,
    answers: Option<AnswersFile>,
    common: Arc<Common>,
}

impl Prompter for FleetPrompter {
    fn waits(&self, request: &PromptRequest) -> bool {
        let answered_by_file = self
            .answers
            .as_ref()
            .is_some_and(|answers| answers.answer(request).is_some());
        let answered_by_yes = self.common.yes
            && crate::interp::prompt::yes_answer(request, self.common.accept_data_loss).is_some();
        self.common.interactive && !answered_by_file && !answered_by_yes
    }

    fn ask(&mut self, request: &PromptRequest) -> Result<(Answer, AnswerSource), PromptError> {
        let mut unattended =
            OperatorPrompter::non_interactive(self.answers.clone(), self.common.yes)
                .accepting_data_loss(self.common.accept_data_loss);
        match unattended.ask(request) {
            Err(PromptError::Unavailable) if self.common.interactive => {}
            answered => return answered,
        }
        self.common
            .board
            .set_state(self.index, ClusterState::Waiting);
        let mut asked = request.clone();
        asked.text = format!("Cluster {}: {}", self.cluster, request.text);
        let common = Arc::clone(&self.common);
        let ask = move || {
            let mut terminal = OperatorPrompter::new(None, false, true);
            // The live summary is hidden while the question is asked: its
            // counts (who else waits) stay above the question instead.
            super::super::output::suspend_progress(|| {
                if common.interrupt.load(Ordering::SeqCst) {
                    return Err(PromptError::Interrupted);
                }
                let width = usize::from(console::Term::stderr().size().1).max(20);
                let counts = common.board.render(&common.title, width, 1);
                eprintln!("{counts}");
                terminal.ask(&asked)
            })
        };
        // The question blocks this thread until it is answered (and until
        // the clusters asking before it are): the runtime moves the other
        // clusters' runs to another thread meanwhile.
        let answered = match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(ask)
            }
            _ => ask(),
        };
        self.common
            .board
            .set_state(self.index, ClusterState::Running);
        answered
    }
}
