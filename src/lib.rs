//! conform: a contract-testing and conformance harness for HTTP APIs.
//!
//! The pipeline, one plain type flowing into the next:
//!
//! ```text
//! cases/<suite>/*.yaml --load--> LoadedSuite --plan--> PlannedSuite/PlannedCase
//!   --execute--> Exchange --check--> CheckResult --> CaseResult --report--> JUnit, terminal
//! ```
//!
//! 1. [`case`] loads suite and case files with spans; every YAML problem at once.
//! 2. [`plan`] compiles templates, checks, JSONPaths, regexes and [`schema`]s, and reports every semantic problem before any request.
//! 3. [`exec`] sends a request and records the [`exec::Exchange`]; it checks nothing.
//! 4. [`check`] judges an exchange; a failed check is data.
//! 5. [`report`] turns [`result::CaseResult`]s into JUnit XML and terminal output.
//!
//! [`runner`] drives one case through 3–4; [`app`] wires the commands; [`mock`] is the embedded reference server.
#![warn(missing_docs)]

/// `print!` to stdout that ignores a write error: `conform run | head -1` must
/// not panic (the std macros do on a closed pipe) and must still write its reports
/// and exit with the run's code.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `println!` that ignores a write error (see [`out!`]).
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `eprintln!` that ignores a write error (see [`out!`]). The line is
/// formatted first and written whole: stderr is unbuffered, so formatting
/// straight into it cost one `write` per argument and literal piece (about
/// 30 for a `CONFORM_TIMINGS` line), and lines from two threads could mix.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut line = ::std::format!($($t)*);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }};
}

pub mod app;
pub mod auth;
pub mod bench;
pub mod case;
pub mod check;
pub mod cli;
pub mod coverage;
pub mod editor;
pub mod error;
pub mod exec;
pub mod helper;
pub mod interrupt;
pub mod mem;
pub mod merge;
pub mod mock;
pub mod negative;
pub mod openapi;
pub mod plan;
pub mod redact;
pub mod report;
pub mod result;
pub mod runner;
pub mod schema;
pub mod settings;
pub mod shape;
pub mod shard;
pub mod target;
pub mod template;
pub mod timings;
