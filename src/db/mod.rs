//! Database access: connecting, the run lock, lock-timeout retries, catalog reads and the
//! refinery adapter. Everything else talks to the database through these.

/// The tool's SQL file `sql/<dialect>/<name>.sql` for the connection's dialect, embedded at
/// compile time: `dialect_sql!(conn, "inspect")`.
macro_rules! dialect_sql {
    ($conn:expr, $name:literal) => {
        match $conn.dialect() {
            $crate::db::Dialect::Postgres => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/postgres/",
                $name,
                ".sql"
            )),
            $crate::db::Dialect::Sqlite => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/sqlite/",
                $name,
                ".sql"
            )),
        }
    };
}
pub(crate) use dialect_sql;

pub mod connect;
pub mod ident;
pub mod ledger;
pub mod lock;
pub mod migrator;
pub mod retry;
pub mod run;
pub mod url;

use serde::de::DeserializeOwned;
use sqlx::{PgConnection, Row, SqliteConnection};

use crate::error::{Error, Result};

pub use self::url::Dialect;

/// One open connection, to either dialect. Dialect-specific SQL lives in `sql/<dialect>/`.
pub enum Conn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl Conn {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Run SQL text that may hold several statements, with no parameters.
    ///
    /// SQL reaching here comes from `migrations/`, `sql/` or is built from the canon and from
    /// identifiers validated and quoted by [`ident`]; values are always bound, never spliced.
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Conn::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Conn::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }

    /// Run one query whose single column is JSON text and decode it. Text parameters are bound
    /// in order (`$1…` on PostgreSQL, `?1…` on SQLite). Catalog and report queries use this so
    /// both dialects decode into the same Rust types.
    pub async fn fetch_json<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        binds: &[&str],
    ) -> Result<T, sqlx::Error> {
        let text: String = match self {
            Conn::Postgres(c) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
                for b in binds {
                    q = q.bind(*b);
                }
                q.fetch_one(c).await?.try_get(0)?
            }
            Conn::Sqlite(c) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
                for b in binds {
                    q = q.bind(*b);
                }
                q.fetch_one(c).await?.try_get(0)?
            }
        };
        serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
}

/// SQLSTATE of a server error, if the error came from the server.
pub fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A driver error as a user may see it: the server's primary message and SQLSTATE only. The
/// DETAIL field (which can hold row values) is deliberately left out.
pub fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Decode(e) => format!("unexpected data from the database: {e}"),
        other => other.to_string(),
    }
}

/// Read a JSON document through `fetch_json`, wrapping failures with a step name.
pub async fn read<T: DeserializeOwned>(
    conn: &mut Conn,
    step: &str,
    sql: &str,
    binds: &[&str],
) -> Result<T> {
    conn.fetch_json(sql, binds)
        .await
        .map_err(|e| Error::database(step, &e))
}
