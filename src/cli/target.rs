//! `--target`: the in-process simulator (`sim`, the default), a running
//! `runbook sim serve` (`http://HOST:PORT`) or an inventory file. Builds the
//! connector a run, a resume or a plan acts on.

use std::collections::BTreeMap;

use crate::cluster::{Fault, SimConfig};
use crate::connect::sim::SimConnector;
use crate::connect::{Connector, ConnectorError};

/// Simulator options shared by `run`, `resume` and `plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SimArgs {
    /// Number of simulated servers (`--target sim`).
    #[arg(long = "sim-servers", value_name = "N", default_value_t = 3)]
    pub sim_servers: usize,
    /// A simulator fault to play (repeatable), e.g. `changes-on-active`, `upgrade-fails:mgt-2`.
    #[arg(long = "sim-fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
}

/// A target as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// The in-process simulator.
    Sim,
    /// A `runbook sim serve` at this address.
    Url(String),
    /// An inventory file.
    Inventory(String),
}

impl TargetSpec {
    /// Reads `--target`.
    pub fn parse(text: &str) -> Self {
        if text == "sim" {
            Self::Sim
        } else if text.starts_with("http://") || text.starts_with("https://") {
            Self::Url(text.to_string())
        } else {
            Self::Inventory(text.to_string())
        }
    }
}

/// The connector of a target, and the simulator configuration to journal.
pub struct OpenTarget {
    /// The connector.
    pub connector: Box<dyn Connector>,
    /// The simulator configuration, for `--target sim`.
    pub sim: Option<serde_json::Value>,
}

/// Why a target cannot be used (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TargetError {
    /// A simulator option is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sim(#[from] crate::cluster::SimConfigError),
    /// The target cannot be reached or configured.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] ConnectorError),
    /// `--set version=...` is not a version.
    #[error("`--set version={0}` is not a version like 7.4.0")]
    #[diagnostic(
        code(runbook::run::parameter),
        help("write the version as dot-separated numbers, e.g. `--set version=7.4.0`")
    )]
    Version(String),
}

/// Opens `spec`; `params` are the `--set` values (`version` sets the simulator's target version).
pub fn open(
    spec: &TargetSpec,
    sim: &SimArgs,
    params: &BTreeMap<String, String>,
) -> Result<OpenTarget, TargetError> {
    match spec {
        TargetSpec::Sim => {
            let mut config = SimConfig::with_servers(sim.sim_servers);
            for fault in &sim.sim_faults {
                config.faults.push(fault.parse::<Fault>()?);
            }
            if let Some(version) = params.get("version") {
                config.target_version = version
                    .parse()
                    .map_err(|_| TargetError::Version(version.clone()))?;
            }
            config.validate()?;
            let journaled = serde_json::to_value(&config).ok();
            Ok(OpenTarget {
                connector: Box::new(SimConnector::new(config)),
                sim: journaled,
            })
        }
        TargetSpec::Url(url) => Err(TargetError::Connector(ConnectorError::Config {
            message: format!("URL targets ({url}) are not available in this build yet"),
        })),
        TargetSpec::Inventory(path) => Err(TargetError::Connector(ConnectorError::Config {
            message: format!("inventory targets ({path}) are not available in this build yet"),
        })),
    }
}
