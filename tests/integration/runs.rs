//! Run-level rules through the library entry point: which companies run and with which
//! token and user, what is fetched, the default start date and its watermark, what a
//! run records, dry runs and the report.

use std::collections::BTreeSet;

use agendor_sync::cli::SyncArgs;
use agendor_sync::config::parse_since;
use agendor_sync::report::{ClientOutcome, CompanyStatus, Outcome, RunReport};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Sao_Paulo;
use chrono_tz::Tz;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Row;
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    TOKEN, TestApp, deal, deal_report, mount_stream_pages, only_company, organization, spawn_app,
};

/// The `--since` the tests pass when the start date is not under test.
const SINCE: &str = "2026-11-01";

fn since(raw: &str) -> SyncArgs {
    SyncArgs {
        since: Some(parse_since(raw).unwrap()),
        ..SyncArgs::default()
    }
}

fn stream_page(deals: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": deals,
        "links": { "next": null },
        "meta": { "totalCount": 0 }
    }))
}

/// Mounts a one-page deal stream that responds only to requests carrying `token`.
async fn mount_stream_for_token(server: &MockServer, token: &str, deals: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(header("Authorization", format!("Token {token}").as_str()))
        .respond_with(stream_page(deals))
        .mount(server)
        .await;
}

/// Expects no request at all carrying `token`; it takes precedence over other mocks.
async fn forbid_token(server: &MockServer, token: &str) {
    Mock::given(header("Authorization", format!("Token {token}").as_str()))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .expect(0)
        .named(format!("any request with token {token}"))
        .mount(server)
        .await;
}

/// Adds company `id` with its integration user `id * 10`, both active.
async fn insert_company(app: &TestApp, id: i64, module: bool, enabled: bool, token: Option<&str>) {
    sqlx::query(
        "insert into empresas (id, nome, agendor_modulo_contratado, agendor_integracao_ativa,
             agendor_token)
         values ($1, 'Empresa ' || $1, $2, $3, $4)",
    )
    .bind(id)
    .bind(module)
    .bind(enabled)
    .bind(token)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into usuarios (id, empresa_id, nome, ativo) values ($1 * 10, $1, 'Integração', true)",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("update empresas set agendor_usuario_id = $1 * 10 where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
}

