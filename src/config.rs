//! Configuration: a TOML file, overridden by environment variables, overridden by flags.
//!
//! Every key is documented in `config.example.toml`. Unknown keys and invalid values are
//! errors that name the key (or the environment variable) they came from.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::agendor::HttpSettings;

pub const DEFAULT_API_URL: &str = "https://api.agendor.com.br/v3";
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::America::Sao_Paulo;

/// Values given on the command line, which win over the environment and the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_path: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// Everything a run needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub timezone: Tz,
    pub http: HttpSettings,
    /// Replaces every company's token (`AGENDOR_TOKEN`): for a single-company setup or a test.
    pub token_override: Option<SecretString>,
    pub custom_fields: CustomFieldKeys,
    /// Days during which a failed deal is fetched again by id and retried; 0 disables it.
    pub retry_failed_days: u32,
}

/// Keys of the Agendor custom fields the sync reads; accounts name their fields differently.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CustomFieldKeys {
    pub hospital: String,
    pub convenio: String,
    pub paciente: String,
    pub medico: String,
    pub grade_da_cirurgia: String,
    pub procedimento_cirurgico: String,
    pub vendedor: String,
    /// Organization custom field holding the state registration.
    pub inscricao_estadual: String,
}

impl Default for CustomFieldKeys {
    fn default() -> Self {
        Self {
            hospital: "hospital".into(),
            convenio: "convenio".into(),
            paciente: "paciente".into(),
            medico: "medico".into(),
            grade_da_cirurgia: "grade_da_cirurgia".into(),
            procedimento_cirurgico: "procedimento_cirurgico".into(),
            vendedor: "vendedor".into(),
            inscricao_estadual: "inscricao_estadual".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("missing {key}: {hint}")]
    Missing { key: String, hint: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    agendor: FileAgendor,
    #[serde(default)]
    custom_fields: CustomFieldKeys,
    #[serde(default)]
    sync: FileSync,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    retry_failed_days: Option<u32>,
}

/// Default number of days a failed deal is retried.
pub const DEFAULT_RETRY_FAILED_DAYS: u32 = 7;
/// Maximum retry window. Ten years is far beyond any use and keeps dates in range.
const MAX_RETRY_FAILED_DAYS: u32 = 3_650;
/// Bounds of the request timeout, in seconds.
const MIN_TIMEOUT_SECONDS: f64 = 0.1;
const MAX_TIMEOUT_SECONDS: f64 = 600.0;
/// Highest accepted rate. Agendor allows about 4 requests per second per token; higher
/// values serve only fake servers in tests and benchmarks.
const MAX_REQUESTS_PER_SECOND: f64 = 1_000.0;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAgendor {
    api_url: Option<String>,
    token: Option<String>,
    requests_per_second: Option<f64>,
    timeout_seconds: Option<f64>,
    max_retries: Option<usize>,
    retry_min_delay_ms: Option<u64>,
    retry_max_delay_ms: Option<u64>,
    max_pages: Option<usize>,
}

impl Settings {
    /// Loads the settings from the file named by the flag or `AGENDOR_SYNC_CONFIG` (if
    /// any), the process environment and the flags.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let config_path = overrides.config_path.clone().or_else(|| {
            std::env::var_os("AGENDOR_SYNC_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let file = match &config_path {
            Some(path) => Some((path.as_path(), read_file(path)?)),
            None => None,
        };
        let file_text = file.as_ref().map(|(path, text)| (*path, text.as_str()));
        Self::from_sources(file_text, |name| std::env::var(name).ok(), overrides)
    }

    /// Builds the settings from a file's text, an environment lookup and the flags.
    pub fn from_sources(
        file: Option<(&Path, &str)>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let file = match file {
            Some((path, text)) => {
                toml::from_str::<FileConfig>(text).map_err(|error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: error.message().to_owned() + &location(text, error.span()),
                })?
            }
            None => FileConfig::default(),
        };
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());

