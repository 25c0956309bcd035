//! One company's run: lock, checks, then the deal feed into the per-deal pipeline.

use std::collections::HashSet;

use chrono::{SecondsFormat, Utc};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::agendor::{AgendorClient, AgendorError};
use crate::cli::SyncArgs;
use crate::config::{Settings, Since};
use crate::report::{CompanyReport, CompanyStatus, Counts};
use crate::store::{self, RunEnd};
use crate::sync::deal::{DealAbort, DealContext};
use crate::sync::feed::{FEED_CAPACITY, Selection, spawn_fetcher};
use crate::sync::since::default_since;
use crate::v2::{self, Company};

/// The reason a company could not be processed.
#[derive(Debug, thiserror::Error)]
enum CompanyError {
    #[error("{0}")]
    Settings(String),
    #[error(transparent)]
    Agendor(#[from] AgendorError),
    #[error("{}", describe_database_error(.0))]
    Database(#[from] sqlx::Error),
    #[error("internal error, please report it: the task fetching deals stopped: {0}")]
    Internal(String),
}

fn describe_database_error(error: &sqlx::Error) -> String {
    if crate::sync::deal::is_connection_error(error) {
        format!(
            "lost the connection to the database ({error}): the deals committed so far are \
             kept; run again once the database is back"
        )
    } else if crate::sync::deal::is_schema_error(error) {
        format!(
            "the database rejected a statement ({error}): check the grants of the sync's \
             role and that the V2 schema matches src/v2.rs"
        )
    } else {
        format!("database error: {error}")
    }
}

pub async fn process(
    pool: &PgPool,
    settings: &Settings,
    args: &SyncArgs,
    company: &Company,
) -> CompanyReport {
    // At error level the span is enabled at every verbosity, so even `-q` warnings carry
    // the company id.
    let span = tracing::error_span!("company", company_id = company.id);
    async {
        let mut report = CompanyReport {
            company_id: company.id,
            company_name: company.name.clone(),
            since: None,
            status: CompanyStatus::Succeeded,
            error: None,
            counts: Counts::default(),
            deals: Vec::new(),
        };

        let lock = match store::try_lock_company(pool, company.id).await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                tracing::warn!("company skipped: another run has its lock");
                report.status = CompanyStatus::Skipped;
                report.error = Some("another agendor-sync run is processing this company".into());
                return report;
            }
            Err(error) => return fail(report, CompanyError::Database(error)),
        };

        let outcome = run_locked(pool, settings, args, company, &mut report).await;
        if let Err(error) = lock.release().await {
            tracing::warn!(%error, "failed to release the company lock; closing its connection releases it");
        }
        match outcome {
            Ok(()) => {
                tracing::info!(
                    status = report.status.as_str(),
                    fetched = report.counts.fetched,
                    created = report.counts.created,
                    already_integrated = report.counts.already_integrated,
                    failed = report.counts.failed,
                    ignored = report.counts.ignored,
                    "company done"
                );
                report
            }
            Err(error) => fail(report, error),
        }
    }
    .instrument(span)
    .await
}

fn fail(mut report: CompanyReport, error: CompanyError) -> CompanyReport {
    tracing::error!(error = %error, "company failed");
    report.status = CompanyStatus::Failed;
    report.error = Some(error.to_string());
    report
}

