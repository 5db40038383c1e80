//! The `runbook` binary: everything is in the library's [`runbook::cli`].

/// mimalloc: `runbook verify` clones and drops millions of small states, on
/// every core, where the system allocator spends half the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(runbook::cli::main());
}
