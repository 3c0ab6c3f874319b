//! The binary: exit codes and what it prints, as a user sees them.

use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};

use crate::common::TempSuite;

fn conform(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("PALISADE_API_KEY")
        .env_remove("LEDGER_API_KEY")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A port on 127.0.0.1 where nothing listens.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn check_accepts_the_shipped_cases() {
    let o = conform(&["check"], repo());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.starts_with("ok: 2 suites"), "{out}");
}

#[test]
fn run_against_the_embedded_mock_is_green_and_writes_junit() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("out/junit.xml");
    let o = conform(
        &[
            "run",
            "--junit",
            junit.to_str().unwrap(),
            "--reports",
            tmp.path().to_str().unwrap(),
        ],
        repo(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let last = out.lines().last().unwrap();
    assert!(last.ends_with("passed, 0 failed"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"palisade\"")
            && xml.contains("<testsuite name=\"ledger-enterprise\"")
    );
    for f in ["summary.json", "summary.md", "coverage.json"] {
        assert!(tmp.path().join(f).is_file(), "{f} missing");
    }
    // The commit (read from the repository's files) is the one git names.
    let git = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo().join("cases"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["run"]["git_commit"].as_str(), git.as_deref());
}

#[test]
fn a_mock_fault_gives_exit_4_and_junit_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("junit.xml");
    let o = conform(
        &[
            "run",
            "--suite",
            "palisade",
            "--mock-fault",
            "palisade-user-bad-enum",
            "--junit",
            junit.to_str().unwrap(),
            "--reports",
            tmp.path().to_str().unwrap(),
        ],
        repo(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}{err}");
    assert!(out.contains("FAIL "), "{out}");
    assert!(out.contains("at /status"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure") && xml.contains("type=\"contract\""),
        "{xml}"
    );
}

#[test]
fn a_broken_case_file_is_exit_2_with_file_line_column_and_nothing_sent() {
    let port = dead_port();
    let suite = TempSuite::new(
        &format!("http://127.0.0.1:{port}"),
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /x }\n        expct: { status: 200 }\n",
    );
    let o = conform(
        &["run", "--cases", "cases", "--target", "srv"],
        suite.dir.path(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("cases/t/c.yaml:5:9"), "{err}");
    assert!(err.contains("unknown field `expct`"), "{err}");
    assert!(err.contains("did you mean `expect`?"), "{err}");
    assert!(err.contains("5 |         expct: { status: 200 }"), "{err}");
    assert!(!suite.dir.path().join("reports/junit.xml").exists());
}

/// Runs conform with stdout (`closed_stdout`) or stderr whose reader is already
/// gone, the other one discarded: what `| head -1` does to it.
fn status_into_a_closed_pipe(args: &[&str], cwd: &Path, closed_stdout: bool) -> ExitStatus {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let (stdout, stderr) = if closed_stdout {
        (Stdio::from(writer), Stdio::null())
    } else {
        (Stdio::null(), Stdio::from(writer))
    };
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdout(stdout)
        .stderr(stderr)
        .status()
        .expect("the binary runs")
}

#[test]
fn load_errors_into_a_closed_pipe_keep_exit_2_and_do_not_panic() {
    // `conform run 2>&1 | head -1`: the reader is gone before the diagnostics are written.
    let suite = TempSuite::new(
        "http://127.0.0.1:9",
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /x }\n        expct: { status: 200 }\n",
    );
    let args = ["run", "--cases", "cases", "--target", "srv"];
    let status = status_into_a_closed_pipe(&args, suite.dir.path(), false);
    assert_eq!(status.code(), Some(2), "101 is a panic: {status:?}");
}

