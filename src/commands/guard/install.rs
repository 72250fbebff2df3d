//! `guard install`: guard every legacy table in enforce or observe mode, optionally revoking the
//! application roles' write privileges.
//!
//! Each table is guarded in its own short transaction (one message, run by PostgreSQL as one
//! implicit transaction), children first, each statement under `lock_timeout` with retries. So
//! a long reader or writer on one table delays that table only, a failure leaves whole tables
//! guarded or untouched (never half a table), and a re-run skips what is already in place and
//! completes the rest. SQLite runs the whole install in the run's one transaction.

use serde::Serialize;

use super::{legacy_dropped, named_tables, writable_target};
use crate::cli::{GuardInstallArgs, GuardMode};
use crate::commands::status::schema_ready;
use crate::db::ledger::{self, Entry, Outcome};
use crate::db::lock::RunLock;
use crate::db::retry::{ddl, RetryPolicy};
use crate::db::run::run_locked;
use crate::db::{dialect_sql, ident, Conn, Dialect};
use crate::error::{Error, Result};
use crate::legacy::{self, ddl as guard_sql, Family, Legacy, Privilege, Verdict};
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct GuardInstallReport {
    pub dialect: Dialect,
    pub schema: String,
    pub mode: &'static str,
    pub phase: &'static str,
    /// Nothing needed doing: every table was already guarded in this mode.
    pub already_installed: bool,
    /// One step per legacy table, in drop order.
    pub tables: Vec<TableStep>,
    pub revoked: Vec<Privilege>,
    pub family: Family,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TableStep {
    pub table: String,
    /// `installed`, `switched` (from the other mode), `repaired` (was broken), `revoked`
    /// (privileges only) or `unchanged`.
    pub action: &'static str,
}

fn mode_name(mode: GuardMode) -> &'static str {
    match mode {
        GuardMode::Observe => "observe",
        GuardMode::Enforce => "enforce",
    }
}

pub async fn run(settings: &Settings, args: &GuardInstallArgs) -> Result<GuardInstallReport> {
    let named = named_tables(&args.legacy)?;
    let mut roles = Vec::with_capacity(args.app_roles.len());
    for role in &args.app_roles {
        roles.push(ident::validate("--app-role", role)?);
    }
    if settings.dialect() == Dialect::Sqlite && !roles.is_empty() {
        return Err(Error::usage(
            "--app-role: SQLite has no roles or privileges; drop the option",
        ));
    }
    let mode = mode_name(args.mode);
    run_locked(
        settings,
        "guard install",
        async |conn: &mut Conn, lock: &RunLock, retry: &RetryPolicy| {
            install(settings, conn, lock, retry, mode, &named, &roles).await
        },
    )
    .await
}

