//! Fake Agendor API v3 for the sandbox (`sandbox/run`).
//!
//! Serves the JSON fixtures of a directory (first argument, default `sandbox/agendor`) on
//! a random port of 127.0.0.1. It prints its base URL (`http://127.0.0.1:PORT/v3`) as the
//! only line on stdout, logs each request it serves on stderr, and runs until ctrl-c or
//! SIGTERM.
//!
//! Fixture files, each a JSON array of records with a numeric `id` unless noted:
//! `deals.json` (in stream order), `organizations.json`, `people.json`, `products.json`,
//! `users_me.json` (one object) and `custom_fields.json` (an object mapping `deals`,
//! `organizations` and `people` to arrays of field definitions).
//!
//! Behaviour: every request needs `Authorization: Token sandbox-token`, otherwise it gets
//! 401. `GET /v3/deals/stream` returns the deals in pages of 10 (see below) with
//! `links.next` set to the absolute URL of the next page (`page=N`), or null on the last
//! page. It ignores `since`, `dealStatus` and `per_page`, so the client must check each
//! deal's status itself, as it must against the real API.
//!
//! Environment: `FAKE_AGENDOR_PAGE_SIZE` (optional, a positive integer, default 10) sets
//! the deals per stream page. The benchmark (`bench/run`) sets it to 100, the page size
//! the sync requests with `per_page`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{any, method, path, path_regex};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

const DEFAULT_FIXTURE_DIR: &str = "sandbox/agendor";
const EXPECTED_AUTHORIZATION: &str = "Token sandbox-token";
const DEFAULT_PAGE_SIZE: usize = 10;
const PAGE_SIZE_VARIABLE: &str = "FAKE_AGENDOR_PAGE_SIZE";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let fixture_dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FIXTURE_DIR));
    let fixtures = Fixtures::load(&fixture_dir)?;
    let deal_count = fixtures.deals.len();
    let page_size = page_size_from_env()?;

    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    mount_routes(&server, fixtures, page_size).await?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}/v3", server.uri())?;
    stdout.flush()?;
    eprintln!(
        "fake_agendor: serving {deal_count} deals from {} at {}/v3 in pages of {page_size}",
        fixture_dir.display(),
        server.uri()
    );

    wait_for_shutdown().await?;
    eprintln!("fake_agendor: stopped");
    Ok(())
}

/// Reads the deals per stream page from `FAKE_AGENDOR_PAGE_SIZE`, or returns the default.
fn page_size_from_env() -> anyhow::Result<usize> {
    let Some(raw) = std::env::var_os(PAGE_SIZE_VARIABLE) else {
        return Ok(DEFAULT_PAGE_SIZE);
    };

    let text = raw.to_string_lossy();
    match text.trim().parse::<usize>() {
        Ok(size) if size >= 1 => Ok(size),
        _ => bail!("invalid {PAGE_SIZE_VARIABLE} `{text}`: expected a positive integer"),
    }
}

/// Records read from the fixture directory.
struct Fixtures {
    deals: Vec<Value>,
    organizations: Vec<Value>,
    people: Vec<Value>,
    products: Vec<Value>,
    users_me: Value,
    custom_fields: Value,
}

impl Fixtures {
    fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            deals: read_records(dir, "deals.json")?,
            organizations: read_records(dir, "organizations.json")?,
            people: read_records(dir, "people.json")?,
            products: read_records(dir, "products.json")?,
            users_me: read_json(dir, "users_me.json")?,
            custom_fields: read_json(dir, "custom_fields.json")?,
        })
    }
}

