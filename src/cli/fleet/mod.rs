//! `runbook fleet run RUNBOOK FLEET` and `runbook fleet resume FLEET`: one
//! runbook over the clusters a fleet file names, `--parallel N` at a time,
//! each run as `runbook run` runs it (in-process, its own journal
//! `JOURNAL_DIR/CLUSTER.jsonl` and its own lease), no new cluster started
//! once `--max-failures` failed. Everything the fleet could be refused for
//! is checked before any cluster starts.

// Runtime errors (journals) are built at most once per cluster, when refused.
#![allow(clippy::result_large_err)]

mod cluster;
mod summary;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::load::load_program;
use super::output::Format;
use super::run::{report, runtime, watch_ctrl_c_saying};
use super::stdout::outln;
use super::target::{ConnectionArgs, API_KEY_ENV};
use crate::fleet::{ClusterResult, ClusterState, FleetError, FleetFile, FleetReport};
use crate::interp::journal::{read_journal, Record};
use cluster::{Common, Job};

/// `runbook fleet ...`
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum FleetCommand {
    /// Run a runbook over every cluster of a fleet file.
    #[command(after_help = super::examples::FLEET_RUN)]
    Run(FleetRunArgs),
    /// Continue every unfinished cluster of a fleet from its journal
    /// (finished ones are skipped, and reported as such).
    #[command(after_help = super::examples::FLEET_RESUME)]
    Resume(FleetResumeArgs),
}

/// Options shared by `fleet run` and `fleet resume`.
#[derive(Debug, Clone, clap::Args)]
struct FleetOptions {
    /// How many clusters run at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    parallel: u32,
    /// Start no new cluster once this many have failed (those running finish).
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(1..))]
    max_failures: Option<u32>,
    /// Where each cluster's journal is, `DIR/CLUSTER.jsonl` (default:
    /// `runs/FLEET`, FLEET the fleet file's name without `.toml`).
    #[arg(long, value_name = "DIR")]
    journal_dir: Option<PathBuf>,
    /// Confirm every prompt no answers file answers and take each choice's
    /// default (a confirmation that loses administrator changes excepted:
    /// see `--accept-data-loss`).
    #[arg(long)]
    yes: bool,
    /// With `--yes`: also confirm the prompts that lose administrator changes.
    #[arg(long)]
    accept_data_loss: bool,
    /// Take a cluster from a runner that is gone (see `run --take-over`).
    #[arg(long)]
    take_over: bool,
    /// Who runs it (default: `RUNBOOK_OPERATOR`, else the operating
    /// system's user), journaled with every cluster's run.
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,
    /// Post each cluster's events that matter to people (run started,
    /// What-if entered, a prompt waiting at the terminal, a window about to
    /// close, a guard's warning, run finished) to this webhook too, each
    /// naming its cluster (repeatable; see `run --notify`). Every cluster
    /// also posts to the `notify` webhooks of its own inventory.
    #[arg(long, value_name = "URL")]
    notify: Vec<String>,
    /// Output format: the summary and table, or one JSON document
    /// (`runbook schema fleet`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Connection options, for every cluster.
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `runbook fleet run`.
#[derive(Debug, Clone, clap::Args)]
struct FleetRunArgs {
    /// A `.runbook` path or the name of a shipped runbook.
    #[arg(add = super::completions::runbooks())]
    runbook: String,
    /// The fleet file (TOML: docs/fleets.md).
    fleet: PathBuf,
    #[command(flatten)]
    options: FleetOptions,
}

/// `runbook fleet resume`.
#[derive(Debug, Clone, clap::Args)]
struct FleetResumeArgs {
    /// The fleet file the fleet ran from.
    fleet: PathBuf,
    #[command(flatten)]
    options: FleetOptions,
}

/// Runs `runbook fleet ...`; returns the exit code.
pub fn fleet(args: FleetArgs) -> i32 {
    match args.command {
        FleetCommand::Run(args) => run(args),
        FleetCommand::Resume(args) => resume(args),
    }
}

