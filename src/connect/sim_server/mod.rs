//! `runbook sim serve`: the [`Simulator`](crate::cluster::Simulator) behind
//! the SMC-shaped REST API (see `docs/http-api.md`), on real but scaled time.
//!
//! The HTTP layer lives here, outside the pure model. Requests pass through
//! one front service ([`front`]) that picks the server a request is addressed
//! to, plays HTTP-level faults and the silence of stopped or unreachable
//! servers, then hands the request to the SMC routes ([`api`]) or the
//! simulator-only routes ([`control`]).

mod api;
mod control;
mod front;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::{SimConfig, Simulator};
use crate::connect::ApiKey;

pub use control::{HttpFault, HttpFaultKind};
pub use state::Shared;

/// The default listening address (the SMC API's default port).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8082";

/// The shortest API key `sim serve` accepts from the environment.
pub const MIN_KEY_LENGTH: usize = 16;

/// The default time scale: ten simulated minutes per real second, so a
/// whole three-server upgrade (about 50 simulated minutes) takes seconds.
pub const DEFAULT_SPEED: f64 = 600.0;

/// How `runbook sim serve` runs.
#[derive(Debug, Clone)]
pub struct SimServeConfig {
    /// The cluster to create when there is no state file to resume.
    pub sim: SimConfig,
    /// The API key clients log in with.
    pub key: ApiKey,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Where the simulator is persisted (and resumed from), if anywhere.
    pub state_file: Option<PathBuf>,
    /// The element key of the first Management Server of a new cluster (the
    /// others follow). `None`: one picked at random, so that a run's
    /// journal tells this cluster from another served later at the same
    /// address, as element keys tell real setups apart.
    pub first_element_key: Option<usize>,
    /// How long a runner's lease lasts unrenewed before it is stale.
    pub lease_stale_after: std::time::Duration,
}

/// Why the simulator server could not start or stopped abnormally.
#[derive(Debug, Error, Diagnostic)]
pub enum SimServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    #[diagnostic(
        code(runbook::sim::bind),
        help("pick another address with --addr (port 0 picks a free port)")
    )]
    Bind {
        /// The address asked for.
        addr: String,
        /// What the system said.
        reason: String,
    },
    /// The state file exists but cannot be read or is not a saved simulator.
    #[error("cannot resume the simulator from {path}: {reason}")]
    #[diagnostic(
        code(runbook::sim::state),
        help("fix or delete the state file to start a fresh cluster")
    )]
    State {
        /// The state file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The API key given in `RUNBOOK_SIM_API_KEY` is too short to guess badly.
    #[error("the API key in RUNBOOK_SIM_API_KEY has {length} characters: at least {MIN_KEY_LENGTH} are needed")]
    #[diagnostic(
        code(runbook::sim::weak_key),
        help("choose a longer key, e.g. `export RUNBOOK_SIM_API_KEY=$(openssl rand -hex 16)`, or unset the variable to have one generated")
    )]
    WeakKey {
        /// The key's length in characters.
        length: usize,
    },
    /// The configuration is unusable (e.g. a fault names an unknown server).
    #[error("invalid simulator configuration: {reason}")]
    #[diagnostic(code(runbook::sim::config), help("see `runbook sim serve --help`"))]
    Config {
        /// What is wrong.
        reason: String,
    },
}

/// A running simulator server.
pub struct RunningSimServer {
    addr: SocketAddr,
    resumed: bool,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RunningSimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSimServer")
            .field("addr", &self.addr)
            .field("resumed", &self.resumed)
            .finish_non_exhaustive()
    }
}

impl RunningSimServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether the cluster was resumed from the state file.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The shared state (for in-process tests: snapshot, faults).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops accepting, lets requests in flight finish, saves the state.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server has stopped (after [`Self::shutdown_signal`] fired).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// A handle that asks the server to shut down gracefully.
    pub fn shutdown_signal(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Loads the simulator from the state file if it exists, else builds a new one.
fn load_or_create(config: &SimServeConfig) -> Result<(Simulator, bool), SimServeError> {
    if let Some(path) = &config.state_file {
        if path.exists() {
            let state_error = |reason: String| SimServeError::State {
                path: path.display().to_string(),
                reason,
            };
            let text =
                std::fs::read_to_string(path).map_err(|error| state_error(error.to_string()))?;
            let simulator: Simulator =
                serde_json::from_str(&text).map_err(|error| state_error(error.to_string()))?;
            return Ok((simulator, true));
        }
    }
    config
        .sim
        .validate()
        .map_err(|error| SimServeError::Config {
            reason: error.to_string(),
        })?;
    let mut simulator = Simulator::new(config.sim.clone());
    simulator.number_elements_from(config.first_element_key.unwrap_or_else(|| {
        // Real setups number their elements in the thousands.
        1000 + (uuid::Uuid::new_v4().as_u128() % 60_000) as usize
    }));
    Ok((simulator, false))
}

/// Starts the simulator server on `listener` and returns at once; the server
/// runs on the current tokio runtime until [`RunningSimServer::shutdown`].
pub async fn start(
    listener: TcpListener,
    config: SimServeConfig,
) -> Result<RunningSimServer, SimServeError> {
    let addr = listener.local_addr().map_err(|error| SimServeError::Bind {
        addr: "the given listener".to_owned(),
        reason: error.to_string(),
    })?;
    let (simulator, resumed) = load_or_create(&config)?;
    let (shutdown, shutdown_watch) = watch::channel(false);
    let shared = Arc::new(Shared::new(
        simulator,
        config.key.clone(),
        config.speed,
        config.state_file.clone(),
        shutdown_watch.clone(),
    ));
    shared.set_lease_stale_after(config.lease_stale_after);
    shared.save();
    let clock = tokio::spawn(state::run_clock(shared.clone(), shutdown_watch.clone()));
    let server = tokio::spawn(front::accept_loop(listener, shared.clone(), shutdown_watch));
    let final_state = shared.clone();
    let task = tokio::spawn(async move {
        let _ = server.await;
        let _ = clock.await;
        final_state.save();
    });
    Ok(RunningSimServer {
        addr,
        resumed,
        shutdown,
        task,
        shared,
    })
}

/// Runs the simulator server on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: SimServeConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), SimServeError> {
    let server = start(listener, config).await?;
    shutdown.await;
    server.shutdown().await;
    Ok(())
}

/// Binds `addr` (e.g. `127.0.0.1:0`).
pub async fn bind(addr: &str) -> Result<TcpListener, SimServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| SimServeError::Bind {
            addr: addr.to_owned(),
            reason: error.to_string(),
        })
}

/// Real time that passes between two advances of the simulator's clock.
pub(crate) const TICK: Duration = Duration::from_millis(20);
