//! The legacy guard: every write path blocked with SQLSTATE OP001 and counted, observe mode,
//! mode switches, removal, a reader in the way, broken triggers, and `--app-role`.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use sqlx::Connection;

use crate::harness::{Kind, TestDb};

const RUNS: &str = "bulk_operation_runs";
const ITEMS: &str = "bulk_operation_items";
const NOTES: &str = "bulk_operation_item_notes";

/// The legacy family, by hand: a parent, a child referencing it and a grandchild, with rows.
const FIXTURE: &str = "
    CREATE TABLE bulk_operation_runs (
        id bigint PRIMARY KEY, tenant_id bigint NOT NULL, status text NOT NULL);
    CREATE TABLE bulk_operation_items (
        id bigint PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES bulk_operation_runs (id) ON DELETE CASCADE,
        target text);
    CREATE TABLE bulk_operation_item_notes (
        id bigint PRIMARY KEY,
        item_id bigint NOT NULL REFERENCES bulk_operation_items (id) ON DELETE CASCADE,
        note text);
    INSERT INTO bulk_operation_runs VALUES (1, 10, 'completed'), (2, 10, 'completed'), (3, 11, 'failed');
    INSERT INTO bulk_operation_items VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c');
    INSERT INTO bulk_operation_item_notes VALUES (1, 1, 'x'), (2, 3, 'y');";

/// A migrated database holding the legacy fixture.
async fn legacy_db(db: &TestDb) {
    db.exec(FIXTURE).await;
    db.cmd().args(["migrate"]).run().expect_code(0);
}

/// `guard <args>` as JSON, asserting the exit code.
fn guard(db: &TestDb, args: &[&str], code: i32) -> Value {
    db.cmd()
        .args(["--format", "json", "guard"])
        .args(args)
        .run()
        .expect_code(code)
        .json()
}

fn row<'a>(status: &'a Value, table: &str) -> &'a Value {
    status["data"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("{table} not in {status}"))
}