        let database_url = database_url(&file, &env, overrides)?;
        let timezone = timezone(&file, &env)?;
        let http = http_settings(&file.agendor, &env)?;
        let token_override = match env("AGENDOR_TOKEN") {
            Some(token) => Some(SecretString::from(token.trim().to_owned())),
            None => file
                .agendor
                .token
                .filter(|token| !token.trim().is_empty())
                .map(|token| SecretString::from(token.trim().to_owned())),
        };
        validate_custom_field_keys(&file.custom_fields)?;
        let retry_failed_days = file
            .sync
            .retry_failed_days
            .unwrap_or(DEFAULT_RETRY_FAILED_DAYS);
        if retry_failed_days > MAX_RETRY_FAILED_DAYS {
            return Err(ConfigError::Invalid {
                key: "sync.retry_failed_days".into(),
                reason: format!("{retry_failed_days} is more than {MAX_RETRY_FAILED_DAYS} days"),
            });
        }

        Ok(Settings {
            database_url,
            timezone,
            http,
            token_override,
            custom_fields: file.custom_fields,
            retry_failed_days,
        })
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Formats the line and column of a TOML error.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    // The line itself shows the key, which the parser's message leaves out for a value
    // of the wrong type.
    let content = text.lines().nth(line - 1).unwrap_or_default().trim();
    format!(" (line {line}, column {column}: `{content}`)")
}

fn database_url(
    file: &FileConfig,
    env: &impl Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<SecretString, ConfigError> {
    let (raw, key) = match (
        &overrides.database_url,
        env("DATABASE_URL"),
        &file.database_url,
    ) {
        (Some(url), _, _) => (url.clone(), "--database-url"),
        (None, Some(url), _) => (url, "DATABASE_URL"),
        (None, None, Some(url)) => (url.clone(), "database_url"),
        (None, None, None) => {
            return Err(ConfigError::Missing {
                key: "database URL".into(),
                hint: "set DATABASE_URL, pass --database-url or set database_url in the \
                       configuration file"
                    .into(),
            });
        }
    };

    // The URL may carry a password, so the message never repeats it.
    let url = Url::parse(raw.trim()).map_err(|error| ConfigError::Invalid {
        key: key.into(),
        reason: format!("not a URL ({error}); expected postgres://user@host:5432/database"),
    })?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!(
                "scheme `{}` is not supported; expected postgres://user@host:5432/database",
                url.scheme()
            ),
        });
    }
    Ok(SecretString::from(raw.trim().to_owned()))
}

fn timezone(file: &FileConfig, env: &impl Fn(&str) -> Option<String>) -> Result<Tz, ConfigError> {
    let (raw, key) = match (env("AGENDOR_SYNC_TIMEZONE"), &file.timezone) {
        (Some(name), _) => (name, "AGENDOR_SYNC_TIMEZONE"),
        (None, Some(name)) => (name.clone(), "timezone"),
        (None, None) => return Ok(DEFAULT_TIMEZONE),
    };
    raw.trim().parse::<Tz>().map_err(|_| ConfigError::Invalid {
        key: key.into(),
        reason: format!("`{raw}` is not an IANA time zone name such as America/Sao_Paulo"),
    })
}