/// Inserts a surgery of company 1 as if deal `deal_id` had been integrated before.
async fn insert_surgery(app: &TestApp, deal_id: i64) -> i64 {
    let client_id: i64 = sqlx::query_scalar(
        "insert into clientes (empresa_id, tipo_pessoa, nome) values (1, 'J', 'Cliente Antigo')
         returning id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query_scalar(
        "insert into cirurgias (empresa_id, codigo_legado, cliente_id, usuario_id, etapa, status)
         values (1, $1, $2, 10, 'ORCAMENTO_PRE', 'APROVADA') returning id",
    )
    .bind(format!("agendor-{deal_id}"))
    .bind(client_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Records a past run of `company_id` that started at `started_at`.
async fn insert_run(app: &TestApp, company_id: i64, started_at: DateTime<Utc>, completed: bool) {
    sqlx::query(
        "insert into agendor_sync.runs
             (empresa_id, since, started_at, finished_at, status, stream_completed)
         values ($1, $2 - interval '1 day', $2, $2 + interval '1 minute', $3, $4)",
    )
    .bind(company_id)
    .bind(started_at)
    .bind(if completed { "succeeded" } else { "failed" })
    .bind(completed)
    .execute(&app.pool)
    .await
    .unwrap();
}

fn local_date(instant: DateTime<Utc>, timezone: Tz) -> NaiveDate {
    instant.with_timezone(&timezone).date_naive()
}

fn days_ago(days: u64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days as i64)
}

/// Returns the `since` sent for a date: its midnight in UTC, or its local midnight when
/// that is earlier (time zones east of UTC).
fn start_of(date: NaiveDate, timezone: Tz) -> String {
    let utc_midnight = date.and_time(chrono::NaiveTime::MIN).and_utc();
    let local_midnight = timezone
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    utc_midnight
        .min(local_midnight)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Returns the `since` query parameter of every deal stream request received, in order.
async fn stream_since_params(app: &TestApp) -> Vec<String> {
    let requests = app.agendor.received_requests().await.unwrap();
    requests
        .iter()
        .filter(|request| request.url.path() == "/v3/deals/stream")
        .map(|request| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == "since")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_else(|| "(absent)".to_owned())
        })
        .collect()
}

/// Runs on an empty stream with the default start date and returns the `since` sent.
/// Deals that failed earlier are fetched again by id and fail once more on the reset
/// mock, so the status of this run is not checked.
async fn next_default_since(app: &TestApp) -> String {
    app.agendor.reset().await;
    app.mount_stream(vec![]).await;

    app.sync(SyncArgs::default()).await;

    let sent = stream_since_params(app).await;
    assert_eq!(sent.len(), 1, "stream requests: {sent:?}");
    sent[0].clone()
}

/// Asserts that the next default run still starts on the date of the last completed
/// run, in São Paulo: the run under test did not move the watermark.
async fn assert_watermark_kept(app: &TestApp, last_completed: DateTime<Utc>) {
    assert_eq!(
        next_default_since(app).await,
        start_of(local_date(last_completed, Sao_Paulo), Sao_Paulo),
        "the watermark moved"
    );
}

async fn request_count(app: &TestApp) -> usize {
    app.agendor.received_requests().await.unwrap().len()
}

fn company_error(report: &RunReport, company_id: i64) -> String {
    report
        .companies
        .iter()
        .find(|company| company.company_id == company_id)
        .unwrap_or_else(|| panic!("company {company_id} missing from {report:#?}"))
        .error
        .clone()
        .unwrap_or_default()
}

fn deal_ids(report: &RunReport) -> Vec<Option<i64>> {
    report
        .companies
        .iter()
        .flat_map(|company| &company.deals)
        .map(|deal| deal.deal_id)
        .collect()
}

/// The last run recorded for company 1.
struct RunRow {
    status: String,
    stream_completed: bool,
    since: DateTime<Utc>,
    finished: bool,
    error: Option<String>,
    counts: [i32; 5],
}

async fn last_run(app: &TestApp) -> RunRow {
    let row = sqlx::query(
        "select status, stream_completed, since, finished_at is not null, error,
                fetched, created, already_integrated, failed, ignored
         from agendor_sync.runs where empresa_id = 1 order by id desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("no run recorded for company 1");
    RunRow {
        status: row.get(0),
        stream_completed: row.get(1),
        since: row.get(2),
        finished: row.get(3),
        error: row.get(4),
        counts: [row.get(5), row.get(6), row.get(7), row.get(8), row.get(9)],
    }
}

#[tokio::test]
async fn only_enabled_companies_are_processed() {
    let app = spawn_app().await;
    insert_company(&app, 3, false, true, Some("token-of-company-3")).await;
    forbid_token(&app.agendor, "other-token").await;
    forbid_token(&app.agendor, "token-of-company-3").await;
    app.mount_stream(vec![]).await;

    let report = app.sync(since(SINCE)).await;

    let ids: Vec<i64> = report.companies.iter().map(|c| c.company_id).collect();
    assert_eq!(ids, vec![1], "{report:#?}");
    assert_eq!(report.companies[0].status, CompanyStatus::Succeeded);
    app.agendor.verify().await;
}

#[tokio::test]
async fn named_company_that_cannot_run_fails() {
    let app = spawn_app().await;
    insert_company(&app, 3, false, true, Some("token-of-company-3")).await;
    app.mount_stream(vec![]).await;
    let cases = [
        (2, "integration disabled"),
        (3, "has not contracted the Agendor module"),
        (99, "not found"),
    ];

    for (company_id, expected) in cases {
        let args = SyncArgs {
            companies: vec![company_id],
            ..since(SINCE)
        };
        let report = app.sync(args).await;

        let company = only_company(&report);
        assert_eq!(company.company_id, company_id);
        assert_eq!(company.status, CompanyStatus::Failed, "{report:#?}");
        let error = company.error.clone().unwrap_or_default();
        assert!(error.contains(expected), "company {company_id}: {error}");
        assert_eq!(report.exit_code(), 1, "company {company_id}");
    }
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn company_with_bad_settings_fails_alone() {
    let app = spawn_app().await;
    insert_company(&app, 3, true, true, None).await;
    insert_company(&app, 4, true, true, Some("token-of-company-4")).await;
    sqlx::query("update usuarios set ativo = false where id = 40")
        .execute(&app.pool)
        .await
        .unwrap();
    forbid_token(&app.agendor, "token-of-company-4").await;
    mount_stream_for_token(&app.agendor, TOKEN, vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    let statuses: Vec<(i64, CompanyStatus)> = report
        .companies
        .iter()
        .map(|c| (c.company_id, c.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (1, CompanyStatus::Succeeded),
            (3, CompanyStatus::Failed),
            (4, CompanyStatus::Failed)
        ],
        "{report:#?}"
    );
    let no_token = company_error(&report, 3);
    assert!(no_token.contains("no Agendor API token"), "{no_token}");
    let inactive = company_error(&report, 4);
    assert!(inactive.contains("inactive"), "{inactive}");
    assert_eq!(deal_report(&report, 1).outcome, Outcome::Created);
    assert_eq!(app.count("cirurgias").await, 1);
    assert_eq!(report.exit_code(), 1);
    app.agendor.verify().await;
}

#[tokio::test]
async fn companies_use_own_token_and_user() {
    let app = spawn_app().await;
    insert_company(&app, 3, true, true, Some("token-of-company-3")).await;
    mount_stream_for_token(&app.agendor, TOKEN, vec![deal(101)]).await;
    mount_stream_for_token(&app.agendor, "token-of-company-3", vec![deal(301)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    for company in &report.companies {
        assert_eq!(company.status, CompanyStatus::Succeeded, "{report:#?}");
    }
    let rows = sqlx::query(
        "select s.codigo_legado, s.empresa_id, s.usuario_id, c.empresa_id, c.criado_por_id
         from cirurgias s join clientes c on c.id = s.cliente_id order by s.codigo_legado",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let written: Vec<(String, i64, i64, i64, Option<i64>)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
        .collect();
    assert_eq!(
        written,
        vec![
            ("agendor-101".to_owned(), 1, 10, 1, Some(10)),
            ("agendor-301".to_owned(), 3, 30, 3, Some(30)),
        ]
    );
}

#[tokio::test]
async fn integration_user_problems_fail_the_company() {
    let cases = [
        (
            "update empresas set agendor_usuario_id = null where id = 1",
            "has no integration user",
        ),
        (
            "update usuarios set ativo = false where id = 10",
            "integration user 10 of company 1 is inactive",
        ),
        (
            "update empresas set agendor_usuario_id = 20 where id = 1",
            "integration user 20 belongs to company 2",
        ),
        (
            "alter table empresas drop constraint empresas_agendor_usuario_fk;
             update empresas set agendor_usuario_id = 999 where id = 1",
            "integration user 999 of company 1 not found",
        ),
    ];

    for (setup, expected) in cases {
        let app = spawn_app().await;
        sqlx::raw_sql(setup).execute(&app.pool).await.unwrap();
        app.mount_stream(vec![deal(1)]).await;
        app.mount_organization(organization(7001)).await;

        let report = app.sync(since(SINCE)).await;

        let company = only_company(&report);
        assert_eq!(
            company.status,
            CompanyStatus::Failed,
            "{setup}: {report:#?}"
        );
        let error = company.error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{setup}: {error}");
        assert_eq!(report.exit_code(), 1, "{setup}");
        assert_eq!(request_count(&app).await, 0, "{setup}");
        assert_eq!(app.count("cirurgias").await, 0, "{setup}");
    }
}

#[tokio::test]
async fn token_override_replaces_the_company_token() {
    let mut app = spawn_app().await;
    let override_token = "override-token-51d2";
    app.settings.token_override = Some(SecretString::from(override_token.to_owned()));
    forbid_token(&app.agendor, TOKEN).await;
    mount_stream_for_token(&app.agendor, override_token, vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    assert_eq!(
        deal_report(&report, 1).outcome,
        Outcome::Created,
        "{report:#?}"
    );
    let requests = app.agendor.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "stream page and organization");
    for request in &requests {
        let authorization = request.headers.get("authorization").unwrap();
        assert_eq!(
            authorization.to_str().unwrap(),
            format!("Token {override_token}"),
            "{}",
            request.url
        );
    }
    app.agendor.verify().await;
}

#[tokio::test]
async fn token_override_needs_a_single_company() {
    let mut app = spawn_app().await;
    insert_company(&app, 3, true, true, Some("token-3")).await;
    app.settings.token_override = Some(SecretString::from("override-token-51d2".to_owned()));

    let error = agendor_sync::sync::run_with_pool(&app.pool, &app.settings, &since(SINCE))
        .await
        .expect_err("one token for two companies");

    assert!(error.to_string().contains("AGENDOR_TOKEN"), "{error}");
    assert!(error.to_string().contains("--company"), "{error}");
    assert_eq!(error.exit_code(), 1);
    assert!(app.agendor.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn stream_request_carries_filters_and_token() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(query_param("dealStatus", "2"))
        .and(query_param("since", "2026-11-01T00:00:00Z"))
        .and(query_param("withCustomFields", "true"))
        .and(header("Authorization", format!("Token {TOKEN}").as_str()))
        .respond_with(stream_page(vec![deal(1)]))
        .expect(1)
        .mount(&app.agendor)
        .await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    let requests = app.agendor.received_requests().await.unwrap();
    let stream = &requests[0];
    assert_eq!(stream.url.path(), "/v3/deals/stream");
    let query: Vec<(String, String)> = stream.url.query_pairs().into_owned().collect();
    for (key, value) in [
        ("dealStatus", "2"),
        ("since", "2026-11-01T00:00:00Z"),
        ("withCustomFields", "true"),
    ] {
        assert!(
            query.contains(&(key.to_owned(), value.to_owned())),
            "{key}={value} missing from {query:?}"
        );
    }
    assert_eq!(
        stream
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Token {TOKEN}")
    );
    assert_eq!(
        deal_report(&report, 1).outcome,
        Outcome::Created,
        "{report:#?}"
    );
    app.agendor.verify().await;
}

#[tokio::test]
async fn deal_that_is_not_won_is_ignored() {
    let app = spawn_app().await;
    let mut open = deal(11);
    open["dealStatus"] = json!({ "id": 1, "name": "Em andamento" });
    let mut lost = deal(13);
    lost["dealStatus"] = json!({ "id": 3, "name": "Perdido" });
    let mut absent = deal(14);
    absent.as_object_mut().unwrap().remove("dealStatus");
    app.mount_stream(vec![open, deal(12), lost, absent]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    for id in [11, 13, 14] {
        let ignored = deal_report(&report, id);
        assert_eq!(ignored.outcome, Outcome::Ignored, "deal {id}");
        assert_eq!(ignored.surgery_id, None, "deal {id}");
        let reason = ignored.error.clone().unwrap_or_default();
        assert!(reason.contains("not won"), "deal {id}: {reason}");
    }
    assert_eq!(deal_report(&report, 12).outcome, Outcome::Created);
    let company = only_company(&report);
    assert_eq!(company.counts.ignored, 3);
    assert_eq!(company.counts.created, 1);
    assert_eq!(company.counts.fetched, 4);
    assert_eq!(company.status, CompanyStatus::Succeeded);
    assert_eq!(report.exit_code(), 0);
    let codes: Vec<String> = sqlx::query_scalar("select codigo_legado from cirurgias")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(codes, vec!["agendor-12".to_owned()]);
    let recorded: Vec<i64> = sqlx::query_scalar(
        "select deal_id from agendor_sync.deal_outcomes where outcome = 'ignored' order by deal_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded, vec![11, 13, 14]);
}

#[tokio::test]
async fn repeated_deal_is_processed_once() {
    let app = spawn_app().await;
    let pages = vec![
        vec![deal(1), deal(2), deal(2)],
        vec![deal(2), deal(3)],
        vec![deal(1)],
    ];
    mount_stream_pages(&app.agendor, pages).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    assert_eq!(deal_ids(&report), vec![Some(1), Some(2), Some(3)]);
    assert_eq!(only_company(&report).counts.fetched, 3);
    assert_eq!(only_company(&report).counts.created, 3);
    assert_eq!(app.count("cirurgias").await, 3);
    assert_eq!(app.count("agendor_sync.deal_outcomes").await, 3);
    assert_eq!(
        stream_since_params(&app).await.len(),
        3,
        "every page is read"
    );
}

#[tokio::test]
async fn integrated_deal_skips_customer_fetch() {
    let app = spawn_app().await;
    let surgery_id = insert_surgery(&app, 1).await;
    app.mount_stream(vec![deal(1)]).await;
    Mock::given(method("GET"))
        .and(path_regex("^/v3/(organizations|people)/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": organization(7001) })),
        )
        .expect(0)
        .named("customer of an integrated deal")
        .mount(&app.agendor)
        .await;

    let report = app.sync(since(SINCE)).await;

    let integrated = deal_report(&report, 1);
    assert_eq!(
        integrated.outcome,
        Outcome::AlreadyIntegrated,
        "{report:#?}"
    );
    assert_eq!(integrated.surgery_id, Some(surgery_id));
    assert_eq!(app.count("cirurgias").await, 1);
    app.agendor.verify().await;
}

#[tokio::test]
async fn shared_organization_is_fetched_once() {
    let app = spawn_app().await;
    app.mount_stream(vec![deal(1), deal(2)]).await;
    Mock::given(method("GET"))
        .and(path("/v3/organizations/7001"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": organization(7001) })),
        )
        .expect(1)
        .named("organization 7001")
        .mount(&app.agendor)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v3/people/"))
        .respond_with(ResponseTemplate::new(404))
        .expect(0)
        .named("people of deals with an organization")
        .mount(&app.agendor)
        .await;

    let report = app.sync(since(SINCE)).await;

    assert_eq!(
        deal_report(&report, 1).outcome,
        Outcome::Created,
        "{report:#?}"
    );
    assert_eq!(deal_report(&report, 2).outcome, Outcome::Created);
    assert_eq!(deal_report(&report, 1).client, Some(ClientOutcome::Created));
    assert_eq!(deal_report(&report, 2).client, Some(ClientOutcome::Found));
    assert_eq!(app.count("clientes").await, 1);
    app.agendor.verify().await;
}

#[tokio::test]
async fn page_without_data_fails_the_company() {
    let app = spawn_app().await;
    let last_completed = days_ago(3);
    insert_run(&app, 1, last_completed, true).await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "links": { "next": null }, "meta": {} })),
        )
        .mount(&app.agendor)
        .await;

    let report = app.sync(SyncArgs::default()).await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Failed, "{report:#?}");
    let error = company.error.clone().unwrap_or_default();
    assert!(error.contains("no `data`"), "{error}");
    assert_eq!(report.exit_code(), 1);
    let run = last_run(&app).await;
    assert_eq!(run.status, "failed");
    assert!(!run.stream_completed);
    assert_watermark_kept(&app, last_completed).await;
}

#[tokio::test]
async fn later_page_without_data_fails() {
    let app = spawn_app().await;
    let last_completed = days_ago(3);
    insert_run(&app, 1, last_completed, true).await;
    let next = format!("{}/v3/deals/stream?page=2", app.agendor.uri());
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [deal(1)],
            "links": { "next": next }
        })))
        .mount(&app.agendor)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": null })))
        .mount(&app.agendor)
        .await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(SyncArgs::default()).await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Failed, "{report:#?}");
    assert_eq!(deal_report(&report, 1).outcome, Outcome::Created);
    assert_eq!(report.exit_code(), 1);
    assert!(!last_run(&app).await.stream_completed);
    assert_watermark_kept(&app, last_completed).await;
}

