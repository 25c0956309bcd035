//! Authenticated, rate-limited and retried GET requests to the Agendor API.

use std::num::NonZeroU32;
use std::time::{Duration, Instant, SystemTime};

use backon::Retryable;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Response, redirect};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::{Host, Url};

use super::client::HttpSettings;
use super::error::AgendorError;
use super::retry::{RetryPolicy, parse_retry_after};

/// Characters of an error response body kept in [`AgendorError::Status`].
const MAX_BODY_CHARS: usize = 200;

/// Sends GET requests to one Agendor base URL with the API token.
pub(crate) struct Transport {
    http: reqwest::Client,
    /// Base URL whose path ends with `/`, so relative links resolve below it.
    base_url: Url,
    limiter: DefaultDirectRateLimiter,
    retry: RetryPolicy,
    timeout: Duration,
    /// Kept only to redact the token from response bodies quoted in errors.
    token: SecretString,
}

/// One failed attempt, with what the retry loop needs besides the error.
struct FailedAttempt {
    error: AgendorError,
    status: Option<u16>,
    retry_after: Option<Duration>,
}

impl Transport {
    pub(crate) fn new(settings: &HttpSettings, token: &SecretString) -> Result<Self, AgendorError> {
        let base_url = checked_base_url(&settings.base_url)?;
        let limiter = rate_limiter(settings.requests_per_second)?;
        let token = SecretString::from(token.expose_secret().trim());
        let http = http_client(settings, &token)?;

        Ok(Transport {
            http,
            base_url,
            limiter,
            retry: RetryPolicy {
                min_delay: settings.retry_min_delay,
                max_delay: settings.retry_max_delay.max(settings.retry_min_delay),
                max_retries: settings.max_retries,
            },
            timeout: settings.timeout,
            token,
        })
    }

    pub(crate) fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Builds `{base}/{segments...}?{query}`, percent-encoding each part.
    pub(crate) fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .expect("the base URL is http(s), which always has path segments")
            .pop_if_empty()
            .extend(segments);

        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Resolves an absolute or relative link against the base URL.
    pub(crate) fn resolve(&self, link: &str) -> Result<Url, url::ParseError> {
        self.base_url.join(link)
    }

    /// Tells whether `url` has the base URL's scheme, host and port.
    pub(crate) fn is_same_origin(&self, url: &Url) -> bool {
        url.origin() == self.base_url.origin()
    }

    /// Sends a GET to `url` and parses the JSON body, retrying transient failures.
    ///
    /// Every attempt, retries included, first waits for the rate limiter.
    pub(crate) async fn get_json(&self, url: &Url) -> Result<Value, AgendorError> {
        let path = request_path(url);

        let outcome = (|| self.attempt(url, &path))
            .retry(self.retry.backoff())
            .when(|failure: &FailedAttempt| failure.error.is_transient())
            .adjust(|failure, backoff| {
                backoff.map(|delay| self.retry.delay(delay, failure.retry_after))
            })
            .notify(|failure, delay| {
                tracing::warn!(
                    path = %path,
                    status = failure.status,
                    delay_ms = delay.as_millis() as u64,
                    error = %failure.error,
                    "retrying Agendor request"
                );
            })
            .await;

        outcome.map_err(|failure| failure.error)
    }

    async fn attempt(&self, url: &Url, path: &str) -> Result<Value, FailedAttempt> {
        self.limiter.until_ready().await;
        let started = Instant::now();

        let response = match self.http.get(url.clone()).send().await {
            Ok(response) => response,
            Err(error) => return Err(self.transport_failure(&error, path, started)),
        };

        let status = response.status();
        tracing::debug!(
            method = "GET",
            path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Agendor request"
        );
        if !status.is_success() {
            return Err(self.status_failure(response, path).await);
        }

        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Err(self.transport_failure(&error, path, started)),
        };

