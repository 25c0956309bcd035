//! Test harness: each test gets a fresh PostgreSQL database, loaded with the V2
//! reference schema, every Brazilian municipality and the integration's own tables,
//! and its own mock Agendor server.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agendor_sync::agendor::HttpSettings;
use agendor_sync::cli::SyncArgs;
use agendor_sync::config::{CustomFieldKeys, Settings};
use agendor_sync::report::{CompanyReport, DealReport, RunReport};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Server URL without a database; `TEST_DATABASE_URL` overrides it.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub const TOKEN: &str = "test-token-7f3c9a";
pub const COMPANY_ID: i64 = 1;
pub const USER_ID: i64 = 10;

/// A fresh database and mock Agendor for one test; the database is dropped with it.
pub struct TestApp {
    pub pool: PgPool,
    pub agendor: MockServer,
    pub settings: Settings,
    pub database_url: String,
    database: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub async fn spawn_app() -> TestApp {
    let template = ensure_template().await;
    let database = format!(
        "agendor_sync_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = admin_connection().await;
    sqlx::query(&format!("drop database if exists {database} with (force)"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("create database {database} template {template}"))
        .execute(&mut admin)
        .await
        .expect("failed to create the test database from its template");

    let database_url = format!("{}/{database}", server_url());
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&database_url)
        .await
        .unwrap();
    seed_company(&pool).await;

    let agendor = MockServer::start().await;
    let settings = test_settings(&database_url, &agendor.uri());
    TestApp {
        pool,
        agendor,
        settings,
        database_url,
        database,
    }
}

pub fn test_settings(database_url: &str, agendor_uri: &str) -> Settings {
    Settings {
        database_url: SecretString::from(database_url.to_owned()),
        timezone: chrono_tz::America::Sao_Paulo,
        http: HttpSettings {
            base_url: format!("{agendor_uri}/v3").parse().unwrap(),
            requests_per_second: 1_000.0,
            timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_min_delay: Duration::from_millis(1),
            retry_max_delay: Duration::from_millis(20),
            max_pages: 50,
        },
        token_override: None,
        custom_fields: CustomFieldKeys::default(),
        retry_failed_days: 7,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        cleanup(format!(
            "drop database if exists {} with (force)",
            self.database
        ));
    }
}

/// Runs one cleanup statement as the admin from a `Drop`. A `Drop` runs outside any
/// async context, so the statement gets a runtime of its own. Failures are ignored.
pub fn cleanup(statement: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut admin = admin_connection().await;
            let _ = sqlx::raw_sql(&statement).execute(&mut admin).await;
        });
    })
    .join();
}

/// Spawns a run of the sync since 2026-11-01 through the library entry point, so the
/// test can act on the database while it runs.
pub fn spawn_sync(
    app: &TestApp,
) -> tokio::task::JoinHandle<Result<RunReport, agendor_sync::sync::RunError>> {
    let pool = app.pool.clone();
    let settings = app.settings.clone();
    tokio::spawn(async move {
        let args = SyncArgs {
            since: agendor_sync::config::parse_since("2026-11-01").ok(),
            ..SyncArgs::default()
        };
        agendor_sync::sync::run_with_pool(&pool, &settings, &args).await
    })
}

pub async fn admin_connection() -> PgConnection {
    PgConnection::connect(&format!("{}/postgres", server_url()))
        .await
        .expect("PostgreSQL must run on 127.0.0.1:5432 (or set TEST_DATABASE_URL)")
}

