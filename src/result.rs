//! What running a case produced: plain data that every reporter reads.

use std::time::Duration;

use crate::check::CheckResult;
use crate::plan::CaseId;

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step and cleanup step passed.
    Passed,
    /// The target answered, but not as the contract says.
    Failed,
    /// A transport or runtime problem stopped a step (refused, timeout, TLS, invalid HTTP).
    Errored,
    /// Not run, with the reason.
    Skipped(String),
    /// Failed or errored first, then passed on a rerun (`--retries`).
    Flaky,
}

impl Outcome {
    /// `pass`, `fail`, `error` or `skip`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Passed => "pass",
            Outcome::Failed => "fail",
            Outcome::Errored => "error",
            Outcome::Skipped(_) => "skip",
            Outcome::Flaky => "flaky",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Every check passed.
    Passed,
    /// At least one check failed.
    Failed,
    /// No usable response, or the request could not be built.
    Errored(String),
    /// Not run, with the reason.
    Skipped(String),
}

/// One step's record.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// 1-based position among the case's steps (or cleanup steps).
    pub index: usize,
    /// True for a cleanup step.
    pub cleanup: bool,
    /// Step name.
    pub name: String,
    /// HTTP method, as planned.
    pub method: String,
    /// The path template as written in the case (`/v2/users/{{user_id}}`).
    pub path_template: String,
    /// The rendered path sent, relative to the base URL, without the query (when built).
    pub path: Option<String>,
    /// `GET http://…`, when the request was built.
    pub request_line: Option<String>,
    /// Compact shape of a JSON response body (paths → types and enum-like values), for drift reports.
    pub shape: Option<std::sync::Arc<crate::shape::Shape>>,
    /// Response status, when one came.
    pub status: Option<u16>,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Time spent.
    pub duration: Duration,
    /// What only some steps have; `None` for a step that passed at once.
    /// (Boxed: a result is held for every case until the reports are written,
    /// and these three would add 64 bytes to each.)
    pub extra: Option<Box<StepExtra>>,
}

/// The parts of a step's record that only some steps have.
#[derive(Debug, Clone, Default)]
pub struct StepExtra {
    /// The first 2 KB of the response body, kept for failed steps only.
    pub body_preview: Option<String>,
    /// The checks that failed (passed ones are not kept: no report shows them).
    pub checks: Vec<CheckResult>,
    /// Waits and retries on the way (rate limits, transport retries).
    pub notes: Vec<String>,
}

impl StepResult {
    /// The first 2 KB of the response body, kept for failed steps only.
    pub fn body_preview(&self) -> Option<&str> {
        self.extra.as_ref()?.body_preview.as_deref()
    }

    /// The checks that failed (passed ones are not kept: no report shows them).
    pub fn checks(&self) -> &[CheckResult] {
        self.extra.as_ref().map_or(&[], |e| &e.checks)
    }

    /// Waits and retries on the way (rate limits, transport retries).
    pub fn notes(&self) -> &[String] {
        self.extra.as_ref().map_or(&[], |e| &e.notes)
    }

    /// The extra parts, made when first written.
    pub fn extra_mut(&mut self) -> &mut StepExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// `step 2 "get the user"` or `cleanup 1 "delete"`.
    pub fn title(&self) -> String {
        let kind = if self.cleanup { "cleanup" } else { "step" };
        format!("{kind} {} \"{}\"", self.index, self.name)
    }
}

/// One case's record.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// `suite::file::name`.
    pub id: CaseId,
    /// The case file.
    pub file: std::sync::Arc<std::path::Path>,
    /// Tags.
    pub tags: Vec<String>,
    /// Target name (shared by every case of the suite).
    pub target: std::sync::Arc<str>,
    /// Base URL used (shared likewise).
    pub base_url: std::sync::Arc<str>,
    /// How it ended.
    pub outcome: Outcome,
    /// Steps then cleanup steps.
    pub steps: Vec<StepResult>,
    /// Wall time (of the last attempt).
    pub duration: Duration,
    /// How many times the case ran (1 unless `--retries` reran it).
    pub attempts: u32,
    /// Earlier attempts that did not pass, when the case was rerun.
    pub earlier: Vec<EarlierAttempt>,
}

#[cfg(test)]
impl CaseResult {
    /// A case `s::f::<name>` of `cases/s/f.yaml` that passed at once against
    /// `mock`, untagged, in no time: the tests' starting point.
    pub(crate) fn passed_for_test(name: &str, steps: Vec<StepResult>) -> CaseResult {
        CaseResult {
            id: CaseId {
                suite: "s".into(),
                file: "f".into(),
                name: name.into(),
            },
            file: std::path::Path::new("cases/s/f.yaml").into(),
            tags: Vec::new(),
            target: "mock".into(),
            base_url: "http://127.0.0.1:1/".into(),
            outcome: Outcome::Passed,
            steps,
            duration: Duration::ZERO,
            attempts: 1,
            earlier: Vec::new(),
        }
    }
}

/// A failed or errored attempt before a rerun.
#[derive(Debug, Clone)]
pub struct EarlierAttempt {
    /// Failed or errored.
    pub outcome: Outcome,
    /// One line: the first problem.
    pub message: String,
    /// The full failure text.
    pub detail: String,
    /// Time spent.
    pub duration: Duration,
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Passed cases.
    pub passed: usize,
    /// Cases with contract failures.
    pub failed: usize,
    /// Cases with transport or runtime errors.
    pub errored: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Cases that passed only on a rerun (counted in `passed` too).
    pub flaky: usize,
}

impl Totals {
    /// Counts outcomes.
    pub fn of(results: &[CaseResult]) -> Totals {
        let mut t = Totals::default();
        for r in results {
            match r.outcome {
                Outcome::Passed => t.passed += 1,
                Outcome::Failed => t.failed += 1,
                Outcome::Errored => t.errored += 1,
                Outcome::Skipped(_) => t.skipped += 1,
                Outcome::Flaky => {
                    t.passed += 1;
                    t.flaky += 1;
                }
            }
        }
        t
    }

    /// The exit code for these totals: runtime outranks contract failure.
    pub fn exit_code(&self) -> u8 {
        use crate::error::exit;
        if self.errored > 0 {
            exit::RUNTIME
        } else if self.failed > 0 {
            exit::CONTRACT
        } else {
            exit::SUCCESS
        }
    }
}
