//! Ranked boards: each board's default leaderboard (the configuration with
//! the most models, final revisions), chosen, picked and ranked ahead of
//! requests, and served while the board it was ranked from is unchanged.
//!
//! A board changes only when results arrive, yet at two thousand models
//! reading and ranking it took about ten milliseconds on every request. The
//! server's ranker (`keep_ranked`) ranks boards after they change, outside
//! the ingest transaction so ingest pays nothing for it, and stores the
//! result with the stamp it was ranked from: the board's `version` and
//! `refreshed_at` and the metric's direction. A ranking whose stamp no longer
//! matches is never served; the board is then ranked on request, by the same
//! rules, so a reader sees the same leaderboard either way, only slower.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use entity::{leaderboard_board, leaderboard_ranked, metric, ml_model};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, Statement, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::Ranked;
use super::{ConfigurationSummary, LeaderboardQuery, assemble, stored};
use crate::error::{ServiceError, ServiceResult};
use crate::service::catalog;
use crate::service::stats::RankInterval;

/// The encoding of `body`; a row written in another is stale.
const FORMAT: u16 = 1;

/// A board's default leaderboard, as served from its ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedBoard {
    pub configuration: Option<ConfigurationSummary>,
    pub other_configurations: Vec<ConfigurationSummary>,
    pub entries: Vec<Ranked>,
    pub truncated_runs: usize,
    pub refreshed_at: DateTime<Utc>,
}

/// What `body` holds.
#[derive(Serialize, Deserialize)]
struct Body {
    format: u16,
    configuration: Option<ConfigurationSummary>,
    other_configurations: Vec<ConfigurationSummary>,
    entries: Vec<EntryBody>,
}

/// One ranked entry with its model's row, which never changes once written.
#[derive(Serialize, Deserialize)]
struct EntryBody {
    rank: Option<usize>,
    rank_interval: Option<(usize, usize)>,
    model_id: i64,
    model_name: String,
    model_is_local_path: bool,
    /// Seconds and nanoseconds: exact, whatever precision the store keeps.
    model_created_at: (i64, u32),
    run_id: Uuid,
    revision: Option<String>,
    value: Option<f64>,
    stderr: Option<f64>,
}

impl From<&Ranked> for EntryBody {
    fn from(entry: &Ranked) -> Self {
        Self {
            rank: entry.rank,
            rank_interval: entry.rank_interval.map(|i| (i.best, i.worst)),
            model_id: entry.model.id,
            model_name: entry.model.name.clone(),
            model_is_local_path: entry.model.is_local_path,
            model_created_at: (
                entry.model.created_at.timestamp(),
                entry.model.created_at.timestamp_subsec_nanos(),
            ),
            run_id: entry.run_id,
            revision: entry.revision.clone(),
            value: entry.value,
            stderr: entry.stderr,
        }
    }
}

impl From<EntryBody> for Ranked {
    fn from(body: EntryBody) -> Self {
        Self {
            rank: body.rank,
            rank_interval: body
                .rank_interval
                .map(|(best, worst)| RankInterval { best, worst }),
            model: ml_model::Model {
                id: body.model_id,
                name: body.model_name,
                is_local_path: body.model_is_local_path,
                created_at: DateTime::from_timestamp(
                    body.model_created_at.0,
                    body.model_created_at.1,
                )
                .unwrap_or_default(),
            },
            run_id: body.run_id,
            revision: body.revision,
            value: body.value,
            stderr: body.stderr,
        }
    }
}

