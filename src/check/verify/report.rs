//! Counterexamples as miette diagnostics (the path's steps as related
//! diagnostics with their spans), the human summary with the fault-coverage
//! table, and the JSON form of a report. Nothing here prints.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, ReportHandler, Severity, SourceCode, SourceSpan};
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::StartingState;

use super::machine::{Choice, PathEvent};
use super::{ConfigurationReport, Counterexample, Property, VerifyReport, WorstPath};
use crate::cluster::{Snapshot, Version};
use crate::domain::duration::format as format_duration;
use crate::interp::error::SourceText;
use crate::interp::events::RunOutcome;
use crate::interp::observe::cluster_table;
use crate::interp::program::Program;
use crate::schema::SchemaVersion;
use crate::syntax::Span;
use std::time::Duration;

/// The placeholder for the answers file in commands built by the library
/// (the CLI substitutes the path it wrote).
pub const ANSWERS_PLACEHOLDER: &str = "ANSWERS.toml";

/// One counterexample, ready for miette.
#[derive(Debug)]
pub struct CounterexampleDiagnostic {
    code: String,
    message: String,
    source: SourceText,
    span: SourceSpan,
    label: String,
    help: String,
    related: Vec<PathStepDiagnostic>,
}

/// One step of a counterexample's path, shown with its source.
#[derive(Debug)]
pub struct PathStepDiagnostic {
    message: String,
    source: SourceText,
    span: SourceSpan,
    label: String,
}

impl fmt::Display for CounterexampleDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CounterexampleDiagnostic {}

impl Diagnostic for CounterexampleDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span),
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.related.iter().map(|step| step as &dyn Diagnostic),
        ))
    }
}

impl fmt::Display for PathStepDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathStepDiagnostic {}

impl Diagnostic for PathStepDiagnostic {
    fn severity(&self) -> Option<Severity> {
        Some(Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span),
        )))
    }
}

/// `line N` in the counterexample's own file, `FILE:N` elsewhere.
fn location(program: &Program, home: usize, file: usize, span: Span) -> String {
    let source = program.file(file);
    let (line, _) = line_column(&source.text, span.start);
    if file == home {
        format!("line {line}")
    } else {
        let name = source.name.rsplit('/').next().unwrap_or(&source.name);
        format!("{name}:{line}")
    }
}

