//! The GraphQL calls of the dataset pages: reads open to everyone, and the
//! admin writes, which carry the session's CSRF token.

use graphql_client::GraphQLQuery;
use web_sys::File;

use super::{ApiError, AuditEntry, DateTime, JSON, answer, mutate, post, upload};

/// The API's `Upload` scalar: always `null` in the JSON of a request, since
/// the file travels in its own part of the multipart body.
pub type Upload = ();

// Reads, open to everyone, then the admin writes.
operation!("graphql/datasets.graphql", DatasetList);
operation!("graphql/datasets.graphql", DatasetPage);
operation!("graphql/datasets.graphql", DatasetItems);
operation!("graphql/datasets.graphql", DatasetHistory);
operation!("graphql/dataset_admin.graphql", CreateDataset);
operation!("graphql/dataset_admin.graphql", UpdateDataset);
operation!("graphql/dataset_admin.graphql", PreviewDatasetVersion);
operation!("graphql/dataset_admin.graphql", CreateDatasetVersion);
operation!("graphql/dataset_admin.graphql", PublishDatasetVersion);
operation!("graphql/dataset_admin.graphql", DiscardDatasetVersion);
operation!("graphql/dataset_admin.graphql", DeprecateDatasetVersion);
operation!("graphql/dataset_admin.graphql", ArchiveDatasetVersion);

/// Where a dataset version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Draft,
    Published,
    Deprecated,
    Archived,
    Discarded,
    Unknown,
}

impl VersionState {
    /// The badge text, as the API spells the state.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
            Self::Deprecated => "DEPRECATED",
            Self::Archived => "ARCHIVED",
            Self::Discarded => "DISCARDED",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl From<&dataset_page::DatasetVersionState> for VersionState {
    fn from(state: &dataset_page::DatasetVersionState) -> Self {
        use dataset_page::DatasetVersionState as S;
        match state {
            S::DRAFT => Self::Draft,
            S::PUBLISHED => Self::Published,
            S::DEPRECATED => Self::Deprecated,
            S::ARCHIVED => Self::Archived,
            S::DISCARDED => Self::Discarded,
            _ => Self::Unknown,
        }
    }
}

/// A change an admin can make to a version's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionAction {
    Publish,
    Discard,
    /// Deprecating needs a reason, shown to everyone who finds the version.
    Deprecate(String),
    Archive,
}

/// Fetches a page of datasets whose names contain `search`.
pub async fn list(
    search: Option<String>,
    after: Option<String>,
) -> Result<dataset_list::DatasetListDatasets, ApiError> {
    let variables = dataset_list::Variables { search, after };
    Ok(post::<DatasetList>(variables).await?.datasets)
}

/// Fetches a dataset with its versions; `None` when no dataset has that name.
pub async fn page(name: String) -> Result<Option<dataset_page::DatasetPageDataset>, ApiError> {
    let data = post::<DatasetPage>(dataset_page::Variables { name }).await?;
    Ok(data.dataset)
}

/// The items of a version, one page of them.
pub type ItemPage = dataset_items::DatasetItemsDatasetVersionItems;

/// Fetches a page of a version's items; `None` when the dataset or the
/// version does not exist.
pub async fn items(
    name: String,
    number: i64,
    after: Option<String>,
) -> Result<Option<ItemPage>, ApiError> {
    let variables = dataset_items::Variables {
        name,
        number,
        after,
    };
    let data = post::<DatasetItems>(variables).await?;
    Ok(data.dataset.and_then(|d| d.version).map(|v| v.items))
}

/// One page of a dataset's history, with the cursor of the next.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub total: i64,
    pub events: Vec<AuditEntry>,
    pub next: Option<String>,
}

