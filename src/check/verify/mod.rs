//! The verifier (`runbook verify`): executes a runbook symbolically on the
//! pure cluster model over every operator answer, every contract fault at
//! every point where it can fire and every background outcome, memoizing
//! machine states, and proves the invariants of docs/simulator.md — or
//! returns counterexamples that replay on the simulator.
//!
//! Faults are explored per configuration: the fault-free run, every
//! combination of up to `--max-faults` contract faults (default 2: each
//! alone and every pair; `upgrade-fails:S` and `unreachable:S` for every
//! server), and one configuration where every background operation may end
//! in any of its outcomes. In a configuration each fault fires at most once
//! (but `changes-on-active`, which repeats on its clock), at any of its
//! fault points, or never.
//!
//! Every path also has a model time (background operations at their full
//! duration, `wait`s, prompts at `--prompt-time`): the longest path of each
//! outcome is reported, checked against `--window`, and [`worst_case`]
//! gives it to a caller (from the start or from a step).

mod explore;
mod machine;
mod property;
mod replay;
mod report;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use machine::{Choice, EndInfo, FaultSet, PathEvent, RECORDED_TEXT};
pub use property::{Property, Violation};
pub use replay::{replay_on_simulator, Replayed};
pub use report::{
    diagnostics, render_human, summary, to_json, CounterexampleDiagnostic, JsonCounterexample,
    JsonPathEvent, JsonReplay, PathStepDiagnostic, Place, Timing, VerifyJson,
};

use crate::cluster::{
    server_name, starting_clusters, Fault, SimConfig, Snapshot, StartSpec, StartingCluster, Version,
};
use crate::domain::StartingState;
use crate::interp::events::RunOutcome;
use crate::interp::program::Program;

/// The largest cluster the verifier accepts.
pub const MAX_SERVERS: usize = 8;

/// How to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Number of servers of the model (`mgt-1` Active, the rest Standby).
    pub servers: usize,
    /// Upper bound of states per fault configuration.
    pub max_states: usize,
    /// Upper bound of the machine's effects on one path between two branch
    /// points (a limit, reported as an incomplete exploration).
    pub max_path_effects: usize,
    /// Play every counterexample on the simulator through the interpreter
    /// to tell whether its replay is exact.
    pub check_replays: bool,
    /// The time an operator prompt counts for in a path's duration (zero by
    /// default: the model's time is the operations' and the `wait`s').
    pub prompt_time: Duration,
    /// The maintenance window every path must fit in (`--window`): the
    /// longest path that overruns it is a `window_overrun` counterexample.
    pub window: Option<Duration>,
    /// The most contract faults combined on a path (`--max-faults`): every
    /// combination of up to this many is a configuration.
    pub max_faults: usize,
    /// The starting state to explore from (`--from`); `None`: every state
    /// the runbook declares with `from` (a healthy cluster when it
    /// declares none).
    pub from: Option<StartingState>,
}

/// The most contract faults `--max-faults` accepts (a fault is one bit of
/// a path's state; combinations grow as servers^K).
pub const MAX_FAULTS: usize = 4;

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            servers: 3,
            max_states: 2_000_000,
            max_path_effects: crate::semantics::machine::MAX_INSTRUCTIONS,
            check_replays: true,
            prompt_time: Duration::ZERO,
            window: None,
            max_faults: 2,
            from: None,
        }
    }
}

/// The verdict on one fault configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Coverage {
    /// The fault fired, a What-if was entered after it, and no property broke.
    Handled,
    /// The fault fired, no property broke, but no What-if reacted to it
    /// (the runbook's checks stopped it, or it did not matter).
    Survived,
    /// A property broke after the fault fired.
    Breaks,
    /// The fault never had an occasion to fire in this runbook.
    NeverFires,
}

impl Coverage {
    /// The verdict in words.
    pub fn word(self) -> &'static str {
        match self {
            Coverage::Handled => "handled",
            Coverage::Survived => "survived",
            Coverage::Breaks => "breaks",
            Coverage::NeverFires => "never fires",
        }
    }
}

/// One fault configuration explored.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigurationReport {
    /// The starting point, e.g. `healthy`, `split-brain:2` (see
    /// [`VerifyReport::starting_points`]).
    pub from: String,
    /// The faults, e.g. `standby-auto-activates + upgrade-fails:mgt-1`.
    pub faults: String,
    /// Distinct states visited.
    pub states: usize,
    /// Paths from the start to an end.
    pub paths: u64,
    /// Ends that succeeded, stopped, failed.
    pub succeeded: usize,
    /// Ends that stopped with a message.
    pub stopped: usize,
    /// Ends that failed with a message.
    pub failed: usize,
    /// Ends where the fault fired.
    pub fault_fired: usize,
    /// Of those, ends where a What-if handled it.
    pub handled: usize,
    /// The verdict (for the fault-free configuration: `handled` when proven).
    pub coverage: Coverage,
    /// Properties broken in this configuration.
    pub broken: Vec<Property>,
    /// Whether the state limit cut the exploration.
    pub truncated: bool,
    /// The longest path's model time in seconds, over every outcome (none
    /// when no path ends without breaking a property).
    pub worst_case_seconds: Option<u64>,
}

