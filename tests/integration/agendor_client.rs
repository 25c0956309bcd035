//! Agendor client against a mock Agendor API: headers, paging, retries, rate limit,
//! caches and the lenient parsing of real-looking payloads.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use agendor_sync::agendor::{
    AgendorClient, AgendorError, DealPages, DocumentValue, HttpSettings, PostalCodeValue,
};
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use url::Url;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const TOKEN: &str = "5f0c2d7e-1b4a-4c39-9e21-token-under-test";

fn settings(server: &MockServer) -> HttpSettings {
    HttpSettings {
        base_url: Url::parse(&server.uri()).expect("mock server URI is valid"),
        requests_per_second: 1000.0,
        timeout: Duration::from_secs(5),
        max_retries: 3,
        retry_min_delay: Duration::from_millis(1),
        retry_max_delay: Duration::from_millis(20),
        max_pages: 10,
    }
}

fn client_with(settings: &HttpSettings) -> AgendorClient {
    AgendorClient::new(settings, &SecretString::from(TOKEN)).expect("valid client settings")
}

fn client(server: &MockServer) -> AgendorClient {
    client_with(&settings(server))
}

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

/// Builds a 200 response that sends `body` verbatim, so decimal digits reach the client as written.
fn json(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into(), "application/json")
}

fn deal(id: i64) -> String {
    format!(
        r#"{{"id": {id}, "dealStatus": {{"id": 2, "name": "Ganho"}}, "wonAt": "2026-03-04T17:42:08.000Z"}}"#
    )
}

fn page(ids: &[i64], next: Option<&str>) -> String {
    let deals: Vec<String> = ids.iter().map(|id| deal(*id)).collect();
    let next = next.map_or_else(|| "null".to_string(), |link| format!("\"{link}\""));
    format!(
        r#"{{"data": [{}], "links": {{"next": {next}}}, "meta": {{"totalCount": 99}}}}"#,
        deals.join(",")
    )
}

fn stream() -> MockBuilder {
    Mock::given(method("GET")).and(path("/deals/stream"))
}

/// Reads every page and returns the ids of the deals that parsed.
async fn read_all(pages: &mut DealPages) -> Result<Vec<i64>, AgendorError> {
    let mut ids = Vec::new();
    while let Some(deals) = pages.next_page().await? {
        ids.extend(deals.into_iter().filter_map(Result::ok).map(|deal| deal.id));
    }
    Ok(ids)
}

async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .len()
}

#[tokio::test]
async fn stream_sends_token_and_filters() {
    let server = MockServer::start().await;
    stream()
        .and(header("Authorization", format!("Token {TOKEN}").as_str()))
        .and(header("Accept", "application/json"))
        .and(query_param("dealStatus", "2"))
        .and(query_param("since", "2026-03-01T00:00:00Z"))
        .and(query_param("withCustomFields", "true"))
        .and(query_param("per_page", "100"))
        .respond_with(json(page(&[1], None)))
        .expect(1)
        .mount(&server)
        .await;

    let ids = read_all(&mut client(&server).won_deals_since(since())).await;

    assert_eq!(ids, Ok(vec![1]));
}

#[tokio::test]
async fn stream_follows_relative_and_absolute_links() {
    let server = MockServer::start().await;
    let absolute = format!("{}/deals/stream?page=3", server.uri());
    stream()
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1, 2], Some("/deals/stream?page=2"))))
        .expect(1)
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "2"))
        .respond_with(json(page(&[3], Some(&absolute))))
        .expect(1)
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "3"))
        .respond_with(json(page(&[4, 5], None)))
        .expect(1)
        .mount(&server)
        .await;
    let mut pages = client(&server).won_deals_since(since());

    let ids = read_all(&mut pages).await;

    assert_eq!(ids, Ok(vec![1, 2, 3, 4, 5]));
    assert_eq!(pages.pages_read(), 3);
    assert_eq!(pages.next_page().await, Ok(None));
}

#[tokio::test]
async fn stream_resolves_links_below_base_path() {
    let server = MockServer::start().await;
    Mock::given(path("/v3/deals/stream"))
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1], Some("deals/stream?page=2"))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v3/deals/stream"))
        .and(query_param("page", "2"))
        .respond_with(json(page(&[2], None)))
        .expect(1)
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.base_url = Url::parse(&format!("{}/v3", server.uri())).unwrap();

    let ids = read_all(&mut client_with(&settings).won_deals_since(since())).await;

    assert_eq!(ids, Ok(vec![1, 2]));
}

