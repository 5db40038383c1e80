//! `runbook verify RUNBOOK [--servers N] [--format human|json] [--window D]
//! [--prompt-time D] [--max-faults K]`: explores every path, fault and operator choice
//! against the cluster model, prints the proof summary or the
//! counterexamples and the worst-case durations, and writes an answers file
//! per counterexample so it can be replayed with `runbook run`.

use super::stdout::{out, outln};
use crate::domain::StartingState;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::check::verify::{self, VerifyOptions, VerifyReport, MAX_FAULTS, MAX_SERVERS};
use crate::interp::program::Program;

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    /// Diagnostics and a summary for people.
    Human,
    /// One JSON document.
    Json,
}

/// Arguments of `runbook verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// A `.runbook` file or the name of a shipped runbook.
    #[arg(add = super::completions::runbooks())]
    pub runbook: String,
    /// Number of servers of the model (`mgt-1` Active, the others Standby).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=MAX_SERVERS as i64))]
    pub servers: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
    /// Where to write the answers files that replay counterexamples
    /// (default: a new private folder `runbook-verify-XXXXXX` in the
    /// system's temporary folder, readable by you only).
    #[arg(long, value_name = "DIR")]
    pub replay_dir: Option<PathBuf>,
    /// The maintenance window every path must fit in (e.g. `2h`, `1h30m`):
    /// the longest path that overruns it is a counterexample
    /// (`runbook::verify::window_overrun`, exit 1).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub window: Option<std::time::Duration>,
    /// The time each operator prompt counts for in a path's worst-case
    /// duration (default `0s`: only the operations and the `wait`s count).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub prompt_time: std::time::Duration,
    /// The most contract faults combined on a path: every combination of up
    /// to K faults is a configuration (1: each fault alone; 2: also every
    /// pair).
    #[arg(long, value_name = "K", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=MAX_FAULTS as i64))]
    pub max_faults: u8,
    /// The starting state to explore from (default: every state the
    /// runbook declares with `from`, or a healthy cluster): `healthy`,
    /// `replication-broken`, `standby-stopped`, `split-brain`,
    /// `wizard-interrupted` or `after-restore`.
    #[arg(long, value_name = "STATE", value_parser = parse_starting_state)]
    pub from: Option<StartingState>,
    /// Write a proof certificate to FILE when every property is proven
    /// (refused otherwise, exit 1): approvers sign it (`runbook approve`),
    /// `runbook run --require-proof FILE` checks it.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// Who requests the proof, as the certificate records it (default:
    /// `RUNBOOK_OPERATOR`, else the operating system's user).
    #[arg(long, value_name = "NAME", requires = "certificate")]
    pub operator: Option<String>,
    /// Let the requester approve the certificate too (by default
    /// `approve` refuses them and a run does not count their signature).
    #[arg(long, requires = "certificate")]
    pub allow_self_approval: bool,
}

fn parse_starting_state(text: &str) -> Result<StartingState, String> {
    StartingState::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = StartingState::ALL
            .iter()
            .map(|state| state.name())
            .collect();
        format!(
            "not a starting state; the starting states are {}",
            names.join(", ")
        )
    })
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::domain::duration::parse(text)
        .map_err(|error| format!("{error} (a duration such as `2h`, `1h30m`, `90s`)"))
}

