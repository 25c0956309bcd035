//! Typed Agendor API client: deals, customers, products and lookups.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use super::lenient;
use super::model::{Deal, MalformedDeal, Organization, Person, WON_STATUS_ID};
use super::transport::{Transport, request_path};

pub use super::error::AgendorError;
pub use super::pages::DealPages;

/// Agendor's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.agendor.com.br/v3";

/// Deals per stream page. Integrators report 100 as the largest page the API allows.
const PAGE_SIZE: &str = "100";

/// Keys under which a custom field definition carries its key.
const CUSTOM_FIELD_KEY_NAMES: [&str; 3] = ["key", "identifier", "slug"];

/// HTTP behaviour of an [`AgendorClient`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// API base URL. Plain `http` is accepted only for loopback hosts.
    pub base_url: Url,
    /// Client-side rate limit, shared by all requests of one client, retries included.
    pub requests_per_second: f64,
    /// Timeout of each request attempt, body included.
    pub timeout: Duration,
    /// Retries after the first attempt of a request that failed transiently.
    pub max_retries: usize,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Pages of the deal stream read before failing with [`AgendorError::TooManyPages`].
    pub max_pages: usize,
}

impl Default for HttpSettings {
    /// Production URL, 2 requests per second, 15 s timeout, 5 retries between 1 s and
    /// 30 s, and 1,000 pages (100,000 deals).
    fn default() -> Self {
        HttpSettings {
            base_url: Url::parse(DEFAULT_BASE_URL).expect("the default base URL is valid"),
            requests_per_second: 2.0,
            timeout: Duration::from_secs(15),
            max_retries: 5,
            retry_min_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(30),
            max_pages: 1000,
        }
    }
}

/// Agendor API client for one token. Clones share the connection pool, the rate
/// limiter and the caches.
#[derive(Clone)]
pub struct AgendorClient {
    transport: Arc<Transport>,
    max_pages: usize,
    organizations: Arc<Cache<Arc<Organization>>>,
    people: Arc<Cache<Arc<Person>>>,
    product_codes: Arc<Cache<Option<String>>>,
}

