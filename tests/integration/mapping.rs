//! The surgery mapping: registry lookups from custom fields, the notes left when a
//! lookup fails, the procedure created when missing, the surgery date and observation,
//! and the budget items matched by manufacturer reference.

use agendor_sync::report::{DealReport, Outcome};
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{TestApp, deal, deal_report, organization, spawn_app};

const DEAL_ID: i64 = 48210377;

/// Deal page in the Agendor web app, linked when a deal carries no `_webUrl`.
const DEFAULT_URL: &str = "https://web.agendor.com.br/sistema/negocios/historico.php?id=";

/// Starts an app with the registries seeded and organization 7001 served.
async fn app_with_registries() -> TestApp {
    let app = spawn_app().await;
    app.seed_registries().await;
    app.mount_organization(organization(7001)).await;
    app
}

/// Serves `deals` as the stream, runs the sync and returns each deal's report.
async fn sync_deals(app: &TestApp, deals: Vec<Value>) -> Vec<DealReport> {
    let ids: Vec<i64> = deals
        .iter()
        .map(|won| won["id"].as_i64().unwrap())
        .collect();
    app.mount_stream(deals).await;

    let report = app.sync_default().await;

    ids.iter()
        .map(|id| deal_report(&report, *id).clone())
        .collect()
}

async fn sync_one(app: &TestApp, won: Value) -> DealReport {
    sync_deals(app, vec![won]).await.remove(0)
}

/// Returns the surgery id of a deal that must have been created.
fn created(deal: &DealReport, case: &str) -> i64 {
    assert_eq!(deal.outcome, Outcome::Created, "{case}: {deal:#?}");
    deal.surgery_id.expect("a created deal has a surgery")
}

/// Returns `expression` over one surgery, as text.
async fn surgery_value(app: &TestApp, surgery_id: i64, expression: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "select ({expression})::text from cirurgias where id = $1"
    ))
    .bind(surgery_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn observation(app: &TestApp, surgery_id: i64) -> String {
    surgery_value(app, surgery_id, "observacao")
        .await
        .unwrap_or_default()
}

async fn budget_observation(app: &TestApp, surgery_id: i64) -> Option<String> {
    sqlx::query_scalar(
        "select observacao from cirurgia_orcamentos where cirurgia_id = $1 and tipo = 'PRE'",
    )
    .bind(surgery_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// One budget item: sequence, product and the four amounts as text.
type Item = (i16, i64, String, String, String, String);

async fn budget_items(app: &TestApp, surgery_id: i64) -> Vec<Item> {
    let rows = sqlx::query(
        "select i.sequencia, i.produto_id, i.quantidade::text, i.valor_unitario::text,
                i.desconto::text, i.valor_total::text
         from cirurgia_orcamento_itens i
         join cirurgia_orcamentos o on o.id = i.orcamento_id
         where o.cirurgia_id = $1
         order by i.sequencia",
    )
    .bind(surgery_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
            )
        })
        .collect()
}

async fn execute(app: &TestApp, sql: &str) {
    if !sql.is_empty() {
        sqlx::raw_sql(sql).execute(&app.pool).await.unwrap();
    }
}

/// Returns the `cirurgias` column a custom field fills.
fn column_of(key: &str) -> &'static str {
    match key {
        "hospital" => "hospital_id",
        "convenio" => "convenio_id",
        "medico" => "medico_id",
        "vendedor" => "vendedor_id",
        "procedimento_cirurgico" => "procedimento_id",
        "paciente" => "paciente",
        "grade_da_cirurgia" => "observacao_agendamento",
        other => panic!("no column for custom field {other}"),
    }
}

