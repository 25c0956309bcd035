//! Paging through `/deals/stream` by following `links.next`.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use url::Url;

use super::error::AgendorError;
use super::lenient;
use super::model::{Deal, MalformedDeal};
use super::transport::{Transport, request_path};

/// The deals of a stream, read one page at a time.
///
/// Deal ids are deduplicated across pages: a deal seen on an earlier page is dropped.
pub struct DealPages {
    transport: Arc<Transport>,
    state: State,
    fetched_urls: HashSet<String>,
    seen_ids: HashSet<i64>,
    pages_read: usize,
    max_pages: usize,
}

impl fmt::Debug for DealPages {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DealPages")
            .field("pages_read", &self.pages_read)
            .field("max_pages", &self.max_pages)
            .field("deals_seen", &self.seen_ids.len())
            .finish_non_exhaustive()
    }
}

enum State {
    /// The next page to fetch. After a failed fetch it stays, so a new call retries it.
    Fetch(Url),
    /// The stream was read to the end.
    Done,
    /// The last page read had an unusable next link, so every later call returns this error.
    Failed(AgendorError),
}

impl DealPages {
    pub(crate) fn new(transport: Arc<Transport>, first_page: Url, max_pages: usize) -> Self {
        DealPages {
            transport,
            state: State::Fetch(first_page),
            fetched_urls: HashSet::new(),
            seen_ids: HashSet::new(),
            pages_read: 0,
            max_pages,
        }
    }

    /// Fetches the next page and returns its deals, each parsed on its own.
    ///
    /// Returns `Ok(None)` once the stream is read to the end: `links.next` absent,
    /// null, empty or already fetched, or an empty page. A page may yield an empty
    /// list when all its deals were repeats. After an error the stream is
    /// incomplete: calling again retries the failed page, or repeats a link error.
    pub async fn next_page(
        &mut self,
    ) -> Result<Option<Vec<Result<Deal, MalformedDeal>>>, AgendorError> {
        let url = match &self.state {
            State::Fetch(url) => url.clone(),
            State::Done => return Ok(None),
            State::Failed(error) => return Err(error.clone()),
        };
        if self.pages_read >= self.max_pages {
            return Err(AgendorError::TooManyPages {
                max: self.max_pages,
            });
        }

        let path = request_path(&url);
        let body = self.transport.get_json(&url).await?;
        let Some(items) = body.get("data").and_then(Value::as_array) else {
            return Err(AgendorError::MissingData { path });
        };

        self.pages_read += 1;
        self.fetched_urls.insert(url.to_string());
        tracing::debug!(path = %path, deals = items.len(), page = self.pages_read, "read Agendor deal page");

        if items.is_empty() {
            self.state = State::Done;
            return Ok(None);
        }

        self.state = match self.next_link(&body, &path) {
            Ok(Some(next)) => State::Fetch(next),
            Ok(None) => State::Done,
            Err(error) => State::Failed(error),
        };
        Ok(Some(self.new_deals(items)))
    }

    /// Returns the number of pages read so far.
    pub fn pages_read(&self) -> usize {
        self.pages_read
    }

    fn next_link(&self, body: &Value, path: &str) -> Result<Option<Url>, AgendorError> {
        let link = match body.get("links").and_then(|links| links.get("next")) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(link)) => link.trim(),
            Some(other) => {
                return Err(AgendorError::InvalidBody {
                    path: path.to_string(),
                    message: format!("`links.next` is not a URL: {}", lenient::quote(other)),
                });
            }
        };
        if link.is_empty() {
            return Ok(None);
        }

        let url = self
            .transport
            .resolve(link)
            .map_err(|error| AgendorError::InvalidBody {
                path: path.to_string(),
                message: format!("`links.next` `{link}` is not a valid URL: {error}"),
            })?;
        if !self.transport.is_same_origin(&url) {
            return Err(AgendorError::ForeignNextLink {
                link: link.to_string(),
            });
        }

        if self.fetched_urls.contains(url.as_str()) {
            tracing::warn!(
                path = %path,
                next = %request_path(&url),
                "Agendor repeated a page link already fetched; treating the stream as finished"
            );
            return Ok(None);
        }
        Ok(Some(url))
    }

    fn new_deals(&mut self, items: &[Value]) -> Vec<Result<Deal, MalformedDeal>> {
        let mut deals = Vec::with_capacity(items.len());

        for item in items {
            let deal = Deal::from_json(item);
            let id = match &deal {
                Ok(deal) => Some(deal.id),
                Err(malformed) => malformed.id,
            };

            if let Some(id) = id {
                if !self.seen_ids.insert(id) {
                    tracing::debug!(deal_id = id, "dropping Agendor deal repeated across pages");
                    continue;
                }
            }
            deals.push(deal);
        }
        deals
    }
}
