//! The command line (clap): the only place that prints. Each command is a
//! thin layer over the library, in its own file: it builds inputs, calls the
//! library, renders results and returns the exit code of the contract
//! (0 success, 1 errors found, 2 usage error or unreadable file).

use clap::{Parser, Subcommand};

pub mod check;
pub mod completions;
pub mod examples;
pub mod explain;
pub mod fleet;
pub mod fmt;
pub mod graph;
pub mod list;
pub mod load;
pub mod lsp;
pub mod output;
pub mod probe;
pub mod proof;
pub mod render;
pub mod report;
pub mod run;
pub mod schema;
pub mod show;
pub mod sim;
pub mod stdout;
pub mod target;
pub mod verify;

/// Turns operational procedures into executable, checkable programs.
#[derive(Debug, Parser)]
#[command(name = "runbook", version, about, after_help = examples::ROOT)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// Let runbooks import files outside their own folder tree (by default
    /// an import stays under the folder of the runbook being checked or
    /// run, or names a shipped procedure).
    #[arg(long, global = true)]
    pub allow_outside_imports: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check runbook files or directories (default: `.`, recursively).
    #[command(after_help = examples::CHECK)]
    Check(check::CheckArgs),
    /// The shipped runbooks: name, title, one-line summary.
    List(list::ListArgs),
    /// The source of a shipped runbook.
    Show(show::ShowArgs),
    /// The documentation of a diagnostic code, e.g. `runbook explain RB003`.
    #[command(after_help = examples::EXPLAIN)]
    Explain(explain::ExplainArgs),
    /// Execute a runbook (or run one of its What-if branches directly).
    #[command(after_help = examples::RUN)]
    Run(run::RunArgs),
    /// Continue an interrupted run from its journal.
    #[command(after_help = examples::RESUME)]
    Resume(run::ResumeArgs),
    /// A self-contained report of a run (HTML or Markdown), from its journal,
    /// for the change record.
    #[command(after_help = examples::REPORT)]
    Report(report::ReportArgs),
    /// What `run` would do from the target's current state, changing nothing.
    #[command(after_help = examples::PLAN)]
    Plan(run::PlanArgs),
    /// Read-only: what the connector reads from each real server, and why
    /// (`--record DIR`: the raw answers, redacted, as a test fixture).
    #[command(after_help = examples::PROBE)]
    Probe(probe::ProbeArgs),
    /// Run one runbook over many clusters (a fleet file), N at a time;
    /// continue an interrupted fleet.
    Fleet(fleet::FleetArgs),
    /// The HA cluster simulator.
    Sim(sim::SimArgs),
    /// Explore every path, fault and operator choice against the cluster model.
    #[command(after_help = examples::VERIFY)]
    Verify(verify::VerifyArgs),
    /// Make an approver's Ed25519 key pair (KEY and KEY.pub).
    #[command(after_help = examples::KEYGEN)]
    Keygen(proof::KeygenArgs),
    /// Sign a proof certificate (`verify --certificate`) as an approver.
    #[command(after_help = examples::APPROVE)]
    Approve(proof::ApproveArgs),
    /// Rewrite runbook files in the canonical layout (`--check`: only report).
    Fmt(fmt::FmtArgs),
    /// Print a runbook's flow graph (Mermaid or Graphviz DOT).
    Graph(graph::GraphArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// A language server over stdio, for editors (diagnostics, hover, go to
    /// definition, completion, formatting, outline).
    Lsp(lsp::LspArgs),
    /// The JSON Schema of a machine output (`events`, `journal`, `check`,
    /// `plan`, `verify`, ...); without NAME, the list.
    #[command(after_help = examples::SCHEMA)]
    Schema(schema::SchemaArgs),
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> i32 {
    if std::env::var_os("NO_COLOR").is_some() {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    render::install_report_hook();
    completions::answer_completion_request();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    crate::syntax::resolve::allow_imports_anywhere(cli.allow_outside_imports);
    match cli.command {
        Command::Check(args) => check::check(args),
        Command::List(args) => list::list(args),
        Command::Show(args) => show::show(args),
        Command::Explain(args) => explain::explain(args),
        Command::Run(args) => run::run(args),
        Command::Resume(args) => run::resume(args),
        Command::Report(args) => report::report(args),
        Command::Plan(args) => run::plan(args),
        Command::Probe(args) => probe::probe(args),
        Command::Fleet(args) => fleet::fleet(args),
        Command::Sim(args) => exit_code(sim::run(args)),
        Command::Verify(args) => verify::verify(args),
        Command::Keygen(args) => proof::keygen(args),
        Command::Approve(args) => proof::approve(args),
        Command::Fmt(args) => fmt::fmt(args),
        Command::Graph(args) => graph::graph(args),
        Command::Completions(args) => completions::completions(args),
        Command::Lsp(args) => lsp::lsp(args),
        Command::Schema(args) => schema::schema(args),
    }
}

/// The numeric code of an [`std::process::ExitCode`] returned by a command
/// (0, 1 or 2: the codes of the contract).
fn exit_code(code: std::process::ExitCode) -> i32 {
    if code == std::process::ExitCode::SUCCESS {
        0
    } else if code == std::process::ExitCode::from(2) {
        2
    } else {
        1
    }
}
