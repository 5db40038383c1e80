//! Reading the cluster from published data only.
//!
//! Every server is asked for its own view — `GET /ha` (which server it
//! knows as Active, itself included), its own
//! `GET /ha/database_replication_diagnostic` (its replication state) — and
//! its SMC version is read once per session (`system` → `smc_version`).
//! Element hrefs are resolved to names by reading each element once.
//! [`derive`] then builds the [`Snapshot`] by the rules below, which
//! `docs/smc-api-facts.md` lists with the public source of each fact or
//! marks as the project's own derivation:
//!
//! - `running`: the server's API answered. A server whose read timed out
//!   is reported not answering, without being asked again, for
//!   [`QUIET_AFTER_TIMEOUT`]: each ask would cost a whole request timeout.
//! - `mode`: Active when the server's own `/ha` names it `active_server`.
//!   For a server that does not answer: Active when an answering server
//!   names it `active_server`, else what was last seen, else Standby.
//! - `version`: its own `smc_version`; for a server that does not answer,
//!   what was last seen, else the inventory's `version`, else `unknown`.
//! - `replication`: its own state; `UNKNOWN` when it does not answer.
//! - `excluded` (not published): a Standby is excluded when its own state
//!   is `STB_NO_REP` (no replication relationship); an Active when this run
//!   cleared its replication (stop-replication, set standby) and it has not
//!   replicated since; a server that does not answer keeps what was last
//!   derived, updated by this run's own actions (exclude, initialize,
//!   restore, stop replication).
//! - `config_revision` (not published): always 0; the connector says it
//!   cannot count changes ([`crate::connect::Connector::counts_changes`]).

use std::collections::HashMap;

use reqwest::Method;

use super::answers;
use super::transport::Purpose;
use super::{lock, SmcConnector, SmcServer};
use crate::cluster::{Mode, ReplicationState, ServerSnapshot, Snapshot, Version};
use crate::connect::ConnectorError;

/// One server's own view of the cluster, names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    /// The server's SMC version.
    pub version: Version,
    /// The Active it knows (`/ha` `active_server`), if any.
    pub active: Option<String>,
    /// Itself (`/ha` `connected_server`).
    pub connected: String,
    /// The Standbys it knows.
    pub standbys: Vec<String>,
    /// Its own replication state.
    pub state: ReplicationState,
}

/// What the connector knows that no single answer says: the last derived
/// snapshot, this run's own changes of `excluded`, and the inventory's
/// versions of servers that never answered.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The last snapshot derived (or the journal's, on resume).
    pub last: Option<Snapshot>,
    /// `excluded` as this run's own actions left it, per server.
    pub excluded: HashMap<String, bool>,
    /// The inventory's `version` of each server that has one.
    pub configured_versions: HashMap<String, Version>,
    /// Whether an operation ran since `last` was derived.
    pub stale: bool,
    /// Servers whose last read timed out: until when (real time) they are
    /// not asked again, and the error they gave.
    pub timed_out: HashMap<String, (std::time::Instant, ConnectorError)>,
}

impl Memory {
    /// The servers the last snapshot saw running (none before the first).
    pub fn last_running(&self) -> Vec<String> {
        self.last
            .iter()
            .flat_map(|last| &last.servers)
            .filter(|server| server.running)
            .map(|server| server.name.clone())
            .collect()
    }
}

/// How long (real time: what a timeout costs) a server whose read timed out
/// is reported as not answering without being asked again.
pub const QUIET_AFTER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A derived snapshot, with the reasons behind each server's values (what
/// `runbook probe` prints).
#[derive(Debug, Clone)]
pub struct Derived {
    /// The cluster.
    pub snapshot: Snapshot,
    /// Per server (same order), one line per derived value.
    pub reasons: Vec<Vec<String>>,
}

/// Builds the snapshot from each server's view (`None`: it did not answer),
/// by the rules of this module's documentation.
pub fn derive(names: &[String], views: &[Option<ServerView>], memory: &Memory) -> Derived {
    let mut servers = Vec::with_capacity(names.len());
    let mut reasons = Vec::with_capacity(names.len());
    for (name, view) in names.iter().zip(views) {
        let mut why = Vec::new();
        let server = match view {
            Some(view) => answering(name, view, memory, &mut why),
            None => not_answering(name, views, memory, &mut why),
        };
        servers.push(server);
        reasons.push(why);
    }
    Derived {
        snapshot: Snapshot { servers },
        reasons,
    }
}

