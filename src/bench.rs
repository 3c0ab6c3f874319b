//! `conform bench`: the benchmark of workload W, reproducible on any machine.
//!
//! Workload W: N generated cases, each `GET /v2/users/<n>` expecting 200,
//! `$.status == "ACTIVATED"`, `$.email == "jbloggs@gmail.com"` and
//! `schema: v2User` (date-time formats on), with JUnit written. It runs
//! `conform run` as a child process per (N, jobs) so wall time, CPU time and
//! peak RSS are the whole process's, start-up included, and in the same run a
//! bare request loop (one reqwest client, the same two JSONPath checks and
//! the same compiled schema) gives the floor the harness is compared with.
//! Against the embedded mock (default, with its benchmark switch that serves
//! the seeded user for any id) or any URL serving those paths (e.g. nginx).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json_path::JsonPath;

use crate::case::Diagnostics;
use crate::schema::SchemaRegistry;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Case counts.
    pub sizes: Vec<usize>,
    /// `--jobs` values.
    pub jobs: Vec<usize>,
    /// A base URL serving `GET /v2/users/<n>`; `None` uses the embedded mock.
    pub url: Option<String>,
    /// The Palisade schemas folder (holding `v2User.json`).
    pub schemas: PathBuf,
    /// The conform binary whose runs are measured.
    pub binary: PathBuf,
    /// The conform binary that runs the bare loop (`conform bench --bare-loop`).
    pub driver: PathBuf,
    /// Runs of each measurement; the median wall and CPU time and the largest
    /// peak RSS are reported.
    pub repeat: usize,
    /// CPUs the benchmark (the bare loop and every measured run) is pinned to;
    /// empty: wherever the scheduler puts it.
    pub cpus: Vec<usize>,
}

/// One measured configuration.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Cases.
    pub n: usize,
    /// Concurrency.
    pub jobs: usize,
    /// Wall time of `conform run`, start-up to exit.
    pub wall: Duration,
    /// User + system CPU time of that process.
    pub cpu: Duration,
    /// Peak resident set size, bytes (the largest of the runs).
    pub peak_rss: u64,
    /// Exit code of the run (0 expected).
    pub exit: i32,
    /// The bare loop's time for the same N (sequential; the median of the runs).
    pub bare: Duration,
    /// Wall time over the bare loop's, each run against the bare loop of its
    /// own round; the median of those.
    pub ratio: f64,
    /// Whether the parse cache was warm (every run read the case files' parsed
    /// models back) or empty (every run parsed the YAML and wrote the cache, as
    /// in a fresh checkout).
    pub warm: bool,
}

impl Measurement {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        self.n as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Harness time per case above the bare loop, in microseconds.
    pub fn overhead_us(&self) -> f64 {
        (self.wall.as_secs_f64() - self.bare.as_secs_f64()) * 1e6 / self.n as f64
    }
}

/// Writes workload W with `n` cases into `dir` (`cases/bench/…`).
pub fn write_workload(
    dir: &Path,
    n: usize,
    url: Option<&str>,
    schemas: &Path,
) -> std::io::Result<()> {
    let cases = dir.join("cases/bench");
    std::fs::create_dir_all(&cases)?;
    let schemas = std::fs::canonicalize(schemas).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "the schemas folder {}: {e} (run from the repository's top folder, or give --schemas DIR)",
                schemas.display()
            ),
        )
    })?;
    let mut suite = format!(
        "name: bench\nmock: palisade\nschemas: '{}'\nauth: {{ header: Authorization, env: CONFORM_BENCH_KEY }}\ntargets:\n  mock: {{ url: mock }}\n",
        schemas.display()
    );
    if let Some(u) = url {
        let _ = writeln!(suite, "  url: {{ url: '{u}' }}");
    }
    std::fs::write(cases.join("suite.yaml"), suite)?;
    for (chunk, start) in (1..=n).step_by(1000).enumerate() {
        let mut text = String::from("cases:\n");
        for i in start..(start + 1000).min(n + 1) {
            let _ = write!(
                text,
                "  - name: get user {i}\n    steps:\n      - request: {{ method: GET, path: /v2/users/{i} }}\n        expect:\n          status: 200\n          schema: v2User\n          jsonpath:\n            - {{ path: $.status, equals: ACTIVATED }}\n            - {{ path: $.email, equals: jbloggs@gmail.com }}\n"
            );
        }
        std::fs::write(cases.join(format!("w{chunk:03}.yaml")), text)?;
    }
    Ok(())
}

