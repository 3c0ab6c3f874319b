//! `reports/summary.json`: one record per case plus the run's metadata, in a
//! stable, documented format (`schemas/conform/summary.json`, JSON Schema
//! 2020-12). It is the input of `--baseline` and `conform diff`, so it keeps a
//! compact response shape per step ([`crate::shape`]) and never a response body
//! beyond the 2 KB preview of a failed step.
//!
//! Compatibility: fields are only added, as optional, within a
//! `schema_version`; renaming or removing one bumps it. Optional fields are
//! left out when empty; lists are always present.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::coverage::Catalog;
use crate::result::{CaseResult, Outcome, StepOutcome, StepResult};
use crate::shape::Shape;

mod plain;

/// Version of the format; [`read`] refuses any other.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where and when the run happened.
    pub run: RunMeta,
    /// Cases per outcome.
    pub totals: SummaryTotals,
    /// Each suite that ran, with the target it ran against.
    pub suites: Vec<SuiteRecord>,
    /// One record per case, sorted by id.
    pub cases: Vec<CaseRecord>,
}

/// Run metadata, given by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    /// `CARGO_PKG_VERSION` of the conform that ran.
    pub conform_version: String,
    /// The target as chosen (`mock`, `sandbox`, a URL).
    pub target: String,
    /// The `--base-url` override or URL target, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Start of the run, RFC 3339 in UTC.
    pub started_at: String,
    /// `git rev-parse HEAD` of the cases folder, when it is in a git work tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// The shard this run was, when `--shard` split the selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardInfo>,
}

impl RunMeta {
    /// Metadata for a run starting now-ish: this conform's version, the start
    /// time in RFC 3339 and the git commit of `cases_dir` (if any).
    pub fn new(
        target: impl Into<String>,
        base_url: Option<String>,
        started_at: SystemTime,
        cases_dir: &Path,
    ) -> RunMeta {
        Self::with_commit(target, base_url, started_at, git_commit(cases_dir))
    }

    /// As [`new`](Self::new), with the commit already found (see [`GitCommit`]).
    pub fn with_commit(
        target: impl Into<String>,
        base_url: Option<String>,
        started_at: SystemTime,
        git_commit: Option<String>,
    ) -> RunMeta {
        RunMeta {
            conform_version: env!("CARGO_PKG_VERSION").to_owned(),
            target: target.into(),
            base_url,
            started_at: rfc3339(started_at),
            git_commit,
            shard: None,
        }
    }
}

/// The commit of the cases' folder: read from the repository's files when
/// they have the plain layout (see [`super::git`]), otherwise `git rev-parse
/// HEAD` started early and read late, so the few milliseconds git takes pass
/// while the run loads and sends instead of after it.
pub enum GitCommit {
    /// Read from the files.
    Known(Option<String>),
    /// git, if it could be started.
    Asked(Option<std::process::Child>),
}

impl GitCommit {
    /// Reads the commit, or starts git in `dir`; nothing is started when git cannot be.
    pub fn start(dir: &Path) -> GitCommit {
        match super::git::read_head(dir) {
            Some(known) => GitCommit::Known(known),
            None => GitCommit::Asked(
                git_command(dir)
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .ok(),
            ),
        }
    }

    /// The commit, as [`git_commit`] gives it.
    pub fn finish(self) -> Option<String> {
        match self {
            GitCommit::Known(known) => known,
            GitCommit::Asked(child) => parse_rev(child?.wait_with_output().ok()?),
        }
    }
}

fn git_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.arg("rev-parse")
        .arg("HEAD")
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

fn parse_rev(out: std::process::Output) -> Option<String> {
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && sha.len() >= 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(sha)
}

/// `2025-01-31T12:00:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The commit checked out where `dir` lies, as `git rev-parse HEAD` run in it
/// gives it; `None` when `dir` is not in a work tree, its branch has no commit
/// yet, git is needed but missing, or anything else fails.
pub fn git_commit(dir: &Path) -> Option<String> {
    GitCommit::start(dir).finish()
}

/// What `git rev-parse HEAD` itself says in `dir`.
#[cfg(test)]
pub(crate) fn git_commit_by_git(dir: &Path) -> Option<String> {
    parse_rev(git_command(dir).output().ok()?)
}

/// Cases per outcome. A flaky case is counted under `flaky` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryTotals {
    /// All cases.
    pub cases: usize,
    /// Passed.
    pub pass: usize,
    /// Contract failures.
    pub fail: usize,
    /// Transport or runtime errors.
    pub error: usize,
    /// Not run.
    pub skip: usize,
    /// Passed only on a rerun.
    pub flaky: usize,
}