impl FleetOptions {
    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }

    fn journal_dir(&self, fleet: &Path) -> PathBuf {
        self.journal_dir.clone().unwrap_or_else(|| {
            let stem = fleet
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| String::from("fleet"));
            Path::new("runs").join(stem)
        })
    }
}

/// Prints every refusal; exit code 2.
fn refuse(errors: Vec<FleetError>) -> i32 {
    for error in errors {
        report(error);
    }
    2
}

fn journal_of(dir: &Path, cluster: &str) -> PathBuf {
    dir.join(format!("{cluster}.jsonl"))
}

/// `runbook fleet run`.
fn run(args: FleetRunArgs) -> i32 {
    let fleet = match FleetFile::load(&args.fleet) {
        Ok(fleet) => fleet,
        Err(errors) => return refuse(errors),
    };
    let program = match load_program(&args.runbook) {
        Ok(program) => Arc::new(program),
        Err(failure) => return failure.print(),
    };
    let mut errors = fleet.check(&program, API_KEY_ENV);
    let dir = args.options.journal_dir(&args.fleet);
    for cluster in &fleet.clusters {
        let journal = journal_of(&dir, &cluster.name);
        if journal.exists() {
            errors.push(FleetError::Journal {
                cluster: cluster.name.clone(),
                reason: format!("its journal {} is there already", journal.display()),
                source_code: fleet.source(),
                span: cluster.name_span,
                help: format!(
                    "`runbook fleet resume {} --journal-dir {}` continues that fleet; give another `--journal-dir` for a new one",
                    args.fleet.display(),
                    dir.display()
                ),
            });
        }
    }
    if !errors.is_empty() {
        return refuse(errors);
    }
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!(
            "error: cannot create the journal folder {}: {error}",
            dir.display()
        );
        return 2;
    }
    let jobs = fleet
        .clusters
        .iter()
        .map(|_| Job::Run {
            program: Arc::clone(&program),
        })
        .collect();
    drive(
        &fleet,
        program.name(),
        jobs,
        &dir,
        false,
        &args.options,
        &args.fleet,
    )
}

