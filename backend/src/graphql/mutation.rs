//! The mutation root: every change the API offers. Each one needs an admin
//! (checked here and, before any resolver runs, by the mutation gate) and
//! records an audit event in its own transaction.

use std::io::BufReader;

use async_graphql::{Context, Enum, InputObject, Object, Result, Upload};
use uuid::Uuid;

use super::dataset::{Dataset, DatasetVersion, DatasetVersionPreview};
use super::principal::admin_actor;
use super::record::{RecordRunInput, RecordRunsPayload};
use super::types::{Run, db, run_by_id};
use crate::error::ServiceError;
use crate::service::dataset::items::{self, Items, read_items};
use crate::service::dataset::{self as datasets, DatasetEdit, NewDataset, version};
use crate::service::record;

/// The format of an uploaded item file.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header row, then one item per row (values are strings).
    Csv,
}

impl From<ItemFormat> for items::ItemFormat {
    fn from(format: ItemFormat) -> Self {
        match format {
            ItemFormat::Jsonl => Self::Jsonl,
            ItemFormat::Csv => Self::Csv,
        }
    }
}

#[derive(InputObject)]
pub struct CreateDatasetInput {
    pub name: String,
    #[graphql(default)]
    pub description: String,
    #[graphql(default)]
    pub tags: Vec<String>,
    /// The item field that identifies an item across versions (`id`, …).
    pub key_field: Option<String>,
}

/// Fields left out keep their value.
#[derive(InputObject)]
pub struct UpdateDatasetInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Reads an uploaded file into items, off the async threads.
async fn read_upload(
    ctx: &Context<'_>,
    file: Upload,
    format: Option<ItemFormat>,
    key_field: Option<String>,
) -> Result<Items> {
    let upload = file
        .value(ctx)
        .map_err(|_| ServiceError::invalid("file", "the upload could not be read").to_graphql())?;
    let format = match format {
        Some(format) => format.into(),
        None => items::ItemFormat::from_file_name(&upload.filename).ok_or_else(|| {
            ServiceError::invalid(
                "file",
                format!(
                    "cannot tell the format of `{}`: name it .jsonl or .csv, or pass `format`",
                    upload.filename
                ),
            )
            .to_graphql()
        })?,
    };
    let reader = BufReader::new(upload.content);
    let read =
        tokio::task::spawn_blocking(move || read_items(reader, format, key_field.as_deref()))
            .await
            .map_err(|_| {
                ServiceError::invalid("file", "the upload could not be read").to_graphql()
            })?;
    Ok(read?)
}

pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Creates a dataset with no versions.
    async fn create_dataset(
        &self,
        ctx: &Context<'_>,
        input: CreateDatasetInput,
    ) -> Result<Dataset> {
        let actor = admin_actor(ctx)?;
        let new = NewDataset {
            name: input.name,
            description: input.description,
            tags: input.tags,
            key_field: input.key_field,
        };
        Ok(Dataset(datasets::create(db(ctx)?, new, &actor).await?))
    }

    /// Changes a dataset's name, description or tags.
    async fn update_dataset(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateDatasetInput,
    ) -> Result<Dataset> {
        let actor = admin_actor(ctx)?;
        let edit = DatasetEdit {
            name: input.name,
            description: input.description,
            tags: input.tags,
        };
        Ok(Dataset(
            datasets::edit(db(ctx)?, &name, edit, &actor).await?,
        ))
    }

    /// Reads an item file and shows what it would become as the next version:
    /// counts, schema, first rows and the diff against the parent. Stores nothing.
    async fn preview_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        file: Upload,
        format: Option<ItemFormat>,
    ) -> Result<DatasetVersionPreview> {
        admin_actor(ctx)?;
        let db = db(ctx)?;
        let found = datasets::find(db, &dataset).await?;
        let items = read_upload(ctx, file, format, found.key_field.clone()).await?;
        Ok(DatasetVersionPreview(
            version::preview(db, &found, &items).await?,
        ))
    }

    /// Stores an item file as a new draft version; publish it to use it.
    async fn create_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        file: Upload,
        format: Option<ItemFormat>,
        note: String,
    ) -> Result<DatasetVersion> {
        let actor = admin_actor(ctx)?;
        let db = db(ctx)?;
        let found = datasets::find(db, &dataset).await?;
        let items = read_upload(ctx, file, format, found.key_field.clone()).await?;
        let row = version::create(db, &dataset, &items, &note, &actor).await?;
        Ok(DatasetVersion::new(row, &found))
    }

    /// Changes a draft's note.
    async fn update_dataset_version_note(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        number: i32,
        note: String,
    ) -> Result<DatasetVersion> {
        let step = version::Transition::EditNote { note };
        transition(ctx, dataset, number, step).await
    }

    /// Publishes a draft: from now on its items never change.
    async fn publish_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        number: i32,
    ) -> Result<DatasetVersion> {
        transition(ctx, dataset, number, version::Transition::Publish).await
    }

    /// Marks a published version as not to be used, with the reason.
    async fn deprecate_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        number: i32,
        reason: String,
    ) -> Result<DatasetVersion> {
        let step = version::Transition::Deprecate { reason };
        transition(ctx, dataset, number, step).await
    }

    /// Retires a deprecated version.
    async fn archive_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        number: i32,
    ) -> Result<DatasetVersion> {
        transition(ctx, dataset, number, version::Transition::Archive).await
    }

    /// Drops a draft that should never be published.
    async fn discard_dataset_version(
        &self,
        ctx: &Context<'_>,
        dataset: String,
        number: i32,
    ) -> Result<DatasetVersion> {
        transition(ctx, dataset, number, version::Transition::Discard).await
    }

    /// Stores evaluation runs given as data, all in one transaction: every
    /// run is checked first, and one invalid field (named as
    /// `runs[3].results[0].value` in `extensions.field`) stores nothing.
    /// Runs stored before are skipped, so a request can be safely re-sent.
    /// At most 5,000 runs per request.
    async fn record_runs(
        &self,
        ctx: &Context<'_>,
        runs: Vec<RecordRunInput>,
    ) -> Result<RecordRunsPayload> {
        let actor = admin_actor(ctx)?;
        let runs = runs.into_iter().map(Into::into).collect();
        let recorded = record::record_runs(db(ctx)?, runs, &actor).await?;
        Ok(recorded.into())
    }

    /// Records the dataset version a run was computed on; a run is pinned once.
    async fn pin_run_to_dataset_version(
        &self,
        ctx: &Context<'_>,
        run: Uuid,
        dataset: String,
        number: i32,
    ) -> Result<Run> {
        let actor = admin_actor(ctx)?;
        version::pin_run(db(ctx)?, run, &dataset, number, &actor).await?;
        run_by_id(ctx, run)
            .await?
            .ok_or_else(|| ServiceError::not_found("run", run.to_string()).to_graphql())
    }
}

async fn transition(
    ctx: &Context<'_>,
    dataset: String,
    number: i32,
    step: version::Transition,
) -> Result<DatasetVersion> {
    let actor = admin_actor(ctx)?;
    let db = db(ctx)?;
    let row = version::transition(db, &dataset, number, step, &actor).await?;
    let found = datasets::find(db, &dataset).await?;
    Ok(DatasetVersion::new(row, &found))
}
