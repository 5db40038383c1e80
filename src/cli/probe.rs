//! `runbook probe`: read-only. Logs in to every server of a target, reads
//! every published read entry point, and prints what the connector derives
//! for each server (running, mode, version, replication, excluded) and why.
//! With `--record DIR` it writes the raw answers — the server's address,
//! cookies and the key never in them — as a fixture folder in the format of
//! `tests/fixtures/smc/`, so an operator with a lab can confirm the
//! derivations and contribute a fixture in one command.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::output::Format;
use super::run::report;
use super::stdout::outln;
use super::target::{self, ConnectionArgs, TargetSpec};
use crate::connect::smc::read::Derived;
use crate::connect::smc::record::{RecordedAnswers, Redactor};
use crate::connect::smc::SmcConnector;
use crate::connect::Connector;
use crate::domain::ServerSnapshot;
use crate::schema::SchemaVersion;

/// Options of `runbook probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// An inventory file, or `http://HOST:PORT` for a `runbook sim serve`.
    #[arg(long)]
    pub target: String,
    /// Write every server's raw answers (redacted) in DIR, as a test fixture.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Connection options.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Why `--record` could not write its folder.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot write the recording in {path}: {reason}")]
#[diagnostic(
    code(runbook::probe::record),
    help("give `--record` a new or empty folder that can be written")
)]
struct RecordError {
    path: String,
    reason: String,
}

/// `runbook probe`.
pub fn probe(mut args: ProbeArgs) -> i32 {
    args.target = crate::connect::redact_url(&args.target);
    let Some(runtime) = super::run::runtime() else {
        return 2;
    };
    if let Some(dir) = &args.record {
        if let Err(error) = prepare_folder(dir) {
            report(error);
            return 2;
        }
    }
    let spec = TargetSpec::parse(&args.target);
    let connector = match runtime.block_on(target::open_smc(
        &spec,
        &args.connection.options(),
        None,
        None,
    )) {
        Ok(connector) => connector,
        Err(error) => {
            report(error);
            return 2;
        }
    };
    for warning in connector.warnings() {
        eprintln!("warning[{}]: {}", warning.code, warning.message);
    }
    let result = runtime.block_on(async {
        let derived = connector.probe().await;
        let recorded = match (&derived, &args.record) {
            (Ok(derived), Some(_)) => Some(record_all(&connector, derived).await),
            _ => None,
        };
        connector.close().await;
        (derived, recorded)
    });
    let derived = match result.0 {
        Ok(derived) => derived,
        Err(error) => {
            report(error);
            return 2;
        }
    };
    match args.format {
        Format::Human => print_human(&connector, &derived),
        Format::Json => print_json(&connector, &derived),
    }
    if let (Some(dir), Some(recorded)) = (&args.record, result.1) {
        match write_recording(dir, &derived, &recorded) {
            Ok(()) => eprintln!(
                "recorded the answers of {} server(s) in {} (addresses, cookies and the key left out): check `expected` in situation.json against the lab, then add the folder under tests/fixtures/smc/",
                recorded.iter().filter(|(_, answers)| answers.is_some()).count(),
                dir.display()
            ),
            Err(error) => {
                report(error);
                return 2;
            }
        }
    }
    0
}

/// Records every answering server (a server that does not answer has no folder).
async fn record_all(
    connector: &SmcConnector,
    derived: &Derived,
) -> Vec<(String, Option<RecordedAnswers>)> {
    let mut redactor = Redactor::default();
    let mut recorded = Vec::new();
    for server in &derived.snapshot.servers {
        let answers = if server.running {
            match connector.record(&server.name, &mut redactor).await {
                Ok(answers) => Some(answers),
                Err(error) => {
                    eprintln!("warning: {} could not be recorded: {error}", server.name);
                    None
                }
            }
        } else {
            None
        };
        recorded.push((server.name.clone(), answers));
    }
    recorded
}

fn print_human(connector: &SmcConnector, derived: &Derived) {
    outln!("Target: {}", connector.describe());
    for (server, reasons) in derived.snapshot.servers.iter().zip(&derived.reasons) {
        outln!();
        outln!(
            "{}: {}, {}, {}, {}, {}",
            server.name,
            if server.running {
                "running"
            } else {
                "not answering"
            },
            match server.mode {
                crate::cluster::Mode::Active => "active",
                crate::cluster::Mode::Standby => "standby",
            },
            server.version,
            server.replication,
            if server.excluded {
                "excluded"
            } else {
                "not excluded"
            }
        );
        for reason in reasons {
            outln!("  {reason}");
        }
    }
    if !connector.counts_changes() {
        outln!();
        outln!("Administrator changes: not counted (the SMC API publishes no count of changes; a step that discards changes asks the operator).");
    }
}

/// The document `runbook probe --format json` prints.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ProbeReport {
    /// The target, described as human output names it first.
    pub target: String,
    /// What the connector derives for each server, and why.
    pub servers: Vec<ProbedServer>,
    /// Whether the target counts administrator changes (a real SMC does not).
    pub counts_changes: bool,
    /// The version of this output's shape (`runbook schema probe`).
    pub schema_version: SchemaVersion,
}

/// One server as `probe` derives it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ProbedServer {
    /// The server as a run would see it (the contract's `CLUSTER.servers[]`).
    pub server: ServerSnapshot,
    /// One line per derived value: what it was read from.
    pub reasons: Vec<String>,
}

fn print_json(connector: &SmcConnector, derived: &Derived) {
    let report = ProbeReport {
        target: connector.describe(),
        servers: derived
            .snapshot
            .servers
            .iter()
            .zip(&derived.reasons)
            .map(|(server, reasons)| ProbedServer {
                server: server.clone(),
                reasons: reasons.clone(),
            })
            .collect(),
        counts_changes: connector.counts_changes(),
        schema_version: SchemaVersion::CURRENT,
    };
    outln!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}

fn prepare_folder(dir: &Path) -> Result<(), RecordError> {
    let error = |reason: String| RecordError {
        path: dir.display().to_string(),
        reason,
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| error(e.to_string()))?;
        if entries.next().is_some() {
            return Err(error("the folder is not empty".to_owned()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| error(e.to_string()))
}

fn write_recording(
    dir: &Path,
    derived: &Derived,
    recorded: &[(String, Option<RecordedAnswers>)],
) -> Result<(), RecordError> {
    let error = |reason: String| RecordError {
        path: dir.display().to_string(),
        reason,
    };
    let servers: Vec<_> = recorded
        .iter()
        .map(|(name, answers)| json!({ "name": name, "answers": answers.is_some() }))
        .collect();
    let situation = json!({
        "description": "Recorded with `runbook probe --record` on a lab setup: describe the situation here.",
        "sources": ["the answers of a lab server, recorded by runbook probe"],
        "servers": servers,
        "expected": derived.snapshot,
    });
    write_json(&dir.join("situation.json"), &situation).map_err(error)?;
    for (name, answers) in recorded {
        if let Some(answers) = answers {
            let folder = dir.join(name);
            std::fs::create_dir_all(&folder).map_err(|e| error(e.to_string()))?;
            write_json(&folder.join("answers.json"), &json!(answers)).map_err(error)?;
        }
    }
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}
