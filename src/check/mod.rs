//! Static checks of a parsed and resolved runbook: the linter (coded rules,
//! one file each, with suppression and configuration) and the renderers of
//! its findings (human, JSON, SARIF).

pub mod line_index;
pub mod lint;
pub mod project;
pub mod report;
