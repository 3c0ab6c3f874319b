//! Spec coverage, input side: the documented operations each suite declares
//! beside its cases, in `cases/<suite>/operations.yaml`, kept in step with the docs:
//!
//! ```yaml
//! operations:
//!   - { method: GET, path: "/v2/users/{id}", statuses: [200], also: [400, 401, 403, 404], summary: Get a user }
//! ```
//!
//! `statuses` are the documented statuses (the reference pages'); only they
//! count towards status coverage. `also` lists statuses a real server is known
//! to use beyond the pages: reported when seen, never counted. Any other status
//! seen is reported as *unlisted*.
//!
//! A request is matched to an operation by method and path: literal segments
//! win over `{param}` segments, so `/v2/users/info` is the `info` operation and
//! not `/v2/users/{id}` with id `info`. A case's path template matches with each
//! `{{…}}` segment filling a parameter. The coverage report itself
//! ([`compute`], [`Coverage`]) lives in [`crate::report::coverage`] and is
//! re-exported here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::case::load::{parse_yaml, read_yaml};
use crate::case::model::{S, SuiteFile};
use crate::case::span::did_you_mean;
use crate::case::{Diagnostic, Diagnostics, Pos, Source};
use crate::result::StepResult;

pub use crate::report::coverage::{
    Coverage, OperationCoverage, Ratio, SCHEMA_VERSION, SuiteCoverage, UnmatchedRequest, compute,
};

/// The operations file of a suite, beside its `suite.yaml`.
pub const FILE_NAME: &str = "operations.yaml";

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// `operations.yaml`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationsFile {
    operations: Vec<OperationDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationDef {
    method: S<String>,
    path: S<String>,
    statuses: Vec<S<u16>>,
    #[serde(default)]
    also: Vec<S<u16>>,
    #[serde(default)]
    summary: Option<String>,
}

/// One segment of an operation's path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Matches itself only.
    Literal(String),
    /// `{name}`: matches any non-empty segment.
    Param,
}

/// A documented operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method, uppercase.
    pub method: String,
    /// Path template as documented, e.g. `/v2/users/{id}`.
    pub path: String,
    /// Documented statuses: the ones status coverage counts.
    pub statuses: BTreeSet<u16>,
    /// Statuses a real server is known to use beyond the docs; reported, not counted.
    pub also: BTreeSet<u16>,
    /// Title in the reference pages.
    pub summary: Option<String>,
    segments: Vec<Segment>,
}

impl Operation {
    /// An operation from its parts; `Err` says what is wrong with the path.
    pub fn new(
        method: &str,
        path: &str,
        statuses: impl IntoIterator<Item = u16>,
        also: impl IntoIterator<Item = u16>,
    ) -> Result<Operation, String> {
        Ok(Operation {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            statuses: statuses.into_iter().collect(),
            also: also.into_iter().collect(),
            summary: None,
            segments: parse_template(path)?,
        })
    }

    /// `GET /v2/users/{id}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The template with every parameter written `{}`: two operations with the same
    /// method and shape are the same operation.
    fn shape(&self) -> String {
        let parts: Vec<&str> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.as_str(),
                Segment::Param => "{}",
            })
            .collect();
        format!("/{}", parts.join("/"))
    }

    /// Literal segments first: the more literal, the more specific.
    fn specificity(&self) -> Vec<bool> {
        self.segments
            .iter()
            .map(|s| matches!(s, Segment::Literal(_)))
            .collect()
    }
}

/// Checks an operation path: starts with `/`, no query, each segment a literal
/// or one whole `{name}`.
fn parse_template(path: &str) -> Result<Vec<Segment>, String> {
    if !path.starts_with('/') {
        return Err(format!("path `{path}` must start with `/`"));
    }
    if path.contains(['?', '#']) {
        return Err(format!(
            "path `{path}` must not hold a query or fragment; list the operation once, without it"
        ));
    }
    if path.contains("{{") {
        return Err(format!(
            "path `{path}` uses `{{{{…}}}}`; operations name parameters with single braces, e.g. `/v2/users/{{id}}`"
        ));
    }
    split_path(path)
        .into_iter()
        .map(|seg| {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Ok(Segment::Param);
            }
            if seg.contains(['{', '}']) {
                Err(format!(
                    "segment `{seg}` of `{path}` must be a literal or one whole `{{name}}` parameter"
                ))
            } else {
                Ok(Segment::Literal(seg.to_owned()))
            }
        })
        .collect()
}

