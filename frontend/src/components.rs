//! Pieces every page uses: loading, error and empty states, sortable table
//! headers and plain data tables, small labelled values, the search box and
//! pager of the list pages, and the table of recorded changes (events).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{ApiError, AuditEntry, JSON};
use crate::format;
use crate::sort::{Order, SortBy};
use crate::url_state::query_string;

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
    let caught = errors.clone();
    let list = move || {
        errors
            .read()
            .iter()
            .map(|(_, error)| view! { <li>{error.to_string()}</li> })
            .collect_view()
    };
    // A reload repeats the same request: it helps only when the network or
    // the server failed, not when the address asks for something wrong.
    let hint = move || {
        let transient = caught.read().iter().any(|(_, error)| {
            error
                .downcast_ref::<ApiError>()
                .is_none_or(ApiError::is_transient)
        });
        if transient {
            "Reload the page to try again."
        } else {
            "Reloading will not help: check the address, or start again from the menu above."
        }
    };
    view! {
        <div class="state error" role="alert">
            <h2>"The data could not be loaded"</h2>
            <ul>{list}</ul>
            <p class="hint">{hint}</p>
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

/// A column head of a `DataTable`: its label, and whether the column holds
/// numbers (which align right).
pub type Head = (&'static str, bool);

/// A data table in its scrolling frame: a row of column heads over the
/// rows given as children.
#[component]
pub fn DataTable(
    class: &'static str,
    label: &'static str,
    heads: &'static [Head],
    children: Children,
) -> impl IntoView {
    let heads = heads
        .iter()
        .map(|(text, numeric)| view! { <th scope="col" class:num=*numeric>{*text}</th> })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class=format!("data {class}") aria-label=label>
                <thead><tr>{heads}</tr></thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
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

/// Returns the URL of a list page at `path` with its search text and cursor.
pub fn list_href(path: &str, search: Option<&String>, after: Option<&String>) -> String {
    format!(
        "{path}?{}",
        query_string(&[("search", search), ("after", after)])
    )
}

/// Reads a list page's `search` and `after` parameters from the URL; an
/// empty search counts as none.
pub fn use_list_query() -> (Memo<Option<String>>, Memo<Option<String>>) {
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("search").filter(|s| !s.is_empty()));
    let after = Memo::new(move |_| query.read().get("after"));
    (search, after)
}

/// A list page's name search: a new text goes into the URL of `path` and
/// starts again from the first page.
#[component]
pub fn SearchBox(
    path: &'static str,
    id: &'static str,
    placeholder: &'static str,
    search: Memo<Option<String>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev).trim().to_string();
        let text = Some(text).filter(|t| !t.is_empty());
        navigate(&list_href(path, text.as_ref(), None), Default::default());
    };
    view! {
        <form class="controls inline" on:submit=|ev| ev.prevent_default() role="search">
            <div class="field wide">
                <label for=id>"Name contains"</label>
                <input id=id type="search" placeholder=placeholder
                    prop:value=move || search.get().unwrap_or_default() on:change=on_search />
            </div>
        </form>
    }
}

/// The link to a list's next page, or an empty pager on the last one.
#[component]
pub fn Pager(href: Option<String>) -> impl IntoView {
    let next = href.map(|href| view! { <a class="button" href=href>"Next page"</a> });
    view! { <p class="pager">{next}</p> }
}

/// A JSON value folded away under `label`, for values too big for a cell;
/// a dash when there is none.
#[component]
pub fn JsonDetails(label: &'static str, value: Option<JSON>) -> impl IntoView {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return view! { <span class="muted">"—"</span> }.into_any();
    };
    let summary = format::json_cell(&value, 40);
    let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
    view! {
        <details class="json">
            <summary><span class="sr-only">{label}": "</span>
                <code>{summary}</code></summary>
            <pre class="config-json" tabindex="0">{pretty}</pre>
        </details>
    }
    .into_any()
}

/// Recorded changes, one row each: when, who, what, and the state before
/// and after, folded.
#[component]
pub fn AuditTable(events: Vec<AuditEntry>, #[prop(into)] label: String) -> impl IntoView {
    let rows = events
        .into_iter()
        .map(|event| {
            view! {
                <tr>
                    <td class="when">{format::date_time(&event.occurred_at)}</td>
                    <td>{event.actor}</td>
                    <td><code>{event.action}</code></td>
                    <td class="muted">{event.entity_kind}" "
                        <code title=event.entity_id.clone()>
                            {format::abbreviate(&event.entity_id, 12)}</code></td>
                    <td><JsonDetails label="Before" value=event.before /></td>
                    <td><JsonDetails label="After" value=event.after /></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data" aria-label=label>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th><th scope="col">"Of"</th>
                    <th scope="col">"Before"</th><th scope="col">"After"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_links_keep_the_search_and_drop_empty_parameters() {
        let search = Some("pythia".to_string());
        let cursor = Some("abc".to_string());
        assert_eq!(
            list_href("/models", search.as_ref(), cursor.as_ref()),
            "/models?search=pythia&after=abc"
        );
        assert_eq!(list_href("/tasks", None, None), "/tasks?");
    }
}
