//! Every call the web app makes to the server, and nothing else does: the
//! GraphQL API here, in `dataset` and in `samples`, sign-in in `auth`,
//! uploads in `upload`.
//!
//! Operations are typed by `graphql_client` against `backend/schema.graphql`
//! at build time, so a schema change that breaks a page breaks the build.

use std::fmt;

use gloo_net::http::Request;
use graphql_client::GraphQLQuery;
use serde::de::DeserializeOwned;

use crate::format::{Kind, Num};

/// The API's `DateTime` scalar: RFC 3339 text.
pub type DateTime = String;
/// The API's `UUID` scalar: a run id.
#[allow(
    clippy::upper_case_acronyms,
    reason = "the name graphql_client looks up"
)]
pub type UUID = String;
/// The API's `JSON` scalar: a configuration as recorded.
#[allow(
    clippy::upper_case_acronyms,
    reason = "the name graphql_client looks up"
)]
pub type JSON = serde_json::Value;

/// One recorded change (an event), the same whichever operation fetched it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<JSON>,
    pub after: Option<JSON>,
}

/// Builds an `AuditEntry` from any operation's event selection.
macro_rules! audit {
    ($e:expr) => {
        AuditEntry {
            id: $e.id,
            occurred_at: $e.occurred_at,
            actor: $e.actor,
            action: $e.action,
            entity_kind: $e.entity_kind,
            entity_id: $e.entity_id,
            before: $e.before,
            after: $e.after,
        }
    };
}

/// Derives one operation from the operations file `$file`. The path comes
/// in as a single token tree: the derive reads its attribute's tokens, and
/// a `literal` fragment would reach it wrapped, not as a string.
// rustfmt indents this attribute further on every run (a `$file` inside
// it confuses it), so the macro keeps its layout by hand.
#[rustfmt::skip]
macro_rules! operation {
    ($file:tt, $name:ident) => {
        #[derive(GraphQLQuery)]
        #[graphql(
            schema_path = "../backend/schema.graphql",
            query_path = $file,
            response_derives = "Debug, Clone, PartialEq",
            variables_derives = "Debug, Clone, PartialEq"
        )]
        pub struct $name;
    };
}

// Declared after `audit!` and `operation!` so that they can use them.
pub mod auth;
pub mod dataset;
pub mod samples;
mod upload;

const ENDPOINT: &str = "/graphql";
/// The header that carries the session's CSRF token on every write.
const CSRF_HEADER: &str = "X-CSRF-Token";

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/leaderboard.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct Leaderboard;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/leaderboard.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct TaskChoices;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/leaderboard.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct TaskMetrics;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/models.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct ModelList;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/models.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct ModelPage;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/models.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct ModelScores;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/tasks.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct TaskList;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/tasks.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct TaskPage;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/runs.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct RunList;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../backend/schema.graphql",
    query_path = "graphql/runs.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, PartialEq"
)]
pub struct RunPage;

/// An error from the API (with its `extensions.code`) or from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    pub code: String,
    /// The argument or input field at fault (`extensions.field`), so a form
    /// can show the message next to it.
    pub field: Option<String>,
    /// The 1-based line of an uploaded file at fault (`extensions.line`).
    pub line: Option<i64>,
}

impl ApiError {
    fn new(message: impl Into<String>, code: &str) -> Self {
        Self {
            message: message.into(),
            code: code.to_string(),
            field: None,
            line: None,
        }
    }

    fn from_graphql(error: graphql_client::Error) -> Self {
        let extensions = error.extensions.unwrap_or_default();
        let text = |key: &str| extensions.get(key).and_then(|v| v.as_str());
        Self {
            code: text("code").unwrap_or("unknown").to_string(),
            field: text("field").map(str::to_string),
            line: extensions.get("line").and_then(|v| v.as_i64()),
            message: error.message,
        }
    }

    fn unreachable(error: impl fmt::Display) -> Self {
        Self::new(format!("the API could not be reached: {error}"), "network")
    }

    /// Whether asking again may succeed: the network or the server failed,
    /// rather than the request itself (a bad address, a missing run).
    pub fn is_transient(&self) -> bool {
        matches!(self.code.as_str(), "network" | "internal" | "unknown")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code: {})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

/// Returns a GraphQL response's data, or the first error it reports.
fn data_of<T>(response: graphql_client::Response<T>) -> Result<T, ApiError> {
    if let Some(error) = response.errors.and_then(|errors| errors.into_iter().next()) {
        return Err(ApiError::from_graphql(error));
    }
    response
        .data
        .ok_or_else(|| ApiError::new("the server sent neither data nor an error", "bad_response"))
}

/// The error for an answer that is not a GraphQL response.
fn bad_response(status: u16) -> ApiError {
    let message = format!("the server answered HTTP {status} without a GraphQL response");
    ApiError::new(message, "bad_response")
}

/// Posts one query and returns its data, or the first error it reports.
async fn post<Q: GraphQLQuery>(variables: Q::Variables) -> Result<Q::ResponseData, ApiError>
where
    Q::ResponseData: DeserializeOwned,
{
    let (status, text) = exchange(body::<Q>(variables)?, None).await?;
    parse(status, &text)
}

/// Posts one mutation with the session's CSRF token, which the server wants
/// on every write made with the session cookie. The answer stays plain JSON:
/// pages read a field of it at most, and a typed decoder per mutation would
/// cost the web app kilobytes each.
async fn mutate<Q: GraphQLQuery>(csrf: &str, variables: Q::Variables) -> Result<JSON, ApiError> {
    let (status, text) = exchange(body::<Q>(variables)?, Some(csrf)).await?;
    parse(status, &text)
}

/// Returns `field` of `mutation` in a mutation's answer.
fn answer<'a>(data: &'a JSON, mutation: &str, field: &str) -> Result<&'a JSON, ApiError> {
    let found = data.get(mutation).and_then(|answer| answer.get(field));
    found.ok_or_else(|| {
        let message = format!("the answer lacks `{mutation}.{field}`");
        ApiError::new(message, "bad_response")
    })
}

