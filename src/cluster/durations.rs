//! How long operations take on the simulator's clock: every duration in one
//! place, so `docs/simulator.md` and the code cannot disagree.

use std::time::Duration;

const fn minutes(count: u64) -> Duration {
    Duration::from_secs(count * 60)
}

/// Installer: stopping the server's services.
pub const UPGRADE_STOPPING: Duration = Duration::from_secs(30);
/// Installer: installing the new version.
pub const UPGRADE_INSTALLING: Duration = minutes(10);
/// Installer: starting the upgraded server (the installer starts it itself).
pub const UPGRADE_STARTING: Duration = minutes(2);

/// Standby initialization: copying the Active's database.
pub const INIT_COPYING: Duration = minutes(3);
/// Standby initialization: each of the standby's two restarts.
pub const INIT_RESTART: Duration = minutes(1);
/// Standby initialization: up between the two restarts.
pub const INIT_SYNCHRONIZING: Duration = Duration::from_secs(30);

/// Activation wizard: each of its seven phases.
pub const WIZARD_PHASE: Duration = Duration::from_secs(30);

/// `changes-on-active`: one administrator change on the Initial Active this often.
pub const CHANGE_INTERVAL: Duration = minutes(5);

/// `standby-activated-by-operator`: how many configuration changes the operator
/// makes on the Standby they activated.
pub const OPERATOR_CHANGES: u64 = 3;

/// Upper bound of virtual time [`Simulator::run`](super::Simulator::run) lets
/// pass for one operation; no operation of the model takes this long.
pub const RUN_LIMIT: Duration = minutes(24 * 60);

/// How long an operation takes from start to end in the model: the sum of
/// its phases (zero for the operations that complete at once). A runner
/// that did not see an operation end waits about this long for it.
pub fn expected(operation: &crate::domain::Operation) -> Duration {
    use crate::domain::Operation;
    match operation {
        Operation::Upgrade { .. } => UPGRADE_STOPPING + UPGRADE_INSTALLING + UPGRADE_STARTING,
        Operation::InitStandby { .. } => {
            INIT_COPYING + INIT_RESTART + INIT_SYNCHRONIZING + INIT_RESTART
        }
        Operation::Activate { .. } => WIZARD_PHASE * 7,
        _ => Duration::ZERO,
    }
}
