//! The sign-in page: an admin trades an access token for a session cookie.
//! Reading needs no sign-in; only the admin forms do.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::form::{FieldError, FormErrors, sign_in_errors};
use crate::session::use_session;
use crate::url_state::after_sign_in;

/// The sign-in page, at `/sign-in?next=/path`.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let next = move || after_sign_in(query.read().get("next").as_deref());
    let token = RwSignal::new(String::new());
    let errors = RwSignal::new(FormErrors::default());
    let pending = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = token.get_untracked().trim().to_string();
        if text.is_empty() {
            errors.set(FormErrors::field("token", "Enter your access token."));
            return;
        }
        errors.set(FormErrors::default());
        pending.set(true);
        let (navigate, next) = (navigate.clone(), next());
        spawn_local(async move {
            match api::auth::sign_in(&text).await {
                Ok(signed_in) => {
                    token.set(String::new());
                    session.set(Some(signed_in));
                    navigate(&next, Default::default());
                }
                Err(error) => errors.set(sign_in_errors(&error)),
            }
            pending.set(false);
        });
    };
    let signed_in = move || {
        session.get().map(|s| {
            view! {
                <p class="notice">"You are signed in as "<strong>{s.name}</strong>". "
                    <a href=next()>"Continue"</a></p>
            }
        })
    };
    let invalid = move || errors.with(|e| e.get("token").map(|_| "true"));
    view! {
        <section class="page narrow">
            <header class="page-head">
                <h1>"Sign in"</h1>
                <p class="lede">"Admins sign in with an access token to create and publish \
                    datasets. Reading needs no sign-in."</p>
            </header>
            {signed_in}
            <form class="panel form" on:submit=submit data-test="sign-in">
                <div class="field">
                    <label for="sign-in-token">"Access token"</label>
                    <input id="sign-in-token" type="password" autocomplete="off"
                        placeholder="ys_…" spellcheck="false"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                        aria-invalid=invalid aria-describedby="sign-in-token-error" />
                    <span class="field-hint">"An admin token, starting with "<code>"ys_"</code>
                        ". It is sent once; the session lives in a cookie no script \
                        can read."</span>
                    <FieldError id="sign-in-token-error".to_string() field="token" errors />
                </div>
                <p class="actions">
                    <button type="submit" class="button primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </p>
            </form>
        </section>
    }
}
