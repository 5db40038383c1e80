//! Acting as the published API says: HA actions are `POST {ha}/{action}`
//! with their parameters in the query string and no body; `exclude` and
//! `full_replication` are asked of the Active and name their target with
//! `server_name`; `set_active` and `set_standby` are asked of the target
//! itself, with no target parameter (`force=true` for a forced
//! activation and for setting the Active Standby). Background work is
//! followed as the API pages document it: the target's own
//! `database_replication_diagnostic` until `ACT_REP` (activation), an Active
//! state (forced activation) or `STB_REP` (standby initialization).

use reqwest::Method;

use super::answers;
use super::transport::{Purpose, Session};
use super::{lock, SmcConnector, SmcServer};
use crate::cluster::{Operation, OperationOutput, ReplicationState};
use crate::connect::ConnectorError;

/// When a background operation is over, from its target's own state.
#[derive(Clone)]
enum Until {
    /// `ACT_REP`: the activation wizard has finished. When a Standby does
    /// not replicate (stopped or unreachable before the activation), the
    /// Active never reaches `ACT_REP`: the wizard is then over when the
    /// target is Active and every server that answered when it started
    /// answers again in a settled state (`STB_REP`, `STB_NO_REP`) — the
    /// project's derivation, see `docs/smc-api-facts.md`.
    Replicating(Vec<String>),
    /// Any Active state: a forced activation has taken effect.
    Active,
    /// `STB_REP`: the standby is initialized.
    StandbyReplicating,
}

impl Until {
    fn reached(&self, state: ReplicationState) -> bool {
        match self {
            Until::Replicating(_) => state == ReplicationState::ActRep,
            Until::StandbyReplicating => state == ReplicationState::StbRep,
            Until::Active => matches!(
                state,
                ReplicationState::ActRep
                    | ReplicationState::ActRepEx
                    | ReplicationState::ActNoRep
                    | ReplicationState::ActOnhold
            ),
        }
    }
}

impl SmcConnector {
    /// Performs an API operation and follows it until it has finished.
    pub(super) async fn perform_api(
        &self,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        let target = self.server(operation.server())?;
        match operation {
            Operation::Diagnostic { .. } => self.diagnostic(target, operation).await,
            Operation::ReplicationStates { .. } => self.replication_states(target, operation).await,
            Operation::Exclude { .. } => {
                let active = self.issuing_active(operation).await?;
                self.refuse_known_issue(active, target).await?;
                self.action(active, operation, "exclude", Some(&target.name), None)
                    .await?;
                self.remember_excluded(&target.name, true);
                Ok(OperationOutput::Done)
            }
            Operation::InitStandby { .. } => {
                let active = self.issuing_active(operation).await?;
                self.action(
                    active,
                    operation,
                    "full_replication",
                    Some(&target.name),
                    None,
                )
                .await?;
                self.remember_excluded(&target.name, false);
                self.follow(target, operation, Until::StandbyReplicating)
                    .await
            }
            Operation::Activate { .. } => {
                let answering = lock(&self.memory).last_running();
                self.action(target, operation, "set_active", None, None)
                    .await?;
                self.follow(target, operation, Until::Replicating(answering))
                    .await
            }
            Operation::ForceActivate { .. } => {
                self.action(target, operation, "set_active", None, Some(true))
                    .await?;
                self.follow(target, operation, Until::Active).await
            }
            Operation::SetStandby { force, .. } => {
                self.action(target, operation, "set_standby", None, Some(*force))
                    .await?;
                // "Set Standby and Stop Replication": the server's
                // replication configuration is cleared.
                self.remember_excluded(&target.name, true);
                Ok(OperationOutput::Done)
            }
            other => Err(ConnectorError::Config {
                message: format!("`{other}` is not an API operation"),
            }),
        }
    }

    /// Records what an action of this run did to a server's `excluded`
    /// (which no answer publishes for a server that does not answer).
    pub(super) fn remember_excluded(&self, server: &str, excluded: bool) {
        lock(&self.memory)
            .excluded
            .insert(server.to_owned(), excluded);
    }