fn http_settings(
    file: &FileAgendor,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<HttpSettings, ConfigError> {
    let (api_url, api_url_key) = match (env("AGENDOR_API_URL"), &file.api_url) {
        (Some(url), _) => (url, "AGENDOR_API_URL"),
        (None, Some(url)) => (url.clone(), "agendor.api_url"),
        (None, None) => (DEFAULT_API_URL.to_owned(), "agendor.api_url"),
    };
    let base_url = parse_api_url(&api_url, api_url_key)?;

    let requests_per_second = match env("AGENDOR_REQUESTS_PER_SECOND") {
        Some(raw) => parse_rate(&raw, "AGENDOR_REQUESTS_PER_SECOND")?,
        None => check_rate(
            file.requests_per_second.unwrap_or(2.0),
            "agendor.requests_per_second",
        )?,
    };
    let timeout_seconds = file.timeout_seconds.unwrap_or(30.0);
    if !(MIN_TIMEOUT_SECONDS..=MAX_TIMEOUT_SECONDS).contains(&timeout_seconds) {
        return Err(ConfigError::Invalid {
            key: "agendor.timeout_seconds".into(),
            reason: format!(
                "{timeout_seconds} is outside {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS} \
                 seconds"
            ),
        });
    }
    let retry_min_delay = Duration::from_millis(file.retry_min_delay_ms.unwrap_or(1_000));
    let retry_max_delay = Duration::from_millis(file.retry_max_delay_ms.unwrap_or(30_000));
    if retry_min_delay > retry_max_delay {
        return Err(ConfigError::Invalid {
            key: "agendor.retry_min_delay_ms".into(),
            reason: "it is greater than agendor.retry_max_delay_ms".into(),
        });
    }
    let max_pages = file.max_pages.unwrap_or(1_000);
    if max_pages == 0 {
        return Err(ConfigError::Invalid {
            key: "agendor.max_pages".into(),
            reason: "it must be at least 1".into(),
        });
    }

    Ok(HttpSettings {
        base_url,
        requests_per_second,
        timeout: Duration::from_secs_f64(timeout_seconds),
        max_retries: file.max_retries.unwrap_or(5),
        retry_min_delay,
        retry_max_delay,
        max_pages,
    })
}

/// Parses the Agendor base URL; plain `http` is accepted only for loopback hosts, so the
/// token never crosses a network unencrypted.
pub fn parse_api_url(raw: &str, key: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: key.into(),
        reason,
    };
    let url = Url::parse(raw.trim())
        .map_err(|error| invalid(format!("`{raw}` is not a URL ({error})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid(format!(
            "`{raw}` uses plain http to a host that is not loopback; use https"
        ))),
        other => Err(invalid(format!(
            "scheme `{other}` is not supported; use https://api.agendor.com.br/v3"
        ))),
    }
}

fn parse_rate(raw: &str, key: &str) -> Result<f64, ConfigError> {
    let rate = raw
        .trim()
        .parse::<f64>()
        .map_err(|_| ConfigError::Invalid {
            key: key.into(),
            reason: format!("`{raw}` is not a number of requests per second such as 2 or 0.5"),
        })?;
    check_rate(rate, key)
}

fn check_rate(rate: f64, key: &str) -> Result<f64, ConfigError> {
    if rate > 0.0 && rate <= MAX_REQUESTS_PER_SECOND {
        Ok(rate)
    } else {
        Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!(
                "{rate} must be a number of requests per second above 0 and at most \
                 {MAX_REQUESTS_PER_SECOND}"
            ),
        })
    }
}

fn validate_custom_field_keys(keys: &CustomFieldKeys) -> Result<(), ConfigError> {
    let entries = [
        ("hospital", &keys.hospital),
        ("convenio", &keys.convenio),
        ("paciente", &keys.paciente),
        ("medico", &keys.medico),
        ("grade_da_cirurgia", &keys.grade_da_cirurgia),
        ("procedimento_cirurgico", &keys.procedimento_cirurgico),
        ("vendedor", &keys.vendedor),
        ("inscricao_estadual", &keys.inscricao_estadual),
    ];
    match entries.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((name, _)) => Err(ConfigError::Invalid {
            key: format!("custom_fields.{name}"),
            reason: "the custom field key is empty".into(),
        }),
        None => Ok(()),
    }
}

/// The lower bound of the deals to fetch, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    /// A date and time without an offset, read in the configured time zone.
    LocalDateTime(NaiveDateTime),
}

/// Parses `--since`: `YYYY-MM-DD`, an RFC 3339 instant or `YYYY-MM-DDTHH:MM[:SS]`.
pub fn parse_since(raw: &str) -> Result<Since, String> {
    let since = parse_since_value(raw.trim())?;
    let year = match since {
        Since::Date(date) => date.year(),
        Since::Instant(instant) => instant.year(),
        Since::LocalDateTime(local) => local.year(),
    };
    if (2000..=9999).contains(&year) {
        Ok(since)
    } else {
        Err(format!("`{raw}` is outside the years 2000 to 9999"))
    }
}

fn parse_since_value(raw: &str) -> Result<Since, String> {
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(Since::Date(date));
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Since::Instant(instant.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(Since::LocalDateTime(local));
        }
    }
    Err(format!(
        "`{raw}` is not a date (2025-01-10) or a date and time (2025-01-10T08:00:00-03:00)"
    ))
}

