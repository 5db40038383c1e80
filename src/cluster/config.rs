//! The simulator's configuration: how many servers, which versions, which
//! faults (by their contract names) and the seed that makes every random
//! choice reproducible.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Version;

/// How a simulated cluster is built and which faults it plays.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SimConfig {
    /// Number of Management Servers (at least 1): `mgt-1` is Active, the rest Standby.
    pub servers: usize,
    /// The faults to play, each firing where `docs/simulator.md` says.
    pub faults: Vec<Fault>,
    /// Seed of every random choice (which Standby auto-activates, ...).
    pub seed: u64,
    /// The version upgrades install (only used to tell "not yet upgraded" servers).
    pub target_version: Version,
    /// The version every server runs at creation.
    pub initial_version: Version,
    /// Faults pinned to one server (`standby-auto-activates:mgt-3`): by
    /// contract name, the server that fault picks instead of a seeded choice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pinned: BTreeMap<String, String>,
    /// `crash:SERVER@N`, `unreachable:SERVER@N`: the operation (from 1) the
    /// fault fires right before, by the fault as written without `@N` (its
    /// first occasion otherwise: the first operation for a crash, before
    /// the run for `unreachable`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub occasions: BTreeMap<String, usize>,
    /// The state the cluster starts in (`--sim-start`; none: healthy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartSpec>,
}

/// A starting state and which of its variants (`--sim-start
/// split-brain:2`): see [`super::starting_clusters`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StartSpec {
    /// The state.
    pub state: crate::domain::StartingState,
    /// Which variant, from 1, in the order of [`super::starting_clusters`].
    pub variant: usize,
}

impl std::fmt::Display for StartSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.variant == 1 {
            write!(f, "{}", self.state)
        } else {
            write!(f, "{}:{}", self.state, self.variant)
        }
    }
}

impl StartSpec {
    /// Parses `STATE` or `STATE:N`.
    pub fn parse(text: &str) -> Result<StartSpec, SimConfigError> {
        let (name, variant) = match text.split_once(':') {
            Some((name, number)) => (name, number.parse::<usize>().ok().filter(|n| *n >= 1)),
            None => (text, Some(1)),
        };
        let unknown = || SimConfigError::UnknownStart {
            name: text.to_string(),
            valid: crate::domain::StartingState::ALL
                .iter()
                .map(|state| state.name())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let state = crate::domain::StartingState::from_name(name).ok_or_else(unknown)?;
        let variant = variant.ok_or_else(unknown)?;
        Ok(StartSpec { state, variant })
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            servers: 3,
            faults: Vec::new(),
            seed: 0,
            target_version: Version::from_parts(vec![7, 4, 0]),
            initial_version: Version::from_parts(vec![7, 3, 4]),
            pinned: BTreeMap::new(),
            occasions: BTreeMap::new(),
            start: None,
        }
    }
}

impl SimConfig {
    /// A default configuration with `servers` servers.
    pub fn with_servers(servers: usize) -> Self {
        SimConfig {
            servers,
            ..SimConfig::default()
        }
    }

    /// Adds a fault as `--sim-fault` writes it: a contract name, or
    /// `standby-auto-activates:SERVER` / `standby-activated-by-operator:SERVER`,
    /// which pin the Standby that fault picks (what a verifier counterexample
    /// needs to replay exactly).
    pub fn add_fault(&mut self, text: &str) -> Result<(), SimConfigError> {
        let (text, occasion) = match text.trim().rsplit_once('@') {
            Some((fault, number)) => {
                let occasion = number
                    .parse::<usize>()
                    .ok()
                    .filter(|occasion| *occasion >= 1)
                    .ok_or_else(|| SimConfigError::BadOccasion {
                        fault: text.trim().to_string(),
                    })?;
                (fault, Some(occasion))
            }
            None => (text, None),
        };
        let (fault, pinned) = parse_fault_spec(text)?;
        if let Some(occasion) = occasion {
            if !matches!(fault, Fault::Crash(_) | Fault::Unreachable(_)) {
                return Err(SimConfigError::BadOccasion {
                    fault: format!("{text}@{occasion}"),
                });
            }
            self.occasions.insert(fault.to_string(), occasion);
        }
        if let Some(server) = pinned {
            self.pinned.insert(fault.name().to_string(), server);
        }
        if !self.faults.contains(&fault) {
            self.faults.push(fault);
        }
        Ok(())
    }

    /// The server `fault` is pinned to, if any.
    pub fn pinned_server(&self, fault: &Fault) -> Option<&str> {
        self.pinned.get(fault.name()).map(String::as_str)
    }

    /// The server names, `mgt-1` to `mgt-N`, in order.
    pub fn server_names(&self) -> Vec<String> {
        (1..=self.servers.max(1)).map(server_name).collect()
    }

