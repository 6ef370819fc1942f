//! Finds or creates the dimension rows (models and their aliases, tags,
//! projects, tasks, metrics) that a set of sources refers to.
//!
//! Each kind is resolved set-wise: one `INSERT … ON CONFLICT DO NOTHING` for
//! everything that may be new, then one read of every id, so storing a
//! thousand runs costs about as many statements as storing one. Concurrent
//! ingests never fail on each other, since a row another writer created first
//! is simply read back.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::{metric, ml_model, model_alias, model_tag, project, tag, task, task_group_member};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::ingest::lenient_json;
use crate::ingest::parsed::{ParsedResult, ParsedRun};
use crate::service::direction::{self, Direction};
use crate::service::identity::{self, ModelIdentity};

/// Rows inserted per statement; keeps SQLite under its bound-variable limit.
pub(super) const CHUNK: usize = 500;
/// Keys per `IN (…)` list.
const KEYS_PER_READ: usize = 1000;

fn missing(what: &str, key: &str) -> DbErr {
    DbErr::RecordNotFound(format!("{what} `{key}` after insert"))
}

/// Returns each identity's model id, keyed by alias key.
///
/// A spelling whose alias key is known joins that model; the others create
/// a model under their name (the first spelling of a key in `identities`
/// names it). Every spelling is kept as an alias.
pub(super) async fn model_ids<C: ConnectionTrait>(
    tx: &C,
    identities: &[&ModelIdentity],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut first_of_key: Vec<&ModelIdentity> = Vec::new();
    let mut keys_seen = HashSet::new();
    for identity in identities {
        if keys_seen.insert(identity.alias_key.as_str()) {
            first_of_key.push(identity);
        }
    }
    let keys: Vec<String> = first_of_key.iter().map(|m| m.alias_key.clone()).collect();
    let mut ids = HashMap::new();
    for chunk in keys.chunks(KEYS_PER_READ) {
        let found = model_alias::Entity::find()
            .filter(model_alias::Column::AliasKey.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        ids.extend(
            found
                .into_iter()
                .map(|alias| (alias.alias_key, alias.model_id)),
        );
    }
    let new: Vec<&ModelIdentity> = first_of_key
        .into_iter()
        .filter(|m| !ids.contains_key(&m.alias_key))
        .collect();
    let by_name = create_models(tx, &new).await?;
    for identity in new {
        let id = by_name
            .get(&identity.name)
            .ok_or_else(|| missing("model", &identity.name))?;
        ids.insert(identity.alias_key.clone(), *id);
    }
    add_aliases(tx, identities, &ids).await?;

    Ok(ids)
}

async fn create_models<C: ConnectionTrait>(
    tx: &C,
    new: &[&ModelIdentity],
) -> Result<HashMap<String, i64>, DbErr> {
    let rows = new.iter().map(|model| ml_model::ActiveModel {
        name: Set(model.name.clone()),
        is_local_path: Set(model.is_local_path),
        created_at: Set(Utc::now()),
        ..Default::default()
    });
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(CHUNK) {
        ml_model::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([ml_model::Column::Name])
            .exec_without_returning(tx)
            .await?;
    }
    let names: Vec<String> = new.iter().map(|model| model.name.clone()).collect();
    let mut by_name = HashMap::new();
    for chunk in names.chunks(KEYS_PER_READ) {
        let found = ml_model::Entity::find()
            .filter(ml_model::Column::Name.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        by_name.extend(found.into_iter().map(|row| (row.name, row.id)));
    }

    Ok(by_name)
}

async fn add_aliases<C: ConnectionTrait>(
    tx: &C,
    identities: &[&ModelIdentity],
    ids: &HashMap<String, i64>,
) -> Result<(), DbErr> {
    let mut spellings = HashSet::new();
    let mut rows = Vec::new();
    for identity in identities {
        if !spellings.insert(identity.spelling.as_str()) {
            continue;
        }
        let model_id = ids
            .get(&identity.alias_key)
            .ok_or_else(|| missing("model alias", &identity.alias_key))?;
        rows.push(model_alias::ActiveModel {
            spelling: Set(identity.spelling.clone()),
            alias_key: Set(identity.alias_key.clone()),
            model_id: Set(*model_id),
            created_at: Set(Utc::now()),
        });
    }
    for chunk in rows.chunks(CHUNK) {
        model_alias::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }

    Ok(())
}

/// Finds or creates tags by name, returning their ids by name.
pub(super) async fn tag_ids<C: ConnectionTrait>(
    tx: &C,
    names: &[&str],
) -> Result<HashMap<String, i64>, DbErr> {
    let names = distinct(names);
    let rows: Vec<_> = names
        .iter()
        .map(|name| tag::ActiveModel {
            name: Set(name.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        tag::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([tag::Column::Name])
            .exec_without_returning(tx)
            .await?;
    }
    let mut ids = HashMap::new();
    for chunk in names.chunks(KEYS_PER_READ) {
        let found = tag::Entity::find()
            .filter(tag::Column::Name.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        ids.extend(found.into_iter().map(|row| (row.name, row.id)));
    }

    Ok(ids)
}

/// Finds or creates projects by name, returning their ids by name.
pub(super) async fn project_ids<C: ConnectionTrait>(
    tx: &C,
    names: &[&str],
) -> Result<HashMap<String, i64>, DbErr> {
    let names = distinct(names);
    let rows: Vec<_> = names
        .iter()
        .map(|name| project::ActiveModel {
            name: Set(name.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        project::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([project::Column::Name])
            .exec_without_returning(tx)
            .await?;
    }
    let mut ids = HashMap::new();
    for chunk in names.chunks(KEYS_PER_READ) {
        let found = project::Entity::find()
            .filter(project::Column::Name.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        ids.extend(found.into_iter().map(|row| (row.name, row.id)));
    }

    Ok(ids)
}

fn distinct(names: &[&str]) -> Vec<String> {
    let mut seen = HashSet::new();
    names
        .iter()
        .filter(|name| seen.insert(**name))
        .map(|name| name.to_string())
        .collect()
}

/// Attaches tags to models; pairs already attached are left alone.
pub(super) async fn link_model_tags<C: ConnectionTrait>(
    tx: &C,
    pairs: &HashSet<(i64, i64)>,
) -> Result<(), DbErr> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|&(model_id, tag_id)| model_tag::ActiveModel {
            model_id: Set(model_id),
            tag_id: Set(tag_id),
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        model_tag::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }

    Ok(())
}

/// What identifies a task row: its name, version and configuration hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct TaskKey {
    name: String,
    version: String,
    config_hash: String,
}

impl TaskKey {
    pub(super) fn of(run: &ParsedRun) -> Self {
        Self {
            name: run.task.clone(),
            version: run.task_version.clone().unwrap_or_default(),
            config_hash: identity::task_config_hash(run.task_config.as_ref()),
        }
    }
}

/// Finds or creates the task row of every run, and records group membership.
pub(super) async fn task_ids<C: ConnectionTrait>(
    tx: &C,
    runs: &[&ParsedRun],
) -> Result<HashMap<TaskKey, i64>, DbErr> {
    let mut keys: Vec<TaskKey> = Vec::new();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    let mut members = HashSet::new();
    for run in runs {
        let key = TaskKey::of(run);
        for member in &run.subtasks {
            members.insert((run.task.clone(), member.clone()));
        }
        if !seen.insert(key.clone()) {
            continue;
        }
        rows.push(task::ActiveModel {
            name: Set(key.name.clone()),
            version: Set(key.version.clone()),
            config_hash: Set(key.config_hash.clone()),
            config: Set(run.task_config.as_ref().map(lenient_json::plain)),
            created_at: Set(Utc::now()),
            ..Default::default()
        });
        keys.push(key);
    }
    let unique = [
        task::Column::Name,
        task::Column::Version,
        task::Column::ConfigHash,
    ];
    for chunk in rows.chunks(CHUNK) {
        task::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on(unique)
            .exec_without_returning(tx)
            .await?;
    }
    add_group_members(tx, members).await?;

    read_task_ids(tx, keys).await
}

async fn read_task_ids<C: ConnectionTrait>(
    tx: &C,
    keys: Vec<TaskKey>,
) -> Result<HashMap<TaskKey, i64>, DbErr> {
    let names: Vec<String> = distinct(&keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>());
    let mut found = HashMap::new();
    for chunk in names.chunks(KEYS_PER_READ) {
        let rows = task::Entity::find()
            .filter(task::Column::Name.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        for row in rows {
            let key = TaskKey {
                name: row.name,
                version: row.version,
                config_hash: row.config_hash,
            };
            found.insert(key, row.id);
        }
    }
    let mut ids = HashMap::new();
    for key in keys {
        let id = found.get(&key).ok_or_else(|| missing("task", &key.name))?;
        ids.insert(key, *id);
    }

    Ok(ids)
}

async fn add_group_members<C: ConnectionTrait>(
    tx: &C,
    members: HashSet<(String, String)>,
) -> Result<(), DbErr> {
    let rows: Vec<_> = members
        .into_iter()
        .map(|(group_name, member_name)| task_group_member::ActiveModel {
            group_name: Set(group_name),
            member_name: Set(member_name),
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        task_group_member::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing()
            .exec_without_returning(tx)
            .await?;
    }

    Ok(())
}

/// Finds or creates every metric the results name, returning ids by name.
///
/// Each distinct statement of a direction is looked at once, so a metric
/// first stored without a direction learns it from a later result.
pub(super) async fn metric_ids<C: ConnectionTrait>(
    tx: &C,
    results: &[&ParsedResult],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut seen = HashSet::new();
    let mut ids = HashMap::new();
    for result in results {
        if !seen.insert((result.metric.as_str(), result.higher_is_better)) {
            continue;
        }
        let id = find_or_create_metric(tx, &result.metric, result.higher_is_better).await?;
        ids.insert(result.metric.clone(), id);
    }

    Ok(ids)
}

async fn find_or_create_metric<C: ConnectionTrait>(
    tx: &C,
    name: &str,
    higher_is_better: Option<bool>,
) -> Result<i64, DbErr> {
    let (facts, direction_source) = direction::resolve(name, higher_is_better);
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(tx)
        .await?;
    if let Some(found) = found {
        return upgrade_unknown_direction(tx, found, facts.direction, direction_source).await;
    }
    let ideal_value = match facts.direction {
        Direction::Ideal(value) => Some(value),
        _ => None,
    };
    let row = metric::ActiveModel {
        name: Set(name.to_string()),
        direction: Set(facts.direction.as_str().to_string()),
        direction_source: Set(direction_source.to_string()),
        ideal_value: Set(ideal_value),
        range_min: Set(facts.range.map(|(min, _)| min)),
        range_max: Set(facts
            .range
            .map(|(_, max)| max)
            .filter(|max| max.is_finite())),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    metric::Entity::insert(row)
        .on_conflict_do_nothing_on([metric::Column::Name])
        .exec(tx)
        .await?;
    let found = metric::Entity::find()
        .filter(metric::Column::Name.eq(name))
        .one(tx)
        .await?;

    found
        .map(|row| row.id)
        .ok_or_else(|| missing("metric", name))
}

/// Records a direction learned later for a metric first seen without one.
///
/// The only change ever made to a stored dimension row: `unknown` becomes known.
async fn upgrade_unknown_direction<C: ConnectionTrait>(
    tx: &C,
    found: metric::Model,
    direction: Direction,
    direction_source: &str,
) -> Result<i64, DbErr> {
    if found.direction != Direction::Unknown.as_str() || direction == Direction::Unknown {
        return Ok(found.id);
    }
    let id = found.id;
    let mut row: metric::ActiveModel = found.into();
    row.direction = Set(direction.as_str().to_string());
    row.direction_source = Set(direction_source.to_string());
    metric::Entity::update(row).exec(tx).await?;

    Ok(id)
}
