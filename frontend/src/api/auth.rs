//! Signing in and out: plain HTTP on `/auth/session`, not GraphQL, because
//! the server answers with a cookie the browser keeps out of script's reach.
//!
//! The CSRF token the server hands out with the cookie lives only in memory
//! (see `session.rs`); a reload asks for it again with `current`.

use gloo_net::http::{Request, Response};
use serde::{Deserialize, Serialize};

use super::{ApiError, CSRF_HEADER};

const ENDPOINT: &str = "/auth/session";

/// Who is signed in, and the token every write must carry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub name: String,
    /// `admin` or `reader`; only admins can sign in today.
    pub role: String,
    pub csrf_token: String,
}

impl Session {
    /// Returns true when this session may use the admin forms.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

#[derive(Serialize)]
struct SignIn<'a> {
    token: &'a str,
}

/// The body of every refusal on `/auth/session`.
#[derive(Deserialize)]
struct Refusal {
    code: String,
    message: String,
}

/// Trades an access token for a session cookie; fails with `invalid_token`,
/// `token_revoked` or `forbidden` (a reader token).
pub async fn sign_in(token: &str) -> Result<Session, ApiError> {
    let request = Request::post(ENDPOINT)
        .json(&SignIn { token })
        .map_err(ApiError::unreachable)?;
    let response = request.send().await.map_err(ApiError::unreachable)?;
    session_of(response).await
}

/// Returns the session the browser's cookie belongs to; fails with
/// `unauthenticated` when there is none.
pub async fn current() -> Result<Session, ApiError> {
    let response = Request::get(ENDPOINT)
        .send()
        .await
        .map_err(ApiError::unreachable)?;
    session_of(response).await
}

/// Ends the session; the server clears the cookie.
pub async fn sign_out(csrf: &str) -> Result<(), ApiError> {
    let response = Request::delete(ENDPOINT)
        .header(CSRF_HEADER, csrf)
        .send()
        .await
        .map_err(ApiError::unreachable)?;
    if response.ok() {
        return Ok(());
    }
    Err(refusal(response).await)
}

async fn session_of(response: Response) -> Result<Session, ApiError> {
    if !response.ok() {
        return Err(refusal(response).await);
    }
    let status = response.status();
    response
        .json()
        .await
        .map_err(|_| super::bad_response(status))
}

async fn refusal(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<Refusal>().await {
        Ok(refusal) => ApiError::new(refusal.message, &refusal.code),
        Err(_) => unreadable(status),
    }
}

fn unreadable(status: u16) -> ApiError {
    let message = format!("the server answered HTTP {status} with an unreadable body");
    ApiError::new(message, "bad_response")
}
