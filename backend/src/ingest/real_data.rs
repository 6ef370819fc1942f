//! Where unit tests find the real sample files: `YARDSTICK_DATA_DIR`, else
//! `shared/data/real` next to the workspace. A missing folder fails the
//! tests that need it rather than skipping them.

use std::path::PathBuf;

use super::source::{Classified, classify};

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

/// Classifies the real file at `relative` inside `folder` as an ingest would.
pub fn classified(folder_name: &str, relative: &str) -> Classified {
    let path = folder(folder_name).join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    classify(&path, &bytes)
}