    /// The Active an action is asked of: the one running Active last seen,
    /// read again when there is not exactly one.
    async fn issuing_active(&self, operation: &Operation) -> Result<&SmcServer, ConnectorError> {
        // Among several Actives, the one still declared in replication.
        let known = |snapshot: &crate::cluster::Snapshot| {
            let actives: Vec<&crate::cluster::ServerSnapshot> = snapshot.actives().collect();
            let declared: Vec<&crate::cluster::ServerSnapshot> = actives
                .iter()
                .copied()
                .filter(|server| !server.excluded)
                .collect();
            match (actives.as_slice(), declared.as_slice()) {
                ([only], _) | (_, [only]) => Some(only.name.clone()),
                _ => None,
            }
        };
        let cached = {
            let memory = lock(&self.memory);
            if memory.stale {
                None
            } else {
                memory.last.as_ref().and_then(known)
            }
        };
        let active = match cached {
            Some(active) => Some(active),
            None => known(&self.derive_now(self.settings.read_retries).await?.snapshot),
        };
        let active = active.ok_or_else(|| ConnectorError::ActionRefused {
            operation: operation.to_string(),
            message: "no single running Active Management Server to ask: exclusion and standby initialization are requested on the Active".to_owned(),
            details: Vec::new(),
        })?;
        self.server(&active)
    }

    /// SMC-65140: on 7.3.0–7.3.3 and 7.4.0–7.4.1, excluding a stopped
    /// Standby through the API fails. Said before anything is sent.
    async fn refuse_known_issue(
        &self,
        active: &SmcServer,
        target: &SmcServer,
    ) -> Result<(), ConnectorError> {
        let stopped = lock(&self.memory)
            .last
            .as_ref()
            .and_then(|last| last.server(&target.name))
            .is_some_and(|server| !server.running);
        if !stopped {
            return Ok(());
        }
        let session = self.session(active).await?;
        if !session.version.has_smc_65140() {
            return Ok(());
        }
        let key = lock(&self.element_names)
            .iter()
            .find(|(_, name)| **name == target.name)
            .map(|(key, _)| key.clone())
            .unwrap_or_else(|| "KEY".to_owned());
        Err(ConnectorError::KnownIssue {
            operation: format!("exclude {}", target.name),
            issue: "SMC-65140".to_owned(),
            message: session.version.smc_65140_note(&active.name),
            help: format!(
                "start {} first (`start-server`) and exclude it then; or exclude it on {}'s console with `sgReplicationAdmin -exclude standby-server-key={key}`, then continue with `runbook resume`",
                target.name, active.name
            ),
        })
    }

    /// `POST {ha}/{action}` on `issuer`, with `server_name` and `force` in
    /// the query string when given; returns the confirmation message.
    async fn action(
        &self,
        issuer: &SmcServer,
        operation: &Operation,
        action: &'static str,
        server_name: Option<&str>,
        force: Option<bool>,
    ) -> Result<String, ConnectorError> {
        let mut query = Vec::new();
        if let Some(name) = server_name {
            query.push(("server_name", name.to_owned()));
        }
        if let Some(force) = force {
            query.push(("force", force.to_string()));
        }
        let purpose = Purpose {
            what: operation.to_string(),
            operation: Some(operation),
            retries: 0,
            timeout: None,
            query,
        };
        let url = |session: &Session| session.ha(&issuer.api, action);
        let answer = self.call(issuer, Method::POST, &url, &purpose).await?;
        answers::action_value(&format!("{}/…/ha/{action}", issuer.api), &answer)
    }

    /// Follows a background operation through its target's own
    /// `database_replication_diagnostic`. The target may restart meanwhile
    /// (an initialization restarts it twice): not answering is waiting.
    async fn follow(
        &self,
        target: &SmcServer,
        operation: &Operation,
        until: Until,
    ) -> Result<OperationOutput, ConnectorError> {
        let deadline =
            self.clock.started.elapsed() + self.clock.real(self.settings.operation_timeout);
        let result = self.follow_until(target, operation, until, deadline).await;
        *super::lock(&self.progress) = None;
        result
    }

