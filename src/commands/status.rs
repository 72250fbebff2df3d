//! `status`: the readiness report. Read-only and cheap (three catalog queries), so it is safe
//! on a replica and fast enough for CI on every deploy.

use serde::Serialize;

use crate::cli::RequiredPhase;
use crate::db::connect::{connect, Access};
use crate::db::retry::RetryPolicy;
use crate::db::Dialect;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::schema::inspect::{inspect_retrying, Inspection};
use crate::schema::migrations;
use crate::schema::plan::{self, Blocker, IndexAction, MigrationRef, Plan};
use crate::settings::Settings;

/// The phases, in order (SPEC §4).
pub const PHASES: [&str; 6] = [
    "not_started",
    "schema_ready",
    "guarded_observe",
    "guarded_enforce",
    "verified",
    "legacy_dropped",
];

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub dialect: Dialect,
    pub schema: String,
    pub phase: String,
    /// The phase the ledger last recorded (`oprun_cutover_state`), if any.
    pub recorded_phase: Option<String>,
    pub schema_ready: bool,
    pub applied: Vec<MigrationRef>,
    pub pending: Vec<Pending>,
    /// Applied migrations that differ from this binary's, or that it does not know.
    pub divergent: Vec<Divergence>,
    pub indexes: Vec<IndexState>,
    pub unvalidated_constraints: Vec<String>,
    pub required: Option<String>,
    pub requirement_met: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct Pending {
    pub version: i32,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct Divergence {
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct IndexState {
    pub name: &'static str,
    /// `valid`, `invalid` or `missing`.
    pub state: &'static str,
}

impl StatusReport {
    pub fn exit_status(&self) -> ExitStatus {
        if !self.divergent.is_empty() || self.requirement_met == Some(false) {
            ExitStatus::No
        } else {
            ExitStatus::Ok
        }
    }
}

pub fn phase_rank(phase: &str) -> usize {
    PHASES.iter().position(|p| *p == phase).unwrap_or(0)
}

fn required_name(required: RequiredPhase) -> &'static str {
    match required {
        RequiredPhase::SchemaReady => "schema_ready",
        RequiredPhase::Guarded => "guarded_enforce",
        RequiredPhase::Verified => "verified",
        RequiredPhase::LegacyDropped => "legacy_dropped",
    }
}

/// Whether `migrate` has brought the target to the canon: every migration applied and none
/// divergent, every constraint validated, every canonical index valid. `status` reports it and
/// the commands that need it (`guard install`) refuse without it.
pub fn schema_ready(inspection: &Inspection, plan: &Plan) -> bool {
    inspection.catalog.runs_exists
        && plan.pending.is_empty()
        && !plan.blockers.iter().any(Blocker::is_drift)
        && plan.validate.is_empty()
        && plan
            .indexes
            .iter()
            .all(|i| i.action == IndexAction::Present)
}

pub async fn run(settings: &Settings, require: Option<RequiredPhase>) -> Result<StatusReport> {
    let mut conn = connect(settings, Access::Read).await?;
    let retry = RetryPolicy::new(&settings.timeouts);
    let inspection = inspect_retrying(&mut conn, &settings.schema, false, &retry).await?;
    let plan = plan::plan(
        &inspection,
        &migrations::embedded(settings.dialect()),
        &settings.schema,
    );

    let divergent: Vec<Divergence> = plan
        .blockers
        .iter()
        .filter(|b| b.is_drift())
        .map(|b| Divergence {
            kind: b.kind,
            message: b.message.clone(),
        })
        .collect();
    let indexes: Vec<IndexState> = plan
        .indexes
        .iter()
        .map(|i| IndexState {
            name: i.name,
            state: match i.action {
                IndexAction::Present => "valid",
                IndexAction::RebuildInvalid => "invalid",
                IndexAction::Build => "missing",
            },
        })
        .collect();
    let schema_ready = schema_ready(&inspection, &plan);
    let phase = match (&inspection.recorded_phase, schema_ready) {
        (_, false) => "not_started".to_string(),
        (Some(recorded), true) if phase_rank(recorded) > phase_rank("schema_ready") => {
            recorded.clone()
        }
        (_, true) => "schema_ready".to_string(),
    };
    // A recorded guarded_* phase stands only while the guard holds (what `guard status` says).
    let phase = if phase.starts_with("guarded_") {
        crate::legacy::guarded_phase(&mut conn, &settings.schema, &phase).await?
    } else {
        phase
    };
    let required = require.map(required_name);
    Ok(StatusReport {
        dialect: settings.dialect(),
        schema: settings.schema.clone(),
        requirement_met: required.map(|r| phase_rank(&phase) >= phase_rank(r)),
        required: required.map(str::to_string),
        phase,
        recorded_phase: inspection.recorded_phase.clone(),
        schema_ready,
        applied: plan.applied,
        pending: plan
            .pending
            .into_iter()
            .map(|p| Pending {
                version: p.version,
                name: p.name,
            })
            .collect(),
        divergent,
        indexes,
        unvalidated_constraints: plan.validate,
    })
}
