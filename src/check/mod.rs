//! Static checks of a parsed and resolved runbook before it runs: the linter
//! (coded rules, one file each, with suppression and configuration) and the
//! renderers of its findings (human, JSON, SARIF), and the verifier, which
//! explores every path against the cluster model. The [`catalogue`] documents
//! every `runbook::…` diagnostic code of the pipeline for `runbook explain`.

pub mod catalogue;
pub mod lint;
pub mod project;
pub mod report;
pub mod verify;
