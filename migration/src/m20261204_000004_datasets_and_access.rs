//! Datasets with immutable versions, run pinning, access tokens, web sessions
//! and the audit trail.
//!
//! Items are stored once per content hash and shared by every version that
//! holds them; a version lists its items by position. A version's items never
//! change; only its lifecycle moves forward (draft → published → deprecated →
//! archived, or draft → discarded), which a row-local trigger checks on
//! PostgreSQL. Tokens, sessions and audit events stay on the coordinator.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::APP_ROLE;
use crate::ddl::{column, create_index, create_table, identity, name, reference};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn timestamp(identifier: &str) -> ColumnDef {
    column(identifier)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn dataset() -> TableCreateStatement {
    Table::create()
        .table(name("dataset"))
        .col(identity())
        .col(column("name").text().not_null().unique_key())
        .col(column("description").text().not_null())
        .col(column("tags").json_binary().not_null())
        .col(column("key_field").text().null())
        .col(timestamp("created_at"))
        .col(column("created_by").text().not_null())
        .to_owned()
}

fn dataset_version() -> TableCreateStatement {
    Table::create()
        .table(name("dataset_version"))
        .col(identity())
        .col(column("dataset_id").big_integer().not_null())
        .col(column("number").integer().not_null())
        .col(column("parent_id").big_integer().null())
        .col(column("content_sha256").text().not_null())
        .col(column("item_count").big_integer().not_null())
        .col(column("item_schema").json_binary().not_null())
        .col(column("note").text().not_null())
        .col(column("state").text().not_null())
        .col(column("state_reason").text().null())
        .col(column("created_by").text().not_null())
        .col(timestamp("created_at"))
        .col(column("published_at").timestamp_with_time_zone().null())
        .col(column("deprecated_at").timestamp_with_time_zone().null())
        .col(column("archived_at").timestamp_with_time_zone().null())
        .col(column("discarded_at").timestamp_with_time_zone().null())
        .index(
            Index::create()
                .name("ux_dataset_version_number")
                .unique()
                .col(name("dataset_id"))
                .col(name("number")),
        )
        .to_owned()
}

fn dataset_item() -> TableCreateStatement {
    Table::create()
        .table(name("dataset_item"))
        .col(column("id").uuid().not_null().primary_key())
        .col(column("content_sha256").text().not_null())
        .col(column("content").json_binary().not_null())
        .col(timestamp("created_at"))
        .to_owned()
}

fn dataset_version_item() -> TableCreateStatement {
    Table::create()
        .table(name("dataset_version_item"))
        .col(column("version_id").big_integer().not_null())
        .col(column("position").big_integer().not_null())
        .col(column("item_id").uuid().not_null())
        .col(column("item_key").text().not_null())
        .primary_key(
            Index::create()
                .col(name("version_id"))
                .col(name("position")),
        )
        .to_owned()
}

fn run_dataset_version() -> TableCreateStatement {
    Table::create()
        .table(name("run_dataset_version"))
        .col(column("run_id").uuid().not_null().primary_key())
        .col(column("dataset_version_id").big_integer().not_null())
        .col(timestamp("pinned_at"))
        .col(column("pinned_by").text().not_null())
        .to_owned()
}

fn access_token() -> TableCreateStatement {
    Table::create()
        .table(name("access_token"))
        .col(column("id").uuid().not_null().primary_key())
        .col(column("name").text().not_null().unique_key())
        .col(column("role").text().not_null())
        .col(column("secret_hash").text().not_null())
        .col(timestamp("created_at"))
        .col(column("created_by").text().not_null())
        .col(column("revoked_at").timestamp_with_time_zone().null())
        .col(column("revoked_by").text().null())
        .to_owned()
}

fn web_session() -> TableCreateStatement {
    Table::create()
        .table(name("web_session"))
        .col(column("id").uuid().not_null().primary_key())
        .col(column("token_id").uuid().not_null())
        .col(column("secret_sha256").text().not_null())
        .col(column("csrf_token").text().not_null())
        .col(timestamp("created_at"))
        .col(timestamp("expires_at"))
        .col(column("ended_at").timestamp_with_time_zone().null())
        .to_owned()
}

fn audit_event() -> TableCreateStatement {
    Table::create()
        .table(name("audit_event"))
        .col(identity())
        .col(timestamp("occurred_at"))
        .col(column("actor").text().not_null())
        .col(column("action").text().not_null())
        .col(column("entity_kind").text().not_null())
        .col(column("entity_id").text().not_null())
        .col(column("before").json_binary().null())
        .col(column("after").json_binary().null())
        .to_owned()
}

/// Tables whose rows never change once written.
const IMMUTABLE: &[&str] = &[
    "dataset_item",
    "dataset_version_item",
    "run_dataset_version",
    "audit_event",
];

/// Tables the application may change in place, within the rules above.
const MUTABLE: &[&str] = &["dataset", "dataset_version", "access_token", "web_session"];

/// The lifecycle guard: content columns never change, a non-draft changes
/// only by moving one step forward, and nothing is ever deleted. Row-local:
/// it reads `OLD` and `NEW` only.
const GUARD_VERSION: &str = "
CREATE OR REPLACE FUNCTION yardstick_guard_dataset_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'dataset versions are never deleted' USING ERRCODE = 'YS001';
    END IF;
    IF NEW.id <> OLD.id OR NEW.dataset_id <> OLD.dataset_id OR NEW.number <> OLD.number
        OR NEW.parent_id IS DISTINCT FROM OLD.parent_id
        OR NEW.content_sha256 <> OLD.content_sha256 OR NEW.item_count <> OLD.item_count
        OR NEW.item_schema <> OLD.item_schema OR NEW.created_by <> OLD.created_by
        OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'the items of a dataset version never change' USING ERRCODE = 'YS001';
    END IF;
    IF OLD.state = 'draft' THEN
        IF NEW.state IN ('draft', 'published', 'discarded') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'a draft can only be published or discarded' USING ERRCODE = 'YS001';
    END IF;
    IF NEW.note <> OLD.note OR NEW.published_at IS DISTINCT FROM OLD.published_at
        OR NEW.discarded_at IS DISTINCT FROM OLD.discarded_at THEN
        RAISE EXCEPTION 'a % dataset version never changes', OLD.state
            USING ERRCODE = 'YS001';
    END IF;
    IF OLD.state = 'published' AND NEW.state = 'deprecated'
        AND NEW.state_reason IS NOT NULL AND NEW.deprecated_at IS NOT NULL
        AND NEW.archived_at IS NULL THEN
        RETURN NEW;
    END IF;
    IF OLD.state = 'deprecated' AND NEW.state = 'archived'
        AND NEW.state_reason = OLD.state_reason AND NEW.deprecated_at = OLD.deprecated_at
        AND NEW.archived_at IS NOT NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a dataset version cannot go from % to %', OLD.state, NEW.state
        USING ERRCODE = 'YS001';
END
$$;";

async fn up_postgres(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    for table in IMMUTABLE {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION yardstick_refuse_change();"
        ))
        .await?;
    }
    db.execute_unprepared(GUARD_VERSION).await?;
    db.execute_unprepared(
        "CREATE TRIGGER dataset_version_immutable BEFORE UPDATE OR DELETE ON dataset_version \
         FOR EACH ROW EXECUTE FUNCTION yardstick_guard_dataset_version();",
    )
    .await?;
    let all: Vec<&str> = IMMUTABLE.iter().chain(MUTABLE).copied().collect();
    db.execute_unprepared(&format!(
        "GRANT SELECT, INSERT ON {} TO {APP_ROLE};",
        all.join(", ")
    ))
    .await?;
    db.execute_unprepared(&format!(
        "GRANT UPDATE ON {} TO {APP_ROLE};",
        MUTABLE.join(", ")
    ))
    .await?;
    db.execute_unprepared(&format!(
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
    ))
    .await
    .map(|_| ())
}

