//! The pure HA cluster: servers, background jobs and every operation of
//! `domain.md` with its precondition and effect. No clock and no randomness:
//! time passes only through [`Cluster::elapse`] and faults only through
//! [`Cluster::inject`](super::faults), so the verifier can branch on them.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::durations::{
    INIT_COPYING, INIT_RESTART, INIT_SYNCHRONIZING, UPGRADE_INSTALLING, UPGRADE_STARTING,
    UPGRADE_STOPPING, WIZARD_PHASE,
};
use super::error::{FailureKind, SimError};
use super::faults::FaultPoint;
use super::{
    Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot, Snapshot, Version,
};

/// Identity of a database's history: an Active's own database, or the one a
/// Standby holds a replica of. A new lineage starts when a database stops
/// being a copy of the previous one (upgrade of the Active, forced
/// activation, restore of a backup).
pub type Lineage = u64;

/// The product's answer when an action must be issued on the Active.
pub const MUST_USE_ACTIVE: &str =
    "You must use the active Management Server to request this action";

/// Identifies a background operation (upgrade, standby initialization, activation wizard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job-{}", self.0)
    }
}

/// One Management Server of the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Server {
    /// The server's name, e.g. `mgt-1`.
    pub name: String,
    /// Whether the server runs (a stopped server answers nothing).
    pub running: bool,
    /// Active or Standby, as the server declares it.
    pub mode: Mode,
    /// The installed version.
    pub version: Version,
    /// Excluded from replication (the relationship is removed on both sides).
    pub excluded: bool,
    /// The database the server holds: its own (Active) or the one it is a
    /// replica of (Standby). `None`: a Standby never initialized, or cleared by
    /// an upgrade or `stop-replication`.
    pub database: Option<Lineage>,
    /// The server's replica is damaged (`replication-down`, cancelled upgrade).
    pub broken: bool,
    /// Administrator configuration revision.
    pub config_revision: u64,
    /// The server does not answer the operator (`unreachable:SERVER`).
    pub unreachable: bool,
    /// A fault made it Active (`standby-auto-activates`,
    /// `standby-activated-by-operator`): the network to it does not also
    /// fail during the run (one server, one fault).
    #[serde(default)]
    pub activated_by_fault: bool,
}

impl Server {
    /// Whether the server holds an initialized replica or database.
    pub fn is_initialized(&self) -> bool {
        self.database.is_some()
    }
}

/// A Management Server backup.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Backup {
    /// The backup's identifier, e.g. `backup-1-mgt-1`.
    pub id: String,
    /// The server it was taken on.
    pub server: String,
    /// The configuration revision it holds.
    pub config_revision: u64,
}

/// One phase of a background operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phase {
    /// The phase's name as the product shows it.
    pub name: &'static str,
    /// How long it takes.
    pub duration: Duration,
}

/// The installer's phases: the server is down from the first one on.
pub const UPGRADE_PHASES: [Phase; 3] = [
    Phase {
        name: "stopping services",
        duration: UPGRADE_STOPPING,
    },
    Phase {
        name: "installing",
        duration: UPGRADE_INSTALLING,
    },
    Phase {
        name: "starting services",
        duration: UPGRADE_STARTING,
    },
];

/// Standby initialization: a full copy, then the standby restarts twice
/// (it is down during the restart phases, up in between).
pub const INIT_PHASES: [Phase; 4] = [
    Phase {
        name: "full replication",
        duration: INIT_COPYING,
    },
    Phase {
        name: "first restart",
        duration: INIT_RESTART,
    },
    Phase {
        name: "synchronizing",
        duration: INIT_SYNCHRONIZING,
    },
    Phase {
        name: "second restart",
        duration: INIT_RESTART,
    },
];

/// The activation wizard's phases, in the product's order.
pub const WIZARD_PHASES: [Phase; 7] = [
    Phase {
        name: "switch initialized",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "target standby ready",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "other standbys ready",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "current active ready",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "server activation",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "secure replication ready",
        duration: WIZARD_PHASE,
    },
    Phase {
        name: "standby replication",
        duration: WIZARD_PHASE,
    },
];

/// Index in [`WIZARD_PHASES`] of "current active ready": at its end the old Active is Standby.
pub const WIZARD_DEMOTES_AFTER: usize = 3;
/// Index in [`WIZARD_PHASES`] of "server activation": at its end the target is Active.
pub const WIZARD_PROMOTES_AFTER: usize = 4;
/// Index in [`WIZARD_PHASES`] of "standby replication": every Standby restarts
/// (down during the phase, up at its end).
pub const WIZARD_RESTARTS_STANDBYS: usize = 6;

/// What a background operation does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JobKind {
    /// The SMC installer on `server`.
    Upgrade {
        /// The server being upgraded.
        server: String,
        /// Its version before.
        from: Version,
        /// The version being installed.
        to: Version,
        /// Whether `server` was the Active when the upgrade started.
        was_active: bool,
    },
    /// Full replication of `server` from `active`.
    InitStandby {
        /// The standby being initialized.
        server: String,
        /// The Active it copies.
        active: String,
        /// The Active's database at the start.
        lineage: Lineage,
    },
    /// The activation wizard making `server` Active instead of `previous_active`.
    Activate {
        /// The Standby being activated.
        server: String,
        /// The Active when the wizard started.
        previous_active: String,
        /// The Standbys restarting during the last phase.
        #[serde(default)]
        restarting: Vec<String>,
    },
}

