//! The app shell: the navigation bar, who is signed in, and the routes to
//! every page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::api;
use crate::pages::{
    compare, dataset, datasets, leaderboard, model, models, not_found, run, runs, sample_diff,
    sign_in, task, tasks,
};
use crate::session::{self, use_session};
use crate::url_state::sign_in_href;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    session::provide();
    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="logo" aria-hidden="true">"▮▯"</span>
                    "Yardstick"
                </a>
                <Nav />
                <Account />
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
                    <Route path=path!("/compare-samples") view=sample_diff::SampleDiffPage />
                    <Route path=path!("/datasets") view=datasets::DatasetsPage />
                    <Route path=path!("/datasets/:name") view=dataset::DatasetPage />
                    <Route path=path!("/sign-in") view=sign_in::SignInPage />
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
            <A href="/datasets">"Datasets"</A>
            <a href="/graphql" class="api">"GraphQL"</a>
        </nav>
    }
}

/// "Signed in as NAME · Sign out", or a link to sign in that comes back to
/// the current page.
#[component]
fn Account() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let sign_out = move |_| {
        let Some(csrf) = session.csrf() else {
            return;
        };
        spawn_local(async move {
            // A refusal means the session had ended already; either way the
            // page should stop offering admin forms.
            let _ = api::auth::sign_out(&csrf).await;
            session.set(None);
        });
    };
    let sign_in_link = move || sign_in_href(&location.pathname.get(), &location.search.get());
    let account = move || match session.get() {
        Some(signed_in) => view! {
            <span data-test="account">"Signed in as "<strong>{signed_in.name}</strong>" · "
                <button type="button" class="link" on:click=sign_out>"Sign out"</button>
            </span>
        }
        .into_any(),
        None if session.known() => view! {
            <a href=sign_in_link data-test="sign-in-link">"Sign in"</a>
        }
        .into_any(),
        None => ().into_any(),
    };
    view! { <div class="account">{account}</div> }
}
