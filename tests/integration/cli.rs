//! The real binary: report on stdout and logs on stderr, exit codes, the migrate
//! command, configuration errors and secrets kept out of every output.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{
    TOKEN, TestApp, admin_connection, cleanup, deal, organization, server_url, spawn_app,
};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// What one execution of the binary printed, and how it exited.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    fn both(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }

    /// Parses stdout as a stream of JSON documents and requires exactly one.
    fn json(&self) -> Value {
        let documents: Vec<Value> = serde_json::Deserializer::from_str(&self.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", self.both()));
        assert_eq!(documents.len(), 1, "{}", self.both());
        documents.into_iter().next().unwrap()
    }
}

/// Builds a command for the binary pointed at `database_url` and `api_url`, with no
/// inherited settings.
fn binary(database_url: &str, api_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agendor-sync"));
    command
        .env_remove("AGENDOR_TOKEN")
        .env_remove("AGENDOR_SYNC_CONFIG")
        .env_remove("AGENDOR_SYNC_TIMEZONE")
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", database_url)
        .env("AGENDOR_API_URL", api_url)
        .env("AGENDOR_REQUESTS_PER_SECOND", "100");
    command
}

/// Builds a command for the binary pointed at the test's database and mock Agendor.
fn app_binary(app: &TestApp) -> Command {
    binary(&app.database_url, &format!("{}/v3", app.agendor.uri()))
}

