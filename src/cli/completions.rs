//! `runbook completions SHELL`: the completion script for a shell, generated
//! by clap_complete from the command definitions.

use clap::CommandFactory as _;
use clap_complete::Shell;

/// `runbook completions`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::COMPLETIONS)]
pub struct CompletionsArgs {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the script on stdout; returns the exit code.
pub fn completions(args: CompletionsArgs) -> i32 {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "runbook", &mut std::io::stdout());
    0
}
