//! Reads what the scale-out checks need from `pg_catalog` into plain structs.
//!
//! Every query is confined to schema `public` and resolves partitions to the
//! table at the top of their tree, so a partitioned table is checked once,
//! under its own name.

use migration::placement::{Placement, TABLES};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};
use tests::pg;

/// Every relation of schema `public`, with the partition tree resolved: `root`
/// is the top of the tree a partition belongs to, else the table itself.
const PUBLIC_RELATIONS: &str = "
WITH relations AS (
    SELECT c.oid, c.relname::text AS name, c.relkind::text AS kind, c.relispartition,
           (SELECT r.relname::text FROM pg_class r
             WHERE r.oid = coalesce(pg_partition_root(c.oid), c.oid)) AS root
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
)";

const RELATIONS_SQL: &str = "SELECT name, kind, relispartition AS is_partition FROM relations";

const COLUMNS_SQL: &str = "
SELECT r.name AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null
FROM relations r
JOIN pg_attribute a ON a.attrelid = r.oid
WHERE r.kind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped";

/// Primary keys, UNIQUE constraints and unique indexes alike: each is backed
/// by a unique index. Only key columns count, not `INCLUDE` columns.
const UNIQUE_KEYS_SQL: &str = "
SELECT r.root AS table_name, i.indexrelid::regclass::text AS index_name,
       i.indisprimary AS is_primary,
       coalesce((SELECT json_agg(coalesce(a.attname::text, '(expression)') ORDER BY k.ord)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= i.indnkeyatts), '[]')::text AS columns
FROM pg_index i
JOIN relations r ON r.oid = i.indrelid
WHERE i.indisunique";

/// The partition key columns of each partitioned table (not of partitions);
/// key expressions are left out.
const PARTITION_KEYS_SQL: &str = "
SELECT r.name AS table_name,
       (SELECT json_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
       )::text AS columns
FROM pg_partitioned_table pt
JOIN relations r ON r.oid = pt.partrelid
WHERE NOT r.relispartition";

/// Foreign keys as declared; the copies PostgreSQL makes for partitions have
/// a parent constraint and are left out.
const FOREIGN_KEYS_SQL: &str = "
SELECT con.conname::text AS name, src.root AS from_table, dst.root AS to_table,
       (SELECT json_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
       )::text AS from_columns,
       (SELECT json_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
       )::text AS to_columns
FROM pg_constraint con
JOIN relations src ON src.oid = con.conrelid
JOIN relations dst ON dst.oid = con.confrelid
WHERE con.contype = 'f' AND con.conparentid = 0";

const CONSTRAINTS_SQL: &str = "
SELECT con.conname::text AS name, coalesce(cl.relname::text, '(domain)') AS table_name,
       con.contype::text AS kind, con.condeferrable AS deferrable
FROM pg_constraint con
JOIN pg_namespace n ON n.oid = con.connamespace
LEFT JOIN pg_class cl ON cl.oid = con.conrelid
WHERE n.nspname = 'public'";

const RULES_SQL: &str = "
SELECT rulename::text AS name, tablename::text AS table_name
FROM pg_rules WHERE schemaname = 'public'";

/// User triggers; the internal ones implement foreign keys, and the clones
/// on partitions repeat their parent's.
const TRIGGERS_SQL: &str = "
SELECT t.tgname::text AS name, r.name AS table_name,
       t.tgfoid::regprocedure::text AS function_name, p.prosrc AS body
FROM pg_trigger t
JOIN relations r ON r.oid = t.tgrelid
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE NOT t.tgisinternal AND t.tgparentid = 0";

/// Table inheritance of every kind; index inheritance is left out.
const INHERITANCE_SQL: &str = "
SELECT child.relname::text AS child, parent.relname::text AS parent,
       child.relispartition AS is_partition, child.relkind = 'p' AS child_partitioned
