//! Reads JSON the way Python's `json` module writes it, non-finite numbers included.
//!
//! Python writes NaN and the infinities as the bare tokens `NaN`, `Infinity`
//! and `-Infinity`; strict parsers, serde_json among them, reject the whole
//! document. A pre-pass that knows where strings begin and end rewrites each
//! such token into a sentinel string, serde_json parses the rest, and
//! [`special_number`] recognises the sentinels afterwards.
//!
//! A sentinel is U+0000 followed by the token. Raw JSON text cannot hold that
//! character, so only a string written as exactly `"\u0000NaN"` (or the like)
//! in the source would be mistaken for the number; no known writer does that.

use serde_json::Value;

use super::parsed::Number;

/// The sentinel string standing for a bare `NaN` token.
pub const NAN_SENTINEL: &str = "\u{0}NaN";
/// The sentinel string standing for a bare `Infinity` token.
pub const INFINITY_SENTINEL: &str = "\u{0}Infinity";
/// The sentinel string standing for a bare `-Infinity` token.
pub const NEG_INFINITY_SENTINEL: &str = "\u{0}-Infinity";

/// The UTF-8 byte order mark some Windows tools put before JSON text.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Each bare token and the JSON text of the sentinel that replaces it.
const SPECIALS: [(&[u8], &str); 3] = [
    // `-Infinity` goes first so the `Infinity` inside it is never matched alone.
    (b"-Infinity", r#""\u0000-Infinity""#),
    (b"Infinity", r#""\u0000Infinity""#),
    (b"NaN", r#""\u0000NaN""#),
];

/// Why bytes could not be read as JSON, with the position in the original bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {reason}")]
pub struct JsonError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in bytes as serde_json does (a BOM is not counted).
    pub column: usize,
    /// serde_json's description without its own position suffix.
    pub reason: String,
}

/// Where the pre-pass lengthened a line, so error columns can be mapped back.
#[derive(Debug, Clone, Copy)]
struct Shift {
    line: usize,
    /// 1-based column in the rewritten text where the sentinel starts.
    column: usize,
    extra: usize,
}

/// Parses JSON text that may start with a BOM and may contain Python's
/// non-finite number tokens; fails with the line and column of the first error.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let (text, shifts) = rewrite_specials(bytes);
    serde_json::from_slice(&text).map_err(|error| locate(&error, &shifts))
}

/// Returns the non-finite number a sentinel stands for, or `None` for any
/// other value (finite numbers included).
pub fn special_number(value: &Value) -> Option<Number> {
    match value.as_str()? {
        NAN_SENTINEL => Some(Number::NaN),
        INFINITY_SENTINEL => Some(Number::PositiveInfinity),
        NEG_INFINITY_SENTINEL => Some(Number::NegativeInfinity),
        _ => None,
    }
}

/// Returns the number a value holds, finite or a sentinel; `None` for
/// anything that is not a number (strings that look like numbers included).
pub fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(number) => number.as_f64().map(Number::Finite),
        _ => special_number(value),
    }
}

/// Returns how Python spells a non-finite number, which is also how stored
/// JSON spells it, since JSON has no literal for it; `None` for finite ones.
pub fn spelling(number: Number) -> Option<&'static str> {
    match number {
        Number::NaN => Some("NaN"),
        Number::PositiveInfinity => Some("Infinity"),
        Number::NegativeInfinity => Some("-Infinity"),
        Number::Finite(_) => None,
    }
}

/// Returns a copy of a value tree with every sentinel replaced by the plain
/// string `"NaN"`, `"Infinity"` or `"-Infinity"`, ready to be stored as JSON.
pub fn plain(value: &Value) -> Value {
    if let Some(text) = special_number(value).and_then(spelling) {
        return Value::from(text);
    }
    match value {
        Value::Array(items) => items.iter().map(plain).collect(),
        Value::Object(fields) => fields
            .iter()
            .map(|(key, field)| (key.clone(), plain(field)))
            .collect(),
        _ => value.clone(),
    }
}

/// Rewrites every bare non-finite token outside strings into a sentinel
/// string, noting where lines grew so error positions can be mapped back.
fn rewrite_specials(bytes: &[u8]) -> (Vec<u8>, Vec<Shift>) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut shifts = Vec::new();
    let mut strings = StringTracker::default();
    let (mut line, mut line_start, mut index) = (1, 0, 0);
    while index < bytes.len() {
        if let Some((token, sentinel)) = special_at(bytes, index, &strings) {
            let extra = sentinel.len() - token.len();
            let column = out.len() - line_start + 1;
            shifts.push(Shift {
                line,
                column,
                extra,
            });
            out.extend_from_slice(sentinel.as_bytes());
            index += token.len();
            continue;
        }
        let byte = bytes[index];
        strings.step(byte);
        out.push(byte);
        if byte == b'\n' {
            line += 1;
            line_start = out.len();
        }
        index += 1;
    }
    (out, shifts)
}

