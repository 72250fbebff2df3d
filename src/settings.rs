//! Resolves command-line arguments and environment into [`Settings`]: every default lives here.

use std::time::Duration;

use crate::cli::{Format, GlobalArgs};
use crate::db::url::{DatabaseUrl, Dialect};
use crate::error::{Error, Result};

/// Everything a command needs to know about where and how to run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: DatabaseUrl,
    pub schema: String,
    pub format: Format,
    pub timeouts: Timeouts,
    pub progress: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Per-statement wait for a table lock (`lock_timeout` on PostgreSQL).
    pub lock: Duration,
    /// Overall budget for the run lock and for retrying lock timeouts.
    pub deadline: Duration,
    pub connect: Duration,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let raw = args.database_url.as_deref().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
            Error::usage(
                "no database given: pass --database-url or set DATABASE_URL (e.g. sqlite:oprun.db or postgres://user@host/db)",
            )
        })?;
        let url = DatabaseUrl::parse(raw)?;
        let schema = resolve_schema(url.dialect(), args.schema.as_deref())?;
        if args.lock_timeout.is_zero() {
            return Err(Error::usage("--lock-timeout must be greater than zero (0 would mean wait forever on PostgreSQL)"));
        }
        if args.deadline < args.lock_timeout {
            return Err(Error::usage(format!(
                "--deadline ({}) must be at least --lock-timeout ({})",
                humantime::format_duration(args.deadline),
                humantime::format_duration(args.lock_timeout)
            )));
        }
        Ok(Settings {
            url,
            schema,
            format: args.format,
            timeouts: Timeouts {
                lock: args.lock_timeout,
                deadline: args.deadline,
                connect: args.connect_timeout,
            },
            progress: !args.no_progress && args.format == Format::Human && !args.quiet,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.url.dialect()
    }
}

fn resolve_schema(dialect: Dialect, given: Option<&str>) -> Result<String> {
    match (dialect, given) {
        (Dialect::Postgres, None) => Ok("public".to_string()),
        (Dialect::Sqlite, None | Some("main")) => Ok("main".to_string()),
        (Dialect::Sqlite, Some(other)) => Err(Error::usage(format!(
            "SQLite has one schema, main; drop --schema {}",
            crate::db::ident::shown(other)
        ))),
        (Dialect::Postgres, Some(name)) => crate::db::ident::validate("--schema", name),
    }
}
