//! Yardstick's integration tests: one binary, driving the real backend against
//! real PostgreSQL (a private throwaway cluster) and SQLite, on the real
//! sample files.

mod access_control;
mod bad_input;
mod browser;
mod browser_admin;
mod browser_samples;
mod citus_readiness;
mod datasets;
mod graphql_api;
mod helm;
mod http;
mod immutability;
mod ingest_real;
mod inspect;
mod keyset_cursors;
mod leaderboard_csv;
mod migrations;
mod mteb;
mod pg_harness;
mod quality;
mod query_plans;
mod ranked_boards;
mod read_model;
mod record_runs;
mod run_filters;
mod samples;
mod stats_api;
mod support;
mod web_api;
