//! The scenario suite of the shipped runbooks (issue 5), in-process: each
//! row of the table — a runbook, the faults the procedure pages describe,
//! the expected end — runs the runbook embedded in the binary against the
//! simulator on virtual time, and asserts the final cluster, the invariants
//! of `domain.md` (`check_upgraded`, the simulator's recorded
//! `violations()`), the outcome and the messages. The same rows run over
//! HTTP in `tests/scenarios_http.rs`; a few run the built binary at the end
//! of this file.

mod support;

use std::path::Path;

use runbook::check::verify::{self, VerifyOptions};
use runbook::cluster::{FaultEvent, InvariantViolation, Mode, ReplicationState, Simulator};
use runbook::interp::events::{EventKind, RunOutcome};
use support::*;

const DOWNTIME: &str = "upgrade-with-downtime";
const NO_DOWNTIME: &str = "upgrade-no-downtime";
const PREPARATION: &str = "upgrade-preparation";

fn discarded_changes(simulator: &Simulator) -> Vec<(String, String, u64)> {
    simulator
        .violations()
        .iter()
        .filter_map(|violation| match violation {
            InvariantViolation::ChangesDiscarded {
                operation,
                server,
                count,
            } => Some((operation.clone(), server.clone(), *count)),
            _ => None,
        })
        .collect()
}

/// Row 1: "with downtime; preparation — none; 3 and 5 servers — succeeded,
/// all on the target version, one Active ACT_REP, Standbys STB_REP, none
/// excluded".
#[tokio::test]
async fn downtime_and_preparation_without_faults_upgrade_3_and_5_servers() {
    for name in [DOWNTIME, PREPARATION] {
        let program = shipped(name);
        for servers in [3, 5] {
            let connector = sim(servers, &[], 0);
            let played = play(&program, &connector, None, None).await;
            let context = format!("{name}, {servers} servers");
            played.assert_outcome(RunOutcome::Succeeded, &context);
            assert_upgraded(&played.report.cluster, &context);
            let simulator = connector.simulator();
            assert_upgraded(&simulator.snapshot(), &context);
            assert_eq!(active_name(&simulator.snapshot()), "mgt-1", "{context}");
            assert_eq!(simulator.snapshot().servers.len(), servers);
            assert!(
                simulator.violations().is_empty(),
                "{context}: {:?}",
                simulator.violations()
            );
            assert!(
                played.what_ifs().is_empty(),
                "{context}: {:?}",
                played.what_ifs()
            );
            // The page's four steps, in order.
            let steps = played.steps_started();
            let order: Vec<usize> = [
                "stop-servers",
                "upgrade-active",
                "upgrade-standbys",
                "init-standbys",
            ]
            .iter()
            .map(|step| {
                steps
                    .iter()
                    .position(|started| started == step)
                    .unwrap_or_else(|| panic!("{context}: step {step} never started: {steps:?}"))
            })
            .collect();
            assert!(
                order.windows(2).all(|pair| pair[0] < pair[1]),
                "{context}: {steps:?}"
            );
        }
    }
}

/// Row 1 through the preparation's other branches: downtime acceptable, or
/// minimal but servers never switched → with downtime; switched → without.
#[tokio::test]
async fn preparation_chooses_the_method_by_the_page_rules() {
    let program = shipped(PREPARATION);
    for (answers, expected) in [
        ("downtime-acceptable = \"acceptable\"", "stop-servers"),
        (
            "downtime-acceptable = \"minimal\"\nserver-switching = \"never\"",
            "stop-servers",
        ),
        (
            "downtime-acceptable = \"minimal\"\nserver-switching = \"performed\"\nfinal-active = \"mgt-3\"",
            "force-final-active",
        ),
        ("take-backup = \"skip\"", "stop-servers"),
    ] {
        let connector = sim(3, &[], 0);
        let played = play(&program, &connector, Some(answers), None).await;
        played.assert_outcome(RunOutcome::Succeeded, answers);
        assert!(played.steps_started().iter().any(|step| step == expected), "{answers}");
        assert_upgraded(&played.report.cluster, answers);
        let took_backup = !connector.simulator().cluster().backups().is_empty();
        assert_eq!(took_backup, !answers.contains("skip"), "{answers}");
        // The IMPORTANT NOTICE is shown whatever the method.
        assert!(
            played.all_warnings().iter().any(|warning| warning.starts_with("IMPORTANT NOTICE")),
            "{answers}"
        );
    }
}

