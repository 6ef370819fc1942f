//! Who may do what, over real HTTP on real PostgreSQL: every mutation in the
//! schema is refused without credentials, with a wrong, a revoked or a reader
//! token, and from a session without its CSRF token. The mutations are read
//! from the schema itself, so one added later is covered without editing
//! this file.

use backend::server::ReadAccess;
use backend::service::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::http::{Auth, Server, error_code, start};
use super::support::count;

const INTROSPECT_MUTATIONS: &str = "{ __schema { mutationType { fields { name
    args { name type { ...TypeRef } } } } types { name kind
    inputFields { name type { ...TypeRef } } enumValues { name } } } }
    fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name
    ofType { kind name } } } }";

/// Unwraps NON_NULL and LIST wrappers: (named type, required, list).
fn named(type_ref: &Value) -> (String, bool) {
    let required = type_ref["kind"] == "NON_NULL";
    let mut current = type_ref;
    while current["name"].is_null() && !current["ofType"].is_null() {
        current = &current["ofType"];
    }
    (
        current["name"].as_str().unwrap_or_default().to_string(),
        required,
    )
}

/// Writes a literal of the named type: an input object gets its required
/// fields, recursively.
fn literal(type_name: &str, types: &[Value]) -> String {
    match type_name {
        "String" | "ID" => "\"x\"".to_string(),
        "Int" => "1".to_string(),
        "Float" => "1.0".to_string(),
        "Boolean" => "false".to_string(),
        "UUID" => "\"00000000-0000-0000-0000-000000000001\"".to_string(),
        "DateTime" => "\"2026-01-01T00:00:00Z\"".to_string(),
        _ => {
            let Some(described) = types.iter().find(|t| t["name"] == type_name) else {
                return "null".to_string();
            };
            if described["kind"] == "ENUM" {
                return described["enumValues"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
            }
            let fields: Vec<String> = described["inputFields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|field| named(&field["type"]).1)
                .map(|field| {
                    let (inner, _) = named(&field["type"]);
                    format!(
                        "{}: {}",
                        field["name"].as_str().unwrap_or_default(),
                        literal(&inner, types)
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// Builds one document per mutation with every required argument filled;
/// uploads become the variable `$file`.
fn mutation_documents(schema: &Value) -> Vec<(String, String)> {
    let types = schema["__schema"]["types"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fields = schema["__schema"]["mutationType"]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    fields
        .iter()
        .map(|field| {
            let name = field["name"].as_str().unwrap_or_default().to_string();
            let mut uses_upload = false;
            let args: Vec<String> = field["args"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|arg| named(&arg["type"]).1)
                .map(|arg| {
                    let (inner, _) = named(&arg["type"]);
                    let value = if inner == "Upload" {
                        uses_upload = true;
                        "$file".to_string()
                    } else {
                        literal(&inner, &types)
                    };
                    format!("{}: {value}", arg["name"].as_str().unwrap_or_default())
                })
                .collect();
            let variables = if uses_upload { "($file: Upload!)" } else { "" };
            let call = if args.is_empty() {
                name.clone()
            } else {
                format!("{name}({})", args.join(", "))
            };
            let document = format!("mutation{variables} {{ {call} {{ __typename }} }}");
            (name, document)
        })
        .collect()
}

async fn refusal(
    server: &Server,
    auth: &Auth,
    document: &str,
) -> anyhow::Result<(StatusCode, String)> {
    let (status, body) = server
        .graphql(auth, document, json!({"file": null}))
        .await?;
    anyhow::ensure!(
        body["data"].is_null() || body["data"] == json!({}),
        "a refused mutation returned data: {body}"
    );
    Ok((status, error_code(&body)))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_mutation_needs_an_admin() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = server.token("admin", Role::Admin).await?;
    let reader = server.token("reader", Role::Reader).await?;
    let revoked = server.token("revoked", Role::Admin).await?;
    backend::service::access::revoke_token(&server.db, "revoked", "cli:test")
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))?;
    // Same id as a real admin token, wrong secret: the hash check must catch it.
    let wrong = format!(
        "{}_{}",
        admin.rsplit_once('_').map_or("", |(id, _)| id),
        "0".repeat(64)
    );
    let (_, mut cookie_only, _) = server.sign_in(&admin).await?;
    cookie_only.csrf = None;

    let (_, schema) = server
        .graphql(&Auth::none(), INTROSPECT_MUTATIONS, json!({}))
        .await?;
    let documents = mutation_documents(&schema["data"]);
    let names: Vec<&str> = documents.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.contains(&"createDataset") && names.contains(&"publishDatasetVersion"),
        "introspection found too few mutations: {names:?}"
    );

    let refusals = [
        (
            "no credentials",
            Auth::none(),
            StatusCode::OK,
            "unauthenticated",
        ),
        (
            "wrong token",
            Auth::token(&wrong),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            "garbage token",
            Auth::token("nonsense"),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            "revoked token",
            Auth::token(&revoked),
            StatusCode::UNAUTHORIZED,
            "token_revoked",
        ),
        (
            "reader token",
            Auth::token(&reader),
            StatusCode::OK,
            "forbidden",
        ),
        (
            "cookie without CSRF token",
            cookie_only,
            StatusCode::OK,
            "csrf_failed",
        ),
    ];
    for (name, document) in &documents {
        let events_before = count(&server.db, "SELECT count(*) FROM audit_event").await;
        for (case, auth, status, code) in &refusals {
            let (got_status, got_code) = refusal(&server, auth, document).await?;
            assert_eq!(
                (got_status, got_code.as_str()),
                (*status, *code),
                "{name} with {case}"
            );
        }
        let events_after = count(&server.db, "SELECT count(*) FROM audit_event").await;
        assert_eq!(
            events_after, events_before,
            "a refused {name} changed something"
        );
        // The control: an admin passes the gate (the dummy arguments may
        // still fail, but never for want of credentials).
        let (_, body) = server
            .graphql(&Auth::token(&admin), document, json!({"file": null}))
            .await?;
        let code = error_code(&body);
        assert!(
            ![
                "unauthenticated",
                "invalid_token",
                "token_revoked",
                "forbidden",
                "csrf_failed"
            ]
            .contains(&code.as_str()),
            "{name} refused an admin: {body}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_carry_csrf_tokens_and_end_at_sign_out() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let admin = server.token("web-admin", Role::Admin).await?;
    let reader = server.token("web-reader", Role::Reader).await?;

    let (status, _, body) = server.sign_in(&reader).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _, body) = server.sign_in("ys_nope").await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );

    let (status, session, body) = server.sign_in(&admin).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["name"].as_str(), body["role"].as_str()),
        (Some("web-admin"), Some("admin"))
    );
    let set_cookie = body["setCookie"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    for attribute in ["httponly", "samesite=strict", "path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "cookie lacks {attribute}: {set_cookie}"
        );
    }

    let create_body = r#"{ createDataset(input: {name: "from-session"}) { name createdBy } }"#;
    let create = &format!("mutation {create_body}");
    let (_, body) = server.graphql(&session, create, json!({})).await?;
    assert_eq!(
        body["data"]["createDataset"],
        json!({"name": "from-session", "createdBy": "web-admin"})
    );

    // A browser on another site could send the cookie (if it were not
    // SameSite) and even guess the header name, but its Origin gives it away.
    let mut forged = session.clone();
    forged.csrf = Some("0".repeat(64));
    let (_, body) = server.graphql(&forged, create, json!({})).await?;
    assert_eq!(error_code(&body), "csrf_failed");
    let cross_site = server
        .client
        .post(format!("{}/graphql", server.base))
        .header("cookie", session.cookie.clone().unwrap_or_default())
        .header("x-csrf-token", session.csrf.clone().unwrap_or_default())
        .header("origin", "http://evil.example")
        .json(&json!({"query": create}))
        .send()
        .await?;
    let body: Value = cross_site.json().await?;
    assert_eq!(error_code(&body), "csrf_failed");

    let (status, text) = server.session(Method::GET, &session).await?;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, _) = server.session(Method::DELETE, &forged).await?;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "sign-out needs the CSRF token"
    );
    let (status, _) = server.session(Method::DELETE, &session).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server.session(Method::GET, &session).await?;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the ended session still works"
    );
    // The stale cookie reads as none: reads work, changes are unauthenticated.
    let (status, body) = server.graphql(&session, create, json!({})).await?;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::OK, "unauthenticated")
    );
    let (_, body) = server
        .graphql(&session, "{ viewer { signedIn } }", json!({}))
        .await?;
    assert_eq!(body["data"]["viewer"]["signedIn"], false);

    // A document may hold reads and changes; only the operation that runs counts.
    let mixed = format!("query Read {{ viewer {{ signedIn }} }} mutation Write {create_body}");
    for (operation, expected) in [("Read", ""), ("Write", "unauthenticated")] {
        let request = json!({"query": mixed, "operationName": operation});
        let response = server
            .client
            .post(format!("{}/graphql", server.base))
            .json(&request)
            .send()
            .await?;
        let body: Value = response.json().await?;
        assert_eq!(error_code(&body), expected, "{operation}: {body}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_reads_need_a_token_and_tokens_are_stored_hashed() -> anyhow::Result<()> {
    let server = start(ReadAccess::Token).await?;
    let reader = server.token("closed-reader", Role::Reader).await?;
    let query = "{ viewer { name role signedIn } datasets { totalCount } }";

    let (status, body) = server.graphql(&Auth::none(), query, json!({})).await?;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let (status, body) = server
        .graphql(&Auth::token(&reader), query, json!({}))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"viewer": {"name": "closed-reader", "role": "READER", "signedIn": true},
               "datasets": {"totalCount": 0}})
    );

    let secret = reader.rsplit_once('_').map_or("", |(_, secret)| secret);
    let leaked = count(
        &server.db,
        &format!("SELECT count(*) FROM access_token WHERE secret_hash LIKE '%{secret}%'"),
    )
    .await;
    let hashed = count(
        &server.db,
        "SELECT count(*) FROM access_token WHERE secret_hash LIKE '$argon2id$%'",
    )
    .await;
    assert_eq!((leaked, hashed), (0, 1));
    let events = count(
        &server.db,
        "SELECT count(*) FROM audit_event WHERE action = 'access_token.create'",
    )
    .await;
    assert_eq!(events, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn other_auth_schemes_and_unreadable_bodies_get_coded_refusals() -> anyhow::Result<()> {
    let server = start(ReadAccess::Open).await?;
    let url = format!("{}/graphql", server.base);
    let query = json!({"query": "{ datasets { totalCount } }"});
    // Basic credentials are refused, not read as anonymous; a body that is
    // not JSON gets a GraphQL error with a code.
    let basic = server
        .client
        .post(&url)
        .basic_auth("admin", Some("secret"))
        .json(&query);
    let broken = server
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"query\": ");
    let misspelt = server
        .client
        .post(&url)
        .json(&json!({"querry": "{ datasets { totalCount } }"}));
    let cases = [
        (
            basic,
            StatusCode::UNAUTHORIZED,
            "unsupported_auth_scheme",
            "Bearer",
        ),
        (
            broken,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "not valid JSON (EOF while parsing",
        ),
        (
            misspelt,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "has no `query` text",
        ),
    ];
    for (request, status, code, words) in cases {
        let response = request.send().await?;
        let got = response.status();
        let body: Value = response.json().await?;
        assert_eq!((got, error_code(&body).as_str()), (status, code), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{message}");
        assert!(!message.contains("BatchRequest"), "{message}");
    }
    Ok(())
}
