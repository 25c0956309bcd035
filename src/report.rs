//! The run report printed on stdout, as text for people or as one JSON document for
//! scripts, and the exit code it implies.

use std::fmt::Write as _;
use std::io::Write as _;

use serde::Serialize;

/// Exit code when at least one deal failed but the run completed.
pub const EXIT_DEALS_FAILED: u8 = 3;
/// Exit code when another run held every company's lock and nothing was done.
pub const EXIT_LOCKED: u8 = 75;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    pub companies: Vec<CompanyReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompanyReport {
    pub company_id: i64,
    #[serde(skip)]
    pub company_name: String,
    /// The lower bound sent to Agendor, as `2025-01-10T00:00:00Z`.
    pub since: Option<String>,
    pub status: CompanyStatus,
    pub error: Option<String>,
    pub counts: Counts,
    pub deals: Vec<DealReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyStatus {
    Succeeded,
    /// Some deals failed.
    Partial,
    /// The company could not be processed.
    Failed,
    /// Another run has this company's lock.
    Skipped,
}

impl CompanyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyStatus::Succeeded => "succeeded",
            CompanyStatus::Partial => "partial",
            CompanyStatus::Failed => "failed",
            CompanyStatus::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub fetched: u32,
    pub created: u32,
    pub already_integrated: u32,
    pub failed: u32,
    pub ignored: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealReport {
    pub deal_id: Option<i64>,
    pub outcome: Outcome,
    pub surgery_id: Option<i64>,
    pub client: Option<ClientOutcome>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// True for a deal that failed in an earlier run and was fetched again by id. The
    /// JSON report leaves the key out when it is false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
    /// False for a failure no later run can fix, such as a deal deleted in Agendor.
    #[serde(skip)]
    pub retryable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    AlreadyIntegrated,
    Failed,
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::AlreadyIntegrated => "already_integrated",
            Outcome::Failed => "failed",
            Outcome::Ignored => "ignored",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientOutcome {
    Created,
    Found,
}

impl ClientOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientOutcome::Created => "created",
            ClientOutcome::Found => "found",
        }
    }
}

impl DealReport {
    pub fn failed(deal_id: Option<i64>, error: impl Into<String>) -> Self {
        DealReport {
            deal_id,
            outcome: Outcome::Failed,
            surgery_id: None,
            client: None,
            warnings: Vec::new(),
            error: Some(error.into()),
            retry: false,
            retryable: true,
        }
    }

    pub fn ignored(deal_id: i64, reason: impl Into<String>) -> Self {
        DealReport {
            outcome: Outcome::Ignored,
            ..DealReport::failed(Some(deal_id), reason)
        }
    }

    pub fn already_integrated(deal_id: i64, surgery_id: i64) -> Self {
        DealReport {
            deal_id: Some(deal_id),
            outcome: Outcome::AlreadyIntegrated,
            surgery_id: Some(surgery_id),
            client: None,
            warnings: Vec::new(),
            error: None,
            retry: false,
            retryable: true,
        }
    }
}

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        self.fetched += 1;
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::AlreadyIntegrated => self.already_integrated += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Ignored => self.ignored += 1,
        }
    }
}

impl RunReport {
    /// 1 when a company failed, else 3 when a deal failed, else 75 when every company
    /// was skipped because another run held it, else 0.
    pub fn exit_code(&self) -> u8 {
        let any = |status| self.companies.iter().any(|c| c.status == status);
        if any(CompanyStatus::Failed) {
            crate::cli::EXIT_FAILURE
        } else if any(CompanyStatus::Partial) {
            EXIT_DEALS_FAILED
        } else if !self.companies.is_empty()
            && self
                .companies
                .iter()
                .all(|c| c.status == CompanyStatus::Skipped)
        {
            EXIT_LOCKED
        } else {
            0
        }
    }
}

/// Prints the report on stdout.
pub fn print(report: &RunReport, format: OutputFormat) {
    let result = match format {
        OutputFormat::Text => write!(std::io::stdout().lock(), "{}", render_text(report)),
        // Serialised straight to stdout, so a large run never keeps a second copy of the
        // whole document in memory.
        OutputFormat::Json => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut stdout, report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(stdout))
                .and_then(|()| stdout.flush())
        }
    };
    if let Err(error) = result {
        tracing::error!(%error, "failed to write the report to stdout");
    }
}