/// Row 2: "without downtime — none; 3 and 5 servers — the same, and the
/// Active is no longer the Initial Active".
#[tokio::test]
async fn no_downtime_without_faults_upgrades_3_and_5_servers_and_switches_the_active() {
    let program = shipped(NO_DOWNTIME);
    for servers in [3, 5] {
        for extra in ["stop", "exclude"] {
            let connector = sim(servers, &[], 0);
            let answers = format!("extra-standby-handling = \"{extra}\"");
            let played = play(&program, &connector, Some(&answers), None).await;
            let context = format!("{servers} servers, extra Standbys: {extra}");
            played.assert_outcome(RunOutcome::Succeeded, &context);
            let simulator = connector.simulator();
            let snapshot = simulator.snapshot();
            assert_upgraded(&snapshot, &context);
            // The Initial Active (mgt-1) is a Standby; the Final Active (the
            // first Standby offered, mgt-2) is the Active.
            assert_eq!(active_name(&snapshot), "mgt-2", "{context}");
            assert_eq!(
                snapshot.server("mgt-1").map(|server| server.mode),
                Some(Mode::Standby)
            );
            assert!(
                simulator.violations().is_empty(),
                "{context}: {:?}",
                simulator.violations()
            );
            // Without changes, steps 4 and 5 count 0 and nothing is asked.
            let counted = played.warnings("runbook::run::discards_changes");
            assert_eq!(counted.len(), 2, "{context}");
            assert!(counted
                .iter()
                .all(|(_, message)| discarded_count(message) == 0));
            // The page's seven steps, in order.
            let steps = played.steps_started();
            let expected = [
                "exclude-final-active",
                "take-out-extra-standbys",
                "upgrade-final-active",
                "force-final-active",
                "demote-initial-active",
                "upgrade-initial-active",
                "upgrade-other-standbys",
                "init-standbys",
            ];
            let positions: Vec<usize> = expected
                .iter()
                .map(|step| {
                    steps
                        .iter()
                        .position(|started| started == step)
                        .expect("step ran")
                })
                .collect();
            assert!(
                positions.windows(2).all(|pair| pair[0] < pair[1]),
                "{context}: {steps:?}"
            );
        }
    }
}

/// Row 3: "preparation — replication-down — the downtime method is chosen
/// and the upgrade succeeds", even when the operator would rather avoid
/// downtime.
#[tokio::test]
async fn preparation_with_replication_down_chooses_downtime_and_succeeds() {
    let program = shipped(PREPARATION);
    for answers in [
        None,
        Some("downtime-acceptable = \"minimal\"\nserver-switching = \"performed\""),
    ] {
        let connector = sim(3, &["replication-down"], 0);
        let before = connector.simulator().snapshot();
        assert_eq!(state_of(&before, "mgt-2"), ReplicationState::BrokenActStb);
        let played = play(&program, &connector, answers, None).await;
        played.assert_outcome(RunOutcome::Succeeded, &format!("{answers:?}"));
        let steps = played.steps_started();
        assert!(steps.iter().any(|step| step == "stop-servers"), "{steps:?}");
        assert!(
            !steps.iter().any(|step| step == "force-final-active"),
            "{steps:?}"
        );
        assert!(
            played
                .all_warnings()
                .iter()
                .any(|warning| warning.starts_with("Replication is down")),
            "the operator is told that replication is down"
        );
        let simulator = connector.simulator();
        assert_upgraded(&simulator.snapshot(), "replication-down");
        assert!(
            safety_violations(&simulator).is_empty(),
            "{:?}",
            simulator.violations()
        );
    }
}