FROM pg_inherits i
JOIN pg_class child ON child.oid = i.inhrelid
JOIN pg_class parent ON parent.oid = i.inhparent
JOIN pg_namespace n ON n.oid = parent.relnamespace
WHERE n.nspname = 'public' AND child.relkind IN ('r', 'p', 'f')";

/// What the checks need to know about the schema.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    /// The placement map, to which a test may add a table it creates.
    pub(super) placed: Vec<(String, Placement)>,
    pub(super) relations: Vec<Relation>,
    pub(super) columns: Vec<Column>,
    pub(super) unique_keys: Vec<UniqueKey>,
    /// Each partitioned table and its partition key columns.
    pub(super) partition_keys: Vec<(String, Vec<String>)>,
    pub(super) foreign_keys: Vec<ForeignKey>,
    pub(super) constraints: Vec<Constraint>,
    pub(super) rules: Vec<(String, String)>,
    pub(super) triggers: Vec<Trigger>,
    pub(super) inheritance: Vec<Inheritance>,
}

#[derive(Debug)]
pub(super) struct Relation {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) is_partition: bool,
}

#[derive(Debug)]
pub(super) struct Column {
    pub(super) table: String,
    pub(super) name: String,
    pub(super) data_type: String,
    pub(super) not_null: bool,
}

#[derive(Debug)]
pub(super) struct UniqueKey {
    pub(super) table: String,
    pub(super) index: String,
    pub(super) is_primary: bool,
    pub(super) columns: Vec<String>,
}

#[derive(Debug)]
pub(super) struct ForeignKey {
    pub(super) name: String,
    pub(super) from_table: String,
    pub(super) from_columns: Vec<String>,
    pub(super) to_table: String,
    pub(super) to_columns: Vec<String>,
}

#[derive(Debug)]
pub(super) struct Constraint {
    pub(super) name: String,
    pub(super) table: String,
    pub(super) kind: String,
    pub(super) deferrable: bool,
}

#[derive(Debug)]
pub(super) struct Trigger {
    pub(super) name: String,
    pub(super) table: String,
    pub(super) function: String,
    pub(super) body: String,
}

#[derive(Debug)]
pub(super) struct Inheritance {
    pub(super) child: String,
    pub(super) parent: String,
    pub(super) is_partition: bool,
    pub(super) child_partitioned: bool,
}

impl Catalog {
    pub(super) fn placement(&self, table: &str) -> Option<Placement> {
        let mut placed = self.placed.iter();
        placed
            .find(|(name, _)| name == table)
            .map(|(_, placement)| *placement)
    }

    /// Returns the names of the tables, leaving out partitions (they are
    /// placed with their parent) and views.
    pub(super) fn tables(&self) -> impl Iterator<Item = &str> {
        self.relations
            .iter()
            .filter(|r| matches!(r.kind.as_str(), "r" | "p") && !r.is_partition)
            .map(|r| r.name.as_str())
    }

    pub(super) fn column(&self, table: &str, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.table == table && c.name == name)
    }

    pub(super) fn is_partition_column(&self, table: &str, column: &str) -> bool {
        let mut keys = self.partition_keys.iter().filter(|(t, _)| t == table);
        keys.any(|(_, columns)| columns.iter().any(|c| c == column))
    }

    pub(super) fn primary_key(&self, table: &str) -> Option<&UniqueKey> {
        self.unique_keys
            .iter()
            .find(|k| k.table == table && k.is_primary)
    }
}

fn text(row: &QueryResult, column: &str) -> anyhow::Result<String> {
    Ok(row.try_get::<String>("", column)?)
}

fn flag(row: &QueryResult, column: &str) -> anyhow::Result<bool> {
    Ok(row.try_get::<bool>("", column)?)
}

/// Reads a JSON array of names; `NULL` (no columns at all) reads as empty.
fn names(row: &QueryResult, column: &str) -> anyhow::Result<Vec<String>> {
    let json = row.try_get::<Option<String>>("", column)?;
    Ok(serde_json::from_str(json.as_deref().unwrap_or("[]"))?)
}

