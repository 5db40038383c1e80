//! The cluster model's verdict on the situation a domain rule flags.
//!
//! A domain rule finds, by abstract interpretation, an operation performed in
//! a situation it deems unsafe. To say *why* in the product's own words, it
//! rebuilds that situation on a tiny concrete [`Cluster`] (named after the
//! runbook's own bindings) and asks the model: the refusal the product would
//! answer ([`Cluster::apply`]) or the invariant the operation breaks
//! ([`check_transition`], [`check_invariants`]). A test asserts that the model
//! condemns every situation a rule flags, so rules and model cannot drift
//! apart silently.

use crate::cluster::{
    check_invariants, check_transition, Cluster, InvariantViolation, Operation, Version,
};

/// The version every witness cluster runs, and the one it is upgraded to.
const RUNNING: &str = "7.3.4";
const TARGET: &str = "7.4.0";

fn version(text: &str) -> Option<Version> {
    text.parse().ok()
}

/// A healthy cluster whose Active is `active` and whose only Standby is
/// `standby` (renamed when both names are the same).
fn witness(active: &str, standby: &str) -> Option<(Cluster, String)> {
    let standby = if standby == active {
        format!("{standby}-2")
    } else {
        standby.to_owned()
    };
    let names = [active.to_owned(), standby.clone()];
    Some((Cluster::new(&names, &version(RUNNING)?), standby))
}

/// The first of `violations` that `wanted` accepts, in the product's words.
fn first(
    violations: Vec<InvariantViolation>,
    wanted: impl Fn(&InvariantViolation) -> bool,
) -> Option<String> {
    violations
        .into_iter()
        .find(|violation| wanted(violation))
        .map(|violation| violation.to_string())
}

/// The witness cluster once `forced` is excluded and force-activated, as
/// the no-downtime procedure does, while `active` stays Active.
fn with_forced_activation(active: &str, forced: &str) -> Option<Cluster> {
    let (mut cluster, forced) = witness(active, forced)?;
    cluster
        .apply(&Operation::Exclude {
            server: forced.clone(),
        })
        .ok()?;
    cluster
        .apply(&Operation::ForceActivate { server: forced })
        .ok()?;
    Some(cluster)
}

/// Invariant 3: `active` is upgraded while `standby` runs declared in replication.
pub fn upgrade_beside_replicating_standby(active: &str, standby: &str) -> Option<String> {
    let (cluster, _) = witness(active, standby)?;
    let upgrade = Operation::Upgrade {
        server: active.to_owned(),
        version: version(TARGET)?,
    };
    first(check_transition(&cluster, &upgrade), |violation| {
        matches!(
            violation,
            InvariantViolation::ActiveUpgradedWithDeclaredStandby { .. }
        )
    })
}

/// Invariant 4: the initialized Standby `standby` is initialized again
/// without having been excluded: the product's refusal.
pub fn init_of_initialized_standby(active: &str, standby: &str) -> Option<String> {
    let (mut cluster, standby) = witness(active, standby)?;
    let init = Operation::InitStandby { server: standby };
    let transition = check_transition(&cluster, &init);
    match cluster.apply(&init) {
        Err(refusal) => Some(refusal.to_string()),
        Ok(_) => first(transition, |violation| {
            matches!(
                violation,
                InvariantViolation::StandbyInitializedWithoutExclusion { .. }
            )
        }),
    }
}

/// Invariant 2: `forced` is force-activated (after its exclusion, as the
/// no-downtime procedure does) while `active` stays Active.
pub fn force_activation_beside_active(active: &str, forced: &str) -> Option<String> {
    let cluster = with_forced_activation(active, forced)?;
    first(check_invariants(&cluster), |violation| {
        matches!(violation, InvariantViolation::TwoActives { .. })
    })
}

/// The Active `active` is excluded: the product's refusal.
pub fn exclusion_of_active(active: &str, standby: &str) -> Option<String> {
    let (mut cluster, _) = witness(active, standby)?;
    cluster
        .apply(&Operation::Exclude {
            server: active.to_owned(),
        })
        .err()
        .map(|refusal| refusal.to_string())
}

/// Invariant 5: `active`, with one administrator change since `forced` was
/// force-activated, is forced to Standby.
pub fn demotion_discarding_changes(active: &str, forced: &str) -> Option<String> {
    let mut cluster = with_forced_activation(active, forced)?;
    if let Some(server) = cluster
        .servers
        .iter_mut()
        .find(|server| server.name == active)
    {
        server.config_revision += 1;
    }
    let demote = Operation::SetStandby {
        server: active.to_owned(),
        force: true,
    };
    first(check_transition(&cluster, &demote), |violation| {
        matches!(violation, InvariantViolation::ChangesDiscarded { .. })
    })
}

/// The line a rule adds to its help: the model's verdict, when it has one.
pub fn help_line(verdict: Option<String>) -> String {
    match verdict {
        Some(text) => format!("\nCluster model: {text}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_condemns_every_situation_the_domain_rules_flag() {
        // Each verdict, and the words it must contain.
        let verdicts = [
            (
                upgrade_beside_replicating_standby("active", "standby"),
                &["standby"][..],
            ),
            (
                init_of_initialized_standby("active", "standby"),
                &["standby"],
            ),
            (
                force_activation_beside_active("initial_active", "final_active"),
                &["initial_active", "final_active"],
            ),
            (exclusion_of_active("active", "standby"), &["active"]),
            (
                demotion_discarding_changes("initial_active", "final_active"),
                &["1"],
            ),
        ];
        for (verdict, words) in verdicts {
            assert!(
                verdict
                    .as_deref()
                    .is_some_and(|text| words.iter().all(|word| text.contains(word))),
                "{verdict:?} should name {words:?}"
            );
        }
    }

    #[test]
    fn the_same_name_twice_still_gives_a_verdict() {
        assert!(exclusion_of_active("server", "server").is_some());
        assert!(force_activation_beside_active("server", "server").is_some());
    }
}
