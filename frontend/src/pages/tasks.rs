//! The task list: each task name once, with its versions, n-shot settings
//! and metrics.

use leptos::prelude::*;

use crate::api;
use crate::components::{
    Empty, Loading, Pager, SearchBox, error_fallback, list_href, use_list_query,
};
use crate::format;
use crate::url_state::{leaderboard_href, task_href};

/// The task list, at `/tasks?search=…&after=…`.
#[component]
pub fn TasksPage() -> impl IntoView {
    let (search, after) = use_list_query();
    let tasks = LocalResource::new(move || api::task_list(search.get(), after.get()));
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Tasks"</h1>
                <p class="lede">"Every task name, across its versions and configurations."</p>
            </header>
            <SearchBox path="/tasks" id="task-search" placeholder="e.g. mmlu" search />
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        tasks.await.map(|page| {
                            if page.nodes.is_empty() {
                                return view! {
                                    <Empty title="No tasks match">
                                        <p>"No task name contains that text."</p>
                                    </Empty>
                                }.into_any();
                            }
                            let next = page.page_info.end_cursor.clone()
                                .filter(|_| page.page_info.has_next_page)
                                .map(|cursor| list_href(
                                    "/tasks", search.get_untracked().as_ref(), Some(&cursor)));
                            let rows = page.nodes.iter().map(|t| {
                                let versions: Vec<String> = t.versions.iter()
                                    .map(|v| format::version(v.as_deref())).collect();
                                let shots: Vec<String> = t.n_shots.iter()
                                    .map(|n| format::n_shot(*n)).collect();
                                let metrics = t.metrics.iter().map(|m| view! {
                                    <a class="chip" href=leaderboard_href(&t.name, &m.name)>
                                        {m.name.clone()}</a>
                                }).collect_view();
                                view! {
                                    <tr>
                                        <td><a href=task_href(&t.name)>{t.name.clone()}</a></td>
                                        <td>{versions.join(", ")}</td>
                                        <td>{shots.join(", ")}</td>
                                        <td>{metrics}</td>
                                        <td class="num">{t.run_count}</td>
                                    </tr>
                                }
                            }).collect_view();
                            let total = format::count(page.total_count, "task", "tasks");
                            view! {
                                <p class="muted">{total}</p>
                                <div class="table-wrap">
                                    <table class="data" aria-label="Tasks">
                                        <thead><tr>
                                            <th scope="col">"Task"</th>
                                            <th scope="col">"Versions"</th>
                                            <th scope="col">"N-shot"</th>
                                            <th scope="col">"Metrics (leaderboards)"</th>
                                            <th scope="col" class="num">"Runs"</th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <Pager href=next />
                            }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}