/// SQLite has no PL/pgSQL: the content of a version and every immutable row
/// are guarded here; the order of lifecycle steps is the application's job.
async fn up_sqlite(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let mut statements: Vec<String> = Vec::new();
    for table in IMMUTABLE {
        for operation in ["UPDATE", "DELETE"] {
            statements.push(format!(
                "CREATE TRIGGER {table}_immutable_{} BEFORE {operation} ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'rows of {table} are immutable: \
                 {operation} refused'); END;",
                operation.to_lowercase()
            ));
        }
    }
    statements.push(
        "CREATE TRIGGER dataset_version_immutable_delete BEFORE DELETE ON dataset_version \
         BEGIN SELECT RAISE(ABORT, 'dataset versions are never deleted'); END;"
            .to_string(),
    );
    statements.push(
        "CREATE TRIGGER dataset_version_immutable_update BEFORE UPDATE ON dataset_version \
         WHEN NEW.content_sha256 <> OLD.content_sha256 OR NEW.item_count <> OLD.item_count \
           OR NEW.number <> OLD.number OR NEW.dataset_id <> OLD.dataset_id \
           OR (OLD.state <> 'draft' AND NEW.note <> OLD.note) \
         BEGIN SELECT RAISE(ABORT, 'the items of a dataset version never change'); END;"
            .to_string(),
    );
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    create_table(manager, "dataset", dataset(), vec![]).await?;
    let version_fks = vec![
        reference(name("dataset_version"), name("dataset_id"), name("dataset")),
        reference(
            name("dataset_version"),
            name("parent_id"),
            name("dataset_version"),
        ),
    ];
    create_table(manager, "dataset_version", dataset_version(), version_fks).await?;
    create_table(manager, "dataset_item", dataset_item(), vec![]).await?;
    let member_fks = vec![
        reference(
            name("dataset_version_item"),
            name("version_id"),
            name("dataset_version"),
        ),
        reference(
            name("dataset_version_item"),
            name("item_id"),
            name("dataset_item"),
        ),
    ];
    create_table(
        manager,
        "dataset_version_item",
        dataset_version_item(),
        member_fks,
    )
    .await?;
    let pin_fks = vec![
        reference(name("run_dataset_version"), name("run_id"), name("run")),
        reference(
            name("run_dataset_version"),
            name("dataset_version_id"),
            name("dataset_version"),
        ),
    ];
    create_table(
        manager,
        "run_dataset_version",
        run_dataset_version(),
        pin_fks,
    )
    .await?;
    create_table(manager, "access_token", access_token(), vec![]).await?;
    let session_fks = vec![reference(
        name("web_session"),
        name("token_id"),
        name("access_token"),
    )];
    create_table(manager, "web_session", web_session(), session_fks).await?;
    create_table(manager, "audit_event", audit_event(), vec![]).await?;

    let indexes: [(&str, &str, &[&str]); 4] = [
        (
            "ix_dataset_version_item_key",
            "dataset_version_item",
            &["version_id", "item_key"],
        ),
        (
            "ix_run_dataset_version_version",
            "run_dataset_version",
            &["dataset_version_id", "run_id"],
        ),
        (
            "ix_audit_event_entity",
            "audit_event",
            &["entity_kind", "entity_id", "id"],
        ),
        (
            "ix_audit_event_occurred_at",
            "audit_event",
            &["occurred_at"],
        ),
    ];
    for (index, table, columns) in indexes {
        let columns = columns.iter().map(|c| name(c)).collect();
        create_index(manager, index, name(table), columns).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(manager).await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => up_postgres(db).await,
            _ => up_sqlite(db).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping a table drops its triggers; the guard function goes last.
        for table in [
            "audit_event",
            "web_session",
            "access_token",
            "run_dataset_version",
            "dataset_version_item",
            "dataset_item",
            "dataset_version",
            "dataset",
        ] {
            manager
                .drop_table(Table::drop().table(name(table)).to_owned())
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION yardstick_guard_dataset_version();")
                .await?;
        }
        Ok(())
    }
}