/// How a background operation ends; the driver (simulator or verifier)
/// chooses it through fault events, the default is [`JobOutcome::Succeeds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobOutcome {
    /// The operation completes.
    Succeeds,
    /// The installer fails: the server stays on its old version, stopped.
    Fails,
    /// The upgrade is cancelled and reverted: old version, running, replication broken.
    CancelledAndReverted,
}

/// A background operation in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Job {
    /// Its identity.
    pub id: JobId,
    /// The operation that started it.
    pub operation: Operation,
    /// What it does.
    pub kind: JobKind,
    /// Index of the current phase.
    pub phase: usize,
    /// Time left in the current phase.
    pub remaining: Duration,
    /// How it will end.
    pub outcome: JobOutcome,
}

impl Job {
    /// The phases of this kind of job.
    pub fn phases(&self) -> &'static [Phase] {
        match self.kind {
            JobKind::Upgrade { .. } => &UPGRADE_PHASES,
            JobKind::InitStandby { .. } => &INIT_PHASES,
            JobKind::Activate { .. } => &WIZARD_PHASES,
        }
    }

    /// The current phase's name.
    pub fn phase_name(&self) -> &'static str {
        self.phases()
            .get(self.phase)
            .map_or("finishing", |phase| phase.name)
    }

    /// Time left until the job finishes (current phase and the following ones).
    pub fn remaining_total(&self) -> Duration {
        let later: Duration = self
            .phases()
            .iter()
            .skip(self.phase + 1)
            .map(|phase| phase.duration)
            .sum();
        self.remaining + later
    }

    /// The server the job works on.
    pub fn server(&self) -> &str {
        match &self.kind {
            JobKind::Upgrade { server, .. }
            | JobKind::InitStandby { server, .. }
            | JobKind::Activate { server, .. } => server,
        }
    }
}

/// How [`Cluster::apply`] started an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "started", rename_all = "kebab-case")]
pub enum Started {
    /// The operation completed at once.
    Finished(OperationOutput),
    /// The operation runs in the background; poll the job.
    Background(JobId),
}

/// Something that happened while time passed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Progress {
    /// A point where faults may be injected was reached.
    Reached(FaultPoint),
    /// A background operation ended.
    Finished {
        /// The job.
        job: JobId,
        /// The operation that started it.
        operation: Operation,
        /// Its result.
        result: Result<OperationOutput, SimError>,
    },
}

/// The whole cluster: pure state, `Hash + Eq` so a verifier can memoize it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cluster {
    pub(crate) servers: Vec<Server>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) backups: Vec<Backup>,
    pub(crate) split_brain: Option<Vec<String>>,
    pub(crate) next_job: u64,
    pub(crate) next_lineage: Lineage,
}

impl Cluster {
    /// A healthy cluster: the first server Active, the others Standby, all
    /// running on `version`, replication healthy (`ACT_REP` / `STB_REP`).
    pub fn new(names: &[String], version: &Version) -> Self {
        let servers = names
            .iter()
            .enumerate()
            .map(|(index, name)| Server {
                name: name.clone(),
                running: true,
                mode: if index == 0 {
                    Mode::Active
                } else {
                    Mode::Standby
                },
                version: version.clone(),
                excluded: false,
                database: Some(0),
                broken: false,
                config_revision: 0,
                unreachable: false,
                activated_by_fault: false,
            })
            .collect();
        Cluster {
            servers,
            jobs: Vec::new(),
            backups: Vec::new(),
            split_brain: None,
            next_job: 1,
            next_lineage: 1,
        }
    }

