//! `guard install`, `guard status`, `guard remove`: the write guard on the legacy tables.

pub mod install;
pub mod remove;
pub mod status;

use crate::cli::LegacyArgs;
use crate::db::connect::{connect, Access};
use crate::db::ledger::{self, Entry, Outcome};
use crate::db::lock::RunLock;
use crate::db::retry::RetryPolicy;
use crate::db::{ident, Conn};
use crate::error::{Error, Result};
use crate::legacy::Legacy;
use crate::schema::inspect::{inspect, Inspection};
use crate::schema::migrations;
use crate::schema::plan::{self, Plan};
use crate::settings::Settings;

/// The --legacy-table names, validated before anything connects. The canonical tables and the
/// tool's own can never be legacy: guarding them would stop the application.
fn named_tables(args: &LegacyArgs) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(args.tables.len());
    for name in &args.tables {
        let name = ident::validate("--legacy-table", name)?;
        if name.starts_with("oprun_")
            || [
                "operation_runs",
                "operation_types",
                "operation_summary_keys",
            ]
            .contains(&name.as_str())
        {
            return Err(Error::usage(format!(
                "--legacy-table {name}: a canonical or oprun-cutover table is never legacy"
            )));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Run `body` holding the run lock, as every writing command does. PostgreSQL: a direct session
/// (no transaction pooler) with `lock_timeout` set. SQLite: inside the run's one transaction,
/// committed when `body` succeeds and rolled back when it fails. A failure that may have changed
/// something is recorded in the ledger.
async fn locked<T>(
    settings: &Settings,
    command: &str,
    body: impl AsyncFnOnce(&mut Conn, &RunLock, &RetryPolicy) -> Result<T>,
) -> Result<T> {
    let mut conn = connect(settings, Access::Write).await?;
    let retry = RetryPolicy::new(&settings.timeouts);
    if let Conn::Postgres(_) = conn {
        super::migrate::refuse_transaction_pooler(&mut conn).await?;
        conn.execute_script(&retry.lock_timeout_sql(false))
            .await
            .map_err(|e| Error::database("set lock_timeout", &e))?;
    }
    let lock = RunLock::acquire(settings, &mut conn).await?;
    let outcome = body(&mut conn, &lock, &retry).await;
    let outcome = match (outcome, &mut conn) {
        (Ok(report), Conn::Sqlite(_)) => conn
            .execute_script("COMMIT")
            .await
            .map(|()| report)
            .map_err(|e| Error::database("commit the run", &e)),
        (Err(err), Conn::Sqlite(_)) => {
            let _ = conn.execute_script("ROLLBACK").await;
            Err(err)
        }
        (outcome, Conn::Postgres(_)) => outcome,
    };
    if let Err(err) = &outcome {
        if !matches!(
            err,
            Error::Refused { .. } | Error::RunLockHeld { .. } | Error::Usage(_)
        ) {
            let evidence = serde_json::json!({ "error": { "kind": err.kind(), "message": err.to_string(), "details": err.details() } });
            let entry = Entry {
                command,
                step: command,
                outcome: Outcome::Failed,
                phase: None,
                evidence,
            };
            // Best effort: the ledger may not exist yet, or the connection may be gone.
            let _ = ledger::record(&lock, &mut conn, entry).await;
        }
    }
    lock.release().await;
    outcome
}

/// The target as `migrate` left it, read under the run lock; refused when it is read-only.
async fn writable_target(settings: &Settings, conn: &mut Conn) -> Result<(Inspection, Plan)> {
    let inspection = inspect(conn, &settings.schema, false).await?;
    let plan = plan::plan(
        &inspection,
        &migrations::embedded(settings.dialect()),
        &settings.schema,
    );
    if let Some(b) = plan.blockers.iter().find(|b| b.kind == "read_only") {
        return Err(Error::refused(
            "read_only",
            format!("{}; nothing was changed", b.message),
        ));
    }
    Ok((inspection, plan))
}

/// Read the legacy family for a `guard` command: a schema that does not exist is a usage error
/// (most likely a mistyped --schema), never a dropped family that "holds".
async fn legacy_of(settings: &Settings, conn: &mut Conn, named: &[String]) -> Result<Legacy> {
    let legacy = crate::legacy::inspect(conn, &settings.schema, named).await?;
    if !legacy.schema_exists {
        return Err(Error::usage(format!(
            "schema {} does not exist in this database: check --schema",
            ident::shown(&settings.schema)
        )));
    }
    Ok(legacy)
}

fn legacy_dropped(what: &str) -> Error {
    Error::refused(
        "legacy_dropped",
        format!(
            "the legacy tables are dropped (no {} exists, nor any table named with --legacy-table): there is {what}",
            crate::legacy::ROOT
        ),
    )
}
