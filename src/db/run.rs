//! A writing run: the frame every command that changes the database runs in. It connects
//! directly (no transaction pooler), takes the run lock, runs the body,
//! commits or rolls back SQLite's one run transaction, and records a failure in the ledger.

use super::connect::{connect, Access};
use super::ledger::{self, Entry, Outcome};
use super::lock::RunLock;
use super::retry::RetryPolicy;
use super::Conn;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Run `body` holding the run lock, as every writing command does. PostgreSQL: a direct session
/// (no transaction pooler; `lock_timeout` is set for every session at connect). SQLite: inside the run's one transaction,
/// committed when `body` succeeds and rolled back when it fails. A failure that may have changed
/// something is recorded in the ledger.
pub async fn run_locked<T>(
    settings: &Settings,
    command: &str,
    body: impl AsyncFnOnce(&mut Conn, &RunLock, &RetryPolicy) -> Result<T>,
) -> Result<T> {
    let mut conn = connect(settings, Access::Write).await?;
    let retry = RetryPolicy::new(&settings.timeouts);
    if let Conn::Postgres(_) = conn {
        refuse_transaction_pooler(&mut conn).await?;
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

/// A transaction-pooling proxy hands each transaction to a different server session: session
/// settings, the advisory lock and concurrent index builds would silently misbehave.
async fn refuse_transaction_pooler(conn: &mut Conn) -> Result<()> {
    let Conn::Postgres(pg) = conn else {
        return Ok(());
    };
    let mut pids = Vec::with_capacity(2);
    for _ in 0..2 {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *pg)
            .await
            .map_err(|e| Error::database("read the backend pid", &e))?;
        pids.push(pid);
    }
    if pids[0] != pids[1] {
        return Err(Error::refused(
            "transaction_pooler",
            "the connection goes through a transaction-pooling proxy (the server session changed between two transactions); connect to PostgreSQL directly or through session pooling",
        ));
    }
    Ok(())
}
