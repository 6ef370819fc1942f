//! The quarantine of rejected source files: recorded with the rejection,
//! resolved when a later ingest of the same path stores it, listed for
//! review and re-tried from the command line.

use chrono::Utc;
use entity::quarantine;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::ServiceResult;
use crate::ingest::file_error::FileError;
use crate::service::page::{self, Page, PageRequest};

/// Quarantines a rejected file; call within the rejection's transaction.
///
/// A path holds one open entry: the same bytes refused the same way again
/// (a retry before the fix) add nothing, and a new refusal of changed bytes
/// closes the path's older entries, which no longer describe the file.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    source_path: &str,
    source_sha256: Option<&str>,
    error: &FileError,
) -> Result<(), DbErr> {
    let open = quarantine::Entity::find()
        .filter(quarantine::Column::SourcePath.eq(source_path))
        .filter(quarantine::Column::ResolvedAt.is_null())
        .all(conn)
        .await?;
    let same = |entry: &quarantine::Model| {
        entry.source_sha256.as_deref() == source_sha256
            && entry.code == error.code.as_str()
            && entry.location == error.path
            && entry.message == error.message
    };
    if open.iter().any(same) {
        tracing::info!(file = source_path, "file already quarantined");
        return Ok(());
    }
    if !open.is_empty() {
        resolve(conn, source_path).await?;
    }
    quarantine::Entity::insert(quarantine::ActiveModel {
        quarantined_at: Set(Utc::now()),
        actor: Set(actor.to_string()),
        source_path: Set(source_path.to_string()),
        source_sha256: Set(source_sha256.map(str::to_string)),
        code: Set(error.code.as_str().to_string()),
        location: Set(error.path.clone()),
        message: Set(error.message.clone()),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    tracing::info!(
        file = source_path,
        code = error.code.as_str(),
        "file quarantined"
    );
    Ok(())
}

/// Marks the open entries of `source_path` resolved; call within the
/// transaction that stored the file.
pub async fn resolve<C: ConnectionTrait>(conn: &C, source_path: &str) -> Result<u64, DbErr> {
    let result = quarantine::Entity::update_many()
        .col_expr(quarantine::Column::ResolvedAt, Expr::value(Utc::now()))
        .filter(quarantine::Column::SourcePath.eq(source_path))
        .filter(quarantine::Column::ResolvedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Lists quarantined files, newest first; resolved ones only on request.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    include_resolved: bool,
    request: PageRequest,
) -> ServiceResult<Page<quarantine::Model>> {
    let mut select = quarantine::Entity::find().order_by_desc(quarantine::Column::Id);
    if !include_resolved {
        select = select.filter(quarantine::Column::ResolvedAt.is_null());
    }
    page::fetch(conn, select, request).await
}

/// Returns the distinct paths of open entries (all, or those with `ids`).
pub async fn open_paths<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> ServiceResult<Vec<String>> {
    let mut select = quarantine::Entity::find()
        .filter(quarantine::Column::ResolvedAt.is_null())
        .order_by_asc(quarantine::Column::Id);
    if !ids.is_empty() {
        select = select.filter(quarantine::Column::Id.is_in(ids.to_vec()));
    }
    let mut paths: Vec<String> = Vec::new();
    for entry in select.all(conn).await? {
        if !paths.contains(&entry.source_path) {
            paths.push(entry.source_path);
        }
    }
    Ok(paths)
}

/// Returns those of `ids` that name no entry at all, open or resolved.
pub async fn unknown_ids<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> ServiceResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<i64> = quarantine::Entity::find()
        .select_only()
        .column(quarantine::Column::Id)
        .filter(quarantine::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect())
}
