//! How numbers, dates and configurations are written on screen.
//!
//! JSON cannot carry NaN or Infinity, so the API sends such values as `null`
//! with a kind; they are shown for what they are and never as zero.

/// Why a number is or is not present, as the API's `NumberKind` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Finite,
    Nan,
    PositiveInfinity,
    NegativeInfinity,
    NotAvailable,
    Missing,
}

/// A value (or stderr) with its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num {
    pub value: Option<f64>,
    pub kind: Kind,
}

impl Num {
    /// Builds a number from the API's pair of fields.
    pub fn new(value: Option<f64>, kind: Kind) -> Self {
        Self { value, kind }
    }

    /// Returns the value when it is an ordinary, finite number.
    pub fn finite(&self) -> Option<f64> {
        match (self.kind, self.value) {
            (Kind::Finite, Some(value)) if value.is_finite() => Some(value),
            _ => None,
        }
    }
}

/// Writes a finite number with as many decimals as its size deserves.
/// Scores between 0 and 10 all get four, so a column of them lines up
/// (`1.0000` above `0.7534`, not `1.000`).
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 1000.0 {
        1
    } else if magnitude >= 100.0 {
        2
    } else if magnitude >= 10.0 {
        3
    } else {
        4
    };
    format!("{value:.decimals$}")
}

/// Writes a setting that is a count when whole (lm-eval's sample limit is
/// `50` items or a `0.1` share): whole values without decimals.
pub fn setting(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        grouped(value as i64)
    } else {
        number(value)
    }
}

/// Writes how many of something there are, with the noun's singular for
/// one and the digits grouped by thousands: `1 model`, `2,000 models`.
pub fn count(n: i64, one: &str, many: &str) -> String {
    let noun = if n == 1 { one } else { many };
    format!("{} {noun}", grouped(n))
}

/// Writes an integer with a comma between thousands.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Writes a value or stderr, naming the non-finite kinds honestly.
pub fn num(num: Num) -> String {
    if let Some(value) = num.finite() {
        return number(value);
    }
    match num.kind {
        Kind::Nan => "NaN".into(),
        Kind::PositiveInfinity => "∞".into(),
        Kind::NegativeInfinity => "−∞".into(),
        Kind::NotAvailable => "n/a".into(),
        Kind::Finite | Kind::Missing => "—".into(),
    }
}

/// Writes "value ± stderr", leaving the stderr out when the source has none.
pub fn with_stderr(value: Num, stderr: Num) -> String {
    match stderr.kind {
        Kind::Missing => num(value),
        _ => format!("{} ± {}", num(value), num(stderr)),
    }
}

/// Writes an RFC 3339 time as "YYYY-MM-DD HH:MM" (UTC), or as given when it
/// is not one.
pub fn date_time(text: &str) -> String {
    let looks_right = text.len() >= 16 && text.as_bytes().get(10) == Some(&b'T');
    match (looks_right, text.get(..10), text.get(11..16)) {
        (true, Some(day), Some(time)) => format!("{day} {time}"),
        _ => text.to_string(),
    }
}

/// Writes the day of an RFC 3339 time.
pub fn date(text: &str) -> String {
    text.get(..10).unwrap_or(text).to_string()
}

/// Writes an n-shot setting; `None` means the source did not say.
pub fn n_shot(n_shot: Option<i64>) -> String {
    match n_shot {
        Some(n) => format!("{n}-shot"),
        None => "n-shot not recorded".into(),
    }
}

/// Writes the harness that produced a run, with its version when recorded.
pub fn harness(name: &str, version: Option<&str>) -> String {
    match version.filter(|v| !v.is_empty()) {
        Some(version) => format!("{name} {version}"),
        None => name.to_string(),
    }
}

/// Writes a task version as the source spelled it (`version 0`,
/// `version v1.5`): a `v` added here would be copied into `recordRuns` and
/// start a configuration of its own. `None` means the source recorded none.
pub fn version(version: Option<&str>) -> String {
    match version {
        Some(version) => format!("version {version}"),
        None => "no version".into(),
    }
}

/// Writes the difference `b - a` with a sign.
pub fn signed(value: f64) -> String {
    let text = number(value.abs());
    if value > 0.0 {
        format!("+{text}")
    } else if value < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}

/// Writes a JSON value for a table cell: text as itself, anything else as
/// compact JSON, cut after `limit` characters with an ellipsis.
pub fn json_cell(value: &serde_json::Value, limit: usize) -> String {
    match value {
        serde_json::Value::String(text) => abbreviate(text, limit),
        other => abbreviate(&other.to_string(), limit),
    }
}

/// Cuts `text` after `limit` characters, marking the cut with an ellipsis.
pub fn abbreviate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{cut}…")
}

/// Writes a target or response for a table cell: whitespace runs (line
/// breaks included) become one space, so a cut keeps as many words as it
/// can, and the text is cut after `limit` characters.
pub fn excerpt(text: &str, limit: usize) -> String {
    abbreviate(&fold(text), limit)
}

/// Writes the end of a prompt for a table cell, whitespace folded as in
/// `excerpt`: its last `limit` characters after an ellipsis. A few-shot
/// prompt puts its examples first and the item's own question last.
pub fn prompt_excerpt(text: &str, limit: usize) -> String {
    let folded = fold(text);
    let count = folded.chars().count();
    if count <= limit {
        return folded;
    }
    let kept: String = folded.chars().skip(count - limit).collect();
    format!("…{kept}")
}

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes a p-value with three decimals; below 0.001 as "< 0.001", since
/// more digits there claim a precision the test does not have.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// Writes a right/wrong verdict as a mark with its word, so that it never
/// rests on colour or shape alone; `None` (not judged) as a dash.
pub fn verdict(correct: Option<bool>) -> &'static str {
    match correct {
        Some(true) => "✓ right",
        Some(false) => "✗ wrong",
        None => "—",
    }
}

