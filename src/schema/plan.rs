//! The plan: the difference between what the database has and the canon, as data. `plan`
//! prints it; `migrate` computes it again under the run lock and carries it out, so what was
//! shown is what runs.

use refinery_core::Migration;
use serde::Serialize;

use super::canon::{self, Addable, TypeDecision};
use super::inspect::{Duplicates, Inspection, Violation};
use crate::db::{ident, Dialect};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub dialect: Dialect,
    pub schema: String,
    /// PostgreSQL: the schema does not exist yet and `migrate` creates it.
    pub create_schema: bool,
    /// `operation_runs` exists and was not created by this tool: it is adopted in place.
    pub adopting: bool,
    /// The planner's row estimate for operation_runs; -1 when never analyzed.
    pub row_estimate: i64,
    pub applied: Vec<MigrationRef>,
    pub pending: Vec<PendingMigration>,
    pub columns: Vec<ColumnStep>,
    /// Application columns the canon does not know: left alone.
    pub app_columns: Vec<String>,
    pub register_types: Vec<String>,
    pub validate: Vec<String>,
    /// Constraints the pending migrations add NOT VALID are validated after them, too.
    pub validate_after_migrations: bool,
    pub indexes: Vec<IndexStep>,
    pub violations: Vec<Violation>,
    pub duplicates: Duplicates,
    pub blockers: Vec<Blocker>,
    /// The legacy tables and their drop order (the `plan` command fills it in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<crate::legacy::Family>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationRef {
    pub version: i32,
    pub name: String,
    pub checksum: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingMigration {
    pub version: i32,
    pub name: String,
    pub checksum: String,
    pub sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnAction {
    Add,
    Convert,
    Keep,
    Refuse,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnStep {
    pub column: &'static str,
    pub action: ColumnAction,
    pub found_type: Option<String>,
    pub sql: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexAction {
    Build,
    /// An INVALID leftover of an interrupted concurrent build: dropped and built again.
    RebuildInvalid,
    Present,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexStep {
    pub name: &'static str,
    pub action: IndexAction,
    pub sql: String,
    pub purpose: &'static str,
}

/// A reason `migrate` must refuse before changing anything.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl Blocker {
    /// The database and this binary disagree about the migration history (drift): `status`
    /// reports it and exits 1.
    pub fn is_drift(&self) -> bool {
        matches!(self.kind, "migration_edited" | "database_ahead")
    }
}

impl Plan {
    /// Nothing to change: the schema is canonical.
    pub fn is_converged(&self) -> bool {
        !self.create_schema
            && self.pending.is_empty()
            && self
                .columns
                .iter()
                .all(|c| matches!(c.action, ColumnAction::Keep))
            && self.register_types.is_empty()
            && self.validate.is_empty()
            && !self.validate_after_migrations
            && self
                .indexes
                .iter()
                .all(|i| i.action == IndexAction::Present)
    }
}

pub fn plan(inspection: &Inspection, embedded: &[Migration], schema: &str) -> Plan {
    let catalog = &inspection.catalog;
    let mut blockers = Vec::new();

    if catalog.in_recovery {
        blockers.push(blocker(
            "read_only",
            "the target is a hot standby (in recovery); run against the primary".to_string(),
        ));
    } else if catalog.read_only {
        blockers.push(blocker(
            "read_only",
            "the target is read-only (default_transaction_read_only is on); run against a writable primary".to_string(),
        ));
    }

    let (applied, pending) = compare_history(&inspection.applied, embedded, &mut blockers);
    let adopting = catalog.runs_exists && !inspection.applied.iter().any(|m| m.version() >= 2);
    let columns = if catalog.runs_exists {
        column_steps(inspection, schema, &mut blockers)
    } else {
        Vec::new()
    };

    if !inspection.violations.is_empty() {
        let rules: Vec<String> = inspection
            .violations
            .iter()
            .map(|v| {
                format!(
                    "{} ({} {})",
                    v.rule,
                    v.rows,
                    if v.rows == 1 { "row" } else { "rows" }
                )
            })
            .collect();
        blockers.push(Blocker {
            kind: "invalid_rows",
            message: format!(
                "existing operation_runs rows break canonical rules: {}; correct or complete those rows (ids in the details), then re-run",
                rules.join(", ")
            ),
            details: serde_json::json!({ "violations": inspection.violations }),
        });
    }
    if inspection.duplicates.groups > 0 {
        blockers.push(duplicates_blocker(&inspection.duplicates));
    }

    let postgres = inspection.dialect == Dialect::Postgres;
    let validate = catalog.unvalidated.clone();
    let indexes = canon::INDEXES
        .iter()
        .map(|index| {
            let action = match inspection.index(index.name) {
                None => IndexAction::Build,
                Some(found) if !found.valid => IndexAction::RebuildInvalid,
                Some(_) => IndexAction::Present,
            };
            IndexStep {
                name: index.name,
                action,
                sql: index.create_sql(inspection.dialect, schema),
                purpose: index.purpose,
            }
        })
        .collect();

    Plan {
        dialect: inspection.dialect,
        schema: schema.to_string(),
        create_schema: postgres && !catalog.schema_exists,
        adopting,
        row_estimate: catalog.row_estimate,
        // V2 adds its constraints valid at once to an empty (or new) table.
        validate_after_migrations: postgres
            && catalog.runs_exists
            && pending.iter().any(|m| m.version == 2),
        applied,
        pending,
        columns,
        app_columns: catalog
            .columns
            .iter()
            .filter(|c| !canon::COLUMNS.iter().any(|k| k.name == c.name))
            .map(|c| c.name.clone())
            .collect(),
        register_types: inspection.unregistered_types.clone(),
        validate,
        indexes,
        violations: inspection.violations.clone(),
        duplicates: inspection.duplicates.clone(),
        blockers,
        legacy: None,
    }
}

pub fn duplicates_blocker(duplicates: &Duplicates) -> Blocker {
    Blocker {
        kind: "duplicate_active_runs",
        message: format!(
            "{} active runs share a (tenant_id, run_identity_hash) with another in {} groups, so the unique active-run index cannot be built; complete or cancel the extra runs (ids in the details), then re-run",
            duplicates.rows, duplicates.groups
        ),
        details: serde_json::json!({ "duplicates": duplicates }),
    }
}

fn blocker(kind: &'static str, message: String) -> Blocker {
    Blocker {
        kind,
        message,
        details: serde_json::Value::Null,
    }
}

fn checksum(m: &Migration) -> String {
    m.checksum().to_string()
}

/// Applied vs embedded: edited migrations and versions this binary does not know refuse.
fn compare_history(
    applied: &[Migration],
    embedded: &[Migration],
    blockers: &mut Vec<Blocker>,
) -> (Vec<MigrationRef>, Vec<PendingMigration>) {
    let known_max = embedded.iter().map(Migration::version).max().unwrap_or(0);
    for done in applied {
        match embedded.iter().find(|m| m.version() == done.version()) {
            None => blockers.push(Blocker {
                kind: "database_ahead",
                message: format!(
                    "the database has migration V{}__{} applied, which this oprun-cutover does not know (it knows up to V{known_max}); use the newer oprun-cutover that applied it",
                    done.version(),
                    done.name()
                ),
                details: serde_json::json!({ "version": done.version(), "name": done.name() }),
            }),
            Some(ours) if ours.checksum() != done.checksum() || ours.name() != done.name() => blockers.push(Blocker {
                kind: "migration_edited",
                message: format!(
                    "migration V{} was changed after it was applied: the database recorded {}__{} with checksum {}, this binary has {}__{} with checksum {}; released migrations are append-only, so restore the original and add a new version instead",
                    done.version(),
                    done.version(),
                    done.name(),
                    done.checksum(),
                    ours.version(),
                    ours.name(),
                    ours.checksum()
                ),
                details: serde_json::json!({
                    "version": done.version(),
                    "applied_checksum": checksum(done),
                    "embedded_checksum": checksum(ours),
                }),
            }),
            Some(_) => {}
        }
    }
    let applied_refs = applied
        .iter()
        .map(|m| MigrationRef {
            version: m.version(),
            name: m.name().to_string(),
            checksum: checksum(m),
        })
        .collect();
    let pending = embedded
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version() == m.version()))
        .map(|m| PendingMigration {
            version: m.version(),
            name: m.name().to_string(),
            checksum: checksum(m),
            sql: m.sql().unwrap_or_default().to_string(),
        })
        .collect();
    (applied_refs, pending)
}

fn column_steps(
    inspection: &Inspection,
    schema: &str,
    blockers: &mut Vec<Blocker>,
) -> Vec<ColumnStep> {
    let table = match inspection.dialect {
        Dialect::Postgres => format!("{}.{}", ident::quote(schema), canon::TABLE),
        Dialect::Sqlite => canon::TABLE.to_string(),
    };
    let mut steps = Vec::new();
    for column in &canon::COLUMNS {
        let found = inspection.column(column.name);
        let step = match (found, column.add) {
            (None, Addable::No) => {
                blockers.push(blocker(
                    "missing_required_column",
                    format!(
                        "operation_runs has no {} column, which is required and has no default the tool could fill in; add and backfill it in the application first",
                        column.name
                    ),
                ));
                ColumnStep {
                    column: column.name,
                    action: ColumnAction::Refuse,
                    found_type: None,
                    sql: None,
                    note: "required, no default".into(),
                }
            }
            (None, Addable::With { postgres, sqlite }) => {
                let definition = if inspection.dialect == Dialect::Postgres {
                    postgres
                } else {
                    sqlite
                };
                let if_not_exists = if inspection.dialect == Dialect::Postgres {
                    "IF NOT EXISTS "
                } else {
                    ""
                };
                ColumnStep {
                    column: column.name,
                    action: ColumnAction::Add,
                    found_type: None,
                    sql: Some(format!(
                        "ALTER TABLE {table} ADD COLUMN {if_not_exists}{} {definition}",
                        column.name
                    )),
                    note: "missing; added without a table rewrite".into(),
                }
            }
            (Some(found), _)
                if inspection.dialect == Dialect::Postgres && found.data_type != column.pg_type =>
            {
                let decision = canon::decide(column, &found.data_type);
                let note = canon::why(column, &found.data_type, decision);
                if decision == TypeDecision::Refuse {
                    blockers.push(blocker(
                        "type_conflict",
                        format!("operation_runs.{}: {note}", column.name),
                    ));
                }
                ColumnStep {
                    column: column.name,
                    action: match decision {
                        TypeDecision::Convert => ColumnAction::Convert,
                        TypeDecision::Keep => ColumnAction::Keep,
                        TypeDecision::Refuse => ColumnAction::Refuse,
                    },
                    found_type: Some(found.data_type.clone()),
                    sql: (decision == TypeDecision::Convert).then(|| {
                        format!(
                            "ALTER TABLE {table} ALTER COLUMN {} TYPE {}",
                            column.name, column.pg_type
                        )
                    }),
                    note,
                }
            }
            (Some(_), _) => continue,
        };
        steps.push(step);
    }
    steps
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
