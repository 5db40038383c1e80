//! The runtime guard: while a run executes, the safety invariants the
//! verifier proves (`cluster::invariants`) are judged on what the run
//! observes — two Actives outside a time window, the Active upgraded while a
//! Standby still replicates, administrator changes discarded with no
//! `discards changes on` clause counting them — and each break is a warning
//! event with its code, said once. A run that upgraded the Initial Active
//! cannot end `succeeded` on a cluster that is not the healthy upgraded one.

use std::collections::BTreeSet;

use crate::cluster::{check_upgraded, InvariantViolation, Mode, Operation, Snapshot};

/// A break of an invariant the run observed: its code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    /// `runbook::run::guard_…`.
    pub(super) code: &'static str,
    /// What the operator sees.
    pub(super) message: String,
}

/// Two Actives observed outside a time window.
pub(super) const TWO_ACTIVES: &str = "runbook::run::guard_two_actives";
/// The Active about to be upgraded while a Standby still replicates.
pub(super) const ACTIVE_UPGRADED: &str =
    "runbook::run::guard_active_upgraded_with_declared_standby";
/// Changes about to be discarded with no clause counting them.
pub(super) const CHANGES_DISCARDED: &str = "runbook::run::guard_changes_discarded_unreported";

/// What the guard has seen and said.
#[derive(Debug, Default)]
pub(super) struct Guard {
    /// The findings said already (each is said once).
    said: BTreeSet<String>,
    /// The servers whose changes a `discards changes on` clause counted in
    /// the step (or handler) under way.
    covered: BTreeSet<String>,
    /// Whether the run upgraded a server that was Active when it started.
    upgraded_initial_active: bool,
}

impl Guard {
    /// A step (or handler) starts: the clauses of the one before no longer count.
    pub(super) fn step_started(&mut self) {
        self.covered.clear();
    }

    /// A `discards changes on SERVER` clause is reached.
    pub(super) fn discards_counted(&mut self, server: &str) {
        self.covered.insert(server.to_owned());
    }

    /// Judges an observed state: two running Actives, unless
    /// `window_open` (a `within … after` window, its anchor step, or a
    /// What-if handling the fault).
    pub(super) fn observed(&mut self, snapshot: &Snapshot, window_open: bool) -> Vec<Finding> {
        let actives: Vec<&str> = snapshot
            .actives()
            .filter(|server| server.running)
            .map(|server| server.name.as_str())
            .collect();
        if actives.len() < 2 || window_open {
            return Vec::new();
        }
        self.once(Finding {
            code: TWO_ACTIVES,
            message: format!(
                "{} are Active at once, outside any `within … after` window and any What-if: demote one of them as soon as possible",
                actives.join(" and ")
            ),
        })
    }

    /// Judges `operation` before it is sent, on the state last observed;
    /// `initial` is the cluster when the run started and `counts_changes`
    /// whether the target counts administrator changes.
    pub(super) fn before(
        &mut self,
        operation: &Operation,
        live: &Snapshot,
        initial: &Snapshot,
        counts_changes: bool,
    ) -> Vec<Finding> {
        let Some(server) = live.server(operation.server()) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        if let Operation::Upgrade { .. } = operation {
            if initial
                .server(&server.name)
                .is_some_and(|before| before.mode == Mode::Active)
            {
                self.upgraded_initial_active = true;
            }
        }
        if let (Operation::Upgrade { .. }, Mode::Active) = (operation, server.mode) {
            let declared: Vec<&str> = live
                .servers
                .iter()
                .filter(|other| {
                    other.name != server.name
                        && other.mode == Mode::Standby
                        && other.running
                        && !other.excluded
                })
                .map(|other| other.name.as_str())
                .collect();
            if !declared.is_empty() {
                findings.extend(self.once(Finding {
                    code: ACTIVE_UPGRADED,
                    message: format!(
                        "{operation}: the Active {} is upgraded while {} still run(s) declared in replication",
                        server.name,
                        declared.join(", ")
                    ),
                }));
            }
        }
        let discards = match operation {
            Operation::SetStandby { .. } => server.mode == Mode::Active,
            Operation::RestoreBackup { .. } => true,
            _ => false,
        };
        if discards && counts_changes && !self.covered.contains(&server.name) {
            let count = crate::semantics::observe::changes_since(initial, live, &server.name);
            if count > 0 {
                findings.extend(self.once(Finding {
                    code: CHANGES_DISCARDED,
                    message: format!(
                        "{operation} discards {count} administrator change(s) made on {} that no `discards changes on` clause counted",
                        server.name
                    ),
                }));
            }
        }
        findings
    }

    /// At a successful end: a run that upgraded the Initial Active must
    /// leave every server on `version`, running, one Active in `ACT_REP`,
    /// every Standby in `STB_REP`, none excluded. What is not so.
    pub(super) fn end(&self, snapshot: &Snapshot) -> Vec<InvariantViolation> {
        if !self.upgraded_initial_active || snapshot.servers.is_empty() {
            return Vec::new();
        }
        // The version the upgrade installed: the newest the cluster runs.
        let Some(version) = snapshot.servers.iter().map(|server| &server.version).max() else {
            return Vec::new();
        };
        check_upgraded(snapshot, version)
    }

    fn once(&mut self, finding: Finding) -> Vec<Finding> {
        if self
            .said
            .insert(format!("{}{}", finding.code, finding.message))
        {
            vec![finding]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ReplicationState, ServerSnapshot, Version};

    fn server(name: &str, mode: Mode, version: &str) -> ServerSnapshot {
        ServerSnapshot {
            name: name.into(),
            running: true,
            mode,
            version: version.parse::<Version>().unwrap(),
            replication: match mode {
                Mode::Active => ReplicationState::ActRep,
                Mode::Standby => ReplicationState::StbRep,
            },
            excluded: false,
            config_revision: 0,
        }
    }

    #[test]
    fn two_actives_are_said_once_and_not_inside_a_window() {
        let mut guard = Guard::default();
        let snapshot = Snapshot {
            servers: vec![
                server("mgt-1", Mode::Active, "7.3.4"),
                server("mgt-2", Mode::Active, "7.3.4"),
            ],
        };
        assert!(guard.observed(&snapshot, true).is_empty());
        assert_eq!(guard.observed(&snapshot, false).len(), 1);
        assert!(guard.observed(&snapshot, false).is_empty());
    }

    #[test]
    fn an_upgraded_initial_active_must_end_healthy() {
        let initial = Snapshot {
            servers: vec![
                server("mgt-1", Mode::Active, "7.3.4"),
                server("mgt-2", Mode::Standby, "7.3.4"),
            ],
        };
        let mut guard = Guard::default();
        let upgrade = Operation::Upgrade {
            server: "mgt-1".into(),
            version: "7.4.0".parse().unwrap(),
        };
        let findings = guard.before(&upgrade, &initial, &initial, false);
        assert_eq!(findings[0].code, ACTIVE_UPGRADED);
        let half = Snapshot {
            servers: vec![
                server("mgt-1", Mode::Active, "7.4.0"),
                server("mgt-2", Mode::Standby, "7.3.4"),
            ],
        };
        assert!(!guard.end(&half).is_empty());
        let done = Snapshot {
            servers: vec![
                server("mgt-1", Mode::Active, "7.4.0"),
                server("mgt-2", Mode::Standby, "7.4.0"),
            ],
        };
        assert!(guard.end(&done).is_empty());
    }
}
