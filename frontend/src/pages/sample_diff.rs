//! Two runs compared item by item on the items both evaluated: how often
//! they agree, McNemar's test on the items only one got right, the
//! bootstrapped mean score difference, and the discordant items themselves.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::samples::{self, Comparison, Difference, RunHead};
use crate::chart::{Part, StackedBar};
use crate::components::{DataTable, Empty, Head, Loading, error_fallback};
use crate::format;
use crate::url_state::samples::{DiffShow, SampleDiffView};
use crate::url_state::{run_href, task_href};

/// How many characters of an item's input (its end) a row shows before it
/// is opened.
const INPUT_EXCERPT: usize = 160;
/// The differences table's columns.
const DIFFERENCE_HEADS: &[Head] = &[
    ("Doc", true),
    ("Input", false),
    ("First", false),
    ("Second", false),
    ("First score", true),
    ("Second score", true),
];

/// The per-item comparison, at `/compare-samples?first=…&second=…&show=…`.
#[component]
pub fn SampleDiffPage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| {
        let query = query.read();
        SampleDiffView::from_query(|key| query.get(key))
    });
    // Only the two runs are fetched; the `show` choice filters in the page.
    let runs = Memo::new(move |_| {
        let view = view_state.get();
        (view.first, view.second)
    });
    let comparison = LocalResource::new(move || {
        let (first, second) = runs.get();
        async move {
            if first.is_empty() || second.is_empty() {
                return Ok(None);
            }
            samples::compare(first, second).await.map(Some)
        }
    });
    let body = move || {
        Suspend::new(async move {
            comparison.await.map(|comparison| match comparison {
                Some(comparison) => view! { <Summary comparison view_state /> }.into_any(),
                None => view! {
                    <Empty title="Choose two runs">
                        <p>"Open a run's "<strong>"Samples"</strong>" tab and pick another \
                            run of the same task to compare with."</p>
                    </Empty>
                }
                .into_any(),
            })
        })
    };
    view! {
        <section class="page">
            <header class="page-head">
                <span class="eyebrow">"Samples"</span>
                <h1>"Compare two runs item by item"</h1>
            </header>
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>{body}</ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// One run as the comparison names it: model, task and configuration.
fn run_line(label: &'static str, run: Option<&RunHead>, id: &str) -> impl IntoView + use<> {
    let model = run.and_then(|r| r.model.as_ref()).map(|m| m.name.clone());
    let task = run.and_then(|r| r.task.as_ref());
    let task_name = task.map(|t| t.name.clone()).unwrap_or_default();
    let config = format!(
        " · {} · {}",
        format::version(task.and_then(|t| t.version.as_deref())),
        format::n_shot(run.and_then(|r| r.n_shot))
    );
    view! {
        <li>
            <strong>{label}</strong>" "
            <a href=run_href(id) data-test=label.to_lowercase()>
                {model.unwrap_or_else(|| id.to_string())}</a>
            " on "<a href=task_href(&task_name)>{task_name.clone()}</a>{config}
        </li>
    }
}

/// The agreement bar's parts: judged items by outcome, in a fixed order.
fn agreement(comparison: &Comparison) -> Vec<Part> {
    let counts = &comparison.compare_samples;
    let (only_first, only_second) = counts
        .mcnemar
        .as_ref()
        .map_or((0, 0), |m| (m.only_first_correct, m.only_second_correct));
    let part = |label: &str, count: i64, colour: usize| Part {
        label: label.to_string(),
        count: u64::try_from(count).unwrap_or(0),
        colour,
    };
    vec![
        part("Both right", counts.both_correct, 2),
        part("Only the first right", only_first, 0),
        part("Only the second right", only_second, 1),
        part("Both wrong", counts.both_wrong, 3),
    ]
}

/// The differences `show` keeps, in the first run's order.
fn listed(differences: &[Difference], show: DiffShow) -> Vec<Difference> {
    let kept = differences
        .iter()
        .filter(|d| show.keeps(d.first_correct, d.second_correct));
    kept.cloned().collect()
}

/// A count with its name, marked for tests and screen readers alike.
fn fact(term: &'static str, key: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="fact">
            <dt>{term}</dt>
            <dd data-test=key>{value}</dd>
        </div>
    }
}

