//! `runbook run`, `runbook resume` and `runbook plan`: build the target's
//! connector, the operator's prompter and the output sink, run the
//! interpreter, print its diagnostics and map its outcome to an exit code.

// Runtime errors are built at most once per command, just before printing.
#![allow(clippy::result_large_err)]

use super::stdout::{out, outln};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::load::load_program;
use super::output::{self, Format};
use super::target::{self, ConnectionArgs, SimArgs, TargetError, TargetSpec};
use crate::connect::sim::SimConnector;
use crate::connect::{Connector, TargetRecord};
use crate::interp::events::{Event, EventKind, EventSink, RunOutcome};
use crate::interp::journal::{read_journal, Record};
use crate::interp::machine::{self, JournalChoice, RunReport, RunSettings};
use crate::interp::plan;
use crate::interp::prompt::{AnswersFile, OperatorPrompter};
use crate::interp::RuntimeError;

/// `runbook run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// A `.runbook` path or the name of a shipped runbook.
    #[arg(add = super::completions::runbooks())]
    pub runbook: String,
    /// `sim` (default), `http://HOST:PORT` (a `runbook sim serve`) or an inventory file.
    #[arg(long, default_value = "sim")]
    pub target: String,
    /// A parameter, `NAME=VALUE` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", add = super::completions::parameters())]
    pub set: Vec<String>,
    /// Answers to prompts (TOML: prompt id = answer).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Confirm every prompt and take each choice's default (a confirmation
    /// that loses administrator changes excepted: see `--accept-data-loss`).
    #[arg(long)]
    pub yes: bool,
    /// With `--yes`: also confirm the prompts that lose administrator changes
    /// (`discards changes on`). Without it, `--yes` answers them no.
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Take the cluster from a runner that is gone (its lease on `sim serve`
    /// was not renewed for 30s). A live runner's lease is never taken.
    #[arg(long)]
    pub take_over: bool,
    /// Who runs it, as the journal records it with the run and every answer
    /// (default: `RUNBOOK_OPERATOR`, else the operating system's user).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Post the events that matter to people (run started, What-if entered,
    /// a guard's warning, run finished) to this webhook, as `{"text": …}`
    /// (repeatable). Never blocks or fails the run.
    #[arg(long, value_name = "URL")]
    pub notify: Vec<String>,
    /// Where to write the journal (default: `runs/<runbook>-<time>-<id>.jsonl`).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Run only this What-if handler (refused when none of its triggers holds on the target).
    #[arg(long = "what-if", value_name = "NAME", add = super::completions::what_ifs())]
    pub what_if: Option<String>,
    /// Run even when the target is in none of the states the runbook is
    /// written for (`from`), or, with `--what-if`, when none of the
    /// handler's triggers holds (a warning says what it will do).
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Refuse to run (exit 2, before anything acts) unless this proof
    /// certificate (`verify --certificate`) proves these files, this
    /// cluster's size and these parameters, with enough approvals.
    #[arg(long, value_name = "CERTIFICATE")]
    pub require_proof: Option<PathBuf>,
    /// With `--require-proof`: the distinct trusted approvers required
    /// (0: the proof alone).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        requires = "require_proof"
    )]
    pub approvals: usize,
    /// With `--require-proof`: the approvers' public keys (a `KEY.pub`
    /// file, or a folder of them). Read only with `--require-proof`.
    #[arg(long, value_name = "DIR|FILE", env = "RUNBOOK_TRUSTED_KEYS")]
    pub trusted_keys: Option<PathBuf>,
    /// When the maintenance window ends: an RFC 3339 time, `HH:MM` (local
    /// time, today or tomorrow) or a duration from now (`2h`). The run is
    /// refused when its worst case does not fit, and stops (resumably)
    /// before a step whose worst case of what is left no longer fits.
    #[arg(long, value_name = "TIME", value_parser = parse_window_ends)]
    pub window_ends: Option<time::OffsetDateTime>,
    /// Simulator options.
    #[command(flatten)]
    pub sim: SimArgs,
    /// Connection options.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `--window-ends`, read against the clock now.
fn parse_window_ends(text: &str) -> Result<time::OffsetDateTime, String> {
    crate::interp::window::parse_window_ends(
        text,
        time::OffsetDateTime::now_utc(),
        time::UtcOffset::current_local_offset().ok(),
    )
}

