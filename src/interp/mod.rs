//! The interpreter: executes a resolved runbook against a [`Connector`](crate::connect::Connector),
//! journaling every step so a run can be resumed, asking the operator through
//! a [`prompt::Prompter`] and reporting progress as [`events::Event`]s.

pub mod error;
pub mod events;
pub mod journal;
pub mod prompt;

pub use error::RuntimeError;
pub use events::{Event, EventKind, EventSink, RunOutcome, StepOutcome};