#[tokio::test]
async fn rejected_token_fails_the_company() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({ "errors": ["Unauthorized"] })),
        )
        .expect(1)
        .named("stream answered 401, never retried")
        .mount(&app.agendor)
        .await;

    let report = app.sync(since(SINCE)).await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Failed, "{report:#?}");
    let error = company.error.clone().unwrap_or_default();
    assert!(error.contains("rejected the API token"), "{error}");
    assert!(!error.contains(TOKEN), "{error}");
    assert_eq!(report.exit_code(), 1);
    let run = last_run(&app).await;
    assert_eq!(run.status, "failed");
    assert!(!run.stream_completed);
    app.agendor.verify().await;
}

#[tokio::test]
async fn customer_fetch_401_fails_the_company() {
    let app = spawn_app().await;
    app.mount_stream(vec![deal(1), deal(2)]).await;
    Mock::given(method("GET"))
        .and(path("/v3/organizations/7001"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&app.agendor)
        .await;

    let report = app.sync(since(SINCE)).await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Failed, "{report:#?}");
    let error = company.error.clone().unwrap_or_default();
    assert!(error.contains("rejected the API token"), "{error}");
    assert_eq!(report.exit_code(), 1);
    assert_eq!(app.count("cirurgias").await, 0);
    assert!(!last_run(&app).await.stream_completed);
}

