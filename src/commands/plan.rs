//! `plan`: the dry run. Inspects the target inside a read-only transaction and returns the
//! same plan `migrate` would carry out, including what would make it refuse.

use crate::db::connect::{connect, Access};
use crate::db::retry::RetryPolicy;
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::legacy::{self, Legacy};
use crate::schema::inspect::{inspect, Inspection};
use crate::schema::migrations;
use crate::schema::plan::{self, Plan};
use crate::settings::Settings;

pub async fn run(settings: &Settings) -> Result<Plan> {
    let mut conn = connect(settings, Access::Preview).await?;
    let retry = RetryPolicy::new(&settings.timeouts);
    let mut attempts = retry.attempts("inspect the target", &["operation_runs"]);
    let (inspection, legacy) = loop {
        match read_only_inspection(settings, &mut conn).await {
            Ok(found) => break found,
            Err(err) => attempts.retry_after_error(err, &mut conn).await?,
        }
    };
    let mut plan = plan::plan(
        &inspection,
        &migrations::embedded(settings.dialect()),
        &settings.schema,
    );
    plan.legacy = Some(legacy.family);
    Ok(plan)
}

/// One consistent read of the target in a read-only transaction: the guarantee that `plan`
/// changes nothing does not rest on our own SQL alone.
async fn read_only_inspection(
    settings: &Settings,
    conn: &mut Conn,
) -> Result<(Inspection, Legacy)> {
    let begin = match conn {
        Conn::Postgres(_) => "BEGIN READ ONLY",
        Conn::Sqlite(_) => "BEGIN",
    };
    conn.execute_script(begin)
        .await
        .map_err(|e| Error::database("open a read-only transaction", &e))?;
    let read = async {
        let inspection = inspect(conn, &settings.schema, true).await?;
        Ok((
            inspection,
            legacy::inspect(conn, &settings.schema, &[]).await?,
        ))
    }
    .await;
    let _ = conn.execute_script("ROLLBACK").await;
    read
}
