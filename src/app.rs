//! The binary's commands, wired from the pipeline stages. `main.rs` only parses
//! arguments and calls [`main`]; tests call [`run`] and friends directly.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::case::{Diagnostics, load_dir_partial};
use crate::cli::{CasesArg, Cli, Command, MockArgs, RunArgs, SelectArgs, TargetsArgs};
use crate::error::{ExpectedError, exit};
use crate::exec::{ClientOptions, build_client};
use crate::mock::{self, Api, Fault, MockConfig, MockServer};
use crate::plan::TargetDef;
use crate::plan::{PlannedCase, PlannedSuite, plan};
use crate::report::{human, junit};
use crate::result::{CaseResult, Totals};
use crate::runner::{RunContext, run_case_with_retries};
use crate::settings::{Settings, TargetOverrides, merge_targets, read_config};
use crate::target::{Target, TargetChoice, resolve};
use indexmap::IndexMap;
use std::path::PathBuf;

/// Runs a parsed command line; returns the exit code.
pub fn main(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Run(args) => cmd_run(*args),
        Command::List(args) => cmd_list(args),
        Command::Check(args) => cmd_check(args),
        Command::Mock(args) => cmd_mock(args),
        Command::Targets(args) => cmd_targets(args),
        Command::Bench(args) => cmd_bench(args),
        Command::Diff(args) => cmd_diff(args),
        Command::Merge(args) => crate::merge::cmd_merge(args),
        Command::Import(crate::cli::ImportCommand::Openapi(args)) => cmd_import(args),
        Command::Schema(args) => {
            crate::out!(
                "{}",
                if args.which == "suite" {
                    crate::editor::SUITE_SCHEMA
                } else {
                    crate::editor::CASE_SCHEMA
                }
            );
            Ok(exit::SUCCESS)
        }
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "conform", &mut std::io::stdout());
            Ok(exit::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("{e}");
            e.exit_code()
        }
    }
}

/// Loads and plans every suite under `dir`.
pub fn load_and_plan(dir: &Path) -> Result<Vec<PlannedSuite>, ExpectedError> {
    let (loaded, mut diags) = load_dir_partial(dir);
    match plan(loaded) {
        Ok(planned) if diags.is_empty() => Ok(planned),
        Ok(_) => {
            diags.sort();
            Err(ExpectedError::Load(diags))
        }
        Err(more) => {
            diags.0.extend(more.0);
            diags.sort();
            Err(ExpectedError::Load(diags))
        }
    }
}

/// Keeps the selected suites and, in them, the selected cases.
pub fn select(
    mut suites: Vec<PlannedSuite>,
    sel: &SelectArgs,
) -> Result<Vec<PlannedSuite>, ExpectedError> {
    for name in &sel.suites {
        if !suites.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
            let help = crate::case::span::did_you_mean(name, names.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(ExpectedError::Usage(format!(
                "no suite named `{name}`{help}; the suites are: {}",
                names.join(", ")
            )));
        }
    }
    suites.retain(|s| sel.suites.is_empty() || sel.suites.contains(&s.name));
    for s in &mut suites {
        s.cases.retain(|c| {
            sel.filter
                .as_ref()
                .is_none_or(|f| c.id.to_string().contains(f.as_str()))
                && (sel.tags.is_empty() || c.tags.iter().any(|t| sel.tags.contains(t)))
        });
    }
    Ok(suites)
}

fn cmd_list(args: SelectArgs) -> Result<u8, ExpectedError> {
    let suites = select(load_and_plan(&args.cases.cases)?, &args)?;
    let mut out = std::io::stdout().lock();
    for s in &suites {
        for c in &s.cases {
            let tags = if c.tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", c.tags.join(", "))
            };
            let _ = writeln!(out, "{}{tags}", c.id);
        }
    }
    Ok(exit::SUCCESS)
}

fn cmd_check(args: CasesArg) -> Result<u8, ExpectedError> {
    let suites = load_and_plan(&args.cases)?;
    let cases: usize = suites.iter().map(|s| s.cases.len()).sum();
    let schemas: usize = suites.iter().map(|s| s.schemas.names().count()).sum();
    crate::outln!(
        "ok: {} suites, {cases} cases, {schemas} schemas; nothing was sent",
        suites.len()
    );
    Ok(exit::SUCCESS)
}

