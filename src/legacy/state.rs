//! What the guard is doing right now, table by table, read from `oprun_guard_state` (the view
//! migration V4 creates, which plain-SQL monitoring reads too) and judged as one verdict.
//! Read-only: safe on a hot standby.

use serde::{Deserialize, Serialize};

use super::family::{self, Family};
use crate::db::{self, dialect_sql, Conn};
use crate::error::Result;

/// One legacy table's guard, as `oprun_guard_state` shows it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TableGuard {
    pub table: String,
    pub source: String,
    /// The mode `guard install` last set; None when it never ran on this table.
    pub intended_mode: Option<String>,
    pub table_exists: bool,
    /// The mode the triggers on the table implement: `enforce`, `observe`, or None.
    pub mode: Option<String>,
    /// `always` (fires for every session), `origin`, `replica`, `disabled`, or, for observe
    /// mode, `incomplete` / `not_always`. None when no guard trigger exists.
    pub trigger_enabled: Option<String>,
    /// Blocked write statements, counted outside transactions. Always None on SQLite, which
    /// cannot count them; None on PostgreSQL when the counter is missing or unreadable.
    pub blocked_count: Option<i64>,
    pub last_blocked_at: Option<String>,
    /// Observe mode: writes recorded (statements on PostgreSQL, rows on SQLite).
    pub observed_writes: i64,
    pub observed_rows: Option<i64>,
    pub last_observed_at: Option<String>,
    /// Privileges `--app-role` revoked on this table.
    pub revoked: Vec<Revoked>,
    /// Every write to the table is blocked and counted (or the table is gone).
    pub holds: bool,
    /// Why the guard does not hold, when it does not.
    pub problem: Option<String>,
}

impl TableGuard {
    /// The guard is installed exactly as `mode` asks: nothing to do for this table.
    pub fn is_installed_as(&self, mode: &str) -> bool {
        self.intended_mode.as_deref() == Some(mode)
            && self.mode.as_deref() == Some(mode)
            && match mode {
                "enforce" => self.holds,
                _ => self.is_observing(),
            }
    }

    /// Observe mode, complete: every write is recorded.
    pub fn is_observing(&self) -> bool {
        self.mode.as_deref() == Some("observe") && self.trigger_enabled.as_deref() == Some("always")
    }

    fn missing(table: &str, source: &str, guard_schema: bool) -> TableGuard {
        TableGuard {
            table: table.to_string(),
            source: source.to_string(),
            intended_mode: None,
            table_exists: true,
            mode: None,
            trigger_enabled: None,
            blocked_count: None,
            last_blocked_at: None,
            observed_writes: 0,
            observed_rows: None,
            last_observed_at: None,
            revoked: Vec::new(),
            holds: false,
            problem: Some(if guard_schema {
                "no guard installed: writes are neither blocked nor recorded".to_string()
            } else {
                "no guard installed (the guard's objects do not exist yet: run migrate, then guard install)".to_string()
            }),
        }
    }
}

/// A privilege `guard install --app-role` revoked, with what the catalog says of it now.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Revoked {
    pub role: String,
    pub privilege: String,
    pub grantable: bool,
    pub role_exists: bool,
    /// The role can still use the privilege (through another role, PUBLIC or another grantor).
    pub effective: bool,
}

/// Who wrote to a legacy table while the guard was observing.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Writer {
    pub table: String,
    pub operation: String,
    pub role: Option<String>,
    pub login_role: Option<String>,
    pub application_name: Option<String>,
    pub writes: i64,
    pub rows: Option<i64>,
    pub first_at: String,
    pub last_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuardRows {
    pub tables: Vec<TableGuard>,
    pub writers: Vec<Writer>,
}

/// The whole picture: the family, and the guard on it.
#[derive(Debug, Clone)]
pub struct Legacy {
    /// The --schema exists: without it there is no family, but also nothing to call dropped.
    pub schema_exists: bool,
    pub family: Family,
    /// False before migrate has created the guard's objects (V4).
    pub guard_schema: bool,
    /// Rows of every table the guard was installed on (also tables no longer in the family).
    pub guard: GuardRows,
}

/// The guard as one answer, for `guard status` and the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every family table blocks and counts every write.
    Enforced,
    /// Every family table is guarded, some only observe (writes still allowed).
    Observing,
    /// Some tables are guarded, others are not, or a guard is broken.
    Partial,
    NotInstalled,
    /// No legacy table exists.
    Dropped,
}

impl Verdict {
    pub fn holds(self) -> bool {
        matches!(self, Verdict::Enforced | Verdict::Dropped)
    }
}