    /// Checks what [`Simulator::new`](super::Simulator::new) silently tolerates:
    /// no servers, a fault naming an unknown server, a target not newer than
    /// the initial version.
    pub fn validate(&self) -> Result<(), SimConfigError> {
        if self.servers == 0 {
            return Err(SimConfigError::NoServers);
        }
        let names = self.server_names();
        for (fault, server) in &self.pinned {
            if !names.iter().any(|name| name == server) {
                return Err(SimConfigError::UnknownServer {
                    fault: format!("{fault}:{server}"),
                    server: server.clone(),
                    servers: names.join(", "),
                });
            }
        }
        for fault in &self.faults {
            if let Some(server) = fault.server() {
                if !names.iter().any(|name| name == server) {
                    return Err(SimConfigError::UnknownServer {
                        fault: fault.to_string(),
                        server: server.to_string(),
                        servers: names.join(", "),
                    });
                }
            }
        }
        if let Some(start) = &self.start {
            let variants = super::starting_clusters(&names, &self.initial_version, start.state);
            if start.variant > variants.len() {
                let help = if variants.is_empty() {
                    format!("`{}` needs more servers (`--sim-servers`)", start.state)
                } else {
                    let listed: Vec<String> = variants
                        .iter()
                        .enumerate()
                        .map(|(index, variant)| {
                            format!("`{}:{}` {}", start.state, index + 1, variant.label)
                        })
                        .collect();
                    format!("its variants are {}", listed.join("; "))
                };
                return Err(SimConfigError::NoSuchStart {
                    start: start.to_string(),
                    servers: self.servers,
                    help,
                });
            }
        }
        if self.target_version <= self.initial_version {
            return Err(SimConfigError::TargetNotNewer {
                target: self.target_version.to_string(),
                initial: self.initial_version.to_string(),
            });
        }
        Ok(())
    }
}

/// The name of the `index`-th server (1-based), e.g. `mgt-2`.
pub fn server_name(index: usize) -> String {
    format!("mgt-{index}")
}

/// A fault the simulator plays (the contract's `--sim-fault NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `replication-down`: replication is broken before the run starts.
    ReplicationDown,
    /// `active-upgrade-cancelled`: the Active's upgrade is cancelled and reverted.
    ActiveUpgradeCancelled,
    /// `standby-auto-activates`: a not-yet-upgraded Standby becomes Active by itself
    /// while the Active is being upgraded.
    StandbyAutoActivates,
    /// `standby-activated-by-operator`: an operator activates a Standby for an
    /// urgent change while the Active is being upgraded.
    StandbyActivatedByOperator,
    /// `upgrade-fails:SERVER`: the installer fails on that server.
    UpgradeFails(String),
    /// `unreachable:SERVER`: that server stops answering before the run;
    /// `unreachable:SERVER@N` right before the N-th operation the run sends.
    Unreachable(String),
    /// `changes-on-active`: administrators keep changing the Initial Active's configuration.
    ChangesOnActive,
    /// `crash:SERVER`: that server stops (its host or its service goes
    /// down) right before an operation of the run; `crash:SERVER@N` before
    /// the N-th operation the run sends (the first by default).
    Crash(String),
}

impl Fault {
    /// Every fault name as the contract spells it (`SERVER` is a placeholder).
    pub const NAMES: [&'static str; 8] = [
        "replication-down",
        "active-upgrade-cancelled",
        "standby-auto-activates",
        "standby-activated-by-operator",
        "upgrade-fails:SERVER",
        "unreachable:SERVER",
        "changes-on-active",
        "crash:SERVER",
    ];