#[tokio::test]
async fn stream_stops_without_next_link() {
    let endings = [
        r#""links": {"next": null}"#,
        r#""links": {"next": ""}"#,
        r#""links": {}"#,
        r#""links": null"#,
        r#""meta": {}"#,
    ];

    for ending in endings {
        let server = MockServer::start().await;
        let body = format!(r#"{{"data": [{}], {ending}}}"#, deal(1));
        stream()
            .respond_with(json(body))
            .expect(1)
            .mount(&server)
            .await;
        let mut pages = client(&server).won_deals_since(since());

        let ids = read_all(&mut pages).await;

        assert_eq!(ids, Ok(vec![1]), "ending {ending}");
        assert_eq!(pages.pages_read(), 1, "ending {ending}");
    }
}

#[tokio::test]
async fn stream_stops_on_repeated_link() {
    let server = MockServer::start().await;
    let first = format!("{}/deals/stream?page=1", server.uri());
    stream()
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1], Some(&first))))
        .expect(1)
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "1"))
        .respond_with(json(page(&[2], Some("/deals/stream?page=1"))))
        .expect(1)
        .mount(&server)
        .await;
    let mut pages = client(&server).won_deals_since(since());

    let ids = read_all(&mut pages).await;

    assert_eq!(ids, Ok(vec![1, 2]));
    assert_eq!(pages.pages_read(), 2);
}

#[tokio::test]
async fn stream_stops_on_empty_page() {
    let server = MockServer::start().await;
    stream()
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1], Some("/deals/stream?page=2"))))
        .expect(1)
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "2"))
        .respond_with(json(page(&[], Some("/deals/stream?page=3"))))
        .expect(1)
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "3"))
        .respond_with(json(page(&[3], None)))
        .expect(0)
        .mount(&server)
        .await;
    let mut pages = client(&server).won_deals_since(since());

    let ids = read_all(&mut pages).await;

    assert_eq!(ids, Ok(vec![1]));
    assert_eq!(pages.pages_read(), 2);
}

#[tokio::test]
async fn stream_without_data_is_missing_data() {
    for body in [
        r#"{"links": {"next": null}}"#,
        r#"{"data": null}"#,
        r#"{"data": {"id": 1}}"#,
    ] {
        let server = MockServer::start().await;
        stream().respond_with(json(body)).mount(&server).await;

        let result = client(&server).won_deals_since(since()).next_page().await;

        let Err(AgendorError::MissingData { path }) = result else {
            panic!("expected MissingData for {body}, got {result:?}");
        };
        assert!(path.starts_with("/deals/stream?"), "path {path}");
    }
}

#[tokio::test]
async fn stream_fails_past_page_limit() {
    let server = MockServer::start().await;
    stream()
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1], Some("/deals/stream?page=next"))))
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "next"))
        .respond_with(json(page(&[2], Some("/deals/stream?page=again"))))
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.max_pages = 2;

    let result = read_all(&mut client_with(&settings).won_deals_since(since())).await;

    assert_eq!(result, Err(AgendorError::TooManyPages { max: 2 }));
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn stream_rejects_foreign_next_link() {
    let server = MockServer::start().await;
    let foreign = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(page(&[9], None)))
        .expect(0)
        .mount(&foreign)
        .await;
    let link = format!("{}/deals/stream?page=2", foreign.uri());
    stream()
        .respond_with(json(page(&[1], Some(&link))))
        .mount(&server)
        .await;
    let mut pages = client(&server).won_deals_since(since());

    let first = pages.next_page().await;
    let second = pages.next_page().await;

    assert_eq!(
        first.map(|deals| deals.map(|deals| deals.len())),
        Ok(Some(1))
    );
    assert_eq!(
        second,
        Err(AgendorError::ForeignNextLink { link: link.clone() })
    );
    assert_eq!(
        pages.next_page().await,
        Err(AgendorError::ForeignNextLink { link })
    );
    assert_eq!(request_count(&foreign).await, 0);
}

