//! Adopting an existing, populated `operation_runs` in the application's older shape: `plan`
//! says what will happen, `migrate` converges without losing a row or an app column, and refuses
//! (changing nothing) when existing rows or columns make the canon impossible.

use serde_json::Value;

use crate::harness::{
    assert_message, embedded_versions, relation_exists, schema_fingerprint, Kind, TestDb,
};

/// The older shape's columns: (name, PostgreSQL, SQLite). It has an app-only column
/// (`legacy_note`), varchar where the canon has text, json where it has jsonb, and lacks
/// `initiator_name`, `failure_summary` and `updated_at`.
const OLDER_SHAPE: [(&str, &str, &str); 13] = [
    ("id", "bigserial PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("tenant_id", "bigint NOT NULL", "INTEGER NOT NULL"),
    ("user_id", "bigint", "INTEGER"),
    ("type", "varchar(100) NOT NULL", "VARCHAR(100) NOT NULL"),
    ("status", "varchar(20) NOT NULL", "VARCHAR(20) NOT NULL"),
    ("outcome", "varchar(20) NOT NULL", "VARCHAR(20) NOT NULL"),
    (
        "run_identity_hash",
        "varchar(64) NOT NULL",
        "VARCHAR(64) NOT NULL",
    ),
    (
        "context",
        "json NOT NULL DEFAULT '{}'",
        "TEXT NOT NULL DEFAULT '{}'",
    ),
    (
        "summary_counts",
        "json NOT NULL DEFAULT '{}'",
        "TEXT NOT NULL DEFAULT '{}'",
    ),
    ("started_at", "timestamptz", "TEXT"),
    ("completed_at", "timestamptz", "TEXT"),
    (
        "created_at",
        "timestamptz NOT NULL DEFAULT now()",
        "TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP",
    ),
    ("legacy_note", "text", "TEXT"),
];

/// Create the application's older `operation_runs` (before any migrate), without the columns
/// named in `omit`. `nullable` drops NOT NULL from every column but id.
pub async fn create_older_shape(db: &TestDb, omit: &[&str], nullable: bool) {
    let columns: Vec<String> = OLDER_SHAPE
        .iter()
        .filter(|(name, _, _)| !omit.contains(name))
        .map(|(name, pg, lite)| {
            let def = if db.kind == Kind::Postgres { pg } else { lite };
            let def = if nullable && *name != "id" {
                def.replace(" NOT NULL", "")
            } else {
                def.to_string()
            };
            format!("    {name} {def}")
        })
        .collect();
    db.exec(&format!(
        "CREATE TABLE operation_runs (\n{}\n)",
        columns.join(",\n")
    ))
    .await;
}

/// A distinct, well-formed run identity hash.
fn hash(n: u32) -> String {
    format!("{n:064x}")
}

/// One row of the older shape, as an INSERT that reads the same on both dialects. The context
/// carries a directory scope so directory-targeted types are valid too.
fn old_run(
    tenant: i64,
    type_: &str,
    status: &str,
    hash: &str,
    summary: &str,
    note: &str,
) -> String {
    let (outcome, completed_at) = match status {
        "completed" => ("'succeeded'", "'2024-03-01T12:00:00Z'"),
        _ => ("'pending'", "NULL"),
    };
    format!(
        "INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash, context, \
         summary_counts, completed_at, legacy_note) VALUES ({tenant}, '{type_}', '{status}', {outcome}, \
         '{hash}', '{{\"directory_context_id\": \"dc-{tenant}\"}}', '{summary}', {completed_at}, '{note}')"
    )
}

/// The id of the row carrying this legacy_note.
async fn id_of(db: &TestDb, note: &str) -> i64 {
    db.scalar(&format!(
        "SELECT id FROM operation_runs WHERE legacy_note = '{note}'"
    ))
    .await
    .parse()
    .unwrap()
}

/// `n` valid rows in one set-based statement: four types, two of them not in the seed
/// registry; a tenth of the runs still active, every identity distinct.
pub async fn populate(db: &TestDb, n: u32) {
    let sql = match db.kind {
        Kind::Postgres => format!(
            "INSERT INTO operation_runs (tenant_id, user_id, type, status, outcome, run_identity_hash, \
                 context, summary_counts, started_at, completed_at, created_at, legacy_note)
             SELECT g % 500, nullif(g % 7, 0),
                 (ARRAY['policy.sync', 'report.export', 'legacy.cleanup', 'tenant.reindex'])[g % 4 + 1],
                 CASE g % 10 WHEN 0 THEN 'running' WHEN 1 THEN 'queued' ELSE 'completed' END,
                 CASE WHEN g % 10 IN (0, 1) THEN 'pending' WHEN g % 3 = 0 THEN 'failed' ELSE 'succeeded' END,
                 encode(sha256(g::text::bytea), 'hex'),
                 json_build_object('directory_context_id', 'dc-' || (g % 500)),
                 json_build_object('total', g % 50, 'processed', g % 50),
                 timestamptz '2024-01-01' + g * interval '1 second',
                 CASE WHEN g % 10 IN (0, 1) THEN NULL ELSE timestamptz '2024-01-02' + g * interval '1 second' END,
                 timestamptz '2024-01-01' + g * interval '1 second',
                 'note ' || g
             FROM generate_series(1, {n}) g"
        ),
        Kind::Sqlite => format!(
            "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n})
             INSERT INTO operation_runs (tenant_id, user_id, type, status, outcome, run_identity_hash,
                 context, summary_counts, started_at, completed_at, created_at, legacy_note)
             SELECT g % 500, nullif(g % 7, 0),
                 CASE g % 4 WHEN 0 THEN 'policy.sync' WHEN 1 THEN 'report.export'
                            WHEN 2 THEN 'legacy.cleanup' ELSE 'tenant.reindex' END,
                 CASE g % 10 WHEN 0 THEN 'running' WHEN 1 THEN 'queued' ELSE 'completed' END,
                 CASE WHEN g % 10 IN (0, 1) THEN 'pending' WHEN g % 3 = 0 THEN 'failed' ELSE 'succeeded' END,
                 printf('%064x', g),
                 json_object('directory_context_id', 'dc-' || (g % 500)),
                 json_object('total', g % 50, 'processed', g % 50),
                 '2024-01-01T00:00:00Z',
                 CASE WHEN g % 10 IN (0, 1) THEN NULL ELSE '2024-01-02T00:00:00Z' END,
                 '2024-01-01T00:00:00Z',
                 'note ' || g
             FROM s"
        ),
    };
    db.exec(&sql).await;
}

/// The older shape's columns as text, for comparing rows before and after.
const OLD_COLUMNS_AS_TEXT: &str = "CAST(id AS TEXT), CAST(tenant_id AS TEXT), CAST(user_id AS TEXT), \
     CAST(type AS TEXT), CAST(status AS TEXT), CAST(outcome AS TEXT), CAST(run_identity_hash AS TEXT), \
     CAST(context AS TEXT), CAST(summary_counts AS TEXT), CAST(started_at AS TEXT), \
     CAST(completed_at AS TEXT), CAST(created_at AS TEXT), legacy_note";

/// Rows in `a` that are not, column for column, in `b`.
async fn rows_missing(db: &TestDb, a: &str, b: &str) -> String {
    db.scalar(&format!(
        "SELECT count(*) FROM (SELECT {OLD_COLUMNS_AS_TEXT} FROM {a} \
         EXCEPT SELECT {OLD_COLUMNS_AS_TEXT} FROM {b}) x"
    ))
    .await
}

fn column_step<'a>(plan: &'a Value, column: &str) -> &'a Value {
    plan["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == column)
        .unwrap_or_else(|| panic!("no step for column {column}: {plan}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn index_actions(report: &Value) -> Vec<(String, String)> {
    report["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The first blocker of a refused migrate (its kind is the error kind).
fn blocker<'a>(error: &'a Value, kind: &str) -> &'a Value {
    error["details"]["blockers"]
        .as_array()
        .unwrap_or_else(|| panic!("no blockers in {error}"))
        .iter()
        .find(|b| b["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} blocker in {error}"))
}

/// Nothing the tool owns exists yet and operation_runs still has exactly its older shape.
async fn assert_untouched(db: &TestDb, before: &str) {
    assert_eq!(
        schema_fingerprint(db).await,
        before,
        "{:?} schema changed",
        db.kind
    );
    for table in [
        "oprun_cutover_history",
        "operation_types",
        "oprun_cutover_ledger",
    ] {
        assert!(
            !relation_exists(db, table).await,
            "{:?}: {table} was created by a refused run",
            db.kind
        );
    }
}

#[tokio::test]
async fn adopting_a_populated_older_table_converges_with_rows_and_app_columns_intact() {
    for db in TestDb::each().await {
        // The production case is PostgreSQL; SQLite proves the same with fewer rows.
        let rows: u32 = match db.kind {
            Kind::Postgres => 100_000,
            Kind::Sqlite => 20_000,
        };
        create_older_shape(&db, &[], false).await;
        populate(&db, rows).await;
        db.exec("CREATE TABLE runs_before AS SELECT * FROM operation_runs")
            .await;
        let postgres = db.kind == Kind::Postgres;

        // plan: what will be added, converted and kept, and which types get registered.
        let plan = db
            .cmd()
            .args(["--format", "json", "plan"])
            .run()
            .expect_code(0)
            .json();
        let plan = &plan["data"];
        assert_eq!(plan["adopting"], true, "{plan}");
        assert_eq!(plan["blockers"], Value::Array(vec![]), "{plan}");
        for added in ["initiator_name", "failure_summary", "updated_at"] {
            assert_eq!(column_step(plan, added)["action"], "add", "{added}");
            assert!(column_step(plan, added)["sql"]
                .as_str()
                .unwrap()
                .contains(added));
        }
        if postgres {
            for varchar in ["type", "status", "outcome"] {
                let step = column_step(plan, varchar);
                assert_eq!(step["action"], "convert", "{step}");
                assert!(
                    step["found_type"]
                        .as_str()
                        .unwrap()
                        .starts_with("character varying"),
                    "{step}"
                );
            }
            for json in ["context", "summary_counts"] {
                let step = column_step(plan, json);
                assert_eq!(step["action"], "keep", "{step}");
                assert_eq!(step["found_type"], "json", "{step}");
            }
        }
        assert_eq!(
            strings(&plan["register_types"]),
            ["legacy.cleanup", "tenant.reindex"]
        );
        let pending: Vec<i64> = plan["pending"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["version"].as_i64().unwrap())
            .collect();
        assert_eq!(pending, embedded_versions(db.kind));

        // migrate converges.
        let migrated = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        let report = &migrated["data"];
        assert_eq!(report["already_converged"], false);
        assert_eq!(
            report["applied"].as_array().unwrap().len(),
            embedded_versions(db.kind).len()
        );
        assert_eq!(
            strings(&report["registered_types"]),
            ["legacy.cleanup", "tenant.reindex"]
        );
        if postgres {
            // The kept json column is reported, not silently accepted.
            let kept = column_step(report, "context");
            assert_eq!(kept["action"], "keep");
            assert_eq!(kept["found_type"], "json");
            assert_eq!(column_step(report, "status")["action"], "convert");
            assert_eq!(
                report["validated"].as_array().unwrap().len(),
                10,
                "{report}"
            );
        }
        assert_eq!(
            index_actions(report),
            [
                (
                    "operation_runs_active_identity_uniq".to_string(),
                    "build".to_string()
                ),
                (
                    "operation_runs_tenant_created_idx".to_string(),
                    "build".to_string()
                )
            ]
        );

        // Every row and every app column value is intact; the new columns are there.
        assert_eq!(
            db.scalar("SELECT count(*) FROM operation_runs").await,
            rows.to_string()
        );
        assert_eq!(
            rows_missing(&db, "runs_before", "operation_runs").await,
            "0"
        );
        assert_eq!(
            rows_missing(&db, "operation_runs", "runs_before").await,
            "0"
        );
        let columns = match db.kind {
            Kind::Postgres => "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_name) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'operation_runs' AND column_name IN ('initiator_name', 'failure_summary', 'updated_at', 'status', 'context', 'legacy_note')",
            Kind::Sqlite => "SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_table_info('operation_runs') WHERE name IN ('initiator_name', 'failure_summary', 'updated_at', 'status', 'context', 'legacy_note') ORDER BY name)",
        };
        let expected = match db.kind {
            Kind::Postgres => "context json, failure_summary jsonb, initiator_name text, legacy_note text, status text, updated_at timestamp with time zone",
            Kind::Sqlite => "context, failure_summary, initiator_name, legacy_note, status, updated_at",
        };
        assert_eq!(db.scalar(columns).await, expected);

        // The adopted types are registered, label = id, and say where they came from.
        assert_eq!(
            db.scalar("SELECT count(*) FROM operation_types WHERE type IN ('legacy.cleanup', 'tenant.reindex') AND registered_by = 'adopted' AND label = type").await,
            "2"
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM operation_types WHERE registered_by = 'seed'")
                .await,
            "5"
        );

        if postgres {
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'operation_runs'::regclass AND NOT (indisvalid AND indisready)").await,
                "0"
            );
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'operation_runs'::regclass AND i.relname IN ('operation_runs_active_identity_uniq', 'operation_runs_tenant_created_idx')").await,
                "2"
            );
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND conname LIKE 'oprun\\_%' AND convalidated").await,
                "10"
            );
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND NOT convalidated").await,
                "0"
            );
        } else {
            assert_eq!(
                db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'operation_runs' AND name IN ('operation_runs_active_identity_uniq', 'operation_runs_tenant_created_idx')").await,
                "2"
            );
            assert_eq!(
                db.scalar(
                    "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"
                )
                .await,
                "0"
            );
        }

        // A second migrate is a no-op: nothing applied, nothing recorded.
        let ledger_rows = db.scalar("SELECT count(*) FROM oprun_cutover_ledger").await;
        let schema = schema_fingerprint(&db).await;
        let again = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(again["data"]["already_converged"], true, "{again}");
        assert_eq!(again["data"]["applied"], Value::Array(vec![]));
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_ledger").await,
            ledger_rows
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_history")
                .await,
            embedded_versions(db.kind).len().to_string()
        );
        assert_eq!(schema_fingerprint(&db).await, schema);
        db.cmd()
            .args(["status", "--require", "schema-ready"])
            .run()
            .expect_code(0);
    }
}