/// Runs `conform run` on the workload in `dir` and measures the child process.
pub fn measure_run(
    binary: &Path,
    dir: &Path,
    jobs: usize,
    url: bool,
) -> std::io::Result<(Duration, Duration, u64, i32)> {
    let mut cmd = Command::new(binary);
    cmd.env_remove(crate::case::cache::ENV);
    cmd.current_dir(dir)
        .args([
            "run",
            "--cases",
            "cases",
            "--junit",
            "junit.xml",
            "--jobs",
            &jobs.to_string(),
        ])
        .args(if url {
            vec!["--target", "url"]
        } else {
            vec!["--mock-fault", "palisade-bench-any-id"]
        })
        .env("CONFORM_BENCH_KEY", crate::mock::Api::Palisade.api_key())
        .env("NO_COLOR", "1")
        .env("CI", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let child = cmd.spawn()?;
    let (status, usage) = wait_with_usage(child.id() as i32)?;
    let wall = started.elapsed();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    Ok((wall, cpu, usage.ru_maxrss as u64 * 1024, status))
}

fn wait_with_usage(pid: i32) -> std::io::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child `pid`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to locals, and `pid` is a child we spawned and have not waited for.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage))
}

/// The floor: N sequential GETs with the same checks, one client, one
/// compiled schema, on the runtime it is given (see [`run`]).
pub async fn bare_loop(base: &str, n: usize, schemas: &Path) -> Result<Duration, String> {
    let mut diags = Diagnostics::default();
    let reg = SchemaRegistry::load("palisade", schemas, &mut diags);
    if !diags.is_empty() || !reg.contains("v2User") {
        return Err(format!(
            "cannot load v2User from {}: {diags}",
            schemas.display()
        ));
    }
    let status = JsonPath::parse("$.status").expect("static path");
    let email = JsonPath::parse("$.email").expect("static path");
    let client = crate::exec::build_client(&crate::exec::ClientOptions::default())?;
    let key = crate::mock::Api::Palisade.api_key();
    let base = base.trim_end_matches('/');
    let started = Instant::now();
    for i in 1..=n {
        let resp = client
            .get(format!("{base}/v2/users/{i}"))
            .header("Authorization", key)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("GET /v2/users/{i} answered {}", resp.status()));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&resp.bytes().await.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        let ok = status.query(&body).first().and_then(|v| v.as_str()) == Some("ACTIVATED")
            && email.query(&body).first().and_then(|v| v.as_str()) == Some("jbloggs@gmail.com")
            && reg.validate("v2User", &body).is_empty();
        if !ok {
            return Err(format!("GET /v2/users/{i}: the checks failed"));
        }
    }
    Ok(started.elapsed())
}

