//! `conform merge`: one set of reports from the reports of shards.
//!
//! Each shard's `summary.json` records its shard K/N and a fingerprint of the
//! whole selection. A release gate must never pass on 2 of 3 shards: a
//! missing shard, a shard counted twice, or shards of different selections
//! are an error with their own exit code ([`SHARDS`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quick_junit::{Report, TestSuite};

use crate::cli::MergeArgs;
use crate::error::{ExpectedError, exit};
use crate::report::summary::{Summary, SummaryTotals, read};

/// Exit code: the shard set is incomplete, duplicated or mixed.
pub const SHARDS: u8 = 7;

/// Runs `conform merge`.
pub fn cmd_merge(args: MergeArgs) -> Result<u8, ExpectedError> {
    let mut shards: Vec<(PathBuf, Summary)> = Vec::new();
    for d in &args.dirs {
        let s = read(&d.join("summary.json"))
            .map_err(|e| ExpectedError::Usage(format!("{}: {e}", d.display())))?;
        shards.push((d.clone(), s));
    }
    if let Err(msg) = check_set(&shards) {
        crate::errln!("error: {msg}");
        return Ok(SHARDS);
    }
    let merged = merge_summaries(shards.iter().map(|(_, s)| s.clone()).collect());
    std::fs::create_dir_all(&args.out)
        .map_err(|e| ExpectedError::Io(format!("cannot create {}: {e}", args.out.display())))?;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        ExpectedError::Io(format!("cannot write {what} to {}: {e}", p.display()))
    };

    let coverage = merge_coverage(&args.dirs)?;
    let mut junit = merge_junit(&args.dirs)?;
    if let Some(c) = &coverage {
        // The merged coverage, not any one shard's.
        c.add_to_junit(&mut junit);
    }
    let junit_path = args.out.join("junit.xml");
    let text = crate::report::junit::render(&junit)
        .map_err(|e| ExpectedError::Io(format!("cannot render the JUnit report: {e}")))?;
    crate::report::junit::write_atomic(&junit_path, text.as_bytes())
        .map_err(|e| io("the JUnit report", &junit_path, e))?;

    let summary_path = args.out.join("summary.json");
    merged
        .write(&summary_path)
        .map_err(|e| io("the summary", &summary_path, e))?;
    let mut md = crate::report::markdown::render(&merged, coverage.as_ref());
    let drift = match &args.baseline {
        Some(p) => Some(crate::report::drift::diff(
            &read(p).map_err(|e| ExpectedError::Usage(format!("--baseline: {e}")))?,
            &merged,
        )),
        None => None,
    };
    if let Some(d) = &drift {
        md.push_str(&crate::report::markdown::drift_section(d));
        crate::out!("{}", d.render_text());
    }
    let md_path = args.out.join("summary.md");
    crate::report::junit::write_atomic(&md_path, md.as_bytes())
        .map_err(|e| io("the Markdown summary", &md_path, e))?;
    if let Some(c) = &coverage {
        let p = args.out.join("coverage.json");
        c.write(&p).map_err(|e| io("the coverage report", &p, e))?;
        crate::out!("{}", c.render_text());
    }
    let t = &merged.totals;
    crate::outln!("merged {} shards: {} cases", shards.len(), t.cases);
    crate::outln!(
        "{} passed, {} failed{}",
        t.pass + t.flaky,
        t.fail + t.error,
        if t.skip > 0 {
            format!(", {} skipped", t.skip)
        } else {
            String::new()
        }
    );
    let totals = crate::result::Totals {
        passed: t.pass + t.flaky,
        failed: t.fail,
        errored: t.error,
        skipped: t.skip,
        flaky: t.flaky,
    };
    let coverage_ok = match (args.min_coverage, &coverage) {
        (None, _) => true,
        (Some(m), Some(c)) => c
            .require(m)
            .map_err(|msg| crate::errln!("error: {msg}"))
            .is_ok(),
        (Some(_), None) => {
            crate::errln!("error: --min-coverage: the shards wrote no coverage.json");
            false
        }
    };
    let code = crate::report::exit::run_exit_code(
        &totals,
        coverage_ok,
        drift.as_ref().map(|d| (d, args.fail_on)),
    );
    Ok(if code == exit::SUCCESS {
        exit::SUCCESS
    } else {
        code
    })
}

