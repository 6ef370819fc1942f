//! The items a HELM run was evaluated on, from `instances.json`: each
//! instance's content hash, its correct answers and its input text.
//!
//! An instance is hashed as the object HELM wrote, with the same canonical
//! JSON and SHA-256 dataset items get, so a dataset uploaded from
//! `instances.json` (one instance per line) links to the run's samples, and
//! runs of different models on one instance meet on one hash. Perturbed
//! copies (`perturbation` set) are rewrites of an item, not items, so only
//! the originals are indexed; a perturbed sample links to its original.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::fields;
use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::service::dataset::items::{canonical, content_sha256};

/// The reference tag HELM gives right answers.
const CORRECT_TAG: &str = "correct";

/// What a sample needs to know about its instance.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Instance {
    pub sha256: String,
    /// The texts of the references tagged `correct`, one per line; `None`
    /// when no reference is.
    pub target: Option<String>,
    pub input: Option<String>,
    /// `split` and `sub_split`, which name the sample's filter.
    pub split: Option<String>,
    pub sub_split: Option<String>,
}

/// Reads a parsed `instances.json` into its original instances by id; fails
/// on a field of the wrong type or an id used twice.
pub(super) fn read(instances: &Value) -> Result<HashMap<String, Instance>, FileError> {
    let root = JsonPath::file_root("instances.json");
    let list = fields::array(instances, &root, "a list of instances")?;
    let mut by_id = HashMap::with_capacity(list.len());
    for (index, value) in list.iter().enumerate() {
        let path = root.index(index);
        let object = fields::object(value, &path, "an instance object")?;
        let id_path = path.key("id");
        let id = fields::text(fields::get(object, "id"), &id_path, "the instance's id")?;
        if !fields::get(object, "perturbation").is_null() {
            continue;
        }
        let instance = read_one(value, object, &path)?;
        if by_id.insert(id.to_string(), instance).is_some() {
            let message = format!("The instance id `{id}` is used twice.");
            return Err(FileError::invalid_field(&id_path, message));
        }
    }

    Ok(by_id)
}

fn read_one(
    value: &Value,
    object: &Map<String, Value>,
    path: &JsonPath,
) -> Result<Instance, FileError> {
    let split = fields::optional_text(fields::get(object, "split"), &path.key("split"), "a split")?;
    let sub_split = fields::optional_text(
        fields::get(object, "sub_split"),
        &path.key("sub_split"),
        "a sub-split",
    )?;
    Ok(Instance {
        sha256: content_sha256(&canonical(lenient_json::plain(value))),
        target: target(object, path)?,
        input: input(object, path)?,
        split: split.map(str::to_string),
        sub_split: sub_split.map(str::to_string),
    })
}

fn input(object: &Map<String, Value>, path: &JsonPath) -> Result<Option<String>, FileError> {
    let input = fields::get(object, "input");
    if input.is_null() {
        return Ok(None);
    }
    let path = path.key("input");
    let input = fields::object(input, &path, "an input object")?;
    let text = fields::optional_text(fields::get(input, "text"), &path.key("text"), "a text")?;
    Ok(text.map(str::to_string))
}

fn target(object: &Map<String, Value>, path: &JsonPath) -> Result<Option<String>, FileError> {
    let references = fields::get(object, "references");
    if references.is_null() {
        return Ok(None);
    }
    let path = path.key("references");
    let references = fields::array(references, &path, "a list of references")?;
    let mut correct = Vec::new();
    for (index, reference) in references.iter().enumerate() {
        let path = path.index(index);
        let reference = fields::object(reference, &path, "a reference object")?;
        if !is_correct(reference, &path.key("tags"))? {
            continue;
        }
        let output_path = path.key("output");
        let output = fields::object(
            fields::get(reference, "output"),
            &output_path,
            "the reference's output object",
        )?;
        let text = fields::optional_text(
            fields::get(output, "text"),
            &output_path.key("text"),
            "the reference's text",
        )?;
        correct.extend(text.map(str::to_string));
    }
    Ok((!correct.is_empty()).then(|| correct.join("\n")))
}

fn is_correct(reference: &Map<String, Value>, path: &JsonPath) -> Result<bool, FileError> {
    let tags = match fields::get(reference, "tags") {
        Value::Null => return Ok(false),
        tags => fields::array(tags, path, "a list of tags")?,
    };
    for (index, tag) in tags.iter().enumerate() {
        if fields::optional_text(tag, &path.index(index), "a tag")? == Some(CORRECT_TAG) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    #[test]
    fn an_instance_keeps_its_hash_target_and_input() -> Result<(), FileError> {
        let instance = json!({"input": {"text": "Who?"}, "references": [
            {"output": {"text": "Ann"}, "tags": []},
            {"output": {"text": "Not known"}, "tags": ["correct", "ambiguous"]}],
            "split": "test", "id": "id7"});
        let perturbed = json!({"input": {"text": "Whoo?"}, "references": [], "split": "test",
            "id": "id7", "perturbation": {"name": "typos"}});
        let read = read(&json!([instance.clone(), perturbed]))?;
        assert_eq!(read.len(), 1);
        assert_eq!(
            read.get("id7"),
            Some(&Instance {
                sha256: content_sha256(&canonical(instance)),
                target: Some("Not known".into()),
                input: Some("Who?".into()),
                split: Some("test".into()),
                sub_split: None,
            })
        );
        Ok(())
    }

    #[test]
    fn broken_instances_name_the_field() {
        let cases = [
            (
                json!({"id": "a"}),
                "instances.json:$",
                ErrorCode::InvalidField,
            ),
            (
                json!([{"id": 1}]),
                "instances.json:$[0].id",
                ErrorCode::InvalidField,
            ),
            (
                json!([{"id": "a", "references": [{"tags": "correct"}]}]),
                "instances.json:$[0].references[0].tags",
                ErrorCode::InvalidField,
            ),
            (
                json!([{"id": "a"}, {"id": "a"}]),
                "instances.json:$[1].id",
                ErrorCode::InvalidField,
            ),
        ];
        for (instances, path, code) in cases {
            let error = read(&instances).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((code, path.to_string()))
            );
        }
    }
}
