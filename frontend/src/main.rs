//! Yardstick's web app: leaderboards, models, tasks, runs and comparisons,
//! read from the GraphQL API and rendered in the browser (Leptos, CSR).

mod api;
mod app;
mod chart;
mod components;
mod format;
mod pages;
mod scale;
mod sort;
mod url_state;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
