//! Reads one Inspect sample (one item at one epoch) into a sample row.
//!
//! The row keeps what a person reviewing the run needs: the input and the
//! target as text, the model's completion, and every scorer's value (the
//! first scorer's as the row's score, see `score`). The item hash covers
//! what was asked (input, choices) and what was expected (target), never
//! per-run ids, so the same item can be followed across runs.

use serde_json::{Map, Value, json};

use super::score::verdict;
use crate::ingest::file_error::{ErrorCode, FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::Number;
use crate::ingest::samples::{SampleRow, score_kind};
use crate::service::dataset::items::{canonical, content_sha256};

/// Inspect stores long texts once per sample and refers to them by this prefix.
const ATTACHMENT: &str = "attachment://";

/// A sample's id: Inspect allows integers and strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SampleId {
    Integer(i64),
    Text(String),
}

/// A read sample with the key that orders it among the log's samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub epoch: i32,
    pub id: SampleId,
    /// Where the sample was read, for errors that concern it as a whole:
    /// its JSON path, or its entry in an archive.
    pub location: String,
    /// The row, numbered once the whole log is read (see [`number`]).
    pub row: SampleRow,
}

/// Orders samples by epoch, then id, and numbers them from 0.
///
/// Containers store samples in different orders (`.eval` entries land as
/// samples finish), so this order is what makes the rows of a log the same
/// whichever container it came in. Fails when one id repeats in one epoch.
pub fn number(mut samples: Vec<Sample>) -> Result<Vec<SampleRow>, FileError> {
    samples.sort_by(|a, b| (a.epoch, &a.id).cmp(&(b.epoch, &b.id)));
    if let Some(pair) = samples.windows(2).find(|pair| {
        (pair[0].epoch, &pair[0].id)
            .cmp(&(pair[1].epoch, &pair[1].id))
            .is_eq()
    }) {
        return Err(FileError {
            code: ErrorCode::UnsupportedShape,
            path: pair[1].location.clone(),
            message: format!(
                "Sample `{}` appears twice in epoch {}.",
                id_text(&pair[1].id),
                pair[1].epoch
            ),
        });
    }

    Ok(samples
        .into_iter()
        .enumerate()
        .map(|(index, sample)| SampleRow {
            sample_no: index as i64,
            ..sample.row
        })
        .collect())
}

fn id_text(id: &SampleId) -> String {
    match id {
        SampleId::Integer(number) => number.to_string(),
        SampleId::Text(text) => text.clone(),
    }
}

/// Reads the sample at `path`; fails when a field Inspect defines has
/// another type.
pub fn read(value: &Value, path: &JsonPath) -> Result<Sample, FileError> {
    let Some(object) = value.as_object() else {
        return Err(FileError::unexpected(path, "a sample object", value));
    };
    let id = read_id(object.get("id"), &path.key("id"))?;
    let epoch = match object.get("epoch") {
        None | Some(Value::Null) => 1,
        Some(value) => value
            .as_i64()
            .and_then(|epoch| i32::try_from(epoch).ok())
            .filter(|epoch| *epoch >= 1)
            .ok_or_else(|| FileError::unexpected(&path.key("epoch"), "an epoch from 1", value))?,
    };
    let attachments = object.get("attachments").and_then(Value::as_object);
    let texts = Texts { attachments };
    let input = texts.input(object.get("input"), &path.key("input"))?;
    let target = texts.target(object.get("target"), &path.key("target"))?;
    let choices = texts.choices(object.get("choices"), &path.key("choices"))?;
    let output = texts.output(object.get("output"), &path.key("output"))?;
    let scores = read_scores(object.get("scores"), &path.key("scores"))?;
    let first = scores.iter().next();
    let (number, correct) = first.map_or((None, None), |(_, value)| verdict(value));
    let item = item(&input, &target, &choices);

    Ok(Sample {
        epoch,
        id: id.clone(),
        location: path.to_string(),
        row: SampleRow {
            sample_no: 0,
            doc_id: match id {
                SampleId::Integer(number) => Some(number),
                SampleId::Text(_) => None,
            },
            filter: first.map_or_else(|| "none".to_string(), |(name, _)| name.clone()),
            item_sha256: item.map(|item| content_sha256(&canonical(item))),
            input: input.map(|input| input.text),
            target: target.as_ref().map(target_text),
            output,
            scores: Value::Object(scores),
            score: match number {
                Some(Number::Finite(value)) => Some(value),
                _ => None,
            },
            score_kind: score_kind(number),
            correct,
            epoch,
        },
    })
}