impl Legacy {
    /// One row per family table, in drop order: the guard's, or one saying none is installed.
    pub fn tables(&self) -> Vec<TableGuard> {
        self.family
            .drop_order
            .iter()
            .map(|name| {
                let source = self.family.table(name).map_or("option", |t| &t.source);
                match self.row(name) {
                    Some(row) => TableGuard {
                        source: source.to_string(),
                        ..row.clone()
                    },
                    None => TableGuard::missing(name, source, self.guard_schema),
                }
            })
            .collect()
    }

    pub fn row(&self, table: &str) -> Option<&TableGuard> {
        self.guard.tables.iter().find(|t| t.table == table)
    }

    pub fn verdict(&self) -> Verdict {
        if self.family.dropped {
            return Verdict::Dropped;
        }
        let tables = self.tables();
        if tables.iter().all(|t| t.holds) {
            Verdict::Enforced
        } else if tables.iter().all(|t| t.holds || t.is_observing()) {
            Verdict::Observing
        } else if tables.iter().all(|t| t.mode.is_none()) {
            Verdict::NotInstalled
        } else {
            Verdict::Partial
        }
    }
}

/// Read the family and its guard. `named` are the --legacy-table names; tables named on an
/// earlier `guard install` are remembered by the guard and included without being named again.
/// Two catalog queries, a third only when a remembered table joins.
pub async fn inspect(conn: &mut Conn, schema: &str, named: &[String]) -> Result<Legacy> {
    let mut found = family::find(conn, schema, named).await?;
    let guard = if found.guard_schema {
        db::read(
            conn,
            "read the guard state",
            dialect_sql!(conn, "guard_state"),
            &[],
        )
        .await?
    } else {
        GuardRows::default()
    };
    let mut all = named.to_vec();
    all.extend(
        guard
            .tables
            .iter()
            .filter(|t| t.table_exists && !found.tables.iter().any(|f| f.name == t.table))
            .map(|t| t.table.clone()),
    );
    if all.len() > named.len() {
        found = family::find(conn, schema, &all).await?;
    }
    family::refuse_missing(&found, named)?;
    Ok(Legacy {
        schema_exists: found.schema_exists,
        guard_schema: found.guard_schema,
        family: Family::new(found.tables),
        guard,
    })
}

/// The phase the guard supports, for `status`: a recorded `guarded_*` phase stands only while
/// the guard does; a guard lifted or broken by hand falls back to `schema_ready`.
pub async fn guarded_phase(conn: &mut Conn, schema: &str, recorded: &str) -> Result<String> {
    let legacy = inspect(conn, schema, &[]).await?;
    Ok(match legacy.verdict() {
        Verdict::Enforced => "guarded_enforce",
        Verdict::Observing => "guarded_observe",
        Verdict::Dropped => recorded,
        Verdict::Partial | Verdict::NotInstalled => "schema_ready",
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::FamilyTable;

    fn guard(table: &str, mode: Option<&str>, holds: bool) -> TableGuard {
        TableGuard {
            intended_mode: mode.map(str::to_string),
            mode: mode.map(str::to_string),
            trigger_enabled: mode.map(|_| "always".to_string()),
            holds,
            problem: (!holds).then(|| "observe mode".to_string()),
            ..TableGuard::missing(table, "root", true)
        }
    }

    fn legacy(rows: Vec<TableGuard>) -> Legacy {
        Legacy {
            family: Family::new(
                ["a", "b"]
                    .iter()
                    .map(|n| FamilyTable {
                        name: n.to_string(),
                        source: "option".to_string(),
                        references: Vec::new(),
                    })
                    .collect(),
            ),
            schema_exists: true,
            guard_schema: true,
            guard: GuardRows {
                tables: rows,
                writers: Vec::new(),
            },
        }
    }

    #[test]
    fn verdicts() {
        let enforce = |t| guard(t, Some("enforce"), true);
        let observe = |t| guard(t, Some("observe"), false);
        assert_eq!(
            legacy(vec![enforce("a"), enforce("b")]).verdict(),
            Verdict::Enforced
        );
        assert_eq!(
            legacy(vec![enforce("a"), observe("b")]).verdict(),
            Verdict::Observing
        );
        assert_eq!(legacy(vec![enforce("a")]).verdict(), Verdict::Partial);
        assert_eq!(legacy(vec![]).verdict(), Verdict::NotInstalled);
        let mut gone = legacy(vec![]);
        gone.family = Family::new(Vec::new());
        assert_eq!(gone.verdict(), Verdict::Dropped);
        assert!(Verdict::Dropped.holds() && !Verdict::Observing.holds());
    }
}
