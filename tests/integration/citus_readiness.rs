//! Checks the migrated PostgreSQL schema against the scale-out rules of
//! SCALE-OUT.md, using the placement map in `migration::placement` as the
//! statement of which tables are dimensions and which are facts.
//!
//! The checks read `pg_catalog` only, so they run on plain PostgreSQL and
//! need no Citus. Each check is a plain function over a [`Catalog`] that
//! returns one message per offending object. Besides the tests on the real
//! schema, one test breaks every rule on purpose to prove that each check
//! names what it finds, and one shows that samples shaped as planned (one
//! level of range partitions by the run's timestamp) would pass.

mod catalog;

use catalog::{Catalog, ForeignKey, catalog_after};
use chrono::Datelike;
use migration::placement::{Placement, TABLES, placement_of};

/// The migrator's bookkeeping table. sea-orm-migration owns its shape (a
/// `varchar` key), and under Citus it stays on the coordinator.
const MIGRATOR_TABLE: &str = "seaql_migrations";

/// The table whose key is the distribution column of every fact table.
const RUN_TABLE: &str = "run";

/// Words of a trigger body that would mean it runs a query, and so may read
/// or write another table (possibly through dynamic SQL).
const QUERY_WORDS: &[&str] = &[
    "select", "perform", "execute", "insert", "update", "delete", "copy",
];

/// Returns the column a fact table is distributed by.
fn distribution_column(table: &str) -> &'static str {
    if table == RUN_TABLE { "id" } else { "run_id" }
}

fn table_list_violations(catalog: &Catalog) -> Vec<String> {
    let mut violations: Vec<String> = catalog
        .tables()
        .filter(|table| placement_of(table).is_none())
        .map(|table| format!("table `{table}` is missing from migration::placement::TABLES"))
        .collect();
    for (table, _) in TABLES {
        if !catalog.tables().any(|t| t == *table) {
            violations.push(format!(
                "`{table}` is in the placement map but not in the schema"
            ));
        }
    }
    violations
}

fn unique_key_violations(catalog: &Catalog) -> Vec<String> {
    let mut violations = Vec::new();
    for key in &catalog.unique_keys {
        if catalog.placement(&key.table) != Some(Placement::DistributedByRun) {
            continue;
        }
        let wanted = distribution_column(&key.table);
        let kind = if key.is_primary {
            "primary key"
        } else {
            "unique key"
        };
        let (table, index, columns) = (&key.table, &key.index, key.columns.join(", "));
        if !key.columns.iter().any(|c| c == wanted) {
            violations.push(format!(
                "{kind} `{index}` on `{table}` ({columns}) lacks `{wanted}`"
            ));
        } else if key.columns.first().map(String::as_str) != Some(wanted) {
            violations.push(format!(
                "{kind} `{index}` on `{table}` ({columns}) does not start with `{wanted}`"
            ));
        }
    }
    violations
}

fn distribution_column_violations(catalog: &Catalog) -> Vec<String> {
    let placed = catalog.placed.iter();
    let facts = placed.filter(|(_, p)| *p == Placement::DistributedByRun);
    let mut violations = Vec::new();
    for (table, _) in facts {
        let wanted = distribution_column(table);
        match catalog.column(table, wanted) {
            Some(column) if column.data_type == "uuid" && column.not_null => {}
            Some(column) => violations.push(format!(
                "fact table `{table}` has `{wanted}` as `{}`{}, not `uuid NOT NULL`",
                column.data_type,
                if column.not_null { "" } else { " NULL" }
            )),
            None => violations.push(format!("fact table `{table}` has no `{wanted}` column")),
        }
    }
    violations
}

