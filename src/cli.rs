//! Command-line arguments: clap derive only. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Perform and prove the cutover from the legacy `bulk_operation_runs` tables to the canonical
/// `operation_runs` table: migrate, guard, verify, drop, and report readiness.
///
/// Exit codes: 0 ok; 1 the answer is no; 2 usage error; 3 cannot connect; 4 run lock held or lock
/// deadline exhausted; 5 a step failed, the database needs attention; 6 refused, nothing changed;
/// 101 bug.
#[derive(Debug, Parser)]
#[command(
    name = "oprun-cutover",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database to act on: postgres://…, postgresql://… or sqlite:PATH. The value is never
    /// printed; passwords are redacted in every message.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// Schema holding operation_runs and the legacy tables [default: public on PostgreSQL,
    /// main on SQLite]. A plain lowercase identifier.
    #[arg(long, global = true, value_name = "NAME")]
    pub schema: Option<String>,

    /// Output format: human text, or exactly one JSON document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// How long one statement may wait for a table lock before it gives up and retries (the
    /// session's lock_timeout, for reads too: nothing waits behind a lock unbounded).
    #[arg(long, global = true, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,

    /// Overall budget for waiting: run lock, lock retries with backoff. Past it the run stops
    /// and names the sessions in the way.
    #[arg(long, global = true, default_value = "60s", value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: std::time::Duration,

    /// How long to wait for the database to accept the connection.
    #[arg(long, global = true, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: std::time::Duration,

    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less output on stderr: only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Never draw progress bars (they are also hidden for JSON output and non-terminal stderr).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dry run: show the pending migrations with their SQL, the column changes, index builds and
    /// constraint validations that `migrate` would perform, and any existing rows that block it.
    /// Changes nothing (runs in a read-only transaction).
    Plan,

    /// Apply pending migrations, then build the canonical indexes (concurrently on PostgreSQL)
    /// and validate the constraints. Safe to re-run; resumes after a crash.
    Migrate,

    /// Report readiness: applied, pending and divergent migrations, and the cutover phase.
    Status(StatusArgs),

    /// The write guard on the legacy tables (bulk_operation_runs, every table that references
    /// it by foreign key, and --legacy-table): install or switch it, check it, or lift it.
    Guard(GuardArgs),

    /// Compute ids_hash or query_hash and run_identity_hash exactly as the application must
    /// (docs/identity.md). Needs no database.
    Fingerprint(FingerprintArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit 1 unless the database has reached at least this phase.
    #[arg(long, value_enum, value_name = "PHASE")]
    pub require: Option<RequiredPhase>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).args(["ids", "ids_file", "query", "query_file"])))]
pub struct FingerprintArgs {
    /// Operation type, a registry id such as policy_version.prune.
    #[arg(long = "type", value_name = "TYPE")]
    pub op_type: String,

    /// Target scope: the Entra tenant GUID (normalized to lowercase).
    #[arg(long, value_name = "GUID")]
    pub entra_tenant_id: Option<String>,

    /// Target scope: the internal directory context id. Give this, the tenant id, or both.
    #[arg(long, value_name = "ID")]
    pub directory_context_id: Option<String>,

    /// Explicit selection: comma-separated ids, e.g. 1,2,3.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub ids: Option<String>,

    /// Explicit selection from a file of one id per line ("-" reads stdin).
    #[arg(long, value_name = "PATH")]
    pub ids_file: Option<PathBuf>,

    /// Query selection: the filter payload, a JSON object.
    #[arg(long, value_name = "JSON")]
    pub query: Option<String>,

    /// Query selection from a file holding the JSON object ("-" reads stdin).
    #[arg(long, value_name = "PATH")]
    pub query_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GuardArgs {
    #[command(subcommand)]
    pub command: GuardCommand,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Install the guard on every legacy table, or switch its mode. enforce: every INSERT,
    /// UPDATE, DELETE, TRUNCATE and COPY fails with SQLSTATE OP001 and is counted, even with
    /// session_replication_role = replica (SQLite: written rows are refused, not counted).
    /// observe: writes go through and are recorded (table, operation, role, application_name,
    /// rows). Needs `migrate` first; safe to re-run, and a re-run completes an interrupted
    /// install.
    Install(GuardInstallArgs),

    /// Per legacy table: guard present, enabled ALWAYS, mode, blocked-write count and last hit,
    /// observed writers, revoked roles; and the drop order. Read-only, safe on a standby. Exit 0
    /// when every table blocks writes (or the tables are dropped), 1 otherwise.
    Status(LegacyArgs),

    /// Lift the guard and grant back the privileges --app-role revoked: the rollback path
    /// before the drop. Refused once the legacy tables are dropped.
    Remove(LegacyArgs),
}

#[derive(Debug, Args)]
pub struct GuardInstallArgs {
    /// enforce blocks and counts every write; observe lets writes through and records who
    /// made them, to find the remaining writers first.
    #[arg(long, value_enum, default_value_t = GuardMode::Enforce)]
    pub mode: GuardMode,

    /// Also revoke INSERT, UPDATE, DELETE and TRUNCATE on the legacy tables from this role
    /// (repeatable; PostgreSQL). `guard remove` grants back exactly what was revoked.
    #[arg(long = "app-role", value_name = "ROLE")]
    pub app_roles: Vec<String>,

    #[command(flatten)]
    pub legacy: LegacyArgs,
}

/// The legacy tables beyond bulk_operation_runs and its foreign-key family.
#[derive(Debug, Args)]
pub struct LegacyArgs {
    /// Also treat this table as legacy, with every table referencing it (repeatable). Once
    /// guarded it is remembered: later commands need not name it again.
    #[arg(long = "legacy-table", value_name = "NAME")]
    pub tables: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuardMode {
    Observe,
    Enforce,
}

/// The phases `status --require` can gate on, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum RequiredPhase {
    SchemaReady,
    Guarded,
    Verified,
    LegacyDropped,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|err| format!("{err} (write a duration such as 500ms, 2s or 5m)"))
}