#[tokio::test]
async fn duplicate_active_runs_refuse_with_a_report_and_change_nothing() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], false).await;
        let h = hash(0xd0d0);
        for sql in [
            old_run(7, "report.export", "queued", &h, "{}", "first"),
            old_run(7, "report.export", "running", &h, "{}", "second"),
            // Same identity elsewhere is no duplicate: another tenant, or no longer active.
            old_run(8, "report.export", "queued", &h, "{}", "other tenant"),
            old_run(7, "report.export", "completed", &h, "{}", "done"),
            old_run(7, "legacy.cleanup", "queued", &hash(1), "{}", "unrelated"),
        ] {
            db.exec(&sql).await;
        }
        let (first, second) = (id_of(&db, "first").await, id_of(&db, "second").await);
        let before = schema_fingerprint(&db).await;

        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "duplicate_active_runs");
        let duplicates = &blocker(&error, "duplicate_active_runs")["details"]["duplicates"];
        assert_eq!(duplicates["groups"], 1, "{duplicates}");
        assert_eq!(duplicates["rows"], 2, "{duplicates}");
        let group = &duplicates["sample"][0];
        assert_eq!(group["tenant_id"], 7);
        assert_eq!(group["run_identity_hash"], h.as_str());
        assert_eq!(group["count"], 2);
        assert_eq!(group["ids"], serde_json::json!([first, second]));
        assert_untouched(&db, &before).await;

        // Human output names them too, on stderr.
        let human = db.cmd().args(["migrate"]).run().expect_code(6);
        assert!(
            human.stderr().contains(&format!("tenant 7 hash {h}")),
            "{}",
            human.stderr()
        );

        // plan shows the same refusal and the same duplicates, and changes nothing either.
        let plan = db.cmd().args(["--format", "json", "plan"]).run().json();
        let plan = &plan["data"];
        assert_eq!(
            plan["blockers"][0]["kind"], "duplicate_active_runs",
            "{plan}"
        );
        assert_eq!(&plan["duplicates"], duplicates);
        assert_untouched(&db, &before).await;

        // Completing the extra run resolves it: migrate converges.
        db.exec(&format!(
            "UPDATE operation_runs SET status = 'completed', outcome = 'failed', \
             completed_at = '2024-03-02T00:00:00Z' WHERE id = {second}"
        ))
        .await;
        let done = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(
            done["data"]["applied"].as_array().unwrap().len(),
            embedded_versions(db.kind).len()
        );
        db.cmd()
            .args(["status", "--require", "schema-ready"])
            .run()
            .expect_code(0);
        assert_eq!(db.scalar("SELECT count(*) FROM operation_runs").await, "5");
    }
}

