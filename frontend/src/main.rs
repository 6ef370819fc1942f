//! Yardstick's web app: leaderboards, models, tasks, runs, comparisons and
//! datasets, read from the GraphQL API and rendered in the browser (Leptos,
//! CSR); admins who sign in also create and publish dataset versions.

mod api;
mod app;
mod chart;
mod components;
mod form;
mod format;
mod pages;
mod scale;
mod session;
mod sort;
mod url_state;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
