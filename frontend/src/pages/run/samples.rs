//! The samples tab of a run's page: the run's per-item outcomes fifty to a
//! page, filtered by verdict, score range and input text, all in the URL.
//! Long texts are cut in the table; one row at a time opens in full.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::compare_with::CompareWith;
use crate::api::samples::{self, Sample, SampleFilter, SamplePage};
use crate::components::{DataTable, Empty, Head, Loading, Pager, error_fallback};
use crate::format::{self, Kind, Num};
use crate::url_state::samples::{RunView, Verdict, parse_score};

/// How many characters of an input the table shows: its end, where a
/// few-shot prompt asks the item's own question.
const INPUT_EXCERPT: usize = 140;
/// How many characters of a target or response the table shows.
const OUTPUT_EXCERPT: usize = 60;
/// The samples table's columns; the last holds each row's open button.
const SAMPLE_HEADS: &[Head] = &[
    ("#", true),
    ("Input", false),
    ("Target", false),
    ("Response", false),
    ("Score", true),
    ("Correct", false),
    ("Details", false),
];

/// The API filter a view asks for.
fn filter_of(view: &RunView) -> SampleFilter {
    SampleFilter {
        correct: view.verdict.correct(),
        min_score: view.min_score,
        max_score: view.max_score,
        search: view.search.clone(),
    }
}

/// The samples of run `run_id`, which has `total` of them stored.
#[component]
pub fn SamplesTab(
    run_id: String,
    task: String,
    total: i64,
    view_state: Memo<RunView>,
) -> impl IntoView {
    if total == 0 {
        return view! {
            <Empty title="No samples for this run">
                <p>"Only this run's summary results are stored: its per-sample log was \
                    not ingested, or its source writes none."</p>
            </Empty>
        }
        .into_any();
    }
    let page = {
        let run_id = run_id.clone();
        LocalResource::new(move || {
            let view = view_state.get();
            samples::run_samples(run_id.clone(), filter_of(&view), view.after)
        })
    };
    let table = {
        let run_id = run_id.clone();
        move || {
            let run_id = run_id.clone();
            Suspend::new(async move {
                page.await.map(|page| match page {
                    Some(page) => page_view(&run_id, page, total, view_state),
                    None => view! {
                        <Empty title="Run not found">
                            <p>"No run has this id."</p>
                        </Empty>
                    }
                    .into_any(),
                })
            })
        }
    };
    view! {
        <CompareWith run_id=run_id.clone() task />
        <Filters run_id=run_id.clone() view_state />
        <Transition fallback=Loading>
            <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
        </Transition>
    }
    .into_any()
}

/// The filter form; every change goes into the URL and starts again from
/// the first page.
#[component]
fn Filters(run_id: String, view_state: Memo<RunView>) -> impl IntoView {
    let navigate = use_navigate();
    let apply = move |change: &dyn Fn(&mut RunView)| {
        let mut next = view_state.get_untracked();
        change(&mut next);
        next.after = None;
        navigate(&next.href(&run_id), Default::default());
    };
    let on_verdict = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let key = event_target_value(&ev);
            apply(&|view| view.verdict = Verdict::from_key(&key));
        }
    };
    let on_min = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let bound = parse_score(&event_target_value(&ev));
            apply(&|view| view.min_score = bound);
        }
    };
    let on_max = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            let bound = parse_score(&event_target_value(&ev));
            apply(&|view| view.max_score = bound);
        }
    };
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev).trim().to_string();
        let text = Some(text).filter(|t| !t.is_empty());
        apply(&|view| view.search = text.clone());
    };
    let options = Verdict::ALL
        .into_iter()
        .map(|verdict| {
            let selected = move || view_state.get().verdict == verdict;
            view! { <option value=verdict.key() selected=selected>{verdict.label()}</option> }
        })
        .collect_view();
    let bound = |bound: Option<f64>| bound.map(|n| n.to_string()).unwrap_or_default();
    view! {
        <form class="controls inline" role="search" aria-label="Filter samples"
            on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="samples-verdict">"Verdict"</label>
                <select id="samples-verdict" on:change=on_verdict>{options}</select>
            </div>
            <div class="field narrow">
                <label for="samples-min">"Score at least"</label>
                <input id="samples-min" type="number" step="any" inputmode="decimal"
                    prop:value=move || bound(view_state.get().min_score) on:change=on_min />
            </div>
            <div class="field narrow">
                <label for="samples-max">"Score at most"</label>
                <input id="samples-max" type="number" step="any" inputmode="decimal"
                    prop:value=move || bound(view_state.get().max_score) on:change=on_max />
            </div>
            <div class="field wide">
                <label for="samples-search">"Input contains"</label>
                <input id="samples-search" type="search" placeholder="e.g. apples"
                    prop:value=move || view_state.get().search.unwrap_or_default()
                    on:change=on_search />
            </div>
        </form>
    }
}

