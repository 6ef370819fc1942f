//! One module per page; each reads its state from the URL.

pub mod compare;
pub mod leaderboard;
pub mod model;
pub mod models;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod task;
pub mod tasks;