/// The longest path to an end of one outcome, over every configuration:
/// its model time (every background operation at its full duration, every
/// `wait` as it polls — to its timeout when nothing can change — and every
/// prompt [`VerifyOptions::prompt_time`]).
#[derive(Debug, Clone)]
pub struct WorstPath {
    /// How the path ends.
    pub outcome: RunOutcome,
    /// Its model time.
    pub duration: Duration,
    /// The faults of its configuration.
    pub configuration: String,
    /// The starting state it starts from.
    pub from: String,
    /// The simulator's `--sim-start` for it (none: healthy).
    pub start: Option<StartSpec>,
    /// What happens on it, in order.
    pub path: Vec<PathEvent>,
    /// For each event of `path`, the model time since the start.
    pub stamps: Vec<Duration>,
    /// The cluster at its end.
    pub cluster: Snapshot,
    /// The fault configuration (for its replay).
    pub set: FaultSet,
    /// The faults of the configuration that fired before the run (bit per fault).
    pub before_run: u32,
}

/// How to see a counterexample happen on the simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// The simulator's `--sim-start` (none: the healthy cluster).
    pub start: Option<String>,
    /// `--sim-fault` values, in the order they fire.
    pub faults: Vec<String>,
    /// Prompt id → answer: the `--answers` file.
    pub answers: BTreeMap<String, Choice>,
    /// Whether the simulator, given these faults and answers, was seen to
    /// take exactly this path (same operations and What-ifs, in order).
    pub exact: bool,
    /// Why it may differ, when it is not exact.
    pub caveat: Option<String>,
}

impl Replay {
    /// The answers file, as TOML.
    pub fn answers_toml(&self) -> String {
        let mut table = toml::map::Map::new();
        for (id, answer) in &self.answers {
            let value = match answer {
                Choice::Bool(flag) => toml::Value::Boolean(*flag),
                Choice::Text(text) => toml::Value::String(text.clone()),
            };
            table.insert(id.clone(), value);
        }
        toml::to_string(&toml::Value::Table(table)).unwrap_or_default()
    }

    /// The command that replays it, given the answers file's path.
    pub fn command(&self, runbook: &str, servers: usize, answers_path: &str) -> String {
        let mut command = format!("runbook run {runbook} --sim-servers {servers}");
        if let Some(start) = &self.start {
            command.push_str(&format!(" --sim-start {start}"));
        }
        for fault in &self.faults {
            command.push_str(&format!(" --sim-fault {fault}"));
        }
        command.push_str(&format!(" --answers {answers_path}"));
        command
    }
}

/// A path that breaks a property.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// The property broken.
    pub property: Property,
    /// The diagnostic code.
    pub code: String,
    /// What happened.
    pub message: String,
    /// The faults of the configuration.
    pub configuration: String,
    /// The starting state the path starts from.
    pub from: String,
    /// Index of the file where it breaks.
    #[serde(skip)]
    pub file: usize,
    /// Where it breaks.
    #[serde(skip)]
    pub span: crate::syntax::Span,
    /// The path, in order.
    pub path: Vec<PathEvent>,
    /// The cluster where it breaks.
    pub cluster: Snapshot,
    /// How to replay it.
    pub replay: Replay,
}

/// Everything `runbook verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The runbook's name.
    pub runbook: String,
    /// Servers of the model.
    pub servers: usize,
    /// The version the runbook upgrades to (its `version` parameter).
    pub target_version: Version,
    /// Distinct states over every configuration.
    pub states: usize,
    /// Paths over every configuration (saturating).
    pub paths: u64,
    /// Wall time of the exploration.
    #[serde(serialize_with = "serialize_millis")]
    pub elapsed: Duration,
    /// Each fault configuration.
    pub configurations: Vec<ConfigurationReport>,
    /// The counterexamples (one per property and place).
    pub counterexamples: Vec<Counterexample>,
    /// Whether every configuration was explored completely.
    pub complete: bool,
    /// The longest path of each outcome that occurs (succeeded, stopped,
    /// failed, in that order).
    #[serde(skip)]
    pub worst: Vec<WorstPath>,
    /// The time each prompt counted for.
    #[serde(skip)]
    pub prompt_time: Duration,
    /// The maintenance window checked (`--window`).
    #[serde(skip)]
    pub window: Option<Duration>,
    /// The most contract faults combined on a path (`--max-faults`).
    pub max_faults: usize,
    /// What a run that succeeds must leave, in words (`goal ...`; the
    /// default: `healthy`).
    pub goals: Vec<String>,
    /// The starting states explored (`from`, `--from`).
    pub starting_states: Vec<StartingState>,
    /// Each starting point explored: its short name and its variant in
    /// words.
    pub starting_points: Vec<(String, String)>,
}

fn serialize_millis<S: serde::Serializer>(
    value: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
}

impl VerifyReport {
    /// Whether every property holds on every path explored.
    pub fn proven(&self) -> bool {
        self.counterexamples.is_empty() && self.complete
    }

