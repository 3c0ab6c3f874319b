//! Exit codes and the errors a user can act on.
//!
//! Every way `conform` can end is listed here, in one place, so the README's
//! table and the code cannot drift apart. Runtime outranks contract failure
//! (as in hurl): a run with both a transport error and a failed check exits 3.

use std::fmt;

use crate::case::Diagnostics;

/// Process exit codes, documented in the README.
pub mod exit {
    /// Every selected case passed (skipped cases do not count against a run).
    pub const SUCCESS: u8 = 0;
    /// Unexpected or internal failure (a bug in conform, an I/O error writing reports).
    pub const INTERNAL: u8 = 1;
    /// Usage, settings, case-file or schema error: nothing was sent.
    pub const BAD_INPUT: u8 = 2;
    /// At least one case hit a transport or runtime error (refused, timeout, TLS, invalid HTTP).
    pub const RUNTIME: u8 = 3;
    /// Contract failures only: the target answered, but not as documented.
    pub const CONTRACT: u8 = 4;
    /// Interrupted by Ctrl-C or SIGTERM; the reports hold what finished, the rest marked.
    pub const INTERRUPTED: u8 = 130;
}

/// An error the user can act on, with the exit code it maps to.
#[derive(Debug)]
pub enum ExpectedError {
    /// Case files, suite files or schemas failed to load or plan.
    Load(Diagnostics),
    /// Flags or settings do not make sense together.
    Usage(String),
    /// Something in the environment stops the run before any request (missing credential, port in use).
    Setup(String),
    /// Writing a report or another file failed.
    Io(String),
}

impl ExpectedError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExpectedError::Load(_) | ExpectedError::Usage(_) | ExpectedError::Setup(_) => {
                exit::BAD_INPUT
            }
            ExpectedError::Io(_) => exit::INTERNAL,
        }
    }
}

impl fmt::Display for ExpectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedError::Load(d) => write!(f, "{d}"),
            ExpectedError::Usage(m) => write!(f, "error: {m}"),
            ExpectedError::Setup(m) => write!(f, "error: {m}"),
            ExpectedError::Io(m) => write!(f, "error: {m}"),
        }
    }
}

impl std::error::Error for ExpectedError {}
