//! One runner at a time on a cluster. A run (or resume) takes a lease on
//! the cluster before it reads or acts, and gives it back when it ends:
//!
//! - on `runbook sim serve`, the server grants the lease (`/sim/lease`) and
//!   refuses it to a second runner; the holder renews it every
//!   [`RENEW_EVERY`], and a lease not renewed for [`STALE_AFTER`] is stale
//!   (its runner is gone): `--take-over` takes it;
//! - on an inventory target (a real SMC publishes no lease), a lock file
//!   shared by every runner on this machine, released by the operating
//!   system when its process ends, however it ends. Runners on other
//!   machines are not excluded: the run says so.
//!
//! A resume of the run that holds the lease, on the host that holds it,
//! takes it back (the journal's own lock keeps that to one process).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConnectorError;

/// How often a holder renews its `sim serve` lease (by default: the server
/// says, a third of its staleness).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// A lease not renewed for this long is stale: its runner is gone (the
/// default; `sim serve --lease-stale-after` sets another).
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// The environment variable naming the folder of the local lock files.
pub const LOCK_DIR_ENV: &str = "RUNBOOK_LOCK_DIR";

/// Who asks for a lease: the run, and where it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The run id (a resume keeps its run's).
    pub run_id: String,
    /// The host name of the runner's machine.
    pub host: String,
    /// The runner's process id.
    pub pid: u32,
}

impl Holder {
    /// This process, running `run_id`.
    pub fn this_process(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_owned(),
            host: host_name(),
            pid: std::process::id(),
        }
    }

    /// `run RUN_ID (process PID on HOST)`.
    pub fn describe(&self) -> String {
        format!(
            "run {} (process {} on {})",
            self.run_id, self.pid, self.host
        )
    }
}

/// The machine's host name (`unknown host` when it cannot be read).
fn host_name() -> String {
    #[cfg(unix)]
    let name = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    #[cfg(not(unix))]
    let name = std::env::var("COMPUTERNAME").unwrap_or_default();
    if name.trim().is_empty() {
        String::from("unknown host")
    } else {
        name.trim().to_owned()
    }
}

/// What `POST /sim/lease` takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseRequest {
    /// Who asks.
    pub holder: Holder,
    /// Take a stale lease held by another run.
    #[serde(default)]
    pub take_over: bool,
}

/// What `POST /sim/lease` grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Granted {
    /// The token to renew (`PUT /sim/lease/TOKEN`) and give back (`DELETE`).
    pub token: String,
    /// The lease it replaced, taken over (stale) or taken back (the same run).
    #[serde(default)]
    pub replaced: Option<Holder>,
    /// How often the holder renews it (well within its staleness).
    #[serde(default = "renew_every_ms")]
    pub renew_every_ms: u64,
}

fn renew_every_ms() -> u64 {
    u64::try_from(RENEW_EVERY.as_millis()).unwrap_or(u64::MAX)
}

/// What `POST /sim/lease` answers (409) when another runner holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refusal {
    /// The holder.
    pub holder: Holder,
    /// Seconds since the holder last renewed it.
    pub renewed_seconds_ago: u64,
    /// Whether it is stale (`--take-over` takes it).
    pub stale: bool,
    /// How long a lease lasts unrenewed before it is stale.
    #[serde(default = "stale_after_seconds")]
    pub stale_after_seconds: u64,
}

fn stale_after_seconds() -> u64 {
    STALE_AFTER.as_secs()
}

impl Refusal {
    /// The error a runner reports for it.
    pub fn into_error(self, target: &str) -> ConnectorError {
        let help = if self.stale {
            format!("that runner has not been heard of for longer than {}s: if it is gone (its process killed, its machine down), take the cluster over with --take-over", self.stale_after_seconds)
        } else {
            String::from("wait for that run to end; one runner at a time acts on a cluster (a stale lease, whose runner is gone, can be taken over with --take-over)")
        };
        ConnectorError::ClusterInUse {
            target: target.to_owned(),
            holder: format!(
                "{}, last heard of {}s ago{}",
                self.holder.describe(),
                self.renewed_seconds_ago,
                if self.stale { " (stale)" } else { "" }
            ),
            help,
        }
    }
}

/// A lock file shared by every runner on this machine, held while the run
/// lasts (the operating system releases it with the process).
#[derive(Debug)]
pub struct LocalLock {
    _file: File,
}

impl LocalLock {
    /// Takes the lock of the cluster whose servers answer at `addresses`,
    /// in the folder [`LOCK_DIR_ENV`] names (default: `runbook-locks` in
    /// the system's temporary folder, shared by every user).
    pub fn take(
        addresses: &[String],
        holder: &Holder,
        target: &str,
    ) -> Result<Self, ConnectorError> {
        let folder = std::env::var_os(LOCK_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("runbook-locks"));
        Self::take_in(&folder, addresses, holder, target)
    }

    /// [`LocalLock::take`] in `folder`.
    pub fn take_in(
        folder: &std::path::Path,
        addresses: &[String],
        holder: &Holder,
        target: &str,
    ) -> Result<Self, ConnectorError> {
        let failed = |error: std::io::Error| {
            ConnectorError::Config {
            message: format!(
                "cannot take the lock of {target} in {}: {error} (set {LOCK_DIR_ENV} to a folder every runner of this machine can write)",
                folder.display()
            ),
        }
        };
        create_shared_folder(folder).map_err(failed)?;
        let mut sorted = addresses.to_vec();
        sorted.sort();
        let name = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(sorted.join("\n").as_bytes());
            format!("{}.lock", &hex::encode(digest)[..24])
        };
        let path = folder.join(name);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Never follow a link planted in a shared folder.
            let nofollow = rustix::fs::OFlags::NOFOLLOW.bits();
            options
                .custom_flags(i32::try_from(nofollow).unwrap_or_default())
                .mode(0o666);
        }
        let mut file = options.open(&path).map_err(failed)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let other = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| serde_json::from_str::<Holder>(&text).ok())
                    .map_or_else(
                        || String::from("another runbook process"),
                        |holder| holder.describe(),
                    );
                return Err(ConnectorError::ClusterInUse {
                    target: target.to_owned(),
                    holder: format!("{other}, on this machine"),
                    help: String::from("wait for that run to end; one runner at a time acts on a cluster (the lock is released when its process ends, however it ends)"),
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(failed(error)),
        }
        let text = serde_json::to_string(holder).unwrap_or_default();
        file.set_len(0).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)?;
        Ok(Self { _file: file })
    }
}

/// Creates `folder` writable by every user, with the sticky bit (like
/// `/tmp`): each runner's lock file stays its own.
fn create_shared_folder(folder: &std::path::Path) -> std::io::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o1777))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runner_at_a_time_holds_a_cluster_on_this_machine() {
        let folder = tempfile::tempdir().unwrap();
        let addresses = vec![
            String::from("https://a:8082"),
            String::from("https://b:8082"),
        ];
        let first = Holder::this_process("run-1");
        let held = LocalLock::take_in(folder.path(), &addresses, &first, "setup").unwrap();
        // The same servers in another order are the same cluster.
        let reversed: Vec<String> = addresses.iter().rev().cloned().collect();
        let second = Holder::this_process("run-2");
        let error = LocalLock::take_in(folder.path(), &reversed, &second, "setup").unwrap_err();
        assert!(error.to_string().contains("run run-1"), "{error}");
        // Another cluster is free.
        LocalLock::take_in(folder.path(), &["https://c:8082".into()], &second, "other").unwrap();
        drop(held);
        LocalLock::take_in(folder.path(), &reversed, &second, "setup").unwrap();
    }
}