impl fmt::Debug for AgendorClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AgendorClient")
            .field("base_url", &self.transport.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl AgendorClient {
    /// Creates a client, or fails on an invalid token, base URL, rate or page limit.
    pub fn new(settings: &HttpSettings, token: &SecretString) -> Result<Self, AgendorError> {
        if settings.max_pages == 0 {
            return Err(AgendorError::InvalidSettings {
                message: "the page limit must be at least 1".to_string(),
            });
        }

        Ok(AgendorClient {
            transport: Arc::new(Transport::new(settings, token)?),
            max_pages: settings.max_pages,
            organizations: Arc::default(),
            people: Arc::default(),
            product_codes: Arc::default(),
        })
    }

    /// Streams the won deals updated since `since` (the stream filters on last update).
    ///
    /// Agendor silently ignores unknown filters, so callers must still check
    /// [`Deal::is_won`] on every deal.
    pub fn won_deals_since(&self, since: DateTime<Utc>) -> DealPages {
        let since = since.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let status = WON_STATUS_ID.to_string();
        let url = self.transport.endpoint(
            &["deals", "stream"],
            &[
                ("dealStatus", status.as_str()),
                ("since", since.as_str()),
                ("withCustomFields", "true"),
                ("per_page", PAGE_SIZE),
            ],
        );

        DealPages::new(Arc::clone(&self.transport), url, self.max_pages)
    }

    /// Fetches one deal. A deal that cannot be read is the inner `Err`.
    pub async fn deal(&self, id: i64) -> Result<Result<Deal, MalformedDeal>, AgendorError> {
        let id_text = id.to_string();
        let url = self
            .transport
            .endpoint(&["deals", &id_text], &[("withCustomFields", "true")]);
        let data = self.get_data(&url).await?;

        Ok(Deal::from_json(&data).and_then(|deal| check_deal_id(deal, id)))
    }

    /// Fetches an organization with its custom fields, once per id for the client's life.
    pub async fn organization(&self, id: i64) -> Result<Arc<Organization>, AgendorError> {
        self.organizations
            .get_or_fetch(id, || async move {
                let id_text = id.to_string();
                let url = self.transport.endpoint(
                    &["organizations", &id_text],
                    &[("withCustomFields", "true")],
                );
                let data = self.get_data(&url).await?;

                Organization::from_json(&data)
                    .map(Arc::new)
                    .map_err(|message| invalid_body(&url, message))
            })
            .await
    }

    /// Fetches a person with their custom fields, once per id for the client's life.
    pub async fn person(&self, id: i64) -> Result<Arc<Person>, AgendorError> {
        self.people
            .get_or_fetch(id, || async move {
                let id_text = id.to_string();
                let url = self
                    .transport
                    .endpoint(&["people", &id_text], &[("withCustomFields", "true")]);
                let data = self.get_data(&url).await?;

                Person::from_json(&data)
                    .map(Arc::new)
                    .map_err(|message| invalid_body(&url, message))
            })
            .await
    }

    /// Fetches a catalogue product's `code`, once per id for the client's life.
    pub async fn product_code(&self, id: i64) -> Result<Option<String>, AgendorError> {
        self.product_codes
            .get_or_fetch(id, || async move {
                let id_text = id.to_string();
                let url = self.transport.endpoint(&["products", &id_text], &[]);
                let data = self.get_data(&url).await?;

                Ok(lenient::text(data.get("code")))
            })
            .await
    }

    /// Fetches the token's user, which proves the token works.
    ///
    /// Returns the `data` member, or the whole body when there is none.
    pub async fn current_user(&self) -> Result<Value, AgendorError> {
        let url = self.transport.endpoint(&["users", "me"], &[]);
        let mut body = self.transport.get_json(&url).await?;

        Ok(match body.get_mut("data") {
            Some(data) => data.take(),
            None => body,
        })
    }

    /// Lists the keys of the account's deal custom fields, read from `key`,
    /// `identifier` or `slug` of each definition.
    ///
    /// NOTE: reads one page of up to 100 definitions and does not follow `links.next`.
    pub async fn deal_custom_field_keys(&self) -> Result<Vec<String>, AgendorError> {
        let url = self
            .transport
            .endpoint(&["custom_fields", "deals"], &[("per_page", PAGE_SIZE)]);
        let data = self.get_data(&url).await?;
        let Some(definitions) = data.as_array() else {
            return Err(invalid_body(&url, "`data` is not an array".to_string()));
        };

        Ok(definitions
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|definition| {
                lenient::text(lenient::field(definition, &CUSTOM_FIELD_KEY_NAMES))
            })
            .collect())
    }

    /// Fetches `url` and returns the `data` member of the body.
    async fn get_data(&self, url: &Url) -> Result<Value, AgendorError> {
        let mut body = self.transport.get_json(url).await?;

        match body.get_mut("data") {
            Some(data) if !data.is_null() => Ok(data.take()),
            _ => Err(AgendorError::MissingData {
                path: request_path(url),
            }),
        }
    }
}

fn check_deal_id(deal: Deal, requested: i64) -> Result<Deal, MalformedDeal> {
    if deal.id == requested {
        return Ok(deal);
    }

    Err(MalformedDeal {
        id: Some(requested),
        reason: format!(
            "Agendor returned deal {} when deal {requested} was requested",
            deal.id
        ),
    })
}

fn invalid_body(url: &Url, message: String) -> AgendorError {
    AgendorError::InvalidBody {
        path: request_path(url),
        message,
    }
}

/// Values fetched once per id. Concurrent requests for one id share a single fetch,
/// and a failed fetch is not cached.
struct Cache<T> {
    cells: Mutex<HashMap<i64, Arc<OnceCell<T>>>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Cache<T> {
    async fn get_or_fetch<F, Fut>(&self, id: i64, fetch: F) -> Result<T, AgendorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AgendorError>>,
    {
        let cell = {
            let mut cells = self
                .cells
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cells.entry(id).or_default())
        };

        cell.get_or_try_init(fetch).await.cloned()
    }
}