/// A board's row joined with its ranking's stamp (and body, when asked).
#[derive(Debug, FromQueryResult)]
struct StampRow {
    task_name: String,
    metric_id: i64,
    version: i64,
    refreshed_at: DateTime<Utc>,
    truncated_runs: i64,
    board_version: Option<i64>,
    board_refreshed_at: Option<DateTime<Utc>>,
    direction: Option<String>,
    ideal_value: Option<f64>,
    ranked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct BodyRow {
    task_name: String,
    body: Option<Vec<u8>>,
}

impl StampRow {
    /// Whether the ranking was made from the board as it is now, under the
    /// metric's current direction.
    fn is_current(&self, metric: &metric::Model) -> bool {
        self.board_version == Some(self.version)
            && self.board_refreshed_at == Some(self.refreshed_at)
            && self.direction.as_deref() == Some(metric.direction.as_str())
            && self.ideal_value == metric.ideal_value
    }
}

/// Selects boards with their ranking's stamp; `with_body` adds the body.
fn stamp_select(with_body: bool) -> sea_orm::sea_query::SelectStatement {
    use leaderboard_board::Column as Board;
    use leaderboard_ranked::Column as Rank;
    let board = leaderboard_board::Entity;
    let ranked = leaderboard_ranked::Entity;
    let mut select = Query::select();
    select
        .columns([
            (board, Board::TaskName),
            (board, Board::MetricId),
            (board, Board::Version),
            (board, Board::RefreshedAt),
            (board, Board::TruncatedRuns),
        ])
        .columns([
            (ranked, Rank::BoardVersion),
            (ranked, Rank::BoardRefreshedAt),
            (ranked, Rank::Direction),
            (ranked, Rank::IdealValue),
            (ranked, Rank::RankedAt),
        ])
        .from(board)
        .join(
            JoinType::LeftJoin,
            ranked,
            Expr::col((ranked, Rank::TaskName))
                .equals((board, Board::TaskName))
                .and(Expr::col((ranked, Rank::MetricId)).equals((board, Board::MetricId))),
        );
    if with_body {
        select.expr_as(Expr::col((ranked, Rank::Body)), Alias::new("body"));
    }
    select
}

/// Reads the current rankings of the boards `task_names` × `metric`; a
/// board without one (never ranked, or changed since) is absent.
///
/// One statement reads the boards' stamps and their rankings; a ranking's
/// stamp is compared in Rust, so a stale body is read but never decoded.
pub async fn read(
    db: &impl ConnectionTrait,
    task_names: &[String],
    metric: &metric::Model,
) -> ServiceResult<HashMap<String, RankedBoard>> {
    use leaderboard_board::Column as Board;
    let board = leaderboard_board::Entity;
    let mut select = stamp_select(true);
    select
        .and_where(Expr::col((board, Board::TaskName)).is_in(task_names.iter().cloned()))
        .and_where(Expr::col((board, Board::MetricId)).eq(metric.id));
    let statement = db.get_database_backend().build(&select);
    let rows = db.query_all_raw(statement).await?;
    let mut boards = HashMap::with_capacity(rows.len());
    for row in rows {
        let stamp = StampRow::from_query_result(&row, "")?;
        if !stamp.is_current(metric) {
            continue;
        }
        let BodyRow { task_name, body } = BodyRow::from_query_result(&row, "")?;
        let Some(decoded) = body.as_deref().and_then(|bytes| decode(&task_name, bytes)) else {
            continue;
        };
        let board = RankedBoard {
            configuration: decoded.configuration,
            other_configurations: decoded.other_configurations,
            entries: decoded.entries.into_iter().map(Ranked::from).collect(),
            truncated_runs: usize::try_from(stamp.truncated_runs).unwrap_or_default(),
            refreshed_at: stamp.refreshed_at,
        };
        boards.insert(task_name, board);
    }

    Ok(boards)
}

/// Decodes a ranking's body; `None` (logged) when it is in another format.
fn decode(task_name: &str, bytes: &[u8]) -> Option<Body> {
    match postcard::from_bytes::<Body>(bytes) {
        Ok(body) if body.format == FORMAT => Some(body),
        Ok(body) => {
            tracing::debug!(
                task = task_name,
                format = body.format,
                "ranking in an older format"
            );
            None
        }
        Err(error) => {
            tracing::warn!(task = task_name, %error, "unreadable ranking; ranking on request");
            None
        }
    }
}

/// When the ranker takes up a changed board.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// A board is ranked once it has not changed for this long, so a bulk
    /// load does not rank its boards after every file.
    pub quiet: Duration,
    /// A board that keeps changing is ranked again when its ranking is this
    /// old (a board never ranked, at once), so a board under a steady
    /// trickle of results is not left unranked. Ranking a two-thousand-entry
    /// board costs about 20 ms, so at five minutes even a thousand boards
    /// changing all the time cost the server a few percent of one core.
    pub max_age: Duration,
    /// Boards ranked per pass.
    pub batch: usize,
}