/// A suite that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRecord {
    /// Suite name.
    pub name: String,
    /// Target name.
    pub target: String,
    /// Base URL the requests went to.
    pub base_url: String,
    /// Cases of this suite in the run.
    pub cases: usize,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseOutcome {
    /// Every step passed.
    Pass,
    /// A contract failure.
    Fail,
    /// A transport or runtime error.
    Error,
    /// Not run.
    Skip,
    /// Passed, but only after a failed attempt.
    Flaky,
}

impl CaseOutcome {
    /// The outcome of a case result.
    pub fn of(o: &Outcome) -> CaseOutcome {
        match o {
            Outcome::Passed => CaseOutcome::Pass,
            Outcome::Failed => CaseOutcome::Fail,
            Outcome::Errored => CaseOutcome::Error,
            Outcome::Skipped(_) => CaseOutcome::Skip,
            Outcome::Flaky => CaseOutcome::Flaky,
        }
    }

    /// `pass`, `fail`, `error`, `skip` or `flaky`.
    pub fn word(self) -> &'static str {
        match self {
            CaseOutcome::Pass => "pass",
            CaseOutcome::Fail => "fail",
            CaseOutcome::Error => "error",
            CaseOutcome::Skip => "skip",
            CaseOutcome::Flaky => "flaky",
        }
    }

    /// Fail or error: the case did not hold.
    pub fn is_bad(self) -> bool {
        matches!(self, CaseOutcome::Fail | CaseOutcome::Error)
    }
}

impl std::fmt::Display for CaseOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

fn one() -> u32 {
    1
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// `suite::file::name`, the stable key between runs.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Case file, relative to the working directory when below it, `/`-separated.
    pub file: String,
    /// Case name.
    pub name: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Target name.
    pub target: String,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The first transport or runtime error, with its step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time in seconds, to the millisecond.
    pub duration_seconds: f64,
    /// Times the case ran (1 unless it was rerun).
    #[serde(default = "one")]
    pub attempts: u32,
    /// The attempts before the last, when the case was rerun (a flaky or still failing case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<EarlierRecord>,
    /// Every failed check, in step order.
    pub failures: Vec<FailedCheck>,
    /// Steps then cleanup steps.
    pub steps: Vec<StepRecord>,
}

/// An attempt before a rerun.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierRecord {
    /// `fail` or `error`.
    pub outcome: CaseOutcome,
    /// The first problem, in one line.
    pub message: String,
    /// The full failure text.
    pub detail: String,
    /// Time spent in seconds, to the millisecond.
    pub duration_seconds: f64,
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCheck {
    /// `step 2 "get the user"`.
    pub step: String,
    /// What was checked.
    pub label: String,
    /// What the case expected.
    pub expected: String,
    /// What came back.
    pub actual: String,
    /// A diff or a list of schema violations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepWord {
    /// Every check passed.
    Pass,
    /// A check failed.
    Fail,
    /// No usable response.
    Error,
    /// Not run.
    Skip,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based among the steps (or the cleanup steps).
    pub index: usize,
    /// A cleanup step.
    pub cleanup: bool,
    /// Step name.
    pub name: String,
    /// HTTP method.
    pub method: String,
    /// Path template as written in the case.
    pub path_template: String,
    /// The documented operation it called (`/v2/users/{id}`), when the suite declares operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// `GET http://…` as sent (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Response status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How it ended.
    pub outcome: StepWord,
    /// The error, or why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Waits and retries on the way (rate limits, transport retries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Time spent in seconds, to the millisecond.
    pub duration_seconds: f64,
    /// Compact shape of a JSON response: path → types and `=ENUM` values.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "shapes::serialize"
    )]
    pub shape: Option<std::sync::Arc<Shape>>,
    /// The first 2 KB of the body of a failed step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_preview: Option<String>,
}

/// Each distinct response shape written once per `summary.json`: a run of
/// many cases of one form has as many steps with the same (interned) shape,
/// about 1 KB of JSON each. While [`write_streamed`] writes, a shape already
/// written is copied in as the text it made the first time.
mod shapes {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde::Serialize;
    use serde_json::value::RawValue;

    use crate::shape::Shape;

    /// How deep a step's shape sits in `summary.json`: the document, `cases`,
    /// a case, `steps`, a step.
    pub(super) const DEPTH: usize = 5;

