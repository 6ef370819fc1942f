//! The GraphQL type of audit events.

use async_graphql::{ID, Json, Object};
use chrono::{DateTime, Utc};
use entity::audit_event;
use serde_json::Value;

/// One recorded change: who, what, before and after, when.
pub struct AuditEvent(pub audit_event::Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The access token's name, or `cli:<user>` for the command line.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// `<entity>.<verb>`: `dataset.create`, `dataset_version.publish`,
    /// `source_file.ingest`, `run.pin_dataset_version`, …
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// `dataset`, `run`, `source_file` or `access_token`.
    async fn entity_kind(&self) -> &str {
        &self.0.entity_kind
    }

    /// The entity's id (a dataset's number, a run's UUID, a file's SHA-256, a token's name).
    async fn entity_id(&self) -> &str {
        &self.0.entity_id
    }

    async fn before(&self) -> Option<Json<Value>> {
        self.0.before.clone().map(Json)
    }

    async fn after(&self) -> Option<Json<Value>> {
        self.0.after.clone().map(Json)
    }
}