/// Returns an operation's request body as JSON text.
fn body<Q: GraphQLQuery>(variables: Q::Variables) -> Result<String, ApiError> {
    serde_json::to_string(&Q::build_query(variables))
        .map_err(|error| ApiError::new(error.to_string(), "bad_request"))
}

/// Posts a JSON body and returns the status and text of the answer. Not
/// generic, so that its code exists once rather than once per operation,
/// which keeps the web app small.
async fn exchange(body: String, csrf: Option<&str>) -> Result<(u16, String), ApiError> {
    let mut request = Request::post(ENDPOINT).header("content-type", "application/json");
    if let Some(csrf) = csrf {
        request = request.header(CSRF_HEADER, csrf);
    }
    let request = request.body(body).map_err(ApiError::unreachable)?;
    let response = request.send().await.map_err(ApiError::unreachable)?;
    let text = response.text().await.map_err(ApiError::unreachable)?;
    Ok((response.status(), text))
}

/// Reads a GraphQL answer: its data, or the first error it reports.
fn parse<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    match serde_json::from_str::<graphql_client::Response<T>>(text) {
        Ok(parsed) => data_of(parsed),
        // When one root field fails, the server still sends its siblings'
        // data, which the typed decoder refuses for the missing field; the
        // error explains more than "bad response" would.
        Err(_) => Err(first_error(text).unwrap_or_else(|| bad_response(status))),
    }
}

/// Returns the first error of an answer whose data could not be read.
fn first_error(text: &str) -> Option<ApiError> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Option<Vec<graphql_client::Error>>,
    }
    let answer: Errors = serde_json::from_str(text).ok()?;
    let error = answer.errors?.into_iter().next()?;
    Some(ApiError::from_graphql(error))
}

/// Fetches a leaderboard.
pub async fn leaderboard(
    variables: leaderboard::Variables,
) -> Result<leaderboard::LeaderboardLeaderboard, ApiError> {
    Ok(post::<Leaderboard>(variables).await?.leaderboard)
}

/// Fetches up to 40 task names containing `search`.
pub async fn task_choices(search: String) -> Result<Vec<String>, ApiError> {
    let search = Some(search).filter(|s| !s.is_empty());
    let data = post::<TaskChoices>(task_choices::Variables { search }).await?;
    Ok(data
        .task_summaries
        .nodes
        .into_iter()
        .map(|t| t.name)
        .collect())
}

/// Fetches a task's metrics, and the tags and projects to filter by.
pub async fn task_metrics(name: String) -> Result<task_metrics::ResponseData, ApiError> {
    post::<TaskMetrics>(task_metrics::Variables { name }).await
}

/// Fetches a page of models whose names contain `search`.
pub async fn model_list(
    search: Option<String>,
    after: Option<String>,
) -> Result<model_list::ModelListModels, ApiError> {
    Ok(post::<ModelList>(model_list::Variables { search, after })
        .await?
        .models)
}

/// Fetches a model's page; `None` when no model has that name.
pub async fn model_page(name: String) -> Result<Option<model_page::ModelPageModel>, ApiError> {
    Ok(post::<ModelPage>(model_page::Variables { name })
        .await?
        .model)
}

/// Fetches a page of task names.
pub async fn task_list(
    search: Option<String>,
    after: Option<String>,
) -> Result<task_list::TaskListTaskSummaries, ApiError> {
    let data = post::<TaskList>(task_list::Variables { search, after }).await?;
    Ok(data.task_summaries)
}

/// Fetches a task's page data.
pub async fn task_page(name: String) -> Result<task_page::ResponseData, ApiError> {
    post::<TaskPage>(task_page::Variables { name }).await
}

/// Fetches a page of runs.
pub async fn run_list(
    filter: run_list::RunsWhere,
    after: Option<String>,
) -> Result<run_list::RunListRuns, ApiError> {
    let variables = run_list::Variables {
        where_: Some(filter),
        after,
    };
    Ok(post::<RunList>(variables).await?.runs)
}

/// Fetches a run; `None` when no run has that id.
pub async fn run_page(id: String) -> Result<Option<run_page::RunPageRun>, ApiError> {
    Ok(post::<RunPage>(run_page::Variables { id }).await?.run)
}

