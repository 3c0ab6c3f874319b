//! Stage 5 — report: pure functions of the run's [`CaseResult`](crate::result::CaseResult)s.

pub mod coverage;
pub mod drift;
pub mod exit;
mod git;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;

use std::path::{Path, PathBuf};

/// Paths as reports show them: relative to the working directory when below
/// it, with `/` separators. The directory is read once per report, not per case.
pub(crate) struct Relative(Option<PathBuf>);

impl Relative {
    /// Reads the working directory.
    pub(crate) fn new() -> Self {
        Relative(std::env::current_dir().ok())
    }

    /// `p` as reports show it.
    pub(crate) fn show(&self, p: &Path) -> String {
        let rel = self
            .0
            .as_deref()
            .and_then(|cwd| p.strip_prefix(cwd).ok())
            .unwrap_or(p);
        rel.display().to_string().replace('\\', "/")
    }
}
