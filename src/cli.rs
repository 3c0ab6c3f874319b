//! Command-line arguments (clap structs only; no I/O).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// conform: contract tests for HTTP APIs, from declarative case files, with JSON Schema checks and JUnit reports.
#[derive(Debug, Parser)]
#[command(name = "conform", version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CONFORM_COMMIT"), ")"), about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run cases against a target and write reports.
    Run(Box<RunArgs>),
    /// List the selected cases without running them.
    List(SelectArgs),
    /// Load and plan every case and schema, send nothing (a linter for CI).
    Check(CasesArg),
    /// Serve an embedded mock API for people building clients.
    Mock(MockArgs),
    /// Print every suite's targets, resolved: URL, auth source and policy.
    Targets(TargetsArgs),
    /// Compare two summary.json files: cases newly failing/passing/flaky, new or vanished, response-shape drift.
    Diff(DiffArgs),
    /// Combine the reports of shards into one junit.xml, summary.json, summary.md and coverage.json.
    Merge(MergeArgs),
    /// Derive schemas and skeleton suites from an API description.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the JSON Schema of case files (`case`) or suite files (`suite`), for editors.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Measure workload W (see README "Benchmark"): cases/s, CPU, peak RSS, overhead over a bare loop.
    Bench(BenchArgs),
}

/// `conform bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Case counts, comma-separated.
    #[arg(
        long = "n",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "100,1000,10000"
    )]
    pub sizes: Vec<usize>,
    /// `--jobs` values, comma-separated.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,2"
    )]
    pub jobs: Vec<usize>,
    /// Runs of each measurement (the bare loop's too); the median is reported,
    /// so one noisy run on a shared machine does not decide a figure.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeat: usize,
    /// A base URL serving `GET /v2/users/<n>` (e.g. nginx on loopback); default: the embedded mock.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The Palisade schemas folder.
    #[arg(long, value_name = "DIR", default_value = "schemas/palisade")]
    pub schemas: PathBuf,
    /// Pin the bare loop and every measured run to these CPUs (e.g. `0`), so the
    /// figures do not depend on where the scheduler puts them beside the server
    /// (Linux; see README "Benchmark").
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cpus: Vec<usize>,
    /// The conform binary whose runs are measured (default: this one), e.g. an
    /// earlier build, to compare two builds against the same bare loop.
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Internal: run the bare loop once (one `--n`) and print its seconds.
    /// `conform bench` runs its bare loop so, in a process of its own as each
    /// measured run, so the scheduler places both alike.
    #[arg(long, hide = true)]
    pub bare_loop: bool,
}