    /// The longest path over every outcome (the first outcome of
    /// succeeded, stopped, failed on a tie).
    pub fn worst_path(&self) -> Option<&WorstPath> {
        self.worst
            .iter()
            .fold(None, |longest: Option<&WorstPath>, path| match longest {
                Some(known) if known.duration >= path.duration => Some(known),
                _ => Some(path),
            })
    }

    /// Whether every path fits the window (`None` without a window).
    pub fn fits_window(&self) -> Option<bool> {
        self.window.map(|window| {
            self.worst_path()
                .is_none_or(|longest| longest.duration <= window)
        })
    }

    /// States per second of the exploration.
    pub fn states_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.states as f64 / seconds
        } else {
            self.states as f64
        }
    }
}

/// The contract faults for a cluster of `servers`, in report order:
/// `replication-down`, `active-upgrade-cancelled`, `standby-auto-activates`,
/// `standby-activated-by-operator`, `upgrade-fails:S` and `unreachable:S`
/// for every server, `changes-on-active`.
pub fn contract_faults(servers: &[String]) -> Vec<Fault> {
    // (`crash:S` for every server too, after `unreachable:S`.)
    let mut faults = vec![
        Fault::ReplicationDown,
        Fault::ActiveUpgradeCancelled,
        Fault::StandbyAutoActivates,
        Fault::StandbyActivatedByOperator,
    ];
    faults.extend(servers.iter().cloned().map(Fault::UpgradeFails));
    faults.extend(servers.iter().cloned().map(Fault::Unreachable));
    faults.extend(servers.iter().cloned().map(Fault::Crash));
    faults.push(Fault::ChangesOnActive);
    faults
}

/// The fault configurations explored for a cluster of `servers` with at
/// most `max_faults` contract faults on a path: no fault, every
/// combination of 1 to `max_faults` distinct contract faults (by size, then
/// in the order of [`contract_faults`]), and `background-outcome` (no
/// contract fault, every outcome of every background operation, at most
/// one per path).
pub fn fault_sets(servers: &[String], max_faults: usize) -> Vec<FaultSet> {
    let contract = contract_faults(servers);
    let mut sets = vec![FaultSet {
        faults: Vec::new(),
        any_outcome: false,
        runner_crash: false,
    }];
    for size in 1..=max_faults.min(contract.len()) {
        let mut chosen: Vec<usize> = (0..size).collect();
        loop {
            sets.push(FaultSet {
                faults: chosen
                    .iter()
                    .map(|index| contract[*index].clone())
                    .collect(),
                any_outcome: false,
                runner_crash: false,
            });
            // The next combination in lexicographic order.
            let Some(position) = (0..size)
                .rev()
                .find(|position| chosen[*position] < contract.len() - size + position)
            else {
                break;
            };
            chosen[position] += 1;
            for next in position + 1..size {
                chosen[next] = chosen[next - 1] + 1;
            }
        }
    }
    // The runner's own crash (a crash and a resume: it counts for two),
    // alone whenever faults are explored, and with up to K - 2 contract
    // faults.
    let with_crash: Vec<FaultSet> = sets
        .iter()
        .filter(|set| {
            max_faults >= 1 && (set.faults.is_empty() || set.faults.len() + 2 <= max_faults)
        })
        .map(|set| FaultSet {
            faults: set.faults.clone(),
            any_outcome: false,
            runner_crash: true,
        })
        .collect();
    sets.extend(with_crash);
    sets.push(FaultSet {
        faults: Vec::new(),
        any_outcome: true,
        runner_crash: false,
    });
    sets
}

/// The version a runbook upgrades to: its `goal upgrade to VERSION`, else
/// its `version` parameter's default, else the simulator's default target.
pub fn target_version(program: &Program) -> Version {
    let code = crate::semantics::code::Code::new(program);
    let core = crate::semantics::machine::Machine::new(&code);
    let initial =
        crate::cluster::Cluster::new(&[server_name(1)], &SimConfig::default().initial_version)
            .snapshot();
    let params = core.default_params(program.main, &initial);
    if let Some(version) = core.goal_version(params, &initial) {
        return version;
    }
    let main = &program.main_file().ast;
    main.param("version")
        .and_then(|param| param.default.as_ref())
        .and_then(|default| match &default.kind {
            crate::syntax::ast::ExprKind::Version(version) => Some(version.clone()),
            _ => None,
        })
        .unwrap_or_else(|| SimConfig::default().target_version)
}

/// The goals of `program` in words: `upgrade to 7.4.0`, `healthy`, or a
/// declared condition as written; `healthy` when it declares none.
pub fn goal_descriptions(program: &Program) -> Vec<String> {
    let file = program.main_file();
    let goals: Vec<String> = file
        .ast
        .goals
        .iter()
        .map(|goal| match &goal.kind {
            crate::syntax::ast::GoalKind::Healthy => String::from("healthy"),
            crate::syntax::ast::GoalKind::Upgrade(_) => {
                format!("upgrade to {}", target_version(program))
            }
            crate::syntax::ast::GoalKind::Condition { condition, .. } => file
                .text
                .get(condition.span.start as usize..condition.span.end as usize)
                .map_or_else(
                    || String::from("a declared condition"),
                    |source| source.trim().to_string(),
                ),
        })
        .collect();
    if goals.is_empty() {
        vec![String::from("healthy")]
    } else {
        goals
    }
}

