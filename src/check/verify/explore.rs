//! Depth-first exploration of one fault configuration with memoization of
//! visited machine states: each state is run once, its successors are
//! counted, and the number of paths through it is summed bottom-up.
//!
//! The worst-case duration is computed the same way: every edge of the
//! graph takes the model time of its deterministic run
//! ([`Transition::elapsed`]), and the longest time from a state to an end
//! of each outcome is the maximum over its edges, bottom-up. A state's
//! future does not depend on the time it took to reach it (the verifier's
//! clock keeps only what properties need), so the figure is the longest
//! path's. The longest path of each outcome is then named by running the
//! machine again from the start, following at each branch an edge that
//! realises the maximum.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::time::Duration;

use super::machine::{EndInfo, Machine, Next, PathEvent, State, Transition};
use super::property::Violation;
use crate::cluster::Snapshot;
use crate::interp::events::RunOutcome;

/// Marks a state whose successors are still being explored.
const IN_PROGRESS: u64 = u64::MAX;

/// The outcomes, in report order (index of [`outcome_index`]).
pub const OUTCOMES: [RunOutcome; 3] = [
    RunOutcome::Succeeded,
    RunOutcome::Stopped,
    RunOutcome::Failed,
];

/// Longest model time to an end of each outcome (succeeded, stopped, failed).
pub type Worst = [Option<Duration>; 3];

/// The index of an outcome in [`OUTCOMES`].
pub fn outcome_index(outcome: RunOutcome) -> usize {
    match outcome {
        RunOutcome::Succeeded => 0,
        RunOutcome::Stopped => 1,
        RunOutcome::Failed => 2,
    }
}

/// The longest path to an end of one outcome.
#[derive(Debug, Clone)]
pub struct LongestPath {
    /// How the path ends.
    pub outcome: RunOutcome,
    /// Its model time.
    pub duration: Duration,
    /// What happens on it.
    pub path: Vec<PathEvent>,
    /// For each event, the model time since the start when it happened.
    pub stamps: Vec<Duration>,
    /// The cluster at the end.
    pub cluster: Snapshot,
    /// The faults of the configuration that fired before the run (bit per fault).
    pub before_run: u32,
}

/// What the exploration of one fault configuration found.
#[derive(Debug, Default)]
pub struct Explored {
    /// Distinct machine states (branch points) visited.
    pub states: usize,
    /// Paths from the start to an end (saturating).
    pub paths: u64,
    /// Distinct end transitions met.
    pub ends: usize,
    /// Ends by outcome: succeeded, stopped, failed.
    pub outcomes: [usize; 3],
    /// Ends where a fault of the configuration fired.
    pub fault_fired: usize,
    /// Of those, ends where a What-if was entered after the fault.
    pub handled: usize,
    /// The first violation of each property, with its path.
    pub violations: Vec<(Violation, Vec<PathEvent>)>,
    /// Whether the state limit stopped the exploration.
    pub truncated: bool,
    /// The longest time to an end of each outcome (paths that break a
    /// property or reach a limit are not counted).
    pub worst: Worst,
    /// The longest paths named (those asked for: see [`explore`]).
    pub longest: Vec<LongestPath>,
    /// For each step measured from ([`Measure`]): the longest time from a
    /// start of that step to an end, per outcome.
    pub from_step: BTreeMap<String, Worst>,
}

impl Explored {
    /// Adds what another exploration of the same configuration found (from
    /// another variant of its start: see
    /// [`later_unreachable_variants`](super::machine::later_unreachable_variants)):
    /// counts add up, the first violation of each property is kept, the
    /// longest times and paths are the longer of both.
    pub fn absorb(&mut self, other: Explored) {
        self.states += other.states;
        self.paths = self.paths.saturating_add(other.paths);
        self.ends += other.ends;
        for (known, more) in self.outcomes.iter_mut().zip(other.outcomes) {
            *known += more;
        }
        self.fault_fired += other.fault_fired;
        self.handled += other.handled;
        for (violation, path) in other.violations {
            if !self
                .violations
                .iter()
                .any(|(known, _)| known.property == violation.property)
            {
                self.violations.push((violation, path));
            }
        }
        self.truncated |= other.truncated;
        for (known, more) in self.worst.iter_mut().zip(other.worst) {
            longer(known, more);
        }
        for path in other.longest {
            match self
                .longest
                .iter_mut()
                .find(|known| known.outcome == path.outcome)
            {
                Some(known) if known.duration < path.duration => *known = path,
                Some(_) => {}
                None => self.longest.push(path),
            }
        }
        for (step, more) in other.from_step {
            let worst = self.from_step.entry(step).or_insert([None; 3]);
            for (known, more) in worst.iter_mut().zip(more) {
                longer(known, more);
            }
        }
    }
}

