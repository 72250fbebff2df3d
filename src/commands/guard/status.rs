//! `guard status`: what on-call runs. Per legacy table, whether every write is blocked and
//! counted, and why not. Read-only (no lock, no temporary table, no write): safe on a hot
//! standby. Two catalog queries.

use serde::Serialize;

use super::{legacy_of, named_tables};
use crate::cli::LegacyArgs;
use crate::db::connect::{connect, Access};
use crate::db::Dialect;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::legacy::{Family, TableGuard, Verdict, Writer};
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct GuardStatusReport {
    pub dialect: Dialect,
    pub schema: String,
    pub state: Verdict,
    /// Every legacy table blocks and counts writes, or the tables are dropped.
    pub holds: bool,
    /// One per legacy table, in drop order.
    pub tables: Vec<TableGuard>,
    /// Who wrote to the legacy tables while the guard observed, most recent first (50 at most).
    pub writers: Vec<Writer>,
    pub family: Family,
    pub notes: Vec<String>,
}

impl GuardStatusReport {
    pub fn exit_status(&self) -> ExitStatus {
        if self.holds {
            ExitStatus::Ok
        } else {
            ExitStatus::No
        }
    }
}

pub async fn run(settings: &Settings, args: &LegacyArgs) -> Result<GuardStatusReport> {
    let named = named_tables(args)?;
    let mut conn = connect(settings, Access::Read).await?;
    let legacy = legacy_of(settings, &mut conn, &named).await?;
    let state = legacy.verdict();
    let mut notes = Vec::new();
    if settings.dialect() == Dialect::Sqlite && !legacy.family.dropped {
        notes.push(
            "SQLite cannot count blocked writes: a refused write rolls back with its statement and SQLite keeps nothing outside transactions, so blocked_count is null, not 0"
                .to_string(),
        );
    }
    Ok(GuardStatusReport {
        dialect: settings.dialect(),
        schema: settings.schema.clone(),
        state,
        holds: state.holds(),
        tables: legacy.tables(),
        writers: legacy.guard.writers,
        family: legacy.family,
        notes,
    })
}