async fn install(
    settings: &Settings,
    conn: &mut Conn,
    lock: &RunLock,
    retry: &RetryPolicy,
    mode: &'static str,
    named: &[String],
    roles: &[String],
) -> Result<GuardInstallReport> {
    let schema = &settings.schema;
    let (inspection, plan) = writable_target(settings, conn, retry).await?;
    if !schema_ready(&inspection, &plan) {
        return Err(Error::refused(
            "not_schema_ready",
            "the schema is not ready for the guard: run `oprun-cutover migrate` first (`status` says what is missing); nothing was changed",
        ));
    }
    let before = legacy::inspect(conn, schema, named).await?;
    if before.family.dropped {
        return Err(legacy_dropped("nothing to guard"));
    }
    let order = before.family.drop_order.clone();
    let to_revoke = if roles.is_empty() {
        Vec::new()
    } else {
        legacy::privileges(conn, schema, &order, roles).await?
    };
    let (template, expected, phase) = match mode {
        "enforce" => (
            dialect_sql!(conn, "guard_enforce"),
            Verdict::Enforced,
            "guarded_enforce",
        ),
        _ => (
            dialect_sql!(conn, "guard_observe"),
            Verdict::Observing,
            "guarded_observe",
        ),
    };
    let relations: Vec<&str> = order.iter().map(String::as_str).collect();

    let mut tables = Vec::with_capacity(order.len());
    for (done, table) in order.iter().enumerate() {
        let row = before.row(table);
        let in_place = row.is_some_and(|r| r.is_installed_as(mode));
        let revoke: Vec<&Privilege> = to_revoke.iter().filter(|p| &p.table == table).collect();
        let action = match row.map(|r| r.mode.as_deref()) {
            _ if in_place && revoke.is_empty() => "unchanged",
            _ if in_place => "revoked",
            None => "installed",
            Some(Some(found)) if found != mode => "switched",
            Some(_) => "repaired",
        };
        if action != "unchanged" {
            let source = before.family.table(table).map_or("option", |t| &t.source);
            let mut sql = String::new();
            if !in_place {
                sql = guard_sql::table_sql(template, settings.dialect(), schema, table, source);
            }
            sql.push_str(&guard_sql::revoke_sql(schema, table, &revoke));
            let step = format!("guard {table} ({mode})");
            if let Err(err) = ddl(lock, conn, retry, &step, &sql, &relations).await {
                return Err(partial(err, settings.dialect(), mode, &order, done));
            }
        }
        tables.push(TableStep {
            table: table.clone(),
            action,
        });
    }

    // Read back what the catalog now says: the report shows it, and a guard that does not hold
    // after installing is a failure, not a success.
    let after = legacy::inspect(conn, schema, named).await?;
    if after.verdict() != expected {
        let problems: Vec<String> = after
            .tables()
            .iter()
            .filter(|t| !t.is_installed_as(mode))
            .map(|t| {
                format!(
                    "{}: {}",
                    t.table,
                    t.problem.as_deref().unwrap_or("not guarded")
                )
            })
            .collect();
        return Err(Error::StepFailed {
            step: "check the installed guard".to_string(),
            message: problems.join("; "),
            applied: tables
                .iter()
                .filter(|t| t.action != "unchanged")
                .map(|t| t.table.clone())
                .collect(),
        });
    }

    let report = GuardInstallReport {
        dialect: settings.dialect(),
        schema: schema.clone(),
        mode,
        phase,
        already_installed: tables.iter().all(|t| t.action == "unchanged"),
        warnings: warnings(&after),
        tables,
        revoked: to_revoke,
        family: after.family,
    };
    if !report.already_installed || inspection.recorded_phase.as_deref() != Some(phase) {
        let evidence = serde_json::to_value(&report).expect("report serializes");
        ledger::record(
            lock,
            conn,
            Entry {
                command: "guard install",
                step: "guard install",
                outcome: Outcome::Ok,
                phase: Some(phase),
                evidence,
            },
        )
        .await?;
    }
    Ok(report)
}

/// Revoked privileges a role still holds some other way (membership, PUBLIC, another grantor):
/// the triggers still block its writes, but the revoke did not take the right away.
fn warnings(legacy: &Legacy) -> Vec<String> {
    let mut warnings = Vec::new();
    for t in legacy.tables() {
        for r in t.revoked.iter().filter(|r| r.effective) {
            warnings.push(format!(
                "{} still has {} on {} through another grant (a role it belongs to, PUBLIC, or another grantor); the guard still blocks it",
                r.role, r.privilege, t.table
            ));
        }
    }
    warnings
}

/// A failed table leaves the earlier ones guarded (PostgreSQL commits each): say which, so no
/// half-installed family goes unreported. SQLite rolled the whole run back.
fn partial(err: Error, dialect: Dialect, mode: &str, order: &[String], done: usize) -> Error {
    if dialect == Dialect::Sqlite {
        return err;
    }
    let list = |tables: &[String]| {
        if tables.is_empty() {
            "none".to_string()
        } else {
            tables.join(", ")
        }
    };
    let progress = format!(
        "guarded in {mode} mode so far: {}; not done: {}; `guard status` shows each table",
        list(&order[..done]),
        list(&order[done..])
    );
    match err {
        Error::LockDeadline {
            step,
            attempts,
            deadline,
            blockers,
        } => Error::LockDeadline {
            step: format!("{step} ({progress})"),
            attempts,
            deadline,
            blockers,
        },
        other => Error::StepFailed {
            step: format!("guard {} ({progress})", order[done]),
            message: other.to_string(),
            applied: order[..done].to_vec(),
        },
    }
}