fn actions(install: &Value) -> Vec<(String, String)> {
    install["data"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_string(),
                t["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn all(action: &str) -> Vec<(String, String)> {
    [NOTES, ITEMS, RUNS]
        .iter()
        .map(|t| (t.to_string(), action.to_string()))
        .collect()
}

/// The statement fails with the guard's error: SQLSTATE OP001 on PostgreSQL, a message starting
/// with OP001 on SQLite, naming the table, the operation and the replacement.
#[track_caller]
fn assert_blocked(kind: Kind, result: Result<(), String>, table: &str, operation: &str) {
    let err = result.expect_err("the write went through");
    let (code, shown) = match kind {
        Kind::Postgres => (err.ends_with("[OP001]"), format!("public.{table}")),
        Kind::Sqlite => (err.starts_with("OP001: "), table.to_string()),
    };
    let message = format!(
        "legacy table {shown} is retired: {operation} is blocked; write to operation_runs instead"
    );
    assert!(code && err.contains(&message), "{err}");
}

async fn counts(db: &TestDb) -> String {
    db.scalar(&format!(
        "SELECT (SELECT count(*) FROM {RUNS}) || '/' || (SELECT count(*) FROM {ITEMS}) || '/' || (SELECT count(*) FROM {NOTES})"
    ))
    .await
}

async fn guard_triggers(db: &TestDb) -> String {
    match db.kind {
        Kind::Postgres => {
            db.scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'oprun\\_guard\\_%'")
                .await
        }
        Kind::Sqlite => {
            db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'oprun_guard_%'")
                .await
        }
    }
}

async fn phase(db: &TestDb) -> Value {
    db.cmd()
        .args(["--format", "json", "status"])
        .run()
        .expect_code(0)
        .json()["data"]["phase"]
        .clone()
}

/// Whether `role` may use `privilege` on `table`, as PostgreSQL decides it.
async fn has(db: &TestDb, role: &TestRole, table: &str, privilege: &str) -> String {
    db.scalar(&format!(
        "SELECT has_table_privilege('{}', '{table}', '{privilege}')",
        role.name
    ))
    .await
}

/// A role for one test (roles are cluster-wide), dropped with everything granted to it.
struct TestRole {
    name: String,
    url: String,
}

static ROLES: AtomicU32 = AtomicU32::new(0);

impl TestRole {
    async fn create(db: &TestDb, grants: &str) -> TestRole {
        let name = format!(
            "oprun_it_app_{}_{}",
            std::process::id(),
            ROLES.fetch_add(1, Ordering::SeqCst)
        );
        db.exec(&format!(
            "CREATE ROLE {name}; {}",
            grants.replace("{role}", &name)
        ))
        .await;
        TestRole {
            name,
            url: db.url.clone(),
        }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let (name, url) = (self.name.clone(), self.url.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let sql = format!("DROP OWNED BY {name}; DROP ROLE IF EXISTS {name}");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn every_write_path_is_blocked_with_op001_and_counted() {
    for db in TestDb::each().await {
        let kind = db.kind;
        legacy_db(&db).await;
        let plan = db
            .cmd()
            .args(["--format", "json", "plan"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(
            plan["data"]["legacy"]["drop_order"],
            serde_json::json!([NOTES, ITEMS, RUNS])
        );

        let install = guard(&db, &["install"], 0);
        assert_eq!(install["data"]["mode"], "enforce");
        assert_eq!(actions(&install), all("installed"));

        let mut c = db.connect().await;
        assert_blocked(
            kind,
            c.exec(&format!("INSERT INTO {RUNS} VALUES (9, 1, 'queued')"))
                .await,
            RUNS,
            "INSERT",
        );
        assert_blocked(
            kind,
            c.exec(&format!(
                "INSERT INTO {RUNS} VALUES (1, 1, 'queued') ON CONFLICT (id) DO NOTHING"
            ))
            .await,
            RUNS,
            "INSERT",
        );
        assert_blocked(
            kind,
            c.exec(&format!("DELETE FROM {RUNS} WHERE id = 3")).await,
            RUNS,
            "DELETE",
        );
        // Counted although the writing transaction rolled back.
        c.exec("BEGIN").await.unwrap();
        assert_blocked(
            kind,
            c.exec(&format!("DELETE FROM {NOTES} WHERE id = 1")).await,
            NOTES,
            "DELETE",
        );
        c.exec("ROLLBACK").await.unwrap();
        if kind == Kind::Postgres {
            assert_blocked(
                kind,
                c.exec(&format!("UPDATE {ITEMS} SET target = 'z' WHERE false"))
                    .await,
                ITEMS,
                "UPDATE",
            );
            assert_blocked(
                kind,
                c.exec(&format!("TRUNCATE {NOTES}")).await,
                NOTES,
                "TRUNCATE",
            );
            assert_blocked(
                kind,
                c.exec(&format!("TRUNCATE {RUNS} CASCADE")).await,
                RUNS,
                "TRUNCATE",
            );
            let crate::harness::Conn::Pg(pg) = &mut c else {
                unreachable!()
            };
            // COPY fires the statement trigger once the data starts: the error comes at finish.
            let copy = async {
                let mut copy = pg.copy_in_raw(&format!("COPY {RUNS} FROM STDIN")).await?;
                copy.send("9\t1\tqueued\n".as_bytes()).await?;
                copy.finish().await
            }
            .await
            .map(drop)
            .map_err(|e| match e {
                sqlx::Error::Database(d) => {
                    format!("{} [{}]", d.message(), d.code().unwrap_or_default())
                }
                other => other.to_string(),
            });
            assert_blocked(kind, copy, RUNS, "INSERT");
            // A replica-mode session (as logical replication or a restore would use) is blocked too.
            c.exec("SET session_replication_role = replica")
                .await
                .unwrap();
            assert_blocked(
                kind,
                c.exec(&format!("INSERT INTO {RUNS} VALUES (9, 1, 'queued')"))
                    .await,
                RUNS,
                "INSERT",
            );
            c.exec("RESET session_replication_role").await.unwrap();
        } else {
            assert_blocked(
                kind,
                c.exec(&format!("UPDATE {ITEMS} SET target = 'z'")).await,
                ITEMS,
                "UPDATE",
            );
            // SQLite triggers fire per row: a statement that matches no row writes nothing and
            // is not refused (README, "SQLite").
            c.exec(&format!("UPDATE {ITEMS} SET target = 'z' WHERE 0"))
                .await
                .unwrap();
        }

        // A delete cascading from the parent into a child is blocked by the child's guard,
        // even with the parent's guard out of the way.
        let lift_parent = match kind {
            Kind::Postgres => format!("ALTER TABLE {RUNS} DISABLE TRIGGER oprun_guard_enforce"),
            Kind::Sqlite => format!("DROP TRIGGER oprun_guard_enforce_delete__{RUNS}"),
        };
        db.exec(&lift_parent).await;
        let cascade = match kind {
            Kind::Postgres => format!("DELETE FROM {RUNS} WHERE id = 2"),
            Kind::Sqlite => format!("PRAGMA foreign_keys = ON; DELETE FROM {RUNS} WHERE id = 2"),
        };
        assert_blocked(kind, db.try_exec(&cascade).await, ITEMS, "DELETE");
        let broken = guard(&db, &["status"], 1);
        assert_eq!(broken["data"]["state"], "partial");
        assert_eq!(row(&broken, RUNS)["holds"], false);
        // A re-run repairs it.
        let repair = guard(&db, &["install"], 0);
        assert!(
            actions(&repair).contains(&(RUNS.to_string(), "repaired".to_string())),
            "{repair}"
        );

        // Reads keep working; nothing was written.
        assert_eq!(counts(&db).await, "3/3/2");
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM {RUNS} r JOIN {ITEMS} i ON i.run_id = r.id"
            ))
            .await,
            "3"
        );

        let status = guard(&db, &["status"], 0);
        assert_eq!(status["data"]["state"], "enforced");
        for table in [RUNS, ITEMS, NOTES] {
            assert_eq!(row(&status, table)["trigger_enabled"], "always", "{status}");
        }
        match kind {
            Kind::Postgres => {
                // runs: INSERT, ON CONFLICT, DELETE, TRUNCATE CASCADE, COPY, replica INSERT.
                assert_eq!(row(&status, RUNS)["blocked_count"], 6, "{status}");
                // items: UPDATE of no row, the cascaded DELETE.
                assert_eq!(row(&status, ITEMS)["blocked_count"], 2, "{status}");
                // notes: the rolled-back DELETE, TRUNCATE.
                assert_eq!(row(&status, NOTES)["blocked_count"], 2, "{status}");
                assert!(
                    row(&status, NOTES)["last_blocked_at"].is_string(),
                    "{status}"
                );
                // Read-only sessions (as on a hot standby) can run guard status and status.
                let database = db.scalar("SELECT current_database()").await;
                db.exec(&format!(
                    "ALTER DATABASE {database} SET default_transaction_read_only = on"
                ))
                .await;
                guard(&db, &["status"], 0);
                assert_eq!(phase(&db).await, "guarded_enforce");
                let mut admin = db.connect().await;
                admin
                    .exec("SET default_transaction_read_only = off")
                    .await
                    .unwrap();
                admin
                    .exec(&format!(
                        "ALTER DATABASE {database} RESET default_transaction_read_only"
                    ))
                    .await
                    .unwrap();
            }
            Kind::Sqlite => {
                for table in [RUNS, ITEMS, NOTES] {
                    assert_eq!(
                        row(&status, table)["blocked_count"],
                        Value::Null,
                        "{status}"
                    );
                }
                let notes = status["data"]["notes"].to_string();
                assert!(notes.contains("cannot count blocked writes"), "{notes}");
                let read_only = format!("{}?mode=ro", db.url);
                crate::harness::Cmd::new()
                    .env("DATABASE_URL", &read_only)
                    .args(["guard", "status"])
                    .run()
                    .expect_code(0);
            }
        }
    }
}

#[tokio::test]
async fn observe_records_each_writer_and_switching_to_enforce_keeps_the_record() {
    for db in TestDb::each().await {
        legacy_db(&db).await;
        let install = guard(&db, &["install", "--mode", "observe"], 0);
        assert_eq!(install["data"]["phase"], "guarded_observe");
        let observing = guard(&db, &["status"], 1);
        assert_eq!(observing["data"]["state"], "observing");
        assert_eq!(phase(&db).await, "guarded_observe");

        // The write succeeds and is recorded with who made it.
        let role = match db.kind {
            Kind::Postgres => Some(
                TestRole::create(&db, &format!("GRANT SELECT, INSERT ON {RUNS} TO {{role}}")).await,
            ),
            Kind::Sqlite => None,
        };
        let mut c = db.connect().await;
        if let Some(role) = &role {
            c.exec(&format!(
                "SET application_name = 'legacy-billing'; SET ROLE {}",
                role.name
            ))
            .await
            .unwrap();
        }
        c.exec(&format!(
            "INSERT INTO {RUNS} VALUES (20, 1, 'queued'), (21, 1, 'queued')"
        ))
        .await
        .unwrap();
        assert_eq!(counts(&db).await, "5/3/2");

        let status = guard(&db, &["status"], 1);
        assert_eq!(
            row(&status, RUNS)["problem"],
            "observe mode: writes are allowed and recorded, not blocked"
        );
        let writers = status["data"]["writers"].as_array().unwrap();
        let insert = writers
            .iter()
            .find(|w| w["table"] == RUNS && w["operation"] == "INSERT")
            .unwrap_or_else(|| panic!("{status}"));
        match &role {
            Some(role) => {
                assert_eq!(insert["role"], role.name.as_str(), "{insert}");
                assert_eq!(insert["application_name"], "legacy-billing", "{insert}");
                assert_eq!(insert["writes"], 1, "{insert}");
                assert_eq!(insert["rows"], 2, "{insert}");
            }
            // SQLite: one record per row, no roles.
            None => {
                assert_eq!(insert["writes"], 2, "{insert}");
                assert_eq!(insert["role"], Value::Null, "{insert}");
            }
        }
        let recorded = db.scalar("SELECT count(*) FROM oprun_guard_observed").await;

        // Observe -> enforce is one command; the record stays.
        let enforce = guard(&db, &["install"], 0);
        assert_eq!(actions(&enforce), all("switched"));
        let status = guard(&db, &["status"], 0);
        assert_eq!(
            status["data"]["writers"].as_array().unwrap().len(),
            writers.len()
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_guard_observed").await,
            recorded
        );
        assert_eq!(phase(&db).await, "guarded_enforce");
        drop(c);
    }
}

#[tokio::test]
async fn install_switch_and_remove_are_each_idempotent() {
    for db in TestDb::each().await {
        legacy_db(&db).await;
        let ledger = || db.scalar("SELECT count(*) FROM oprun_cutover_ledger");
        guard(&db, &["install"], 0);
        let after_first = ledger().await;
        let again = guard(&db, &["install", "--mode", "enforce"], 0);
        assert_eq!(again["data"]["already_installed"], true, "{again}");
        assert_eq!(actions(&again), all("unchanged"));
        assert_eq!(
            ledger().await,
            after_first,
            "a no-op install records nothing"
        );
        let per_table = if db.kind == Kind::Postgres { 1 } else { 3 };
        assert_eq!(guard_triggers(&db).await, (3 * per_table).to_string());

        assert_eq!(
            actions(&guard(&db, &["install", "--mode", "observe"], 0)),
            all("switched")
        );
        assert_eq!(
            actions(&guard(&db, &["install", "--mode", "observe"], 0)),
            all("unchanged")
        );
        let observe_per_table = if db.kind == Kind::Postgres { 4 } else { 3 };
        assert_eq!(
            guard_triggers(&db).await,
            (3 * observe_per_table).to_string()
        );
        guard(&db, &["status"], 1);
        assert_eq!(actions(&guard(&db, &["install"], 0)), all("switched"));
        guard(&db, &["status"], 0);

        // Remove: no trigger, no counter, no registration left; writes work again.
        let removed = guard(&db, &["remove"], 0);
        assert_eq!(
            removed["data"]["removed"].as_array().unwrap().len(),
            3,
            "{removed}"
        );
        assert_eq!(guard_triggers(&db).await, "0");
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_guard_tables").await,
            "0"
        );
        if db.kind == Kind::Postgres {
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname ~ '^oprun_guard_(blocked|last_hit)__'").await,
                "0"
            );
        }
        db.exec(&format!("INSERT INTO {RUNS} VALUES (30, 1, 'queued')"))
            .await;
        assert_eq!(phase(&db).await, "schema_ready");
        let status = guard(&db, &["status"], 1);
        assert_eq!(status["data"]["state"], "not_installed");

        let twice = guard(&db, &["remove"], 0);
        assert_eq!(twice["data"]["nothing_to_remove"], true, "{twice}");
    }
}

#[tokio::test]
async fn a_trigger_disabled_or_dropped_by_hand_makes_guard_status_fail_naming_the_table() {
    for db in TestDb::each().await {
        legacy_db(&db).await;
        guard(&db, &["install"], 0);
        let (disable, drop) = match db.kind {
            Kind::Postgres => (
                Some(format!(
                    "ALTER TABLE {ITEMS} DISABLE TRIGGER oprun_guard_enforce"
                )),
                format!("DROP TRIGGER oprun_guard_enforce ON {NOTES}"),
            ),
            Kind::Sqlite => (
                None,
                format!("DROP TRIGGER oprun_guard_enforce_insert__{NOTES}"),
            ),
        };
        if let Some(disable) = disable {
            db.exec(&disable).await;
            let status = guard(&db, &["status"], 1);
            assert_eq!(row(&status, ITEMS)["trigger_enabled"], "disabled");
            assert!(row(&status, ITEMS)["problem"]
                .as_str()
                .unwrap()
                .contains("disabled"));
            assert_eq!(phase(&db).await, "schema_ready");
            // Enabled for ordinary sessions only: replica-mode sessions would bypass it.
            db.exec(&format!(
                "ALTER TABLE {ITEMS} ENABLE TRIGGER oprun_guard_enforce"
            ))
            .await;
            let status = guard(&db, &["status"], 1);
            assert_eq!(row(&status, ITEMS)["trigger_enabled"], "origin");
        }
        db.exec(&drop).await;
        let run = db.cmd().args(["guard", "status"]).run().expect_code(1);
        let text = run.stdout();
        assert!(text.contains(&format!("✗ {NOTES}")), "{text}");
        assert!(text.contains("missing"), "{text}");
        assert!(text.contains(&format!("✓ {RUNS}")), "{text}");

        let repaired = guard(&db, &["install"], 0);
        assert!(actions(&repaired).contains(&(NOTES.to_string(), "repaired".to_string())));
        guard(&db, &["status"], 0);
        assert_eq!(phase(&db).await, "guarded_enforce");
    }
}

#[tokio::test]
async fn a_reader_delays_the_switch_past_the_deadline_and_a_rerun_completes_it() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    legacy_db(&db).await;
    // An idle-in-transaction reader holding the parent table.
    let mut reader = db.connect().await;
    reader
        .exec(&format!("BEGIN; SELECT * FROM {RUNS}"))
        .await
        .unwrap();
    let pid = reader.scalar("SELECT pg_backend_pid()").await;

    // A first install waits for writers, not readers: it goes through.
    guard(&db, &["install", "--mode", "observe"], 0);
    // Switching drops a trigger, which needs the reader gone: retried, then given up.
    let failed = db
        .cmd()
        .args([
            "--format",
            "json",
            "--lock-timeout",
            "200ms",
            "--deadline",
            "2s",
        ])
        .args(["guard", "install", "--mode", "enforce"])
        .run()
        .expect_code(5)
        .json();
    let error = &failed["error"];
    assert_eq!(error["kind"], "lock_deadline", "{failed}");
    let blockers = error["details"]["blockers"].as_array().unwrap();
    assert!(
        blockers
            .iter()
            .any(|b| b["pid"].as_i64().map(|p| p.to_string()) == Some(pid.clone())),
        "{failed}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("pid {pid}")), "{message}");
    assert!(message.contains(&format!("not done: {RUNS}")), "{message}");

    // Nothing half-installed goes unreported: the children are enforced, the parent is not.
    let status = guard(&db, &["status"], 1);
    assert_eq!(status["data"]["state"], "observing");
    assert_eq!(row(&status, NOTES)["mode"], "enforce");
    assert_eq!(row(&status, ITEMS)["mode"], "enforce");
    assert_eq!(row(&status, RUNS)["mode"], "observe");
    assert_eq!(row(&status, RUNS)["holds"], false);
    assert_eq!(
        db.scalar("SELECT count(*) FROM oprun_cutover_ledger WHERE command = 'guard install' AND outcome = 'failed'").await,
        "1"
    );

    // The reader ends; a re-run completes the rest only.
    reader.exec("COMMIT").await.unwrap();
    let done = guard(&db, &["install"], 0);
    assert_eq!(
        actions(&done),
        [
            (NOTES.to_string(), "unchanged".to_string()),
            (ITEMS.to_string(), "unchanged".to_string()),
            (RUNS.to_string(), "switched".to_string())
        ]
    );
    guard(&db, &["status"], 0);
}

#[tokio::test]
async fn app_roles_lose_write_privileges_and_get_back_exactly_what_they_had() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    legacy_db(&db).await;
    let role = TestRole::create(
        &db,
        &format!(
            "GRANT SELECT, INSERT, UPDATE ON {RUNS} TO {{role}}; \
             GRANT DELETE ON {ITEMS} TO {{role}} WITH GRANT OPTION"
        ),
    )
    .await;

    let bad = db
        .cmd()
        .args(["guard", "install", "--app-role", "oprun_it_no_such_role_x"])
        .run()
        .expect_code(2);
    assert!(
        bad.stderr().contains("oprun_it_no_such_role_x"),
        "{}",
        bad.stderr()
    );
    assert_eq!(
        guard_triggers(&db).await,
        "0",
        "a usage error changes nothing"
    );
    db.cmd()
        .args(["guard", "install", "--app-role", "Bad;Role"])
        .run()
        .expect_code(2);

    let install = guard(&db, &["install", "--app-role", &role.name], 0);
    let revoked: Vec<String> = install["data"]["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["table"].as_str().unwrap(),
                p["privilege"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        revoked,
        [
            format!("{ITEMS} DELETE"),
            format!("{RUNS} INSERT"),
            format!("{RUNS} UPDATE")
        ]
    );
    assert_eq!(has(&db, &role, RUNS, "INSERT").await, "false");
    assert_eq!(has(&db, &role, RUNS, "UPDATE").await, "false");
    assert_eq!(has(&db, &role, ITEMS, "DELETE").await, "false");
    assert_eq!(has(&db, &role, RUNS, "SELECT").await, "true", "reads stay");
    let status = guard(&db, &["status"], 0);
    assert_eq!(
        row(&status, RUNS)["revoked"].as_array().unwrap().len(),
        2,
        "{status}"
    );

    // Again: nothing left to revoke, nothing changes.
    let again = guard(&db, &["install", "--app-role", &role.name], 0);
    assert_eq!(again["data"]["already_installed"], true, "{again}");

    guard(&db, &["remove"], 0);
    assert_eq!(has(&db, &role, RUNS, "INSERT").await, "true");
    assert_eq!(has(&db, &role, RUNS, "UPDATE").await, "true");
    assert_eq!(
        has(&db, &role, RUNS, "DELETE").await,
        "false",
        "never had it: not granted"
    );
    assert_eq!(
        has(&db, &role, ITEMS, "DELETE WITH GRANT OPTION").await,
        "true"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM oprun_guard_revoked").await,
        "0"
    );
}

#[tokio::test]
async fn named_tables_join_the_family_and_are_remembered() {
    for db in TestDb::each().await {
        legacy_db(&db).await;
        db.exec("CREATE TABLE legacy_exports (id bigint PRIMARY KEY)")
            .await;
        let unknown = db
            .cmd()
            .args(["guard", "status", "--legacy-table", "no_such_table"])
            .run()
            .expect_code(2);
        assert!(
            unknown.stderr().contains("no_such_table"),
            "{}",
            unknown.stderr()
        );

        // The canonical table is never legacy, even when it references one.
        db.exec(&format!(
            "ALTER TABLE operation_runs ADD COLUMN legacy_run_id bigint REFERENCES {RUNS} (id)"
        ))
        .await;
        db.cmd()
            .args(["guard", "install", "--legacy-table", "operation_runs"])
            .run()
            .expect_code(2);

        let install = guard(&db, &["install", "--legacy-table", "legacy_exports"], 0);
        assert_eq!(
            install["data"]["family"]["tables"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        // Not named again: remembered by the guard.
        let status = guard(&db, &["status"], 0);
        assert_eq!(row(&status, "legacy_exports")["source"], "option");
        assert_blocked(
            db.kind,
            db.try_exec("INSERT INTO legacy_exports VALUES (1)").await,
            "legacy_exports",
            "INSERT",
        );
        let plan = db
            .cmd()
            .args(["--format", "json", "plan"])
            .run()
            .expect_code(0)
            .json();
        let order = plan["data"]["legacy"]["drop_order"].to_string();
        assert!(order.contains("legacy_exports"), "{order}");
    }
}

#[tokio::test]
async fn a_dropped_family_is_a_state_and_remove_is_refused() {
    for db in TestDb::each().await {
        db.cmd().args(["migrate"]).run().expect_code(0);
        let status = guard(&db, &["status"], 0);
        assert_eq!(status["data"]["state"], "dropped");
        assert_eq!(status["data"]["family"]["dropped"], true);
        let remove = guard(&db, &["remove"], 6);
        assert_eq!(remove["error"]["kind"], "legacy_dropped");
        assert!(
            remove["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no guard to remove"),
            "{remove}"
        );
        guard(&db, &["install"], 6);
        if db.kind == Kind::Postgres {
            // A mistyped --schema is not a dropped family that "holds".
            db.cmd()
                .args(["--schema", "no_such_schema", "guard", "status"])
                .run()
                .expect_code(2);
        }
        let plan = db.cmd().args(["plan"]).run().expect_code(0);
        assert!(
            plan.stdout().contains("legacy tables: none"),
            "{}",
            plan.stdout()
        );
    }
}

#[tokio::test]
async fn install_is_refused_until_migrate_has_run() {
    for db in TestDb::each().await {
        db.exec(FIXTURE).await;
        let refused = guard(&db, &["install"], 6);
        assert_eq!(refused["error"]["kind"], "not_schema_ready", "{refused}");
        assert_eq!(guard_triggers(&db).await, "0");
        let status = guard(&db, &["status"], 1);
        assert_eq!(status["data"]["state"], "not_installed");
        let problem = row(&status, RUNS)["problem"].as_str().unwrap().to_string();
        assert!(problem.contains("run migrate"), "{problem}");
    }
}

/// A migrate that has nothing to undo keeps the recorded phase: the guard still holds.
#[tokio::test]
async fn migrate_after_the_guard_keeps_the_guarded_phase() {
    for db in TestDb::each().await {
        legacy_db(&db).await;
        db.cmd().args(["guard", "install"]).run().expect_code(0);
        // Simulate an interrupted earlier run: an index to rebuild gives migrate work to do.
        db.exec("DROP INDEX operation_runs_tenant_created_idx")
            .await;
        let migrated = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(migrated["data"]["already_converged"], false);
        assert_eq!(
            db.scalar("SELECT phase FROM oprun_cutover_state").await,
            "guarded_enforce"
        );
        let status = db
            .cmd()
            .args(["--format", "json", "status", "--require", "guarded"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(status["data"]["phase"], "guarded_enforce");
    }
}
