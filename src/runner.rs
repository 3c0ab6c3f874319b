//! Runs one planned case against one target: steps in order, checks after
//! each response, captures for later steps, cleanup steps always.
//!
//! This is the engine both front ends share: `conform run` and the
//! libtest-mimic harness behind `cargo test`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::CheckResult;
use crate::check::result::preview_bytes;
use crate::exec::{self, ClientOptions, Exchange, RequestRecord};
use crate::plan::{
    BodySpec, CaptureSource, PlannedCase, PlannedStep, PlannedSuite, StepAuth, WRITE_METHODS,
};
use crate::result::{CaseResult, Outcome, StepOutcome, StepResult};
use crate::schema::SchemaRegistry;
use crate::target::Target;
use crate::template::{Template, Vars};

pub use crate::redact::REDACTED;

/// What a step cut short by Ctrl-C or SIGTERM says.
pub const INTERRUPTED: &str = "interrupted (Ctrl-C or SIGTERM) before this step finished";
use crate::redact::Redactor;

/// What every case of a run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The one HTTP client.
    pub client: reqwest::Client,
    /// Client settings (body cap).
    pub client_options: ClientOptions,
    /// Timeout of a step that sets none.
    pub default_timeout: Duration,
    /// Send writes to read-only targets anyway.
    pub allow_writes: bool,
    /// Unique per run: `{{run_id}}`.
    pub run_id: String,
    /// Reruns of a case that did not pass; one that then passes is flaky.
    pub retries: u32,
    /// Set by Ctrl-C or SIGTERM.
    pub interrupt: crate::interrupt::Interrupt,
}

/// The record of a case the run never started because it was interrupted.
pub fn not_started(case: &PlannedCase, target: &Target) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        file: case.file.clone(),
        tags: case.tags.clone(),
        target: target.labels.0.clone(),
        base_url: target.labels.1.clone(),
        outcome: Outcome::Skipped("not run: the run was interrupted (Ctrl-C or SIGTERM)".into()),
        steps: Vec::new(),
        duration: Duration::ZERO,
        attempts: 0,
        earlier: Vec::new(),
    }
}

/// Runs a case, rerunning it up to `ctx.retries` times when it fails or errors.
/// A case that passes on a rerun is [`Outcome::Flaky`], with its earlier attempts kept.
///
/// `done_sending`, when given, is set once the case will send nothing more
/// (see [`run_case_releasing`]); with reruns possible that is only known at
/// the end, so it is then left for the caller to see the case finish.
pub async fn run_case_with_retries(
    case: &PlannedCase,
    suite: &PlannedSuite,
    target: &Target,
    ctx: &RunContext,
    done_sending: Option<&AtomicBool>,
) -> CaseResult {
    let done_sending = done_sending.filter(|_| ctx.retries == 0);
    let mut earlier = Vec::new();
    let mut attempt = 1;
    loop {
        let mut r = run_case_releasing(case, suite, target, ctx, done_sending).await;
        let bad = matches!(r.outcome, Outcome::Failed | Outcome::Errored);
        if !bad || attempt > ctx.retries || ctx.interrupt.is_set() {
            if !bad && !earlier.is_empty() {
                r.outcome = Outcome::Flaky;
            }
            r.attempts = attempt;
            r.earlier = earlier;
            return r;
        }
        earlier.push(crate::result::EarlierAttempt {
            outcome: r.outcome.clone(),
            message: crate::report::human::first_problem(&r),
            detail: crate::report::human::failure_detail(&r),
            duration: r.duration,
        });
        attempt += 1;
    }
}

/// Runs one case; never panics on anything the server sends.
pub async fn run_case(
    case: &PlannedCase,
    suite: &PlannedSuite,
    target: &Target,
    ctx: &RunContext,
) -> CaseResult {
    run_case_releasing(case, suite, target, ctx, None).await
}

