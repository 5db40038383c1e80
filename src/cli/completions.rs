//! `runbook completions SHELL`: the completion script for a shell, generated
//! by clap_complete from the command definitions.

use clap::CommandFactory as _;
use clap_complete::Shell;

/// `runbook completions`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = COMPLETIONS_EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The examples shown by `runbook completions --help`.
pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  runbook completions bash > ~/.local/share/bash-completion/completions/runbook
  runbook completions zsh > \"${fpath[1]}/_runbook\"
  runbook completions fish > ~/.config/fish/completions/runbook.fish
  runbook completions powershell >> $PROFILE";

/// Prints the script on stdout; returns the exit code.
pub fn completions(args: CompletionsArgs) -> i32 {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "runbook", &mut std::io::stdout());
    0
}
