//! The client step: a PJ client from the organization or a PF client from the person,
//! the lookup by normalised document within the company, and every rule a new client
//! must pass before it is written.

use agendor_sync::report::{ClientOutcome, DealReport, Outcome};
use serde_json::{Value, json};
use sqlx::Row;

use crate::support::{
    COMPANY_ID, TestApp, USER_ID, deal, deal_report, organization, person, spawn_app,
};

const DEAL_ID: i64 = 48210377;

/// IBGE code of Santo André/SP, the city of the `organization` fixture.
const SANTO_ANDRE_SP: &str = "3547809";

/// A change to an Agendor organization or person before it is served.
type Edit = fn(&mut Value);

/// Syncs one deal of organization 7001 after `edit` changed the organization.
async fn sync_organization(edit: impl FnOnce(&mut Value)) -> (TestApp, DealReport) {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut agendor_organization = organization(7001);
    edit(&mut agendor_organization);
    app.mount_stream(vec![deal(DEAL_ID)]).await;
    app.mount_organization(agendor_organization).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID).clone();
    (app, deal)
}

/// Syncs one deal without organization, of person 8001 after `edit` changed the person.
async fn sync_person(edit: impl FnOnce(&mut Value)) -> (TestApp, DealReport) {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut agendor_person = person(8001);
    edit(&mut agendor_person);
    app.mount_stream(vec![person_deal()]).await;
    app.mount_person(agendor_person).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID).clone();
    (app, deal)
}

fn person_deal() -> Value {
    let mut won = deal(DEAL_ID);
    won["organization"] = Value::Null;
    won["person"] = json!({ "id": 8001, "name": "Marcos" });
    won
}

/// Returns `expression` over the only client of company 1, as text.
async fn client_value(app: &TestApp, expression: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "select ({expression})::text from clientes where empresa_id = {COMPANY_ID}"
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|error| panic!("no client to read `{expression}` from: {error}"))
}

/// Returns the IBGE code of the city of the only client of company 1.
async fn client_city(app: &TestApp) -> Option<String> {
    client_value(
        app,
        "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
    )
    .await
}

