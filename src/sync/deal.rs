//! The pipeline of one deal, inside one database transaction: idempotency, client,
//! products, then the surgery with its pre-budget and items.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tracing::Instrument;

use crate::agendor::{AgendorClient, AgendorError, Deal, Organization, Person, ProductLine};
use crate::config::Settings;
use crate::mapping::{
    self, ClientKind, ClientSource, NewSurgery, ProcedureChoice, Registries, budget_observation,
    legacy_code, match_products, surgery_fields, surgery_observation,
};
use crate::report::{ClientOutcome, DealReport, Outcome};
use crate::store;
use crate::sync::feed::FeedItem;
use crate::v2::{self, WriteError};

/// An error that stops the whole company rather than one deal: the token was rejected,
/// or the database connection is gone.
#[derive(Debug)]
pub enum DealAbort {
    Agendor(AgendorError),
    Database(sqlx::Error),
}

/// The reason one deal failed. The run goes on with the next deal.
#[derive(Debug, thiserror::Error)]
enum DealFailure {
    #[error("{0}")]
    Rejected(String),
    #[error("Agendor request failed: {0}")]
    Agendor(AgendorError),
    #[error("cannot write to V2: {0}")]
    Write(#[from] v2::FitError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("surgery {0} already exists with this legacy code")]
    AlreadyIntegrated(i64),
}

/// The state a run shares with each deal it processes.
pub struct DealContext<'a> {
    pub pool: &'a PgPool,
    pub client: &'a AgendorClient,
    pub registries: &'a mut Registries,
    pub settings: &'a Settings,
    pub company_id: i64,
    pub user_id: i64,
    /// The run recording outcomes; `None` in a dry run, which records nothing.
    pub run_id: Option<i64>,
    pub dry_run: bool,
}

/// A surgery written in an open transaction, with the facts the report needs and the
/// rows to add to the registries once it commits.
struct Written {
    surgery_id: i64,
    client: ClientOutcome,
    warnings: Vec<String>,
    created_client: Option<(i64, ClientKind, String)>,
    created_procedure: Option<(i64, String)>,
}

/// The Agendor records a deal needs, fetched before its transaction opens so that no
/// transaction waits on Agendor's rate limit or retries.
struct Fetched {
    customer: Customer,
    /// Each product line with its code, the line's own or the catalogue's.
    lines: Vec<(ProductLine, Option<String>)>,
}

/// The deal's organization, or its person when it has no organization.
enum Customer {
    Organization(Arc<Organization>),
    Person(Arc<Person>),
}

impl Customer {
    fn source(&self) -> ClientSource<'_> {
        match self {
            Customer::Organization(organization) => ClientSource::Organization(organization),
            Customer::Person(person) => ClientSource::Person(person),
        }
    }
}

