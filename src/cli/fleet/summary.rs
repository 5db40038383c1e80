//! What a person sees of a fleet: on a terminal, a summary redrawn in place
//! on stderr (each cluster's state and current step); otherwise one plain
//! line per thing that happens to a cluster; at the end, the table.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::fleet::{ClusterState, FleetReport};

/// Where one cluster is, as the summary shows it.
#[derive(Debug, Clone)]
pub struct Status {
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: ClusterState,
    /// The step under way (or the last one).
    pub step: Option<String>,
    /// When its run started in this process.
    pub started: Option<Instant>,
    /// When it ended.
    pub ended: Option<Instant>,
}

/// The states of every cluster, shared by their runs and the summary.
#[derive(Debug)]
pub struct Board {
    statuses: Mutex<Vec<Status>>,
    started: Instant,
}

impl Board {
    /// Every cluster `queued`.
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Self {
            statuses: Mutex::new(
                names
                    .into_iter()
                    .map(|name| Status {
                        name,
                        state: ClusterState::Queued,
                        step: None,
                        started: None,
                        ended: None,
                    })
                    .collect(),
            ),
            started: Instant::now(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Status>> {
        self.statuses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes cluster `index`'s state.
    pub fn set_state(&self, index: usize, state: ClusterState) {
        if let Some(status) = self.lock().get_mut(index) {
            if state == ClusterState::Running && status.started.is_none() {
                status.started = Some(Instant::now());
            }
            if state.is_final() {
                status.ended = Some(Instant::now());
            }
            status.state = state;
        }
    }

    /// Cluster `index` started step `step`.
    pub fn set_step(&self, index: usize, step: String) {
        if let Some(status) = self.lock().get_mut(index) {
            status.step = Some(step);
        }
    }

    /// Cluster `index` as it is now.
    pub fn status(&self, index: usize) -> Option<Status> {
        self.lock().get(index).cloned()
    }

    /// The summary's lines, at most `height` of them, each cut to `width`
    /// (with a `height` of 1, the line of counts alone).
    pub fn render(&self, title: &str, width: usize, height: usize) -> String {
        let statuses = self.lock().clone();
        let count = |state: ClusterState| statuses.iter().filter(|s| s.state == state).count();
        let mut counts = Vec::new();
        for state in [
            ClusterState::Running,
            ClusterState::Waiting,
            ClusterState::Queued,
            ClusterState::Succeeded,
            ClusterState::Failed,
            ClusterState::Stopped,
            ClusterState::NotStarted,
        ] {
            let n = count(state);
            if n > 0 {
                counts.push(format!("{n} {}", state.as_str()));
            }
        }
        let elapsed = crate::semantics::eval::format_duration(Duration::from_secs(
            self.started.elapsed().as_secs(),
        ));
        let header = format!(
            "{} {title}: {} ({elapsed})",
            style("Fleet").bold().for_stderr(),
            counts.join(" · ")
        );
        let header = console::truncate_str(&header, width, "…").into_owned();
        if height <= 1 {
            return header;
        }
        let mut lines = vec![header];
        // The clusters that need looking at first: asking, running, ended badly.
        let rank = |state: ClusterState| match state {
            ClusterState::Waiting => 0,
            ClusterState::Running => 1,
            ClusterState::Failed => 2,
            ClusterState::Stopped => 3,
            ClusterState::Queued => 4,
            ClusterState::NotStarted => 5,
            ClusterState::Succeeded => 6,
        };
        let mut shown: Vec<&Status> = statuses.iter().collect();
        shown.sort_by_key(|status| rank(status.state));
        let name_width = statuses.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let room = height.saturating_sub(2).max(1);
        let hidden = shown.len().saturating_sub(room);
        let shown = if hidden > 0 {
            &shown[..room.saturating_sub(1)]
        } else {
            &shown[..]
        };
        for status in shown {
            let state = state_styled(status.state);
            let step = status.step.as_deref().unwrap_or("");
            let line = format!(
                "  {:<name_width$}  {state}  {}",
                status.name,
                style(step).dim().for_stderr()
            );
            lines.push(console::truncate_str(&line, width, "…").into_owned());
        }
        if hidden > 0 {
            let others = statuses.len() - shown.len();
            lines.push(format!("  … and {others} more"));
        }
        lines.join("\n")
    }
}

/// A state, padded to the widest, coloured for stderr.
fn state_styled(state: ClusterState) -> String {
    let text = format!("{:<19}", state.as_str());
    match state {
        ClusterState::Succeeded => style(text).green().for_stderr().to_string(),
        ClusterState::Failed => style(text).red().bold().for_stderr().to_string(),
        ClusterState::Stopped | ClusterState::Waiting => {
            style(text).yellow().for_stderr().to_string()
        }
        ClusterState::Running => style(text).cyan().for_stderr().to_string(),
        ClusterState::Queued | ClusterState::NotStarted => {
            style(text).dim().for_stderr().to_string()
        }
    }
}

/// The summary redrawn in place on stderr by its own thread (the runs only
/// change the [`Board`]); a terminal prompt hides it while it is asked.
pub struct LiveSummary {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveSummary {
    /// Starts drawing `board` under `title`.
    pub fn start(board: Arc<Board>, title: String) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        // Ctrl-C's message and an inventory's manual prompts hide it too.
        super::super::output::show_progress(Some(bar.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let bar = bar.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let term = console::Term::stderr();
                while !stop.load(Ordering::SeqCst) {
                    let (rows, columns) = term.size();
                    bar.set_message(board.render(
                        &title,
                        usize::from(columns).max(20),
                        usize::from(rows).max(4) - 1,
                    ));
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        Self {
            bar,
            stop,
            thread: Some(thread),
        }
    }

    /// Clears it for good.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        super::super::output::show_progress(None);
        self.bar.finish_and_clear();
    }
}

/// The final table, and below it what to do about the clusters that did
/// not succeed, wrapped at `width`.
pub fn table(report: &FleetReport, resume: &str, width: usize) -> String {
    let name_width = report
        .clusters
        .iter()
        .map(|cluster| cluster.name.len())
        .chain([7])
        .max()
        .unwrap_or(7);
    let step_width = report
        .clusters
        .iter()
        .map(|cluster| cluster.last_step.as_deref().unwrap_or("-").len())
        .chain([9])
        .max()
        .unwrap_or(9);
    let mut lines = vec![format!(
        "{:<name_width$}  {:<11}  {:<step_width$}  {}",
        "CLUSTER", "STATE", "LAST STEP", "TIME"
    )];
    for cluster in &report.clusters {
        let state = if cluster.skipped {
            format!("{} (before)", cluster.state.as_str())
        } else {
            cluster.state.as_str().to_string()
        };
        let time = cluster
            .duration_seconds
            .map(|seconds| {
                crate::semantics::eval::format_duration(Duration::from_secs(seconds.round() as u64))
            })
            .unwrap_or_else(|| String::from("-"));
        lines.push(format!(
            "{:<name_width$}  {:<11}  {:<step_width$}  {time}",
            cluster.name,
            state,
            cluster.last_step.as_deref().unwrap_or("-"),
        ));
    }
    let counts = &report.counts;
    let mut said = vec![format!("{} succeeded", counts.succeeded)];
    for (n, what) in [
        (counts.failed, "failed"),
        (counts.stopped, "stopped"),
        (counts.not_started, "not started"),
    ] {
        if n > 0 {
            said.push(format!("{n} {what}"));
        }
    }
    lines.push(String::new());
    lines.push(crate::wrap::wrap(
        &format!(
            "{} of {} clusters: {} (journals in {}).",
            report.runbook,
            report.clusters.len(),
            said.join(", "),
            report.journal_dir
        ),
        width,
    ));
    for cluster in &report.clusters {
        if cluster.state != crate::fleet::ClusterState::Succeeded && !cluster.message.is_empty() {
            lines.push(crate::wrap::wrap(
                &format!("- {}: {}", cluster.name, cluster.message),
                width,
            ));
        }
    }
    let unfinished = report.clusters.iter().any(|cluster| {
        matches!(
            cluster.state,
            ClusterState::Stopped | ClusterState::NotStarted | ClusterState::Failed
        ) && !cluster.skipped
    });
    if unfinished {
        lines.push(crate::wrap::wrap(&format!("To continue: {resume}"), width));
    }
    lines.join("\n")
}