async fn surgery_client_id(app: &TestApp, deal: &DealReport) -> i64 {
    sqlx::query_scalar("select cliente_id from cirurgias where id = $1")
        .bind(deal.surgery_id.expect("a created deal has a surgery"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Returns the whole row of a client as text, to compare before and after a run.
async fn client_row(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select c::text from clientes c where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Inserts client 900 of `company_id` with `document` in the `column` (`cnpj` or `cpf`).
async fn insert_existing_client(app: &TestApp, company_id: i64, column: &str, document: &str) {
    let kind = if column == "cnpj" { "J" } else { "F" };
    sqlx::query(&format!(
        "insert into clientes (id, empresa_id, tipo_pessoa, nome, razao_social, {column},
             inscricao_estadual, email, telefone, cep, logradouro, numero, bairro, ativo,
             criado_em)
         values (900, $1, $2, 'Cliente Antigo', 'Cliente Antigo Ltda', $3, '999',
             'antigo@example.com', '(11) 1111-1111', '01000-000', 'Rua Velha', '1', 'Centro',
             true, '2020-01-01T00:00:00Z')"
    ))
    .bind(company_id)
    .bind(kind)
    .bind(document)
    .execute(&app.pool)
    .await
    .unwrap();
}

fn assert_failed_with(deal: &DealReport, expected: &[&str], case: &str) {
    assert_eq!(deal.outcome, Outcome::Failed, "{case}: {deal:#?}");
    let error = deal.error.as_deref().unwrap_or_default();
    for part in expected {
        assert!(
            error.contains(part),
            "{case}: `{part}` missing from the error `{error}`"
        );
    }
}

/// Checks that a failed deal rolled back: no client, procedure, surgery, budget or item.
async fn assert_nothing_written(app: &TestApp, case: &str) {
    assert_eq!(app.count("clientes").await, 0, "{case}: clientes");
    assert_eq!(app.count("procedimentos").await, 1, "{case}: procedimentos");
    assert_eq!(app.count("cirurgias").await, 0, "{case}: cirurgias");
    assert_eq!(
        app.count("cirurgia_orcamentos").await,
        0,
        "{case}: cirurgia_orcamentos"
    );
    assert_eq!(
        app.count("cirurgia_orcamento_itens").await,
        0,
        "{case}: cirurgia_orcamento_itens"
    );
}

#[tokio::test]
async fn organization_creates_a_pj_client() {
    let (app, deal) = sync_organization(|_| {}).await;

    assert_eq!(deal.outcome, Outcome::Created, "{deal:#?}");
    assert_eq!(deal.client, Some(ClientOutcome::Created));
    let client = sqlx::query(
        "select id, tipo_pessoa, nome, razao_social, cnpj, cpf, inscricao_estadual, email,
                telefone, cep, logradouro, numero, complemento, bairro, ativo, criado_por_id,
                (select codigo_ibge from cidades where cidades.id = cidade_id)::text
         from clientes",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        client.get::<i64, _>(0),
        surgery_client_id(&app, &deal).await
    );
    assert_eq!(client.get::<String, _>(1), "J");
    assert_eq!(client.get::<String, _>(2), "Clínica Ortopédica Horizonte");
    assert_eq!(
        client.get::<Option<String>, _>(3).as_deref(),
        Some("Horizonte Serviços Ortopédicos Ltda")
    );
    assert_eq!(
        client.get::<Option<String>, _>(4).as_deref(),
        Some("47285163000121")
    );
    assert_eq!(client.get::<Option<String>, _>(5), None);
    assert_eq!(
        client.get::<Option<String>, _>(6).as_deref(),
        Some("123456789110")
    );
    assert_eq!(
        client.get::<Option<String>, _>(7).as_deref(),
        Some("compras@horizonte.example.com")
    );
    assert_eq!(
        client.get::<Option<String>, _>(8).as_deref(),
        Some("(11) 3000-0101")
    );
    assert_eq!(
        client.get::<Option<String>, _>(9).as_deref(),
        Some("09000000")
    );
    assert_eq!(
        client.get::<Option<String>, _>(10).as_deref(),
        Some("Rua das Oficinas")
    );
    assert_eq!(client.get::<Option<String>, _>(11).as_deref(), Some("1200"));
    assert_eq!(
        client.get::<Option<String>, _>(12).as_deref(),
        Some("Sala 3")
    );
    assert_eq!(
        client.get::<Option<String>, _>(13).as_deref(),
        Some("Centro")
    );
    assert!(client.get::<bool, _>(14));
    assert_eq!(client.get::<Option<i64>, _>(15), Some(USER_ID));
    assert_eq!(
        client.get::<Option<String>, _>(16).as_deref(),
        Some(SANTO_ANDRE_SP)
    );
}

#[tokio::test]
async fn person_only_creates_a_pf_client() {
    let (app, deal) = sync_person(|_| {}).await;

    assert_eq!(deal.outcome, Outcome::Created, "{deal:#?}");
    assert_eq!(deal.client, Some(ClientOutcome::Created));
    assert_eq!(
        client_value(&app, "tipo_pessoa").await.as_deref(),
        Some("F")
    );
    assert_eq!(
        client_value(&app, "nome").await.as_deref(),
        Some("Marcos Vinícius Albuquerque")
    );
    assert_eq!(
        client_value(&app, "cpf").await.as_deref(),
        Some("70531824608")
    );
    assert_eq!(client_value(&app, "cnpj").await, None);
    assert_eq!(
        client_value(&app, "telefone").await.as_deref(),
        Some("(21) 90000-0202")
    );
    assert_eq!(client_value(&app, "numero").await.as_deref(), Some("45"));
    assert_eq!(
        client_value(&app, "criado_por_id").await,
        Some(USER_ID.to_string())
    );
    assert_eq!(client_city(&app).await.as_deref(), Some("3304557"));
}

#[tokio::test]
async fn deal_without_organization_or_person_fails() {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut won = deal(DEAL_ID);
    won["organization"] = Value::Null;
    won["person"] = Value::Null;
    app.mount_stream(vec![won]).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID);
    assert_failed_with(deal, &["neither an organization nor a person"], "no client");
    assert_nothing_written(&app, "no client").await;
}

#[tokio::test]
async fn invalid_cnpj_does_not_fall_back_to_person() {
    let cases = [
        (
            "wrong check digits",
            json!("47.285.163/0001-22"),
            "CNPJ `47.285.163/0001-22` is invalid",
        ),
        ("missing", Value::Null, "CNPJ is missing"),
        (
            "JSON number",
            json!(47285163000121_i64),
            "CNPJ `47285163000121` is not text",
        ),
    ];

    for (case, cnpj, expected) in cases {
        let app = spawn_app().await;
        app.seed_registries().await;
        let mut agendor_organization = organization(7001);
        agendor_organization["cnpj"] = cnpj;
        app.mount_stream(vec![deal(DEAL_ID)]).await;
        app.mount_organization(agendor_organization).await;
        app.mount_person(person(8001)).await;

        let report = app.sync_default().await;

        let deal = deal_report(&report, DEAL_ID);
        assert_failed_with(deal, &[expected], case);
        assert_nothing_written(&app, case).await;
    }
}

#[tokio::test]
async fn invalid_cnpj_fails_even_when_v2_holds_it() {
    let app = spawn_app().await;
    app.seed_registries().await;
    insert_existing_client(&app, COMPANY_ID, "cnpj", "47.285.163/0001-22").await;
    let mut agendor_organization = organization(7001);
    agendor_organization["cnpj"] = json!("47.285.163/0001-22");
    app.mount_stream(vec![deal(DEAL_ID)]).await;
    app.mount_organization(agendor_organization).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID);
    assert_failed_with(
        deal,
        &["CNPJ `47.285.163/0001-22` is invalid"],
        "invalid CNPJ",
    );
    assert_eq!(app.count("cirurgias").await, 0);
}

struct Accepted {
    case: &'static str,
    edit: Edit,
    /// SQL expression over `clientes`, compared as text.
    expression: &'static str,
    expected: &'static str,
}

#[tokio::test]
async fn organization_fields_are_normalised() {
    let cases = [
        Accepted {
            case: "alphanumeric CNPJ",
            edit: |org| org["cnpj"] = json!("12.ABC.345/01DE-35"),
            expression: "cnpj",
            expected: "12ABC34501DE35",
        },
        Accepted {
            case: "lower-case alphanumeric CNPJ",
            edit: |org| org["cnpj"] = json!("12.abc.345/01de-35"),
            expression: "cnpj",
            expected: "12ABC34501DE35",
        },
        Accepted {
            case: "CNPJ without mask",
            edit: |org| org["cnpj"] = json!("47285163000121"),
            expression: "cnpj",
            expected: "47285163000121",
        },
        Accepted {
            case: "state registration absent",
            edit: |org| {
                org["customFields"]
                    .as_object_mut()
                    .unwrap()
                    .remove("inscricao_estadual");
            },
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "custom fields absent",
            edit: |org| {
                org.as_object_mut().unwrap().remove("customFields");
            },
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "state registration null",
            edit: |org| org["customFields"]["inscricao_estadual"] = Value::Null,
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "state registration blank",
            edit: |org| org["customFields"]["inscricao_estadual"] = json!("   "),
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "state registration isenta",
            edit: |org| org["customFields"]["inscricao_estadual"] = json!("isenta"),
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "state registration Isento",
            edit: |org| org["customFields"]["inscricao_estadual"] = json!(" Isento "),
            expression: "inscricao_estadual",
            expected: "ISENTO",
        },
        Accepted {
            case: "state registration with punctuation",
            edit: |org| org["customFields"]["inscricao_estadual"] = json!("123.456.789.110"),
            expression: "inscricao_estadual",
            expected: "123456789110",
        },
        Accepted {
            case: "work phone with country code",
            edit: |org| org["contact"]["work"] = json!("+55 (11) 3000-0101"),
            expression: "telefone",
            expected: "(11) 3000-0101",
        },
        Accepted {
            case: "mobile phone when work is empty",
            edit: |org| {
                org["contact"]["work"] = Value::Null;
                org["contact"]["mobile"] = json!("5511987654321");
            },
            expression: "telefone",
            expected: "(11) 98765-4321",
        },
        Accepted {
            case: "first valid phone",
            edit: |org| {
                org["contact"]["work"] = json!("123");
                org["contact"]["mobile"] = json!("  ");
                org["contact"]["whatsapp"] = json!("+55 21 99999-8888");
            },
            expression: "telefone",
            expected: "(21) 99999-8888",
        },
        Accepted {
            case: "CEP as a JSON number",
            edit: |org| org["address"]["postalCode"] = json!(1310100),
            expression: "cep",
            expected: "01310100",
        },
        Accepted {
            case: "masked CEP",
            edit: |org| org["address"]["postalCode"] = json!("01310-100"),
            expression: "cep",
            expected: "01310100",
        },
        Accepted {
            case: "UF as a full state name",
            edit: |org| org["address"]["state"] = json!("São Paulo"),
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: SANTO_ANDRE_SP,
        },
        Accepted {
            case: "UF in lower case",
            edit: |org| org["address"]["state"] = json!("sp"),
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: SANTO_ANDRE_SP,
        },
        Accepted {
            case: "same city name in another UF",
            edit: |org| org["address"]["state"] = json!("PB"),
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: "2513851",
        },
        Accepted {
            case: "city without accents, extra spaces",
            edit: |org| org["address"]["city"] = json!("  SANTO   andre "),
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: SANTO_ANDRE_SP,
        },
        Accepted {
            case: "city with a typographic apostrophe",
            edit: |org| {
                org["address"]["city"] = json!("OLHO D’AGUA DAS FLORES");
                org["address"]["state"] = json!("AL");
            },
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: "2705705",
        },
        Accepted {
            case: "city with an en dash",
            edit: |org| {
                org["address"]["city"] = json!("Guajará – Mirim");
                org["address"]["state"] = json!("RO");
            },
            expression: "select codigo_ibge from cidades where cidades.id = clientes.cidade_id",
            expected: "1100106",
        },
    ];

    for case in cases {
        let (app, deal) = sync_organization(case.edit).await;

        assert_eq!(deal.outcome, Outcome::Created, "{}: {deal:#?}", case.case);
        assert_eq!(
            client_value(&app, case.expression).await.as_deref(),
            Some(case.expected),
            "{}",
            case.case
        );
    }
}

struct Rejected {
    case: &'static str,
    edit: Edit,
    expected: &'static [&'static str],
}

