//! The HTTP server: `/graphql` (API and explorer), the web app at `/`, and a
//! health check. Thin handlers only; everything else lives in `service`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest};
use actix_web::{App, HttpResponse, HttpServer, web};
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use sea_orm::DatabaseConnection;

use crate::explorer::{self, ExplorerAssets};
use crate::graphql::{YardstickSchema, build_schema, loader};

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub schema: YardstickSchema,
    pub db: DatabaseConnection,
    pub explorer: ExplorerAssets,
    pub web_dir: PathBuf,
}

impl AppState {
    /// Builds the state around a migrated database.
    pub fn new(db: DatabaseConnection, explorer: ExplorerAssets, web_dir: PathBuf) -> Self {
        Self {
            schema: build_schema(db.clone()),
            db,
            explorer,
            web_dir,
        }
    }
}

/// Shown at `/` until the web app is built.
const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Yardstick</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Yardstick</h1>
<p>The web app is not part of this build. Query the data in the
<a href="/graphql">GraphQL explorer</a>.</p></body></html>"#;

async fn graphql(state: web::Data<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    let request = request.into_inner();
    tracing::debug!(operation = ?request.operation_name, "graphql request");
    let request = request.data(loader::loaders(state.db.clone()));
    state.schema.execute(request).await.into()
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
        .route("/graphql", web::post().to(graphql))
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
        let response = response.await?;
        let status = response.status().as_u16();
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(%method, %path, status, duration_ms, "request");
        Ok(response)
    }
}

/// Serves the app on `listener` until the process is stopped.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new()
            .wrap_fn(log_request)
            .configure(move |cfg| routes(cfg, &state))
    })
    .listen(listener)?
    .run();
    tracing::info!(%address, "serving GraphQL at /graphql and the web app at /");
    server.await
}