/// Row 4: "with downtime — active-upgrade-cancelled — the What-if runs; one
/// Active, replication restored, the operator told what happened". With
/// replication still declared (Standbys stopped) and not (Standbys
/// excluded), and with the backup restored.
#[tokio::test]
async fn a_cancelled_active_upgrade_runs_the_what_if_and_restores_replication() {
    for (name, answers) in [
        (DOWNTIME, "standby-handling = \"stop\""),
        (DOWNTIME, "standby-handling = \"exclude\""),
        (PREPARATION, "after-cancel = \"restore-backup\""),
        (
            PREPARATION,
            "standby-handling = \"exclude\"\nafter-cancel = \"keep-state\"",
        ),
    ] {
        let program = shipped(name);
        for servers in [3, 5] {
            let context = format!("{name}, {answers}, {servers} servers");
            let connector = sim(servers, &["active-upgrade-cancelled"], 0);
            let played = play(&program, &connector, Some(answers), None).await;
            assert_eq!(played.what_ifs(), ["active-upgrade-cancelled"], "{context}");
            played.assert_outcome(RunOutcome::Stopped, &context);
            assert!(
                played.report.message.contains("cancelled")
                    && played.report.message.contains("replication")
                    && played.report.message.contains("run the upgrade again"),
                "{context}: the operator is told: {}",
                played.report.message
            );
            assert!(
                played
                    .all_warnings()
                    .iter()
                    .any(|warning| warning.contains("cancelled")),
                "{context}"
            );
            let simulator = connector.simulator();
            let snapshot = simulator.snapshot();
            // One Active, the original one, replication restored on the
            // previous version.
            assert_eq!(active_name(&snapshot), "mgt-1", "{context}");
            assert_healthy_on(&snapshot, &initial(), &context);
            assert!(
                safety_violations(&simulator).is_empty(),
                "{context}: {:?}",
                simulator.violations()
            );
            if answers.contains("restore-backup") {
                assert!(
                    played.first_operation("restore-backup mgt-1").is_some(),
                    "{context}: the backup is restored"
                );
            }
        }
    }
}

/// The changes the operator made on the Standby it activated.
fn urgent_changes_made(simulator: &Simulator) -> u64 {
    simulator
        .fired_faults()
        .iter()
        .find_map(|fired| match &fired.event {
            FaultEvent::StandbyActivatedByOperator { changes, .. } => Some(*changes),
            _ => None,
        })
        .expect("the operator activated a Standby")
}

/// The promoted server a fault made Active, as the simulator recorded it.
fn promoted_by_fault(simulator: &Simulator) -> String {
    simulator
        .fired_faults()
        .iter()
        .find_map(|fired| match &fired.event {
            FaultEvent::StandbyAutoActivates { server }
            | FaultEvent::StandbyActivatedByOperator { server, .. } => Some(server.clone()),
            _ => None,
        })
        .expect("a Standby was activated")
}

/// Row 5: "with downtime — standby-auto-activates — never two Actives at the
/// end; recovered or stopped with instructions", whichever Standby the seed
/// activates, Standbys stopped or excluded in step 1, 3 and 5 servers.
#[tokio::test]
async fn a_standby_that_activates_itself_never_leaves_two_actives() {
    let program = shipped(DOWNTIME);
    for servers in [3, 5] {
        for seed in 0..4 {
            for handling in ["stop", "exclude"] {
                let context = format!("{servers} servers, seed {seed}, Standbys {handling}");
                let connector = sim(servers, &["standby-auto-activates"], seed);
                // The operator names the server that activated itself (the
                // what_if reason says which); a first run finds it.
                let probe = sim(servers, &["standby-auto-activates"], seed);
                let answers = format!("standby-handling = \"{handling}\"");
                play(&program, &probe, Some(&answers), None).await;
                let promoted = promoted_by_fault(&probe.simulator());
                let answers = format!("{answers}\npromoted-server = \"{promoted}\"");
                let played = play(&program, &connector, Some(&answers), None).await;
                assert_eq!(played.what_ifs(), ["standby-activated"], "{context}");
                assert!(
                    played
                        .what_if_reason("standby-activated")
                        .is_some_and(|reason| reason.contains(&promoted)),
                    "{context}: the reason names {promoted}"
                );
                let simulator = connector.simulator();
                let snapshot = simulator.snapshot();
                assert!(
                    running_actives(&snapshot).len() <= 1,
                    "{context}: {snapshot:#?}"
                );
                match played.outcome() {
                    RunOutcome::Succeeded => assert_upgraded(&snapshot, &context),
                    other => panic!("{context}: {other:?}: {}", played.report.message),
                }
                // Recovered: the upgraded Active keeps the configuration.
                assert_eq!(active_name(&snapshot), "mgt-1", "{context}");
                assert!(
                    safety_violations(&simulator).is_empty(),
                    "{context}: {:?}",
                    simulator.violations()
                );
            }
        }
    }
}

