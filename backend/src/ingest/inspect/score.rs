//! Turns an Inspect score value into a number and, for verdicts, right or
//! wrong.
//!
//! Inspect scores are often verdicts rather than numbers (`C` correct, `I`
//! incorrect, `P` partial, `N` no answer); they become numbers the way
//! Inspect's own metrics count them, so a sample's score agrees with the
//! run's accuracy.

use serde_json::Value;

use crate::ingest::lenient_json;
use crate::ingest::parsed::Number;

/// Turns a score value into a number and, for verdicts, right or wrong.
///
/// The numbers are Inspect's: `C` 1, `I` 0, `P` 0.5, `N` 0, yes/true 1,
/// no/false 0. A verdict is right or wrong except a partial one; a number
/// is a verdict only when it is exactly 0 or 1.
pub fn verdict(value: &Value) -> (Option<Number>, Option<bool>) {
    let binary = |flag: bool| (Some(Number::Finite(f64::from(u8::from(flag)))), Some(flag));
    match value {
        Value::Bool(flag) => binary(*flag),
        Value::String(text) => match text.as_str() {
            "C" => binary(true),
            "I" | "N" => binary(false),
            "P" => (Some(Number::Finite(0.5)), None),
            _ if text.eq_ignore_ascii_case("yes") || text.eq_ignore_ascii_case("true") => {
                binary(true)
            }
            _ if text.eq_ignore_ascii_case("no") || text.eq_ignore_ascii_case("false") => {
                binary(false)
            }
            _ => spelled_number(text),
        },
        other => match lenient_json::number(other) {
            Some(Number::Finite(value)) if value == 0.0 || value == 1.0 => binary(value == 1.0),
            number => (number, None),
        },
    }
}

/// A score written as text: a decimal, or the spelling of a non-finite
/// number (which is how stored JSON spells them).
fn spelled_number(text: &str) -> (Option<Number>, Option<bool>) {
    let number = match text {
        "NaN" => Some(Number::NaN),
        "Infinity" => Some(Number::PositiveInfinity),
        "-Infinity" => Some(Number::NegativeInfinity),
        _ => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .map(Number::Finite),
    };
    (number, None)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn verdicts_and_numbers_become_scores_the_way_inspect_counts_them() {
        let cases = [
            (json!("I"), Some(Number::Finite(0.0)), Some(false)),
            (json!("N"), Some(Number::Finite(0.0)), Some(false)),
            (json!("P"), Some(Number::Finite(0.5)), None),
            (json!(true), Some(Number::Finite(1.0)), Some(true)),
            (json!("no"), Some(Number::Finite(0.0)), Some(false)),
            (json!(1), Some(Number::Finite(1.0)), Some(true)),
            (json!(0.25), Some(Number::Finite(0.25)), None),
            (json!("0.75"), Some(Number::Finite(0.75)), None),
            (json!("NaN"), Some(Number::NaN), None),
            (json!({"f1": 0.5}), None, None),
            (json!("maybe"), None, None),
        ];
        for (value, number, correct) in cases {
            assert_eq!(verdict(&value), (number, correct), "{value}");
        }
    }
}
