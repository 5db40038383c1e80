//! Operations whose outcome the runner did not see: sent before the runner
//! was killed, or answered by a dropped connection, a timeout or a server
//! that restarted. Such an operation is *in flight*, not failed: the runner
//! reads the live cluster until the operation has visibly ended, then the
//! run decides from what it sees — it never sends the operation again into
//! a server that is still busy with it, and never fires a failure What-if
//! for it.
//!
//! How an operation shows that it ended is read from what every target
//! reports (roles, versions, replication states, whether a server answers);
//! how long to wait at most comes from the model's durations
//! ([`crate::cluster::durations::expected`]) plus a margin. These are the
//! project's choices (a real SMC publishes no progress of its installer or
//! of a backup): see `docs/language.md`, "Stopping and resuming".

use std::time::Duration;

use crate::cluster::{Operation, ReplicationState, Snapshot};
use crate::semantics::machine::effect_visible;

/// What the live cluster says of an operation in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Its effect is visible: it completed.
    Done,
    /// It is still running (or the cluster cannot tell yet).
    Running,
    /// It visibly ended without its effect (e.g. an installer that reverted
    /// and restarted the server on its old version).
    EndedWithout,
}

/// What `snapshot` says of `operation`.
pub(crate) fn seen(operation: &Operation, snapshot: &Snapshot) -> Seen {
    if effect_visible(operation, snapshot) {
        return Seen::Done;
    }
    let Some(server) = snapshot.server(operation.server()) else {
        return Seen::Running;
    };
    let any_down = snapshot.servers.iter().any(|server| !server.running);
    match operation {
        // The installer stops the server and starts it again at the end;
        // running on another version means it ended (reverted).
        Operation::Upgrade { .. } if server.running => Seen::EndedWithout,
        Operation::Upgrade { .. } => Seen::Running,
        // The standby restarts twice before it replicates: only time tells
        // a failed initialization from a slow one.
        Operation::InitStandby { .. } => Seen::Running,
        // The wizard restarts every Standby; it ended when every server
        // answers again and one Active replicates.
        Operation::Activate { .. }
            if !any_down
                && snapshot
                    .actives()
                    .any(|active| active.replication == ReplicationState::ActRep) =>
        {
            Seen::EndedWithout
        }
        Operation::Activate { .. } => Seen::Running,
        // Nothing shows a backup or a restore: only time tells.
        Operation::Backup { .. } | Operation::RestoreBackup { .. } => Seen::Running,
        // The quick operations: what the cluster shows after a short while is
        // the answer.
        _ => Seen::EndedWithout,
    }
}

/// How long to wait at most for `operation` to end, counted from when it
/// was sent: the model's duration and half as much again, plus two polls.
pub(super) fn limit(operation: &Operation) -> Duration {
    let expected = crate::cluster::durations::expected(operation);
    let margin = Duration::from_secs(120);
    match operation {
        Operation::Backup { .. } | Operation::RestoreBackup { .. } => {
            // Not modelled in time: a backup of a large database may take a while.
            Duration::from_secs(15 * 60)
        }
        _ => expected + expected / 2 + margin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Mode;
    use crate::cluster::Version;
    use crate::domain::ServerSnapshot;

    fn server(
        name: &str,
        running: bool,
        mode: Mode,
        version: &str,
        replication: ReplicationState,
    ) -> ServerSnapshot {
        ServerSnapshot {
            name: name.to_string(),
            running,
            mode,
            version: version.parse::<Version>().unwrap(),
            replication,
            excluded: false,
            config_revision: 0,
        }
    }

    #[test]
    fn an_installer_is_running_while_its_server_is_down_and_ended_when_it_answers() {
        let upgrade = Operation::Upgrade {
            server: String::from("mgt-2"),
            version: "7.4.0".parse().unwrap(),
        };
        let down = Snapshot {
            servers: vec![server(
                "mgt-2",
                false,
                Mode::Standby,
                "7.3.4",
                ReplicationState::Unknown,
            )],
        };
        assert_eq!(seen(&upgrade, &down), Seen::Running);
        let reverted = Snapshot {
            servers: vec![server(
                "mgt-2",
                true,
                Mode::Standby,
                "7.3.4",
                ReplicationState::BrokenActStb,
            )],
        };
        assert_eq!(seen(&upgrade, &reverted), Seen::EndedWithout);
        let upgraded = Snapshot {
            servers: vec![server(
                "mgt-2",
                false,
                Mode::Standby,
                "7.4.0",
                ReplicationState::Unknown,
            )],
        };
        assert_eq!(seen(&upgrade, &upgraded), Seen::Done);
    }

    #[test]
    fn a_standby_initialization_is_done_when_it_replicates() {
        let init = Operation::InitStandby {
            server: String::from("mgt-2"),
        };
        let restarting = Snapshot {
            servers: vec![server(
                "mgt-2",
                false,
                Mode::Standby,
                "7.4.0",
                ReplicationState::Unknown,
            )],
        };
        assert_eq!(seen(&init, &restarting), Seen::Running);
        let replicating = Snapshot {
            servers: vec![server(
                "mgt-2",
                true,
                Mode::Standby,
                "7.4.0",
                ReplicationState::StbRep,
            )],
        };
        assert_eq!(seen(&init, &replicating), Seen::Done);
    }

    #[test]
    fn limits_follow_the_model() {
        let upgrade = Operation::Upgrade {
            server: String::from("mgt-2"),
            version: "7.4.0".parse().unwrap(),
        };
        assert!(limit(&upgrade) > crate::cluster::durations::expected(&upgrade));
        let stop = Operation::StopServer {
            server: String::from("mgt-2"),
        };
        assert_eq!(limit(&stop), Duration::from_secs(120));
    }
}
