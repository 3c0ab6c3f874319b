//! Drift between two runs (`--baseline PATH` and `conform diff OLD NEW`), a
//! pure function of two [`Summary`]s: cases newly failing, newly passing, newly
//! flaky, new and vanished, and response drift — JSON fields, types and enum
//! values the server answered with that the old run never saw.
//!
//! Response drift is keyed by (suite, method, operation, status), not by case,
//! so renaming a case moves nothing. The operation is the documented one when
//! the summary recorded it (the suite has an `operations.yaml`), else the path
//! template with each `{{…}}` segment as `{}`. Only cases present in both runs
//! are compared, and only operations the old run got a response from: a new
//! case that provokes a 400 for the first time is a new case, not drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::exit;
use super::summary::{CaseOutcome, RunMeta, Summary};
use crate::shape::Shape;

/// A case whose outcome differs between the runs (`None`: absent from that run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseChange {
    /// `suite::file::name`.
    pub id: String,
    /// Outcome in the old run.
    pub old: Option<CaseOutcome>,
    /// Outcome in the new run.
    pub new: Option<CaseOutcome>,
}

/// What one operation's responses with one status showed that the old run's never did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseDrift {
    /// Suite name.
    pub suite: String,
    /// HTTP method.
    pub method: String,
    /// The documented operation (`/v2/users/{id}`), or the normalized path template.
    pub operation: String,
    /// Response status.
    pub status: u16,
    /// The old run never got this status from this operation (its fields are not listed).
    pub new_status: bool,
    /// Paths never seen before, with what was seen there.
    pub new_paths: BTreeMap<String, Vec<String>>,
    /// Paths seen before, now with another JSON type.
    pub new_types: BTreeMap<String, Vec<String>>,
    /// Paths seen before, now with enum-like values never seen.
    pub new_values: BTreeMap<String, Vec<String>>,
    /// Cases whose responses showed it.
    pub cases: Vec<String>,
}

/// Everything that changed between two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The old run (the baseline).
    pub old_run: RunMeta,
    /// The new run.
    pub new_run: RunMeta,
    /// Failing or erroring now, not in the old run (cases present in both).
    pub newly_failing: Vec<CaseChange>,
    /// Passing now, failing or erroring in the old run.
    pub newly_passing: Vec<CaseChange>,
    /// Flaky now, not in the old run.
    pub newly_flaky: Vec<CaseChange>,
    /// Only in the new run (with their outcome).
    pub new_cases: Vec<CaseChange>,
    /// Only in the old run.
    pub vanished_cases: Vec<CaseChange>,
    /// Response shape drift.
    pub responses: Vec<ResponseDrift>,
    /// Failing or erroring in both runs: known, not drift (for context only).
    pub still_failing: Vec<CaseChange>,
}

/// When drift fails a run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// A case newly failing or erroring, including a new case that fails (the default).
    #[default]
    NewFailures,
    /// Any drift at all: outcome changes either way, new or vanished cases, response drift.
    AnyDrift,
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailOn::NewFailures => "new-failures",
            FailOn::AnyDrift => "any-drift",
        })
    }
}

type Key = (String, String, String, u16);

#[derive(Default)]
struct Seen {
    shape: Shape,
    cases: BTreeSet<String>,
    display: String,
}

