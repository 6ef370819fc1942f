//! The history tab: every recorded change to a dataset and its versions,
//! newest first, fifty to a page.

use leptos::prelude::*;

use crate::api;
use crate::components::{AuditTable, Empty, Loading, Pager, error_fallback};
use crate::url_state::DatasetView;

/// The dataset's events, from the cursor the URL holds.
#[component]
pub fn HistoryTab(dataset: String, view_state: Memo<DatasetView>) -> impl IntoView {
    let history = {
        let dataset = dataset.clone();
        LocalResource::new(move || api::dataset::history(dataset.clone(), view_state.get().after))
    };
    view! {
        <Suspense fallback=Loading>
            <ErrorBoundary fallback=error_fallback>
                {move || {
                    let dataset = dataset.clone();
                    Suspend::new(async move {
                        history.await.map(|page| {
                            let Some(page) = page.filter(|page| !page.events.is_empty()) else {
                                return view! {
                                    <Empty title="No history yet">
                                        <p>"Nothing has been recorded for this dataset."</p>
                                    </Empty>
                                }
                                .into_any();
                            };
                            let next = page.next.map(|cursor| {
                                let mut next = view_state.get_untracked();
                                next.after = Some(cursor);
                                next.href(&dataset)
                            });
                            view! {
                                <p class="muted">{format!("{} events", page.total)}</p>
                                <AuditTable events=page.events label="Dataset history" />
                                <Pager href=next />
                            }
                            .into_any()
                        })
                    })
                }}
            </ErrorBoundary>
        </Suspense>
    }
}
