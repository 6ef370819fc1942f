//! The items tab: one version's items, fifty to a page, in file order.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::json_table;
use crate::api;
use crate::components::{Empty, Loading, Pager, error_fallback};
use crate::format;
use crate::url_state::DatasetView;

/// The items of the version the URL names (else `default`).
#[component]
pub fn ItemsTab(
    dataset: String,
    numbers: Vec<i64>,
    default: Option<i64>,
    view_state: Memo<DatasetView>,
) -> impl IntoView {
    let Some(default) = default else {
        return view! {
            <Empty title="No items yet">
                <p>"This dataset has no versions; its items arrive with the first one."</p>
            </Empty>
        }
        .into_any();
    };
    let number = Memo::new(move |_| view_state.get().version.unwrap_or(default));
    let items = {
        let dataset = dataset.clone();
        LocalResource::new(move || {
            let after = view_state.get().after;
            api::dataset::items(dataset.clone(), number.get(), after)
        })
    };
    let navigate = use_navigate();
    let choose = {
        let dataset = dataset.clone();
        move |ev: leptos::ev::Event| {
            let mut next = view_state.get_untracked();
            next.version = event_target_value(&ev).parse().ok();
            next.after = None;
            navigate(&next.href(&dataset), Default::default());
        }
    };
    let options = numbers
        .into_iter()
        .map(|n| {
            let selected = move || number.get() == n;
            view! { <option value=n.to_string() selected=selected>{format!("v{n}")}</option> }
        })
        .collect_view();
    view! {
        <form class="controls inline" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="items-version">"Version"</label>
                <select id="items-version" on:change=choose>{options}</select>
            </div>
        </form>
        <Suspense fallback=Loading>
            <ErrorBoundary fallback=error_fallback>
                {move || {
                    let dataset = dataset.clone();
                    Suspend::new(async move {
                        items.await.map(|page| match page {
                            Some(page) => page_view(&dataset, page, view_state),
                            None => view! {
                                <Empty title="Version not found">
                                    <p>{format!("This dataset has no version {}.",
                                        number.get_untracked())}</p>
                                </Empty>
                            }
                            .into_any(),
                        })
                    })
                }}
            </ErrorBoundary>
        </Suspense>
    }
    .into_any()
}

fn page_view(
    dataset: &str,
    page: api::dataset::ItemPage,
    view_state: Memo<DatasetView>,
) -> AnyView {
    let next = page
        .page_info
        .end_cursor
        .filter(|_| page.page_info.has_next_page)
        .map(|cursor| {
            let mut next = view_state.get_untracked();
            next.after = Some(cursor);
            next.href(dataset)
        });
    let rows = page
        .nodes
        .into_iter()
        .map(|item| (vec![item.position.to_string(), item.key], item.content))
        .collect();
    view! {
        <p class="muted">{format::count(page.total_count, "item", "items")}</p>
        {json_table("Items", &["#", "Key"], rows)}
        <Pager href=next />
    }
    .into_any()
}
