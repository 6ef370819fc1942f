//! A real server on a loopback port over a fresh PostgreSQL database, and a
//! small client for GraphQL (JSON and multipart uploads) with a token or a
//! session cookie, as programs and the web app call it.

use std::net::TcpListener;

use backend::explorer::ExplorerAssets;
use backend::server::{AppState, ReadAccess, serve};
use backend::service::access::{self, Role};
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tests::pg;

/// A server and the database behind it; the server stops when dropped.
pub struct Server {
    pub base: String,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a server over a new, migrated PostgreSQL database.
pub async fn start(read_access: ReadAccess) -> anyhow::Result<Server> {
    let database = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&database.url).await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(
        db.clone(),
        ExplorerAssets::new("/nonexistent"),
        "/nonexistent".into(),
    )
    .with_read_access(read_access);
    let task = tokio::spawn(serve(listener, state));
    Ok(Server {
        base,
        db,
        client: reqwest::Client::new(),
        task,
    })
}

/// The credentials a call carries.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub bearer: Option<String>,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Auth {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn token(token: &str) -> Self {
        Self {
            bearer: Some(token.to_string()),
            ..Self::default()
        }
    }
}

impl Server {
    /// Creates a token directly in the database, as `yardstick admin create-token` does.
    pub async fn token(&self, name: &str, role: Role) -> anyhow::Result<String> {
        let created = access::create_token(&self.db, name, role, "cli:test")
            .await
            .map_err(|error| anyhow::anyhow!(error.message()))?;
        Ok(created.token)
    }

    fn request(&self, method: reqwest::Method, path: &str, auth: &Auth) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &auth.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(cookie) = &auth.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(csrf) = &auth.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request
    }

    /// Sends a GraphQL request as JSON; returns the status and body.
    pub async fn graphql(
        &self,
        auth: &Auth,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = self
            .request(reqwest::Method::POST, "/graphql", auth)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    /// Sends a GraphQL request whose variable `$file` is an uploaded file, by
    /// the GraphQL multipart request spec.
    pub async fn upload(
        &self,
        auth: &Auth,
        query: &str,
        mut variables: Value,
        file_name: &str,
        content: &[u8],
    ) -> anyhow::Result<Value> {
        variables["file"] = Value::Null;
        let operations = json!({"query": query, "variables": variables}).to_string();
        let map = json!({"0": ["variables.file"]}).to_string();
        let boundary = "yardstick-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, value) in [("operations", operations), ("map", map)] {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n\
                     {value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; \
                 filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .request(reqwest::Method::POST, "/graphql", auth)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await?;
        Ok(response.json().await?)
    }

    /// Signs in with `token`; returns the session cookie header and CSRF token.
    pub async fn sign_in(&self, token: &str) -> anyhow::Result<(StatusCode, Auth, Value)> {
        let response = self
            .request(reqwest::Method::POST, "/auth/session", &Auth::none())
            .json(&json!({"token": token}))
            .send()
            .await?;
        let status = response.status();
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body: Value = response.json().await?;
        let auth = Auth {
            bearer: None,
            cookie: cookie
                .as_deref()
                .and_then(|c| c.split(';').next())
                .map(str::to_string),
            csrf: body["csrfToken"].as_str().map(str::to_string),
        };
        let mut with_header = body.clone();
        with_header["setCookie"] = json!(cookie);
        Ok((status, auth, with_header))
    }

    /// Sends any request to the session endpoint.
    pub async fn session(
        &self,
        method: reqwest::Method,
        auth: &Auth,
    ) -> anyhow::Result<(StatusCode, String)> {
        let response = self.request(method, "/auth/session", auth).send().await?;
        let status = response.status();
        Ok((status, response.text().await?))
    }
}

/// Returns `extensions.code` of the first error, or `""` when there is none.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