/// Runs `runbook verify`; returns the exit code (0 proven, 1 counterexample, 2 usage).
pub fn verify(args: VerifyArgs) -> i32 {
    let program = match load(&args.runbook) {
        Ok(program) => program,
        Err(code) => return code,
    };
    // A cluster the runbook is not written for (`requires`) has nothing to
    // prove: a usage error, as `run` refuses it.
    if let Some((start, message, span)) =
        verify::unmet_requirement(&program, usize::from(args.servers), args.from)
    {
        super::run::report(crate::interp::RuntimeError::RequirementNotMet {
            runbook: program.name().to_string(),
            message: format!("on {} server(s), from {start}: {message}", args.servers),
            source_code: program.main_file().source_text(),
            span: span.into(),
        });
        return 2;
    }
    let options = VerifyOptions {
        servers: usize::from(args.servers),
        window: args.window,
        prompt_time: args.prompt_time,
        max_faults: usize::from(args.max_faults),
        from: args.from,
        ..VerifyOptions::default()
    };
    let report = verify::verify(&program, &options);
    let answers = write_answers(&report, args.replay_dir.as_deref());
    match args.format {
        VerifyFormat::Json => {
            let mut document = verify::to_json(&report, &program);
            for (index, entry) in document.counterexamples.iter_mut().enumerate() {
                if let Some(Some(path)) = answers.get(index) {
                    entry.replay.command = report_command(&report, &program, index, path);
                    entry.replay.answers_file = Some(path.display().to_string());
                }
            }
            outln!(
                "{}",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            );
        }
        VerifyFormat::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let theme = if color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            let handler = GraphicalReportHandler::new_themed(theme);
            let mut text = verify::render_human(&report, &program, &handler, true);
            for (index, path) in answers.iter().enumerate() {
                if let Some(path) = path {
                    text.push_str(&format!(
                        "replay counterexample {}: {}\n",
                        index + 1,
                        report_command(&report, &program, index, path)
                    ));
                }
            }
            out!("{text}");
        }
    }
    if let Some(path) = &args.certificate {
        let settings = super::proof::CertificateSettings {
            starting_states: crate::proof::starting_states(
                &report
                    .starting_points
                    .iter()
                    .map(|(id, _)| id.clone())
                    .collect::<Vec<_>>(),
            ),
            operator: args.operator.clone(),
            allow_self_approval: args.allow_self_approval,
        };
        match super::proof::write_proof(path, &report, &program, &settings) {
            Ok(sha256) => eprintln!(
                "{}",
                crate::wrap::wrap(
                    &format!(
                        "certificate written to {} (body sha256 {sha256}): approvers sign it with `runbook approve {} --key KEY`",
                        path.display(),
                        path.display()
                    ),
                    usize::from(console::Term::stderr().size().1).clamp(20, 100)
                )
            ),
            Err((error, code)) => {
                super::run::report(error);
                return code;
            }
        }
    }
    if report.proven() {
        0
    } else {
        1
    }
}

fn report_command(report: &VerifyReport, program: &Program, index: usize, path: &Path) -> String {
    report
        .counterexamples
        .get(index)
        .map(|counterexample| {
            counterexample.replay.command(
                &program.reference,
                report.servers,
                &path.display().to_string(),
            )
        })
        .unwrap_or_default()
}

/// Writes one answers file per counterexample; `None` where writing failed.
fn write_answers(report: &VerifyReport, dir: Option<&Path>) -> Vec<Option<PathBuf>> {
    if report.counterexamples.is_empty() {
        return Vec::new();
    }
    // A shared path such as /tmp/runbook-verify could hold a symlink planted
    // by another user: by default the files go to a new private folder.
    let dir = match dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .ok()
            .map(|()| dir.to_path_buf()),
        None => tempfile::Builder::new()
            .prefix("runbook-verify-")
            .tempdir()
            .ok()
            .map(tempfile::TempDir::keep)
            .filter(|dir| private(dir)),
    };
    let Some(dir) = dir else {
        return vec![None; report.counterexamples.len()];
    };
    report
        .counterexamples
        .iter()
        .enumerate()
        .map(|(index, counterexample)| {
            let path = dir.join(format!(
                "{}-{}-{}.answers.toml",
                report.runbook,
                index + 1,
                counterexample.property.name()
            ));
            std::fs::write(&path, counterexample.replay.answers_toml())
                .ok()
                .map(|()| path)
        })
        .collect()
}

/// Makes a folder readable by its owner only (where the system has modes).
fn private(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        true
    }
}

/// Loads a path, or a shipped runbook by name.
fn load(reference: &str) -> Result<Program, i32> {
    match super::load::load_program(reference) {
        Ok(mut program) => {
            program.reference = reference.to_string();
            Ok(program)
        }
        Err(failure) => Err(failure.print()),
    }
}
