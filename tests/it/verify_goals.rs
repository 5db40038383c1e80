//! Goals and starting states: maintenance runbooks of each kind that are
//! not upgrades (re-initializing the standbys after a restore, recovering a
//! split brain, recovering an interrupted wizard, switching the Active)
//! verify clean from the states they are written for when they are safe,
//! and are caught when they are not; their counterexamples replay on the
//! simulator started in the same state (`--sim-start`), and a run whose
//! cluster does not meet the goal does not succeed.

use std::path::{Path, PathBuf};

use runbook::check::verify::{self, Property, VerifyOptions};
use runbook::cluster::{starting_clusters, Mode, ReplicationState, Version};
use runbook::domain::StartingState;
use runbook::interp::load::load_path;
use runbook::interp::program::Program;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify/goals")
        .join(name)
}

fn load(name: &str) -> Program {
    let path = fixture(name);
    load_path(&path, name).expect("fixture parses")
}

fn verified(name: &str, max_faults: usize) -> verify::VerifyReport {
    verify::verify(
        &load(name),
        &VerifyOptions {
            max_faults,
            ..VerifyOptions::default()
        },
    )
}

#[test]
fn safe_maintenance_runbooks_are_proven_from_their_starting_states() {
    for (name, max_faults, states) in [
        ("recover-split.runbook", 2, vec![StartingState::SplitBrain]),
        (
            "reinit-after-restore.runbook",
            2,
            vec![StartingState::AfterRestore],
        ),
        ("switch-active.runbook", 2, vec![StartingState::Healthy]),
        (
            "recover-wizard.runbook",
            0,
            vec![StartingState::WizardInterrupted],
        ),
    ] {
        let report = verified(name, max_faults);
        assert!(
            report.proven(),
            "{name}: {:?}",
            report
                .counterexamples
                .iter()
                .map(|found| (&found.code, &found.message))
                .collect::<Vec<_>>()
        );
        assert_eq!(report.starting_states, states, "{name}");
        assert!(!report.goals.iter().any(|goal| goal.starts_with("upgrade")));
    }
}

#[test]
fn every_variant_of_a_starting_state_is_explored() {
    let report = verified("recover-wizard.runbook", 0);
    let points: Vec<&str> = report
        .starting_points
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(points.len(), 7, "{points:?}");
    assert_eq!(points[4], "wizard-interrupted:5");
    let split = verified("recover-split.runbook", 0);
    assert_eq!(split.starting_points.len(), 2);
    assert!(split.starting_points[1].1.contains("mgt-2 and mgt-3"));
}

#[test]
fn unsafe_maintenance_runbooks_are_caught_and_replay_from_their_state() {
    for (name, max_faults, property) in [
        (
            "recover-split-loses-changes.runbook",
            0,
            Property::ChangesDiscardedUnreported,
        ),
        (
            "reinit-after-restore-forgets-one.runbook",
            0,
            Property::NotHealthy,
        ),
        // An unreachable Active looks like no Active: forcing another one
        // is refused (a real finding of the fault model).
        ("recover-wizard.runbook", 1, Property::UncheckedPrecondition),
    ] {
        let report = verified(name, max_faults);
        let found = report
            .counterexamples
            .iter()
            .find(|found| found.property == property)
            .unwrap_or_else(|| panic!("{name} breaks {property:?}"));
        assert!(
            found.replay.start.is_some(),
            "{name}: the replay starts in the runbook's state"
        );
        assert!(
            found.replay.exact,
            "{name}: the simulator takes the same path: {:?}",
            found.replay.caveat
        );
        assert!(found
            .replay
            .command("x.runbook", 3, "a.toml")
            .contains("--sim-start"));
    }
}

