//! Plain async functions per domain; resolvers and the CLI call these.
//!
//! Every function takes a connection (`&impl ConnectionTrait`), so the whole
//! domain is testable without GraphQL or HTTP.

pub mod access;
pub mod audit;
pub mod catalog;
pub mod composite;
pub mod dataset;
pub mod direction;
pub mod identity;
pub mod keyset;
pub mod leaderboard;
pub mod model_profile;
pub mod page;
pub mod quality;
pub mod quarantine;
pub mod record;
pub mod run;
pub mod sample_estimate;
pub mod samples;
pub mod stats;
pub mod task_summary;
