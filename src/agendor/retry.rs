//! Retry timing: exponential backoff with jitter, and the `Retry-After` header.

use std::time::{Duration, SystemTime};

use backon::ExponentialBuilder;

/// When and how long to wait before retrying a transient failure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_retries: usize,
}

impl RetryPolicy {
    /// Builds the backoff: delays double from `min_delay`, each plus up to 100 % jitter.
    pub(crate) fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
    }

    /// Returns the delay to sleep: at least the server's `Retry-After`, at most `max_delay`.
    ///
    /// The cap also applies to the backoff's jitter, which can otherwise double the delay.
    pub(crate) fn delay(&self, backoff: Duration, retry_after: Option<Duration>) -> Duration {
        backoff
            .max(retry_after.unwrap_or_default())
            .min(self.max_delay)
    }
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date (0 once it has passed).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }

    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(5),
        max_retries: 3,
    };

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 04 Mar 2026 17:42:08 GMT").expect("valid date");
        let cases = [
            ("3", Some(Duration::from_secs(3))),
            (" 0 ", Some(Duration::ZERO)),
            (
                "Wed, 04 Mar 2026 17:42:10 GMT",
                Some(Duration::from_secs(2)),
            ),
            ("Wed, 04 Mar 2026 17:42:00 GMT", Some(Duration::ZERO)),
            ("-1", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
        ];

        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "value {value:?}");
        }
    }

    #[test]
    fn delay_honours_retry_after_within_cap() {
        let cases = [
            (Duration::from_millis(150), None, Duration::from_millis(150)),
            (
                Duration::from_millis(150),
                Some(Duration::from_secs(2)),
                Duration::from_secs(2),
            ),
            (
                Duration::from_millis(150),
                Some(Duration::ZERO),
                Duration::from_millis(150),
            ),
            (
                Duration::from_millis(150),
                Some(Duration::from_secs(60)),
                Duration::from_secs(5),
            ),
            (Duration::from_secs(8), None, Duration::from_secs(5)),
        ];

        for (backoff, retry_after, expected) in cases {
            assert_eq!(
                POLICY.delay(backoff, retry_after),
                expected,
                "{backoff:?} {retry_after:?}"
            );
        }
    }
}