impl Pace {
    /// The server's ranker.
    pub const SERVER: Self = Self {
        quiet: Duration::from_secs(2),
        max_age: Duration::from_secs(300),
        batch: 50,
    };

    /// Every changed board at once (tests, and the end of a bulk load).
    pub const NOW: Self = Self {
        quiet: Duration::ZERO,
        max_age: Duration::ZERO,
        batch: usize::MAX,
    };
}

/// How many boards have a current ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub boards: usize,
    pub ranked: usize,
}

/// Counts the boards and those whose ranking is current.
pub async fn progress(db: &impl ConnectionTrait) -> ServiceResult<Progress> {
    let boards = leaderboard_board::Entity::find().count(db).await?;
    let boards = usize::try_from(boards).unwrap_or(usize::MAX);
    let stale = stale(db).await?.len();
    Ok(Progress {
        boards,
        ranked: boards.saturating_sub(stale),
    })
}

/// Reads the stamps of the boards whose ranking is missing or stale, with
/// their metrics. The statement leaves out the boards whose stamp matches,
/// so a pass over thousands of current boards returns few rows.
async fn stale(db: &impl ConnectionTrait) -> ServiceResult<Vec<(StampRow, metric::Model)>> {
    use leaderboard_board::Column as Board;
    use leaderboard_ranked::Column as Rank;
    let (board, ranked) = (leaderboard_board::Entity, leaderboard_ranked::Entity);
    let mut select = stamp_select(false);
    select
        .join(
            JoinType::InnerJoin,
            metric::Entity,
            Expr::col((metric::Entity, metric::Column::Id)).equals((board, Board::MetricId)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((ranked, Rank::Id)).is_null())
                .add(Expr::col((ranked, Rank::BoardVersion)).ne(Expr::col((board, Board::Version))))
                .add(
                    Expr::col((ranked, Rank::BoardRefreshedAt))
                        .ne(Expr::col((board, Board::RefreshedAt))),
                )
                .add(
                    Expr::col((ranked, Rank::Direction))
                        .ne(Expr::col((metric::Entity, metric::Column::Direction))),
                ),
        );
    let statement = db.get_database_backend().build(&select);
    let stamps = StampRow::find_by_statement(statement).all(db).await?;
    if stamps.is_empty() {
        return Ok(Vec::new());
    }
    let metrics = catalog::metrics_by_id(db).await?;
    // The statement compares what SQL compares the same way on both
    // backends; the whole stamp is checked here.
    Ok(stamps
        .into_iter()
        .filter_map(|stamp| {
            let metric = metrics.get(&stamp.metric_id)?.clone();
            (!stamp.is_current(&metric)).then_some((stamp, metric))
        })
        .collect())
}

