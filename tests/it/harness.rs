//! A small harness: throwaway databases and a builder to run the binary against them.
//!
//! PostgreSQL comes from `OPRUN_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! an admin connection used to create one database per test). When it is unreachable, tests
//! skip with a note, except under CI (`CI=true`), where they fail.

#![allow(dead_code)]

use std::process::Output;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use sqlx::{ConnectOptions, Connection, Row};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn admin_url() -> String {
    std::env::var("OPRUN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The kinds of database a scenario can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Sqlite,
}

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh PostgreSQL database, or `None` (skip) when the server is down outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin = admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(conn) => conn,
            Err(err) if !under_ci() => {
                eprintln!("SKIP: PostgreSQL unreachable at OPRUN_TEST_PG_URL ({err}); set CI=true to make this fail");
                return None;
            }
            Err(err) => panic!("PostgreSQL is required under CI but unreachable: {err}"),
        };
        let name = format!(
            "oprun_it_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Some(TestDb {
            kind: Kind::Postgres,
            url: url.to_string(),
            name,
            _dir: None,
        })
    }

    /// A fresh SQLite file in a temp directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        TestDb {
            kind: Kind::Sqlite,
            url: format!("sqlite:{}", path.display()),
            name: String::new(),
            _dir: Some(dir),
        }
    }

    /// Both kinds, for scenarios that must behave the same on each (PostgreSQL skipped
    /// outside CI when unreachable).
    pub async fn each() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }

    /// Run the binary with `--database-url` set to this database.
    pub fn cmd(&self) -> Cmd {
        Cmd::new().env("DATABASE_URL", &self.url)
    }

    pub async fn connect(&self) -> Conn {
        match self.kind {
            Kind::Postgres => Conn::Pg(sqlx::PgConnection::connect(&self.url).await.unwrap()),
            Kind::Sqlite => {
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .create_if_missing(true);
                Conn::Lite(opts.connect().await.unwrap())
            }
        }
    }

    /// Execute SQL (several statements allowed), panicking on error.
    pub async fn exec(&self, sql: &str) {
        self.connect()
            .await
            .exec(sql)
            .await
            .unwrap_or_else(|e| panic!("{e}\nSQL: {sql}"));
    }

    /// Execute SQL, returning the server's error message on failure.
    pub async fn try_exec(&self, sql: &str) -> Result<(), String> {
        self.connect().await.exec(sql).await
    }

    /// First column of the first row, as text (NULL → "NULL").
    pub async fn scalar(&self, sql: &str) -> String {
        self.connect().await.scalar(sql).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.kind != Kind::Postgres {
            return;
        }
        let name = self.name.clone();
        // Drop runs outside any runtime; a short-lived one does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A direct connection for arranging and checking state behind the tool's back.
pub enum Conn {
    Pg(sqlx::PgConnection),
    Lite(sqlx::SqliteConnection),
}

impl Conn {
    pub async fn exec(&mut self, sql: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        let result = match self {
            Conn::Pg(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Conn::Lite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        };
        result.map_err(|e| match e {
            sqlx::Error::Database(db) => {
                format!("{} [{}]", db.message(), db.code().unwrap_or_default())
            }
            other => other.to_string(),
        })
    }

    pub async fn scalar(&mut self, sql: &str) -> String {
        let wrapped = match self {
            Conn::Pg(_) => format!("SELECT coalesce(({sql})::text, 'NULL')"),
            Conn::Lite(_) => format!("SELECT coalesce(CAST(({sql}) AS TEXT), 'NULL')"),
        };
        let q = sqlx::AssertSqlSafe(wrapped);
        match self {
            Conn::Pg(c) => sqlx::query(q)
                .fetch_one(c)
                .await
                .unwrap()
                .get::<String, _>(0),
            Conn::Lite(c) => sqlx::query(q)
                .fetch_one(c)
                .await
                .unwrap()
                .get::<String, _>(0),
        }
    }
}

/// A builder for one run of the binary.
pub struct Cmd {
    inner: assert_cmd::Command,
}

impl Cmd {
    pub fn new() -> Cmd {
        let mut inner = assert_cmd::Command::cargo_bin("oprun-cutover").unwrap();
        inner
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        Cmd { inner }
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.inner.env(key, value);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.inner.args(args);
        self
    }

    pub fn run(mut self) -> Run {
        Run {
            output: self.inner.output().unwrap(),
        }
    }

    /// The underlying command, for running it in a background thread.
    pub fn into_inner(self) -> assert_cmd::Command {
        self.inner
    }
}

/// What one run printed and how it exited.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Assert the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// stdout as the JSON envelope (asserting it is exactly one document).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.stdout()))
    }
}

/// Everything `migrate` could change in the target's schema, as one comparable text: every
/// relation, operation_runs' columns with their types, its constraints and triggers, and the
/// schema's functions (PostgreSQL); every object with its SQL (SQLite). Equal before and after
/// a refused run means the run changed nothing.
pub async fn schema_fingerprint(db: &TestDb) -> String {
    let sql = match db.kind {
        Kind::Postgres => {
            "SELECT concat_ws(E'\\n',
                (SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname)
                 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace),
                (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ','
                                   ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = to_regclass('operation_runs') AND a.attnum > 0 AND NOT a.attisdropped),
                (SELECT string_agg(k.conname || ':' || k.convalidated::text, ',' ORDER BY k.conname)
                 FROM pg_constraint k WHERE k.conrelid = to_regclass('operation_runs')),
                (SELECT string_agg(t.tgname, ',' ORDER BY t.tgname)
                 FROM pg_trigger t WHERE t.tgrelid = to_regclass('operation_runs')),
                (SELECT string_agg(p.proname, ',' ORDER BY p.proname)
                 FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace))"
        }
        Kind::Sqlite => {
            "SELECT group_concat(type || ' ' || name || ' ' || coalesce(sql, ''), char(10))
             FROM (SELECT type, name, sql FROM sqlite_master ORDER BY name)"
        }
    };
    db.scalar(sql).await
}

/// Whether a table or view of that name exists in the target schema.
pub async fn relation_exists(db: &TestDb, name: &str) -> bool {
    let sql = match db.kind {
        Kind::Postgres => format!("SELECT to_regclass('{name}') IS NOT NULL"),
        Kind::Sqlite => {
            format!("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '{name}')")
        }
    };
    matches!(db.scalar(&sql).await.as_str(), "true" | "1")
}

/// The migration versions this binary embeds for a dialect, in order (the history a fresh
/// `migrate` must leave behind).
pub fn embedded_versions(kind: Kind) -> Vec<i64> {
    let dialect = match kind {
        Kind::Postgres => oprun_cutover::db::Dialect::Postgres,
        Kind::Sqlite => oprun_cutover::db::Dialect::Sqlite,
    };
    oprun_cutover::schema::migrations::embedded(dialect)
        .iter()
        .map(|m| i64::from(m.version()))
        .collect()
}

impl Run {
    /// Assert the exit code and the JSON error kind; return the `error` object.
    #[track_caller]
    pub fn expect_error(self, code: i32, kind: &str) -> Value {
        let run = self.expect_code(code);
        let error = run.json()["error"].clone();
        assert_eq!(error["kind"], kind, "{error}");
        error
    }
}

/// Assert that a JSON error's message contains `needle`.
#[track_caller]
pub fn assert_message(error: &Value, needle: &str) {
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message lacks {needle:?}: {error}"
    );
}
