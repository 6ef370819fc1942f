//! The GraphQL explorer: `GET /graphql` serves a GraphiQL page whose scripts
//! and styles come from Yardstick itself, never from a CDN, so the explorer
//! works offline.
//!
//! The assets are npm packages installed at build time by
//! `scripts/install-explorer.sh` (they are not committed). Only the four files
//! in [`ASSETS`] can be read through `/explorer/…`: a request names an entry
//! of that list, never a path. When the assets are missing the page says how
//! to install them; `POST /graphql` is unaffected either way.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::StatusCode;
use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::mime::{self, Mime};
use actix_web::{HttpRequest, HttpResponse, web};

/// One file the explorer page loads.
struct Asset {
    /// The name under `/explorer/`.
    name: &'static str,
    /// The path below the `node_modules` folder.
    source: &'static str,
    /// Whether it is a script (otherwise a style sheet).
    is_script: bool,
}

/// The only files served under `/explorer/`.
const ASSETS: [Asset; 4] = [
    Asset {
        name: "react.production.min.js",
        source: "react/umd/react.production.min.js",
        is_script: true,
    },
    Asset {
        name: "react-dom.production.min.js",
        source: "react-dom/umd/react-dom.production.min.js",
        is_script: true,
    },
    Asset {
        name: "graphiql.min.js",
        source: "graphiql/graphiql.min.js",
        is_script: true,
    },
    Asset {
        name: "graphiql.min.css",
        source: "graphiql/graphiql.min.css",
        is_script: false,
    },
];

/// The explorer page. The scripts are UMD builds that define the globals
/// `React`, `ReactDOM` and `GraphiQL`, so no bundler is involved.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Yardstick GraphQL explorer</title>
<link rel="stylesheet" href="/explorer/graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading the GraphQL explorer…</div>
<script src="/explorer/react.production.min.js"></script>
<script src="/explorer/react-dom.production.min.js"></script>
<script src="/explorer/graphiql.min.js"></script>
<script>
const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
ReactDOM.createRoot(document.getElementById('graphiql'))
  .render(React.createElement(GraphiQL, { fetcher }));
</script>
</body>
</html>
"#;

/// Shown instead of the explorer when its assets are not installed.
const NOT_INSTALLED_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphQL explorer not installed</title>
</head>
<body>
<h1>The GraphQL explorer is not installed</h1>
<p>The explorer's assets (GraphiQL and React from the npm registry) were not
found on this server. Install them from the repository root with
<code>scripts/install-explorer.sh</code> (<code>scripts/setup.sh</code> runs it),
then reload this page.</p>
<p>The GraphQL API itself works without them: send queries with
<code>POST /graphql</code>.</p>
</body>
</html>
"#;

/// Where the explorer's npm packages are installed.
#[derive(Debug, Clone)]
pub struct ExplorerAssets {
    node_modules: PathBuf,
}

impl ExplorerAssets {
    /// Uses the `node_modules` folder that `scripts/install-explorer.sh`
    /// fills, such as `.tools/explorer/node_modules`.
    pub fn new(node_modules: impl Into<PathBuf>) -> Self {
        Self {
            node_modules: node_modules.into(),
        }
    }

    /// Reports whether every file the page loads is present.
    pub fn is_installed(&self) -> bool {
        ASSETS.iter().all(|asset| self.path_of(asset).is_file())
    }

    fn path_of(&self, asset: &Asset) -> PathBuf {
        self.node_modules.join(asset.source)
    }

    fn root(&self) -> &Path {
        &self.node_modules
    }
}

/// Registers `GET /graphql` (the page) and `GET /explorer/{file}` (its
/// assets).
///
/// Both routes are guarded by method, so `POST /graphql` still reaches the
/// GraphQL handler when that is registered as a method-guarded route too
/// (`cfg.route("/graphql", web::post().to(..))`), in either order. A plain
/// `web::resource("/graphql")` answers every method for its path, so if the
/// API uses one, call this first or `GET /graphql` gets `405`.
pub fn configure(cfg: &mut web::ServiceConfig, assets: ExplorerAssets) {
    cfg.app_data(web::Data::new(assets))
        .route("/graphql", web::get().to(page))
        .route("/explorer/{file}", web::get().to(asset));
}

/// Serves the explorer page, or a page explaining how to install it
/// (`503 Service Unavailable`) when its assets are missing.
async fn page(assets: web::Data<ExplorerAssets>) -> HttpResponse {
    let (status, body) = if assets.is_installed() {
        (StatusCode::OK, PAGE)
    } else {
        tracing::warn!(
            explorer.assets = %assets.root().display(),
            "GraphQL explorer assets are missing; run scripts/install-explorer.sh"
        );
        (StatusCode::SERVICE_UNAVAILABLE, NOT_INSTALLED_PAGE)
    };
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .body(body)
}

/// Serves one allow-listed asset; any other name is `404 Not Found`.
async fn asset(
    req: HttpRequest,
    file: web::Path<String>,
    assets: web::Data<ExplorerAssets>,
) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == file.as_str()) else {
        return HttpResponse::NotFound().finish();
    };
    let path = assets.path_of(asset);
    let Ok(named_file) = NamedFile::open(&path) else {
        tracing::warn!(explorer.asset = %path.display(), "GraphQL explorer asset is missing");
        return HttpResponse::NotFound().finish();
    };
    named_file
        .set_content_type(content_type(asset))
        .disable_content_disposition()
        .into_response(&req)
}