/// Parses JSON text, keeping numbers exactly as written.
fn raw(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn deal_with_field(key: &str, value: Value) -> Value {
    let mut won = deal(DEAL_ID);
    won["customFields"][key] = value;
    won
}

struct LookupCase {
    /// Custom field key on the deal.
    key: &'static str,
    value: Value,
    /// SQL run before the sync, to add registry rows; empty for none.
    setup: &'static str,
    expected: Option<i64>,
    /// Text the surgery's observation must contain; `None` means no note for the field.
    note: Option<&'static str>,
}

fn found(key: &'static str, value: Value, id: i64) -> LookupCase {
    LookupCase {
        key,
        value,
        setup: "",
        expected: Some(id),
        note: None,
    }
}

fn found_with(key: &'static str, value: Value, setup: &'static str, id: i64) -> LookupCase {
    LookupCase {
        setup,
        ..found(key, value, id)
    }
}

fn not_linked(
    key: &'static str,
    value: Value,
    setup: &'static str,
    note: &'static str,
) -> LookupCase {
    LookupCase {
        key,
        value,
        setup,
        expected: None,
        note: Some(note),
    }
}

async fn check_lookups(cases: Vec<LookupCase>) {
    for case in cases {
        let label = format!("{} = {}", case.key, case.value);
        let app = app_with_registries().await;
        execute(&app, case.setup).await;

        let deal = sync_one(&app, deal_with_field(case.key, case.value)).await;

        let surgery_id = created(&deal, &label);
        let linked = surgery_value(&app, surgery_id, column_of(case.key)).await;
        assert_eq!(
            linked,
            case.expected.map(|id| id.to_string()),
            "{label}: linked id"
        );
        let observation = observation(&app, surgery_id).await;
        match case.note {
            Some(note) => assert!(
                observation.contains(note),
                "{label}: `{note}` missing from `{observation}`"
            ),
            None => assert!(
                !observation.contains(&format!("\"{}\")", case.key)),
                "{label}: unexpected note in `{observation}`"
            ),
        }
    }
}

#[tokio::test]
async fn lookups_find_registry_rows() {
    check_lookups(vec![
        found("hospital", json!("Hospital São Lucas"), 200),
        found("hospital", json!("  HOSPITAL sao   lucas "), 200),
        found(
            "hospital",
            json!({ "id": 7, "value": "Hospital São Lucas" }),
            200,
        ),
        found("hospital", json!(["Hospital São Lucas"]), 200),
        found(
            "hospital",
            json!([{ "id": 7, "value": "Hospital São Lucas" }]),
            200,
        ),
        found("convenio", json!("Unimed"), 300),
        found(
            "convenio",
            json!({ "id": 59538, "value": "bradesco saude" }),
            301,
        ),
        found("medico", json!("CRM 654321/RJ"), 401),
        found("medico", json!("Dr. Carlos Souza"), 401),
        found("medico", json!("Dra. Ana Lima"), 400),
        found("medico", json!("ana lima"), 400),
        found("medico", json!(654321), 401),
        found("vendedor", json!("carla@example.com"), 500),
        found("vendedor", json!(" Carla@Example.com "), 500),
        found("vendedor", json!("Carla Menezes"), 500),
        found(
            "vendedor",
            json!({ "id": 3, "value": "carla menezes" }),
            500,
        ),
        found(
            "procedimento_cirurgico",
            json!("Artroplastia total de joelho"),
            600,
        ),
        found(
            "procedimento_cirurgico",
            json!(" ARTROPLASTIA  total DE joelho "),
            600,
        ),
        found("medico", json!("Dr. Nome Diferente - CRM 654321/RJ"), 401),
        found_with(
            "hospital",
            json!("Hospital Sant’Ana"),
            "insert into hospitais (id, empresa_id, nome) values (202, 1, 'Hospital Sant''Ana');",
            202,
        ),
        found_with(
            "convenio",
            json!(4521),
            "insert into convenios (id, empresa_id, nome) values (302, 1, '4521');",
            302,
        ),
    ])
    .await;
}

#[tokio::test]
async fn doctor_without_crm_uf_matches_by_number() {
    check_lookups(vec![found_with(
        "medico",
        json!("CRM 555555/SP"),
        "insert into medicos (id, empresa_id, nome, crm, crm_uf)
         values (402, 1, 'Beatriz Reis', '555555', null);",
        402,
    )])
    .await;
}

#[tokio::test]
async fn lookup_not_found_leaves_a_note() {
    check_lookups(vec![
        not_linked(
            "hospital",
            json!("Hospital Inexistente"),
            "",
            "Hospital \"Hospital Inexistente\" não encontrado no V2 (campo personalizado \
             \"hospital\").",
        ),
        not_linked(
            "hospital",
            json!("Hospital Outro"),
            "",
            "Hospital \"Hospital Outro\" não encontrado no V2",
        ),
        not_linked(
            "hospital",
            json!("Hospital São"),
            "",
            "Hospital \"Hospital São\" não encontrado no V2",
        ),
        not_linked(
            "hospital",
            json!("Hospital Fechado"),
            "insert into hospitais (empresa_id, nome, ativo) values (1, 'Hospital Fechado', false);",
            "Hospital \"Hospital Fechado\" não encontrado no V2",
        ),
        not_linked(
            "convenio",
            json!({ "id": 1, "value": "Amil" }),
            "",
            "Convênio \"Amil\" não encontrado no V2 (campo personalizado \"convenio\").",
        ),
        not_linked(
            "medico",
            json!("CRM 999999/SP"),
            "",
            "Médico \"CRM 999999/SP\" não encontrado no V2 (campo personalizado \"medico\").",
        ),
        not_linked(
            "medico",
            json!("CRM 654321/SP"),
            "",
            "Médico \"CRM 654321/SP\" não encontrado no V2",
        ),
        not_linked(
            "medico",
            json!("Dr. Fulano de Tal"),
            "",
            "Médico \"Dr. Fulano de Tal\" não encontrado no V2",
        ),
        not_linked(
            "vendedor",
            json!("ninguem@example.com"),
            "",
            "Vendedor \"ninguem@example.com\" não encontrado no V2 (campo personalizado \
             \"vendedor\").",
        ),
        not_linked(
            "hospital",
            json!(["Hospital São Lucas", "Hospital Outro"]),
            "",
            "Hospital \"Hospital São Lucas, Hospital Outro\" não encontrado no V2",
        ),
        not_linked(
            "vendedor",
            json!("outra@example.com"),
            "insert into vendedores (empresa_id, nome, email) values (2, 'Outra', 'outra@example.com');",
            "Vendedor \"outra@example.com\" não encontrado no V2",
        ),
        not_linked(
            "vendedor",
            json!("Carla"),
            "",
            "Vendedor \"Carla\" não encontrado no V2",
        ),
    ])
    .await;
}

#[tokio::test]
async fn ambiguous_lookup_leaves_a_note() {
    check_lookups(vec![
        not_linked(
            "hospital",
            json!("Hospital Duplicado"),
            "insert into hospitais (empresa_id, nome) values
                 (1, 'Hospital Duplicado'), (1, 'HOSPITAL DUPLICADO');",
            "Hospital \"Hospital Duplicado\" corresponde a 2 cadastros no V2; nenhum foi \
             vinculado (campo personalizado \"hospital\").",
        ),
        not_linked(
            "convenio",
            json!("Amil"),
            "insert into convenios (empresa_id, nome) values (1, 'Amil'), (1, 'Amil');",
            "Convênio \"Amil\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "medico",
            json!("Dr. João Silva"),
            "insert into medicos (empresa_id, nome) values (1, 'João Silva'), (1, 'Joao Silva');",
            "Médico \"Dr. João Silva\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "medico",
            json!("CRM 777777/SP"),
            "insert into medicos (empresa_id, nome, crm, crm_uf) values
                 (1, 'Pedro Um', '777777', 'SP'), (1, 'Pedro Dois', '777777', 'SP');",
            "Médico \"CRM 777777/SP\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "medico",
            json!("CRM 777777"),
            "insert into medicos (empresa_id, nome, crm, crm_uf) values
                 (1, 'Pedro Um', '777777', 'SP'), (1, 'Pedro Dois', '777777', 'RJ');",
            "Médico \"CRM 777777\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "vendedor",
            json!("Pedro Alves"),
            "insert into vendedores (empresa_id, nome) values (1, 'Pedro Alves'), (1, 'Pedro Alves');",
            "Vendedor \"Pedro Alves\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "vendedor",
            json!("vendas@example.com"),
            "insert into vendedores (empresa_id, nome, email) values
                 (1, 'Ana', 'vendas@example.com'), (1, 'Bia', 'VENDAS@example.com');",
            "Vendedor \"vendas@example.com\" corresponde a 2 cadastros no V2",
        ),
        not_linked(
            "procedimento_cirurgico",
            json!("Artrodese lombar"),
            "insert into procedimentos (empresa_id, descricao) values
                 (1, 'Artrodese lombar'), (1, 'Artrodese  Lombar');",
            "Procedimento \"Artrodese lombar\" corresponde a 2 cadastros no V2",
        ),
    ])
    .await;
}

#[tokio::test]
async fn ambiguous_procedure_is_not_created() {
    let app = app_with_registries().await;
    execute(
        &app,
        "insert into procedimentos (empresa_id, descricao) values
             (1, 'Artrodese lombar'), (1, 'artrodese lombar');",
    )
    .await;

    let deal = sync_one(
        &app,
        deal_with_field("procedimento_cirurgico", json!("Artrodese lombar")),
    )
    .await;

    let surgery_id = created(&deal, "ambiguous procedure");
    assert_eq!(
        surgery_value(&app, surgery_id, "procedimento_id").await,
        None
    );
    assert_eq!(app.count("procedimentos").await, 3);
}

/// Ways a custom field has no value.
fn empty_shapes() -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("absent", None),
        ("null", Some(Value::Null)),
        ("empty", Some(json!(""))),
        ("whitespace", Some(json!(" \t\u{00A0} "))),
        ("blank option", Some(json!({ "id": 59538, "value": "  " }))),
        ("empty array", Some(json!([]))),
    ]
}