#[tokio::test]
async fn invalid_organization_fails_the_deal() {
    let cases = [
        Rejected {
            case: "CNPJ with wrong check digits",
            edit: |org| org["cnpj"] = json!("47.285.163/0001-22"),
            expected: &["CNPJ `47.285.163/0001-22` is invalid"],
        },
        Rejected {
            case: "CNPJ of repeated digits",
            edit: |org| org["cnpj"] = json!("11.111.111/1111-11"),
            expected: &["CNPJ `11.111.111/1111-11` is invalid"],
        },
        Rejected {
            case: "CNPJ missing",
            edit: |org| org["cnpj"] = Value::Null,
            expected: &["CNPJ is missing"],
        },
        Rejected {
            case: "CNPJ as a JSON number",
            edit: |org| org["cnpj"] = json!(47285163000121_i64),
            expected: &["CNPJ `47285163000121` is not text"],
        },
        Rejected {
            case: "state registration with letters",
            edit: |org| org["customFields"]["inscricao_estadual"] = json!("abc"),
            expected: &["state registration `abc` is invalid"],
        },
        Rejected {
            case: "no phone",
            edit: |org| {
                org["contact"]["work"] = Value::Null;
                org["contact"]["mobile"] = json!("");
                org["contact"]["whatsapp"] = Value::Null;
            },
            expected: &["phone is missing"],
        },
        Rejected {
            case: "phone without area code",
            edit: |org| {
                org["contact"]["work"] = json!("3000-0101");
                org["contact"]["mobile"] = Value::Null;
            },
            expected: &["phone is invalid", "3000-0101"],
        },
        Rejected {
            case: "street number missing",
            edit: |org| org["address"]["streetNumber"] = Value::Null,
            expected: &["street number is missing"],
        },
        Rejected {
            case: "district missing",
            edit: |org| org["address"]["district"] = json!(" "),
            expected: &["district is missing"],
        },
        Rejected {
            case: "e-mail missing",
            edit: |org| org["contact"]["email"] = Value::Null,
            expected: &["e-mail is missing"],
        },
        Rejected {
            case: "CEP of 7 digits",
            edit: |org| org["address"]["postalCode"] = json!("0900000"),
            expected: &["CEP `0900000` is invalid"],
        },
        Rejected {
            case: "unknown UF",
            edit: |org| org["address"]["state"] = json!("XX"),
            expected: &["UF `XX`"],
        },
        Rejected {
            case: "abbreviated city",
            edit: |org| org["address"]["city"] = json!("S. Paulo"),
            expected: &["S. Paulo", "cidades"],
        },
        Rejected {
            case: "city that is a prefix of another",
            edit: |org| org["address"]["city"] = json!("Santo"),
            expected: &["Santo", "cidades"],
        },
        Rejected {
            case: "city missing",
            edit: |org| org["address"]["city"] = Value::Null,
            expected: &["city is missing"],
        },
        Rejected {
            case: "name longer than its column",
            edit: |org| org["name"] = json!("É".repeat(151)),
            expected: &["clientes.nome", "150"],
        },
        Rejected {
            case: "legal name longer than its column",
            edit: |org| org["legalName"] = json!("L".repeat(151)),
            expected: &["clientes.razao_social", "150"],
        },
    ];

    for case in cases {
        let (app, deal) = sync_organization(case.edit).await;

        assert_failed_with(&deal, case.expected, case.case);
        assert_nothing_written(&app, case.case).await;
    }
}

