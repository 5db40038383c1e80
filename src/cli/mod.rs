//! The command line (clap): parses arguments, runs the command and prints.
//! This is the only module that prints.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod sim;

/// Turns HA Management upgrade procedures into executable, checkable programs.
#[derive(Debug, Parser)]
#[command(name = "runbook", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The HA cluster simulator.
    Sim(sim::SimArgs),
}

/// Parses the command line, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(args) => sim::run(args),
    }
}
