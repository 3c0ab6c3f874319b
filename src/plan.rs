//! Stage 2 — plan: turn loaded suites into compiled, ready-to-run cases.
//!
//! Everything that can fail offline fails here, all at once, before any
//! request: methods, templates, undefined variables, regexes, JSONPaths,
//! schema names and the schemas themselves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::case::model::{AuthMode, CaseDef, S, Scalar, StepDef, TargetFile};
use crate::case::span::did_you_mean;
use crate::case::{Diagnostic, Diagnostics, LoadedSuite, Pos, Source};
use crate::check::body::BodyCheck;
use crate::check::header::HeaderCheck;
use crate::check::jsonpath::JsonPathCheck;
use crate::check::schema::SchemaCheck;
use crate::check::status::StatusCheck;
use crate::check::{Check, PlanError};
use crate::schema::SchemaRegistry;
use crate::template::{JsonTemplate, Template};

/// Variables every case can read without defining them.
pub const BUILTIN_VARS: &[&str] = &["run_id"];

/// Methods that change state; a read-only target never receives them.
pub const WRITE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A case's stable id: `suite::file::name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    /// Suite name (shared by every case of the suite).
    pub suite: std::sync::Arc<str>,
    /// Case file stem (shared by every case of the file).
    pub file: std::sync::Arc<str>,
    /// Case name.
    pub name: String,
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}::{}", self.suite, self.file, self.name)
    }
}

/// A suite with its compiled cases and schemas.
#[derive(Debug)]
pub struct PlannedSuite {
    /// Suite name.
    pub name: String,
    /// The embedded mock API serving the `mock` target, if any.
    pub mock: Option<String>,
    /// Targets by name, as written.
    pub targets: IndexMap<String, TargetDef>,
    /// The auth scheme.
    pub auth: Option<AuthDef>,
    /// Compiled schemas.
    pub schemas: SchemaRegistry,
    /// Suite variables, in order.
    pub variables: Vec<(String, Template)>,
    /// The cases, in file order.
    pub cases: Vec<PlannedCase>,
}

/// A target of a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDef {
    /// Base URL or `mock`.
    pub url: String,
    /// Never receives writes without `--allow-writes`.
    pub read_only: bool,
}

/// A suite's auth scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDef {
    /// Header name.
    pub header: String,
    /// Prefix before the secret.
    pub prefix: String,
    /// Environment variable holding the secret.
    pub env: String,
    /// A token flow, used when `env` is unset.
    pub token: Option<TokenDef>,
}

/// The token flows conform knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFlow {
    /// `{clientId, clientSecret}` → `{accessToken, expiresIn}` (Palisade).
    OAuthClientCredentials,
    /// `{api_key_id, api_key_secret}` → `{access_token, expires_in, refresh_token}` (Ledger).
    Ledger,
}

impl TokenFlow {
    /// Names as written in suite files.
    pub const NAMES: &'static [&'static str] = &["oauth-client-credentials", "ledger"];

    fn parse(s: &str) -> Option<TokenFlow> {
        match s {
            "oauth-client-credentials" => Some(TokenFlow::OAuthClientCredentials),
            "ledger" => Some(TokenFlow::Ledger),
            _ => None,
        }
    }
}

/// A suite's token flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDef {
    /// Which flow.
    pub flow: TokenFlow,
    /// Token endpoint path.
    pub path: String,
    /// Refresh endpoint path.
    pub refresh_path: Option<String>,
    /// Variable holding the id.
    pub id_env: String,
    /// Variable holding the secret.
    pub secret_env: String,
}

/// A compiled case.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    /// `suite::file::name`.
    pub id: CaseId,
    /// The case file, as given to the loader (shared by every case of the file).
    pub file: std::sync::Arc<Path>,
    /// Line of the case's `name:`.
    pub line: usize,
    /// Tags.
    pub tags: Vec<String>,
    /// Case variables, evaluated in order when the case starts.
    pub variables: Vec<(String, Template)>,
    /// Steps in order.
    pub steps: Vec<PlannedStep>,
    /// Steps that always run afterwards.
    pub cleanup: Vec<PlannedStep>,
}