/// Row 6: "with downtime — standby-activated-by-operator — option 1 and
/// option 2 each lead to a healthy upgraded cluster". Option 1 keeps the
/// urgent change (the promoted server ends Active, the change replicated
/// everywhere); option 2 discards it, after a warning that counts it.
#[tokio::test]
async fn an_operator_activated_standby_option_1_and_option_2_end_healthy() {
    let program = shipped(DOWNTIME);
    for servers in [3, 5] {
        for handling in ["stop", "exclude"] {
            let probe = sim(servers, &["standby-activated-by-operator"], 0);
            play(
                &program,
                &probe,
                Some(&format!("standby-handling = \"{handling}\"")),
                None,
            )
            .await;
            let promoted = promoted_by_fault(&probe.simulator());
            for option in ["keep", "discard"] {
                let context = format!("{servers} servers, Standbys {handling}, option {option}");
                let connector = sim(servers, &["standby-activated-by-operator"], 0);
                let answers = format!(
                    "standby-handling = \"{handling}\"\npromoted-server = \"{promoted}\"\nurgent-change = \"{option}\""
                );
                let played = play(&program, &connector, Some(&answers), None).await;
                assert_eq!(played.what_ifs(), ["standby-activated"], "{context}");
                played.assert_outcome(RunOutcome::Succeeded, &context);
                let simulator = connector.simulator();
                let snapshot = simulator.snapshot();
                assert_upgraded(&snapshot, &context);
                assert!(
                    safety_violations(&simulator).is_empty(),
                    "{context}: {:?}",
                    simulator.violations()
                );
                let urgent_changes = urgent_changes_made(&simulator);
                assert!(urgent_changes > 0, "{context}");
                if option == "keep" {
                    // Option 1: the promoted server is the Active, its change
                    // reached every server, nothing was discarded.
                    assert!(played
                        .steps_started()
                        .contains(&"keep-urgent-change".to_string()));
                    assert_eq!(active_name(&snapshot), promoted, "{context}");
                    let revision = snapshot
                        .server(&promoted)
                        .map(|server| server.config_revision);
                    assert!(
                        snapshot
                            .servers
                            .iter()
                            .all(|server| Some(server.config_revision) == revision),
                        "{context}: {snapshot:#?}"
                    );
                    assert!(discarded_changes(&simulator).is_empty(), "{context}");
                } else {
                    // Option 2: the previous Active is Active again; the
                    // discarded changes were counted before they were lost.
                    assert!(played
                        .steps_started()
                        .contains(&"discard-urgent-change".to_string()));
                    assert_eq!(active_name(&snapshot), "mgt-1", "{context}");
                    let counted = played.warnings("runbook::run::discards_changes");
                    assert_eq!(counted.len(), 1, "{context}");
                    assert_eq!(discarded_count(&counted[0].1), urgent_changes, "{context}");
                    assert!(counted[0].1.contains(&promoted), "{context}");
                    let lost = discarded_changes(&simulator);
                    assert!(
                        lost.iter()
                            .all(|(_, server, count)| *server == promoted
                                && *count <= urgent_changes),
                        "{context}: {lost:?}"
                    );
                    assert!(!lost.is_empty(), "{context}");
                }
            }
        }
    }
}

