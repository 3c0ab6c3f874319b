//! Stage 5 — report: spec coverage, `reports/coverage.json`. Which documented
//! operations ([`crate::coverage`], each suite's `operations.yaml`) a run
//! exercised, and which of their documented statuses it saw; a pure function
//! of the run's [`CaseResult`]s. Re-exported as `crate::coverage::{compute, Coverage, …}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::coverage::{Catalog, FILE_NAME};
use crate::result::CaseResult;

/// Version of the `coverage.json` format; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Counts and the percentage they make.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// How many were exercised.
    pub covered: usize,
    /// How many there are.
    pub total: usize,
    /// `covered / total` in percent, rounded to 0.01; `null` when `total` is 0.
    pub percent: Option<f64>,
}

impl Ratio {
    fn new(covered: usize, total: usize) -> Ratio {
        Ratio {
            covered,
            total,
            percent: (total > 0).then(|| round2(covered as f64 * 100.0 / total as f64)),
        }
    }

    /// `9/12 (75.0%)`, or `0/0` when there is nothing to cover.
    pub fn text(&self) -> String {
        match self.percent {
            Some(p) => format!("{}/{} ({p:.1}%)", self.covered, self.total),
            None => "0/0".to_owned(),
        }
    }

    /// Exact comparison, not on the rounded percentage.
    fn below(&self, min_percent: f64) -> bool {
        (self.covered as f64) * 100.0 < min_percent * self.total as f64
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `coverage.json`: what a run exercised of the documented operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Operations exercised, over every suite that declares operations and ran.
    pub operations: Ratio,
    /// Documented statuses seen, over the same suites.
    pub statuses: Ratio,
    /// Per suite, by name.
    pub suites: Vec<SuiteCoverage>,
    /// Suites that ran but declare no operations (not counted).
    pub suites_without_operations: Vec<String>,
}

/// One suite's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteCoverage {
    /// Suite name.
    pub suite: String,
    /// Operations exercised.
    pub operations: Ratio,
    /// Documented statuses seen.
    pub statuses: Ratio,
    /// Every declared operation, in file order.
    pub operation_list: Vec<OperationCoverage>,
    /// Requests that matched no declared operation (the docs or the file lag behind the cases).
    pub unmatched: Vec<UnmatchedRequest>,
}

/// One operation's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationCoverage {
    /// HTTP method.
    pub method: String,
    /// Path template as documented.
    pub path: String,
    /// Title in the reference pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// At least one request got a response.
    pub exercised: bool,
    /// Responses received.
    pub requests: usize,
    /// Documented statuses.
    pub documented: Vec<u16>,
    /// Every status seen.
    pub seen: Vec<u16>,
    /// Documented statuses never seen.
    pub missing: Vec<u16>,
    /// Statuses seen that are neither documented nor listed under `also`.
    pub unlisted: Vec<u16>,
    /// Ids of the cases that exercised it.
    pub cases: Vec<String>,
}

/// Requests of one method and path template that matched no declared operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedRequest {
    /// HTTP method.
    pub method: String,
    /// The path template as written in the cases.
    pub path_template: String,
    /// Ids of the cases that sent it.
    pub cases: Vec<String>,
}

#[derive(Default)]
struct Seen {
    requests: usize,
    statuses: BTreeSet<u16>,
    cases: BTreeSet<String>,
}

