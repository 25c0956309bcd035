//! The per-deal pipeline: idempotency, client, products and the surgery mapping.

use agendor_sync::report::{ClientOutcome, CompanyStatus, Outcome};
use sqlx::Row;

use crate::support::{deal, deal_report, only_company, organization, person, spawn_app};

#[tokio::test]
async fn won_deal_becomes_a_surgery_with_its_budget() {
    let app = spawn_app().await;
    app.seed_registries().await;
    app.mount_stream(vec![deal(48210377)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync_default().await;

    let company = only_company(&report);
    assert_eq!(company.status, CompanyStatus::Succeeded, "{report:#?}");
    let deal = deal_report(&report, 48210377);
    assert_eq!(deal.outcome, Outcome::Created);
    assert_eq!(deal.client, Some(ClientOutcome::Created));
    assert!(deal.warnings.is_empty(), "{:?}", deal.warnings);

    let surgery = sqlx::query(
        "select codigo_legado, hospital_id, convenio_id, medico_id, procedimento_id,
                vendedor_id, usuario_id, paciente, data_cirurgia::text, etapa, status,
                observacao, observacao_agendamento
         from cirurgias where id = $1",
    )
    .bind(deal.surgery_id.unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(surgery.get::<String, _>(0), "agendor-48210377");
    assert_eq!(surgery.get::<Option<i64>, _>(1), Some(200));
    assert_eq!(surgery.get::<Option<i64>, _>(2), Some(300));
    assert_eq!(surgery.get::<Option<i64>, _>(3), Some(400));
    assert_eq!(surgery.get::<Option<i64>, _>(4), Some(600));
    assert_eq!(surgery.get::<Option<i64>, _>(5), Some(500));
    assert_eq!(surgery.get::<i64, _>(6), 10);
    assert_eq!(surgery.get::<String, _>(7), "Maria das Dores");
    assert_eq!(surgery.get::<String, _>(8), "2026-11-20");
    assert_eq!(surgery.get::<String, _>(9), "ORCAMENTO_PRE");
    assert_eq!(surgery.get::<String, _>(10), "APROVADA");
    assert_eq!(
        surgery.get::<String, _>(11),
        "Fechado após visita técnica.\n\nCriada a partir do Agendor: \
         https://web.agendor.com.br/sistema/negocios/historico.php?id=48210377"
    );
    assert_eq!(surgery.get::<String, _>(12), "Sala 3, 07:00");

    let item = sqlx::query(
        "select i.produto_id, i.quantidade::text, i.valor_unitario::text, i.desconto::text,
                i.valor_total::text, o.tipo
         from cirurgia_orcamento_itens i join cirurgia_orcamentos o on o.id = i.orcamento_id
         where o.cirurgia_id = $1",
    )
    .bind(deal.surgery_id.unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(item.get::<i64, _>(0), 100);
    assert_eq!(item.get::<String, _>(1), "2.000");
    assert_eq!(item.get::<String, _>(2), "480.10");
    assert_eq!(item.get::<String, _>(3), "0.00");
    assert_eq!(item.get::<String, _>(4), "960.20");
    assert_eq!(item.get::<String, _>(5), "PRE");
}

#[tokio::test]
async fn second_run_reports_already_integrated() {
    let app = spawn_app().await;
    app.seed_registries().await;
    app.mount_stream(vec![deal(48210377)]).await;
    app.mount_organization(organization(7001)).await;
    let first = app.sync_default().await;
    let surgery_id = deal_report(&first, 48210377).surgery_id;

    let second = app.sync_default().await;

    let deal = deal_report(&second, 48210377);
    assert_eq!(deal.outcome, Outcome::AlreadyIntegrated);
    assert_eq!(deal.surgery_id, surgery_id);
    assert_eq!(app.count("cirurgias").await, 1);
    assert_eq!(app.count("clientes").await, 1);
}

#[tokio::test]
async fn person_only_deal_creates_a_pf_client() {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut won = deal(48210378);
    won["organization"] = serde_json::Value::Null;
    won["person"] = serde_json::json!({ "id": 8001, "name": "Marcos" });
    app.mount_stream(vec![won]).await;
    app.mount_person(person(8001)).await;

    let report = app.sync_default().await;

    assert_eq!(
        deal_report(&report, 48210378).outcome,
        Outcome::Created,
        "{report:#?}"
    );
    let client = sqlx::query("select tipo_pessoa, cpf, telefone, cep, cidade_id from clientes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(client.get::<String, _>(0), "F");
    assert_eq!(client.get::<String, _>(1), "70531824608");
    assert_eq!(client.get::<String, _>(2), "(21) 90000-0202");
    assert_eq!(client.get::<String, _>(3), "22000000");
}
