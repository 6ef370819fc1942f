//! Typed reads of HELM's JSON values, each failing with an `invalid_field`
//! error that names the file and JSON path of the value at fault.
//!
//! HELM writes its files from Python dataclasses, so a field has one type;
//! anything else is a broken file rather than drift to tolerate. A missing
//! key reads as `null`, which the optional readers take as "not recorded".

use serde_json::{Map, Value};

use crate::ingest::file_error::{FileError, JsonPath};
use crate::ingest::lenient_json;
use crate::ingest::parsed::Number;

/// Integral floats beyond this are not exactly integers in an `f64`.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Returns `key` of `object`, or `null` when it is absent.
pub(super) fn get<'a>(object: &'a Map<String, Value>, key: &str) -> &'a Value {
    object.get(key).unwrap_or(&Value::Null)
}

/// Reads an object.
pub(super) fn object<'a>(
    value: &'a Value,
    path: &JsonPath,
    what: &str,
) -> Result<&'a Map<String, Value>, FileError> {
    value
        .as_object()
        .ok_or_else(|| FileError::unexpected(path, what, value))
}

/// Reads an array.
pub(super) fn array<'a>(
    value: &'a Value,
    path: &JsonPath,
    what: &str,
) -> Result<&'a [Value], FileError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| FileError::unexpected(path, what, value))
}

/// Reads a non-empty string.
pub(super) fn text<'a>(
    value: &'a Value,
    path: &JsonPath,
    what: &str,
) -> Result<&'a str, FileError> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Ok(text),
        _ => Err(FileError::unexpected(path, what, value)),
    }
}

/// Reads a string that may be absent, `null` or empty.
pub(super) fn optional_text<'a>(
    value: &'a Value,
    path: &JsonPath,
    what: &str,
) -> Result<Option<&'a str>, FileError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(FileError::unexpected(path, what, value)),
    }
}

/// Reads a whole number that is at least 0 (`2` or `2.0`), or `null`.
pub(super) fn optional_count(
    value: &Value,
    path: &JsonPath,
    what: &str,
) -> Result<Option<i64>, FileError> {
    if value.is_null() {
        return Ok(None);
    }
    let whole = match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|float| float.fract() == 0.0 && float.abs() <= EXACT_INTEGER_LIMIT)
                .map(|float| float as i64)
        }),
        _ => None,
    };
    match whole {
        Some(count) if count >= 0 => Ok(Some(count)),
        _ => Err(FileError::unexpected(path, what, value)),
    }
}

/// Reads a number, keeping Python's `NaN` and infinities as they were written.
pub(super) fn number(value: &Value, path: &JsonPath, what: &str) -> Result<Number, FileError> {
    lenient_json::number(value).ok_or_else(|| FileError::unexpected(path, what, value))
}

/// Reads a number that may be absent or `null`.
pub(super) fn optional_number(
    value: &Value,
    path: &JsonPath,
    what: &str,
) -> Result<Option<Number>, FileError> {
    if value.is_null() {
        return Ok(None);
    }
    number(value, path, what).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ingest::file_error::ErrorCode;

    #[test]
    fn counts_accept_integral_floats_and_refuse_the_rest() {
        let path = JsonPath::root().key("count");
        assert_eq!(optional_count(&json!(2.0), &path, "a count"), Ok(Some(2)));
        assert_eq!(optional_count(&Value::Null, &path, "a count"), Ok(None));
        for bad in [json!(-1), json!(1.5), json!("1")] {
            let error = optional_count(&bad, &path, "a count").err();
            assert_eq!(error.map(|e| e.code), Some(ErrorCode::InvalidField));
        }
    }

    #[test]
    fn numbers_keep_non_finite_values() {
        let path = JsonPath::root();
        let nan = Value::from(lenient_json::NAN_SENTINEL);
        assert_eq!(number(&nan, &path, "a number"), Ok(Number::NaN));
        assert_eq!(
            number(&json!(0.5), &path, "a number"),
            Ok(Number::Finite(0.5))
        );
        let error = number(&json!("0.5"), &path, "a number").err();
        assert_eq!(
            error.map(|e| e.message),
            Some("Expected a number, found `\"0.5\"`.".to_string())
        );
    }
}
