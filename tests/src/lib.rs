//! Support code for Yardstick's integration tests and benchmark.

pub mod pg;
pub mod workload;