#[tokio::test]
async fn invalid_person_fails_the_deal() {
    let cases = [
        Rejected {
            case: "CPF as a JSON number",
            edit: |person| person["cpf"] = json!(70531824608_i64),
            expected: &["CPF `70531824608` is not text"],
        },
        Rejected {
            case: "CPF with wrong check digits",
            edit: |person| person["cpf"] = json!("705.318.246-09"),
            expected: &["CPF `705.318.246-09` is invalid"],
        },
        Rejected {
            case: "CPF missing",
            edit: |person| person["cpf"] = json!(""),
            expected: &["CPF is missing"],
        },
    ];

    for case in cases {
        let (app, deal) = sync_person(case.edit).await;

        assert_failed_with(&deal, case.expected, case.case);
        assert_nothing_written(&app, case.case).await;
    }
}

/// Gives the organization six problems besides its document.
fn organization_with_many_problems(org: &mut Value) {
    org["legalName"] = Value::Null;
    org["contact"] = json!({ "email": "sem-arroba", "work": null, "mobile": null });
    org["address"]["postalCode"] = json!("0900000");
    org["address"]["city"] = json!("Cidade Inexistente");
    org["customFields"]["inscricao_estadual"] = json!("abc");
}

#[tokio::test]
async fn client_error_lists_every_problem() {
    let problems = [
        "legal name is missing",
        "e-mail `sem-arroba` is invalid",
        "phone is missing",
        "CEP `0900000` is invalid",
        "city `Cidade Inexistente`/SP not found in table cidades",
        "state registration `abc` is invalid",
    ];
    let cases: [(&str, Edit, Option<&str>); 2] = [
        ("valid CNPJ", organization_with_many_problems, None),
        (
            "invalid CNPJ",
            |org| {
                organization_with_many_problems(org);
                org["cnpj"] = json!("00.000.000/0000-00");
            },
            Some("CNPJ `00.000.000/0000-00` is invalid"),
        ),
    ];

    for (case, edit, document_problem) in cases {
        let (app, deal) = sync_organization(edit).await;

        assert_failed_with(&deal, &problems, case);
        if let Some(problem) = document_problem {
            assert_failed_with(&deal, &[problem], case);
        }
        assert_nothing_written(&app, case).await;
    }
}