/// `runbook resume`.
#[derive(Debug, Clone, clap::Args)]
pub struct ResumeArgs {
    /// The journal of the interrupted run.
    pub journal: PathBuf,
    /// Answers to prompts not answered before the interruption.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Confirm every prompt and take each choice's default (a confirmation
    /// that loses administrator changes excepted: see `--accept-data-loss`).
    #[arg(long)]
    pub yes: bool,
    /// With `--yes`: also confirm the prompts that lose administrator changes.
    #[arg(long)]
    pub accept_data_loss: bool,
    /// Take the cluster from a runner that is gone (see `run --take-over`).
    #[arg(long)]
    pub take_over: bool,
    /// Who resumes it (default: `RUNBOOK_OPERATOR`, else the operating
    /// system's user): journaled with the resume and every answer given.
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Post the events that matter to people to this webhook (see `run
    /// --notify`; repeatable).
    #[arg(long, value_name = "URL")]
    pub notify: Vec<String>,
    /// Ask prompt PROMPT_ID again (repeatable): its journaled answer is
    /// forgotten, once the operator confirms (`reanswer.PROMPT_ID`), if the
    /// step that asked it has not completed.
    #[arg(long, value_name = "PROMPT_ID")]
    pub reanswer: Vec<String>,
    /// When the maintenance window ends (see `run --window-ends`); default:
    /// the window the journal recorded, if any.
    #[arg(long, value_name = "TIME", value_parser = parse_window_ends)]
    pub window_ends: Option<time::OffsetDateTime>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Connection options (the run's own, from its journal, unless given here).
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `runbook plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// A `.runbook` path or the name of a shipped runbook.
    #[arg(add = super::completions::runbooks())]
    pub runbook: String,
    /// `sim` (default), `http://HOST:PORT` or an inventory file.
    #[arg(long, default_value = "sim")]
    pub target: String,
    /// A parameter, `NAME=VALUE` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", add = super::completions::parameters())]
    pub set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Simulator options.
    #[command(flatten)]
    pub sim: SimArgs,
    /// Connection options.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Prints a diagnostic on stderr.
pub fn report(diagnostic: impl miette::Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(diagnostic));
}

/// A run that could not start: the two events it owes in JSON mode, then
/// the diagnostic; exit code 2.
fn refuse(
    format: Format,
    runbook: &str,
    target: &str,
    error: impl miette::Diagnostic + Send + Sync + 'static,
) -> i32 {
    early_failure(format, runbook, target, error.to_string());
    report(error);
    2
}

/// Emits the two events a run that could not start still owes in JSON mode.
fn early_failure(format: Format, runbook: &str, target: &str, message: String) {
    if format == Format::Json {
        let mut sink = output::sink(format);
        sink.emit(Event::now(EventKind::RunStarted {
            run_id: String::new(),
            runbook: runbook.to_string(),
            target: target.to_string(),
            cluster: Default::default(),
            journal: None,
            resumed: false,
        }));
        sink.emit(Event::now(EventKind::RunFinished {
            outcome: RunOutcome::Failed,
            message,
            cluster: Default::default(),
            resume: None,
            cause_code: None,
        }));
    }
}

fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>, RuntimeError> {
    let mut params = BTreeMap::new();
    for set in sets {
        let Some((name, value)) = set.split_once('=') else {
            return Err(RuntimeError::Parameter {
                name: set.clone(),
                reason: String::from("`--set` takes NAME=VALUE"),
            });
        };
        params.insert(name.trim().to_string(), value.to_string());
    }
    Ok(params)
}

pub(crate) fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            None
        }
    }
}

/// Ctrl-C sets the flag (the run stops after the current step); a second one exits at once.
pub(crate) fn watch_ctrl_c(runtime: &tokio::runtime::Runtime) -> Arc<AtomicBool> {
    watch_ctrl_c_saying(
        runtime,
        "Stopping after the current operation (the journal keeps the run; `runbook resume` continues it). Ctrl-C again to stop now.",
    )
}

