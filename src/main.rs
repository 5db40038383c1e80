//! The `runbook` binary: everything is in the library's [`runbook::cli`].

fn main() {
    std::process::exit(runbook::cli::main());
}
