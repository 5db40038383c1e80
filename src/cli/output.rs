//! Rendering a run's events: `--format json` prints each event as one JSON
//! line; human output states the target first, shows each step, spins on
//! long operations and waits, and ends with the cluster table and outcome.
//! While a time window runs out (a `within D after STEP` whose step has not
//! started), the spinner's line counts its time left down, live, on a
//! terminal.

use super::stdout::outln;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console::style;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cluster::Snapshot;
use crate::interp::events::{Countdown, Event, EventKind, EventSink, RunOutcome, StepOutcome};
use crate::interp::observe::cluster_table;

/// The output format of `run`, `resume` and `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Progress for a person at a terminal.
    Human,
    /// One JSON event per line (the contract's machine output).
    Json,
}

/// The sink of a format.
pub fn sink(format: Format) -> Box<dyn EventSink> {
    match format {
        Format::Human => Box::new(HumanSink::default()),
        Format::Json => Box::new(JsonSink),
    }
}

/// Prints each event as one line of JSON on stdout.
#[derive(Debug, Default)]
pub struct JsonSink;

impl EventSink for JsonSink {
    fn emit(&mut self, event: Event) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not abort the run: the journal
        // still records everything.
        let _ = writeln!(out, "{}", event.to_json_line());
        let _ = out.flush();
    }
}

/// The spinner on screen, if any: a prompt asked while an operation runs
/// (a manual operation of an inventory) hides it with [`suspend_progress`].
static SHOWN_SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn shown_spinner() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    SHOWN_SPINNER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes `bar` the progress on screen (a fleet's live summary), or none:
/// [`suspend_progress`] hides it while a prompt or a message is shown.
pub fn show_progress(bar: Option<ProgressBar>) {
    *shown_spinner() = bar;
}

/// Runs `ask` with the spinner on screen (if any) hidden and stopped, then
/// draws it again: a prompt and a spinner must not draw over each other.
pub fn suspend_progress<R>(ask: impl FnOnce() -> R) -> R {
    let spinner = shown_spinner().clone();
    match spinner {
        Some(spinner) => spinner.suspend(ask),
        None => ask(),
    }
}

/// Prints progress for a person; spinners go to stderr and only on a terminal.
#[derive(Debug, Default)]
pub struct HumanSink {
    spinner: Option<ProgressBar>,
    /// What the spinner says before any phase.
    spinning: String,
    /// Whether a long operation is under way (its end gets a tick even
    /// when its spinner was stopped for the operator's question).
    long_operation: bool,
    /// Whether a question waits at the terminal: warnings said meanwhile
    /// (a window closing) are held, not drawn over the question.
    asking: bool,
    /// The lines held while a question waits, shown once it is answered.
    held: Vec<String>,
    /// The nearest window deadline as last said, and when: what the
    /// spinner's line counts down.
    countdown: Arc<Mutex<Option<(Countdown, Instant)>>>,
}

/// What the spinner's line says of a window running out, `since` after
/// the run last read the time left: ` · 4m12s left to start `hurry``, or
/// that it closed.
pub fn countdown_text(countdown: &Countdown, since: Duration) -> String {
    let left = countdown.left_after(since);
    let seconds = |seconds: f64| Duration::from_secs(seconds.max(0.0).floor() as u64);
    if left >= 0.0 {
        format!(
            " · {} left to start `{}`",
            crate::semantics::eval::format_duration(seconds(left)),
            countdown.step
        )
    } else {
        format!(
            " · the window to start `{}` closed {} ago",
            countdown.step,
            crate::semantics::eval::format_duration(seconds(-left))
        )
    }
}

impl HumanSink {
    fn line(&mut self, text: String) {
        match &self.spinner {
            Some(spinner) => spinner.suspend(|| outln!("{text}")),
            None => outln!("{text}"),
        }
    }

    fn spin(&mut self, message: String) {
        self.stop_spinner();
        let spinner = ProgressBar::new_spinner();
        let countdown = Arc::clone(&self.countdown);
        spinner.set_style(
            ProgressStyle::with_template("  {spinner} {msg} ({elapsed}){countdown}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .with_key(
                    "countdown",
                    move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        let shown = countdown
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .clone();
                        if let Some((countdown, read)) = shown {
                            let _ = out.write_str(&countdown_text(&countdown, read.elapsed()));
                        }
                    },
                ),
        );
        self.spinning.clone_from(&message);
        spinner.set_message(message);
        spinner.enable_steady_tick(Duration::from_millis(120));
        *shown_spinner() = Some(spinner.clone());
        self.spinner = Some(spinner);
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            shown_spinner().take();
            spinner.finish_and_clear();
        }
    }
}