/// Zones 25 hours apart: at any instant at least one of them is on another date than
/// UTC, so a start date taken in UTC fails one of the cases.
const FAR_ZONES: [Tz; 2] = [
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Pacific::Pago_Pago,
];

/// A run recorded before the test: company, days ago, stream completed.
type PastRun = (i64, u64, bool);

#[tokio::test]
async fn default_since_follows_the_last_completed_run() {
    // Each case: the past runs, and the expected start date in days before today (1 is
    // yesterday).
    let cases: [(&str, Vec<PastRun>, u64); 6] = [
        ("no run", vec![], 1),
        ("completed 3 days ago", vec![(1, 3, true)], 3),
        ("completed today", vec![(1, 0, true)], 1),
        ("incomplete 5 days ago", vec![(1, 5, false)], 1),
        (
            "completed 3 days ago, incomplete today",
            vec![(1, 3, true), (1, 0, false)],
            3,
        ),
        ("other company completed 6 days ago", vec![(2, 6, true)], 1),
    ];

    for timezone in FAR_ZONES {
        for (name, runs, expected_days) in &cases {
            let mut app = spawn_app().await;
            app.settings.timezone = timezone;
            let now = Utc::now();
            for &(company_id, days, completed) in runs {
                let started_at = now - chrono::Duration::days(days as i64);
                insert_run(&app, company_id, started_at, completed).await;
            }
            app.mount_stream(vec![]).await;

            let report = app.sync(SyncArgs::default()).await;

            let case = format!("{name} in {timezone}");
            let expected = start_of(
                local_date(now, timezone) - Days::new(*expected_days),
                timezone,
            );
            assert_eq!(
                stream_since_params(&app).await,
                vec![expected.clone()],
                "{case}"
            );
            assert_eq!(only_company(&report).since, Some(expected), "{case}");
        }
    }
}