/// [`run_case`], setting `done_sending` as soon as the response to the case's
/// last request has arrived, and then yielding once before checking it.
///
/// A sequential run starts the next case then: its first request is on the
/// wire while this one's last response is checked and recorded, and still no
/// two requests are ever outstanding, nor do two cases' requests interleave.
async fn run_case_releasing(
    case: &PlannedCase,
    suite: &PlannedSuite,
    target: &Target,
    ctx: &RunContext,
    done_sending: Option<&AtomicBool>,
) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        id: case.id.clone(),
        file: case.file.clone(),
        tags: case.tags.clone(),
        target: target.labels.0.clone(),
        base_url: target.labels.1.clone(),
        outcome: Outcome::Passed,
        // Exact: a result is held for every case until the reports are written.
        steps: Vec::with_capacity(case.steps.len() + case.cleanup.len()),
        duration: Duration::ZERO,
        attempts: 1,
        earlier: Vec::new(),
    };
    if target.read_only && !ctx.allow_writes && case.writes() {
        let methods: Vec<&str> = case
            .steps
            .iter()
            .chain(&case.cleanup)
            .map(|s| s.method.as_str())
            .filter(|m| WRITE_METHODS.contains(m))
            .collect();
        result.outcome = Outcome::Skipped(format!(
            "target `{}` is read-only and this case sends {} (pass --allow-writes to send it anyway)",
            target.name,
            methods.first().copied().unwrap_or("a write")
        ));
        return result;
    }

    let mut vars = Vars::new();
    vars.insert("run_id".into(), Value::String(ctx.run_id.clone()));
    for (k, t) in suite.variables.iter().chain(&case.variables) {
        match t.render(&vars) {
            Ok(v) => {
                vars.insert(k.clone(), Value::String(v));
            }
            Err(e) => {
                result.outcome = Outcome::Errored;
                result.steps.push(not_run(
                    0,
                    false,
                    format!("variable `{k}`"),
                    StepOutcome::Errored(e),
                ));
                result.duration = started.elapsed();
                return result;
            }
        }
    }

    let mut state = CaseState {
        vars,
        redactor: Redactor::default(),
    };
    if let Some(auth) = &target.auth {
        for secret in auth.secrets() {
            state.redactor.add(&secret);
        }
    }
    let scope = Scope {
        target,
        schemas: &suite.schemas,
        ctx,
    };
    // The step whose response is the case's last: the last cleanup step, or
    // the last main step when there is no cleanup.
    let last = case.steps.len() + case.cleanup.len();
    let releasing = |n: usize| done_sending.filter(|_| n == last);
    let mut broken = false;
    for (i, step) in case.steps.iter().enumerate() {
        if ctx.interrupt.is_set() && !broken {
            broken = true;
            result.steps.push(blank(
                step,
                i + 1,
                false,
                StepOutcome::Errored(INTERRUPTED.into()),
            ));
            continue;
        }
        if broken {
            result.steps.push(blank(
                step,
                i + 1,
                false,
                StepOutcome::Skipped("an earlier step did not pass".into()),
            ));
            continue;
        }
        let r = run_step(step, i + 1, false, &mut state, &scope, releasing(i + 1)).await;
        broken = r.outcome != StepOutcome::Passed;
        result.steps.push(r);
    }
    for (i, step) in case.cleanup.iter().enumerate() {
        let releasing = releasing(case.steps.len() + i + 1);
        result
            .steps
            .push(run_step(step, i + 1, true, &mut state, &scope, releasing).await);
    }

    result.outcome = if result
        .steps
        .iter()
        .any(|s| matches!(s.outcome, StepOutcome::Errored(_)))
    {
        Outcome::Errored
    } else if result
        .steps
        .iter()
        .any(|s| s.outcome == StepOutcome::Failed)
    {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    state.redactor.apply_to(&mut result);
    result.duration = started.elapsed();
    result
}

/// A step result for `step` before (or instead of) sending it.
fn blank(step: &PlannedStep, index: usize, cleanup: bool, outcome: StepOutcome) -> StepResult {
    let mut r = not_run(index, cleanup, step.name.clone(), outcome);
    r.method = step.method.clone();
    r.path_template = step.path_text.clone();
    r
}

fn not_run(index: usize, cleanup: bool, name: String, outcome: StepOutcome) -> StepResult {
    StepResult {
        index,
        cleanup,
        name,
        method: String::new(),
        path_template: String::new(),
        path: None,
        request_line: None,
        shape: None,
        status: None,
        outcome,
        duration: Duration::ZERO,
        extra: None,
    }
}

/// A built request: what reports show, the parsed URL, the headers really
/// sent, and the rendered path.
type Built = (RequestRecord, url::Url, Vec<(String, String)>, String);

