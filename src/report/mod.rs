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
/// it, with `/` separators. The directory is read once per report, not per
/// case, and the last path shown is kept: the cases of a file come together,
/// and showing a path anew (prefix, display, separators) cost about 1,200
/// instructions a case.
pub(crate) struct Relative {
    cwd: Option<PathBuf>,
    last: std::cell::RefCell<Option<(PathBuf, String)>>,
}

impl Relative {
    /// Reads the working directory.
    pub(crate) fn new() -> Self {
        Relative {
            cwd: std::env::current_dir().ok(),
            last: std::cell::RefCell::new(None),
        }
    }

    /// `p` as reports show it.
    pub(crate) fn show(&self, p: &Path) -> String {
        if let Some((path, shown)) = &*self.last.borrow()
            && path.as_os_str() == p.as_os_str()
        {
            return shown.clone();
        }
        let rel = self
            .cwd
            .as_deref()
            .and_then(|cwd| p.strip_prefix(cwd).ok())
            .unwrap_or(p);
        let shown = rel.display().to_string().replace('\\', "/");
        *self.last.borrow_mut() = Some((p.to_path_buf(), shown.clone()));
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::Relative;
    use std::path::Path;

    #[test]
    fn a_path_is_shown_the_same_whether_it_was_the_last_shown_or_not() {
        let cwd = std::env::current_dir().unwrap();
        let paths = Relative::new();
        let inside = cwd.join("cases").join("a.yaml");
        let outside = Path::new("/elsewhere/b.yaml");
        for _ in 0..2 {
            assert_eq!(paths.show(&inside), "cases/a.yaml");
            assert_eq!(paths.show(&inside), "cases/a.yaml");
            assert_eq!(paths.show(outside), "/elsewhere/b.yaml");
            assert_eq!(paths.show(Path::new("cases/a.yaml")), "cases/a.yaml");
        }
    }
}
