//! The deal feed: a background task that fetches deals while the writer processes
//! earlier ones.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::agendor::{AgendorClient, AgendorError, Deal, MalformedDeal};

/// Deals buffered between the fetching task and the writer, which bounds memory while the
/// two overlap.
pub const FEED_CAPACITY: usize = 200;

/// One deal handed from the fetching task to the writer.
pub struct FeedItem {
    pub entry: Result<Deal, MalformedDeal>,
    /// The deal failed in an earlier run and was fetched again by id.
    pub retry: bool,
    /// Agendor returned 404 for the deal, so later runs do not retry it.
    pub missing: bool,
}

impl FeedItem {
    /// Returns the deal's id, read even from a malformed deal when it has one.
    pub fn deal_id(&self) -> Option<i64> {
        entry_id(&self.entry)
    }
}

pub fn entry_id(entry: &Result<Deal, MalformedDeal>) -> Option<i64> {
    match entry {
        Ok(deal) => Some(deal.id),
        Err(malformed) => malformed.id,
    }
}

/// The result of the fetching task: whether it read the stream to the end, and the error
/// that stopped it, if any.
#[derive(Debug, Default)]
pub struct FetchOutcome {
    pub stream_completed: bool,
    pub error: Option<AgendorError>,
}

/// The deals a run fetches: the stream since a date, plus the failed deals to retry, or
/// only the deals named on the command line.
pub enum Selection {
    Stream {
        since: DateTime<Utc>,
        retry_ids: Vec<i64>,
    },
    Deals(Vec<i64>),
}

/// Fetches deals in the background, so that fetching and writing overlap.
pub fn spawn_fetcher(
    client: AgendorClient,
    selection: Selection,
    feed: mpsc::Sender<FeedItem>,
) -> JoinHandle<FetchOutcome> {
    tokio::spawn(
        async move {
            match selection {
                Selection::Stream { since, retry_ids } => {
                    fetch_stream_and_retries(&client, since, &retry_ids, &feed).await
                }
                Selection::Deals(ids) => FetchOutcome {
                    stream_completed: false,
                    error: fetch_by_id(&client, &ids, false, &feed).await.err(),
                },
            }
        }
        .in_current_span(),
    )
}

/// Reads the won-deal stream to the end, then fetches by id the failed deals to retry
/// that the stream did not bring.
async fn fetch_stream_and_retries(
    client: &AgendorClient,
    since: DateTime<Utc>,
    retry_ids: &[i64],
    feed: &mpsc::Sender<FeedItem>,
) -> FetchOutcome {
    let mut streamed = HashSet::new();
    let mut pages = client.won_deals_since(since);
    loop {
        let page = match pages.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(error) => {
                return FetchOutcome {
                    stream_completed: false,
                    error: Some(error),
                };
            }
        };
        for entry in page {
            if let Some(id) = entry_id(&entry) {
                streamed.insert(id);
            }
            let entry = entry.map_err(describe_malformed);
            if feed
                .send(FeedItem {
                    entry,
                    retry: false,
                    missing: false,
                })
                .await
                .is_err()
            {
                // The writer stopped; its own error explains why.
                return FetchOutcome::default();
            }
        }
    }
    tracing::info!(pages = pages.pages_read(), "deal stream read to the end");

    let retries: Vec<i64> = retry_ids
        .iter()
        .copied()
        .filter(|id| !streamed.contains(id))
        .collect();
    if !retries.is_empty() {
        tracing::info!(
            deals = retries.len(),
            "retrying deals that failed in earlier runs"
        );
    }
    FetchOutcome {
        stream_completed: true,
        error: fetch_by_id(client, &retries, true, feed).await.err(),
    }
}

async fn fetch_by_id(
    client: &AgendorClient,
    deal_ids: &[i64],
    retry: bool,
    feed: &mpsc::Sender<FeedItem>,
) -> Result<(), AgendorError> {
    for &id in deal_ids {
        let (entry, missing) = match client.deal(id).await {
            Ok(entry) => (entry.map_err(describe_malformed), false),
            Err(AgendorError::NotFound { .. }) => {
                let reason = format!("deal {id} not found in Agendor: it may have been deleted");
                (
                    Err(MalformedDeal {
                        id: Some(id),
                        reason,
                    }),
                    true,
                )
            }
            Err(error) => return Err(error),
        };
        let item = FeedItem {
            entry,
            retry,
            missing,
        };
        if feed.send(item).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

fn describe_malformed(malformed: MalformedDeal) -> MalformedDeal {
    MalformedDeal {
        reason: format!("malformed deal: {}", malformed.reason),
        ..malformed
    }
}
