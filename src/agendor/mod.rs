//! Agendor CRM REST API (v3) client and the typed records it returns.
//!
//! [`AgendorClient`] sends every request with the `Authorization: Token` header,
//! under a client-side rate limit, retrying HTTP 429, 5xx, timeouts and connection
//! failures. Responses are parsed into `serde_json::Value` first, then converted
//! field by field into the types of [`model`], because Agendor mixes key casings
//! and sends numbers as strings and the reverse.

pub mod client;
pub mod model;

mod error;
mod lenient;
mod pages;
mod retry;
mod transport;

pub use client::{AgendorClient, AgendorError, DEFAULT_BASE_URL, DealPages, HttpSettings};
pub use model::{
    Address, Contact, CustomFields, Deal, DocumentValue, MalformedDeal, Organization, Person,
    PostalCodeValue, ProductLine, Reference, WON_STATUS_ID,
};
