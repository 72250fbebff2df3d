//! Reading what the target database has: catalog facts, applied migrations, and the existing
//! rows that would block adoption. Read-only; each query is one set-based statement.

use refinery_core::Migration;
use serde::{Deserialize, Serialize};

use super::canon;
use crate::db::retry::RetryPolicy;
use crate::db::{self, dialect_sql, Conn, Dialect};
use crate::error::Result;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Catalog {
    pub schema_exists: bool,
    pub read_only: bool,
    pub in_recovery: bool,
    pub history_exists: bool,
    pub runs_exists: bool,
    pub registry_exists: bool,
    pub ledger_exists: bool,
    pub row_estimate: i64,
    pub columns: Vec<CatalogColumn>,
    pub indexes: Vec<CatalogIndex>,
    /// The tool's own (`oprun_*`) constraints on operation_runs not yet validated.
    pub unvalidated: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CatalogColumn {
    pub name: String,
    pub data_type: String,
    pub not_null: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CatalogIndex {
    pub name: String,
    pub valid: bool,
}

/// Existing rows breaking one canonical rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Violation {
    pub rule: String,
    pub rows: i64,
    pub sample_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Duplicates {
    pub groups: i64,
    pub rows: i64,
    pub sample: Vec<DuplicateGroup>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DuplicateGroup {
    pub tenant_id: i64,
    pub run_identity_hash: String,
    pub count: i64,
    pub ids: Vec<i64>,
}

#[derive(Debug, Deserialize)]
pub struct HistoryRow {
    pub version: i32,
    pub name: String,
    pub applied_on: String,
    pub checksum: String,
}

#[derive(Debug, Deserialize)]
struct State {
    phase: String,
}

/// Everything known about the target before deciding what to do.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub dialect: Dialect,
    pub catalog: Catalog,
    pub applied: Vec<Migration>,
    pub violations: Vec<Violation>,
    pub duplicates: Duplicates,
    /// Types existing rows use that neither the registry nor the seed lists.
    pub unregistered_types: Vec<String>,
    /// The phase the ledger last recorded, if the ledger exists.
    pub recorded_phase: Option<String>,
}

impl Inspection {
    pub fn column(&self, name: &str) -> Option<&CatalogColumn> {
        self.catalog.columns.iter().find(|c| c.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&CatalogIndex> {
        self.catalog.indexes.iter().find(|i| i.name == name)
    }
}

/// Inspect the target. `deep` also scans existing rows (violations, duplicates, types), which
/// `plan` and `migrate` need and `status` does not.
pub async fn inspect(conn: &mut Conn, schema: &str, deep: bool) -> Result<Inspection> {
    let catalog: Catalog = db::read(
        conn,
        "inspect the catalog",
        dialect_sql!(conn, "inspect"),
        &[schema],
    )
    .await?;
    let applied = if catalog.history_exists {
        let rows: Vec<HistoryRow> = db::read(
            conn,
            "read the migration history",
            dialect_sql!(conn, "history"),
            &[],
        )
        .await?;
        rows.into_iter().map(to_migration).collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let recorded_phase = if catalog.ledger_exists {
        let state: State = db::read(
            conn,
            "read the recorded phase",
            dialect_sql!(conn, "state"),
            &[],
        )
        .await?;
        Some(state.phase)
    } else {
        None
    };
    let mut inspection = Inspection {
        dialect: conn.dialect(),
        catalog,
        applied,
        violations: Vec::new(),
        duplicates: Duplicates::default(),
        unregistered_types: Vec::new(),
        recorded_phase,
    };
    if deep && inspection.catalog.runs_exists && has_required_columns(&inspection) {
        let checks = RowChecks::needed(&inspection);
        if checks.rules {
            inspection.violations = violations(conn, &inspection).await?;
        }
        if checks.duplicates {
            inspection.duplicates = duplicates(conn).await?;
        }
        if checks.types {
            let mut known: Vec<String> = canon::SEED_TYPES
                .iter()
                .map(|t| t.name.to_string())
                .collect();
            if inspection.catalog.registry_exists {
                let registered: Vec<String> = db::read(
                    conn,
                    "read the operation-type registry",
                    dialect_sql!(conn, "registry_types"),
                    &[],
                )
                .await?;
                known.extend(registered);
            }
            let known = serde_json::to_string(&known).expect("strings serialize");
            inspection.unregistered_types = db::read(
                conn,
                "list operation types in use",
                dialect_sql!(conn, "types_in_use"),
                &[&known],
            )
            .await?;
        }
    }
    Ok(inspection)
}

/// Which scans of existing rows are worth their cost. Once the database enforces a rule itself
/// (V2 applied, its constraints validated, the unique index valid), the rows cannot break it
/// and a converged `migrate` or `plan` need not read them again.
struct RowChecks {
    rules: bool,
    duplicates: bool,
    types: bool,
}

impl RowChecks {
    fn needed(inspection: &Inspection) -> RowChecks {
        let v2_applied = inspection.applied.iter().any(|m| m.version() == 2);
        let unvalidated = !inspection.catalog.unvalidated.is_empty();
        let unique_index_valid = inspection
            .index(canon::ACTIVE_RUN_INDEX)
            .is_some_and(|i| i.valid);
        RowChecks {
            rules: !v2_applied || unvalidated,
            duplicates: !unique_index_valid,
            types: !v2_applied,
        }
    }
}

/// Relations an inspection may wait on, named when its lock deadline runs out.
const INSPECTED: [&str; 4] = [
    "operation_runs",
    "operation_types",
    "oprun_cutover_history",
    "oprun_cutover_ledger",
];

/// [`inspect`], retried while a session holds a conflicting lock (an `ACCESS EXCLUSIVE` on
/// operation_runs blocks even catalog reads such as `pg_get_indexdef`), until the deadline;
/// then the error names the sessions in the way. Not for use inside a transaction.
pub async fn inspect_retrying(
    conn: &mut Conn,
    schema: &str,
    deep: bool,
    retry: &RetryPolicy,
) -> Result<Inspection> {
    let mut attempts = retry.attempts("inspect the target", &INSPECTED);
    loop {
        match inspect(conn, schema, deep).await {
            Ok(inspection) => return Ok(inspection),
            Err(err) => attempts.retry_after_error(err, conn).await?,
        }
    }
}

/// Duplicate active runs, read again right before the unique index is built.
pub async fn duplicates(conn: &mut Conn) -> Result<Duplicates> {
    db::read(
        conn,
        "look for duplicate active runs",
        dialect_sql!(conn, "duplicate_active_runs"),
        &[],
    )
    .await
}

/// Whether every column that cannot be added is present (otherwise rows cannot be checked).
pub fn has_required_columns(inspection: &Inspection) -> bool {
    canon::COLUMNS
        .iter()
        .filter(|c| matches!(c.add, canon::Addable::No))
        .all(|c| inspection.column(c.name).is_some())
}

async fn violations(conn: &mut Conn, inspection: &Inspection) -> Result<Vec<Violation>> {
    // Read existing rows as they will be after the missing columns are added.
    let select: Vec<String> = canon::COLUMNS
        .iter()
        .map(|c| match inspection.column(c.name) {
            Some(_) => db::ident::quote(c.name),
            None => {
                let fill = if inspection.dialect == Dialect::Postgres {
                    c.fill.0
                } else {
                    c.fill.1
                };
                format!("{fill} AS {}", db::ident::quote(c.name))
            }
        })
        .collect();
    let sql = format!(
        "WITH runs AS (SELECT {} FROM operation_runs),\nregistry(type, allowed_summary_keys, targets_directory) AS ({})\n{}",
        select.join(", "),
        canon::registry_cte(inspection.dialect, inspection.catalog.registry_exists),
        dialect_sql!(conn, "violations")
    );
    db::read(conn, "check existing rows against the canon", &sql, &[]).await
}

pub fn to_migration(row: HistoryRow) -> Result<Migration> {
    use time::format_description::well_known::Rfc3339;
    let bad = |what: &str| {
        crate::error::Error::refused(
            "history_unreadable",
            format!("the migration history row V{} has an unreadable {what}; fix or remove the row by hand", row.version),
        )
    };
    let applied_on =
        time::OffsetDateTime::parse(&row.applied_on, &Rfc3339).map_err(|_| bad("applied_on"))?;
    let checksum = row.checksum.parse::<u64>().map_err(|_| bad("checksum"))?;
    Ok(Migration::applied(
        row.version,
        row.name,
        applied_on,
        checksum,
    ))
}
