//! The state shared by every request of `sim serve`: the simulator, the
//! sessions, the HTTP-level faults, and the clock task that advances time.

use crate::connect::lease;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::control::{HttpFault, HttpFaultKind};
use super::TICK;
use crate::cluster::{Mode, Simulator, Snapshot};
use crate::connect::ApiKey;

/// Everything the request handlers share.
pub struct Shared {
    simulator: Mutex<Simulator>,
    key: ApiKey,
    speed: f64,
    state_file: Option<PathBuf>,
    /// Session token → the server it was opened on.
    sessions: Mutex<HashMap<String, String>>,
    faults: Mutex<Vec<HttpFault>>,
    last_save_error: Mutex<Option<String>>,
    shutdown: watch::Receiver<bool>,
    /// The runner that holds the cluster, if one does.
    lease: Mutex<Option<HeldLease>>,
    /// How long a lease lasts unrenewed before it is stale.
    lease_stale_after: Mutex<std::time::Duration>,
}

/// The lease a runner holds on the simulated cluster (not saved: a
/// restarted `sim serve` has no runner connected).
#[derive(Debug, Clone)]
struct HeldLease {
    token: String,
    holder: lease::Holder,
    renewed: std::time::Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave the simulator half-changed (every
    // change is one call), so a poisoned lock is still safe to use.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(super) fn new(
        simulator: Simulator,
        key: ApiKey,
        speed: f64,
        state_file: Option<PathBuf>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Shared {
            simulator: Mutex::new(simulator),
            key,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            state_file,
            sessions: Mutex::new(HashMap::new()),
            faults: Mutex::new(Vec::new()),
            last_save_error: Mutex::new(None),
            shutdown,
            lease: Mutex::new(None),
            lease_stale_after: Mutex::new(lease::STALE_AFTER),
        }
    }

    /// How long a lease lasts unrenewed before it is stale.
    pub fn set_lease_stale_after(&self, after: std::time::Duration) {
        *lock(&self.lease_stale_after) = after;
    }

    /// How long a lease lasts unrenewed before it is stale.
    pub fn lease_stale_after(&self) -> std::time::Duration {
        *lock(&self.lease_stale_after)
    }