#[tokio::test]
async fn existing_client_is_found_by_normalised_document() {
    let cases: [(&str, &str, &str, Edit); 4] = [
        ("masked CNPJ in V2", "cnpj", "47.285.163/0001-21", |org| {
            org["cnpj"] = json!("47285163000121");
        }),
        ("masked CNPJ from Agendor", "cnpj", "47285163000121", |_| {}),
        (
            "alphanumeric CNPJ in lower case",
            "cnpj",
            "12.abc.345/01de-35",
            |org| org["cnpj"] = json!("12ABC34501DE35"),
        ),
        (
            "organization that could not be created",
            "cnpj",
            "47.285.163/0001-21",
            |org| {
                org["contact"] = Value::Null;
                org["address"] = Value::Null;
                org["customFields"]["inscricao_estadual"] = json!("abc");
            },
        ),
    ];

    for (case, column, stored, edit) in cases {
        let app = spawn_app().await;
        app.seed_registries().await;
        insert_existing_client(&app, COMPANY_ID, column, stored).await;
        let before = client_row(&app, 900).await;
        let mut agendor_organization = organization(7001);
        edit(&mut agendor_organization);
        app.mount_stream(vec![deal(DEAL_ID)]).await;
        app.mount_organization(agendor_organization).await;

        let report = app.sync_default().await;

        let deal = deal_report(&report, DEAL_ID);
        assert_eq!(deal.outcome, Outcome::Created, "{case}: {deal:#?}");
        assert_eq!(deal.client, Some(ClientOutcome::Found), "{case}");
        assert_eq!(surgery_client_id(&app, deal).await, 900, "{case}");
        assert_eq!(app.count("clientes").await, 1, "{case}");
        assert_eq!(
            client_row(&app, 900).await,
            before,
            "{case}: client updated"
        );
    }
}

