//! refinery ships no sqlx driver: this adapter implements refinery's async traits over our
//! sqlx connection, so refinery decides what to apply and we decide how it runs.
//!
//! PostgreSQL: each migration and its history row commit in one transaction, under
//! the session's `lock_timeout`, retried with backoff on lock timeouts and deadlocks.
//! SQLite: the run already holds `BEGIN IMMEDIATE`; each migration is a savepoint inside it.

use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::Migration;

use super::retry::RetryPolicy;
use super::Conn;
use crate::error::Error;
use crate::schema::inspect::{to_migration, HistoryRow};

/// The history table: named for this tool, never refinery's default.
pub const HISTORY_TABLE: &str = "oprun_cutover_history";

/// Tables a migration may lock; named when a lock deadline runs out.
const MIGRATION_RELATIONS: [&str; 3] = ["operation_runs", "operation_types", HISTORY_TABLE];

/// What refinery sees as a driver error. The typed error is kept aside in
/// [`Migrator::failure`] so the caller can report it exactly.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdapterError(String);

pub struct Migrator<'a> {
    conn: &'a mut Conn,
    retry: &'a RetryPolicy,
    failure: Option<Error>,
}

impl<'a> Migrator<'a> {
    pub fn new(conn: &'a mut Conn, retry: &'a RetryPolicy) -> Migrator<'a> {
        Migrator {
            conn,
            retry,
            failure: None,
        }
    }

    /// The typed error behind the last refinery failure, if the adapter raised it.
    pub fn take_failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    async fn run_postgres(&mut self, queries: &[&str]) -> Result<(), Error> {
        let step = "apply migration";
        let mut attempts = self.retry.attempts(step, &MIGRATION_RELATIONS);
        loop {
            let result = async {
                self.conn.execute_script("BEGIN").await?;
                for q in queries {
                    self.conn.execute_script(q).await?;
                }
                self.conn.execute_script("COMMIT").await
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(err) => {
                    let _ = self.conn.execute_script("ROLLBACK").await;
                    attempts.retry_after(err, self.conn).await?;
                }
            }
        }
    }

    async fn run_sqlite(&mut self, queries: &[&str]) -> Result<(), Error> {
        self.conn
            .execute_script("SAVEPOINT oprun_migration")
            .await
            .map_err(|e| Error::database("open a migration savepoint", &e))?;
        for q in queries {
            if let Err(e) = self.conn.execute_script(q).await {
                let _ = self
                    .conn
                    .execute_script("ROLLBACK TO oprun_migration; RELEASE oprun_migration")
                    .await;
                return Err(Error::database("apply migration", &e));
            }
        }
        self.conn
            .execute_script("RELEASE oprun_migration")
            .await
            .map_err(|e| Error::database("release a migration savepoint", &e))
    }
}

impl AsyncTransaction for Migrator<'_> {
    type Error = AdapterError;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let queries: Vec<&str> = queries.collect();
        let result = match self.conn {
            Conn::Postgres(_) => self.run_postgres(&queries).await,
            Conn::Sqlite(_) => self.run_sqlite(&queries).await,
        };
        match result {
            Ok(()) => Ok(queries.len()),
            Err(err) => {
                let message = err.to_string();
                self.failure = Some(err);
                Err(AdapterError(message))
            }
        }
    }
}

impl AsyncQuery<Vec<Migration>> for Migrator<'_> {
    async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<Migration>, Self::Error> {
        let sql = history_as_json(self.conn.dialect(), query);
        let rows: Vec<HistoryRow> = self
            .conn
            .fetch_json(&sql, &[])
            .await
            .map_err(|e| AdapterError(super::describe(&e)))?;
        rows.into_iter()
            .map(|row| to_migration(row).map_err(|e| AdapterError(e.to_string())))
            .collect()
    }
}

impl AsyncMigrate for Migrator<'_> {}

/// refinery's history queries, wrapped to return one JSON document (see `Conn::fetch_json`).
fn history_as_json(dialect: super::Dialect, query: &str) -> String {
    let inner = query.trim().trim_end_matches(';');
    match dialect {
        super::Dialect::Postgres => {
            format!("SELECT coalesce(json_agg(h), '[]')::text FROM ({inner}) h")
        }
        super::Dialect::Sqlite => format!(
            "SELECT coalesce(json_group_array(json_object('version', version, 'name', name, \
             'applied_on', applied_on, 'checksum', checksum)), '[]') FROM ({inner})"
        ),
    }
}
