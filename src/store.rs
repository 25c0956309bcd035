//! The integration's own tables, in the PostgreSQL schema `agendor_sync`: runs, deal
//! outcomes (which give the watermark) and the per-company advisory lock.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use crate::config::Settings;
use crate::report::{CompanyStatus, Counts, DealReport};

/// Schema of the integration's own tables, migration bookkeeping included.
pub const SCHEMA: &str = "agendor_sync";

static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error(
        "the schema {SCHEMA} is missing or out of date ({pending} migration(s) pending): \
         run `agendor-sync migrate`"
    )]
    NotMigrated { pending: usize },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Opens a pool on the V2 database. Error messages never include the URL, which may
/// carry a password.
pub async fn connect(database_url: &SecretString) -> Result<PgPool, StoreError> {
    let options = connect_options(database_url)?;

    // One plain connection first: a refused or rejected connection fails at once with
    // the server's reason, where the pool would retry until its timeout.
    let probe = PgConnection::connect_with(&options)
        .await
        .map_err(StoreError::Connect)?;
    probe.close().await.map_err(StoreError::Connect)?;

    Ok(PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(15))
        .connect_lazy_with(options))
}

fn connect_options(database_url: &SecretString) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(database_url.expose_secret())
        .map(|options| options.application_name("agendor-sync"))
        .map_err(|error| StoreError::InvalidUrl(redact_password(&error, database_url)))
}

/// Returns the error's message with the URL's password, if any, masked.
fn redact_password(error: &sqlx::Error, database_url: &SecretString) -> String {
    let message = error.to_string();
    let password = url::Url::parse(database_url.expose_secret())
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
        .filter(|password| !password.is_empty());
    match password {
        Some(password) => message.replace(&password, "***"),
        None => message,
    }
}

/// Creates or updates the integration's own tables; returns how many migrations ran.
pub async fn migrate(settings: &Settings) -> Result<usize, StoreError> {
    let pool = connect(&settings.database_url).await?;
    // Checked first: a role without CREATE on the database may still own the schema a
    // DBA created for it, and `create schema if not exists` would fail on privileges.
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
            .bind(SCHEMA)
            .fetch_one(&pool)
            .await?;
    if !exists {
        sqlx::query(&format!("create schema {SCHEMA}"))
            .execute(&pool)
            .await?;
    }
    pool.close().await;

    // The migrator keeps its bookkeeping table in the first schema of the search path.
    let options = connect_options(&settings.database_url)?.options([("search_path", SCHEMA)]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)?;
    let pending = pending_migrations(&pool).await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(pending)
}

/// Fails unless every migration embedded in this binary has been applied.
pub async fn ensure_migrated(pool: &PgPool) -> Result<(), StoreError> {
    match pending_migrations(pool).await? {
        0 => Ok(()),
        pending => Err(StoreError::NotMigrated { pending }),
    }
}

async fn pending_migrations(pool: &PgPool) -> Result<usize, StoreError> {
    let table_exists: bool = sqlx::query_scalar(&format!(
        "select to_regclass('{SCHEMA}._sqlx_migrations') is not null"
    ))
    .fetch_one(pool)
    .await?;
    let applied: Vec<i64> = if table_exists {
        sqlx::query_scalar(&format!(
            "select version from {SCHEMA}._sqlx_migrations where success"
        ))
        .fetch_all(pool)
        .await?
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .filter(|migration| !applied.contains(&migration.version))
        .count())
}

/// Returns the start of this company's last run that read the deal stream to the end.
/// Dry runs are never recorded, so they never count.
pub async fn last_completed_run_start(
    pool: &PgPool,
    company_id: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "select max(started_at) from agendor_sync.runs
         where empresa_id = $1 and stream_completed",
    )
    .bind(company_id)
    .fetch_one(pool)
    .await
}

