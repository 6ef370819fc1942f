//! Placeholder for Yardstick's web app. The real Leptos app replaces this crate's body;
//! until then `yardstick serve` answers `/` with a static page that points to `/graphql`.

fn main() {}