    thread_local! {
        /// The shapes written so far, by address (each held by a result for
        /// the whole write); `None` outside [`with_cache`].
        static WRITTEN: RefCell<Option<HashMap<usize, Box<RawValue>>>> = const { RefCell::new(None) };
    }

    /// Runs `write` with the cache on, on this thread.
    pub(super) fn with_cache<T>(write: impl FnOnce() -> T) -> T {
        struct Off;
        impl Drop for Off {
            fn drop(&mut self) {
                WRITTEN.with(|w| *w.borrow_mut() = None);
            }
        }
        WRITTEN.with(|w| *w.borrow_mut() = Some(HashMap::new()));
        let _off = Off;
        write()
    }

    /// Appends the text [`serialize`] writes for `shape` (the cached text
    /// while the cache is on).
    pub(super) fn append_text(out: &mut Vec<u8>, shape: &Arc<Shape>) -> std::io::Result<()> {
        WRITTEN.with(|w| {
            let mut w = w.borrow_mut();
            let Some(cache) = w.as_mut() else {
                let text = super::super::json::pretty_at_depth(&**shape, DEPTH)?;
                out.extend_from_slice(text.as_bytes());
                return Ok(());
            };
            out.extend_from_slice(cached(cache, shape)?.get().as_bytes());
            Ok(())
        })
    }

    /// The text of `shape` at [`DEPTH`], from `cache`: made and kept there on
    /// first use.
    fn cached<'c>(
        cache: &'c mut HashMap<usize, Box<RawValue>>,
        shape: &Arc<Shape>,
    ) -> std::io::Result<&'c RawValue> {
        use std::collections::hash_map::Entry;
        match cache.entry(Arc::as_ptr(shape) as usize) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let text = super::super::json::pretty_at_depth(&**shape, DEPTH)?;
                Ok(v.insert(RawValue::from_string(text).map_err(std::io::Error::other)?))
            }
        }
    }

    pub(super) fn serialize<S: serde::Serializer>(
        shape: &Option<Arc<Shape>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(shape) = shape else {
            return serializer.serialize_none();
        };
        WRITTEN.with(|w| {
            let mut w = w.borrow_mut();
            let Some(cache) = w.as_mut() else {
                return shape.serialize(serializer);
            };
            cached(cache, shape)
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer)
        })
    }
}

fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

impl StepRecord {
    fn of(s: &StepResult, operation: Option<String>) -> StepRecord {
        let (outcome, message) = match &s.outcome {
            StepOutcome::Passed => (StepWord::Pass, None),
            StepOutcome::Failed => (StepWord::Fail, None),
            StepOutcome::Errored(e) => (StepWord::Error, Some(e.clone())),
            StepOutcome::Skipped(why) => (StepWord::Skip, Some(why.clone())),
        };
        StepRecord {
            index: s.index,
            cleanup: s.cleanup,
            name: s.name.clone(),
            method: s.method.clone(),
            path_template: s.path_template.clone(),
            operation,
            request: s.request_line.clone(),
            status: s.status,
            outcome,
            message,
            notes: s.notes().to_vec(),
            duration_seconds: seconds(s.duration),
            shape: s.shape.clone(),
            body_preview: s.body_preview().map(str::to_owned),
        }
    }
}

impl CaseRecord {
    fn of(r: &CaseResult, catalog: Option<&Catalog>, paths: &super::Relative) -> CaseRecord {
        let ops = catalog.and_then(|c| c.get(&r.id.suite));
        let failures = r
            .steps
            .iter()
            .flat_map(|s| {
                s.checks().iter().filter_map(move |c| {
                    c.failure.as_ref().map(|f| FailedCheck {
                        step: s.title(),
                        label: c.label.clone(),
                        expected: f.expected.clone(),
                        actual: f.actual.clone(),
                        detail: f.detail.clone(),
                    })
                })
            })
            .collect();
        let error = r.steps.iter().find_map(|s| match &s.outcome {
            StepOutcome::Errored(e) => Some(format!("{}: {e}", s.title())),
            _ => None,
        });
        CaseRecord {
            id: r.id.to_string(),
            suite: r.id.suite.to_string(),
            file: paths.show(&r.file),
            name: r.id.name.clone(),
            tags: r.tags.clone(),
            target: r.target.to_string(),
            outcome: CaseOutcome::of(&r.outcome),
            skip_reason: match &r.outcome {
                Outcome::Skipped(why) => Some(why.clone()),
                _ => None,
            },
            error,
            duration_seconds: seconds(r.duration),
            attempts: r.attempts.max(1),
            earlier_attempts: r
                .earlier
                .iter()
                .map(|e| EarlierRecord {
                    outcome: CaseOutcome::of(&e.outcome),
                    message: e.message.clone(),
                    detail: e.detail.clone(),
                    duration_seconds: seconds(e.duration),
                })
                .collect(),
            failures,
            steps: r
                .steps
                .iter()
                .map(|s| {
                    let op = ops
                        .and_then(|o| o.operation_for_step(s))
                        .map(|o| o.path.clone());
                    StepRecord::of(s, op)
                })
                .collect(),
        }
    }
}

