//! One module per page; each reads its state from the URL.

pub mod compare;
pub mod dataset;
pub mod datasets;
pub mod leaderboard;
pub mod model;
pub mod models;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod sample_diff;
pub mod sign_in;
pub mod task;
pub mod tasks;
