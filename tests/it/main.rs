//! The integration tests, one binary: every suite is a module here and
//! shares one `support` module, so the tests and their dependencies link
//! once. Run one suite with `cargo test --test it SUITE::`, for example
//! `cargo test --test it interp_kill::`.
//!
//! Fixtures stay in `tests/fixtures/` and `tests/python/`; insta snapshots
//! live in `tests/it/snapshots/`, named `it__SUITE__NAME.snap`.

mod support;

mod cli_check;
mod cli_fmt_graph;
mod cli_timeouts;
mod cluster;
mod cluster_properties;
mod connect_console;
#[cfg(unix)]
mod connect_faults;
mod connect_smc;
mod connect_tls;
#[cfg(unix)]
mod crash_resume;
mod diagnostics;
mod diagnostics_corpus;
mod differential;
mod fleet;
mod fmt;
mod fuzz;
mod graph;
mod graph_docs;
mod interp_cli;
mod interp_diagnostics;
#[cfg(unix)]
mod interp_kill;
mod interp_run;
mod interpolation;
mod inventory;
mod kill_matrix;
mod lint;
mod lint_docs;
mod lint_rules;
mod lsp;
#[cfg(unix)]
mod maintenance_window;
mod notify;
mod one_at_a_time;
mod proof;
mod report;
mod scenarios;
mod schemas;
mod sim_connector;
mod sim_serve;
mod smc_contract;
mod smc_python_client;
mod syntax;
#[cfg(unix)]
mod tty;
mod verify;
mod verify_goals;
mod what_if_direct;
#[cfg(unix)]
mod window_resume;