impl Summary {
    /// The summary of `results` (any order; cases are sorted by id). With a
    /// `catalog`, each step records the documented operation it called, which
    /// keys response-shape drift independently of how cases write their paths.
    pub fn build(results: &[CaseResult], run: RunMeta, catalog: Option<&Catalog>) -> Summary {
        Self::build_with(results, run, catalog, |_| true)
    }

    /// As [`build`](Self::build), with the totals and suites of every result
    /// but a record only for the cases `keep` accepts. `conform run` builds its
    /// Markdown summary, which shows only the cases that did not pass, from
    /// such a summary, and streams `summary.json` with [`write_streamed`].
    pub fn build_with(
        results: &[CaseResult],
        run: RunMeta,
        catalog: Option<&Catalog>,
        keep: impl Fn(&CaseResult) -> bool,
    ) -> Summary {
        let view = View::new(results, &run, catalog);
        let cases = view
            .sorted
            .iter()
            .filter(|r| keep(r))
            .map(|r| CaseRecord::of(r, catalog, &view.paths))
            .collect();
        let (totals, suites) = (view.totals, view.suites);
        Summary {
            schema_version: SCHEMA_VERSION,
            run,
            totals,
            suites,
            cases,
        }
    }

    /// The case with this id.
    pub fn case(&self, id: &str) -> Option<&CaseRecord> {
        self.cases.iter().find(|c| c.id == id)
    }

    /// Pretty JSON, as written to `reports/summary.json`.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_to(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Writes [`to_json`](Self::to_json)'s text to `w` as it is serialized, so a
    /// large run never holds the whole document (or a JSON tree of it) in memory.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        super::json::write_pretty(&mut *w, self)?;
        w.write_all(b"\n")
    }

    /// Parses a summary, refusing another `schema_version`.
    pub fn from_json(text: &str) -> Result<Summary, String> {
        // The version first, without building the document: a large summary is
        // read straight into its records, never as a JSON tree.
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<serde_json::Value>,
        }
        let v: Version = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match v
            .schema_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
        {
            Some(n) if n == u64::from(SCHEMA_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "schema_version {n}; this conform reads version {SCHEMA_VERSION}"
                ));
            }
            None => return Err("no schema_version: not a conform summary".into()),
        }
        serde_json::from_str(text).map_err(|e| format!("not a conform summary: {e}"))
    }

    /// Writes [`to_json`](Self::to_json)'s text to `path` atomically, streamed.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        super::junit::write_atomic_with(path, |w| self.write_to(w))
    }
}

/// `summary.json` for `results`, the same text as [`Summary::build`] then
/// [`Summary::write`], with one case record built at a time: a run of ten
/// thousand cases never holds a second copy of its results as records.
pub fn write_streamed(
    results: &[CaseResult],
    run: &RunMeta,
    catalog: Option<&Catalog>,
    path: &Path,
) -> std::io::Result<()> {
    let view = View::new(results, run, catalog);
    super::junit::write_atomic_with(path, |w| {
        shapes::with_cache(|| view.write(&mut *w))?;
        std::io::Write::write_all(w, b"\n")
    })
}

/// A summary over borrowed results: everything but the case records, which
/// are made as they are serialized.
struct View<'a> {
    run: &'a RunMeta,
    totals: SummaryTotals,
    suites: Vec<SuiteRecord>,
    sorted: Vec<&'a CaseResult>,
    catalog: Option<&'a Catalog>,
    paths: super::Relative,
}

