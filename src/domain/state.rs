//! Server modes and the replication state codes the database-replication
//! diagnostic reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether a server declares itself the Active or a Standby.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The Management Server that administrators work on.
    Active,
    /// A server holding a replicated copy of the Active's database.
    Standby,
}

/// A replication state code as reported by the database-replication diagnostic.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum ReplicationState {
    /// Active, replication healthy.
    #[serde(rename = "ACT_REP")]
    ActRep,
    /// Standby, replication healthy.
    #[serde(rename = "STB_REP")]
    StbRep,
    /// Active, no standby initialized yet.
    #[serde(rename = "ACT_NO_REP")]
    ActNoRep,
    /// Standby, not initialized.
    #[serde(rename = "STB_NO_REP")]
    StbNoRep,
    /// Active, configuration valid but no standby connected.
    #[serde(rename = "ACT_ONHOLD")]
    ActOnhold,
    /// Standby, configured but cannot reach the Active.
    #[serde(rename = "STB_ONHOLD")]
    StbOnhold,
    /// Transitional, during a switch of Active.
    #[serde(rename = "STB_ACTREP")]
    StbActrep,
    /// Active, at least one standby replicating and another not.
    #[serde(rename = "ACT_REP_EX")]
    ActRepEx,
    /// Damaged; restoring a backup may be needed.
    #[serde(rename = "BROKEN_ACT_STB")]
    BrokenActStb,
    /// Damaged or unknown.
    #[serde(rename = "UNKNOWN")]
    Unknown,
    /// No replication needed.
    #[serde(rename = "SINGLE_SERVER")]
    SingleServer,
    /// The replication of versions before 7.3 (never reported on 7.3 or later).
    #[serde(rename = "LEGACY_MODE")]
    LegacyMode,
}

impl ReplicationState {
    /// Every code, in the order of `domain.md`, then `LEGACY_MODE`.
    pub const ALL: [ReplicationState; 12] = [
        Self::ActRep,
        Self::StbRep,
        Self::ActNoRep,
        Self::StbNoRep,
        Self::ActOnhold,
        Self::StbOnhold,
        Self::StbActrep,
        Self::ActRepEx,
        Self::BrokenActStb,
        Self::Unknown,
        Self::SingleServer,
        Self::LegacyMode,
    ];

    /// The code as the product prints it, e.g. `ACT_REP`.
    pub fn code(self) -> &'static str {
        match self {
            Self::ActRep => "ACT_REP",
            Self::StbRep => "STB_REP",
            Self::ActNoRep => "ACT_NO_REP",
            Self::StbNoRep => "STB_NO_REP",
            Self::ActOnhold => "ACT_ONHOLD",
            Self::StbOnhold => "STB_ONHOLD",
            Self::StbActrep => "STB_ACTREP",
            Self::ActRepEx => "ACT_REP_EX",
            Self::BrokenActStb => "BROKEN_ACT_STB",
            Self::Unknown => "UNKNOWN",
            Self::SingleServer => "SINGLE_SERVER",
            Self::LegacyMode => "LEGACY_MODE",
        }
    }

    /// The product's one-line description, as in `"[ACT_REP] Active database replication is enabled"`.
    pub fn description(self) -> &'static str {
        match self {
            Self::ActRep => "Active database replication is enabled",
            Self::StbRep => "Standby database replication is enabled",
            Self::ActNoRep => "Active server, no standby server initialized",
            Self::StbNoRep => "Standby database replication not enabled",
            Self::ActOnhold => {
                "Active database replication is on hold: no standby server connected"
            }
            Self::StbOnhold => {
                "Standby database replication is on hold: the active server cannot be reached"
            }
            Self::StbActrep => "Standby server is being activated",
            Self::ActRepEx => "Active database replication partially enabled",
            Self::BrokenActStb => "Database replication is broken",
            Self::Unknown => "Database replication state is unknown",
            Self::SingleServer => "Single server, no replication needed",
            Self::LegacyMode => "Legacy replication mode (before SMC 7.3)",
        }
    }

    /// The reported form: `[CODE] description`.
    pub fn reported(self) -> String {
        format!("[{}] {}", self.code(), self.description())
    }

    /// Parses a reported form (`"[ACT_REP] ..."`) or a bare code.
    pub fn from_reported(text: &str) -> Option<Self> {
        let text = text.trim();
        let code = match text.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => text.split_whitespace().next().unwrap_or(""),
        };
        code.parse().ok()
    }
}

impl fmt::Display for ReplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for ReplicationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| format!("unknown replication state code `{s}`"))
    }
}
