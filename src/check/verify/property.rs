//! The properties the verifier proves, each with its stable diagnostic code
//! (`runbook::verify::<property>`), and a violation found on a path.

use serde::Serialize;

use crate::cluster::Snapshot;
use crate::syntax::Span;

/// A property of docs/simulator.md (or of the language) that every path must keep.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// Invariant 2: no step starts or ends with two Actives, and two
    /// Actives do not last while time passes inside a step (a phase of a
    /// background operation, a `wait`, a prompt), outside a `within ...
    /// after` window (the "as soon as possible" window).
    TwoActives,
    /// Invariants 1 and 2: the run never ends with two Actives.
    TwoActivesAtEnd,
    /// Invariant 3: the Active is not upgraded while a Standby runs and is declared in replication.
    ActiveUpgradedWithDeclaredStandby,
    /// Invariant 4: a Standby is initialized only after it was excluded (or was never initialized).
    StandbyInitializedWithoutExclusion,
    /// Invariant 5: changes are discarded only after a `discards changes on`
    /// clause (of a step, a `choose` option or a What-if) counted them.
    ChangesDiscardedUnreported,
    /// Invariants 1 and 6, for a runbook whose goal is `upgrade to V`: a
    /// run that succeeds leaves the upgraded, healthy cluster.
    NotUpgraded,
    /// Invariant 1, for a runbook whose goal is `healthy` (the default): a
    /// run that succeeds leaves the healthy cluster.
    NotHealthy,
    /// A runbook's declared `goal EXPR else "MESSAGE"` holds when a run
    /// succeeds.
    GoalNotMet,
    /// No operation is refused by a precondition the runbook did not check.
    UncheckedPrecondition,
    /// No expression fails to evaluate (e.g. `active()` with no Active).
    EvaluationError,
    /// A step with `within D after S` starts within D of the end of S when
    /// every background operation takes its full time.
    WindowExceeded,
    /// With `--window D`: every path ends within D, every background
    /// operation taking its full time and every `wait` its longest.
    WindowOverrun,
    /// A run the runner's crash interrupted (`kill -9` at any point) goes
    /// on with `runbook resume` from its journal and does not fail, when
    /// the runbook never fails without faults.
    ResumeFails,
}

impl Property {
    /// Every property, in report order.
    pub const ALL: [Property; 13] = [
        Property::TwoActives,
        Property::TwoActivesAtEnd,
        Property::ActiveUpgradedWithDeclaredStandby,
        Property::StandbyInitializedWithoutExclusion,
        Property::ChangesDiscardedUnreported,
        Property::NotUpgraded,
        Property::NotHealthy,
        Property::GoalNotMet,
        Property::UncheckedPrecondition,
        Property::EvaluationError,
        Property::WindowExceeded,
        Property::WindowOverrun,
        Property::ResumeFails,
    ];