const CUSTOM_FIELDS: [(&str, &str); 7] = [
    ("hospital", "Hospital"),
    ("convenio", "Convênio"),
    ("medico", "Médico"),
    ("vendedor", "Vendedor"),
    ("procedimento_cirurgico", "Procedimento"),
    ("paciente", "Paciente"),
    ("grade_da_cirurgia", "Grade da cirurgia"),
];

#[tokio::test]
async fn empty_custom_field_leaves_a_note() {
    for (shape, value) in empty_shapes() {
        let app = app_with_registries().await;
        let mut won = deal(DEAL_ID);
        for (key, _) in CUSTOM_FIELDS {
            match &value {
                Some(value) => won["customFields"][key] = value.clone(),
                None => {
                    won["customFields"].as_object_mut().unwrap().remove(key);
                }
            }
        }

        let deal = sync_one(&app, won).await;

        let surgery_id = created(&deal, shape);
        let observation = observation(&app, surgery_id).await;
        for (key, label) in CUSTOM_FIELDS {
            let column = surgery_value(&app, surgery_id, column_of(key)).await;
            assert_eq!(column, None, "{shape}: {key}");
            assert!(
                has_missing_note(&observation, label, key),
                "{shape}: no note for {key} in `{observation}`"
            );
        }
        assert_eq!(
            app.count("procedimentos").await,
            1,
            "{shape}: procedimentos"
        );
        assert_eq!(blank_names(&app).await, 0, "{shape}: rows named \"\"");
    }
}