/// `/v2/users/{id}` and `/v2/users/{{user_id}}` both become `/v2/users/{}`; the query goes.
fn normalize(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .map(|seg| {
            let param = seg.starts_with('{') && seg.ends_with('}') && seg.len() > 2;
            if seg.contains("{{") || param {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Union of response shapes per (suite, method, operation, status), over the cases in `only`.
fn responses(s: &Summary, only: &BTreeSet<&str>) -> BTreeMap<Key, Seen> {
    let mut out: BTreeMap<Key, Seen> = BTreeMap::new();
    for c in s.cases.iter().filter(|c| only.contains(c.id.as_str())) {
        for step in &c.steps {
            let Some(status) = step.status else { continue };
            let shown = step
                .operation
                .clone()
                .unwrap_or_else(|| normalize(&step.path_template));
            let key = (
                c.suite.clone(),
                step.method.to_ascii_uppercase(),
                normalize(&shown),
                status,
            );
            let seen = out.entry(key).or_default();
            if seen.display.is_empty() {
                seen.display = shown;
            }
            seen.cases.insert(c.id.clone());
            for (path, what) in step.shape.iter().flat_map(|s| s.iter()) {
                seen.shape
                    .entry(path.clone())
                    .or_default()
                    .extend(what.iter().cloned());
            }
        }
    }
    out
}

/// What changed from `old` to `new`.
pub fn diff(old: &Summary, new: &Summary) -> Drift {
    let olds: BTreeMap<&str, CaseOutcome> = old
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.outcome))
        .collect();
    let news: BTreeMap<&str, CaseOutcome> = new
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.outcome))
        .collect();
    let change = |id: &str| CaseChange {
        id: id.to_owned(),
        old: olds.get(id).copied(),
        new: news.get(id).copied(),
    };
    let mut d = Drift {
        old_run: old.run.clone(),
        new_run: new.run.clone(),
        newly_failing: Vec::new(),
        newly_passing: Vec::new(),
        newly_flaky: Vec::new(),
        new_cases: Vec::new(),
        vanished_cases: Vec::new(),
        responses: Vec::new(),
        still_failing: Vec::new(),
    };
    for (&id, &n) in &news {
        let Some(&o) = olds.get(id) else {
            d.new_cases.push(change(id));
            continue;
        };
        if n.is_bad() && o.is_bad() {
            d.still_failing.push(change(id));
        } else if n.is_bad() {
            d.newly_failing.push(change(id));
        } else if o.is_bad() && matches!(n, CaseOutcome::Pass | CaseOutcome::Flaky) {
            d.newly_passing.push(change(id));
        }
        if n == CaseOutcome::Flaky && o != CaseOutcome::Flaky {
            d.newly_flaky.push(change(id));
        }
    }
    for &id in olds.keys().filter(|id| !news.contains_key(*id)) {
        d.vanished_cases.push(change(id));
    }

    let both: BTreeSet<&str> = news
        .keys()
        .filter(|id| olds.contains_key(*id))
        .copied()
        .collect();
    let before = responses(old, &both);
    let after = responses(new, &both);
    let old_ops: BTreeSet<(&str, &str, &str)> = before
        .keys()
        .map(|(s, m, o, _)| (s.as_str(), m.as_str(), o.as_str()))
        .collect();
    for (key, seen) in &after {
        let (suite, method, op, status) = key;
        if !old_ops.contains(&(suite.as_str(), method.as_str(), op.as_str())) {
            continue;
        }
        let mut r = ResponseDrift {
            suite: suite.clone(),
            method: method.clone(),
            operation: seen.display.clone(),
            status: *status,
            new_status: false,
            new_paths: BTreeMap::new(),
            new_types: BTreeMap::new(),
            new_values: BTreeMap::new(),
            cases: seen.cases.iter().cloned().collect(),
        };
        match before.get(key) {
            None => r.new_status = true,
            Some(was) => {
                for (path, what) in &seen.shape {
                    let Some(had) = was.shape.get(path) else {
                        r.new_paths
                            .insert(path.clone(), what.iter().cloned().collect());
                        continue;
                    };
                    let fresh = what.difference(had);
                    let (values, types): (Vec<&String>, Vec<&String>) =
                        fresh.partition(|w| w.starts_with('='));
                    if !types.is_empty() {
                        r.new_types
                            .insert(path.clone(), types.into_iter().cloned().collect());
                    }
                    if !values.is_empty() {
                        r.new_values.insert(
                            path.clone(),
                            values.into_iter().map(|v| v[1..].to_owned()).collect(),
                        );
                    }
                }
            }
        }
        if r.new_status
            || !r.new_paths.is_empty()
            || !r.new_types.is_empty()
            || !r.new_values.is_empty()
        {
            d.responses.push(r);
        }
    }
    d
}

impl Drift {
    /// True when nothing drifted (still-failing cases are not drift).
    pub fn is_empty(&self) -> bool {
        self.newly_failing.is_empty()
            && self.newly_passing.is_empty()
            && self.newly_flaky.is_empty()
            && self.new_cases.is_empty()
            && self.vanished_cases.is_empty()
            && self.responses.is_empty()
    }

    /// Cases failing or erroring now that did not before: newly failing ones
    /// and new cases that fail.
    pub fn new_failures(&self) -> usize {
        self.newly_failing.len()
            + self
                .new_cases
                .iter()
                .filter(|c| c.new.is_some_and(CaseOutcome::is_bad))
                .count()
    }

    /// True when `policy` says this drift fails the run.
    pub fn fails(&self, policy: FailOn) -> bool {
        match policy {
            FailOn::NewFailures => self.new_failures() > 0,
            FailOn::AnyDrift => !self.is_empty(),
        }
    }

