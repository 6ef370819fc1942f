//! The admin form that adds a version: choosing a file sends it for a
//! preview (which stores nothing), and only the "Create draft version"
//! button stores it, as a draft. The server checks the whole file before it
//! writes anything, so a refused file leaves nothing behind.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::File;

use super::json_table;
use crate::api::{self, dataset::ItemChange, dataset::Preview};
use crate::components::{Fact, JsonDetails};
use crate::form::{FieldError, FormErrors, TextField, UploadProgress};
use crate::session::use_session;

const FIELDS: [&str; 2] = ["file", "note"];

/// The upload form and, once a file is checked, its preview.
#[component]
pub fn UploadVersion(
    dataset: String,
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let dataset = StoredValue::new(dataset);
    let file_input = NodeRef::<Input>::new();
    let note = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let progress = RwSignal::new(None::<f64>);
    let preview = RwSignal::new(None::<Preview>);
    let busy = RwSignal::new(false);
    // Counts files chosen, so that a slow preview of an earlier file never
    // replaces the preview of the one chosen after it.
    let attempt = StoredValue::new(0_u32);
    let chosen = move || -> Option<File> { file_input.get_untracked()?.files()?.get(0) };
    let fail = move |error: api::ApiError| {
        session.forget_if_ended(&error);
        errors.set(FormErrors::from_api_near(&error, &FIELDS, "file"));
    };
    let on_choose = move |_| {
        preview.set(None);
        errors.set(FormErrors::default());
        let (Some(file), Some(csrf)) = (chosen(), session.csrf()) else {
            return;
        };
        attempt.update_value(|n| *n += 1);
        let this = attempt.get_value();
        busy.set(true);
        progress.set(Some(0.0));
        spawn_local(async move {
            let on_progress = move |share| progress.set(Some(share));
            let result =
                api::dataset::preview_version(&csrf, dataset.get_value(), &file, on_progress).await;
            if attempt.get_value() != this {
                return;
            }
            progress.set(None);
            busy.set(false);
            match result {
                Ok(checked) => preview.set(Some(checked)),
                Err(error) => fail(error),
            }
        });
    };
    let create = move |_| {
        let (Some(file), Some(csrf)) = (chosen(), session.csrf()) else {
            return;
        };
        let note = note.get_untracked().trim().to_string();
        errors.set(FormErrors::default());
        busy.set(true);
        progress.set(Some(0.0));
        spawn_local(async move {
            let on_progress = move |share| progress.set(Some(share));
            let dataset = dataset.get_value();
            let result = api::dataset::create_version(&csrf, dataset, note, &file, on_progress);
            let result = result.await;
            progress.set(None);
            busy.set(false);
            match result {
                Ok(number) => {
                    let text = format!("Draft version {number} created; publish it to use it.");
                    notice.set(Some(text));
                    refetch.run(());
                }
                Err(error) => fail(error),
            }
        });
    };
    let invalid = move || errors.with(|e| e.get("file").map(|_| "true"));
    let can_create = move || preview.with(Option::is_some) && !busy.get();
    view! {
        <details class="panel admin" data-test="upload-version">
            <summary>"Upload a new version"</summary>
            <p class="muted">"Choosing a file checks it and shows what it would change; \
                nothing is stored until you create the draft."</p>
            <form class="controls" on:submit=|ev| ev.prevent_default()>
                <div class="field wide">
                    <label for="upload-file">"Items file (.jsonl or .csv)"</label>
                    <input id="upload-file" type="file" accept=".jsonl,.json,.csv"
                        node_ref=file_input on:change=on_choose disabled=move || busy.get()
                        aria-invalid=invalid aria-describedby="upload-file-error" />
                    <FieldError id="upload-file-error".to_string() field="file" errors />
                </div>
                <TextField id="upload-note" label="Note" field="note" value=note errors
                    hint="What changed, shown in the version list" wide=true />
            </form>
            <UploadProgress progress />
            {move || preview.get().map(preview_view)}
            <p class="actions">
                <button type="button" class="button primary" data-action="create-version"
                    disabled=move || !can_create() on:click=create>
                    "Create draft version"</button>
            </p>
        </details>
    }
}

fn preview_view(preview: Preview) -> impl IntoView {
    let parent = match preview.parent_number {
        Some(n) => format!("v{n}"),
        None => "none: this is the first version".into(),
    };
    let schema = preview
        .item_schema
        .iter()
        .map(|field| {
            view! { <li><code>{field.name.clone()}</code>" "{field.types.join(" or ")}</li> }
        })
        .collect_view();
    let rows = preview
        .first_rows
        .into_iter()
        .map(|row| (Vec::new(), row))
        .collect();
    let diff = preview.diff;
    view! {
        <div class="preview" data-test="preview">
            <h3>"What this file holds"</h3>
            <dl class="facts">
                <Fact term="Items">
                    <span data-test="preview-items">{preview.item_count}</span></Fact>
                <Fact term="New items">
                    <span data-test="preview-new-items">{preview.new_item_count}</span></Fact>
                <Fact term="Key field">{preview.key_field.unwrap_or_else(|| "—".into())}</Fact>
                <Fact term="Parent version">{parent}</Fact>
            </dl>
            <h3>"Fields"</h3>
            <ul class="schema" aria-label="Item fields and their types">{schema}</ul>
            <h3>"First rows"</h3>
            {json_table("First rows", &[], rows)}
            <h3>"Changes against the parent"</h3>
            <ul class="diff-counts">
                <li><strong data-test="diff-added">{diff.added}</strong>" added"</li>
                <li><strong data-test="diff-removed">{diff.removed}</strong>" removed"</li>
                <li><strong data-test="diff-changed">{diff.changed}</strong>" changed"</li>
                <li><strong data-test="diff-unchanged">{diff.unchanged}</strong>" unchanged"</li>
            </ul>
            {diff_entries(diff.entries, diff.added + diff.removed + diff.changed)}
        </div>
    }
}

type Entry =
    api::dataset::preview_dataset_version::PreviewDatasetVersionPreviewDatasetVersionDiffEntries;

fn diff_entries(entries: Vec<Entry>, changes: i64) -> AnyView {
    if entries.is_empty() {
        return view! { <p class="muted">"No item changes."</p> }.into_any();
    }
    let shown = entries.len();
    let rows = entries
        .into_iter()
        .map(|entry| {
            let change = match entry.change {
                ItemChange::ADDED => "added",
                ItemChange::REMOVED => "removed",
                ItemChange::CHANGED => "changed",
                _ => "other",
            };
            view! {
                <tr>
                    <td><code>{entry.key}</code></td>
                    <td><span class=format!("badge change {change}")>{change}</span></td>
                    <td><JsonDetails label="Before" value=entry.before /></td>
                    <td><JsonDetails label="After" value=entry.after /></td>
                </tr>
            }
        })
        .collect_view();
    let more = (changes > shown as i64).then(
        || view! { <p class="muted">{format!("The first {shown} of {changes} changes.")}</p> },
    );
    view! {
        <div class="table-wrap">
            <table class="data" aria-label="Changed items">
                <thead><tr>
                    <th scope="col">"Key"</th><th scope="col">"Change"</th>
                    <th scope="col">"Before"</th><th scope="col">"After"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {more}
    }
    .into_any()
}
