//! Unattended operation: retries of failed deals, the watermark and faults.

use agendor_sync::report::Outcome;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{deal, deal_report, organization, spawn_app};

#[tokio::test]
async fn failed_deal_is_retried_after_the_fix_in_v2() {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut customer = organization(7001);
    customer["address"]["city"] = json!("Nova Cidade do Sul");
    app.mount_stream(vec![deal(48210377)]).await;
    app.mount_organization(customer).await;
    let first = app.sync_default().await;
    assert_eq!(deal_report(&first, 48210377).outcome, Outcome::Failed);

    sqlx::query("insert into cidades (nome, uf, codigo_ibge) values ('Nova Cidade do Sul', 'SP', '9999999')")
        .execute(&app.pool)
        .await
        .unwrap();
    app.agendor.reset().await;
    app.mount_stream(vec![]).await;
    app.mount_organization({
        let mut customer = organization(7001);
        customer["address"]["city"] = json!("Nova Cidade do Sul");
        customer
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210377"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": deal(48210377) })))
        .expect(1)
        .mount(&app.agendor)
        .await;

    let second = app.sync_default().await;

    let retried = deal_report(&second, 48210377);
    assert_eq!(retried.outcome, Outcome::Created, "{second:#?}");
    assert!(retried.retry);
    assert_eq!(app.count("cirurgias").await, 1);
}

#[tokio::test]
async fn failed_deal_is_not_retried_after_the_retry_window() {
    let mut app = spawn_app().await;
    app.settings.retry_failed_days = 2;
    sqlx::raw_sql(
        "insert into agendor_sync.runs (id, empresa_id, since, started_at, stream_completed)
             values (1, 1, now() - interval '5 days', now() - interval '5 days', true);
         insert into agendor_sync.deal_outcomes (run_id, empresa_id, deal_id, outcome, error, recorded_at)
             values (1, 1, 48210377, 'failed', 'city not found', now() - interval '3 days');",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app.mount_stream(vec![]).await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210377"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": deal(48210377) })))
        .expect(0)
        .mount(&app.agendor)
        .await;

    let report = app.sync_default().await;

    assert!(report.companies[0].deals.is_empty(), "{report:#?}");
}