fn line_column(text: &str, offset: u32) -> (usize, usize) {
    let end = (offset as usize).min(text.len());
    let before = text.get(..end).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

/// One line per event of the path; places in `home` (a file index) show as `line N`.
pub fn path_lines(program: &Program, path: &[PathEvent], home: usize) -> Vec<String> {
    path.iter()
        .map(|event| match event {
            PathEvent::StepStarted {
                step,
                number,
                file,
                span,
                retry,
            } => format!(
                "{}step {}`{step}` ({})",
                if *retry { "retry " } else { "" },
                number
                    .as_ref()
                    .map(|number| format!("{number} "))
                    .unwrap_or_default(),
                location(program, home, *file, *span)
            ),
            PathEvent::Prompt { id, answer, .. } => format!("  answer `{id}` = {answer}"),
            PathEvent::Operation {
                operation, error, ..
            } => match error {
                Some(error) => format!("  {operation}: FAILED: {error}"),
                None => format!("  {operation}"),
            },
            PathEvent::Fault {
                fault, description, ..
            } => format!("  FAULT {fault}: {description}"),
            PathEvent::WhatIf {
                name,
                reason,
                file,
                span,
            } => format!(
                "  What-if `{name}` ({}): {reason}",
                location(program, home, *file, *span)
            ),
        })
        .collect()
}

/// The counterexamples of `report` as diagnostics.
pub fn diagnostics(report: &VerifyReport, program: &Program) -> Vec<CounterexampleDiagnostic> {
    report
        .counterexamples
        .iter()
        .map(|counterexample| diagnostic(report, program, counterexample))
        .collect()
}

fn diagnostic(
    report: &VerifyReport,
    program: &Program,
    counterexample: &Counterexample,
) -> CounterexampleDiagnostic {
    let property = counterexample.property;
    let mut help = String::new();
    help.push_str(property.help());
    help.push_str(&format!(
        "\nproperty: {}\nfaults: {}\npath:\n",
        property.statement(),
        counterexample.configuration
    ));
    for line in path_lines(program, &counterexample.path, counterexample.file) {
        help.push_str(&format!("  {line}\n"));
    }
    help.push_str(&format!(
        "cluster where it breaks:\n{}\n",
        cluster_table(&counterexample.cluster)
    ));
    help.push_str(&format!(
        "replay: {}",
        counterexample
            .replay
            .command(&program.reference, report.servers, ANSWERS_PLACEHOLDER)
    ));
    if counterexample.replay.exact {
        help.push_str("\n(checked: the simulator takes this path)");
    } else if let Some(caveat) = &counterexample.replay.caveat {
        help.push_str(&format!("\n(replay may differ: {caveat})"));
    }
    let mut related = Vec::new();
    let mut ordinal = 0;
    for (index, event) in counterexample.path.iter().enumerate() {
        let (message, file, span) = match event {
            PathEvent::StepStarted {
                step,
                file,
                span,
                retry,
                ..
            } => {
                ordinal += 1;
                let details: Vec<String> = counterexample.path[index + 1..]
                    .iter()
                    .take_while(|event| !matches!(event, PathEvent::StepStarted { .. }))
                    .filter_map(|event| match event {
                        PathEvent::Prompt { id, answer, .. } => Some(format!("{id} = {answer}")),
                        PathEvent::Fault { fault, .. } => Some(format!("fault {fault}")),
                        PathEvent::Operation {
                            operation,
                            error: Some(_),
                            ..
                        } => Some(format!("{operation} failed")),
                        _ => None,
                    })
                    .collect();
                let label = if details.is_empty() {
                    format!("path #{ordinal}")
                } else {
                    format!("path #{ordinal}: {}", details.join(", "))
                };
                (
                    format!(
                        "path #{ordinal}: {}step `{step}`",
                        if *retry { "retry of " } else { "" }
                    ),
                    *file,
                    (*span, label),
                )
            }
            PathEvent::WhatIf {
                name, file, span, ..
            } => (
                format!("path: What-if `{name}` entered"),
                *file,
                (*span, String::from("entered here")),
            ),
            _ => continue,
        };
        let source = program.file(file);
        related.push(PathStepDiagnostic {
            message,
            source: source.source_text(),
            span: span.0.into(),
            label: span.1,
        });
    }
    let source = program.file(counterexample.file);
    CounterexampleDiagnostic {
        code: counterexample.code.clone(),
        message: format!("counterexample: {}", counterexample.message),
        source: source.source_text(),
        span: counterexample.span.into(),
        label: format!("{} breaks here", property.name()),
        help,
        related,
    }
}

/// The human report: a summary, the fault-coverage table, then every
/// counterexample rendered by `handler`.
pub fn render_human(
    report: &VerifyReport,
    program: &Program,
    handler: &dyn ReportHandler,
    with_timing: bool,
) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics(report, program) {
        out.push_str(&format!("{}\n", Rendered(&diagnostic, handler)));
    }
    out.push_str(&summary(report, with_timing));
    out.push_str(&durations(report, program));
    out
}

/// `h:mm:ss`: a time since the start of the run.
fn clock(duration: Duration) -> String {
    let seconds = duration.as_secs();
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

fn outcome_word(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Failed => "failed",
        RunOutcome::Stopped => "stopped",
    }
}

