//! Fitting into CI: shards and merged reports, the editor schema, completions, version.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("CONFORM_SHARD")
        .env_remove("CI_NODE_INDEX")
        .env_remove("BUILDKITE_PARALLEL_JOB")
        .output()
        .expect("the binary runs")
}

pub(crate) fn run_into(dir: &Path, extra: &[&str]) -> Output {
    let reports = dir.to_str().unwrap();
    let junit = dir.join("junit.xml");
    let mut args = vec![
        "run",
        "--reports",
        reports,
        "--junit",
        junit.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    conform(&args)
}

/// Case id → outcome, from a summary.json.
fn outcomes(dir: &Path) -> Vec<(String, String)> {
    let s = conform::report::summary::read(&dir.join("summary.json")).unwrap();
    let mut v: Vec<(String, String)> = s
        .cases
        .iter()
        .map(|c| (c.id.clone(), c.outcome.word().to_owned()))
        .collect();
    v.sort();
    v
}

/// (suite, property name, value) of every `coverage.*` property in a JUnit text.
fn coverage_properties(xml: &str) -> Vec<(String, String, String)> {
    let report = quick_junit::Report::deserialize_from_str(xml).unwrap();
    let mut v: Vec<_> = report
        .test_suites
        .iter()
        .flat_map(|ts| {
            ts.properties
                .iter()
                .filter(|p| p.name.as_str().starts_with("coverage."))
                .map(|p| (ts.name.to_string(), p.name.to_string(), p.value.to_string()))
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no coverage properties in {xml}");
    v
}

#[test]
fn three_shards_merged_equal_the_unsharded_run_and_a_bad_set_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let o = run_into(&whole, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| tmp.path().join(format!("shard{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        let spec = format!("{}/3", k + 1);
        let o = run_into(dir, &["--shard", &spec]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
        assert!(
            xml.contains(&format!(r#"name="shard" value="{spec}""#)),
            "{xml}"
        );
    }
    // Every case in exactly one shard.
    let mut all: Vec<String> = shards
        .iter()
        .flat_map(|d| outcomes(d).into_iter().map(|(id, _)| id))
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "a case ran in two shards");

    let merged = tmp.path().join("merged");
    let dirs: Vec<&str> = shards.iter().map(|d| d.to_str().unwrap()).collect();
    let mut args = vec!["merge"];
    args.extend(&dirs);
    args.extend(["--out", merged.to_str().unwrap()]);
    let o = conform(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(outcomes(&merged), outcomes(&whole));
    let xml = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let cases: usize = report.test_suites.iter().map(|s| s.test_cases.len()).sum();
    assert_eq!(cases, outcomes(&whole).len());
    // The merged JUnit carries the merged coverage, not the first shard's.
    let whole_xml = std::fs::read_to_string(whole.join("junit.xml")).unwrap();
    assert_eq!(
        coverage_properties(&xml),
        coverage_properties(&whole_xml),
        "{xml}"
    );
    let cov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("coverage.json")).unwrap())
            .unwrap();
    let whole_cov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("coverage.json")).unwrap())
            .unwrap();
    assert_eq!(cov["operations"], whole_cov["operations"]);

    // A missing shard, a shard given twice: exit 7, never a pass.
    let o = conform(&[
        "merge",
        dirs[0],
        dirs[1],
        "--out",
        tmp.path().join("m2").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(i32::from(conform::merge::SHARDS)));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing shard: 3/3"));
    let o = conform(&[
        "merge",
        dirs[0],
        dirs[1],
        dirs[1],
        dirs[2],
        "--out",
        tmp.path().join("m3").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(i32::from(conform::merge::SHARDS)));
    assert!(String::from_utf8_lossy(&o.stderr).contains("given twice"));
    // A shard of another selection.
    let other = tmp.path().join("other");
    let o = run_into(&other, &["--shard", "3/3", "--suite", "palisade"]);
    assert_eq!(o.status.code(), Some(0));
    let o = conform(&[
        "merge",
        dirs[0],
        dirs[1],
        other.to_str().unwrap(),
        "--out",
        tmp.path().join("m4").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(i32::from(conform::merge::SHARDS)));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different case selection"));
}

#[test]
fn shard_auto_reads_the_runner_and_says_which() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "run",
            "--shard",
            "auto",
            "--reports",
            tmp.path().to_str().unwrap(),
            "--junit",
        ])
        .arg(tmp.path().join("j.xml"))
        .current_dir(repo())
        .env("CI_NODE_INDEX", "2")
        .env("CI_NODE_TOTAL", "4")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("shard 2/4 (from GitLab CI_NODE_INDEX/CI_NODE_TOTAL)"),
        "{err}"
    );
}

#[test]
fn every_shipped_file_validates_against_the_editor_schema_and_a_broken_one_does_not() {
    let mut diags = conform::case::Diagnostics::default();
    let reg = conform::schema::SchemaRegistry::load(
        "conform",
        &repo().join("schemas/conform"),
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags}");
    let mut checked = 0;
    for suite in std::fs::read_dir(repo().join("cases")).unwrap() {
        let suite = suite.unwrap().path();
        for f in std::fs::read_dir(&suite).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.ends_with(".yaml") || name == "operations.yaml" {
                continue;
            }
            let v: serde_json::Value =
                serde_saphyr::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let schema = if name == "suite.yaml" {
                "suite-file"
            } else {
                "case-file"
            };
            let errors = reg.validate(schema, &v);
            assert!(errors.is_empty(), "{}: {errors:?}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
    let broken: serde_json::Value = serde_saphyr::from_str(
        "cases:\n  - name: x\n    steps:\n      - request: { method: GTE, path: / }\n        expct: { status: 200 }\n",
    )
    .unwrap();
    let errors = reg.validate("case-file", &broken);
    assert!(errors.len() >= 2, "{errors:?}");
    // `conform schema` prints exactly these files.
    let o = conform(&["schema", "case"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        conform::editor::CASE_SCHEMA
    );
}

#[test]
fn completions_and_version() {
    for shell in ["bash", "zsh", "fish"] {
        let o = conform(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("conform"),
            "{shell}"
        );
    }
    let o = conform(&["--version"]);
    let v = String::from_utf8_lossy(&o.stdout);
    assert!(
        v.starts_with(&format!("conform {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
}