/// Returns the columns of a table of JSON objects: each top-level key, in
/// the order first seen.
pub fn json_columns(rows: &[serde_json::Value]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let keys = rows
        .iter()
        .filter_map(|row| row.as_object())
        .flat_map(|row| row.keys());
    for key in keys {
        if !columns.contains(key) {
            columns.push(key.clone());
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_name_one_in_the_singular_and_group_thousands() {
        assert_eq!(count(1, "model", "models"), "1 model");
        assert_eq!(count(0, "model", "models"), "0 models");
        assert_eq!(count(2000, "run", "runs"), "2,000 runs");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn a_whole_setting_shows_no_decimals() {
        assert_eq!(setting(50.0), "50");
        assert_eq!(setting(12000.0), "12,000");
        assert_eq!(setting(0.1), "0.1000");
    }

    #[test]
    fn a_harness_shows_its_version_when_recorded() {
        assert_eq!(harness("helm", Some("0.5.4")), "helm 0.5.4");
        assert_eq!(
            harness("lm-evaluation-harness", None),
            "lm-evaluation-harness"
        );
        assert_eq!(harness("inspect_ai", Some("")), "inspect_ai");
    }

    #[test]
    fn numbers_get_decimals_by_size() {
        assert_eq!(number(0.753367), "0.7534");
        assert_eq!(number(4.80094), "4.8009");
        assert_eq!(number(1.0), "1.0000");
        assert_eq!(number(24.80094), "24.801");
        assert_eq!(number(138.45021), "138.45");
        assert_eq!(number(12345.67), "12345.7");
    }

    #[test]
    fn non_finite_kinds_are_named_never_zero() {
        assert_eq!(num(Num::new(None, Kind::Nan)), "NaN");
        assert_eq!(num(Num::new(None, Kind::PositiveInfinity)), "∞");
        assert_eq!(num(Num::new(None, Kind::NegativeInfinity)), "−∞");
        assert_eq!(num(Num::new(None, Kind::NotAvailable)), "n/a");
        assert_eq!(num(Num::new(None, Kind::Missing)), "—");
        assert_eq!(num(Num::new(Some(0.0), Kind::Finite)), "0.0000");
    }

    #[test]
    fn a_stderr_the_source_never_gave_is_left_out() {
        let value = Num::new(Some(0.5), Kind::Finite);
        let stderr = Num::new(Some(0.01), Kind::Finite);
        assert_eq!(with_stderr(value, stderr), "0.5000 ± 0.0100");
        assert_eq!(with_stderr(value, Num::new(None, Kind::Missing)), "0.5000");
        assert_eq!(
            with_stderr(value, Num::new(None, Kind::Nan)),
            "0.5000 ± NaN"
        );
    }

    #[test]
    fn times_are_shortened_to_the_minute() {
        assert_eq!(
            date_time("2026-12-04T17:16:27.38+00:00"),
            "2026-12-04 17:16"
        );
        assert_eq!(date_time("yesterday"), "yesterday");
        assert_eq!(date("2026-12-04T17:16:27Z"), "2026-12-04");
    }

    #[test]
    fn configurations_read_plainly() {
        assert_eq!(n_shot(Some(5)), "5-shot");
        assert_eq!(n_shot(None), "n-shot not recorded");
        assert_eq!(version(Some("1")), "version 1");
        assert_eq!(version(Some("v0")), "version v0");
        assert_eq!(version(None), "no version");
        assert_eq!(signed(-0.25), "−0.2500");
        assert_eq!(signed(0.25), "+0.2500");
    }

    #[test]
    fn json_cells_show_text_plainly_and_cut_long_values() {
        use serde_json::json;
        assert_eq!(json_cell(&json!("Which is a gas?"), 40), "Which is a gas?");
        assert_eq!(json_cell(&json!(["A", "B"]), 40), r#"["A","B"]"#);
        assert_eq!(json_cell(&json!("abcdef"), 3), "abc…");
        assert_eq!(json_cell(&json!(null), 4), "null");
        assert_eq!(abbreviate("80912494-423d-5697", 8), "80912494…");
    }

    #[test]
    fn excerpts_fold_whitespace_before_cutting() {
        assert_eq!(excerpt("Q: two\n\n  apples?\nA:", 40), "Q: two apples? A:");
        assert_eq!(excerpt("one two three", 7), "one two…");
        assert_eq!(excerpt("", 5), "");
        let prompt = "Q: 1+1?\nA: 2\n\nQ: 2+2?\nA:";
        assert_eq!(prompt_excerpt(prompt, 10), "…Q: 2+2? A:");
        assert_eq!(prompt_excerpt("Q: 2+2?", 10), "Q: 2+2?");
    }

    #[test]
    fn p_values_claim_no_false_precision() {
        assert_eq!(p_value(1.0), "1.000");
        assert_eq!(p_value(0.0312), "0.031");
        assert_eq!(p_value(0.0004), "< 0.001");
        assert_eq!(verdict(Some(false)), "✗ wrong");
        assert_eq!(verdict(None), "—");
    }

    #[test]
    fn json_columns_follow_first_appearance() {
        use serde_json::json;
        let rows = [
            json!({"id": 1, "question": "q"}),
            json!({"answer": "a", "id": 2}),
            json!(3),
        ];
        assert_eq!(json_columns(&rows), vec!["id", "question", "answer"]);
    }
}
