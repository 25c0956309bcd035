//! The default lower bound of a run, with the catch-up of missed nights.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// Returns yesterday in `timezone`, or the local date on which the last completed run
/// started when that is earlier, so a night the job did not run, or failed, is caught up.
pub fn default_since(
    now: DateTime<Utc>,
    timezone: Tz,
    last_completed_start: Option<DateTime<Utc>>,
) -> NaiveDate {
    let today = now.with_timezone(&timezone).date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    match last_completed_start {
        Some(start) => yesterday.min(start.with_timezone(&timezone).date_naive()),
        None => yesterday,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
    }

    #[test]
    fn default_since_takes_earlier_date() {
        let tz = chrono_tz::America::Sao_Paulo;
        let now = instant("2026-12-04T05:00:00Z");
        let cases = [
            (None, "2026-12-03"),
            (Some("2026-12-03T05:00:00Z"), "2026-12-03"),
            (Some("2026-12-04T04:00:00Z"), "2026-12-03"),
            (Some("2026-12-01T05:00:00Z"), "2026-12-01"),
            (Some("2026-12-02T01:00:00Z"), "2026-12-01"),
        ];
        for (last, expected) in cases {
            let since = default_since(now, tz, last.map(instant));
            assert_eq!(since.to_string(), expected, "last completed start {last:?}");
        }
    }

    #[test]
    fn yesterday_is_taken_in_the_configured_time_zone() {
        // 01:00 UTC on the 4th is still the 3rd in São Paulo.
        let now = instant("2026-12-04T01:00:00Z");

        let since = default_since(now, chrono_tz::America::Sao_Paulo, None);

        assert_eq!(since.to_string(), "2026-12-02");
    }
}
