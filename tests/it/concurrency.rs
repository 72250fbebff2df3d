//! One run at a time, and lock waits that end: concurrent `migrate` processes, a session
//! holding a lock on operation_runs, and a run lock held by someone else.

use std::sync::Barrier;

use serde_json::Value;

use crate::adopt::{create_older_shape, populate};
use crate::harness::{embedded_versions, schema_fingerprint, Conn, TestDb};

/// Run `migrate` in `n` processes released at the same moment; (exit code, stdout) of each.
fn migrate_together(db: &TestDb, n: usize) -> Vec<(i32, String)> {
    let barrier = Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let mut cmd = db.cmd().args(["--format", "json", "migrate"]).into_inner();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let out = cmd.output().unwrap();
                    (
                        out.status.code().unwrap_or(-1),
                        format!(
                            "{}{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        ),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[tokio::test]
async fn five_concurrent_migrates_apply_every_migration_exactly_once() {
    for db in TestDb::each().await {
        let runs = migrate_together(&db, 5);
        for (code, output) in &runs {
            assert!(
                *code == 0 || *code == 4,
                "{:?}: exit {code}\n{output}",
                db.kind
            );
        }
        let succeeded: Vec<Value> = runs
            .iter()
            .filter(|(code, _)| *code == 0)
            .map(|(_, out)| serde_json::from_str(out).unwrap())
            .collect();
        assert!(!succeeded.is_empty(), "{:?}: no run succeeded", db.kind);

        // Each migration was applied by exactly one run, and recorded once.
        let mut applied: Vec<i64> = succeeded
            .iter()
            .flat_map(|r| r["data"]["applied"].as_array().unwrap().clone())
            .map(|m| m["version"].as_i64().unwrap())
            .collect();
        applied.sort_unstable();
        assert_eq!(applied, embedded_versions(db.kind), "{:?}", db.kind);
        let history = db
            .scalar("SELECT count(DISTINCT version) || '/' || count(*) FROM oprun_cutover_history")
            .await;
        let n = embedded_versions(db.kind).len();
        assert_eq!(history, format!("{n}/{n}"), "{:?}", db.kind);

        // One run did the work and recorded it; the others found it done.
        let workers = succeeded
            .iter()
            .filter(|r| r["data"]["already_converged"] == false)
            .count();
        assert_eq!(workers, 1, "{:?}: {succeeded:?}", db.kind);
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_ledger WHERE step = 'schema_ready' AND outcome = 'ok'")
                .await,
            "1",
            "{:?}",
            db.kind
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_ledger WHERE outcome = 'failed'")
                .await,
            "0"
        );
        db.cmd()
            .args(["status", "--require", "schema-ready"])
            .run()
            .expect_code(0);
    }
}

/// The same on a populated older table: the run doing the work builds indexes concurrently
/// (which waits for other transactions) while the others poll for the run lock.
#[tokio::test]
async fn five_concurrent_migrates_adopting_a_populated_table_converge_once() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], false).await;
        populate(&db, 5_000).await;
        let runs = migrate_together(&db, 5);
        for (code, output) in &runs {
            assert!(
                *code == 0 || *code == 4,
                "{:?}: exit {code}\n{output}",
                db.kind
            );
        }
        let workers = runs
            .iter()
            .filter(|(code, _)| *code == 0)
            .map(|(_, out)| serde_json::from_str::<Value>(out).unwrap())
            .filter(|r| r["data"]["already_converged"] == false)
            .count();
        assert_eq!(workers, 1, "{:?}: {runs:?}", db.kind);
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_history")
                .await,
            embedded_versions(db.kind).len().to_string()
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM operation_runs").await,
            "5000"
        );
        db.cmd()
            .args(["status", "--require", "schema-ready"])
            .run()
            .expect_code(0);
    }
}

/// The pid of the test's own connection.
async fn backend_pid(conn: &mut Conn) -> String {
    conn.scalar("SELECT pg_backend_pid()").await
}