impl PlannedCase {
    /// True when any step or cleanup step changes state.
    pub fn writes(&self) -> bool {
        self.steps
            .iter()
            .chain(&self.cleanup)
            .any(|s| WRITE_METHODS.contains(&s.method.as_str()))
    }
}

/// A compiled step.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// Name for reports.
    pub name: String,
    /// HTTP method, uppercase.
    pub method: String,
    /// Path template.
    pub path: Template,
    /// The path template as written.
    pub path_text: String,
    /// Query parameters.
    pub query: Vec<(String, Template)>,
    /// Extra headers.
    pub headers: Vec<(String, Template)>,
    /// Body.
    /// (Boxed: most steps send none, and a plan is held for every case.)
    pub body: Option<Box<BodySpec>>,
    /// Timeout for this step, if set.
    pub timeout: Option<Duration>,
    /// Wait before sending.
    pub delay: Option<Duration>,
    /// The request body's schema, for `--generate-negative`.
    pub request_schema: Option<String>,
    /// How it authenticates.
    pub auth: StepAuth,
    /// Expectations, shared with earlier steps of the suite that expect the same.
    pub checks: std::sync::Arc<[Check]>,
    /// Variables taken from the response.
    pub captures: Vec<Capture>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum BodySpec {
    /// JSON, sent with `Content-Type: application/json`.
    Json(JsonTemplate),
    /// Raw text, sent as written.
    Raw(Template),
}

/// How a step authenticates.
#[derive(Debug, Clone)]
pub enum StepAuth {
    /// The suite's credential.
    Default,
    /// No auth header.
    None,
    /// This value instead of the credential.
    Value(Template),
}

/// A variable captured from a response.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Variable name.
    pub name: String,
    /// Where it comes from.
    pub source: CaptureSource,
    /// Redacted in reports.
    pub secret: bool,
    /// A missing value is not a failure.
    pub optional: bool,
}

/// Where a capture reads.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// A JSONPath into the body (its first match).
    JsonPath(String, JsonPath),
    /// A response header.
    Header(String),
}

/// Plans every loaded suite; all problems at once.
pub fn plan(suites: Vec<LoadedSuite>) -> Result<Vec<PlannedSuite>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for s in suites {
        if !names.insert(s.def.name.value.clone()) {
            let p = s.def.name.pos;
            diags.push(Diagnostic::at(
                &s.source,
                p,
                format!("another suite is also named `{}`", s.def.name.value),
            ));
        }
        out.push(plan_suite(s, &mut diags));
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        diags.sort();
        Err(diags)
    }
}