    /// The fault's name without its server argument, e.g. `upgrade-fails`.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::ReplicationDown => "replication-down",
            Fault::ActiveUpgradeCancelled => "active-upgrade-cancelled",
            Fault::StandbyAutoActivates => "standby-auto-activates",
            Fault::StandbyActivatedByOperator => "standby-activated-by-operator",
            Fault::UpgradeFails(_) => "upgrade-fails",
            Fault::Unreachable(_) => "unreachable",
            Fault::ChangesOnActive => "changes-on-active",
            Fault::Crash(_) => "crash",
        }
    }

    /// The server the fault names, for `upgrade-fails:` and `unreachable:`.
    pub fn server(&self) -> Option<&str> {
        match self {
            Fault::UpgradeFails(server) | Fault::Unreachable(server) | Fault::Crash(server) => {
                Some(server)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.server() {
            Some(server) => write!(f, "{}:{server}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

impl FromStr for Fault {
    type Err = SimConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name, Some(argument.trim())),
            None => (text, None),
        };
        let unknown = || SimConfigError::UnknownFault {
            name: text.to_string(),
            valid: Fault::NAMES.join(", "),
        };
        let needs_server = |build: fn(String) -> Fault| match argument {
            Some(server) if !server.is_empty() => Ok(build(server.to_string())),
            _ => Err(SimConfigError::MissingServer {
                fault: name.to_string(),
            }),
        };
        let plain = |fault: Fault| match argument {
            None => Ok(fault),
            Some(_) => Err(unknown()),
        };
        match name {
            "replication-down" => plain(Fault::ReplicationDown),
            "active-upgrade-cancelled" => plain(Fault::ActiveUpgradeCancelled),
            "standby-auto-activates" => plain(Fault::StandbyAutoActivates),
            "standby-activated-by-operator" => plain(Fault::StandbyActivatedByOperator),
            "changes-on-active" => plain(Fault::ChangesOnActive),
            "upgrade-fails" => needs_server(Fault::UpgradeFails),
            "unreachable" => needs_server(Fault::Unreachable),
            "crash" => needs_server(Fault::Crash),
            _ => Err(unknown()),
        }
    }
}

/// Parses `--sim-fault` text: the fault, and the server it is pinned to
/// when a fault that picks a Standby names one
/// (`standby-auto-activates:mgt-3`).
pub fn parse_fault_spec(text: &str) -> Result<(Fault, Option<String>), SimConfigError> {
    let text = text.trim();
    if let Some((name, server)) = text.split_once(':') {
        let fault = match name.trim() {
            "standby-auto-activates" => Some(Fault::StandbyAutoActivates),
            "standby-activated-by-operator" => Some(Fault::StandbyActivatedByOperator),
            _ => None,
        };
        if let Some(fault) = fault {
            let server = server.trim();
            if server.is_empty() {
                return Err(SimConfigError::MissingServer {
                    fault: name.trim().to_string(),
                });
            }
            return Ok((fault, Some(server.to_string())));
        }
    }
    Ok((text.parse()?, None))
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Fault {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Fault".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A simulator fault by its contract name, with its server where it \
                takes one (`replication-down`, `upgrade-fails:mgt-2`).",
            "type": "string",
        })
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A simulator configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum SimConfigError {
    /// `FAULT@N` on a fault that takes no occasion, or N not a number from 1.
    #[error("`{fault}`: only `crash:SERVER` and `unreachable:SERVER` take an occasion, `@N` with N from 1")]
    #[diagnostic(
        code(runbook::cluster::bad_occasion),
        help("write `crash:mgt-2@3` for a crash of mgt-2 right before the run's third operation, `unreachable:mgt-2@3` for mgt-2 to stop answering there")
    )]
    BadOccasion {
        /// The fault as written.
        fault: String,
    },
    /// `--sim-start` names no starting state (or a variant that is not a number from 1).
    #[error("unknown starting state `{name}`")]
    #[diagnostic(
        code(runbook::cluster::unknown_start),
        help(
            "the starting states are: {valid}; a variant is chosen with `:N`, e.g. `split-brain:2`"
        )
    )]
    UnknownStart {
        /// What was given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// `--sim-start STATE:N` with no such variant on this cluster.
    #[error("`{start}` is not a starting state of a {servers}-server cluster")]
    #[diagnostic(code(runbook::cluster::no_such_start), help("{help}"))]
    NoSuchStart {
        /// The start as written.
        start: String,
        /// The cluster size.
        servers: usize,
        /// The variants there are.
        help: String,
    },
    /// `--sim-fault` names no known fault.
    #[error("unknown simulator fault `{name}`")]
    #[diagnostic(code(runbook::cluster::unknown_fault), help("the faults are: {valid}"))]
    UnknownFault {
        /// What was given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// `upgrade-fails` or `unreachable` without `:SERVER`.
    #[error("the simulator fault `{fault}` needs a server, as in `{fault}:mgt-2`")]
    #[diagnostic(
        code(runbook::cluster::fault_needs_server),
        help("write the server after a colon, e.g. `--sim-fault {fault}:mgt-2`")
    )]
    MissingServer {
        /// The fault name.
        fault: String,
    },
    /// A fault names a server the simulated cluster does not have.
    #[error("the simulator fault `{fault}` names `{server}`, which is not a simulated server")]
    #[diagnostic(
        code(runbook::cluster::fault_unknown_server),
        help("the simulated servers are {servers}; change `--sim-servers` or the fault")
    )]
    UnknownServer {
        /// The fault as written.
        fault: String,
        /// The server it names.
        server: String,
        /// The simulated servers, comma-separated.
        servers: String,
    },
    /// Zero servers.
    #[error("a simulated cluster needs at least one server")]
    #[diagnostic(
        code(runbook::cluster::no_servers),
        help("pass `--sim-servers 1` or more (the default is 3)")
    )]
    NoServers,
    /// The target version is not newer than the installed one.
    #[error("the target version {target} is not newer than the installed version {initial}")]
    #[diagnostic(
        code(runbook::cluster::target_not_newer),
        help("set a newer version, e.g. `--set version=7.4.0`")
    )]
    TargetNotNewer {
        /// The target version.
        target: String,
        /// The initial version.
        initial: String,
    },
}