/// Fetches a page of a dataset's history, newest first; `None` when no
/// dataset has that name.
pub async fn history(name: String, after: Option<String>) -> Result<Option<HistoryPage>, ApiError> {
    let data = post::<DatasetHistory>(dataset_history::Variables { name, after }).await?;
    Ok(data.dataset.map(|dataset| {
        let history = dataset.history;
        let next = history
            .page_info
            .end_cursor
            .filter(|_| history.page_info.has_next_page);
        let events = history.nodes.into_iter().map(|e| audit!(e)).collect();
        HistoryPage {
            total: history.total_count,
            events,
            next,
        }
    }))
}

/// What the new-dataset form sends.
pub type NewDataset = create_dataset::CreateDatasetInput;

/// Creates a dataset and returns its name; fails with `dataset_exists` or
/// `invalid_argument` naming the field at fault.
pub async fn create(csrf: &str, input: NewDataset) -> Result<String, ApiError> {
    let data = mutate::<CreateDataset>(csrf, create_dataset::Variables { input }).await?;
    text(answer(&data, "createDataset", "name")?)
}

fn text(value: &JSON) -> Result<String, ApiError> {
    let text = value.as_str().map(str::to_string);
    text.ok_or_else(|| ApiError::new("the answer holds no text", "bad_response"))
}

/// What the edit form sends.
pub type DatasetEdit = update_dataset::UpdateDatasetInput;

/// Changes a dataset's name, description or tags and returns its name.
pub async fn update(csrf: &str, name: String, input: DatasetEdit) -> Result<String, ApiError> {
    let variables = update_dataset::Variables { name, input };
    let data = mutate::<UpdateDataset>(csrf, variables).await?;
    text(answer(&data, "updateDataset", "name")?)
}

/// What a file would become as the dataset's next version.
pub type Preview = preview_dataset_version::PreviewDatasetVersionPreviewDatasetVersion;
/// Whether an item was added, removed or changed.
pub use preview_dataset_version::ItemChange;

/// Checks a file as the dataset's next version and stores nothing.
pub async fn preview_version(
    csrf: &str,
    dataset: String,
    file: &File,
    on_progress: impl Fn(f64) + 'static,
) -> Result<Preview, ApiError> {
    let variables = preview_dataset_version::Variables { dataset, file: () };
    let send = upload::send::<PreviewDatasetVersion, preview_dataset_version::ResponseData>;
    let data = send(csrf, variables, "file", file, on_progress).await?;
    Ok(data.preview_dataset_version)
}

/// Stores a file as a draft version and returns its number.
pub async fn create_version(
    csrf: &str,
    dataset: String,
    note: String,
    file: &File,
    on_progress: impl Fn(f64) + 'static,
) -> Result<i64, ApiError> {
    let variables = create_dataset_version::Variables {
        dataset,
        file: (),
        note,
    };
    let send = upload::send::<CreateDatasetVersion, JSON>;
    let data = send(csrf, variables, "file", file, on_progress).await?;
    let number = answer(&data, "createDatasetVersion", "number")?.as_i64();
    number.ok_or_else(|| ApiError::new("the answer holds no version number", "bad_response"))
}

/// Moves a version to its next state; fails with `invalid_state` when the
/// version is not in the state the action starts from.
pub async fn change_state(
    csrf: &str,
    dataset: String,
    number: i64,
    action: VersionAction,
) -> Result<(), ApiError> {
    match action {
        VersionAction::Publish => {
            let variables = publish_dataset_version::Variables { dataset, number };
            mutate::<PublishDatasetVersion>(csrf, variables).await?;
        }
        VersionAction::Discard => {
            let variables = discard_dataset_version::Variables { dataset, number };
            mutate::<DiscardDatasetVersion>(csrf, variables).await?;
        }
        VersionAction::Deprecate(reason) => {
            let variables = deprecate_dataset_version::Variables {
                dataset,
                number,
                reason,
            };
            mutate::<DeprecateDatasetVersion>(csrf, variables).await?;
        }
        VersionAction::Archive => {
            let variables = archive_dataset_version::Variables { dataset, number };
            mutate::<ArchiveDatasetVersion>(csrf, variables).await?;
        }
    }
    Ok(())
}