impl<'a> View<'a> {
    fn new(results: &'a [CaseResult], run: &'a RunMeta, catalog: Option<&'a Catalog>) -> Self {
        let mut sorted: Vec<&CaseResult> = results.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        let mut totals = SummaryTotals {
            cases: sorted.len(),
            ..SummaryTotals::default()
        };
        for r in &sorted {
            match CaseOutcome::of(&r.outcome) {
                CaseOutcome::Pass => totals.pass += 1,
                CaseOutcome::Fail => totals.fail += 1,
                CaseOutcome::Error => totals.error += 1,
                CaseOutcome::Skip => totals.skip += 1,
                CaseOutcome::Flaky => totals.flaky += 1,
            }
        }
        let mut suites: Vec<SuiteRecord> = Vec::new();
        for r in &sorted {
            match suites.iter_mut().find(|s| *s.name == *r.id.suite) {
                Some(s) => s.cases += 1,
                None => suites.push(SuiteRecord {
                    name: r.id.suite.to_string(),
                    target: r.target.to_string(),
                    base_url: r.base_url.to_string(),
                    cases: 1,
                }),
            }
        }
        View {
            run,
            totals,
            suites,
            sorted,
            catalog,
            paths: super::Relative::new(),
        }
    }
}

impl View<'_> {
    /// Field for field what `#[derive(Serialize)]` on [`Summary`] and the
    /// pretty writer give (no final newline): each part but the case records
    /// as [`pretty_at_depth`](super::json::pretty_at_depth) writes it where it
    /// sits; each case record by [`plain::write_case`] when the case is plain,
    /// else from its [`CaseRecord`], one record at a time.
    fn write(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        use super::json::pretty_at_depth;
        write!(
            w,
            "{{\n  \"schema_version\": {SCHEMA_VERSION},\n  \"run\": "
        )?;
        w.write_all(pretty_at_depth(self.run, 1)?.as_bytes())?;
        w.write_all(b",\n  \"totals\": ")?;
        w.write_all(pretty_at_depth(&self.totals, 1)?.as_bytes())?;
        w.write_all(b",\n  \"suites\": ")?;
        w.write_all(pretty_at_depth(&self.suites, 1)?.as_bytes())?;
        w.write_all(b",\n  \"cases\": ")?;
        if self.sorted.is_empty() {
            w.write_all(b"[]")?;
        }
        let mut buf = Vec::new();
        for (i, r) in self.sorted.iter().enumerate() {
            w.write_all(if i == 0 { b"[\n    " } else { b",\n    " })?;
            buf.clear();
            let ops = self.catalog.and_then(|c| c.get(&r.id.suite));
            if !plain::write_case(&mut buf, r, ops, &self.paths.show(&r.file)) {
                buf.clear();
                let record = CaseRecord::of(r, self.catalog, &self.paths);
                buf.extend_from_slice(pretty_at_depth(&record, 2)?.as_bytes());
            }
            w.write_all(&buf)?;
        }
        if !self.sorted.is_empty() {
            w.write_all(b"\n  ]")?;
        }
        w.write_all(b"\n}")
    }
}

/// Why a summary file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a summary this conform reads.
    #[error("cannot use {} as a summary: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads a `summary.json` (for `--baseline` and `conform diff`).
