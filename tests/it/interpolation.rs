//! `{EXPR}` in messages through the built binary: `run` shows the values,
//! `plan` the values it knows and the expression as written for the others.

use crate::support::fixture;
use crate::support::process::{command_in, show};

#[test]
fn a_run_shows_the_messages_with_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .arg("run")
        .arg(fixture("interpolation.runbook"))
        .arg("--yes")
        .output()
        .unwrap();
    // The last `check` does not hold: its message is the run's failure.
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "note: Upgrading mgt-1 (7.3.4) to 7.4.0; Standbys: mgt-2, mgt-3; {braces} stay",
        "warning: mgt-2 stopped: running false, UNKNOWN",
        "warning: mgt-3 stopped: running false, UNKNOWN",
        "report failed: 2 Standbys, not 5; waited 1h30m",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{}", show(&output));
    }
}

#[test]
fn plan_shows_known_values_and_the_others_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let output = command_in(dir.path())
        .arg("plan")
        .arg(fixture("interpolation.runbook"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
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
