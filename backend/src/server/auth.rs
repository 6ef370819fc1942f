//! Credentials over HTTP: the bearer token or session cookie of a request,
//! and the sign-in endpoints that open and close web sessions.
//!
//! Sign-in is plain HTTP rather than a GraphQL mutation because it must set a
//! cookie, and because every mutation needs an admin already.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use crate::error::{Denial, ServiceError, ServiceResult};
use crate::graphql::Principal;
use crate::service::access::{self, Holder, Session, constant_time_eq};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "yardstick_session";
/// The header that carries a session's CSRF token on changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Reads the Bearer token of `request`: `Ok(None)` without an
/// `Authorization` header, an error for a header of another scheme.
fn bearer(request: &HttpRequest) -> ServiceResult<Option<&str>> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(ServiceError::Denied(Denial::UnsupportedScheme)),
    }
}

/// True when a browser says the request comes from another site. Requests
/// without `Origin` (curl, same-origin GETs) are judged by the CSRF token alone.
fn cross_site(request: &HttpRequest) -> bool {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return false;
    };
    let host = request.connection_info().host().to_string();
    let origin = origin.to_str().unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin_host != host
}

fn csrf_matches(request: &HttpRequest, session: &Session) -> bool {
    let presented = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    !cross_site(request) && constant_time_eq(presented.as_bytes(), session.csrf_token.as_bytes())
}

async fn session_of(state: &AppState, request: &HttpRequest) -> ServiceResult<Option<Session>> {
    match request.cookie(SESSION_COOKIE) {
        Some(cookie) => access::find_session(&state.db, cookie.value())
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// Establishes who sent `request`. Credentials that are present but wrong
/// are an error, never a silent fall-back to anonymous.
pub async fn principal(state: &AppState, request: &HttpRequest) -> ServiceResult<Principal> {
    if let Some(token) = bearer(request)? {
        let holder = access::verify_token(&state.db, &state.verified_tokens, token).await?;
        return Ok(Principal::Token(holder));
    }
    // A cookie naming a session that ended, expired or lost its token reads
    // as no cookie: the browser keeps sending it, and reads must not fail
    // for it (changes then fail as unauthenticated).
    let session = match session_of(state, request).await {
        Err(ServiceError::Denied(denial)) => {
            tracing::debug!(code = denial.code(), "stale session cookie ignored");
            None
        }
        other => other?,
    };
    match session {
        Some(session) => {
            let csrf_ok = csrf_matches(request, &session);
            Ok(Principal::Session {
                holder: session.holder,
                csrf_ok,
            })
        }
        None => Ok(Principal::Anonymous),
    }
}

/// The status a refusal is sent with.
pub fn denial_status(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::Denied(Denial::Forbidden | Denial::CsrfFailed) => StatusCode::FORBIDDEN,
        ServiceError::Denied(_) => StatusCode::UNAUTHORIZED,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A refusal as a GraphQL response body, so GraphQL clients read it as usual.
pub fn graphql_refusal(error: &ServiceError) -> HttpResponse {
    HttpResponse::build(denial_status(error)).json(json!({
        "data": null,
        "errors": [{
            "message": error.message(),
            "extensions": {"code": error.code()},
        }],
    }))
}

fn plain_refusal(error: &ServiceError) -> HttpResponse {
    if let ServiceError::Internal(cause) = error {
        tracing::error!(error = %cause, "session request failed on an internal error");
    }
    HttpResponse::build(denial_status(error)).json(json!({
        "code": error.code(),
        "message": error.message(),
    }))
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

/// What the web app learns about its session.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionInfo<'a> {
    name: &'a str,
    role: &'static str,
    csrf_token: &'a str,
}

fn session_info<'a>(holder: &'a Holder, csrf_token: &'a str) -> SessionInfo<'a> {
    SessionInfo {
        name: &holder.name,
        role: holder.role.as_str(),
        csrf_token,
    }
}

/// `POST /auth/session`: signs in with an admin token, setting the cookie.
pub async fn sign_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<SignIn>,
) -> HttpResponse {
    if cross_site(&request) {
        return plain_refusal(&ServiceError::Denied(Denial::CsrfFailed));
    }
    let opened = async {
        let holder =
            access::verify_token(&state.db, &state.verified_tokens, body.token.trim()).await?;
        access::open_session(&state.db, holder).await
    }
    .await;
    match opened {
        Ok(session) => {
            let max_age = (session.expires_at - chrono::Utc::now()).num_seconds();
            let cookie = Cookie::build(SESSION_COOKIE, session.cookie.clone())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(request.connection_info().scheme() == "https")
                .max_age(time::Duration::seconds(max_age))
                .finish();
            HttpResponse::Ok()
                .cookie(cookie)
                .json(session_info(&session.holder, &session.csrf_token))
        }
        Err(error) => plain_refusal(&error),
    }
}

/// `GET /auth/session`: who the cookie belongs to, and its CSRF token.
pub async fn current_session(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    match session_of(&state, &request).await {
        Ok(Some(session)) => {
            HttpResponse::Ok().json(session_info(&session.holder, &session.csrf_token))
        }
        Ok(None) => plain_refusal(&ServiceError::Denied(Denial::Unauthenticated)),
        // Tell the browser to drop a cookie that no longer names a session.
        Err(error @ ServiceError::Denied(_)) => {
            let mut response = plain_refusal(&error);
            let _ =
                response.add_removal_cookie(&Cookie::build(SESSION_COOKIE, "").path("/").finish());
            response
        }
        Err(error) => plain_refusal(&error),
    }
}

/// `DELETE /auth/session`: signs out; needs the CSRF token like any change.
pub async fn sign_out(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let session = match session_of(&state, &request).await {
        Ok(Some(session)) => session,
        Ok(None) => return plain_refusal(&ServiceError::Denied(Denial::Unauthenticated)),
        Err(error) => return plain_refusal(&error),
    };
    if !csrf_matches(&request, &session) {
        return plain_refusal(&ServiceError::Denied(Denial::CsrfFailed));
    }
    if let Err(error) = access::end_session(&state.db, &session).await {
        return plain_refusal(&error);
    }
    let mut removal = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    removal.make_removal();
    HttpResponse::NoContent().cookie(removal).finish()
}
