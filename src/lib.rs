//! `runbook` turns operational procedures into executable, checkable
//! programs. The modules follow the pipeline:
//! source → [`syntax`] → [`semantics`] → check / [`interp`] → [`connect`],
//! with the HA model in [`cluster`] shared by the simulator and the
//! verifier. [`semantics`] holds the one meaning of every statement that the
//! interpreter, `plan` and the verifier drive.

pub mod check;
pub mod cli;
pub mod cluster;
pub mod connect;
pub mod domain;
pub mod fleet;
pub mod fmt;
pub mod graph;
pub mod interp;
pub mod lsp;
pub mod notify;
pub mod proof;
pub mod report;
pub mod schema;
pub mod semantics;
pub mod syntax;
pub mod wrap;
