//! Nightly integration of deals won in the Agendor CRM into V2Saúde surgeries.
//!
//! The binary is a thin shell over [`cli::run`]. The pipeline reads top to bottom:
//! [`config`] and [`telemetry`] set up a run, [`agendor`] fetches deals, [`mapping`]
//! turns one deal into V2 records through the pure rules of [`documents`], [`contact`]
//! and [`text`], [`v2`] contains every query against V2 tables, [`store`] records runs and
//! deal outcomes in the integration's own schema, [`sync`] drives it all, and
//! [`report`] tells the operator what happened.

pub mod agendor;
pub mod cli;
pub mod config;
pub mod contact;
pub mod documents;
pub mod mapping;
pub mod report;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod text;
pub mod v2;
