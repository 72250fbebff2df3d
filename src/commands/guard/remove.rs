//! `guard remove`: the rollback path before the drop. Lifts the guard from every table it was
//! installed on and grants back exactly the privileges `--app-role` revoked. Each table in its
//! own short transaction under `lock_timeout`, like `guard install`; a re-run finishes the rest.

use serde::Serialize;

use super::{legacy_dropped, legacy_of, named_tables, writable_target};
use crate::cli::LegacyArgs;
use crate::db::ledger::{self, Entry, Outcome};
use crate::db::lock::RunLock;
use crate::db::retry::{ddl, RetryPolicy};
use crate::db::run::run_locked;
use crate::db::{dialect_sql, Conn, Dialect};
use crate::error::Result;
use crate::legacy::{ddl as guard_sql, Family, Privilege, Revoked};
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct GuardRemoveReport {
    pub dialect: Dialect,
    pub schema: String,
    pub phase: &'static str,
    /// No guard was installed: nothing changed.
    pub nothing_to_remove: bool,
    pub removed: Vec<RemovedTable>,
    /// Privileges granted back.
    pub restored: Vec<Privilege>,
    pub warnings: Vec<String>,
    pub family: Family,
}

/// A table the guard was lifted from, with its final counts (also kept in the ledger: the
/// counters themselves are dropped with the guard).
#[derive(Debug, Serialize)]
pub struct RemovedTable {
    pub table: String,
    pub mode: Option<String>,
    pub blocked_count: Option<i64>,
    pub last_blocked_at: Option<String>,
}

pub async fn run(settings: &Settings, args: &LegacyArgs) -> Result<GuardRemoveReport> {
    let named = named_tables(args)?;
    run_locked(
        settings,
        "guard remove",
        async |conn: &mut Conn, lock: &RunLock, retry: &RetryPolicy| {
            remove(settings, conn, lock, retry, &named).await
        },
    )
    .await
}

async fn remove(
    settings: &Settings,
    conn: &mut Conn,
    lock: &RunLock,
    retry: &RetryPolicy,
    named: &[String],
) -> Result<GuardRemoveReport> {
    let schema = &settings.schema;
    let (inspection, _) = writable_target(settings, conn, retry).await?;
    let legacy = legacy_of(settings, conn, named).await?;
    if legacy.family.dropped {
        return Err(legacy_dropped(
            "no guard to remove (the rollback path ends at the drop)",
        ));
    }
    // Every table the guard is on, family order first; a remembered table that no longer
    // exists is only forgotten.
    let mut rows: Vec<_> = legacy.guard.tables.iter().collect();
    let order = &legacy.family.drop_order;
    rows.sort_by_key(|r| {
        order
            .iter()
            .position(|t| *t == r.table)
            .unwrap_or(order.len())
    });
    let relations: Vec<&str> = rows.iter().map(|r| r.table.as_str()).collect();
    let template = dialect_sql!(conn, "guard_remove");

    let mut removed = Vec::new();
    let mut restored = Vec::new();
    let mut warnings = Vec::new();
    for row in &rows {
        let (grant, skip): (Vec<&Revoked>, Vec<&Revoked>) = row
            .revoked
            .iter()
            .partition(|r| r.role_exists && row.table_exists);
        for r in skip {
            warnings.push(format!(
                "{} on {} was revoked from {}, which no longer exists (or the table is gone): nothing to grant back",
                r.privilege, row.table, r.role
            ));
        }
        let mut sql = guard_sql::table_sql(
            template,
            settings.dialect(),
            schema,
            &row.table,
            &row.source,
        );
        sql.push_str(&guard_sql::restore_sql(schema, &row.table, &grant));
        let step = format!("lift the guard from {}", row.table);
        ddl(lock, conn, retry, &step, &sql, &relations).await?;
        restored.extend(grant.iter().map(|r| Privilege {
            table: row.table.clone(),
            role: r.role.clone(),
            privilege: r.privilege.clone(),
            grantable: r.grantable,
        }));
        removed.push(RemovedTable {
            table: row.table.clone(),
            mode: row.mode.clone(),
            blocked_count: row.blocked_count,
            last_blocked_at: row.last_blocked_at.clone(),
        });
    }

    let report = GuardRemoveReport {
        dialect: settings.dialect(),
        schema: schema.clone(),
        phase: "schema_ready",
        nothing_to_remove: removed.is_empty(),
        removed,
        restored,
        warnings,
        family: legacy.family,
    };
    let recorded_guarded = inspection
        .recorded_phase
        .as_deref()
        .is_some_and(|p| p.starts_with("guarded_"));
    if !report.nothing_to_remove || recorded_guarded {
        let evidence = serde_json::to_value(&report).expect("report serializes");
        ledger::record(
            lock,
            conn,
            Entry {
                command: "guard remove",
                step: "guard remove",
                outcome: Outcome::Ok,
                phase: Some("schema_ready"),
                evidence,
            },
        )
        .await?;
    }
    Ok(report)
}