/// A session in an open transaction that read operation_runs (as a long application
/// transaction does) blocks the ALTER TABLE that adoption needs: migrate retries until the
/// deadline, then exits 5 naming that session; once it ends, a re-run finishes the job.
#[tokio::test]
async fn lock_contention_past_the_deadline_exits_5_naming_the_blocking_session() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    create_older_shape(&db, &[], false).await;
    let mut holder = db.connect().await;
    holder
        .exec("BEGIN; SELECT count(*) FROM operation_runs")
        .await
        .unwrap();
    let pid = backend_pid(&mut holder).await;

    let error = db
        .cmd()
        .args([
            "--format",
            "json",
            "--lock-timeout",
            "200ms",
            "--deadline",
            "2s",
            "migrate",
        ])
        .run()
        .expect_error(5, "lock_deadline");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    let attempts: u32 = message
        .split("gave up after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in: {message}"));
    assert!(attempts > 1, "migrate did not retry: {message}");
    let blocker = error["details"]["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["pid"].as_i64() == pid.parse().ok())
        .unwrap_or_else(|| panic!("pid {pid} not among the blockers: {error}"));
    assert_eq!(blocker["state"], "idle in transaction", "{blocker}");

    // Human output names the session too.
    let human = db
        .cmd()
        .args(["--lock-timeout", "100ms", "--deadline", "500ms", "migrate"])
        .run()
        .expect_code(5);
    assert!(
        human.stderr().contains(&format!("pid {pid}")),
        "{}",
        human.stderr()
    );

    holder.exec("COMMIT").await.unwrap();
    drop(holder);
    let done = db
        .cmd()
        .args(["--format", "json", "migrate"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(done["data"]["phase"], "schema_ready");
    db.cmd()
        .args(["status", "--require", "schema-ready"])
        .run()
        .expect_code(0);
}

/// An ACCESS EXCLUSIVE holder (another migration, a VACUUM FULL) blocks even the catalog
/// reads migrate starts with; that wait must be retried and reported like any other.
#[tokio::test]
async fn exclusive_lock_holder_is_retried_and_named_too() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    create_older_shape(&db, &[], false).await;
    let mut holder = db.connect().await;
    holder
        .exec("BEGIN; LOCK TABLE operation_runs IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let pid = backend_pid(&mut holder).await;
    let error = db
        .cmd()
        .args([
            "--format",
            "json",
            "--lock-timeout",
            "200ms",
            "--deadline",
            "2s",
            "migrate",
        ])
        .run()
        .expect_error(5, "lock_deadline");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {pid}")),
        "{error}"
    );
    holder.exec("ROLLBACK").await.unwrap();
}

/// The advisory key the tool documents as stable: the first 8 bytes (big-endian) of
/// sha256("oprun-cutover\0<database>\0<schema>"), computed here in SQL, independently.
const RUN_LOCK_KEY: &str =
    "('x' || encode(substring(sha256('oprun-cutover'::bytea || '\\x00'::bytea \
     || convert_to(current_database(), 'UTF8') || '\\x00'::bytea || convert_to('public', 'UTF8')) \
     FROM 1 FOR 8), 'hex'))::bit(64)::bigint";

#[tokio::test]
async fn run_lock_held_by_another_session_exits_4_naming_the_holder() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut holder = db.connect().await;
    holder
        .exec(&format!(
            "SET application_name = 'release-train'; SELECT pg_advisory_lock({RUN_LOCK_KEY})"
        ))
        .await
        .unwrap();
    let pid = backend_pid(&mut holder).await;
    let before = schema_fingerprint(&db).await;

    let error = db
        .cmd()
        .args([
            "--format",
            "json",
            "--lock-timeout",
            "100ms",
            "--deadline",
            "1s",
            "migrate",
        ])
        .run()
        .expect_error(4, "run_lock_held");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    assert!(message.contains("release-train"), "{message}");
    assert_eq!(
        schema_fingerprint(&db).await,
        before,
        "a locked-out run changed the schema"
    );

    holder
        .exec(&format!("SELECT pg_advisory_unlock({RUN_LOCK_KEY})"))
        .await
        .unwrap();
    db.cmd().args(["migrate"]).run().expect_code(0);
}

#[tokio::test]
async fn sqlite_write_transaction_held_elsewhere_exits_4() {
    let db = TestDb::sqlite();
    db.cmd().args(["migrate"]).run().expect_code(0);
    let mut holder = db.connect().await;
    holder.exec("BEGIN IMMEDIATE").await.unwrap();
    let before = schema_fingerprint(&db).await;

    let run = db
        .cmd()
        .args([
            "--format",
            "json",
            "--lock-timeout",
            "100ms",
            "--deadline",
            "500ms",
            "migrate",
        ])
        .run()
        .expect_code(4);
    assert_eq!(run.json()["error"]["kind"], "run_lock_held");

    holder.exec("ROLLBACK").await.unwrap();
    assert_eq!(schema_fingerprint(&db).await, before);
    db.cmd().args(["migrate"]).run().expect_code(0);
}
