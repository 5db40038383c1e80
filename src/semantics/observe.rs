//! What the run reads off cluster snapshots: the conditions that fire What-if
//! handlers (two Actives, a Standby that became Active, a cancelled upgrade,
//! broken replication), changes counted since the run started, and the plain
//! text table of the cluster shown in summaries and diagnostics.

use crate::cluster::{Mode, Operation, ReplicationState, Snapshot};
use crate::syntax::ast::{Expr, TriggerKind};

/// Whether two (or more) running servers declare themselves Active.
pub fn two_actives(snapshot: &Snapshot) -> bool {
    snapshot.actives().count() >= 2
}

/// The servers that were Standby when the run started and are Active now.
pub fn standbys_activated(initial: &Snapshot, now: &Snapshot) -> Vec<String> {
    now.actives()
        .filter(|server| {
            initial
                .server(&server.name)
                .is_some_and(|before| before.mode == Mode::Standby)
        })
        .map(|server| server.name.clone())
        .collect()
}

/// Whether replication is broken: a running server reports a damaged state
/// (`BROKEN_ACT_STB`, `UNKNOWN`), or the Active reports replicating to some
/// declared Standbys only (`ACT_REP_EX`).
pub fn replication_broken(snapshot: &Snapshot) -> bool {
    broken_servers(snapshot).next().is_some()
}

/// The running servers that report a damaged replication state.
fn broken_servers(snapshot: &Snapshot) -> impl Iterator<Item = &crate::cluster::ServerSnapshot> {
    snapshot.servers.iter().filter(|server| {
        server.running
            && matches!(
                server.replication,
                ReplicationState::BrokenActStb | ReplicationState::Unknown
            )
    })
}

/// The last operation a step performed, with the cluster before it and what it returned.
#[derive(Debug, Clone)]
pub struct OperationRecord {
    /// The operation.
    pub operation: Operation,
    /// The cluster just before it.
    pub before: Snapshot,
    /// The error message, when it failed.
    pub error: Option<String>,
    /// Whether the connector reported the upgrade cancelled and reverted.
    pub cancelled: bool,
    /// The split brain the target reported before the operation.
    pub split_brain_before: Option<Vec<String>>,
}

/// The servers of a split brain that appeared with `last` (the product
/// already set every server to Standby, so the snapshot no longer shows it).
pub fn new_split_brain<'a>(
    last: &OperationRecord,
    now: &'a Option<Vec<String>>,
) -> Option<&'a [String]> {
    match now {
        Some(servers) if last.split_brain_before.as_ref() != Some(servers) => Some(servers),
        _ => None,
    }
}

/// Whether the upgrade of `server` was cancelled and reverted by `last`: an
/// upgrade of that server that failed saying it was cancelled, or that left
/// the server on the version it had before.
pub fn upgrade_cancelled(server: &str, last: &OperationRecord, now: &Snapshot) -> bool {
    let Operation::Upgrade {
        server: upgraded,
        version,
    } = &last.operation
    else {
        return false;
    };
    if upgraded != server {
        return false;
    }
    let said_cancelled = last
        .error
        .as_deref()
        .is_some_and(|message| message.to_ascii_lowercase().contains("cancel"));
    let reverted = match (last.before.server(server), now.server(server)) {
        (Some(before), Some(after)) => after.version == before.version && after.version != *version,
        _ => false,
    };
    last.cancelled
        || said_cancelled
        || (last.error.is_some() && reverted && said_reverted(last))
        || (last.error.is_none()
            && reverted
            && now.server(server).is_some_and(|after| after.running))
}

/// Whether a successful `operation` makes its server Active on the run's
/// own initiative (such a server does not fire `standby-activated`).
pub fn activates(operation: &Operation) -> bool {
    matches!(
        operation,
        Operation::Activate { .. } | Operation::ForceActivate { .. }
    )
}

/// What a What-if condition is judged on after an operation; shared by the
/// interpreter and the verifier so that both fire handlers alike.
pub struct ConditionFacts<'a> {
    /// The cluster when the run started.
    pub initial: &'a Snapshot,
    /// The cluster now.
    pub now: &'a Snapshot,
    /// The operation just performed (none: a step redone on resume, judged
    /// on the cluster it finds).
    pub last: Option<&'a OperationRecord>,
    /// The servers of a split brain that appeared with it, if any.
    pub new_split: Option<&'a [String]>,
    /// Whether the run itself made this server Active (`activate`, `force-activate`).
    pub activated_by_run: &'a dyn Fn(&str) -> bool,
}

/// Why a condition trigger fires, or `None` when it does not (`failed(...)`
/// triggers are judged on step failure, not here). `server_of` evaluates the
/// server expression of `upgrade-cancelled(EXPR)` in the engine's bindings.
pub fn condition_reason(
    trigger: &TriggerKind,
    facts: &ConditionFacts<'_>,
    server_of: impl FnOnce(&Expr) -> Option<String>,
) -> Option<String> {
    let now = facts.now;
    match trigger {
        TriggerKind::Failed(_) => None,
        TriggerKind::TwoActives => two_actives_reason(now, facts.new_split),
        TriggerKind::StandbyActivated => {
            let mut activated = standbys_activated(facts.initial, now);
            activated.retain(|server| !(facts.activated_by_run)(server));
            for server in facts.new_split.unwrap_or_default() {
                let was_standby = facts
                    .initial
                    .server(server)
                    .is_some_and(|before| before.mode == Mode::Standby);
                if was_standby && !activated.contains(server) && !(facts.activated_by_run)(server) {
                    activated.push(server.clone());
                }
            }
            (!activated.is_empty()).then(|| {
                format!(
                    "{} was Standby when the run started and became Active",
                    activated.join(", ")
                )
            })
        }
        TriggerKind::UpgradeCancelled(expr) => server_of(expr).and_then(|server| {
            facts
                .last
                .is_some_and(|last| upgrade_cancelled(&server, last, now))
                .then(|| format!("the upgrade of {server} was cancelled and reverted"))
        }),
        TriggerKind::ReplicationBroken => {
            replication_broken(now).then(|| String::from("replication is broken"))
        }
    }
}

