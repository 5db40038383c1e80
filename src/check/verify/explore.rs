//! Depth-first exploration of one fault configuration with memoization of
//! visited machine states: each state is run once, its successors are
//! counted, and the number of paths through it is summed bottom-up.

use std::collections::HashMap;

use super::machine::{EndInfo, Machine, Next, PathEvent, State, Transition};
use super::property::Violation;
use crate::interp::events::RunOutcome;

/// Marks a state whose successors are still being explored.
const IN_PROGRESS: u64 = u64::MAX;

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
}

struct Node {
    key: State,
    transitions: std::vec::IntoIter<Transition>,
    paths: u64,
    mark: usize,
}

/// Explores every path of `machine`, visiting at most `max_states` states.
pub fn explore(machine: &Machine<'_, '_>, max_states: usize) -> Explored {
    let mut explored = Explored::default();
    let mut visited: HashMap<State, u64> = HashMap::new();
    let mut path: Vec<PathEvent> = Vec::new();
    let root = machine.initial_state();
    let transitions = machine.run(root.clone());
    visited.insert(root.clone(), IN_PROGRESS);
    let mut stack = vec![Node {
        key: root,
        transitions: transitions.into_iter(),
        paths: 0,
        mark: 0,
    }];
    while let Some(node) = stack.last_mut() {
        let Some(transition) = node.transitions.next() else {
            let Some(done) = stack.pop() else { break };
            path.truncate(done.mark);
            visited.insert(done.key, done.paths);
            match stack.last_mut() {
                Some(parent) => parent.paths = parent.paths.saturating_add(done.paths),
                None => explored.paths = done.paths,
            }
            continue;
        };
        let mark = path.len();
        path.extend(transition.events);
        match transition.next {
            Next::End(end) => {
                node.paths = node.paths.saturating_add(1);
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
                if let Some(&count) = visited.get(&state) {
                    if count != IN_PROGRESS {
                        node.paths = node.paths.saturating_add(count);
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
                visited.insert(state.clone(), IN_PROGRESS);
                stack.push(Node {
                    key: state,
                    transitions: transitions.into_iter(),
                    paths: 0,
                    mark,
                });
            }
        }
    }
    explored.states = visited.len();
    explored
}

fn record_end(explored: &mut Explored, end: &EndInfo) {
    explored.ends += 1;
    let index = match end.outcome {
        RunOutcome::Succeeded => 0,
        RunOutcome::Stopped => 1,
        RunOutcome::Failed => 2,
    };
    explored.outcomes[index] += 1;
    if end.fired != 0 {
        explored.fault_fired += 1;
        if end.handled {
            explored.handled += 1;
        }
    }
}