async fn run(mut command: Command, args: &[&str]) -> Output {
    command.args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("failed to start agendor-sync");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn request_count(app: &TestApp) -> usize {
    app.agendor.received_requests().await.unwrap().len()
}

async fn insert_enabled_company(app: &TestApp, id: i64) {
    sqlx::raw_sql(&format!(
        "insert into empresas (id, nome, agendor_modulo_contratado, agendor_integracao_ativa,
             agendor_token)
         values ({id}, 'Empresa {id}', true, true, 'token-of-company-{id}');
         insert into usuarios (id, empresa_id, nome, ativo) values ({id}0, {id}, 'Integração', true);
         update empresas set agendor_usuario_id = {id}0 where id = {id};"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
}

/// A superuser role with a password, dropped with the guard. The server trusts local
/// connections, so the password is accepted whatever it is.
struct TestRole {
    name: String,
    password: String,
}

impl TestRole {
    async fn create() -> Self {
        let suffix = unique_suffix();
        let role = TestRole {
            name: format!("agendor_test_{suffix}"),
            password: format!("Pw{suffix}xKeptSecret"),
        };
        let mut admin = admin_connection().await;
        sqlx::raw_sql(&format!(
            "create role {} login password '{}' superuser",
            role.name, role.password
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        role
    }

    /// Returns `database_url` with this role and its password as credentials.
    fn url(&self, database_url: &str) -> String {
        let mut url = url::Url::parse(database_url).unwrap();
        url.set_username(&self.name).unwrap();
        url.set_password(Some(&self.password)).unwrap();
        url.to_string()
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        cleanup(format!("drop role if exists {}", self.name));
    }
}

/// A configuration file in the temporary directory, removed with the guard.
struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("agendor-sync-cli-{}.toml", unique_suffix()));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn assert_no_secret(output: &Output, secrets: &[&str], case: &str) {
    for secret in secrets {
        assert!(
            !output.stdout.contains(secret),
            "{case}: stdout contains {secret}"
        );
        assert!(
            !output.stderr.contains(secret),
            "{case}: stderr contains {secret}"
        );
    }
}

#[tokio::test]
async fn json_report_alone_on_stdout() {
    let app = spawn_app().await;
    app.mount_stream(vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;

    let output = run(
        app_binary(&app),
        &["--output", "json", "--since", "2026-11-01"],
    )
    .await;

    assert_eq!(output.code, Some(0), "{}", output.both());
    let report = output.json();
    assert_eq!(report["dry_run"], json!(false));
    assert_eq!(report["companies"][0]["status"], json!("succeeded"));
    assert_eq!(
        report["companies"][0]["deals"][0]["outcome"],
        json!("created")
    );
    assert!(
        output.stderr.contains("deal integrated"),
        "{}",
        output.both()
    );
    assert!(!output.stdout.contains("deal integrated"));
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let app = spawn_app().await;
    app.mount_stream(vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;
    let args = [
        "--output",
        "json",
        "--log-format",
        "json",
        "--since",
        "2026-11-01",
    ];

    let first = run(app_binary(&app), &args).await;
    let second = run(app_binary(&app), &args).await;

    assert_eq!(first.code, Some(0), "{}", first.both());
    assert_eq!(second.code, Some(0), "{}", second.both());
    let report = second.json();
    assert_eq!(
        report["companies"][0]["deals"][0]["outcome"],
        json!("already_integrated")
    );
    let lines: Vec<&str> = second.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "no log line on stderr");
    for line in lines {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("log line is not JSON ({error}): {line}"));
        assert!(parsed.is_object(), "{line}");
    }
}

#[tokio::test]
async fn failed_deal_exits_with_3() {
    let app = spawn_app().await;
    let mut malformed = deal(2);
    malformed["wonAt"] = json!("yesterday");
    app.mount_stream(vec![deal(1), malformed]).await;
    app.mount_organization(organization(7001)).await;

    let output = run(
        app_binary(&app),
        &["--output", "json", "--since", "2026-11-01"],
    )
    .await;

    assert_eq!(output.code, Some(3), "{}", output.both());
    assert_eq!(output.json()["companies"][0]["status"], json!("partial"));
    let failure_log = output
        .stderr
        .lines()
        .find(|line| line.contains("deal failed"))
        .unwrap_or_else(|| panic!("failed deal not logged: {}", output.both()));
    assert!(failure_log.contains('2'), "{failure_log}");
    assert!(failure_log.contains("wonAt"), "{failure_log}");
}

#[tokio::test]
async fn quiet_warnings_name_company_and_deal() {
    let app = spawn_app().await;
    let mut malformed = deal(48210377);
    malformed["wonAt"] = json!("yesterday");
    app.mount_stream(vec![malformed]).await;

    let output = run(app_binary(&app), &["-q", "--since", "2026-11-01"]).await;

    let failure_log = output
        .stderr
        .lines()
        .find(|line| line.contains("deal failed"))
        .unwrap_or_else(|| panic!("failed deal not logged: {}", output.both()));
    assert!(failure_log.contains("company_id=1"), "{failure_log}");
    assert!(failure_log.contains("deal_id=48210377"), "{failure_log}");
}

#[tokio::test]
async fn rejected_token_exits_with_1() {
    let app = spawn_app().await;
    Mock::given(method("GET"))
        .and(path("/v3/deals/stream"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&app.agendor)
        .await;

    let output = run(
        app_binary(&app),
        &["--output", "json", "--since", "2026-11-01"],
    )
    .await;

    assert_eq!(output.code, Some(1), "{}", output.both());
    let company = &output.json()["companies"][0];
    assert_eq!(company["status"], json!("failed"));
    let error = company["error"].as_str().unwrap_or_default();
    assert!(error.contains("rejected the API token"), "{error}");
    assert!(
        output.stderr.contains("rejected the API token"),
        "{}",
        output.both()
    );
}

#[tokio::test]
async fn usage_errors_exit_with_2() {
    let app = spawn_app().await;
    insert_enabled_company(&app, 3).await;
    app.mount_stream(vec![deal(1)]).await;
    let cases: [(&[&str], &str); 4] = [
        (&["--bogus"], "--bogus"),
        (&["--deal", "48210377"], "--company"),
        (&["--since", "10/01/2025"], "10/01/2025"),
        (&["--output", "yaml"], "yaml"),
    ];

    for (args, mentioned) in cases {
        let output = run(app_binary(&app), args).await;

        assert_eq!(output.code, Some(2), "{args:?}: {}", output.both());
        assert!(
            output.stderr.contains(mentioned),
            "{args:?}: {}",
            output.both()
        );
    }
    assert_eq!(request_count(&app).await, 0);
    assert_eq!(app.count("cirurgias").await, 0);
}

#[tokio::test]
async fn held_company_lock_exits_with_75() {
    let app = spawn_app().await;
    app.mount_stream(vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;
    let mut holder = PgConnection::connect(&app.database_url).await.unwrap();
    let locked: bool = sqlx::query_scalar(
        "select pg_try_advisory_lock(hashtextextended('agendor-sync company ' || '1', 0))",
    )
    .fetch_one(&mut holder)
    .await
    .unwrap();
    assert!(locked, "the test could not take the company lock");

    let output = run(
        app_binary(&app),
        &["--output", "json", "--since", "2026-11-01"],
    )
    .await;

    assert_eq!(output.code, Some(75), "{}", output.both());
    assert_eq!(output.json()["companies"][0]["status"], json!("skipped"));
    assert_eq!(request_count(&app).await, 0);
    assert_eq!(app.count("cirurgias").await, 0);
    assert_eq!(app.count("agendor_sync.runs").await, 0);
    holder.close().await.unwrap();
}

async fn tables_of_schema(app: &TestApp, schema: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = $1 order by 1",
    )
    .bind(schema)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn migration_count() -> usize {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    std::fs::read_dir(directory)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|extension| extension == "sql")
        })
        .count()
}

#[tokio::test]
async fn migrate_creates_schema_idempotently() {
    let app = spawn_app().await;
    sqlx::raw_sql("drop schema agendor_sync cascade")
        .execute(&app.pool)
        .await
        .unwrap();
    let public_before = tables_of_schema(&app, "public").await;

    let first = run(app_binary(&app), &["migrate"]).await;
    let second = run(app_binary(&app), &["migrate"]).await;

    assert_eq!(first.code, Some(0), "{}", first.both());
    let applied = format!("({} migration(s) applied)", migration_count());
    assert!(first.stdout.contains(&applied), "{}", first.both());
    assert_eq!(second.code, Some(0), "{}", second.both());
    assert!(
        second.stdout.contains("(0 migration(s) applied)"),
        "{}",
        second.both()
    );
    let own_tables = tables_of_schema(&app, "agendor_sync").await;
    for table in ["_sqlx_migrations", "deal_outcomes", "runs"] {
        assert!(own_tables.contains(&table.to_owned()), "{own_tables:?}");
    }
    let recorded: i64 = sqlx::query_scalar("select count(*) from agendor_sync._sqlx_migrations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(recorded as usize, migration_count());
    assert_eq!(tables_of_schema(&app, "public").await, public_before);

    app.mount_stream(vec![]).await;
    let sync = run(app_binary(&app), &["--since", "2026-11-01"]).await;
    assert_eq!(sync.code, Some(0), "{}", sync.both());
}

#[tokio::test]
async fn missing_v2_table_fails_before_any_request() {
    let app = spawn_app().await;
    sqlx::raw_sql("drop table cirurgia_orcamento_itens")
        .execute(&app.pool)
        .await
        .unwrap();
    app.mount_stream(vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;

    let output = run(app_binary(&app), &["--since", "2026-11-01"]).await;

    assert_eq!(output.code, Some(1), "{}", output.both());
    assert!(
        output.stderr.contains("cirurgia_orcamento_itens"),
        "{}",
        output.both()
    );
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn unknown_configuration_key_is_named() {
    let app = spawn_app().await;
    app.mount_stream(vec![]).await;
    let cases = [
        ("[agendor]\nrate = 3\n", "rate"),
        ("colour = \"blue\"\n", "colour"),
        ("[custom_fields]\nhospitall = \"hospital\"\n", "hospitall"),
    ];

    for (text, key) in cases {
        let file = ConfigFile::new(text);

        let by_flag = run(app_binary(&app), &["--config", file.path()]).await;
        let mut by_env = app_binary(&app);
        by_env.env("AGENDOR_SYNC_CONFIG", file.path());
        let by_env = run(by_env, &[]).await;

        for (source, output) in [("--config", by_flag), ("AGENDOR_SYNC_CONFIG", by_env)] {
            assert!(output.code.is_some(), "{source} {key}: killed");
            assert_ne!(output.code, Some(0), "{source} {key}: {}", output.both());
            assert!(
                output.stderr.contains(key),
                "{source} {key}: {}",
                output.both()
            );
        }
    }
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn invalid_database_url_names_its_source() {
    let app = spawn_app().await;
    let invalid = "postgres://someone@127.0.0.1:99999/v2";
    let api_url = format!("{}/v3", app.agendor.uri());
    let mut by_flag = binary(&app.database_url, &api_url);
    by_flag.args(["--database-url", invalid]);
    let cases = [
        ("DATABASE_URL", binary(invalid, &api_url)),
        ("--database-url", by_flag),
    ];

    for (source, command) in cases {
        let output = run(command, &["--since", "2026-11-01"]).await;

        assert_eq!(output.code, Some(1), "{source}: {}", output.both());
        let message = output
            .stderr
            .lines()
            .find(|line| line.starts_with("error:"))
            .unwrap_or_else(|| panic!("{source}: no error line: {}", output.both()));
        assert!(message.contains(source), "{source}: {message}");
    }
}

#[tokio::test]
async fn piped_text_logs_have_no_colours() {
    let app = spawn_app().await;
    app.mount_stream(vec![]).await;

    let output = run(app_binary(&app), &["--since", "2026-11-01"]).await;

    assert_eq!(output.code, Some(0), "{}", output.both());
    assert!(!output.stderr.is_empty(), "no log line on stderr");
    assert!(
        !output.stderr.contains('\u{1b}'),
        "stderr is not a terminal, yet it contains ANSI escape codes: {:?}",
        output.stderr
    );
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_rejected() {
    let app = spawn_app().await;
    // With no company enabled, even a binary that accepted the URL would send nothing.
    sqlx::raw_sql("update empresas set agendor_integracao_ativa = false")
        .execute(&app.pool)
        .await
        .unwrap();

    for api_url in ["http://192.0.2.10/v3", "http://agendor.example/v3"] {
        let output = run(
            binary(&app.database_url, api_url),
            &["--since", "2026-11-01"],
        )
        .await;

        assert_eq!(output.code, Some(1), "{api_url}: {}", output.both());
        assert!(
            output.stderr.contains("AGENDOR_API_URL"),
            "{api_url}: {}",
            output.both()
        );
        // A run that got past the configuration prints its report on stdout.
        assert_eq!(output.stdout, "", "{api_url}");
    }
}

#[tokio::test]
async fn secrets_never_appear_in_the_output() {
    let app = spawn_app().await;
    let role = TestRole::create().await;
    let database_url = role.url(&app.database_url);
    let api_url = format!("{}/v3", app.agendor.uri());
    app.mount_stream(vec![deal(1)]).await;
    app.mount_organization(organization(7001)).await;

    for log_format in ["text", "json"] {
        let output = run(
            binary(&database_url, &api_url),
            &["-vv", "--log-format", log_format, "--since", "2026-11-01"],
        )
        .await;

        let case = format!("succeeding run, {log_format} logs");
        assert_eq!(output.code, Some(0), "{case}: {}", output.both());
        assert!(
            output.stderr.contains("TRACE"),
            "{case}: -vv did not log at trace level"
        );
        assert_no_secret(&output, &[TOKEN, &role.password], &case);
    }

    let override_token = "override-token-9be4e1";
    app.agendor.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&app.agendor)
        .await;
    let mut rejected = binary(&database_url, &api_url);
    rejected.env("AGENDOR_TOKEN", override_token);
    let output = run(rejected, &["-vv", "--since", "2026-11-01"]).await;
    assert_eq!(output.code, Some(1), "rejected token: {}", output.both());
    assert_no_secret(
        &output,
        &[override_token, TOKEN, &role.password],
        "rejected token",
    );

    let missing_database = role.url(&format!("{}/agendor_test_absent_database", server_url()));
    let bad_port = database_url.replace(":5432/", ":99999/");
    for (case, url) in [
        ("database not found", missing_database),
        ("invalid port", bad_port),
    ] {
        let output = run(binary(&url, &api_url), &["-vv", "--since", "2026-11-01"]).await;

        assert_eq!(output.code, Some(1), "{case}: {}", output.both());
        assert_no_secret(&output, &[TOKEN, &role.password], case);
    }
}

#[tokio::test]
async fn help_never_shows_secrets() {
    let app = spawn_app().await;
    let password = "HelpPw7c1KeptSecret";
    let database_url = format!("postgres://someone:{password}@127.0.0.1:5432/v2");
    let override_token = "help-token-3f9d0a";

    for args in [&["--help"][..], &["sync", "--help"], &["migrate", "--help"]] {
        let mut command = binary(&database_url, &format!("{}/v3", app.agendor.uri()));
        command.env("AGENDOR_TOKEN", override_token);

        let output = run(command, args).await;

        assert_eq!(output.code, Some(0), "{args:?}: {}", output.both());
        assert!(
            output.stdout.contains("Usage"),
            "{args:?}: {}",
            output.both()
        );
        assert_no_secret(&output, &[password, override_token], &format!("{args:?}"));
    }
}
