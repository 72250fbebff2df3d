//! Refusals before any change (an edited applied migration, a database ahead of the tool, a
//! read-only target) and secrets: no password, in any URL form, reaches output or the ledger.

use std::os::unix::fs::PermissionsExt;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

use crate::harness::{admin_url, assert_message, schema_fingerprint, Cmd, Kind, TestDb};

/// The migration history as text: version, name and checksum of every row.
async fn history(db: &TestDb) -> String {
    let sql = match db.kind {
        Kind::Postgres => "SELECT string_agg(version || ' ' || name || ' ' || checksum, ',' ORDER BY version) FROM oprun_cutover_history",
        Kind::Sqlite => "SELECT group_concat(version || ' ' || name || ' ' || checksum, ',') FROM (SELECT * FROM oprun_cutover_history ORDER BY version)",
    };
    db.scalar(sql).await
}

/// Everything a refused run could have touched: schema, history and ledger.
async fn snapshot(db: &TestDb) -> (String, String, String) {
    (
        schema_fingerprint(db).await,
        history(db).await,
        db.scalar("SELECT count(*) FROM oprun_cutover_ledger").await,
    )
}

#[tokio::test]
async fn edited_applied_migration_is_refused_naming_the_version_and_both_checksums() {
    for db in TestDb::each().await {
        let first = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        let v2 = &first["data"]["applied"][1];
        assert_eq!(v2["version"], 2);
        let ours = v2["checksum"].as_str().unwrap().to_string();
        db.exec("UPDATE oprun_cutover_history SET checksum = '123' WHERE version = 2")
            .await;
        let before = snapshot(&db).await;

        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "migration_edited");
        let message = error["message"].as_str().unwrap();
        for needle in ["V2", "checksum 123", &format!("checksum {ours}")] {
            assert!(message.contains(needle), "{needle:?} not in: {message}");
        }
        let blocker = &error["details"]["blockers"][0]["details"];
        assert_eq!(blocker["version"], 2);
        assert_eq!(blocker["applied_checksum"], "123");
        assert_eq!(blocker["embedded_checksum"], ours.as_str());
        assert_eq!(snapshot(&db).await, before, "{:?} changed", db.kind);

        // status answers "no" and says why, in both formats.
        let status = db
            .cmd()
            .args(["--format", "json", "status"])
            .run()
            .expect_code(1)
            .json();
        assert_eq!(status["ok"], false);
        assert_eq!(status["data"]["divergent"][0]["kind"], "migration_edited");
        assert_eq!(status["data"]["schema_ready"], false);
        let human = db.cmd().args(["status"]).run().expect_code(1);
        assert!(
            human.stdout().contains("DRIFT [migration_edited]"),
            "{}",
            human.stdout()
        );
        assert_eq!(snapshot(&db).await, before);
    }
}

#[tokio::test]
async fn database_ahead_of_the_tool_is_refused() {
    for db in TestDb::each().await {
        db.cmd().args(["migrate"]).run().expect_code(0);
        db.exec(
            "INSERT INTO oprun_cutover_history (version, name, applied_on, checksum) \
             VALUES (99, 'from_a_newer_tool', '2030-01-01T00:00:00Z', '42')",
        )
        .await;
        let before = snapshot(&db).await;

        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "database_ahead");
        assert_message(&error, "V99__from_a_newer_tool");
        assert_eq!(snapshot(&db).await, before, "{:?} changed", db.kind);

        let status = db
            .cmd()
            .args(["--format", "json", "status", "--require", "schema-ready"])
            .run()
            .expect_code(1)
            .json();
        assert_eq!(status["data"]["divergent"][0]["kind"], "database_ahead");
        assert_eq!(status["data"]["requirement_met"], false);
        assert_eq!(snapshot(&db).await, before);
    }
}

#[tokio::test]
async fn read_only_postgres_target_is_refused_and_nothing_is_created() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let name = db.scalar("SELECT current_database()").await;
    db.exec(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ))
    .await;
    let before = schema_fingerprint(&db).await;

    let error = db
        .cmd()
        .args(["--format", "json", "migrate"])
        .run()
        .expect_error(6, "read_only");
    assert!(
        error["message"].as_str().unwrap().contains("read-only"),
        "{error}"
    );
    assert_eq!(schema_fingerprint(&db).await, before);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .await,
        "0"
    );

    let plan = db.cmd().args(["--format", "json", "plan"]).run().json();
    assert_eq!(plan["data"]["blockers"][0]["kind"], "read_only", "{plan}");
}

