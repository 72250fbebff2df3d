//! `migrate`: bring the target to the canonical schema, safely on a live database.
//!
//! Order matters: missing columns first (so the migrations can name every canonical column),
//! then the versioned migrations through refinery, then constraint validation and concurrent
//! index builds, which must run outside a transaction and must not block writers.

use refinery_core::Runner;
use serde::Serialize;

use crate::commands::status::phase_rank;
use crate::db::ledger::{self, Entry, Outcome};
use crate::db::lock::RunLock;
use crate::db::migrator::{Migrator, HISTORY_TABLE};
use crate::db::retry::{ddl, RetryPolicy};
use crate::db::run::run_locked;
use crate::db::{ident, Conn, Dialect};
use crate::error::{Error, Result};
use crate::output::progress;
use crate::schema::canon;
use crate::schema::inspect::{self, inspect_retrying};
use crate::schema::migrations;
use crate::schema::plan::{self, ColumnAction, IndexAction, MigrationRef, Plan};
use crate::settings::Settings;

/// Relations a migrate step may wait on; named when a lock deadline runs out.
const RELATIONS: [&str; 2] = ["operation_runs", "operation_types"];

#[derive(Debug, Serialize)]
pub struct MigrateReport {
    pub dialect: Dialect,
    pub schema: String,
    /// True when nothing needed doing.
    pub already_converged: bool,
    pub created_schema: bool,
    pub applied: Vec<MigrationRef>,
    pub columns: Vec<plan::ColumnStep>,
    pub registered_types: Vec<String>,
    pub validated: Vec<String>,
    pub indexes: Vec<IndexDone>,
    pub phase: &'static str,
}

#[derive(Debug, Serialize)]
pub struct IndexDone {
    pub name: &'static str,
    pub action: IndexAction,
}

pub async fn run(settings: &Settings) -> Result<MigrateReport> {
    run_locked(settings, "migrate", async |conn, lock, retry| {
        migrate_locked(settings, conn, lock, retry).await
    })
    .await
}

async fn migrate_locked(
    settings: &Settings,
    conn: &mut Conn,
    lock: &RunLock,
    retry: &RetryPolicy,
) -> Result<MigrateReport> {
    let embedded = migrations::embedded(settings.dialect());
    // Re-read everything now that we hold the lock: another run may have moved things on.
    let inspection = inspect_retrying(conn, &settings.schema, true, retry).await?;
    let plan = plan::plan(&inspection, &embedded, &settings.schema);
    refuse_on_blockers(&plan)?;
    let already_converged = plan.is_converged();

    if plan.create_schema {
        let sql = format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            ident::quote(&settings.schema)
        );
        ddl(lock, conn, retry, "create the schema", &sql, &[]).await?;
    }
    let mut columns = Vec::new();
    for step in plan
        .columns
        .iter()
        .filter(|c| matches!(c.action, ColumnAction::Add | ColumnAction::Convert))
    {
        let sql = step
            .sql
            .as_deref()
            .expect("add and convert steps carry SQL");
        ddl(
            lock,
            conn,
            retry,
            &format!("{:?} column {}", step.action, step.column).to_lowercase(),
            sql,
            &RELATIONS,
        )
        .await?;
        columns.push(step.clone());
    }
    columns.extend(
        plan.columns
            .iter()
            .filter(|c| c.action == ColumnAction::Keep)
            .cloned(),
    );

    let applied = apply_migrations(conn, retry, &embedded).await?;

    // After the migrations: the constraints they added NOT VALID, and the indexes.
    let catalog = inspect_retrying(conn, &settings.schema, false, retry).await?;
    let mut validated = Vec::new();
    for name in &catalog.catalog.unvalidated {
        let sql = format!(
            "ALTER TABLE operation_runs VALIDATE CONSTRAINT {}",
            ident::quote(name)
        );
        ddl(
            lock,
            conn,
            retry,
            &format!("validate constraint {name}"),
            &sql,
            &RELATIONS,
        )
        .await?;
        validated.push(name.clone());
    }
    let mut indexes = Vec::new();
    for index in &canon::INDEXES {
        let action = ensure_index(
            settings,
            lock,
            conn,
            retry,
            index,
            catalog.index(index.name).map(|i| i.valid),
        )
        .await?;
        indexes.push(IndexDone {
            name: index.name,
            action,
        });
    }

    let report = MigrateReport {
        dialect: settings.dialect(),
        schema: settings.schema.clone(),
        already_converged,
        created_schema: plan.create_schema,
        applied,
        columns,
        registered_types: plan.register_types.clone(),
        validated,
        indexes,
        phase: "schema_ready",
    };
    // A later phase (guarded, verified) stays recorded: a migrate that only adds to the schema
    // does not undo the guard, so it records its action without moving the phase back.
    let recorded = inspection
        .recorded_phase
        .as_deref()
        .unwrap_or("not_started");
    let later_phase = phase_rank(recorded) > phase_rank("schema_ready");
    if !already_converged || recorded == "not_started" {
        let evidence = serde_json::to_value(&report).expect("report serializes");
        ledger::record(
            lock,
            conn,
            Entry {
                command: "migrate",
                step: "schema_ready",
                outcome: Outcome::Ok,
                phase: (!later_phase).then_some("schema_ready"),
                evidence,
            },
        )
        .await?;
    }
    Ok(report)
}

