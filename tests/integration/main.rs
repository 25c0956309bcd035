//! The single integration-test binary: a real PostgreSQL and a mock Agendor per test.

mod agendor_client;
mod cli;
mod clients;
mod mapping;
mod pipeline;
mod reliability;
mod requests;
mod runs;
mod support;
