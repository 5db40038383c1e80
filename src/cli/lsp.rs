//! `runbook lsp`: the language server ([`crate::lsp`]) on standard input
//! and output, for editors (see `docs/editors.md`). Exit code: 0 after the
//! client's `shutdown` and `exit`, 1 when the client went away without a
//! `shutdown` (as the protocol asks) or broke the protocol.

use lsp_server::Connection;

/// `runbook lsp`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::LSP)]
pub struct LspArgs {
    /// Accepted for editors that start every server with `--stdio`; stdio
    /// is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

/// Runs `runbook lsp`; returns the exit code.
pub fn lsp(_args: LspArgs) -> i32 {
    let (connection, io_threads) = Connection::stdio();
    let served = crate::lsp::serve(&connection);
    // The writer thread ends once every sender is gone.
    drop(connection);
    let joined = io_threads.join();
    match served {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(error) => {
            eprintln!("runbook lsp: {error}");
            if let Err(error) = joined {
                eprintln!("runbook lsp: {error}");
            }
            1
        }
    }
}