/// The middle value (the lower of the two middle ones for an even count).
fn median<T: Copy + Default + PartialOrd>(v: &mut [T]) -> T {
    v.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

/// Pins the calling thread, the threads it starts from now on and the
/// processes it spawns to `cpus`.
///
/// Why the bench offers it: on a virtual machine, a sequential run against a
/// server on loopback is about twice as fast when the client and the server
/// share a CPU as when they sit on two (measured here: 28 ms against 86-115 ms
/// for 1,000 requests to nginx, each request then waking a halted virtual CPU
/// twice), and the scheduler picks one or the other run by run.
#[cfg(target_os = "linux")]
pub fn pin_to(cpus: &[usize]) -> Result<(), String> {
    let shown = || {
        cpus.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    // SAFETY: cpu_set_t is plain data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(format!("--cpus: there is no CPU {cpu}"));
        }
        // SAFETY: `cpu` is below CPU_SETSIZE, checked above.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of the size given.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r != 0 {
        return Err(format!(
            "--cpus {}: cannot pin to those CPUs: {} (this machine has {} available)",
            shown(),
            std::io::Error::last_os_error(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ));
    }
    Ok(())
}

/// Pinning is only offered on Linux.
#[cfg(not(target_os = "linux"))]
pub fn pin_to(_cpus: &[usize]) -> Result<(), String> {
    Err("--cpus is only supported on Linux".into())
}

/// Runs every configuration; prints a table and returns the measurements.
pub fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, String> {
    // Before anything else starts: the runs take the mask from this thread.
    if !opts.cpus.is_empty() {
        pin_to(&opts.cpus)?;
    }
    if !opts.schemas.is_dir() {
        return Err(format!(
            "--schemas {}: no such folder here (run from the repository's top folder, or give \
             --schemas DIR with the Palisade schemas)",
            opts.schemas.display()
        ));
    }
    let mut out = Vec::new();
    crate::outln!(
        "workload W against {}: GET /v2/users/<n>, 2 JSONPath checks, schema v2User, JUnit written \
         (median of {} runs each, peak RSS the largest){}",
        opts.url.as_deref().unwrap_or("the embedded mock"),
        opts.repeat.max(1),
        if opts.cpus.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = opts.cpus.iter().map(usize::to_string).collect();
            format!("; pinned to CPU {}", list.join(","))
        }
    );
    if opts.url.is_some() && opts.cpus.is_empty() {
        // Measured here: the same loop took 0.028 s beside nginx on its CPU and
        // 0.086-0.115 s on the other, and unpinned rounds land either way.
        crate::errln!(
            "note: not pinned: against a separate server, times depend on whether the scheduler \
             puts conform on the server's CPU or another; pin both for figures that hold \
             (--cpus, README \"Benchmark\")"
        );
    }
    crate::outln!(
        "{:>6} {:>4} {:>5} {:>9} {:>10} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "N",
        "jobs",
        "parse",
        "wall s",
        "cases/s",
        "cpu s",
        "peak MB",
        "bare s",
        "ratio",
        "µs/case"
    );
    for &n in &opts.sizes {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        write_workload(dir.path(), n, opts.url.as_deref(), &opts.schemas)
            .map_err(|e| e.to_string())?;
        // Cold: the parse cache emptied before the run, as in a fresh checkout
        // (every file parsed, then remembered). Warm: the cache filled by one
        // unmeasured run, then read by every measured one.
        let configs: Vec<(usize, bool)> = opts
            .jobs
            .iter()
            .flat_map(|&j| [(j, false), (j, true)])
            .collect();
        let cache = dir.path().join("cases").join(crate::case::cache::DIR_NAME);
        let measure = |jobs: usize, warm: bool| {
            if !warm && cache.exists() {
                std::fs::remove_dir_all(&cache)
                    .map_err(|e| format!("cannot empty {}: {e}", cache.display()))?;
            }
            measure_run(&opts.binary, dir.path(), jobs, opts.url.is_some())
                .map_err(|e| e.to_string())
        };
        if let Some(&(jobs, _)) = configs.first() {
            measure(jobs, true)?;
        }
        // Rounds of the bare loop and every configuration in turn, so a machine
        // that slows down for a while slows every one of them alike.
        let mut bares = Vec::with_capacity(opts.repeat);
        let mut runs = vec![Vec::with_capacity(opts.repeat); configs.len()];
        for _ in 0..opts.repeat.max(1) {
            bares.push(measure_bare(opts, n)?);
            // An unmeasured run between the bare loop and the measured ones, so
            // that every measured run follows a run of conform, as the bare loop
            // does. Measured without it (N = 1,000 against nginx on the other
            // CPU, three configurations that do the same work): the run right
            // after the bare loop took 0.060 s of CPU and 0.100 s, the others
            // 0.055-0.056 s and 0.095-0.097 s, whichever configuration came first.
            if let Some(&(jobs, warm)) = configs.first() {
                measure(jobs, warm)?;
            }
            for (i, &(jobs, warm)) in configs.iter().enumerate() {
                runs[i].push(measure(jobs, warm)?);
            }
        }
        let bare = median(&mut bares.clone());
        for (&(jobs, warm), runs) in configs.iter().zip(runs) {
            let (mut walls, mut cpus, mut peak_rss, mut exit) = (Vec::new(), Vec::new(), 0, 0);
            let mut ratios = Vec::new();
            for (&(wall, cpu, rss, code), b) in runs.iter().zip(&bares) {
                walls.push(wall);
                cpus.push(cpu);
                ratios.push(wall.as_secs_f64() / b.as_secs_f64().max(1e-9));
                peak_rss = peak_rss.max(rss);
                if code != 0 {
                    exit = code;
                }
            }
            let ratio = median(&mut ratios);
            let (wall, cpu) = (median(&mut walls), median(&mut cpus));
            let m = Measurement {
                n,
                jobs,
                wall,
                cpu,
                peak_rss,
                exit,
                bare,
                ratio,
                warm,
            };
            crate::outln!(
                "{:>6} {:>4} {:>5} {:>9.3} {:>10.0} {:>9.3} {:>9.1} {:>9.3} {:>9.2}x {:>8.1}{}",
                n,
                jobs,
                if warm { "warm" } else { "cold" },
                wall.as_secs_f64(),
                m.rate(),
                cpu.as_secs_f64(),
                peak_rss as f64 / 1048576.0,
                bare.as_secs_f64(),
                ratio,
                m.overhead_us(),
                if exit == 0 {
                    String::new()
                } else {
                    format!("  (exit {exit}!)")
                }
            );
            out.push(m);
        }
    }
    Ok(out)
}

