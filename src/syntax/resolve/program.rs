//! [`check_source`]: one text parsed and resolved, with no file system
//! access beyond the shipped runbooks.

use super::workspace::{Checked, Workspace};

/// Parses and resolves one text with no file system access beyond the
/// shipped runbooks (tests, benches, `runbook show`).
pub fn check_source(name: &str, text: &str) -> (Workspace, Checked) {
    let mut workspace = Workspace::default();
    let id = workspace.add_source(name, text);
    let checked = workspace.check(id);
    (workspace, checked)
}
