//! Server connectors: the one trait the interpreter drives, and its
//! implementations — the in-process simulator (`sim`), the SMC-shaped HTTP
//! API (`smc`), console commands (`console`) and a human operator (`manual`).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cluster::{Operation, OperationOutput, Snapshot};

mod api_key;
pub mod console;
mod error;
pub mod inventory;
pub mod lease;
pub mod manual;
pub mod sim;
pub mod sim_server;
pub mod smc;

pub use api_key::ApiKey;
pub use console::ConsoleConnector;
pub use error::{duration_text, ConnectorError};
pub use inventory::{Inventory, InventoryError};
pub use manual::{ManualAnswer, ManualConnector, ManualRequest, OperatorPrompt, WaitingPrompt};

/// `text` without the user-info part of a URL (`http://user:pw@host` →
/// `http://host`): no credential written in an address is printed, logged
/// or journaled (the API key comes from the environment, never the URL).
/// Anything that is not such a URL is returned unchanged.
pub fn redact_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => text.to_owned(),
    }
}

/// `text` with the user-info part of every URL in it (`https://user:pw@host`)
/// masked by as many `*` as it has bytes, so that byte offsets into the text
/// stay valid: what a diagnostic quoting a file (an inventory's excerpt, a
/// parser's message) shows instead of a credential written there.
pub fn mask_url_credentials(text: &str) -> String {
    let mut masked = text.to_owned();
    let mut from = 0;
    while let Some(found) = masked[from..].find("://") {
        let start = from + found + 3;
        let authority_end = masked[start..]
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>') || c.is_whitespace()
            })
            .map_or(masked.len(), |end| start + end);
        if let Some(at) = masked[start..authority_end].rfind('@') {
            masked.replace_range(start..start + at, &"*".repeat(at));
        }
        from = authority_end;
    }
    masked
}

/// How a run reaches its target, as the journal records it so that
/// `runbook resume` reaches the same target the same way. Opaque to the
/// interpreter, which only passes it on; never holds a secret (API keys stay
/// in the environment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetRecord {
    /// The target as given (`sim`, `http://HOST:PORT`, an inventory path).
    pub target: String,
    /// The simulator's configuration, for the in-process simulator.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sim: Option<crate::cluster::SimConfig>,
    /// The connection options given on the command line (timeouts, TLS).
    #[serde(skip_serializing_if = "smc::ConnectionOptions::is_empty", default)]
    pub connection: smc::ConnectionOptions,
}

impl TargetRecord {
    /// The record of a target given as `target`, with nothing else.
    pub fn named(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            ..Self::default()
        }
    }
}

/// How the interpreter reaches a cluster.
///
/// Every method is async; `perform` returns only when the operation is
/// finished (background operations are polled by the connector).
#[async_trait]
pub trait Connector: Send + Sync {
    /// A one-line description of the target, shown first in human output
    /// (e.g. `simulated cluster (3 servers, in-process)`).
    fn describe(&self) -> String;

    /// Reads the state of every server.
    async fn snapshot(&self) -> Result<Snapshot, ConnectorError>;

    /// Performs one operation and waits until it has finished.
    async fn perform(&self, operation: &Operation) -> Result<OperationOutput, ConnectorError>;

    /// Lets `duration` pass: real time for real targets, virtual time for the
    /// in-process simulator (so a whole upgrade simulates in milliseconds).
    async fn sleep(&self, duration: Duration);

    /// The target's clock now. Two readings taken in one process differ by
    /// the time that passed on the target; readings journaled by another
    /// process acting on the same target compare too, as far as
    /// [`Connector::clock_kind`] says (time windows across a resume).
    fn clock(&self) -> Duration;

    /// Which clock [`Connector::clock`] reads.
    fn clock_kind(&self) -> ClockKind;

    /// How fast [`Connector::clock`] runs on its own, in its seconds per
    /// real second (1 for wall time, `sim serve`'s speed); `None` when it
    /// moves only as the run acts and waits (the in-process simulator).
    fn clock_speed(&self) -> Option<f64> {
        None
    }