    /// The property's name in codes, e.g. `two_actives`.
    pub const fn name(self) -> &'static str {
        match self {
            Property::TwoActives => "two_actives",
            Property::TwoActivesAtEnd => "two_actives_at_end",
            Property::ActiveUpgradedWithDeclaredStandby => "active_upgraded_with_declared_standby",
            Property::StandbyInitializedWithoutExclusion => "standby_initialized_without_exclusion",
            Property::ChangesDiscardedUnreported => "changes_discarded_unreported",
            Property::NotUpgraded => "not_upgraded",
            Property::NotHealthy => "not_healthy",
            Property::GoalNotMet => "goal_not_met",
            Property::UncheckedPrecondition => "unchecked_precondition",
            Property::EvaluationError => "evaluation_error",
            Property::WindowExceeded => "window_exceeded",
            Property::WindowOverrun => "window_overrun",
            Property::ResumeFails => "resume_fails",
        }
    }

    /// The diagnostic code, e.g. `runbook::verify::two_actives`.
    pub fn code(self) -> String {
        format!("runbook::verify::{}", self.name())
    }

    /// The property in one sentence.
    pub const fn statement(self) -> &'static str {
        match self {
            Property::TwoActives => "never two Active servers outside an \"as soon as possible\" window",
            Property::TwoActivesAtEnd => "never two Active servers when the run ends",
            Property::ActiveUpgradedWithDeclaredStandby => {
                "the Active is not upgraded while a Standby runs and is declared in replication"
            }
            Property::StandbyInitializedWithoutExclusion => {
                "a Standby is initialized only after it was excluded"
            }
            Property::ChangesDiscardedUnreported => {
                "administrator changes are discarded only after a `discards changes on` clause (step, option or What-if) counted them"
            }
            Property::NotUpgraded => {
                "a run of an upgrade (`goal upgrade to V`) that succeeds leaves every server on V, one Active in ACT_REP, every Standby in STB_REP"
            }
            Property::NotHealthy => {
                "a run that succeeds leaves one Active in ACT_REP, every Standby running in STB_REP, none excluded, all on one version (`goal healthy`, the default)"
            }
            Property::GoalNotMet => "a run that succeeds meets every `goal EXPR else \"MESSAGE\"`",
            Property::UncheckedPrecondition => {
                "no operation is refused by a precondition the runbook did not check"
            }
            Property::EvaluationError => "every expression can be evaluated",
            Property::WindowExceeded => {
                "a `within D after S` step starts within D of the end of S"
            }
            Property::WindowOverrun => {
                "every path ends within the maintenance window (`--window`)"
            }
            Property::ResumeFails => {
                "a run killed at any point and continued with `runbook resume` does not fail"
            }
        }
    }

    /// What to do about a violation.
    pub const fn help(self) -> &'static str {
        match self {
            Property::TwoActives => {
                "demote one of the Actives (set-standby with force) right after the operation that made two, before anything takes time (an installer, a `wait`, a prompt) and before the step ends; or allow the overlap with `within D after STEP`; or handle the fault with a What-if (`when two-actives, standby-activated`) that recovers one Active"
            }
            Property::TwoActivesAtEnd => {
                "demote one of the Actives (set-standby with force) before the run ends, or handle the fault with a What-if (`when two-actives, standby-activated`) that recovers one Active"
            }
            Property::ActiveUpgradedWithDeclaredStandby => {
                "stop every Standby or exclude it from replication (and `check` it) before upgrading the Active"
            }
            Property::StandbyInitializedWithoutExclusion => {
                "exclude the Standby (call exclude-server) before `init-standby`"
            }
            Property::ChangesDiscardedUnreported => {
                "add `discards changes on SERVER` to the step, or to the `choose` option or What-if that discards them, so the run counts the changes and asks before discarding them"
            }
            Property::NotUpgraded => {
                "end the runbook with the upgrade of every server and the initialization of every Standby (`wait until healthy()`), or `stop` with a message when it cannot"
            }
            Property::NotHealthy => {
                "end the runbook with every Standby initialized and one Active (`wait until healthy()`), or `stop` with a message telling the operator what is left; a runbook that leaves the cluster otherwise on purpose says so with `goal EXPR else \"MESSAGE\"`"
            }
            Property::GoalNotMet => {
                "make the paths that succeed reach the goal, or `stop` with a message on the paths that cannot"
            }
            Property::UncheckedPrecondition => {
                "check the operation's precondition first (`if`/`check`), or handle the fault that breaks it with a What-if"
            }
            Property::EvaluationError => {
                "guard the expression (e.g. `check count(actives()) == 1` before `active()`)"
            }
            Property::WindowExceeded => {
                "move the step closer to its anchor: nothing long (an upgrade, an initialization) may run in between"
            }
            Property::WindowOverrun => {
                "plan a longer maintenance window, or shorten the longest path: its steps show where the time goes (each background operation at its full duration, each `wait` to its timeout when nothing can change); a shorter `wait` timeout or a `stop` that hands over earlier bounds it"
            }
            Property::ResumeFails => {
                "a resumed run redoes the step it was in, on the cluster as the interrupted run left it: write each step so it can run again (`if standby.running { stop-server(server: standby) }` rather than `check standby.running`), as the shipped runbooks do"
            }
        }
    }
}

/// A property broken at one point of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// What happened, in words.
    pub message: String,
    /// Index of the file in the program.
    #[serde(skip)]
    pub file: usize,
    /// Where in that file.
    #[serde(skip)]
    pub span: Span,
    /// The cluster (as the operator reads it) where the property breaks.
    pub cluster: Snapshot,
    /// The faults of the configuration that fired before (bit per fault).
    #[serde(skip)]
    pub fired: u32,
    /// Of those, the ones that fired before the run (bit per fault).
    #[serde(skip)]
    pub before_run: u32,
}