/// Derives a server that answered from its own view.
fn answering(
    name: &str,
    view: &ServerView,
    memory: &Memory,
    why: &mut Vec<String>,
) -> ServerSnapshot {
    why.push("running: its API answered".to_owned());
    let mode = if view.active.as_deref() == Some(name) {
        why.push("mode: active (its own /ha names it active_server)".to_owned());
        Mode::Active
    } else {
        why.push(match &view.active {
            Some(active) => {
                format!("mode: standby (its own /ha names {active} active_server)")
            }
            None => "mode: standby (its own /ha names no active_server)".to_owned(),
        });
        Mode::Standby
    };
    why.push(format!(
        "version: {} (its system/smc_version)",
        view.version
    ));
    why.push(format!(
        "replication: {} (its own database_replication_diagnostic)",
        view.state
    ));
    let excluded = answering_excluded(name, view, mode, memory, why);
    ServerSnapshot {
        name: name.to_owned(),
        running: true,
        mode,
        version: view.version.clone(),
        replication: view.state,
        excluded,
        config_revision: 0,
    }
}

/// Derives `excluded` for a server that answered, by its mode.
fn answering_excluded(
    name: &str,
    view: &ServerView,
    mode: Mode,
    memory: &Memory,
    why: &mut Vec<String>,
) -> bool {
    match mode {
        Mode::Standby => {
            let excluded = view.state == ReplicationState::StbNoRep;
            why.push(format!(
                "excluded: {} (derived: a Standby is excluded when its own state is STB_NO_REP)",
                yes_no(excluded)
            ));
            excluded
        }
        Mode::Active => {
            let replicating = matches!(
                view.state,
                ReplicationState::ActRep | ReplicationState::ActRepEx
            );
            let excluded = !replicating && memory.excluded.get(name).copied().unwrap_or(false);
            why.push(format!(
                "excluded: {} (derived: an Active is excluded only after this run cleared its replication, until it replicates again)",
                yes_no(excluded)
            ));
            excluded
        }
    }
}

/// Derives a server that did not answer from the others' views and memory.
fn not_answering(
    name: &str,
    views: &[Option<ServerView>],
    memory: &Memory,
    why: &mut Vec<String>,
) -> ServerSnapshot {
    why.push("running: no (its API did not answer)".to_owned());
    let mode = remembered_mode(name, views, memory, why);
    let version = remembered_version(name, memory, why);
    let excluded = memory
        .excluded
        .get(name)
        .copied()
        .or_else(|| last_seen(memory, name).map(|previous| previous.excluded))
        .unwrap_or(false);
    why.push(format!(
        "excluded: {} (as last derived, updated by this run's actions)",
        yes_no(excluded)
    ));
    why.push("replication: UNKNOWN (it does not answer)".to_owned());
    ServerSnapshot {
        name: name.to_owned(),
        running: false,
        mode,
        version,
        replication: ReplicationState::Unknown,
        excluded,
        config_revision: 0,
    }
}

/// The mode of a server that did not answer: named active by others, else
/// as last seen, else standby.
fn remembered_mode(
    name: &str,
    views: &[Option<ServerView>],
    memory: &Memory,
    why: &mut Vec<String>,
) -> Mode {
    let namers = named_active_by_others(views, name);
    if !namers.is_empty() {
        why.push(format!(
            "mode: active (named active_server by {})",
            namers.join(", ")
        ));
        Mode::Active
    } else if let Some(previous) = last_seen(memory, name) {
        why.push(format!("mode: {} (as last seen)", mode_name(previous.mode)));
        previous.mode
    } else {
        why.push("mode: standby (no answering server names it active_server)".to_owned());
        Mode::Standby
    }
}

/// The version of a server that did not answer: as last seen, else the
/// inventory's, else unknown.
fn remembered_version(name: &str, memory: &Memory, why: &mut Vec<String>) -> Version {
    if let Some(previous) = last_seen(memory, name) {
        why.push(format!("version: {} (as last seen)", previous.version));
        previous.version.clone()
    } else if let Some(configured) = memory.configured_versions.get(name) {
        why.push(format!("version: {configured} (the inventory's `version`)"));
        configured.clone()
    } else {
        why.push(
            "version: unknown (it never answered; give its `version` in the inventory)".to_owned(),
        );
        Version::unknown()
    }
}

/// The server `name` in the last derived snapshot, if any.
fn last_seen<'m>(memory: &'m Memory, name: &str) -> Option<&'m ServerSnapshot> {
    memory.last.as_ref().and_then(|last| last.server(name))
}

/// The answering servers whose own `/ha` names `name` the active server.
fn named_active_by_others(views: &[Option<ServerView>], name: &str) -> Vec<String> {
    views
        .iter()
        .flatten()
        .filter(|view| view.active.as_deref() == Some(name))
        .map(|view| view.connected.clone())
        .collect::<Vec<_>>()
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Active => "active",
        Mode::Standby => "standby",
    }
}

