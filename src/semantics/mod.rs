//! What a runbook means, written once: expressions ([`eval`]), the
//! conditions read off the cluster ([`observe`]), prompts ([`prompt`]), the
//! program lowered into instructions ([`code`]) and the small-step machine
//! that runs them ([`machine`]). The interpreter, `plan` and the verifier
//! are drivers of this machine; nothing here performs I/O.

pub mod code;
pub mod eval;
pub mod machine;
pub mod observe;
pub mod prompt;