#[tokio::test]
async fn custom_fields_absent_leave_notes() {
    let app = app_with_registries().await;
    let mut won = deal(DEAL_ID);
    won.as_object_mut().unwrap().remove("customFields");

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "no customFields");
    let observation = observation(&app, surgery_id).await;
    for (key, label) in CUSTOM_FIELDS {
        assert!(
            has_missing_note(&observation, label, key),
            "no note for {key} in `{observation}`"
        );
    }
    assert_eq!(app.count("procedimentos").await, 1);
    assert_eq!(blank_names(&app).await, 0);
}

/// Tells whether the observation has the line saying that the field `key` has no value.
/// The participle is left open ("informado"/"informada") so that its gender is checked
/// apart, by `missing_schedule_note_agrees_in_gender`.
fn has_missing_note(observation: &str, label: &str, key: &str) -> bool {
    let prefix = format!("{label} não informad");
    let suffix = format!(" no Agendor (campo personalizado \"{key}\").");
    observation
        .lines()
        .any(|line| line.starts_with(&prefix) && line.ends_with(&suffix))
}

#[tokio::test]
async fn missing_schedule_note_agrees_in_gender() {
    let app = app_with_registries().await;
    let mut won = deal(DEAL_ID);
    won["customFields"]["grade_da_cirurgia"] = Value::Null;

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "no schedule");
    let note = "Grade da cirurgia não informada no Agendor (campo personalizado \
                \"grade_da_cirurgia\").";
    let observation = observation(&app, surgery_id).await;
    assert!(
        observation.contains(note),
        "`{note}` missing from `{observation}`"
    );
}

/// Counts registry rows whose name is empty or blank.
async fn blank_names(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from hospitais where trim(nome) = '')
              + (select count(*) from convenios where trim(nome) = '')
              + (select count(*) from medicos where trim(nome) = '')
              + (select count(*) from vendedores where trim(nome) = '')
              + (select count(*) from procedimentos where trim(descricao) = '')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn text_fields_are_trimmed_and_nfc() {
    let app = app_with_registries().await;
    let mut won = deal(DEAL_ID);
    won["customFields"]["paciente"] = json!("  Mari\u{0301}a Conceic\u{0327}a\u{0303}o ");
    won["customFields"]["grade_da_cirurgia"] = json!({ "id": 4, "value": " Sala 2, 13:00 " });

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "text fields");
    assert_eq!(
        surgery_value(&app, surgery_id, "paciente").await.as_deref(),
        Some("Mar\u{ed}a Concei\u{e7}\u{e3}o")
    );
    assert_eq!(
        surgery_value(&app, surgery_id, "observacao_agendamento")
            .await
            .as_deref(),
        Some("Sala 2, 13:00")
    );
}

