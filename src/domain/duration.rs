//! Durations as runbooks, the command line and the inventory write them:
//! one or more amounts with a unit, largest first — `500ms`, `90s`, `5m`,
//! `2h`, `1d`, `1h30m`, `1m30s`. One parser and one formatter, so that
//! `1h30m` means the same everywhere and a duration shown can be written
//! back.

use std::time::Duration;

/// The units, in milliseconds, as written.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("ms", 1),
    ("m", 60_000),
    ("s", 1_000),
];

/// What a duration looks like, for messages.
pub const EXAMPLES: &str = "500ms, 30s, 5m, 2h or 1h30m";

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not amounts with units.
    Malformed,
    /// Too long to count in milliseconds.
    TooLong,
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::Malformed => write!(f, "not a duration like {EXAMPLES}"),
            DurationError::TooLong => f.write_str("a duration too long to count"),
        }
    }
}

/// Parses `500ms`, `30s`, `5m`, `2h`, `1d` and their sums written largest
/// first (`1h30m`, `1m30s`).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(DurationError::Malformed);
    }
    let mut millis: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Malformed);
        }
        let amount: u64 = rest[..digits].parse().map_err(|_| DurationError::TooLong)?;
        rest = &rest[digits..];
        let (unit, per_unit) = UNITS
            .iter()
            .find(|(unit, _)| {
                rest.starts_with(unit)
                    && !rest[unit.len()..].starts_with(|c: char| c.is_ascii_alphabetic())
            })
            .ok_or(DurationError::Malformed)?;
        rest = &rest[unit.len()..];
        millis = amount
            .checked_mul(*per_unit)
            .and_then(|part| millis.checked_add(part))
            .ok_or(DurationError::TooLong)?;
    }
    Ok(Duration::from_millis(millis))
}

/// A duration as it is written back: `1h30m`, `1m30s`, `500ms`, `1s500ms`,
/// `0s`.
pub fn format(duration: Duration) -> String {
    let mut millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return String::from("0s");
    }
    let mut text = String::new();
    for (unit, per_unit) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        let amount = millis / per_unit;
        if amount > 0 {
            text.push_str(&format!("{amount}{unit}"));
            millis %= per_unit;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_for_simple_and_compound_durations() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1s500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("10min"), Err(DurationError::Malformed));
        assert_eq!(parse("h"), Err(DurationError::Malformed));
        assert_eq!(parse(""), Err(DurationError::Malformed));
        assert_eq!(parse("99999999999999999999s"), Err(DurationError::TooLong));
        assert_eq!(parse("18446744073709551615d"), Err(DurationError::TooLong));
    }

    #[test]
    fn what_is_shown_parses_back() {
        for millis in [
            1, 500, 1000, 1500, 90_000, 5_400_000, 86_400_000, 90_061_001,
        ] {
            let duration = Duration::from_millis(millis);
            assert_eq!(
                parse(&format(duration)),
                Ok(duration),
                "{}",
                format(duration)
            );
        }
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
