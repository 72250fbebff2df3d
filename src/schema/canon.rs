//! The canon: the columns and indexes `operation_runs` must have (SPEC §2), as data that
//! `plan` prints and `migrate` carries out. Constraints live in the V2 migrations.

use crate::db::Dialect;

/// The canonical summary-count keys, in documented order (migrations seed the same list).
pub const SUMMARY_KEYS: [&str; 8] = [
    "total",
    "processed",
    "succeeded",
    "failed",
    "skipped",
    "created",
    "updated",
    "deleted",
];

/// An operation type the V1 migration seeds, with the rules that existing rows of that type
/// are checked against before adoption (the registry may not exist yet then).
#[derive(Debug, Clone, Copy)]
pub struct SeedType {
    pub name: &'static str,
    pub allowed_summary_keys: &'static [&'static str],
    pub targets_directory: bool,
}

const COUNTS: [&str; 6] = [
    "total",
    "processed",
    "succeeded",
    "failed",
    "skipped",
    "deleted",
];

/// The seed of V1 (README "Operation types"); an integration test compares it with the table.
pub const SEED_TYPES: [SeedType; 5] = [
    SeedType {
        name: "policy_version.prune",
        allowed_summary_keys: &COUNTS,
        targets_directory: true,
    },
    SeedType {
        name: "backup_set.delete",
        allowed_summary_keys: &COUNTS,
        targets_directory: true,
    },
    SeedType {
        name: "policy.sync",
        allowed_summary_keys: &SUMMARY_KEYS,
        targets_directory: true,
    },
    SeedType {
        name: "inventory.refresh",
        allowed_summary_keys: &[
            "total",
            "processed",
            "failed",
            "created",
            "updated",
            "deleted",
        ],
        targets_directory: true,
    },
    SeedType {
        name: "report.export",
        allowed_summary_keys: &["total", "processed", "succeeded", "failed"],
        targets_directory: false,
    },
];

/// The registry as existing rows will meet it, for checking them before adoption: the table
/// once it exists, else the seed; the body of a
/// `registry(type, allowed_summary_keys, targets_directory)` CTE.
pub fn registry_cte(dialect: Dialect, registry_exists: bool) -> String {
    if registry_exists {
        return "SELECT type, allowed_summary_keys, targets_directory FROM operation_types"
            .to_string();
    }
    let rows: Vec<String> = SEED_TYPES
        .iter()
        .map(|t| match dialect {
            Dialect::Postgres => {
                let keys: Vec<String> = t
                    .allowed_summary_keys
                    .iter()
                    .map(|k| format!("'{k}'"))
                    .collect();
                format!(
                    "('{}', ARRAY[{}]::text[], {})",
                    t.name,
                    keys.join(", "),
                    t.targets_directory
                )
            }
            Dialect::Sqlite => {
                let keys =
                    serde_json::to_string(t.allowed_summary_keys).expect("strings serialize");
                format!(
                    "('{}', '{keys}', {})",
                    t.name,
                    u8::from(t.targets_directory)
                )
            }
        })
        .collect();
    format!("VALUES {}", rows.join(", "))
}

pub const TABLE: &str = "operation_runs";

/// How a missing canonical column can be added to an existing table.
#[derive(Debug, Clone, Copy)]
pub enum Addable {
    /// `ADD COLUMN` with this definition: nullable or a constant default, so no table rewrite.
    With {
        postgres: &'static str,
        sqlite: &'static str,
    },
    /// Required and without a canonical default: the tool cannot invent values.
    No,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// The canonical type as PostgreSQL's `format_type` prints it.
    pub pg_type: &'static str,
    pub add: Addable,
    /// The value an added column takes on existing rows, as SQL (PostgreSQL, SQLite): checks
    /// of existing rows read it in place of the missing column.
    pub fill: (&'static str, &'static str),
}

const fn add(postgres: &'static str, sqlite: &'static str) -> Addable {
    Addable::With { postgres, sqlite }
}

