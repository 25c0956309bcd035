//! Unattended operation: retries of failed deals, the watermark and faults.

use agendor_sync::report::Outcome;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{deal, deal_report, organization, spawn_app};

#[tokio::test]
async fn failed_deal_retried_after_fix() {
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
async fn retry_window_expires() {
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

/// Mounts `count` won deals in pages of 50, spread over 30 organizations.
async fn mount_many_deals(app: &crate::support::TestApp, count: i64) {
    let deals: Vec<serde_json::Value> = (0..count)
        .map(|index| {
            let mut won = deal(60_000_000 + index);
            won["organization"] = json!({ "id": 9_000 + index % 30, "name": "Cliente" });
            won
        })
        .collect();
    let pages = deals.chunks(50).map(<[_]>::to_vec).collect();
    crate::support::mount_stream_pages(&app.agendor, pages).await;
    for index in 0..30 {
        let mut customer = organization(9_000 + index);
        customer["cnpj"] = json!(crate::support::valid_cnpj(472_851_630_000 + index as u64));
        app.mount_organization(customer).await;
    }
}

/// Asserts that nothing half-written exists: every surgery has its one PRE budget with
/// its one item, every client has a surgery, and no legacy code repeats.
async fn assert_nothing_half_written(app: &crate::support::TestApp) {
    let orphans: i64 = sqlx::query_scalar(
        "select
             (select count(*) from cirurgias c where (select count(*) from cirurgia_orcamentos o
                  where o.cirurgia_id = c.id and o.tipo = 'PRE') <> 1)
           + (select count(*) from cirurgia_orcamentos o where (select count(*)
                  from cirurgia_orcamento_itens i where i.orcamento_id = o.id) <> 1)
           + (select count(*) from clientes cl where cl.empresa_id = 1
                  and not exists (select 1 from cirurgias c where c.cliente_id = cl.id))
           + (select count(*) - count(distinct codigo_legado) from cirurgias)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "half-written rows found");
}

#[tokio::test]
async fn killed_runs_leave_nothing_half_written() {
    let app = spawn_app().await;
    app.seed_registries().await;
    mount_many_deals(&app, 300).await;

    let mut counts_after_kills = Vec::new();
    for delay in [150, 400, 700, 1_000, 1_500] {
        let mut child = crate::support::binary(&app)
            .args(["--since", "2026-11-01", "-q"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        child.kill().unwrap();
        child.wait().unwrap();

        assert_nothing_half_written(&app).await;
        counts_after_kills.push(app.count("cirurgias").await);
    }
    eprintln!("surgeries after each kill: {counts_after_kills:?}");
    assert!(
        counts_after_kills
            .iter()
            .any(|count| (1..300).contains(count)),
        "at least one kill lands mid-run: {counts_after_kills:?}"
    );
    let status = crate::support::binary(&app)
        .args(["--since", "2026-11-01", "-q"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();

    assert_eq!(status.code(), Some(0));
    assert_nothing_half_written(&app).await;
    assert_eq!(app.count("cirurgias").await, 300);
    assert_eq!(app.count("clientes").await, 30);
    let created: i64 = sqlx::query_scalar(
        "select count(*) from agendor_sync.deal_outcomes where outcome = 'created'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        created, 300,
        "each deal is recorded as created exactly once"
    );
    let still_running: i64 =
        sqlx::query_scalar("select count(*) from agendor_sync.runs where status = 'running'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(still_running, 0, "killed runs are closed by the next run");
}

#[tokio::test]
async fn concurrent_processes_never_duplicate() {
    let app = spawn_app().await;
    app.seed_registries().await;
    mount_many_deals(&app, 120).await;

    let spawn = || {
        crate::support::binary(&app)
            .args(["--since", "2026-11-01", "-q"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut first, mut second) = (spawn(), spawn());
    let codes = [first.wait().unwrap().code(), second.wait().unwrap().code()];

    assert!(codes.contains(&Some(0)), "one run integrates: {codes:?}");
    assert!(
        codes.iter().all(|code| matches!(code, Some(0) | Some(75))),
        "the other finds everything done or the company locked: {codes:?}"
    );
    assert_nothing_half_written(&app).await;
    assert_eq!(app.count("cirurgias").await, 120);
    assert_eq!(app.count("clientes").await, 30);
    assert_eq!(app.count("procedimentos").await, 1);
}

/// A TCP proxy to PostgreSQL that the test can cut, as if the database went away.
struct DatabaseProxy {
    port: u16,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl DatabaseProxy {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                connections.lock().unwrap().push(connection);
            }
        });
        tasks.lock().unwrap().push(accept);
        DatabaseProxy { port, tasks }
    }

    /// Closes every proxied connection and stops accepting new ones.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn database_lost_mid_run_fails_cleanly() {
    let app = spawn_app().await;
    app.seed_registries().await;
    mount_many_deals(&app, 300).await;
    let proxy = DatabaseProxy::start().await;
    let database = app.database_url.rsplit('/').next().unwrap().to_owned();
    let proxied_url = format!("postgres://postgres@127.0.0.1:{}/{database}", proxy.port);

    let child = crate::support::binary(&app)
        .env("DATABASE_URL", &proxied_url)
        .args(["--since", "2026-11-01"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    proxy.cut();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("lost the connection to the database"),
        "{stdout}"
    );
    let written = app.count("cirurgias").await;
    assert!(
        (1..300).contains(&written),
        "committed deals stay: {written}"
    );
    assert_nothing_half_written(&app).await;
}

#[tokio::test]
async fn surgery_inserted_meanwhile_is_already_integrated() {
    let app = spawn_app().await;
    app.seed_registries().await;
    app.mount_stream(vec![deal(48210377)]).await;
    app.mount_organization(organization(7001)).await;
    // Another writer inserts the same legacy code and commits only after the sync has
    // passed its idempotency check, so the sync's own insert hits the unique key.
    let mut other_writer = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into clientes (id, empresa_id, tipo_pessoa, nome) values (900, 1, 'J', 'Outro')",
    )
    .execute(&mut *other_writer)
    .await
    .unwrap();
    let surgery_id: i64 = sqlx::query_scalar(
        "insert into cirurgias (empresa_id, codigo_legado, cliente_id, usuario_id, etapa, status)
         values (1, 'agendor-48210377', 900, 10, 'ORCAMENTO_PRE', 'APROVADA') returning id",
    )
    .fetch_one(&mut *other_writer)
    .await
    .unwrap();

    let sync = crate::support::spawn_sync(&app);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    other_writer.commit().await.unwrap();
    let report = sync.await.unwrap().unwrap();

    let outcome = deal_report(&report, 48210377);
    assert_eq!(outcome.outcome, Outcome::AlreadyIntegrated, "{report:#?}");
    assert_eq!(outcome.surgery_id, Some(surgery_id));
    assert_eq!(app.count("cirurgias").await, 1);
}

#[tokio::test]
async fn malformed_deal_in_stream_is_not_also_retried() {
    let app = spawn_app().await;
    let mut malformed = deal(48210377);
    malformed["wonAt"] = json!("yesterday");
    app.mount_stream(vec![malformed]).await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210377"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": deal(48210377) })))
        .expect(0)
        .mount(&app.agendor)
        .await;
    let first = app.sync_default().await;
    assert_eq!(deal_report(&first, 48210377).outcome, Outcome::Failed);

    let second = app.sync_default().await;

    let deals = &second.companies[0].deals;
    assert_eq!(deals.len(), 1, "{second:#?}");
    assert!(!deals[0].retry);
    assert_eq!(second.companies[0].counts.fetched, 1);
}

#[tokio::test]
async fn deleted_deal_is_not_retried() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/48210377"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&app.agendor)
        .await;
    let first = app
        .sync(agendor_sync::cli::SyncArgs {
            deals: vec![48210377],
            ..Default::default()
        })
        .await;
    let failure = deal_report(&first, 48210377);
    assert_eq!(failure.outcome, Outcome::Failed);
    assert!(
        failure
            .error
            .as_deref()
            .unwrap()
            .contains("not found in Agendor")
    );
    app.mount_stream(vec![]).await;

    let second = app.sync_default().await;

    assert!(second.companies[0].deals.is_empty(), "{second:#?}");
}

#[tokio::test]
async fn permission_error_fails_the_company() {
    let app = spawn_app().await;
    app.seed_registries().await;
    // A trigger plays a role without INSERT on the table, because the tests connect as a
    // superuser, which bypasses grants.
    sqlx::raw_sql(
        "create function deny_insert() returns trigger language plpgsql as $$
         begin
             raise exception 'permission denied for table cirurgia_orcamento_itens'
                 using errcode = 'insufficient_privilege';
         end $$;
         create trigger deny_insert before insert on cirurgia_orcamento_itens
             for each row execute function deny_insert();",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app.mount_stream(vec![deal(1), deal(2), deal(3)]).await;
    app.mount_organization(organization(7001)).await;

    let report = app.sync_default().await;

    let company = &report.companies[0];
    assert_eq!(report.exit_code(), 1, "{report:#?}");
    let error = company.error.as_deref().unwrap();
    assert!(error.contains("permission denied"), "{error}");
    assert!(error.contains("grants"), "{error}");
    assert!(
        company.deals.is_empty(),
        "no deal is blamed for the role's grants"
    );
    assert_eq!(app.count("cirurgias").await, 0);
    assert_eq!(app.count("clientes").await, 0);
}

#[tokio::test]
async fn client_created_meanwhile_is_found() {
    let app = spawn_app().await;
    app.seed_registries().await;
    // The second page arrives late, after a V2 user registered its client.
    let mut late = deal(2);
    late["organization"] = json!({ "id": 7002, "name": "Cliente novo" });
    let next = format!("{}/v3/deals/stream?page=2", app.agendor.uri());
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [deal(1)], "links": { "next": next } })),
        )
        .mount(&app.agendor)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [late], "links": { "next": null } }))
                .set_delay(std::time::Duration::from_millis(1_500)),
        )
        .mount(&app.agendor)
        .await;
    app.mount_organization(organization(7001)).await;
    let mut customer = organization(7002);
    customer["cnpj"] = json!("11.222.333/0001-81");
    app.mount_organization(customer).await;

    let sync = crate::support::spawn_sync(&app);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let client_id: i64 = sqlx::query_scalar(
        "insert into clientes (empresa_id, tipo_pessoa, nome, cnpj)
         values (1, 'J', 'Cadastrado no V2', '11222333000181') returning id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let report = sync.await.unwrap().unwrap();

    let late = deal_report(&report, 2);
    assert_eq!(
        late.client,
        Some(agendor_sync::report::ClientOutcome::Found),
        "{report:#?}"
    );
    let used: i64 = sqlx::query_scalar("select cliente_id from cirurgias where id = $1")
        .bind(late.surgery_id.unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(used, client_id);
}
