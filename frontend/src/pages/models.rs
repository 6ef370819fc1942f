//! The model list, searchable by name, fifty to a page.

use leptos::prelude::*;

use crate::api;
use crate::components::{
    Empty, Loading, Pager, SearchBox, error_fallback, list_href, use_list_query,
};
use crate::format;
use crate::url_state::model_href;

/// The model list, at `/models?search=…&after=…`.
#[component]
pub fn ModelsPage() -> impl IntoView {
    let (search, after) = use_list_query();
    let models = LocalResource::new(move || api::model_list(search.get(), after.get()));
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Models"</h1>
                <p class="lede">"Every evaluated model under its canonical name."</p>
            </header>
            <SearchBox path="/models" id="model-search" placeholder="e.g. pythia" search />
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
                            let next = next.map(|cursor| list_href(
                                "/models", search.get_untracked().as_ref(), Some(&cursor)));
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
                            let total = format::count(page.total_count, "model", "models");
                            view! {
                                <p class="muted">{total}</p>
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
                                <Pager href=next />
                            }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}