/// Plans one suite; problems go to `diags`.
pub fn plan_suite(s: LoadedSuite, diags: &mut Diagnostics) -> PlannedSuite {
    let def = s.def;
    let name = def.name.value.clone();
    let schemas_dir = normalize(&match &def.schemas {
        Some(p) => s.dir.join(&p.value),
        None => s.dir.join("../../schemas").join(&name),
    });
    if let Some(p) = &def.schemas
        && !schemas_dir.is_dir()
    {
        diags.push(Diagnostic::at(
            &s.source,
            p.pos,
            format!("schemas folder `{}` does not exist", schemas_dir.display()),
        ));
    }
    crate::timings::mark("suite file");
    let schemas = SchemaRegistry::load(&name, &schemas_dir, diags);
    crate::timings::mark("schemas");

    let mut shared = SharedChecks::default();
    let mut ctx = Ctx {
        source: &s.source,
        diags,
        schemas: &schemas,
        shared: &mut shared,
    };
    let variables = ctx.var_templates(
        &def.variables,
        &mut BUILTIN_VARS.iter().map(|v| v.to_string()).collect(),
    );
    let targets = def
        .targets
        .iter()
        .map(|(k, t): (&String, &TargetFile)| {
            (
                k.clone(),
                TargetDef {
                    url: t.url.value.clone(),
                    read_only: t.read_only,
                },
            )
        })
        .collect::<IndexMap<_, _>>();
    for (k, t) in &def.targets {
        let v = &t.url.value;
        if v != "mock" && url::Url::parse(v).is_err() {
            ctx.err(
                t.url.pos,
                format!("target `{k}`: `{v}` is neither `mock` nor an absolute URL"),
            );
        }
    }
    let auth = def.auth.as_ref().map(|a| AuthDef {
        header: a.header.value.clone(),
        prefix: a.prefix.clone(),
        env: a.env.value.clone(),
        token: a.token.as_ref().and_then(|t| {
            let Some(flow) = TokenFlow::parse(&t.flow.value) else {
                let help = did_you_mean(&t.flow.value, TokenFlow::NAMES.iter().copied());
                ctx.diags.push(
                    Diagnostic::at(
                        &s.source,
                        pos(&t.flow),
                        format!(
                            "unknown token flow `{}`; expected one of {}",
                            t.flow.value,
                            TokenFlow::NAMES.join(", ")
                        ),
                    )
                    .with_help_opt(help),
                );
                return None;
            };
            Some(TokenDef {
                flow,
                path: t.path.value.clone(),
                refresh_path: t.refresh_path.as_ref().map(|p| p.value.clone()),
                id_env: t.id_env.value.clone(),
                secret_env: t.secret_env.value.clone(),
            })
        }),
    });
    let suite_vars: Vec<String> = BUILTIN_VARS
        .iter()
        .map(|v| v.to_string())
        .chain(variables.iter().map(|(k, _)| k.clone()))
        .collect();

    let suite_name: std::sync::Arc<str> = name.as_str().into();
    let mut cases = Vec::new();
    for file in &s.files {
        let Some(source) = file.read(ctx.diags) else {
            continue;
        };
        let stem = source
            .path
            .file_stem()
            .and_then(|x| x.to_str())
            .unwrap_or_default();
        let stem: std::sync::Arc<str> = stem.into();
        let path: std::sync::Arc<Path> = source.path.as_path().into();
        let mut file_plan = FilePlan {
            suite: &suite_name,
            stem: &stem,
            path: &path,
            suite_vars: &suite_vars,
            seen: BTreeSet::new(),
        };
        // A file in the fast reader's subset is read and planned one case at
        // a time: each case's raw model (about 2 KB for a one-step case) is
        // dropped before the next is made, so the memory it took is used again
        // instead of being touched fresh for every case (first touches cost
        // 3-3.5 us a page on this kind of virtual machine).
        let (cases_before, diags_before) = (cases.len(), ctx.diags.0.len());
        let streamed = {
            let mut fctx = Ctx {
                source: &source,
                diags: &mut *ctx.diags,
                schemas: &schemas,
                shared: &mut *ctx.shared,
            };
            crate::case::fast::parse_items::<CaseDef>(&source.text, "cases", |c, n| {
                // Exact growth, one file at a time: no doubling slack over every plan.
                cases.reserve_exact(cases_before + n - cases.len());
                file_plan.case(&mut fctx, c, &mut cases);
            })
            .is_some()
        };
        if streamed {
            crate::timings::mark("parse + plan (case by case)");
            continue;
        }
        // Outside the subset, or not a valid file: undo what the cases read
        // so far added, and read the file whole as before (its errors are
        // serde-saphyr's).
        cases.truncate(cases_before);
        ctx.diags.0.truncate(diags_before);
        file_plan.seen.clear();
        let Some((source, def)) = file.parse_beyond_the_subset(source, s.cache.as_ref(), ctx.diags)
        else {
            continue;
        };
        crate::timings::mark("parse (YAML)");
        let mut fctx = Ctx {
            source: &source,
            diags: &mut *ctx.diags,
            schemas: &schemas,
            shared: &mut *ctx.shared,
        };
        // Each case's raw model is dropped as soon as it is planned, so a large
        // file's model never sits beside all of its plans.
        cases.reserve_exact(def.cases.len());
        for c in def.cases {
            file_plan.case(&mut fctx, c, &mut cases);
        }
    }
    crate::timings::mark("plan cases");
    cases.shrink_to_fit();

    PlannedSuite {
        name,
        mock: def.mock.map(|m| m.value),
        targets,
        auth,
        schemas,
        variables,
        cases,
    }
}

/// What planning a case of one file needs besides the context.
struct FilePlan<'f> {
    suite: &'f std::sync::Arc<str>,
    stem: &'f std::sync::Arc<str>,
    path: &'f std::sync::Arc<Path>,
    suite_vars: &'f [String],
    /// Case names seen so far in the file.
    seen: BTreeSet<String>,
}

