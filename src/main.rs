//! The `conform` binary: parse arguments, run, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    conform::mem::configure_allocator();
    conform::timings::start();
    // Parked by the time a run splits work with it (see `helper`).
    conform::helper::start();
    let cli = conform::cli::Cli::parse();
    ExitCode::from(conform::app::main(cli))
}