impl HumanSink {
    /// Renders the start of a run: target, runbook, journal, cluster table.
    fn run_started(
        &mut self,
        run_id: String,
        runbook: String,
        target: String,
        cluster: Snapshot,
        journal: Option<String>,
        resumed: bool,
    ) {
        self.line(format!("{} {}", style("Target:").bold(), target));
        let verb = if resumed { "Resuming" } else { "Running" };
        self.line(format!(
            "{} {} {}",
            style(format!("{verb}:")).bold(),
            runbook,
            style(format!("(run {run_id})")).dim()
        ));
        if let Some(journal) = journal {
            self.line(format!("{} {journal}", style("Journal:").bold()));
        }
        if !cluster.servers.is_empty() {
            self.line(String::new());
            self.line(indent(&cluster_table(&cluster)));
        }
    }

    /// Renders a step's heading: number, title and id.
    fn step_started(&mut self, step: String, title: String, number: Option<String>) {
        let number = number
            .map(|number| format!("{number}. "))
            .unwrap_or_default();
        self.line(String::new());
        self.line(format!(
            "{} {}{} {}",
            style("▶").cyan().bold(),
            number,
            style(&title).bold(),
            style(format!("[{step}]")).dim()
        ));
    }

    /// Renders how a step ended: done, failed or skipped.
    fn step_finished(
        &mut self,
        step: String,
        outcome: StepOutcome,
        message: Option<String>,
        duration: Option<f64>,
    ) {
        self.stop_spinner();
        // On the target's clock: the simulator's virtual time, or real time.
        let took = duration
            .map(|seconds| {
                style(format!(
                    " ({})",
                    crate::semantics::eval::format_duration(Duration::from_secs_f64(
                        seconds.max(0.0)
                    ))
                ))
                .dim()
                .to_string()
            })
            .unwrap_or_default();
        let text = match outcome {
            StepOutcome::Ok => format!("  {} {step} done{took}", style("✓").green()),
            StepOutcome::Failed => format!(
                "  {} {step} failed: {}",
                style("✗").red().bold(),
                message.unwrap_or_default()
            ),
            StepOutcome::Skipped => format!(
                "  {} {step} skipped ({})",
                style("↷").dim(),
                message.unwrap_or_default()
            ),
        };
        self.line(text);
    }

    /// Renders an answered prompt with its answer and where it came from.
    fn prompt(&mut self, id: String, text: String, answer: serde_json::Value, source: String) {
        // A confirmation reads as the terminal showed it: yes or no.
        let answer = match answer {
            serde_json::Value::String(text) => text,
            serde_json::Value::Bool(true) => String::from("yes"),
            serde_json::Value::Bool(false) => String::from("no"),
            other => other.to_string(),
        };
        self.line(format!(
            "  {} {text} {} {} {}",
            style("?").magenta().bold(),
            style("→").dim(),
            style(answer).bold(),
            style(format!("[{id}, {source}]")).dim()
        ));
    }

    /// Renders the entry into a What-if handler and why it fired.
    fn what_if(&mut self, name: String, reason: String) {
        self.stop_spinner();
        self.line(String::new());
        self.line(format!(
            "{} What-if {}: {reason}",
            style("⚠").yellow().bold(),
            style(name).bold()
        ));
    }

    /// Renders the start of an operation: a spinner when long, else a line.
    fn operation_started(&mut self, operation: String, long: bool, expected: Option<u64>) {
        self.long_operation = long;
        if long {
            let expected = expected
                .map(|seconds| {
                    format!(
                        ", expected about {} on the cluster's clock",
                        crate::semantics::eval::format_duration(Duration::from_secs(seconds))
                    )
                })
                .unwrap_or_default();
            self.spin(format!("{operation}{expected}"));
        } else {
            self.line(format!("  {} {operation}", style("→").dim()));
        }
    }

    /// Renders the end of an operation: its error, or a tick after a spinner.
    fn operation_finished(&mut self, operation: String, ok: bool, error: Option<String>) {
        let was_long = std::mem::take(&mut self.long_operation);
        self.stop_spinner();
        if !ok {
            self.line(format!(
                "  {} {operation}: {}",
                style("✗").red(),
                error.unwrap_or_default()
            ));
        } else if was_long {
            self.line(format!("  {} {operation}", style("✓").green()));
        }
    }

    /// Renders the end of a wait: whether it held and how long it took.
    fn wait_finished(&mut self, condition: String, ok: bool, waited_seconds: u64) {
        self.stop_spinner();
        let mark = if ok {
            style("✓").green()
        } else {
            style("✗").red()
        };
        self.line(format!("  {mark} {condition} (waited {waited_seconds}s)"));
    }

