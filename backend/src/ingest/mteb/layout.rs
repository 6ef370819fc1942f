//! Finds the model and revision of an MTEB result file from where it sits.
//!
//! MTEB's result files name neither: the results repository keeps them at
//! `results/<org>__<name>/<revision>/<Task>.json`, beside the revision's
//! `model_meta.json`. The metadata's `name` and `revision` win; the folder
//! names are the fallback (`__` stands for `/`). The revision folder is not
//! always a commit: `external` (scores copied from a model card) and small
//! numbers (API model versions) are kept as written.

use std::io::ErrorKind;
use std::path::Path;

use serde_json::Value;

use crate::ingest::file_error::{ErrorCode, FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::{ModelRef, ModelSource};

/// The metadata file of a revision folder.
pub(super) const MODEL_META: &str = "model_meta.json";

/// The revision folder MTEB writes when the model's revision is unknown.
const NO_REVISION: &str = "no_revision_available";

/// What `model_meta.json` says, where it is readable.
#[derive(Debug, Default, PartialEq)]
struct Meta {
    name: Option<String>,
    revision: Option<String>,
}

/// Returns the model of the result file at `path`: `None` when neither a
/// `model_meta.json` nor an `<org>__<name>` folder names one. Fails when the
/// metadata file exists but cannot be read.
pub(super) fn model(path: &Path) -> Result<Option<ModelRef>, FileError> {
    let revision_dir = path.parent().unwrap_or_else(|| Path::new("."));
    let meta = read_meta(&revision_dir.join(MODEL_META))?;
    let folder_name = |dir: Option<&Path>| {
        dir.and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .map(str::to_owned)
    };
    let model_folder = folder_name(revision_dir.parent()).filter(|name| name.contains("__"));
    let from_layout = meta.is_some() || model_folder.is_some();
    let meta = meta.unwrap_or_default();
    let name = meta
        .name
        .or_else(|| model_folder.map(|folder| folder.replacen("__", "/", 1)));
    let Some(name) = name else {
        return Ok(None);
    };
    let revision = meta
        .revision
        .or_else(|| folder_name(Some(revision_dir)).filter(|_| from_layout))
        .filter(|revision| revision != NO_REVISION);

    Ok(Some(ModelRef {
        source: ModelSource::Hub(name),
        revision,
    }))
}

/// Reads `model_meta.json`; `None` when there is none.
fn read_meta(path: &Path) -> Result<Option<Meta>, FileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            let reason = format!("unreadable ({error})");
            return Err(meta_error(ErrorCode::Unreadable, &reason));
        }
    };
    let document = lenient_json::parse(&bytes).map_err(|error| {
        let reason = format!(
            "not JSON at line {}, column {}: `{}`",
            error.line, error.column, error.reason
        );
        meta_error(ErrorCode::InvalidJson, &reason)
    })?;
    let root = JsonPath::file_root(MODEL_META);
    let Some(object) = document.as_object() else {
        return Err(FileError::unexpected(&root, "an object", &document));
    };
    let text = |key: &str| match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
        Some(other) => Err(FileError::unexpected(&root.key(key), "a string", other)),
    };

    Ok(Some(Meta {
        name: text("name")?,
        revision: text("revision")?,
    }))
}

fn meta_error(code: ErrorCode, reason: &str) -> FileError {
    FileError {
        code,
        path: JsonPath::file_root(MODEL_META).to_string(),
        message: format!("The `{MODEL_META}` beside this result is {reason}."),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    /// A `results/<org>__<name>/<revision>/` folder, removed on drop.
    struct RevisionFolder(PathBuf);

    impl RevisionFolder {
        fn new(label: &str, meta: Option<&[u8]>) -> Self {
            let root =
                std::env::temp_dir().join(format!("yardstick-mteb-{label}-{}", std::process::id()));
            fs::remove_dir_all(&root).ok();
            let folder = root.join("org__model").join("no_revision_available");
            fs::create_dir_all(&folder).expect("create the revision folder");
            if let Some(meta) = meta {
                fs::write(folder.join(MODEL_META), meta).expect("write model_meta.json");
            }
            Self(root)
        }

        fn result(&self) -> PathBuf {
            self.0
                .join("org__model/no_revision_available")
                .join("Task.json")
        }
    }

    impl Drop for RevisionFolder {
        fn drop(&mut self) {
            fs::remove_dir_all(&self.0).ok();
        }
    }

    #[test]
    fn the_folder_names_the_model_when_no_metadata_does() -> Result<(), FileError> {
        let folder = RevisionFolder::new("folder", None);
        let model = model(&folder.result())?;
        let expected = ModelRef {
            source: ModelSource::Hub("org/model".into()),
            revision: None,
        };
        assert_eq!(model, Some(expected));
        Ok(())
    }

    #[test]
    fn the_metadata_wins_over_the_folder() -> Result<(), FileError> {
        let meta = br#"{"name": "Org/Model-v2", "revision": "abc123"}"#;
        let folder = RevisionFolder::new("meta", Some(meta));
        let model = model(&folder.result())?;
        let expected = ModelRef {
            source: ModelSource::Hub("Org/Model-v2".into()),
            revision: Some("abc123".into()),
        };
        assert_eq!(model, Some(expected));
        Ok(())
    }

    #[test]
    fn broken_metadata_is_an_error_located_in_it() {
        let folder = RevisionFolder::new("broken", Some(br#"{"name": "#));
        let error = model(&folder.result()).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidJson, "model_meta.json:$".into()))
        );
        let folder = RevisionFolder::new("typed", Some(br#"{"name": 5}"#));
        let error = model(&folder.result()).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidField, "model_meta.json:$.name".into()))
        );
    }
}