#[tokio::test]
async fn rows_breaking_a_rule_refuse_per_rule_with_sample_ids_and_change_nothing() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], false).await;
        for sql in [
            old_run(
                1,
                "report.export",
                "completed",
                &hash(1),
                "{\"total\": 1}",
                "fine",
            ),
            old_run(
                1,
                "report.export",
                "completed",
                &hash(2),
                "{\"bogus\": 3}",
                "bogus key",
            ),
            old_run(
                1,
                "report.export",
                "completed",
                &hash(3),
                "{\"total\": -2}",
                "negative",
            ),
            old_run(
                1,
                "report.export",
                "queued",
                &hash(4),
                "{}",
                "no completed_at",
            ),
        ] {
            db.exec(&sql).await;
        }
        let bogus = id_of(&db, "bogus key").await;
        let negative = id_of(&db, "negative").await;
        let unfinished = id_of(&db, "no completed_at").await;
        // Completed by an app bug that forgot completed_at.
        db.exec(&format!(
            "UPDATE operation_runs SET status = 'completed', outcome = 'succeeded' WHERE id = {unfinished}"
        ))
        .await;
        let before = schema_fingerprint(&db).await;

        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "invalid_rows");
        let violations = &blocker(&error, "invalid_rows")["details"]["violations"];
        let rule = |name: &str| {
            violations
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["rule"] == name)
                .unwrap_or_else(|| panic!("no rule {name} in {violations}"))
                .clone()
        };
        let summary = rule("summary_counts_canonical");
        assert_eq!(summary["rows"], 2);
        assert_eq!(summary["sample_ids"], serde_json::json!([bogus, negative]));
        let completed = rule("completed_has_completed_at");
        assert_eq!(completed["rows"], 1);
        assert_eq!(completed["sample_ids"], serde_json::json!([unfinished]));
        assert_eq!(violations.as_array().unwrap().len(), 2, "{violations}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("summary_counts_canonical (2 rows)"),
            "{error}"
        );
        assert_untouched(&db, &before).await;

        let plan = db.cmd().args(["--format", "json", "plan"]).run().json();
        assert_eq!(&plan["data"]["violations"], violations);
        assert_eq!(plan["data"]["blockers"][0]["kind"], "invalid_rows");
        assert_untouched(&db, &before).await;
    }
}

