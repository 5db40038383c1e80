//! The interpreter: executes a resolved runbook against a [`Connector`](crate::connect::Connector),
//! journaling every step so a run can be resumed, asking the operator through
//! a [`prompt::Prompter`] and reporting progress as [`events::Event`]s.

// Runtime errors carry the source excerpt and the cluster state for the
// operator; they are built once per failed run, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod error;
pub mod events;
pub mod journal;
pub mod prompt;

pub use crate::semantics::{eval, observe};
pub use error::RuntimeError;
pub use events::{Event, EventKind, EventSink, RunOutcome, StepOutcome};
mod driver;
mod guard;
pub(crate) mod in_flight;
pub mod load;
pub mod machine;
pub mod plan;
pub mod program;
pub(crate) mod replay;
pub mod window;