/// Ranks the changed boards that `pace` says are due, longest unchanged
/// first, and returns how many it ranked; fails only when every one failed.
pub async fn rank_changed(
    db: &(impl ConnectionTrait + TransactionTrait),
    pace: Pace,
) -> ServiceResult<usize> {
    let now = Utc::now();
    let quiet_since = now - TimeDelta::from_std(pace.quiet).unwrap_or_default();
    let aged_since = now - TimeDelta::from_std(pace.max_age).unwrap_or_default();
    let mut due: Vec<(StampRow, metric::Model)> = stale(db)
        .await?
        .into_iter()
        .filter(|(stamp, _)| {
            stamp.refreshed_at <= quiet_since || stamp.ranked_at.is_none_or(|at| at <= aged_since)
        })
        .collect();
    due.sort_by_key(|(stamp, _)| stamp.refreshed_at);
    due.truncate(pace.batch);
    // One board that cannot be ranked must not hold up the others, which
    // would otherwise wait behind it on every pass.
    let mut ranked = 0;
    let mut first_failure = None;
    for (stamp, metric) in &due {
        // Each board in a transaction of its own (a savepoint inside a
        // pass's), so a failed one leaves the others' rankings writable.
        let board = db.begin().await?;
        let outcome = rank_one(&board, stamp, metric).await;
        match outcome {
            Ok(()) => {
                board.commit().await?;
                ranked += 1;
            }
            Err(error) => {
                board.rollback().await?;
                tracing::warn!(
                    task = stamp.task_name,
                    metric = metric.name,
                    error = error.log_detail(),
                    "a board could not be ranked; it is ranked on request"
                );
                first_failure.get_or_insert(error);
            }
        }
    }
    match first_failure {
        Some(error) if ranked == 0 => Err(error),
        _ => Ok(ranked),
    }
}

/// Ranks one board and stores the result with `stamp`, which was read
/// before the entries: should a writer change the board in between, the
/// stored stamp is older than the board and the ranking is taken for stale.
async fn rank_one(
    db: &impl ConnectionTrait,
    stamp: &StampRow,
    metric: &metric::Model,
) -> ServiceResult<()> {
    let names = std::slice::from_ref(&stamp.task_name);
    let (mut boards, models) = stored::read(db, names, metric.id).await?;
    let board = boards.remove(&stamp.task_name).unwrap_or_default();
    let query = LeaderboardQuery {
        task: stamp.task_name.clone(),
        metric: metric.name.clone(),
        ..LeaderboardQuery::default()
    };
    let ranked = assemble(db, &query, metric.clone(), board.candidates, Some(models)).await?;
    let body = Body {
        format: FORMAT,
        configuration: ranked.configuration,
        other_configurations: ranked.other_configurations,
        entries: ranked.entries.iter().map(EntryBody::from).collect(),
    };
    let body = postcard::to_stdvec(&body).map_err(|error| {
        ServiceError::Internal(DbErr::Custom(format!("encoding a ranking: {error}")))
    })?;
    let row = leaderboard_ranked::ActiveModel {
        task_name: Set(stamp.task_name.clone()),
        metric_id: Set(metric.id),
        board_version: Set(stamp.version),
        board_refreshed_at: Set(stamp.refreshed_at),
        direction: Set(metric.direction.clone()),
        ideal_value: Set(metric.ideal_value),
        body: Set(body),
        ranked_at: Set(Utc::now()),
        ..Default::default()
    };
    use leaderboard_ranked::Column as Rank;
    // Last writer wins: two rankers of one board store the same ranking,
    // or one whose stamp is already older than the board's, which reads
    // as stale and is ranked again.
    let replace = OnConflict::columns([Rank::TaskName, Rank::MetricId])
        .update_columns([
            Rank::BoardVersion,
            Rank::BoardRefreshedAt,
            Rank::Direction,
            Rank::IdealValue,
            Rank::Body,
            Rank::RankedAt,
        ])
        .to_owned();
    leaderboard_ranked::Entity::insert(row)
        .on_conflict(replace)
        .exec_without_returning(db)
        .await?;

    Ok(())
}