/// Builds the request; `Err` names the variable or part that could not be rendered.
fn build(
    step: &PlannedStep,
    vars: &Vars,
    target: &Target,
    credential: Option<&str>,
) -> Result<Built, String> {
    let path = render_path(&step.path, vars)?;
    let mut url = join_url(&target.base_url, &path)?;
    if !step.query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, t) in &step.query {
            q.append_pair(k, &t.render(vars)?);
        }
    }
    let mut headers: Vec<(String, String)> = vec![("accept".into(), "application/json".into())];
    let body = match step.body.as_deref() {
        None => None,
        Some(BodySpec::Json(t)) => {
            headers.push(("content-type".into(), "application/json".into()));
            Some(t.render(vars)?.to_string())
        }
        Some(BodySpec::Raw(t)) => Some(t.render(vars)?),
    };
    for (k, t) in &step.headers {
        let v = t.render(vars)?;
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v));
    }
    if let Some(auth) = &target.auth {
        let secret = match &step.auth {
            StepAuth::None => None,
            StepAuth::Default => credential.map(str::to_owned),
            StepAuth::Value(t) => Some(t.render(vars)?),
        };
        if let Some(secret) = secret {
            headers.push((auth.header.clone(), format!("{}{secret}", auth.prefix)));
        }
    }
    let record = RequestRecord {
        method: step.method.clone(),
        url: url.to_string(),
        body,
    };
    Ok((record, url, headers, path))
}

/// The target's base URL (without its trailing `/`) followed by `path`, as
/// `Url::parse` reads the two texts joined. For a plain path (`/…`, no query,
/// fragment, backslash, space or control character) on a plain base, only
/// the path is parsed: the scheme and host are the base's, already parsed,
/// and `set_path` reads a path exactly as a whole URL's parse does.
fn join_url(base: &url::Url, path: &str) -> Result<url::Url, String> {
    let plain_path = path.starts_with('/')
        && !path
            .bytes()
            .any(|b| matches!(b, b'?' | b'#' | b'\\' | b' ') || b < 0x20 || b == 0x7f);
    let plain_base = base.has_host()
        && !base.cannot_be_a_base()
        && base.query().is_none()
        && base.fragment().is_none();
    if plain_path && plain_base {
        let mut url = base.clone();
        url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
        return Ok(url);
    }
    let base = base.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{base}{path}"))
        .map_err(|e| format!("invalid URL `{base}{path}`: {e}"))
}

/// Renders a path, percent-encoding variable values so `/` or spaces in data stay in their segment.
fn render_path(t: &Template, vars: &Vars) -> Result<String, String> {
    let mut encoded = Vars::new();
    for v in t.vars() {
        if let Some(val) = vars.get(v) {
            let text = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            encoded.insert(v.to_owned(), Value::String(encode_segment(&text)));
        }
    }
    t.render(&encoded)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (a value in one path segment).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What every step of one case reads.
struct Scope<'a> {
    target: &'a Target,
    schemas: &'a SchemaRegistry,
    ctx: &'a RunContext,
}

/// What steps of one case change: variables, and the secrets seen so far.
struct CaseState {
    vars: Vars,
    redactor: Redactor,
}

async fn run_step(
    step: &PlannedStep,
    index: usize,
    cleanup: bool,
    state: &mut CaseState,
    scope: &Scope<'_>,
    done_sending: Option<&AtomicBool>,
) -> StepResult {
    let Scope {
        target,
        schemas,
        ctx,
    } = *scope;
    let CaseState { vars, redactor } = state;
    if let Some(d) = step.delay {
        tokio::time::sleep(d).await;
    }
    let started = Instant::now();
    let credential = match (&step.auth, &target.auth) {
        (StepAuth::Default, Some(auth)) => match auth
            .current(&ctx.client, step.timeout.unwrap_or(ctx.default_timeout))
            .await
        {
            Ok(v) => {
                redactor.add(&v);
                Some(v)
            }
            Err(e) => return blank(step, index, cleanup, StepOutcome::Errored(e)),
        },
        _ => None,
    };
    let (record, url, real_headers, path) = match build(step, vars, target, credential.as_deref()) {
        Ok(x) => x,
        Err(e) if cleanup => {
            return blank(
                step,
                index,
                cleanup,
                StepOutcome::Skipped(format!("not needed or not possible: {e}")),
            );
        }
        Err(e) => {
            return blank(
                step,
                index,
                cleanup,
                StepOutcome::Errored(format!("cannot build the request: {e}")),
            );
        }
    };
    let mut timeout = step.timeout.unwrap_or(ctx.default_timeout);
    if cleanup && ctx.interrupt.is_set() {
        timeout = timeout.min(crate::interrupt::CLEANUP_DEADLINE);
    }
    let mut notes = Vec::new();
    let send = exec::send(
        &ctx.client,
        &record,
        &url,
        &real_headers,
        timeout,
        &ctx.client_options,
        &mut notes,
    );
    // A main step is cancelled by an interruption; a cleanup step still runs, within its deadline.
    let sent = if cleanup {
        send.await
    } else {
        tokio::select! {
            r = send => r,
            _ = ctx.interrupt.wait() => Err(exec::ExecError::Interrupted),
        }
    };
    if let Some(flag) = done_sending {
        flag.store(true, Ordering::Release);
        // Lets the next case send before this response is checked.
        tokio::task::yield_now().await;
    }
    let mut r = blank(step, index, cleanup, StepOutcome::Passed);
    r.request_line = Some(record.line());
    r.path = Some(path);
    if !notes.is_empty() {
        r.extra_mut().notes = notes;
    }
    let ex = match sent {
        Ok(ex) => ex,
        Err(e) => {
            r.outcome = StepOutcome::Errored(e.to_string());
            r.duration = started.elapsed();
            return r;
        }
    };
    r.status = Some(ex.response.status);
    let mut failed = Vec::new();
    if ex.response.truncated {
        failed.push(CheckResult::fail(
            "body size",
            format!(
                "a body of at most {} bytes",
                ctx.client_options.max_body_bytes
            ),
            "a larger body (reading stopped at the cap)",
        ));
    }
    r.shape = ex.response.json().ok().map(crate::shape::interned);
    // Only failures are kept: every report reads those alone, and a result is
    // held for every case of the run.
    failed.extend(
        step.checks
            .iter()
            .map(|c| c.evaluate(&ex, vars, schemas))
            .filter(|c| !c.passed()),
    );
    for cap in &step.captures {
        match capture(&cap.source, &ex) {
            Ok(v) => {
                if cap.secret {
                    match &v {
                        Value::String(s) => redactor.add(s),
                        other => redactor.add(&other.to_string()),
                    }
                }
                vars.insert(cap.name.clone(), v);
            }
            Err(_) if cap.optional => {}
            Err(e) => failed.push(CheckResult::fail(
                format!("capture `{}`", cap.name),
                e.0,
                e.1,
            )),
        }
    }
    let failing = failed.iter().any(|c| !c.passed());
    if !failed.is_empty() {
        r.extra_mut().checks = failed;
    }
    if failing {
        r.outcome = StepOutcome::Failed;
        r.extra_mut().body_preview = Some(preview_bytes(&ex.response.body));
    }
    r.duration = started.elapsed();
    r
}