/// Why `two-actives` holds on `now`, given the split brain the target
/// reports (`split`), if it does.
fn two_actives_reason(now: &Snapshot, split: Option<&[String]>) -> Option<String> {
    if two_actives(now) {
        Some(format!(
            "two servers are Active: {}",
            now.actives()
                .map(|server| server.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else {
        split.map(|servers| {
            format!(
                "{} were Active at the same time; the product set every server to Standby",
                servers.join(", ")
            )
        })
    }
}

/// A trigger judged for a handler run alone (`runbook run --what-if`), on
/// the cluster `now` and the split brain the target reports, with no run
/// behind it: `Ok(why it holds)` or `Err(why it does not)`.
///
/// With no cluster at the start to compare with, a Standby that became
/// Active shows as two Actives or a split brain; no step ran, so
/// `failed(STEP)` and `upgrade-cancelled(...)` cannot hold.
pub fn holds_alone(
    trigger: &TriggerKind,
    now: &Snapshot,
    split_brain: Option<&[String]>,
) -> Result<String, String> {
    match trigger {
        TriggerKind::TwoActives | TriggerKind::StandbyActivated => {
            two_actives_reason(now, split_brain).ok_or_else(|| {
                let actives: Vec<&str> = now.actives().map(|server| server.name.as_str()).collect();
                match actives.as_slice() {
                    [] => {
                        String::from("no server is Active, and the target reports no split brain")
                    }
                    [only] => format!(
                        "{only} is the only Active server, and the target reports no split brain"
                    ),
                    _ => String::from("the target reports no split brain"),
                }
            })
        }
        TriggerKind::ReplicationBroken => {
            let broken: Vec<String> = broken_servers(now)
                .map(|server| format!("{} is {}", server.name, server.replication))
                .collect();
            if broken.is_empty() {
                Err(String::from(
                    "no running server reports BROKEN_ACT_STB or UNKNOWN",
                ))
            } else {
                Ok(format!("replication is broken: {}", broken.join(", ")))
            }
        }
        TriggerKind::Failed(step) => Err(format!(
            "no step failed: step `{}` did not run, the handler runs alone",
            step.name
        )),
        TriggerKind::UpgradeCancelled(_) => Err(String::from(
            "no upgrade was cancelled: no upgrade ran, the handler runs alone",
        )),
    }
}

fn said_reverted(last: &OperationRecord) -> bool {
    last.error
        .as_deref()
        .is_some_and(|message| message.to_ascii_lowercase().contains("revert"))
}

/// Administrator changes on `server` since `initial` (config revision delta).
pub fn changes_since(initial: &Snapshot, now: &Snapshot, server: &str) -> u64 {
    let before = initial
        .server(server)
        .map_or(0, |server| server.config_revision);
    let after = now
        .server(server)
        .map_or(0, |server| server.config_revision);
    after.saturating_sub(before)
}

/// The cluster as an aligned plain-text table (one server per line).
pub fn cluster_table(snapshot: &Snapshot) -> String {
    if snapshot.servers.is_empty() {
        return String::from("(the cluster could not be read)");
    }
    let mut rows = vec![[
        "server".to_string(),
        "running".to_string(),
        "mode".to_string(),
        "version".to_string(),
        "replication".to_string(),
        "excluded".to_string(),
    ]];
    for server in &snapshot.servers {
        rows.push([
            server.name.clone(),
            yes_no(server.running).to_string(),
            match server.mode {
                Mode::Active => "active".to_string(),
                Mode::Standby => "standby".to_string(),
            },
            server.version.to_string(),
            server.replication.code().to_string(),
            yes_no(server.excluded).to_string(),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ServerSnapshot, Version};

    fn server(name: &str, mode: Mode, replication: ReplicationState) -> ServerSnapshot {
        ServerSnapshot {
            name: name.into(),
            running: true,
            mode,
            version: "7.3.4".parse::<Version>().unwrap(),
            replication,
            excluded: false,
            config_revision: 0,
        }
    }

    #[test]
    fn detects_conditions() {
        let initial = Snapshot {
            servers: vec![
                server("mgt-1", Mode::Active, ReplicationState::ActRep),
                server("mgt-2", Mode::Standby, ReplicationState::StbRep),
            ],
        };
        assert!(!two_actives(&initial));
        let mut now = initial.clone();
        now.servers[1].mode = Mode::Active;
        now.servers[0].config_revision = 3;
        assert!(two_actives(&now));
        assert_eq!(
            standbys_activated(&initial, &now),
            vec!["mgt-2".to_string()]
        );
        assert_eq!(changes_since(&initial, &now, "mgt-1"), 3);
        now.servers[0].replication = ReplicationState::BrokenActStb;
        assert!(replication_broken(&now));
        let table = cluster_table(&now);
        assert!(table.starts_with("server  running  mode"), "{table}");
        assert!(
            table.contains("mgt-2   yes      active  7.3.4    STB_REP"),
            "{table}"
        );
    }
}
