//! Pieces every page uses: loading, error and empty states, sortable table
//! headers and small labelled values.

use leptos::prelude::*;

use crate::sort::{Order, SortBy};

/// Shown while a page's data is on its way.
#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="state loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            "Loading…"
        </div>
    }
}

/// Shown when a list or look-up has nothing to show.
#[component]
pub fn Empty(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <div class="state empty" role="status">
            <h2>{title}</h2>
            <div>{children()}</div>
        </div>
    }
}

/// Shows the errors an `ErrorBoundary` caught: each with its message and code.
pub fn error_fallback(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let list = move || {
        errors
            .read()
            .iter()
            .map(|(_, error)| view! { <li>{error.to_string()}</li> })
            .collect_view()
    };
    view! {
        <div class="state error" role="alert">
            <h2>"The data could not be loaded"</h2>
            <ul>{list}</ul>
            <p class="hint">"Reload the page to try again."</p>
        </div>
    }
}

/// A column header that sorts its table when activated (by mouse or keyboard).
#[component]
pub fn SortHeader(
    #[prop(into)] label: String,
    column: &'static str,
    natural: Order,
    sort: Signal<Option<SortBy>>,
    on_sort: Callback<SortBy>,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let active = move || sort.get().filter(|s| s.column == column);
    let aria = move || active().map(|s| s.order.aria()).unwrap_or("none");
    let marker = move || match active().map(|s| s.order) {
        Some(Order::Ascending) => "▲",
        Some(Order::Descending) => "▼",
        None => "↕",
    };
    let click = move |_| on_sort.run(SortBy::clicked(sort.get().as_ref(), column, natural));
    view! {
        <th scope="col" aria-sort=aria class:num=numeric>
            <button type="button" class="sort" on:click=click>
                {label.clone()}
                <span class="marker" aria-hidden="true">{marker}</span>
            </button>
        </th>
    }
}

/// A term and its value in a definition list.
#[component]
pub fn Fact(#[prop(into)] term: String, children: Children) -> impl IntoView {
    view! {
        <div class="fact">
            <dt>{term}</dt>
            <dd>{children()}</dd>
        </div>
    }
}