#[tokio::test]
async fn missing_procedure_is_created_cleaned() {
    let app = app_with_registries().await;
    let value = "  Reconstruc\u{0327}a\u{0303}o   do\u{00A0}LCA ";

    let deal = sync_one(
        &app,
        deal_with_field("procedimento_cirurgico", json!(value)),
    )
    .await;

    let surgery_id = created(&deal, "new procedure");
    let procedure = sqlx::query(
        "select p.id, p.descricao, p.empresa_id, p.ativo from procedimentos p
         join cirurgias c on c.procedimento_id = p.id where c.id = $1",
    )
    .bind(surgery_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_ne!(procedure.get::<i64, _>(0), 600);
    assert_eq!(
        procedure.get::<String, _>(1),
        "Reconstru\u{e7}\u{e3}o do LCA"
    );
    assert_eq!(procedure.get::<i64, _>(2), 1);
    assert!(procedure.get::<bool, _>(3));
    assert_eq!(app.count("procedimentos").await, 2);
    assert!(
        !observation(&app, surgery_id).await.contains("Procedimento"),
        "a created procedure needs no note"
    );
}

#[tokio::test]
async fn procedure_is_created_once_per_run() {
    let app = app_with_registries().await;
    let mut first = deal(1001);
    first["customFields"]["procedimento_cirurgico"] = json!("Artrodese lombar L4-L5");
    let mut second = deal(1002);
    second["customFields"]["procedimento_cirurgico"] = json!("  ARTRODESE   lombar l4-l5 ");

    let deals = sync_deals(&app, vec![first, second]).await;

    let first_id = created(&deals[0], "first deal");
    let second_id = created(&deals[1], "second deal");
    let first_procedure = surgery_value(&app, first_id, "procedimento_id").await;
    let second_procedure = surgery_value(&app, second_id, "procedimento_id").await;
    assert!(first_procedure.is_some());
    assert_eq!(first_procedure, second_procedure);
    assert_eq!(app.count("procedimentos").await, 2);
    let description: String =
        sqlx::query_scalar("select descricao from procedimentos where id <> 600")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(description, "Artrodese lombar L4-L5");
}

#[tokio::test]
async fn procedure_of_another_company_is_not_used() {
    let app = app_with_registries().await;
    execute(
        &app,
        "insert into procedimentos (id, empresa_id, descricao) values (610, 2, 'Artrodese lombar');",
    )
    .await;

    let deal = sync_one(
        &app,
        deal_with_field("procedimento_cirurgico", json!("Artrodese lombar")),
    )
    .await;

    let surgery_id = created(&deal, "procedure of company 2");
    let company = surgery_value(
        &app,
        surgery_id,
        "select empresa_id from procedimentos where procedimentos.id = procedimento_id",
    )
    .await;
    assert_eq!(company.as_deref(), Some("1"));
    assert_eq!(app.count("procedimentos").await, 3);
}

#[tokio::test]
async fn procedure_longer_than_its_column_fails() {
    let app = app_with_registries().await;
    let value = "A".repeat(201);

    let deal = sync_one(
        &app,
        deal_with_field("procedimento_cirurgico", json!(value)),
    )
    .await;

    assert_eq!(deal.outcome, Outcome::Failed, "{deal:#?}");
    let error = deal.error.as_deref().unwrap_or_default();
    assert!(error.contains("procedimentos.descricao"), "{error}");
    assert!(error.contains("200"), "{error}");
    assert_eq!(app.count("procedimentos").await, 1);
    assert_eq!(app.count("clientes").await, 0);
    assert_eq!(app.count("cirurgias").await, 0);
}

#[tokio::test]
async fn custom_field_keys_are_configurable() {
    let mut app = app_with_registries().await;
    app.settings.custom_fields.hospital = "hospital_destino".into();
    app.settings.custom_fields.medico = "medico_responsavel".into();
    let mut won = deal(DEAL_ID);
    won["customFields"]["hospital_destino"] = json!("Hospital São Lucas");
    won["customFields"]["hospital"] = json!("Hospital Inexistente");

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "configured keys");
    let hospital = surgery_value(&app, surgery_id, "hospital_id").await;
    assert_eq!(hospital.as_deref(), Some("200"));
    let doctor = surgery_value(&app, surgery_id, "medico_id").await;
    assert_eq!(doctor, None);
    let observation = observation(&app, surgery_id).await;
    assert!(
        has_missing_note(&observation, "Médico", "medico_responsavel"),
        "{observation}"
    );
    assert!(!observation.contains("Hospital"), "{observation}");
}

#[tokio::test]
async fn procedure_of_failed_deal_is_created_again() {
    let app = app_with_registries().await;
    let mut failing = deal(1001);
    failing["customFields"]["procedimento_cirurgico"] = json!("Artrodese cervical");
    failing["customFields"]["paciente"] = json!("P".repeat(151));
    let mut next = deal(1002);
    next["customFields"]["procedimento_cirurgico"] = json!("Artrodese cervical");

    let deals = sync_deals(&app, vec![failing, next]).await;

    assert_eq!(deals[0].outcome, Outcome::Failed, "{:#?}", deals[0]);
    let surgery_id = created(&deals[1], "deal after the failure");
    let description = surgery_value(
        &app,
        surgery_id,
        "select descricao from procedimentos where procedimentos.id = procedimento_id",
    )
    .await;
    assert_eq!(description.as_deref(), Some("Artrodese cervical"));
    assert_eq!(app.count("procedimentos").await, 2);
}

#[tokio::test]
async fn surgery_date_is_the_local_win_date() {
    let cases = [
        (
            "late evening in Brazil",
            Some(json!("2026-11-20T01:30:00Z")),
            Some("2026-11-19"),
        ),
        (
            "midnight in Brazil",
            Some(json!("2026-11-20T03:00:00Z")),
            Some("2026-11-20"),
        ),
        (
            "afternoon",
            Some(json!("2026-11-20T17:42:08.000Z")),
            Some("2026-11-20"),
        ),
        (
            "explicit offset",
            Some(json!("2026-11-19T23:30:00-03:00")),
            Some("2026-11-19"),
        ),
        ("absent", None, None),
        ("null", Some(Value::Null), None),
    ];

    for (case, won_at, expected) in cases {
        let app = app_with_registries().await;
        let mut won = deal(DEAL_ID);
        match won_at {
            Some(won_at) => won["wonAt"] = won_at,
            None => {
                won.as_object_mut().unwrap().remove("wonAt");
            }
        }

        let deal = sync_one(&app, won).await;

        let surgery_id = created(&deal, case);
        let date = surgery_value(&app, surgery_id, "data_cirurgia").await;
        assert_eq!(date.as_deref(), expected, "{case}");
        let observation = observation(&app, surgery_id).await;
        let noted = observation.contains("Data da cirurgia não preenchida");
        assert_eq!(noted, expected.is_none(), "{case}: note in `{observation}`");
    }
}

