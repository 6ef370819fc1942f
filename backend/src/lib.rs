//! Yardstick's backend: ingestion, storage and the GraphQL API, as a library
//! that the `yardstick` binary and the integration tests share.

pub mod config;
pub mod db;
pub mod error;
pub mod explorer;
pub mod graphql;
pub mod ingest;
pub mod report;
pub mod server;
pub mod service;