#[tokio::test]
async fn completed_rows_in_a_table_without_completed_at_refuse() {
    for db in TestDb::each().await {
        create_older_shape(&db, &["completed_at"], false).await;
        let insert = |status: &str, outcome: &str, n: u32| {
            format!(
                "INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash, legacy_note) \
                 VALUES (3, 'report.export', '{status}', '{outcome}', '{}', 'r{n}')",
                hash(n)
            )
        };
        db.exec(&insert("completed", "succeeded", 1)).await;
        db.exec(&insert("running", "pending", 2)).await;
        db.exec(&insert("completed", "failed", 3)).await;
        let done = [id_of(&db, "r1").await, id_of(&db, "r3").await];
        let before = schema_fingerprint(&db).await;

        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "invalid_rows");
        let violations = &blocker(&error, "invalid_rows")["details"]["violations"];
        assert_eq!(
            violations,
            &serde_json::json!([{ "rule": "completed_has_completed_at", "rows": 2, "sample_ids": done }])
        );
        assert_untouched(&db, &before).await;
    }
}

#[tokio::test]
async fn missing_required_column_refuses() {
    for db in TestDb::each().await {
        create_older_shape(&db, &["outcome"], false).await;
        db.exec(
            "INSERT INTO operation_runs (tenant_id, type, status, run_identity_hash) \
             VALUES (1, 'report.export', 'queued', '0000000000000000000000000000000000000000000000000000000000000001')",
        )
        .await;
        let before = schema_fingerprint(&db).await;
        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "missing_required_column");
        assert_message(&error, "no outcome column");
        assert_untouched(&db, &before).await;

        let plan = db.cmd().args(["--format", "json", "plan"]).run().json();
        assert_eq!(
            column_step(&plan["data"], "outcome")["action"],
            "refuse",
            "{plan}"
        );
    }
}

