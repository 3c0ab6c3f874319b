//! Helpers: a throw-away suite on disk, pointed at a test server, and a way to run it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use conform::app::{self, RunOptions};
use conform::cli::{CasesArg, SelectArgs};
use conform::error::ExpectedError;
use conform::result::{CaseResult, StepOutcome};
use conform::target::TargetChoice;
use tempfile::TempDir;

/// A `User` schema for tests: id, name, status enum, createdAt date-time.
pub const USER_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "name", "status", "createdAt"],
  "properties": {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "status": {"$ref": "Status.json"},
    "createdAt": {"type": "string", "format": "date-time"}
  }
}"#;

/// The status enum the `User` schema refers to.
pub const STATUS_SCHEMA: &str = r#"{"type": "string", "enum": ["ACTIVE", "BLOCKED"]}"#;

/// A valid `User` body.
pub const GOOD_USER: &str =
    r#"{"id":"u1","name":"Joe","status":"ACTIVE","createdAt":"2022-03-29T10:22:22.420Z"}"#;

/// A suite `t` in a temp folder: `cases/t/suite.yaml` with target `srv` at `base_url`
/// (auth header `X-Key` from `$TEST_KEY`), the case file `cases/t/c.yaml`, and
/// schemas `User` and `Status` in `schemas/t/`.
pub struct TempSuite {
    pub dir: TempDir,
}

impl TempSuite {
    pub fn new(base_url: &str, cases_yaml: &str) -> TempSuite {
        let dir = tempfile::tempdir().expect("temp dir");
        let cases = dir.path().join("cases/t");
        let schemas = dir.path().join("schemas/t");
        std::fs::create_dir_all(&cases).unwrap();
        std::fs::create_dir_all(&schemas).unwrap();
        std::fs::write(
            cases.join("suite.yaml"),
            format!(
                "name: t\nauth: {{ header: X-Key, env: TEST_KEY }}\ntargets:\n  srv: {{ url: \"{base_url}\" }}\n"
            ),
        )
        .unwrap();
        std::fs::write(cases.join("c.yaml"), cases_yaml).unwrap();
        std::fs::write(schemas.join("User.json"), USER_SCHEMA).unwrap();
        std::fs::write(schemas.join("Status.json"), STATUS_SCHEMA).unwrap();
        TempSuite { dir }
    }

    pub fn cases_dir(&self) -> PathBuf {
        self.dir.path().join("cases")
    }

    pub fn case_file(&self) -> PathBuf {
        self.dir.path().join("cases/t/c.yaml")
    }
}

/// Selection of every case under `dir`.
pub fn select_all(dir: &Path) -> SelectArgs {
    SelectArgs {
        cases: CasesArg {
            cases: dir.to_path_buf(),
        },
        suites: vec![],
        filter: None,
        tags: vec![],
    }
}

/// Runs every case of the temp suite against target `srv`, with `TEST_KEY=test-secret`.
pub async fn run_suite(suite: &TempSuite) -> Result<Vec<CaseResult>, ExpectedError> {
    run_with(
        suite,
        RunOptions {
            target: TargetChoice::Named("srv".into()),
            timeout: Duration::from_secs(5),
            ..RunOptions::default()
        },
    )
    .await
}

/// Runs with explicit options.
pub async fn run_with(
    suite: &TempSuite,
    opts: RunOptions,
) -> Result<Vec<CaseResult>, ExpectedError> {
    let env = |k: &str| (k == "TEST_KEY").then(|| "test-secret".to_owned());
    app::run(
        &suite.cases_dir(),
        &select_all(&suite.cases_dir()),
        &opts,
        &env,
        |_| {},
    )
    .await
}

/// The first step that did not pass, with its failed checks' labels and texts.
pub fn first_bad_step(r: &CaseResult) -> (&conform::result::StepResult, String) {
    let s = r
        .steps
        .iter()
        .find(|s| !matches!(s.outcome, StepOutcome::Passed))
        .expect("a step that did not pass");
    let text = conform::report::human::failure_detail(r);
    (s, text)
}
