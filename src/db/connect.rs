//! Opening a connection: dialect options, timeouts, TLS, and one clear line per failure.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{describe, sqlstate, Conn};
use crate::db::url::Dialect;
use crate::error::{Error, Result};
use crate::settings::Settings;

/// The name DBAs see in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "oprun-cutover";

/// What the connection is for: a SQLite file is only created by commands that write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Read, and a SQLite file that does not exist yet reads as an empty database (`plan`
    /// before the first `migrate`). Nothing is created.
    Preview,
    Write,
}

pub async fn connect(settings: &Settings, access: Access) -> Result<Conn> {
    let attempt = async {
        match settings.dialect() {
            Dialect::Postgres => {
                let options = postgres_options(settings)?;
                sqlx::PgConnection::connect_with(&options)
                    .await
                    .map(Conn::Postgres)
                    .map_err(|e| connect_error(settings, &e))
            }
            Dialect::Sqlite => {
                let options = sqlite_options(settings, access)?;
                sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .map(Conn::Sqlite)
                    .map_err(|e| connect_error(settings, &e))
            }
        }
    };
    match tokio::time::timeout(settings.timeouts.connect, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::Connect {
            target: settings.url.to_string(),
            reason: format!(
                "no answer within {} (check the host and port, a firewall, or raise --connect-timeout)",
                humantime::format_duration(settings.timeouts.connect)
            ),
        }),
    }
}

fn postgres_options(settings: &Settings) -> Result<PgConnectOptions> {
    // sslmode defaults to `prefer`, as in libpq; `require` and `verify-full` come from the URL.
    // sqlx sets TCP_NODELAY on its sockets, so the TLS handshake does not wait on delayed ACKs.
    let options = PgConnectOptions::from_str(settings.url.expose()).map_err(|e| {
        Error::usage(format!(
            "the PostgreSQL URL {} is not valid: {}",
            settings.url,
            settings.url.scrub(&e.to_string())
        ))
    })?;
    let lock_timeout = format!("{}ms", settings.timeouts.lock.as_millis().max(1));
    Ok(options
        .application_name(APPLICATION_NAME)
        // Pin search_path: every unqualified name in our SQL means the target schema, and no
        // object in another schema can shadow it. --schema is validated as a plain identifier.
        // lock_timeout for every statement of every session, reads included: nothing we run may
        // queue the application behind it, or hang behind a lock (retries are ours to decide).
        .options([
            ("search_path", settings.schema.as_str()),
            ("lock_timeout", lock_timeout.as_str()),
        ])
        .disable_statement_logging())
}

fn sqlite_options(settings: &Settings, access: Access) -> Result<SqliteConnectOptions> {
    let mut options = SqliteConnectOptions::from_str(settings.url.expose())
        .map_err(|e| Error::usage(format!("the SQLite URL {} is not valid: {e}", settings.url)))?;
    let raw = settings.url.expose();
    let in_memory = raw.contains(":memory:") || raw.contains("mode=memory");
    let missing = !in_memory && !options.get_filename().exists();
    match access {
        Access::Preview if missing => {
            options = SqliteConnectOptions::from_str("sqlite::memory:").expect("static URL")
        }
        Access::Read if missing => {
            return Err(Error::Connect {
                target: settings.url.to_string(),
                reason: "the SQLite file does not exist yet; `migrate` creates it".to_string(),
            })
        }
        _ => {}
    }
    Ok(options
        .create_if_missing(access == Access::Write)
        .foreign_keys(true)
        // A second writer waits this long for `BEGIN IMMEDIATE`, then reports the lock as held.
        .busy_timeout(settings.timeouts.deadline.max(Duration::from_millis(1)))
        .disable_statement_logging())
}

fn connect_error(settings: &Settings, err: &sqlx::Error) -> Error {
    let reason = match (err, sqlstate(err).as_deref()) {
        (_, Some("28P01" | "28000")) => format!(
            "authentication failed: {} (check the user name and password)",
            describe(err)
        ),
        (_, Some("3D000")) => format!(
            "{} (create it, or fix the database name in the URL)",
            describe(err)
        ),
        (sqlx::Error::Io(io), _) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is the server running and listening on that host and port?)"
                .to_string()
        }
        (sqlx::Error::Io(io), _) => format!("network error: {io}"),
        (sqlx::Error::Tls(tls), _) => {
            format!("TLS handshake failed: {tls} (check sslmode and the server certificate)")
        }
        _ => describe(err),
    };
    Error::Connect {
        target: settings.url.to_string(),
        reason: settings.url.scrub(&reason),
    }
}