/// Coverage of `results` against `catalog`, over the suites that have at least
/// one result (any outcome) and declare operations. A step counts when a
/// response came back; cleanup steps count too.
pub fn compute(results: &[CaseResult], catalog: &Catalog) -> Coverage {
    let ran: BTreeSet<&str> = results.iter().map(|r| &*r.id.suite).collect();
    let mut seen: BTreeMap<(&str, usize), Seen> = BTreeMap::new();
    let mut unmatched: BTreeMap<(&str, String, String), BTreeSet<String>> = BTreeMap::new();
    for r in results {
        let Some(ops) = catalog.get(&r.id.suite) else {
            continue;
        };
        for step in &r.steps {
            let Some(status) = step.status else { continue };
            match ops.operation_for_step(step) {
                Some(op) => {
                    let i = ops
                        .operations
                        .iter()
                        .position(|o| std::ptr::eq(o, op))
                        .expect("the operation comes from this list");
                    let s = seen.entry((ops.suite.as_str(), i)).or_default();
                    s.requests += 1;
                    s.statuses.insert(status);
                    s.cases.insert(r.id.to_string());
                }
                None => {
                    unmatched
                        .entry((
                            ops.suite.as_str(),
                            step.method.clone(),
                            step.path_template.clone(),
                        ))
                        .or_default()
                        .insert(r.id.to_string());
                }
            }
        }
    }
    let mut suites = Vec::new();
    let (mut ops_total, mut ops_cov, mut st_total, mut st_cov) = (0, 0, 0, 0);
    for ops in catalog.suites().filter(|s| ran.contains(s.suite.as_str())) {
        let mut list = Vec::new();
        let (mut o_cov, mut s_total, mut s_cov) = (0, 0, 0);
        for (i, op) in ops.operations.iter().enumerate() {
            let empty = Seen::default();
            let s = seen.get(&(ops.suite.as_str(), i)).unwrap_or(&empty);
            let exercised = s.requests > 0;
            o_cov += usize::from(exercised);
            s_total += op.statuses.len();
            s_cov += op.statuses.intersection(&s.statuses).count();
            list.push(OperationCoverage {
                method: op.method.clone(),
                path: op.path.clone(),
                summary: op.summary.clone(),
                exercised,
                requests: s.requests,
                documented: op.statuses.iter().copied().collect(),
                seen: s.statuses.iter().copied().collect(),
                missing: op.statuses.difference(&s.statuses).copied().collect(),
                unlisted: s
                    .statuses
                    .iter()
                    .filter(|c| !op.statuses.contains(c) && !op.also.contains(c))
                    .copied()
                    .collect(),
                cases: s.cases.iter().cloned().collect(),
            });
        }
        ops_total += ops.operations.len();
        ops_cov += o_cov;
        st_total += s_total;
        st_cov += s_cov;
        suites.push(SuiteCoverage {
            suite: ops.suite.clone(),
            operations: Ratio::new(o_cov, ops.operations.len()),
            statuses: Ratio::new(s_cov, s_total),
            operation_list: list,
            unmatched: unmatched
                .iter()
                .filter(|((suite, _, _), _)| *suite == ops.suite)
                .map(|((_, method, path), cases)| UnmatchedRequest {
                    method: method.clone(),
                    path_template: path.clone(),
                    cases: cases.iter().cloned().collect(),
                })
                .collect(),
        });
    }
    Coverage {
        schema_version: SCHEMA_VERSION,
        operations: Ratio::new(ops_cov, ops_total),
        statuses: Ratio::new(st_cov, st_total),
        suites,
        suites_without_operations: ran
            .iter()
            .filter(|s| catalog.get(s).is_none())
            .map(|s| (*s).to_owned())
            .collect(),
    }
}

impl Coverage {
    /// `Ok` when operation coverage reaches `min_percent` (`--min-coverage`);
    /// otherwise the message to print. No declared operation at all is an `Err`
    /// too: the bar cannot be shown to hold.
    pub fn require(&self, min_percent: f64) -> Result<(), String> {
        if self.operations.total == 0 {
            return Err(format!(
                "--min-coverage {min_percent}: no suite that ran declares its operations \
                 (cases/<suite>/{FILE_NAME}), so operation coverage is unknown"
            ));
        }
        if self.operations.below(min_percent) {
            let missing: Vec<String> = self
                .suites
                .iter()
                .flat_map(|s| {
                    s.operation_list
                        .iter()
                        .filter(|o| !o.exercised)
                        .map(move |o| format!("{} {} {}", s.suite, o.method, o.path))
                })
                .collect();
            return Err(format!(
                "operation coverage {} is below --min-coverage {min_percent}%; not exercised: {}",
                self.operations.text(),
                missing.join(", ")
            ));
        }
        Ok(())
    }