#[test]
fn a_run_into_a_closed_stdout_pipe_finishes_and_writes_its_reports() {
    // `conform run | head -1`: the progress lines meet a closed pipe.
    let dir = tempfile::tempdir().expect("a temp dir");
    let cases = repo().join("cases");
    let args = ["run", "--cases", cases.to_str().expect("a UTF-8 path")];
    let status = status_into_a_closed_pipe(&args, dir.path(), true);
    assert_eq!(status.code(), Some(0), "101 is a panic: {status:?}");
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit.xml");
    assert!(junit.contains("<testcase"), "{junit}");
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let suite = TempSuite::new(
        "http://127.0.0.1:9",
        r#"cases:
  - name: many problems
    steps:
      - request: { method: GTE, path: "/users/{{user_id}}" }
        expect:
          status: 6xx
          schema: Usr
          jsonpath:
            - { path: "$.a[", exists: true }
            - { path: $.b, matches: "(" }
"#,
    );
    std::fs::write(
        suite.dir.path().join("cases/t/other.yaml"),
        "cases:\n  - name: [unclosed\n",
    )
    .unwrap();
    let o = conform(&["check", "--cases", "cases"], suite.dir.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    for needle in [
        "cases/t/c.yaml:4:28",
        "unknown HTTP method `GTE`",
        "undefined variable `user_id`",
        "`6xx` is not a status class",
        "unknown schema `Usr`: no `Usr.json` in schemas/t",
        "did you mean `User`?",
        "invalid JSONPath `$.a[`",
        "invalid regex",
        "cases/t/other.yaml:",
        "7 problems found; nothing was sent",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn a_refused_connection_is_exit_3() {
    let suite = TempSuite::new(
        &format!("http://127.0.0.1:{}", dead_port()),
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /x }\n        expect: { status: 200 }\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--cases", "cases", "--target", "srv"])
        .current_dir(suite.dir.path())
        .env("TEST_KEY", "k")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(
        out.contains("ERROR") && out.contains("connection failed"),
        "{out}"
    );
    let xml = std::fs::read_to_string(suite.dir.path().join("reports/junit.xml")).unwrap();
    assert!(
        xml.contains("<error") && xml.contains("type=\"transport\""),
        "{xml}"
    );
}

#[test]
fn a_missing_credential_stops_the_run_with_exit_2_naming_the_variable() {
    let o = conform(
        &[
            "run",
            "--suite",
            "palisade",
            "--target",
            "sandbox",
            "--base-url",
            &format!("http://127.0.0.1:{}", dead_port()),
        ],
        repo(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("PALISADE_API_KEY"), "{err}");
}

#[test]
fn a_url_target_with_two_suites_is_a_usage_error() {
    let o = conform(&["run", "--target", "http://127.0.0.1:9"], repo());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("add --suite NAME"), "{err}");
}

#[test]
fn an_unknown_suite_suggests_the_right_one() {
    let o = conform(&["list", "--suite", "palisad"], repo());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("did you mean `palisade`?"), "{err}");
}

#[test]
fn list_prints_case_ids_with_tags() {
    let o = conform(&["list", "--tag", "mfa"], repo());
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.lines().count() >= 3, "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("palisade::") && l.contains("mfa")),
        "{out}"
    );
}

/// Proxies come from the standard environment variables: with `HTTP_PROXY` set, a
/// request to a host that does not exist (`.invalid`, never resolvable) reaches the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_proxy_from_the_environment() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let proxy = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/through-proxy"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&proxy)
        .await;
    let suite = TempSuite::new(
        "http://conform-proxy-test.invalid",
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /through-proxy }\n        expect: { status: 200 }\n",
    );
    let dir = suite.dir.path().to_path_buf();
    let uri = proxy.uri();
    let o = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["run", "--cases", "cases", "--target", "srv"])
            .current_dir(&dir)
            .env("TEST_KEY", "k")
            .env("HTTP_PROXY", &uri)
            .env("http_proxy", &uri)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
}

