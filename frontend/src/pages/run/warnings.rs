//! The data-quality rules' findings about a run, shown at the top of its
//! page: a reader should learn that a value is suspect before reading it.

use leptos::prelude::*;

/// Names a rule's code in words; an unknown code is shown as itself.
fn rule_title(rule: &str) -> &str {
    match rule {
        "out_of_range" => "Value outside the metric's range",
        "non_finite" => "NaN or infinite number",
        "negative_stderr" => "Negative standard error",
        "missing_stderr" => "No standard error",
        "incomplete_samples" => "Samples log incomplete",
        "duplicate_samples" => "An item sampled twice",
        "conflicting_results" => "Conflicts with another run",
        "copied_results" => "Identical to another model's results",
        other => other,
    }
}

/// The warnings box, or nothing when the rules found nothing. Each finding
/// is a (rule code, detail) pair. The box says "Warning" in words and with
/// an icon, so it does not rest on its colour.
#[component]
pub fn QualityWarnings(found: Vec<(String, String)>) -> impl IntoView {
    if found.is_empty() {
        return ().into_any();
    }
    let heading = match found.len() {
        1 => "Data-quality warning".to_string(),
        n => format!("{n} data-quality warnings"),
    };
    let items = found
        .into_iter()
        .map(|(rule, detail)| {
            view! {
                <li>
                    <strong>{rule_title(&rule).to_string()}</strong>" "
                    <code class="rule">{rule.clone()}</code>": "{detail}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="warnings" role="note" aria-labelledby="warnings-title"
            data-test="quality-warnings">
            <h2 id="warnings-title">
                <span class="icon" aria-hidden="true">"⚠"</span>" "{heading}
            </h2>
            <ul>{items}</ul>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_codes_are_named_in_words_and_unknown_ones_kept() {
        assert_eq!(rule_title("missing_stderr"), "No standard error");
        assert_eq!(rule_title("new_rule"), "new_rule");
    }
}
