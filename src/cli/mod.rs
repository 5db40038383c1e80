//! The command line (clap): the only place that prints. Each command is a
//! thin layer over the library: it builds inputs, calls it, renders results.

use clap::{Parser, Subcommand};

pub mod load;
pub mod output;
pub mod run;
pub mod target;
pub mod verify;

/// Turns operational procedures into executable, checkable programs.
#[derive(Debug, Parser)]
#[command(name = "runbook", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Execute a runbook (or run one of its What-if branches directly).
    Run(run::RunArgs),
    /// Continue an interrupted run from its journal.
    Resume(run::ResumeArgs),
    /// What `run` would do from the target's current state, changing nothing.
    Plan(run::PlanArgs),
    /// Explore every path, fault and operator choice against the cluster model.
    Verify(verify::VerifyArgs),
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> i32 {
    if std::env::var_os("NO_COLOR").is_some() {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Resume(args) => run::resume(args),
        Command::Plan(args) => run::plan(args),
        Command::Verify(args) => verify::verify(args),
    }
}
