//! The exit codes of the report gates (`--min-coverage`, `--baseline` with
//! `--fail-on`), and how they combine with the cases' own codes in
//! [`crate::error::exit`]. Documented in the README's exit-code table.

use super::drift::{Drift, FailOn};
use crate::error::exit;
use crate::result::Totals;

/// Operation coverage is below `--min-coverage` (or unknown: no suite that ran declares its operations).
pub const COVERAGE: u8 = 5;
/// Drift against the baseline fails the run under `--fail-on`.
pub const DRIFT: u8 = 6;

/// The exit code of `conform run` once the gates apply, most severe first:
///
/// 1. 3 when any case hit a transport or runtime error: the run could not
///    judge the target, with or without a baseline.
/// 2. Without a baseline, 4 on contract failures. With one, failures the
///    baseline already had are known: the drift verdict under `fail_on`
///    decides instead (6, or 0).
/// 3. 5 when `coverage_ok` is false (operation coverage below `--min-coverage`).
/// 4. 0.
pub fn run_exit_code(totals: &Totals, coverage_ok: bool, drift: Option<(&Drift, FailOn)>) -> u8 {
    if totals.errored > 0 {
        return exit::RUNTIME;
    }
    let cases = match drift {
        Some((d, policy)) => d.exit_code(policy),
        None => totals.exit_code(),
    };
    if cases != exit::SUCCESS {
        cases
    } else if !coverage_ok {
        COVERAGE
    } else {
        exit::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::drift::{CaseChange, diff};
    use crate::report::summary::{CaseOutcome, RunMeta, Summary};

    fn empty() -> Summary {
        let meta = RunMeta {
            conform_version: "0".into(),
            target: "mock".into(),
            base_url: None,
            started_at: "2025-01-31T12:00:00Z".into(),
            git_commit: None,
            shard: None,
        };
        Summary::build(&[], meta, None)
    }

    fn totals(failed: usize, errored: usize) -> Totals {
        Totals {
            passed: 1,
            failed,
            errored,
            ..Totals::default()
        }
    }

    #[test]
    fn combines_cases_coverage_and_drift() {
        let none = diff(&empty(), &empty());
        let mut newly = none.clone();
        newly.newly_failing.push(CaseChange {
            id: "s::f::a".into(),
            old: Some(CaseOutcome::Pass),
            new: Some(CaseOutcome::Fail),
        });
        let nf = FailOn::NewFailures;
        assert_eq!(run_exit_code(&totals(0, 0), true, None), 0);
        assert_eq!(run_exit_code(&totals(1, 0), true, None), exit::CONTRACT);
        assert_eq!(run_exit_code(&totals(1, 1), false, None), exit::RUNTIME);
        assert_eq!(run_exit_code(&totals(0, 0), false, None), COVERAGE);
        assert_eq!(run_exit_code(&totals(1, 0), false, None), exit::CONTRACT);
        // Known failures with a baseline: the drift verdict decides.
        assert_eq!(run_exit_code(&totals(1, 0), true, Some((&none, nf))), 0);
        assert_eq!(
            run_exit_code(&totals(1, 0), false, Some((&none, nf))),
            COVERAGE
        );
        assert_eq!(
            run_exit_code(&totals(1, 0), true, Some((&newly, nf))),
            DRIFT
        );
        assert_eq!(
            run_exit_code(&totals(1, 1), true, Some((&none, nf))),
            exit::RUNTIME
        );
    }
}
