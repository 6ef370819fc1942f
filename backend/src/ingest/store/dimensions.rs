//! Finds or creates the dimension rows (models and their aliases, tags,
//! projects, tasks, metrics) that a set of sources refers to.
//!
//! Each kind is resolved set-wise: one read of the ids that exist, then, only
//! when something is new, one `INSERT … ON CONFLICT DO NOTHING` and one read
//! of the new ids. Storing a thousand runs thus costs about as many
//! statements as storing one, and a batch whose names are all known costs one
//! read per kind. Concurrent ingests never fail on each other, since a row
//! another writer created first is simply read back.

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
    let mut known_spellings = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_READ) {
        let found = model_alias::Entity::find()
            .filter(model_alias::Column::AliasKey.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        for alias in found {
            known_spellings.insert(alias.spelling);
            ids.insert(alias.alias_key, alias.model_id);
        }
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
    let unknown: Vec<&ModelIdentity> = identities
        .iter()
        .copied()
        .filter(|m| !known_spellings.contains(&m.spelling))
        .collect();
    add_aliases(tx, &unknown, &ids).await?;

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
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
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
    let mut ids = read_tags(tx, &names).await?;
    let new: Vec<String> = names.into_iter().filter(|n| !ids.contains_key(n)).collect();
    if new.is_empty() {
        return Ok(ids);
    }
    let rows: Vec<_> = new
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
    ids.extend(read_tags(tx, &new).await?);

    Ok(ids)
}

async fn read_tags<C: ConnectionTrait>(
    tx: &C,
    names: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
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
    let mut ids = read_projects(tx, &names).await?;
    let new: Vec<String> = names.into_iter().filter(|n| !ids.contains_key(n)).collect();
    if new.is_empty() {
        return Ok(ids);
    }
    let rows: Vec<_> = new
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
    ids.extend(read_projects(tx, &new).await?);

    Ok(ids)
}

async fn read_projects<C: ConnectionTrait>(
    tx: &C,
    names: &[String],
) -> Result<HashMap<String, i64>, DbErr> {
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
    add_group_members(tx, members).await?;
    let mut ids = read_task_ids(tx, &keys).await?;
    let new: Vec<_> = keys
        .iter()
        .zip(rows)
        .filter(|(key, _)| !ids.contains_key(*key))
        .collect();
    if new.is_empty() {
        return Ok(ids);
    }
    let unique = [
        task::Column::Name,
        task::Column::Version,
        task::Column::ConfigHash,
    ];
    let (new_keys, new_rows): (Vec<TaskKey>, Vec<_>) =
        new.into_iter().map(|(key, row)| (key.clone(), row)).unzip();
    for chunk in new_rows.chunks(CHUNK) {
        task::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on(unique)
            .exec_without_returning(tx)
            .await?;
    }
    ids.extend(read_task_ids(tx, &new_keys).await?);
    if let Some(key) = new_keys.iter().find(|key| !ids.contains_key(*key)) {
        return Err(missing("task", &key.name));
    }

    Ok(ids)
}

/// Returns the ids of the task rows that exist among `keys`.
async fn read_task_ids<C: ConnectionTrait>(
    tx: &C,
    keys: &[TaskKey],
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
    Ok(keys
        .iter()
        .filter_map(|key| found.get(key).map(|id| (key.clone(), *id)))
        .collect())
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
    let names: Vec<&str> = results.iter().map(|r| r.metric.as_str()).collect();
    // The rows as this transaction leaves them, so a later result of the
    // same metric sees a direction an earlier one set.
    let mut rows: HashMap<String, metric::Model> = HashMap::new();
    for chunk in distinct(&names).chunks(KEYS_PER_READ) {
        let found = metric::Entity::find()
            .filter(metric::Column::Name.is_in(chunk.to_vec()))
            .all(tx)
            .await?;
        rows.extend(found.into_iter().map(|row| (row.name.clone(), row)));
    }
    let mut seen = HashSet::new();
    for result in results {
        if !seen.insert((result.metric.as_str(), result.higher_is_better)) {
            continue;
        }
        let (name, higher_is_better) = (&result.metric, result.higher_is_better);
        let row = match rows.remove(name) {
            Some(found) => upgrade_unknown_direction(tx, found, higher_is_better).await?,
            None => create_metric(tx, name, higher_is_better).await?,
        };
        rows.insert(name.clone(), row);
    }

    Ok(rows.into_iter().map(|(name, row)| (name, row.id)).collect())
}

async fn create_metric<C: ConnectionTrait>(
    tx: &C,
    name: &str,
    higher_is_better: Option<bool>,
) -> Result<metric::Model, DbErr> {
    let (facts, direction_source) = direction::resolve(name, higher_is_better);
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

    match found {
        Some(found) => upgrade_unknown_direction(tx, found, higher_is_better).await,
        None => Err(missing("metric", name)),
    }
}

/// Records a direction learned later for a metric first seen without one.
///
/// The only change ever made to a stored dimension row: `unknown` becomes known.
async fn upgrade_unknown_direction<C: ConnectionTrait>(
    tx: &C,
    found: metric::Model,
    higher_is_better: Option<bool>,
) -> Result<metric::Model, DbErr> {
    let (facts, direction_source) = direction::resolve(&found.name, higher_is_better);
    let direction = facts.direction;
    if found.direction != Direction::Unknown.as_str() || direction == Direction::Unknown {
        return Ok(found);
    }
    let mut row: metric::ActiveModel = found.into();
    row.direction = Set(direction.as_str().to_string());
    row.direction_source = Set(direction_source.to_string());
    metric::Entity::update(row).exec(tx).await
}