#[tokio::test]
async fn surgery_date_uses_the_configured_time_zone() {
    let mut app = app_with_registries().await;
    app.settings.timezone = chrono_tz::UTC;
    let mut won = deal(DEAL_ID);
    won["wonAt"] = json!("2026-11-20T01:30:00Z");

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "UTC");
    let date = surgery_value(&app, surgery_id, "data_cirurgia").await;
    assert_eq!(date.as_deref(), Some("2026-11-20"));
}

#[tokio::test]
async fn observation_joins_description_notes_and_link() {
    let app = app_with_registries().await;
    let mut won = deal(DEAL_ID);
    won["customFields"]["hospital"] = json!("Hospital Inexistente");
    won["customFields"]["convenio"] = json!("Amil");
    won.as_object_mut().unwrap().remove("_webUrl");

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "observation");
    let expected = format!(
        "Fechado após visita técnica.\n\n\
         Hospital \"Hospital Inexistente\" não encontrado no V2 (campo personalizado \
         \"hospital\").\n\
         Convênio \"Amil\" não encontrado no V2 (campo personalizado \"convenio\").\n\n\
         Criada a partir do Agendor: {DEFAULT_URL}{DEAL_ID}"
    );
    assert_eq!(observation(&app, surgery_id).await, expected);
}

#[tokio::test]
async fn observation_without_description_starts_with_notes() {
    let app = app_with_registries().await;
    let mut won = deal(DEAL_ID);
    won.as_object_mut().unwrap().remove("description");
    won["customFields"]["vendedor"] = json!("ninguem@example.com");

    let deal = sync_one(&app, won).await;

    let surgery_id = created(&deal, "no description");
    let expected = format!(
        "Vendedor \"ninguem@example.com\" não encontrado no V2 (campo personalizado \
         \"vendedor\").\n\n\
         Criada a partir do Agendor: https://web.agendor.com.br/sistema/negocios/\
         historico.php?id={DEAL_ID}"
    );
    assert_eq!(observation(&app, surgery_id).await, expected);
}

#[tokio::test]
async fn observation_links_the_deal() {
    let custom_url = "https://web.agendor.com.br/sistema/negocios/historico.php?id=48210377&t=1";
    let default_url = format!("{DEFAULT_URL}{DEAL_ID}");
    let cases = [
        (
            "custom _webUrl",
            Some(json!(custom_url)),
            None,
            custom_url.to_owned(),
        ),
        ("no _webUrl", None, None, default_url.clone()),
        ("null _webUrl", Some(Value::Null), None, default_url.clone()),
        ("empty _webUrl", Some(json!("")), None, default_url.clone()),
        (
            "blank description",
            None,
            Some(json!("   ")),
            default_url.clone(),
        ),
        (
            "null description",
            None,
            Some(Value::Null),
            default_url.clone(),
        ),
    ];

    for (case, web_url, description, url) in cases {
        let app = app_with_registries().await;
        let mut won = deal(DEAL_ID);
        match web_url {
            Some(web_url) => won["_webUrl"] = web_url,
            None => {
                won.as_object_mut().unwrap().remove("_webUrl");
            }
        }
        let description_replaced = description.is_some();
        if let Some(description) = description {
            won["description"] = description;
        }

        let deal = sync_one(&app, won).await;

        let surgery_id = created(&deal, case);
        let observation = observation(&app, surgery_id).await;
        let link = format!("Criada a partir do Agendor: {url}");
        if description_replaced {
            assert_eq!(observation, link, "{case}");
        } else {
            assert_eq!(
                observation,
                format!("Fechado após visita técnica.\n\n{link}"),
                "{case}"
            );
        }
    }
}

fn deal_with_lines(lines: Vec<Value>) -> Value {
    let mut won = deal(DEAL_ID);
    won["products_entities"] = Value::Array(lines);
    won
}