fn read_json(dir: &Path, file_name: &str) -> anyhow::Result<Value> {
    let file_path = dir.join(file_name);
    let text = std::fs::read_to_string(&file_path).with_context(|| {
        format!(
            "failed to read fixture {}: pass the fixture directory as the first argument",
            file_path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("invalid JSON in fixture {}", file_path.display()))
}

fn read_records(dir: &Path, file_name: &str) -> anyhow::Result<Vec<Value>> {
    let Value::Array(records) = read_json(dir, file_name)? else {
        bail!("fixture {file_name} must be a JSON array of records");
    };

    for record in &records {
        if record_id(record).is_none() {
            bail!("a record in fixture {file_name} has no integer `id`: {record}");
        }
    }
    Ok(records)
}

fn record_id(record: &Value) -> Option<i64> {
    record.get("id")?.as_i64()
}

/// Index records by id, rejecting duplicates so that a fixture typo cannot hide a record.
fn index_by_id(kind: &str, records: Vec<Value>) -> anyhow::Result<HashMap<i64, Value>> {
    let mut index = HashMap::with_capacity(records.len());
    for record in records {
        let id = record_id(&record).context("record without an integer `id`")?;
        if index.insert(id, record).is_some() {
            bail!("duplicate {kind} id {id} in the fixtures");
        }
    }
    Ok(index)
}

async fn mount_routes(
    server: &MockServer,
    fixtures: Fixtures,
    page_size: usize,
) -> anyhow::Result<()> {
    // Wiremock tries mocks with lower priority numbers first, so a bad token gets 401
    // before any route runs, and the catch-all 404 serves only requests no route matched.
    Mock::given(WrongToken)
        .respond_with(Unauthorized)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(NotFound)
        .with_priority(10)
        .mount(server)
        .await;

    let stream = DealStream {
        base_url: server.uri(),
        deals: fixtures.deals.clone(),
        page_size,
    };
    mount_get(server, path("/v3/deals/stream"), stream).await;

    let by_id_routes = [
        (r"^/v3/deals/\d+$", "deal", fixtures.deals),
        (
            r"^/v3/organizations/\d+$",
            "organization",
            fixtures.organizations,
        ),
        (r"^/v3/people/\d+$", "person", fixtures.people),
        (r"^/v3/products/\d+$", "product", fixtures.products),
    ];
    for (pattern, kind, records) in by_id_routes {
        let responder = RecordById {
            kind,
            records: index_by_id(kind, records)?,
        };
        mount_get(server, path_regex(pattern), responder).await;
    }

    mount_get(server, path("/v3/users/me"), Data(fixtures.users_me)).await;
    for entity in ["deals", "organizations", "people"] {
        let fields = fixtures.custom_fields.get(entity).cloned();
        let fields = fields.unwrap_or_else(|| json!([]));
        let route = format!("/v3/custom_fields/{entity}");
        mount_get(server, path(route), Data(fields)).await;
    }
    Ok(())
}

async fn mount_get(
    server: &MockServer,
    matcher: impl Match + 'static,
    responder: impl Respond + 'static,
) {
    Mock::given(method("GET"))
        .and(matcher)
        .respond_with(responder)
        .mount(server)
        .await;
}

/// Build a JSON response and log the request and status on stderr.
fn json_response(request: &Request, status: u16, body: Value) -> ResponseTemplate {
    let query = request
        .url
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    eprintln!(
        "fake_agendor: {} {}{query} -> {status}",
        request.method,
        request.url.path()
    );
    ResponseTemplate::new(status).set_body_json(body)
}

/// Matches requests whose `Authorization` header is missing or not the sandbox token.
struct WrongToken;

impl Match for WrongToken {
    fn matches(&self, request: &Request) -> bool {
        let authorization = request.headers.get("authorization");
        authorization.and_then(|value| value.to_str().ok()) != Some(EXPECTED_AUTHORIZATION)
    }
}

struct Unauthorized;

impl Respond for Unauthorized {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = json!({"statusCode": 401, "error": "Unauthorized", "message": "Bad token"});
        json_response(request, 401, body)
    }
}

struct NotFound;

impl Respond for NotFound {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let message = format!("no fixture for {} {}", request.method, request.url.path());
        json_response(request, 404, json!({"errors": [message]}))
    }
}

/// A fixed `{"data": ...}` response.
struct Data(Value);

impl Respond for Data {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        json_response(request, 200, json!({"data": self.0}))
    }
}

/// `GET /v3/{kind}s/{id}`: the record with that id, or 404.
struct RecordById {
    kind: &'static str,
    records: HashMap<i64, Value>,
}

impl Respond for RecordById {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().rsplit('/').next().unwrap_or_default();
        let record = id.parse().ok().and_then(|id: i64| self.records.get(&id));

        match record {
            Some(record) => json_response(request, 200, json!({"data": record})),
            None => {
                let message = format!("{} {id} not found", self.kind);
                json_response(request, 404, json!({"errors": [message]}))
            }
        }
    }
}

/// `GET /v3/deals/stream`: the deals in pages of `page_size`, selected by `page`.
struct DealStream {
    base_url: String,
    deals: Vec<Value>,
    page_size: usize,
}

impl Respond for DealStream {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page = match requested_page(&request.url) {
            Ok(page) => page,
            Err(message) => return json_response(request, 400, json!({"errors": [message]})),
        };

        let start = (page - 1)
            .saturating_mul(self.page_size)
            .min(self.deals.len());
        let end = (start + self.page_size).min(self.deals.len());
        let next = (end < self.deals.len()).then(|| self.page_url(&request.url, page + 1));

        let body = json!({"data": &self.deals[start..end], "links": {"next": next}});
        json_response(request, 200, body)
    }
}

impl DealStream {
    /// Build the absolute URL of `page`, keeping the other query parameters of the request.
    ///
    /// The URL wiremock hands to responders has host `localhost` and no port, so the
    /// server's own base URL is used instead.
    fn page_url(&self, request_url: &Url, page: usize) -> String {
        let mut url = Url::parse(&format!("{}/v3/deals/stream", self.base_url))
            .expect("the mock server URI is a valid URL");
        {
            let mut query = url.query_pairs_mut();
            for (key, value) in request_url.query_pairs().filter(|(key, _)| key != "page") {
                query.append_pair(&key, &value);
            }
            query.append_pair("page", &page.to_string());
        }
        url.to_string()
    }
}

/// Read the 1-based `page` query parameter, defaulting to 1.
fn requested_page(url: &Url) -> Result<usize, String> {
    let Some((_, value)) = url.query_pairs().find(|(key, _)| key == "page") else {
        return Ok(1);
    };

    match value.parse::<usize>() {
        Ok(page) if page >= 1 => Ok(page),
        _ => Err(format!(
            "invalid page `{value}`: expected an integer from 1"
        )),
    }
}

async fn wait_for_shutdown() -> std::io::Result<()> {
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        result = terminate_signal() => result,
    }
}

#[cfg(unix)]
async fn terminate_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    signal(SignalKind::terminate())?.recv().await;
    Ok(())
}

#[cfg(not(unix))]
async fn terminate_signal() -> std::io::Result<()> {
    std::future::pending().await
}
