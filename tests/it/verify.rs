//! The verifier: every fixture with a deliberate mistake yields a
//! counterexample (snapshot of what a user sees), the shipped no-downtime
//! runbook is proven, the CLI keeps its exit codes and JSON shape, and a
//! counterexample replays on the simulator through the interpreter.

use std::path::Path;

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::check::verify::{self, Property, VerifyOptions, VerifyReport};
use runbook::interp::load::load_path;
use runbook::interp::program::Program;

fn load(path: &Path) -> Program {
    let absolute = std::fs::canonicalize(path).expect("fixture exists");
    let mut program = load_path(&absolute, &path.display().to_string()).expect("fixture parses");
    let name = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string();
    program.files[program.main].name = name.clone();
    program.reference = name;
    program
}

fn render(program: &Program, report: &verify::VerifyReport) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false);
    verify::render_human(report, program, &handler, false)
}

#[test]
fn fixtures_with_mistakes_yield_counterexamples() {
    insta::glob!("..", "fixtures/verify/*.runbook", |path| {
        let program = load(path);
        let report = verify::verify(&program, &VerifyOptions::default());
        assert!(
            !report.counterexamples.is_empty(),
            "{} should have a counterexample",
            path.display()
        );
        insta::assert_snapshot!(render(&program, &report));
    });
}

#[test]
fn each_fixture_breaks_its_property() {
    let expected = [
        (
            "standby-not-excluded",
            Property::ActiveUpgradedWithDeclaredStandby,
        ),
        ("force-activation-unpaired", Property::TwoActives),
        (
            "discard-without-count",
            Property::ChangesDiscardedUnreported,
        ),
        (
            "cancelled-upgrade-unhandled",
            Property::UncheckedPrecondition,
        ),
        ("window-too-long", Property::WindowExceeded),
        ("two-actives-during-upgrade", Property::TwoActives),
        (
            "option-discard-without-count",
            Property::ChangesDiscardedUnreported,
        ),
    ];
    for (name, property) in expected {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/verify")
            .join(format!("{name}.runbook"));
        let report = verify::verify(&load(&path), &VerifyOptions::default());
        assert!(
            report
                .counterexamples
                .iter()
                .any(|counterexample| counterexample.property == property),
            "{name}: expected {property:?}, found {:?}",
            report
                .counterexamples
                .iter()
                .map(|counterexample| counterexample.property)
                .collect::<Vec<_>>()
        );
    }
}

/// The fixes of fixtures with mistakes (`fixtures/verify/clean/`) are proven.
#[test]
fn fixed_fixtures_are_proven() {
    insta::glob!("..", "fixtures/verify/clean/*.runbook", |path| {
        let program = load(path);
        let report = verify::verify(&program, &VerifyOptions::default());
        assert!(report.proven(), "{}", render(&program, &report));
    });
}

/// `discards changes on` on the option is the report: both answers to its
/// confirmation are explored, and declining stops before the option acts.
#[test]
fn an_options_discard_clause_is_explored_both_ways() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify/clean/option-discard-with-count.runbook");
    let program = load(&path);
    let report = verify::verify(&program, &VerifyOptions::default());
    assert!(report.proven(), "{}", render(&program, &report));
    let changes = report
        .configurations
        .iter()
        .find(|configuration| configuration.faults == "changes-on-active")
        .expect("configuration explored");
    // Per final Active (2): `later`, `now` confirmed, `now` declined; without
    // changes nothing is asked: `later` and `now`.
    assert_eq!(changes.stopped, 6, "{changes:?}");
    assert_eq!(report.configurations[0].faults, "no fault");
    assert_eq!(report.configurations[0].stopped, 4);
}

fn shipped(name: &str) -> Program {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("runbooks")
            .join(format!("{name}.runbook")),
    )
}