/// Returns a run's history, oldest first.
pub fn run_history(run: &run_page::RunPageRun) -> Vec<AuditEntry> {
    run.history.iter().cloned().map(|e| audit!(e)).collect()
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Higher,
    Lower,
    Ideal,
    Unknown,
}

impl Direction {
    /// A short phrase for headers and captions.
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Higher => "higher is better",
            Self::Lower => "lower is better",
            Self::Ideal => "closest to ideal is better",
            Self::Unknown => "direction unknown",
        }
    }

    /// A single arrow for tight spaces.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Higher => "↑",
            Self::Lower => "↓",
            Self::Ideal => "◎",
            Self::Unknown => "?",
        }
    }
}

/// One score of a model, the same whichever operation fetched it.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub task: String,
    pub version: Option<String>,
    pub n_shot: Option<i64>,
    pub revision: Option<String>,
    pub run_id: String,
    pub metric: String,
    pub direction: Direction,
    pub filter: String,
    pub value: Num,
    pub stderr: Num,
}

/// Builds a `Score` from any operation's score selection.
macro_rules! score {
    ($s:expr) => {
        Score {
            task: $s.task.name.clone(),
            version: $s.task.version.clone(),
            n_shot: $s.n_shot,
            revision: $s.revision.clone(),
            run_id: $s.run.id.clone(),
            metric: $s
                .result
                .metric
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            direction: $s
                .result
                .metric
                .as_ref()
                .map(|m| Direction::from(&m.direction))
                .unwrap_or(Direction::Unknown),
            filter: $s.result.filter.clone(),
            value: Num::new($s.result.value, Kind::from(&$s.result.value_kind)),
            stderr: Num::new($s.result.stderr, Kind::from(&$s.result.stderr_kind)),
        }
    };
}

/// Converts each operation's copy of the schema's enums into ours.
macro_rules! enums {
    ($($module:ident),*) => {$(
        impl From<&$module::NumberKind> for Kind {
            fn from(kind: &$module::NumberKind) -> Self {
                match kind {
                    $module::NumberKind::FINITE => Kind::Finite,
                    $module::NumberKind::NAN => Kind::Nan,
                    $module::NumberKind::POSITIVE_INFINITY => Kind::PositiveInfinity,
                    $module::NumberKind::NEGATIVE_INFINITY => Kind::NegativeInfinity,
                    $module::NumberKind::NOT_AVAILABLE => Kind::NotAvailable,
                    _ => Kind::Missing,
                }
            }
        }
    )*};
}
use samples::run_samples;
enums!(leaderboard, model_page, model_scores, run_page, run_samples);

macro_rules! directions {
    ($($module:ident),*) => {$(
        impl From<&$module::MetricDirection> for Direction {
            fn from(direction: &$module::MetricDirection) -> Self {
                match direction {
                    $module::MetricDirection::HIGHER => Direction::Higher,
                    $module::MetricDirection::LOWER => Direction::Lower,
                    $module::MetricDirection::IDEAL => Direction::Ideal,
                    _ => Direction::Unknown,
                }
            }
        }
    )*};
}
directions!(
    leaderboard,
    task_metrics,
    model_page,
    model_scores,
    task_page,
    run_page
);

/// Returns a model page's scores, final revision only or every checkpoint.
pub fn model_scores_of(model: &model_page::ModelPageModel, checkpoints: bool) -> Vec<Score> {
    if checkpoints {
        model.checkpoints.iter().map(|s| score!(s)).collect()
    } else {
        model.scores.iter().map(|s| score!(s)).collect()
    }
}

/// Fetches a model's scores for comparison; `None` when it is unknown.
pub async fn model_scores(name: String) -> Result<Option<(String, Vec<Score>)>, ApiError> {
    let data = post::<ModelScores>(model_scores::Variables { name }).await?;
    Ok(data.model.map(|model| {
        let scores = model.scores.iter().map(|s| score!(s)).collect();
        (model.name, scores)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_network_and_server_failures_are_worth_a_reload() {
        assert!(ApiError::unreachable("connection refused").is_transient());
        assert!(ApiError::new("the server failed", "internal").is_transient());
        assert!(!ApiError::new("no run has this id", "run_not_found").is_transient());
        assert!(!ApiError::new("bad cursor", "invalid_cursor").is_transient());
    }

    #[test]
    fn a_failed_root_field_beside_good_ones_reports_its_error() {
        let partial = r#"{"data": {"firstRun": {"id": "r"}}, "errors": [{"message":
            "run `x` was not found", "extensions": {"code": "run_not_found"}}]}"#;
        let parsed = parse::<samples::compare_samples::ResponseData>(200, partial);
        let error = parsed.err().map(|e| e.code);
        assert_eq!(error.as_deref(), Some("run_not_found"));
        let garbage = parse::<samples::compare_samples::ResponseData>(502, "<html>");
        assert_eq!(
            garbage.err().map(|e| e.code).as_deref(),
            Some("bad_response")
        );
    }
}