    /// Every server, in name order.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The server with this name.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|server| server.name == name)
    }

    /// Background operations in progress.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The background operation with this id, while it runs.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.iter().find(|job| job.id == id)
    }

    /// The backups taken so far, oldest first.
    pub fn backups(&self) -> &[Backup] {
        &self.backups
    }

    /// The servers that were Active when split brain was last detected (cleared
    /// by the next forced activation).
    pub fn split_brain(&self) -> Option<&[String]> {
        self.split_brain.as_deref()
    }

    /// Running servers that declare themselves Active.
    pub fn running_actives(&self) -> Vec<&Server> {
        self.servers
            .iter()
            .filter(|server| server.running && server.mode == Mode::Active)
            .collect()
    }

    pub(crate) fn index(&self, name: &str) -> Result<usize, SimError> {
        self.servers
            .iter()
            .position(|server| server.name == name)
            .ok_or_else(|| SimError::UnknownServer {
                server: name.to_string(),
            })
    }

    pub(crate) fn new_lineage(&mut self) -> Lineage {
        let lineage = self.next_lineage;
        self.next_lineage += 1;
        lineage
    }

    /// The replication state code the server reports (`UNKNOWN` when stopped).
    pub fn replication_state(&self, name: &str) -> ReplicationState {
        match self.server(name) {
            Some(server) if server.running => match server.mode {
                Mode::Active => self.active_state(server),
                Mode::Standby => self.standby_state(server),
            },
            _ => ReplicationState::Unknown,
        }
    }

    fn is_activation_target(&self, name: &str) -> bool {
        self.jobs
            .iter()
            .any(|job| matches!(&job.kind, JobKind::Activate { server, .. } if server == name))
    }

    /// Whether `standby` replicates from `active` right now.
    pub fn is_connected(&self, active: &Server, standby: &Server) -> bool {
        standby.running
            && standby.mode == Mode::Standby
            && !standby.excluded
            && !standby.broken
            && standby.database.is_some()
            && standby.database == active.database
            && standby.version == active.version
            && !self.is_activation_target(&standby.name)
    }

    fn active_state(&self, active: &Server) -> ReplicationState {
        let Some(lineage) = active.database else {
            return ReplicationState::ActNoRep;
        };
        let others: Vec<&Server> = self
            .servers
            .iter()
            .filter(|server| server.name != active.name)
            .collect();
        let initialized: Vec<&Server> = others
            .iter()
            .copied()
            .filter(|server| !server.excluded && server.database == Some(lineage))
            .collect();
        if initialized.iter().any(|server| server.broken) {
            return ReplicationState::BrokenActStb;
        }
        if initialized.is_empty() {
            return ReplicationState::ActNoRep;
        }
        let connected = initialized
            .iter()
            .filter(|standby| self.is_connected(active, standby))
            .count();
        if connected == 0 {
            ReplicationState::ActOnhold
        } else if connected < others.len() {
            ReplicationState::ActRepEx
        } else {
            ReplicationState::ActRep
        }
    }

    fn standby_state(&self, standby: &Server) -> ReplicationState {
        if standby.excluded || standby.database.is_none() {
            return ReplicationState::StbNoRep;
        }
        if standby.broken {
            return ReplicationState::BrokenActStb;
        }
        if self.is_activation_target(&standby.name) {
            return ReplicationState::StbActrep;
        }
        let actives = self.running_actives();
        if actives.is_empty() {
            return ReplicationState::StbOnhold;
        }
        if actives
            .iter()
            .any(|active| active.database == standby.database && active.version == standby.version)
        {
            ReplicationState::StbRep
        } else {
            ReplicationState::BrokenActStb
        }
    }

    /// The contract's `CLUSTER`, as the model knows it (unreachable servers included).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            servers: self
                .servers
                .iter()
                .map(|server| ServerSnapshot {
                    name: server.name.clone(),
                    running: server.running,
                    mode: server.mode,
                    version: server.version.clone(),
                    replication: self.replication_state(&server.name),
                    excluded: server.excluded,
                    config_revision: server.config_revision,
                })
                .collect(),
        }
    }

    /// The alerts the monitoring view shows now: two Actives, split brain.
    pub fn monitoring_alerts(&self) -> Vec<String> {
        let mut alerts = Vec::new();
        let actives: Vec<&str> = self
            .running_actives()
            .iter()
            .map(|server| server.name.as_str())
            .collect();
        if actives.len() > 1 {
            alerts.push(two_actives_message(&actives));
        }
        if let Some(servers) = &self.split_brain {
            let names: Vec<&str> = servers.iter().map(String::as_str).collect();
            alerts.push(split_brain_message(&names));
        }
        alerts
    }

    /// How many administrator changes `operation` would discard: changes on a
    /// demoted Active that the other Active lacks, changes newer than the
    /// restored backup, changes on a standby that initialization overwrites.
    pub fn changes_discarded_by(&self, operation: &Operation) -> u64 {
        let Some(server) = self.server(operation.server()) else {
            return 0;
        };
        match operation {
            Operation::SetStandby { .. } if server.mode == Mode::Active => self
                .servers
                .iter()
                .filter(|other| other.name != server.name && other.mode == Mode::Active)
                .map(|other| server.config_revision.saturating_sub(other.config_revision))
                .max()
                .unwrap_or(0),
            Operation::RestoreBackup { .. } => self.backups.last().map_or(0, |backup| {
                server
                    .config_revision
                    .saturating_sub(backup.config_revision)
            }),
            Operation::InitStandby { .. } => self
                .running_actives()
                .iter()
                .filter(|active| active.name != server.name)
                .map(|active| {
                    server
                        .config_revision
                        .saturating_sub(active.config_revision)
                })
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }

    // ----- operations -------------------------------------------------------

    /// Applies one operation: checks its precondition (a refusal changes
    /// nothing), applies its immediate effect, starts its background job.
    pub fn apply(&mut self, operation: &Operation) -> Result<Started, SimError> {
        let index = self.index(operation.server())?;
        let started = match operation {
            Operation::Diagnostic { .. } => {
                self.answering(index)?;
                Started::Finished(self.diagnostic())
            }
            Operation::ReplicationStates { .. } => {
                self.answering(index)?;
                if self.servers[index].mode != Mode::Active {
                    return Err(must_use_active(format!(
                        "Management Server {} is not the active Management Server.",
                        self.servers[index].name
                    )));
                }
                Started::Finished(self.replication_states())
            }
            Operation::Exclude { .. } => {
                self.exclude(index)?;
                Started::Finished(OperationOutput::Done)
            }
            Operation::InitStandby { .. } => {
                Started::Background(self.init_standby(operation, index)?)
            }
            Operation::Activate { .. } => Started::Background(self.activate(operation, index)?),
            Operation::ForceActivate { .. } => {
                self.force_activate(index)?;
                Started::Finished(OperationOutput::Done)
            }
            Operation::SetStandby { force, .. } => {
                // The API's set_standby is "Set Standby and Stop Replication".
                self.set_standby(index, *force)?;
                self.stop_replication(index)?;
                Started::Finished(OperationOutput::Done)
            }
            Operation::StopReplication { .. } => {
                self.stop_replication(index)?;
                Started::Finished(OperationOutput::Done)
            }
            Operation::StopServer { .. } => {
                self.console(index)?;
                self.servers[index].running = false;
                Started::Finished(OperationOutput::Done)
            }
            Operation::StartServer { .. } => {
                self.console(index)?;
                self.servers[index].running = true;
                Started::Finished(OperationOutput::Done)
            }
            Operation::Upgrade { version, .. } => {
                Started::Background(self.upgrade(operation, index, version)?)
            }
            Operation::Backup { .. } => {
                self.answering(index)?;
                let server = &self.servers[index];
                let backup = Backup {
                    id: format!("backup-{}-{}", self.backups.len() + 1, server.name),
                    server: server.name.clone(),
                    config_revision: server.config_revision,
                };
                let backup_id = backup.id.clone();
                self.backups.push(backup);
                Started::Finished(OperationOutput::Backup { backup_id })
            }
            Operation::RestoreBackup { .. } => {
                self.restore_backup(index)?;
                Started::Finished(OperationOutput::Done)
            }
        };
        self.detect_split_brain();
        Ok(started)
    }

    /// The server answers the operator: it exists, is reachable and runs.
    fn answering(&self, index: usize) -> Result<(), SimError> {
        let server = &self.servers[index];
        if server.unreachable {
            return Err(SimError::Unreachable {
                server: server.name.clone(),
            });
        }
        if !server.running {
            return Err(SimError::Stopped {
                server: server.name.clone(),
            });
        }
        Ok(())
    }

    /// A console operation: the server is reachable and no job works on it.
    fn console(&self, index: usize) -> Result<(), SimError> {
        let server = &self.servers[index];
        if server.unreachable {
            return Err(SimError::Unreachable {
                server: server.name.clone(),
            });
        }
        self.not_busy(index)
    }

    /// Refuses an operation on a server that does not answer or is stopped;
    /// `doing` completes "start it before …".
    fn reachable_and_running(&self, index: usize, doing: &str) -> Result<(), SimError> {
        let server = &self.servers[index];
        if server.unreachable {
            return Err(SimError::Unreachable {
                server: server.name.clone(),
            });
        }
        if !server.running {
            return Err(SimError::refused(format!(
                "Management Server {} is not running: start it before {doing}.",
                server.name
            )));
        }
        Ok(())
    }

    fn not_busy(&self, index: usize) -> Result<(), SimError> {
        let name = &self.servers[index].name;
        match self.jobs.iter().find(|job| {
            job.server() == name
                || matches!(&job.kind, JobKind::InitStandby { active, .. } if active == name)
                || matches!(&job.kind, JobKind::Activate { restarting, .. } if restarting.contains(name))
        }) {
            Some(job) => Err(SimError::refused(format!(
                "Management Server {name} is busy: {} is in progress ({}).",
                job.operation,
                job.phase_name()
            ))),
            None => Ok(()),
        }
    }

    fn no_wizard(&self) -> Result<(), SimError> {
        match self
            .jobs
            .iter()
            .find(|job| matches!(job.kind, JobKind::Activate { .. }))
        {
            Some(job) => Err(SimError::refused(format!(
                "The activation of Management Server {} is in progress ({}). Wait until it has finished.",
                job.server(),
                job.phase_name()
            ))),
            None => Ok(()),
        }
    }

    /// The Active an API action is issued on: the one running Active, or among
    /// several the one still declared in replication.
    pub fn issuing_active(&self) -> Result<usize, SimError> {
        let actives: Vec<usize> = (0..self.servers.len())
            .filter(|&index| {
                let server = &self.servers[index];
                server.running && server.mode == Mode::Active
            })
            .collect();
        let chosen = match actives.as_slice() {
            [] => {
                return Err(must_use_active(
                    "No running Management Server is active.".to_string(),
                ))
            }
            [only] => *only,
            several => {
                let declared: Vec<usize> = several
                    .iter()
                    .copied()
                    .filter(|&index| !self.servers[index].excluded)
                    .collect();
                match declared.as_slice() {
                    [only] => *only,
                    _ => {
                        let names: Vec<&str> = several
                            .iter()
                            .map(|&index| self.servers[index].name.as_str())
                            .collect();
                        return Err(SimError::Refused {
                            message: two_actives_message(&names),
                            details: vec![MUST_USE_ACTIVE.to_string()],
                        });
                    }
                }
            }
        };
        if self.servers[chosen].unreachable {
            return Err(SimError::Unreachable {
                server: self.servers[chosen].name.clone(),
            });
        }
        Ok(chosen)
    }

    fn exclude(&mut self, index: usize) -> Result<(), SimError> {
        let active = self.issuing_active()?;
        if active == index {
            return Err(SimError::refused(format!(
                "The active Management Server {} cannot be excluded from replication.",
                self.servers[index].name
            )));
        }
        self.no_wizard()?;
        self.not_busy(index)?;
        let server = &mut self.servers[index];
        server.excluded = true;
        server.broken = false;
        Ok(())
    }

    fn init_standby(&mut self, operation: &Operation, index: usize) -> Result<JobId, SimError> {
        let active = self.issuing_active()?;
        let name = self.servers[index].name.clone();
        if active == index || self.servers[index].mode == Mode::Active {
            return Err(SimError::refused(format!(
                "Management Server {name} is an active Management Server and cannot be initialized as a standby."
            )));
        }
        self.no_wizard()?;
        self.not_busy(index)?;
        self.not_busy(active)?;
        self.reachable_and_running(index, "initializing it")?;
        let server = &self.servers[index];
        if server.is_initialized() && !server.excluded {
            return Err(SimError::Refused {
                message: format!("Management Server {name} is already initialized."),
                details: vec![format!(
                    "Exclude {name} from replication before initializing it again."
                )],
            });
        }
        let active_server = &self.servers[active];
        if server.version != active_server.version {
            return Err(SimError::refused(format!(
                "Management Server {name} runs version {} but the active Management Server {} runs version {}: upgrade it first.",
                server.version, active_server.name, active_server.version
            )));
        }
        let Some(lineage) = active_server.database else {
            return Err(SimError::refused(format!(
                "The active Management Server {} has no database to replicate.",
                active_server.name
            )));
        };
        let active_name = active_server.name.clone();
        self.servers[active].excluded = false;
        let server = &mut self.servers[index];
        server.excluded = false;
        server.database = None;
        server.broken = false;
        Ok(self.start_job(
            operation,
            JobKind::InitStandby {
                server: name,
                active: active_name,
                lineage,
            },
        ))
    }

    fn activate(&mut self, operation: &Operation, index: usize) -> Result<JobId, SimError> {
        let name = self.servers[index].name.clone();
        if self.servers[index].mode == Mode::Active {
            return Err(SimError::refused(format!(
                "Management Server {name} is already the active Management Server."
            )));
        }
        let active = self.issuing_active()?;
        self.no_wizard()?;
        self.not_busy(index)?;
        self.not_busy(active)?;
        self.reachable_and_running(index, "activating it")?;
        let server = &self.servers[index];
        if server.excluded {
            return Err(SimError::refused(format!(
                "Management Server {name} is excluded from replication: initialize it as a standby before activating it."
            )));
        }
        let active_server = &self.servers[active];
        let active_state = self.active_state(active_server);
        let standby_state = self.standby_state(server);
        if standby_state != ReplicationState::StbRep
            || !matches!(
                active_state,
                ReplicationState::ActRep | ReplicationState::ActRepEx
            )
        {
            return Err(SimError::Refused {
                message: "The system is not stable: the activation cannot start.".to_string(),
                details: vec![
                    format!("{}: {}", active_server.name, active_state.reported()),
                    format!("{name}: {}", standby_state.reported()),
                ],
            });
        }
        let previous_active = active_server.name.clone();
        Ok(self.start_job(
            operation,
            JobKind::Activate {
                server: name,
                previous_active,
                restarting: Vec::new(),
            },
        ))
    }

    fn force_activate(&mut self, index: usize) -> Result<(), SimError> {
        self.answering(index)?;
        let name = self.servers[index].name.clone();
        if self.servers[index].mode == Mode::Active {
            return Err(SimError::refused(format!(
                "Management Server {name} is already the active Management Server."
            )));
        }
        self.no_wizard()?;
        self.not_busy(index)?;
        let excluded = self.servers[index].excluded;
        if let Some(visible) = self.servers.iter().find(|other| {
            other.name != name
                && other.running
                && other.mode == Mode::Active
                && !other.excluded
                && !excluded
        }) {
            return Err(SimError::Refused {
                message: format!(
                    "Management Server {} is the active Management Server: the activation of {name} cannot be forced.",
                    visible.name
                ),
                details: vec![format!(
                    "Set {} to standby or stop it, or exclude {name} from replication, first.",
                    visible.name
                )],
            });
        }
        let lineage = self.new_lineage();
        let server = &mut self.servers[index];
        server.mode = Mode::Active;
        server.database = Some(lineage);
        server.broken = false;
        self.split_brain = None;
        Ok(())
    }

    fn set_standby(&mut self, index: usize, force: bool) -> Result<(), SimError> {
        self.answering(index)?;
        if self.servers[index].mode == Mode::Standby {
            return Ok(());
        }
        self.no_wizard()?;
        self.not_busy(index)?;
        if !force {
            return Err(SimError::Refused {
                message: format!(
                    "Setting the active Management Server {} to standby would interrupt database replication.",
                    self.servers[index].name
                ),
                details: vec!["Use the activation wizard on a standby, or force the change.".to_string()],
            });
        }
        self.servers[index].mode = Mode::Standby;
        Ok(())
    }

    /// Clears the replication configuration of a server without changing
    /// its mode (console `sgReplicationAdmin -stop_replication`, and the
    /// second half of the API's set_standby).
    fn stop_replication(&mut self, index: usize) -> Result<(), SimError> {
        self.answering(index)?;
        self.not_busy(index)?;
        self.no_wizard()?;
        let server = &mut self.servers[index];
        server.excluded = true;
        server.broken = false;
        if server.mode == Mode::Standby {
            server.database = None;
        }
        Ok(())
    }

    fn upgrade(
        &mut self,
        operation: &Operation,
        index: usize,
        version: &Version,
    ) -> Result<JobId, SimError> {
        self.console(index)?;
        let server = &self.servers[index];
        let name = server.name.clone();
        if *version == server.version {
            return Err(SimError::refused(format!(
                "Management Server {name} already runs version {version}."
            )));
        }
        if *version < server.version {
            return Err(SimError::refused(format!(
                "The SMC installer cannot downgrade Management Server {name} from {} to {version}.",
                server.version
            )));
        }
        if server.running && !server.excluded {
            return Err(SimError::Refused {
                message: format!(
                    "Management Server {name} is running and declared in replication: it cannot be upgraded."
                ),
                details: vec![format!(
                    "Stop {name}, or exclude it from replication, before running the SMC installer."
                )],
            });
        }
        let kind = JobKind::Upgrade {
            server: name,
            from: server.version.clone(),
            to: version.clone(),
            was_active: server.mode == Mode::Active,
        };
        self.servers[index].running = false;
        Ok(self.start_job(operation, kind))
    }

    fn restore_backup(&mut self, index: usize) -> Result<(), SimError> {
        self.answering(index)?;
        // On a Standby only when the Active is unusable (none runs): the
        // restore is then followed by a forced activation of that server.
        let active_usable = self
            .servers
            .iter()
            .any(|server| server.running && !server.unreachable && server.mode == Mode::Active);
        if self.servers[index].mode != Mode::Active && active_usable {
            return Err(must_use_active(format!(
                "A backup is restored on the active Management Server; {} is a standby and the active Management Server is running.",
                self.servers[index].name
            )));
        }
        self.no_wizard()?;
        self.not_busy(index)?;
        let Some(backup) = self.backups.last().cloned() else {
            return Err(SimError::refused(
                "No Management Server backup is available: take one with `backup` first.",
            ));
        };
        let lineage = self.new_lineage();
        for (position, server) in self.servers.iter_mut().enumerate() {
            if position == index {
                server.config_revision = backup.config_revision;
                server.database = Some(lineage);
                server.broken = false;
                server.excluded = false;
            } else if server.mode == Mode::Standby {
                server.excluded = true;
            }
        }
        Ok(())
    }

    fn start_job(&mut self, operation: &Operation, kind: JobKind) -> JobId {
        let id = JobId(self.next_job);
        self.next_job += 1;
        let mut job = Job {
            id,
            operation: operation.clone(),
            kind,
            phase: 0,
            remaining: Duration::ZERO,
            outcome: JobOutcome::Succeeds,
        };
        job.remaining = job.phases()[0].duration;
        self.jobs.push(job);
        id
    }

    /// The HA diagnostic. The two-Actives alert shows on the Actives; the
    /// split-brain alert on every running server (the product set them all
    /// to Standby, and it is how a client — the `smc` connector — learns
    /// that split brain happened).
    fn diagnostic(&self) -> OperationOutput {
        let alerts = self.monitoring_alerts();
        let split_brain_alert = self.split_brain.as_ref().map(|servers| {
            let names: Vec<&str> = servers.iter().map(String::as_str).collect();
            split_brain_message(&names)
        });
        let actives = self.running_actives();
        let mut ok = actives.len() == 1 && alerts.is_empty();
        let messages = self
            .servers
            .iter()
            .map(|server| {
                let mut lines = Vec::new();
                if server.unreachable {
                    lines.push(format!(
                        "Management Server {} does not answer.",
                        server.name
                    ));
                    ok = false;
                } else if !server.running {
                    lines.push(format!("Management Server {} is not running.", server.name));
                    ok = false;
                } else {
                    let state = self.replication_state(&server.name);
                    ok &= matches!(state, ReplicationState::ActRep | ReplicationState::StbRep);
                    lines.push(state.reported());
                }
                if server.excluded && server.mode == Mode::Standby {
                    lines.push(format!(
                        "Management Server {} is excluded from replication.",
                        server.name
                    ));
                    ok = false;
                }
                if let Some(job) = self.jobs.iter().find(|job| job.server() == server.name) {
                    lines.push(format!(
                        "{} in progress: {}.",
                        job.operation,
                        job.phase_name()
                    ));
                }
                if server.running && !server.unreachable {
                    if server.mode == Mode::Active {
                        lines.extend(
                            alerts
                                .iter()
                                .filter(|alert| Some(*alert) != split_brain_alert.as_ref())
                                .cloned(),
                        );
                    }
                    lines.extend(split_brain_alert.iter().cloned());
                }
                (server.name.clone(), lines)
            })
            .collect();
        OperationOutput::Diagnostic { ok, messages }
    }

    /// The states the Active reports: a server it cannot reach is `UNKNOWN`
    /// to it, as to anyone reading that server's own diagnostic.
    fn replication_states(&self) -> OperationOutput {
        OperationOutput::ReplicationStates {
            states: self
                .servers
                .iter()
                .map(|server| {
                    let state = if server.unreachable {
                        ReplicationState::Unknown
                    } else {
                        self.replication_state(&server.name)
                    };
                    (server.name.clone(), state)
                })
                .collect(),
        }
    }

    /// Split brain: two running Actives that are both still declared in
    /// replication see each other, and the product sets every server Standby.
    pub(crate) fn detect_split_brain(&mut self) {
        let visible: Vec<String> = self
            .servers
            .iter()
            .filter(|server| server.running && server.mode == Mode::Active && !server.excluded)
            .map(|server| server.name.clone())
            .collect();
        if visible.len() < 2 {
            return;
        }
        for server in &mut self.servers {
            server.mode = Mode::Standby;
        }
        self.split_brain = Some(visible);
    }

    // ----- time ----------------------------------------------------------------

    /// Time until the next phase boundary of a background operation.
    pub fn time_to_next_boundary(&self) -> Option<Duration> {
        self.jobs.iter().map(|job| job.remaining).min()
    }

    /// Advances to the next phase boundary of any background operation and
    /// returns the time that passed and what happened there (`None` when no
    /// job runs). The verifier's primitive: at each returned
    /// [`Progress::Reached`] it can clone the cluster and
    /// [`inject`](Self::inject) each of the
    /// [`possible_fault_events`](super::possible_fault_events).
    pub fn step(&mut self) -> Option<(Duration, Vec<Progress>)> {
        let by = self.time_to_next_boundary()?;
        Some((by, self.elapse(by)))
    }

    /// Lets `by` pass for every background operation, applying the effects of
    /// each phase boundary crossed. Pass at most
    /// [`time_to_next_boundary`](Self::time_to_next_boundary) to inject faults
    /// exactly at the fault points reported.
    pub fn elapse(&mut self, by: Duration) -> Vec<Progress> {
        let mut progress = Vec::new();
        let mut left = by;
        loop {
            let step = self
                .time_to_next_boundary()
                .map_or(left, |next| next.min(left));
            for job in &mut self.jobs {
                job.remaining = job.remaining.saturating_sub(step);
            }
            left = left.saturating_sub(step);
            while let Some(position) = self.jobs.iter().position(|job| job.remaining.is_zero()) {
                progress.extend(self.end_phase(position));
            }
            if left.is_zero() || self.jobs.is_empty() {
                break;
            }
        }
        progress
    }

    fn end_phase(&mut self, position: usize) -> Vec<Progress> {
        let ended = self.jobs[position].phase;
        self.phase_ended(position, ended);
        let job = &mut self.jobs[position];
        job.phase += 1;
        let mut progress = Vec::new();
        if let Some(next) = job.phases().get(job.phase) {
            job.remaining = next.duration;
            let entered = job.phase;
            if let Some(point) = self.phase_entered(position, entered) {
                progress.push(Progress::Reached(point));
            }
        } else {
            let job = self.jobs.remove(position);
            let result = self.complete(&job);
            progress.push(Progress::Finished {
                job: job.id,
                operation: job.operation,
                result,
            });
        }
        self.detect_split_brain();
        progress
    }

    fn phase_ended(&mut self, position: usize, phase: usize) {
        let kind = self.jobs[position].kind.clone();
        match kind {
            JobKind::Activate {
                server,
                previous_active,
                restarting,
            } => {
                for name in &restarting {
                    if let Ok(index) = self.index(name) {
                        self.servers[index].running = true;
                    }
                }
                if phase == WIZARD_DEMOTES_AFTER {
                    if let Ok(index) = self.index(&previous_active) {
                        self.servers[index].mode = Mode::Standby;
                    }
                } else if phase == WIZARD_PROMOTES_AFTER {
                    if let Ok(index) = self.index(&server) {
                        self.servers[index].mode = Mode::Active;
                    }
                }
            }
            JobKind::InitStandby { server, .. } => {
                if let Ok(index) = self.index(&server) {
                    // The standby is up again after each restart.
                    self.servers[index].running = true;
                }
            }
            JobKind::Upgrade { .. } => {}
        }
    }

    fn phase_entered(&mut self, position: usize, phase: usize) -> Option<FaultPoint> {
        let job = &self.jobs[position];
        let id = job.id;
        match job.kind.clone() {
            JobKind::Upgrade {
                server, was_active, ..
            } => match phase {
                1 => Some(FaultPoint::UpgradeInstalling {
                    job: id,
                    server,
                    was_active,
                }),
                2 => Some(FaultPoint::UpgradeCompleting {
                    job: id,
                    server,
                    was_active,
                }),
                _ => None,
            },
            JobKind::InitStandby { server, .. } => {
                if matches!(phase, 1 | 3) {
                    if let Ok(index) = self.index(&server) {
                        self.servers[index].running = false;
                    }
                }
                (phase == 2).then_some(FaultPoint::StandbySynchronizing { job: id, server })
            }
            JobKind::Activate { server, .. } => {
                if phase == WIZARD_RESTARTS_STANDBYS {
                    let restarting: Vec<String> = self
                        .servers
                        .iter()
                        .filter(|standby| {
                            standby.running
                                && standby.mode == Mode::Standby
                                && standby.name != server
                        })
                        .map(|standby| standby.name.clone())
                        .collect();
                    for standby in &mut self.servers {
                        if restarting.contains(&standby.name) {
                            standby.running = false;
                        }
                    }
                    if let JobKind::Activate {
                        restarting: recorded,
                        ..
                    } = &mut self.jobs[position].kind
                    {
                        *recorded = restarting;
                    }
                }
                Some(FaultPoint::ActivationPhase { job: id, phase })
            }
        }
    }

    fn complete(&mut self, job: &Job) -> Result<OperationOutput, SimError> {
        match &job.kind {
            JobKind::Upgrade {
                server, from, to, ..
            } => {
                let index = self.index(server)?;
                match job.outcome {
                    JobOutcome::Succeeds => {
                        let lineage = self.new_lineage();
                        let upgraded = &mut self.servers[index];
                        upgraded.version = to.clone();
                        upgraded.running = true;
                        upgraded.broken = false;
                        upgraded.database = match upgraded.mode {
                            Mode::Active => Some(lineage),
                            Mode::Standby => None,
                        };
                        Ok(OperationOutput::Done)
                    }
                    JobOutcome::Fails => {
                        self.servers[index].running = false;
                        Err(SimError::failed(
                            FailureKind::Failed,
                            format!(
                                "The SMC installer failed on Management Server {server}: it is left stopped on version {from}."
                            ),
                        ))
                    }
                    JobOutcome::CancelledAndReverted => {
                        let lineage = self.servers[index].database;
                        self.servers[index].running = true;
                        self.servers[index].broken = self.servers[index].mode == Mode::Standby;
                        for other in &mut self.servers {
                            if other.name != *server
                                && !other.excluded
                                && other.database.is_some()
                                && other.database == lineage
                            {
                                other.broken = true;
                            }
                        }
                        Err(SimError::failed(
                            FailureKind::UpgradeCancelled,
                            format!(
                                "The upgrade of Management Server {server} to {to} was cancelled and reverted: it is back on version {from} and database replication is broken."
                            ),
                        ))
                    }
                }
            }
            JobKind::InitStandby {
                server,
                active,
                lineage,
            } => {
                let index = self.index(server)?;
                self.servers[index].running = true;
                let source = self
                    .server(active)
                    .filter(|source| {
                        source.running
                            && source.mode == Mode::Active
                            && source.database == Some(*lineage)
                    })
                    .map(|source| source.config_revision);
                match source {
                    Some(revision) => {
                        let standby = &mut self.servers[index];
                        standby.database = Some(*lineage);
                        standby.config_revision = revision;
                        standby.broken = false;
                        Ok(OperationOutput::Done)
                    }
                    None => Err(SimError::failed(
                        FailureKind::Failed,
                        format!(
                            "The initialization of Management Server {server} failed: the active Management Server {active} was lost during the full replication."
                        ),
                    )),
                }
            }
            JobKind::Activate { .. } => Ok(OperationOutput::Done),
        }
    }
}