impl DealContext<'_> {
    /// Runs one deal through the pipeline and records its outcome.
    pub async fn process(&mut self, item: FeedItem) -> Result<DealReport, DealAbort> {
        // Enabled at every verbosity, like the company span, so warnings name the deal.
        let span = tracing::error_span!("deal", deal_id = item.deal_id());
        async {
            match item.entry {
                Ok(deal) => self.process_deal(deal).await,
                Err(malformed) => {
                    let mut report = DealReport::failed(malformed.id, malformed.reason);
                    report.retryable = !item.missing;
                    self.finish_unwritten(report).await
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn process_deal(&mut self, deal: Deal) -> Result<DealReport, DealAbort> {
        if !deal.is_won() {
            let status = deal
                .status_id
                .map_or_else(|| "absent".to_owned(), |id| id.to_string());
            let report = DealReport::ignored(
                deal.id,
                format!("deal status is {status}, not won (2): not integrated"),
            );
            return self.finish_unwritten(report).await;
        }

        // Checked before any request, so an integrated deal costs no Agendor request.
        if let Some(surgery_id) = self.existing_surgery(deal.id).await? {
            let report = DealReport::already_integrated(deal.id, surgery_id);
            return self.finish_unwritten(report).await;
        }
        let fetched = match self.fetch(&deal).await {
            Ok(fetched) => fetched,
            Err(failure) => {
                let report = self.failure_report(deal.id, failure).await?;
                return self.finish_unwritten(report).await;
            }
        };

        let mut tx = self.pool.begin().await.map_err(DealAbort::Database)?;
        match self.write(&mut tx, &deal, &fetched).await {
            Ok(written) => self.commit(tx, &deal, written).await,
            Err(failure) => {
                drop(tx);
                let report = self.failure_report(deal.id, failure).await?;
                self.finish_unwritten(report).await
            }
        }
    }

    /// Turns a failure into the deal's report, or into an abort of the company when no
    /// later deal could succeed either.
    async fn failure_report(
        &self,
        deal_id: i64,
        failure: DealFailure,
    ) -> Result<DealReport, DealAbort> {
        match failure {
            DealFailure::AlreadyIntegrated(surgery_id) => {
                Ok(DealReport::already_integrated(deal_id, surgery_id))
            }
            DealFailure::Agendor(error @ AgendorError::Unauthorized { .. }) => {
                Err(DealAbort::Agendor(error))
            }
            DealFailure::Database(error)
                if is_connection_error(&error) || is_schema_error(&error) =>
            {
                Err(DealAbort::Database(error))
            }
            DealFailure::Database(error) if is_unique_violation(&error) => {
                // Another writer (a run that ignored the lock, or a person in V2) inserted
                // the same legacy code first.
                Ok(match self.existing_surgery(deal_id).await? {
                    Some(surgery_id) => DealReport::already_integrated(deal_id, surgery_id),
                    None => {
                        DealReport::failed(Some(deal_id), DealFailure::Database(error).to_string())
                    }
                })
            }
            failure => Ok(DealReport::failed(Some(deal_id), failure.to_string())),
        }
    }

    async fn existing_surgery(&self, deal_id: i64) -> Result<Option<i64>, DealAbort> {
        let mut conn = self.pool.acquire().await.map_err(DealAbort::Database)?;
        v2::surgery_by_legacy_code(&mut conn, self.company_id, &legacy_code(deal_id))
            .await
            .map_err(DealAbort::Database)
    }

    async fn commit(
        &mut self,
        mut tx: Transaction<'_, Postgres>,
        deal: &Deal,
        written: Written,
    ) -> Result<DealReport, DealAbort> {
        let report = DealReport {
            deal_id: Some(deal.id),
            outcome: Outcome::Created,
            surgery_id: Some(written.surgery_id),
            client: Some(written.client),
            warnings: written.warnings,
            error: None,
            retry: false,
            retryable: true,
        };
        if let Some(run_id) = self.run_id {
            store::record_outcome(&mut tx, run_id, self.company_id, &report)
                .await
                .map_err(DealAbort::Database)?;
        }

        if self.dry_run {
            tx.rollback().await.map_err(DealAbort::Database)?;
        } else {
            tx.commit().await.map_err(DealAbort::Database)?;
            if let Some((id, kind, document)) = written.created_client {
                self.registries.add_client(id, kind, &document);
            }
            if let Some((id, description)) = written.created_procedure {
                self.registries.procedures.add(id, &description);
            }
        }
        tracing::info!(surgery_id = written.surgery_id, "deal integrated");
        Ok(report)
    }

    /// Logs and records a deal that wrote nothing to V2.
    async fn finish_unwritten(&self, report: DealReport) -> Result<DealReport, DealAbort> {
        let reason = report.error.as_deref().unwrap_or_default();
        match report.outcome {
            Outcome::Failed => tracing::warn!(reason, "deal failed"),
            Outcome::Ignored => tracing::info!(reason, "deal ignored"),
            _ => tracing::info!(surgery_id = report.surgery_id, "deal already integrated"),
        }
        if let Some(run_id) = self.run_id {
            let mut conn = self.pool.acquire().await.map_err(DealAbort::Database)?;
            store::record_outcome(&mut conn, run_id, self.company_id, &report)
                .await
                .map_err(DealAbort::Database)?;
        }
        Ok(report)
    }

    async fn write(
        &self,
        conn: &mut PgConnection,
        deal: &Deal,
        fetched: &Fetched,
    ) -> Result<Written, DealFailure> {
        // Checked again inside the transaction: another writer may have integrated the
        // deal since the first check.
        let code = legacy_code(deal.id);
        if let Some(surgery_id) = v2::surgery_by_legacy_code(conn, self.company_id, &code)
            .await
            .map_err(DealFailure::Database)?
        {
            return Err(DealFailure::AlreadyIntegrated(surgery_id));
        }

        let source = fetched.customer.source();
        let (client_id, client, created_client) = self.resolve_client(conn, source).await?;
        let products =
            match_products(&fetched.lines, self.registries).map_err(DealFailure::Rejected)?;
        let fields = surgery_fields(
            deal,
            self.registries,
            &self.settings.custom_fields,
            self.settings.timezone,
        );

        let (procedure_id, created_procedure) = match &fields.procedure {
            ProcedureChoice::None => (None, None),
            ProcedureChoice::Existing(id) => (Some(*id), None),
            ProcedureChoice::Create(description) => {
                let id = v2::insert_procedure(conn, self.company_id, description)
                    .await
                    .map_err(write_failure)?;
                (Some(id), Some((id, description.clone())))
            }
        };

        let surgery = NewSurgery {
            company_id: self.company_id,
            legacy_code: code,
            client_id,
            user_id: self.user_id,
            hospital_id: fields.hospital_id,
            health_plan_id: fields.health_plan_id,
            doctor_id: fields.doctor_id,
            seller_id: fields.seller_id,
            patient: fields.patient.clone(),
            surgery_date: fields.surgery_date,
            note: surgery_observation(
                deal.description.as_deref(),
                &fields.notes,
                &deal.web_url_or_default(),
            ),
            scheduling_note: fields.scheduling_note.clone(),
        };
        let budget_note = budget_observation(&products.notes);
        let surgery_id = v2::insert_surgery(
            conn,
            &surgery,
            procedure_id,
            budget_note.as_deref(),
            &products.items,
        )
        .await
        .map_err(write_failure)?;

        let warnings = fields
            .notes
            .iter()
            .chain(&products.notes)
            .map(ToString::to_string)
            .collect();
        Ok(Written {
            surgery_id,
            client,
            warnings,
            created_client,
            created_procedure,
        })
    }

    /// Fetches the deal's customer and the codes of its product lines from Agendor.
    async fn fetch(&self, deal: &Deal) -> Result<Fetched, DealFailure> {
        let customer = match (&deal.organization, &deal.person) {
            (Some(reference), _) => Customer::Organization(
                self.client
                    .organization(reference.id)
                    .await
                    .map_err(|error| agendor_failure(error, "organization", reference.id))?,
            ),
            (None, Some(reference)) => Customer::Person(
                self.client
                    .person(reference.id)
                    .await
                    .map_err(|error| agendor_failure(error, "person", reference.id))?,
            ),
            (None, None) => {
                return Err(DealFailure::Rejected(
                    "the deal has neither an organization nor a person: link the client \
                     in Agendor"
                        .into(),
                ));
            }
        };

        let mut lines = Vec::with_capacity(deal.products.len());
        for line in &deal.products {
            let code = match (&line.code, line.product_id) {
                (Some(code), _) => Some(code.clone()),
                (None, Some(product_id)) => match self.client.product_code(product_id).await {
                    Ok(code) => code,
                    Err(AgendorError::NotFound { .. }) => None,
                    Err(error) => return Err(agendor_failure(error, "product", product_id)),
                },
                (None, None) => None,
            };
            lines.push((line.clone(), code));
        }
        Ok(Fetched { customer, lines })
    }

    /// Finds the client by document, or creates it: an organization makes a PJ client,
    /// a person a PF client. Returns the id, whether it was found or created, and the
    /// registry entry to add once the transaction commits.
    async fn resolve_client(
        &self,
        conn: &mut PgConnection,
        source: ClientSource<'_>,
    ) -> Result<(i64, ClientOutcome, Option<(i64, ClientKind, String)>), DealFailure> {
        let ie_key = &self.settings.custom_fields.inscricao_estadual;
        let document = match source.document() {
            Ok(document) => document,
            // Without a valid document no client is looked up or created. The message
            // lists every other problem too, so one fix in Agendor settles them all.
            Err(problem) => {
                let problems = mapping::new_client(source, self.registries, ie_key)
                    .err()
                    .unwrap_or_else(|| vec![problem]);
                return Err(client_rejected(problems));
            }
        };

        // The registry read at the start of the run serves most lookups. The query
        // catches clients that V2's users created since.
        let kind = source.kind();
        if let Some(id) = self.registries.client(kind, &document) {
            return Ok((id, ClientOutcome::Found, None));
        }
        if let Some(id) = v2::client_by_document(conn, self.company_id, kind, &document)
            .await
            .map_err(DealFailure::Database)?
        {
            return Ok((id, ClientOutcome::Found, Some((id, kind, document))));
        }

        let new_client =
            mapping::new_client(source, self.registries, ie_key).map_err(client_rejected)?;
        let id = v2::insert_client(conn, self.company_id, self.user_id, &new_client)
            .await
            .map_err(write_failure)?;
        Ok((id, ClientOutcome::Created, Some((id, kind, document))))
    }
}

fn client_rejected(problems: Vec<String>) -> DealFailure {
    DealFailure::Rejected(format!("cannot create the client: {}", problems.join("; ")))
}

fn agendor_failure(error: AgendorError, record_kind: &str, id: i64) -> DealFailure {
    match error {
        AgendorError::NotFound { .. } => {
            DealFailure::Rejected(format!("{record_kind} {id} not found in Agendor"))
        }
        error => DealFailure::Agendor(error),
    }
}

fn write_failure(error: WriteError) -> DealFailure {
    match error {
        WriteError::Fit(error) => DealFailure::Write(error),
        WriteError::Database(error) => DealFailure::Database(error),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|error| error.is_unique_violation())
}

/// Privilege and schema errors (SQLSTATE class 42: permission denied, undefined table or
/// column) would fail every deal alike, so they stop the company instead.
pub(crate) fn is_schema_error(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code.starts_with("42"))
}

/// Connection-level errors stop the company: no later deal could be written either.
pub(crate) fn is_connection_error(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
    )
}