pub fn read(path: &Path) -> Result<Summary, SummaryError> {
    let text = std::fs::read_to_string(path).map_err(|source| SummaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Summary::from_json(&text).map_err(|message| SummaryError::Format {
        path: path.to_path_buf(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckResult;

    fn meta() -> RunMeta {
        RunMeta {
            conform_version: "0.1.0".into(),
            target: "mock".into(),
            base_url: None,
            started_at: "2025-01-31T12:00:00Z".into(),
            git_commit: None,
            shard: None,
        }
    }

    fn result(name: &str, outcome: Outcome) -> CaseResult {
        let failed = outcome == Outcome::Failed;
        let step = StepResult {
            index: 1,
            cleanup: false,
            name: "get".into(),
            method: "GET".into(),
            path_template: "/a/{{id}}".into(),
            path: Some("/a/1".into()),
            request_line: Some("GET http://127.0.0.1:1/a/1".into()),
            shape: Some(std::sync::Arc::new(crate::shape::of(
                &serde_json::json!({"s": "ON"}),
            ))),
            status: Some(200),
            outcome: if failed {
                StepOutcome::Failed
            } else {
                StepOutcome::Passed
            },
            duration: Duration::from_micros(1500),
            extra: Some(Box::new(crate::result::StepExtra {
                body_preview: None,
                checks: vec![if failed {
                    CheckResult::fail("status", "201", "200")
                } else {
                    CheckResult::pass("status")
                }],
                notes: Vec::new(),
            })),
        };
        CaseResult {
            tags: vec!["t".into()],
            outcome,
            duration: Duration::from_millis(12),
            ..CaseResult::passed_for_test(name, vec![step])
        }
    }

    #[test]
    fn builds_sorted_records_with_failures_and_round_trips() {
        let results = vec![
            result("b", Outcome::Failed),
            result("a", Outcome::Passed),
            result("c", Outcome::Skipped("read-only".into())),
        ];
        let s = Summary::build(&results, meta(), None);
        let ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["s::f::a", "s::f::b", "s::f::c"]);
        assert_eq!((s.totals.pass, s.totals.fail, s.totals.skip), (1, 1, 1));
        let b = s.case("s::f::b").unwrap();
        assert_eq!(b.failures[0].step, "step 1 \"get\"");
        assert_eq!(b.failures[0].expected, "201");
        assert_eq!(b.steps[0].duration_seconds, 0.002);
        assert_eq!(b.duration_seconds, 0.012);
        assert_eq!(
            s.case("s::f::c").unwrap().skip_reason.as_deref(),
            Some("read-only")
        );
        assert_eq!(s.suites.len(), 1);
        assert_eq!(s.suites[0].cases, 3);
        let back = Summary::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn records_the_operation_when_the_suite_declares_it() {
        let mut catalog = Catalog::default();
        catalog.insert(crate::coverage::SuiteOperations {
            suite: "s".into(),
            file: "o.yaml".into(),
            operations: vec![crate::coverage::Operation::new("GET", "/a/{id}", [200], []).unwrap()],
        });
        let s = Summary::build(&[result("a", Outcome::Passed)], meta(), Some(&catalog));
        assert_eq!(s.cases[0].steps[0].operation.as_deref(), Some("/a/{id}"));
    }

    #[test]
    fn refuses_other_versions_and_other_files() {
        let s = Summary::build(&[], meta(), None);
        let v2 = s
            .to_json()
            .replace("\"schema_version\": 1", "\"schema_version\": 2");
        assert!(
            Summary::from_json(&v2)
                .unwrap_err()
                .contains("schema_version 2")
        );
        assert!(
            Summary::from_json("{}")
                .unwrap_err()
                .contains("not a conform summary")
        );
        assert!(Summary::from_json("nope").unwrap_err().contains("not JSON"));
        let missing = std::path::Path::new("/nonexistent/summary.json");
        assert!(
            read(missing)
                .unwrap_err()
                .to_string()
                .starts_with("cannot read")
        );
    }

    #[test]
    fn the_streamed_file_is_the_document_and_reads_back() {
        // Every optional part of the run's metadata set, and none.
        let full = RunMeta {
            base_url: Some("http://127.0.0.1:1/".into()),
            git_commit: Some("0123abc".into()),
            shard: Some(crate::shard::ShardInfo {
                index: 2,
                total: 3,
                selection: "f1ngerprint".into(),
                cases: 7,
            }),
            ..meta()
        };
        for run in [meta(), full] {
            for results in [
                vec![],
                vec![result("a", Outcome::Passed), result("b", Outcome::Failed)],
            ] {
                let s = Summary::build(&results, run.clone(), None);
                let tmp = tempfile::tempdir().unwrap();
                let (whole, streamed) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
                s.write(&whole).unwrap();
                assert_eq!(std::fs::read_to_string(&whole).unwrap(), s.to_json());
                write_streamed(&results, &run, None, &streamed).unwrap();
                assert_eq!(std::fs::read_to_string(&streamed).unwrap(), s.to_json());
                // The streamed file reads back as the same summary.
                assert_eq!(read(&streamed).unwrap(), s);
            }
        }
    }

    #[test]
    fn attempts_default_to_one_when_absent() {
        let s = Summary::build(&[result("a", Outcome::Passed)], meta(), None);
        let json = s.to_json().replace("\"attempts\": 1,", "");
        assert_eq!(Summary::from_json(&json).unwrap().cases[0].attempts, 1);
    }

    #[test]
    fn git_commit_is_none_outside_a_work_tree() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(git_commit(tmp.path()), None);
        assert_eq!(git_commit(Path::new("/nonexistent/dir")), None);
        assert_eq!(GitCommit::start(tmp.path()).finish(), None);
        assert_eq!(
            GitCommit::start(Path::new("/nonexistent/dir")).finish(),
            None
        );
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(GitCommit::start(here).finish(), git_commit(here));
    }
}
