//! The `runbook` binary: everything lives in the library; see [`runbook::cli`].

fn main() -> std::process::ExitCode {
    runbook::cli::main()
}