/// `runbook fleet resume`.
fn resume(args: FleetResumeArgs) -> i32 {
    let fleet = match FleetFile::load(&args.fleet) {
        Ok(fleet) => fleet,
        Err(errors) => return refuse(errors),
    };
    let dir = args.options.journal_dir(&args.fleet);
    let mut errors = Vec::new();
    let mut read = Vec::new();
    for cluster in &fleet.clusters {
        let journal = journal_of(&dir, &cluster.name);
        if !journal.exists() {
            read.push(None);
            continue;
        }
        let contents = read_journal(&journal).and_then(|contents| {
            let header = contents
                .header()
                .cloned()
                .ok_or_else(|| crate::interp::RuntimeError::journal(&journal, "no run header"))?;
            Ok((Box::new(header), contents))
        });
        match contents {
            Ok(contents) => read.push(Some(contents)),
            Err(error) => {
                errors.push(FleetError::Journal {
                    cluster: cluster.name.clone(),
                    reason: format!("its journal cannot be read: {error}"),
                    source_code: fleet.source(),
                    span: cluster.name_span,
                    help: String::from(
                        "move the damaged journal away to start this cluster afresh (its cluster may be half-done: check it first)",
                    ),
                });
                read.push(None);
            }
        }
    }
    if !errors.is_empty() {
        return refuse(errors);
    }
    // Every cluster runs the runbook its journal names; one never started
    // runs the fleet's (the others' journals say which).
    let Some(reference) = read
        .iter()
        .flatten()
        .map(|(header, _)| header.runbook_ref.clone())
        .next()
    else {
        return refuse(vec![FleetError::Invalid {
            reason: format!(
                "no cluster of this fleet has a journal in {}: nothing to resume",
                dir.display()
            ),
            source_code: fleet.source(),
            span: None,
            help: format!(
                "start the fleet with `runbook fleet run RUNBOOK {}` (or give the `--journal-dir` it ran with)",
                args.fleet.display()
            ),
        }]);
    };
    let mut programs: Vec<(String, Arc<crate::interp::program::Program>)> = Vec::new();
    let mut program_of = |reference: &str| -> Result<Arc<crate::interp::program::Program>, i32> {
        if let Some((_, program)) = programs.iter().find(|(known, _)| known == reference) {
            return Ok(Arc::clone(program));
        }
        let program = Arc::new(load_program(reference).map_err(|failure| failure.print())?);
        programs.push((reference.to_string(), Arc::clone(&program)));
        Ok(program)
    };
    let main = match program_of(&reference) {
        Ok(program) => program,
        Err(code) => return code,
    };
    let errors = fleet.check(&main, API_KEY_ENV);
    if !errors.is_empty() {
        return refuse(errors);
    }
    let mut jobs = Vec::new();
    for (cluster, journal) in fleet.clusters.iter().zip(read) {
        let Some((header, contents)) = journal else {
            jobs.push(Job::Run {
                program: Arc::clone(&main),
            });
            continue;
        };
        let finished = contents
            .records
            .iter()
            .rev()
            .find_map(|record| match record {
                Record::RunFinished {
                    outcome,
                    message,
                    resumable,
                    ..
                } => Some((*outcome, message.clone(), *resumable)),
                Record::Resumed { .. } => Some((
                    crate::interp::events::RunOutcome::Stopped,
                    String::new(),
                    true,
                )),
                _ => None,
            });
        if let Some((outcome, message, false)) = finished {
            jobs.push(Job::Finished(ClusterResult {
                name: cluster.name.clone(),
                target: cluster.target.as_arg(),
                state: ClusterState::of(outcome),
                skipped: true,
                resumed: false,
                last_step: None,
                message,
                code: None,
                journal: Some(journal_of(&dir, &cluster.name).display().to_string()),
                duration_seconds: None,
                cluster: None,
            }));
            continue;
        }
        let program = match program_of(&header.runbook_ref) {
            Ok(program) => program,
            Err(code) => return code,
        };
        jobs.push(Job::Resume {
            program,
            header,
            contents,
        });
    }
    drive(
        &fleet,
        main.name(),
        jobs,
        &dir,
        true,
        &args.options,
        &args.fleet,
    )
}