#[test]
fn shipped_no_downtime_is_proven_with_3_and_5_servers() {
    for servers in [3, 5] {
        let program = shipped("upgrade-no-downtime");
        let report = verify::verify(
            &program,
            &VerifyOptions {
                servers,
                ..VerifyOptions::default()
            },
        );
        assert!(report.proven(), "{}", render(&program, &report));
        // The fault-free run succeeds on some path and the faults the page
        // names are handled by a What-if.
        let fault_free = &report.configurations[0];
        assert!(fault_free.succeeded > 0);
        let cancelled = report
            .configurations
            .iter()
            .find(|configuration| configuration.faults == "active-upgrade-cancelled")
            .expect("configuration explored");
        assert_eq!(cancelled.coverage, verify::Coverage::Handled);
    }
}

#[test]
fn json_report_has_paths_and_replay() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify/force-activation-unpaired.runbook");
    let program = load(&path);
    let report = verify::verify(&program, &VerifyOptions::default());
    let json = serde_json::to_value(verify::to_json(&report, &program)).expect("JSON");
    assert_eq!(json["proven"], false);
    let first = &json["counterexamples"][0];
    assert_eq!(first["code"], "runbook::verify::two_actives");
    assert!(first["line"].as_u64().unwrap_or(0) > 0);
    assert!(first["path"]
        .as_array()
        .is_some_and(|path| !path.is_empty()));
    assert_eq!(first["replay"]["answers"]["final-active"], "mgt-2");
    assert!(first["replay"]["command"]
        .as_str()
        .is_some_and(|command| command.starts_with("runbook run ")));
    assert_eq!(first["cluster"]["servers"][1]["mode"], "active");
}

#[test]
fn cli_exit_codes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let replay_dir = tempfile::tempdir().expect("temp dir");
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime"])
        .current_dir(root)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("proven"));
    let output = assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args([
            "verify",
            "tests/fixtures/verify/force-activation-unpaired.runbook",
            "--format",
            "json",
            "--replay-dir",
        ])
        .arg(replay_dir.path())
        .current_dir(root)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&output).expect("json");
    let answers = json["counterexamples"][0]["replay"]["answers_file"]
        .as_str()
        .expect("answers file written");
    let text = std::fs::read_to_string(answers).expect("answers readable");
    assert!(text.contains("final-active = \"mgt-2\""), "{text}");
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime", "--servers", "0"])
        .current_dir(root)
        .assert()
        .code(2);
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "no/such/file.runbook"])
        .current_dir(root)
        .assert()
        .code(2);
}

/// Every counterexample, played on the simulator through the interpreter with
/// its faults and answers file, takes the same path.
#[test]
fn counterexamples_replay_on_the_simulator() {
    let mut programs: Vec<Program> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify"))
            .expect("fixtures")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "runbook")
            })
            .map(|path| load(&path))
            .collect();
    programs.push(shipped("upgrade-with-downtime"));
    for program in programs {
        let report = verify::verify(&program, &VerifyOptions::default());
        for counterexample in &report.counterexamples {
            if later_occasion(counterexample) {
                continue;
            }
            let replayed = verify::replay_on_simulator(
                &program,
                report.servers,
                &counterexample.replay,
                &counterexample.path,
            )
            .expect("the replay runs");
            assert!(
                replayed.same_path && counterexample.replay.exact,
                "{} {}: the simulator performed {:?}",
                program.name(),
                counterexample.code,
                replayed.operations
            );
        }
    }
}

/// The simulator fires each fault at its first occasion: a counterexample
/// where a fault fires at a later one says so and cannot be played exactly.
fn later_occasion(counterexample: &verify::Counterexample) -> bool {
    !counterexample.replay.exact
        && counterexample
            .replay
            .caveat
            .as_deref()
            .is_some_and(|caveat| caveat.contains("later occasion"))
}

/// The `--format json` document of a counterexample, as scripts read it
/// (timing removed).
#[test]
fn json_report_snapshot() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify/standby-not-excluded.runbook");
    let program = load(&path);
    let report = verify::verify(&program, &VerifyOptions::default());
    let mut json = serde_json::to_value(verify::to_json(&report, &program)).expect("JSON");
    if let Some(object) = json.as_object_mut() {
        object.remove("timing");
        object.remove("configurations");
    }
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).expect("json"));
}

