//! A dataset's page: its description, tags and key field, and three tabs
//! (versions, items, history) whose state is in the URL. Signed-in admins
//! also edit the dataset, upload new versions and move versions through
//! their states; everyone else sees the same page without the forms.

mod edit;
mod history;
mod items;
mod upload;
mod versions;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::dataset::{VersionState, dataset_page::DatasetPageDataset};
use crate::api::{self, JSON};
use crate::components::{Empty, Fact, Loading, error_fallback};
use crate::format;
use crate::session::use_session;
use crate::url_state::{DatasetTab, DatasetView, decode};

/// The dataset page, at `/datasets/<name>?tab=…&version=…&after=…`.
#[component]
pub fn DatasetPage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| decode(&params.read().get("name").unwrap_or_default()));
    let query = use_query_map();
    let view_state = Memo::new(move |_| {
        let query = query.read();
        DatasetView::from_query(|key| query.get(key))
    });
    let dataset = LocalResource::new(move || api::dataset::page(name.get()));
    // Lives outside the data's view, so it survives the refetch it reports.
    let notice = RwSignal::new(None::<String>);
    let refetch = Callback::new(move |()| dataset.refetch());
    let notice_view = move || {
        notice.get().map(|text| {
            view! { <p class="notice good" role="status" data-test="notice">{text}</p> }
        })
    };
    view! {
        <section class="page">
            {notice_view}
            <Transition fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        dataset.await.map(|dataset| match dataset {
                            Some(dataset) => view! {
                                <Overview dataset view_state notice refetch />
                            }.into_any(),
                            None => view! {
                                <Empty title="Dataset not found">
                                    <p>"No dataset is named "<code>{name.get()}</code>". See the "
                                        <a href="/datasets">"dataset list"</a>"."</p>
                                </Empty>
                            }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// Returns the newest published version among versions listed newest first.
fn latest_published(newest_first: &[(i64, VersionState)]) -> Option<i64> {
    let mut published = newest_first
        .iter()
        .filter(|(_, s)| *s == VersionState::Published);
    published.next().map(|(number, _)| *number)
}

/// The version whose items show when the URL names none: the latest
/// published one, else the newest.
fn default_version(latest_published: Option<i64>, newest_first: &[i64]) -> Option<i64> {
    latest_published.or_else(|| newest_first.first().copied())
}

#[component]
fn Overview(
    dataset: DatasetPageDataset,
    view_state: Memo<DatasetView>,
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let name = dataset.name.clone();
    let numbers: Vec<i64> = dataset.versions.iter().map(|v| v.number).collect();
    let states: Vec<(i64, VersionState)> = dataset
        .versions
        .iter()
        .map(|v| (v.number, VersionState::from(&v.state)))
        .collect();
    let latest = latest_published(&states);
    let default = default_version(latest, &numbers);
    let admin = {
        let dataset = dataset.clone();
        move || {
            session.is_admin().then(|| {
                let edit = edit::Current {
                    name: dataset.name.clone(),
                    description: dataset.description.clone(),
                    tags: dataset.tags.clone(),
                };
                view! {
                    <edit::EditDataset current=edit notice refetch />
                    <upload::UploadVersion dataset=dataset.name.clone() notice refetch />
                }
            })
        }
    };
    let tabs = DatasetTab::ALL
        .into_iter()
        .map(|tab| {
            let name = name.clone();
            let href = move || view_state.get().with_tab(tab).href(&name);
            let current = move || (view_state.get().tab == tab).then_some("page");
            view! { <a href=href aria-current=current>{tab.label()}</a> }
        })
        .collect_view();
    let versions = dataset.versions.clone();
    let tab_view = move || match view_state.get().tab {
        DatasetTab::Versions => view! {
            <versions::VersionsTable dataset=name.clone() versions=versions.clone()
                notice refetch />
        }
        .into_any(),
        DatasetTab::Items => view! {
            <items::ItemsTab dataset=name.clone() numbers=numbers.clone() default view_state />
        }
        .into_any(),
        DatasetTab::History => {
            view! { <history::HistoryTab dataset=name.clone() view_state /> }.into_any()
        }
    };
    view! {
        <header class="page-head">
            <span class="eyebrow">"Dataset"</span>
            <h1 data-test="dataset-name">{dataset.name.clone()}</h1>
            <p class="lede">{dataset.description.clone()}</p>
            <dl class="facts">
                <Fact term="Tags">{chips(&dataset.tags)}</Fact>
                <Fact term="Key field">
                    {dataset.key_field.clone().unwrap_or_else(|| "— (items by position)".into())}
                </Fact>
                <Fact term="Latest published">
                    {latest.map(|n| format!("v{n}")).unwrap_or_else(|| "none yet".into())}
                </Fact>
                <Fact term="Created">
                    {format!("{} by {}", format::date_time(&dataset.created_at),
                        dataset.created_by)}
                </Fact>
            </dl>
        </header>
        {admin}
        <nav class="tabs" aria-label="Dataset views">{tabs}</nav>
        {tab_view}
    }
}

fn chips(tags: &[String]) -> AnyView {
    if tags.is_empty() {
        return "—".into_any();
    }
    let chips = tags
        .iter()
        .map(|tag| view! { <span class="chip">{tag.clone()}</span> })
        .collect_view();
    chips.into_any()
}

/// A table of JSON objects: the `lead` columns, then one column per
/// top-level key (or one for the whole value when no row is an object).
fn json_table(label: &str, lead: &[&'static str], rows: Vec<(Vec<String>, JSON)>) -> AnyView {
    let values: Vec<JSON> = rows.iter().map(|(_, value)| value.clone()).collect();
    let columns = format::json_columns(&values);
    let whole = columns.is_empty();
    let heads = lead
        .iter()
        .map(|head| head.to_string())
        .chain(columns.iter().cloned())
        .chain(whole.then(|| "Item".to_string()))
        .map(|head| view! { <th scope="col">{head}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|(cells, value)| {
            let fields = columns.iter().map(|column| value.get(column));
            let fields = fields.map(|v| v.map(|v| format::json_cell(v, 80)).unwrap_or_default());
            let texts = cells
                .into_iter()
                .chain(fields)
                .chain(whole.then(|| format::json_cell(&value, 120)));
            let cells = texts.map(|text| view! { <td>{text}</td> }).collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data" aria-label=label.to_string()>
                <thead><tr>{heads}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_published_version_is_the_newest_published_one() {
        let versions = [
            (4, VersionState::Draft),
            (3, VersionState::Published),
            (2, VersionState::Published),
            (1, VersionState::Archived),
        ];
        assert_eq!(latest_published(&versions), Some(3));
        assert_eq!(latest_published(&versions[..1]), None);
    }

    #[test]
    fn items_show_the_latest_published_version_else_the_newest() {
        assert_eq!(default_version(Some(2), &[3, 2, 1]), Some(2));
        assert_eq!(default_version(None, &[3, 2, 1]), Some(3));
        assert_eq!(default_version(None, &[]), None);
    }
}
