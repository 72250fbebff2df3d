//! The plan as a pure function of an inspection: what is refused, converted, kept or built.

use refinery_core::Migration;

use super::*;
use crate::schema::inspect::{Catalog, CatalogColumn, CatalogIndex};
use crate::schema::migrations::embedded;

fn catalog(columns: &[(&str, &str)]) -> Catalog {
    Catalog {
        schema_exists: true,
        read_only: false,
        in_recovery: false,
        history_exists: false,
        runs_exists: !columns.is_empty(),
        registry_exists: false,
        ledger_exists: false,
        row_estimate: -1,
        columns: columns
            .iter()
            .map(|(name, data_type)| CatalogColumn {
                name: name.to_string(),
                data_type: data_type.to_string(),
                not_null: false,
            })
            .collect(),
        indexes: Vec::new(),
        unvalidated: Vec::new(),
    }
}

fn inspection(catalog: Catalog, applied: Vec<Migration>) -> Inspection {
    Inspection {
        dialect: Dialect::Postgres,
        catalog,
        applied,
        violations: Vec::new(),
        duplicates: Duplicates::default(),
        unregistered_types: Vec::new(),
        recorded_phase: None,
    }
}

fn applied(version: i32, checksum: u64) -> Migration {
    let m = &embedded(Dialect::Postgres)[(version - 1) as usize];
    Migration::applied(
        version,
        m.name().to_string(),
        time::OffsetDateTime::UNIX_EPOCH,
        checksum,
    )
}

const OLDER_SHAPE: [(&str, &str); 10] = [
    ("id", "bigint"),
    ("tenant_id", "bigint"),
    ("type", "character varying(100)"),
    ("status", "character varying(20)"),
    ("outcome", "text"),
    ("run_identity_hash", "character varying(64)"),
    ("context", "json"),
    ("summary_counts", "jsonb"),
    ("completed_at", "timestamp with time zone"),
    ("legacy_note", "text"),
];

#[test]
fn fresh_database_applies_everything_and_builds_every_index() {
    let plan = plan(
        &inspection(catalog(&[]), Vec::new()),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert!(plan.blockers.is_empty());
    assert_eq!(plan.pending.len(), embedded(Dialect::Postgres).len());
    assert!(plan.indexes.iter().all(|i| i.action == IndexAction::Build));
    assert!(!plan.adopting);
    assert!(!plan.is_converged());
}

#[test]
fn older_shape_is_adopted_column_by_column() {
    let plan = plan(
        &inspection(catalog(&OLDER_SHAPE), Vec::new()),
        &embedded(Dialect::Postgres),
        "app",
    );
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert!(plan.adopting);
    let action = |name: &str| {
        plan.columns
            .iter()
            .find(|c| c.column == name)
            .map(|c| c.action)
    };
    assert_eq!(action("status"), Some(ColumnAction::Convert));
    assert_eq!(action("type"), Some(ColumnAction::Convert));
    assert_eq!(action("context"), Some(ColumnAction::Keep));
    assert_eq!(action("run_identity_hash"), Some(ColumnAction::Keep));
    assert_eq!(action("failure_summary"), Some(ColumnAction::Add));
    assert_eq!(action("outcome"), None, "already canonical");
    let add = plan
        .columns
        .iter()
        .find(|c| c.column == "created_at")
        .unwrap();
    assert_eq!(add.sql.as_deref(), Some("ALTER TABLE \"app\".operation_runs ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now()"));
    assert_eq!(plan.app_columns, vec!["legacy_note".to_string()]);
}

#[test]
fn a_missing_required_column_or_an_unusable_type_refuses() {
    let without_outcome: Vec<_> = OLDER_SHAPE
        .iter()
        .copied()
        .filter(|(n, _)| *n != "outcome")
        .collect();
    let plan1 = plan(
        &inspection(catalog(&without_outcome), Vec::new()),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert_eq!(
        plan1.blockers.iter().map(|b| b.kind).collect::<Vec<_>>(),
        ["missing_required_column"]
    );

    let mut uuid_tenant = OLDER_SHAPE.to_vec();
    uuid_tenant[1] = ("tenant_id", "uuid");
    let plan2 = plan(
        &inspection(catalog(&uuid_tenant), Vec::new()),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert_eq!(plan2.blockers[0].kind, "type_conflict");
    assert!(plan2.blockers[0]
        .message
        .contains("ALTER TABLE operation_runs ALTER COLUMN tenant_id TYPE bigint"));
}

#[test]
fn an_edited_migration_names_both_checksums() {
    let ours = embedded(Dialect::Postgres)[1].checksum();
    let plan = plan(
        &inspection(
            catalog(&[]),
            vec![
                applied(1, embedded(Dialect::Postgres)[0].checksum()),
                applied(2, 42),
            ],
        ),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert_eq!(plan.blockers.len(), 1);
    assert_eq!(plan.blockers[0].kind, "migration_edited");
    assert!(plan.blockers[0].message.contains("checksum 42"));
    assert!(plan.blockers[0]
        .message
        .contains(&format!("checksum {ours}")));
    assert_eq!(
        plan.pending.iter().map(|m| m.version).collect::<Vec<_>>(),
        (3..=embedded(Dialect::Postgres).len() as i32).collect::<Vec<_>>()
    );
}

#[test]
fn a_database_ahead_of_the_binary_refuses() {
    let plan = plan(
        &inspection(
            catalog(&[]),
            vec![
                applied(1, embedded(Dialect::Postgres)[0].checksum()),
                Migration::applied(99, "future".into(), time::OffsetDateTime::UNIX_EPOCH, 1),
            ],
        ),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert_eq!(plan.blockers[0].kind, "database_ahead");
    assert!(plan.blockers[0].message.contains("V99__future"));
}

#[test]
fn standby_and_read_only_refuse() {
    let mut standby = catalog(&[]);
    standby.in_recovery = true;
    assert_eq!(
        plan(
            &inspection(standby, Vec::new()),
            &embedded(Dialect::Postgres),
            "public"
        )
        .blockers[0]
            .kind,
        "read_only"
    );
    let mut read_only = catalog(&[]);
    read_only.read_only = true;
    assert_eq!(
        plan(
            &inspection(read_only, Vec::new()),
            &embedded(Dialect::Postgres),
            "public"
        )
        .blockers[0]
            .kind,
        "read_only"
    );
}

#[test]
fn an_invalid_index_is_rebuilt_and_a_valid_one_kept() {
    let mut with_indexes = catalog(&OLDER_SHAPE);
    with_indexes.indexes = vec![
        CatalogIndex {
            name: canon::ACTIVE_RUN_INDEX.to_string(),
            valid: false,
        },
        CatalogIndex {
            name: "operation_runs_tenant_created_idx".to_string(),
            valid: true,
        },
    ];
    let plan = plan(
        &inspection(with_indexes, Vec::new()),
        &embedded(Dialect::Postgres),
        "public",
    );
    assert_eq!(plan.indexes[0].action, IndexAction::RebuildInvalid);
    assert_eq!(plan.indexes[1].action, IndexAction::Present);
    assert!(
        !plan.indexes[0].sql.contains("IF NOT EXISTS"),
        "an INVALID leftover must not be accepted"
    );
}