impl FilePlan<'_> {
    /// Plans case `c` of the file into `cases`; problems go to `ctx`.
    fn case(&mut self, ctx: &mut Ctx<'_>, c: CaseDef, cases: &mut Vec<PlannedCase>) {
        if !self.seen.insert(c.name.value.clone()) {
            ctx.err(
                c.name.pos,
                format!("another case in this file is also named `{}`", c.name.value),
            );
        }
        let id = CaseId {
            suite: self.suite.clone(),
            file: self.stem.clone(),
            name: c.name.value.clone(),
        };
        if let Some(pc) = ctx.case(&c, id, self.path, self.suite_vars) {
            cases.push(pc);
        }
    }
}

struct Ctx<'a> {
    source: &'a Source,
    diags: &'a mut Diagnostics,
    schemas: &'a SchemaRegistry,
    shared: &'a mut SharedChecks,
}

/// The last few distinct lists of checks planned in a suite. Steps that expect
/// the same (`status: 200` and one schema, or a generated suite's identical
/// cases) share one list, so ten thousand such steps hold one copy.
#[derive(Default)]
struct SharedChecks {
    lists: Vec<std::sync::Arc<[Check]>>,
    /// The last `expect:` compiled without a problem or a variable, and its
    /// list: a step that writes the same expectations again takes the list
    /// without compiling them (parsing each JSONPath check's path and value as
    /// templates was most of the cost of planning a generated suite's case).
    last: Option<(crate::case::model::ExpectDef, std::sync::Arc<[Check]>)>,
    /// Variables met by [`Ctx::check_vars`], so a compile can tell it used none.
    vars_seen: usize,
}

impl SharedChecks {
    /// Lists remembered; a miss replaces the oldest.
    const KEEP: usize = 8;

    fn share(&mut self, checks: Vec<Check>) -> std::sync::Arc<[Check]> {
        if let Some(i) = self.lists.iter().position(|l| **l == *checks) {
            let found = self.lists.remove(i);
            self.lists.push(found.clone());
            return found;
        }
        let list: std::sync::Arc<[Check]> = checks.into();
        if self.lists.len() == Self::KEEP {
            self.lists.remove(0);
        }
        self.lists.push(list.clone());
        list
    }

    /// The list compiled for the last expectations, if `e` says the same.
    fn reuse(&self, e: &crate::case::model::ExpectDef) -> Option<std::sync::Arc<[Check]>> {
        let (last, list) = self.last.as_ref()?;
        same_expectations(last, e).then(|| list.clone())
    }
}

/// Whether two `expect:` blocks say the same, wherever they are written:
/// every field compared by value, positions ignored, and maps in their order
/// (so a list reused keeps the order its checks would have had). Each struct
/// is taken apart whole, so a field added to it does not compile until it is
/// compared here.
fn same_expectations(a: &crate::case::model::ExpectDef, b: &crate::case::model::ExpectDef) -> bool {
    use crate::case::model::{ExpectDef, Explicit, JsonPathDef};
    fn value(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((ka, va), (kb, vb))| ka == kb && value(va, vb))
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(va, vb)| value(va, vb))
            }
            _ => a == b,
        }
    }
    fn spanned<T: PartialEq>(a: &Option<S<T>>, b: &Option<S<T>>) -> bool {
        a.as_ref().map(|x| &x.value) == b.as_ref().map(|x| &x.value)
    }
    fn explicit(a: &Explicit<Value>, b: &Explicit<Value>) -> bool {
        match (&a.0, &b.0) {
            (Some(x), Some(y)) => value(x, y),
            (x, y) => x.is_none() && y.is_none(),
        }
    }
    fn explicit_spanned(a: &Explicit<S<Value>>, b: &Explicit<S<Value>>) -> bool {
        match (&a.0, &b.0) {
            (Some(x), Some(y)) => value(&x.value, &y.value),
            (x, y) => x.is_none() && y.is_none(),
        }
    }
    fn jsonpath(a: &JsonPathDef, b: &JsonPathDef) -> bool {
        let JsonPathDef {
            path,
            equals,
            not_equals,
            one_of,
            exists,
            absent,
            matches,
            type_,
            length,
            contains,
            later_than,
        } = a;
        path.value == b.path.value
            && explicit(equals, &b.equals)
            && explicit(not_equals, &b.not_equals)
            && match (one_of, &b.one_of) {
                (Some(x), Some(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(va, vb)| value(va, vb))
                }
                (x, y) => x.is_none() && y.is_none(),
            }
            && *exists == b.exists
            && *absent == b.absent
            && spanned(matches, &b.matches)
            && spanned(type_, &b.type_)
            && *length == b.length
            && explicit(contains, &b.contains)
            && spanned(later_than, &b.later_than)
    }
    let ExpectDef {
        status,
        headers,
        body,
        body_subset,
        jsonpath: paths,
        schema,
    } = a;
    spanned(status, &b.status)
        && headers.len() == b.headers.len()
        && headers
            .iter()
            .zip(&b.headers)
            .all(|((ka, va), (kb, vb))| ka == kb && va.value == vb.value)
        && explicit_spanned(body, &b.body)
        && explicit_spanned(body_subset, &b.body_subset)
        && paths.len() == b.jsonpath.len()
        && paths.iter().zip(&b.jsonpath).all(|(x, y)| jsonpath(x, y))
        && spanned(schema, &b.schema)
}

