//! The run itself, as the interpreter's public face: what a run needs
//! ([`RunSettings`]), how it ended ([`RunReport`]), and [`run`] / [`resume`],
//! which drive the one small-step machine of [`crate::semantics`] through
//! [`super::driver`] against a [`Connector`], journaling every step before
//! and after it acts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::driver::Driver;
use super::error::RuntimeError;
use super::eval;
use super::events::{EventKind, EventSink, RunOutcome};
use super::journal::{read_journal, Journal, Record, RunHeader, SourceHash};
use super::program::Program;
use super::prompt::Prompter;
use super::replay::{check_resumable, Replay};
use crate::cluster::Snapshot;
use crate::connect::{Connector, TargetRecord};
use crate::semantics::code::Code;
use crate::semantics::observe;

pub use crate::semantics::machine::{
    effect_visible, DEFAULT_WAIT_INTERVAL, MAX_RETRIES, MAX_UNBOUNDED_WAIT,
};

/// Where the journal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalChoice {
    /// No journal (benchmarks, `plan`): the run cannot be resumed.
    Disabled,
    /// `runs/<runbook>-<timestamp>-<id>.jsonl` under this folder.
    Default(PathBuf),
    /// This file (`--journal FILE`).
    File(PathBuf),
}

/// What a run needs besides the program, the target and the operator.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// `--set NAME=VALUE` parameters, as given.
    pub params: BTreeMap<String, String>,
    /// `--what-if NAME`: run only that handler.
    pub what_if: Option<String>,
    /// Where to journal.
    pub journal: JournalChoice,
    /// How the run reaches its target (journaled for resume, never with a key).
    pub target: TargetRecord,
    /// Set (e.g. by Ctrl-C) to stop after the current step.
    pub interrupt: Arc<AtomicBool>,
    /// Test hook: stop like Ctrl-C once this many steps finished in this process.
    pub stop_after_steps: Option<usize>,
    /// Test hook: end abruptly, like `kill -9`, once this many operations
    /// returned in this process (nothing more is journaled).
    pub crash_after_operations: Option<usize>,
    /// Test hook: end abruptly, like `kill -9`, when the run is about to
    /// enter a What-if that interrupted a step (the step's end journaled,
    /// nothing after it).
    pub crash_entering_what_if: bool,
    /// `resume --reanswer ID`: journaled answers to ask again.
    pub reanswer: Vec<String>,
    /// `--take-over`: take the cluster's lease from a runner that is gone.
    pub take_over: bool,
    /// Who runs it (`--operator`); `None`: `RUNBOOK_OPERATOR` or the user.
    pub operator: Option<String>,
    /// The approved proof checked before the run (`--require-proof`), for
    /// the journal's header.
    pub proof: Option<super::journal::ProofRecord>,
    /// When the maintenance window ends (`--window-ends`); on a resume,
    /// `None` keeps the journaled window.
    pub window_ends: Option<time::OffsetDateTime>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            params: BTreeMap::new(),
            what_if: None,
            journal: JournalChoice::Disabled,
            target: TargetRecord::named("sim"),
            interrupt: Arc::new(AtomicBool::new(false)),
            stop_after_steps: None,
            crash_after_operations: None,
            crash_entering_what_if: false,
            reanswer: Vec::new(),
            take_over: false,
            operator: None,
            proof: None,
            window_ends: None,
        }
    }
}

/// How a run (or a resumed run) ended.
#[derive(Debug)]
pub struct RunReport {
    /// The outcome.
    pub outcome: RunOutcome,
    /// A sentence saying why.
    pub message: String,
    /// The error that ended the run, if any.
    pub error: Option<RuntimeError>,
    /// Warnings worth a diagnostic (time windows exceeded).
    pub warnings: Vec<RuntimeError>,
    /// The cluster at the end.
    pub cluster: Snapshot,
    /// The journal, if one was written.
    pub journal: Option<PathBuf>,
    /// The command that continues the run, when it can be resumed.
    pub resume_command: Option<String>,
    /// Whether the target could not be reached before anything changed (exit 2).
    pub unreachable_before_start: bool,
    /// Whether the run ended abruptly (test hook `crash_after_operations`).
    pub crashed: bool,
}

impl RunReport {
    /// The process exit code of the contract.
    pub fn exit_code(&self) -> i32 {
        if self.unreachable_before_start {
            2
        } else {
            self.outcome.exit_code()
        }
    }
}