#[test]
fn a_goal_that_is_not_met_points_at_the_goal() {
    let report = verified("reinit-after-restore-forgets-one.runbook", 0);
    let found = &report.counterexamples[0];
    assert!(found.message.contains("not healthy"), "{}", found.message);
    let source = std::fs::read_to_string(fixture("switch-active.runbook")).unwrap();
    let broken = source.replace(
        "goal count(actives()) == 1 else",
        "goal count(actives()) == 2 else",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switch-active.runbook");
    std::fs::write(&path, broken).unwrap();
    let program = load_path(&path, "switch-active.runbook").unwrap();
    let report = verify::verify(&program, &VerifyOptions::default());
    let found = report
        .counterexamples
        .iter()
        .find(|found| found.property == Property::GoalNotMet)
        .expect("the declared goal is not met");
    assert!(found.message.contains("exactly one Active was expected"));
    let line = source[..found.span.start as usize].lines().count();
    assert_eq!(line, 5, "the counterexample points at the `goal` line");
}

#[test]
fn starting_clusters_are_the_states_the_pages_describe() {
    let names: Vec<String> = (1..=3).map(runbook::cluster::server_name).collect();
    let version: Version = "7.3.4".parse().unwrap();
    let split = starting_clusters(&names, &version, StartingState::SplitBrain);
    for start in &split {
        let snapshot = start.cluster.snapshot();
        assert!(snapshot
            .servers
            .iter()
            .all(|server| server.mode == Mode::Standby));
        assert_eq!(start.cluster.split_brain().map(<[String]>::len), Some(2));
    }
    let restored = starting_clusters(&names, &version, StartingState::AfterRestore);
    let snapshot = restored[0].cluster.snapshot();
    assert_eq!(snapshot.actives().count(), 1);
    assert!(snapshot
        .standbys()
        .all(|server| server.excluded && server.replication == ReplicationState::StbNoRep));
    let wizard = starting_clusters(&names, &version, StartingState::WizardInterrupted);
    assert_eq!(wizard.len(), 7);
    // Before "current active ready" mgt-1 is still Active; after "server
    // activation" mgt-2 is.
    assert_eq!(
        wizard[0]
            .cluster
            .snapshot()
            .actives()
            .next()
            .map(|s| s.name.clone()),
        Some("mgt-1".to_string())
    );
    assert_eq!(
        wizard[6]
            .cluster
            .snapshot()
            .actives()
            .next()
            .map(|s| s.name.clone()),
        Some("mgt-2".to_string())
    );
    let stopped = starting_clusters(&names, &version, StartingState::StandbyStopped);
    assert!(!stopped[0].cluster.snapshot().servers[2].running);
    let broken = starting_clusters(&names, &version, StartingState::ReplicationBroken);
    assert!(!broken[0].cluster.snapshot().is_healthy());
    assert!(starting_clusters(&names[..1], &version, StartingState::SplitBrain).is_empty());
}

#[test]
fn a_run_that_ends_short_of_its_goal_does_not_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let output = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .args(["run", "--yes", "--sim-start", "after-restore", "--journal"])
        .arg(dir.path().join("run.jsonl"))
        .arg(fixture("reinit-after-restore-forgets-one.runbook"))
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("runbook::run::goal_not_met"), "{all}");
    assert!(all.contains("is still excluded"), "{all}");
    let refused = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .args(["run", "--yes", "--sim-start", "split-brian"])
        .arg(fixture("recover-split.runbook"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("runbook::cluster::unknown_start"));
}

#[test]
fn verify_from_one_state_and_refusals() {
    let output = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .args(["verify", "--max-faults", "0", "--from", "split-brain:x"])
        .arg(fixture("recover-split.runbook"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .args(["verify", "--max-faults", "0", "--from", "split-brain"])
        .arg(fixture("recover-split.runbook"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("split-brain:2"), "{stdout}");
    let output = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .args(["check"])
        .arg(fixture("bad-start.runbook"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(stderr.contains("did you mean `split-brain`"), "{stderr}");
}

/// A server crashes right before any operation (`crash:S`): the verifier
/// explores every occasion, an operation the crash makes fail fails its
/// step (no check could see it coming), and a counterexample after a later
/// crash replays it exactly with `crash:S@N`.
#[test]
fn a_crash_before_any_operation_is_explored_and_replays_with_its_occasion() {
    let report = verify::verify(
        &load("look-twice.runbook"),
        &VerifyOptions {
            servers: 2,
            max_faults: 1,
            ..VerifyOptions::default()
        },
    );
    let found = report
        .counterexamples
        .iter()
        .find(|found| found.property == Property::NotHealthy)
        .expect("a run that succeeds with a crashed server is caught");
    assert_eq!(found.replay.faults, vec!["crash:mgt-2@2".to_string()]);
    assert!(found.replay.exact, "{:?}", found.replay.caveat);
    assert!(
        found.message.contains("mgt-2 is stopped"),
        "{}",
        found.message
    );
    // The crash before the first operation (on mgt-2 itself) fails the
    // run: no counterexample of an unchecked precondition.
    assert!(!report
        .counterexamples
        .iter()
        .any(|found| found.property == Property::UncheckedPrecondition));
}

#[test]
fn only_a_crash_takes_an_occasion() {
    for (fault, code) in [
        ("crash:mgt-2@0", "runbook::cluster::bad_occasion"),
        ("upgrade-fails:mgt-2@2", "runbook::cluster::bad_occasion"),
        ("crash:mgt-9", "runbook::cluster::fault_unknown_server"),
    ] {
        let output = assert_cmd::Command::cargo_bin("runbook")
            .unwrap()
            .args(["run", "--yes", "--sim-fault", fault])
            .arg(fixture("look-twice.runbook"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{fault}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(code),
            "{fault}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
