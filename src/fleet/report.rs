//! How a fleet ended, cluster by cluster: the document `runbook fleet run
//! --json` prints (its schema: `runbook schema fleet`), and the states the
//! live summary shows.

use serde::{Deserialize, Serialize};

use crate::cluster::Snapshot;
use crate::interp::events::RunOutcome;
use crate::schema::SchemaVersion;

/// Where a cluster of the fleet is: live (`queued`, `running`, `waiting`)
/// or at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClusterState {
    /// Not started yet: waiting for a free slot (`--parallel`).
    Queued,
    /// Its run is under way.
    Running,
    /// Its run waits for an answer at the terminal (one cluster asks at a time).
    Waiting,
    /// Its run succeeded (in this fleet run, or before it: see `skipped`).
    Succeeded,
    /// Its run failed (or its target could not be used).
    Failed,
    /// Its run stopped: Ctrl-C, an operator's `no`, a prompt nobody could
    /// answer. `runbook fleet resume` continues it.
    Stopped,
    /// It never started: `--max-failures` clusters had failed, or the
    /// fleet was interrupted first. `runbook fleet resume` starts it.
    NotStarted,
}

impl ClusterState {
    /// As the summary and the table spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Waiting => "waiting on a prompt",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::NotStarted => "not started",
        }
    }

    /// The state a run's outcome leaves the cluster in.
    pub fn of(outcome: RunOutcome) -> Self {
        match outcome {
            RunOutcome::Succeeded => Self::Succeeded,
            RunOutcome::Failed => Self::Failed,
            RunOutcome::Stopped => Self::Stopped,
        }
    }

    /// Whether the cluster is done with (nothing more will happen in this fleet run).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running | Self::Waiting)
    }
}

/// One cluster at the end of the fleet run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClusterResult {
    /// Its name in the fleet file.
    pub name: String,
    /// Its target: the inventory's path or the `sim serve` address.
    pub target: String,
    /// How it ended (never `queued`, `running` or `waiting`).
    pub state: ClusterState,
    /// `true` when its run had finished before this `fleet resume`, which
    /// left it alone.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub skipped: bool,
    /// `true` when this fleet run continued the cluster's journal.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub resumed: bool,
    /// The last step that started, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_step: Option<String>,
    /// A sentence saying why it ended so.
    pub message: String,
    /// The code of the diagnostic that ended it (e.g.
    /// `runbook::run::step_failed`), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<String>,
    /// Its journal, once its run started.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub journal: Option<String>,
    /// Seconds its run took in this fleet run (real time).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_seconds: Option<f64>,
    /// The cluster at the end of its run (absent when it did not run, or
    /// its target could not be read).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cluster: Option<Snapshot>,
}

/// Counts of the clusters by how they ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetCounts {
    /// Succeeded (now or before).
    pub succeeded: usize,
    /// Failed.
    pub failed: usize,
    /// Stopped, resumable.
    pub stopped: usize,
    /// Never started.
    pub not_started: usize,
}

/// The fleet's machine output (`--json`): one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetReport {
    /// The fleet file.
    pub fleet: String,
    /// The runbook's name.
    pub runbook: String,
    /// Where the clusters' journals are (`JOURNAL_DIR/CLUSTER.jsonl`).
    pub journal_dir: String,
    /// `true` for `fleet resume`.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub resumed: bool,
    /// `succeeded` when every cluster did; `failed` when one failed;
    /// otherwise `stopped` (a cluster stopped or never started).
    pub outcome: RunOutcome,
    /// The clusters by how they ended.
    pub counts: FleetCounts,
    /// Every cluster, in the fleet file's order.
    pub clusters: Vec<ClusterResult>,
    /// Seconds the fleet run took (real time).
    pub duration_seconds: f64,
    /// The version of this document's shape (`runbook schema fleet`).
    pub schema_version: SchemaVersion,
}

impl FleetReport {
    /// The report of `clusters`, its outcome and counts computed.
    pub fn new(
        fleet: String,
        runbook: String,
        journal_dir: String,
        resumed: bool,
        clusters: Vec<ClusterResult>,
        duration_seconds: f64,
    ) -> Self {
        let mut counts = FleetCounts::default();
        for cluster in &clusters {
            match cluster.state {
                ClusterState::Succeeded => counts.succeeded += 1,
                ClusterState::Failed => counts.failed += 1,
                ClusterState::NotStarted => counts.not_started += 1,
                _ => counts.stopped += 1,
            }
        }
        let outcome = if counts.failed > 0 {
            RunOutcome::Failed
        } else if counts.succeeded == clusters.len() {
            RunOutcome::Succeeded
        } else {
            RunOutcome::Stopped
        };
        Self {
            fleet,
            runbook,
            journal_dir,
            resumed,
            outcome,
            counts,
            clusters,
            duration_seconds,
            schema_version: SchemaVersion::CURRENT,
        }
    }

    /// The exit code of the contract: 0 when every cluster succeeded, else 1.
    pub fn exit_code(&self) -> i32 {
        self.outcome.exit_code()
    }
}
