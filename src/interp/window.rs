//! Maintenance windows (`run --window-ends TIME`): when the window ends,
//! on the wall clock and on the target's clock, and the verifier's worst
//! case of what is left from the start and from every step, computed once
//! when the run (or a resume) starts. A run that cannot fit is refused; one
//! that no longer fits stops resumably before the step.

use std::sync::Arc;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::journal::WindowRecord;
use super::program::Program;
use crate::check::verify::{self, VerifyOptions, WorstCases};

/// Parses `--window-ends`: an RFC 3339 time, `HH:MM` (local time, today, or
/// tomorrow when that time has passed), or a duration from now (`2h`,
/// `1h30m`).
pub fn parse_window_ends(
    text: &str,
    now: OffsetDateTime,
    local: Option<UtcOffset>,
) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    if let Some((hours, minutes)) = text.split_once(':') {
        let (Ok(hours), Ok(minutes)) = (hours.parse::<u8>(), minutes.parse::<u8>()) else {
            return Err(usage(text));
        };
        let time = time::Time::from_hms(hours, minutes, 0).map_err(|_| usage(text))?;
        let Some(offset) = local else {
            return Err(format!(
                "`{text}`: the local time zone is unknown here; give an RFC 3339 time (e.g. `2026-12-07T22:00:00+01:00`) or a duration (`2h`)"
            ));
        };
        let today = now.to_offset(offset).replace_time(time);
        return Ok(if today <= now {
            today + time::Duration::days(1)
        } else {
            today
        });
    }
    let duration = crate::domain::duration::parse(text).map_err(|_| usage(text))?;
    Ok(now + duration)
}

fn usage(text: &str) -> String {
    format!(
        "`{text}` is not a time: give an RFC 3339 time (`2026-12-07T22:00:00Z`), `HH:MM` (local time, today or tomorrow) or a duration from now (`2h`, `1h30m`)"
    )
}

/// A time as the journal writes it (RFC 3339, UTC, whole seconds).
pub fn rfc3339(time: OffsetDateTime) -> String {
    time.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(time)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A run's maintenance window, with the worst cases it is judged against.
#[derive(Debug, Clone)]
pub struct Window {
    /// When it ends (wall clock).
    pub ends: OffsetDateTime,
    /// When it ends on the target's clock.
    pub ends_clock: Duration,
    /// The verifier's worst case from the start and from every step.
    pub worst: Arc<WorstCases>,
}

impl Window {
    /// A window ending at `ends`, the target's clock reading `clock` now.
    pub fn ending(ends: OffsetDateTime, clock: Duration, worst: Arc<WorstCases>) -> Self {
        let left = left_until(ends, OffsetDateTime::now_utc());
        Self {
            ends,
            ends_clock: clock + left,
            worst,
        }
    }

    /// The window a journal recorded.
    pub fn journaled(record: &WindowRecord, worst: Arc<WorstCases>) -> Option<Self> {
        Some(Self {
            ends: OffsetDateTime::parse(&record.ends, &Rfc3339).ok()?,
            ends_clock: Duration::try_from_secs_f64(record.ends_clock_seconds).ok()?,
            worst,
        })
    }

    /// The time left when the target's clock reads `clock`.
    pub fn left(&self, clock: Duration) -> Duration {
        self.ends_clock.saturating_sub(clock)
    }

    /// What the journal records.
    pub fn record(&self) -> WindowRecord {
        WindowRecord {
            ends: rfc3339(self.ends),
            ends_clock_seconds: self.ends_clock.as_secs_f64(),
        }
    }
}

/// A time left, to the second.
pub fn format_left(left: Duration) -> String {
    crate::domain::duration::format(Duration::from_secs(left.as_secs()))
}

/// The time from `now` to `ends` (zero once it has passed).
pub fn left_until(ends: OffsetDateTime, now: OffsetDateTime) -> Duration {
    Duration::try_from(ends - now).unwrap_or(Duration::ZERO)
}

/// The verifier's worst cases of `program` on a cluster of `servers`
/// servers (every fault configuration `verify` explores by default).
pub fn worst_cases(program: &Program, servers: usize) -> WorstCases {
    let options = VerifyOptions {
        servers: servers.clamp(1, verify::MAX_SERVERS),
        check_replays: false,
        ..VerifyOptions::default()
    };
    verify::worst_cases(program, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_ends_parse_as_times_clock_times_and_durations() {
        let now = OffsetDateTime::parse("2026-12-07T20:30:00Z", &Rfc3339).unwrap();
        let utc = Some(UtcOffset::UTC);
        let at = |text| rfc3339(parse_window_ends(text, now, utc).unwrap());
        assert_eq!(at("2026-12-07T23:00:00+01:00"), "2026-12-07T22:00:00Z");
        assert_eq!(at("22:00"), "2026-12-07T22:00:00Z");
        assert_eq!(at("06:00"), "2026-12-08T06:00:00Z");
        assert_eq!(at("1h30m"), "2026-12-07T22:00:00Z");
        assert!(parse_window_ends("soon", now, utc).is_err());
        assert!(parse_window_ends("25:00", now, utc).is_err());
        assert!(parse_window_ends("22:00", now, None).is_err());
    }
}