/// Runs the bare loop once in a process of its own (`conform bench
/// --bare-loop`), as each measured run is one: unpinned, the scheduler then
/// places both alike. Run inside the benchmark's own process, the loop landed
/// on the server's CPU and the runs on the other: 0.027 s against 0.092-0.096 s
/// for 1,000 requests to nginx, a ratio of 3.5x that measured placement, not
/// conform (pinned to the other CPU, the same runs are 1.13-1.16x).
fn measure_bare(opts: &BenchOptions, n: usize) -> Result<Duration, String> {
    let mut cmd = Command::new(&opts.driver);
    cmd.args(["bench", "--bare-loop", "--n", &n.to_string(), "--schemas"])
        .arg(&opts.schemas)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if let Some(url) = &opts.url {
        cmd.args(["--url", url]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start the bare loop: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim().parse::<f64>() {
        Ok(secs) if out.status.success() => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "the bare loop failed ({}): {} {}",
            out.status,
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The embedded Palisade mock serving the seeded user for any id (its
/// `palisade-bench-any-id` switch), as workload W's runs use it.
pub async fn mock() -> std::io::Result<crate::mock::MockServer> {
    crate::mock::start(
        crate::mock::Api::Palisade,
        crate::mock::MockConfig {
            faults: vec![crate::mock::Fault::PalisadeBenchAnyId],
            ..Default::default()
        },
    )
    .await
}

/// The bare loop of `n` requests to `url`, or to an embedded mock serving the
/// seeded user for any id, on this thread alone (as `conform run --jobs 1`
/// runs): its time, without the start of the mock or the schema compile.
pub fn bare_alone(n: usize, url: Option<&str>, schemas: &Path) -> Result<Duration, String> {
    // With a runtime of one worker thread, each response woke that worker and
    // then this thread, and the floor was not the floor: 1,000 requests to
    // nginx took 0.039 s against 0.028 s on one CPU, 0.097 s against 0.086 s
    // on two (median of 11).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mock = match url {
        Some(_) => None,
        None => Some(rt.block_on(mock()).map_err(|e| e.to_string())?),
    };
    let base = match (url, &mock) {
        (Some(u), _) => u.to_owned(),
        (_, Some(m)) => m.base_url(),
        (None, None) => return Err("no server for the bare loop".into()),
    };
    let took = rt.block_on(bare_loop(&base, n, schemas));
    drop(mock);
    took
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_ignores_one_noisy_run() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(90), ms(300), ms(95)]), ms(95));
        assert_eq!(median(&mut [ms(90), ms(95), ms(300), ms(100)]), ms(95));
        assert_eq!(median(&mut [ms(7)]), ms(7));
        assert_eq!(median::<Duration>(&mut []), Duration::ZERO);
        // Ratios too: the median of each run's ratio to its own round's bare loop.
        assert_eq!(median(&mut [1.3, 9.0, 1.1]), 1.3);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pinning_sets_the_threads_cpus_and_refuses_cpus_that_are_not_there() {
        // On a thread of its own: the mask stays with that thread.
        std::thread::spawn(|| {
            let mine = || {
                // SAFETY: plain data, filled by the call for the calling thread.
                let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
                let r = unsafe {
                    libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set)
                };
                assert_eq!(r, 0);
                (0..libc::CPU_SETSIZE as usize)
                    .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
                    .collect::<Vec<usize>>()
            };
            let first = mine()[0];
            pin_to(&[first]).unwrap();
            assert_eq!(mine(), vec![first]);
            let e = pin_to(&[4000]).unwrap_err();
            assert!(e.contains("no CPU 4000"), "{e}");
            let e = pin_to(&[1000]).unwrap_err();
            assert!(e.contains("cannot pin") && e.contains("1000"), "{e}");
            assert_eq!(mine(), vec![first], "a refused pin changes nothing");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn workload_w_is_what_the_readme_says() {
        let dir = tempfile::tempdir().unwrap();
        let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/palisade");
        write_workload(dir.path(), 2500, None, &schemas).unwrap();
        let suites = crate::app::load_and_plan(&dir.path().join("cases"))
            .unwrap_or_else(|e| panic!("workload W does not load: {e}"));
        let cases: Vec<_> = suites.iter().flat_map(|s| &s.cases).collect();
        assert_eq!(cases.len(), 2500);
        let last = cases.iter().find(|c| c.id.name == "get user 2500").unwrap();
        assert_eq!(last.steps[0].path_text, "/v2/users/2500");
        assert_eq!(
            last.steps[0].checks.len(),
            4,
            "status, two JSONPaths, schema"
        );
    }
}
