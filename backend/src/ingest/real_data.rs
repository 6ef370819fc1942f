//! Where unit tests find the real sample files: `YARDSTICK_DATA_DIR`, else
//! `shared/data/real` next to the workspace. A missing folder fails the
//! tests that need it rather than skipping them.

use std::path::PathBuf;

const DEFAULT_DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/real");

/// Returns the folder `relative` inside the real data; panics when absent.
pub fn folder(relative: &str) -> PathBuf {
    let dir = std::env::var_os("YARDSTICK_DATA_DIR")
        .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from)
        .join(relative);
    assert!(
        dir.is_dir(),
        "real data folder `{}` is missing; set YARDSTICK_DATA_DIR to the real data",
        dir.display()
    );
    dir
}