/// The starting states `program` declares (`from STATE, ...`), in
/// declaration order without repeats: a healthy cluster when it declares
/// none.
pub fn declared_starting_states(program: &Program) -> Vec<StartingState> {
    let mut states = Vec::new();
    for from in &program.main_file().ast.from {
        for state in &from.states {
            if let Some(state) = StartingState::from_name(&state.name) {
                if !states.contains(&state) {
                    states.push(state);
                }
            }
        }
    }
    if states.is_empty() {
        states.push(StartingState::Healthy);
    }
    states
}

/// One starting cluster the verifier explores from.
#[derive(Debug, Clone)]
pub struct StartingPoint {
    /// The cluster, and its variant in words.
    pub start: StartingCluster,
    /// Its short name: the state, and `:N` when the state has several
    /// variants (`split-brain:2`), as `--sim-start` takes it.
    pub id: String,
    /// The simulator's `--sim-start` (none: healthy).
    pub spec: Option<StartSpec>,
}

/// The starting clusters explored: every variant of `--from`, or of every
/// declared starting state, on `servers` servers.
pub fn starting_points(
    program: &Program,
    servers: usize,
    from: Option<StartingState>,
) -> Vec<StartingPoint> {
    let names: Vec<String> = (1..=servers.max(1)).map(server_name).collect();
    let initial_version = SimConfig::default().initial_version;
    let states = from.map_or_else(|| declared_starting_states(program), |state| vec![state]);
    let mut points = Vec::new();
    for state in states {
        let variants = starting_clusters(&names, &initial_version, state);
        let several = variants.len() > 1;
        for (index, start) in variants.into_iter().enumerate() {
            let spec = (state != StartingState::Healthy).then_some(StartSpec {
                state,
                variant: index + 1,
            });
            let id = if several {
                format!("{state}:{}", index + 1)
            } else {
                state.to_string()
            };
            points.push(StartingPoint { start, id, spec });
        }
    }
    points
}

/// The first `requires` of the runbook that a starting cluster (of
/// `servers` servers, from `from` or every declared starting state) does
/// not meet: the starting point, the message and where it is written. Such
/// a cluster is not one the runbook is written for: there is nothing to
/// prove on it.
pub fn unmet_requirement(
    program: &Program,
    servers: usize,
    from: Option<StartingState>,
) -> Option<(String, String, crate::syntax::Span)> {
    let code = crate::semantics::code::Code::new(program);
    let core = crate::semantics::machine::Machine::new(&code);
    starting_points(program, servers, from)
        .into_iter()
        .find_map(|StartingPoint { start, .. }| {
            let initial = start.cluster.snapshot();
            let params = core.default_params(program.main, &initial);
            core.unmet_requirements(params, &initial)
                .into_iter()
                .next()
                .map(|(message, span)| (start.label, message, span))
        })
}

