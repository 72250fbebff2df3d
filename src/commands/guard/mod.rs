//! `guard install`, `guard status`, `guard remove`: the write guard on the legacy tables.

pub mod install;
pub mod remove;
pub mod status;

use crate::cli::LegacyArgs;
use crate::db::retry::RetryPolicy;
use crate::db::{ident, Conn};
use crate::error::{Error, Result};
use crate::legacy::Legacy;
use crate::schema::inspect::{inspect_retrying, Inspection};
use crate::schema::migrations;
use crate::schema::plan::{self, Plan};
use crate::settings::Settings;

/// The --legacy-table names, validated before anything connects. The canonical tables and the
/// tool's own can never be legacy: guarding them would stop the application.
fn named_tables(args: &LegacyArgs) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(args.tables.len());
    for name in &args.tables {
        let name = ident::validate("--legacy-table", name)?;
        if name.starts_with("oprun_")
            || [
                "operation_runs",
                "operation_types",
                "operation_summary_keys",
            ]
            .contains(&name.as_str())
        {
            return Err(Error::usage(format!(
                "--legacy-table {name}: a canonical or oprun-cutover table is never legacy"
            )));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The target as `migrate` left it, read under the run lock; refused when it is read-only.
async fn writable_target(
    settings: &Settings,
    conn: &mut Conn,
    retry: &RetryPolicy,
) -> Result<(Inspection, Plan)> {
    let inspection = inspect_retrying(conn, &settings.schema, false, retry).await?;
    let plan = plan::plan(
        &inspection,
        &migrations::embedded(settings.dialect()),
        &settings.schema,
    );
    if let Some(b) = plan.blockers.iter().find(|b| b.kind == "read_only") {
        return Err(Error::refused(
            "read_only",
            format!("{}; nothing was changed", b.message),
        ));
    }
    Ok((inspection, plan))
}

/// Read the legacy family for a `guard` command: a schema that does not exist is a usage error
/// (most likely a mistyped --schema), never a dropped family that "holds".
async fn legacy_of(settings: &Settings, conn: &mut Conn, named: &[String]) -> Result<Legacy> {
    let legacy = crate::legacy::inspect(conn, &settings.schema, named).await?;
    if !legacy.schema_exists {
        return Err(Error::usage(format!(
            "schema {} does not exist in this database: check --schema",
            ident::shown(&settings.schema)
        )));
    }
    Ok(legacy)
}

fn legacy_dropped(what: &str) -> Error {
    Error::refused(
        "legacy_dropped",
        format!(
            "the legacy tables are dropped (no {} exists, nor any table named with --legacy-table): there is {what}",
            crate::legacy::ROOT
        ),
    )
}
