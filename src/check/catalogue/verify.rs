//! `runbook::verify::*`: a counterexample `runbook verify` found, one code per
//! [`Property`]. The fix is the property's own help line, so the catalogue
//! and the counterexample say the same.

use super::{Entry, Example, Phase, Severity};
use crate::check::verify::Property;

/// The verifier's counterexamples.
pub static PHASE: Phase = Phase {
    name: "verify",
    title: "Verifier counterexamples",
    intro: "Reported by `runbook verify`, which runs the runbook on the cluster model through \
every operator choice and every fault of the contract at every point it can fire. Each code \
is a property of the HA upgrade (see [verify.md](verify.md)); the diagnostic shows the path \
that breaks it (answers, faults, operations, steps) and a `runbook run` command that replays \
it on the simulator. `runbook verify` exits 1 when it finds one.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::verify::two_actives",
        severity: Severity::Error,
        summary: "Two Active servers at a step's start or end, or while time passes in a \
step, outside a window.",
        cause: "On some path a step starts or ends with two Active servers, or two servers \
stay Active while time passes inside a step (a phase of a background operation such as the \
12 minutes of an installer, a `wait`, an operator prompt), typically a Standby forced Active \
while the Initial Active is not demoted yet, and the step is not inside a `within D after \
STEP` window that allows the overlap. Two Actives that the very next operation resolves are \
the \"as soon as possible\" of the procedure; after a fault fired in a step, two Actives \
are left to its What-ifs until the step ends. Two Actives both accept changes: \
one side's changes will be lost (invariant 2 of the domain).",
        example: Some(Example::run(
            r#"
runbook force-unpaired {
    title "Force a Standby Active and forget the Initial Active"
    param version: version = 7.4.0
    let final_active = select final-active "Which Standby becomes Active?" from standbys()
    step exclude-final "Exclude the Final Active Server" {
        exclude(server: final_active)
    }
    step force-final "Force the Final Active Server's activation" {
        force-activate(server: final_active)
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::TwoActives.help(),
    },
    Entry {
        code: "runbook::verify::two_actives_at_end",
        severity: Severity::Error,
        summary: "A run can end (succeed, stop or fail) with two Active servers.",
        cause: "Some path ends — normally, with `stop`, a declined confirmation, `fail` or a \
failed `check` — while two servers are Active, even inside a `within` window: the operator \
is left with a split brain (invariants 1 and 2).",
        example: Some(Example::run(
            r#"
runbook two-at-end {
    title "Force a Standby Active and stop there"
    param version: version = 7.4.0
    let final_active = select final-active "Which Standby becomes Active?" from standbys()
    step force-final "Force the Standby's activation" {
        exclude(server: final_active)
        force-activate(server: final_active)
    }
    step demote-initial "As soon as possible, demote the Initial Active" within 5m after force-final {
        stop "The demotion is left to the operator."
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::TwoActivesAtEnd.help(),
    },
    Entry {
        code: "runbook::verify::active_upgraded_with_declared_standby",
        severity: Severity::Error,
        summary: "The Active is upgraded while a Standby runs and is declared in replication.",
        cause: "The upgrade (or the stop before it) of the Active happens on a path where a \
Standby is still running and declared in replication: the page's first step (stop the \
Standbys or exclude them) was skipped on that path (invariant 3).",
        example: Some(Example::run(
            r#"
runbook standby-not-excluded {
    title "Upgrade the Active without taking the Standbys out"
    param version: version = 7.4.0
    step upgrade-active "Upgrade the Active Server" {
        let active = active()
        stop-server(server: active)
        upgrade(server: active, version: version)
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::ActiveUpgradedWithDeclaredStandby.help(),
    },
    Entry {
        code: "runbook::verify::standby_initialized_without_exclusion",
        severity: Severity::Error,
        summary: "A Standby that holds a replica is initialized without being excluded first.",
        cause: "`init-standby` runs on a Standby that was initialized before and was not \
excluded from replication (invariant 4). The simulated product refuses that operation, so \
on the model this shows up as `runbook::verify::unchecked_precondition` for the \
`init-standby`; the property is kept for models (and products) that would accept it.",
        example: None,
        fix: Property::StandbyInitializedWithoutExclusion.help(),
    },
    Entry {
        code: "runbook::verify::changes_discarded_unreported",
        severity: Severity::Error,
        summary: "Administrator changes are discarded without a `discards changes on` clause \
that counted them.",
        cause: "An operation on some path loses configuration changes made by administrators \
(forcing the Initial Active to Standby after a Standby was forced Active, restoring a \
backup...) and neither its step, nor the `choose` option, nor the What-if it is in has a \
`discards changes on SERVER` clause that counted them first — or changes were made after \
the count (invariant 5: nothing lost silently).",
        example: Some(Example::run(
            r#"
runbook discard-without-count {
    title "Demote the Initial Active without counting its changes"
    param version: version = 7.4.0
    let initial_active = active()
    let final_active = select final-active "Which Standby becomes Active?" from standbys()
    step upgrade-final "Exclude and upgrade the Final Active Server" {
        exclude(server: final_active)
        upgrade(server: final_active, version: version)
    }
    step switch "Force the Final Active, then demote the Initial Active" {
        force-activate(server: final_active)
        set-standby(server: initial_active, force: true)
        stop "Switched."
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::ChangesDiscardedUnreported.help(),
    },
    Entry {
        code: "runbook::verify::not_upgraded",
        severity: Severity::Error,
        summary: "A run can succeed without leaving the upgraded, healthy cluster.",
        cause: "Some path reaches the end of the runbook (outcome `succeeded`) while a server \
is not on the target version, or there is not one Active in `ACT_REP` with every Standby in \
`STB_REP` and none excluded (invariants 1 and 6). A runbook that cannot finish the upgrade \
must say so with `stop` or `fail`.",
        example: Some(Example::run(
            r#"
runbook nothing {
    title "Announce the upgrade"
    param version: version = 7.4.0
    goal upgrade to version
    note "The upgrade is done by hand."
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::NotUpgraded.help(),
    },
    Entry {
        code: "runbook::verify::not_healthy",
        severity: Severity::Error,
        summary: "A run can succeed without leaving a healthy cluster.",
        cause: "The runbook declares `goal healthy`, or no goal at all (the safe default), and \
some path reaches its end (outcome `succeeded`) while there is not exactly one Active in \
`ACT_REP` with every Standby running in `STB_REP`, none excluded, all on one version. A \
runbook that cannot leave the cluster healthy must `stop` with instructions, or declare what \
it leaves with `goal EXPR else \"MESSAGE\"`.",
        example: Some(Example::run(
            r#"
runbook exclude-for-maintenance {
    title "Exclude a Standby"
    let standby = select standby "Which Standby?" from standbys()
    step exclude "Exclude it from replication" {
        exclude(server: standby)
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::NotHealthy.help(),
    },
    Entry {
        code: "runbook::verify::goal_not_met",
        severity: Severity::Error,
        summary: "A run can succeed without meeting a declared `goal`.",
        cause: "The runbook declares `goal EXPR else \"MESSAGE\"` and some path reaches its end \
(outcome `succeeded`) on a cluster where EXPR is false.",
        example: Some(Example::run(
            r#"
runbook keep-mgt-1 {
    title "Make sure mgt-1 stays Active"
    goal count(actives()) == 2 else "two Actives were expected"
    note "Nothing to do"
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::GoalNotMet.help(),
    },
    Entry {
        code: "runbook::verify::unchecked_precondition",
        severity: Severity::Error,
        summary: "An operation can be refused by a precondition the runbook did not check.",
        cause: "On some path an operation is performed in a state where the product refuses \
it (excluding the Active, initializing a Standby on another version, acting on a stopped \
server...). At run time the step would fail with the product's message; the runbook should \
check the precondition or handle the fault that breaks it.",
        example: Some(Example::run(
            r#"
runbook exclude-active {
    title "Exclude the Active"
    param version: version = 7.4.0
    step exclude "Exclude the Active" {
        exclude(server: active())
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::UncheckedPrecondition.help(),
    },
    Entry {
        code: "runbook::verify::evaluation_error",
        severity: Severity::Error,
        summary: "An expression can fail to evaluate on some path.",
        cause: "An expression has no value in a state some path reaches: `active()` when no \
server (or two) is Active, a field of a server that is gone. At run time the step would \
fail on it.",
        example: Some(Example::run(
            r#"
runbook no-active {
    title "Stop the Active, then demote it"
    param version: version = 7.4.0
    step stop-active "Stop the Active" {
        stop-server(server: active())
        set-standby(server: active(), force: true)
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::EvaluationError.help(),
    },
    Entry {
        code: "runbook::verify::window_exceeded",
        severity: Severity::Error,
        summary: "A `within D after S` step can start later than D after the end of S.",
        cause: "The verifier runs every background operation (installer, initialization, \
activation wizard) for its full duration; on some path the step with the window starts too \
late because something long runs between its anchor step and itself. At run time this is \
the warning `runbook::run::window_exceeded`.",
        example: Some(Example::run(
            r#"
runbook window-too-long {
    title "Upgrade something between forcing and demoting"
    param version: version = 7.4.0
    let initial_active = active()
    let final_active = select final-active "Which Standby becomes Active?" from standbys()
    let other = standbys() without final_active
    step exclude-standbys "Exclude the Standbys" {
        exclude(server: final_active)
        for standby in other {
            exclude(server: standby)
        }
    }
    step force-final "Force the Final Active Server's activation" {
        force-activate(server: final_active)
    }
    step upgrade-other "Upgrade the other Standbys first" {
        for standby in other {
            upgrade(server: standby, version: version)
        }
    }
    step demote-initial "As soon as possible, demote the Initial Active"
        within 5m after force-final
        discards changes on initial_active
    {
        set-standby(server: initial_active, force: true)
        stop "Demoted."
    }
}
"#,
            "runbook verify example.runbook",
        )),
        fix: Property::WindowExceeded.help(),
    },
    Entry {
        code: "runbook::verify::window_overrun",
        severity: Severity::Error,
        summary: "Some path of the runbook does not fit the maintenance window given with \
`--window`.",
        cause: "`runbook verify --window D` adds up, on every path, the model's time: every \
background operation (installer, standby initialization, activation wizard) at its full \
duration, every `wait` as it polls (to its timeout when nothing can change) and every \
prompt at `--prompt-time` (zero by default). The longest path takes more than D: it is shown \
with the step under way when the window ends.",
        example: Some(Example::run(
            r#"
runbook long-upgrade {
    title "Upgrade one Standby"
    param version: version = 7.4.0
    let standby = select standby "Which Standby is upgraded?" from standbys()
    step upgrade-standby "Exclude, stop and upgrade the Standby" {
        exclude(server: standby)
        stop-server(server: standby)
        upgrade(server: standby, version: version)
    }
    step hand-over "Hand over" {
        stop "The Standby is upgraded; the rest is done by hand."
    }
}
"#,
            "runbook verify example.runbook --window 10m",
        )),
        fix: Property::WindowOverrun.help(),
    },
    Entry {
        code: "runbook::verify::resume_fails",
        severity: Severity::Error,
        summary: "A run killed at some point and continued with `runbook resume` fails, where \
the runbook never fails without faults.",
        cause: "The verifier kills the runner (the `runner-crash` fault) after every record the \
interpreter journals, and with an operation in flight, then resumes from what the journal \
holds with the interpreter's own rules: completed steps are skipped, answers and decisions \
are replayed, and the step under way is redone — what was in flight is awaited, what the \
cluster shows done is not sent again, a failure the run had not acted on yet is replayed, and \
the step's What-ifs judge the cluster first. A redone step meets the cluster as the \
interrupted run left it; a `check` that held before the step acted may fail then.",
        example: Some(Example::run(
            r#"
runbook restart-standbys {
    title "Restart every Standby"
    for standby in standbys() {
        step restart "Restart {standby.name}" {
            check standby.running else "{standby.name} is already stopped"
            stop-server(server: standby)
            start-server(server: standby)
        }
    }
}
"#,
            "runbook verify example.runbook --max-faults 1",
        )),
        fix: Property::ResumeFails.help(),
    },
];