/// [`watch_ctrl_c`], saying `said` at the first Ctrl-C.
pub(crate) fn watch_ctrl_c_saying(
    runtime: &tokio::runtime::Runtime,
    said: &'static str,
) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let watched = Arc::clone(&flag);
    let on_ctrl_c = move || {
        if watched.swap(true, Ordering::SeqCst) {
            // The journal is fsync'd record by record: the run stays
            // resumable. A prompt may be on screen: give the terminal back.
            crate::interp::prompt::restore_terminal();
            std::process::exit(130);
        }
        // Said at once, even while an operation runs for minutes.
        output::suspend_progress(|| {
            let width = usize::from(console::Term::stderr().size().1).max(20);
            eprintln!("\n{}", crate::wrap::wrap(said, width));
        });
    };
    // The handler is installed now, before the run starts: a watcher task
    // would install it only when the runtime first polls it, and a Ctrl-C
    // before that (the first prompt can come within milliseconds) would
    // kill the process with nothing journaled.
    #[cfg(unix)]
    {
        let _context = runtime.enter();
        if let Ok(mut interrupts) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        {
            runtime.spawn(async move {
                while interrupts.recv().await.is_some() {
                    on_ctrl_c();
                }
            });
            return flag;
        }
    }
    runtime.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c();
        }
    });
    flag
}

fn prompter(
    answers: Option<&PathBuf>,
    yes: bool,
    accept_data_loss: bool,
) -> Result<OperatorPrompter, RuntimeError> {
    let answers = answers.map(|path| AnswersFile::load(path)).transpose()?;
    let interactive = std::io::stdin().is_terminal();
    Ok(OperatorPrompter::new(answers, yes, interactive).accepting_data_loss(accept_data_loss))
}

fn finish(report: RunReport, format: Format) -> i32 {
    for warning in report.warnings {
        self::report(warning);
    }
    if let Some(error) = report.error {
        self::report(error);
    }
    if format == Format::Human && report.outcome != RunOutcome::Succeeded {
        if let Some(command) = &report.resume_command {
            eprintln!("To continue: {command}");
        }
    }
    report_exit(report.unreachable_before_start, report.outcome)
}

fn report_exit(unreachable: bool, outcome: RunOutcome) -> i32 {
    if unreachable {
        2
    } else {
        outcome.exit_code()
    }
}