    /// [`exit::DRIFT`] when `policy` says this drift fails the run, else [`exit::SUCCESS`](crate::error::exit::SUCCESS).
    pub fn exit_code(&self, policy: FailOn) -> u8 {
        if self.fails(policy) {
            exit::DRIFT
        } else {
            crate::error::exit::SUCCESS
        }
    }

    /// The terminal rendering: one section per kind of drift, empty ones left out.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "drift: baseline {} -> this run {}",
            run_label(&self.old_run),
            run_label(&self.new_run)
        );
        if self.is_empty() {
            let _ = writeln!(out, "  no drift");
        }
        section(
            &mut out,
            "newly failing",
            &self.newly_failing,
            outcome_change,
        );
        section(
            &mut out,
            "newly passing",
            &self.newly_passing,
            outcome_change,
        );
        section(&mut out, "newly flaky", &self.newly_flaky, outcome_change);
        section(&mut out, "new cases", &self.new_cases, |c| {
            format!("{} ({})", c.id, word(c.new))
        });
        section(&mut out, "vanished cases", &self.vanished_cases, |c| {
            format!("{} (was {})", c.id, word(c.old))
        });
        if !self.responses.is_empty() {
            let _ = writeln!(out, "  response drift ({}):", self.responses.len());
            for r in &self.responses {
                let _ = writeln!(out, "    {}", r.heading());
                for line in r.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
        if !self.still_failing.is_empty() {
            let _ = writeln!(
                out,
                "  still failing, as in the baseline ({}): {}",
                self.still_failing.len(),
                self.still_failing
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out
    }
}

impl ResponseDrift {
    /// `palisade GET /v2/users/{id} -> 200`.
    pub fn heading(&self) -> String {
        format!(
            "{} {} {} -> {}",
            self.suite, self.method, self.operation, self.status
        )
    }

    /// One line per finding: `new status (…)`, `new field $.x: string`,
    /// `new type at $.n: string`, `new value at $.status: ENABLED`.
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.new_status {
            v.push(format!(
                "new status: this operation never answered {} in the baseline",
                self.status
            ));
        }
        for (p, what) in &self.new_paths {
            v.push(format!("new field {p}: {}", what.join(", ")));
        }
        for (p, what) in &self.new_types {
            v.push(format!("new type at {p}: {}", what.join(", ")));
        }
        for (p, what) in &self.new_values {
            v.push(format!("new value at {p}: {}", what.join(", ")));
        }
        v
    }
}

fn word(o: Option<CaseOutcome>) -> &'static str {
    o.map_or("absent", CaseOutcome::word)
}

fn outcome_change(c: &CaseChange) -> String {
    format!("{} ({} -> {})", c.id, word(c.old), word(c.new))
}

fn section(
    out: &mut String,
    title: &str,
    list: &[CaseChange],
    line: impl Fn(&CaseChange) -> String,
) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {title} ({}):", list.len());
    for c in list {
        let _ = writeln!(out, "    {}", line(c));
    }
}

