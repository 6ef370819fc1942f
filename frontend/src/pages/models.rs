//! The model list, searchable by name, fifty to a page.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::components::{Empty, Loading, error_fallback};
use crate::url_state::{model_href, query_string};

/// The model list, at `/models?search=…&after=…`.
#[component]
pub fn ModelsPage() -> impl IntoView {
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("search").filter(|s| !s.is_empty()));
    let after = Memo::new(move |_| query.read().get("after"));
    let models = LocalResource::new(move || api::model_list(search.get(), after.get()));
    let navigate = use_navigate();
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev).trim().to_string();
        let text = Some(text).filter(|t| !t.is_empty());
        navigate(
            &format!("/models?{}", query_string(&[("search", text.as_ref())])),
            Default::default(),
        );
    };
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Models"</h1>
                <p class="lede">"Every evaluated model under its canonical name."</p>
            </header>
            <form class="controls inline" on:submit=|ev| ev.prevent_default() role="search">
                <div class="field wide">
                    <label for="model-search">"Name contains"</label>
                    <input id="model-search" type="search" placeholder="e.g. pythia"
                        prop:value=move || search.get().unwrap_or_default() on:change=on_search />
                </div>
            </form>
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        models.await.map(|page| {
                            if page.nodes.is_empty() {
                                return view! {
                                    <Empty title="No models match">
                                        <p>"No model name contains that text."</p>
                                    </Empty>
                                }.into_any();
                            }
                            let next = page.page_info.end_cursor.clone()
                                .filter(|_| page.page_info.has_next_page);
                            let next = next.map(|cursor| {
                                let href = format!("/models?{}", query_string(&[
                                    ("search", search.get_untracked().as_ref()),
                                    ("after", Some(&cursor)),
                                ]));
                                view! { <a class="button" href=href>"Next page"</a> }
                            });
                            let rows = page.nodes.iter().map(|m| {
                                let revisions = m.revisions.len();
                                let aliases = m.aliases.iter().filter(|a| **a != m.name).count();
                                view! {
                                    <tr>
                                        <td><a href=model_href(&m.name)>{m.name.clone()}</a>
                                            {m.is_local_path.then(|| view! {
                                                <span class="badge">"local path"</span> })}</td>
                                        <td class="num">{revisions}</td>
                                        <td class="num">{aliases}</td>
                                        <td>{m.tags.join(", ")}</td>
                                    </tr>
                                }
                            }).collect_view();
                            view! {
                                <p class="muted">{format!("{} models", page.total_count)}</p>
                                <div class="table-wrap">
                                    <table class="data" aria-label="Models">
                                        <thead><tr>
                                            <th scope="col">"Model"</th>
                                            <th scope="col" class="num">"Revisions"</th>
                                            <th scope="col" class="num">"Other spellings"</th>
                                            <th scope="col">"Tags"</th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <p class="pager">{next}</p>
                            }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}