#[tokio::test]
async fn product_found_keeps_exact_decimals() {
    let app = app_with_registries().await;
    let lines = vec![
        raw(
            r#"{"id": 1411781, "code": " plc-3.5-08 ", "name": "Placa", "quantity": "1.5",
                "unitValue": 480.10, "discount": "0.05", "totalValue": 720.10}"#,
        ),
        raw(
            r#"{"id": 1411782, "code": "par-cort-3.5X24", "name": "Parafuso", "quantity": 100,
                "unitValue": 999999999999.99, "discount": 0.99,
                "totalValue": 99999999999998.01}"#,
        ),
    ];

    let deal = sync_one(&app, deal_with_lines(lines)).await;

    let surgery_id = created(&deal, "exact decimals");
    let items = budget_items(&app, surgery_id).await;
    assert_eq!(
        items,
        vec![
            (
                1,
                100,
                "1.500".into(),
                "480.10".into(),
                "0.05".into(),
                "720.10".into()
            ),
            (
                2,
                101,
                "100.000".into(),
                "999999999999.99".into(),
                "0.99".into(),
                "99999999999998.01".into()
            ),
        ]
    );
    assert_eq!(budget_observation(&app, surgery_id).await, None);
}

#[tokio::test]
async fn product_reference_matches_v2_side_normalised() {
    let cases = [
        (
            "reference stored with spaces and lower case",
            "insert into produtos (id, empresa_id, descricao, referencia_fabricante, ativo)
             values (110, 1, 'Placa', '  ref-espaco ', true);",
            "REF-ESPACO",
            110,
        ),
        (
            "one active and one inactive product share the reference",
            "insert into produtos (id, empresa_id, descricao, referencia_fabricante, ativo)
             values (111, 1, 'Ativo', 'UNICO-01', true), (112, 1, 'Inativo', 'unico-01', false);",
            "unico-01",
            111,
        ),
    ];

    for (case, setup, code, expected) in cases {
        let app = app_with_registries().await;
        execute(&app, setup).await;
        let line = json!({ "id": 1, "code": code, "name": "Item", "quantity": 1,
                           "unitValue": "10.00", "totalValue": "10.00" });

        let deal = sync_one(&app, deal_with_lines(vec![line])).await;

        let surgery_id = created(&deal, case);
        let items = budget_items(&app, surgery_id).await;
        let products: Vec<i64> = items.iter().map(|item| item.1).collect();
        assert_eq!(products, vec![expected], "{case}");
    }
}

#[tokio::test]
async fn unlocated_product_leaves_a_budget_note() {
    let cases: [(&str, Value, Option<Option<&str>>, &str); 9] = [
        (
            "unknown reference",
            json!({ "id": 1411799, "code": "NAO-EXISTE", "name": "Haste X" }),
            None,
            "Produto \"Haste X\" (id Agendor 1411799) não localizado: nenhum produto ativo \
             com a referência do fabricante \"NAO-EXISTE\".",
        ),
        (
            "no code anywhere",
            json!({ "id": 1411799, "name": "Haste X" }),
            Some(None),
            "Produto \"Haste X\" (id Agendor 1411799) não localizado: o item não tem código \
             no Agendor.",
        ),
        (
            "blank code",
            json!({ "id": 1411799, "code": "  ", "name": "Haste X" }),
            Some(None),
            "Produto \"Haste X\" (id Agendor 1411799) não localizado: o item não tem código",
        ),
        (
            "two active products share the reference",
            json!({ "id": 1411799, "code": "DUP-01", "name": "Haste X" }),
            None,
            "Produto \"Haste X\" (id Agendor 1411799) não localizado: 2 produtos ativos têm \
             a referência do fabricante \"DUP-01\".",
        ),
        (
            "inactive product",
            json!({ "id": 1411799, "code": "INATIVO-01", "name": "Haste X" }),
            None,
            "Produto \"Haste X\" (id Agendor 1411799) não localizado: nenhum produto ativo \
             com a referência do fabricante \"INATIVO-01\".",
        ),
        (
            "product of another company",
            json!({ "id": 1411799, "code": "OUTRA-01", "name": "Haste X" }),
            None,
            "referência do fabricante \"OUTRA-01\"",
        ),
        (
            "substring of a reference",
            json!({ "id": 1411799, "code": "PLC-3.5", "name": "Haste X" }),
            None,
            "referência do fabricante \"PLC-3.5\"",
        ),
        (
            "reference plus a suffix",
            json!({ "id": 1411799, "code": "PLC-3.5-08-X", "name": "Haste X" }),
            None,
            "referência do fabricante \"PLC-3.5-08-X\"",
        ),
        (
            "catalogue code unknown in V2",
            json!({ "id": 1411799, "name": "Haste X" }),
            Some(Some("CAT-404")),
            "referência do fabricante \"CAT-404\"",
        ),
    ];

    for (case, mut line, catalogue, note) in cases {
        let app = app_with_registries().await;
        if let Some(code) = catalogue {
            app.mount_product(1411799, code).await;
        }
        line["quantity"] = json!(1);
        line["unitValue"] = json!("10.00");

        let deal = sync_one(&app, deal_with_lines(vec![line])).await;

        let surgery_id = created(&deal, case);
        assert_eq!(budget_items(&app, surgery_id).await, vec![], "{case}");
        let budget_note = budget_observation(&app, surgery_id)
            .await
            .unwrap_or_default();
        assert!(
            budget_note.contains(note),
            "{case}: `{note}` missing from `{budget_note}`"
        );
        assert_eq!(app.count("produtos").await, 6, "{case}: products created");
        let surgery_note = observation(&app, surgery_id).await;
        assert!(
            !surgery_note.contains("Produto"),
            "{case}: product note in the surgery: `{surgery_note}`"
        );
    }
}

