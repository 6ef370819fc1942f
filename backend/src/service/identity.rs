//! Identities derived from content: model alias keys, run ids, config hashes.
//!
//! These functions are pure so the rules that make ingestion idempotent and
//! aliases resolve can be tested without a database.

use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ingest::parsed::{ModelRef, ModelSource};

/// The namespace of Yardstick's UUIDv5 run ids; fixed forever.
const RUN_NAMESPACE: Uuid = Uuid::from_u128(0x5f1e_0c2a_9b7d_4e31_8a6c_2d4f_7b90_e1a3);

/// A model as it will be stored: its display name and the key aliases match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelIdentity {
    pub name: String,
    /// The spelling as the source (or `--model`) wrote it, kept as an alias.
    pub spelling: String,
    pub alias_key: String,
    pub is_local_path: bool,
}

/// Returns the lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Derives a run's id from its source file's content hash and its task key.
///
/// Re-ingesting the same bytes yields the same ids, which makes the run's
/// primary key the idempotency guard.
pub fn run_id(source_sha256: &str, task: &str) -> Uuid {
    Uuid::new_v5(
        &RUN_NAMESPACE,
        format!("{source_sha256}\n{task}").as_bytes(),
    )
}

/// Normalises a model spelling into the key aliases are matched on.
///
/// Hub ids differ only in case between uploads (`Qwen/Qwen2.5-7B` and
/// `qwen/qwen2.5-7B`), so the key is lower case.
pub fn alias_key(spelling: &str) -> String {
    spelling.trim().to_lowercase()
}

/// Resolves the identity of a model named inside a file, or by `--model`.
///
/// `--model` names what the file cannot: a model known only by a local path,
/// or not at all. A file that names a hub model keeps that name. A local path
/// is the identity itself (trailing separators trimmed), since two folders
/// called `7B` on one cluster are rarely the same model.
pub fn model_identity(
    model: Option<&ModelRef>,
    override_name: Option<&str>,
) -> Option<ModelIdentity> {
    let override_name = override_name.map(str::trim).filter(|name| !name.is_empty());
    let named = |name: &str, spelling: &str, is_local_path| ModelIdentity {
        name: name.to_string(),
        spelling: spelling.to_string(),
        alias_key: alias_key(name),
        is_local_path,
    };
    match (model.map(|model| &model.source), override_name) {
        (Some(ModelSource::Hub(name)), _) => Some(named(name.trim(), name, false)),
        (_, Some(name)) => Some(named(name, name, false)),
        (Some(ModelSource::LocalPath(path)), None) => {
            let trimmed = path.trim().trim_end_matches(['/', '\\']);
            let name = if trimmed.is_empty() {
                path.trim()
            } else {
                trimmed
            };
            Some(named(name, path, true))
        }
        (None, None) => None,
    }
}

/// Tells whether `--model` would name this file's model (its own identity is
/// a local path or missing); a hub name in the file always wins.
pub fn accepts_model_override(model: Option<&ModelRef>) -> bool {
    !matches!(model.map(|model| &model.source), Some(ModelSource::Hub(_)))
}

/// Extracts N from a `stepN` revision, which orders training checkpoints.
pub fn revision_step(revision: &str) -> Option<i64> {
    revision
        .strip_prefix("step")
        .and_then(|digits| digits.parse().ok())
}

/// Serialises JSON with object keys sorted, so equal content hashes equally.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Hashes a task's configuration block, ignoring what describes the model.
///
/// lm-eval merges model arguments (`pretrained`, `device`, …) into
/// `configs[task].metadata`; they say nothing about the task, so only the
/// metadata's `version` takes part in the hash.
pub fn task_config_hash(config: Option<&Value>) -> String {
    let Some(Value::Object(config)) = config else {
        return String::new();
    };
    let mut config = config.clone();
    if let Some(Value::Object(metadata)) = config.get("metadata") {
        let version = metadata.get("version").cloned().unwrap_or(Value::Null);
        config.insert("metadata".into(), serde_json::json!({ "version": version }));
    }
    sha256_hex(canonical_json(&Value::Object(config)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(name: &str) -> ModelRef {
        ModelRef {
            source: ModelSource::Hub(name.into()),
            revision: None,
        }
    }

    #[test]
    fn case_variants_of_a_hub_id_share_an_alias_key() {
        let upper = model_identity(Some(&hub("Qwen/Qwen2.5-7B")), None);
        let lower = model_identity(Some(&hub("qwen/qwen2.5-7B")), None);
        assert_eq!(upper.map(|m| m.alias_key), lower.map(|m| m.alias_key));
    }

    #[test]
    fn a_local_path_is_its_own_identity_unless_named() {
        let path = ModelRef {
            source: ModelSource::LocalPath("/workspace/RWKV-x070-Pile-1.47B/".into()),
            revision: None,
        };
        let identity = model_identity(Some(&path), None);
        let name = identity.as_ref().map(|m| m.name.as_str());
        assert_eq!(name, Some("/workspace/RWKV-x070-Pile-1.47B"));
        assert_eq!(identity.map(|m| m.is_local_path), Some(true));
        let named = model_identity(Some(&path), Some("BlinkDL/rwkv-7-pile"));
        assert_eq!(
            named.map(|m| m.name),
            Some("BlinkDL/rwkv-7-pile".to_string())
        );
    }

    #[test]
    fn folders_with_the_same_last_name_are_different_models() {
        let local = |path: &str| ModelRef {
            source: ModelSource::LocalPath(path.into()),
            revision: None,
        };
        let llama = model_identity(Some(&local("/cluster/llama/7B")), None);
        let mistral = model_identity(Some(&local("/cluster/mistral/7B")), None);
        assert_ne!(llama.map(|m| m.alias_key), mistral.map(|m| m.alias_key));
    }

    #[test]
    fn a_hub_name_in_the_file_wins_over_the_override() {
        let identity = model_identity(Some(&hub("Qwen/Qwen2.5-7B")), Some("my/override"));
        assert_eq!(
            identity.map(|m| m.name),
            Some("Qwen/Qwen2.5-7B".to_string())
        );
        assert!(!accepts_model_override(Some(&hub("Qwen/Qwen2.5-7B"))));
        assert!(accepts_model_override(None));
    }

    #[test]
    fn no_model_and_no_override_has_no_identity() {
        assert_eq!(model_identity(None, None), None);
        assert_eq!(model_identity(None, Some("  ")), None);
    }

    #[test]
    fn run_ids_are_stable_and_differ_per_task() {
        let first = run_id("abc", "arc_easy");
        assert_eq!(first, run_id("abc", "arc_easy"));
        assert_ne!(first, run_id("abc", "piqa"));
        assert_eq!(first.get_version_num(), 5);
    }

    #[test]
    fn revision_steps_parse() {
        assert_eq!(revision_step("step143000"), Some(143000));
        assert_eq!(revision_step("main"), None);
    }

    #[test]
    fn task_hashes_ignore_model_arguments_in_metadata() {
        let a = serde_json::json!({"task": "x", "metadata": {"version": 1.0, "pretrained": "a"}});
        let b = serde_json::json!({"metadata": {"pretrained": "b", "version": 1.0}, "task": "x"});
        assert_eq!(task_config_hash(Some(&a)), task_config_hash(Some(&b)));
        assert_eq!(task_config_hash(None), "");
    }
}