/// Runs `program` against `connector`.
pub async fn run(
    program: &Program,
    connector: &dyn Connector,
    sink: &mut dyn EventSink,
    prompter: &mut dyn Prompter,
    settings: RunSettings,
) -> RunReport {
    let run_id = uuid::Uuid::new_v4().to_string();
    let code = Code::new(program);
    let mut driver = Driver::new(program, &code, connector, sink, prompter, &settings, run_id);
    // One runner at a time: the cluster is taken before it is even read.
    let holder = crate::connect::lease::Holder::this_process(&driver.run_id);
    if let Err(error) = connector.take_lease(&holder, settings.take_over).await {
        return driver.unreachable(RuntimeError::Connector(error));
    }
    let initial = match connector.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => return driver.unreachable(RuntimeError::Connector(error)),
    };
    driver.set_initial(initial.clone());
    // A cluster the runbook is not written for is refused before anything
    // acts or is journaled (a What-if run alone has its own triggers).
    if settings.what_if.is_none() {
        if let Some(error) = driver.unmet_requirement() {
            return driver.refused(error, initial, false);
        }
    }
    // A maintenance window the worst case cannot fit in is refused before
    // anything acts or is journaled; otherwise the worst case from every
    // step is kept to judge each step before it starts.
    if let Some(ends) = settings.window_ends {
        let worst = Arc::new(super::window::worst_cases(program, initial.servers.len()));
        let window = super::window::Window::ending(ends, connector.clock(), worst);
        let left = window.left(connector.clock());
        if let Some(start) = window
            .worst
            .start
            .as_ref()
            .filter(|start| start.duration > left)
        {
            let error = RuntimeError::WindowTooShort {
                runbook: program.name().to_string(),
                worst: crate::domain::duration::format(start.duration),
                left: super::window::format_left(left),
                ends: window.record().ends,
                help: format!(
                    "the verifier's longest path ({}, faults: {}{}) runs past the window's end: nothing ran and no journal was written. Give a later `--window-ends`, or run it in a longer window",
                    describe_outcome(start.outcome),
                    start.configuration,
                    if start.complete { "" } else { "; exploration incomplete, a longer path may exist" }
                ),
            };
            return driver.refused(error, initial, false);
        }
        driver.window = Some(window);
    }
    let journal_path = match &settings.journal {
        JournalChoice::Disabled => None,
        JournalChoice::Default(dir) => {
            Some(Journal::default_path(dir, program.name(), &driver.run_id))
        }
        JournalChoice::File(path) => Some(path.clone()),
    };
    if let Some(path) = journal_path {
        match Journal::create(&path) {
            Ok(journal) => driver.journal = Some(journal),
            Err(error) => return driver.unreachable(error),
        }
    }
    let header = RunHeader {
        schema_version: crate::schema::SchemaVersion::CURRENT,
        run_id: driver.run_id.clone(),
        runbook: program.name().to_string(),
        runbook_ref: program.reference.clone(),
        sources: super::program::hashes(program),
        reach: settings.target.clone(),
        target_description: connector.describe(),
        params: settings.params.clone(),
        what_if: settings.what_if.clone(),
        initial: initial.clone(),
        clock_seconds: connector.clock().as_secs_f64(),
        clock: Some(connector.clock_kind()),
        steps: step_fingerprints(program),
        cluster_identity: connector.identity(),
        by: Some(driver.actor.clone()),
        proof: settings.proof.clone(),
        window: driver.window.as_ref().map(super::window::Window::record),
    };
    driver.emit(EventKind::RunStarted {
        run_id: driver.run_id.clone(),
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: initial,
        journal: driver.journal_display(),
        resumed: false,
    });
    // The header first: the target's warnings are journaled after it.
    if let Err(error) = driver.journal(Record::RunHeader {
        ts: super::events::now_rfc3339(),
        header: Box::new(header),
    }) {
        return driver.finish(Err(super::driver::Halt::Fatal(error))).await;
    }
    driver.emit_target_warnings();
    driver.emit_window_note(true);
    let result = driver.run_program(settings.what_if.as_deref()).await;
    driver.finish(result).await
}

