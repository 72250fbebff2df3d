//! `oprun-cutover` performs and proves the cutover from the legacy `bulk_operation_runs` tables
//! to the canonical `operation_runs` table: versioned migrations, a write guard on the legacy
//! tables, verification, the drop, and a readiness report that CI can gate on.
//!
//! Module map:
//! - [`cli`] arguments (clap), [`settings`] their resolution with every default;
//! - [`commands`] one module per subcommand, each returning a report;
//! - [`schema`] the canon, inspection of a target, and the plan between them;
//! - [`db`] connections, the run lock, lock-timeout retries, the refinery adapter, the ledger;
//! - [`legacy`] the legacy tables and their write guard;
//! - [`output`] human and JSON rendering; [`exit`] and [`error`] the failure contract.

pub mod cli;
pub mod commands;
pub mod db;
pub mod error;
pub mod exit;
pub mod identity;
pub mod legacy;
pub mod output;
pub mod schema;
pub mod settings;

use std::io::Write;

use cli::{Cli, Command, GuardCommand};
use error::Error;
use exit::ExitStatus;
use output::Report;
use settings::Settings;

/// Run one command to completion and render its outcome. Callable more than once per process
/// (tests do): no global state.
pub async fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    let command = command_name(&cli.command);
    let url = cli
        .global
        .database_url
        .as_deref()
        .and_then(|u| db::url::DatabaseUrl::parse(u).ok());
    let scrub = |text: &str| match &url {
        Some(url) => url.scrub(text),
        None => text.to_string(),
    };
    let outcome = execute(&cli).await;
    let status = match &outcome {
        Ok(report) => report.exit_status(),
        Err(err) => err.status(),
    };
    if output::render(cli.global.format, command, &outcome, stdout, stderr, &scrub).is_err() {
        // stdout closed (e.g. piped into `head`): the exit status still tells the story.
    }
    status
}

async fn execute(cli: &Cli) -> Result<Report, Error> {
    // Resolved per command: `fingerprint` needs no database.
    let settings = || Settings::resolve(&cli.global);
    Ok(match &cli.command {
        Command::Plan => Report::Plan(commands::plan::run(&settings()?).await?),
        Command::Migrate => Report::Migrate(commands::migrate::run(&settings()?).await?),
        Command::Status(args) => {
            Report::Status(commands::status::run(&settings()?, args.require).await?)
        }
        Command::Fingerprint(args) => Report::Fingerprint(commands::fingerprint::run(args)?),
        Command::Guard(args) => guard(&settings()?, &args.command).await?,
    })
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Plan => "plan",
        Command::Migrate => "migrate",
        Command::Status(_) => "status",
        Command::Fingerprint(_) => "fingerprint",
        Command::Guard(args) => match args.command {
            GuardCommand::Install(_) => "guard install",
            GuardCommand::Status(_) => "guard status",
            GuardCommand::Remove(_) => "guard remove",
        },
    }
}

async fn guard(settings: &Settings, command: &GuardCommand) -> Result<Report, Error> {
    use commands::guard::{install, remove, status};
    Ok(match command {
        GuardCommand::Install(args) => Report::GuardInstall(install::run(settings, args).await?),
        GuardCommand::Status(args) => Report::GuardStatus(status::run(settings, args).await?),
        GuardCommand::Remove(args) => Report::GuardRemove(remove::run(settings, args).await?),
    })
}