#[component]
fn Summary(comparison: Comparison, view_state: Memo<SampleDiffView>) -> impl IntoView {
    let view = view_state.get_untracked();
    let counts = &comparison.compare_samples;
    let heads = view! {
        <ul class="runs-compared">
            {run_line("First", comparison.first_run.as_ref(), &view.first)}
            {run_line("Second", comparison.second_run.as_ref(), &view.second)}
        </ul>
    };
    if counts.shared == 0 {
        let message = format!(
            "The runs evaluated no item in common ({} only in the first, {} only in the \
             second), so there is nothing to compare item by item.",
            counts.only_in_first, counts.only_in_second
        );
        return view! {
            {heads}
            <Empty title="No shared items"><p>{message}</p></Empty>
        }
        .into_any();
    }
    let mcnemar = counts.mcnemar.as_ref();
    let p = mcnemar.map_or("— (no item judged right or wrong by both)".into(), |m| {
        format!(
            "{} (exact); χ² = {:.3}, p = {}",
            format::p_value(m.exact_p),
            m.chi_square,
            format::p_value(m.chi_square_p)
        )
    });
    let mean = counts.mean_score_difference.as_ref().map_or(
        "— (no shared item has a finite score in both)".into(),
        |m| {
            format!(
                "{} (95% interval {} to {}, {} resamples)",
                format::signed(m.mean),
                format::signed(m.ci95.low),
                format::signed(m.ci95.high),
                m.resamples
            )
        },
    );
    let only = |pick: fn(&(i64, i64)) -> i64| {
        mcnemar
            .map(|m| pick(&(m.only_first_correct, m.only_second_correct)).to_string())
            .unwrap_or_else(|| "—".into())
    };
    let parts = agreement(&comparison);
    let judged: u64 = parts.iter().map(|p| p.count).sum();
    let chart = (judged > 0).then(|| {
        let title = format!("Agreement on the {judged} items both runs judged");
        view! { <div class="chart-box"><StackedBar title parts /></div> }
    });
    view! {
        {heads}
        <section class="panel" aria-labelledby="agreement-title">
            <h2 id="agreement-title">"Summary"</h2>
            <dl class="facts">
                {fact("Shared items", "shared", counts.shared.to_string())}
                {fact("Only in the first", "only-in-first", counts.only_in_first.to_string())}
                {fact("Only in the second", "only-in-second", counts.only_in_second.to_string())}
                {fact("Both right", "both-right", counts.both_correct.to_string())}
                {fact("Both wrong", "both-wrong", counts.both_wrong.to_string())}
                {fact("Only the first right", "only-first-right", only(|c| c.0))}
                {fact("Only the second right", "only-second-right", only(|c| c.1))}
            </dl>
            <dl class="facts wide">
                {fact("McNemar's test, p", "mcnemar-p", p)}
                {fact("Mean score difference (first − second)", "mean-difference", mean)}
            </dl>
            {chart}
        </section>
        <DifferenceTable comparison view_state />
    }
    .into_any()
}

/// The items the two runs scored differently, filtered by `show`.
#[component]
fn DifferenceTable(comparison: Comparison, view_state: Memo<SampleDiffView>) -> impl IntoView {
    let counts = comparison.compare_samples;
    let total = counts.difference_count;
    let fetched = counts.differences.len();
    let navigate = use_navigate();
    let on_show = move |ev: leptos::ev::Event| {
        let key = event_target_value(&ev);
        let mut next = view_state.get_untracked();
        next.show = DiffShow::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_default();
        navigate(&next.href(), Default::default());
    };
    let options = DiffShow::ALL
        .into_iter()
        .map(|show| {
            let selected = move || view_state.get().show == show;
            view! { <option value=show.key() selected=selected>{show.label()}</option> }
        })
        .collect_view();
    let cut = (usize::try_from(total).unwrap_or(0) > fetched).then(|| {
        view! {
            <p class="notice warn">{format!("Only the first {fetched} of {total} differing \
                items were loaded; the choice below filters those.")}</p>
        }
    });
    let differences = counts.differences;
    let table = move || {
        let rows = listed(&differences, view_state.get().show);
        difference_rows(rows)
    };
    view! {
        <section class="panel" aria-labelledby="differences-title">
            <h2 id="differences-title">"Items scored differently"</h2>
            {cut}
            <form class="controls inline" on:submit=|ev| ev.prevent_default()>
                <div class="field">
                    <label for="diff-show">"Show"</label>
                    <select id="diff-show" on:change=on_show>{options}</select>
                </div>
            </form>
            {table}
        </section>
    }
}

