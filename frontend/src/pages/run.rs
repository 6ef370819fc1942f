//! A run's page: its provenance (source file, hashes, harness, full config,
//! the dataset version it is pinned to), every result it recorded, its
//! history, the data-quality rules' warnings about it, and its samples.

mod compare_with;
mod samples;
mod warnings;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{self, Direction, run_page::RunPageRun};
use crate::components::{AuditTable, Empty, Fact, Loading, error_fallback};
use crate::format::{self, Kind, Num};
use crate::url_state::samples::{RunTab, RunView};
use crate::url_state::{
    DatasetTab, DatasetView, dataset_href, leaderboard_href, model_href, task_href,
};

/// The run page, at `/runs/<id>?tab=…` (the samples tab's filters too).
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let query = use_query_map();
    let view_state = Memo::new(move |_| {
        let query = query.read();
        RunView::from_query(|key| query.get(key))
    });
    let run = LocalResource::new(move || api::run_page(id.get()));
    view! {
        <section class="page">
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        run.await.map(|run| match run {
                            Some(run) => view! { <RunBody run view_state /> }.into_any(),
                            None => view! {
                                <Empty title="Run not found">
                                    <p>"No run has the id "<code>{id.get()}</code>"."</p>
                                </Empty>
                            }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// The run's heading, its warnings, and the tab the URL names.
#[component]
fn RunBody(run: RunPageRun, view_state: Memo<RunView>) -> impl IntoView {
    let model = run
        .model
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let task = run
        .task
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let version = run.task.as_ref().and_then(|t| t.version.clone());
    let truncated = run.truncated.then(|| {
        view! {
            <p class="notice warn">"Cut short by --limit: this run is never ranked."</p>
        }
    });
    let found: Vec<(String, String)> = run
        .quality_warnings
        .iter()
        .map(|w| (w.rule.clone(), w.detail.clone()))
        .collect();
    let total = run.sample_count.total_count;
    // Only a change of tab re-renders the tab; the samples' filters and
    // cursor are read inside it.
    let tab = Memo::new(move |_| view_state.get().tab);
    let tabs = RunTab::ALL
        .into_iter()
        .map(|each| {
            let id = run.id.clone();
            let href = move || view_state.get().with_tab(each).href(&id);
            let current = move || (tab.get() == each).then_some("page");
            let label = match each {
                RunTab::Overview => "Overview".to_string(),
                RunTab::Samples => format!("Samples ({total})"),
            };
            view! { <a href=href aria-current=current data-test=each.key()>{label}</a> }
        })
        .collect_view();
    let tab_view = {
        let (run, task) = (run.clone(), task.clone());
        move || match tab.get() {
            RunTab::Overview => view! { <Overview run=run.clone() task=task.clone() /> }.into_any(),
            RunTab::Samples => view! {
                <samples::SamplesTab run_id=run.id.clone() task=task.clone() total view_state />
            }
            .into_any(),
        }
    };
    view! {
        <header class="page-head">
            <span class="eyebrow">"Run"</span>
            <h1 class="mono" data-test="run-id">{run.id.clone()}</h1>
            <p class="lede">
                <a href=model_href(&model)>{model.clone()}</a>
                " on "
                <a href=task_href(&task)>{task.clone()}</a>
                {format!(" · {} · {}", format::version(version.as_deref()),
                    format::n_shot(run.n_shot))}
            </p>
            {truncated}
            <warnings::QualityWarnings found />
        </header>
        <nav class="tabs" aria-label="Run views">{tabs}</nav>
        {tab_view}
    }
}

fn or_dash(text: Option<String>) -> String {
    text.filter(|t| !t.is_empty()).unwrap_or_else(|| "—".into())
}

/// The overview tab: results, provenance and history.
#[component]
fn Overview(run: RunPageRun, task: String) -> impl IntoView {
    let groups = run
        .task
        .as_ref()
        .map(|t| t.groups.join(", "))
        .unwrap_or_default();
    let subtasks = run.task.as_ref().map(|t| t.subtasks.len()).unwrap_or(0);
    let config = serde_json::to_string_pretty(&run.config).unwrap_or_default();
    let task_config_hash = run.task.as_ref().and_then(|t| t.config_hash.clone());
    let samples = match (run.samples_effective, run.samples_original) {
        (Some(used), Some(all)) => format!("{used} of {all}"),
        (Some(used), None) => used.to_string(),
        _ => "—".into(),
    };
    let results = results_table(&run, &task);
    let pinned = pinned_version(&run);
    let history = history(&run);
    let started = or_dash(run.started_at.as_deref().map(format::date_time));
    let finished = or_dash(run.finished_at.as_deref().map(format::date_time));
    view! {
        <section class="panel" aria-labelledby="results-title">
            <h2 id="results-title">"Results"</h2>
            {results}
        </section>
        <section class="panel" aria-labelledby="provenance-title">
            <h2 id="provenance-title">"Provenance"</h2>
            <dl class="facts wide">
                <Fact term="Source file">
                    <span class="mono break">{run.source.path.clone()}</span>
                </Fact>
                <Fact term="Source SHA-256">
                    <span class="mono break">{run.source.sha256.clone()}</span>
                </Fact>
                <Fact term="Config hash">
                    <span class="mono break">{run.config_hash.clone()}</span>
                </Fact>
                <Fact term="Task config hash">
                    <span class="mono break">{or_dash(task_config_hash)}</span>
                </Fact>
                <Fact term="Harness">{run.harness.clone()}</Fact>
                <Fact term="Harness version">{or_dash(run.harness_version.clone())}</Fact>
                <Fact term="Harness commit">
                    <span class="mono">{or_dash(run.harness_commit.clone())}</span>
                </Fact>
                <Fact term="Revision">{or_dash(run.revision.clone())}</Fact>
                <Fact term="Started">{started}</Fact>
                <Fact term="Finished">{finished}</Fact>
                <Fact term="Ingested">{format::date_time(&run.ingested_at)}</Fact>
                <Fact term="Samples">{samples}</Fact>
                <Fact term="Sample limit">
                    {or_dash(run.sample_limit.map(format::setting))}
                </Fact>
                <Fact term="Groups">{or_dash(Some(groups))}</Fact>
                <Fact term="Subtasks">{subtasks}</Fact>
                <Fact term="Tags">{or_dash(Some(run.tags.join(", ")))}</Fact>
                <Fact term="Projects">{or_dash(Some(run.projects.join(", ")))}</Fact>
                <Fact term="Dataset version">{pinned}</Fact>
            </dl>
            <details open>
                <summary>"Full configuration as recorded"</summary>
                <pre class="config-json" tabindex="0">{config}</pre>
            </details>
        </section>
        <section class="panel" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {history}
        </section>
    }
}

/// The dataset version the run is pinned to, linking to its items.
fn pinned_version(run: &RunPageRun) -> AnyView {
    let Some(pinned) = run.dataset_version.as_ref() else {
        return view! { <span data-test="pinned-version">"— (not pinned)"</span> }.into_any();
    };
    let items = DatasetView {
        tab: DatasetTab::Items,
        version: Some(pinned.number),
        after: None,
    };
    view! {
        <span data-test="pinned-version">
            <a href=dataset_href(&pinned.dataset)>{pinned.dataset.clone()}</a>" "
            <a href=items.href(&pinned.dataset)>{format!("v{}", pinned.number)}</a>
        </span>
    }
    .into_any()
}

fn history(run: &RunPageRun) -> AnyView {
    let events = api::run_history(run);
    if events.is_empty() {
        return view! { <p class="muted">"Nothing has changed since this run was stored."</p> }
            .into_any();
    }
    view! { <AuditTable events label="Run history" /> }.into_any()
}

fn results_table(run: &RunPageRun, task: &str) -> AnyView {
    if run.results.is_empty() {
        return view! { <p class="muted">"This run recorded no results."</p> }.into_any();
    }
    let rows = run
        .results
        .iter()
        .map(|result| {
            let metric = result
                .metric
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default();
            let direction = result
                .metric
                .as_ref()
                .map(|m| Direction::from(&m.direction))
                .unwrap_or(Direction::Unknown);
            let value = Num::new(result.value, Kind::from(&result.value_kind));
            let stderr = Num::new(result.stderr, Kind::from(&result.stderr_kind));
            view! {
                <tr>
                    <td><a href=leaderboard_href(task, &metric)>{metric.clone()}</a></td>
                    <td>{direction.phrase()}</td>
                    <td>{result.filter.clone()}</td>
                    <td class="num value">{format::num(value)}</td>
                    <td class="num">{format::num(stderr)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data" aria-label="Results of this run">
                <thead><tr>
                    <th scope="col">"Metric"</th><th scope="col">"Direction"</th>
                    <th scope="col">"Filter"</th><th scope="col" class="num">"Value"</th>
                    <th scope="col" class="num">"Stderr"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