#[tokio::test]
async fn existing_client_is_found_by_masked_cpf() {
    let app = spawn_app().await;
    app.seed_registries().await;
    insert_existing_client(&app, COMPANY_ID, "cpf", "705.318.246-08").await;
    let before = client_row(&app, 900).await;
    let mut agendor_person = person(8001);
    agendor_person["cpf"] = json!("70531824608");
    app.mount_stream(vec![person_deal()]).await;
    app.mount_person(agendor_person).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID);
    assert_eq!(deal.outcome, Outcome::Created, "{deal:#?}");
    assert_eq!(deal.client, Some(ClientOutcome::Found));
    assert_eq!(surgery_client_id(&app, deal).await, 900);
    assert_eq!(app.count("clientes").await, 1);
    assert_eq!(client_row(&app, 900).await, before);
}

#[tokio::test]
async fn client_of_another_company_is_not_used() {
    let app = spawn_app().await;
    app.seed_registries().await;
    insert_existing_client(&app, 2, "cnpj", "47285163000121").await;
    let before = client_row(&app, 900).await;
    app.mount_stream(vec![deal(DEAL_ID)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID);
    assert_eq!(deal.outcome, Outcome::Created, "{deal:#?}");
    assert_eq!(deal.client, Some(ClientOutcome::Created));
    let client_id = surgery_client_id(&app, deal).await;
    assert_ne!(client_id, 900);
    let company: i64 = sqlx::query_scalar("select empresa_id from clientes where id = $1")
        .bind(client_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(company, COMPANY_ID);
    assert_eq!(client_row(&app, 900).await, before);
}

#[tokio::test]
async fn failed_surgery_rolls_back_the_client() {
    let app = spawn_app().await;
    app.seed_registries().await;
    let mut won = deal(DEAL_ID);
    won["customFields"]["paciente"] = json!("P".repeat(151));
    won["customFields"]["procedimento_cirurgico"] = json!("Procedimento ainda não cadastrado");
    app.mount_stream(vec![won]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync_default().await;

    let deal = deal_report(&report, DEAL_ID);
    assert_failed_with(deal, &["cirurgias.paciente", "150"], "long patient");
    assert_nothing_written(&app, "long patient").await;
}