/// Creates, once per schema version, a template database with the V2 schema, the
/// municipalities and the integration's tables; every test copies it.
async fn ensure_template() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = std::fs::read_to_string(root.join("tests/fixtures/v2_schema.sql")).unwrap();
    let cities = std::fs::read_to_string(root.join("data/ibge_municipios.csv")).unwrap();
    let mut hasher = DefaultHasher::new();
    schema.hash(&mut hasher);
    cities.hash(&mut hasher);
    for entry in std::fs::read_dir(root.join("migrations")).unwrap() {
        std::fs::read_to_string(entry.unwrap().path())
            .unwrap()
            .hash(&mut hasher);
    }
    let template = format!("agendor_sync_template_{:x}", hasher.finish());

    let mut admin = admin_connection().await;
    // Serialises template creation across test threads and processes.
    sqlx::query("select pg_advisory_lock(7261534)")
        .execute(&mut admin)
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        build_template(&mut admin, &template, &schema, &cities).await;
    }
    sqlx::query("select pg_advisory_unlock(7261534)")
        .execute(&mut admin)
        .await
        .unwrap();
    template
}

async fn build_template(admin: &mut PgConnection, template: &str, schema: &str, cities: &str) {
    let building = format!("{template}_building");
    sqlx::query(&format!("drop database if exists {building} with (force)"))
        .execute(&mut *admin)
        .await
        .unwrap();
    sqlx::query(&format!("create database {building}"))
        .execute(&mut *admin)
        .await
        .unwrap();

    let url = format!("{}/{building}", server_url());
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(schema).execute(&mut conn).await.unwrap();
    load_cities(&mut conn, cities).await;
    conn.close().await.unwrap();

    let settings = test_settings(&url, "http://127.0.0.1:9");
    agendor_sync::store::migrate(&settings).await.unwrap();

    sqlx::query(&format!("alter database {building} rename to {template}"))
        .execute(&mut *admin)
        .await
        .unwrap();
}

async fn load_cities(conn: &mut PgConnection, csv: &str) {
    let (mut codes, mut names, mut ufs) = (Vec::new(), Vec::new(), Vec::new());
    for line in csv.lines().skip(1) {
        // Names never contain commas, so the three columns split plainly.
        let mut columns = line.splitn(3, ',');
        codes.push(columns.next().unwrap().to_owned());
        names.push(columns.next().unwrap().to_owned());
        ufs.push(columns.next().unwrap().to_owned());
    }
    sqlx::query(
        "insert into cidades (codigo_ibge, nome, uf)
         select * from unnest($1::text[], $2::text[], $3::text[])",
    )
    .bind(codes)
    .bind(names)
    .bind(ufs)
    .execute(conn)
    .await
    .unwrap();
}

/// Company 1 with the module contracted, the integration enabled, a token and its
/// integration user; company 2 with the integration disabled.
async fn seed_company(pool: &PgPool) {
    sqlx::raw_sql(&format!(
        "insert into empresas (id, nome, cnpj, agendor_modulo_contratado,
             agendor_integracao_ativa, agendor_token)
         values ({COMPANY_ID}, 'Distribuidora Teste', '11222333000181', true, true, '{TOKEN}'),
                (2, 'Empresa Desligada', null, true, false, 'other-token');
         insert into usuarios (id, empresa_id, nome, email, ativo)
         values ({USER_ID}, {COMPANY_ID}, 'Integração Agendor', 'integracao@example.com', true),
                (20, 2, 'Outro', null, true);
         update empresas set agendor_usuario_id = {USER_ID} where id = {COMPANY_ID};
         update empresas set agendor_usuario_id = 20 where id = 2;
         select setval('empresas_id_seq', 100), setval('usuarios_id_seq', 100);"
    ))
    .execute(pool)
    .await
    .unwrap();
}

impl TestApp {
    /// Runs the sync through the library entry point.
    pub async fn sync(&self, args: SyncArgs) -> RunReport {
        agendor_sync::sync::run_with_pool(&self.pool, &self.settings, &args)
            .await
            .expect("the run failed as a whole")
    }

    /// Runs the sync since 2026-11-01 for every enabled company.
    pub async fn sync_default(&self) -> RunReport {
        self.sync(SyncArgs {
            since: agendor_sync::config::parse_since("2026-11-01").ok(),
            ..SyncArgs::default()
        })
        .await
    }

    /// Mounts the deal stream as a single page.
    pub async fn mount_stream(&self, deals: Vec<Value>) {
        mount_stream_pages(&self.agendor, vec![deals]).await;
    }

