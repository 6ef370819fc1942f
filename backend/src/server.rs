//! The HTTP server: `/graphql` (API and explorer), the web app at `/`, sign-in
//! at `/auth/session`, and a health check. Thin handlers only; everything else
//! lives in `service`.

mod auth;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use async_graphql::http::MultipartOptions;
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use sea_orm::DatabaseConnection;

use crate::error::{Denial, ServiceError};
use crate::explorer::{self, ExplorerAssets};
use crate::graphql::{Principal, YardstickSchema, build_schema, loader};
use crate::service::access::VerifiedTokens;
use crate::service::leaderboard::ranked;

/// Who may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReadAccess {
    /// Anyone may read; changes still need an admin token.
    #[default]
    Open,
    /// Reading needs a reader or admin token (or an admin's session).
    Token,
}

/// The largest item file an upload may send.
const MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub schema: YardstickSchema,
    pub db: DatabaseConnection,
    pub explorer: ExplorerAssets,
    pub web_dir: PathBuf,
    pub read_access: ReadAccess,
    pub verified_tokens: VerifiedTokens,
}

impl AppState {
    /// Builds the state around a migrated database.
    pub fn new(db: DatabaseConnection, explorer: ExplorerAssets, web_dir: PathBuf) -> Self {
        Self {
            schema: build_schema(db.clone()),
            db,
            explorer,
            web_dir,
            read_access: ReadAccess::Open,
            verified_tokens: VerifiedTokens::default(),
        }
    }

    /// Sets who may read.
    pub fn with_read_access(mut self, read_access: ReadAccess) -> Self {
        self.read_access = read_access;
        self
    }
}

/// Shown at `/` until the web app is built.
const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Yardstick</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Yardstick</h1>
<p>The web app is not part of this build. Query the data in the
<a href="/graphql">GraphQL explorer</a>.</p></body></html>"#;

async fn graphql(
    state: web::Data<AppState>,
    http: HttpRequest,
    request: Result<GraphQLRequest, actix_web::Error>,
) -> actix_web::Either<GraphQLResponse, HttpResponse> {
    let request = match request {
        Ok(request) => request,
        Err(error) => return actix_web::Either::Right(unreadable_request(&error)),
    };
    let principal = match auth::principal(&state, &http).await {
        Ok(principal) => principal,
        Err(error) => return actix_web::Either::Right(auth::graphql_refusal(&error)),
    };
    if state.read_access == ReadAccess::Token && principal == Principal::Anonymous {
        let error = ServiceError::Denied(Denial::Unauthenticated);
        return actix_web::Either::Right(auth::graphql_refusal(&error));
    }
    let request = request.into_inner();
    if request.query.trim().is_empty() {
        return actix_web::Either::Right(request_without_query());
    }
    tracing::debug!(operation = ?request.operation_name, "graphql request");
    let request = request
        .data(loader::loaders(state.db.clone()))
        .data(principal);
    actix_web::Either::Left(state.schema.execute(request).await.into())
}

/// Answers a body that is not a GraphQL request (malformed JSON, a broken
/// multipart upload, one over the size limit) as a GraphQL error with a
/// code, keeping the status the parser chose, so clients branch on it as
/// on any other error.
fn unreadable_request(error: &actix_web::Error) -> HttpResponse {
    let status = error.as_response_error().status_code();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload_too_large"
    } else {
        "invalid_request"
    };
    tracing::info!(%status, code, "unreadable graphql request");
    HttpResponse::build(status).json(serde_json::json!({
        "data": null,
        "errors": [{
            "message": format!("the request body is not a GraphQL request: {}", why(error)),
            "extensions": {"code": code},
        }],
    }))
}

/// Answers a request whose `query` is missing or blank (a misspelt key is
/// ignored by the parser and leaves it empty) as an unreadable one.
fn request_without_query() -> HttpResponse {
    tracing::info!(code = "invalid_request", "graphql request without a query");
    HttpResponse::BadRequest().json(serde_json::json!({
        "data": null,
        "errors": [{
            "message": format!("the request has no `query` text: {EXPECTED_SHAPE}"),
            "extensions": {"code": "invalid_request"},
        }],
    }))
}

/// What a GraphQL request body must look like.
const EXPECTED_SHAPE: &str = "expected a JSON object with a `query` string (and optional \
    `variables` and `operationName`), or a list of such objects";

/// Says why a body was not a request. The parser's own words are kept when
/// they point at the fault (a JSON syntax error with its line and column);
/// for a well-formed body of the wrong shape they only name an internal
/// type, so the expected shape is said instead.
fn why(error: &actix_web::Error) -> String {
    let text = error.to_string();
    let text = text.strip_prefix("Invalid request: ").unwrap_or(&text);
    if text.contains("untagged enum") {
        EXPECTED_SHAPE.to_string()
    } else if text.contains(" at line ") && text.contains(" column ") {
        // serde_json's syntax errors end with their place in the body.
        format!("it is not valid JSON ({text})")
    } else {
        text.to_string()
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn web_app(state: web::Data<AppState>) -> HttpResponse {
    let index = state.web_dir.join("index.html");
    match std::fs::read_to_string(&index) {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(PLACEHOLDER),
    }
}

/// Registers every route; used by the server and by in-process tests.
pub fn routes(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.app_data(web::Data::new(state.clone()))
        .app_data(
            MultipartOptions::default()
                .max_file_size(MAX_UPLOAD_BYTES)
                .max_num_files(1),
        )
        .route("/graphql", web::post().to(graphql))
        .route("/auth/session", web::post().to(auth::sign_in))
        .route("/auth/session", web::get().to(auth::current_session))
        .route("/auth/session", web::delete().to(auth::sign_out))
        .route("/health", web::get().to(health));
    explorer::configure(cfg, state.explorer.clone());
    if state.web_dir.join("index.html").is_file() {
        cfg.service(
            actix_files::Files::new("/", &state.web_dir)
                .index_file("index.html")
                .default_handler(web::to(web_app)),
        );
    } else {
        cfg.default_service(web::to(web_app));
    }
}

fn log_request<S>(
    request: ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<S::Response, S::Error>> + use<S>
where
    S: Service<
            ServiceRequest,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.path().to_string();
    let response = service.call(request);
    async move {
        let mut response = response.await?;
        let status = response.status().as_u16();
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        // Microseconds are plenty; the float's own digits are noise in a log.
        let logged_ms = (duration_ms * 1000.0).round() / 1000.0;
        tracing::info!(%method, %path, status, duration_ms = logged_ms, "request");
        // The server's own share of the request's time, for browsers'
        // developer tools and for benchmarks that tell it from the network's.
        if let Ok(value) = HeaderValue::from_str(&format!("app;dur={duration_ms:.3}")) {
            response.headers_mut().insert(SERVER_TIMING.clone(), value);
        }
        Ok(response)
    }
}

/// The `Server-Timing` response header (W3C Server Timing).
static SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// Serves the app on `listener` until the process is stopped, and keeps
/// the database's boards ranked meanwhile.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    let db = state.db.clone();
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new()
            .wrap_fn(log_request)
            .configure(move |cfg| routes(cfg, &state))
    })
    .listen(listener)?
    .run();
    tracing::info!(%address, "serving GraphQL at /graphql and the web app at /");
    tokio::select! {
        served = server => served,
        never = ranked::keep_ranked(db) => match never {},
    }
}