/// `conform targets`.
#[derive(Debug, Clone, Args)]
pub struct TargetsArgs {
    /// Cases folder.
    #[command(flatten)]
    pub cases: CasesArg,
    /// Only this suite (repeatable).
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Config file (default: ./conform.yaml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Where the cases are.
#[derive(Debug, Clone, Args)]
pub struct CasesArg {
    /// Folder holding one sub-folder per suite.
    #[arg(long, value_name = "DIR", default_value = "cases")]
    pub cases: PathBuf,
}

/// Which cases.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Cases folder.
    #[command(flatten)]
    pub cases: CasesArg,
    /// Only this suite (repeatable); default every suite.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Only cases whose id (`suite::file::case`) contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Only cases with this tag (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

/// `conform run`. Unset flags fall back to the environment, then the config file, then defaults.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which cases.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Config file (default: ./conform.yaml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// A target of the suite by name (`mock`, `sandbox`, `live`, …) or a base URL [default: mock].
    #[arg(long, value_name = "NAME|URL")]
    pub target: Option<String>,
    /// Send the chosen target's requests to this base URL instead (keeps its policy).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Cases run at once [default: the number of cores].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Default request timeout in seconds; a step's `timeout` wins [default: 10].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Where to write the JUnit report [default: reports/junit.xml].
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Send POST, PUT, PATCH and DELETE to a read-only target too.
    #[arg(long)]
    pub allow_writes: bool,
    /// Rerun a case that failed up to N times; one that then passes is reported flaky [default: 0].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Trust this CA certificate (PEM) besides the system roots (repeatable).
    #[arg(long = "ca-cert", value_name = "PATH")]
    pub ca_certs: Vec<PathBuf>,
    /// Accept any TLS certificate. Dangerous: for a throw-away test server only.
    #[arg(long)]
    pub insecure: bool,
    /// Largest response body read, in MB; a larger one is a failure [default: 10].
    #[arg(long, value_name = "MB")]
    pub max_body_mb: Option<f64>,
    /// Run the embedded mock with a deliberate contract violation (repeatable; see `conform mock --list-faults`).
    #[arg(long = "mock-fault", value_name = "FAULT")]
    pub mock_faults: Vec<String>,
    /// Folder for summary.json, summary.md and coverage.json.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// Fail the run (exit 5) when operation coverage is below PCT percent.
    #[arg(long, value_name = "PCT")]
    pub min_coverage: Option<f64>,
    /// A previous run's summary.json: report newly failing/passing/flaky cases and response-shape drift.
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: which drift fails the run (exit 6).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = crate::report::drift::FailOn::NewFailures)]
    pub fail_on: crate::report::drift::FailOn,
    /// Run only shard K of N (`2/3`), or `auto` to read the CI runner's variables
    /// (GitLab CI_NODE_INDEX/CI_NODE_TOTAL, Buildkite BUILDKITE_PARALLEL_JOB[_COUNT], CONFORM_SHARD=K/N).
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// Also send invalid bodies derived from each step's `request.schema`, each expecting a 4xx.
    #[arg(long)]
    pub generate_negative: bool,
    /// How to balance shards: `count` (default) or `duration:PATH` (a previous summary.json).
    #[arg(long, value_name = "count|duration:PATH", default_value = "count")]
    pub shard_by: String,
}

/// `conform merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Report folders of the shards (each with summary.json, junit.xml, coverage.json).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged reports.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Which drift fails the merged run, with --baseline.
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: which drift fails (exit 6).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = crate::report::drift::FailOn::NewFailures)]
    pub fail_on: crate::report::drift::FailOn,
    /// Fail (exit 5) when merged operation coverage is below PCT percent.
    #[arg(long, value_name = "PCT")]
    pub min_coverage: Option<f64>,
}

/// `conform import`.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// Import an OpenAPI 3.0 or 3.1 description (YAML or JSON).
    Openapi(ImportOpenapiArgs),
}

/// `conform import openapi`.
#[derive(Debug, Clone, Args)]
pub struct ImportOpenapiArgs {
    /// The description file.
    pub spec: PathBuf,
    /// The suite to write: `schemas/NAME/` and `cases/NAME/`.
    #[arg(long, value_name = "NAME")]
    pub suite: String,
    /// The project folder holding `cases/` and `schemas/`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Also write negative cases derived from the request schemas (each expects a 4xx).
    #[arg(long)]
    pub generate_negative: bool,
    /// Do not validate the description's examples against the generated schemas.
    #[arg(long)]
    pub no_examples: bool,
}

/// `conform schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// `case` or `suite`.
    #[arg(value_parser = ["case", "suite"], default_value = "case")]
    pub which: String,
}

/// `conform completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `conform diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The earlier summary.json.
    pub old: PathBuf,
    /// The later summary.json.
    pub new: PathBuf,
    /// Which drift fails (exit 6).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = crate::report::drift::FailOn::NewFailures)]
    pub fail_on: crate::report::drift::FailOn,
}

/// `conform mock`.
#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// Which API: `palisade` or `ledger-enterprise`.
    #[arg(long, value_name = "NAME", required_unless_present = "list_faults")]
    pub suite: Option<String>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 0)]
    pub port: u16,
    /// Serve a deliberately non-conforming variant (repeatable).
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// List the fault switches and exit.
    #[arg(long)]
    pub list_faults: bool,
}
