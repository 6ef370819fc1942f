//! Typed reads of the scalar fields of lm-eval files, tolerating the type drift
//! seen between harness versions (ints versus floats, numbers as strings).
//!
//! A missing key and `null` are read alike, as "not recorded"; any other type
//! than the ones listed for a field is an `invalid_field` error naming it.

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;

/// Integral floats beyond this are not exactly integers in an `f64`.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Returns the object under `key`; fails when the key holds another type.
pub(super) fn optional_object<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    path: &JsonPath,
) -> Result<Option<&'a Map<String, Value>>, FileError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(other) => Err(FileError::unexpected(&path.key(key), "an object", other)),
    }
}

/// Returns the text under `key`, an empty string counting as absent; fails
/// when the key holds another type.
pub(super) fn optional_str<'a>(
    parent: &'a Map<String, Value>,
    key: &str,
    path: &JsonPath,
) -> Result<Option<&'a str>, FileError> {
    match parent.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(FileError::unexpected(&path.key(key), "a string", other)),
    }
}

/// Reads a task version as text, so that one version compares equal whoever
/// wrote it: integral numbers become `"1"` whether written `1` (v0.3) or
/// `1.0` (v0.4), other numbers their shortest form (`"0.1"`), strings
/// (`"Yaml"`) stay as written.
pub(super) fn version_text(value: &Value, path: &JsonPath) -> Result<Option<String>, FileError> {
    let expected = "a number, a string or null for a task version";
    match value {
        Value::Null => Ok(None),
        _ if lenient_json::special_number(value).is_some() => {
            Err(FileError::unexpected(path, expected, value))
        }
        Value::String(text) => Ok(Some(text.clone())),
        Value::Number(number) if number.is_i64() || number.is_u64() => Ok(Some(number.to_string())),
        Value::Number(number) => Ok(number.as_f64().map(float_text)),
        _ => Err(FileError::unexpected(path, expected, value)),
    }
}

fn float_text(number: f64) -> String {
    if number == 0.0 {
        // Covers `-0.0`, which would otherwise print with its sign.
        "0".to_owned()
    } else if number.fract() == 0.0 {
        format!("{number:.0}")
    } else {
        number.to_string()
    }
}

/// Reads an n-shot count: a whole number (`5` or `5.0`) or null.
pub(super) fn n_shot(value: &Value, path: &JsonPath) -> Result<Option<i32>, FileError> {
    if value.is_null() {
        return Ok(None);
    }
    let shots = whole_number(value).and_then(|shots| i32::try_from(shots).ok());
    match shots {
        Some(shots) if shots >= 0 => Ok(Some(shots)),
        _ => Err(FileError::unexpected(
            path,
            "a whole number of examples",
            value,
        )),
    }
}

/// Reads a document count (`n-samples`): a whole number or null.
pub(super) fn count(value: &Value, path: &JsonPath) -> Result<Option<i64>, FileError> {
    if value.is_null() {
        return Ok(None);
    }
    match whole_number(value) {
        Some(count) if count >= 0 => Ok(Some(count)),
        _ => Err(FileError::unexpected(
            path,
            "a whole number of documents",
            value,
        )),
    }
}

/// Reads a finite number (`limit`, `date`) or null; `expected` names the field
/// in the error.
pub(super) fn finite(
    value: &Value,
    path: &JsonPath,
    expected: &str,
) -> Result<Option<f64>, FileError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_f64()),
        _ => Err(FileError::unexpected(path, expected, value)),
    }
}

/// Reads a duration in seconds, which v0.4 writes as a string (`"998.04"`).
pub(super) fn seconds(value: &Value, path: &JsonPath) -> Result<Option<f64>, FileError> {
    let parsed = match value {
        Value::Null => return Ok(None),
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(seconds) if seconds.is_finite() => Ok(Some(seconds)),
        _ => Err(FileError::unexpected(path, "a number of seconds", value)),
    }
}

/// Returns an integer written either as an integer or as an integral float.
fn whole_number(value: &Value) -> Option<i64> {
    if let Some(integer) = value.as_i64() {
        return Some(integer);
    }
    let float = value.as_f64()?;
    let exact = float.fract() == 0.0 && float.abs() < EXACT_INTEGER_LIMIT;
    // The range check makes the conversion exact.
    exact.then_some(float as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path() -> JsonPath {
        JsonPath::root().key("versions").key("t")
    }

    fn version(value: Value) -> Option<String> {
        version_text(&value, &path()).expect("readable version")
    }

    #[test]
    fn versions_written_as_int_or_float_compare_equal() {
        assert_eq!(version(json!(1)), version(json!(1.0)));
        assert_eq!(version(json!(1.0)).as_deref(), Some("1"));
        assert_eq!(version(json!(0.0)).as_deref(), Some("0"));
        assert_eq!(version(json!(-0.0)).as_deref(), Some("0"));
        assert_eq!(version(json!(0.1)).as_deref(), Some("0.1"));
        assert_eq!(version(json!("Yaml")).as_deref(), Some("Yaml"));
        assert_eq!(version(json!(null)), None);
    }

    #[test]
    fn version_that_is_a_list_is_an_error() {
        let error = version_text(&json!([1]), &path()).expect_err("a list");
        assert_eq!(
            error.message,
            "Expected a number, a string or null for a task version, found `[1]`."
        );
    }

    #[test]
    fn n_shot_accepts_integral_floats_only() {
        assert_eq!(n_shot(&json!(5), &path()), Ok(Some(5)));
        assert_eq!(n_shot(&json!(5.0), &path()), Ok(Some(5)));
        assert_eq!(n_shot(&json!(null), &path()), Ok(None));
        assert!(n_shot(&json!(2.5), &path()).is_err());
        assert!(n_shot(&json!(-1), &path()).is_err());
        assert!(n_shot(&json!("5"), &path()).is_err());
    }

    #[test]
    fn seconds_may_be_a_string() {
        assert_eq!(seconds(&json!("998.04"), &path()), Ok(Some(998.04)));
        assert_eq!(seconds(&json!(12), &path()), Ok(Some(12.0)));
        assert!(seconds(&json!("soon"), &path()).is_err());
        assert!(seconds(&json!("nan"), &path()).is_err());
    }

    #[test]
    fn empty_strings_count_as_absent() {
        let object = json!({"a": "", "b": "x", "c": 3});
        let map = object.as_object().expect("object");
        assert_eq!(optional_str(map, "a", &JsonPath::root()), Ok(None));
        assert_eq!(optional_str(map, "b", &JsonPath::root()), Ok(Some("x")));
        let error = optional_str(map, "c", &JsonPath::root()).expect_err("a number");
        assert_eq!(error.path, "$.c");
    }
}
