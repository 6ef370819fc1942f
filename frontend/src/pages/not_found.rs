//! The page for addresses the app does not know.

use leptos::prelude::*;

use crate::components::Empty;

/// Says the address leads nowhere and offers the way back.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Empty title="Page not found">
            <p>"No page lives at this address. Start from the "
                <a href="/leaderboard">"leaderboards"</a>"."</p>
        </Empty>
    }
}
