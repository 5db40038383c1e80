//! The run's lease on the cluster, as the SMC connector takes it: granted by
//! a `runbook sim serve` (and renewed while the run lasts), or a lock file
//! shared by every runner on this machine for a real SMC (see
//! [`crate::connect::lease`]).

use reqwest::StatusCode;

use super::transport::transport_error;
use super::SmcConnector;
use crate::connect::lease::{Granted, Holder, LeaseRequest, LocalLock, Refusal};
use crate::connect::{ConnectorError, TargetWarning};

/// What the connector holds while the run lasts.
#[derive(Debug)]
pub(super) enum Held {
    /// A `sim serve` lease, renewed by a task until given back.
    Sim {
        token: String,
        renewer: tokio::task::JoinHandle<()>,
    },
    /// The lock file of this machine.
    Local(#[allow(dead_code)] LocalLock),
}

/// The code of the warning that a local lock does not exclude runners on
/// other machines.
pub const LOCAL_LOCK_ONLY: &str = "runbook::connector::local_lock_only";

impl SmcConnector {
    /// Takes the cluster for `holder`: from `sim serve`, or this machine's lock.
    pub(super) async fn lease(
        &self,
        holder: &Holder,
        take_over: bool,
    ) -> Result<(), ConnectorError> {
        let held = match &self.sim_base {
            Some(base) => self.sim_lease(base, holder, take_over).await?,
            None => {
                let addresses: Vec<String> = self
                    .servers
                    .iter()
                    .map(|server| server.api.clone())
                    .collect();
                Held::Local(LocalLock::take(&addresses, holder, &self.description)?)
            }
        };
        *super::lock(&self.held_lease) = Some(held);
        Ok(())
    }

    async fn sim_lease(
        &self,
        base: &str,
        holder: &Holder,
        take_over: bool,
    ) -> Result<Held, ConnectorError> {
        let url = format!("{base}/sim/lease");
        let what = "taking the cluster's lease";
        let transport = |error| transport_error(&url, "sim", what, &self.settings, error);
        let response = self
            .client
            .post(&url)
            .bearer_auth(self.key.expose())
            .json(&LeaseRequest {
                holder: holder.clone(),
                take_over,
            })
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        let malformed = |error: serde_json::Error| ConnectorError::Malformed {
            url: url.clone(),
            reason: error.to_string(),
        };
        match status {
            StatusCode::CONFLICT => {
                let refusal: Refusal = serde_json::from_slice(&body).map_err(malformed)?;
                Err(refusal.into_error(&self.description))
            }
            StatusCode::UNAUTHORIZED => Err(ConnectorError::WrongKey { url }),
            status if status.is_success() => {
                let granted: Granted = serde_json::from_slice(&body).map_err(malformed)?;
                let every = std::time::Duration::from_millis(granted.renew_every_ms.max(100));
                Ok(Held::Sim {
                    renewer: self.renew_every(base, &granted.token, every),
                    token: granted.token,
                })
            }
            // An older `sim serve` grants no lease: nothing to hold.
            StatusCode::NOT_FOUND => Ok(Held::Local(LocalLock::take(
                &[base.to_owned()],
                holder,
                &self.description,
            )?)),
            status => Err(ConnectorError::Malformed {
                url,
                reason: format!("answered {status} to a lease request"),
            }),
        }
    }

    /// A task that renews the lease until it is aborted (the run ended).
    fn renew_every(
        &self,
        base: &str,
        token: &str,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let client = self.client.clone();
        let key = self.key.clone();
        let url = format!("{base}/sim/lease/{token}");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                // A failed renewal is retried at the next tick; a lease
                // taken over is the new holder's (it took a stale one).
                let _ = client.put(&url).bearer_auth(key.expose()).send().await;
            }
        })
    }

    /// Gives the lease back (the end of every run and resume).
    pub(super) async fn release_lease(&self) {
        let held = super::lock(&self.held_lease).take();
        if let (Some(Held::Sim { token, renewer }), Some(base)) = (held, &self.sim_base) {
            renewer.abort();
            let url = format!("{base}/sim/lease/{token}");
            let _ = self
                .client
                .delete(&url)
                .bearer_auth(self.key.expose())
                .send()
                .await;
        }
    }

    /// The warning an inventory target's run gets: its lock covers this
    /// machine only.
    pub(super) fn lease_warning(&self) -> Option<TargetWarning> {
        matches!(&*super::lock(&self.held_lease), Some(Held::Local(_))).then(|| TargetWarning {
            code: LOCAL_LOCK_ONLY.to_owned(),
            message: String::from(
                "the cluster is locked against other runners on this machine only: a runner on another machine, or a person at a Management Client, could still act on it while this run does",
            ),
        })
    }
}
