//! Who is signed in, shared with every page through a Leptos context.
//!
//! The CSRF token lives only here, in memory, never in storage a script
//! could read later; on start the app asks the server for it again.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, auth::Session};

/// The signed-in admin, if any, and whether the server has said so yet.
#[derive(Debug, Clone, Copy)]
pub struct SessionState {
    session: RwSignal<Option<Session>>,
    /// False until the server has answered, so that the sign-in link does
    /// not flash for someone who is signed in.
    known: RwSignal<bool>,
}

impl SessionState {
    /// Returns the session, tracked.
    pub fn get(&self) -> Option<Session> {
        self.session.get()
    }

    /// Returns true once the server has said whether the cookie is valid.
    pub fn known(&self) -> bool {
        self.known.get()
    }

    /// Returns true when admin forms should show, tracked.
    pub fn is_admin(&self) -> bool {
        self.session
            .with(|s| s.as_ref().is_some_and(Session::is_admin))
    }

    /// Returns the CSRF token a write must carry, untracked: forms read it
    /// when they send, not when they render.
    pub fn csrf(&self) -> Option<String> {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.csrf_token.clone()))
    }

    /// Records a new session, or none after signing out.
    pub fn set(&self, session: Option<Session>) {
        self.session.set(session);
        self.known.set(true);
    }

    /// Forgets the session when an error says the server has ended it, so
    /// the header offers to sign in again.
    pub fn forget_if_ended(&self, error: &ApiError) {
        if error.code == "unauthenticated" {
            self.set(None);
        }
    }
}

/// Provides the session context and asks the server whether the browser's
/// cookie is still valid.
pub fn provide() -> SessionState {
    let state = SessionState {
        session: RwSignal::new(None),
        known: RwSignal::new(false),
    };
    provide_context(state);
    spawn_local(async move {
        state.set(api::auth::current().await.ok());
    });
    state
}

/// Returns the session context `provide` set up for the whole app.
pub fn use_session() -> SessionState {
    use_context().unwrap_or_else(provide)
}