/// Renders the report for people: one block per company, one line per deal.
pub fn render_text(report: &RunReport) -> String {
    let mut out = String::new();
    if report.dry_run {
        out.push_str("DRY RUN: nothing was written; this is what would happen.\n\n");
    }
    if report.companies.is_empty() {
        out.push_str("No company has the Agendor module contracted and the integration enabled.\n");
    }
    for company in &report.companies {
        render_company(&mut out, company);
    }
    out
}

fn render_company(out: &mut String, company: &CompanyReport) {
    let mut heading = format!("Company {}", company.company_id);
    if !company.company_name.is_empty() {
        heading = format!("{heading} {}", company.company_name);
    }
    heading = format!("{heading}: {}", company.status.as_str());
    if let Some(since) = &company.since {
        heading = format!("{heading} (since {since})");
    }
    let _ = writeln!(out, "{heading}");
    if let Some(error) = &company.error {
        let _ = writeln!(out, "  error: {error}");
    }
    let counts = &company.counts;
    let _ = writeln!(
        out,
        "  fetched {}, created {}, already integrated {}, failed {}, ignored {}",
        counts.fetched, counts.created, counts.already_integrated, counts.failed, counts.ignored
    );
    for deal in &company.deals {
        render_deal(out, deal);
    }
    out.push('\n');
}

fn render_deal(out: &mut String, deal: &DealReport) {
    let id = deal
        .deal_id
        .map_or_else(|| "(no id)".to_owned(), |id| id.to_string());
    let detail = match deal.outcome {
        Outcome::Created => format!(
            "surgery {}, client {}",
            deal.surgery_id.unwrap_or_default(),
            deal.client.map_or("-", ClientOutcome::as_str)
        ),
        Outcome::AlreadyIntegrated => format!("surgery {}", deal.surgery_id.unwrap_or_default()),
        Outcome::Failed | Outcome::Ignored => deal.error.clone().unwrap_or_default(),
    };
    let retry = if deal.retry { " (retry)" } else { "" };
    let _ = writeln!(
        out,
        "  {:<18} {id:>10}  {detail}{retry}",
        deal.outcome.as_str()
    );
    for warning in &deal.warnings {
        let _ = writeln!(out, "  {:<18} {:>10}  warning: {warning}", "", "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(status: CompanyStatus) -> CompanyReport {
        CompanyReport {
            company_id: 1,
            company_name: "Empresa".into(),
            since: Some("2025-01-10T00:00:00Z".into()),
            status,
            error: None,
            counts: Counts::default(),
            deals: Vec::new(),
        }
    }

    #[test]
    fn exit_code_follows_the_worst_company() {
        use CompanyStatus::*;
        let cases = [
            (vec![], 0),
            (vec![Succeeded], 0),
            (vec![Succeeded, Partial], 3),
            (vec![Partial, Failed], 1),
            (vec![Skipped], 75),
            (vec![Skipped, Succeeded], 0),
            (vec![Skipped, Partial], 3),
        ];
        for (statuses, expected) in cases {
            let report = RunReport {
                dry_run: false,
                companies: statuses.iter().map(|s| company(*s)).collect(),
            };
            assert_eq!(report.exit_code(), expected, "{statuses:?}");
        }
    }

    #[test]
    fn json_report_has_the_documented_shape() {
        let mut company = company(CompanyStatus::Partial);
        company.counts.add(Outcome::Created);
        company.deals.push(DealReport {
            deal_id: Some(48210377),
            outcome: Outcome::Created,
            surgery_id: Some(812),
            client: Some(ClientOutcome::Created),
            warnings: vec!["w".into()],
            error: None,
            retry: false,
            retryable: true,
        });
        let report = RunReport {
            dry_run: false,
            companies: vec![company],
        };

        let json = serde_json::to_value(&report).unwrap();

        assert_eq!(
            json,
            serde_json::json!({
                "dry_run": false,
                "companies": [{
                    "company_id": 1,
                    "since": "2025-01-10T00:00:00Z",
                    "status": "partial",
                    "error": null,
                    "counts": {"fetched": 1, "created": 1, "already_integrated": 0,
                               "failed": 0, "ignored": 0},
                    "deals": [{"deal_id": 48210377, "outcome": "created", "surgery_id": 812,
                               "client": "created", "warnings": ["w"], "error": null}]
                }]
            })
        );
    }
}