#[tokio::test]
async fn default_since_is_local_yesterday() {
    for timezone in [Sao_Paulo, FAR_ZONES[0], FAR_ZONES[1]] {
        let mut app = spawn_app().await;
        app.settings.timezone = timezone;
        app.mount_stream(vec![]).await;
        let yesterday = local_date(Utc::now(), timezone) - Days::new(1);

        app.sync(SyncArgs::default()).await;

        let sent = stream_since_params(&app).await;
        assert_eq!(sent, vec![start_of(yesterday, timezone)], "{timezone}");
    }
}

#[tokio::test]
async fn dry_run_does_not_move_the_watermark() {
    let app = spawn_app().await;
    let last_completed = days_ago(3);
    insert_run(&app, 1, last_completed, true).await;
    app.mount_stream(vec![]).await;

    let dry = app
        .sync(SyncArgs {
            dry_run: true,
            ..SyncArgs::default()
        })
        .await;

    let expected = start_of(local_date(last_completed, Sao_Paulo), Sao_Paulo);
    assert_eq!(only_company(&dry).since, Some(expected.clone()));
    assert_eq!(next_default_since(&app).await, expected);
}

#[tokio::test]
async fn since_flag_overrides_the_default() {
    let app = spawn_app().await;
    insert_run(&app, 1, days_ago(3), true).await;
    app.mount_stream(vec![]).await;
    let cases = [
        ("2026-11-01", "2026-11-01T00:00:00Z"),
        ("2026-11-01T08:00:00-03:00", "2026-11-01T11:00:00Z"),
    ];

    for (raw, expected) in cases {
        app.agendor.reset().await;
        app.mount_stream(vec![]).await;

        let report = app.sync(since(raw)).await;

        assert_eq!(
            stream_since_params(&app).await,
            vec![expected.to_owned()],
            "{raw}"
        );
        assert_eq!(
            only_company(&report).since.as_deref(),
            Some(expected),
            "{raw}"
        );
    }
}