impl Since {
    /// Returns the instant sent to Agendor. A date means its midnight in UTC, which is how
    /// the stream's `since` parameter is written, or its local midnight when that is
    /// earlier (time zones east of UTC), so no deal updated that local day is missed.
    pub fn to_instant(self, timezone: Tz) -> DateTime<Utc> {
        match self {
            Since::Date(date) => {
                let utc_midnight = date.and_time(chrono::NaiveTime::MIN).and_utc();
                let local_midnight = local_to_utc(date.and_time(chrono::NaiveTime::MIN), timezone);
                utc_midnight.min(local_midnight)
            }
            Since::Instant(instant) => instant,
            Since::LocalDateTime(local) => local_to_utc(local, timezone),
        }
    }
}

/// Converts a local date and time to UTC. A time skipped by a daylight-saving change
/// moves forward by the size of the gap, as clocks did.
fn local_to_utc(local: NaiveDateTime, timezone: Tz) -> DateTime<Utc> {
    let mut candidate = local;
    for _ in 0..4 {
        if let Some(instant) = timezone.from_local_datetime(&candidate).earliest() {
            return instant.with_timezone(&Utc);
        }
        candidate += chrono::Duration::minutes(30);
    }
    local.and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let file = file.map(|text| (Path::new("test.toml"), text));
        Settings::from_sources(file, lookup, &Overrides::default())
    }

    const DB: (&str, &str) = ("DATABASE_URL", "postgres://sync:hunter2@db.example/v2");

    #[test]
    fn defaults_apply_without_a_file() {
        let settings = load(None, &[DB]).unwrap();

        assert_eq!(
            settings.http.base_url.as_str(),
            "https://api.agendor.com.br/v3"
        );
        assert_eq!(settings.http.requests_per_second, 2.0);
        assert_eq!(settings.timezone, chrono_tz::America::Sao_Paulo);
        assert_eq!(settings.custom_fields, CustomFieldKeys::default());
        assert!(settings.token_override.is_none());
    }

    #[test]
    fn example_file_is_valid_and_matches_the_defaults() {
        let example = include_str!("../config.example.toml");

        let settings = load(Some(example), &[DB]).unwrap();

        let defaults = load(None, &[DB]).unwrap();
        assert_eq!(settings.http.base_url, defaults.http.base_url);
        assert_eq!(
            settings.http.requests_per_second,
            defaults.http.requests_per_second
        );
        assert_eq!(settings.http.timeout, defaults.http.timeout);
        assert_eq!(settings.http.max_retries, defaults.http.max_retries);
        assert_eq!(settings.http.retry_min_delay, defaults.http.retry_min_delay);
        assert_eq!(settings.http.retry_max_delay, defaults.http.retry_max_delay);
        assert_eq!(settings.http.max_pages, defaults.http.max_pages);
        assert_eq!(settings.timezone, defaults.timezone);
        assert_eq!(settings.custom_fields, defaults.custom_fields);
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "[agendor]\nrequests_per_second = 1.5\napi_url = \"https://a.example/v3\"";
        let settings = load(
            Some(file),
            &[
                DB,
                ("AGENDOR_REQUESTS_PER_SECOND", "0.5"),
                ("AGENDOR_TOKEN", "tok"),
            ],
        )
        .unwrap();

        assert_eq!(settings.http.requests_per_second, 0.5);
        assert_eq!(settings.http.base_url.as_str(), "https://a.example/v3");
        assert_eq!(settings.token_override.unwrap().expose_secret(), "tok");
    }

    #[test]
    fn flag_overrides_the_environment() {
        let overrides = Overrides {
            database_url: Some("postgres://flag@localhost/v2".into()),
            ..Overrides::default()
        };
        let settings = Settings::from_sources(
            None,
            |name| (name == "DATABASE_URL").then(|| "postgres://env@localhost/v2".into()),
            &overrides,
        )
        .unwrap();

        assert_eq!(
            settings.database_url.expose_secret(),
            "postgres://flag@localhost/v2"
        );
    }

    #[test]
    fn unknown_key_is_named() {
        let error = load(Some("[agendor]\nrate = 3\n"), &[DB]).unwrap_err();

        assert!(
            error.to_string().contains("unknown field `rate`"),
            "{error}"
        );
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases = [
            (Some("timezone = \"Mars/Olympus\""), vec![DB], "timezone"),
            (
                None,
                vec![DB, ("AGENDOR_REQUESTS_PER_SECOND", "fast")],
                "AGENDOR_REQUESTS_PER_SECOND",
            ),
            (
                Some("[agendor]\nrequests_per_second = 0"),
                vec![DB],
                "agendor.requests_per_second",
            ),
            (
                None,
                vec![DB, ("AGENDOR_API_URL", "http://api.agendor.com.br/v3")],
                "AGENDOR_API_URL",
            ),
            (
                Some("[agendor]\nmax_pages = 0"),
                vec![DB],
                "agendor.max_pages",
            ),
            (
                Some("[agendor]\nrequests_per_second = 1e12"),
                vec![DB],
                "agendor.requests_per_second",
            ),
            (
                Some("[agendor]\ntimeout_seconds = 1e-12"),
                vec![DB],
                "agendor.timeout_seconds",
            ),
            (
                Some("[sync]\nretry_failed_days = 100000000"),
                vec![DB],
                "sync.retry_failed_days",
            ),
            (
                Some("[agendor]\nrequests_per_second = \"fast\""),
                vec![DB],
                "requests_per_second",
            ),
            (
                Some("[custom_fields]\nhospital = \" \""),
                vec![DB],
                "custom_fields.hospital",
            ),
            (
                None,
                vec![("DATABASE_URL", "mysql://x@y/z")],
                "DATABASE_URL",
            ),
        ];
        for (file, env, key) in cases {
            let error = load(file, &env).unwrap_err().to_string();
            assert!(error.contains(key), "{key}: {error}");
        }
    }

    #[test]
    fn missing_database_url_says_how_to_set_it() {
        let error = load(None, &[]).unwrap_err().to_string();

        assert!(error.contains("DATABASE_URL"), "{error}");
    }

    #[test]
    fn invalid_database_url_hides_the_password() {
        let error = load(None, &[("DATABASE_URL", "mysql://u:hunter2@h/d")])
            .unwrap_err()
            .to_string();

        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn plain_http_is_accepted_for_loopback_only() {
        for url in [
            "http://127.0.0.1:8080/v3",
            "http://localhost/v3",
            "http://[::1]/v3",
        ] {
            assert!(parse_api_url(url, "k").is_ok(), "{url}");
        }
        for url in [
            "http://10.0.0.1/v3",
            "http://api.agendor.com.br/v3",
            "ftp://x/v3",
        ] {
            assert!(parse_api_url(url, "k").is_err(), "{url}");
        }
    }

    #[test]
    fn since_date_never_starts_after_local_midnight() {
        let cases = [
            (chrono_tz::America::Sao_Paulo, "2026-12-03T00:00:00Z"),
            (chrono_tz::Asia::Tokyo, "2026-12-02T15:00:00Z"),
            (chrono_tz::UTC, "2026-12-03T00:00:00Z"),
        ];
        for (timezone, expected) in cases {
            let instant = parse_since("2026-12-03").unwrap().to_instant(timezone);
            assert_eq!(
                instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                expected,
                "{timezone}"
            );
        }
    }

    #[test]
    fn since_in_a_daylight_saving_gap_moves_forward() {
        // São Paulo skipped from 00:00 to 01:00 on 2018-11-04 (UTC-3 to UTC-2).
        let since = parse_since("2018-11-04T00:30").unwrap();

        let instant = since.to_instant(chrono_tz::America::Sao_Paulo);

        assert_eq!(
            instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "2018-11-04T03:00:00Z"
        );
    }

    #[test]
    fn since_accepts_dates_and_instants() {
        let tz = chrono_tz::America::Sao_Paulo;
        let cases = [
            ("2025-01-10", "2025-01-10T00:00:00Z"),
            ("2025-01-10T08:00:00Z", "2025-01-10T08:00:00Z"),
            ("2025-01-10T08:00:00-03:00", "2025-01-10T11:00:00Z"),
            ("2025-01-10T08:00", "2025-01-10T11:00:00Z"),
        ];
        for (raw, expected) in cases {
            let instant = parse_since(raw).unwrap().to_instant(tz);
            assert_eq!(
                instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                expected
            );
        }
        assert!(parse_since("10/01/2025").is_err());
        assert!(parse_since("-5000-01-01").is_err());
        assert!(parse_since("1969-12-31").is_err());
    }
}
