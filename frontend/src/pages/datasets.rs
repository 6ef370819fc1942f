//! The dataset list, searchable by name, fifty to a page; signed-in admins
//! also get the form that creates a dataset.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::{self, dataset::NewDataset};
use crate::components::{
    Empty, Loading, Pager, SearchBox, error_fallback, list_href, use_list_query,
};
use crate::form::{FormAlert, FormErrors, TextField};
use crate::format;
use crate::session::use_session;
use crate::url_state::{dataset_href, split_list};

/// The dataset list, at `/datasets?search=…&after=…`.
#[component]
pub fn DatasetsPage() -> impl IntoView {
    let (search, after) = use_list_query();
    let datasets = LocalResource::new(move || api::dataset::list(search.get(), after.get()));
    let session = use_session();
    let new_dataset = move || session.is_admin().then(|| view! { <NewDatasetForm /> });
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Datasets"</h1>
                <p class="lede">"The items tasks are evaluated on, kept in immutable \
                    versions."</p>
            </header>
            {new_dataset}
            <SearchBox path="/datasets" id="dataset-search" placeholder="e.g. arc" search />
            <Suspense fallback=Loading>
                <ErrorBoundary fallback=error_fallback>
                    {move || Suspend::new(async move {
                        datasets.await.map(|page| {
                            if page.nodes.is_empty() {
                                return view! {
                                    <Empty title="No datasets match">
                                        <p>"No dataset name contains that text."</p>
                                    </Empty>
                                }.into_any();
                            }
                            let next = page.page_info.end_cursor.clone()
                                .filter(|_| page.page_info.has_next_page);
                            let next = next.map(|cursor| list_href(
                                "/datasets", search.get_untracked().as_ref(), Some(&cursor)));
                            let total = format::count(page.total_count, "dataset", "datasets");
                            view! {
                                <p class="muted">{total}</p>
                                {table(page)}
                                <Pager href=next />
                            }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

fn table(page: api::dataset::dataset_list::DatasetListDatasets) -> impl IntoView {
    let rows = page
        .nodes
        .into_iter()
        .map(|dataset| {
            let latest = dataset.latest_published.map(|v| format!("v{}", v.number));
            view! {
                <tr>
                    <td><a href=dataset_href(&dataset.name)>{dataset.name.clone()}</a></td>
                    <td>{dataset.description}</td>
                    <td>{dataset.tags.join(", ")}</td>
                    <td>{dataset.key_field.unwrap_or_else(|| "—".into())}</td>
                    <td>{latest.unwrap_or_else(|| "—".into())}</td>
                    <td class="when">{format::date(&dataset.created_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data" aria-label="Datasets">
                <thead><tr>
                    <th scope="col">"Dataset"</th><th scope="col">"Description"</th>
                    <th scope="col">"Tags"</th><th scope="col">"Key field"</th>
                    <th scope="col">"Latest published"</th><th scope="col">"Created"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The fields of the new-dataset form, by the names the API gives them in
/// `extensions.field`.
const FIELDS: [&str; 4] = ["name", "description", "tags", "keyField"];

/// Creates a dataset, then opens its page.
#[component]
fn NewDatasetForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let key_field = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(csrf) = session.csrf() else {
            return;
        };
        let input = NewDataset {
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked().trim().to_string(),
            tags: split_list(&tags.get_untracked()),
            key_field: Some(key_field.get_untracked().trim().to_string()).filter(|k| !k.is_empty()),
        };
        if input.name.is_empty() {
            errors.set(FormErrors::field("name", "Give the dataset a name."));
            return;
        }
        errors.set(FormErrors::default());
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::dataset::create(&csrf, input).await {
                Ok(created) => navigate(&dataset_href(&created), Default::default()),
                Err(error) => {
                    session.forget_if_ended(&error);
                    errors.set(FormErrors::from_api(&error, &FIELDS));
                }
            }
            pending.set(false);
        });
    };
    view! {
        <details class="panel admin" data-test="new-dataset">
            <summary>"New dataset"</summary>
            <form class="controls" on:submit=submit aria-label="New dataset">
                <TextField id="new-dataset-name" label="Name" field="name" value=name errors />
                <TextField id="new-dataset-key" label="Key field (optional)" field="keyField"
                    value=key_field errors hint="The item field naming an item across versions" />
                <TextField id="new-dataset-tags" label="Tags (comma-separated)" field="tags"
                    value=tags errors />
                <TextField id="new-dataset-description" label="Description"
                    field="description" value=description errors multiline=true wide=true />
                <div class="field wide">
                    <FormAlert errors />
                    <p class="actions">
                        <button type="submit" class="button primary"
                            disabled=move || pending.get()>"Create dataset"</button>
                    </p>
                </div>
            </form>
        </details>
    }
}