pub const COLUMNS: [Column; 15] = [
    Column {
        name: "id",
        pg_type: "bigint",
        add: Addable::No,
        fill: ("NULL::bigint", "NULL"),
    },
    Column {
        name: "tenant_id",
        pg_type: "bigint",
        add: Addable::No,
        fill: ("NULL::bigint", "NULL"),
    },
    Column {
        name: "user_id",
        pg_type: "bigint",
        add: add("bigint", "INTEGER"),
        fill: ("NULL::bigint", "NULL"),
    },
    Column {
        name: "initiator_name",
        pg_type: "text",
        add: add("text", "TEXT"),
        fill: ("NULL::text", "NULL"),
    },
    Column {
        name: "type",
        pg_type: "text",
        add: Addable::No,
        fill: ("NULL::text", "NULL"),
    },
    Column {
        name: "status",
        pg_type: "text",
        add: Addable::No,
        fill: ("NULL::text", "NULL"),
    },
    Column {
        name: "outcome",
        pg_type: "text",
        add: Addable::No,
        fill: ("NULL::text", "NULL"),
    },
    Column {
        name: "run_identity_hash",
        pg_type: "character(64)",
        add: Addable::No,
        fill: ("NULL::text", "NULL"),
    },
    Column {
        name: "context",
        pg_type: "jsonb",
        add: add(
            "jsonb NOT NULL DEFAULT '{}'::jsonb",
            "TEXT NOT NULL DEFAULT '{}'",
        ),
        fill: ("'{}'::jsonb", "'{}'"),
    },
    Column {
        name: "summary_counts",
        pg_type: "jsonb",
        add: add(
            "jsonb NOT NULL DEFAULT '{}'::jsonb",
            "TEXT NOT NULL DEFAULT '{}'",
        ),
        fill: ("'{}'::jsonb", "'{}'"),
    },
    Column {
        name: "failure_summary",
        pg_type: "jsonb",
        add: add("jsonb", "TEXT"),
        fill: ("NULL::jsonb", "NULL"),
    },
    Column {
        name: "started_at",
        pg_type: "timestamp with time zone",
        add: add("timestamptz", "TEXT"),
        fill: ("NULL::timestamptz", "NULL"),
    },
    Column {
        name: "completed_at",
        pg_type: "timestamp with time zone",
        add: add("timestamptz", "TEXT"),
        fill: ("NULL::timestamptz", "NULL"),
    },
    // now() is stable, not volatile: PostgreSQL stores it once as the fast default, no rewrite.
    // SQLite cannot add a column with a non-constant default, so there it is nullable.
    Column {
        name: "created_at",
        pg_type: "timestamp with time zone",
        add: add("timestamptz NOT NULL DEFAULT now()", "TEXT"),
        fill: ("now()", "NULL"),
    },
    Column {
        name: "updated_at",
        pg_type: "timestamp with time zone",
        add: add("timestamptz NOT NULL DEFAULT now()", "TEXT"),
        fill: ("now()", "NULL"),
    },
];

/// What to do when an existing column's type differs from the canon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeDecision {
    /// Binary-coercible change (e.g. varchar → text): no rewrite, done by `migrate`.
    Convert,
    /// Compatible enough to keep; converting would rewrite the table. Reported, not changed.
    Keep,
    /// Cannot be used as is: `migrate` refuses and says what to do.
    Refuse,
}

/// Decide on a PostgreSQL type difference for a canonical column.
pub fn decide(column: &Column, found: &str) -> TypeDecision {
    let varchar = found.starts_with("character varying");
    match column.pg_type {
        "text" if varchar => TypeDecision::Convert,
        "character(64)" if varchar || found == "text" => TypeDecision::Keep,
        "jsonb" if found == "json" => TypeDecision::Keep,
        "bigint" if found == "integer" => TypeDecision::Keep,
        "timestamp with time zone" if found == "timestamp without time zone" => TypeDecision::Keep,
        _ => TypeDecision::Refuse,
    }
}