fn must_use_active(detail: String) -> SimError {
    SimError::Refused {
        message: MUST_USE_ACTIVE.to_string(),
        details: vec![detail],
    }
}

/// The monitoring message shown while several servers are Active (invented:
/// the product's exact text is not published).
pub fn two_actives_message(servers: &[&str]) -> String {
    format!(
        "[HA_MULTIPLE_ACTIVE] Several Management Servers declare themselves active: {}. Only one Management Server may be active: set the others to standby.",
        servers.join(", ")
    )
}

const SPLIT_BRAIN_PREFIX: &str = "[HA_SPLIT_BRAIN] Management Servers ";
const SPLIT_BRAIN_SERVERS_END: &str = " were active at the same time";

/// The monitoring message shown after split brain was detected (invented:
/// the product's exact text is not published). [`parse_split_brain_message`]
/// reads it back.
pub fn split_brain_message(servers: &[&str]) -> String {
    format!(
        "{SPLIT_BRAIN_PREFIX}{}{SPLIT_BRAIN_SERVERS_END}: every Management Server has been set to standby. Force the activation of one server, then re-initialize the others.",
        servers.join(", ")
    )
}

/// The servers named by a split-brain monitoring message (see
/// [`split_brain_message`]), or `None` when `line` is not one.
pub fn parse_split_brain_message(line: &str) -> Option<Vec<String>> {
    let rest = line.trim_start().strip_prefix(SPLIT_BRAIN_PREFIX)?;
    let (names, _) = rest.split_once(SPLIT_BRAIN_SERVERS_END)?;
    let servers: Vec<String> = names
        .split(", ")
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    (!servers.is_empty()).then_some(servers)
}
