//! Plays a counterexample on the simulator through the real interpreter
//! (the in-process `sim` target with the counterexample's faults and answers
//! file) and tells whether the run takes the same path: the same operations
//! in the same order, the same What-ifs entered.

use std::collections::BTreeMap;

use super::machine::PathEvent;
use super::Replay;
use crate::cluster::{SimConfig, Snapshot};
use crate::connect::sim::SimConnector;
use crate::interp::events::{CollectingSink, EventKind, RunOutcome};
use crate::interp::machine::{self, RunSettings};
use crate::interp::program::Program;
use crate::interp::prompt::{AnswersFile, OperatorPrompter};

/// What the simulator did when the counterexample was played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Whether the run went through the counterexample's operations and
    /// What-ifs, in order (and possibly further: a counterexample stops
    /// where the property breaks).
    pub same_path: bool,
    /// Whether the run's operations and What-ifs are exactly the path's,
    /// no more.
    pub exact_path: bool,
    /// The operations the run performed.
    pub operations: Vec<String>,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The cluster at the end of the run.
    pub cluster: Snapshot,
}

/// Plays `replay` for `path` on a simulated cluster of `servers` servers.
/// `None` when the replay cannot be set up (a fault the simulator rejects).
pub fn replay_on_simulator(
    program: &Program,
    servers: usize,
    replay: &Replay,
    path: &[PathEvent],
) -> Option<Replayed> {
    let mut config = SimConfig::with_servers(servers);
    for fault in &replay.faults {
        config.add_fault(fault).ok()?;
    }
    if let Some(start) = &replay.start {
        config.start = Some(crate::cluster::StartSpec::parse(start).ok()?);
    }
    config.target_version = super::target_version(program);
    config.validate().ok()?;
    // A runtime cannot be started inside another one (an async caller).
    if tokio::runtime::Handle::try_current().is_ok() {
        return None;
    }
    let answers = AnswersFile::parse("replay.answers.toml", &replay.answers_toml()).ok()?;
    let connector = SimConnector::new(config);
    let mut sink = CollectingSink::default();
    let mut prompter = OperatorPrompter::non_interactive(Some(answers), false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let report = runtime.block_on(machine::run(
        program,
        &connector,
        &mut sink,
        &mut prompter,
        RunSettings {
            params: BTreeMap::new(),
            ..RunSettings::default()
        },
    ));
    let mut operations = Vec::new();
    let mut seen = Vec::new();
    for event in &sink.events {
        match &event.kind {
            EventKind::OperationStarted { operation, .. } => {
                operations.push(operation.clone());
                seen.push(format!("op {operation}"));
            }
            EventKind::WhatIf { name, .. } => seen.push(format!("what-if {name}")),
            _ => {}
        }
    }
    let expected: Vec<String> = path
        .iter()
        .filter_map(|event| match event {
            PathEvent::Operation { operation, .. } => Some(format!("op {operation}")),
            PathEvent::WhatIf { name, .. } => Some(format!("what-if {name}")),
            _ => None,
        })
        .collect();
    Some(Replayed {
        same_path: seen.starts_with(&expected),
        exact_path: seen == expected,
        operations,
        outcome: report.outcome,
        cluster: report.cluster,
    })
}