/// The async runtime, with `threads` workers: a run uses no more workers than it
/// has concurrent cases (measured: with `--jobs 1` one worker avoids a cross-thread
/// wake-up per request and halves the harness overhead against a loopback server).
/// One worker means no worker at all: the calling thread runs every task, so a
/// sequential run (requests, the embedded mock, the result channel) never wakes
/// another thread.
fn runtime() -> Result<tokio::runtime::Runtime, ExpectedError> {
    runtime_with(usize::MAX)
}

fn runtime_with(threads: usize) -> Result<tokio::runtime::Runtime, ExpectedError> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = threads.clamp(1, cores);
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| ExpectedError::Setup(format!("cannot start the async runtime: {e}")))
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, ExpectedError> {
    names
        .iter()
        .map(|n| {
            Fault::from_name(n).ok_or_else(|| {
                let all: Vec<&str> = Fault::all().iter().map(|f| f.name()).collect();
                let help = crate::case::span::did_you_mean(n, all.iter().copied())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                ExpectedError::Usage(format!(
                    "unknown fault `{n}`{help}; `conform mock --list-faults` lists them"
                ))
            })
        })
        .collect()
}

fn cmd_mock(args: MockArgs) -> Result<u8, ExpectedError> {
    if args.list_faults {
        for f in Fault::all() {
            crate::outln!(
                "{:<34} {:<18} {}",
                f.name(),
                f.api().name(),
                f.description()
            );
        }
        return Ok(exit::SUCCESS);
    }
    let name = args.suite.unwrap_or_default();
    let api = Api::from_name(&name).ok_or_else(|| {
        let all: Vec<&str> = Api::all().iter().map(|a| a.name()).collect();
        ExpectedError::Usage(format!(
            "no embedded mock named `{name}`; the mocks are: {}",
            all.join(", ")
        ))
    })?;
    let faults = parse_faults(&args.faults)?;
    let rt = runtime()?;
    rt.block_on(async {
        let server = mock::start(
            api,
            MockConfig {
                port: args.port,
                faults: faults.clone(),
                ..MockConfig::default()
            },
        )
        .await
        .map_err(|e| {
            ExpectedError::Setup(format!("cannot listen on 127.0.0.1:{}: {e}", args.port))
        })?;
        crate::outln!("serving the {} mock at {}", api.name(), server.base_url());
        crate::outln!("api key: {}", api.api_key());
        for f in &faults {
            crate::outln!("fault: {} ({})", f.name(), f.description());
        }
        crate::outln!("press Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        drop(server);
        Ok(exit::SUCCESS)
    })
}

/// What a run needs beyond the plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Target by name or URL.
    pub target: TargetChoice,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Cases at once.
    pub jobs: usize,
    /// Default step timeout.
    pub timeout: Duration,
    /// Writes to read-only targets allowed.
    pub allow_writes: bool,
    /// Faults for the embedded mock.
    pub mock_faults: Vec<Fault>,
    /// Reruns of a case that did not pass.
    pub retries: u32,
    /// HTTP client settings (CA certificates, body cap, rate-limit waits).
    pub client: ClientOptions,
    /// Targets added or moved by the config file and the environment.
    pub target_overrides: TargetOverrides,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions::from_settings(&Settings::default())
    }
}

impl RunOptions {
    /// The run options of resolved settings (no mock faults).
    pub fn from_settings(s: &Settings) -> RunOptions {
        RunOptions {
            target: TargetChoice::parse(&s.target),
            base_url: s.base_url.clone(),
            jobs: s.jobs.max(1),
            timeout: s.timeout,
            allow_writes: s.allow_writes,
            mock_faults: Vec::new(),
            retries: s.retries,
            client: ClientOptions {
                max_body_bytes: s.max_body_bytes,
                ca_certs: s.ca_certs.clone(),
                insecure: s.insecure,
                ..ClientOptions::default()
            },
            target_overrides: s.targets.clone(),
        }
    }
}

/// Started mocks and resolved targets for the selected suites; dropping it stops the mocks.
pub struct Prepared {
    /// Each selected suite with its target.
    pub suites: Vec<(Arc<PlannedSuite>, Arc<Target>)>,
    _mocks: Vec<MockServer>,
}

