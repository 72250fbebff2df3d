//! The database itself enforces the canon after `migrate` (SPEC §2), on both dialects: each
//! rule rejects a row that breaks it, for the right reason, and accepts one that keeps it.

use std::collections::BTreeMap;

use crate::harness::{Kind, TestDb};

/// A GUID for `context.entra_tenant_id`.
const GUID: &str = "0b5d1c2e-4f6a-4b8c-9d0e-1f2a3b4c5d6e";

/// A distinct, well-formed run identity hash.
fn hash(n: u32) -> String {
    format!("{n:064x}")
}

/// One `INSERT` into operation_runs: a valid queued `report.export` run unless a column is
/// overridden. Values are SQL literals that read the same on both dialects.
#[derive(Clone)]
struct NewRun {
    columns: BTreeMap<&'static str, String>,
}

impl NewRun {
    fn valid(n: u32) -> NewRun {
        let mut columns = BTreeMap::new();
        columns.insert("tenant_id", "1".to_string());
        columns.insert("type", "'report.export'".to_string());
        columns.insert("status", "'queued'".to_string());
        columns.insert("outcome", "'pending'".to_string());
        columns.insert("run_identity_hash", format!("'{}'", hash(n)));
        columns.insert("context", "'{}'".to_string());
        columns.insert("summary_counts", "'{}'".to_string());
        NewRun { columns }
    }

    /// A valid completed run.
    fn completed(n: u32) -> NewRun {
        NewRun::valid(n)
            .set("status", "'completed'")
            .set("outcome", "'succeeded'")
            .set("completed_at", "'2024-05-01T10:00:00Z'")
    }

    /// A valid run of a directory-targeted type.
    fn directory(n: u32) -> NewRun {
        NewRun::valid(n)
            .set("type", "'policy_version.prune'")
            .set("context", &format!("'{{\"entra_tenant_id\": \"{GUID}\"}}'"))
    }

    fn set(mut self, column: &'static str, literal: &str) -> NewRun {
        self.columns.insert(column, literal.to_string());
        self
    }

    fn sql(&self) -> String {
        let names: Vec<&str> = self.columns.keys().copied().collect();
        let values: Vec<&str> = self.columns.values().map(String::as_str).collect();
        format!(
            "INSERT INTO operation_runs ({}) VALUES ({})",
            names.join(", "),
            values.join(", ")
        )
    }
}

/// A database brought to the canonical schema by the tool.
async fn migrated() -> Vec<TestDb> {
    let dbs = TestDb::each().await;
    for db in &dbs {
        db.cmd().args(["migrate"]).run().expect_code(0);
    }
    dbs
}

fn fragment<'a>(db: &TestDb, postgres: &'a str, sqlite: &'a str) -> &'a str {
    match db.kind {
        Kind::Postgres => postgres,
        Kind::Sqlite => sqlite,
    }
}

/// The statement must fail, and for the expected rule: a fragment of the dialect's message
/// (`a|b` when either of two enforcement points may catch it first).
async fn rejected(db: &TestDb, sql: &str, postgres: &str, sqlite: &str) {
    let why = fragment(db, postgres, sqlite);
    match db.try_exec(sql).await {
        Ok(()) => panic!("{:?} accepted a row it must reject:\n{sql}", db.kind),
        Err(message) => assert!(
            why.split('|').any(|w| message.contains(w)),
            "{:?} rejected for another reason than {why:?}: {message}\n{sql}",
            db.kind
        ),
    }
}

async fn accepted(db: &TestDb, sql: &str) {
    if let Err(message) = db.try_exec(sql).await {
        panic!("{:?} rejected a valid row: {message}\n{sql}", db.kind);
    }
}

