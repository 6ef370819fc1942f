//! Batched look-ups for parent → child edges, so a list of N runs costs a
//! constant number of queries rather than N.
//!
//! One loader serves every edge; the key's type says which edge it is.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{metric, ml_model, run, run_result, task};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::service;

/// The per-request loaders, added to each request's data.
pub type Loaders = DataLoader<DbLoader>;

/// Creates fresh loaders for one request.
pub fn loaders(db: DatabaseConnection) -> Loaders {
    DataLoader::new(DbLoader { db }, tokio::spawn)
}

/// Loads rows by key from the database.
pub struct DbLoader {
    db: DatabaseConnection,
}

/// A model by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelKey(pub i64);
/// A task by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskKey(pub i64);
/// A metric by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricKey(pub i64);
/// A run by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunKey(pub Uuid);
/// The results of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultsKey(pub Uuid);
/// The tag names of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagsKey(pub Uuid);
/// The project names of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProjectsKey(pub Uuid);

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<ServiceError>>;

fn by_id<K: Eq + std::hash::Hash, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|row| (key(&row), row)).collect()
}

fn rekey<K, V>(map: HashMap<Uuid, V>, key: impl Fn(Uuid) -> K) -> HashMap<K, V>
where
    K: Eq + std::hash::Hash,
{
    map.into_iter()
        .map(|(id, value)| (key(id), value))
        .collect()
}

impl Loader<ModelKey> for DbLoader {
    type Value = ml_model::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[ModelKey]) -> LoadResult<ModelKey, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let rows = ml_model::Entity::find()
            .filter(ml_model::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(by_id(rows, |row| ModelKey(row.id)))
    }
}

impl Loader<TaskKey> for DbLoader {
    type Value = task::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[TaskKey]) -> LoadResult<TaskKey, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let rows = task::Entity::find()
            .filter(task::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(by_id(rows, |row| TaskKey(row.id)))
    }
}

impl Loader<MetricKey> for DbLoader {
    type Value = metric::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[MetricKey]) -> LoadResult<MetricKey, Self::Value> {
        let ids: Vec<i64> = keys.iter().map(|key| key.0).collect();
        let rows = metric::Entity::find()
            .filter(metric::Column::Id.is_in(ids))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(e.into()))?;
        Ok(by_id(rows, |row| MetricKey(row.id)))
    }
}

impl Loader<RunKey> for DbLoader {
    type Value = run::Model;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[RunKey]) -> LoadResult<RunKey, Self::Value> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = service::run::by_ids(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rekey(rows, RunKey))
    }
}

impl Loader<ResultsKey> for DbLoader {
    type Value = Vec<run_result::Model>;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[ResultsKey]) -> LoadResult<ResultsKey, Self::Value> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = service::run::results_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rekey(rows, ResultsKey))
    }
}

impl Loader<TagsKey> for DbLoader {
    type Value = Vec<String>;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[TagsKey]) -> LoadResult<TagsKey, Self::Value> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = service::run::tags_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rekey(rows, TagsKey))
    }
}

impl Loader<ProjectsKey> for DbLoader {
    type Value = Vec<String>;
    type Error = Arc<ServiceError>;

    async fn load(&self, keys: &[ProjectsKey]) -> LoadResult<ProjectsKey, Self::Value> {
        let ids: Vec<Uuid> = keys.iter().map(|key| key.0).collect();
        let rows = service::run::projects_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rekey(rows, ProjectsKey))
    }
}

/// Loads one value through the request's loaders.
pub async fn load_one<K>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Option<DbValue<K>>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = Arc<ServiceError>>,
{
    let loaders = ctx.data::<Loaders>()?;
    loaders
        .load_one(key)
        .await
        .map_err(|error| error.to_graphql())
}

/// The value a loader returns for key type `K`.
pub type DbValue<K> = <DbLoader as Loader<K>>::Value;