/// Verifies `program` on a cluster of `options.servers` servers.
pub fn verify(program: &Program, options: &VerifyOptions) -> VerifyReport {
    let started = Instant::now();
    let names: Vec<String> = (1..=options.servers.max(1)).map(server_name).collect();
    let target = target_version(program);
    let compiled = crate::semantics::code::Code::new(program);
    let mut report = VerifyReport {
        runbook: program.name().to_string(),
        servers: names.len(),
        target_version: target.clone(),
        states: 0,
        paths: 0,
        elapsed: Duration::ZERO,
        configurations: Vec::new(),
        counterexamples: Vec::new(),
        complete: true,
        worst: Vec::new(),
        prompt_time: options.prompt_time,
        window: options.window,
        max_faults: options.max_faults,
        goals: goal_descriptions(program),
        starting_states: options
            .from
            .map_or_else(|| declared_starting_states(program), |state| vec![state]),
        starting_points: Vec::new(),
    };
    let starts = starting_points(program, names.len(), options.from);
    report.starting_points = starts
        .iter()
        .map(|point| (point.id.clone(), point.start.label.clone()))
        .collect();
    // Every configuration of every starting point, each explored on its
    // own (on every core): first the fault-free ones, which say whether a
    // failure after a resume is judged, then the others. The results are
    // then reported in this order, as if explored one after the other.
    let sets = fault_sets(&names, options.max_faults);
    let jobs: Vec<(usize, &FaultSet)> = (0..starts.len())
        .flat_map(|start| sets.iter().map(move |set| (start, set)))
        .collect();
    let is_fault_free =
        |set: &FaultSet| set.faults.is_empty() && !set.any_outcome && !set.runner_crash;
    let explore_job =
        |&(start, set): &(usize, &FaultSet), judge_resume: bool, known: &explore::Worst| {
            let cluster = &starts[start].start.cluster;
            // One exploration per way its `unreachable:S` faults fire (before
            // the run or during it), one row for them all.
            let mut explored = explore::Explored::default();
            for later in machine::later_unreachable_variants(set) {
                let mut machine = machine::Machine::new(&compiled, cluster, set.clone(), later);
                if !judge_resume {
                    machine = machine.without_resume_judgement();
                }
                explored.absorb(explore::explore(
                    &machine
                        .with_budget(options.max_path_effects)
                        .with_prompt_time(options.prompt_time),
                    options.max_states,
                    explore::Measure::Nothing,
                    Some(known),
                ));
            }
            explored
        };
    let fault_free: Vec<(usize, &FaultSet)> = jobs
        .iter()
        .copied()
        .filter(|(_, set)| is_fault_free(set))
        .collect();
    let fault_free_explored = parallel_map(&fault_free, |job| explore_job(job, true, &[None; 3]));
    // A failure after a resume says something of the resume only when
    // the runbook never fails without faults from this start.
    let fails_without_faults: Vec<bool> = (0..starts.len())
        .map(|start| {
            fault_free
                .iter()
                .zip(&fault_free_explored)
                .any(|((of, _), explored)| *of == start && explored.outcomes[2] > 0)
        })
        .collect();
    // Only a path longer than the longest known is named: known, here,
    // from the fault-free explorations of this start and those before it
    // (no more than the configurations reported before it know).
    let known_before = |start: usize| {
        let mut known: explore::Worst = [None; 3];
        for ((of, _), explored) in fault_free.iter().zip(&fault_free_explored) {
            if *of <= start {
                for (known, worst) in known.iter_mut().zip(explored.worst) {
                    explore::longer(known, worst);
                }
            }
        }
        known
    };
    let faulty: Vec<(usize, &FaultSet)> = jobs
        .iter()
        .copied()
        .filter(|(_, set)| !is_fault_free(set))
        .collect();
    let faulty_explored = parallel_map(&faulty, |job| {
        explore_job(job, !fails_without_faults[job.0], &known_before(job.0))
    });
    let mut fault_free_explored = fault_free_explored.into_iter();
    let mut faulty_explored = faulty_explored.into_iter();
    for (start, set) in jobs {
        let Some(explored) = (if is_fault_free(set) {
            fault_free_explored.next()
        } else {
            faulty_explored.next()
        }) else {
            break;
        };
        let set = set.clone();
        let StartingPoint { start, spec, id } = &starts[start];
        let from = start.label.clone();
        // The worst case of a run, not of a crashed runner's wait for the
        // operator (see `worst_case`).
        for longest in explored.longest.iter().filter(|_| !set.runner_crash) {
            let known = report
                .worst
                .iter()
                .position(|known| known.outcome == longest.outcome);
            let path = WorstPath {
                outcome: longest.outcome,
                duration: longest.duration,
                configuration: set.label(),
                from: from.clone(),
                start: spec.clone(),
                path: longest.path.clone(),
                stamps: longest.stamps.clone(),
                cluster: longest.cluster.clone(),
                set: set.clone(),
                before_run: longest.before_run,
            };
            match known {
                Some(index) if report.worst[index].duration < longest.duration => {
                    report.worst[index] = path;
                }
                Some(_) => {}
                None => report.worst.push(path),
            }
        }
        report.states += explored.states;
        report.paths = report.paths.saturating_add(explored.paths);
        report.complete &= !explored.truncated;
        let is_fault_free = set.faults.is_empty() && !set.any_outcome && !set.runner_crash;
        // A property that breaks in this configuration breaks it, whether
        // or not the fault had fired on that path: "no property broke" must
        // stay true of every other verdict.
        let breaks = !explored.violations.is_empty();
        // Faults before the run always fire: a configuration of those only
        // happened on every path.
        let starts_fired = !set.faults.is_empty()
            && set
                .faults
                .iter()
                .all(|fault| matches!(fault, Fault::ReplicationDown | Fault::Unreachable(_)));
        let coverage = if breaks {
            Coverage::Breaks
        } else if is_fault_free || explored.handled > 0 {
            Coverage::Handled
        } else if explored.fault_fired > 0 || starts_fired {
            Coverage::Survived
        } else {
            Coverage::NeverFires
        };
        report.configurations.push(ConfigurationReport {
            from: id.clone(),
            faults: set.label(),
            states: explored.states,
            paths: explored.paths,
            succeeded: explored.outcomes[0],
            stopped: explored.outcomes[1],
            failed: explored.outcomes[2],
            fault_fired: explored.fault_fired,
            handled: explored.handled,
            coverage,
            broken: explored
                .violations
                .iter()
                .map(|(violation, _)| violation.property)
                .collect(),
            truncated: explored.truncated,
            worst_case_seconds: explored.worst.iter().flatten().map(Duration::as_secs).max(),
        });
        for (violation, path) in explored.violations {
            let known = report.counterexamples.iter().any(|known| {
                known.property == violation.property
                    && known.file == violation.file
                    && known.span == violation.span
            });
            if known {
                continue;
            }
            let mut replay = replay_of(spec.as_ref(), &set, violation.before_run, &path);
            if options.check_replays {
                check_replay(program, names.len(), &mut replay, &path, false);
            }
            report.counterexamples.push(Counterexample {
                property: violation.property,
                code: violation.property.code(),
                message: violation.message,
                configuration: set.label(),
                from: from.clone(),
                file: violation.file,
                span: violation.span,
                path,
                cluster: violation.cluster,
                replay,
            });
        }
    }
    report
        .worst
        .sort_by_key(|path| explore::outcome_index(path.outcome));
    if let Some(counterexample) = window_overrun(program, &report, options) {
        report.counterexamples.push(counterexample);
    }
    report.elapsed = started.elapsed();
    report
}

