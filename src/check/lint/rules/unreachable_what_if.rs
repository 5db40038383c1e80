//! RB007: a What-if trigger that can never fire.

use std::collections::HashMap;

use crate::check::lint::{declare_rule, LintContext, Sink};
use crate::syntax::ast::{Block, File, Step, Stmt, StmtKind, TriggerKind};
use crate::syntax::visit::child_blocks;

declare_rule! {
    /// ## What it does
    /// Flags a What-if trigger that can never fire. A trigger is dead when no
    /// step it watches can produce it:
    ///
    /// - `failed(STEP)` when the What-if's `during` list does not include
    ///   STEP, or when STEP contains nothing that can fail (no operation,
    ///   `call`, `check`, `wait` or `fail`);
    /// - `upgrade-cancelled(SERVER)` when none of the watched steps (every
    ///   step, without `during`) runs an `upgrade`, directly or through a
    ///   called procedure.
    ///
    /// ## Why is this bad?
    /// The handler looks like it covers a failure, but the run will never
    /// enter it: the failure it was written for goes unhandled. Usually the
    /// `during` list names the wrong step, or the step was renamed.
    ///
    /// ## Example
    /// ```runbook
    /// what-if active-upgrade-cancelled "Cancel Active Server Upgrade"
    ///     when upgrade-cancelled(active) during stop-servers
    /// {
    ///     stop "The upgrade was cancelled."
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```runbook
    /// what-if active-upgrade-cancelled "Cancel Active Server Upgrade"
    ///     when upgrade-cancelled(active) during upgrade-active
    /// {
    ///     stop "The upgrade was cancelled."
    /// }
    /// ```
    code: "RB007",
    name: "unreachable-what-if",
    severity: Warning,
    domain: false,
    check: check,
}

fn check(context: &LintContext<'_>, sink: &mut Sink) {
    let steps: HashMap<&str, &Step> = context
        .file
        .steps()
        .into_iter()
        .map(|step| (step.id.name.as_str(), step))
        .collect();
    for what_if in &context.file.what_ifs {
        let watched: Vec<&Step> = if what_if.during.is_empty() {
            steps.values().copied().collect()
        } else {
            what_if
                .during
                .iter()
                .filter_map(|id| steps.get(id.name.as_str()).copied())
                .collect()
        };
        for trigger in &what_if.triggers {
            match &trigger.kind {
                TriggerKind::Failed(step_id) => {
                    let watched_here = what_if.during.is_empty()
                        || what_if.during.iter().any(|id| id.name == step_id.name);
                    if !watched_here {
                        sink.report(
                            trigger.span,
                            format!(
                                "`failed({})` never fires: `{}` is not in this What-if's `during` list",
                                step_id.name, step_id.name
                            ),
                        )
                        .label("the step it waits for is not watched")
                        .help(format!("Add `{}` to `during`, or remove the trigger.", step_id.name));
                    } else if let Some(step) = steps.get(step_id.name.as_str()) {
                        if !block_can_fail(&step.body) {
                            sink.report(
                                trigger.span,
                                format!(
                                    "`failed({})` never fires: the step contains nothing that can fail",
                                    step_id.name
                                ),
                            )
                            .label("this step only shows text")
                            .help("Point the trigger at the step that runs the operation you mean.");
                        }
                    }
                }
                TriggerKind::UpgradeCancelled(_) => {
                    let upgrades = watched.iter().any(|step| {
                        block_upgrades(&step.body, context.procedures, &mut Vec::new())
                    });
                    if !upgrades {
                        sink.report(
                            trigger.span,
                            "`upgrade-cancelled` never fires: no watched step runs an `upgrade`",
                        )
                        .label("no upgrade during the watched steps")
                        .help("List the step that runs the upgrade in `during`.");
                    }
                }
                TriggerKind::TwoActives
                | TriggerKind::StandbyActivated
                | TriggerKind::ReplicationBroken => {}
            }
        }
    }
}

fn block_can_fail(block: &Block) -> bool {
    let mut can_fail = false;
    let probe = |stmt: &Stmt| {
        matches!(
            stmt.kind,
            StmtKind::Operation(_)
                | StmtKind::Call(_)
                | StmtKind::Check { .. }
                | StmtKind::Wait { .. }
                | StmtKind::Fail { .. }
        )
    };
    walk(&block.stmts, &mut |stmt| can_fail |= probe(stmt));
    can_fail
}

fn block_upgrades<'a>(
    block: &'a Block,
    procedures: &HashMap<String, &'a File>,
    visiting: &mut Vec<&'a str>,
) -> bool {
    stmts_upgrade(&block.stmts, procedures, visiting)
}

fn stmts_upgrade<'a>(
    stmts: &'a [Stmt],
    procedures: &HashMap<String, &'a File>,
    visiting: &mut Vec<&'a str>,
) -> bool {
    let mut calls: Vec<&'a str> = Vec::new();
    let mut upgrades = false;
    walk(stmts, &mut |stmt| match &stmt.kind {
        StmtKind::Operation(call) if call.name.name == "upgrade" => upgrades = true,
        StmtKind::Call(call) => calls.push(call.target.name.as_str()),
        _ => {}
    });
    if upgrades {
        return true;
    }
    for name in calls {
        if visiting.contains(&name) {
            continue;
        }
        let Some(callee) = procedures.get(name).copied() else {
            // An unresolved call may upgrade: do not claim the trigger is dead.
            return true;
        };
        visiting.push(name);
        let found = stmts_upgrade(&callee.body, procedures, visiting);
        if found {
            return true;
        }
    }
    false
}

fn walk<'a>(stmts: &'a [Stmt], visit: &mut impl FnMut(&'a Stmt)) {
    for stmt in stmts {
        visit(stmt);
        for block in child_blocks(stmt) {
            walk(&block.stmts, visit);
        }
    }
}