impl SmcConnector {
    /// One server's own view: `/ha` and its replication state, names resolved.
    pub(super) async fn read_view(
        &self,
        server: &SmcServer,
        retries: u32,
    ) -> Result<ServerView, ConnectorError> {
        let purpose = Purpose::read(retries);
        let ha_url = |session: &super::transport::Session| session.entry("ha", &server.api);
        let ha_body = self.call(server, Method::GET, &ha_url, &purpose).await?;
        let ha = answers::ha(&format!("{}/…/ha", server.api), &ha_body)?;
        let replication_url = |session: &super::transport::Session| {
            session.ha(&server.api, "database_replication_diagnostic")
        };
        let body = self
            .call(server, Method::GET, &replication_url, &purpose)
            .await?;
        let (_, state) = answers::own_replication(
            &format!("{}/…/ha/database_replication_diagnostic", server.api),
            &body,
        )?;
        let version =
            self.session_version(&server.name)
                .ok_or_else(|| ConnectorError::SessionExpired {
                    url: server.api.clone(),
                })?;
        let connected = self.resolve(server, &ha.connected, retries).await?;
        let active = match &ha.active {
            Some(href) => Some(self.resolve(server, href, retries).await?),
            None => None,
        };
        let mut standbys = Vec::with_capacity(ha.standbys.len());
        for href in &ha.standbys {
            standbys.push(self.resolve(server, href, retries).await?);
        }
        Ok(ServerView {
            version,
            active,
            connected,
            standbys,
            state,
        })
    }

    /// The name of the server an element href names: read once per
    /// element key (keys are the same on every server of a setup).
    async fn resolve(
        &self,
        server: &SmcServer,
        href: &str,
        retries: u32,
    ) -> Result<String, ConnectorError> {
        let key = answers::element_key(href).to_owned();
        if let Some(name) = lock(&self.element_names).get(&key) {
            return Ok(name.clone());
        }
        let body = self
            .call(
                server,
                Method::GET,
                &|_| Ok(href.to_owned()),
                &Purpose::read(retries),
            )
            .await?;
        let name = answers::element_name(href, &body)?;
        if self.server(&name).is_err() {
            return Err(ConnectorError::Config {
                message: format!(
                    "{} names Management Server `{name}` ({href}), which the target does not list: add it to the inventory, with the name the SMC gives it",
                    server.name
                ),
            });
        }
        lock(&self.element_names).insert(key, name.clone());
        Ok(name)
    }