/// The worst-case durations (plain text): the longest overall and, with
/// `--window`, whether every path fits; the longest of each outcome with
/// its configuration, then each of those paths event by event with the
/// model time of each.
pub fn durations(report: &VerifyReport, program: &Program) -> String {
    let mut out = String::from("\n");
    let Some(longest) = report.worst_path() else {
        out.push_str("worst-case duration: no path ends without breaking a property\n");
        return out;
    };
    let window = match (report.window, report.fits_window()) {
        (Some(window), Some(true)) => format!(", fits the {} window", format_duration(window)),
        (Some(window), _) => format!(
            ", OVERRUNS the {} window (runbook::verify::window_overrun)",
            format_duration(window)
        ),
        (None, _) => String::new(),
    };
    out.push_str(&format!(
        "worst-case duration: {} ({}, faults: {}){window}\n",
        format_duration(longest.duration),
        outcome_word(longest.outcome),
        longest.configuration
    ));
    out.push_str(&format!(
        "(every background operation at its full duration, every `wait` to its timeout when nothing can change, each prompt {})\n",
        format_duration(report.prompt_time)
    ));
    let mut rows = Vec::new();
    for path in &report.worst {
        rows.push([
            outcome_word(path.outcome).to_string(),
            format_duration(path.duration),
            path.configuration.clone(),
        ]);
    }
    let widths = [
        rows.iter().map(|row| row[0].len()).max().unwrap_or(0),
        rows.iter().map(|row| row[1].len()).max().unwrap_or(0),
    ];
    for row in rows {
        out.push_str(&format!(
            "  {:<w0$}  {:>w1$}  faults: {}\n",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1]
        ));
    }
    // Each outcome's longest path, named as a counterexample's: its
    // configuration and its events, each with its model time.
    for path in &report.worst {
        out.push_str(&format!(
            "longest {} path ({}, faults: {}; model time of each event, an operation when it ends):\n",
            outcome_word(path.outcome),
            format_duration(path.duration),
            path.configuration
        ));
        for (line, stamp) in path_lines(program, &path.path, program.main)
            .iter()
            .zip(&path.stamps)
        {
            out.push_str(&format!("  {}  {line}\n", clock(*stamp)));
        }
        out.push_str(&format!(
            "  {}  end ({})\n",
            clock(path.duration),
            outcome_word(path.outcome)
        ));
    }
    out
}

struct Rendered<'a>(&'a dyn Diagnostic, &'a dyn ReportHandler);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.1.debug(self.0, f)
    }
}