#[tokio::test]
async fn run_recorded_with_counts_and_outcomes() {
    let app = spawn_app().await;
    let existing = insert_surgery(&app, 2).await;
    let mut malformed = deal(3);
    malformed["wonAt"] = json!("yesterday");
    let mut lost = deal(4);
    lost["dealStatus"] = json!({ "id": 3 });
    app.mount_stream(vec![deal(1), deal(2), malformed, lost])
        .await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    assert_eq!(
        only_company(&report).status,
        CompanyStatus::Partial,
        "{report:#?}"
    );
    assert_eq!(report.exit_code(), 3);
    let run = last_run(&app).await;
    assert_eq!(run.status, "partial");
    assert!(run.stream_completed);
    assert!(run.finished);
    assert_eq!(run.error, None);
    assert_eq!(run.since.to_rfc3339(), "2026-11-01T00:00:00+00:00");
    assert_eq!(
        run.counts,
        [4, 1, 1, 1, 1],
        "fetched, created, integrated, failed, ignored"
    );

    let outcomes = sqlx::query(
        "select deal_id, outcome, surgery_id, error is not null from agendor_sync.deal_outcomes
         where empresa_id = 1 order by deal_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let outcomes: Vec<(Option<i64>, String, Option<i64>, bool)> = outcomes
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect();
    let created = deal_report(&report, 1).surgery_id;
    assert!(created.is_some());
    assert_eq!(
        outcomes,
        vec![
            (Some(1), "created".to_owned(), created, false),
            (
                Some(2),
                "already_integrated".to_owned(),
                Some(existing),
                false
            ),
            (Some(3), "failed".to_owned(), None, true),
            (Some(4), "ignored".to_owned(), None, true),
        ]
    );
}

#[tokio::test]
async fn deal_flag_fetches_deals_by_id() {
    let app = spawn_app().await;
    let last_completed = days_ago(3);
    insert_run(&app, 1, last_completed, true).await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210377"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": deal(48210377) })))
        .expect(1)
        .mount(&app.agendor)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210378"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&app.agendor)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .respond_with(stream_page(vec![]))
        .expect(0)
        .named("deal stream during a run by deal id")
        .mount(&app.agendor)
        .await;
    app.mount_organization(organization(7001)).await;

    let report = app
        .sync(SyncArgs {
            deals: vec![48210377, 48210378],
            ..SyncArgs::default()
        })
        .await;

    assert_eq!(
        deal_report(&report, 48210377).outcome,
        Outcome::Created,
        "{report:#?}"
    );
    let missing = deal_report(&report, 48210378);
    assert_eq!(missing.outcome, Outcome::Failed);
    let reason = missing.error.clone().unwrap_or_default();
    assert!(reason.contains("not found"), "{reason}");
    assert_eq!(report.exit_code(), 3);
    app.agendor.verify().await;
    assert!(!last_run(&app).await.stream_completed);
    assert_watermark_kept(&app, last_completed).await;
}

