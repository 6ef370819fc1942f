//! A task's page: its metrics (each a leaderboard), versions, group and
//! subtask tree, and the models evaluated on it.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::{self, Direction, task_page::ResponseData};
use crate::components::{Empty, Fact, Loading, error_fallback};
use crate::format;
use crate::url_state::{decode, encode, leaderboard_href, model_href, task_href};

/// The task page, at `/tasks/<name>`.
#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| decode(&params.read().get("name").unwrap_or_default()));
    let task = LocalResource::new(move || api::task_page(name.get()));
    view! {
        <section class="page">
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        task.await.map(|data| {
                            if data.task_summary.is_none() {
                                return view! {
                                    <Empty title="Task not found">
                                        <p>"No task is named "<code>{name.get()}</code>". See the "
                                            <a href="/tasks">"task list"</a>"."</p>
                                    </Empty>
                                }.into_any();
                            }
                            view! { <Overview data /> }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(data: ResponseData) -> impl IntoView {
    let Some(summary) = data.task_summary else {
        return ().into_any();
    };
    let groups: BTreeSet<String> = data
        .tasks
        .nodes
        .iter()
        .flat_map(|t| t.groups.clone())
        .collect();
    let subtasks: BTreeSet<String> = data
        .tasks
        .nodes
        .iter()
        .flat_map(|t| t.subtasks.clone())
        .collect();
    let versions: Vec<String> = summary
        .versions
        .iter()
        .map(|v| format::version(v.as_deref()))
        .collect();
    let shots: Vec<String> = summary.n_shots.iter().map(|n| format::n_shot(*n)).collect();
    let name = summary.name.clone();
    let metrics = summary
        .metrics
        .iter()
        .map(|m| {
            let direction = Direction::from(&m.direction);
            view! {
                <li><a class="chip big" href=leaderboard_href(&name, &m.name)>
                    {m.name.clone()}" "{direction.arrow()}</a>
                    <span class="muted">" "{direction.phrase()}</span></li>
            }
        })
        .collect_view();
    let tree = |names: &BTreeSet<String>| {
        names
            .iter()
            .map(|n| view! { <li><a href=task_href(n)>{n.clone()}</a></li> })
            .collect_view()
    };
    let group_list = tree(&groups);
    let subtask_list = tree(&subtasks);
    let models = summary
        .models
        .iter()
        .map(|m| view! { <li><a href=model_href(&m.name)>{m.name.clone()}</a></li> })
        .collect_view();
    let runs_href = format!("/runs?task={}", encode(&summary.name));
    let model_count = summary.models.len();
    view! {
        <header class="page-head">
            <span class="eyebrow">"Task"</span>
            <h1>{summary.name.clone()}</h1>
            <dl class="facts">
                <Fact term="Versions">{versions.join(", ")}</Fact>
                <Fact term="N-shot">{shots.join(", ")}</Fact>
                <Fact term="Runs">{summary.run_count}</Fact>
                <Fact term="Models">{model_count}</Fact>
            </dl>
            <p class="actions"><a class="button" href=runs_href>"All runs of this task"</a></p>
        </header>
        <section class="panel" aria-labelledby="metrics-title">
            <h2 id="metrics-title">"Metrics — open a leaderboard"</h2>
            <ul class="chips">{metrics}</ul>
        </section>
        <section class="panel" aria-labelledby="tree-title">
            <h2 id="tree-title">"Group and subtasks"</h2>
            <div class="tree">
                <div>
                    <h3>"Belongs to"</h3>
                    {if groups.is_empty() { view! { <p class="muted">"No group."</p> }.into_any() }
                     else { view! { <ul>{group_list}</ul> }.into_any() }}
                </div>
                <div>
                    <h3>{format!("Subtasks ({})", subtasks.len())}</h3>
                    {if subtasks.is_empty() {
                        view! { <p class="muted">"Not a group."</p> }.into_any()
                    } else { view! { <ul class="columns">{subtask_list}</ul> }.into_any() }}
                </div>
            </div>
        </section>
        <section class="panel" aria-labelledby="models-title">
            <h2 id="models-title">{format!("Models evaluated ({model_count})")}</h2>
            <ul class="columns">{models}</ul>
        </section>
    }
    .into_any()
}