/// Which steps [`explore`] measures the time left from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure<'a> {
    /// None: only the time from the start.
    Nothing,
    /// The step with this id.
    Step(&'a str),
    /// Every step, in the same exploration (what a run with a maintenance
    /// window asks once, before its first step).
    EveryStep,
}

struct Node {
    key: State,
    transitions: std::vec::IntoIter<Transition>,
    paths: u64,
    mark: usize,
    worst: Worst,
    /// The time of the edge that led here.
    edge: Duration,
    /// For each start of a measured step on that edge, the step and the
    /// time left on the edge after it.
    after_step: Vec<(String, Duration)>,
}

struct Seen {
    paths: u64,
    worst: Worst,
}

/// `known` becomes `candidate` when that is longer.
pub(super) fn longer(known: &mut Option<Duration>, candidate: Option<Duration>) {
    if let Some(candidate) = candidate {
        if known.is_none_or(|known| candidate > known) {
            *known = Some(candidate);
        }
    }
}

fn extend(worst: &mut Worst, edge: Duration, next: &Worst) {
    for (known, next) in worst.iter_mut().zip(next) {
        longer(known, next.map(|next| next + edge));
    }
}

/// For each start of a measured step on the transition, the step and the
/// time left on the transition after it.
fn after_step(transition: &Transition, measure: Measure<'_>) -> Vec<(String, Duration)> {
    if measure == Measure::Nothing {
        return Vec::new();
    }
    transition
        .events
        .iter()
        .zip(&transition.stamps)
        .filter_map(|(event, stamp)| match event {
            PathEvent::StepStarted { step: name, .. }
                if measure == Measure::EveryStep || measure == Measure::Step(name) =>
            {
                Some((name.clone(), transition.elapsed.saturating_sub(*stamp)))
            }
            _ => None,
        })
        .collect()
}

fn extend_step(explored: &mut Explored, step: &str, edge: Duration, next: &Worst) {
    match explored.from_step.get_mut(step) {
        Some(worst) => extend(worst, edge, next),
        None => {
            let mut worst = [None; 3];
            extend(&mut worst, edge, next);
            explored.from_step.insert(step.to_string(), worst);
        }
    }
}

