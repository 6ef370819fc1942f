//! The versions tab: every version of a dataset, newest first, and for
//! admins the state changes each version allows (publish or discard a
//! draft, deprecate a published version with a reason, archive a
//! deprecated one).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::api::dataset::{VersionAction, VersionState, dataset_page::DatasetPageDatasetVersions};
use crate::components::Empty;
use crate::form::{FormAlert, FormErrors, TextField};
use crate::format;
use crate::session::use_session;

/// What a button on a version row starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Publish,
    Discard,
    Deprecate,
    Archive,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Self::Publish => "Publish",
            Self::Discard => "Discard",
            Self::Deprecate => "Deprecate…",
            Self::Archive => "Archive",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Discard => "discard",
            Self::Deprecate => "deprecate",
            Self::Archive => "archive",
        }
    }

    /// Returns true when the step needs a second word (a reason, or a
    /// confirmation) before it is sent.
    fn asks_first(self) -> bool {
        matches!(self, Self::Discard | Self::Deprecate)
    }
}

/// The steps a version in `state` allows; the server enforces the same
/// rules and answers `invalid_state` otherwise.
fn steps(state: VersionState) -> &'static [Step] {
    match state {
        VersionState::Draft => &[Step::Publish, Step::Discard],
        VersionState::Published => &[Step::Deprecate],
        VersionState::Deprecated => &[Step::Archive],
        _ => &[],
    }
}

/// Says what a finished step did, for the page's notice.
fn done(step: Step, number: i64) -> String {
    let verb = match step {
        Step::Publish => "published",
        Step::Discard => "discarded",
        Step::Deprecate => "deprecated",
        Step::Archive => "archived",
    };
    format!("Version {number} {verb}.")
}

/// The versions table.
#[component]
pub fn VersionsTable(
    dataset: String,
    versions: Vec<DatasetPageDatasetVersions>,
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    if versions.is_empty() {
        return view! {
            <Empty title="No versions yet">
                <p>"An admin creates the first version by uploading a JSONL or CSV file."</p>
            </Empty>
        }
        .into_any();
    }
    let actions_head = move || {
        session
            .is_admin()
            .then(|| view! { <th scope="col">"Actions"</th> })
    };
    let rows = versions
        .into_iter()
        .map(|version| {
            let state = VersionState::from(&version.state);
            let number = version.number;
            let dataset = dataset.clone();
            let actions = move || {
                session.is_admin().then(|| {
                    let dataset = dataset.clone();
                    view! { <td><Actions dataset number state notice refetch /></td> }
                })
            };
            let reason = version
                .state_reason
                .clone()
                .map(|reason| view! { <div class="muted small">{reason}</div> });
            let parent = version.parent_number.map(|n| format!("v{n}"));
            view! {
                <tr data-version=number>
                    <td class="num">{format!("v{number}")}</td>
                    <td><span class=format!("badge lifecycle {}", state.label().to_lowercase())
                        data-test="state">{state.label()}</span>{reason}</td>
                    <td class="num">{version.item_count}</td>
                    <td>{version.note.clone()}</td>
                    <td>{version.created_by.clone()}
                        <div class="muted small">{format::date_time(&version.created_at)}</div></td>
                    <td>{parent.unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{version.run_count}</td>
                    {actions}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data" aria-label="Versions">
                <thead><tr>
                    <th scope="col" class="num">"Version"</th><th scope="col">"State"</th>
                    <th scope="col" class="num">"Items"</th><th scope="col">"Note"</th>
                    <th scope="col">"Created"</th><th scope="col">"Parent"</th>
                    <th scope="col" class="num">"Runs"</th>
                    {actions_head}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A version's buttons; deprecating asks for a reason and discarding for a
/// confirmation before anything is sent.
#[component]
fn Actions(
    dataset: String,
    number: i64,
    state: VersionState,
    notice: RwSignal<Option<String>>,
    refetch: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let dataset = StoredValue::new(dataset);
    let errors = RwSignal::new(FormErrors::default());
    let pending = RwSignal::new(false);
    let asking = RwSignal::new(None::<Step>);
    let reason = RwSignal::new(String::new());
    let send = move |step: Step| {
        let action = match step {
            Step::Publish => VersionAction::Publish,
            Step::Discard => VersionAction::Discard,
            Step::Archive => VersionAction::Archive,
            Step::Deprecate => {
                let reason = reason.get_untracked().trim().to_string();
                if reason.is_empty() {
                    let message = "Say why: people who pinned this version will read it.";
                    errors.set(FormErrors::field("reason", message));
                    return;
                }
                VersionAction::Deprecate(reason)
            }
        };
        let Some(csrf) = session.csrf() else {
            return;
        };
        errors.set(FormErrors::default());
        pending.set(true);
        spawn_local(async move {
            let dataset = dataset.get_value();
            match api::dataset::change_state(&csrf, dataset, number, action).await {
                Ok(()) => {
                    notice.set(Some(done(step, number)));
                    refetch.run(());
                }
                Err(error) => {
                    session.forget_if_ended(&error);
                    errors.set(FormErrors::from_api(&error, &["reason"]));
                }
            }
            pending.set(false);
        });
    };
    let buttons = steps(state)
        .iter()
        .map(|&step| {
            let click = move |_| {
                if step.asks_first() {
                    asking.set(Some(step));
                } else {
                    send(step);
                }
            };
            view! {
                <button type="button" class="button small" data-action=step.key()
                    disabled=move || pending.get() on:click=click>{step.label()}</button>
            }
        })
        .collect_view();
    let question = move || {
        asking.get().map(|step| match step {
            Step::Deprecate => view! {
                <div class="ask">
                    <TextField id=format!("deprecate-reason-{number}") label="Reason"
                        field="reason" value=reason errors />
                    <button type="button" class="button small danger" data-action="confirm"
                        disabled=move || pending.get() on:click=move |_| send(step)>
                        "Deprecate"</button>
                    <button type="button" class="button small"
                        on:click=move |_| asking.set(None)>"Cancel"</button>
                </div>
            }
            .into_any(),
            _ => view! {
                <div class="ask">
                    <span>{format!("Discard v{number} for good?")}</span>
                    <button type="button" class="button small danger" data-action="confirm"
                        disabled=move || pending.get() on:click=move |_| send(step)>
                        "Discard"</button>
                    <button type="button" class="button small"
                        on:click=move |_| asking.set(None)>"Keep"</button>
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <div class="row-actions">
            {buttons}
            {question}
            <FormAlert errors />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_offers_only_the_steps_the_server_allows() {
        assert_eq!(steps(VersionState::Draft), &[Step::Publish, Step::Discard]);
        assert_eq!(steps(VersionState::Published), &[Step::Deprecate]);
        assert_eq!(steps(VersionState::Deprecated), &[Step::Archive]);
        assert!(steps(VersionState::Archived).is_empty());
        assert!(steps(VersionState::Discarded).is_empty());
        assert!(Step::Deprecate.asks_first() && !Step::Publish.asks_first());
        assert_eq!(done(Step::Publish, 2), "Version 2 published.");
    }
}
