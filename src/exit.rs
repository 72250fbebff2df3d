//! The exit-code table: the only place exit numbers appear.
//!
//! This is a contract with CI scripts and release engineers; README.md and RUNBOOK.md carry the
//! same table and a test keeps them in step.

use std::process::ExitCode;

/// Why the process ended, as a number a caller can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// The command did what was asked, or the state holds.
    Ok,
    /// The answer is no: a check failed, the target is not ready, or the schema drifted.
    No,
    /// Usage or configuration error: nothing was attempted.
    Usage,
    /// Cannot connect to or authenticate with the database.
    Connect,
    /// Another run holds the run lock, or the lock deadline ran out.
    Locked,
    /// A migration or step failed and the database needs attention.
    Failed,
    /// Refused before changing anything: a precondition is unmet.
    Refused,
    /// A bug in the tool (a panic).
    Bug,
}

impl ExitStatus {
    /// Every status, in table order (used by the docs test).
    pub const ALL: [ExitStatus; 8] = [
        ExitStatus::Ok,
        ExitStatus::No,
        ExitStatus::Usage,
        ExitStatus::Connect,
        ExitStatus::Locked,
        ExitStatus::Failed,
        ExitStatus::Refused,
        ExitStatus::Bug,
    ];

    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::No => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Connect => 3,
            ExitStatus::Locked => 4,
            ExitStatus::Failed => 5,
            ExitStatus::Refused => 6,
            ExitStatus::Bug => 101,
        }
    }

    /// The one-line meaning, as README.md and RUNBOOK.md print it.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitStatus::Ok => "ok: the command succeeded or the state holds",
            ExitStatus::No => "the answer is no: a check failed, not ready, or drift",
            ExitStatus::Usage => "usage or configuration error",
            ExitStatus::Connect => "cannot connect or authenticate",
            ExitStatus::Locked => "run lock held by another run, or lock deadline exhausted",
            ExitStatus::Failed => "a migration or step failed; the database needs attention",
            ExitStatus::Refused => "refused: a precondition is unmet, nothing was changed",
            ExitStatus::Bug => "bug in oprun-cutover (panic); please report it",
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}
