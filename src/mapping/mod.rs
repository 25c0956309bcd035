//! Pure mapping from Agendor records to V2 records: no I/O, every rule testable alone.

pub mod client;
pub mod notes;
pub mod products;
pub mod registries;
pub mod surgery;

pub use client::{ClientKind, ClientSource, NewClient, new_client};
pub use notes::Note;
pub use products::{BudgetItem, MatchedProducts, budget_observation, match_products};
pub use registries::{Lookup, NameIndex, Registries};
pub use surgery::{
    ProcedureChoice, SurgeryFields, legacy_code, surgery_fields, surgery_observation,
};

use chrono::NaiveDate;

/// A surgery ready to insert, with its client known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSurgery {
    pub company_id: i64,
    pub legacy_code: String,
    pub client_id: i64,
    pub user_id: i64,
    pub hospital_id: Option<i64>,
    pub health_plan_id: Option<i64>,
    pub doctor_id: Option<i64>,
    pub seller_id: Option<i64>,
    pub patient: Option<String>,
    pub surgery_date: Option<NaiveDate>,
    pub note: String,
    pub scheduling_note: Option<String>,
}