/// The summary and the fault-coverage table (plain text).
pub fn summary(report: &VerifyReport, with_timing: bool) -> String {
    let mut out = String::new();
    let verdict = if report.proven() {
        "proven"
    } else if report.counterexamples.is_empty() {
        "incomplete (a limit was reached)"
    } else {
        "counterexample found"
    };
    let from: Vec<&str> = report
        .starting_states
        .iter()
        .map(|state| state.name())
        .collect();
    out.push_str(&format!(
        "verify {}: {verdict} — {} servers, goal: {}; from {}\n",
        report.runbook,
        report.servers,
        report.goals.join(", "),
        from.join(", ")
    ));
    out.push_str(&format!(
        "explored {} states, {} paths, {} fault configurations (up to {} faults combined)",
        report.states,
        report.paths,
        report.configurations.len(),
        report.max_faults
    ));
    if with_timing {
        out.push_str(&format!(
            " in {} ({:.0} states/s)",
            format_millis(report.elapsed),
            report.states_per_second()
        ));
    }
    out.push('\n');
    if !report.counterexamples.is_empty() {
        out.push_str(&format!(
            "{} counterexample(s): {}\n",
            report.counterexamples.len(),
            report
                .counterexamples
                .iter()
                .map(|counterexample| counterexample.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if report.starting_points.len() > 1
        || report.starting_points.iter().any(|(id, _)| id != "healthy")
    {
        out.push_str("\nstarting points:\n");
        for (id, label) in &report.starting_points {
            out.push_str(&format!("  {id:<22}  {label}\n"));
        }
    }
    out.push_str("\nfault coverage:\n");
    let show_from = report
        .starting_states
        .iter()
        .any(|state| *state != StartingState::Healthy);
    let mut rows = vec![[
        String::from("from"),
        String::from("faults"),
        String::from("verdict"),
        String::from("states"),
        String::from("ends ok/stop/fail"),
        String::from("fired/handled"),
        String::from("longest"),
    ]];
    for configuration in &report.configurations {
        rows.push([
            configuration.from.clone(),
            configuration.faults.clone(),
            if configuration.truncated {
                format!("{} (cut)", configuration.coverage.word())
            } else {
                configuration.coverage.word().to_string()
            },
            configuration.states.to_string(),
            format!(
                "{}/{}/{}",
                configuration.succeeded, configuration.stopped, configuration.failed
            ),
            format!("{}/{}", configuration.fault_fired, configuration.handled),
            configuration.worst_case_seconds.map_or_else(
                || String::from("-"),
                |seconds| format_duration(Duration::from_secs(seconds)),
            ),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let first = usize::from(!show_from);
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .skip(first)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(&format!("  {}\n", line.join("  ").trim_end()));
    }
    out
}

fn format_millis(duration: std::time::Duration) -> String {
    if duration.as_secs() >= 1 {
        format!("{:.2}s", duration.as_secs_f64())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The document `runbook verify --format json` prints. Two verifications of
/// the same runbook give the same document but for `timing` (and, for
/// counterexamples, the answers files' folder when `--replay-dir` is not
/// given).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VerifyJson {
    /// The runbook's name.
    pub runbook: String,
    /// Servers of the model.
    pub servers: usize,
    /// The most contract faults combined on a path (`--max-faults`).
    pub max_faults: usize,
    /// The version the runbook upgrades to.
    pub target_version: Version,
    /// What a run that succeeds must leave, in words (`goal ...`; by
    /// default `healthy`).
    pub goals: Vec<String>,
    /// The starting states explored.
    pub starting_states: Vec<StartingState>,
    /// Whether every property holds on every path (complete and no counterexample).
    pub proven: bool,
    /// Whether every configuration was explored completely.
    pub complete: bool,
    /// Distinct states over every configuration.
    pub states: usize,
    /// Paths over every configuration (saturating).
    pub paths: u64,
    /// Each fault configuration: the coverage table.
    pub configurations: Vec<ConfigurationReport>,
    /// The counterexamples (one per property and place).
    pub counterexamples: Vec<JsonCounterexample>,
    /// The worst-case durations: the longest path overall and of each
    /// outcome, and whether every path fits `--window`.
    pub worst_case: JsonWorstCase,
    /// How long the exploration took: the only part that differs between
    /// two runs of the same verification.
    pub timing: Timing,
    /// The version of this output's shape (`runbook schema verify`).
    pub schema_version: SchemaVersion,
}

/// The worst-case durations of a verification: model time, every
/// background operation at its full duration, every `wait` as it polls (to
/// its timeout when nothing can change), each prompt `prompt_seconds`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonWorstCase {
    /// The time each operator prompt counts for, in seconds (`--prompt-time`).
    pub prompt_seconds: u64,
    /// The maintenance window checked (`--window`), in seconds (`null` without one).
    pub window_seconds: Option<u64>,
    /// Whether every path fits the window (`null` without `--window`).
    pub fits_window: Option<bool>,
    /// The longest path overall (`null` when every path breaks a property).
    pub longest: Option<JsonLongestPath>,
    /// The longest path of each outcome that occurs, in the order
    /// succeeded, stopped, failed.
    pub by_outcome: Vec<JsonLongestPath>,
}

/// The longest path to an end of one outcome.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonLongestPath {
    /// How it ends.
    pub outcome: RunOutcome,
    /// Its model time, in seconds.
    pub seconds: u64,
    /// The same, in the duration syntax (`1h2m30s`).
    pub duration: String,
    /// The faults of its configuration.
    pub faults: String,
    /// What happens on it, in order, each event with its model time.
    pub path: Vec<JsonTimedEvent>,
}

/// An event of a longest path and when it happens.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonTimedEvent {
    /// The event and its place.
    #[serde(flatten)]
    pub event: JsonPathEvent,
    /// Seconds of model time since the start of the run.
    pub at_seconds: u64,
}

/// How long a verification took.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Timing {
    /// Wall time of the exploration, in milliseconds.
    pub elapsed_ms: u64,
    /// Distinct states explored per second (rounded).
    pub states_per_second: f64,
}

/// A counterexample, with its place and the places of its path.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonCounterexample {
    /// The property broken.
    pub property: Property,
    /// The diagnostic code (`runbook::verify::<property>`).
    pub code: String,
    /// What happened.
    pub message: String,
    /// The property in words.
    pub statement: String,
    /// The faults of the configuration (`no fault`, `upgrade-fails:mgt-1 + ...`).
    pub faults: String,
    /// The starting state the path starts from.
    pub from: String,
    /// The file where the property breaks.
    pub file: String,
    /// Its 1-based line.
    pub line: usize,
    /// Its 1-based column.
    pub column: usize,
    /// What happened on the path, in order.
    pub path: Vec<JsonPathEvent>,
    /// The cluster where the property breaks (the contract's `CLUSTER`).
    pub cluster: Snapshot,
    /// How to see it happen on the simulator.
    pub replay: JsonReplay,
}

/// One event of a counterexample's path, with its place in the source
/// (every event but a fault has one).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonPathEvent {
    /// What happened.
    #[serde(flatten)]
    pub event: PathEvent,
    /// Where.
    #[serde(flatten)]
    pub place: Option<Place>,
}

/// A place in a runbook's source.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Place {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub column: usize,
}