/// `runbook run`.
pub fn run(mut args: RunArgs) -> i32 {
    // No credential written in a URL is ever printed or journaled (and none is used).
    args.target = crate::connect::redact_url(&args.target);
    let params = match parse_sets(&args.set) {
        Ok(params) => params,
        Err(error) => return refuse(args.format, &args.runbook, &args.target, error),
    };
    let program = match load_program(&args.runbook) {
        Ok(program) => program,
        Err(failure) => {
            early_failure(args.format, &args.runbook, &args.target, failure.message());
            return failure.print();
        }
    };
    // Parameters the runbook does not have, or of the wrong type, are usage
    // errors: nothing starts, no journal is written.
    if let Err(error) = machine::check_params(&program, &params) {
        early_failure(args.format, &args.runbook, &args.target, error.to_string());
        report(error);
        return 2;
    }
    // An answers file that answers no prompt of the runbook, or answers one
    // with the wrong kind of value, is a usage error too (a typo would stop
    // the run at that prompt, in its middle).
    if let Err(error) = check_answers(args.answers.as_ref(), &program) {
        early_failure(args.format, &args.runbook, &args.target, error.to_string());
        report(error);
        return 2;
    }
    // A `--what-if` the runbook does not have is a usage error: nothing starts.
    let what_if = match args
        .what_if
        .as_deref()
        .map(|name| machine::what_if_index(&program, name))
        .transpose()
    {
        Ok(what_if) => what_if,
        Err(error) => {
            early_failure(args.format, &args.runbook, &args.target, error.to_string());
            report(error);
            return 2;
        }
    };
    if args.force && what_if.is_none() && program.main_file().ast.from.is_empty() {
        let error = RuntimeError::NothingToForce;
        early_failure(args.format, &args.runbook, &args.target, error.to_string());
        report(error);
        return 2;
    }
    let Some(runtime) = runtime() else { return 2 };
    let spec = TargetSpec::parse(&args.target);
    let connection = args.connection.options();
    let target = match runtime.block_on(target::open(
        &spec,
        &args.sim,
        &connection,
        &params,
        args.answers.as_ref(),
        None,
    )) {
        Ok(target) => target,
        Err(error) => return refuse(args.format, &args.runbook, &args.target, error),
    };
    // The proof is checked against the target as it is (read, not acted
    // on) before anything acts or is journaled.
    let proof = match &args.require_proof {
        None => None,
        Some(path) => {
            let checked = runtime.block_on(require_proof(
                &args,
                path,
                &program,
                &params,
                target.connector.as_ref(),
            ));
            match checked {
                Ok(record) => Some(record),
                Err(code) => {
                    runtime.block_on(target.connector.close());
                    return code;
                }
            }
        }
    };
    // Before anything acts or is journaled, unless `--force` (which first
    // says why): a runbook written for other states than the target's
    // (`from`), or a handler run alone on a cluster where none of its
    // triggers holds (a healthy one, say: it could demote the only Active).
    let judged = runtime.block_on(async {
        match what_if {
            Some(index) => {
                machine::judge_what_if(&program, index, target.connector.as_ref(), args.force).await
            }
            None => {
                machine::judge_starting_state(&program, target.connector.as_ref(), args.force).await
            }
        }
    });
    match judged {
        Ok(None) => {}
        Ok(Some(forced)) => report(forced),
        Err(refusal) => {
            runtime.block_on(target.connector.close());
            return refuse(args.format, &args.runbook, &args.target, refusal);
        }
    }
    let mut prompter = match prompter(args.answers.as_ref(), args.yes, args.accept_data_loss) {
        Ok(prompter) => prompter,
        Err(error) => return refuse(args.format, &args.runbook, &args.target, error),
    };
    let interrupt = watch_ctrl_c(&runtime);
    let journal = match args.journal {
        Some(path) => JournalChoice::File(path),
        None => JournalChoice::Default(PathBuf::from(".")),
    };
    let settings = RunSettings {
        params,
        what_if: args.what_if,
        journal,
        target: TargetRecord {
            target: args.target.clone(),
            sim: target.sim,
            connection,
        },
        interrupt,
        take_over: args.take_over,
        operator: args.operator.clone(),
        proof,
        window_ends: args.window_ends,
        ..RunSettings::default()
    };
    let notify = webhooks(&args.notify, &target.notify);
    let report = runtime.block_on(async {
        let mut sink = notifying(output::sink(args.format), notify, None);
        let report = execute(
            Start::Run,
            &program,
            target.connector.as_ref(),
            &mut sink,
            &mut prompter,
            settings,
        )
        .await;
        sink.flush().await;
        report
    });
    finish(report, args.format)
}

/// `runbook resume`.
pub fn resume(args: ResumeArgs) -> i32 {
    let journal_name = args.journal.display().to_string();
    let contents = match read_journal(&args.journal) {
        Ok(contents) => contents,
        Err(error) => return refuse(args.format, "?", "?", error),
    };
    let Some(header) = contents.header().cloned() else {
        return 2;
    };
    let program = match load_program(&header.runbook_ref) {
        Ok(program) => program,
        Err(failure) => {
            early_failure(
                args.format,
                &header.runbook,
                &header.reach.target,
                failure.message(),
            );
            return failure.print();
        }
    };
    if let Err(error) = check_answers(args.answers.as_ref(), &program) {
        return refuse(args.format, &header.runbook, &header.reach.target, error);
    }
    let Some(runtime) = runtime() else { return 2 };
    let given = args.connection.options();
    let (connector, inventory_webhooks) = match runtime.block_on(resumed_connector(
        &header,
        &contents,
        &given,
        args.answers.as_ref(),
        None,
    )) {
        Ok(opened) => opened,
        Err(error) => return refuse(args.format, &header.runbook, &header.reach.target, error),
    };
    let mut prompter = match prompter(args.answers.as_ref(), args.yes, args.accept_data_loss) {
        Ok(prompter) => prompter,
        Err(error) => return refuse(args.format, &header.runbook, &header.reach.target, error),
    };
    let interrupt = watch_ctrl_c(&runtime);
    let settings = RunSettings {
        params: header.params.clone(),
        what_if: header.what_if.clone(),
        journal: JournalChoice::File(args.journal.clone()),
        target: header.reach.clone(),
        interrupt,
        reanswer: args.reanswer.clone(),
        take_over: args.take_over,
        operator: args.operator.clone(),
        proof: header.proof.clone(),
        window_ends: args.window_ends,
        ..RunSettings::default()
    };
    let notify = webhooks(&args.notify, &inventory_webhooks);
    let report = runtime.block_on(async {
        let mut sink = notifying(output::sink(args.format), notify, None);
        let report = execute(
            Start::Resume(&args.journal),
            &program,
            connector.as_ref(),
            &mut sink,
            &mut prompter,
            settings,
        )
        .await;
        sink.flush().await;
        report
    });
    let _ = journal_name;
    finish(report, args.format)
}

