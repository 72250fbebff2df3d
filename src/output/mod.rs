//! Rendering: every command's report as human text or as exactly one JSON document, written
//! to any `io::Write` so tests capture it. Nothing else in the crate writes to stdout.

mod fingerprint;
mod guard;
mod human;
pub mod log;
mod migrate;
mod plan;
pub mod progress;
mod status;

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::Format;
use crate::commands::fingerprint::FingerprintReport;
use crate::commands::guard::{
    install::GuardInstallReport, remove::GuardRemoveReport, status::GuardStatusReport,
};
use crate::commands::migrate::MigrateReport;
use crate::commands::status::StatusReport;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::schema::plan::Plan;

/// Version of the JSON envelope; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The result of one command, whichever it was.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Report {
    Plan(Plan),
    Migrate(MigrateReport),
    Status(StatusReport),
    Fingerprint(FingerprintReport),
    GuardInstall(GuardInstallReport),
    GuardStatus(GuardStatusReport),
    GuardRemove(GuardRemoveReport),
}

impl Report {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Report::Plan(_) | Report::Migrate(_) | Report::Fingerprint(_) => ExitStatus::Ok,
            Report::Status(s) => s.exit_status(),
            Report::GuardInstall(_) | Report::GuardRemove(_) => ExitStatus::Ok,
            Report::GuardStatus(s) => s.exit_status(),
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    schema_version: u32,
    command: &'a str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

#[derive(Serialize)]
struct ErrorBody {
    kind: &'static str,
    message: String,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<serde_json::Value>,
}

/// Write the outcome. `scrub` removes secrets from any text that came from outside (driver
/// messages); it is applied to the whole rendered output as a last line of defence.
pub fn render(
    format: Format,
    command: &str,
    outcome: &Result<Report, Error>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    scrub: &dyn Fn(&str) -> String,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let envelope = match outcome {
                Ok(report) => Envelope {
                    schema_version: SCHEMA_VERSION,
                    command,
                    ok: report.exit_status() == ExitStatus::Ok,
                    data: Some(report),
                    error: None,
                },
                Err(err) => Envelope {
                    schema_version: SCHEMA_VERSION,
                    command,
                    ok: false,
                    data: None,
                    error: Some(ErrorBody {
                        kind: err.kind(),
                        message: err.to_string(),
                        exit_code: err.status().code(),
                        details: err.details(),
                    }),
                },
            };
            let text = serde_json::to_string_pretty(&envelope).map_err(io::Error::other)?;
            writeln!(stdout, "{}", scrub(&text))
        }
        Format::Human => match outcome {
            Ok(report) => {
                let mut buffer = Vec::new();
                match report {
                    Report::Plan(plan) => plan::write_plan(plan, &mut buffer)?,
                    Report::Migrate(report) => migrate::write_migrate(report, &mut buffer)?,
                    Report::Status(report) => status::write_status(report, &mut buffer)?,
                    Report::Fingerprint(report) => {
                        fingerprint::write_fingerprint(report, &mut buffer)?
                    }
                    Report::GuardInstall(report) => guard::write_install(report, &mut buffer)?,
                    Report::GuardStatus(report) => guard::write_status(report, &mut buffer)?,
                    Report::GuardRemove(report) => guard::write_remove(report, &mut buffer)?,
                }
                stdout.write_all(scrub(&String::from_utf8_lossy(&buffer)).as_bytes())
            }
            Err(err) => {
                let mut buffer = format!("error: {command}: {err}\n").into_bytes();
                human::write_error_details(err, &mut buffer)?;
                stderr.write_all(scrub(&String::from_utf8_lossy(&buffer)).as_bytes())
            }
        },
    }
}