/// Keeps the boards of `db` ranked, for as long as the server runs.
///
/// Looks for changed boards twice a second; a failure (the database gone
/// away, say) is logged and retried, never fatal to the server.
pub async fn keep_ranked(db: DatabaseConnection) -> Infallible {
    loop {
        let started = Instant::now();
        let pause = match rank_changed_alone(&db, Pace::SERVER).await {
            Ok(Some(0) | None) => Duration::from_millis(500),
            Ok(Some(boards)) => {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                tracing::info!(boards, ms, "boards ranked");
                Duration::ZERO
            }
            Err(error) => {
                let error = error.log_detail();
                tracing::warn!(error, "ranking boards failed; retrying");
                Duration::from_secs(5)
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// The advisory lock that makes one ranker at a time work on a PostgreSQL
/// database (an arbitrary constant: "yardstick ranking").
pub const RANKER_LOCK: i64 = 0x7961_7264_7261_6e6b;

/// Runs one pass of `rank_changed` unless another server's ranker is in
/// one on the same database; returns `None` when it is.
///
/// On PostgreSQL the pass runs in a transaction holding an advisory lock,
/// so servers sharing a database do not rank the same boards twice; its
/// rankings become visible together when it commits. SQLite has one
/// writer anyway, and a pass held open would keep ingests waiting.
pub async fn rank_changed_alone(
    db: &DatabaseConnection,
    pace: Pace,
) -> ServiceResult<Option<usize>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return rank_changed(db, pace).await.map(Some);
    }
    let tx = db.begin().await?;
    let lock = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_try_advisory_xact_lock($1)",
        [RANKER_LOCK.into()],
    );
    let held = match tx.query_one_raw(lock).await? {
        Some(row) => row.try_get_by_index::<bool>(0)?,
        None => false,
    };
    if !held {
        tx.rollback().await?;
        return Ok(None);
    }
    let ranked = rank_changed(&tx, pace).await?;
    tx.commit().await?;
    Ok(Some(ranked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::leaderboard::Configuration;

    fn entry(rank: Option<usize>, created_nanos: u32) -> Ranked {
        Ranked {
            rank,
            rank_interval: rank.map(|r| RankInterval {
                best: r,
                worst: r + 2,
            }),
            model: ml_model::Model {
                id: 7,
                name: "org/model".into(),
                is_local_path: true,
                created_at: DateTime::from_timestamp(1_735_689_600, created_nanos)
                    .unwrap_or_default(),
            },
            run_id: Uuid::from_u128(0x1234),
            revision: Some("step100".into()),
            value: Some(0.625),
            stderr: None,
        }
    }

    #[test]
    fn a_board_survives_its_encoding_exactly() -> Result<(), postcard::Error> {
        let summary = ConfigurationSummary {
            configuration: Configuration {
                task_version: "2".into(),
                n_shot: Some(5),
                filter: "none".into(),
                dataset_version: Some("arc@3".into()),
            },
            models: 2,
            runs: 9,
        };
        let entries = vec![entry(Some(1), 123_456_789), entry(None, 0)];
        let body = Body {
            format: FORMAT,
            configuration: Some(summary.clone()),
            other_configurations: vec![summary.clone()],
            entries: entries.iter().map(EntryBody::from).collect(),
        };
        let bytes = postcard::to_stdvec(&body)?;
        let decoded = decode("arc", &bytes).map(|body| {
            let entries: Vec<Ranked> = body.entries.into_iter().map(Ranked::from).collect();
            (body.configuration, body.other_configurations, entries)
        });
        assert_eq!(
            decoded,
            Some((Some(summary.clone()), vec![summary], entries))
        );
        Ok(())
    }

    #[test]
    fn a_body_in_another_format_or_unreadable_is_not_served() -> Result<(), postcard::Error> {
        let body = Body {
            format: FORMAT + 1,
            configuration: None,
            other_configurations: Vec::new(),
            entries: Vec::new(),
        };
        assert!(decode("arc", &postcard::to_stdvec(&body)?).is_none());
        assert!(decode("arc", &[0xff, 0xff, 0xff]).is_none());
        Ok(())
    }
}