/// `2025-01-31T12:00:00Z (abc1234)`.
pub fn run_label(r: &RunMeta) -> String {
    match &r.git_commit {
        Some(c) => format!("{} ({})", r.started_at, &c[..c.len().min(12)]),
        None => r.started_at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{CaseRecord, StepRecord, StepWord, SummaryTotals};
    use serde_json::json;

    fn summary(cases: Vec<CaseRecord>) -> Summary {
        Summary {
            schema_version: 1,
            run: RunMeta {
                conform_version: "0.1.0".into(),
                target: "mock".into(),
                base_url: None,
                started_at: "2025-01-31T12:00:00Z".into(),
                git_commit: None,
                shard: None,
            },
            totals: SummaryTotals::default(),
            suites: Vec::new(),
            cases,
        }
    }

    fn case(name: &str, outcome: CaseOutcome, steps: Vec<StepRecord>) -> CaseRecord {
        CaseRecord {
            id: format!("s::f::{name}"),
            suite: "s".into(),
            file: "cases/s/f.yaml".into(),
            name: name.into(),
            tags: Vec::new(),
            target: "mock".into(),
            outcome,
            skip_reason: None,
            error: None,
            duration_seconds: 0.0,
            attempts: 1,
            earlier_attempts: Vec::new(),
            failures: Vec::new(),
            steps,
        }
    }

    fn step(template: &str, status: u16, body: serde_json::Value) -> StepRecord {
        StepRecord {
            index: 1,
            cleanup: false,
            name: "get".into(),
            method: "GET".into(),
            path_template: template.into(),
            operation: None,
            request: None,
            status: Some(status),
            outcome: StepWord::Pass,
            message: None,
            notes: Vec::new(),
            duration_seconds: 0.0,
            shape: Some(std::sync::Arc::new(crate::shape::of(&body))),
            body_preview: None,
        }
    }

    use CaseOutcome::{Error, Fail, Flaky, Pass, Skip};

    #[test]
    fn classifies_outcome_changes() {
        let old = summary(vec![
            case("a", Pass, vec![]),
            case("b", Fail, vec![]),
            case("c", Fail, vec![]),
            case("d", Pass, vec![]),
            case("e", Skip, vec![]),
            case("gone", Pass, vec![]),
        ]);
        let new = summary(vec![
            case("a", Error, vec![]),
            case("b", Pass, vec![]),
            case("c", Error, vec![]),
            case("d", Flaky, vec![]),
            case("e", Fail, vec![]),
            case("fresh", Fail, vec![]),
        ]);
        let d = diff(&old, &new);
        let ids = |v: &[CaseChange]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&d.newly_failing), ["s::f::a", "s::f::e"]);
        assert_eq!(ids(&d.newly_passing), ["s::f::b"]);
        assert_eq!(ids(&d.newly_flaky), ["s::f::d"]);
        assert_eq!(ids(&d.new_cases), ["s::f::fresh"]);
        assert_eq!(ids(&d.vanished_cases), ["s::f::gone"]);
        assert_eq!(ids(&d.still_failing), ["s::f::c"]);
        assert_eq!(d.new_failures(), 3);
        assert_eq!(d.exit_code(FailOn::NewFailures), exit::DRIFT);
        assert!(!d.is_empty());
    }

    #[test]
    fn known_failures_and_no_change_are_not_drift() {
        let old = summary(vec![case("a", Fail, vec![]), case("b", Pass, vec![])]);
        let d = diff(&old, &old.clone());
        assert!(d.is_empty(), "{}", d.render_text());
        assert_eq!(d.still_failing.len(), 1);
        assert_eq!(d.exit_code(FailOn::AnyDrift), 0);
        assert!(d.render_text().contains("no drift"));
    }

    #[test]
    fn newly_passing_fails_only_any_drift() {
        let old = summary(vec![case("a", Fail, vec![])]);
        let new = summary(vec![case("a", Pass, vec![])]);
        let d = diff(&old, &new);
        assert_eq!(d.exit_code(FailOn::NewFailures), 0);
        assert_eq!(d.exit_code(FailOn::AnyDrift), exit::DRIFT);
    }

    #[test]
    fn response_drift_is_keyed_by_operation_not_case_wording() {
        let old = summary(vec![
            case(
                "a",
                Pass,
                vec![step("/u/{{id}}", 200, json!({"status": "ON", "n": 1}))],
            ),
            case(
                "b",
                Pass,
                vec![step("/u/{{other}}", 404, json!({"code": 5}))],
            ),
        ]);
        let new = summary(vec![
            case(
                "a",
                Pass,
                vec![step(
                    "/u/{{user_id}}",
                    200,
                    json!({"status": "OFF", "n": "1", "extra": true}),
                )],
            ),
            case("b", Pass, vec![step("/u/{{other}}", 500, json!({}))]),
            // A new case's first call of a new operation is not drift.
            case("c", Pass, vec![step("/v", 200, json!({"z": 1}))]),
        ]);
        let d = diff(&old, &new);
        assert_eq!(d.responses.len(), 2, "{}", d.render_text());
        let r = &d.responses[0];
        assert_eq!((r.operation.as_str(), r.status), ("/u/{}", 200));
        assert_eq!(r.new_paths["$.extra"], ["boolean"]);
        assert_eq!(r.new_types["$.n"], ["string"]);
        assert_eq!(r.new_values["$.status"], ["OFF"]);
        assert!(d.responses[1].new_status);
        assert_eq!(d.responses[1].status, 500);
        assert_eq!(d.exit_code(FailOn::NewFailures), 0);
        assert_eq!(d.exit_code(FailOn::AnyDrift), exit::DRIFT);
    }

    #[test]
    fn normalizes_both_template_and_operation_forms() {
        assert_eq!(normalize("/v2/users/{{user_id}}/info"), "/v2/users/{}/info");
        assert_eq!(normalize("/v2/users/{id}/info"), "/v2/users/{}/info");
        assert_eq!(normalize("/v2/users?role=X"), "/v2/users");
        assert_eq!(normalize("/a/x_{{random(4)}}"), "/a/{}");
    }
}