/// An INVALID unique index, left by a concurrent build that failed on duplicates, is reported
/// and rebuilt once the duplicates are resolved; never accepted as present.
#[tokio::test]
async fn invalid_leftover_index_is_reported_and_rebuilt() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    db.cmd().args(["migrate"]).run().expect_code(0);
    db.exec("DROP INDEX operation_runs_active_identity_uniq")
        .await;
    let h = hash(42);
    for note in ["a", "b"] {
        db.exec(&format!(
            "INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash, initiator_name) \
             VALUES (5, 'report.export', 'queued', 'pending', '{h}', '{note}')"
        ))
        .await;
    }
    let failed = db
        .try_exec(
            "CREATE UNIQUE INDEX CONCURRENTLY operation_runs_active_identity_uniq \
             ON operation_runs (tenant_id, run_identity_hash) WHERE status IN ('queued', 'running')",
        )
        .await;
    assert!(
        failed.is_err(),
        "the hand-made build should fail on the duplicates"
    );
    let validity = "SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = 'operation_runs_active_identity_uniq'::regclass";
    assert_eq!(db.scalar(validity).await, "false");

    let status = db
        .cmd()
        .args(["--format", "json", "status", "--require", "schema-ready"])
        .run()
        .expect_code(1)
        .json();
    let states = &status["data"]["indexes"];
    assert_eq!(
        states[0],
        serde_json::json!({"name": "operation_runs_active_identity_uniq", "state": "invalid"})
    );
    assert_eq!(status["data"]["schema_ready"], false);

    // While the duplicates remain, migrate refuses and the leftover stays as it was.
    let refused = db
        .cmd()
        .args(["--format", "json", "migrate"])
        .run()
        .expect_code(6);
    assert_eq!(refused.json()["error"]["kind"], "duplicate_active_runs");
    assert_eq!(db.scalar(validity).await, "false");

    db.exec(
        "UPDATE operation_runs SET status = 'completed', outcome = 'failed', completed_at = now() \
         WHERE initiator_name = 'b'",
    )
    .await;
    let plan = db
        .cmd()
        .args(["--format", "json", "plan"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(plan["data"]["blockers"], Value::Array(vec![]));
    assert_eq!(
        index_actions(&plan["data"]),
        [
            (
                "operation_runs_active_identity_uniq".to_string(),
                "rebuild_invalid".to_string()
            ),
            (
                "operation_runs_tenant_created_idx".to_string(),
                "present".to_string()
            )
        ]
    );

    let migrated = db
        .cmd()
        .args(["--format", "json", "migrate"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(
        index_actions(&migrated["data"])[0].1,
        "rebuild_invalid",
        "{migrated}"
    );
    assert_eq!(
        db.scalar("SELECT x.indisvalid AND x.indisready FROM pg_index x WHERE x.indexrelid = 'operation_runs_active_identity_uniq'::regclass").await,
        "true"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'operation_runs_active_identity_uniq%'")
            .await,
        "1"
    );
    db.cmd()
        .args(["status", "--require", "schema-ready"])
        .run()
        .expect_code(0);
}

/// A killed build of the plain index leaves it INVALID too (simulated through the catalog).
#[tokio::test]
async fn invalid_plain_index_is_rebuilt() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    db.cmd().args(["migrate"]).run().expect_code(0);
    db.exec(
        "UPDATE pg_index SET indisvalid = false \
         WHERE indexrelid = 'operation_runs_tenant_created_idx'::regclass",
    )
    .await;
    let status = db
        .cmd()
        .args(["--format", "json", "status"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(status["data"]["indexes"][1]["state"], "invalid", "{status}");
    let migrated = db
        .cmd()
        .args(["--format", "json", "migrate"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(index_actions(&migrated["data"])[1].1, "rebuild_invalid");
    assert_eq!(
        db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'operation_runs_tenant_created_idx'::regclass").await,
        "true"
    );
}

/// The registry rules (directory scope, keys allowed per type) are canonical rules too:
/// existing rows breaking them must be listed and refused like any other, not adopted silently
/// and left for the application to trip over on its next update.
#[tokio::test]
async fn rows_breaking_registry_rules_refuse() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], false).await;
        db.exec(&old_run(
            1,
            "report.export",
            "completed",
            &hash(1),
            "{}",
            "fine",
        ))
        .await;
        db.exec(
            "INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash, context, completed_at, legacy_note) \
             VALUES (1, 'policy_version.prune', 'completed', 'succeeded', '0000000000000000000000000000000000000000000000000000000000000002', '{}', '2024-03-01T12:00:00Z', 'no scope')",
        )
        .await;
        db.exec(&old_run(
            1,
            "backup_set.delete",
            "completed",
            &hash(3),
            "{\"created\": 1}",
            "key not allowed",
        ))
        .await;
        let offenders = [
            id_of(&db, "no scope").await,
            id_of(&db, "key not allowed").await,
        ];
        let before = schema_fingerprint(&db).await;

        let plan = db.cmd().args(["--format", "json", "plan"]).run().json();
        let listed: Vec<i64> = plan["data"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["sample_ids"].as_array().unwrap().clone())
            .map(|id| id.as_i64().unwrap())
            .collect();
        for id in offenders {
            assert!(
                listed.contains(&id),
                "{:?}: row {id} not listed: {}",
                db.kind,
                plan["data"]["violations"]
            );
        }

        let run = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(6);
        assert_eq!(run.json()["error"]["kind"], "invalid_rows");
        assert_untouched(&db, &before).await;
    }
}

/// A row whose type is empty can never be registered: it is an invalid row, refused before any
/// change, not a constraint left half-validated after the migrations committed.
#[tokio::test]
async fn row_with_an_empty_type_refuses_before_any_change() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], false).await;
        db.exec(&old_run(1, "", "completed", &hash(1), "{}", "empty type"))
            .await;
        let id = id_of(&db, "empty type").await;
        let before = schema_fingerprint(&db).await;
        let error = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_error(6, "invalid_rows");
        let listed = blocker(&error, "invalid_rows")["details"]["violations"].to_string();
        assert!(listed.contains(&id.to_string()), "{error}");
        assert_untouched(&db, &before).await;
    }
}

