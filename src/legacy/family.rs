//! The legacy family: `bulk_operation_runs`, every table that references a family table by
//! foreign key (found in the catalog, recursively), and the tables named with `--legacy-table`;
//! and the order they would be dropped in, children first.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::db::{self, dialect_sql, Conn};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FamilyTable {
    pub name: String,
    /// How the table joined the family: `root` (bulk_operation_runs), `foreign_key` (it
    /// references a family table), or `option` (named with --legacy-table).
    pub source: String,
    /// The other family tables it references by foreign key.
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Family {
    /// No legacy table exists: already dropped (or never created). A normal state.
    pub dropped: bool,
    /// By name.
    pub tables: Vec<FamilyTable>,
    /// The order `drop` removes them in: every table before the tables it references.
    pub drop_order: Vec<String>,
}

impl Family {
    pub fn new(tables: Vec<FamilyTable>) -> Family {
        Family {
            dropped: tables.is_empty(),
            drop_order: drop_order(&tables),
            tables,
        }
    }

    pub fn table(&self, name: &str) -> Option<&FamilyTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// What the catalog says, as `sql/<dialect>/legacy_family.sql` returns it.
#[derive(Debug, Deserialize)]
pub(super) struct Found {
    /// The schema exists (always, on SQLite).
    pub schema_exists: bool,
    /// The guard's objects (migration V4) exist.
    pub guard_schema: bool,
    pub tables: Vec<FamilyTable>,
    /// Named tables that do not exist.
    pub missing: Vec<String>,
}

/// Read the family of `schema` with the extra tables `named`. One catalog query.
pub(super) async fn find(conn: &mut Conn, schema: &str, named: &[String]) -> Result<Found> {
    let named = serde_json::to_string(named).expect("strings serialize");
    db::read(
        conn,
        "discover the legacy family",
        dialect_sql!(conn, "legacy_family"),
        &[schema, &named],
    )
    .await
}

/// A table named with --legacy-table that does not exist is a usage error, unless the whole
/// family is gone (then the same command line keeps working after the drop).
pub(super) fn refuse_missing(found: &Found, named: &[String]) -> Result<()> {
    let missing: Vec<String> = found
        .missing
        .iter()
        .filter(|m| named.contains(m))
        .map(|m| db::ident::shown(m))
        .collect();
    if missing.is_empty() || found.tables.is_empty() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--legacy-table {}: no such table in the schema (the legacy family is {})",
        missing.join(", "),
        found
            .tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// Children first: a table comes before every table it references, so `DROP ... RESTRICT` never
/// meets a foreign key. Ties (and any reference cycle, which no order satisfies) go by name, so
/// the order is the same on every run.
pub fn drop_order(tables: &[FamilyTable]) -> Vec<String> {
    // For each table, the family tables that still reference it (must be dropped before it).
    let mut referenced_by: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.name.as_str(), BTreeSet::new()))
        .collect();
    for t in tables {
        for parent in &t.references {
            if parent != &t.name {
                if let Some(children) = referenced_by.get_mut(parent.as_str()) {
                    children.insert(t.name.as_str());
                }
            }
        }
    }
    let mut order = Vec::with_capacity(tables.len());
    while !referenced_by.is_empty() {
        let next = referenced_by
            .iter()
            .find(|(_, children)| children.is_empty())
            .or_else(|| referenced_by.iter().next())
            .map(|(name, _)| *name)
            .expect("not empty");
        referenced_by.remove(next);
        for children in referenced_by.values_mut() {
            children.remove(next);
        }
        order.push(next.to_string());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, references: &[&str]) -> FamilyTable {
        FamilyTable {
            name: name.to_string(),
            source: "foreign_key".to_string(),
            references: references.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn children_come_before_their_parents() {
        let tables = [
            table("bulk_operation_runs", &[]),
            table("bulk_operation_items", &["bulk_operation_runs"]),
            table("item_notes", &["bulk_operation_items", "item_notes"]),
            table("audit", &["bulk_operation_runs", "item_notes"]),
        ];
        assert_eq!(
            drop_order(&tables),
            [
                "audit",
                "item_notes",
                "bulk_operation_items",
                "bulk_operation_runs"
            ]
        );
    }

    #[test]
    fn a_cycle_still_yields_every_table_once() {
        let tables = [table("a", &["b"]), table("b", &["a"]), table("c", &["a"])];
        let order = drop_order(&tables);
        assert_eq!(order.len(), 3);
        assert_eq!(order[0], "c");
    }

    #[test]
    fn an_empty_family_is_dropped() {
        let family = Family::new(Vec::new());
        assert!(family.dropped);
        assert!(family.drop_order.is_empty());
    }
}
