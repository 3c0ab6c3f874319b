//! conform's own integration tests. One test binary; each module is one area.
//!
//! - `common`: helpers to write a throw-away suite and run the library pipeline.
//! - `checks`: wiremock plays a server breaking one contract rule at a time;
//!   the harness must fail with the right kind, naming the case, step and difference.
//! - `cli`: the binary's exit codes and messages (bad case file, refused port, …).
//! - `suites`: the shipped suites are green on the embedded mock, red on every
//!   mock fault (the mutation score), and every doc example validates.
//! - `snapshots`: insta snapshots of the terminal failure output, a load diagnostic and JUnit.

#[path = "it/common.rs"]
mod common;

#[path = "it/checks.rs"]
mod checks;

#[path = "it/cli.rs"]
mod cli;

#[path = "it/suites.rs"]
mod suites;

#[path = "it/snapshots.rs"]
mod snapshots;
