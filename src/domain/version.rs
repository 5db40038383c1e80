//! Product versions (`7.4.0`): compared numerically part by part, with
//! missing trailing parts read as zeros (`7.4` is `7.4.0`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A product version such as `7.4.0`; compares numerically part by part.
#[derive(Debug, Clone)]
pub struct Version(Vec<u32>);

impl Version {
    /// The parts that count in comparisons: trailing zeros dropped, so
    /// `7.4` and `7.4.0` are one version ([`Version::unknown`] stays apart:
    /// it has no parts and compares below every real version).
    fn significant(&self) -> (bool, &[u32]) {
        let end = self
            .0
            .iter()
            .rposition(|part| *part != 0)
            .map_or(0, |last| last + 1);
        (!self.0.is_empty(), &self.0[..end])
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.significant().hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.significant().cmp(&other.significant())
    }
}

impl Version {
    /// A version from its numeric parts, e.g. `[7, 4, 0]`.
    pub fn from_parts(parts: Vec<u32>) -> Self {
        Version(parts)
    }

    /// The dot-separated numeric parts (none for [`Version::unknown`]).
    pub fn parts(&self) -> &[u32] {
        &self.0
    }

    /// The version of a server nobody could read (it never answered and
    /// none is configured): shown as `unknown`, equal to no real version.
    pub fn unknown() -> Self {
        Version(Vec::new())
    }

    /// Whether this is [`Version::unknown`].
    pub fn is_unknown(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the HA API of this SMC version has
    /// `GET /ha/all_servers_replication_states` (since 7.3.4, 7.4.2, 7.5.0).
    pub fn has_all_servers_replication_states(&self) -> bool {
        match self.parts() {
            [7, 3, patch, ..] => *patch >= 4,
            [7, 4, patch, ..] => *patch >= 2,
            [7, minor, ..] => *minor >= 5,
            [major, ..] => *major > 7,
            [] => false,
        }
    }

    /// What an Active called `active` running this version means for an
    /// exclusion: the known issue, said the same by `plan` and the connector.
    pub fn smc_65140_note(&self, active: &str) -> String {
        format!(
            "{active} runs SMC {self}, whose API cannot exclude a stopped Standby (known issue SMC-65140, 7.3.0 to 7.3.3 and 7.4.0 to 7.4.1)"
        )
    }

    /// Whether excluding a stopped Standby through the API fails on this
    /// SMC version (published known issue SMC-65140: 7.3.0 to 7.3.3 and
    /// 7.4.0 to 7.4.1).
    pub fn has_smc_65140(&self) -> bool {
        match self.parts() {
            [7, 3] | [7, 4] => true,
            [7, 3, patch, ..] => *patch <= 3,
            [7, 4, patch, ..] => *patch <= 1,
            _ => false,
        }
    }
}

#[cfg(test)]
mod version_tests {
    use super::Version;

    #[test]
    fn versions_with_known_issues_and_entry_points() {
        let version = |text: &str| text.parse::<Version>().expect("version");
        for affected in ["7.3.0", "7.3.3", "7.4.0", "7.4.1"] {
            assert!(version(affected).has_smc_65140(), "{affected}");
        }
        for fixed in ["7.3.4", "7.4.2", "7.5.0", "8.0.0"] {
            assert!(!version(fixed).has_smc_65140(), "{fixed}");
            assert!(
                version(fixed).has_all_servers_replication_states(),
                "{fixed}"
            );
        }
        for old in ["7.3.3", "7.4.1"] {
            assert!(!version(old).has_all_servers_replication_states(), "{old}");
        }
    }
}

impl Version {
    /// The version written with at least three parts (`7.4` is `7.4.0`),
    /// as a message shows it.
    pub fn full(&self) -> String {
        let mut text = self.to_string();
        if !self.is_unknown() {
            for _ in self.0.len()..3 {
                text.push_str(".0");
            }
        }
        text
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unknown() {
            return f.write_str("unknown");
        }
        for (index, part) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "unknown" {
            return Ok(Version::unknown());
        }
        let parts: Result<Vec<u32>, _> = s.split('.').map(str::parse::<u32>).collect();
        match parts {
            Ok(parts) if !parts.is_empty() => Ok(Version(parts)),
            _ => Err(format!("`{s}` is not a version like 7.4.0")),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A product version, dot-separated numbers (`7.4.0`), or \
                `unknown` for a server nobody could read.",
            "type": "string",
            "pattern": "^([0-9]+(\\.[0-9]+)*|unknown)$",
        })
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    fn version(text: &str) -> Version {
        text.parse().expect("a version")
    }

    #[test]
    fn missing_trailing_parts_are_zeros() {
        assert_eq!(version("7.4"), version("7.4.0"));
        assert_eq!(version("7"), version("7.0.0"));
        assert!(version("7.4") < version("7.4.1"));
        assert!(version("7.10") > version("7.9.9"));
        assert_ne!(Version::unknown(), version("0"));
        assert!(Version::unknown() < version("0.1"));
        let mut set = std::collections::HashSet::new();
        set.insert(version("7.4"));
        assert!(set.contains(&version("7.4.0")));
        assert_eq!(version("7.4").to_string(), "7.4");
    }
}