/// A path longer than the budget between two branch points is a limit
/// reached (an incomplete exploration), never a counterexample: the
/// language's loops are bounded, so a long path is not an endless one.
#[test]
fn a_long_path_is_a_limit_reached_not_a_counterexample() {
    let text = "runbook long-loops {\n    title \"Long nested loops\"\n    step 1 count \"Count\" {\n        for a in servers() {\n            for b in servers() {\n                for c in servers() {\n                    note \"tick\"\n                }\n            }\n        }\n    }\n}\n";
    let program = runbook::interp::load::load_text("long-loops.runbook", text).expect("loads");
    let short = VerifyOptions {
        max_path_effects: 20,
        ..VerifyOptions::default()
    };
    let report = verify::verify(&program, &short);
    assert!(
        report.counterexamples.is_empty(),
        "{:?}",
        report.counterexamples
    );
    assert!(!report.complete && !report.proven());
    assert!(verify::summary(&report, false).contains("incomplete (a limit was reached)"));
    let enough = verify::verify(&program, &VerifyOptions::default());
    assert!(enough.complete, "27 notes fit the default budget");
}

/// Two Actives are judged whenever time passes (every phase of a background
/// operation, a `wait`, a prompt), not only at step boundaries: two Actives
/// for the whole of an installer inside one step are a counterexample at
/// the installer.
#[test]
fn two_actives_may_not_last_inside_a_step() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify/two-actives-during-upgrade.runbook");
    let program = load(&path);
    let report = verify::verify(&program, &VerifyOptions::default());
    let found = report
        .counterexamples
        .iter()
        .find(|counterexample| counterexample.property == Property::TwoActives)
        .expect("two_actives found");
    assert!(
        found
            .message
            .contains("while `upgrade mgt-3 to 7.4.0` runs (phase: stopping services)"),
        "{}",
        found.message
    );
    assert_eq!(found.configuration, "no fault");
    // The shipped runbooks keep their verdicts (no-downtime is proven above).
    for name in ["upgrade-with-downtime", "upgrade-preparation"] {
        let report = verify::verify(&shipped(name), &VerifyOptions::default());
        assert!(
            report
                .counterexamples
                .iter()
                .all(
                    |counterexample| counterexample.property != Property::TwoActives
                        || !counterexample.message.contains(" while ")
                ),
            "{name}: {:?}",
            report
                .counterexamples
                .iter()
                .map(|counterexample| &counterexample.message)
                .collect::<Vec<_>>()
        );
    }
}

/// The worst-case duration: every path's model time, the longest of each
/// outcome with its path and the time of each event, the longest of each
/// configuration, and the library function the interpreter can ask.
#[test]
fn worst_case_durations_are_reported() {
    let program = shipped("upgrade-no-downtime");
    let report = verify::verify(&program, &VerifyOptions::default());
    let longest = report.worst_path().expect("a path ends");
    let succeeded = report
        .worst
        .iter()
        .find(|path| path.outcome == runbook::interp::events::RunOutcome::Succeeded)
        .expect("a path succeeds");
    // Three installers at their full duration at least.
    assert!(
        succeeded.duration
            >= 3 * runbook::cluster::durations::expected(&runbook::cluster::Operation::Upgrade {
                server: String::from("mgt-1"),
                version: "7.4.0".parse().expect("version"),
            }),
        "{:?}",
        succeeded.duration
    );
    assert!(longest.duration >= succeeded.duration);
    assert_eq!(longest.path.len(), longest.stamps.len());
    assert!(longest.stamps.windows(2).all(|pair| pair[0] <= pair[1]));
    let configurations = report
        .configurations
        .iter()
        .filter_map(|configuration| configuration.worst_case_seconds)
        .max();
    assert_eq!(configurations, Some(longest.duration.as_secs()));
    // The library function agrees, from the start and from a step.
    let options = VerifyOptions {
        check_replays: false,
        ..VerifyOptions::default()
    };
    let whole = verify::worst_case(&program, &options, verify::Since::Start).expect("a path ends");
    assert_eq!(whole.duration, longest.duration);
    assert!(whole.complete);
    let rest = verify::worst_case(
        &program,
        &options,
        verify::Since::Step("upgrade-initial-active"),
    )
    .expect("the step is reached");
    assert!(rest.duration < whole.duration, "{rest:?} {whole:?}");
    assert!(verify::worst_case(&program, &options, verify::Since::Step("no-such-step")).is_none());
    // Every step at once (what a run with `--window-ends` computes) is
    // what each step alone gives.
    let all = verify::worst_cases(&program, &options);
    assert_eq!(all.start.as_ref(), Some(&whole));
    assert_eq!(all.steps.get("upgrade-initial-active"), Some(&rest));
    assert!(!all.steps.contains_key("no-such-step"));
    for (step, worst) in &all.steps {
        assert_eq!(
            verify::worst_case(&program, &options, verify::Since::Step(step)).as_ref(),
            Some(worst),
            "{step}"
        );
    }
    // A prompt that counts adds up on the longest path.
    let slow = verify::worst_case(
        &program,
        &VerifyOptions {
            prompt_time: std::time::Duration::from_secs(600),
            ..options.clone()
        },
        verify::Since::Start,
    )
    .expect("a path ends");
    assert!(slow.duration > whole.duration);
    let text = render(&program, &report);
    assert!(text.contains("worst-case duration: "), "{text}");
    assert!(text.contains("longest succeeded path ("), "{text}");
}

