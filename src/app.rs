//! The binary's commands, wired from the pipeline stages. `main.rs` only parses
//! arguments and calls [`main`]; tests call [`run`] and friends directly.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::case::{Diagnostics, load_dir_partial};
use crate::cli::{CasesArg, Cli, Command, MockArgs, RunArgs, SelectArgs};
use crate::error::{ExpectedError, exit};
use crate::exec::{ClientOptions, build_client};
use crate::mock::{self, Api, Fault, MockConfig, MockServer};
use crate::plan::{PlannedCase, PlannedSuite, plan};
use crate::report::{human, junit};
use crate::result::{CaseResult, Totals};
use crate::runner::{RunContext, run_case};
use crate::target::{Target, TargetChoice, resolve};

/// Runs a parsed command line; returns the exit code.
pub fn main(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::List(args) => cmd_list(args),
        Command::Check(args) => cmd_check(args),
        Command::Mock(args) => cmd_mock(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
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
    println!(
        "ok: {} suites, {cases} cases, {schemas} schemas; nothing was sent",
        suites.len()
    );
    Ok(exit::SUCCESS)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExpectedError> {
    tokio::runtime::Builder::new_multi_thread()
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
            println!(
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
            },
        )
        .await
        .map_err(|e| {
            ExpectedError::Setup(format!("cannot listen on 127.0.0.1:{}: {e}", args.port))
        })?;
        println!("serving the {} mock at {}", api.name(), server.base_url());
        println!("api key: {}", api.api_key());
        for f in &faults {
            println!("fault: {} ({})", f.name(), f.description());
        }
        println!("press Ctrl-C to stop");
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: TargetChoice::Named(crate::target::MOCK.into()),
            base_url: None,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            timeout: Duration::from_secs(10),
            allow_writes: false,
            mock_faults: Vec::new(),
        }
    }
}

/// Started mocks and resolved targets for the selected suites; dropping it stops the mocks.
pub struct Prepared {
    /// Each selected suite with its target.
    pub suites: Vec<(Arc<PlannedSuite>, Arc<Target>)>,
    _mocks: Vec<MockServer>,
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
        let mut mock_info = None;
        if opts.target.is_mock(&s) && opts.base_url.is_none() {
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
            let server = mock::start(api, MockConfig { port: 0, faults })
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
pub async fn execute(
    prepared: &Prepared,
    ctx: RunContext,
    jobs: usize,
    mut on_done: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let sem = Arc::new(Semaphore::new(jobs.max(1)));
    let ctx = Arc::new(ctx);
    let mut set = tokio::task::JoinSet::new();
    for (suite, target) in &prepared.suites {
        for i in 0..suite.cases.len() {
            let (suite, target, ctx, sem) =
                (suite.clone(), target.clone(), ctx.clone(), sem.clone());
            set.spawn(async move {
                let _permit = sem
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let case: &PlannedCase = &suite.cases[i];
                run_case(case, &suite, &target, &ctx).await
            });
        }
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(r) => {
                on_done(&r);
                results.push(r);
            }
            Err(e) => panic!("a case task panicked: {e}"),
        }
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    results
}

/// A fresh run context: one client, a new run id.
pub fn context(opts: &RunOptions) -> Result<RunContext, ExpectedError> {
    let client_options = ClientOptions::default();
    let client = build_client(&client_options).map_err(ExpectedError::Setup)?;
    Ok(RunContext {
        client,
        client_options,
        default_timeout: opts.timeout,
        allow_writes: opts.allow_writes,
        run_id: crate::template::random_alnum(8).to_lowercase(),
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
    let prepared = prepare(suites, opts, env).await?;
    let ctx = context(opts)?;
    Ok(execute(&prepared, ctx, opts.jobs, on_done).await)
}

fn cmd_run(args: RunArgs) -> Result<u8, ExpectedError> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(ExpectedError::Usage(format!(
            "--timeout must be a positive number of seconds, not {}",
            args.timeout
        )));
    }
    if args.jobs == Some(0) {
        return Err(ExpectedError::Usage("--jobs must be at least 1".into()));
    }
    let opts = RunOptions {
        target: TargetChoice::parse(&args.target),
        base_url: args.base_url.clone(),
        jobs: args.jobs.unwrap_or(RunOptions::default().jobs),
        timeout: Duration::from_secs_f64(args.timeout),
        allow_writes: args.allow_writes,
        mock_faults: parse_faults(&args.mock_faults)?,
    };
    let style = human::Style::detect();
    let rt = runtime()?;
    let env = |k: &str| std::env::var(k).ok();
    let results = rt.block_on(async {
        let suites = select(load_and_plan(&args.select.cases.cases)?, &args.select)?;
        let prepared = prepare(suites, &opts, &env).await?;
        for (s, t) in &prepared.suites {
            if t.read_only && opts.allow_writes {
                eprintln!(
                    "warning: --allow-writes: writes WILL be sent to read-only target `{}` ({})",
                    t.name, t.base_url
                );
            }
            eprintln!(
                "suite {}: {} cases against {} ({})",
                s.name,
                s.cases.len(),
                t.name,
                t.base_url
            );
        }
        let ctx = context(&opts)?;
        let mut out = std::io::stdout();
        Ok::<_, ExpectedError>(
            execute(&prepared, ctx, opts.jobs, |r| {
                let _ = writeln!(out, "{}", human::case_line(r, style));
            })
            .await,
        )
    })?;
    junit::write(&results, &args.junit).map_err(|e| {
        ExpectedError::Io(format!(
            "cannot write the JUnit report to {}: {e}",
            args.junit.display()
        ))
    })?;
    print!("{}", human::summary(&results, style));
    println!("JUnit report: {}", args.junit.display());
    Ok(Totals::of(&results).exit_code())
}

/// Renders diagnostics for a caller that prints them itself.
pub fn render(d: &Diagnostics) -> String {
    d.to_string()
}