/// Marks as failed the runs of this company still shown as running: the caller holds the
/// company's lock, so they belong to processes that were killed or lost the database.
pub async fn close_interrupted_runs(pool: &PgPool, company_id: i64) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "update agendor_sync.runs
         set status = 'failed', error = 'interrupted: the process stopped before the run ended'
         where empresa_id = $1 and status = 'running'",
    )
    .bind(company_id)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

pub async fn start_run(
    pool: &PgPool,
    company_id: i64,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into agendor_sync.runs (empresa_id, since) values ($1, $2) returning id",
    )
    .bind(company_id)
    .bind(since)
    .fetch_one(pool)
    .await
}

/// Lists the deals whose latest outcome is a failure that a later run may fix, and whose
/// first failure is less than `days` days old: later runs fetch them by id and retry them.
pub async fn deals_to_retry(
    pool: &PgPool,
    company_id: i64,
    days: u32,
) -> Result<Vec<i64>, sqlx::Error> {
    if days == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "with latest as (
             select distinct on (deal_id) deal_id, outcome, retryable
             from agendor_sync.deal_outcomes
             where empresa_id = $1 and deal_id is not null
             order by deal_id, recorded_at desc, id desc
         )
         select latest.deal_id from latest
         where latest.outcome = 'failed' and latest.retryable
           and (select min(recorded_at) from agendor_sync.deal_outcomes failure
                where failure.empresa_id = $1 and failure.deal_id = latest.deal_id
                  and failure.outcome = 'failed')
               > now() - make_interval(days => $2)
         order by latest.deal_id",
    )
    .bind(company_id)
    .bind(days as i32)
    .fetch_all(pool)
    .await
}

/// The final state of a run, written when the company is done.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub status: CompanyStatus,
    pub stream_completed: bool,
    pub error: Option<&'a str>,
    pub counts: &'a Counts,
}

pub async fn finish_run(pool: &PgPool, run_id: i64, end: &RunEnd<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update agendor_sync.runs
         set finished_at = now(), status = $2, stream_completed = $3, error = $4,
             fetched = $5, created = $6, already_integrated = $7, failed = $8, ignored = $9
         where id = $1",
    )
    .bind(run_id)
    .bind(end.status.as_str())
    .bind(end.stream_completed)
    .bind(end.error)
    .bind(end.counts.fetched as i32)
    .bind(end.counts.created as i32)
    .bind(end.counts.already_integrated as i32)
    .bind(end.counts.failed as i32)
    .bind(end.counts.ignored as i32)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records one deal's outcome; for a created deal, inside the deal's own transaction.
pub async fn record_outcome(
    conn: &mut PgConnection,
    run_id: i64,
    company_id: i64,
    deal: &DealReport,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into agendor_sync.deal_outcomes
             (run_id, empresa_id, deal_id, outcome, surgery_id, client, error, warnings,
              retryable)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(run_id)
    .bind(company_id)
    .bind(deal.deal_id)
    .bind(deal.outcome.as_str())
    .bind(deal.surgery_id)
    .bind(deal.client.map(|client| client.as_str()))
    .bind(&deal.error)
    .bind(sqlx::types::Json(&deal.warnings))
    .bind(deal.retryable)
    .execute(conn)
    .await?;
    Ok(())
}

/// A session-level advisory lock on one company, held on its own connection so that a
/// second run finds the company taken. Closing the connection releases it, so a
/// crashed run never leaves it behind.
pub struct CompanyLock {
    conn: PoolConnection<Postgres>,
    company_id: i64,
}

/// Takes the company's lock, or returns `None` when another run holds it.
pub async fn try_lock_company(
    pool: &PgPool,
    company_id: i64,
) -> Result<Option<CompanyLock>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar(
        "select pg_try_advisory_lock(hashtextextended('agendor-sync company ' || $1, 0))",
    )
    .bind(company_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(locked.then_some(CompanyLock { conn, company_id }))
}

impl CompanyLock {
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "select pg_advisory_unlock(hashtextextended('agendor-sync company ' || $1, 0))",
        )
        .bind(self.company_id.to_string())
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}