/// Segments of a path without its query, fragment, leading and trailing `/`.
fn split_path(path: &str) -> Vec<&str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').collect()
}

/// How one segment of a request may be matched.
#[derive(Debug, Clone, Copy)]
enum Probe<'a> {
    /// A concrete segment: equals a literal, or fills a parameter.
    Concrete(&'a str),
    /// A segment built from a case variable (`{{user_id}}`): fills a parameter only.
    Wild,
}

/// The documented operations of one suite.
#[derive(Debug, Clone)]
pub struct SuiteOperations {
    /// Suite name.
    pub suite: String,
    /// The `operations.yaml` they came from.
    pub file: PathBuf,
    /// In file order.
    pub operations: Vec<Operation>,
}

impl SuiteOperations {
    /// The operation a sent request hit: `path` is the rendered path
    /// (`/v2/users/abc/info`, query ignored). Literal segments win over parameters.
    pub fn match_path(&self, method: &str, path: &str) -> Option<&Operation> {
        let probes: Vec<Probe> = split_path(path).into_iter().map(Probe::Concrete).collect();
        self.best(method, &probes)
    }

    /// The operation a case's path template (`/v2/users/{{user_id}}/info`) calls:
    /// each segment holding `{{…}}` fills a parameter, other segments match as in
    /// [`match_path`](Self::match_path). `None` when the suite declares no such operation.
    pub fn operation_for_template(&self, method: &str, template: &str) -> Option<&Operation> {
        let probes: Vec<Probe> = split_path(template)
            .into_iter()
            .map(|s| {
                if s.contains("{{") {
                    Probe::Wild
                } else {
                    Probe::Concrete(s)
                }
            })
            .collect();
        self.best(method, &probes)
    }

    /// The operation a step called: by its rendered path when it was built,
    /// else by its path template.
    pub fn operation_for_step(&self, step: &StepResult) -> Option<&Operation> {
        match &step.path {
            Some(p) => self.match_path(&step.method, p),
            None => self.operation_for_template(&step.method, &step.path_template),
        }
    }

    fn best(&self, method: &str, probes: &[Probe]) -> Option<&Operation> {
        self.operations
            .iter()
            .filter(|op| op.method.eq_ignore_ascii_case(method))
            .filter(|op| {
                op.segments.len() == probes.len()
                    && op
                        .segments
                        .iter()
                        .zip(probes)
                        .all(|(seg, probe)| match (seg, probe) {
                            (Segment::Literal(l), Probe::Concrete(c)) => l == c,
                            (Segment::Param, Probe::Concrete(c)) => !c.is_empty(),
                            (Segment::Param, Probe::Wild) => true,
                            (Segment::Literal(_), Probe::Wild) => false,
                        })
            })
            .max_by_key(|op| op.specificity())
    }
}

/// The documented operations of every suite that declares them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    suites: BTreeMap<String, SuiteOperations>,
}

impl Catalog {
    /// Adds (or replaces) a suite's operations.
    pub fn insert(&mut self, ops: SuiteOperations) {
        self.suites.insert(ops.suite.clone(), ops);
    }

    /// The operations of `suite`, when it declares them.
    pub fn get(&self, suite: &str) -> Option<&SuiteOperations> {
        self.suites.get(suite)
    }

    /// Every suite's operations, by suite name.
    pub fn suites(&self) -> impl Iterator<Item = &SuiteOperations> {
        self.suites.values()
    }

    /// True when no suite declares operations.
    pub fn is_empty(&self) -> bool {
        self.suites.is_empty()
    }
}