fn foreign_key_violations(catalog: &Catalog) -> Vec<String> {
    use Placement::{DistributedByRun, Local, Reference};
    let mut violations = Vec::new();
    for key in &catalog.foreign_keys {
        let from = catalog.placement(&key.from_table);
        let to = catalog.placement(&key.to_table);
        let shape = format!(
            "`{}` {}({}) -> {}({})",
            key.name,
            key.from_table,
            key.from_columns.join(", "),
            key.to_table,
            key.to_columns.join(", ")
        );
        let problem = match (from, to) {
            (Some(Reference | Local), Some(DistributedByRun)) => "points from outside at a fact",
            (Some(DistributedByRun), Some(Local)) => "points from a fact at a local table",
            (Some(DistributedByRun), Some(DistributedByRun)) if !is_run_link(key) => {
                "links two facts other than by run_id -> run.id"
            }
            _ => continue,
        };
        violations.push(format!("foreign key {shape} {problem}"));
    }
    violations
}

/// Whether `key` is the one link allowed between facts: the referencing
/// table's distribution column to `run.id`.
fn is_run_link(key: &ForeignKey) -> bool {
    key.from_columns == [distribution_column(&key.from_table)]
        && key.to_table == RUN_TABLE
        && key.to_columns == [distribution_column(RUN_TABLE)]
}

fn deferrable_violations(catalog: &Catalog) -> Vec<String> {
    let deferrable = catalog.constraints.iter().filter(|c| c.deferrable);
    deferrable
        .map(|c| format!("constraint `{}` on `{}` is DEFERRABLE", c.name, c.table))
        .collect()
}

/// Exclusion constraints and rewrite rules, which rule 9 also avoids.
fn avoided_feature_violations(catalog: &Catalog) -> Vec<String> {
    let exclusions = catalog.constraints.iter().filter(|c| c.kind == "x");
    let mut violations: Vec<String> = exclusions
        .map(|c| format!("exclusion constraint `{}` on `{}`", c.name, c.table))
        .collect();
    for (rule, table) in &catalog.rules {
        violations.push(format!("rule `{rule}` on `{table}`"));
    }
    violations
}

/// Primary key columns are `uuid` or `bigint`. `text` is allowed for natural
/// keys only: in a dimension's key, or after `run_id` in a fact's composite
/// key (a name within one run, such as a result's filter). A column named
/// like an identifier (`id`, `…_id`) is never text. A fact's partition column
/// (the run's timestamp on samples) may have any type: PostgreSQL requires it
/// in every key of a partitioned table.
fn key_type_violations(catalog: &Catalog) -> Vec<String> {
    let mut violations = Vec::new();
    for table in catalog.tables().filter(|t| *t != MIGRATOR_TABLE) {
        let Some(key) = catalog.primary_key(table) else {
            violations.push(format!("table `{table}` has no primary key"));
            continue;
        };
        for (position, name) in key.columns.iter().enumerate() {
            let data_type = catalog
                .column(table, name)
                .map_or("(expression)", |c| c.data_type.as_str());
            let placement = catalog.placement(table);
            let partition_column = placement == Some(Placement::DistributedByRun)
                && catalog.is_partition_column(table, name);
            let allowed = match data_type {
                _ if partition_column => true,
                "uuid" | "bigint" => true,
                "text" => text_key_allowed(placement, name, position),
                _ => false,
            };
            if !allowed {
                violations.push(format!("key column `{table}.{name}` is `{data_type}`"));
            }
        }
    }
    violations
}

fn text_key_allowed(placement: Option<Placement>, column: &str, position: usize) -> bool {
    if column == "id" || column.ends_with("_id") {
        return false;
    }
    match placement {
        Some(Placement::Reference) => true,
        Some(Placement::DistributedByRun) => position > 0,
        Some(Placement::Local) | None => false,
    }
}

