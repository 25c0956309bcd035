//! The sync run: every enabled company in turn, each deal in its own transaction.

mod company;
mod deal;
mod feed;
mod since;

use sqlx::PgPool;

use crate::cli::SyncArgs;
use crate::config::Settings;
use crate::report::{CompanyReport, CompanyStatus, Counts, RunReport};
use crate::store::{self, StoreError};
use crate::v2;

pub use since::default_since;

/// A failure that stops the whole run before any company is processed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the V2 database lacks {0}: point DATABASE_URL at a V2 database, or adapt the \
         queries in src/v2.rs to this installation"
    )]
    MissingV2Schema(v2::MissingSchema),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Configuration(String),
}

impl RunError {
    /// Usage errors exit with 2, like the command-line parser's own.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Usage(_) => 2,
            _ => crate::cli::EXIT_FAILURE,
        }
    }
}

/// Runs the sync for every company selected by `args` and reports what happened.
pub async fn run(settings: &Settings, args: &SyncArgs) -> Result<RunReport, RunError> {
    let pool = store::connect(&settings.database_url).await?;
    let report = run_with_pool(&pool, settings, args).await;
    pool.close().await;
    report
}

/// Runs the sync on an open pool; tests call it to share one pool with their checks.
pub async fn run_with_pool(
    pool: &PgPool,
    settings: &Settings,
    args: &SyncArgs,
) -> Result<RunReport, RunError> {
    let missing = v2::missing_schema(pool).await.map_err(StoreError::from)?;
    if !missing.is_empty() {
        return Err(RunError::MissingV2Schema(missing));
    }
    store::ensure_migrated(pool).await?;

    let companies = v2::companies(pool, &args.companies)
        .await
        .map_err(StoreError::from)?;
    let ids = || {
        companies
            .iter()
            .map(|company| company.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !args.deals.is_empty() && companies.len() > 1 {
        return Err(RunError::Usage(format!(
            "--deal applies to one company, but {} are selected ({}): name one with --company",
            companies.len(),
            ids()
        )));
    }
    if settings.token_override.is_some() && companies.len() > 1 {
        return Err(RunError::Configuration(format!(
            "AGENDOR_TOKEN replaces every company's token, so it would write one Agendor \
             account's deals into {} companies ({}): name one with --company, or unset \
             AGENDOR_TOKEN to use each company's own token",
            companies.len(),
            ids()
        )));
    }

    if companies.is_empty() && args.companies.is_empty() {
        tracing::warn!(
            "no company has the Agendor module contracted and the integration enabled: \
             nothing to do"
        );
    }

    let mut reports = Vec::new();
    for requested in &args.companies {
        if !companies.iter().any(|company| company.id == *requested) {
            reports.push(failed_company(
                *requested,
                format!("company {requested} not found in table empresas"),
            ));
        }
    }
    for company in &companies {
        reports.push(company::process(pool, settings, args, company).await);
    }
    reports.sort_by_key(|report| report.company_id);

    let report = RunReport {
        dry_run: args.dry_run,
        companies: reports,
    };
    log_summary(&report);
    Ok(report)
}

/// Logs one line summing up the run, for operators who read only the log.
fn log_summary(report: &RunReport) {
    let mut totals = Counts::default();
    for company in &report.companies {
        totals.fetched += company.counts.fetched;
        totals.created += company.counts.created;
        totals.already_integrated += company.counts.already_integrated;
        totals.failed += company.counts.failed;
        totals.ignored += company.counts.ignored;
    }
    let failed_companies = report
        .companies
        .iter()
        .filter(|company| company.status == CompanyStatus::Failed)
        .count();
    tracing::info!(
        companies = report.companies.len(),
        failed_companies,
        fetched = totals.fetched,
        created = totals.created,
        already_integrated = totals.already_integrated,
        failed = totals.failed,
        ignored = totals.ignored,
        dry_run = report.dry_run,
        exit_code = report.exit_code(),
        "run finished"
    );
}

fn failed_company(company_id: i64, error: String) -> CompanyReport {
    tracing::error!(company_id, %error, "company failed");
    CompanyReport {
        company_id,
        company_name: String::new(),
        since: None,
        status: CompanyStatus::Failed,
        error: Some(error),
        counts: Counts::default(),
        deals: Vec::new(),
    }
}