#[tokio::test]
async fn dry_run_reports_but_writes_nothing() {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut new_procedure = deal(1);
    new_procedure["customFields"]["procedimento_cirurgico"] = json!("Osteotomia de tíbia");
    let mut lost = deal(2);
    lost["dealStatus"] = json!({ "id": 3 });
    let mut malformed = deal(3);
    malformed["wonAt"] = json!("yesterday");
    app.mount_stream(vec![new_procedure, lost, malformed]).await;
    app.mount_organization(organization(7001)).await;
    let procedures_before = app.count("procedimentos").await;

    let report = app
        .sync(SyncArgs {
            dry_run: true,
            ..since(SINCE)
        })
        .await;

    assert!(report.dry_run);
    let created = deal_report(&report, 1);
    assert_eq!(created.outcome, Outcome::Created, "{report:#?}");
    assert_eq!(created.client, Some(ClientOutcome::Created));
    assert_eq!(deal_report(&report, 2).outcome, Outcome::Ignored);
    assert_eq!(deal_report(&report, 3).outcome, Outcome::Failed);
    for table in [
        "cirurgias",
        "clientes",
        "cirurgia_orcamentos",
        "cirurgia_orcamento_itens",
        "agendor_sync.runs",
        "agendor_sync.deal_outcomes",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    assert_eq!(app.count("procedimentos").await, procedures_before);
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn key_set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[tokio::test]
async fn json_report_has_the_documented_shape() {
    let app = spawn_app().await;
    let existing = insert_surgery(&app, 2).await;
    let mut lost = deal(3);
    lost["dealStatus"] = json!({ "id": 3 });
    let mut malformed = deal(4);
    malformed["wonAt"] = json!("yesterday");
    let pages = vec![vec![deal(1), deal(2), lost], vec![malformed, deal(1)]];
    mount_stream_pages(&app.agendor, pages).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;
    let json = serde_json::to_value(&report).unwrap();

    assert_eq!(keys(&json), key_set(&["dry_run", "companies"]));
    assert_eq!(json["dry_run"], json!(false));
    let companies = json["companies"].as_array().unwrap();
    assert_eq!(companies.len(), 1);
    let company = &companies[0];
    assert_eq!(
        keys(company),
        key_set(&["company_id", "since", "status", "error", "counts", "deals"])
    );
    assert_eq!(company["company_id"], json!(1));
    assert_eq!(company["since"], json!("2026-11-01T00:00:00Z"));
    assert_eq!(company["status"], json!("partial"));
    assert_eq!(company["error"], Value::Null);
    assert_eq!(
        company["counts"],
        json!({ "fetched": 4, "created": 1, "already_integrated": 1, "failed": 1, "ignored": 1 })
    );

    let deals = company["deals"].as_array().unwrap();
    let deal_keys = key_set(&[
        "deal_id",
        "outcome",
        "surgery_id",
        "client",
        "warnings",
        "error",
    ]);
    for entry in deals {
        assert_eq!(keys(entry), deal_keys, "{entry}");
        assert!(entry["warnings"].is_array(), "{entry}");
    }
    let mut ids: Vec<i64> = deals
        .iter()
        .map(|d| d["deal_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3, 4], "every received deal appears once");

    let by_id = |id: i64| deals.iter().find(|d| d["deal_id"] == json!(id)).unwrap();
    let created = by_id(1);
    assert_eq!(created["outcome"], json!("created"));
    assert!(created["surgery_id"].is_i64(), "{created}");
    assert_eq!(created["client"], json!("created"));
    assert_eq!(created["error"], Value::Null);
    let integrated = by_id(2);
    assert_eq!(integrated["outcome"], json!("already_integrated"));
    assert_eq!(integrated["surgery_id"], json!(existing));
    assert_eq!(integrated["client"], Value::Null);
    let ignored = by_id(3);
    assert_eq!(ignored["outcome"], json!("ignored"));
    assert_eq!(ignored["surgery_id"], Value::Null);
    assert!(ignored["error"].is_string(), "{ignored}");
    let failed = by_id(4);
    assert_eq!(failed["outcome"], json!("failed"));
    assert_eq!(failed["surgery_id"], Value::Null);
    assert_eq!(failed["client"], Value::Null);
    assert!(failed["error"].is_string(), "{failed}");
}

#[tokio::test]
async fn malformed_deal_fails_alone() {
    let app = spawn_app().await;
    let mut without_id = deal(0);
    without_id.as_object_mut().unwrap().remove("id");
    let mut bad_date = deal(2);
    bad_date["wonAt"] = json!("yesterday");
    app.mount_stream(vec![deal(1), without_id, bad_date, deal(3)])
        .await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync(since(SINCE)).await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Partial, "{report:#?}");
    assert_eq!(company.counts.created, 2);
    assert_eq!(company.counts.failed, 2);
    assert_eq!(deal_report(&report, 1).outcome, Outcome::Created);
    assert_eq!(deal_report(&report, 3).outcome, Outcome::Created);
    let dated = deal_report(&report, 2);
    assert_eq!(dated.outcome, Outcome::Failed);
    let reason = dated.error.clone().unwrap_or_default();
    assert!(reason.contains("wonAt"), "{reason}");
    let anonymous: Vec<_> = company
        .deals
        .iter()
        .filter(|d| d.deal_id.is_none())
        .collect();
    assert_eq!(anonymous.len(), 1, "{report:#?}");
    assert_eq!(anonymous[0].outcome, Outcome::Failed);
    assert_eq!(report.exit_code(), 3);
    assert_eq!(app.count("cirurgias").await, 2);
}