/// Continues the run journaled in `journal_path`; `program` must be the
/// runbook the journal names (the caller loads it from the header).
pub async fn resume(
    journal_path: &Path,
    program: &Program,
    connector: &dyn Connector,
    sink: &mut dyn EventSink,
    prompter: &mut dyn Prompter,
    settings: RunSettings,
) -> RunReport {
    let code = Code::new(program);
    let read = read_journal(journal_path).and_then(|contents| {
        let header = contents
            .header()
            .cloned()
            .ok_or_else(|| RuntimeError::journal(journal_path, "no run header"))?;
        Ok((contents, header))
    });
    let (contents, header) = match read {
        Ok(read) => read,
        Err(error) => {
            let mut driver = Driver::new(
                program,
                &code,
                connector,
                sink,
                prompter,
                &settings,
                String::new(),
            );
            return driver.unreachable(error);
        }
    };
    let mut driver = Driver::new(
        program,
        &code,
        connector,
        sink,
        prompter,
        &settings,
        header.run_id.clone(),
    );
    driver.set_initial(header.initial.clone());
    if let Err(error) = check_resumable(journal_path, &contents, &header, program) {
        return driver.refused(error, Snapshot::default(), true);
    }
    // One process at a time continues a run: the journal's lock is taken
    // before the cluster is even read.
    match Journal::open_append(journal_path) {
        Ok(journal) => driver.journal = Some(journal),
        Err(error) => return driver.refused(error, Snapshot::default(), true),
    }
    let holder = crate::connect::lease::Holder::this_process(&header.run_id);
    if let Err(error) = connector.take_lease(&holder, settings.take_over).await {
        return driver.refused(RuntimeError::Connector(error), Snapshot::default(), true);
    }
    let now = match connector.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            return driver.refused(RuntimeError::Connector(error), Snapshot::default(), true)
        }
    };
    if let Some(differences) = other_cluster(&header, &now, connector.identity().as_ref()) {
        let error = RuntimeError::OtherCluster {
            target: connector.describe(),
            differences,
        };
        return driver.refused(error, now, true);
    }
    let mut contents = contents;
    let mut reopened = Vec::new();
    for id in &settings.reanswer {
        match driver.reopen(journal_path, &contents, id) {
            Ok((record, confirmation)) => {
                contents.records.push(record.clone());
                reopened.push((record, confirmation));
            }
            Err(error) => return driver.refused(error, now, true),
        }
    }
    let mut confirmations = Vec::new();
    for (record, confirmation) in reopened {
        if let Err(error) = driver.journal(record) {
            return driver.refused(error, now, true);
        }
        confirmations.push(confirmation);
    }
    driver.set_replay(Replay::from_journal(&contents));
    driver.params = header.params.clone();
    // The window given now, else the one journaled last.
    let journaled_window = contents
        .records
        .iter()
        .rev()
        .find_map(|record| match record {
            Record::Resumed {
                window: Some(window),
                ..
            } => Some(window.clone()),
            Record::RunHeader { header, .. } => header.window.clone(),
            _ => None,
        });
    if settings.window_ends.is_some() || journaled_window.is_some() {
        let worst = Arc::new(super::window::worst_cases(
            program,
            header.initial.servers.len(),
        ));
        driver.window = match (settings.window_ends, journaled_window) {
            (Some(ends), _) => Some(super::window::Window::ending(
                ends,
                connector.clock(),
                worst,
            )),
            (None, Some(record)) => super::window::Window::journaled(&record, worst),
            (None, None) => None,
        };
    }
    driver.emit(EventKind::RunStarted {
        run_id: header.run_id.clone(),
        runbook: program.name().to_string(),
        target: connector.describe(),
        cluster: now.clone(),
        journal: driver.journal_display(),
        resumed: true,
    });
    // `resumed` first: the target's warnings are journaled after it.
    if let Err(error) = driver.journal(Record::Resumed {
        ts: super::events::now_rfc3339(),
        snapshot: now,
        by: Some(driver.actor.clone()),
        window: driver.window.as_ref().map(super::window::Window::record),
    }) {
        return driver.finish(Err(super::driver::Halt::Fatal(error))).await;
    }
    driver.emit_target_warnings();
    for confirmation in confirmations {
        driver.emit(confirmation);
    }
    driver.emit_window_note(false);
    let result = driver.run_program(header.what_if.as_deref()).await;
    driver.finish(result).await
}

/// An outcome in words, for a worst case's path.
pub(super) fn describe_outcome(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "a path that succeeds",
        RunOutcome::Stopped => "a path that stops",
        RunOutcome::Failed => "a path that fails",
    }
}