/// `--require-proof`: the certificate against the program, the
/// parameters and the cluster's size read from the target; the exit code
/// (2) once every reason to refuse is printed.
async fn require_proof(
    args: &RunArgs,
    path: &std::path::Path,
    program: &crate::interp::program::Program,
    params: &BTreeMap<String, String>,
    connector: &dyn Connector,
) -> Result<crate::interp::journal::ProofRecord, i32> {
    let servers = match connector.snapshot().await {
        Ok(snapshot) => snapshot.servers.len(),
        Err(error) => {
            return Err(refuse(
                args.format,
                &args.runbook,
                &args.target,
                RuntimeError::Connector(error),
            ))
        }
    };
    let requirement = crate::proof::require::Requirement {
        path: path.to_path_buf(),
        approvals: args.approvals,
        trusted_keys: args.trusted_keys.clone(),
    };
    let candidate = crate::proof::require::Candidate {
        program,
        params,
        servers,
    };
    crate::proof::require::require(&requirement, candidate).map_err(|errors| {
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        early_failure(args.format, &args.runbook, &args.target, message);
        for error in errors {
            report(error);
        }
        2
    })
}

/// How a run starts: afresh, or from its journal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    /// `runbook run`.
    Run,
    /// `runbook resume JOURNAL`.
    Resume(&'a std::path::Path),
}

/// Executes one run (or resume) of `program` on `connector`, then closes
/// the connector: what `run`, `resume` and each cluster of `fleet` do once
/// their target, prompter and sink are made.
pub(crate) async fn execute(
    start: Start<'_>,
    program: &crate::interp::program::Program,
    connector: &dyn Connector,
    sink: &mut dyn EventSink,
    prompter: &mut dyn crate::interp::prompt::Prompter,
    settings: RunSettings,
) -> RunReport {
    let report = match start {
        Start::Run => machine::run(program, connector, sink, prompter, settings).await,
        Start::Resume(journal) => {
            machine::resume(journal, program, connector, sink, prompter, settings).await
        }
    };
    connector.close().await;
    report
}

/// The connector a resumed run acts on, from its journal's header: the
/// in-process simulator rebuilt from the journal, or the run's own target
/// (`given` connection options over the journaled ones), seeded with the
/// cluster as last journaled; with the webhooks its inventory names.
/// `answers` and `cluster`: see [`target::open`].
pub(crate) async fn resumed_connector(
    header: &crate::interp::journal::RunHeader,
    contents: &crate::interp::journal::JournalContents,
    given: &crate::connect::smc::ConnectionOptions,
    answers: Option<&PathBuf>,
    cluster: Option<&str>,
) -> Result<
    (
        Box<dyn Connector>,
        Vec<crate::connect::inventory::WebhookUrl>,
    ),
    TargetError,
> {
    let connection = header.reach.connection.overridden_by(given);
    match TargetSpec::parse(&header.reach.target) {
        TargetSpec::Sim if !given.is_empty() => Err(TargetError::ConnectionOption {
            option: target::first_connection_flag(given).unwrap_or("--request-timeout"),
        }),
        TargetSpec::Sim => {
            // The in-process cluster died with the interrupted process: rebuild
            // it from the journal, its clock where the journal left it.
            let config = header.reach.sim.clone().unwrap_or_default();
            Ok((
                Box::new(SimConnector::rebuilt(config, contents.history())),
                Vec::new(),
            ))
        }
        spec => {
            let target = target::open(
                &spec,
                &SimArgs::default(),
                &connection,
                &header.params,
                answers,
                cluster,
            )
            .await?;
            let last_seen = contents
                .records
                .iter()
                .rev()
                .find_map(|record| match record {
                    Record::StepStarted { snapshot, .. }
                    | Record::StepFinished { snapshot, .. }
                    | Record::Resumed { snapshot, .. } => Some(snapshot.clone()),
                    _ => None,
                });
            Ok((
                Box::new(target::SeededConnector::new(target.connector, last_seen)),
                target.notify,
            ))
        }
    }
}