fn refuse_on_blockers(plan: &Plan) -> Result<()> {
    let Some(first) = plan.blockers.first() else {
        return Ok(());
    };
    let message = if plan.blockers.len() == 1 {
        format!(
            "refusing to migrate, nothing was changed: {}",
            first.message
        )
    } else {
        let all: Vec<String> = plan
            .blockers
            .iter()
            .enumerate()
            .map(|(i, b)| format!("({}) {}", i + 1, b.message))
            .collect();
        format!(
            "refusing to migrate for {} reasons, nothing was changed: {}",
            plan.blockers.len(),
            all.join("; ")
        )
    };
    Err(Error::refused_with(
        first.kind,
        message,
        serde_json::json!({ "blockers": plan.blockers }),
    ))
}

async fn apply_migrations(
    conn: &mut Conn,
    retry: &RetryPolicy,
    embedded: &[refinery_core::Migration],
) -> Result<Vec<MigrationRef>> {
    let mut runner = Runner::new(embedded)
        .set_abort_divergent(true)
        .set_abort_missing(true);
    runner.set_migration_table_name(HISTORY_TABLE);
    let mut migrator = Migrator::new(conn, retry);
    match runner.run_async(&mut migrator).await {
        Ok(report) => Ok(refs(report.applied_migrations())),
        Err(err) => {
            let applied = err
                .report()
                .map(|r| refs(r.applied_migrations()))
                .unwrap_or_default();
            Err(match migrator.take_failure() {
                Some(Error::LockDeadline {
                    step,
                    attempts,
                    deadline,
                    blockers,
                }) => Error::LockDeadline {
                    step,
                    attempts,
                    deadline,
                    blockers,
                },
                Some(typed) => Error::StepFailed {
                    step: "apply migrations".to_string(),
                    message: typed.to_string(),
                    applied: applied
                        .iter()
                        .map(|m| format!("V{}__{}", m.version, m.name))
                        .collect(),
                },
                None => Error::StepFailed {
                    step: "apply migrations".to_string(),
                    message: err.to_string(),
                    applied: applied
                        .iter()
                        .map(|m| format!("V{}__{}", m.version, m.name))
                        .collect(),
                },
            })
        }
    }
}

fn refs(migrations: &[refinery_core::Migration]) -> Vec<MigrationRef> {
    migrations
        .iter()
        .map(|m| MigrationRef {
            version: m.version(),
            name: m.name().to_string(),
            checksum: m.checksum().to_string(),
        })
        .collect()
}

/// Build one canonical index if it is missing or INVALID. PostgreSQL: concurrently, outside
/// a transaction; the unique index is preceded by a duplicate check so a build never fails
/// half-way on data the user has to fix anyway.
async fn ensure_index(
    settings: &Settings,
    lock: &RunLock,
    conn: &mut Conn,
    retry: &RetryPolicy,
    index: &canon::Index,
    found_valid: Option<bool>,
) -> Result<IndexAction> {
    let action = match found_valid {
        Some(true) => return Ok(IndexAction::Present),
        Some(false) => IndexAction::RebuildInvalid,
        None => IndexAction::Build,
    };
    if index.unique {
        refuse_duplicates(conn).await?;
    }
    let step = format!("build index {}", index.name);
    let create = index.create_sql(settings.dialect(), &settings.schema);
    if settings.dialect() == Dialect::Sqlite {
        ddl(lock, conn, retry, &step, &create, &RELATIONS).await?;
        return Ok(action);
    }
    let drop = format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
        ident::quote(&settings.schema),
        index.name
    );
    let mut attempts = retry.attempts(&step, &RELATIONS);
    loop {
        // Every attempt starts clean: a timed-out concurrent build leaves an INVALID index.
        let result = match invalid_leftover(conn, index.name).await? {
            true => conn.execute_script(&drop).await,
            false => Ok(()),
        };
        let result = match result {
            Ok(()) => {
                progress::index_build(settings, index.name, conn.execute_script(&create)).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => return Ok(action),
            Err(err) if crate::db::sqlstate(&err).as_deref() == Some("23505") => {
                // A writer added a duplicate active run after our check: clean up, report it.
                let _ = conn.execute_script(&drop).await;
                refuse_duplicates(conn).await?;
                return Err(Error::database(&step, &err));
            }
            Err(err) => {
                let _ = conn.execute_script(&drop).await;
                attempts.retry_after(err, conn).await?;
            }
        }
    }
}

async fn invalid_leftover(conn: &mut Conn, name: &str) -> Result<bool> {
    let Conn::Postgres(pg) = conn else {
        return Ok(false);
    };
    sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE i.relname = $1 AND i.relnamespace = current_schema()::regnamespace \
         AND NOT (x.indisvalid AND x.indisready))",
    )
    .bind(name)
    .fetch_one(pg)
    .await
    .map_err(|e| Error::database("check for an INVALID index", &e))
}

async fn refuse_duplicates(conn: &mut Conn) -> Result<()> {
    let duplicates = inspect::duplicates(conn).await?;
    if duplicates.groups == 0 {
        return Ok(());
    }
    let blocker = plan::duplicates_blocker(&duplicates);
    Err(Error::refused_with(
        blocker.kind,
        format!(
            "refusing to build the unique active-run index: {}",
            blocker.message
        ),
        blocker.details,
    ))
}