impl Prepared {
    /// Client options for these targets: when every target is plain `http://`,
    /// the client skips the system's root certificates.
    pub fn client_options(
        &self,
        opts: &ClientOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> ClientOptions {
        ClientOptions {
            plain_http_only: crate::exec::plain_http_only(
                self.suites.iter().map(|(_, t)| &t.base_url),
                env,
            ),
            ..opts.clone()
        }
    }
}

/// Starts the mocks the run needs and resolves every suite's target, before any request.
pub async fn prepare(
    suites: Vec<PlannedSuite>,
    opts: &RunOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, ExpectedError> {
    let explicit_url = matches!(opts.target, TargetChoice::Url(_)) || opts.base_url.is_some();
    if explicit_url && suites.len() > 1 {
        let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        return Err(ExpectedError::Usage(format!(
            "a URL target or --base-url applies to one suite, but {} are selected ({}); add --suite NAME",
            suites.len(),
            names.join(", ")
        )));
    }
    let mut out = Vec::new();
    let mut mocks = Vec::new();
    for s in suites {
        let targets: IndexMap<String, TargetDef> =
            merge_targets(&opts.target_overrides, &s.name, &s.targets)
                .into_iter()
                .map(|(k, (t, _))| (k, t))
                .collect();
        let mut mock_info = None;
        if opts.target.is_mock(&targets) && opts.base_url.is_none() {
            let name = s.mock.clone().unwrap_or_default();
            let api = Api::from_name(&name).ok_or_else(|| {
                ExpectedError::Setup(format!(
                    "suite `{}` names no known embedded mock (`mock: {name}`)",
                    s.name
                ))
            })?;
            let faults: Vec<Fault> = opts
                .mock_faults
                .iter()
                .copied()
                .filter(|f| f.api() == api)
                .collect();
            let server = mock::start(
                api,
                MockConfig {
                    port: 0,
                    faults,
                    ..MockConfig::default()
                },
            )
            .await
            .map_err(|e| {
                ExpectedError::Setup(format!(
                    "cannot start the embedded {} mock: {e}",
                    api.name()
                ))
            })?;
            mock_info = Some((server.base_url(), api.api_key().to_owned()));
            mocks.push(server);
        }
        let target = resolve(
            &s,
            &targets,
            &opts.target,
            opts.base_url.as_deref(),
            mock_info.as_ref().map(|(u, k)| (u.as_str(), k.as_str())),
            env,
        )
        .map_err(ExpectedError::Setup)?;
        out.push((Arc::new(s), Arc::new(target)));
    }
    Ok(Prepared {
        suites: out,
        _mocks: mocks,
    })
}

/// Runs every case of the prepared suites, `jobs` at a time; `on_done` sees each result as it finishes.
///
/// The cases are moved out of `prepared` (its suites keep their settings and
/// schemas, with no cases left) and each case's plan is dropped as soon as it
/// has run, so a large run holds plans for the cases still to come and results
/// for the ones done, not both for every case.
pub async fn execute(
    prepared: &mut Prepared,
    ctx: RunContext,
    jobs: usize,
    mut on_done: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    // A feeder starts cases in file order as permits free up, so runs are
    // reproducible; results come back over a channel as each case finishes.
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let ctx = Arc::new(ctx);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Each suite's cases move to the feeder as they are (copying them into
    // one list would hold every plan twice for a moment), and the feeder
    // frees each list's room as it goes: a case's plan is about 150 bytes
    // beside what it owns, 1.5 MB for 10,000 cases.
    let mut work: Vec<(Arc<PlannedSuite>, Arc<Target>, Vec<PlannedCase>)> = Vec::new();
    for (s, t) in &mut prepared.suites {
        let cases = match Arc::get_mut(s) {
            Some(suite) => std::mem::take(&mut suite.cases),
            None => s.cases.clone(),
        };
        work.push((s.clone(), t.clone(), cases));
    }
    let total = work.iter().map(|(_, _, cases)| cases.len()).sum();
    if jobs <= 1 {
        return execute_in_turn(work, &ctx, total, on_done).await;
    }
    let feeder = tokio::spawn(async move {
        for (suite, target, case) in in_file_order(work) {
            let permit = sem
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let (ctx, tx) = (ctx.clone(), tx.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let r = if ctx.interrupt.is_set() {
                    crate::runner::not_started(&case, &target)
                } else {
                    run_case_with_retries(&case, &suite, &target, &ctx, None).await
                };
                drop(case);
                let _ = tx.send(r);
            });
        }
    });
    let mut results = Vec::with_capacity(total);
    while results.len() < total {
        match rx.recv().await {
            Some(r) => {
                on_done(&r);
                results.push(r);
                if results.len() % crate::mem::TRIM_EVERY == 0 {
                    crate::mem::release_free_memory();
                }
            }
            None => panic!("a case task ended without a result (it panicked)"),
        }
    }
    feeder.await.expect("the feeder does not panic");
    // Ids are unique, so an unstable sort gives the same order without a buffer.
    results.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    results
}

/// Every case of `work` with its suite and target, in file order; each
/// suite's list is taken from the end once reversed, and its room shrinks
/// every `TRIM_EVERY` cases, so planned cases are freed as they are taken.
fn in_file_order(
    work: Vec<(Arc<PlannedSuite>, Arc<Target>, Vec<PlannedCase>)>,
) -> impl Iterator<Item = (Arc<PlannedSuite>, Arc<Target>, PlannedCase)> {
    work.into_iter().flat_map(|(suite, target, mut cases)| {
        cases.reverse();
        std::iter::from_fn(move || {
            let case = cases.pop()?;
            if cases.len() % crate::mem::TRIM_EVERY == 0 {
                cases.shrink_to_fit();
            }
            Some((suite.clone(), target.clone(), case))
        })
    })
}

/// `--jobs 1`: one case at a time within the caller's task (no task of its
/// own, no permit, no channel), with one overlap: once a case has its last
/// response, the next case starts while that response is checked.
///
/// Requests stay strictly in turn: the next case sends nothing before this
/// one's last response has arrived, so no two are outstanding and two cases'
/// steps never interleave. Results, their order and interruption are as with
/// more jobs. With reruns (`--retries`) a case may yet send again, so the next
/// one waits for it to finish.
///
/// Why: the harness's own work per case (checks, result, report line) done
/// between a response and the next request adds to the run while the server
/// idles; done while the next request is out, it fills the wait instead.
/// Measured (`conform bench --n 1000 --jobs 1 --repeat 11`, no-LTO build):
/// against nginx on the other CPU 1.22-1.31x -> 1.16-1.22x the bare loop;
/// on nginx's CPU 1.60-1.63x -> 1.61-1.64x (an extra scheduler turn per case).
/// Against the embedded mock, which answers on this thread, cases are not
/// overlapped: there is no wait to fill.
async fn execute_in_turn(
    work: Vec<(Arc<PlannedSuite>, Arc<Target>, Vec<PlannedCase>)>,
    ctx: &RunContext,
    total: usize,
    mut on_done: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Poll;

    let mut results = Vec::with_capacity(total);
    let mut cases = in_file_order(work);
    let mut upcoming = cases.next();
    // Started cases, in file order; at most one of them may still send.
    let mut started = futures_util::stream::FuturesOrdered::new();
    // Set by the newest started case once it will send nothing more.
    let mut done_sending = Arc::new(AtomicBool::new(true));
    loop {
        if done_sending.load(Ordering::Acquire)
            && let Some((suite, target, case)) = upcoming.take()
        {
            upcoming = cases.next();
            let flag = Arc::new(AtomicBool::new(false));
            done_sending = flag.clone();
            // The embedded mock answers on this thread: nothing to overlap.
            let overlap = !target.embedded;
            started.push_back(async move {
                let r = if ctx.interrupt.is_set() {
                    crate::runner::not_started(&case, &target)
                } else {
                    let early = Some(&*flag).filter(|_| overlap);
                    run_case_with_retries(&case, &suite, &target, ctx, early).await
                };
                drop(case);
                flag.store(true, Ordering::Release);
                r
            });
        }
        let next = std::future::poll_fn(|cx| match started.poll_next_unpin(cx) {
            Poll::Ready(r) => Poll::Ready(r),
            // The newest case is past its last request: start the next one.
            Poll::Pending if upcoming.is_some() && done_sending.load(Ordering::Acquire) => {
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        })
        .await;
        match next {
            Some(r) => {
                on_done(&r);
                results.push(r);
                if results.len() % crate::mem::TRIM_EVERY == 0 {
                    crate::mem::release_free_memory();
                }
            }
            None if started.is_empty() => break,
            None => {}
        }
    }
    results.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    results
}

/// A fresh run context: one client, a new run id.
pub fn context(opts: &RunOptions) -> Result<RunContext, ExpectedError> {
    context_with(opts, opts.client.clone())
}

/// A fresh run context for prepared targets (see [`Prepared::client_options`]).
pub fn context_for(
    opts: &RunOptions,
    prepared: &Prepared,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RunContext, ExpectedError> {
    context_with(opts, prepared.client_options(&opts.client, env))
}

fn context_with(opts: &RunOptions, client: ClientOptions) -> Result<RunContext, ExpectedError> {
    Ok(RunContext {
        client: build_client(&client).map_err(ExpectedError::Setup)?,
        client_options: client,
        default_timeout: opts.timeout,
        allow_writes: opts.allow_writes,
        run_id: crate::template::random_alnum(8).to_lowercase(),
        retries: opts.retries,
        interrupt: crate::interrupt::Interrupt::new(),
    })
}

/// Loads, plans, prepares and runs: the whole pipeline short of reports.
pub async fn run(
    cases_dir: &Path,
    sel: &SelectArgs,
    opts: &RunOptions,
    env: &dyn Fn(&str) -> Option<String>,
    on_done: impl FnMut(&CaseResult),
) -> Result<Vec<CaseResult>, ExpectedError> {
    let suites = select(load_and_plan(cases_dir)?, sel)?;
    let mut prepared = prepare(suites, opts, env).await?;
    let ctx = context_for(opts, &prepared, env)?;
    Ok(execute(&mut prepared, ctx, opts.jobs, on_done).await)
}

/// Every suite's targets with names, as the environment may move them.
fn known_targets(suites: &[PlannedSuite]) -> Vec<(String, Vec<String>)> {
    suites
        .iter()
        .map(|s| (s.name.clone(), s.targets.keys().cloned().collect()))
        .collect()
}

/// Layers the settings: defaults < config file < environment < flags.
pub fn settings(
    args: &RunArgs,
    suites: &[PlannedSuite],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ExpectedError> {
    let config_path = args
        .config
        .clone()
        .or_else(|| env("CONFORM_CONFIG").map(PathBuf::from));
    let mut s = Settings::default();
    if let Some(c) = read_config(config_path.as_deref()).map_err(ExpectedError::Load)? {
        s = s.with_config(c).map_err(ExpectedError::Usage)?;
    }
    // The environment may move suite-file targets and config-file targets alike.
    let mut known = known_targets(suites);
    for (suite, names) in &mut known {
        if let Some(extra) = s.targets.get(suite.as_str()) {
            let more: Vec<String> = extra
                .keys()
                .filter(|k| !names.contains(k))
                .cloned()
                .collect();
            names.extend(more);
        }
    }
    s = s.with_env(env, &known).map_err(ExpectedError::Usage)?;
    if let Some(t) = &args.target {
        s.target = t.clone();
    }
    if let Some(b) = &args.base_url {
        s.base_url = Some(b.clone());
    }
    if let Some(j) = args.jobs {
        if j == 0 {
            return Err(ExpectedError::Usage("--jobs must be at least 1".into()));
        }
        s.jobs = j;
    }
    if let Some(t) = args.timeout {
        s.timeout = crate::settings::timeout_from_secs(t).map_err(ExpectedError::Usage)?;
    }
    if let Some(j) = &args.junit {
        s.junit = j.clone();
    }
    if let Some(r) = args.retries {
        s.retries = r;
    }
    s.ca_certs.extend(args.ca_certs.iter().cloned());
    s.insecure |= args.insecure;
    if let Some(mb) = args.max_body_mb {
        s.max_body_bytes = crate::settings::max_body_from_mb(mb).map_err(ExpectedError::Usage)?;
    }
    s.allow_writes |= args.allow_writes;
    Ok(s)
}

fn cmd_targets(args: TargetsArgs) -> Result<u8, ExpectedError> {
    let sel = SelectArgs {
        cases: args.cases.clone(),
        suites: args.suites.clone(),
        filter: None,
        tags: vec![],
    };
    let suites = select(load_and_plan(&args.cases.cases)?, &sel)?;
    let env = |k: &str| std::env::var(k).ok();
    let run_args = RunArgs {
        generate_negative: false,
        shard: None,
        shard_by: "count".into(),
        reports: PathBuf::from("reports"),
        min_coverage: None,
        baseline: None,
        fail_on: crate::report::drift::FailOn::NewFailures,
        select: sel,
        config: args.config.clone(),
        target: None,
        base_url: None,
        jobs: None,
        timeout: None,
        junit: None,
        allow_writes: false,
        retries: None,
        ca_certs: vec![],
        insecure: false,
        max_body_mb: None,
        mock_faults: vec![],
    };
    let s = settings(&run_args, &suites, &env)?;
    crate::out!("{}", targets_table(&suites, &s, &env));
    Ok(exit::SUCCESS)
}

/// The resolved targets of `suites`, one line each: URL, auth source, policy and where it came from.
pub fn targets_table(
    suites: &[PlannedSuite],
    s: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut rows = vec![[
        "SUITE".to_owned(),
        "TARGET".into(),
        "URL".into(),
        "AUTH".into(),
        "POLICY".into(),
        "FROM".into(),
    ]];
    for suite in suites {
        for (name, (t, origin)) in s.targets_for(&suite.name, &suite.targets) {
            let is_mock = t.url == crate::target::MOCK;
            let url = if is_mock {
                "(embedded mock, free port)".to_owned()
            } else {
                t.url.clone()
            };
            let auth = suite.auth.as_ref().map_or("none".to_owned(), |a| {
                crate::target::auth_source(a, is_mock, env)
            });
            let default = if name == s.target { " (default)" } else { "" };
            let policy = if t.read_only {
                "read-only"
            } else {
                "read-write"
            };
            rows.push([
                suite.name.clone(),
                format!("{name}{default}"),
                url,
                auth,
                policy.into(),
                origin.to_string(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn cmd_import(args: crate::cli::ImportOpenapiArgs) -> Result<u8, ExpectedError> {
    let opts = crate::openapi::ImportOptions {
        check_examples: !args.no_examples,
        generate_negative: args.generate_negative,
    };
    let report = crate::openapi::import_with(&args.spec, &args.suite, &args.root, &opts)?;
    crate::out!("{report}");
    Ok(exit::SUCCESS)
}

fn cmd_diff(args: crate::cli::DiffArgs) -> Result<u8, ExpectedError> {
    let read =
        |p: &Path| crate::report::summary::read(p).map_err(|e| ExpectedError::Usage(e.to_string()));
    let d = crate::report::drift::diff(&read(&args.old)?, &read(&args.new)?);
    crate::out!("{}", d.render_text());
    Ok(d.exit_code(args.fail_on))
}

fn remove_stale(path: &Path) -> Result<(), ExpectedError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ExpectedError::Io(format!(
            "cannot remove the previous report {}: {e}",
            path.display()
        ))),
    }
}

fn cmd_bench(args: crate::cli::BenchArgs) -> Result<u8, ExpectedError> {
    if args.sizes.iter().chain(&args.jobs).any(|n| *n == 0) || args.repeat == 0 {
        return Err(ExpectedError::Usage(
            "--n, --jobs and --repeat values must be at least 1".into(),
        ));
    }
    if args.bare_loop {
        let [n] = args.sizes[..] else {
            return Err(ExpectedError::Usage(
                "--bare-loop takes one --n value".into(),
            ));
        };
        let took = crate::bench::bare_alone(n, args.url.as_deref(), &args.schemas)
            .map_err(ExpectedError::Setup)?;
        crate::outln!("{}", took.as_secs_f64());
        return Ok(exit::SUCCESS);
    }
    let driver = std::env::current_exe()
        .map_err(|e| ExpectedError::Setup(format!("cannot find the conform binary: {e}")))?;
    let binary = match args.binary {
        // Absolute: the runs start in the workload's folder.
        Some(b) => std::fs::canonicalize(&b)
            .ok()
            .filter(|p| p.is_file())
            .ok_or_else(|| {
                ExpectedError::Usage(format!("--binary {}: no such file", b.display()))
            })?,
        None => driver.clone(),
    };
    let opts = crate::bench::BenchOptions {
        sizes: args.sizes,
        jobs: args.jobs,
        url: args.url,
        schemas: args.schemas,
        binary,
        driver,
        repeat: args.repeat,
        cpus: args.cpus,
    };
    let results = crate::bench::run(&opts).map_err(ExpectedError::Setup)?;
    Ok(if results.iter().all(|m| m.exit == 0) {
        exit::SUCCESS
    } else {
        exit::INTERNAL
    })
}

fn cmd_run(args: RunArgs) -> Result<u8, ExpectedError> {
    let env = |k: &str| std::env::var(k).ok();
    // A report from an earlier run must never pass for this one's: remove it before anything
    // can fail, so a run that stops early leaves no (stale, perhaps green) report behind.
    let stale = args
        .junit
        .clone()
        .unwrap_or_else(|| Settings::default().junit);
    remove_stale(&stale)?;
    for f in ["summary.json", "summary.md", "coverage.json"] {
        remove_stale(&args.reports.join(f))?;
    }
    if let Some(m) = args.min_coverage
        && !(0.0..=100.0).contains(&m)
    {
        return Err(ExpectedError::Usage(format!(
            "--min-coverage must be a percentage from 0 to 100, not {m}"
        )));
    }
    let baseline = match &args.baseline {
        Some(p) => Some(
            crate::report::summary::read(p)
                .map_err(|e| ExpectedError::Usage(format!("--baseline: {e}")))?,
        ),
        None => None,
    };
    crate::timings::mark("arguments");
    let git = crate::report::summary::GitCommit::start(&args.select.cases.cases);
    let catalog =
        crate::coverage::load_dir(&args.select.cases.cases).map_err(ExpectedError::Load)?;
    crate::timings::mark("coverage catalog");
    let started_at = std::time::SystemTime::now();
    let style = human::Style::detect();
    let mut suites = select(load_and_plan(&args.select.cases.cases)?, &args.select)?;
    // The case files' texts and raw models are freed by now, between the plans:
    // a long run gives those pages back before execution adds its own.
    crate::mem::release_free_memory_in_run_of(suites.iter().map(|s| s.cases.len()).sum());
    crate::timings::mark("load + plan");
    if args.generate_negative {
        let n = crate::negative::expand(&mut suites);
        crate::errln!("--generate-negative: {n} negative cases derived from request schemas");
    }
    let shard = match &args.shard {
        None => None,
        Some(spec) => {
            let (k, n, from) = crate::shard::parse(spec, &env).map_err(ExpectedError::Usage)?;
            let durations = match crate::shard::Balance::parse(&args.shard_by)
                .map_err(ExpectedError::Usage)?
            {
                crate::shard::Balance::Count => None,
                crate::shard::Balance::Duration(p) => {
                    let old = crate::report::summary::read(&p)
                        .map_err(|e| ExpectedError::Usage(format!("--shard-by duration: {e}")))?;
                    Some(
                        old.cases
                            .iter()
                            .map(|c| (c.id.clone(), c.duration_seconds))
                            .collect(),
                    )
                }
            };
            let info = crate::shard::apply(&mut suites, k, n, durations.as_ref());
            let mine: usize = suites.iter().map(|s| s.cases.len()).sum();
            crate::errln!(
                "shard {k}/{n} (from {from}): {mine} of {} cases, selection {}",
                info.cases,
                info.selection
            );
            Some(info)
        }
    };
    let s = settings(&args, &suites, &env)?;
    remove_stale(&s.junit)?;
    let mut opts = RunOptions::from_settings(&s);
    opts.mock_faults = parse_faults(&args.mock_faults)?;
    if opts.client.insecure {
        crate::errln!(
            "warning: --insecure: TLS certificates are NOT verified; anyone on the network path can read and change this traffic"
        );
    }
    let rt = runtime_with(opts.jobs)?;
    crate::timings::mark("settings + runtime");
    let results = rt.block_on(async {
        let mut prepared = prepare(suites, &opts, &env).await?;
        crate::timings::mark("mocks + targets");
        for (s, t) in &prepared.suites {
            if t.read_only && opts.allow_writes {
                crate::errln!(
                    "warning: --allow-writes: writes WILL be sent to read-only target `{}` ({})",
                    t.name,
                    t.base_url
                );
            }
            let auth = t
                .auth
                .as_ref()
                .map(|a| format!(", auth from {}", a.source))
                .unwrap_or_default();
            let policy = if t.read_only { ", read-only" } else { "" };
            crate::errln!(
                "suite {}: {} cases against {} ({}{auth}{policy})",
                s.name,
                s.cases.len(),
                t.name,
                t.base_url
            );
        }
        let ctx = context_for(&opts, &prepared, &env)?;
        crate::timings::mark("HTTP client");
        let interrupt = ctx.interrupt.clone();
        let listener = interrupt.listen();
        let total: usize = prepared.suites.iter().map(|(s, _)| s.cases.len()).sum();
        let progress = human::Progress::new(total, style);
        let results = execute(&mut prepared, ctx, opts.jobs, |r| progress.case_done(r)).await;
        progress.finish();
        crate::timings::mark("execute");
        listener.abort();
        Ok::<_, ExpectedError>((results, interrupt.is_set()))
    })?;
    let (results, interrupted) = results;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        ExpectedError::Io(format!("cannot write {what} to {}: {e}", p.display()))
    };
    let coverage = crate::coverage::compute(&results, &catalog);
    crate::timings::mark("coverage");
    let meta = crate::report::summary::RunMeta::with_commit(
        s.target.clone(),
        s.base_url.clone(),
        started_at,
        git.finish(),
    );
    let meta = crate::report::summary::RunMeta {
        shard: shard.clone(),
        ..meta
    };
    let summary_path = args.reports.join("summary.json");
    // Both reports stream from the results (a batch of cases or one record at
    // a time), so they are written side by side: JUnit on the helper thread,
    // which is already running (a thread spawned now would often not start
    // until this one blocked), and summary.json here.
    let mut xml = junit::skeleton(&results);
    coverage.add_to_junit(&mut xml);
    if let Some(info) = &shard {
        for ts in &mut xml.test_suites {
            ts.add_property(quick_junit::Property::new(
                "shard",
                format!("{}/{}", info.index, info.total),
            ));
            ts.add_property(quick_junit::Property::new(
                "selection",
                info.selection.as_str(),
            ));
        }
    }
    let results = Arc::new(results);
    let junit_writer = {
        let (results, path) = (results.clone(), s.junit.clone());
        crate::helper::spawn(move || {
            junit::write_atomic_with(&path, |w| junit::write_streamed(&xml, &results, w))
        })
    };
    let summary_written =
        crate::report::summary::write_streamed(&results, &meta, Some(&catalog), &summary_path);
    let junit_written = junit_writer
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the JUnit writer panicked")));
    // The writer has dropped its share of the results.
    let results = Arc::try_unwrap(results).unwrap_or_else(|shared| (*shared).clone());
    junit_written.map_err(|e| io("the JUnit report", &s.junit, e))?;
    summary_written.map_err(|e| io("the summary", &summary_path, e))?;
    // What the report writers freed goes back before the Markdown summary is built.
    crate::mem::release_free_memory_in_run_of(results.len());
    crate::timings::mark("JUnit + summary.json");
    // The Markdown summary shows only the cases that did not pass; drift
    // compares every case, so only a run with a baseline builds them all.
    let summary = if baseline.is_some() {
        crate::report::summary::Summary::build(&results, meta, Some(&catalog))
    } else {
        crate::report::summary::Summary::build_with(&results, meta, Some(&catalog), |r| {
            r.outcome != crate::result::Outcome::Passed
        })
    };
    let coverage_path = args.reports.join("coverage.json");
    coverage
        .write(&coverage_path)
        .map_err(|e| io("the coverage report", &coverage_path, e))?;
    let mut md = crate::report::markdown::render(&summary, Some(&coverage));
    let drift = baseline
        .as_ref()
        .map(|old| crate::report::drift::diff(old, &summary));
    if let Some(d) = &drift {
        md.push_str(&crate::report::markdown::drift_section(d));
    }
    let md_path = args.reports.join("summary.md");
    junit::write_atomic(&md_path, md.as_bytes())
        .map_err(|e| io("the Markdown summary", &md_path, e))?;
    if let Err(e) = crate::report::markdown::append_to_step_summary(&md, &env) {
        crate::errln!("warning: cannot append to $GITHUB_STEP_SUMMARY: {e}");
    }

    crate::out!("{}", coverage.render_text());
    if let Some(d) = &drift {
        crate::out!("{}", d.render_text());
    }
    crate::errln!(
        "reports: {}, {}, {}, {}",
        s.junit.display(),
        summary_path.display(),
        md_path.display(),
        coverage_path.display()
    );
    // The totals come last: `N passed, N failed` is the closing line.
    crate::out!("{}", human::summary(&results, style));
    crate::timings::mark("other reports");
    if interrupted {
        crate::errln!("the run was interrupted: unfinished cases are marked in the reports");
        return Ok(exit::INTERRUPTED);
    }
    let coverage_ok = match args.min_coverage {
        None => true,
        Some(m) => match coverage.require(m) {
            Ok(()) => true,
            Err(msg) => {
                crate::errln!("error: {msg}");
                false
            }
        },
    };
    Ok(crate::report::exit::run_exit_code(
        &Totals::of(&results),
        coverage_ok,
        drift.as_ref().map(|d| (d, args.fail_on)),
    ))
}

/// Renders diagnostics for a caller that prints them itself.
pub fn render(d: &Diagnostics) -> String {
    d.to_string()
}