/// Parses `operations.yaml` text for `suite`; every problem found, with file:line:col.
pub fn parse(source: &Source, suite: &str) -> Result<SuiteOperations, Diagnostics> {
    let mut diags = Diagnostics::default();
    let file = match parse_yaml::<OperationsFile>(source) {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            return Err(diags);
        }
    };
    let mut operations: Vec<Operation> = Vec::new();
    let mut first_at: BTreeMap<(String, String), usize> = BTreeMap::new();
    for def in file.operations {
        let at = |s: Pos, m: String| Diagnostic::at(source, s, m);
        let method_pos = def.method.pos;
        let path_pos = def.path.pos;
        let method = def.method.value.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            let help = did_you_mean(&method, METHODS.iter().copied());
            diags.push(
                at(
                    method_pos,
                    format!("unknown HTTP method `{}`", def.method.value),
                )
                .with_help_opt(help),
            );
        }
        if def.statuses.is_empty() {
            diags.push(at(
                method_pos,
                format!(
                    "`{method} {}` lists no documented status; give at least one in `statuses`",
                    def.path.value
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for s in def.statuses.iter().chain(&def.also) {
            let pos = s.pos;
            if !(100..=599).contains(&s.value) {
                diags.push(at(
                    pos,
                    format!("status {} is not an HTTP status (100-599)", s.value),
                ));
            } else if !seen.insert(s.value) {
                diags.push(at(
                    pos,
                    format!(
                        "status {} is listed twice; a status is either documented (`statuses`) or known from elsewhere (`also`)",
                        s.value
                    ),
                ));
            }
        }
        let op = match Operation::new(
            &method,
            &def.path.value,
            def.statuses.iter().map(|s| s.value),
            def.also.iter().map(|s| s.value),
        ) {
            Ok(op) => op,
            Err(m) => {
                diags.push(at(path_pos, m));
                continue;
            }
        };
        let key = (op.method.clone(), op.shape());
        if let Some(line) = first_at.get(&key) {
            diags.push(at(
                path_pos,
                format!(
                    "operation `{}` is declared twice (first at line {line})",
                    op.key()
                ),
            ));
            continue;
        }
        first_at.insert(key, path_pos.line);
        operations.push(Operation {
            summary: def.summary,
            ..op
        });
    }
    if diags.is_empty() {
        Ok(SuiteOperations {
            suite: suite.to_owned(),
            file: source.path.clone(),
            operations,
        })
    } else {
        Err(diags)
    }
}

/// Reads and parses one `operations.yaml`; problems go to `diags`.
pub fn load_file(path: &Path, suite: &str, diags: &mut Diagnostics) -> Option<SuiteOperations> {
    let (source, _) = read_yaml::<serde::de::IgnoredAny>(path, diags)?;
    match parse(&source, suite) {
        Ok(ops) => Some(ops),
        Err(d) => {
            diags.0.extend(d.0);
            None
        }
    }
}

/// Loads the `operations.yaml` of every suite folder under `cases_dir` (a folder
/// with a `suite.yaml`), keyed by the suite's `name:`. Suites without the file are
/// left out. Problems in `suite.yaml` itself are left to the case loader.
pub fn load_dir(cases_dir: &Path) -> Result<Catalog, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut catalog = Catalog::default();
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(cases_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(e) => {
            diags.push(Diagnostic::file(
                cases_dir,
                format!("cannot read the cases folder: {e}"),
            ));
            return Err(diags);
        }
    };
    dirs.sort();
    for dir in dirs {
        let ops_path = dir.join(FILE_NAME);
        if !ops_path.is_file() {
            continue;
        }
        let mut ignored = Diagnostics::default();
        let Some((_, suite)) = read_yaml::<SuiteFile>(&dir.join("suite.yaml"), &mut ignored) else {
            continue;
        };
        if let Some(ops) = load_file(&ops_path, &suite.name.value, &mut diags) {
            catalog.insert(ops);
        }
    }
    if diags.is_empty() {
        Ok(catalog)
    } else {
        diags.sort();
        Err(diags)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ops(list: &[(&str, &str, &[u16])]) -> SuiteOperations {
        SuiteOperations {
            suite: "s".into(),
            file: "operations.yaml".into(),
            operations: list
                .iter()
                .map(|(m, p, st)| Operation::new(m, p, st.iter().copied(), [404]).unwrap())
                .collect(),
        }
    }

    pub(crate) fn users() -> SuiteOperations {
        ops(&[
            ("GET", "/v2/users", &[200]),
            ("GET", "/v2/users/{id}", &[200, 404]),
            ("GET", "/v2/users/info", &[200]),
            ("GET", "/v2/users/{id}/info", &[200]),
            ("DELETE", "/v2/users/{id}", &[200]),
        ])
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let o = users();
        let hit = |m: &str, p: &str| o.match_path(m, p).map(|op| op.path.as_str());
        assert_eq!(hit("GET", "/v2/users/info"), Some("/v2/users/info"));
        assert_eq!(hit("GET", "/v2/users/abc"), Some("/v2/users/{id}"));
        assert_eq!(
            hit("GET", "/v2/users/abc/info"),
            Some("/v2/users/{id}/info")
        );
        assert_eq!(
            hit("GET", "/v2/users/info/info"),
            Some("/v2/users/{id}/info")
        );
        assert_eq!(hit("get", "/v2/users/?role=X"), Some("/v2/users"));
        assert_eq!(hit("DELETE", "/v2/users/abc"), Some("/v2/users/{id}"));
        assert_eq!(hit("PUT", "/v2/users/abc"), None);
        assert_eq!(hit("GET", "/v2/users//info"), None);
        assert_eq!(hit("GET", "/v2/users/a/b/c"), None);
    }

    #[test]
    fn templates_map_variable_segments_to_parameters_only() {
        let o = users();
        let hit = |m: &str, p: &str| o.operation_for_template(m, p).map(|op| op.path.as_str());
        assert_eq!(
            hit("GET", "/v2/users/{{user_id}}/info"),
            Some("/v2/users/{id}/info")
        );
        assert_eq!(hit("GET", "/v2/users/{{id}}"), Some("/v2/users/{id}"));
        assert_eq!(
            hit("GET", "/v2/users/x_{{random(4)}}"),
            Some("/v2/users/{id}")
        );
        assert_eq!(hit("GET", "/v2/users/info"), Some("/v2/users/info"));
        assert_eq!(
            hit("GET", "/v2/users/00000000-0000"),
            Some("/v2/users/{id}")
        );
        assert_eq!(hit("GET", "/v2/{{what}}"), None);
        assert_eq!(hit("POST", "/v2/users/{{id}}"), None);
    }

    fn src(text: &str) -> Source {
        Source::new("cases/s/operations.yaml", text)
    }

    #[test]
    fn parses_the_file() {
        let o = parse(
            &src("operations:\n  - { method: get, path: \"/a/{id}\", statuses: [200, 404], also: [401], summary: Get }\n"),
            "s",
        )
        .unwrap();
        let op = &o.operations[0];
        assert_eq!(op.key(), "GET /a/{id}");
        assert_eq!(op.statuses, BTreeSet::from([200, 404]));
        assert_eq!(op.also, BTreeSet::from([401]));
        assert_eq!(op.summary.as_deref(), Some("Get"));
    }

    #[test]
    fn reports_every_problem_with_its_position() {
        let text = "operations:\n  - { method: GTE, path: /a, statuses: [200] }\n  - { method: GET, path: a/b, statuses: [200] }\n  - { method: GET, path: /c, statuses: [200, 200], also: [999] }\n  - { method: GET, path: \"/d/{x}\", statuses: [] }\n  - { method: GET, path: \"/d/{y}\", statuses: [200] }\n  - { method: GET, path: \"/e/{{x}}\", statuses: [200] }\n";
        let d = parse(&src(text), "s").unwrap_err();
        let lines: Vec<(usize, &str)> =
            d.0.iter()
                .map(|d| (d.pos.line, d.message.as_str()))
                .collect();
        assert_eq!(lines.len(), 7, "{d}");
        assert_eq!(lines[0].0, 2);
        assert!(lines[0].1.contains("unknown HTTP method `GTE`"), "{d}");
        assert_eq!(d.0[0].help.as_deref(), Some("did you mean `GET`?"));
        assert!(
            lines[1].1.contains("must start with `/`") && lines[1].0 == 3,
            "{d}"
        );
        assert!(
            lines[2].1.contains("listed twice") && lines[2].0 == 4,
            "{d}"
        );
        assert!(lines[3].1.contains("999"), "{d}");
        assert!(
            lines[4].1.contains("no documented status") && lines[4].0 == 5,
            "{d}"
        );
        assert!(
            lines[5].1.contains("declared twice (first at line 5)"),
            "{d}"
        );
        assert!(lines[6].1.contains("single braces"), "{d}");
        let rendered = d.to_string();
        assert!(
            rendered.contains("cases/s/operations.yaml:2:"),
            "{rendered}"
        );
    }

    #[test]
    fn unknown_key_is_a_diagnostic_with_help() {
        let d = parse(
            &src("operations:\n  - { method: GET, path: /a, status: [200] }\n"),
            "s",
        )
        .unwrap_err();
        assert_eq!(d.0[0].pos.line, 2, "{d}");
        assert!(d.0[0].message.contains("unknown field `status`"), "{d}");
        assert_eq!(d.0[0].help.as_deref(), Some("did you mean `statuses`?"));
    }
}