fn trigger_violations(catalog: &Catalog) -> Vec<String> {
    let mut violations = Vec::new();
    let mut tables: Vec<String> = catalog.relations.iter().map(|r| r.name.clone()).collect();
    tables.extend(TABLES.iter().map(|(name, _)| name.to_string()));
    for trigger in &catalog.triggers {
        let (name, table, function) = (&trigger.name, &trigger.table, &trigger.function);
        if !name.ends_with("_immutable") {
            violations.push(format!(
                "trigger `{name}` on `{table}` is not named `*_immutable`"
            ));
        }
        let words = code_words(&trigger.body);
        for word in words.iter().filter(|w| tables.contains(w)) {
            violations.push(format!(
                "trigger function `{function}` names table `{word}`"
            ));
        }
        for word in words.iter().filter(|w| QUERY_WORDS.contains(&w.as_str())) {
            violations.push(format!(
                "trigger function `{function}` runs a query (`{word}`)"
            ));
        }
    }
    violations
}

/// Returns the lower-cased words of a PL/pgSQL body outside string literals
/// and `--` comments, so a message text mentioning a table is no finding.
fn code_words(body: &str) -> Vec<String> {
    let mut code = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                while let Some(c) = chars.next() {
                    // A doubled quote is an escaped quote inside the literal.
                    if c == '\'' && chars.next_if_eq(&'\'').is_none() {
                        break;
                    }
                }
                code.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().find(|c| *c == '\n');
                code.push(' ');
            }
            _ => code.push(c),
        }
    }
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn inheritance_violations(catalog: &Catalog) -> Vec<String> {
    let mut violations = Vec::new();
    for link in &catalog.inheritance {
        let (child, parent) = (&link.child, &link.parent);
        if !link.is_partition {
            violations.push(format!("table `{child}` inherits from `{parent}`"));
        } else if link.child_partitioned {
            violations.push(format!(
                "partition `{child}` of `{parent}` is partitioned again (more than one level)"
            ));
        }
    }
    violations
}

#[track_caller]
fn assert_none(rule: &str, violations: Vec<String>) {
    assert!(
        violations.is_empty(),
        "{rule}:\n  {}",
        violations.join("\n  ")
    );
}