/// `--window`: every path fits, or the longest is a `window_overrun`
/// counterexample naming the step under way when the window ends.
#[test]
fn a_window_is_proven_or_overrun() {
    let program = shipped("upgrade-no-downtime");
    let fits = verify::verify(
        &program,
        &VerifyOptions {
            window: Some(std::time::Duration::from_secs(24 * 3600)),
            ..VerifyOptions::default()
        },
    );
    assert!(fits.proven());
    assert_eq!(fits.fits_window(), Some(true));
    let short = verify::verify(
        &program,
        &VerifyOptions {
            window: Some(std::time::Duration::from_secs(30 * 60)),
            ..VerifyOptions::default()
        },
    );
    assert!(!short.proven());
    assert_eq!(short.fits_window(), Some(false));
    let overrun = short
        .counterexamples
        .iter()
        .find(|counterexample| counterexample.property == Property::WindowOverrun)
        .expect("window_overrun");
    assert_eq!(overrun.code, "runbook::verify::window_overrun");
    assert!(
        overrun
            .message
            .contains("longer than the 30m window; the window ends during step `"),
        "{}",
        overrun.message
    );
    let json = serde_json::to_value(verify::to_json(&short, &program)).expect("JSON");
    assert_eq!(json["worst_case"]["fits_window"], false);
    assert_eq!(json["worst_case"]["window_seconds"], 1800);
    assert!(
        json["worst_case"]["longest"]["seconds"]
            .as_u64()
            .unwrap_or(0)
            > 1800
    );
    assert!(json["worst_case"]["longest"]["path"][0]["at_seconds"].is_u64());
    insta::assert_snapshot!(
        "window-overrun",
        render(
            &program,
            &VerifyReport {
                configurations: Vec::new(),
                ..short
            }
        )
    );
}

#[test]
fn cli_window_exit_codes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime", "--window", "24h"])
        .current_dir(root)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("fits the 24h window"));
    let replay_dir = tempfile::tempdir().expect("temp dir");
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args([
            "verify",
            "upgrade-no-downtime",
            "--window",
            "30m",
            "--replay-dir",
        ])
        .arg(replay_dir.path())
        .current_dir(root)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("runbook::verify::window_overrun"));
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime", "--window", "two hours"])
        .current_dir(root)
        .assert()
        .code(2);
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime", "--max-faults", "1"])
        .current_dir(root)
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "17 fault configurations (up to 1 faults combined)",
        ));
    assert_cmd::Command::cargo_bin("runbook")
        .expect("binary")
        .args(["verify", "upgrade-no-downtime", "--max-faults", "9"])
        .current_dir(root)
        .assert()
        .code(2);
}

