//! How serious a finding is, and the configured level of a rule (a severity
//! or `off`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// How serious a finding is. Errors make `runbook check` exit 1; warnings and
/// infos alone exit 0.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a check.
    Info,
    /// Probably a mistake; does not fail a check.
    Warning,
    /// A mistake that fails the check.
    Error,
}

impl Severity {
    /// The lowercase name used in `runbook.toml` and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// The SARIF `level` of this severity.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Info => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// The miette severity used when rendering for humans.
    pub fn to_miette(self) -> miette::Severity {
        match self {
            Self::Info => miette::Severity::Advice,
            Self::Warning => miette::Severity::Warning,
            Self::Error => miette::Severity::Error,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The level a rule runs at: a severity, or switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The rule does not run.
    Off,
    /// The rule runs and reports at this severity.
    On(Severity),
}

impl FromStr for Level {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "off" | "allow" => Ok(Self::Off),
            "info" => Ok(Self::On(Severity::Info)),
            "warning" | "warn" => Ok(Self::On(Severity::Warning)),
            "error" | "deny" => Ok(Self::On(Severity::Error)),
            other => Err(format!(
                "`{other}` is not a level: use \"error\", \"warning\", \"info\" or \"off\""
            )),
        }
    }
}