/// The canon's NOT NULL columns stay required on an adopted table: either migrate enforces
/// them, or it refuses and says so; it never converges with NULL status or tenant accepted.
#[tokio::test]
async fn nullable_required_columns_are_not_adopted_silently() {
    for db in TestDb::each().await {
        create_older_shape(&db, &[], true).await;
        db.exec(&old_run(
            1,
            "report.export",
            "completed",
            &hash(1),
            "{}",
            "fine",
        ))
        .await;
        let run = db.cmd().args(["--format", "json", "migrate"]).run();
        match run.code() {
            0 => {
                for (n, column) in [
                    "tenant_id",
                    "type",
                    "status",
                    "outcome",
                    "run_identity_hash",
                ]
                .iter()
                .enumerate()
                {
                    let mut values = [
                        "1".to_string(),
                        "'report.export'".to_string(),
                        "'queued'".to_string(),
                        "'pending'".to_string(),
                        format!("'{}'", hash(100 + n as u32)),
                    ];
                    values[n] = "NULL".to_string();
                    let sql = format!(
                        "INSERT INTO operation_runs (tenant_id, type, status, outcome, run_identity_hash) VALUES ({})",
                        values.join(", ")
                    );
                    assert!(
                        db.try_exec(&sql).await.is_err(),
                        "{:?}: NULL {column} accepted after adoption",
                        db.kind
                    );
                }
            }
            6 => {
                let message = run.json()["error"]["message"].to_string();
                assert!(message.contains("NULL"), "{message}");
            }
            other => panic!("unexpected exit {other}: {}{}", run.stdout(), run.stderr()),
        }
    }
}