/// Every shard of one selection, each exactly once.
pub fn check_set(shards: &[(PathBuf, Summary)]) -> Result<(), String> {
    let mut total = None;
    let mut selection = None;
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for (dir, s) in shards {
        let Some(info) = &s.run.shard else {
            return Err(format!(
                "{} is not a shard's report (its summary.json records no --shard)",
                dir.display()
            ));
        };
        if *total.get_or_insert(info.total) != info.total {
            return Err(format!(
                "{} is shard {}/{}, but another is of {} shards",
                dir.display(),
                info.index,
                info.total,
                total.unwrap_or(0)
            ));
        }
        if selection.get_or_insert(info.selection.clone()) != &info.selection {
            return Err(format!(
                "{} ran a different case selection ({}) than the others ({}): shards of different runs",
                dir.display(),
                info.selection,
                selection.clone().unwrap_or_default()
            ));
        }
        if let Some(other) = seen.insert(info.index, dir) {
            return Err(format!(
                "shard {}/{} is given twice: {} and {}",
                info.index,
                info.total,
                other.display(),
                dir.display()
            ));
        }
    }
    let total = total.unwrap_or(0);
    let missing: Vec<String> = (1..=total)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{total}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing shard{}: {}; a gate must not pass on part of the cases",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    Ok(())
}

/// One summary with every shard's cases, the first shard's metadata (without the shard).
pub fn merge_summaries(mut shards: Vec<Summary>) -> Summary {
    shards.sort_by_key(|s| s.run.shard.as_ref().map_or(0, |i| i.index));
    let mut out = shards.remove(0);
    out.run.shard = None;
    for s in shards {
        out.cases.extend(s.cases);
        for suite in s.suites {
            match out.suites.iter_mut().find(|x| x.name == suite.name) {
                Some(x) => x.cases += suite.cases,
                None => out.suites.push(suite),
            }
        }
    }
    out.cases.sort_by(|a, b| a.id.cmp(&b.id));
    out.suites.sort_by(|a, b| a.name.cmp(&b.name));
    let mut t = SummaryTotals {
        cases: out.cases.len(),
        pass: 0,
        fail: 0,
        error: 0,
        skip: 0,
        flaky: 0,
    };
    for c in &out.cases {
        match c.outcome.word() {
            "pass" => t.pass += 1,
            "fail" => t.fail += 1,
            "error" => t.error += 1,
            "skip" => t.skip += 1,
            _ => t.flaky += 1,
        }
    }
    out.totals = t;
    out
}

fn merge_junit(dirs: &[PathBuf]) -> Result<Report, ExpectedError> {
    let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
    for d in dirs {
        let p = d.join("junit.xml");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| ExpectedError::Usage(format!("cannot read {}: {e}", p.display())))?;
        let report = Report::deserialize_from_str(&text).map_err(|e| {
            ExpectedError::Usage(format!("{} is not valid JUnit: {e}", p.display()))
        })?;
        for ts in report.test_suites {
            let entry = suites.entry(ts.name.to_string()).or_insert_with(|| {
                let mut n = TestSuite::new(ts.name.as_str());
                n.add_properties(
                    ts.properties
                        .iter()
                        // Each shard's own; the merged coverage is added after.
                        .filter(|p| {
                            p.name.as_str() != "shard" && !p.name.as_str().starts_with("coverage.")
                        })
                        .cloned(),
                );
                n
            });
            entry.add_test_cases(ts.test_cases);
        }
    }
    let mut report = Report::new("conform");
    report.add_test_suites(suites.into_values());
    Ok(report)
}

fn merge_coverage(
    dirs: &[PathBuf],
) -> Result<Option<crate::report::coverage::Coverage>, ExpectedError> {
    let mut all = Vec::new();
    for d in dirs {
        let p = d.join("coverage.json");
        match std::fs::read_to_string(&p) {
            Ok(t) => all.push(
                serde_json::from_str::<crate::report::coverage::Coverage>(&t)
                    .map_err(|e| ExpectedError::Usage(format!("{}: {e}", p.display())))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ExpectedError::Usage(format!(
                    "cannot read {}: {e}",
                    p.display()
                )));
            }
        }
    }
    Ok(crate::report::coverage::union(all))
}