async fn run_locked(
    pool: &PgPool,
    settings: &Settings,
    args: &SyncArgs,
    company: &Company,
    report: &mut CompanyReport,
) -> Result<(), CompanyError> {
    let (token, user_id) = check_company(pool, settings, company).await?;
    let since = match args.since {
        Some(since) => since.to_instant(settings.timezone),
        None => {
            let last = store::last_completed_run_start(pool, company.id).await?;
            Since::Date(default_since(Utc::now(), settings.timezone, last))
                .to_instant(settings.timezone)
        }
    };
    // A run of named deals reads no stream, so no date bounds it.
    if args.deals.is_empty() {
        report.since = Some(since.to_rfc3339_opts(SecondsFormat::Secs, true));
    }

    let client = AgendorClient::new(&settings.http, &token)?;
    let mut registries = v2::load_registries(pool, company.id).await?;
    let run_id = match args.dry_run {
        true => None,
        false => {
            let interrupted = store::close_interrupted_runs(pool, company.id).await?;
            if interrupted > 0 {
                tracing::warn!(
                    runs = interrupted,
                    "earlier runs were interrupted; marked failed"
                );
            }
            Some(store::start_run(pool, company.id, since).await?)
        }
    };

    let selection = match args.deals.is_empty() {
        true => Selection::Stream {
            since,
            retry_ids: store::deals_to_retry(pool, company.id, settings.retry_failed_days).await?,
        },
        false => Selection::Deals(args.deals.clone()),
    };
    let (sender, mut feed) = mpsc::channel(FEED_CAPACITY);
    let fetcher = spawn_fetcher(client.clone(), selection, sender);
    let mut context = DealContext {
        pool,
        client: &client,
        registries: &mut registries,
        settings,
        company_id: company.id,
        user_id,
        run_id,
        dry_run: args.dry_run,
    };

    let progress = crate::telemetry::deal_progress(company.id);
    let mut seen = HashSet::new();
    let mut abort = None;
    while let Some(item) = feed.recv().await {
        if let Some(id) = item.deal_id()
            && !seen.insert(id)
        {
            continue;
        }
        let retry = item.retry;
        match context.process(item).await {
            Ok(mut deal_report) => {
                deal_report.retry = retry;
                report.counts.add(deal_report.outcome);
                report.deals.push(deal_report);
                progress.inc(1);
                progress.set_message(format!(
                    "({} created, {} failed)",
                    report.counts.created, report.counts.failed
                ));
            }
            Err(error) => {
                abort = Some(CompanyError::from(error));
                break;
            }
        }
    }
    drop(feed);
    progress.finish_and_clear();

    let (stream_completed, fetch_error) = match fetcher.await {
        Ok(fetched) => (
            fetched.stream_completed,
            fetched.error.map(CompanyError::Agendor),
        ),
        Err(error) => (false, Some(CompanyError::Internal(error.to_string()))),
    };
    let stream_completed = abort.is_none() && stream_completed;
    let error = abort.or(fetch_error);

    report.status = match (&error, report.counts.failed) {
        (Some(_), _) => CompanyStatus::Failed,
        (None, 0) => CompanyStatus::Succeeded,
        (None, _) => CompanyStatus::Partial,
    };
    report.error = error.as_ref().map(ToString::to_string);
    if let Some(run_id) = run_id {
        let end = RunEnd {
            status: report.status,
            stream_completed,
            error: report.error.as_deref(),
            counts: &report.counts,
        };
        store::finish_run(pool, run_id, &end).await?;
    }
    if let Some(error) = &error {
        tracing::error!(error = %error, "company failed");
    }
    Ok(())
}

/// Checks the company's settings: its token (or the configured override) and its
/// integration user, which must exist, be active and belong to the company.
async fn check_company(
    pool: &PgPool,
    settings: &Settings,
    company: &Company,
) -> Result<(SecretString, i64), CompanyError> {
    if !company.module_contracted {
        return Err(CompanyError::Settings(format!(
            "company {} has not contracted the Agendor module",
            company.id
        )));
    }
    if !company.integration_enabled {
        return Err(CompanyError::Settings(format!(
            "company {} has the Agendor integration disabled: enable it in the company's \
             Integrações tab",
            company.id
        )));
    }
    let token = settings
        .token_override
        .clone()
        .or_else(|| company.token.clone())
        .ok_or_else(|| {
            CompanyError::Settings(format!(
                "company {} has no Agendor API token: set it in the company's Integrações \
                 tab (empresas.agendor_token) or in AGENDOR_TOKEN",
                company.id
            ))
        })?;

    let Some(user_id) = company.user_id else {
        return Err(CompanyError::Settings(format!(
            "company {} has no integration user: choose one in the company's Integrações \
             tab (empresas.agendor_usuario_id)",
            company.id
        )));
    };
    match v2::user(pool, user_id).await? {
        Some(user) if user.company_id == company.id && user.active => Ok((token, user_id)),
        Some(user) if user.company_id != company.id => Err(CompanyError::Settings(format!(
            "integration user {user_id} belongs to company {}, not to company {}: choose a \
             user of this company",
            user.company_id, company.id
        ))),
        Some(_) => Err(CompanyError::Settings(format!(
            "integration user {user_id} of company {} is inactive: activate it or choose \
             another",
            company.id
        ))),
        None => Err(CompanyError::Settings(format!(
            "integration user {user_id} of company {} not found in table usuarios",
            company.id
        ))),
    }
}

impl From<DealAbort> for CompanyError {
    fn from(abort: DealAbort) -> Self {
        match abort {
            DealAbort::Agendor(error) => CompanyError::Agendor(error),
            DealAbort::Database(error) => CompanyError::Database(error),
        }
    }
}