fn difference_rows(rows: Vec<Difference>) -> AnyView {
    let summary = match rows.len() {
        1 => "1 item".to_string(),
        n => format!("{n} items"),
    };
    if rows.is_empty() {
        return view! {
            <p class="muted" data-test="differences-total">{summary}</p>
            <p class="muted">"No item matches this choice."</p>
        }
        .into_any();
    }
    let body = rows.into_iter().map(difference_row).collect_view();
    view! {
        <p class="muted" data-test="differences-total">{summary}</p>
        <DataTable class="differences" label="Items the runs scored differently"
            heads=DIFFERENCE_HEADS>
            {body}
        </DataTable>
    }
    .into_any()
}

fn difference_row(item: Difference) -> impl IntoView {
    let score = |s: Option<f64>| s.map(format::number).unwrap_or_else(|| "—".into());
    let input = item.input.unwrap_or_default();
    let excerpt = format::prompt_excerpt(&input, INPUT_EXCERPT);
    let input = if input.chars().count() > INPUT_EXCERPT {
        view! {
            <details class="text">
                <summary>{excerpt}</summary>
                <pre>{input}</pre>
            </details>
        }
        .into_any()
    } else {
        view! { <span>{excerpt}</span> }.into_any()
    };
    let verdict = |correct: Option<bool>| {
        view! {
            <td class="verdict" class:good=correct == Some(true)
                class:bad=correct == Some(false)>{format::verdict(correct)}</td>
        }
    };
    view! {
        <tr>
            <td class="num" title=item.item_sha256>
                {item.doc_id.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}
            </td>
            <td class="text">{input}</td>
            {verdict(item.first_correct)}
            {verdict(item.second_correct)}
            <td class="num">{score(item.first_score)}</td>
            <td class="num">{score(item.second_score)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::samples::compare_samples::{
        CompareSamplesCompareSamples, CompareSamplesCompareSamplesMcnemar,
    };

    fn difference(doc: i64, first: Option<bool>, second: Option<bool>) -> Difference {
        Difference {
            item_sha256: format!("h{doc}"),
            doc_id: Some(doc),
            input: None,
            first_correct: first,
            second_correct: second,
            first_score: None,
            second_score: None,
        }
    }

    #[test]
    fn each_choice_lists_its_items_in_order() {
        let items = [
            difference(0, Some(true), Some(false)),
            difference(1, Some(false), Some(true)),
            difference(2, None, None),
            difference(3, Some(true), Some(false)),
        ];
        let docs =
            |show| -> Vec<Option<i64>> { listed(&items, show).iter().map(|d| d.doc_id).collect() };
        assert_eq!(docs(DiffShow::Discordant), [Some(0), Some(1), Some(3)]);
        assert_eq!(docs(DiffShow::FirstRight), [Some(0), Some(3)]);
        assert_eq!(docs(DiffShow::SecondRight), [Some(1)]);
        assert_eq!(docs(DiffShow::Scored).len(), 4);
    }

    #[test]
    fn the_agreement_bar_splits_the_judged_items() {
        let comparison = Comparison {
            compare_samples: CompareSamplesCompareSamples {
                shared: 50,
                only_in_first: 0,
                only_in_second: 0,
                both_correct: 44,
                both_wrong: 3,
                difference_count: 3,
                mcnemar: Some(CompareSamplesCompareSamplesMcnemar {
                    only_first_correct: 2,
                    only_second_correct: 1,
                    exact_p: 1.0,
                    chi_square: 0.0,
                    chi_square_p: 1.0,
                }),
                mean_score_difference: None,
                differences: Vec::new(),
            },
            first_run: None,
            second_run: None,
        };
        let counts: Vec<u64> = agreement(&comparison).iter().map(|p| p.count).collect();
        assert_eq!(counts, [44, 2, 1, 3]);
    }
}