async fn rows(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<QueryResult>> {
    let sql = format!("{PUBLIC_RELATIONS} {sql}");
    Ok(db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?)
}

async fn read_catalog(db: &DatabaseConnection) -> anyhow::Result<Catalog> {
    let placed = TABLES
        .iter()
        .map(|(name, placement)| (name.to_string(), *placement));
    let mut catalog = Catalog {
        placed: placed.collect(),
        ..Catalog::default()
    };
    for row in rows(db, RELATIONS_SQL).await? {
        let (name, kind) = (text(&row, "name")?, text(&row, "kind")?);
        catalog.relations.push(Relation {
            name,
            kind,
            is_partition: flag(&row, "is_partition")?,
        });
    }
    for row in rows(db, COLUMNS_SQL).await? {
        catalog.columns.push(Column {
            table: text(&row, "table_name")?,
            name: text(&row, "column_name")?,
            data_type: text(&row, "data_type")?,
            not_null: flag(&row, "not_null")?,
        });
    }
    for row in rows(db, UNIQUE_KEYS_SQL).await? {
        catalog.unique_keys.push(UniqueKey {
            table: text(&row, "table_name")?,
            index: text(&row, "index_name")?,
            is_primary: flag(&row, "is_primary")?,
            columns: names(&row, "columns")?,
        });
    }
    for row in rows(db, PARTITION_KEYS_SQL).await? {
        let key = (text(&row, "table_name")?, names(&row, "columns")?);
        catalog.partition_keys.push(key);
    }
    read_relationships(db, &mut catalog).await?;

    Ok(catalog)
}

async fn read_relationships(db: &DatabaseConnection, catalog: &mut Catalog) -> anyhow::Result<()> {
    for row in rows(db, FOREIGN_KEYS_SQL).await? {
        catalog.foreign_keys.push(ForeignKey {
            name: text(&row, "name")?,
            from_table: text(&row, "from_table")?,
            from_columns: names(&row, "from_columns")?,
            to_table: text(&row, "to_table")?,
            to_columns: names(&row, "to_columns")?,
        });
    }
    for row in rows(db, CONSTRAINTS_SQL).await? {
        catalog.constraints.push(Constraint {
            name: text(&row, "name")?,
            table: text(&row, "table_name")?,
            kind: text(&row, "kind")?,
            deferrable: flag(&row, "deferrable")?,
        });
    }
    for row in rows(db, RULES_SQL).await? {
        catalog
            .rules
            .push((text(&row, "name")?, text(&row, "table_name")?));
    }
    for row in rows(db, TRIGGERS_SQL).await? {
        catalog.triggers.push(Trigger {
            name: text(&row, "name")?,
            table: text(&row, "table_name")?,
            function: text(&row, "function_name")?,
            body: text(&row, "body")?,
        });
    }
    for row in rows(db, INHERITANCE_SQL).await? {
        catalog.inheritance.push(Inheritance {
            child: text(&row, "child")?,
            parent: text(&row, "parent")?,
            is_partition: flag(&row, "is_partition")?,
            child_partitioned: flag(&row, "child_partitioned")?,
        });
    }

    Ok(())
}

/// Migrates a fresh database, runs `sabotage` (SQL that breaks rules on
/// purpose, or nothing) and returns its catalog.
pub(super) async fn catalog_after(sabotage: &str) -> anyhow::Result<Catalog> {
    let test_db = pg::fresh_database().await?;
    let db = backend::db::connect_and_migrate(&test_db.url).await?;
    if !sabotage.is_empty() {
        db.execute_unprepared(sabotage).await?;
    }
    let catalog = read_catalog(&db).await?;
    db.close().await?;
    test_db.drop_database().await?;

    Ok(catalog)
}