/// Into a pipe (a CI log), case lines are written in batches, but a case that
/// stalls does not hold back the line of the case that finished before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_case_does_not_hold_back_the_line_of_the_case_before_it() {
    use std::io::BufRead;
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/quick"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/stall"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let suite = TempSuite::new(
        &server.uri(),
        "cases:\n  - name: quick zero\n    steps:\n      - request: { method: GET, path: /quick }\n        expect: { status: 200 }\n  - name: quick one\n    steps:\n      - request: { method: GET, path: /quick }\n        expect: { status: 200 }\n  - name: stalled one\n    steps:\n      - request: { method: GET, path: /stall }\n        expect: { status: 200 }\n",
    );
    let mut child = suite
        .conform_run(&["--jobs", "1", "--timeout", "120"])
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The stalled case answers after 60 s; its predecessor's line must come
    // long before (it is due 100 ms after it was gathered). The line looked
    // for is the second: gathered right after a write (of the first, or of
    // nothing yet), only the writer thread can write it before the stall ends.
    let seen = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains("quick one");
                    seen.push(line);
                    if found {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        seen
    })
    .await
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("PASS") && l.contains("quick one")),
        "the finished case's line was held back while the next case stalled; got {seen:?}"
    );
}

/// `conform bench --url` without `--cpus` says that its figures depend on
/// placement; pinned, it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_against_a_url_unpinned_says_the_figures_depend_on_placement() {
    let server = conform::bench::mock().await.unwrap();
    let url = server.base_url();
    let schemas = repo().join("schemas/palisade");
    let cpu = first_allowed_cpu();
    let run = |pinned: bool| {
        let (url, schemas, cpu) = (url.clone(), schemas.clone(), cpu.clone());
        tokio::task::spawn_blocking(move || {
            let tmp = tempfile::tempdir().unwrap();
            let mut args = vec![
                "bench", "--n", "2", "--jobs", "1", "--repeat", "1", "--url", &url,
            ];
            args.extend(["--schemas", schemas.to_str().unwrap()]);
            if pinned {
                args.extend(["--cpus", &cpu]);
            }
            conform(&args, tmp.path())
        })
    };
    let o = run(false).await.unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("note: not pinned") && err.contains("--cpus"),
        "{err}"
    );
    let o = run(true).await.unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!err.contains("not pinned"), "{err}");
}

