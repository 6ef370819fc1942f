//! The run list, filtered by model, task, tag, project and time, newest first.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, run_list::RunsWhere};
use crate::components::{Empty, Loading, Pager, error_fallback};
use crate::format;
use crate::url_state::{day_start, is_day, model_href, query_string, run_href, task_href};

/// The filters of the run list, as the URL holds them.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    model: Option<String>,
    task: Option<String>,
    tag: Option<String>,
    project: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
}

impl Filters {
    const KEYS: [&'static str; 6] = ["model", "task", "tag", "project", "from", "to"];

    fn get(&self, key: &str) -> Option<&String> {
        match key {
            "model" => self.model.as_ref(),
            "task" => self.task.as_ref(),
            "tag" => self.tag.as_ref(),
            "project" => self.project.as_ref(),
            "from" => self.from.as_ref(),
            "to" => self.to.as_ref(),
            _ => self.after.as_ref(),
        }
    }

    fn set(&mut self, key: &str, value: Option<String>) {
        let slot = match key {
            "model" => &mut self.model,
            "task" => &mut self.task,
            "tag" => &mut self.tag,
            "project" => &mut self.project,
            "from" => &mut self.from,
            "to" => &mut self.to,
            _ => &mut self.after,
        };
        *slot = value;
    }

    fn href(&self) -> String {
        let mut pairs: Vec<(&str, Option<&String>)> =
            Self::KEYS.iter().map(|key| (*key, self.get(key))).collect();
        pairs.push(("after", self.after.as_ref()));
        format!("/runs?{}", query_string(&pairs))
    }

    fn to_where(&self) -> RunsWhere {
        RunsWhere {
            model: self.model.clone(),
            task: self.task.clone(),
            tag: self.tag.clone(),
            project: self.project.clone(),
            from: self.from.as_deref().and_then(day_start),
            to: self.to.as_deref().and_then(day_start),
            model_tag: None,
            and: None,
            or: None,
        }
    }
}

/// The run list, at `/runs?model=…&task=…&tag=…&project=…&from=…&to=…`.
#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        let text = |key: &str| query.get(key).filter(|v| !v.trim().is_empty());
        Filters {
            model: text("model"),
            task: text("task"),
            tag: text("tag"),
            project: text("project"),
            from: text("from").filter(|d| is_day(d)),
            to: text("to").filter(|d| is_day(d)),
            after: text("after"),
        }
    });
    let runs = LocalResource::new(move || {
        let filters = filters.get();
        api::run_list(filters.to_where(), filters.after.clone())
    });
    let navigate = use_navigate();
    let change = move |key: &'static str, value: String| {
        let mut next = filters.get_untracked();
        next.set(
            key,
            Some(value.trim().to_string()).filter(|v| !v.is_empty()),
        );
        next.after = None;
        navigate(&next.href(), Default::default());
    };
    let field = move |key: &'static str, label: &'static str, kind: &'static str| {
        let change = change.clone();
        view! {
            <div class="field">
                <label for=format!("runs-{key}")>{label}</label>
                <input id=format!("runs-{key}") type=kind
                    prop:value=move || filters.get().get(key).cloned().unwrap_or_default()
                    on:change=move |ev| change(key, event_target_value(&ev)) />
            </div>
        }
    };
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Runs"</h1>
                <p class="lede">"Every stored evaluation, newest first."</p>
            </header>
            <form class="controls" on:submit=|ev| ev.prevent_default() aria-label="Run filters">
                {field("model", "Model (any spelling)", "search")}
                {field("task", "Task", "search")}
                {field("tag", "Tag", "search")}
                {field("project", "Project", "search")}
                {field("from", "From", "date")}
                {field("to", "Before", "date")}
            </form>
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        runs.await.map(|page| {
                            if page.nodes.is_empty() {
                                return view! {
                                    <Empty title="No runs match">
                                        <p>"No stored run matches these filters."</p>
                                    </Empty>
                                }.into_any();
                            }
                            let next = page.page_info.end_cursor.clone()
                                .filter(|_| page.page_info.has_next_page)
                                .map(|cursor| {
                                    let mut next = filters.get_untracked();
                                    next.after = Some(cursor);
                                    next.href()
                                });
                            let rows = page.nodes.iter().map(|run| {
                                let model = run.model.as_ref().map(|m| m.name.clone())
                                    .unwrap_or_default();
                                let task = run.task.as_ref().map(|t| t.name.clone())
                                    .unwrap_or_default();
                                let version = run.task.as_ref().and_then(|t| t.version.clone());
                                view! {
                                    <tr>
                                        <td><a class="mono" href=run_href(&run.id)>
                                            {run.id.chars().take(8).collect::<String>()}</a></td>
                                        <td><a href=model_href(&model)>{model.clone()}</a>
                                            {run.revision.clone().map(|r| view! {
                                                <span class="rev">{r}</span> })}</td>
                                        <td><a href=task_href(&task)>{task.clone()}</a></td>
                                        <td>{format::version(version.as_deref())}</td>
                                        <td>{format::n_shot(run.n_shot)}</td>
                                        <td>{format::harness(&run.harness,
                                            run.harness_version.as_deref())}</td>
                                        <td>{format::date_time(&run.effective_at)}
                                            {run.truncated.then(|| view! {
                                                <span class="badge warn">"--limit"</span> })}</td>
                                    </tr>
                                }
                            }).collect_view();
                            let total = format::count(page.total_count, "run", "runs");
                            view! {
                                <p class="muted">{total}</p>
                                <div class="table-wrap">
                                    <table class="data" aria-label="Runs">
                                        <thead><tr>
                                            <th scope="col">"Run"</th><th scope="col">"Model"</th>
                                            <th scope="col">"Task"</th>
                                            <th scope="col">"Version"</th>
                                            <th scope="col">"N-shot"</th>
                                            <th scope="col">"Harness"</th>
                                            <th scope="col">"When"</th>
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
