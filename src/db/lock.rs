//! One run at a time per database and schema. Code that changes the database takes a
//! `&RunLock`, so it cannot be called without holding it.
//!
//! PostgreSQL: a session-level advisory lock on a dedicated connection, polled with
//! `pg_try_advisory_lock` until `--deadline` — never a blocking wait, which would deadlock
//! against our own `CREATE INDEX CONCURRENTLY` (it waits for every open transaction).
//! SQLite: `BEGIN IMMEDIATE` on the working connection, with the busy timeout; the whole run
//! is one transaction, so a crash leaves nothing half-done.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::connect::{connect, Access};
use super::{describe, Conn};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// Proof that this process holds the run lock.
pub struct RunLock {
    /// PostgreSQL only: the connection whose session owns the advisory lock.
    holder: Option<Conn>,
    key: i64,
}

#[derive(Debug, serde::Deserialize)]
struct Holder {
    pid: i32,
    application_name: String,
    since_seconds: f64,
}

impl RunLock {
    /// Acquire the lock for `settings`' database and schema. On SQLite this opens the run's
    /// transaction on `work`.
    pub async fn acquire(settings: &Settings, work: &mut Conn) -> Result<RunLock> {
        match work {
            Conn::Sqlite(_) => {
                acquire_sqlite(settings, work).await?;
                Ok(RunLock {
                    holder: None,
                    key: 0,
                })
            }
            Conn::Postgres(_) => acquire_postgres(settings).await,
        }
    }

    /// Release the lock. Dropping the lock also releases it (the session ends), this just
    /// does it promptly and says so in the log.
    pub async fn release(self) {
        if let Some(Conn::Postgres(mut conn)) = self.holder {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut conn)
                .await;
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// The advisory-lock key: stable across tool versions, distinct per database and schema.
fn lock_key(database: &str, schema: &str) -> i64 {
    let digest = Sha256::digest(format!("oprun-cutover\0{database}\0{schema}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
}

async fn acquire_postgres(settings: &Settings) -> Result<RunLock> {
    let mut conn = connect(settings, Access::Read).await?;
    let Conn::Postgres(pg) = &mut conn else {
        unreachable!("dialect checked by caller")
    };
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *pg)
        .await
        .map_err(|e| Error::database("read the database name", &e))?;
    let key = lock_key(&database, &settings.schema);
    let started = std::time::Instant::now();
    let mut poll = Duration::from_millis(50);
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *pg)
            .await
            .map_err(|e| Error::database("take the run lock", &e))?;
        if got {
            tracing::debug!(key, "run lock acquired");
            return Ok(RunLock {
                holder: Some(conn),
                key,
            });
        }
        if started.elapsed() + poll > settings.timeouts.deadline {
            let holder = describe_holder(pg, key).await;
            return Err(Error::RunLockHeld {
                deadline: humantime::format_duration(settings.timeouts.deadline).to_string(),
                holder,
            });
        }
        tokio::time::sleep(poll).await;
        poll = (poll * 2).min(Duration::from_millis(500));
    }
}

async fn describe_holder(pg: &mut sqlx::PgConnection, key: i64) -> String {
    let found: Result<String, sqlx::Error> =
        sqlx::query_scalar(include_str!("../../sql/postgres/run_lock_holder.sql"))
            .bind(key)
            .fetch_one(&mut *pg)
            .await;
    match found.map(|text| serde_json::from_str::<Option<Holder>>(&text)) {
        Ok(Ok(Some(h))) => format!(
            "pid {} ({}), connected {:.0}s ago",
            h.pid,
            if h.application_name.is_empty() {
                "no application_name"
            } else {
                &h.application_name
            },
            h.since_seconds
        ),
        Ok(_) => "the holder ended just now; try again".to_string(),
        Err(e) => format!("holder unknown: {}", describe(&e)),
    }
}

async fn acquire_sqlite(settings: &Settings, work: &mut Conn) -> Result<()> {
    match work.execute_script("BEGIN IMMEDIATE").await {
        Ok(()) => probe_writable(work).await,
        Err(e) if is_sqlite_busy(&e) => Err(Error::RunLockHeld {
            deadline: humantime::format_duration(settings.timeouts.deadline).to_string(),
            holder: "another connection holds a write transaction on this SQLite file".to_string(),
        }),
        Err(e) if is_sqlite_readonly(&e) => Err(read_only_sqlite()),
        Err(e) => Err(Error::database("begin the run transaction", &e)),
    }
}

/// `BEGIN IMMEDIATE` succeeds on a read-only SQLite connection; find out before any change by
/// rewriting the header's user_version with its own value (a write that changes nothing).
async fn probe_writable(work: &mut Conn) -> Result<()> {
    let Conn::Sqlite(lite) = work else {
        return Ok(());
    };
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *lite)
        .await
        .map_err(|e| Error::database("read the SQLite user_version", &e))?;
    let probe = sqlx::AssertSqlSafe(format!("PRAGMA user_version = {version}"));
    match sqlx::raw_sql(probe).execute(&mut *lite).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let _ = work.execute_script("ROLLBACK").await;
            Err(if is_sqlite_readonly(&e) {
                read_only_sqlite()
            } else {
                Error::database("probe for write access", &e)
            })
        }
    }
}

pub fn is_sqlite_busy(err: &sqlx::Error) -> bool {
    matches!(
        super::sqlstate(err).as_deref(),
        Some("5" | "6" | "261" | "517")
    ) || describe(err).contains("database is locked")
}

pub fn is_sqlite_readonly(err: &sqlx::Error) -> bool {
    matches!(
        super::sqlstate(err).as_deref(),
        Some("8" | "264" | "520" | "776" | "1032")
    ) || describe(err).contains("readonly")
}

pub fn read_only_sqlite() -> Error {
    Error::refused(
        "read_only",
        "the SQLite database is read-only (file permissions or mode=ro); nothing was changed",
    )
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn key_differs_per_database_and_schema() {
        assert_ne!(lock_key("app", "public"), lock_key("app", "tenant"));
        assert_ne!(lock_key("app", "public"), lock_key("app2", "public"));
        assert_eq!(lock_key("app", "public"), lock_key("app", "public"));
    }
}
