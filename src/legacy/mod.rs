//! The legacy tables and their write guard: which tables are legacy ([`family`]), the SQL that
//! guards one table ([`ddl`]), and what the guard is doing now ([`state`]).

pub mod ddl;
mod family;
mod state;

use serde::{Deserialize, Serialize};

pub use family::{drop_order, Family, FamilyTable};
pub use state::{guarded_phase, inspect, Legacy, Revoked, TableGuard, Verdict, Writer};

use crate::db::{self, Conn};
use crate::error::{Error, Result};

/// The legacy table every family grows from.
pub const ROOT: &str = "bulk_operation_runs";

/// The table that replaces it, named in every refusal.
pub const REPLACEMENT: &str = "operation_runs";

/// The SQLSTATE of a blocked write on PostgreSQL. Class `OP` is used by no SQL standard code and
/// no PostgreSQL code (standard classes start with 0-4 or A-H; PostgreSQL's own are 5x, F0, HV,
/// P0 and XX). SQLite has no SQLSTATE: its messages start with this code instead.
pub const SQLSTATE: &str = "OP001";

/// A write privilege a role holds directly on a legacy table: what `--app-role` revokes.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Privilege {
    pub table: String,
    pub role: String,
    pub privilege: String,
    pub grantable: bool,
}

#[derive(Debug, Deserialize)]
struct Privileges {
    unknown_roles: Vec<String>,
    privileges: Vec<Privilege>,
}

/// The write privileges `roles` hold directly on `tables` (PostgreSQL). An unknown role is a
/// usage error naming it.
pub async fn privileges(
    conn: &mut Conn,
    schema: &str,
    tables: &[String],
    roles: &[String],
) -> Result<Vec<Privilege>> {
    let tables = serde_json::to_string(tables).expect("strings serialize");
    let roles = serde_json::to_string(roles).expect("strings serialize");
    let found: Privileges = db::read(
        conn,
        "read the application roles' privileges",
        include_str!("../../sql/postgres/guard_privileges.sql"),
        &[schema, &tables, &roles],
    )
    .await?;
    if !found.unknown_roles.is_empty() {
        let names: Vec<String> = found
            .unknown_roles
            .iter()
            .map(|r| db::ident::shown(r))
            .collect();
        return Err(Error::usage(format!(
            "--app-role {}: no such role on this server",
            names.join(", ")
        )));
    }
    Ok(found.privileges)
}