/// `work` applied to every item, on as many threads as the machine has
/// cores (at most one per item), in the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(index) else { break };
                        done.push((index, work(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Where [`worst_case`] measures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since<'a> {
    /// The start of the run.
    Start,
    /// A start of the step with this id (its first run or a `retry`),
    /// wherever it is reached.
    Step(&'a str),
}

/// The longest model time from a point of a runbook to an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorstCase {
    /// The time: every background operation at its full duration
    /// ([`crate::cluster::durations`]), every `wait` as it polls (to its
    /// timeout when nothing can change) and every prompt
    /// [`VerifyOptions::prompt_time`].
    pub duration: Duration,
    /// How the longest path ends.
    pub outcome: RunOutcome,
    /// The faults of its configuration.
    pub configuration: String,
    /// Whether every configuration was explored completely (otherwise a
    /// longer path may exist).
    pub complete: bool,
}

/// The worst-case time from `since` to the end of the run, over every path
/// `verify` explores (every answer, every fault configuration, every
/// background outcome); `None` when no path reaches `since` and then ends
/// (every such path breaks a property, or the step does not exist).
///
/// What the interpreter can ask before a step: does what is left of this
/// run fit before the maintenance window ends?
///
/// ```no_run
/// # use runbook::check::verify::{worst_case, Since, VerifyOptions};
/// # fn demo(program: &runbook::interp::program::Program) {
/// let left = worst_case(program, &VerifyOptions::default(), Since::Step("upgrade-initial-active"));
/// if let Some(left) = left {
///     println!("at most {:?} to go", left.duration);
/// }
/// # }
/// ```
pub fn worst_case(
    program: &Program,
    options: &VerifyOptions,
    since: Since<'_>,
) -> Option<WorstCase> {
    let measure = match since {
        Since::Start => explore::Measure::Nothing,
        Since::Step(step) => explore::Measure::Step(step),
    };
    let mut found = explore_worst(program, options, measure);
    match since {
        Since::Start => found.start,
        Since::Step(step) => found.steps.remove(step),
    }
}

/// The worst case from the start and from every step, in one exploration
/// of each fault configuration: what a run with a maintenance window
/// computes once, before its first step, to judge before each step whether
/// what is left fits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorstCases {
    /// From the start of the run (as `worst_case(.., Since::Start)`).
    pub start: Option<WorstCase>,
    /// From a start of each step, by id (as `worst_case(.., Since::Step(id))`);
    /// a step no complete path reaches has no entry.
    pub steps: BTreeMap<String, WorstCase>,
    /// The wall time the exploration took.
    pub elapsed: Duration,
}

/// [`worst_case`] from the start and from every step at once (one
/// exploration per fault configuration, not one per step).
pub fn worst_cases(program: &Program, options: &VerifyOptions) -> WorstCases {
    let started = Instant::now();
    let mut found = explore_worst(program, options, explore::Measure::EveryStep);
    found.elapsed = started.elapsed();
    found
}

fn explore_worst(
    program: &Program,
    options: &VerifyOptions,
    measure: explore::Measure<'_>,
) -> WorstCases {
    let names: Vec<String> = (1..=options.servers.max(1)).map(server_name).collect();
    let compiled = crate::semantics::code::Code::new(program);
    let mut complete = true;
    let mut found = WorstCases::default();
    let longer = |worst: &mut Option<WorstCase>, durations: &explore::Worst, label: &str| {
        for (outcome, duration) in explore::OUTCOMES.iter().zip(durations) {
            let Some(duration) = *duration else { continue };
            if worst.as_ref().is_none_or(|known| duration > known.duration) {
                *worst = Some(WorstCase {
                    duration,
                    outcome: *outcome,
                    configuration: label.to_string(),
                    complete: true,
                });
            }
        }
    };
    let starts = starting_points(program, names.len(), options.from);
    // A run's duration: the runner's crash costs whatever the operator
    // takes to resume, which no model bounds.
    for (StartingPoint { start, .. }, set) in starts.iter().flat_map(|start| {
        fault_sets(&names, options.max_faults)
            .into_iter()
            .filter(|set| !set.runner_crash)
            .map(move |set| (start, set))
    }) {
        let mut explored = explore::Explored::default();
        for later in machine::later_unreachable_variants(&set) {
            let machine = machine::Machine::new(&compiled, &start.cluster, set.clone(), later)
                .with_budget(options.max_path_effects)
                .with_prompt_time(options.prompt_time);
            explored.absorb(explore::explore(
                &machine,
                options.max_states,
                measure,
                None,
            ));
        }
        complete &= !explored.truncated;
        let label = set.label();
        longer(&mut found.start, &explored.worst, &label);
        for (step, durations) in &explored.from_step {
            let mut known = found.steps.remove(step);
            longer(&mut known, durations, &label);
            if let Some(known) = known {
                found.steps.insert(step.clone(), known);
            }
        }
    }
    let mark = |worst: &mut WorstCase| worst.complete = complete;
    found.start.iter_mut().for_each(mark);
    found.steps.values_mut().for_each(mark);
    found
}

/// The longest path as a `window_overrun` counterexample, when it does not
/// fit the window: it breaks at the step under way when the window ends.
fn window_overrun(
    program: &Program,
    report: &VerifyReport,
    options: &VerifyOptions,
) -> Option<Counterexample> {
    let window = options.window?;
    let longest = report.worst_path()?;
    if longest.duration <= window {
        return None;
    }
    let crossing = longest
        .stamps
        .iter()
        .position(|stamp| *stamp > window)
        .unwrap_or(longest.path.len());
    let step = longest.path[..crossing]
        .iter()
        .zip(&longest.stamps)
        .rev()
        .find_map(|(event, stamp)| match event {
            PathEvent::StepStarted {
                step,
                file,
                span,
                retry,
                ..
            } => Some((step.clone(), *file, *span, *stamp, *retry)),
            _ => None,
        });
    let main = program.main;
    let (file, span, during) = match step {
        Some((name, file, span, stamp, retry)) => (
            file,
            span,
            format!(
                "; the window ends during step `{name}`, which starts {} into the run{}",
                crate::domain::duration::format(stamp),
                if retry { " (retried)" } else { "" }
            ),
        ),
        None => (main, program.main_file().ast.name.span, String::new()),
    };
    let mut replay = replay_of(
        longest.start.as_ref(),
        &longest.set,
        longest.before_run,
        &longest.path,
    );
    if options.check_replays {
        check_replay(program, report.servers, &mut replay, &longest.path, true);
    }
    Some(Counterexample {
        property: Property::WindowOverrun,
        code: Property::WindowOverrun.code(),
        message: format!(
            "a path takes {} (it ends {}), longer than the {} window{during}",
            crate::domain::duration::format(longest.duration),
            outcome_word(longest.outcome),
            crate::domain::duration::format(window),
        ),
        configuration: longest.configuration.clone(),
        from: longest.from.clone(),
        file,
        span,
        path: longest.path.clone(),
        cluster: longest.cluster.clone(),
        replay,
    })
}

/// Plays `path` on the simulator through the interpreter with `replay`'s
/// faults and answers: the replay is exact when the simulator takes the
/// same way (to the end of the path, or to its end and no further when
/// `whole`), and says why it may differ otherwise.
fn check_replay(
    program: &Program,
    servers: usize,
    replay: &mut Replay,
    path: &[PathEvent],
    whole: bool,
) {
    // A run of the simulator does not kill its own runner.
    let runner_crash = path.iter().any(
        |event| matches!(event, PathEvent::Fault { fault, .. } if fault == machine::RUNNER_CRASH),
    );
    if runner_crash {
        return;
    }
    let Some(replayed) = replay_on_simulator(program, servers, replay, path) else {
        return;
    };
    if (whole && replayed.exact_path) || (!whole && replayed.same_path) {
        replay.exact = true;
        replay.caveat = None;
    } else {
        replay.exact = false;
        replay.caveat = Some(format!(
            "the simulator took another way ({} operations, ended {}){}",
            replayed.operations.len(),
            outcome_word(replayed.outcome),
            replay
                .caveat
                .as_ref()
                .map(|caveat| format!(": {caveat}"))
                .unwrap_or_default()
        ));
    }
}

fn outcome_word(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Succeeded => "succeeded",
        RunOutcome::Failed => "failed",
        RunOutcome::Stopped => "stopped",
    }
}

