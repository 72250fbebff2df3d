//! `migrate`, `plan` and `status` on fresh and adopted databases, on both dialects.

use crate::harness::{Kind, TestDb};

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
        assert_eq!(first["data"]["applied"].as_array().unwrap().len(), 3);

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
            "3"
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
            assert_eq!(db.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'operation_runs'::regclass AND conname LIKE 'oprun\\_%'").await, "9");
        }
    }
}
