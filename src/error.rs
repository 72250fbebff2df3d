//! Expected failures: each has a stable kind for JSON, an exit status, and a message that
//! reads well after "failed to".

use crate::exit::ExitStatus;

/// A session that blocks us, as reported when a lock deadline runs out. Never carries row data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: String,
    pub state: String,
    /// Seconds since the blocker's transaction (or backend, if idle) started.
    pub xact_age_seconds: f64,
    /// The blocker's current or last query, truncated to 80 characters.
    pub query: String,
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} ({}), {}, transaction open {:.0}s: {}",
            self.pid,
            if self.application_name.is_empty() {
                "no application_name"
            } else {
                &self.application_name
            },
            self.state,
            self.xact_age_seconds,
            self.query
        )
    }
}

fn blockers_line(blockers: &[Blocker]) -> String {
    if blockers.is_empty() {
        return "no blocking session was visible when the deadline ran out".to_string();
    }
    let list: Vec<String> = blockers.iter().map(ToString::to_string).collect();
    format!("blocked by {}", list.join("; "))
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("connect to {target}: {reason}")]
    Connect { target: String, reason: String },

    #[error("acquire the run lock within {deadline}: another oprun-cutover run holds it ({holder}); wait for it to finish or raise --deadline")]
    RunLockHeld { deadline: String, holder: String },

    #[error("{step}: gave up after {attempts} attempts within --deadline {deadline} waiting for a lock; {}; end or wait out those sessions, then re-run (the step is resumable)", blockers_line(.blockers))]
    LockDeadline {
        step: String,
        attempts: u32,
        deadline: String,
        blockers: Vec<Blocker>,
    },

    /// Refused before any change. `details` carries the evidence (offending rows, checksums).
    #[error("{message}")]
    Refused {
        kind: &'static str,
        message: String,
        details: Option<serde_json::Value>,
    },

    /// A step failed part-way; `applied` says what had already committed.
    #[error("{step}: {message}")]
    StepFailed {
        step: String,
        message: String,
        applied: Vec<String>,
    },

    #[error("{context}: {message}")]
    Database {
        context: String,
        message: String,
        /// The server's SQLSTATE, when the error came from the server.
        code: Option<String>,
    },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    pub fn refused(kind: &'static str, message: impl Into<String>) -> Error {
        Error::Refused {
            kind,
            message: message.into(),
            details: None,
        }
    }

    pub fn refused_with(
        kind: &'static str,
        message: impl Into<String>,
        details: serde_json::Value,
    ) -> Error {
        Error::Refused {
            kind,
            message: message.into(),
            details: Some(details),
        }
    }

    /// Wrap a driver error. Only the server's primary message is kept: DETAIL (row values)
    /// never reaches the user by default.
    pub fn database(context: impl Into<String>, err: &sqlx::Error) -> Error {
        Error::Database {
            context: context.into(),
            message: crate::db::describe(err),
            code: crate::db::sqlstate(err),
        }
    }

    /// A lock timeout or deadlock: the step may succeed if tried again.
    pub fn is_lock_conflict(&self) -> bool {
        matches!(self, Error::Database { code: Some(code), .. } if crate::db::retry::RETRYABLE.contains(&code.as_str()))
    }

    pub fn status(&self) -> ExitStatus {
        match self {
            Error::Usage(_) => ExitStatus::Usage,
            Error::Connect { .. } => ExitStatus::Connect,
            Error::RunLockHeld { .. } => ExitStatus::Locked,
            Error::LockDeadline { .. } => ExitStatus::Failed,
            Error::Refused { .. } => ExitStatus::Refused,
            Error::StepFailed { .. } | Error::Database { .. } => ExitStatus::Failed,
        }
    }

    /// The stable machine-readable kind used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Connect { .. } => "connect",
            Error::RunLockHeld { .. } => "run_lock_held",
            Error::LockDeadline { .. } => "lock_deadline",
            Error::Refused { kind, .. } => kind,
            Error::StepFailed { .. } => "step_failed",
            Error::Database { .. } => "database",
        }
    }

    /// Structured evidence for JSON output, when the failure has any.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Error::Refused { details, .. } => details.clone(),
            Error::LockDeadline { blockers, .. } => {
                Some(serde_json::json!({ "blockers": blockers }))
            }
            Error::StepFailed { applied, .. } => Some(serde_json::json!({ "applied": applied })),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
