//! `cargo test` front end: every case in `cases/` runs against the embedded
//! mock as one libtest trial named `<suite>::<file>::<case>`, so libtest
//! filters, `--list`, `--exact` and nextest all work.
//!
//! The mocks and the HTTP client start lazily in the first trial that runs,
//! so `--list` starts nothing (nextest lists, then runs each trial in its own
//! process).

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use conform::app::{self, Prepared, RunOptions};
use conform::plan::PlannedSuite;
use conform::report::human::failure_detail;
use conform::result::Outcome;
use conform::runner::RunContext;
use libtest_mimic::{Arguments, Failed, Trial};

struct Shared {
    rt: tokio::runtime::Runtime,
    prepared: Prepared,
    ctx: RunContext,
}

static PLAN: Mutex<Option<Vec<PlannedSuite>>> = Mutex::new(None);
static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();

fn shared() -> Result<&'static Shared, Failed> {
    SHARED
        .get_or_init(|| {
            let suites = PLAN
                .lock()
                .expect("plan lock")
                .take()
                .expect("the plan is set before trials run");
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let opts = RunOptions::default();
            let prepared = rt
                .block_on(app::prepare(suites, &opts, &|_| None))
                .map_err(|e| e.to_string())?;
            let ctx = app::context(&opts).map_err(|e| e.to_string())?;
            Ok(Shared { rt, prepared, ctx })
        })
        .as_ref()
        .map_err(|e| Failed::from(format!("cannot start the embedded mocks: {e}")))
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let trials = match app::load_and_plan(&dir) {
        Ok(suites) => {
            let mut trials = Vec::new();
            for (si, s) in suites.iter().enumerate() {
                for (ci, c) in s.cases.iter().enumerate() {
                    trials.push(
                        Trial::test(c.id.to_string(), move || {
                            let sh = shared()?;
                            let (suite, target) = &sh.prepared.suites[si];
                            let case = &suite.cases[ci];
                            let r = sh
                                .rt
                                .block_on(conform::runner::run_case(case, suite, target, &sh.ctx));
                            match r.outcome {
                                Outcome::Passed | Outcome::Flaky | Outcome::Skipped(_) => Ok(()),
                                Outcome::Failed | Outcome::Errored => {
                                    Err(failure_detail(&r).into())
                                }
                            }
                        })
                        .with_kind(s.name.clone()),
                    );
                }
            }
            *PLAN.lock().expect("plan lock") = Some(suites);
            trials
        }
        Err(e) => {
            let text = e.to_string();
            vec![Trial::test("conform::load", move || {
                Err(text.clone().into())
            })]
        }
    };
    libtest_mimic::run(&args, trials).exit();
}
