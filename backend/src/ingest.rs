//! Ingestion: importers that turn evaluation-result files into the
//! format-neutral shape in [`parsed`], and the code that stores that shape.
//!
//! Format readers only read bytes and build values; only `store` and `batch`
//! touch the database.

pub mod batch;
pub mod file_error;
pub mod helm;
pub mod importer;
pub mod inspect;
pub mod leaderboard_csv;
pub mod lenient_json;
pub mod lm_eval;
pub mod mteb;
pub mod parsed;
#[cfg(test)]
mod real_data;
pub mod sample_store;
pub mod samples;
pub mod source;
pub mod store;