fn pos<T>(s: &S<T>) -> Pos {
    s.pos
}

impl Ctx<'_> {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::at(self.source, pos, message));
    }

    fn plan_err(&mut self, e: PlanError) {
        self.diags
            .push(Diagnostic::at(self.source, e.pos, e.message).with_help_opt(e.help));
    }

    fn template(&mut self, s: &S<String>) -> Option<Template> {
        match Template::parse(&s.value) {
            Ok(t) => Some(t),
            Err(e) => {
                let p = pos(s);
                self.err(
                    Pos::new(
                        p.line,
                        p.column + e.offset + usize::from(!s.value.is_empty() && self.quoted_at(p)),
                    ),
                    e.message,
                );
                None
            }
        }
    }

    fn quoted_at(&self, p: Pos) -> bool {
        self.source
            .text
            .lines()
            .nth(p.line.saturating_sub(1))
            .and_then(|l| l.chars().nth(p.column.saturating_sub(1)))
            .is_some_and(|c| c == '"' || c == '\'')
    }

    /// Reports variables of `vars` not in `known`.
    fn check_vars<'v>(
        &mut self,
        vars: impl IntoIterator<Item = &'v str>,
        known: &BTreeSet<String>,
        at: Pos,
    ) {
        // Each undefined variable once per place, however often it is repeated there.
        let mut reported = BTreeSet::new();
        for v in vars {
            self.shared.vars_seen += 1;
            if !reported.insert(v) {
                continue;
            }
            if !known.contains(v) {
                let help = did_you_mean(v, known.iter().map(String::as_str));
                self.diags.push(
                    Diagnostic::at(self.source, at, format!("undefined variable `{v}`: no suite variable, case variable or earlier capture sets it"))
                        .with_help_opt(help),
                );
            }
        }
    }

    fn var_templates(
        &mut self,
        defs: &IndexMap<String, S<String>>,
        known: &mut BTreeSet<String>,
    ) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (k, v) in defs {
            if let Some(t) = self.template(v) {
                let vars: Vec<String> = t.vars().map(str::to_owned).collect();
                self.check_vars(vars.iter().map(String::as_str), known, pos(v));
                out.push((k.clone(), t));
            }
            known.insert(k.clone());
        }
        out
    }

    fn case(
        &mut self,
        c: &CaseDef,
        id: CaseId,
        file: &std::sync::Arc<Path>,
        suite_vars: &[String],
    ) -> Option<PlannedCase> {
        let before = self.diags.0.len();
        let mut known: BTreeSet<String> = suite_vars.iter().cloned().collect();
        let variables = self.var_templates(&c.variables, &mut known);
        if c.steps.is_empty() {
            self.err(
                pos(&c.name),
                format!("case `{}` has no steps", c.name.value),
            );
        }
        // Exact capacities: a plan is held for every case of a run.
        let mut steps = Vec::with_capacity(c.steps.len());
        for s in &c.steps {
            // A step with a problem still declares its captures, so later steps
            // are not blamed for "undefined" variables it would have set.
            let declared: Vec<String> = s.capture.keys().cloned().collect();
            if let Some(p) = self.step(s, &known, file) {
                steps.push(p);
            }
            known.extend(declared);
        }
        let mut cleanup = Vec::with_capacity(c.cleanup.len());
        for s in &c.cleanup {
            // A step with a problem still declares its captures, so later steps
            // are not blamed for "undefined" variables it would have set.
            let declared: Vec<String> = s.capture.keys().cloned().collect();
            if let Some(p) = self.step(s, &known, file) {
                cleanup.push(p);
            }
            known.extend(declared);
        }
        (self.diags.0.len() == before).then(|| PlannedCase {
            id,
            file: file.clone(),
            line: pos(&c.name).line,
            tags: c.tags.iter().map(|t| t.value.clone()).collect(),
            variables,
            steps,
            cleanup,
        })
    }

    fn step(&mut self, s: &StepDef, known: &BTreeSet<String>, file: &Path) -> Option<PlannedStep> {
        let before = self.diags.0.len();
        let r = &s.request;
        let method = r.method.value.trim().to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            let help = did_you_mean(&method, METHODS.iter().copied());
            self.diags.push(
                Diagnostic::at(
                    self.source,
                    pos(&r.method),
                    format!(
                        "unknown HTTP method `{}`; expected one of {}",
                        r.method.value,
                        METHODS.join(", ")
                    ),
                )
                .with_help_opt(help),
            );
        }
        let path = self.template(&r.path);
        if let Some(t) = &path {
            self.check_vars(t.vars(), known, pos(&r.path));
            if !r.path.value.starts_with('/') && !r.path.value.starts_with("{{") {
                self.err(
                    pos(&r.path),
                    format!("path `{}` must start with `/`", r.path.value),
                );
            }
        }
        let query = self.templated_pairs(
            r.query.iter().map(|(k, v)| {
                (
                    k,
                    S {
                        value: v.value.0.clone(),
                        pos: v.pos,
                    },
                )
            }),
            known,
        );
        let headers = self.templated_pairs(
            r.headers.iter().map(|(k, v)| {
                (
                    k,
                    S {
                        value: v.value.clone(),
                        pos: v.pos,
                    },
                )
            }),
            known,
        );

        let mut bodies = 0;
        let mut body = None;
        if let Some(j) = &r.json.0 {
            bodies += 1;
            body = self
                .json_template(&j.value, pos(j), known)
                .map(BodySpec::Json);
        }
        if let Some(f) = &r.json_file {
            bodies += 1;
            let path = file.parent().unwrap_or(Path::new(".")).join(&f.value);
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
            {
                Ok(v) => body = self.json_template(&v, pos(f), known).map(BodySpec::Json),
                Err(e) => self.err(
                    pos(f),
                    format!("cannot use `{}` as a JSON body: {e}", path.display()),
                ),
            }
        }
        if let Some(b) = &r.body {
            bodies += 1;
            if let Some(t) = self.template(b) {
                self.check_vars(t.vars(), known, pos(b));
                body = Some(BodySpec::Raw(t));
            }
        }
        if bodies > 1 {
            self.err(
                pos(&r.method),
                "give at most one of `json`, `json_file` and `body`",
            );
        }
        let timeout = r
            .timeout
            .as_ref()
            .and_then(|t| match parse_duration(&t.value) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.err(pos(t), e);
                    None
                }
            });
        let request_schema = r.schema.as_ref().and_then(|sc| {
            if self.schemas.contains(&sc.value) {
                Some(sc.value.clone())
            } else {
                let help = did_you_mean(&sc.value, self.schemas.names());
                let msg = format!(
                    "unknown request schema `{}`: no `{}.json` in {}",
                    sc.value,
                    sc.value,
                    self.schemas.dir().display()
                );
                self.diags
                    .push(Diagnostic::at(self.source, pos(sc), msg).with_help_opt(help));
                None
            }
        });
        let delay = s
            .delay
            .as_ref()
            .and_then(|t| match parse_duration(&t.value) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.err(pos(t), e.replace("timeout", "delay"));
                    None
                }
            });
        let auth = match &r.auth {
            None => StepAuth::Default,
            Some(a) => match &a.value {
                AuthMode {
                    none: true,
                    value: None,
                } => StepAuth::None,
                AuthMode {
                    none: false,
                    value: None,
                } => StepAuth::Default,
                AuthMode {
                    none: false,
                    value: Some(v),
                } => match Template::parse(v) {
                    Ok(t) => {
                        self.check_vars(t.vars(), known, pos(a));
                        StepAuth::Value(t)
                    }
                    Err(e) => {
                        self.err(pos(a), e.message);
                        StepAuth::Default
                    }
                },
                AuthMode {
                    none: true,
                    value: Some(_),
                } => {
                    self.err(pos(a), "`auth` cannot be both `none` and a `value`");
                    StepAuth::None
                }
            },
        };

        let checks = match self.shared.reuse(&s.expect) {
            Some(list) => list,
            None => {
                let (diags, vars) = (self.diags.0.len(), self.shared.vars_seen);
                let checks = self.checks(s, known);
                let list = self.shared.share(checks);
                if self.diags.0.len() == diags && self.shared.vars_seen == vars {
                    self.shared.last = Some((s.expect.clone(), list.clone()));
                }
                list
            }
        };
        let mut captures = Vec::new();
        for (name, c) in &s.capture {
            let p = pos(c);
            match (&c.value.jsonpath, &c.value.header) {
                (Some(jp), None) => match JsonPath::parse(jp) {
                    Ok(parsed) => captures.push(Capture {
                        name: name.clone(),
                        source: CaptureSource::JsonPath(jp.clone(), parsed),
                        secret: c.value.secret,
                        optional: c.value.optional,
                    }),
                    Err(e) => self.err(
                        p,
                        format!("invalid JSONPath `{jp}` for capture `{name}`: {e}"),
                    ),
                },
                (None, Some(h)) => captures.push(Capture {
                    name: name.clone(),
                    source: CaptureSource::Header(h.clone()),
                    secret: c.value.secret,
                    optional: c.value.optional,
                }),
                _ => self.err(
                    p,
                    format!("capture `{name}`: give exactly one of `jsonpath` and `header`"),
                ),
            }
        }

        let name = s
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| format!("{method} {}", r.path.value));
        (self.diags.0.len() == before).then(|| PlannedStep {
            name,
            method,
            path: path.expect("no diagnostic means the path parsed"),
            path_text: r.path.value.clone(),
            query,
            headers,
            body: body.map(Box::new),
            timeout,
            delay,
            request_schema,
            auth,
            checks,
            captures,
        })
    }

    fn templated_pairs<'k>(
        &mut self,
        pairs: impl Iterator<Item = (&'k String, S<String>)>,
        known: &BTreeSet<String>,
    ) -> Vec<(String, Template)> {
        let mut out = Vec::new();
        for (k, v) in pairs {
            if let Some(t) = self.template(&v) {
                self.check_vars(t.vars(), known, pos(&v));
                out.push((k.clone(), t));
            }
        }
        out
    }

    fn json_template(
        &mut self,
        v: &Value,
        at: Pos,
        known: &BTreeSet<String>,
    ) -> Option<JsonTemplate> {
        match JsonTemplate::parse(v) {
            Ok(t) => {
                self.check_vars(t.vars(), known, at);
                Some(t)
            }
            Err(e) => {
                self.err(at, e.message);
                None
            }
        }
    }

    fn checks(&mut self, s: &StepDef, known: &BTreeSet<String>) -> Vec<Check> {
        let e = &s.expect;
        let mut checks = Vec::new();
        match &e.status {
            Some(st) => match StatusCheck::compile(&st.value, pos(st)) {
                Ok(c) => checks.push(Check::Status(c)),
                Err(err) => self.plan_err(err),
            },
            None => self.err(
                pos(&s.request.method),
                "a step needs `expect: { status: … }`: every response's status is checked",
            ),
        }
        for (name, h) in &e.headers {
            match HeaderCheck::compile(name, &h.value, pos(h)) {
                Ok(cs) => {
                    if let Some(eq) = &h.value.equals
                        && let Ok(t) = Template::parse(eq)
                    {
                        self.check_vars(t.vars(), known, pos(h));
                    }
                    checks.extend(cs.into_iter().map(Check::Header));
                }
                Err(err) => self.plan_err(err),
            }
        }
        if let Some(b) = &e.body.0
            && let Some(t) = self.json_template(&b.value, pos(b), known)
        {
            checks.push(Check::Body(BodyCheck::exact(t)));
        }
        if let Some(b) = &e.body_subset.0
            && let Some(t) = self.json_template(&b.value, pos(b), known)
        {
            checks.push(Check::Body(BodyCheck::subset(t)));
        }
        for jp in &e.jsonpath {
            match JsonPathCheck::compile(jp) {
                Ok(cs) => {
                    for c in &cs {
                        self.check_vars(c.vars(), known, pos(&jp.path));
                    }
                    checks.extend(cs.into_iter().map(Check::JsonPath));
                }
                Err(err) => self.plan_err(err),
            }
        }
        if let Some(sc) = &e.schema {
            if self.schemas.contains(&sc.value) {
                checks.push(Check::Schema(SchemaCheck::new(sc.value.clone())));
            } else {
                let help = did_you_mean(&sc.value, self.schemas.names());
                let msg = format!(
                    "unknown schema `{}`: no `{}.json` in {}",
                    sc.value,
                    sc.value,
                    self.schemas.dir().display()
                );
                self.diags
                    .push(Diagnostic::at(self.source, pos(sc), msg).with_help_opt(help));
            }
        }
        checks.shrink_to_fit();
        checks
    }
}