fn read_id(value: Option<&Value>, path: &JsonPath) -> Result<SampleId, FileError> {
    if let Some(number) = value.and_then(Value::as_i64) {
        return Ok(SampleId::Integer(number));
    }
    match value {
        Some(Value::String(text)) => Ok(SampleId::Text(text.clone())),
        other => Err(FileError::unexpected(
            path,
            "an integer or string id",
            other.unwrap_or(&Value::Null),
        )),
    }
}

/// An input as text for people, and as canonical JSON for the item hash.
#[derive(Debug, Clone, PartialEq)]
struct Input {
    text: String,
    /// A string stays a string; chat messages keep only role and text.
    item: Value,
}

/// Reads texts of one sample, following its attachment references.
struct Texts<'a> {
    attachments: Option<&'a Map<String, Value>>,
}

impl Texts<'_> {
    fn resolve(&self, text: &str) -> String {
        let attached = text
            .strip_prefix(ATTACHMENT)
            .and_then(|key| self.attachments?.get(key)?.as_str());
        attached.unwrap_or(text).to_string()
    }

    fn input(&self, value: Option<&Value>, path: &JsonPath) -> Result<Option<Input>, FileError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => {
                let text = self.resolve(text);
                Ok(Some(Input {
                    item: Value::from(text.as_str()),
                    text,
                }))
            }
            Some(Value::Array(messages)) => self.messages(messages, path).map(Some),
            Some(other) => Err(FileError::unexpected(
                path,
                "a string or a list of chat messages",
                other,
            )),
        }
    }

    /// A lone message reads as its text; several as `role: text` paragraphs.
    fn messages(&self, messages: &[Value], path: &JsonPath) -> Result<Input, FileError> {
        let mut parts = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let path = path.index(index);
            let Some(object) = message.as_object() else {
                return Err(FileError::unexpected(
                    &path,
                    "a chat message object",
                    message,
                ));
            };
            let role = object.get("role").and_then(Value::as_str).unwrap_or("user");
            let text = self.content(object.get("content"), &path.key("content"))?;
            parts.push((role.to_string(), text));
        }
        let text = match parts.as_slice() {
            [(_, text)] => text.clone(),
            _ => parts
                .iter()
                .map(|(role, text)| format!("{role}: {text}"))
                .collect::<Vec<_>>()
                .join("\n\n"),
        };
        let item = parts
            .into_iter()
            .map(|(role, text)| json!({"role": role, "content": text}))
            .collect();

        Ok(Input { text, item })
    }

    /// Message content: a string, or a list of parts of which text is kept
    /// and anything else (images, audio, tool calls) is named by its type.
    fn content(&self, value: Option<&Value>, path: &JsonPath) -> Result<String, FileError> {
        match value {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(self.resolve(text)),
            Some(Value::Array(parts)) => Ok(parts
                .iter()
                .map(
                    |part| match (part.get("text").and_then(Value::as_str), part.get("type")) {
                        (Some(text), _) => self.resolve(text),
                        (None, Some(Value::String(kind))) => format!("[{kind}]"),
                        (None, _) => "[content]".to_string(),
                    },
                )
                .collect::<Vec<_>>()
                .join("\n")),
            Some(other) => Err(FileError::unexpected(
                path,
                "a string or a list of content parts",
                other,
            )),
        }
    }

    fn target(&self, value: Option<&Value>, path: &JsonPath) -> Result<Option<Value>, FileError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(Value::from(self.resolve(text)))),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(Some(
                items
                    .iter()
                    .map(|item| Value::from(self.resolve(item.as_str().unwrap_or_default())))
                    .collect(),
            )),
            Some(other) => Err(FileError::unexpected(
                path,
                "a string or a list of strings",
                other,
            )),
        }
    }

    fn choices(&self, value: Option<&Value>, path: &JsonPath) -> Result<Option<Value>, FileError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) if items.is_empty() => Ok(None),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                Ok(Some(Value::Array(items.clone())))
            }
            Some(other) => Err(FileError::unexpected(path, "a list of strings", other)),
        }
    }

    /// The model's completion: `output.completion` when the log has it,
    /// else the text of the first choice's message (older logs).
    fn output(&self, value: Option<&Value>, path: &JsonPath) -> Result<Option<String>, FileError> {
        let Some(output) = value.filter(|value| !value.is_null()) else {
            return Ok(None);
        };
        let Some(output) = output.as_object() else {
            return Err(FileError::unexpected(path, "an output object", output));
        };
        if let Some(completion) = output.get("completion").and_then(Value::as_str) {
            return Ok(Some(self.resolve(completion)));
        }
        let message = output
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|choices| choices.first())
            .and_then(|choice| choice.get("message"));
        match message {
            Some(message) => {
                let content_path = path.key("choices").index(0).key("message").key("content");
                self.content(message.get("content"), &content_path)
                    .map(Some)
            }
            None => Ok(None),
        }
    }
}