/// One path of one fault configuration, to an end, with the replay that
/// plays it on the simulator.
#[derive(Debug, Clone)]
pub struct PathSample {
    /// The configuration.
    pub configuration: FaultSet,
    /// What happened on the path.
    pub path: Vec<PathEvent>,
    /// How it ended; `None` when a property broke on it.
    pub end: Option<machine::EndInfo>,
    /// The `--sim-fault`s and answers that play it.
    pub replay: Replay,
}

/// Up to `per_configuration` paths of every fault configuration of
/// `program` on `servers` servers, in depth-first order: at every branch
/// the first alternative comes first (a fault fires at its first occasion,
/// as on the simulator; a confirmation is accepted; the first option, the
/// first server). What the differential test plays on the simulator to show
/// that the interpreter and the verifier run the same semantics.
pub fn sample_paths(
    program: &Program,
    servers: usize,
    per_configuration: usize,
) -> Vec<PathSample> {
    let names: Vec<String> = (1..=servers.max(1)).map(server_name).collect();
    let initial_version = SimConfig::default().initial_version;
    let code = crate::semantics::code::Code::new(program);
    let healthy = crate::cluster::Cluster::new(&names, &initial_version);
    let mut samples = Vec::new();
    // The simulator does not kill its own runner: those paths are the kill
    // matrix's (`tests/it/kill_matrix.rs`).
    for set in fault_sets(&names, VerifyOptions::default().max_faults)
        .into_iter()
        .filter(|set| !set.runner_crash)
    {
        for later in machine::later_unreachable_variants(&set) {
            let machine = machine::Machine::new(&code, &healthy, set.clone(), later);
            let mut found = Vec::new();
            walk_paths(
                &machine,
                machine.initial_state(),
                Vec::new(),
                &set,
                per_configuration,
                &mut found,
            );
            samples.extend(found);
        }
    }
    samples
}

