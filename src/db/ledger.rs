//! The ledger: one row per change the tool makes (who, when, tool version, step, outcome,
//! evidence), in the target database, so later runs and plain SQL can tell what happened.

use super::Conn;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
}

pub struct Entry<'a> {
    pub command: &'a str,
    pub step: &'a str,
    pub outcome: Outcome,
    /// The phase this action reached, when it completes one.
    pub phase: Option<&'a str>,
    pub evidence: serde_json::Value,
}

/// The operating-system user, for the ledger's actor column (the database role is added by
/// the database itself on PostgreSQL).
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_string())
}

pub async fn record(_lock: &super::lock::RunLock, conn: &mut Conn, entry: Entry<'_>) -> Result<()> {
    let outcome = match entry.outcome {
        Outcome::Ok => "ok",
        Outcome::Failed => "failed",
    };
    let evidence = entry.evidence.to_string();
    let version = env!("CARGO_PKG_VERSION");
    let os_user = os_user();
    let result = match conn {
        Conn::Postgres(c) => {
            sqlx::query(
                "INSERT INTO oprun_cutover_ledger (actor, tool_version, command, step, outcome, phase, evidence) \
                 VALUES (current_user || ' (os user ' || $1 || ')', $2, $3, $4, $5, $6, $7::jsonb)",
            )
            .bind(&os_user)
            .bind(version)
            .bind(entry.command)
            .bind(entry.step)
            .bind(outcome)
            .bind(entry.phase)
            .bind(&evidence)
            .execute(c)
            .await
            .map(drop)
        }
        Conn::Sqlite(c) => {
            sqlx::query(
                "INSERT INTO oprun_cutover_ledger (actor, tool_version, command, step, outcome, phase, evidence) \
                 VALUES ('os user ' || ?1, ?2, ?3, ?4, ?5, ?6, json(?7))",
            )
            .bind(&os_user)
            .bind(version)
            .bind(entry.command)
            .bind(entry.step)
            .bind(outcome)
            .bind(entry.phase)
            .bind(&evidence)
            .execute(c)
            .await
            .map(drop)
        }
    };
    result.map_err(|e| crate::error::Error::database("record the action in the ledger", &e))
}
