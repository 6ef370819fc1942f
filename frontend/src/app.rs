//! The app shell: the navigation bar and the routes to every page.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::pages::{compare, leaderboard, model, models, not_found, run, runs, task, tasks};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="logo" aria-hidden="true">"▮▯"</span>
                    "Yardstick"
                </a>
                <Nav />
            </header>
            <main id="main">
                <Routes fallback=not_found::NotFound>
                    <Route path=path!("/") view=leaderboard::LeaderboardPage />
                    <Route path=path!("/leaderboard") view=leaderboard::LeaderboardPage />
                    <Route path=path!("/models") view=models::ModelsPage />
                    <Route path=path!("/models/*name") view=model::ModelPage />
                    <Route path=path!("/tasks") view=tasks::TasksPage />
                    <Route path=path!("/tasks/:name") view=task::TaskPage />
                    <Route path=path!("/runs") view=runs::RunsPage />
                    <Route path=path!("/runs/:id") view=run::RunPage />
                    <Route path=path!("/compare") view=compare::ComparePage />
                </Routes>
            </main>
            <footer class="footer">
                "Yardstick — evaluation results with their provenance. Data from "
                <a href="/graphql">"/graphql"</a>
                "."
            </footer>
        </Router>
    }
}

/// The main navigation; the current page's item is marked `aria-current`.
#[component]
fn Nav() -> impl IntoView {
    let location = use_location();
    // `<A>` marks only its own path, but `/` shows the leaderboards too.
    let leaderboards = move || {
        let path = location.pathname.get();
        (path == "/" || path.starts_with("/leaderboard")).then_some("page")
    };
    view! {
        <nav aria-label="Main">
            <a href="/leaderboard" aria-current=leaderboards>"Leaderboards"</a>
            <A href="/models">"Models"</A>
            <A href="/tasks">"Tasks"</A>
            <A href="/runs">"Runs"</A>
            <A href="/compare">"Compare"</A>
            <a href="/graphql" class="api">"GraphQL"</a>
        </nav>
    }
}