    /// Renders the end of a run: the cluster table and the outcome.
    fn run_finished(&mut self, outcome: RunOutcome, message: String, cluster: Snapshot) {
        self.stop_spinner();
        // Empty when the target could not be read: its diagnostic says so.
        if !cluster.servers.is_empty() {
            self.line(String::new());
            self.line(indent(&cluster_table(&cluster)));
        }
        self.line(String::new());
        let outcome_text = match outcome {
            RunOutcome::Succeeded => style("succeeded").green().bold(),
            RunOutcome::Failed => style("failed").red().bold(),
            RunOutcome::Stopped => style("stopped").yellow().bold(),
        };
        self.line(format!(
            "{} {outcome_text}: {message}",
            style("Outcome:").bold()
        ));
    }
}

impl EventSink for HumanSink {
    fn countdown(&mut self, countdown: Option<Countdown>) {
        *self
            .countdown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            countdown.map(|countdown| (countdown, Instant::now()));
    }

    fn emit(&mut self, event: Event) {
        if self.asking {
            if let EventKind::Warning { message, .. } = &event.kind {
                self.held
                    .push(format!("  {} {message}", style("warning:").yellow().bold()));
                return;
            }
            // Anything else comes after the answer: what was held first.
            self.asking = false;
            for line in std::mem::take(&mut self.held) {
                self.line(line);
            }
        }
        match event.kind {
            EventKind::RunStarted {
                run_id,
                runbook,
                target,
                cluster,
                journal,
                resumed,
            } => self.run_started(run_id, runbook, target, cluster, journal, resumed),
            EventKind::StepStarted {
                step,
                title,
                number,
                ..
            } => self.step_started(step, title, number),
            EventKind::StepFinished {
                step,
                outcome,
                message,
                duration_seconds,
                ..
            } => self.step_finished(step, outcome, message, duration_seconds),
            EventKind::Note { message } => {
                self.line(format!("  {} {message}", style("note:").blue()))
            }
            EventKind::Warning { message, .. } => {
                self.line(format!("  {} {message}", style("warning:").yellow().bold()))
            }
            EventKind::Prompt {
                id,
                text,
                answer,
                source,
            } => self.prompt(id, text, answer, source),
            EventKind::WhatIf { name, reason } => self.what_if(name, reason),
            // The terminal shows the question itself; a spinner would hide it.
            EventKind::PromptWaiting { .. } => {
                self.stop_spinner();
                self.asking = true;
            }
            EventKind::OperationStarted {
                operation,
                long,
                expected_seconds,
            } => self.operation_started(operation, long, expected_seconds),
            EventKind::OperationProgress { operation, phase } => {
                if let Some(spinner) = &self.spinner {
                    let _ = operation;
                    spinner.set_message(format!("{} — {phase}", self.spinning));
                }
            }
            EventKind::OperationFinished {
                operation,
                ok,
                error,
                ..
            } => self.operation_finished(operation, ok, error),
            EventKind::WaitStarted { condition, .. } => {
                self.spin(format!("waiting until {condition}"))
            }
            EventKind::WaitFinished {
                condition,
                ok,
                waited_seconds,
            } => self.wait_finished(condition, ok, waited_seconds),
            EventKind::RunFinished {
                outcome,
                message,
                cluster,
                // Printed once, by `run`/`resume` on stderr ("To continue: ...").
                resume: _,
                // Shown by the step failure's diagnostic.
                cause_code: _,
            } => self.run_finished(outcome, message, cluster),
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::countdown_text;
    use crate::interp::events::Countdown;

    fn countdown(left_seconds: f64, speed: Option<f64>) -> Countdown {
        Countdown {
            step: String::from("hurry"),
            left_seconds,
            speed,
        }
    }

    #[test]
    fn the_countdown_ticks_at_the_targets_speed() {
        // Wall time: one second a second.
        let wall = countdown(272.5, Some(1.0));
        assert_eq!(
            countdown_text(&wall, Duration::ZERO),
            " · 4m32s left to start `hurry`"
        );
        assert_eq!(
            countdown_text(&wall, Duration::from_secs(2)),
            " · 4m30s left to start `hurry`"
        );
        // `sim serve` at 600: ten minutes a second.
        let fast = countdown(3600.0, Some(600.0));
        assert_eq!(
            countdown_text(&fast, Duration::from_secs(1)),
            " · 50m left to start `hurry`"
        );
        // The in-process simulator: only what the run last read.
        let still = countdown(90.0, None);
        assert_eq!(
            countdown_text(&still, Duration::from_secs(30)),
            " · 1m30s left to start `hurry`"
        );
    }

    #[test]
    fn a_closed_window_says_how_long_ago() {
        let closed = countdown(5.0, Some(1.0));
        assert_eq!(
            countdown_text(&closed, Duration::from_secs(17)),
            " · the window to start `hurry` closed 12s ago"
        );
    }
}