/// How to replay a counterexample on the simulator.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JsonReplay {
    /// The simulator's `--sim-start` (`null`: a healthy cluster).
    pub start: Option<String>,
    /// `--sim-fault` values, in the order they fire.
    pub faults: Vec<String>,
    /// Prompt id → answer: the `--answers` file.
    pub answers: BTreeMap<String, Choice>,
    /// Whether the simulator was seen to take exactly this path.
    pub exact: bool,
    /// Why it may differ, when it is not exact.
    pub caveat: Option<String>,
    /// The command that replays it (with `ANSWERS.toml` for the answers
    /// file until the CLI has written it).
    pub command: String,
    /// The answers file the CLI wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers_file: Option<String>,
}

/// The report as one JSON document (paths with file, line and column).
pub fn to_json(report: &VerifyReport, program: &Program) -> VerifyJson {
    let place = |file: usize, span: Span| {
        let source = program.file(file);
        let (line, column) = line_column(&source.text, span.start);
        Place {
            file: source.name.clone(),
            line,
            column,
        }
    };
    let json_event = |event: &PathEvent| {
        let at = match event {
            PathEvent::StepStarted { file, span, .. }
            | PathEvent::Prompt { file, span, .. }
            | PathEvent::Operation { file, span, .. }
            | PathEvent::WhatIf { file, span, .. } => Some(place(*file, *span)),
            PathEvent::Fault { .. } => None,
        };
        JsonPathEvent {
            event: event.clone(),
            place: at,
        }
    };
    let longest = |path: &WorstPath| JsonLongestPath {
        outcome: path.outcome,
        seconds: path.duration.as_secs(),
        duration: format_duration(path.duration),
        faults: path.configuration.clone(),
        path: path
            .path
            .iter()
            .zip(&path.stamps)
            .map(|(event, stamp)| JsonTimedEvent {
                event: json_event(event),
                at_seconds: stamp.as_secs(),
            })
            .collect(),
    };
    let worst_case = JsonWorstCase {
        prompt_seconds: report.prompt_time.as_secs(),
        window_seconds: report.window.map(|window| window.as_secs()),
        fits_window: report.fits_window(),
        longest: report.worst_path().map(longest),
        by_outcome: report.worst.iter().map(longest).collect(),
    };
    let counterexamples = report
        .counterexamples
        .iter()
        .map(|counterexample| {
            let at = place(counterexample.file, counterexample.span);
            let path = counterexample.path.iter().map(json_event).collect();
            let replay = &counterexample.replay;
            JsonCounterexample {
                property: counterexample.property,
                code: counterexample.code.clone(),
                message: counterexample.message.clone(),
                statement: counterexample.property.statement().to_owned(),
                faults: counterexample.configuration.clone(),
                from: counterexample.from.clone(),
                file: at.file,
                line: at.line,
                column: at.column,
                path,
                cluster: counterexample.cluster.clone(),
                replay: JsonReplay {
                    start: replay.start.clone(),
                    faults: replay.faults.clone(),
                    answers: replay.answers.clone(),
                    exact: replay.exact,
                    caveat: replay.caveat.clone(),
                    command: replay.command(
                        &program.reference,
                        report.servers,
                        ANSWERS_PLACEHOLDER,
                    ),
                    answers_file: None,
                },
            }
        })
        .collect();
    VerifyJson {
        runbook: report.runbook.clone(),
        servers: report.servers,
        max_faults: report.max_faults,
        target_version: report.target_version.clone(),
        goals: report.goals.clone(),
        starting_states: report.starting_states.clone(),
        proven: report.proven(),
        complete: report.complete,
        states: report.states,
        paths: report.paths,
        configurations: report.configurations.clone(),
        counterexamples,
        worst_case,
        timing: Timing {
            elapsed_ms: u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
            states_per_second: report.states_per_second().round(),
        },
        schema_version: SchemaVersion::CURRENT,
    }
}