    pub async fn mount_organization(&self, organization: Value) {
        let id = organization["id"].as_i64().unwrap();
        Mock::given(method("GET"))
            .and(path(format!("/v3/organizations/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": organization })))
            .mount(&self.agendor)
            .await;
    }

    pub async fn mount_person(&self, person: Value) {
        let id = person["id"].as_i64().unwrap();
        Mock::given(method("GET"))
            .and(path(format!("/v3/people/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": person })))
            .mount(&self.agendor)
            .await;
    }

    pub async fn mount_product(&self, id: i64, code: Option<&str>) {
        Mock::given(method("GET"))
            .and(path(format!("/v3/products/{id}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    json!({ "data": { "id": id, "name": "Produto", "code": code } }),
                ),
            )
            .mount(&self.agendor)
            .await;
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Inserts the registries most tests look names up in.
    pub async fn seed_registries(&self) {
        sqlx::raw_sql(
            "insert into produtos (id, empresa_id, codigo, descricao, referencia_fabricante, ativo) values
                 (100, 1, 'P100', 'Placa bloqueada 3,5mm 8 furos', 'PLC-3.5-08', true),
                 (101, 1, 'P101', 'Parafuso cortical 3,5 x 24mm', 'PAR-CORT-3.5x24', true),
                 (102, 1, 'P102', 'Haste intramedular A', 'DUP-01', true),
                 (103, 1, 'P103', 'Haste intramedular B', 'dup-01', true),
                 (104, 1, 'P104', 'Produto inativo', 'INATIVO-01', false),
                 (105, 2, 'P105', 'Outra empresa', 'OUTRA-01', true);
             insert into hospitais (id, empresa_id, nome, ativo) values
                 (200, 1, 'Hospital São Lucas', true), (201, 2, 'Hospital Outro', true);
             insert into convenios (id, empresa_id, nome, ativo) values
                 (300, 1, 'Unimed', true), (301, 1, 'Bradesco Saúde', true);
             insert into medicos (id, empresa_id, nome, crm, crm_uf, ativo) values
                 (400, 1, 'Ana Lima', '123456', 'SP', true),
                 (401, 1, 'Carlos Souza', '654321', 'RJ', true);
             insert into vendedores (id, empresa_id, nome, email, ativo) values
                 (500, 1, 'Carla Menezes', 'carla@example.com', true);
             insert into procedimentos (id, empresa_id, descricao, ativo) values
                 (600, 1, 'Artroplastia total de joelho', true);",
        )
        .execute(&self.pool)
        .await
        .unwrap();
    }
}

/// Mounts the deal stream as the given pages, chained through `links.next`.
pub async fn mount_stream_pages(server: &MockServer, pages: Vec<Vec<Value>>) {
    let count = pages.len();
    for (index, deals) in pages.into_iter().enumerate() {
        let page = index + 1;
        let next = (page < count).then(|| {
            format!(
                "{}/v3/deals/stream?dealStatus=2&withCustomFields=true&page={}",
                server.uri(),
                page + 1
            )
        });
        let mut mock = Mock::given(method("GET")).and(path("/v3/deals/stream"));
        mock = if page == 1 {
            mock.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            mock.and(query_param("page", page.to_string()))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": deals,
            "links": { "next": next },
            "meta": { "totalCount": 0 }
        })))
        .mount(server)
        .await;
    }
}