#[tokio::test]
async fn every_table_is_in_the_placement_map_and_back() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert!(
        catalog.tables().any(|t| t == RUN_TABLE),
        "the schema has no `run`"
    );
    assert_none("tables vs placement map", table_list_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn fact_keys_start_with_the_distribution_column() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_none("fact unique keys", unique_key_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn fact_tables_carry_a_uuid_run_id() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_none(
        "distribution columns",
        distribution_column_violations(&catalog),
    );
    Ok(())
}

#[tokio::test]
async fn foreign_keys_go_fact_to_dimension_or_to_run_by_run_id() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert!(!catalog.foreign_keys.is_empty(), "no foreign keys read");
    assert_none("foreign keys", foreign_key_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn no_constraint_is_deferrable_and_no_avoided_feature_is_used() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_none("deferrable constraints", deferrable_violations(&catalog));
    assert_none("avoided features", avoided_feature_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn key_columns_are_uuid_bigint_or_natural_text() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_none("key column types", key_type_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn triggers_are_row_local_immutability_guards() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert!(
        !catalog.triggers.is_empty(),
        "no immutability triggers read"
    );
    assert_none("triggers", trigger_violations(&catalog));
    Ok(())
}

#[tokio::test]
async fn inheritance_is_only_single_level_partitioning() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_none("inheritance", inheritance_violations(&catalog));
    Ok(())
}

/// Breaks each rule once, on top of the real schema.
const SABOTAGE: &str = "
CREATE TABLE stray (id integer PRIMARY KEY);
CREATE TABLE stray_child (note text) INHERITS (stray);
DROP TABLE task_group_member;
ALTER TABLE run_result ADD CONSTRAINT uq_run_result_metric_first UNIQUE (metric_id, run_id);
CREATE UNIQUE INDEX uq_run_tag_tag_only ON run_tag (tag_id);
ALTER TABLE run_project DROP CONSTRAINT fk_run_project_run_id;
ALTER TABLE run_project ALTER COLUMN run_id TYPE text;
ALTER TABLE tag ADD COLUMN last_run_id uuid CONSTRAINT fk_tag_last_run REFERENCES run (id);
ALTER TABLE run ADD COLUMN superseded_by uuid
    CONSTRAINT fk_run_superseded_by REFERENCES run (id);
ALTER TABLE project ADD CONSTRAINT uq_project_created_at UNIQUE (created_at) DEFERRABLE;
CREATE RULE tag_keep AS ON DELETE TO tag DO INSTEAD NOTHING;
CREATE FUNCTION peek_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM run WHERE id = NEW.run_id; -- reads another table
    RETURN NEW;
END $$;
CREATE TRIGGER run_tag_check BEFORE INSERT ON run_tag
    FOR EACH ROW EXECUTE FUNCTION peek_run();
CREATE TABLE sample_2090 PARTITION OF sample
    FOR VALUES FROM ('2090-01-01') TO ('2091-01-01') PARTITION BY RANGE (sample_no);
";

#[tokio::test]
async fn every_check_names_what_breaks_it() -> anyhow::Result<()> {
    let catalog = catalog_after(SABOTAGE).await?;
    let checks: [(&str, Vec<String>, &[&str]); 9] = [
        (
            "tables",
            table_list_violations(&catalog),
            &["`stray`", "`stray_child`", "`task_group_member`"],
        ),
        (
            "unique keys",
            unique_key_violations(&catalog),
            &["uq_run_result_metric_first", "uq_run_tag_tag_only"],
        ),
        (
            "distribution",
            distribution_column_violations(&catalog),
            &["`run_project`"],
        ),
        (
            "foreign keys",
            foreign_key_violations(&catalog),
            &["fk_tag_last_run", "fk_run_superseded_by"],
        ),
        (
            "deferrable",
            deferrable_violations(&catalog),
            &["uq_project_created_at"],
        ),
        (
            "avoided",
            avoided_feature_violations(&catalog),
            &["tag_keep"],
        ),
        (
            "key types",
            key_type_violations(&catalog),
            &[
                "`stray.id` is `integer`",
                "`run_project.run_id` is `text`",
                "`stray_child` has no primary key",
            ],
        ),
        (
            "triggers",
            trigger_violations(&catalog),
            &["`run_tag_check`", "names table `run`", "(`perform`)"],
        ),
        (
            "inheritance",
            inheritance_violations(&catalog),
            &["`stray_child`", "`sample_2090`"],
        ),
    ];
    for (check, violations, offenders) in checks {
        for offender in offenders {
            let found = violations.iter().any(|v| v.contains(offender));
            assert!(
                found,
                "{check} missed {offender}; it reported {violations:#?}"
            );
        }
    }
    Ok(())
}

/// The real samples table is what SCALE-OUT.md plans: one level of range
/// partitions on the run's timestamp, with this month and the next three
/// made ahead and a default partition.
#[tokio::test]
async fn samples_are_partitioned_by_month_ahead_of_time() -> anyhow::Result<()> {
    let catalog = catalog_after("").await?;
    assert_eq!(
        catalog.placement("sample"),
        Some(Placement::DistributedByRun)
    );
    let month = |ahead: u32| {
        let now = chrono::Utc::now().date_naive();
        let months = now.year() * 12 + now.month0() as i32 + ahead as i32;
        format!("sample_{:04}_{:02}", months / 12, months % 12 + 1)
    };
    let partitions: Vec<&str> = catalog
        .relations
        .iter()
        .filter(|r| r.is_partition)
        .map(|r| r.name.as_str())
        .collect();
    for expected in [
        "sample_default".to_string(),
        month(0),
        month(1),
        month(2),
        month(3),
    ] {
        assert!(
            partitions.contains(&expected.as_str()),
            "{expected} missing from {partitions:?}"
        );
    }
    Ok(())
}

#[test]
fn code_words_skip_literals_and_comments() {
    let body = "RAISE EXCEPTION 'rows of run are ''immutable''' -- not run\n, TG_OP;";
    assert_eq!(code_words(body), ["raise", "exception", "tg_op"]);
}