/// Depth-first, first alternative first, until `limit` paths are found.
fn walk_paths(
    machine: &machine::Machine<'_, '_>,
    state: machine::State,
    path: Vec<PathEvent>,
    set: &FaultSet,
    limit: usize,
    found: &mut Vec<PathSample>,
) {
    for transition in machine.run(state) {
        if found.len() >= limit {
            return;
        }
        let mut path = path.clone();
        path.extend(transition.events);
        let end = match transition.next {
            machine::Next::State(next) => {
                walk_paths(machine, *next, path, set, limit, found);
                continue;
            }
            machine::Next::End(end) => Some(end),
            machine::Next::Violation(_) => None,
            // Not a path to an end: nothing to play.
            machine::Next::LimitReached => continue,
        };
        let replay = replay_of(None, set, machine.start_faults_mask(), &path);
        found.push(PathSample {
            configuration: set.clone(),
            path,
            end,
            replay,
        });
    }
}

/// The simulator's replay of `path` in configuration `set`, whose faults
/// `before_run` (bit per fault) fired before the run: an `unreachable:S`
/// that fired during the run is on the path, replayed with its occasion.
fn replay_of(
    start: Option<&StartSpec>,
    set: &FaultSet,
    before_run: u32,
    path: &[PathEvent],
) -> Replay {
    let mut faults: Vec<String> = set
        .faults
        .iter()
        .enumerate()
        .filter(|(index, fault)| match fault {
            Fault::ChangesOnActive => true,
            Fault::ReplicationDown | Fault::Unreachable(_) => before_run & (1 << index) != 0,
            _ => false,
        })
        .map(|(_, fault)| fault.to_string())
        .collect();
    let mut answers = BTreeMap::new();
    let mut caveats = Vec::new();
    let mut operations = 0usize;
    for event in path {
        match event {
            PathEvent::Operation { .. } => operations += 1,
            PathEvent::Fault {
                replay,
                fault,
                later_occasion,
                ..
            } => match replay {
                // The simulator's crash (and a later `unreachable`) fires
                // right before an operation.
                Some(name)
                    if (name.starts_with("crash:") || name.starts_with("unreachable:"))
                        && *later_occasion =>
                {
                    faults.push(format!("{name}@{}", operations + 1));
                    caveats.push(format!(
                        "`{fault}` fires at a later occasion than the simulator plays, while a background operation runs; the simulator fires it right before the next operation"
                    ));
                }
                // During the run: right before the next operation (without
                // `@N`, the simulator makes it unreachable before the run).
                Some(name) if name.starts_with("unreachable:") => {
                    faults.push(format!("{name}@{}", operations + 1));
                }
                // A crash fires right before the run's next operation.
                Some(name) if name.starts_with("crash:") => {
                    let occasion = if operations == 0 {
                        name.clone()
                    } else {
                        format!("{name}@{}", operations + 1)
                    };
                    faults.push(occasion);
                }
                Some(name) => {
                    if !faults.contains(name) {
                        faults.push(name.clone());
                    }
                    if *later_occasion {
                        caveats.push(format!(
                            "`{fault}` fires at a later occasion than its first; the simulator fires it at its first"
                        ));
                    }
                }
                // The runner's own crash is played by killing it.
                None if fault == machine::RUNNER_CRASH => caveats.push(format!(
                    "the runner is killed {}: kill it there (`kill -9`), then `runbook resume JOURNAL` with the same answers",
                    match operations {
                        0 => String::from("before its first operation"),
                        sent => format!("after its operation #{sent} was sent"),
                    }
                )),
                None => caveats.push(format!("the simulator has no fault that plays `{fault}`")),
            },
            PathEvent::Prompt { id, answer, .. } => {
                if let Some(previous) = answers.insert(id.clone(), answer.clone()) {
                    if previous != *answer {
                        caveats.push(format!(
                            "prompt `{id}` is answered `{previous}` then `{answer}`; an answers file gives one answer"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let exact = caveats.is_empty();
    Replay {
        start: start.map(ToString::to_string),
        faults,
        answers,
        exact,
        caveat: (!exact).then(|| caveats.join("; ")),
    }
}
