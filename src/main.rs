//! The `oprun-cutover` binary: parse arguments, set up logging and the runtime, run, exit.

use std::process::ExitCode;

use clap::Parser;
use oprun_cutover::cli::Cli;
use oprun_cutover::exit::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    oprun_cutover::output::log::init(
        cli.global.verbose,
        cli.global.quiet,
        cli.global.database_url.as_deref(),
    );
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
        &mut std::io::stderr(),
    ));
    status.into()
}