/// A SQLite file that cannot be written is refused up front with `read_only`, exit 6.
#[tokio::test]
async fn read_only_sqlite_target_is_refused() {
    let db = TestDb::sqlite();
    db.exec("CREATE TABLE app_settings (k TEXT)").await;
    let path = db.url.strip_prefix("sqlite:").unwrap().to_string();
    let before = schema_fingerprint(&db).await;

    let mut urls = vec![format!("sqlite:{path}?mode=ro")];
    // File permissions: only meaningful when this process cannot bypass them (root can).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
        urls.push(db.url.clone());
    }
    for url in &urls {
        let run = Cmd::new()
            .args(["--format", "json", "--database-url", url, "migrate"])
            .run()
            .expect_code(6);
        assert_eq!(run.json()["error"]["kind"], "read_only", "{url}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(schema_fingerprint(&db).await, before);
}

/// A login role that exists for one test; dropped (after its databases) when the test ends.
struct CanaryRole {
    name: String,
}

impl CanaryRole {
    async fn create(password: &str) -> CanaryRole {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("oprun_canary_{}_{nanos}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
        let sql = format!("CREATE ROLE {name} LOGIN SUPERUSER PASSWORD '{password}'");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
        CanaryRole { name }
    }
}

impl Drop for CanaryRole {
    fn drop(&mut self) {
        let sql = format!("DROP ROLE IF EXISTS {}", self.name);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The canary in every form a URL can carry a secret, for `role` on `db_url`'s database.
fn canary_urls(db_url: &str, role: &str, canary: &str) -> Vec<(&'static str, String)> {
    let base = url::Url::parse(db_url).unwrap();
    let mut userinfo = base.clone();
    userinfo.set_username(role).unwrap();
    userinfo.set_password(Some(canary)).unwrap();
    let mut query = base.clone();
    query.set_username(role).unwrap();
    query.query_pairs_mut().append_pair("password", canary);
    let mut ssl = base.clone();
    ssl.set_username(role).unwrap();
    ssl.set_password(Some("not-the-canary")).unwrap();
    ssl.query_pairs_mut()
        .append_pair("sslmode", "prefer")
        .append_pair("sslpassword", canary);
    vec![
        ("user:pass@", userinfo.to_string()),
        ("?password=", query.to_string()),
        ("&sslpassword=", ssl.to_string()),
    ]
}

#[tokio::test]
async fn password_canary_never_leaks_from_a_successful_migrate() {
    if TestDb::postgres().await.is_none() {
        return;
    }
    // Needs percent-encoding in a URL: both the encoded and the plain form must stay hidden.
    let canary = "Canary-Pw/7731#x";
    let role = CanaryRole::create(canary).await;
    let encoded = "Canary-Pw%2F7731%23x";
    for form in 0..3 {
        let db = TestDb::postgres().await.unwrap();
        let (label, url) = canary_urls(&db.url, &role.name, canary).swap_remove(form);
        let runs = [
            // The one that does the work (and writes the ledger) ...
            (vec!["-vv", "--format", "json", "migrate"], None),
            // ... then every other way of looking, at every verbosity.
            (vec!["-vv", "migrate"], None),
            (vec!["--format", "json", "migrate"], Some("debug")),
            (vec!["-vv", "plan"], None),
            (vec!["-vv", "--format", "json", "status"], None),
            (vec!["status"], Some("trace")),
        ];
        for (args, rust_log) in runs {
            let mut cmd = Cmd::new().args(["--database-url", &url]).args(&args);
            if let Some(level) = rust_log {
                cmd = cmd.env("RUST_LOG", level);
            }
            let run = cmd.run().expect_code(0);
            for (stream, text) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
                for secret in [canary, encoded, "Canary-Pw"] {
                    assert!(
                        !text.contains(secret),
                        "{label}: {args:?} leaked the password on {stream}:\n{text}"
                    );
                }
            }
        }
        // The ledger row was written through the canary URL, and holds no secret either.
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM oprun_cutover_ledger WHERE actor LIKE '{}%'",
                role.name
            ))
            .await,
            "1",
            "{label}"
        );
        let ledger = db
            .scalar("SELECT string_agg(evidence::text || actor || command || step, '') FROM oprun_cutover_ledger")
            .await;
        assert!(
            !ledger.contains("Canary-Pw"),
            "{label}: ledger holds {ledger}"
        );
        drop(db);
    }
    drop(role);
}

#[tokio::test]
async fn connection_failures_exit_3_with_one_clear_line_and_no_secret() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let canary = "Canary-Pw-4410";
    let mut unknown_db = url::Url::parse(&db.url).unwrap();
    unknown_db.set_path("oprun_no_such_database");
    let mut refused = url::Url::parse(&db.url).unwrap();
    refused.set_port(Some(1)).unwrap();
    let cases = [
        (
            db.url.as_str(),
            "oprun_no_such_role",
            "authentication failed",
        ),
        (unknown_db.as_str(), "postgres", "does not exist"),
        (refused.as_str(), "postgres", "connection refused"),
    ];
    for (base, role, why) in cases {
        for (label, url) in canary_urls(base, role, canary) {
            let human = Cmd::new()
                .args(["--database-url", &url, "migrate"])
                .run()
                .expect_code(3);
            let stderr = human.stderr();
            assert_eq!(stderr.lines().count(), 1, "{label}: {stderr}");
            assert!(
                stderr.starts_with("error: migrate: connect to "),
                "{stderr}"
            );
            assert!(stderr.contains(why), "{label}: {stderr}");
            assert!(human.stdout().is_empty(), "{}", human.stdout());

            let json = Cmd::new()
                .args(["--format", "json", "--database-url", &url, "status"])
                .run()
                .expect_code(3);
            assert!(json.stderr().is_empty(), "{}", json.stderr());
            let doc = json.json();
            assert_eq!(doc["error"]["kind"], "connect");
            assert_eq!(doc["error"]["exit_code"], 3);
            assert!(doc["error"]["message"].as_str().unwrap().contains(why));

            for text in [stderr, json.stdout()] {
                assert!(!text.contains(canary), "{label} leaked: {text}");
            }
        }
    }
}