/// One page of samples: how many match, the table and the pager.
fn page_view(run_id: &str, page: SamplePage, total: i64, view_state: Memo<RunView>) -> AnyView {
    let view = view_state.get_untracked();
    let matched = page.total_count;
    let summary = if view.is_filtered() {
        format!("{matched} of {total} samples match")
    } else {
        format!("{total} samples")
    };
    let next = page
        .page_info
        .end_cursor
        .filter(|_| page.page_info.has_next_page)
        .map(|cursor| {
            let mut next = view.clone();
            next.after = Some(cursor);
            next.href(run_id)
        });
    let first = view.after.is_some().then(|| {
        let mut first = view.clone();
        first.after = None;
        view! { <a class="button" href=first.href(run_id)>"First page"</a> }
    });
    if page.nodes.is_empty() {
        return view! {
            <p class="muted" data-test="samples-total">{summary}</p>
            <Empty title="No sample matches">
                <p>"Widen the filters above to see more of this run's samples."</p>
            </Empty>
        }
        .into_any();
    }
    view! {
        <p class="muted" data-test="samples-total">{summary}</p>
        <p class="small">"Inputs show their end, where a few-shot prompt asks the item's own \
            question; “Show all” opens a sample in full."</p>
        <SampleTable samples=page.nodes />
        <p class="pager">{first}<Pager href=next /></p>
    }
    .into_any()
}

/// The samples table; `open` is the sample shown in full, if any.
#[component]
fn SampleTable(samples: Vec<Sample>) -> impl IntoView {
    let open = RwSignal::new(None::<i64>);
    let rows = samples
        .into_iter()
        .map(|sample| sample_rows(sample, open))
        .collect_view();
    view! {
        <DataTable class="samples" label="Samples of this run" heads=SAMPLE_HEADS>
            {rows}
        </DataTable>
    }
}

/// Writes `text` cut by `cut` to `limit` characters; a dash when empty.
fn text_or_dash(text: Option<&str>, cut: fn(&str, usize) -> String, limit: usize) -> String {
    match text.map(|t| cut(t, limit)) {
        Some(text) if !text.is_empty() => text,
        _ => "—".into(),
    }
}

/// A sample's row, and below it, when open, the row with its full texts.
fn sample_rows(sample: Sample, open: RwSignal<Option<i64>>) -> impl IntoView {
    let number = sample.sample_no;
    let is_open = move || open.get() == Some(number);
    let toggle = move |_| {
        open.update(|o| {
            *o = if *o == Some(number) {
                None
            } else {
                Some(number)
            }
        })
    };
    let score = format::num(Num::new(sample.score, Kind::from(&sample.score_kind)));
    let doc = sample.doc_id.map(|d| format!("doc {d}"));
    let input = text_or_dash(
        sample.input.as_deref(),
        format::prompt_excerpt,
        INPUT_EXCERPT,
    );
    let target = text_or_dash(sample.target.as_deref(), format::excerpt, OUTPUT_EXCERPT);
    let output = text_or_dash(sample.output.as_deref(), format::excerpt, OUTPUT_EXCERPT);
    let details_id = format!("sample-{number}-full");
    let full = sample.clone();
    view! {
        <tr class:open=is_open>
            <td class="num">{number}<div class="small">{doc}</div></td>
            <td class="text">{input}</td>
            <td class="text">{target}</td>
            <td class="text">{output}</td>
            <td class="num value">{score}</td>
            <td class="verdict" class:good=sample.correct == Some(true)
                class:bad=sample.correct == Some(false)>{format::verdict(sample.correct)}</td>
            <td>
                <button type="button" class="button small" on:click=toggle
                    aria-expanded=move || is_open().to_string() aria-controls=details_id.clone()>
                    {move || if is_open() { "Hide" } else { "Show all" }}
                </button>
            </td>
        </tr>
        <Show when=is_open>
            <tr class="sample-full" id=details_id.clone()>
                <td colspan="7"><SampleDetails sample=full.clone() /></td>
            </tr>
        </Show>
    }
}

/// Every field of one sample, uncut.
#[component]
fn SampleDetails(sample: Sample) -> impl IntoView {
    let text = |text: Option<String>| text.unwrap_or_else(|| "—".into());
    let scores = serde_json::to_string_pretty(&sample.scores).unwrap_or_default();
    view! {
        <dl class="sample-text">
            <dt>"Input"</dt><dd><pre>{text(sample.input)}</pre></dd>
            <dt>"Target"</dt><dd><pre>{text(sample.target)}</pre></dd>
            <dt>"Response"</dt><dd><pre>{text(sample.output)}</pre></dd>
            <dt>"Scores"</dt><dd><pre>{scores}</pre></dd>
            <dt>"Filter"</dt><dd>{sample.filter}</dd>
            <dt>"Item hash"</dt><dd class="mono break">{text(sample.item_sha256)}</dd>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_view_becomes_the_api_filter() {
        let view = RunView {
            verdict: Verdict::Correct,
            min_score: Some(0.5),
            search: Some("apples".into()),
            after: Some("cursor".into()),
            ..RunView::default()
        };
        let filter = filter_of(&view);
        assert_eq!(
            filter,
            SampleFilter {
                correct: Some(true),
                min_score: Some(0.5),
                max_score: None,
                search: Some("apples".into()),
            }
        );
        assert_eq!(filter_of(&RunView::default()), SampleFilter::default());
    }

    #[test]
    fn empty_texts_show_a_dash() {
        assert_eq!(text_or_dash(None, format::excerpt, 5), "—");
        assert_eq!(text_or_dash(Some(" \n"), format::excerpt, 5), "—");
        assert_eq!(text_or_dash(Some("a\nb"), format::excerpt, 5), "a b");
    }
}