/// Removes `.` and `..` components lexically, so messages show `schemas/x`, not `cases/x/../../schemas/x`.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// `5s`, `500ms`, `1m` or a number of seconds.
pub fn parse_duration(s: &Scalar) -> Result<Duration, String> {
    let t = s.0.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs > 0.0 && secs.is_finite() && secs <= 86_400.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("timeout `{t}` must be between 0 and 86400 seconds"));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("invalid timeout `{t}`: {e} (write e.g. `5s` or `500ms`)"))
        .and_then(|d| {
            if d.is_zero() {
                Err("a timeout of zero never succeeds".into())
            } else {
                Ok(d)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::same_expectations;
    use crate::case::model::ExpectDef;

    fn expect(yaml: &str) -> ExpectDef {
        crate::case::fast::parse(yaml).unwrap_or_else(|| panic!("not an expect block: {yaml}"))
    }

    #[test]
    fn expectations_compare_by_value_in_order_and_not_by_position() {
        let a = expect(
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\nschema: v2User\n",
        );
        // The same, written elsewhere and otherwise.
        let same = expect(
            "\n\nstatus: 200\nheaders:\n  Content-Type: application/json\n  X-A: b\njsonpath:\n  - path: $.s\n    equals:\n      a: 1\n      b: [1, 2]\nschema: v2User\n",
        );
        assert!(same_expectations(&a, &same));
        for other in [
            "status: 201\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\nschema: v2User\n",
            "status: 200\nheaders: { X-A: b, Content-Type: application/json }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { b: [1, 2], a: 1 } }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [2, 1] } }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, not_equals: { a: 1, b: [1, 2] } }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] }, exists: true }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.t, equals: { a: 1, b: [1, 2] } }\nschema: v2User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\nschema: v1User\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\n",
            "status: 200\nheaders: { Content-Type: application/json, X-A: b }\njsonpath:\n  - { path: $.s, equals: { a: 1, b: [1, 2] } }\nschema: v2User\nbody_subset: { a: 1 }\n",
        ] {
            assert!(
                !same_expectations(&a, &expect(other)),
                "taken as the same: {other}"
            );
        }
        let m = |extra: &str| {
            expect(&format!(
                "status: 200\njsonpath:\n  - {{ path: $.s, {extra} }}\n"
            ))
        };
        for (x, y) in [
            ("matches: a+", "matches: b+"),
            ("type: string", "type: number"),
            ("length: 2", "length: 3"),
            ("contains: a", "contains: b"),
            (
                "later_than: '2020-01-01T00:00:00Z'",
                "later_than: '2021-01-01T00:00:00Z'",
            ),
            ("one_of: [a, b]", "one_of: [b, a]"),
            ("absent: true", "absent: false"),
            ("equals: null", "exists: true"),
        ] {
            assert!(same_expectations(&m(x), &m(x)), "{x}");
            assert!(!same_expectations(&m(x), &m(y)), "{x} ~ {y}");
        }
    }
}
