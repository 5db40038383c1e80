//! The differential test that keeps the semantics one: the verifier and the
//! interpreter drive the same small-step machine, so every path the verifier
//! explores plays on the simulator exactly — the same operations and
//! What-ifs in the same order, the same outcome, the same cluster at the
//! end. Checked on the paths of every fault configuration of every shipped
//! runbook and verifier fixture (a `retry` after a half-done step among
//! them), and on every counterexample the verifier finds. CI plays the first
//! paths of each configuration (every first alternative, then the next);
//! `RUNBOOK_DIFFERENTIAL_ALL=1` plays every path.

use std::path::{Path, PathBuf};

use runbook::check::verify::{self, Property, VerifyOptions};
use runbook::cluster::Snapshot;
use runbook::interp::load::load_path;
use runbook::interp::program::Program;

const SERVERS: usize = 3;

/// Paths played per fault configuration: a representative subset in CI,
/// every path with `RUNBOOK_DIFFERENTIAL_ALL=1`.
fn per_configuration() -> usize {
    if std::env::var_os("RUNBOOK_DIFFERENTIAL_ALL").is_some() {
        usize::MAX
    } else {
        12
    }
}

fn runbooks() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for folder in [
        "runbooks",
        "tests/fixtures/verify",
        "tests/fixtures/verify/clean",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .expect("folder exists")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "runbook")
            })
            .collect();
        found.sort();
        paths.extend(found);
    }
    assert!(
        paths
            .iter()
            .any(|path| path.ends_with("retry-half-done.runbook")),
        "a runbook retries a half-done step"
    );
    paths
}

fn load(path: &Path) -> Program {
    load_path(path, &path.display().to_string()).expect("the runbook loads")
}

/// What an operator compares of two clusters: who runs, in which role, on
/// which version, replicating how.
fn roles(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .servers
        .iter()
        .map(|server| {
            format!(
                "{} running={} {:?} {} {:?} excluded={}",
                server.name,
                server.running,
                server.mode,
                server.version,
                server.replication,
                server.excluded
            )
        })
        .collect()
}

#[test]
fn every_path_plays_on_the_simulator_exactly() {
    let (mut played, mut unplayable) = (0, 0);
    for path in runbooks() {
        let program = load(&path);
        for first in verify::sample_paths(&program, SERVERS, per_configuration()) {
            let Some(end) = &first.end else {
                // A property breaks on it: the counterexample test below plays it.
                continue;
            };
            if first.configuration.any_outcome
                || first.replay.caveat.as_deref().is_some_and(|caveat| {
                    caveat.contains("an answers file gives one answer")
                        || caveat.contains("later occasion")
                })
            {
                // No `--sim-fault` plays a background outcome or a fault at
                // a later occasion than its first, and an answers file
                // gives a prompt one answer.
                unplayable += 1;
                continue;
            }
            let replayed =
                verify::replay_on_simulator(&program, SERVERS, &first.replay, &first.path)
                    .expect("the replay runs");
            let label = format!("{} [{}]", path.display(), first.configuration.label());
            assert!(
                replayed.exact_path,
                "{label}: the simulator performed {:#?}\nthe verifier's path: {:#?}",
                replayed.operations, first.path
            );
            assert_eq!(replayed.outcome, end.outcome, "{label}: the outcome");
            assert_eq!(
                roles(&replayed.cluster),
                roles(&end.cluster),
                "{label}: the cluster at the end"
            );
            played += 1;
        }
    }
    eprintln!("{played} paths played exactly on the simulator ({unplayable} cannot be played)");
    assert!(played >= 500, "only {played} paths were played");
}

#[test]
fn every_counterexample_plays_on_the_simulator_to_the_same_point() {
    for path in runbooks() {
        let program = load(&path);
        let report = verify::verify(&program, &VerifyOptions::default());
        for counterexample in &report.counterexamples {
            // The simulator fires each fault at its first occasion: a path
            // where one fires at a later one cannot be played (it says so).
            if counterexample
                .replay
                .caveat
                .as_deref()
                .is_some_and(|caveat| caveat.contains("later occasion"))
            {
                continue;
            }
            let replayed = verify::replay_on_simulator(
                &program,
                report.servers,
                &counterexample.replay,
                &counterexample.path,
            )
            .expect("the replay runs");
            let at_end = matches!(
                counterexample.property,
                Property::TwoActivesAtEnd | Property::NotUpgraded
            );
            let label = format!("{} {}", path.display(), counterexample.code);
            if at_end {
                assert!(
                    replayed.exact_path,
                    "{label}: the simulator performed {:?}",
                    replayed.operations
                );
                assert_eq!(
                    roles(&replayed.cluster),
                    roles(&counterexample.cluster),
                    "{label}: the cluster at the end"
                );
            } else {
                assert!(
                    replayed.same_path,
                    "{label}: the simulator performed {:?}",
                    replayed.operations
                );
            }
        }
    }
}