/// Runs the jobs, `--parallel` at a time, and prints how they ended.
fn drive(
    fleet: &FleetFile,
    runbook: &str,
    jobs: Vec<Job>,
    dir: &Path,
    resumed: bool,
    options: &FleetOptions,
    fleet_path: &Path,
) -> i32 {
    let format = options.format();
    let Some(runtime) = fleet_runtime() else {
        return 2;
    };
    let terminal = std::io::stderr().is_terminal();
    let board = Arc::new(summary::Board::new(
        fleet.clusters.iter().map(|cluster| cluster.name.clone()),
    ));
    let interrupt = watch_ctrl_c_saying(
        &runtime,
        "Stopping every cluster after its current operation (their journals keep them; `runbook fleet resume` continues them). Ctrl-C again to stop now.",
    );
    let common = Arc::new(Common {
        board: Arc::clone(&board),
        interrupt: Arc::clone(&interrupt),
        yes: options.yes,
        accept_data_loss: options.accept_data_loss,
        take_over: options.take_over,
        operator: options.operator.clone(),
        notify: options.notify.clone(),
        connection: options.connection.clone(),
        interactive: std::io::stdin().is_terminal() && terminal,
        plain: !terminal && format == Format::Human,
        title: format!("{} × {}", runbook, fleet_path.display()),
    });
    let title = common.title.clone();
    let live = terminal.then(|| summary::LiveSummary::start(Arc::clone(&board), title));
    let started = Instant::now();
    let parallel = options.parallel as usize;
    let max_failures = options.max_failures.map(|max| max as usize);
    let outcomes = runtime.block_on(async {
        let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
        let failures = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for (index, (entry, job)) in fleet.clusters.iter().zip(jobs).enumerate() {
            let journal = journal_of(dir, &entry.name);
            if let Job::Finished(result) = job {
                board.set_state(index, result.state);
                tasks.push(Err((result, Vec::new())));
                continue;
            }
            let slot = Arc::clone(&slots).acquire_owned().await;
            let failed = failures.load(Ordering::SeqCst);
            let stop =
                interrupt.load(Ordering::SeqCst) || max_failures.is_some_and(|max| failed >= max);
            if stop || slot.is_err() {
                board.set_state(index, ClusterState::NotStarted);
                tasks.push(Err((
                    not_started(entry, &journal, failed, &interrupt),
                    Vec::new(),
                )));
                continue;
            }
            let common = Arc::clone(&common);
            let failures = Arc::clone(&failures);
            let entry = entry.clone();
            tasks.push(Ok(tokio::spawn(async move {
                let ended = cluster::run_cluster(index, entry, job, journal, common).await;
                if ended.0.state == ClusterState::Failed {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                drop(slot);
                ended
            })));
        }
        let mut outcomes = Vec::new();
        for (index, task) in tasks.into_iter().enumerate() {
            outcomes.push(match task {
                Err(ended) => ended,
                Ok(handle) => handle.await.unwrap_or_else(|error| {
                    let entry = &fleet.clusters[index];
                    (
                        ClusterResult {
                            name: entry.name.clone(),
                            target: entry.target.as_arg(),
                            state: ClusterState::Failed,
                            skipped: false,
                            resumed,
                            last_step: None,
                            message: format!("its run ended abnormally: {error}"),
                            code: None,
                            journal: None,
                            duration_seconds: None,
                            cluster: None,
                        },
                        Vec::new(),
                    )
                }),
            });
        }
        outcomes
    });
    if let Some(live) = live {
        live.finish();
    }
    let mut results = Vec::new();
    for (result, diagnostics) in outcomes {
        for diagnostic in diagnostics {
            eprintln!("cluster {}:", result.name);
            eprintln!("{:?}", miette::Report::new_boxed(diagnostic));
        }
        results.push(result);
    }
    let report = FleetReport::new(
        fleet_path.display().to_string(),
        runbook.to_string(),
        dir.display().to_string(),
        resumed,
        results,
        started.elapsed().as_secs_f64(),
    );
    match format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Human => {
            let width = if std::io::stdout().is_terminal() {
                usize::from(console::Term::stdout().size().1).max(20)
            } else {
                80
            };
            let resume = format!(
                "runbook fleet resume {} --journal-dir {}",
                fleet_path.display(),
                dir.display()
            );
            outln!("\n{}", summary::table(&report, &resume, width));
        }
    }
    report.exit_code()
}

/// The result of a cluster the fleet did not start.
fn not_started(
    entry: &crate::fleet::ClusterEntry,
    journal: &Path,
    failed: usize,
    interrupt: &std::sync::atomic::AtomicBool,
) -> ClusterResult {
    let message = if interrupt.load(Ordering::SeqCst) {
        String::from("not started: the fleet was interrupted")
    } else {
        format!(
            "not started: {failed} {} had failed (--max-failures)",
            if failed == 1 { "cluster" } else { "clusters" }
        )
    };
    ClusterResult {
        name: entry.name.clone(),
        target: entry.target.as_arg(),
        state: ClusterState::NotStarted,
        skipped: false,
        resumed: false,
        last_step: None,
        message,
        code: None,
        journal: journal.exists().then(|| journal.display().to_string()),
        duration_seconds: None,
        cluster: None,
    }
}

/// The fleet's runtime: a few threads (the runs wait on the network, not
/// the processor); a prompt at the terminal takes its thread out of them.
fn fleet_runtime() -> Option<tokio::runtime::Runtime> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(2);
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(_) => runtime(),
    }
}
