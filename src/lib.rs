//! `runbook` turns operational procedures into executable, checkable
//! programs. The modules follow the pipeline:
//! source → [`syntax`] → check → [`interp`] → [`connect`], with the HA
//! model in [`cluster`] shared by the simulator and the verifier.

pub mod check;
pub mod cli;
pub mod cluster;
pub mod connect;
pub mod fmt;
pub mod graph;
pub mod interp;
pub mod syntax;