/// Each round of `conform bench` runs conform once, unmeasured, between the
/// bare loop and the measured runs (README "Benchmark"). With `--n 2` and one
/// round, the server sees 2 requests from each of: the bare loop, the run that
/// fills the cache for `warm`, that unmeasured run, `cold` and `warm`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_conform_once_unmeasured_between_the_bare_loop_and_the_measured_runs() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // The seeded user, as the embedded mock serves it: it passes W's checks.
    let reference = conform::bench::mock().await.unwrap();
    let user = conform::exec::build_client(&conform::exec::ClientOptions::default())
        .unwrap()
        .get(format!("{}/v2/users/1", reference.base_url()))
        .header("Authorization", conform::mock::Api::Palisade.api_key())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v2/users/[0-9]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(user.to_vec(), "application/json"))
        .mount(&server)
        .await;
    let (url, schemas) = (server.uri(), repo().join("schemas/palisade"));
    let o = tokio::task::spawn_blocking(move || {
        let tmp = tempfile::tempdir().unwrap();
        // The runs are `--binary`'s (given relative to where bench starts): a
        // script that notes each start, then runs conform.
        let calls = tmp.path().join("calls");
        let other = tmp.path().join("other");
        std::fs::write(
            &other,
            format!(
                "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
                calls.display(),
                env!("CARGO_BIN_EXE_conform")
            ),
        )
        .unwrap();
        let mut perm = std::fs::metadata(&other).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&other, perm).unwrap();
        let o = conform(
            &["bench", "--n", "2", "--repeat", "1", "--binary", "missing"],
            tmp.path(),
        );
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}{err}");
        assert!(err.contains("--binary missing: no such file"), "{err}");
        let schemas = schemas.to_str().unwrap();
        let args = ["--url", &url, "--schemas", schemas, "--binary", "other"];
        let mut all = vec!["bench", "--n", "2", "--jobs", "1", "--repeat", "1"];
        all.extend(args);
        let o = conform(&all, tmp.path());
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}{err}");
        let runs = std::fs::read_to_string(&calls).unwrap_or_default();
        assert_eq!(
            runs.lines().count(),
            4,
            "cache fill, unmeasured, cold, warm"
        );
        o
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let seen = server.received_requests().await.unwrap().len();
    assert_eq!(
        seen,
        2 * 5,
        "2 requests from each of the bare loop, the cache fill, the unmeasured run, cold and \
         warm; got {seen}"
    );
    // The bare loop alone, as bench runs it in a process of its own: its
    // seconds on stdout, and one `--n` only.
    let (url, schemas) = (server.uri(), repo().join("schemas/palisade"));
    let (ok, refused) = tokio::task::spawn_blocking(move || {
        let s = schemas.to_str().unwrap();
        let alone = ["bench", "--bare-loop", "--url", &url, "--schemas", s];
        let ok = conform(&[&alone[..], &["--n", "3"]].concat(), repo());
        let refused = conform(&[&alone[..], &["--n", "3,4"]].concat(), repo());
        (ok, refused)
    })
    .await
    .unwrap();
    let (out, err) = text(&ok);
    assert_eq!(ok.status.code(), Some(0), "{out}{err}");
    let secs: f64 = out.trim().parse().unwrap_or_else(|_| panic!("{out:?}"));
    assert!(secs > 0.0 && secs < 60.0, "{secs}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2 * 5 + 3);
    let (out, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("one --n value"), "{err}");
}

/// The README's "case file, with every key" example loads and plans: the docs cannot rot.
#[test]
fn the_readme_case_file_example_is_valid() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let at = readme
        .find("### A case file, with every key")
        .expect("the section exists");
    let block = readme[at..]
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cases = tmp.path().join("cases/palisade");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::copy(
        repo().join("cases/palisade/suite.yaml"),
        cases.join("suite.yaml"),
    )
    .unwrap();
    std::fs::write(cases.join("example.yaml"), block).unwrap();
    let schemas = tmp.path().join("schemas/palisade");
    std::fs::create_dir_all(&schemas).unwrap();
    for e in std::fs::read_dir(repo().join("schemas/palisade")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, schemas.join(p.file_name().unwrap())).unwrap();
    }
    let o = conform(&["check", "--cases", "cases"], tmp.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
}

#[cfg(target_os = "linux")]
/// The first CPU this process may run on (a CI container may not have CPU 0).
fn first_allowed_cpu() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap();
    list.trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn bench_measures_the_workload_pinned_and_refuses_a_cpu_that_is_not_there() {
    let schemas = repo().join("schemas/palisade");
    let cpu = first_allowed_cpu();
    let tmp = tempfile::tempdir().unwrap();
    let o = conform(
        &[
            "bench",
            "--n",
            "3",
            "--jobs",
            "1",
            "--repeat",
            "1",
            "--cpus",
            &cpu,
            "--schemas",
            schemas.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains(&format!("pinned to CPU {cpu}")), "{out}");
    // One row per cache state, each with the run's exit code clean.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("3 "))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows.iter().all(|r| !r.contains("exit")), "{out}");

    let o = conform(
        &["bench", "--n", "1", "--repeat", "1", "--cpus", "4000"],
        tmp.path(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("--cpus") && err.contains("4000"), "{err}");

    // Started where there is no schemas folder: said, with the folder, before any measuring.
    let o = conform(&["bench", "--n", "1", "--repeat", "1"], tmp.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("--schemas schemas/palisade"), "{err}");
    assert!(!out.contains("workload W"), "nothing measured: {out}");
}