#[tokio::test]
async fn line_without_code_uses_the_catalogue() {
    let app = app_with_registries().await;
    app.mount_product(1411790, Some("PAR-CORT-3.5x24")).await;
    let line = json!({ "id": 1411790, "name": "Parafuso", "quantity": 4,
                       "unitValue": "35.50", "totalValue": "142.00" });

    let deal = sync_one(&app, deal_with_lines(vec![line])).await;

    let surgery_id = created(&deal, "catalogue code");
    let items = budget_items(&app, surgery_id).await;
    assert_eq!(
        items,
        vec![(
            1,
            101,
            "4.000".into(),
            "35.50".into(),
            "0.00".into(),
            "142.00".into()
        )]
    );
    assert_eq!(budget_observation(&app, surgery_id).await, None);
}

#[tokio::test]
async fn budget_items_are_numbered_in_order() {
    let app = app_with_registries().await;
    app.mount_product(1411790, Some("PLC-3.5-08")).await;
    let line = |id: i64, code: Option<&str>| {
        json!({ "id": id, "code": code, "name": format!("Item {id}"), "quantity": 1,
                "unitValue": "10.00", "totalValue": "10.00" })
    };
    let lines = vec![
        line(1, Some("PAR-CORT-3.5x24")),
        line(2, Some("NAO-EXISTE")),
        line(1411790, None),
        line(4, Some("PAR-CORT-3.5x24")),
        line(5, Some("DUP-01")),
    ];

    let deal = sync_one(&app, deal_with_lines(lines)).await;

    let surgery_id = created(&deal, "numbering");
    let items = budget_items(&app, surgery_id).await;
    let numbered: Vec<(i16, i64)> = items.iter().map(|item| (item.0, item.1)).collect();
    assert_eq!(numbered, vec![(1, 101), (2, 100), (3, 101)]);
    let observation = budget_observation(&app, surgery_id)
        .await
        .unwrap_or_default();
    let lines: Vec<&str> = observation.lines().collect();
    assert_eq!(lines.len(), 2, "{observation}");
    assert!(lines[0].starts_with("Produto \"Item 2\""), "{observation}");
    assert!(lines[1].starts_with("Produto \"Item 5\""), "{observation}");
}

#[tokio::test]
async fn amount_that_would_round_fails_the_deal() {
    let cases = [
        (
            "quantity with four decimals",
            r#"{"quantity": "1.2345", "unitValue": 480.10, "totalValue": 592.68}"#,
            [
                "cirurgia_orcamento_itens.quantidade",
                "numeric(12,3)",
                "1.2345",
            ],
        ),
        (
            "unit value with three decimals",
            r#"{"quantity": 1, "unitValue": 480.105, "totalValue": 480.10}"#,
            [
                "cirurgia_orcamento_itens.valor_unitario",
                "numeric(14,2)",
                "480.105",
            ],
        ),
        (
            "discount with three decimals",
            r#"{"quantity": 1, "unitValue": 480.10, "discount": "0.001", "totalValue": 480.10}"#,
            [
                "cirurgia_orcamento_itens.desconto",
                "numeric(14,2)",
                "0.001",
            ],
        ),
        (
            "total beyond the column",
            r#"{"quantity": 1, "unitValue": 1, "totalValue": 12345678901234567.00}"#,
            [
                "cirurgia_orcamento_itens.valor_total",
                "numeric(16,2)",
                "12345678901234567",
            ],
        ),
    ];

    for (case, amounts, expected) in cases {
        let app = app_with_registries().await;
        let mut line = raw(amounts);
        line["id"] = json!(1411781);
        line["code"] = json!("PLC-3.5-08");

        let deal = sync_one(&app, deal_with_lines(vec![line])).await;

        assert_eq!(deal.outcome, Outcome::Failed, "{case}: {deal:#?}");
        let error = deal.error.as_deref().unwrap_or_default();
        for part in expected {
            assert!(
                error.contains(part),
                "{case}: `{part}` missing from `{error}`"
            );
        }
        assert_eq!(app.count("cirurgias").await, 0, "{case}: cirurgias");
        assert_eq!(app.count("clientes").await, 0, "{case}: clientes");
        assert_eq!(
            app.count("cirurgia_orcamento_itens").await,
            0,
            "{case}: items"
        );
    }
}