/// The captured value, or (expected, actual) for a failure.
fn capture(source: &CaptureSource, ex: &Exchange) -> Result<Value, (String, String)> {
    match source {
        CaptureSource::Header(h) => ex
            .response
            .header_all(h)
            .next()
            .map(|v| Value::String(v.to_owned()))
            .ok_or_else(|| (format!("a `{h}` header"), "(absent)".into())),
        CaptureSource::JsonPath(text, path) => {
            let body = ex.response.json().map_err(|e| {
                (
                    format!("a JSON body with {text}"),
                    crate::check::result::not_json(ex, e),
                )
            })?;
            path.query(body)
                .first()
                .cloned()
                .ok_or_else(|| (format!("a value at {text}"), "no match".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_values_are_percent_encoded() {
        let t = Template::parse("/users/{{n}}").unwrap();
        let mut v = Vars::new();
        v.insert("n".into(), Value::String("a b/c".into()));
        assert_eq!(render_path(&t, &v).unwrap(), "/users/a%20b%2Fc");
    }

    #[test]
    fn a_joined_url_is_the_joined_text_parsed() {
        let bases = [
            "http://127.0.0.1:18091",
            "http://127.0.0.1:18091/",
            "https://api.example.com/v1",
            "https://api.example.com/v1/",
            "https://API.Example.com:443/a%20b//",
            "http://[::1]:8080/base",
            "http://h/?q=1",
            "http://h/#f",
            "http://xn--caf-dma.example/é",
        ];
        let paths = [
            "/v2/users/1",
            "/",
            "//double/slash",
            "/a/./b/../c",
            "/..",
            "/../../x",
            "/é/ü?x",
            "/a%2Fb/%zz/%",
            "/a b",
            "/tab\there",
            "/back\\slash",
            "/q?x=1&y=2",
            "/f#frag",
            "/users/{id}/[x]|^`\"<>",
            "relative",
            "",
            "/trailing ",
            "/%2e%2e/x",
            "/.%2E/x",
        ];
        for b in bases {
            let base = url::Url::parse(b).unwrap();
            for p in paths {
                let joined = format!("{}{p}", base.as_str().trim_end_matches('/'));
                let want = url::Url::parse(&joined).map(|u| u.to_string());
                let got = join_url(&base, p).map(|u| u.to_string());
                match (&want, &got) {
                    (Ok(w), Ok(g)) => assert_eq!(w, g, "{b} + {p}"),
                    (Err(_), Err(_)) => {}
                    _ => panic!("{b} + {p}: parse {want:?}, join {got:?}"),
                }
            }
        }
    }
}