    /// Every server's view, asked at once; a server that does not answer
    /// (refused, closed, timed out) is `None`. Errors that are not about
    /// reaching the server (a wrong key, a malformed answer, an unsupported
    /// version) are returned.
    pub(super) async fn read_views(
        &self,
        retries: u32,
    ) -> Result<Vec<Result<ServerView, ConnectorError>>, ConnectorError> {
        // A server that refuses or closes the connection is stopped: asked
        // once. One that answers an error or a malformed body is asked again.
        let last_running = lock(&self.memory).last_running();
        let last_running = &last_running;
        let now = std::time::Instant::now();
        let quiet: HashMap<String, ConnectorError> = lock(&self.memory)
            .timed_out
            .iter()
            .filter(|(_, (until, _))| *until > now)
            .map(|(name, (_, error))| (name.clone(), error.clone()))
            .collect();
        let quiet = &quiet;
        let reads = self.servers.iter().map(|server| async move {
            // A server that timed out is asked again only after
            // QUIET_AFTER_TIMEOUT: asking it at every observation would cost
            // a whole request timeout each time.
            if let Some(error) = quiet.get(&server.name) {
                return Err(error.clone());
            }
            let mut attempt = 0;
            // A server last seen stopped is asked once; one last seen
            // running whose connection closed is asked again.
            let mut closed_once = !last_running.is_empty() && !last_running.contains(&server.name);
            loop {
                match self.read_view(server, 0).await {
                    // A connection closed without an answer may be a hiccup:
                    // asked again at once, once (a stopped server is silent
                    // again, at the cost of one request).
                    Err(ConnectorError::Refused { ref reason, .. })
                        if !closed_once && super::transport::is_closed_connection(reason) =>
                    {
                        closed_once = true;
                    }
                    Err(
                        error @ (ConnectorError::ServerError { .. }
                        | ConnectorError::Malformed { .. }),
                    ) if attempt < retries => {
                        drop(error);
                        self.backoff(attempt).await;
                        attempt += 1;
                    }
                    result => return result,
                }
            }
        });
        let results = futures::future::join_all(reads).await;
        let mut views = Vec::with_capacity(results.len());
        for (server, result) in self.servers.iter().zip(results) {
            match result {
                Ok(view) => {
                    lock(&self.memory).timed_out.remove(&server.name);
                    if view.connected != server.name {
                        return Err(ConnectorError::Config {
                            message: format!(
                                "the API address of `{}` ({}) is answered by Management Server `{}`: fix its `api` in the inventory",
                                server.name, server.api, view.connected
                            ),
                        });
                    }
                    views.push(Ok(view));
                }
                Err(error @ (ConnectorError::Refused { .. } | ConnectorError::Timeout { .. })) => {
                    self.forget_session(&server.name);
                    let mut memory = lock(&self.memory);
                    if matches!(error, ConnectorError::Timeout { .. }) {
                        if !quiet.contains_key(&server.name) {
                            memory.timed_out.insert(
                                server.name.clone(),
                                (now + QUIET_AFTER_TIMEOUT, error.clone()),
                            );
                        }
                    } else {
                        memory.timed_out.remove(&server.name);
                    }
                    views.push(Err(error));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(views)
    }

    /// The cluster now, derived from every server's view.
    pub(super) async fn derive_now(&self, retries: u32) -> Result<Derived, ConnectorError> {
        let results = self.read_views(retries).await?;
        let names: Vec<String> = self
            .servers
            .iter()
            .map(|server| server.name.clone())
            .collect();
        let views: Vec<Option<ServerView>> = results
            .iter()
            .map(|result| result.as_ref().ok().cloned())
            .collect();
        // No server answers and none was ever seen: there is nothing to
        // derive from, and why they do not answer is the answer.
        if views.iter().all(Option::is_none) && lock(&self.memory).last.is_none() {
            if let Some(Err(error)) = results.into_iter().next() {
                return Err(error);
            }
        }
        let derived = derive(&names, &views, &lock(&self.memory));
        let mut memory = lock(&self.memory);
        memory.stale = false;
        for server in derived
            .snapshot
            .servers
            .iter()
            .filter(|server| server.running)
        {
            memory.excluded.insert(server.name.clone(), server.excluded);
        }
        memory.last = Some(derived.snapshot.clone());
        Ok(derived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Version {
        text.parse().expect("version")
    }

    fn view(name: &str, active: Option<&str>, state: ReplicationState) -> Option<ServerView> {
        Some(ServerView {
            version: version("7.3.4"),
            active: active.map(str::to_owned),
            connected: name.to_owned(),
            standbys: Vec::new(),
            state,
        })
    }

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn a_stopped_active_named_by_the_standbys_is_active() {
        let views = [
            None,
            view("b", Some("a"), ReplicationState::StbOnhold),
            view("c", Some("a"), ReplicationState::StbOnhold),
        ];
        let mut memory = Memory::default();
        memory
            .configured_versions
            .insert("a".into(), version("7.3.4"));
        let derived = derive(&names(), &views, &memory);
        let a = &derived.snapshot.servers[0];
        assert!(!a.running && a.mode == Mode::Active && a.replication == ReplicationState::Unknown);
        assert!(derived.reasons[0]
            .iter()
            .any(|line| line.contains("named active_server by b, c")));
    }

    #[test]
    fn a_server_never_seen_and_not_configured_has_an_unknown_version() {
        let views = [None, view("b", None, ReplicationState::StbOnhold), None];
        let derived = derive(&names(), &views, &Memory::default());
        assert!(derived.snapshot.servers[0].version.is_unknown());
        assert_eq!(derived.snapshot.servers[0].version.to_string(), "unknown");
    }

    #[test]
    fn exclusion_is_derived_from_the_standby_state_and_remembered_when_it_stops() {
        let views = [
            view("a", Some("a"), ReplicationState::ActRepEx),
            view("b", Some("a"), ReplicationState::StbNoRep),
            view("c", Some("a"), ReplicationState::StbRep),
        ];
        let derived = derive(&names(), &views, &Memory::default());
        let excluded: Vec<bool> = derived
            .snapshot
            .servers
            .iter()
            .map(|s| s.excluded)
            .collect();
        assert_eq!(excluded, [false, true, false]);
        let memory = Memory {
            last: Some(derived.snapshot),
            ..Memory::default()
        };
        let views = [view("a", Some("a"), ReplicationState::ActRepEx), None, None];
        let later = derive(&names(), &views, &memory);
        assert!(later.snapshot.servers[1].excluded && !later.snapshot.servers[1].running);
        assert!(!later.snapshot.servers[2].excluded);
    }
}
