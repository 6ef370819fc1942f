//! Table creation that respects each backend's limits on foreign keys.
//!
//! PostgreSQL gets the Citus-friendly order: create the table without foreign
//! keys, distribute it, then add each key with `ALTER TABLE`. SQLite cannot add
//! a foreign key to an existing table, so there the keys are declared inline.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::placement::distribute;

/// Creates `table` named `name` with `foreign_keys`, in the order the backend needs.
pub async fn create_table(
    manager: &SchemaManager<'_>,
    name: &str,
    mut table: TableCreateStatement,
    foreign_keys: Vec<ForeignKeyCreateStatement>,
) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        for mut key in foreign_keys {
            table.foreign_key(&mut key);
        }
        return manager.create_table(table).await;
    }
    manager.create_table(table).await?;
    distribute(manager, name).await?;
    for key in foreign_keys {
        manager.create_foreign_key(key).await?;
    }

    Ok(())
}

/// Builds a foreign key from `table.column` to `target.id`.
pub fn reference(
    table: impl IntoIden + Clone + 'static,
    column: impl IntoIden + 'static,
    target: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    let table_name = table.clone().into_iden().to_string();
    let column = column.into_iden();
    let name = format!("fk_{table_name}_{column}");
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(target, Alias::new("id"))
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Creates a plain index named `name` on `table(columns)`.
pub async fn create_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<Alias>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

/// Names a table, column or index.
pub fn name(identifier: &str) -> Alias {
    Alias::new(identifier)
}

/// Starts the definition of column `identifier`.
pub fn column(identifier: &str) -> ColumnDef {
    ColumnDef::new(name(identifier))
}

/// The `bigint` identity key every dimension and local table starts with.
pub fn identity() -> ColumnDef {
    column("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}