/// The run's sink: the output, and the webhooks `--notify` names.
pub(crate) enum RunSink {
    Plain(Box<dyn EventSink>),
    Notifying(crate::notify::NotifyingSink),
}

impl EventSink for RunSink {
    fn emit(&mut self, event: Event) {
        match self {
            Self::Plain(sink) => sink.emit(event),
            Self::Notifying(sink) => sink.emit(event),
        }
    }

    fn countdown(&mut self, countdown: Option<crate::interp::events::Countdown>) {
        match self {
            Self::Plain(sink) => sink.countdown(countdown),
            Self::Notifying(sink) => sink.countdown(countdown),
        }
    }
}

impl RunSink {
    /// Lets the last notifications go out.
    pub(crate) async fn flush(&mut self) {
        if let Self::Notifying(sink) = self {
            sink.flush().await;
        }
    }
}

/// The webhooks of a run: `--notify` ones, then the inventory's, each once.
pub(crate) fn webhooks(
    given: &[String],
    inventory: &[crate::connect::inventory::WebhookUrl],
) -> Vec<String> {
    let mut urls: Vec<String> = given.to_vec();
    for url in inventory {
        if !urls.iter().any(|known| known == url.expose()) {
            urls.push(url.expose().to_owned());
        }
    }
    urls
}

/// `inner`, posting to `urls` too when there are any (on the current
/// runtime); in a fleet, the texts name `cluster`.
pub(crate) fn notifying(
    inner: Box<dyn EventSink>,
    urls: Vec<String>,
    cluster: Option<&str>,
) -> RunSink {
    if urls.is_empty() {
        RunSink::Plain(inner)
    } else {
        RunSink::Notifying(crate::notify::NotifyingSink::new(inner, urls).for_cluster(cluster))
    }
}

/// `runbook plan`.
pub fn plan(mut args: PlanArgs) -> i32 {
    args.target = crate::connect::redact_url(&args.target);
    let params = match parse_sets(&args.set) {
        Ok(params) => params,
        Err(error) => {
            report(error);
            return 2;
        }
    };
    let program = match load_program(&args.runbook) {
        Ok(program) => program,
        Err(failure) => return failure.print(),
    };
    if let Err(error) = machine::check_params(&program, &params) {
        report(error);
        return 2;
    }
    let Some(runtime) = runtime() else { return 2 };
    let target = match runtime.block_on(target::open(
        &TargetSpec::parse(&args.target),
        &args.sim,
        &args.connection.options(),
        &params,
        None,
        None,
    )) {
        Ok(target) => target,
        Err(error) => {
            report(error);
            return 2;
        }
    };
    for warning in target.connector.warnings() {
        eprintln!("warning[{}]: {}", warning.code, warning.message);
    }
    let result = runtime.block_on(async {
        let result = plan::plan(&program, target.connector.as_ref(), &params).await;
        target.connector.close().await;
        result
    });
    match result {
        Ok(plan) => {
            match args.format {
                Format::Human => out!("{}", plan.render()),
                Format::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&plan).unwrap_or_default()
                ),
            }
            0
        }
        Err(error) => {
            let code = if matches!(error, RuntimeError::Connector(_)) {
                2
            } else {
                1
            };
            report(error);
            code
        }
    }
}

/// Checks an answers file against the prompts the runbook (and the
/// procedures it calls) can ask: every key answers one, with the kind of
/// value it wants.
fn check_answers(
    answers: Option<&PathBuf>,
    program: &crate::interp::program::Program,
) -> Result<(), RuntimeError> {
    let Some(path) = answers else { return Ok(()) };
    AnswersFile::load(path)?.check(&crate::semantics::code::Code::new(program).prompts())
}