    /// The terminal summary printed at the end of a run.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "coverage: {} operations, {} documented statuses",
            self.operations.text(),
            self.statuses.text()
        );
        for s in &self.suites {
            let _ = writeln!(
                out,
                "  {}: {} operations, {} documented statuses",
                s.suite,
                s.operations.text(),
                s.statuses.text()
            );
            for o in &s.operation_list {
                if !o.exercised {
                    let _ = writeln!(out, "    not exercised: {} {}", o.method, o.path);
                } else if !o.missing.is_empty() {
                    let _ = writeln!(
                        out,
                        "    {} {}: documented status {} not seen",
                        o.method,
                        o.path,
                        join(&o.missing)
                    );
                }
                if !o.unlisted.is_empty() {
                    let _ = writeln!(
                        out,
                        "    {} {}: unlisted status {} seen",
                        o.method,
                        o.path,
                        join(&o.unlisted)
                    );
                }
            }
            for u in &s.unmatched {
                let _ = writeln!(
                    out,
                    "    no declared operation for {} {} ({} case{})",
                    u.method,
                    u.path_template,
                    u.cases.len(),
                    if u.cases.len() == 1 { "" } else { "s" }
                );
            }
        }
        if !self.suites_without_operations.is_empty() {
            let _ = writeln!(
                out,
                "  not counted (no {FILE_NAME}): {}",
                self.suites_without_operations.join(", ")
            );
        }
        out
    }

    /// JUnit `<property>` pairs for the `<testsuite>` of `suite`: operation and
    /// status coverage, and what was not exercised. Empty when the suite is not covered.
    pub fn junit_properties(&self, suite: &str) -> Vec<(String, String)> {
        let Some(s) = self.suites.iter().find(|s| s.suite == suite) else {
            return Vec::new();
        };
        let pct = |r: &Ratio| r.percent.map(|p| format!("{p:.2}")).unwrap_or_default();
        let mut props = vec![
            (
                "coverage.operations".to_owned(),
                format!("{}/{}", s.operations.covered, s.operations.total),
            ),
            ("coverage.operations_percent".to_owned(), pct(&s.operations)),
            (
                "coverage.statuses".to_owned(),
                format!("{}/{}", s.statuses.covered, s.statuses.total),
            ),
            ("coverage.statuses_percent".to_owned(), pct(&s.statuses)),
        ];
        let not_exercised: Vec<String> = s
            .operation_list
            .iter()
            .filter(|o| !o.exercised)
            .map(|o| format!("{} {}", o.method, o.path))
            .collect();
        if !not_exercised.is_empty() {
            props.push((
                "coverage.not_exercised".to_owned(),
                not_exercised.join(", "),
            ));
        }
        let missing: Vec<String> = s
            .operation_list
            .iter()
            .filter(|o| o.exercised && !o.missing.is_empty())
            .map(|o| format!("{} {} {}", o.method, o.path, join(&o.missing)))
            .collect();
        if !missing.is_empty() {
            props.push(("coverage.missing_statuses".to_owned(), missing.join(", ")));
        }
        props
    }

    /// Adds [`junit_properties`](Self::junit_properties) to each matching `<testsuite>` of a built report.
    pub fn add_to_junit(&self, report: &mut quick_junit::Report) {
        for ts in &mut report.test_suites {
            for (name, value) in self.junit_properties(ts.name.as_str()) {
                ts.add_property(quick_junit::Property::new(name, value));
            }
        }
    }

    /// Pretty JSON, as written to `reports/coverage.json`.
    pub fn to_json(&self) -> String {
        crate::report::json::pretty(self)
    }

    /// Writes [`to_json`](Self::to_json) to `path` atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::report::junit::write_atomic(path, self.to_json().as_bytes())
    }
}