    /// Grants the cluster to `request`'s holder when no runner holds it,
    /// when the same run on the same host takes it back (a resume), or when
    /// it asks to take over a stale lease; otherwise who holds it.
    pub fn grant_lease(
        &self,
        request: lease::LeaseRequest,
    ) -> Result<lease::Granted, lease::Refusal> {
        let mut held = lock(&self.lease);
        let replaced = match held.as_ref() {
            None => None,
            Some(current) => {
                let since = current.renewed.elapsed();
                let stale = since >= self.lease_stale_after();
                let same_run = current.holder.run_id == request.holder.run_id
                    && current.holder.host == request.holder.host;
                let taken_over = stale && request.take_over;
                if !(same_run || taken_over) {
                    return Err(lease::Refusal {
                        holder: current.holder.clone(),
                        renewed_seconds_ago: since.as_secs(),
                        stale,
                        stale_after_seconds: self.lease_stale_after().as_secs(),
                    });
                }
                Some(current.holder.clone())
            }
        };
        let token = uuid::Uuid::new_v4().to_string();
        *held = Some(HeldLease {
            token: token.clone(),
            holder: request.holder,
            renewed: std::time::Instant::now(),
        });
        let renew_every = (self.lease_stale_after() / 3).max(std::time::Duration::from_millis(100));
        Ok(lease::Granted {
            token,
            replaced,
            renew_every_ms: u64::try_from(renew_every.as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Renews the lease `token`; `false` when it is not the lease held
    /// (given back, or taken over).
    pub fn renew_lease(&self, token: &str) -> bool {
        match lock(&self.lease).as_mut() {
            Some(held) if held.token == token => {
                held.renewed = std::time::Instant::now();
                true
            }
            _ => false,
        }
    }

    /// Gives the lease `token` back (nothing when it is not the one held).
    pub fn release_lease(&self, token: &str) {
        let mut held = lock(&self.lease);
        if held.as_ref().is_some_and(|lease| lease.token == token) {
            *held = None;
        }
    }

    /// Who holds the cluster, and how long ago they renewed it.
    pub fn lease_holder(&self) -> Option<(lease::Holder, std::time::Duration)> {
        lock(&self.lease)
            .as_ref()
            .map(|held| (held.holder.clone(), held.renewed.elapsed()))
    }

    /// Runs `change` on the simulator, then persists it.
    pub fn change<R>(&self, change: impl FnOnce(&mut Simulator) -> R) -> R {
        let result = change(&mut lock(&self.simulator));
        self.save();
        result
    }

    /// Runs a read-only operation (the model's `run` needs `&mut`), without
    /// persisting.
    pub fn query<R>(&self, query: impl FnOnce(&mut Simulator) -> R) -> R {
        query(&mut lock(&self.simulator))
    }

    /// Reads from the simulator.
    pub fn read<R>(&self, read: impl FnOnce(&Simulator) -> R) -> R {
        read(&lock(&self.simulator))
    }

    /// The element key of `name`'s Management Server element.
    pub fn element_key(&self, name: &str) -> Option<usize> {
        self.read(|simulator| simulator.element_key(name))
    }

    /// The server whose element key is `key`.
    pub fn element_named(&self, key: usize) -> Option<String> {
        self.read(|simulator| {
            simulator
                .snapshot()
                .servers
                .iter()
                .find(|server| simulator.element_key(&server.name) == Some(key))
                .map(|server| server.name.clone())
        })
    }

    /// The cluster as the simulator sees it.
    pub fn snapshot(&self) -> Snapshot {
        self.read(Simulator::snapshot)
    }

    /// The cluster as an operator reads it through the API: unreachable
    /// servers show as not running, replication `UNKNOWN`.
    pub fn observed(&self) -> Snapshot {
        self.read(Simulator::observed_snapshot)
    }

    /// Simulated seconds per real second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Whether `presented` is the API key.
    pub(super) fn key_matches(&self, presented: &str) -> bool {
        self.key.matches(presented)
    }

    /// A watch that turns `true` when the server shuts down.
    pub(super) fn shutdown_watch(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// The server `GET /api` at the root is answered by: the running Active
    /// (the first by name), else the first running server.
    pub fn root_server(&self) -> Option<String> {
        let snapshot = self.snapshot();
        let running = snapshot.servers.iter().filter(|server| server.running);
        let mut fallback = None;
        for server in running {
            if server.mode == Mode::Active {
                return Some(server.name.clone());
            }
            fallback.get_or_insert_with(|| server.name.clone());
        }
        fallback
    }

    /// Opens a session on `server` and returns its token.
    pub(super) fn open_session(&self, server: &str) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        lock(&self.sessions).insert(token.clone(), server.to_owned());
        token
    }

    /// Whether `token` is a live session on `server`.
    pub(super) fn session_valid(&self, token: &str, server: &str) -> bool {
        lock(&self.sessions)
            .get(token)
            .is_some_and(|owner| owner == server)
    }

    /// Ends one session.
    pub(super) fn close_session(&self, token: &str) {
        lock(&self.sessions).remove(token);
    }

    /// How many sessions are open (a client that logs out leaves none).
    pub fn open_sessions(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Ends every session (the control endpoint's "expire sessions").
    pub fn expire_sessions(&self) -> usize {
        let mut sessions = lock(&self.sessions);
        let count = sessions.len();
        sessions.clear();
        count
    }

    /// Ends the sessions of a server that stopped or restarted.
    pub(super) fn drop_sessions_of(&self, server: &str) {
        lock(&self.sessions).retain(|_, owner| owner != server);
    }

    /// Lets `by` of simulated time pass at once (what the clock task does
    /// bit by bit); servers that stop meanwhile lose their sessions. Returns
    /// the simulator's clock afterwards.
    pub fn advance(&self, by: Duration) -> Duration {
        let stopped_before = stopped_servers(self);
        let now = self.change(|simulator| {
            simulator.advance(by);
            simulator.now()
        });
        for server in stopped_servers(self) {
            if !stopped_before.contains(&server) {
                self.drop_sessions_of(&server);
            }
        }
        now
    }

    /// Adds an HTTP-level fault.
    pub fn add_fault(&self, fault: HttpFault) {
        lock(&self.faults).push(fault);
    }

    /// Removes every HTTP-level fault.
    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The fault to play on a request for `path`, if any (counts it down).
    pub(super) fn take_fault(&self, path: &str) -> Option<HttpFaultKind> {
        let mut faults = lock(&self.faults);
        let index = faults
            .iter()
            .position(|fault| fault.remaining > 0 && path.contains(&fault.route))?;
        let fault = &mut faults[index];
        fault.remaining -= 1;
        let kind = fault.kind.clone();
        if fault.remaining == 0 {
            faults.remove(index);
        }
        Some(kind)
    }

    /// The last error met while writing the state file, if any.
    pub fn last_save_error(&self) -> Option<String> {
        lock(&self.last_save_error).clone()
    }

    /// Writes the simulator to the state file atomically (write a sibling
    /// temporary file, then rename it over the old one).
    pub fn save(&self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let json = match serde_json::to_string_pretty(&*lock(&self.simulator)) {
            Ok(json) => json,
            Err(error) => {
                *lock(&self.last_save_error) = Some(error.to_string());
                return;
            }
        };
        let mut temporary = path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let result =
            std::fs::write(&temporary, json).and_then(|()| std::fs::rename(&temporary, path));
        *lock(&self.last_save_error) = result
            .err()
            .map(|error| format!("{}: {error}", path.display()));
    }
}

/// Advances the simulator's clock by the real time elapsed times the speed,
/// every [`TICK`], until shutdown; saves the state about once a second.
pub(super) async fn run_clock(shared: std::sync::Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut last = Instant::now();
    let mut last_save = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let now = Instant::now();
        let simulated = now.duration_since(last).mul_f64(shared.speed());
        last = now;
        let stopped_before = stopped_servers(&shared);
        {
            let mut simulator = lock(&shared.simulator);
            simulator.advance(simulated);
        }
        // A server that went down while time passed (installer, restart)
        // loses its sessions, as a real one would.
        for server in stopped_servers(&shared) {
            if !stopped_before.contains(&server) {
                shared.drop_sessions_of(&server);
            }
        }
        if now.duration_since(last_save) >= Duration::from_secs(1) {
            shared.save();
            last_save = now;
        }
    }
}

fn stopped_servers(shared: &Shared) -> Vec<String> {
    shared
        .snapshot()
        .servers
        .into_iter()
        .filter(|server| !server.running)
        .map(|server| server.name)
        .collect()
}