#[tokio::test]
async fn stream_drops_repeated_deal_ids() {
    let server = MockServer::start().await;
    stream()
        .and(query_param_is_missing("page"))
        .respond_with(json(page(&[1, 2], Some("/deals/stream?page=2"))))
        .mount(&server)
        .await;
    stream()
        .and(query_param("page", "2"))
        .respond_with(json(page(&[2, 3, 3], None)))
        .mount(&server)
        .await;

    let ids = read_all(&mut client(&server).won_deals_since(since())).await;

    assert_eq!(ids, Ok(vec![1, 2, 3]));
}

#[tokio::test]
async fn stream_keeps_going_past_malformed_deal() {
    let server = MockServer::start().await;
    let body = format!(
        r#"{{"data": [{}, {{"id": 2, "wonAt": "ontem"}}, "not a deal", {}], "links": {{"next": null}}}}"#,
        deal(1),
        deal(3)
    );
    stream().respond_with(json(body)).mount(&server).await;

    let deals = client(&server)
        .won_deals_since(since())
        .next_page()
        .await
        .expect("page fetched")
        .expect("page has deals");

    assert_eq!(deals.len(), 4);
    assert_eq!(deals[0].as_ref().map(|deal| deal.id), Ok(1));
    assert_eq!(
        deals[1].as_ref().map_err(|malformed| malformed.id),
        Err(Some(2))
    );
    assert_eq!(
        deals[2].as_ref().map_err(|malformed| malformed.id),
        Err(None)
    );
    assert_eq!(deals[3].as_ref().map(|deal| deal.id), Ok(3));
}

/// Mounts `failure` for the first `failures` requests, then a successful `/users/me`.
async fn fail_then_succeed(server: &MockServer, failure: ResponseTemplate, failures: u64) {
    Mock::given(path("/users/me"))
        .respond_with(failure)
        .up_to_n_times(failures)
        .expect(failures)
        .mount(server)
        .await;
    Mock::given(path("/users/me"))
        .respond_with(json(
            r#"{"data": {"id": 960119, "name": "Rafael Tavares"}}"#,
        ))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn rate_limited_request_is_retried() {
    let in_one_second = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1));
    let responses = [
        (
            "seconds",
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        ),
        (
            "date",
            ResponseTemplate::new(429).insert_header("Retry-After", in_one_second.as_str()),
        ),
        ("absent", ResponseTemplate::new(429)),
        (
            "text body",
            ResponseTemplate::new(429).set_body_string("Too Many Requests"),
        ),
    ];

    for (case, response) in responses {
        let server = MockServer::start().await;
        fail_then_succeed(&server, response, 1).await;
        let started = Instant::now();

        let user = client(&server).current_user().await;

        assert_eq!(
            user.map(|user| user["id"].to_string()),
            Ok("960119".to_string()),
            "case {case}"
        );
        assert_eq!(request_count(&server).await, 2, "case {case}");
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "case {case}: Retry-After not capped"
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(503), 3).await;

    let user = client(&server).current_user().await;

    assert!(user.is_ok(), "{user:?}");
    assert_eq!(request_count(&server).await, 4);
}

#[tokio::test]
async fn server_errors_fail_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .expect(3)
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.max_retries = 2;

    let result = client_with(&settings).current_user().await;

    assert_eq!(
        result,
        Err(AgendorError::Status {
            status: 500,
            path: "/users/me".into(),
            body: "Internal Server Error".into(),
        })
    );
}

#[tokio::test]
async fn client_error_is_not_retried() {
    let server = MockServer::start().await;
    let body = r#"{"errors": ["There can only be one deal with this title"]}"#;
    Mock::given(path("/deals/5"))
        .respond_with(ResponseTemplate::new(400).set_body_string(body))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).deal(5).await;

    let Err(AgendorError::Status { status, body, .. }) = result else {
        panic!("expected a status error, got {result:?}");
    };
    assert_eq!(status, 400);
    assert!(body.contains("only be one deal"), "body {body}");
}

#[tokio::test]
async fn rejected_token_is_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!("Bad token {TOKEN}")))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).current_user().await.expect_err("401 fails");

    assert_eq!(error, AgendorError::Unauthorized { status: 401 });
    assert!(error.to_string().contains("AGENDOR_TOKEN"), "{error}");
}