    /// The servers the product found Active at the same time when it last
    /// detected split brain (it then set every server to Standby), if it did
    /// and no forced activation has cleared it since. Targets that cannot
    /// tell answer `None`.
    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        Ok(None)
    }

    /// Whether the target can count the administrator changes made on a
    /// server (`config_revision`). A real SMC publishes no such count: a
    /// step that discards changes then says so and asks the operator.
    fn counts_changes(&self) -> bool {
        true
    }

    /// Whether every answer, error included, is the operation's real outcome
    /// (the in-process simulator decides synchronously, and an operation
    /// cannot outlive the process that sent it). Remote targets: `false`, a
    /// time limit or a dropped connection leaves the outcome unknown.
    fn outcome_always_seen(&self) -> bool {
        false
    }

    /// The cluster as an earlier process last saw it (a resumed run's
    /// journal): what the connector falls back on for servers that do not
    /// answer, whose state no answer publishes.
    fn seed(&self, _last_seen: &Snapshot) {}

    /// Where the operation under way is, in words, as far as the target
    /// shows it (e.g. `mgt-3 reports STB_INIT`, `mgt-3 restarts (not
    /// answering)`); `None` when it shows nothing. Polled while a long
    /// operation runs.
    fn progress(&self) -> Option<String> {
        None
    }

    /// What tells this cluster from another one reached at the same address,
    /// as far as the connector has read it: each server's name and the key
    /// of its Management Server element (published by `/ha` and the
    /// elements). `None` when the target has no such identity (the
    /// in-process simulator, rebuilt from the journal itself).
    fn identity(&self) -> Option<std::collections::BTreeMap<String, String>> {
        None
    }

    /// Takes the cluster for the run `holder` runs, before it reads or acts
    /// (see [`lease`]): refused with `runbook::connector::cluster_in_use`
    /// while another runner holds it. Given back by [`Connector::close`].
    /// Targets that live in the runner's own process need none.
    async fn take_lease(
        &self,
        _holder: &lease::Holder,
        _take_over: bool,
    ) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Ends what the connector holds open on the target (API sessions are
    /// logged out, the lease given back); called at the end of every run,
    /// resume, plan and probe.
    async fn close(&self) {}

    /// Warnings about how the target is reached (e.g. TLS certificate
    /// verification turned off); a run emits them right after `run_started`.
    fn warnings(&self) -> Vec<TargetWarning> {
        Vec::new()
    }

    /// Whether performing `operation` waits for a person at the terminal
    /// (an operation the inventory marks `manual`, which nothing else
    /// answers): the question it will ask, announced by the run first.
    fn waits_for_operator(&self, _operation: &Operation) -> Option<WaitingPrompt> {
        None
    }
}

/// Which clock a target's [`Connector::clock`] reads: what decides whether a
/// reading journaled by one process (`clock_seconds`) can be compared with
/// one taken by another, as a resumed run does to measure a time window
/// that started before the interruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// The in-process simulator's virtual time: zero when the simulated
    /// cluster is built, moved only by the run (operations, `wait` polls).
    /// A resume rebuilds the cluster with its clock where the journal left
    /// it: no simulated time passes while no process runs the cluster.
    Simulated,
    /// The virtual clock of a `runbook sim serve`, read when the connector
    /// is created: it runs on in that process while no runner is connected
    /// (and is saved with `--state`).
    SimServe,
    /// Wall time, as time since the Unix epoch: a real cluster.
    Wall,
}

impl ClockKind {
    /// How a message names the clock.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Simulated => "the simulator's clock",
            Self::SimServe => "the clock of `runbook sim serve`",
            Self::Wall => "wall time",
        }
    }
}

/// A warning about how a target is reached, with its stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetWarning {
    /// The code, e.g. `runbook::connector::tls_verification_off`.
    pub code: String,
    /// What the operator should know.
    pub message: String,
}

/// Whatever performs console operations (stop, start, installer, backup,
/// restore) for an API connector: console commands, an operator, or the
/// simulator-only console path of `runbook sim serve`.
#[async_trait]
pub trait ConsoleOperations: Send + Sync {
    /// A short description, e.g. `console commands from the inventory`.
    fn describe(&self) -> String;

    /// Performs one console operation and waits until it has finished.
    async fn perform_console(
        &self,
        operation: &Operation,
    ) -> Result<OperationOutput, ConnectorError>;

    /// Whether performing `operation` waits for a person at the terminal
    /// (see [`Connector::waits_for_operator`]).
    fn waits_for_operator(&self, _operation: &Operation) -> Option<WaitingPrompt> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{mask_url_credentials, redact_url};

    #[test]
    fn credentials_in_quoted_urls_are_masked_in_place() {
        let text =
            "url = \"https://admin:hunter2@smc.example:8082\"\nnote = \"http://h/p@x\" ftp://é:ü@h";
        let masked = mask_url_credentials(text);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("hunter2"), "{masked}");
        assert!(
            masked.contains("https://*************@smc.example:8082\""),
            "{masked}"
        );
        assert!(masked.contains("\"http://h/p@x\""), "{masked}");
        assert!(masked.ends_with("ftp://*****@h"), "{masked}");
        assert_eq!(mask_url_credentials("no url"), "no url");
    }

    #[test]
    fn credentials_in_urls_are_removed() {
        assert_eq!(
            redact_url("http://user:s3cret@127.0.0.1:8082/x"),
            "http://127.0.0.1:8082/x"
        );
        assert_eq!(redact_url("https://a@b:c@host"), "https://host");
        assert_eq!(redact_url("http://host/path@x"), "http://host/path@x");
        assert_eq!(redact_url("prod.toml"), "prod.toml");
    }
}