/// Row 7: "without downtime — changes-on-active — a warning with the number
/// of changes that will be lost, before they are".
#[tokio::test]
async fn changes_on_the_initial_active_are_counted_before_they_are_lost() {
    let program = shipped(NO_DOWNTIME);
    for servers in [3, 5] {
        let connector = sim(servers, &["changes-on-active"], 0);
        let played = play(&program, &connector, None, None).await;
        played.assert_outcome(RunOutcome::Succeeded, "");
        let simulator = connector.simulator();
        assert_upgraded(&simulator.snapshot(), "changes-on-active");
        assert!(
            safety_violations(&simulator).is_empty(),
            "{:?}",
            simulator.violations()
        );

        // The page's warning comes first, when the run starts.
        let page_warning = played
            .all_warnings()
            .iter()
            .position(|warning| warning.starts_with("Any changes made on the Active Server after the upgrade process has started will be lost"));
        assert!(page_warning.is_some());

        // Then the count, with the number of changes lost on the Initial
        // Active: before the Final Active is forced Active (step 4), and
        // again, up to date, before the Initial Active is forced to Standby
        // (step 5), which is where they are lost.
        let counted = played.warnings("runbook::run::discards_changes");
        assert_eq!(counted.len(), 2, "{counted:?}");
        let (before_activation, first) = &counted[0];
        let (at, message) = &counted[1];
        assert!(
            first.contains("force-final-active") && first.contains("mgt-1"),
            "{first}"
        );
        assert!(
            message.contains("demote-initial-active") && message.contains("mgt-1"),
            "{message}"
        );
        assert!(
            discarded_count(first) > 0,
            "the fault made changes: {first}"
        );
        let announced = discarded_count(message);
        assert!(announced >= discarded_count(first));
        let activation = played
            .first_operation("force-activate mgt-2")
            .expect("step 4 ran");
        let demotion = played
            .first_operation("set-standby mgt-1")
            .expect("step 5 ran");
        assert!(*before_activation < activation && activation < *at && *at < demotion);
        // The operator confirmed losing them once, in step 4, while one
        // server was still Active; step 5 loses no more than that (virtual
        // time does not pass between them), so it announces but does not
        // ask again — a refusal there could only leave two Actives.
        let discard_prompts: Vec<&str> = played
            .events
            .iter()
            .filter_map(|event| match event {
                EventKind::Prompt { id, .. } if id.ends_with(".discard-changes") => {
                    Some(id.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(discard_prompts, ["force-final-active.discard-changes"]);
        assert_eq!(discarded_count(first), announced);
        // And what the simulator saw lost when the Initial Active was set to
        // Standby is exactly what was announced: nothing lost silently.
        let lost = discarded_changes(&simulator);
        let at_demotion: Vec<u64> = lost
            .iter()
            .filter(|(operation, server, _)| {
                operation.starts_with("set-standby mgt-1") && server == "mgt-1"
            })
            .map(|(_, _, count)| *count)
            .collect();
        assert_eq!(at_demotion, [announced], "{lost:?}");
    }
}

/// Declining to lose the changes stops the run before two servers are Active.
#[tokio::test]
async fn declining_to_lose_the_changes_stops_with_the_initial_active() {
    let program = shipped(NO_DOWNTIME);
    let connector = sim(3, &["changes-on-active"], 0);
    let played = play(
        &program,
        &connector,
        Some("\"force-final-active.discard-changes\" = false"),
        None,
    )
    .await;
    played.assert_outcome(RunOutcome::Stopped, "");
    let snapshot = connector.simulator().snapshot();
    assert_eq!(active_name(&snapshot), "mgt-1");
    assert!(played.first_operation("force-activate").is_none());
}

/// Row 8: "any — upgrade-fails:SERVER — stopped with one Active and a
/// message saying how to continue", for every runbook and every server.
#[tokio::test]
async fn a_failed_installer_stops_with_one_active_and_says_how_to_continue() {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        let program = shipped(name);
        for server in ["mgt-1", "mgt-2", "mgt-3"] {
            let context = format!("{name}, upgrade-fails:{server}");
            let fault = format!("upgrade-fails:{server}");
            let connector = sim(3, &[fault.as_str()], 0);
            let played = play(&program, &connector, None, None).await;
            played.assert_outcome(RunOutcome::Stopped, &context);
            assert_eq!(played.what_ifs(), ["installer-failed"], "{context}");
            assert!(
                played
                    .what_if_reason("installer-failed")
                    .is_some_and(|reason| reason.contains(server)),
                "{context}: the reason names the server"
            );
            let message = &played.report.message;
            assert!(
                message.contains("installer")
                    && (message.contains("runbook resume")
                        || message.contains("run the upgrade again")),
                "{context}: how to continue: {message}"
            );
            let simulator = connector.simulator();
            let snapshot = simulator.snapshot();
            assert_eq!(
                running_actives(&snapshot).len(),
                1,
                "{context}: {snapshot:#?}"
            );
            assert!(
                safety_violations(&simulator).is_empty(),
                "{context}: {:?}",
                simulator.violations()
            );
        }
    }
}

/// Row 8, continued: following the message — `runbook resume` once the
/// installer is fixed — completes the upgrade.
#[tokio::test]
async fn after_a_failed_installer_resume_completes_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, server) in [
        (DOWNTIME, "mgt-2"),
        (DOWNTIME, "mgt-3"),
        (NO_DOWNTIME, "mgt-1"),
        (NO_DOWNTIME, "mgt-2"),
        (NO_DOWNTIME, "mgt-3"),
    ] {
        let context = format!("{name}, upgrade-fails:{server}");
        let program = shipped(name);
        let fault = format!("upgrade-fails:{server}");
        let connector = sim(3, &[fault.as_str()], 0);
        let journal = dir.path().join(format!("{name}-{server}.jsonl"));
        let played = play(&program, &connector, None, Some(&journal)).await;
        assert_eq!(played.outcome(), RunOutcome::Stopped, "{context}");
        assert!(
            played.report.message.contains("runbook resume"),
            "{context}: {}",
            played.report.message
        );
        // The installer now works (the fault fires once): resume.
        let resumed = resume(&program, &connector, &journal).await;
        resumed.assert_outcome(RunOutcome::Succeeded, &context);
        let simulator = connector.simulator();
        assert_upgraded(&simulator.snapshot(), &context);
        assert!(
            safety_violations(&simulator).is_empty(),
            "{context}: {:?}",
            simulator.violations()
        );
    }
}

/// Row 9: "any — unreachable:SERVER — no hang; a clear diagnostic naming the
/// server", before anything was changed.
#[tokio::test]
async fn an_unreachable_server_is_named_and_nothing_changes() {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        let program = shipped(name);
        for server in ["mgt-1", "mgt-2", "mgt-3"] {
            let context = format!("{name}, unreachable:{server}");
            let fault = format!("unreachable:{server}");
            let connector = sim(3, &[fault.as_str()], 0);
            let played = play(&program, &connector, None, None).await;
            assert_eq!(played.outcome(), RunOutcome::Failed, "{context}");
            let message = &played.report.message;
            assert!(
                message.contains(server),
                "{context}: the diagnostic names the server: {message}"
            );
            assert!(message.contains("did not answer"), "{context}: {message}");
            let error = played.report.error.as_ref().expect("a diagnostic");
            assert!(error.to_string().contains(server), "{context}: {error}");
            // Nothing was changed: every server still on its version, the
            // Active still Active, nothing excluded or stopped.
            let simulator = connector.simulator();
            let snapshot = simulator.cluster().snapshot();
            assert_healthy_on(&snapshot, &initial(), &context);
            assert_eq!(active_name(&snapshot), "mgt-1");
        }
    }
}