#[tokio::test]
async fn token_never_appears_in_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(
            ResponseTemplate::new(403).set_body_string(format!("header was Token {TOKEN}")),
        )
        .mount(&server)
        .await;
    let client = client(&server);

    let error = client.current_user().await.expect_err("403 fails");

    assert!(!error.to_string().contains(TOKEN), "{error}");
    assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
    assert!(error.to_string().contains("[redacted]"), "{error}");
    assert!(!format!("{client:?}").contains(TOKEN), "{client:?}");
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let server = MockServer::start().await;
    let foreign = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json("{}"))
        .expect(0)
        .mount(&foreign)
        .await;
    let target = format!("{}/users/me", foreign.uri());
    Mock::given(path("/users/me"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", target.as_str()))
        .mount(&server)
        .await;

    let result = client(&server).current_user().await;

    assert!(
        matches!(result, Err(AgendorError::Status { status: 302, .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn timeout_is_retried_then_fails() {
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(json("{}").set_delay(Duration::from_secs(1)))
        .expect(2)
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.timeout = Duration::from_millis(200);
    settings.max_retries = 1;

    let result = client_with(&settings).current_user().await;

    assert_eq!(
        result,
        Err(AgendorError::Transport {
            path: "/users/me".into(),
            message: "timed out after 0.2 s".into(),
        })
    );
}

#[tokio::test]
async fn unreachable_server_is_transport_error() {
    let server = MockServer::start().await;
    let mut settings = settings(&server);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free loopback port");
    let closed_port = listener.local_addr().expect("bound address").port();
    drop(listener);
    settings.base_url = Url::parse(&format!("http://127.0.0.1:{closed_port}")).unwrap();
    settings.max_retries = 1;

    let error = client_with(&settings)
        .current_user()
        .await
        .expect_err("nothing listens");

    assert!(error.is_transient(), "{error:?}");
    assert!(matches!(error, AgendorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn deal_keeps_exact_decimals() {
    let server = MockServer::start().await;
    let body = r#"{"data": {"id": 7, "dealStatus": {"id": 2}, "products_entities": [
        {"id": 1411781, "quantity": "1.5", "unitValue": 480.10, "discount": 0.00, "totalValue": 720.15}
    ]}}"#;
    Mock::given(path("/deals/7"))
        .and(query_param("withCustomFields", "true"))
        .respond_with(json(body))
        .mount(&server)
        .await;

    let deal = client(&server)
        .deal(7)
        .await
        .expect("fetched")
        .expect("valid deal");
    let line = &deal.products[0];

    assert_eq!(line.unit_value.to_string(), "480.10");
    assert_eq!(line.unit_value.scale(), 2);
    assert_eq!(line.quantity.to_string(), "1.5");
    assert_eq!(line.discount.to_string(), "0.00");
    assert_eq!(line.total_value.to_string(), "720.15");
}

#[tokio::test]
async fn deal_with_other_id_is_malformed() {
    let server = MockServer::start().await;
    Mock::given(path("/deals/8"))
        .respond_with(json(format!(r#"{{"data": {}}}"#, deal(9))))
        .mount(&server)
        .await;

    let result = client(&server).deal(8).await.expect("fetched");

    let Err(malformed) = result else {
        panic!("expected a malformed deal, got {result:?}");
    };
    assert_eq!(malformed.id, Some(8));
    assert!(
        malformed.reason.contains("returned deal 9"),
        "{}",
        malformed.reason
    );
}

#[tokio::test]
async fn missing_deal_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path("/deals/404"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;

    let result = client(&server).deal(404).await;

    assert!(
        matches!(result, Err(AgendorError::NotFound { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn organization_reads_snake_case_address_and_numeric_cnpj() {
    let server = MockServer::start().await;
    let body = r#"{"data": {"id": 23517322, "name": "Horizonte Azul", "legal_name": "Horizonte Azul Ltda",
        "cnpj": 47285163000121,
        "address": {"postal_code": "09000-000", "street_name": "Rua das Oficinas", "street_number": 1200,
                    "additional_info": "Galpão 3", "district": "Centro", "city": {"name": "Santo André"}, "state": "SP"}}}"#;
    Mock::given(path("/organizations/23517322"))
        .and(query_param("withCustomFields", "true"))
        .respond_with(json(body))
        .mount(&server)
        .await;

    let organization = client(&server)
        .organization(23517322)
        .await
        .expect("fetched");

    assert_eq!(
        organization.legal_name.as_deref(),
        Some("Horizonte Azul Ltda")
    );
    assert_eq!(
        organization.cnpj,
        DocumentValue::NotText("47285163000121".into())
    );
    assert_eq!(
        organization.address.postal_code,
        Some(PostalCodeValue::Text("09000-000".into()))
    );
    assert_eq!(
        organization.address.street_name.as_deref(),
        Some("Rua das Oficinas")
    );
    assert_eq!(organization.address.street_number.as_deref(), Some("1200"));
    assert_eq!(
        organization.address.additional_info.as_deref(),
        Some("Galpão 3")
    );
    assert_eq!(organization.address.city.as_deref(), Some("Santo André"));
}

#[tokio::test]
async fn person_reads_camel_case_address_and_custom_fields() {
    let server = MockServer::start().await;
    let body = r#"{"data": {"id": 33701558, "name": "Marcos Vinícius", "cpf": "70531824608",
        "contact": {"email": "marcos@example.com", "mobile": "(21) 90000-0202"},
        "address": {"postalCode": "22000-000", "streetName": "Rua Exemplo", "streetNumber": 45,
                    "additionalInfo": "apto 302", "district": "Botafogo", "city": "Rio de Janeiro", "state": "RJ"},
        "customFields": {"texto": " Sim ", "opcao": {"id": 1, "value": "Site"}, "lista": [{"id": 1, "value": "A"}, {"id": 2, "value": "B"}],
                         "numero": 12.50, "nulo": null, "branco": "  "}}}"#;
    Mock::given(path("/people/33701558"))
        .respond_with(json(body))
        .mount(&server)
        .await;

    let person = client(&server).person(33701558).await.expect("fetched");
    let custom = &person.custom_fields;

    assert_eq!(person.cpf, DocumentValue::Text("70531824608".into()));
    assert_eq!(person.contact.email.as_deref(), Some("marcos@example.com"));
    assert_eq!(person.address.street_name.as_deref(), Some("Rua Exemplo"));
    assert_eq!(person.address.street_number.as_deref(), Some("45"));
    assert_eq!(person.address.additional_info.as_deref(), Some("apto 302"));
    assert_eq!(custom.text("texto").as_deref(), Some("Sim"));
    assert_eq!(custom.text("opcao").as_deref(), Some("Site"));
    assert_eq!(custom.text("lista").as_deref(), Some("A, B"));
    assert_eq!(custom.text("numero").as_deref(), Some("12.50"));
    assert_eq!(custom.text("nulo"), None);
    assert_eq!(custom.text("branco"), None);
    assert_eq!(custom.text("ausente"), None);
}

#[tokio::test]
async fn organization_is_fetched_once() {
    let server = MockServer::start().await;
    Mock::given(path("/organizations/5"))
        .respond_with(json(r#"{"data": {"id": 5, "name": "Acme"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let first = client.organization(5).await.expect("first fetch");
    let second = client.clone().organization(5).await.expect("cached");

    assert!(Arc::ptr_eq(&first, &second));
}

#[tokio::test]
async fn person_is_fetched_once_even_concurrently() {
    let server = MockServer::start().await;
    Mock::given(path("/people/6"))
        .respond_with(
            json(r#"{"data": {"id": 6, "name": "Ana"}}"#).set_delay(Duration::from_millis(50)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let (first, second) = tokio::join!(client.person(6), client.person(6));

    assert_eq!(first.expect("first").name.as_deref(), Some("Ana"));
    assert_eq!(second.expect("second").name.as_deref(), Some("Ana"));
}

#[tokio::test]
async fn failed_fetch_is_not_cached() {
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(400), 1).await;
    let client = client(&server);

    let first = client.current_user().await;
    let second = client.current_user().await;

    assert!(first.is_err());
    assert!(second.is_ok());
}

#[tokio::test]
async fn product_code_is_cached() {
    let server = MockServer::start().await;
    Mock::given(path("/products/1411781"))
        .respond_with(json(
            r#"{"data": {"id": 1411781, "name": "Placa", "code": " PL-304 "}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/products/1411785"))
        .respond_with(json(
            r#"{"data": {"id": 1411785, "name": "Serviço", "code": null}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    for _ in 0..2 {
        assert_eq!(
            client.product_code(1411781).await,
            Ok(Some("PL-304".to_string()))
        );
        assert_eq!(client.product_code(1411785).await, Ok(None));
    }
}

#[tokio::test]
async fn custom_field_keys_are_listed() {
    let server = MockServer::start().await;
    let body = r#"{"data": [{"name": "Hospital", "key": "hospital"}, {"name": "Convênio", "identifier": "convenio"},
        {"name": "Médico", "slug": "medico"}, {"name": "Sem chave"}]}"#;
    Mock::given(path("/custom_fields/deals"))
        .respond_with(json(body))
        .mount(&server)
        .await;

    let keys = client(&server).deal_custom_field_keys().await;

    assert_eq!(
        keys,
        Ok(vec![
            "hospital".to_string(),
            "convenio".to_string(),
            "medico".to_string()
        ])
    );
}

#[tokio::test]
async fn requests_respect_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/users/me"))
        .respond_with(json(r#"{"data": {}}"#))
        .expect(5)
        .mount(&server)
        .await;
    let mut settings = settings(&server);
    settings.requests_per_second = 20.0;
    let client = client_with(&settings);
    let started = Instant::now();

    for _ in 0..5 {
        client.current_user().await.expect("user fetched");
    }

    // The first request goes at once and the next four wait 50 ms each.
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn invalid_settings_are_rejected() {
    let server = MockServer::start().await;
    let plain_http = HttpSettings {
        base_url: Url::parse("http://api.agendor.example.com/v3").unwrap(),
        ..settings(&server)
    };
    let zero_rate = HttpSettings {
        requests_per_second: 0.0,
        ..settings(&server)
    };

    let cases = [
        (
            AgendorClient::new(&plain_http, &SecretString::from(TOKEN)),
            "plain http",
        ),
        (
            AgendorClient::new(&zero_rate, &SecretString::from(TOKEN)),
            "requests per second",
        ),
    ];
    for (result, expected) in cases {
        let error = result.expect_err(expected);
        assert!(error.to_string().contains(expected), "{error}");
    }
    for token in ["", "  ", "bad\ntoken"] {
        let result = AgendorClient::new(&settings(&server), &SecretString::from(token));
        assert_eq!(
            result.err(),
            Some(AgendorError::InvalidToken),
            "token {token:?}"
        );
    }
}

#[tokio::test]
async fn retry_after_sets_the_delay() {
    // HTTP dates have whole seconds, so the date is three seconds ahead to ask for more
    // than two.
    let cases = [
        ("seconds", Some((|| "1".to_owned()) as fn() -> String), 900),
        (
            "date",
            Some(|| httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3))),
            1_900,
        ),
        ("absent", None, 0),
    ];
    for (case, retry_after, at_least_ms) in cases {
        let at_least = Duration::from_millis(at_least_ms);
        let retry_after = retry_after.map(|value| value());
        let server = MockServer::start().await;
        let mut response = ResponseTemplate::new(429);
        if let Some(value) = &retry_after {
            response = response.insert_header("Retry-After", value.as_str());
        }
        fail_then_succeed(&server, response, 1).await;
        let mut settings = settings(&server);
        settings.retry_max_delay = Duration::from_secs(5);
        let started = Instant::now();

        let user = client_with(&settings).current_user().await;

        assert!(user.is_ok(), "case {case}: {user:?}");
        assert!(
            started.elapsed() >= at_least,
            "case {case}: waited {:?}, Retry-After asked for at least {at_least:?}",
            started.elapsed()
        );
        if retry_after.is_none() {
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "case {case}: without Retry-After the backoff starts at the minimum delay"
            );
        }
    }
}

#[tokio::test]
async fn reset_connection_is_retried_then_fails() {
    // A server that accepts each connection and closes it at once, before any response.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let server = MockServer::start().await;
    let mut settings = settings(&server);
    settings.base_url = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    settings.max_retries = 2;

    let error = client_with(&settings)
        .current_user()
        .await
        .expect_err("every connection is reset");

    assert!(matches!(error, AgendorError::Transport { .. }), "{error:?}");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the first attempt and two retries, then it stops"
    );
}
