//! `plan`: the dry run. Inspects the target inside a read-only transaction and returns the
//! same plan `migrate` would carry out, including what would make it refuse.

use crate::db::connect::{connect, Access};
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::legacy;
use crate::schema::inspect::inspect;
use crate::schema::migrations;
use crate::schema::plan::{self, Plan};
use crate::settings::Settings;

pub async fn run(settings: &Settings) -> Result<Plan> {
    let mut conn = connect(settings, Access::Read).await?;
    let begin = match conn {
        Conn::Postgres(_) => "BEGIN READ ONLY",
        Conn::Sqlite(_) => "BEGIN",
    };
    conn.execute_script(begin)
        .await
        .map_err(|e| Error::database("open a read-only transaction", &e))?;
    let inspection = inspect(&mut conn, &settings.schema, true).await;
    let legacy = legacy::inspect(&mut conn, &settings.schema, &[]).await;
    let _ = conn.execute_script("ROLLBACK").await;
    let mut plan = plan::plan(
        &inspection?,
        &migrations::embedded(settings.dialect()),
        &settings.schema,
    );
    plan.legacy = Some(legacy?.family);
    Ok(plan)
}