/// Knows whether the pre-pass is inside a JSON string, escapes included.
#[derive(Default)]
struct StringTracker {
    inside: bool,
    escaped: bool,
}

impl StringTracker {
    fn step(&mut self, byte: u8) {
        if !self.inside {
            self.inside = byte == b'"';
        } else if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.inside = false;
        }
    }
}

/// Returns the special token starting at `index` and its replacement, if a
/// whole token starts there outside a string; `xNaN` and `NaNx` are left for
/// serde_json to reject.
fn special_at(
    bytes: &[u8],
    index: usize,
    strings: &StringTracker,
) -> Option<(&'static [u8], &'static str)> {
    if strings.inside || (index > 0 && is_word(bytes[index - 1])) {
        return None;
    }
    let rest = &bytes[index..];
    SPECIALS
        .iter()
        .find(|(token, _)| {
            rest.starts_with(token) && !rest.get(token.len()).is_some_and(|b| is_word(*b))
        })
        .copied()
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Turns serde_json's error into one whose column refers to the original bytes.
fn locate(error: &serde_json::Error, shifts: &[Shift]) -> JsonError {
    let line = error.line();
    let widened: usize = shifts
        .iter()
        .filter(|shift| shift.line == line && shift.column < error.column())
        .map(|shift| shift.extra)
        .sum();
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    JsonError {
        line,
        column: error.column().saturating_sub(widened),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(text: &str) -> Value {
        parse(text.as_bytes()).expect("test JSON is valid")
    }

    #[test]
    fn bare_tokens_become_sentinels() {
        let value = parsed(r#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN]}"#);
        assert_eq!(special_number(&value["a"]), Some(Number::NaN));
        assert_eq!(special_number(&value["b"]), Some(Number::PositiveInfinity));
        assert_eq!(special_number(&value["c"]), Some(Number::NegativeInfinity));
        assert_eq!(special_number(&value["d"][0]), Some(Number::NaN));
    }

    #[test]
    fn tokens_inside_strings_are_left_alone() {
        let value = parsed(r#"{"NaN": "Infinity", "e": "say \"NaN\" \\", "f": "-Infinity"}"#);
        assert_eq!(value["NaN"], json!("Infinity"));
        assert_eq!(value["e"], json!("say \"NaN\" \\"));
        assert_eq!(value["f"], json!("-Infinity"));
        assert_eq!(special_number(&value["NaN"]), None);
    }

    #[test]
    fn escaped_backslash_before_a_quote_ends_the_string() {
        let value = parsed(r#"["\\", NaN]"#);
        assert_eq!(value[0], json!("\\"));
        assert_eq!(special_number(&value[1]), Some(Number::NaN));
    }

    #[test]
    fn finite_numbers_and_sentinels_read_as_numbers() {
        let value = parsed(r#"[0.25, 3, NaN, "0.5"]"#);
        assert_eq!(number(&value[0]), Some(Number::Finite(0.25)));
        assert_eq!(number(&value[1]), Some(Number::Finite(3.0)));
        assert_eq!(number(&value[2]), Some(Number::NaN));
        assert_eq!(number(&value[3]), None);
    }

    #[test]
    fn leading_bom_is_skipped() {
        let value = parse(b"\xEF\xBB\xBF{\"a\": 1}").expect("BOM is accepted");
        assert_eq!(value, json!({"a": 1}));
    }

    #[test]
    fn specials_are_spelled_out_for_storage() {
        let value = parsed(r#"{"x": [NaN, {"y": -Infinity}], "z": "keep"}"#);
        let stored = plain(&value);
        assert_eq!(
            stored,
            json!({"x": ["NaN", {"y": "-Infinity"}], "z": "keep"})
        );
    }

    #[test]
    fn error_column_refers_to_the_original_text() {
        // serde_json points at the `1` after the missing comma: column 13 of
        // line 2 as written, though column 21 in the rewritten text.
        let error = parse(b"{\n  \"a\": [NaN 1]}").expect_err("missing comma");
        assert_eq!((error.line, error.column), (2, 13));
        assert!(
            error.reason.contains("expected `,` or `]`"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn error_after_several_tokens_on_one_line_is_mapped_back() {
        let text = "[NaN, Infinity, -Infinity, x]";
        let error = parse(text.as_bytes()).expect_err("bare identifier");
        let column = text.find('x').map(|offset| offset + 1);
        assert_eq!((error.line, Some(error.column)), (1, column));
    }

    #[test]
    fn tokens_glued_to_words_are_not_rewritten() {
        assert!(parse(b"[xNaN]").is_err());
        assert!(parse(b"[NaNx]").is_err());
        assert!(parse(b"[Infinityy]").is_err());
    }

    #[test]
    fn empty_input_reports_line_one() {
        let error = parse(b"").expect_err("empty input");
        assert_eq!(error.line, 1);
        assert_eq!(error.reason, "EOF while parsing a value");
    }
}
