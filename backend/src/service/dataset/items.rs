//! Reading an uploaded file into dataset items: one JSON object per JSONL
//! line, or one object of strings per CSV row.
//!
//! Each item is canonicalised (object keys sorted, no whitespace) before it is
//! hashed, so the same content always has the same hash whatever the key
//! order or spacing of the file it came from. Errors name the 1-based line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ServiceError, ServiceResult};

/// The formats an upload may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header row, then one row per item; every value is a string.
    Csv,
}

impl ItemFormat {
    /// Guesses the format from a file name's extension, if it says.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json") {
            Some(Self::Jsonl)
        } else if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }
}

/// Fields tried, in order, as an item's key when a dataset names none.
pub const KEY_CANDIDATES: &[&str] = &[
    "id",
    "instance_id",
    "sample_id",
    "item_id",
    "uid",
    "key",
    "doc_id",
    "question_id",
];

/// One item read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The key-field value, or the content hash when there is no key field.
    pub key: String,
    /// SHA-256 (hex) of the canonical JSON.
    pub sha256: String,
    /// The item with its object keys sorted.
    pub content: Value,
}

/// Every item of a file, the key field used and the fields seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Items {
    pub items: Vec<Item>,
    pub key_field: Option<String>,
    /// Each field of the items and the JSON types it took.
    pub schema: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Items {
    /// SHA-256 over the item hashes in order: the version's content hash.
    pub fn content_sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for item in &self.items {
            hasher.update(item.sha256.as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }
}

fn file_error(line: u64, reason: impl Into<String>) -> ServiceError {
    ServiceError::InvalidFile {
        line: Some(line),
        reason: reason.into(),
    }
}

/// Returns `value` with every object's keys sorted, recursively.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(values) => Value::Array(values.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Returns the SHA-256 (hex) of a canonical value's compact JSON.
pub fn content_sha256(canonical_value: &Value) -> String {
    hex::encode(Sha256::digest(canonical_value.to_string().as_bytes()))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Collects items one at a time, checking keys as they arrive.
struct Collector {
    key_field: Option<String>,
    decided: bool,
    items: Vec<Item>,
    schema: BTreeMap<String, BTreeSet<&'static str>>,
    seen_keys: HashMap<String, u64>,
}

impl Collector {
    fn new(key_field: Option<&str>) -> Self {
        Self {
            key_field: key_field.map(str::to_string),
            decided: key_field.is_some(),
            items: Vec::new(),
            schema: BTreeMap::new(),
            seen_keys: HashMap::new(),
        }
    }

    fn push(&mut self, line: u64, object: Map<String, Value>) -> ServiceResult<()> {
        if !self.decided {
            self.key_field = KEY_CANDIDATES
                .iter()
                .find(|field| object.get(**field).and_then(key_text).is_some())
                .map(|field| field.to_string());
            self.decided = true;
        }
        for (field, value) in &object {
            self.schema
                .entry(field.clone())
                .or_default()
                .insert(type_name(value));
        }
        let content = canonical(Value::Object(object));
        let sha256 = content_sha256(&content);
        let key = match &self.key_field {
            None => sha256.clone(),
            Some(field) => content.get(field).and_then(key_text).ok_or_else(|| {
                file_error(
                    line,
                    format!(
                        "key field `{field}` is missing or empty (it must be a string or a number)"
                    ),
                )
            })?,
        };
        if let Some(first) = self.seen_keys.insert(key.clone(), line) {
            let reason = match &self.key_field {
                Some(field) => format!("`{field}` `{key}` repeats line {first}"),
                None => format!("the same item is on line {first}"),
            };
            return Err(file_error(line, reason));
        }
        self.items.push(Item {
            key,
            sha256,
            content,
        });
        Ok(())
    }

    fn finish(self) -> ServiceResult<Items> {
        if self.items.is_empty() {
            return Err(ServiceError::InvalidFile {
                line: None,
                reason: "it holds no items".to_string(),
            });
        }
        Ok(Items {
            items: self.items,
            key_field: self.key_field,
            schema: self.schema,
        })
    }
}

/// Reads every item of `reader`; `key_field` overrides detection.
pub fn read_items(
    reader: impl BufRead,
    format: ItemFormat,
    key_field: Option<&str>,
) -> ServiceResult<Items> {
    let mut collector = Collector::new(key_field);
    match format {
        ItemFormat::Jsonl => read_jsonl(reader, &mut collector)?,
        ItemFormat::Csv => read_csv(reader, &mut collector)?,
    }
    collector.finish()
}

fn read_jsonl(reader: impl BufRead, collector: &mut Collector) -> ServiceResult<()> {
    for (index, line) in reader.split(b'\n').enumerate() {
        let number = index as u64 + 1;
        let bytes = line.map_err(|error| file_error(number, format!("cannot be read: {error}")))?;
        let text =
            std::str::from_utf8(&bytes).map_err(|_| file_error(number, "is not valid UTF-8"))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim();
        if text.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text).map_err(|error| {
            // serde's message ends in "at line 1 column N": the line is ours.
            let message = error.to_string();
            let reason = message.split(" at line ").next().unwrap_or(&message);
            file_error(
                number,
                format!("is not valid JSON at column {}: {reason}", error.column()),
            )
        })?;
        let Value::Object(object) = value else {
            return Err(file_error(
                number,
                format!("holds a JSON {}, not an object", type_name(&value)),
            ));
        };
        collector.push(number, object)?;
    }
    Ok(())
}

fn read_csv(reader: impl BufRead, collector: &mut Collector) -> ServiceResult<()> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|error| file_error(1, csv_reason(&error)))?
        .clone();
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    for (index, header) in headers.iter().enumerate() {
        let header = header.trim_start_matches('\u{feff}').trim();
        if header.is_empty() {
            return Err(file_error(1, format!("column {} has no name", index + 1)));
        }
        if names.iter().any(|name| name == header) {
            return Err(file_error(1, format!("column name `{header}` repeats")));
        }
        names.push(header.to_string());
    }
    for record in csv.records() {
        let record = record.map_err(|error| {
            let line = error.position().map_or(0, |position| position.line());
            file_error(line, csv_reason(&error))
        })?;
        let line = record.position().map_or(0, |position| position.line());
        let object: Map<String, Value> = names
            .iter()
            .zip(record.iter())
            .map(|(name, value)| (name.clone(), Value::String(value.to_string())))
            .collect();
        collector.push(line, object)?;
    }
    Ok(())
}

fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
        _ => "is not valid CSV".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jsonl(text: &str) -> ServiceResult<Items> {
        read_items(text.as_bytes(), ItemFormat::Jsonl, None)
    }

    #[test]
    fn key_order_and_spacing_do_not_change_the_hash() -> ServiceResult<()> {
        let a = jsonl("{\"id\": 1, \"q\": {\"b\": 2, \"a\": 1}}\n")?;
        let b = jsonl("{\"q\":{\"a\":1,\"b\":2},\"id\":1}")?;
        assert_eq!(a.items[0].sha256, b.items[0].sha256);
        assert_eq!(
            a.items[0].content.to_string(),
            r#"{"id":1,"q":{"a":1,"b":2}}"#
        );
        assert_eq!(a.key_field.as_deref(), Some("id"));
        assert_eq!(a.items[0].key, "1");
        Ok(())
    }

    #[test]
    fn errors_name_the_line() {
        let error = jsonl("{\"id\":\"a\"}\n\n[1]\n").err();
        assert_eq!(
            error.map(|e| e.message()),
            Some("line 3 of the file: holds a JSON array, not an object".to_string())
        );
        let repeated = jsonl("{\"id\":\"a\"}\n{\"id\":\"a\",\"x\":1}\n").err();
        assert_eq!(
            repeated.map(|e| e.message()),
            Some("line 2 of the file: `id` `a` repeats line 1".to_string())
        );
        let missing = jsonl("{\"id\":\"a\"}\n{\"x\":1}\n").err();
        assert!(missing.is_some_and(|e| e.message().starts_with("line 2 of the file: key field")));
        assert!(jsonl("\n\n").is_err());
        assert!(jsonl("{\"id\":\"a\"\n").is_err_and(|e| e.message().contains("not valid JSON")));
    }

    #[test]
    fn csv_rows_become_objects_of_strings() -> ServiceResult<()> {
        let text = "\u{feff}id,question,answer\n1,\"2+2, said she\",4\n2,x,y\n";
        let items = read_items(text.as_bytes(), ItemFormat::Csv, None)?;
        assert_eq!(items.items.len(), 2);
        assert_eq!(
            items.items[0].content.to_string(),
            r#"{"answer":"4","id":"1","question":"2+2, said she"}"#
        );
        assert_eq!(items.key_field.as_deref(), Some("id"));
        let ragged = read_items("id,a\n1,2,3\n".as_bytes(), ItemFormat::Csv, None).err();
        assert_eq!(
            ragged.map(|e| e.message()),
            Some("line 2 of the file: has 3 fields where the header has 2".to_string())
        );
        let unnamed = read_items("id,,b\n1,2,3\n".as_bytes(), ItemFormat::Csv, None).err();
        assert_eq!(
            unnamed.map(|e| e.message()),
            Some("line 1 of the file: column 2 has no name".to_string())
        );
        Ok(())
    }

    #[test]
    fn without_a_key_field_the_hash_is_the_key() -> ServiceResult<()> {
        let items = jsonl("{\"q\":\"a\"}\n{\"q\":\"b\"}\n")?;
        assert_eq!(items.key_field, None);
        assert_eq!(items.items[0].key, items.items[0].sha256);
        assert!(jsonl("{\"q\":\"a\"}\n{\"q\":\"a\"}\n").is_err());
        Ok(())
    }

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            ItemFormat::from_file_name("a.JSONL"),
            Some(ItemFormat::Jsonl)
        );
        assert_eq!(ItemFormat::from_file_name("a.csv"), Some(ItemFormat::Csv));
        assert_eq!(ItemFormat::from_file_name("a.txt"), None);
    }
}