/// Every shipped runbook is proven by the verifier with 3 and 5 servers:
/// every path, fault and operator choice of the model keeps the invariants.
#[test]
fn every_shipped_runbook_is_proven_by_the_verifier() {
    for name in [DOWNTIME, NO_DOWNTIME, PREPARATION] {
        let program = shipped(name);
        for servers in [3, 5] {
            let report = verify::verify(
                &program,
                &VerifyOptions {
                    servers,
                    ..VerifyOptions::default()
                },
            );
            let found = counterexample_lines(&report);
            assert!(report.proven(), "{name}, {servers} servers: {found:#?}");
        }
    }
}

/// `runbook list` shows the three runbooks and no `lib/` procedure; `runbook
/// show` prints the embedded source; the shipped files check clean.
#[test]
fn the_shipped_runbooks_are_listed_shown_and_check_clean() {
    let output = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["list", "--format", "json"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs");
    assert!(output.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| entry["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, [NO_DOWNTIME, PREPARATION, DOWNTIME]);
    for entry in listed.as_array().expect("array") {
        assert!(!entry["title"].as_str().unwrap_or("").is_empty());
        assert!(!entry["summary"].as_str().unwrap_or("").is_empty());
    }
    let human = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .arg("list")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("Upgrade with downtime (recommended)"),
        "{text}"
    );
    assert!(!text.contains("exclude-server"), "{text}");

    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    for (name, path) in [
        (DOWNTIME, "upgrade-with-downtime.runbook"),
        ("lib/exclude-server.runbook", "lib/exclude-server.runbook"),
        ("init-standby", "lib/init-standby.runbook"),
    ] {
        let shown = assert_cmd::Command::cargo_bin("runbook")
            .expect("binary")
            .args(["show", name])
            .current_dir(std::env::temp_dir())
            .output()
            .expect("runs");
        assert!(shown.status.success(), "{name}");
        let on_disk = std::fs::read_to_string(repository.join(path)).expect("file");
        assert_eq!(String::from_utf8_lossy(&shown.stdout), on_disk, "{name}");
    }
    let unknown = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["show", "no-such-runbook"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("upgrade-with-downtime"));

    let checked = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .arg("check")
        .arg(&repository)
        .output()
        .expect("runs");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// A few rows through the built binary, as a user runs them: `--format
/// json`, answers files from `tests/fixtures/answers/`, from a directory
/// without the repository (the runbooks are embedded).
#[test]
fn rows_through_the_binary_with_answers_files() {
    let answers_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/answers");
    let dir = tempfile::tempdir().expect("tempdir");
    for (runbook, faults, answers, outcome, what_if) in [
        (DOWNTIME, vec![], None, "succeeded", None),
        (
            NO_DOWNTIME,
            vec!["changes-on-active"],
            None,
            "succeeded",
            None,
        ),
        (
            DOWNTIME,
            vec!["standby-activated-by-operator"],
            Some("option-1.toml"),
            "succeeded",
            Some("standby-activated"),
        ),
        (
            DOWNTIME,
            vec!["standby-activated-by-operator"],
            Some("option-2.toml"),
            "succeeded",
            Some("standby-activated"),
        ),
        (
            PREPARATION,
            vec!["replication-down"],
            Some("no-downtime-wanted.toml"),
            "succeeded",
            None,
        ),
        (
            DOWNTIME,
            vec!["upgrade-fails:mgt-2"],
            None,
            "stopped",
            Some("installer-failed"),
        ),
        (DOWNTIME, vec!["unreachable:mgt-3"], None, "failed", None),
    ] {
        let mut command = assert_cmd::Command::cargo_bin("runbook").expect("binary");
        command
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["run", runbook, "--yes", "--format", "json"]);
        for fault in &faults {
            command.args(["--sim-fault", fault]);
        }
        if let Some(file) = answers {
            command.arg("--answers").arg(answers_dir.join(file));
        }
        let output = command.output().expect("runs");
        let context = format!("{runbook} {faults:?} {answers:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let events: Vec<serde_json::Value> = stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| panic!("{context}: not JSON: {line}"))
            })
            .collect();
        let last = events.last().expect("events");
        assert_eq!(last["event"], "run_finished", "{context}");
        assert_eq!(last["outcome"], outcome, "{context}: {last}");
        let expected_code = if outcome == "succeeded" { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(expected_code), "{context}");
        let servers = last["cluster"]["servers"].as_array().expect("servers");
        let actives = servers
            .iter()
            .filter(|server| server["running"] == true && server["mode"] == "active")
            .count();
        assert_eq!(actives, 1, "{context}: {last}");
        if outcome == "succeeded" {
            assert!(
                servers
                    .iter()
                    .all(|server| server["version"] == TARGET && server["excluded"] == false),
                "{context}"
            );
        }
        let entered: Vec<&str> = events
            .iter()
            .filter(|event| event["event"] == "what_if")
            .filter_map(|event| event["name"].as_str())
            .collect();
        assert_eq!(entered.first().copied(), what_if, "{context}");
        if faults.contains(&"changes-on-active") {
            let warning = events
                .iter()
                .position(|event| {
                    event["event"] == "warning" && event["code"] == "runbook::run::discards_changes"
                })
                .expect("the count is a warning event");
            let message = events[warning]["message"].as_str().unwrap_or("");
            assert!(discarded_count(message) > 0, "{message}");
            let demoted = events
                .iter()
                .position(|event| {
                    event["event"] == "step_started" && event["step"] == "demote-initial-active"
                })
                .expect("step 5 ran");
            assert!(warning < demoted);
        }
        if faults.iter().any(|fault| fault.starts_with("unreachable:")) {
            assert!(
                last["message"].as_str().unwrap_or("").contains("mgt-3"),
                "{context}: {last}"
            );
        }
    }
}