/// Builds a won deal of organization 7001 with one product line and every custom field set.
pub fn deal(id: i64) -> Value {
    json!({
        "id": id,
        "title": format!("Cirurgia {id}"),
        "description": "Fechado após visita técnica.",
        "value": 960.20,
        "dealStatus": { "id": 2, "name": "Ganho" },
        "organization": { "id": 7001, "name": "Clínica Ortopédica Horizonte" },
        "person": { "id": 8001, "name": "Joana Prado Ribeiro" },
        "wonAt": "2026-11-20T17:42:08.000Z",
        "updatedAt": "2026-11-20T17:42:09.000Z",
        "products_entities": [
            { "id": 1411781, "code": "PLC-3.5-08", "name": "Placa bloqueada",
              "quantity": 2, "unitValue": 480.10, "discount": 0, "totalValue": 960.20 }
        ],
        "customFields": {
            "hospital": "Hospital São Lucas",
            "convenio": { "id": 59538, "value": "Unimed" },
            "paciente": "Maria das Dores",
            "medico": "Dra. Ana Lima",
            "grade_da_cirurgia": "Sala 3, 07:00",
            "procedimento_cirurgico": "Artroplastia total de joelho",
            "vendedor": "carla@example.com"
        },
        "_webUrl": format!("https://web.agendor.com.br/sistema/negocios/historico.php?id={id}")
    })
}

/// Builds a valid organization (PJ) in Santo André/SP.
pub fn organization(id: i64) -> Value {
    json!({
        "id": id,
        "name": "Clínica Ortopédica Horizonte",
        "legalName": "Horizonte Serviços Ortopédicos Ltda",
        "cnpj": "47.285.163/0001-21",
        "contact": {
            "email": "compras@horizonte.example.com",
            "work": "(11) 3000-0101",
            "mobile": "(11) 90000-0101",
            "whatsapp": null
        },
        "address": {
            "postalCode": "09000-000",
            "state": "SP",
            "city": "Santo André",
            "district": "Centro",
            "streetName": "Rua das Oficinas",
            "streetNumber": "1200",
            "additionalInfo": "Sala 3"
        },
        "customFields": { "inscricao_estadual": "123.456.789.110" }
    })
}

/// Builds a valid person (PF) in Rio de Janeiro/RJ.
pub fn person(id: i64) -> Value {
    json!({
        "id": id,
        "name": "Marcos Vinícius Albuquerque",
        "cpf": "705.318.246-08",
        "contact": {
            "email": "marcos@example.com",
            "work": null,
            "mobile": "5521900000202",
            "whatsapp": null
        },
        "address": {
            "postal_code": "22000-000",
            "state": "Rio de Janeiro",
            "city": "Rio de Janeiro",
            "district": "Botafogo",
            "street_name": "Rua Exemplo",
            "street_number": 45,
            "additional_info": null
        },
        "customFields": {}
    })
}

/// Returns the only company in a report.
pub fn only_company(report: &RunReport) -> &CompanyReport {
    assert_eq!(report.companies.len(), 1, "{report:#?}");
    &report.companies[0]
}

/// Returns the report of one deal.
pub fn deal_report(report: &RunReport, deal_id: i64) -> &DealReport {
    report
        .companies
        .iter()
        .flat_map(|company| &company.deals)
        .find(|deal| deal.deal_id == Some(deal_id))
        .unwrap_or_else(|| panic!("deal {deal_id} missing from {report:#?}"))
}

/// Builds a command running the real binary, pointed at this test's database and mock Agendor, with no
/// configuration inherited from the environment.
pub fn binary(app: &TestApp) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_agendor-sync"));
    command
        .env("DATABASE_URL", &app.database_url)
        .env("AGENDOR_API_URL", format!("{}/v3", app.agendor.uri()))
        .env("AGENDOR_REQUESTS_PER_SECOND", "1000")
        .env_remove("AGENDOR_TOKEN")
        .env_remove("AGENDOR_SYNC_CONFIG")
        .env_remove("AGENDOR_SYNC_TIMEZONE")
        .env_remove("RUST_LOG");
    command
}

/// Returns a valid CNPJ built from a 12-digit base, by asking the library which check
/// digits it accepts.
pub fn valid_cnpj(base: u64) -> String {
    let base = format!("{base:012}");
    (0..100)
        .map(|digits| format!("{base}{digits:02}"))
        .find(|candidate| agendor_sync::documents::validate_cnpj(candidate).is_ok())
        .expect("some pair of check digits is valid")
}
