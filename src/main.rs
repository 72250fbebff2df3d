//! The `oprun-cutover` binary: parse arguments, set up logging and the runtime, run, exit.

use std::process::ExitCode;

use clap::Parser;
use oprun_cutover::cli::Cli;
use oprun_cutover::exit::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitStatus::Bug.into();
        }
    };
    let status = runtime.block_on(oprun_cutover::run(
        cli,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    ));
    status.into()
}

/// Logs go to stderr; stdout is the result. RUST_LOG overrides -v/-q.
fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("oprun_cutover={default},warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