/// Explores every path of `machine`, visiting at most `max_states` states;
/// also measures the longest time from a start of the steps `measure` names
/// (by id) to an end. The longest path of an outcome is named (run
/// again from the start) only when it is longer than `name_beyond` says
/// for that outcome (the longest known from other configurations), never
/// without `name_beyond`.
pub fn explore(
    machine: &Machine<'_, '_>,
    max_states: usize,
    measure: Measure<'_>,
    name_beyond: Option<&Worst>,
) -> Explored {
    let mut explored = Explored::default();
    let mut visited: HashMap<State, Seen> = HashMap::default();
    let mut path: Vec<PathEvent> = Vec::new();
    let root = machine.initial_state();
    let transitions = machine.run(root.clone());
    let in_progress = || Seen {
        paths: IN_PROGRESS,
        worst: [None; 3],
    };
    visited.insert(root.clone(), in_progress());
    let mut stack = vec![Node {
        key: root.clone(),
        transitions: transitions.into_iter(),
        paths: 0,
        mark: 0,
        worst: [None; 3],
        edge: Duration::ZERO,
        after_step: Vec::new(),
    }];
    let mut root_worst: Worst = [None; 3];
    while let Some(node) = stack.last_mut() {
        let Some(transition) = node.transitions.next() else {
            let Some(done) = stack.pop() else { break };
            path.truncate(done.mark);
            for (step, left) in &done.after_step {
                extend_step(&mut explored, step, *left, &done.worst);
            }
            match stack.last_mut() {
                Some(parent) => {
                    parent.paths = parent.paths.saturating_add(done.paths);
                    extend(&mut parent.worst, done.edge, &done.worst);
                }
                None => {
                    explored.paths = done.paths;
                    root_worst = done.worst;
                }
            }
            visited.insert(
                done.key,
                Seen {
                    paths: done.paths,
                    worst: done.worst,
                },
            );
            continue;
        };
        let mark = path.len();
        let after = after_step(&transition, measure);
        path.extend(transition.events);
        match transition.next {
            Next::End(end) => {
                node.paths = node.paths.saturating_add(1);
                let mut at_end: Worst = [None; 3];
                at_end[outcome_index(end.outcome)] = Some(Duration::ZERO);
                extend(&mut node.worst, transition.elapsed, &at_end);
                for (step, left) in &after {
                    extend_step(&mut explored, step, *left, &at_end);
                }
                record_end(&mut explored, &end);
                path.truncate(mark);
            }
            Next::Violation(violation) => {
                node.paths = node.paths.saturating_add(1);
                explored.ends += 1;
                if !explored
                    .violations
                    .iter()
                    .any(|(known, _)| known.property == violation.property)
                {
                    explored.violations.push((*violation, path.clone()));
                }
                path.truncate(mark);
            }
            Next::LimitReached => {
                explored.truncated = true;
                path.truncate(mark);
            }
            Next::State(state) => {
                let state = *state;
                if let Some(seen) = visited.get(&state) {
                    // A state still in progress (a cycle) adds nothing.
                    if seen.paths != IN_PROGRESS {
                        node.paths = node.paths.saturating_add(seen.paths);
                        let worst = seen.worst;
                        extend(&mut node.worst, transition.elapsed, &worst);
                        for (step, left) in &after {
                            extend_step(&mut explored, step, *left, &worst);
                        }
                    }
                    path.truncate(mark);
                    continue;
                }
                if visited.len() >= max_states {
                    explored.truncated = true;
                    path.truncate(mark);
                    continue;
                }
                let transitions = machine.run(state.clone());
                visited.insert(state.clone(), in_progress());
                stack.push(Node {
                    key: state,
                    transitions: transitions.into_iter(),
                    paths: 0,
                    mark,
                    worst: [None; 3],
                    edge: transition.elapsed,
                    after_step: after,
                });
            }
        }
    }
    explored.states = visited.len();
    explored.worst = root_worst;
    let Some(beyond) = name_beyond else {
        return explored;
    };
    for outcome in OUTCOMES {
        let index = outcome_index(outcome);
        if let Some(duration) =
            root_worst[index].filter(|duration| beyond[index].is_none_or(|known| *duration > known))
        {
            if let Some(longest) = name_longest(machine, &visited, root.clone(), index, duration) {
                explored.longest.push(longest);
            }
        }
    }
    explored
}

/// Follows, from `root`, edges that realise the longest time `duration` to
/// an end of outcome `index`.
fn name_longest(
    machine: &Machine<'_, '_>,
    visited: &HashMap<State, Seen>,
    root: State,
    index: usize,
    duration: Duration,
) -> Option<LongestPath> {
    let mut state = root;
    let mut left = duration;
    let mut at = Duration::ZERO;
    let mut path = Vec::new();
    let mut stamps = Vec::new();
    // Every edge of the path is one branch point: at most one per state.
    for _ in 0..=visited.len() {
        let mut following = None;
        for transition in machine.run(state) {
            let Some(rest) = left.checked_sub(transition.elapsed) else {
                continue;
            };
            let fits = match &transition.next {
                Next::End(end) => outcome_index(end.outcome) == index && rest.is_zero(),
                Next::State(next) => visited.get(next.as_ref()).is_some_and(|seen| {
                    seen.paths != IN_PROGRESS && seen.worst[index] == Some(rest)
                }),
                Next::Violation(_) | Next::LimitReached => false,
            };
            if fits {
                following = Some((transition, rest));
                break;
            }
        }
        let (transition, rest) = following?;
        stamps.extend(transition.stamps.iter().map(|stamp| at + *stamp));
        path.extend(transition.events);
        at += transition.elapsed;
        left = rest;
        match transition.next {
            Next::End(end) => {
                return Some(LongestPath {
                    outcome: end.outcome,
                    duration,
                    path,
                    stamps,
                    cluster: end.cluster,
                    before_run: machine.start_faults_mask(),
                })
            }
            Next::State(next) => state = *next,
            Next::Violation(_) | Next::LimitReached => return None,
        }
    }
    None
}

fn record_end(explored: &mut Explored, end: &EndInfo) {
    explored.ends += 1;
    explored.outcomes[outcome_index(end.outcome)] += 1;
    // A configuration of several faults counts the ends where all of
    // them fired: where the combination happened.
    if end.fired != 0 && end.combination {
        explored.fault_fired += 1;
        if end.handled {
            explored.handled += 1;
        }
    }
}
