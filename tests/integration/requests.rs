//! Requests to Agendor stay minimal: the API's rate limit dominates a run.

use std::collections::HashMap;

use serde_json::json;

use crate::support::{deal, mount_stream_pages, organization, spawn_app, valid_cnpj};

#[tokio::test]
async fn requests_per_deal_stay_minimal() {
    let app = spawn_app().await;
    app.seed_registries().await;
    // 250 deals over 20 organizations; deals 0..10 are already integrated and use
    // organizations of their own, which must never be fetched.
    let deals: Vec<serde_json::Value> = (0..250)
        .map(|index| {
            let mut won = deal(61_000_000 + index);
            let organization_id = if index < 10 {
                8_000 + index
            } else {
                9_000 + index % 20
            };
            won["organization"] = json!({ "id": organization_id, "name": "Cliente" });
            if index % 50 == 0 {
                // A line without code, for one of two catalogue products.
                won["products_entities"][0]["code"] = serde_json::Value::Null;
                won["products_entities"][0]["id"] = json!(1_411_000 + index % 100);
            }
            won
        })
        .collect();
    for index in 0..10 {
        sqlx::query(
            "insert into clientes (empresa_id, tipo_pessoa, nome, cnpj)
             values (1, 'J', 'Antigo', $1)",
        )
        .bind(valid_cnpj(111_111_110_000 + index))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::raw_sql(
        "insert into cirurgias (empresa_id, codigo_legado, cliente_id, usuario_id, etapa, status)
         select 1, 'agendor-' || (61000000 + n), (select min(id) from clientes), 10,
                'ORCAMENTO_PRE', 'APROVADA'
         from generate_series(0, 9) n",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    mount_stream_pages(&app.agendor, deals.chunks(100).map(<[_]>::to_vec).collect()).await;
    for index in 0..20 {
        let mut customer = organization(9_000 + index);
        customer["cnpj"] = json!(valid_cnpj(472_851_630_000 + index as u64));
        app.mount_organization(customer).await;
    }
    app.mount_product(1_411_000, Some("PLC-3.5-08")).await;
    app.mount_product(1_411_050, Some("PLC-3.5-08")).await;

    let report = app.sync_default().await;

    let counts = &report.companies[0].counts;
    assert_eq!(counts.created, 240, "{report:#?}");
    assert_eq!(counts.already_integrated, 10);
    let mut requests: HashMap<String, usize> = HashMap::new();
    for request in app.agendor.received_requests().await.unwrap() {
        // "/v3/organizations/9001" counts as "/v3/organizations", "/v3/deals/stream" as
        // "/v3/deals".
        let route = request.url.path().rsplit_once('/').unwrap().0.to_owned();
        *requests.entry(route).or_default() += 1;
    }
    assert_eq!(
        requests.get("/v3/deals"),
        Some(&3),
        "one stream page per 100 deals"
    );
    assert_eq!(
        requests.get("/v3/organizations"),
        Some(&20),
        "one fetch per distinct customer not yet integrated"
    );
    assert_eq!(
        requests.get("/v3/products"),
        Some(&2),
        "one fetch per distinct product line without code"
    );
    assert_eq!(requests.len(), 3, "no other route: {requests:?}");
}
