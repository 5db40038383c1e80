//! `{EXPR}` in messages through the built binary: `run` shows the values,
//! `plan` the values it knows and the expression as written for the others.

use crate::support::fixture;
use crate::support::process::run_in;

/// `runbook SUBCOMMAND` on the interpolation fixture: its stdout.
fn on_fixture(subcommand: &str, args: &[&str], code: i32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let runbook = fixture("interpolation.runbook");
    let all = [&[subcommand, runbook.to_str().unwrap()], args].concat();
    let output = run_in(dir.path(), &all, code);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_run_shows_the_messages_with_their_values() {
    // The last `check` does not hold: its message is the run's failure.
    let stdout = on_fixture("run", &["--yes"], 1);
    for expected in [
        "note: Upgrading mgt-1 (7.3.4) to 7.4.0; Standbys: mgt-2, mgt-3; {braces} stay",
        "warning: mgt-2 stopped: running false, UNKNOWN",
        "warning: mgt-3 stopped: running false, UNKNOWN",
        "report failed: 2 Standbys, not 5; waited 1h30m",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }
}

#[test]
fn plan_shows_known_values_and_the_others_as_written() {
    let stdout = on_fixture("plan", &[], 0);
    // Read before any operation: known.
    assert!(
        stdout.contains(
            "note: Upgrading mgt-1 (7.3.4) to 7.4.0; Standbys: mgt-2, mgt-3; {braces} stay"
        ),
        "{stdout}"
    );
    // After `stop-server` the servers' fields are read when the run gets
    // there; the loop variable itself is known.
    assert!(
        stdout.contains("warning: mgt-2 stopped: running {standby.running}, {standby.state}"),
        "{stdout}"
    );
}
