//! `runbook sim serve`: prints the API key (only a generated one, once) and
//! the listening address, then serves until Ctrl-C or SIGTERM.

use super::stdout::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cluster::SimConfig;
use crate::connect::sim_server::{self, SimServeConfig, DEFAULT_ADDR, DEFAULT_SPEED};
use crate::connect::ApiKey;

/// The environment variable `runbook sim serve` reads its API key from.
pub const SIM_API_KEY_ENV: &str = "RUNBOOK_SIM_API_KEY";

/// `runbook sim ...`
#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// A simulated HA cluster behind the SMC-shaped HTTP API.
    ///
    /// The API key is read from RUNBOOK_SIM_API_KEY; without it one is
    /// generated and printed once. The line `listening on http://ADDR` tells
    /// where it listens (useful with `--addr 127.0.0.1:0`).
    #[command(after_help = crate::cli::examples::SIM_SERVE)]
    Serve(ServeArgs),
}

/// Options of `runbook sim serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = DEFAULT_ADDR)]
    addr: String,
    /// Number of Management Servers (mgt-1 Active, the others Standby).
    #[arg(long, visible_alias = "sim-servers", default_value_t = 3)]
    servers: usize,
    /// A fault to play (repeatable): replication-down, active-upgrade-cancelled,
    /// standby-auto-activates, standby-activated-by-operator,
    /// upgrade-fails:SERVER, unreachable:SERVER, changes-on-active; the two
    /// activation faults take an optional :SERVER that pins the Standby.
    #[arg(long = "sim-fault", value_name = "NAME", value_parser = parse_fault)]
    faults: Vec<String>,
    /// Persist the cluster in FILE (JSON) and resume it from there on start.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Simulated seconds per real second (600: a whole upgrade takes seconds).
    #[arg(long, default_value_t = DEFAULT_SPEED, value_parser = parse_speed)]
    speed: f64,
    /// Seed of the simulator's random choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The SMC version every server runs at creation (e.g. 7.3.2, to
    /// rehearse a version without `all_servers_replication_states`, or
    /// with known issue SMC-65140).
    #[arg(long, value_name = "VERSION", default_value = "7.3.4", value_parser = parse_version)]
    initial_version: crate::cluster::Version,
    /// The version upgrades install (to tell not-yet-upgraded servers).
    #[arg(long, value_name = "VERSION", default_value = "7.4.0", value_parser = parse_version)]
    target_version: crate::cluster::Version,
    /// How long a runner's lease on the cluster lasts without being renewed
    /// before it is stale (its runner gone) and `--take-over` may take it.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::target::parse_time_limit)]
    lease_stale_after: std::time::Duration,
}

fn parse_version(text: &str) -> Result<crate::cluster::Version, String> {
    text.parse::<crate::cluster::Version>()
        .ok()
        .filter(|version| !version.is_unknown())
        .ok_or_else(|| format!("`{text}` is not a version like 7.3.4"))
}

fn parse_fault(text: &str) -> Result<String, String> {
    crate::cluster::parse_fault_spec(text)
        .map(|_| text.to_string())
        .map_err(|error| error.to_string())
}

fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

/// Runs `runbook sim ...`.
pub fn run(args: SimArgs) -> ExitCode {
    match args.command {
        SimCommand::Serve(serve) => run_serve(serve),
    }
}

fn run_serve(args: ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> ExitCode {
    let (key, generated) = match std::env::var(SIM_API_KEY_ENV) {
        Ok(key) if !key.trim().is_empty() => {
            let length = key.chars().count();
            if length < sim_server::MIN_KEY_LENGTH {
                return fail(sim_server::SimServeError::WeakKey { length });
            }
            (ApiKey::new(key), false)
        }
        _ => (ApiKey::generate(), true),
    };
    let mut sim = SimConfig {
        servers: args.servers,
        seed: args.seed,
        initial_version: args.initial_version.clone(),
        target_version: args.target_version.clone(),
        ..SimConfig::default()
    };
    for fault in &args.faults {
        if let Err(error) = sim.add_fault(fault) {
            return fail(sim_server::SimServeError::Config {
                reason: error.to_string(),
            });
        }
    }
    let config = SimServeConfig {
        sim,
        key: key.clone(),
        speed: args.speed,
        state_file: args.state.clone(),
        first_element_key: None,
        lease_stale_after: args.lease_stale_after,
    };
    let listener = match sim_server::bind(&args.addr).await {
        Ok(listener) => listener,
        Err(error) => return fail(error),
    };
    let server = match sim_server::start(listener, config).await {
        Ok(server) => server,
        Err(error) => return fail(error),
    };
    if !server.addr().ip().is_loopback() {
        eprintln!(
            "warning[runbook::sim::plain_http]: listening on {} over plain HTTP, beyond loopback: the API key and every answer cross the network in clear. Keep `--addr 127.0.0.1:PORT`, or put a TLS-terminating reverse proxy in front (see docs/http-api.md).",
            server.addr()
        );
    }
    if generated {
        outln!(
            "api key: {} (generated, shown only now; set {SIM_API_KEY_ENV} to choose one, and RUNBOOK_API_KEY for `--target`)",
            key.expose()
        );
    } else {
        outln!("api key: from {SIM_API_KEY_ENV}");
    }
    let snapshot = server.shared().snapshot();
    match (&args.state, server.resumed()) {
        (Some(path), true) => outln!("resumed the cluster from {}", path.display()),
        (Some(path), false) => outln!(
            "new cluster of {} servers, saved in {}",
            snapshot.servers.len(),
            path.display()
        ),
        (None, _) => outln!(
            "new cluster of {} servers (not saved; use --state FILE to keep it)",
            snapshot.servers.len()
        ),
    }
    outln!(
        "speed: {}x (simulated seconds per real second)",
        server.shared().speed()
    );
    // Registered before the address is printed: whoever reads it may signal at once.
    let signals = ShutdownSignals::install();
    outln!("listening on {}", server.url());

    signals.wait().await;
    outln!("shutting down");
    let shared = server.shared().clone();
    server.shutdown().await;
    if let Some(error) = shared.last_save_error() {
        eprintln!("warning: the state file could not be written: {error}");
        return ExitCode::FAILURE;
    }
    outln!("stopped");
    ExitCode::SUCCESS
}

fn fail(error: sim_server::SimServeError) -> ExitCode {
    eprintln!("{:?}", miette::Report::new(error));
    ExitCode::from(2)
}

/// Ctrl-C, or SIGTERM on Unix, registered when made: a signal that arrives
/// after [`ShutdownSignals::install`] is never lost to the default action
/// (which would kill the process without saving the state).
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Waits for the first of them.
    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            match (&self.interrupt, &self.terminate) {
                (None, None) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
                _ => {
                    tokio::select! {
                        () = next(self.interrupt) => {}
                        () = next(self.terminate) => {}
                    }
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
