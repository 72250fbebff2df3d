//! `migrate`, `plan` and `status` on fresh and adopted databases, on both dialects.

use crate::harness::{embedded_versions, Kind, TestDb};

#[tokio::test]
async fn fresh_database_migrates_and_rerun_is_a_no_op() {
    for db in TestDb::each().await {
        let first = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(first["ok"], true);
        assert_eq!(first["data"]["already_converged"], false);
        let versions = embedded_versions(db.kind).len();
        assert_eq!(first["data"]["applied"].as_array().unwrap().len(), versions);

        let second = db
            .cmd()
            .args(["--format", "json", "migrate"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(second["data"]["already_converged"], true, "{second}");
        assert_eq!(second["data"]["applied"].as_array().unwrap().len(), 0);

        assert_eq!(
            db.scalar("SELECT count(*) FROM oprun_cutover_history")
                .await,
            versions.to_string()
        );
        assert_eq!(
            db.scalar("SELECT phase FROM oprun_cutover_state").await,
            "schema_ready"
        );
        let status = db
            .cmd()
            .args(["--format", "json", "status", "--require", "schema-ready"])
            .run()
            .expect_code(0)
            .json();
        assert_eq!(status["data"]["phase"], "schema_ready");
        if db.kind == Kind::Postgres {
            // Checked from the catalog: every canonical index valid, every constraint validated.
            assert_eq!(
                db.scalar("SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname IN ('operation_runs_active_identity_uniq', 'operation_runs_tenant_created_idx') AND x.indisvalid").await,
                "2"
            );
            assert_eq!(db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND NOT convalidated").await, "0");
            assert_eq!(db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND conname LIKE 'oprun\\_%'").await, "10");
        }
    }
}

/// The seed rules existing rows are checked against before adoption are the ones V1 seeds.
#[tokio::test]
async fn seeded_registry_matches_the_canon_used_for_adoption_checks() {
    for db in TestDb::each().await {
        db.cmd().args(["migrate"]).run().expect_code(0);
        for seed in oprun_cutover::schema::canon::SEED_TYPES {
            let (keys, directory) = match db.kind {
                Kind::Postgres => (
                    format!("SELECT array_to_string(allowed_summary_keys, ',') FROM operation_types WHERE type = '{}'", seed.name),
                    format!("SELECT targets_directory::int FROM operation_types WHERE type = '{}'", seed.name),
                ),
                Kind::Sqlite => (
                    format!("SELECT (SELECT group_concat(value, ',') FROM json_each(allowed_summary_keys)) FROM operation_types WHERE type = '{}'", seed.name),
                    format!("SELECT targets_directory FROM operation_types WHERE type = '{}'", seed.name),
                ),
            };
            assert_eq!(
                db.scalar(&keys).await,
                seed.allowed_summary_keys.join(","),
                "{}",
                seed.name
            );
            assert_eq!(
                db.scalar(&directory).await,
                if seed.targets_directory { "1" } else { "0" },
                "{}",
                seed.name
            );
        }
    }
}

/// `plan` is the first thing to run: on a SQLite file that does not exist yet it shows the
/// plan for an empty database and creates nothing; `status` says the file is missing.
#[test]
fn plan_before_the_first_migrate_on_a_missing_sqlite_file() {
    let db = TestDb::sqlite();
    let path = db.url.trim_start_matches("sqlite:").to_string();
    let plan = db
        .cmd()
        .args(["--format", "json", "plan"])
        .run()
        .expect_code(0)
        .json();
    assert_eq!(
        plan["data"]["pending"].as_array().unwrap().len(),
        embedded_versions(db.kind).len()
    );
    assert!(
        !std::path::Path::new(&path).exists(),
        "plan created the file"
    );
    let status = db.cmd().args(["status"]).run().expect_code(3);
    assert!(
        status.stderr().contains("does not exist yet"),
        "{}",
        status.stderr()
    );
}