fn join(codes: &[u16]) -> String {
    codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The union of shards' coverage: an operation or status exercised in any shard is exercised.
pub fn union(shards: Vec<Coverage>) -> Option<Coverage> {
    use std::collections::BTreeSet;
    let mut it = shards.into_iter();
    let mut out = it.next()?;
    for c in it {
        for s in c.suites {
            let Some(mine) = out.suites.iter_mut().find(|x| x.suite == s.suite) else {
                out.suites.push(s);
                continue;
            };
            for op in s.operation_list {
                let Some(m) = mine
                    .operation_list
                    .iter_mut()
                    .find(|o| o.method == op.method && o.path == op.path)
                else {
                    mine.operation_list.push(op);
                    continue;
                };
                let merge = |a: &mut Vec<u16>, b: Vec<u16>| {
                    let set: BTreeSet<u16> = a.drain(..).chain(b).collect();
                    a.extend(set);
                };
                m.exercised |= op.exercised;
                m.requests += op.requests;
                merge(&mut m.seen, op.seen);
                merge(&mut m.unlisted, op.unlisted);
                m.missing = m
                    .documented
                    .iter()
                    .copied()
                    .filter(|d| !m.seen.contains(d))
                    .collect();
                let cases: BTreeSet<String> = m.cases.drain(..).chain(op.cases).collect();
                m.cases.extend(cases);
            }
            for u in s.unmatched {
                match mine
                    .unmatched
                    .iter_mut()
                    .find(|x| x.method == u.method && x.path_template == u.path_template)
                {
                    Some(x) => {
                        let cases: BTreeSet<String> = x.cases.drain(..).chain(u.cases).collect();
                        x.cases.extend(cases);
                    }
                    None => mine.unmatched.push(u),
                }
            }
        }
        for s in c.suites_without_operations {
            if !out.suites_without_operations.contains(&s) {
                out.suites_without_operations.push(s);
            }
        }
    }
    let (mut oc, mut ot, mut sc, mut st) = (0, 0, 0, 0);
    for s in &mut out.suites {
        let o_cov = s.operation_list.iter().filter(|o| o.exercised).count();
        let s_tot: usize = s.operation_list.iter().map(|o| o.documented.len()).sum();
        let s_cov: usize = s
            .operation_list
            .iter()
            .map(|o| o.documented.len() - o.missing.len())
            .sum();
        s.operations = Ratio::new(o_cov, s.operation_list.len());
        s.statuses = Ratio::new(s_cov, s_tot);
        oc += o_cov;
        ot += s.operation_list.len();
        sc += s_cov;
        st += s_tot;
    }
    out.operations = Ratio::new(oc, ot);
    out.statuses = Ratio::new(sc, st);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::tests::users;
    use crate::result::{StepOutcome, StepResult};
    use std::time::Duration;

    fn step(method: &str, path: &str, status: Option<u16>) -> StepResult {
        StepResult {
            index: 1,
            cleanup: false,
            name: "s".into(),
            method: method.into(),
            path_template: path.into(),
            path: Some(path.into()),
            request_line: None,
            shape: None,
            status,
            outcome: StepOutcome::Passed,
            duration: Duration::ZERO,
            extra: None,
        }
    }

    fn case(name: &str, steps: Vec<StepResult>) -> CaseResult {
        CaseResult::passed_for_test(name, steps)
    }

    #[test]
    fn computes_operation_and_status_coverage() {
        let mut catalog = Catalog::default();
        catalog.insert(users());
        let results = vec![
            case(
                "a",
                vec![
                    step("GET", "/v2/users", Some(200)),
                    step("GET", "/v2/users/x", Some(404)),
                    step("GET", "/v2/users/x", Some(500)),
                    step("GET", "/v2/nope", Some(404)),
                ],
            ),
            case("b", vec![step("GET", "/v2/users/info", None)]),
        ];
        let c = compute(&results, &catalog);
        assert_eq!((c.operations.covered, c.operations.total), (2, 5));
        assert_eq!(c.operations.percent, Some(40.0));
        assert_eq!((c.statuses.covered, c.statuses.total), (2, 6));
        let by_id = &c.suites[0].operation_list[1];
        assert_eq!(by_id.seen, [404, 500]);
        assert_eq!(by_id.missing, [200]);
        assert_eq!(by_id.unlisted, [500]);
        assert_eq!(by_id.cases, ["s::f::a"]);
        assert!(
            !c.suites[0].operation_list[2].exercised,
            "no response, not exercised"
        );
        assert_eq!(c.suites[0].unmatched[0].path_template, "/v2/nope");
        assert!(c.require(40.0).is_ok());
        let err = c.require(40.1).unwrap_err();
        assert!(
            err.contains("2/5 (40.0%)") && err.contains("s GET /v2/users/info"),
            "{err}"
        );
        let props = c.junit_properties("s");
        assert_eq!(props[0], ("coverage.operations".into(), "2/5".into()));
        assert_eq!(
            props[1],
            ("coverage.operations_percent".into(), "40.00".into())
        );
        assert!(c.junit_properties("other").is_empty());
    }

    #[test]
    fn suites_that_did_not_run_or_declare_nothing_are_not_counted() {
        let mut catalog = Catalog::default();
        catalog.insert(users());
        let mut other = case("x", vec![step("GET", "/", Some(200))]);
        other.id.suite = "t".into();
        let c = compute(&[other], &catalog);
        assert!(c.suites.is_empty());
        assert_eq!(c.suites_without_operations, ["t"]);
        assert_eq!(c.operations.percent, None);
        assert!(c.require(0.0).is_err());
    }
}