        serde_json::from_slice(&body).map_err(|error| FailedAttempt {
            error: AgendorError::InvalidBody {
                path: path.to_string(),
                message: format!("not JSON: {error}"),
            },
            status: Some(status.as_u16()),
            retry_after: None,
        })
    }

    fn transport_failure(
        &self,
        error: &reqwest::Error,
        path: &str,
        started: Instant,
    ) -> FailedAttempt {
        let message = describe_transport_error(error, self.timeout);
        tracing::debug!(
            method = "GET",
            path,
            elapsed_ms = started.elapsed().as_millis() as u64,
            error = %message,
            "Agendor request failed"
        );

        FailedAttempt {
            error: AgendorError::Transport {
                path: path.to_string(),
                message,
            },
            status: None,
            retry_after: None,
        }
    }

    /// Classifies an unsuccessful status without parsing the body as JSON, because
    /// error bodies (429 in particular) may be empty or plain text.
    async fn status_failure(&self, response: Response, path: &str) -> FailedAttempt {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));

        let error = match status {
            401 => AgendorError::Unauthorized { status },
            404 => AgendorError::NotFound {
                path: path.to_string(),
            },
            _ => AgendorError::Status {
                status,
                path: path.to_string(),
                body: self.body_excerpt(response).await,
            },
        };

        FailedAttempt {
            error,
            status: Some(status),
            retry_after,
        }
    }

    /// Returns the body on one line, with the token redacted, cut to [`MAX_BODY_CHARS`].
    async fn body_excerpt(&self, response: Response) -> String {
        let body = response.text().await.unwrap_or_default();
        let redacted = body.replace(self.token.expose_secret(), "[redacted]");
        let one_line = redacted.split_whitespace().collect::<Vec<_>>().join(" ");

        if one_line.is_empty() {
            return "(empty body)".to_string();
        }
        one_line.chars().take(MAX_BODY_CHARS).collect()
    }
}

/// Returns the path and query of `url`, which identify a request in logs and errors.
pub(crate) fn request_path(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

fn checked_base_url(base_url: &Url) -> Result<Url, AgendorError> {
    let invalid = |reason: &str| AgendorError::InvalidSettings {
        message: format!("base URL `{base_url}` {reason}"),
    };

    match base_url.scheme() {
        "https" => {}
        "http" if is_loopback(base_url) => {}
        "http" => return Err(invalid("uses plain http on a non-loopback host: use https")),
        _ => return Err(invalid("is not an http(s) URL")),
    }

    let mut url = base_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn rate_limiter(requests_per_second: f64) -> Result<DefaultDirectRateLimiter, AgendorError> {
    let period = (requests_per_second.is_finite() && requests_per_second > 0.0)
        .then(|| Duration::try_from_secs_f64(1.0 / requests_per_second).ok())
        .flatten();
    let quota =
        period
            .and_then(Quota::with_period)
            .ok_or_else(|| AgendorError::InvalidSettings {
                message: format!(
                    "requests per second must be a positive number, got {requests_per_second}"
                ),
            })?;

    Ok(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN)))
}

fn http_client(
    settings: &HttpSettings,
    token: &SecretString,
) -> Result<reqwest::Client, AgendorError> {
    if token.expose_secret().is_empty() {
        return Err(AgendorError::InvalidToken);
    }
    let mut authorization = HeaderValue::from_str(&format!("Token {}", token.expose_secret()))
        .map_err(|_| AgendorError::InvalidToken)?;
    authorization.set_sensitive(true);

    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));

    // Redirects are not followed: a redirect elsewhere would carry the token away.
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(settings.timeout)
        .redirect(redirect::Policy::none())
        .user_agent(concat!("agendor-sync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| AgendorError::InvalidSettings {
            message: format!("cannot build the HTTP client: {error}"),
        })
}

/// Describes a reqwest error by its cause chain, without the URL or any header.
fn describe_transport_error(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs_f64());
    }

    let mut message = if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL is valid")
    }

    #[test]
    fn base_url_checks() {
        let cases = [
            (
                "https://api.agendor.com.br/v3",
                Some("https://api.agendor.com.br/v3/"),
            ),
            (
                "https://api.agendor.com.br/v3/?x=1#f",
                Some("https://api.agendor.com.br/v3/"),
            ),
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080/")),
            (
                "http://localhost:8080/v3",
                Some("http://localhost:8080/v3/"),
            ),
            ("http://[::1]:8080", Some("http://[::1]:8080/")),
            ("http://api.agendor.com.br/v3", None),
            ("ftp://127.0.0.1/", None),
        ];

        for (input, expected) in cases {
            let checked = checked_base_url(&url(input)).ok().map(String::from);
            assert_eq!(checked.as_deref(), expected, "input {input}");
        }
    }

    #[test]
    fn rate_limiter_rejects_non_positive_rates() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(rate_limiter(rate).is_err(), "rate {rate}");
        }
        assert!(rate_limiter(2.0).is_ok());
    }

    #[test]
    fn request_path_keeps_query() {
        assert_eq!(
            request_path(&url("https://h/v3/deals/1?withCustomFields=true")),
            "/v3/deals/1?withCustomFields=true"
        );
        assert_eq!(request_path(&url("https://h/v3/users/me")), "/v3/users/me");
    }
}