#[tokio::test]
async fn status_must_be_queued_running_or_completed() {
    for db in migrated().await {
        for (n, bad) in ["'bogus'", "'Queued'", "'cancelled'", "''"]
            .iter()
            .enumerate()
        {
            let run = NewRun::valid(n as u32).set("status", bad);
            rejected(
                &db,
                &run.sql(),
                "oprun_status_values",
                "status must be queued, running or completed",
            )
            .await;
        }
        accepted(&db, &NewRun::valid(10).sql()).await;
        accepted(&db, &NewRun::valid(11).set("status", "'running'").sql()).await;
        accepted(&db, &NewRun::completed(12).sql()).await;
    }
}

#[tokio::test]
async fn outcome_must_be_a_known_value() {
    for db in migrated().await {
        // Completed with completed_at, so only the outcome value is wrong.
        let run = NewRun::completed(1).set("outcome", "'cancelled'");
        rejected(
            &db,
            &run.sql(),
            "oprun_outcome_values",
            "outcome must be pending, succeeded, partial or failed",
        )
        .await;
        for (n, good) in ["'succeeded'", "'partial'", "'failed'"].iter().enumerate() {
            accepted(
                &db,
                &NewRun::completed(10 + n as u32).set("outcome", good).sql(),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn outcome_is_pending_exactly_while_the_run_is_not_completed() {
    for db in migrated().await {
        let completed_but_pending = NewRun::completed(1).set("outcome", "'pending'");
        let running_but_decided = NewRun::valid(2)
            .set("status", "'running'")
            .set("outcome", "'succeeded'");
        let queued_but_failed = NewRun::valid(3).set("outcome", "'failed'");
        for run in [
            completed_but_pending,
            running_but_decided,
            queued_but_failed,
        ] {
            rejected(
                &db,
                &run.sql(),
                "oprun_outcome_pending_iff_active",
                "outcome is pending exactly while the run is not completed",
            )
            .await;
        }
        accepted(&db, &NewRun::valid(10).set("status", "'running'").sql()).await;
        accepted(
            &db,
            &NewRun::completed(11).set("outcome", "'partial'").sql(),
        )
        .await;
    }
}

#[tokio::test]
async fn a_completed_run_needs_completed_at() {
    for db in migrated().await {
        let run = NewRun::completed(1).set("completed_at", "NULL");
        rejected(
            &db,
            &run.sql(),
            "oprun_completed_has_completed_at",
            "a completed run needs completed_at",
        )
        .await;
        accepted(&db, &NewRun::completed(2).sql()).await;
        // Active runs may have no completed_at.
        accepted(&db, &NewRun::valid(3).set("completed_at", "NULL").sql()).await;
    }
}

#[tokio::test]
async fn run_identity_hash_is_64_lowercase_hex_characters() {
    for db in migrated().await {
        let upper = format!("'{}'", "A".repeat(64));
        let not_hex = format!("'{}g'", "a".repeat(63));
        let short = format!("'{}'", "a".repeat(63));
        for bad in [upper, not_hex, short, "''".to_string()] {
            rejected(
                &db,
                &NewRun::valid(1).set("run_identity_hash", &bad).sql(),
                "oprun_identity_hash_format",
                "run_identity_hash must be 64 lowercase hex characters",
            )
            .await;
        }
        accepted(
            &db,
            &NewRun::valid(2)
                .set(
                    "run_identity_hash",
                    "'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'",
                )
                .sql(),
        )
        .await;
    }
}

#[tokio::test]
async fn context_must_be_a_json_object() {
    for db in migrated().await {
        for (n, bad) in ["'[]'", "'\"text\"'", "'42'", "'null'"].iter().enumerate() {
            rejected(
                &db,
                &NewRun::valid(n as u32).set("context", bad).sql(),
                "oprun_context_is_object",
                "context must be a JSON object",
            )
            .await;
        }
        accepted(
            &db,
            &NewRun::valid(10)
                .set("context", "'{\"filters\": {\"a\": [1, 2]}}'")
                .sql(),
        )
        .await;
    }
}

#[tokio::test]
async fn summary_key_outside_the_canonical_registry_is_rejected() {
    for db in migrated().await {
        for (n, bad) in ["'{\"bogus\": 1}'", "'{\"total\": 1, \"Total\": 1}'"]
            .iter()
            .enumerate()
        {
            rejected(
                &db,
                &NewRun::valid(n as u32).set("summary_counts", bad).sql(),
                // The registry trigger runs before the CHECK and may name the key first.
                "oprun_summary_counts_canonical|is not allowed for type",
                "summary_counts must be an object of canonical keys",
            )
            .await;
        }
        // summary_counts is an object, nothing else.
        rejected(
            &db,
            &NewRun::valid(5).set("summary_counts", "'[1, 2]'").sql(),
            "oprun_summary_counts_canonical",
            "summary_counts must be an object",
        )
        .await;
        accepted(
            &db,
            &NewRun::valid(10)
                .set(
                    "summary_counts",
                    "'{\"total\": 10, \"processed\": 4, \"succeeded\": 3, \"failed\": 1}'",
                )
                .sql(),
        )
        .await;
    }
}

#[tokio::test]
async fn summary_count_must_be_a_non_negative_integer() {
    for db in migrated().await {
        let bad = [
            "'{\"total\": -1}'",
            "'{\"total\": 1.5}'",
            "'{\"total\": \"3\"}'",
            "'{\"total\": true}'",
            "'{\"total\": null}'",
            "'{\"total\": [1]}'",
        ];
        for (n, bad) in bad.iter().enumerate() {
            rejected(
                &db,
                &NewRun::valid(n as u32).set("summary_counts", bad).sql(),
                "oprun_summary_counts_canonical",
                "non-negative integer values",
            )
            .await;
        }
        accepted(
            &db,
            &NewRun::valid(10)
                .set(
                    "summary_counts",
                    "'{\"total\": 0, \"processed\": 2147483648}'",
                )
                .sql(),
        )
        .await;
    }
}

/// A count written as `1.0` or `1e2` must get the same answer from both dialects.
#[tokio::test]
async fn integral_float_counts_get_the_same_answer_on_both_dialects() {
    let mut answers: BTreeMap<&str, Vec<(Kind, bool)>> = BTreeMap::new();
    for db in migrated().await {
        for (n, value) in ["'{\"total\": 1.0}'", "'{\"total\": 1e2}'"]
            .into_iter()
            .enumerate()
        {
            let run = NewRun::valid(n as u32).set("summary_counts", value);
            let ok = db.try_exec(&run.sql()).await.is_ok();
            answers.entry(value).or_default().push((db.kind, ok));
        }
    }
    for (value, per_dialect) in answers {
        // Decided: an integral value is an integer count, however it is spelled.
        assert!(
            per_dialect.iter().all(|(_, ok)| *ok),
            "an integral count was refused for {value}: {per_dialect:?}"
        );
    }
}

#[tokio::test]
async fn summary_key_canonical_but_not_allowed_for_the_type_is_rejected() {
    for db in migrated().await {
        // backup_set.delete may count deletions, not creations.
        let run = NewRun::valid(1)
            .set("type", "'backup_set.delete'")
            .set("context", "'{\"directory_context_id\": \"dc-1\"}'")
            .set("summary_counts", "'{\"total\": 2, \"created\": 1}'");
        rejected(
            &db,
            &run.sql(),
            "\"created\" is not allowed for type backup_set.delete",
            "a summary key is not allowed for this type",
        )
        .await;
        accepted(
            &db,
            &run.clone()
                .set("run_identity_hash", &format!("'{}'", hash(2)))
                .set("summary_counts", "'{\"total\": 2, \"deleted\": 1}'")
                .sql(),
        )
        .await;
        // The same key is fine for a type that allows it.
        accepted(
            &db,
            &NewRun::valid(3)
                .set("type", "'policy.sync'")
                .set("context", "'{\"directory_context_id\": \"dc-1\"}'")
                .set("summary_counts", "'{\"created\": 1}'")
                .sql(),
        )
        .await;
    }
}

#[tokio::test]
async fn failure_summary_is_an_array_or_an_object() {
    for db in migrated().await {
        for (n, bad) in ["'\"it broke\"'", "'3'", "'true'"].iter().enumerate() {
            let run = NewRun::completed(n as u32)
                .set("outcome", "'failed'")
                .set("failure_summary", bad);
            rejected(
                &db,
                &run.sql(),
                "oprun_failure_summary_shape",
                "failure_summary must be a JSON array or object",
            )
            .await;
        }
        for (n, good) in [
            "'[{\"code\": \"timeout\", \"message\": \"graph did not answer\"}]'",
            "'{\"code\": \"forbidden\", \"message\": \"missing consent\"}'",
            "NULL",
        ]
        .iter()
        .enumerate()
        {
            let run = NewRun::completed(10 + n as u32)
                .set("outcome", "'failed'")
                .set("failure_summary", good);
            accepted(&db, &run.sql()).await;
        }
    }
}

#[tokio::test]
async fn unregistered_type_is_rejected() {
    for db in migrated().await {
        rejected(
            &db,
            &NewRun::valid(1)
                .set("type", "'nobody.registered_this'")
                .sql(),
            "oprun_type_registered",
            "type is not registered in operation_types",
        )
        .await;
        let no_keys = fragment(&db, "'{}'", "'[]'");
        db.exec(&format!(
            "INSERT INTO operation_types (type, label, allowed_summary_keys) \
             VALUES ('nobody.registered_this', 'Now registered', {no_keys})"
        ))
        .await;
        accepted(
            &db,
            &NewRun::valid(2)
                .set("type", "'nobody.registered_this'")
                .sql(),
        )
        .await;
    }
}

/// The registry cannot lose a type that runs still use, or those runs would break the rule.
#[tokio::test]
async fn a_type_in_use_cannot_be_removed_from_the_registry() {
    for db in migrated().await {
        accepted(&db, &NewRun::valid(1).sql()).await;
        let result = db
            .try_exec("DELETE FROM operation_types WHERE type = 'report.export'")
            .await;
        assert!(
            result.is_err(),
            "{:?} deleted a registered type that a run still uses",
            db.kind
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM operation_runs r WHERE NOT EXISTS (SELECT 1 FROM operation_types t WHERE t.type = r.type)").await,
            "0"
        );
    }
}

#[tokio::test]
async fn directory_targeted_type_needs_a_target_scope() {
    for db in migrated().await {
        let why_pg = "targets a directory and needs context.entra_tenant_id";
        let why_lite = "targets a directory and needs context.entra_tenant_id";
        for (n, bad) in [
            "'{}'",
            "'{\"entra_tenant_id\": \"not-a-guid\"}'",
            "'{\"directory_context_id\": \"\"}'",
            "'{\"directory_context_id\": null}'",
            "'{\"tenant\": \"0b5d1c2e-4f6a-4b8c-9d0e-1f2a3b4c5d6e\"}'",
        ]
        .iter()
        .enumerate()
        {
            let run = NewRun::directory(n as u32).set("context", bad);
            rejected(&db, &run.sql(), why_pg, why_lite).await;
        }
        accepted(&db, &NewRun::directory(10).sql()).await;
        accepted(
            &db,
            &NewRun::directory(11)
                .set("context", "'{\"directory_context_id\": \"dc-42\"}'")
                .sql(),
        )
        .await;
        accepted(
            &db,
            &NewRun::directory(12)
                .set(
                    "context",
                    &format!(
                        "'{{\"entra_tenant_id\": \"{}\", \"directory_context_id\": \"dc-1\"}}'",
                        GUID.to_uppercase()
                    ),
                )
                .sql(),
        )
        .await;
        // A type that does not target a directory needs no scope.
        accepted(&db, &NewRun::valid(13).sql()).await;
    }
}

#[tokio::test]
async fn active_run_dedupe_is_tenant_wide() {
    for db in migrated().await {
        let dup_pg = "operation_runs_active_identity_uniq";
        let dup_lite =
            "UNIQUE constraint failed: operation_runs.tenant_id, operation_runs.run_identity_hash";
        let first = NewRun::valid(7).set("initiator_name", "'first'");
        accepted(&db, &first.sql()).await;

        // Queued or running, a second active run with the same identity in the tenant is refused.
        for status in ["'queued'", "'running'"] {
            rejected(
                &db,
                &NewRun::valid(7).set("status", status).sql(),
                dup_pg,
                dup_lite,
            )
            .await;
        }
        // Another tenant may run the same identity; completed runs never collide.
        accepted(&db, &NewRun::valid(7).set("tenant_id", "2").sql()).await;
        accepted(&db, &NewRun::completed(7).sql()).await;

        // Once the first completes, a new active run with that identity is accepted ...
        db.exec(
            "UPDATE operation_runs SET status = 'completed', outcome = 'succeeded', \
             completed_at = '2024-05-01T10:00:00Z' WHERE initiator_name = 'first'",
        )
        .await;
        accepted(
            &db,
            &NewRun::valid(7).set("initiator_name", "'second'").sql(),
        )
        .await;
        // ... and reactivating the completed one would now duplicate it.
        rejected(
            &db,
            "UPDATE operation_runs SET status = 'running', outcome = 'pending', completed_at = NULL \
             WHERE initiator_name = 'first'",
            dup_pg,
            dup_lite,
        )
        .await;
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM operation_runs WHERE tenant_id = 1 AND run_identity_hash = '{}' AND status IN ('queued', 'running')",
                hash(7)
            ))
            .await,
            "1"
        );
    }
}

#[tokio::test]
async fn required_columns_reject_null() {
    for db in migrated().await {
        for (n, column) in [
            "tenant_id",
            "type",
            "status",
            "outcome",
            "run_identity_hash",
            "context",
            "summary_counts",
        ]
        .iter()
        .enumerate()
        {
            let run = NewRun::valid(n as u32).set(column, "NULL");
            let result = db.try_exec(&run.sql()).await;
            assert!(result.is_err(), "{:?} accepted NULL in {column}", db.kind);
        }
    }
}

#[tokio::test]
async fn updates_are_held_to_the_same_rules() {
    for db in migrated().await {
        accepted(
            &db,
            &NewRun::directory(1).set("initiator_name", "'u'").sql(),
        )
        .await;
        rejected(
            &db,
            "UPDATE operation_runs SET status = 'bogus' WHERE initiator_name = 'u'",
            "oprun_status_values",
            "status must be queued, running or completed",
        )
        .await;
        rejected(
            &db,
            "UPDATE operation_runs SET summary_counts = '{\"bogus\": 1}' WHERE initiator_name = 'u'",
            "oprun_summary_counts_canonical|summary key \"bogus\" is not allowed",
            "summary_counts must be an object of canonical keys",
        )
        .await;
        rejected(
            &db,
            "UPDATE operation_runs SET context = '{}' WHERE initiator_name = 'u'",
            "targets a directory",
            "targets a directory",
        )
        .await;
        rejected(
            &db,
            "UPDATE operation_runs SET status = 'completed', outcome = 'succeeded' WHERE initiator_name = 'u'",
            "oprun_completed_has_completed_at",
            "a completed run needs completed_at",
        )
        .await;
        accepted(
            &db,
            "UPDATE operation_runs SET status = 'completed', outcome = 'succeeded', \
             completed_at = '2024-05-01T10:00:00Z', summary_counts = '{\"total\": 3, \"deleted\": 3}' \
             WHERE initiator_name = 'u'",
        )
        .await;
    }
}