/// `--max-faults K`: every combination of up to K contract faults is a
/// configuration, and the coverage of a combination counts only the ends
/// where all of its faults fired.
#[test]
fn max_faults_combines_faults_and_keeps_coverage_truthful() {
    let names: Vec<String> = (1..=3).map(runbook::cluster::server_name).collect();
    // No fault, 14 contract faults alone, 91 pairs, the runner's crash
    // (alone; with each fault from K = 3: it counts for two),
    // background-outcome.
    assert_eq!(verify::fault_sets(&names, 1).len(), 1 + 14 + 1 + 1);
    assert_eq!(verify::fault_sets(&names, 2).len(), 1 + 14 + 91 + 1 + 1);
    assert_eq!(
        verify::fault_sets(&names, 3).len(),
        1 + 14 + 91 + 364 + 1 + 14 + 1
    );
    assert_eq!(verify::fault_sets(&names, 0).len(), 2);
    let program = shipped("upgrade-no-downtime");
    let report = verify::verify(&program, &VerifyOptions::default());
    assert!(report.proven(), "{}", render(&program, &report));
    let row = |faults: &str| {
        report
            .configurations
            .iter()
            .find(|configuration| configuration.faults == faults)
            .unwrap_or_else(|| panic!("{faults} explored"))
            .clone()
    };
    // The Standby never activates by itself in this runbook: with a fault
    // that fires before the run, the pair still never happens.
    assert_eq!(
        row("standby-auto-activates").coverage,
        verify::Coverage::NeverFires
    );
    assert_eq!(row("replication-down").coverage, verify::Coverage::Survived);
    assert_eq!(
        row("replication-down + standby-auto-activates").coverage,
        verify::Coverage::NeverFires
    );
    for configuration in &report.configurations {
        if configuration.coverage == verify::Coverage::Handled && configuration.faults != "no fault"
        {
            assert!(configuration.fault_fired > 0, "{configuration:?}");
        }
    }
    let singles = verify::verify(
        &program,
        &VerifyOptions {
            max_faults: 1,
            ..VerifyOptions::default()
        },
    );
    assert_eq!(singles.configurations.len(), 17);
    assert!(singles.states < report.states);
}

/// What a path's time is made of: a `wait` that nothing can end counts its
/// timeout, a prompt `prompt_time`, and `worst_case` measures from the start
/// or from a step.
#[test]
fn a_paths_time_is_its_waits_and_prompts() {
    let text = "runbook timed {\n    title \"Timed\"\n    confirm go \"Go?\"\n    step 1 waiting \"Wait for what never comes\" {\n        wait until count(standbys()) == 5 timeout 20m every 1m\n    }\n}\n";
    let program = runbook::interp::load::load_text("timed.runbook", text).expect("loads");
    let minutes = |count: u64| std::time::Duration::from_secs(count * 60);
    let options = VerifyOptions {
        check_replays: false,
        prompt_time: minutes(2),
        ..VerifyOptions::default()
    };
    let report = verify::verify(&program, &options);
    let failed = report
        .worst
        .iter()
        .find(|path| path.outcome == runbook::interp::events::RunOutcome::Failed)
        .expect("the wait times out");
    assert_eq!(failed.duration, minutes(22));
    let stopped = report
        .worst
        .iter()
        .find(|path| path.outcome == runbook::interp::events::RunOutcome::Stopped)
        .expect("the operator declines");
    assert_eq!(stopped.duration, minutes(2));
    let whole = verify::worst_case(&program, &options, verify::Since::Start).expect("ends");
    assert_eq!(whole.duration, minutes(22));
    let from_step =
        verify::worst_case(&program, &options, verify::Since::Step("waiting")).expect("ends");
    assert_eq!(from_step.duration, minutes(20));
    // A window of 21 minutes is overrun during the step.
    let short = verify::verify(
        &program,
        &VerifyOptions {
            window: Some(minutes(21)),
            ..options
        },
    );
    let overrun = short
        .counterexamples
        .iter()
        .find(|counterexample| counterexample.property == Property::WindowOverrun)
        .expect("window_overrun");
    assert!(
        overrun.message.contains("a path takes 22m (it ends failed), longer than the 21m window; the window ends during step `waiting`, which starts 2m into the run"),
        "{}",
        overrun.message
    );
}
