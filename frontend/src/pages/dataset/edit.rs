//! The admin form that changes a dataset's name, description and tags.
//! Versions never change; only these labels do, and each change is recorded
//! in the history tab.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::{self, dataset::DatasetEdit};
use crate::form::{FormAlert, FormErrors, TextField};
use crate::session::use_session;
use crate::url_state::{dataset_href, split_list};

/// The labels the form starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
}

const FIELDS: [&str; 3] = ["name", "description", "tags"];

/// The edit form, folded until opened.
#[component]
pub fn EditDataset(
    current: Current,
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let old_name = StoredValue::new(current.name.clone());
    let name = RwSignal::new(current.name);
    let description = RwSignal::new(current.description);
    let tags = RwSignal::new(current.tags.join(", "));
    let errors = RwSignal::new(FormErrors::default());
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(csrf) = session.csrf() else {
            return;
        };
        let edit = DatasetEdit {
            name: Some(name.get_untracked().trim().to_string()),
            description: Some(description.get_untracked().trim().to_string()),
            tags: Some(split_list(&tags.get_untracked())),
        };
        if edit.name.as_deref() == Some("") {
            errors.set(FormErrors::field("name", "A dataset needs a name."));
            return;
        }
        errors.set(FormErrors::default());
        pending.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::dataset::update(&csrf, old_name.get_value(), edit).await {
                Ok(saved) => {
                    notice.set(Some("Dataset saved.".into()));
                    // A new name is a new URL; its page loads by itself.
                    if saved == old_name.get_value() {
                        refetch.run(());
                    } else {
                        navigate(&dataset_href(&saved), Default::default());
                    }
                }
                Err(error) => {
                    session.forget_if_ended(&error);
                    errors.set(FormErrors::from_api(&error, &FIELDS));
                }
            }
            pending.set(false);
        });
    };
    view! {
        <details class="panel admin" data-test="edit-dataset">
            <summary>"Edit dataset"</summary>
            <form class="controls" on:submit=submit aria-label="Edit dataset">
                <TextField id="edit-dataset-name" label="Name" field="name" value=name errors />
                <TextField id="edit-dataset-tags" label="Tags (comma-separated)" field="tags"
                    value=tags errors />
                <TextField id="edit-dataset-description" label="Description"
                    field="description" value=description errors multiline=true wide=true />
                <div class="field wide">
                    <FormAlert errors />
                    <p class="actions">
                        <button type="submit" class="button primary"
                            disabled=move || pending.get()>"Save"</button>
                    </p>
                </div>
            </form>
        </details>
    }
}