fn content_type(asset: &Asset) -> Mime {
    if asset.is_script {
        mime::APPLICATION_JAVASCRIPT_UTF_8
    } else {
        mime::TEXT_CSS_UTF_8
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use actix_web::http::StatusCode;
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::{App, HttpResponse, test, web};

    use super::{ASSETS, ExplorerAssets, configure};

    /// A `node_modules` folder holding fake assets, removed on drop.
    struct FakeModules(PathBuf);

    impl FakeModules {
        fn new(label: &str, with_assets: bool) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("yardstick-explorer-{label}-{}", std::process::id()));
            fs::remove_dir_all(&dir).ok();
            fs::create_dir_all(&dir).expect("create the fake node_modules");
            if with_assets {
                for asset in &ASSETS {
                    let path = dir.join(asset.source);
                    let parent = path.parent().expect("asset paths have a parent");
                    fs::create_dir_all(parent).expect("create an asset folder");
                    fs::write(&path, format!("/* {} */", asset.name)).expect("write an asset");
                }
            }
            // A file outside the allow-list that must never be served.
            fs::write(dir.join("secret.txt"), "secret").expect("write the secret");
            Self(dir)
        }

        fn assets(&self) -> ExplorerAssets {
            ExplorerAssets::new(&self.0)
        }
    }

    impl Drop for FakeModules {
        fn drop(&mut self) {
            fs::remove_dir_all(&self.0).ok();
        }
    }

    async fn graphql_post() -> HttpResponse {
        HttpResponse::Ok().body("graphql answer")
    }

    macro_rules! app {
        ($assets:expr) => {
            test::init_service(
                App::new()
                    .route("/graphql", web::post().to(graphql_post))
                    .configure(|cfg| configure(cfg, $assets)),
            )
            .await
        };
    }

    fn content_type(response: &actix_web::dev::ServiceResponse) -> String {
        let header = response.headers().get(CONTENT_TYPE);
        header
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[actix_web::test]
    async fn page_loads_local_assets_and_targets_graphql() {
        let modules = FakeModules::new("page", true);
        let app = app!(modules.assets());

        let request = test::TestRequest::get().uri("/graphql").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(content_type(&response), "text/html; charset=utf-8");
        let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("utf-8");
        for asset in &ASSETS {
            assert!(
                body.contains(&format!("\"/explorer/{}\"", asset.name)),
                "{}",
                asset.name
            );
        }
        assert!(body.contains("GraphiQL.createFetcher({ url: '/graphql' })"));
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "no remote URLs"
        );
    }

    #[actix_web::test]
    async fn assets_are_served_with_their_types() {
        let modules = FakeModules::new("assets", true);
        let app = app!(modules.assets());

        for asset in &ASSETS {
            let uri = format!("/explorer/{}", asset.name);
            let request = test::TestRequest::get().uri(&uri).to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let expected = if asset.is_script {
                "application/javascript; charset=utf-8"
            } else {
                "text/css; charset=utf-8"
            };
            assert_eq!(content_type(&response), expected, "{uri}");
            let body = test::read_body(response).await;
            assert_eq!(body, format!("/* {} */", asset.name).as_bytes(), "{uri}");
        }
    }

    #[actix_web::test]
    async fn only_allow_listed_files_are_served() {
        let modules = FakeModules::new("allow-list", true);
        let app = app!(modules.assets());

        for uri in [
            "/explorer/secret.txt",
            "/explorer/graphiql.min.js.map",
            "/explorer/graphiql%2Fgraphiql.min.js",
            "/explorer/..%2Fsecret.txt",
            "/explorer/..%2F..%2F..%2Fetc%2Fpasswd",
            "/explorer/../secret.txt",
            "/explorer/",
        ] {
            let request = test::TestRequest::get().uri(uri).to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[actix_web::test]
    async fn missing_assets_give_install_hint_and_keep_post_working() {
        let modules = FakeModules::new("missing", false);
        let app = app!(modules.assets());

        let request = test::TestRequest::get().uri("/graphql").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type(&response), "text/html; charset=utf-8");
        let body = String::from_utf8(test::read_body(response).await.to_vec()).expect("utf-8");
        assert!(body.contains("not installed"));
        assert!(body.contains("scripts/install-explorer.sh"));

        let request = test::TestRequest::get()
            .uri("/explorer/graphiql.min.js")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        let request = test::TestRequest::post().uri("/graphql").to_request();
        let body = test::call_and_read_body(&app, request).await;
        assert_eq!(body, "graphql answer".as_bytes());
    }

    #[actix_web::test]
    async fn explorer_registered_first_coexists_with_a_graphql_resource() {
        let modules = FakeModules::new("order", true);
        let app = test::init_service(
            App::new()
                .configure(|cfg| configure(cfg, modules.assets()))
                .service(web::resource("/graphql").route(web::post().to(graphql_post))),
        )
        .await;

        let request = test::TestRequest::post().uri("/graphql").to_request();
        let body = test::call_and_read_body(&app, request).await;
        assert_eq!(body, "graphql answer".as_bytes());
        let request = test::TestRequest::get().uri("/graphql").to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}