    async fn follow_until(
        &self,
        target: &SmcServer,
        operation: &Operation,
        until: Until,
        deadline: std::time::Duration,
    ) -> Result<OperationOutput, ConnectorError> {
        loop {
            if self.clock.started.elapsed() > deadline {
                return Err(ConnectorError::Timeout {
                    server: target.name.clone(),
                    what: format!("waiting for {operation} to finish"),
                    limit: self.settings.operation_timeout,
                });
            }
            self.sleep_target(self.settings.poll_interval).await;
            let url =
                |session: &Session| session.ha(&target.api, "database_replication_diagnostic");
            match self
                .call(target, Method::GET, &url, &Purpose::read(0))
                .await
            {
                Ok(body) => {
                    let (_, state) = answers::own_replication(
                        &format!("{}/…/ha/database_replication_diagnostic", target.api),
                        &body,
                    )?;
                    *super::lock(&self.progress) =
                        Some(format!("{} reports {}", target.name, state.code()));
                    if until.reached(state) {
                        return Ok(OperationOutput::Done);
                    }
                    if let Until::Replicating(answering) = &until {
                        if Until::Active.reached(state) && self.settled(target, answering).await? {
                            return Ok(OperationOutput::Done);
                        }
                    }
                }
                Err(
                    ConnectorError::Refused { .. }
                    | ConnectorError::Timeout { .. }
                    | ConnectorError::ServerError { .. },
                ) => {
                    *super::lock(&self.progress) = Some(format!(
                        "{} restarts (its API does not answer)",
                        target.name
                    ));
                    self.forget_session(&target.name)
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Whether every server in `answering` (but `target`) answers again and
    /// reports a settled Standby state: the activation wizard is over.
    async fn settled(
        &self,
        target: &SmcServer,
        answering: &[String],
    ) -> Result<bool, ConnectorError> {
        let views = self.read_views(0).await?;
        Ok(self.servers.iter().zip(&views).all(|(server, view)| {
            server.name == target.name
                || !answering.contains(&server.name)
                || view.as_ref().is_ok_and(|view| {
                    matches!(
                        view.state,
                        ReplicationState::StbRep | ReplicationState::StbNoRep
                    ) && view.active.as_deref() == Some(target.name.as_str())
                })
        }))
    }

    /// `GET {ha}/diagnostic` with its own time limits: the request is
    /// allowed the diagnostic's `global_timeout` plus `request_timeout`.
    async fn diagnostic(
        &self,
        target: &SmcServer,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        let global = self.settings.diagnostic_timeout;
        let purpose = Purpose {
            what: operation.to_string(),
            operation: Some(operation),
            retries: self.settings.read_retries,
            // The server may spend `global_timeout` asking the others.
            timeout: Some(global + self.settings.request_timeout),
            query: vec![
                ("global_timeout", global.as_secs().max(1).to_string()),
                (
                    "server_timeout",
                    self.settings
                        .diagnostic_server_timeout
                        .min(global)
                        .as_secs()
                        .max(1)
                        .to_string(),
                ),
            ],
        };
        let url = |session: &Session| session.ha(&target.api, "diagnostic");
        let body = self.call(target, Method::GET, &url, &purpose).await?;
        answers::diagnostic(&format!("{}/…/ha/diagnostic", target.api), &body)
    }

    /// The replication state of every server, read on the Active: one
    /// `all_servers_replication_states` where its version has it, else
    /// every server's own `database_replication_diagnostic`.
    async fn replication_states(
        &self,
        target: &SmcServer,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError> {
        let session = self.session(target).await?;
        if session.version.has_all_servers_replication_states() {
            let purpose = Purpose {
                what: operation.to_string(),
                operation: Some(operation),
                retries: self.settings.read_retries,
                timeout: None,
                query: Vec::new(),
            };
            let url = |session: &Session| session.ha(&target.api, "all_servers_replication_states");
            let body = self.call(target, Method::GET, &url, &purpose).await?;
            let (active, standbys) = answers::all_replication_states(
                &format!("{}/…/ha/all_servers_replication_states", target.api),
                &body,
            )?;
            let mut states = vec![(target.name.clone(), active)];
            states.extend(standbys);
            states.sort();
            return Ok(OperationOutput::ReplicationStates { states });
        }
        let views = self.read_views(self.settings.read_retries).await?;
        let target_view = self
            .servers
            .iter()
            .zip(&views)
            .find(|(server, _)| server.name == target.name)
            .and_then(|(_, view)| view.as_ref().ok());
        if target_view.is_none_or(|view| view.active.as_deref() != Some(target.name.as_str())) {
            return Err(ConnectorError::ActionRefused {
                operation: operation.to_string(),
                message: format!(
                    "{} is not the active Management Server: the replication states are read on the Active",
                    target.name
                ),
                details: Vec::new(),
            });
        }
        let mut states: Vec<(String, ReplicationState)> = self
            .servers
            .iter()
            .zip(&views)
            .map(|(server, view)| {
                (
                    server.name.clone(),
                    view.as_ref()
                        .map_or(ReplicationState::Unknown, |view| view.state),
                )
            })
            .collect();
        states.sort();
        Ok(OperationOutput::ReplicationStates { states })
    }
}