fn target_text(target: &Value) -> String {
    match target {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The item a sample evaluated: input, its choices when it has them, and
/// the target. `None` when the sample records no input.
fn item(input: &Option<Input>, target: &Option<Value>, choices: &Option<Value>) -> Option<Value> {
    let input = input.as_ref()?;
    let mut item = Map::new();
    item.insert("input".into(), input.item.clone());
    if let Some(choices) = choices {
        item.insert("choices".into(), choices.clone());
    }
    item.insert("target".into(), target.clone().unwrap_or(Value::Null));
    Some(Value::Object(item))
}

/// Reads `scores`: scorer name → its value (explanations are left out).
fn read_scores(value: Option<&Value>, path: &JsonPath) -> Result<Map<String, Value>, FileError> {
    let scores = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(scores)) => scores,
        Some(other) => return Err(FileError::unexpected(path, "an object of scores", other)),
    };
    scores
        .iter()
        .map(|(scorer, score)| match score {
            Value::Object(score) => Ok((
                scorer.clone(),
                lenient_json::plain(score.get("value").unwrap_or(&Value::Null)),
            )),
            other => Err(FileError::unexpected(
                &path.key(scorer),
                "a score object with a `value`",
                other,
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read_at_root(value: Value) -> Result<Sample, FileError> {
        read(&value, &JsonPath::root().key("samples").index(0))
    }

    #[test]
    fn a_string_input_with_a_verdict_reads_as_a_right_answer() -> Result<(), FileError> {
        let sample = read_at_root(json!({
            "id": 7, "epoch": 2, "input": "Say yes", "target": " Yes",
            "output": {"choices": [{"message": {"role": "assistant", "content": "Yes"}}]},
            "scores": {"match": {"value": "C", "answer": "Yes", "explanation": "Yes"}}
        }))?;
        assert_eq!((sample.epoch, &sample.id), (2, &SampleId::Integer(7)));
        let row = &sample.row;
        assert_eq!(row.doc_id, Some(7));
        assert_eq!(row.input.as_deref(), Some("Say yes"));
        assert_eq!(row.target.as_deref(), Some(" Yes"));
        assert_eq!(row.output.as_deref(), Some("Yes"));
        assert_eq!(row.filter, "match");
        assert_eq!(row.scores, json!({"match": "C"}));
        assert_eq!(
            (row.score, row.score_kind, row.correct),
            (Some(1.0), "finite", Some(true))
        );
        let item = json!({"input": "Say yes", "target": " Yes"});
        assert_eq!(row.item_sha256, Some(content_sha256(&canonical(item))));
        Ok(())
    }

    #[test]
    fn chat_input_keeps_roles_and_hashes_without_message_ids() -> Result<(), FileError> {
        let messages = |id: &str| {
            json!([
                {"id": id, "role": "system", "content": "Be brief."},
                {"id": id, "role": "user", "content": [
                    {"type": "text", "text": "What is 2+2?"}, {"type": "image", "image": "x"}]}
            ])
        };
        let first = read_at_root(json!({"id": "q1", "input": messages("a"), "target": "4"}))?;
        let second = read_at_root(json!({"id": "q1", "input": messages("b"), "target": "4"}))?;
        assert_eq!(
            first.row.input.as_deref(),
            Some("system: Be brief.\n\nuser: What is 2+2?\n[image]")
        );
        assert_eq!(first.row.doc_id, None);
        assert_eq!(first.row.item_sha256, second.row.item_sha256);
        assert_eq!(
            (first.row.filter.as_str(), first.row.score_kind),
            ("none", "missing")
        );
        Ok(())
    }

    #[test]
    fn attachments_are_followed_and_choices_join_the_item() -> Result<(), FileError> {
        let sample = read_at_root(json!({
            "id": 1, "input": "attachment://abc", "target": ["A"], "choices": ["x", "y"],
            "attachments": {"abc": "A long question"},
            "output": {"completion": "ANSWER: A", "choices": []}
        }))?;
        assert_eq!(sample.row.input.as_deref(), Some("A long question"));
        assert_eq!(sample.row.target.as_deref(), Some(r#"["A"]"#));
        assert_eq!(sample.row.output.as_deref(), Some("ANSWER: A"));
        let item = json!({"input": "A long question", "choices": ["x", "y"], "target": ["A"]});
        assert_eq!(
            sample.row.item_sha256,
            Some(content_sha256(&canonical(item)))
        );
        Ok(())
    }

    #[test]
    fn wrong_types_are_reported_at_their_path() {
        let cases = [
            (json!({"input": "q"}), "$.samples[0].id"),
            (json!({"id": 1.5}), "$.samples[0].id"),
            (json!({"id": 1, "epoch": 0}), "$.samples[0].epoch"),
            (json!({"id": 1, "input": 3}), "$.samples[0].input"),
            (json!({"id": 1, "input": [3]}), "$.samples[0].input[0]"),
            (json!({"id": 1, "target": {"a": 1}}), "$.samples[0].target"),
            (
                json!({"id": 1, "scores": {"match": "C"}}),
                "$.samples[0].scores.match",
            ),
            (json!({"id": 1, "output": "Yes"}), "$.samples[0].output"),
            (json!([1]), "$.samples[0]"),
        ];
        for (value, path) in cases {
            let error = read_at_root(value.clone()).err();
            assert_eq!(
                error.map(|e| (e.code, e.path)),
                Some((ErrorCode::InvalidField, path.to_string())),
                "{value}"
            );
        }
    }

    #[test]
    fn samples_are_numbered_by_epoch_then_id_and_repeats_fail() -> Result<(), FileError> {
        let sample = |id: Value, epoch: i64| read_at_root(json!({"id": id, "epoch": epoch}));
        let rows = number(vec![
            sample(json!(2), 2)?,
            sample(json!(10), 1)?,
            sample(json!(2), 1)?,
            sample(json!("b"), 1)?,
        ])?;
        let order: Vec<_> = rows.iter().map(|row| (row.sample_no, row.doc_id)).collect();
        assert_eq!(
            order,
            [(0, Some(2)), (1, Some(10)), (2, None), (3, Some(2))]
        );
        let error = number(vec![sample(json!(1), 1)?, sample(json!(1), 1)?]).err();
        assert_eq!(error.map(|e| e.code), Some(ErrorCode::UnsupportedShape));
        Ok(())
    }
}