/// How the live cluster differs from the one the journal's run acted on
/// (`None`: it is that cluster, as far as the target publishes): its
/// servers by name, and the element key of each server both name.
fn other_cluster(
    header: &RunHeader,
    now: &Snapshot,
    live: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    let names = |snapshot: &Snapshot| -> Vec<String> {
        let mut names: Vec<String> = snapshot.servers.iter().map(|s| s.name.clone()).collect();
        names.sort();
        names
    };
    let (before, after) = (names(&header.initial), names(now));
    if before != after {
        return Some(format!(
            "its servers are {}, the run's were {}",
            after.join(", "),
            before.join(", ")
        ));
    }
    let (Some(journaled), Some(live)) = (header.cluster_identity.as_ref(), live) else {
        return None;
    };
    let differences: Vec<String> = journaled
        .iter()
        .filter_map(|(name, key)| {
            live.get(name)
                .filter(|now| *now != key)
                .map(|now| format!("{name} is element {now}, it was element {key}"))
        })
        .collect();
    (!differences.is_empty()).then(|| differences.join("; "))
}

/// The position of the What-if `name` among the main file's handlers, as
/// `--what-if NAME` names it; the CLI checks it before anything runs.
pub fn what_if_index(program: &Program, name: &str) -> Result<usize, RuntimeError> {
    let what_ifs = &program.main_file().ast.what_ifs;
    if let Some(index) = what_ifs.iter().position(|handler| handler.id.name == name) {
        return Ok(index);
    }
    if what_ifs.is_empty() {
        return Err(RuntimeError::NoWhatIfs {
            name: name.to_string(),
        });
    }
    let suggestion = crate::syntax::embedded::closest_name(
        name,
        what_ifs.iter().map(|handler| handler.id.name.as_str()),
    )
    .map(|closest| format!("did you mean `{closest}`? "))
    .unwrap_or_default();
    Err(RuntimeError::UnknownWhatIf {
        name: name.to_string(),
        suggestion,
        available: what_ifs
            .iter()
            .map(|handler| handler.id.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Before a run acts: when the runbook declares the states it is written
/// for (`from STATE, ...`), the target must be in one of them
/// ([`StartingState::fits`](crate::domain::StartingState::fits)). Refused
/// otherwise (nothing runs, no journal is written), unless `force`, which
/// turns the refusal into a warning. A runbook that declares none (written
/// for a healthy cluster) checks what it needs itself.
pub async fn judge_starting_state(
    program: &Program,
    connector: &dyn Connector,
    force: bool,
) -> Result<Option<RuntimeError>, RuntimeError> {
    let file = program.main_file();
    let declared: Vec<crate::domain::StartingState> = file
        .ast
        .from
        .iter()
        .flat_map(|from| &from.states)
        .filter_map(|state| crate::domain::StartingState::from_name(&state.name))
        .collect();
    let (Some(first), Some(last)) = (file.ast.from.first(), file.ast.from.last()) else {
        return Ok(None);
    };
    let now = connector.snapshot().await?;
    let split_brain = connector.split_brain().await?;
    if declared
        .iter()
        .any(|state| state.fits(&now, split_brain.as_deref()))
    {
        return Ok(None);
    }
    let span = crate::syntax::Span::new(first.span.start as usize, last.span.end as usize);
    let seen: Vec<&str> = crate::domain::StartingState::ALL
        .into_iter()
        .filter(|state| state.fits(&now, split_brain.as_deref()))
        .map(|state| state.name())
        .collect();
    let judged = format!(
        "the target now: {} Active server(s) running{}; it looks {}",
        now.actives().count(),
        match split_brain.as_deref() {
            Some(servers) if !servers.is_empty() => {
                format!(", a split brain ({} were Active)", servers.join(", "))
            }
            _ => String::new(),
        },
        if seen.is_empty() {
            String::from("like none of the starting states")
        } else {
            seen.join(" or ")
        }
    );
    if !force {
        return Err(RuntimeError::NotAStartingState {
            name: program.name().to_string(),
            source_code: file.source_text(),
            span: span.into(),
            help: format!(
                "{judged}. Nothing ran and no journal was written; `--force` runs it anyway"
            ),
        });
    }
    Ok(Some(RuntimeError::StartingStateForced {
        name: program.name().to_string(),
        source_code: file.source_text(),
        span: span.into(),
        help: judged,
    }))
}

/// Judges the triggers of the main file's What-if `index` on the target
/// as it is, before `runbook run --what-if` starts anything: `Ok(None)`
/// when one holds; when none does, the refusal (`Err`), or with `force`
/// the warning that says what the handler will do (`Ok(Some)`).
pub async fn judge_what_if(
    program: &Program,
    index: usize,
    connector: &dyn Connector,
    force: bool,
) -> Result<Option<RuntimeError>, RuntimeError> {
    let file = program.main_file();
    let Some(handler) = file.ast.what_ifs.get(index) else {
        return Ok(None);
    };
    let now = connector.snapshot().await?;
    let split_brain = connector.split_brain().await?;
    let mut judged = Vec::new();
    for trigger in &handler.triggers {
        match observe::holds_alone(&trigger.kind, &now, split_brain.as_deref()) {
            Ok(_) => return Ok(None),
            Err(why_not) => judged.push(format!("`{}`: {why_not}", trigger.span.text(&file.text))),
        }
    }
    let span = match (handler.triggers.first(), handler.triggers.last()) {
        (Some(first), Some(last)) => {
            crate::syntax::Span::new(first.span.start as usize, last.span.end as usize)
        }
        _ => handler.id.span,
    };
    let judged = format!("judged on the target now: {}", judged.join("; "));
    if !force {
        return Err(RuntimeError::WhatIfNotHolding {
            name: handler.id.name.clone(),
            source_code: file.source_text(),
            span: span.into(),
            help: format!(
                "{judged}. Nothing ran and no journal was written; `--force` runs the handler anyway"
            ),
        });
    }
    let mut operations = Vec::new();
    handler_operations(file, &handler.body.stmts, &mut operations);
    let does = if operations.is_empty() {
        String::from("It performs no operation")
    } else {
        format!("It will run: {}", operations.join("; "))
    };
    Ok(Some(RuntimeError::WhatIfForced {
        name: handler.id.name.clone(),
        source_code: file.source_text(),
        span: span.into(),
        help: format!("{judged}. {does}"),
    }))
}

/// The operations and calls of a handler's body, as written, with their
/// lines (in every branch: which one runs is decided when it runs).
fn handler_operations(
    file: &crate::syntax::ProgramFile,
    stmts: &[crate::syntax::ast::Stmt],
    out: &mut Vec<String>,
) {
    use crate::syntax::ast::StmtKind;
    for stmt in stmts {
        if let StmtKind::Operation(_) | StmtKind::Call(_) = stmt.kind {
            out.push(format!(
                "`{}` (line {})",
                stmt.span.text(&file.text),
                file.line_of(stmt.span.start)
            ));
        }
        for block in crate::syntax::visit::child_blocks(stmt) {
            handler_operations(file, &block.stmts, out);
        }
    }
}

/// Checks the `--set` values against the main file's parameters before
/// anything runs: every name is a parameter (else the closest one is
/// suggested), every value has the parameter's type. A usage error, so no
/// journal is written for a run that could never start.
pub fn check_params(
    program: &Program,
    params: &BTreeMap<String, String>,
) -> Result<(), RuntimeError> {
    let ast = &program.main_file().ast;
    for (name, text) in params {
        let Some(param) = ast.params.iter().find(|param| param.name.name == *name) else {
            let closest = ast
                .params
                .iter()
                .map(|param| {
                    (
                        strsim::levenshtein(name, &param.name.name),
                        &param.name.name,
                    )
                })
                .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
                .min()
                .map(|(_, candidate)| format!("did you mean `{candidate}`? "))
                .unwrap_or_default();
            let known = ast
                .params
                .iter()
                .map(|param| format!("`{}`", param.name.name))
                .collect::<Vec<_>>();
            return Err(RuntimeError::Parameter {
                name: name.clone(),
                reason: format!(
                    "`{}` has no such parameter: {closest}its parameters are {}",
                    ast.name.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        eval::parse_param(param.ty, text).map_err(|reason| RuntimeError::Parameter {
            name: name.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// The id and source hash of every step of the program, in source order.
pub fn step_fingerprints(program: &Program) -> Vec<SourceHash> {
    program
        .files
        .iter()
        .flat_map(|file| {
            file.ast
                .steps()
                .into_iter()
                .map(move |step| SourceHash::of(step.id.name.clone(), step.span.text(&file.text)))
        })
        .collect()
}