pub fn why(column: &Column, found: &str, decision: TypeDecision) -> String {
    match decision {
        TypeDecision::Convert => format!("{found} → {}: binary-compatible, no table rewrite", column.pg_type),
        TypeDecision::Keep => format!(
            "kept as {found} (canon: {}): converting would rewrite the table under an exclusive lock; the constraints accept both",
            column.pg_type
        ),
        TypeDecision::Refuse => format!(
            "{found} cannot hold the canonical {}: convert the column (ALTER TABLE operation_runs ALTER COLUMN {} TYPE {}) in a maintenance window, then re-run",
            column.pg_type, column.name, column.pg_type
        ),
    }
}

/// A canonical index. On PostgreSQL it is built concurrently after the migrations; on SQLite
/// inside the run's transaction.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Index {
    pub name: &'static str,
    pub unique: bool,
    pub columns: &'static str,
    pub predicate: Option<&'static str>,
    pub purpose: &'static str,
}

pub const ACTIVE_RUN_INDEX: &str = "operation_runs_active_identity_uniq";

pub const INDEXES: [Index; 2] = [
    Index {
        name: ACTIVE_RUN_INDEX,
        unique: true,
        columns: "tenant_id, run_identity_hash",
        predicate: Some("status IN ('queued', 'running')"),
        purpose: "active-run dedupe is tenant-wide",
    },
    Index {
        name: "operation_runs_tenant_created_idx",
        unique: false,
        columns: "tenant_id, created_at",
        predicate: None,
        purpose: "monitoring lists a tenant's runs newest first",
    },
];

impl Index {
    /// The build statement. PostgreSQL: CONCURRENTLY, without IF NOT EXISTS (an INVALID
    /// leftover must be found and rebuilt, not silently accepted).
    pub fn create_sql(&self, dialect: Dialect, schema: &str) -> String {
        let unique = if self.unique { "UNIQUE " } else { "" };
        let predicate = self
            .predicate
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default();
        match dialect {
            Dialect::Postgres => format!(
                "CREATE {unique}INDEX CONCURRENTLY {} ON {}.{TABLE} ({}){predicate}",
                self.name,
                crate::db::ident::quote(schema),
                self.columns
            ),
            Dialect::Sqlite => format!(
                "CREATE {unique}INDEX IF NOT EXISTS {} ON {TABLE} ({}){predicate}",
                self.name, self.columns
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_types_and_keys_are_the_ones_the_migrations_seed() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let v1 = crate::schema::migrations::embedded(dialect)[0]
                .sql()
                .unwrap()
                .to_string();
            for t in SEED_TYPES {
                assert!(
                    v1.contains(&format!("('{}'", t.name)),
                    "{} not seeded for {dialect:?}",
                    t.name
                );
            }
            for k in SUMMARY_KEYS {
                assert!(
                    v1.contains(&format!("('{k}',")),
                    "{k} not seeded for {dialect:?}"
                );
            }
        }
    }

    #[test]
    fn every_canonical_column_is_in_the_create_table() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let v2 = crate::schema::migrations::embedded(dialect)[1]
                .sql()
                .unwrap()
                .to_string();
            for c in COLUMNS {
                assert!(
                    v2.contains(&format!("\n    {} ", c.name)),
                    "{} missing for {dialect:?}",
                    c.name
                );
            }
        }
    }

    #[test]
    fn type_decisions() {
        let col = |n| COLUMNS.iter().find(|c| c.name == n).unwrap();
        assert_eq!(
            decide(col("status"), "character varying(32)"),
            TypeDecision::Convert
        );
        assert_eq!(decide(col("context"), "json"), TypeDecision::Keep);
        assert_eq!(decide(col("context"), "text"), TypeDecision::Refuse);
        assert_eq!(decide(col("tenant_id"), "integer"), TypeDecision::Keep);
        assert_eq!(decide(col("tenant_id"), "uuid"), TypeDecision::Refuse);
    }
}
