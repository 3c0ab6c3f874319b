//! Hostile case files: the loader and the template engine meet inputs written to hurt.
//!
//! Property tests (proptest) pin the template engine and the JSONPath capture:
//!
//! | property | what is generated |
//! |---|---|
//! | literal text (no `{{`) parses and renders to itself | any string, `{{` removed |
//! | `{{name}}` (with or without spaces, between literals) renders the variable | names `[A-Za-z_][A-Za-z0-9_-]*`, any value |
//! | `JsonTemplate` over JSON without templates is a literal and renders to itself | any JSON (nested, unicode keys) |
//! | every leaf of a JSON value replaced by `"{{vN}}"` renders back the original | any JSON (numbers and booleans keep their type) |
//! | `Template::parse` never panics; errors point inside the text; parsed templates render | any string, biased to `{{`, `}}`, `(`, `)` |
//! | a capture JSONPath (`$.a['b'][0]`) finds exactly the inserted value, as `runner::capture` does | a random path of keys (any unicode, escaped) and indexes, noise siblings |
//!
//! Pathological inputs go through `conform::app::load_and_plan` on a temp suite
//! (`common::TempSuite`), each in its own child process (the test binary re-runs
//! itself with `--exact`), so a stack overflow or a hang fails that row with its
//! name instead of aborting the whole test binary; a child has 60 s, the work
//! itself must finish in [`LIMIT`]:
//!
//! | row | expected |
//! |---|---|
//! | `[[[…]]]` / `{a: {a: …}}` / `- - - …` 10,000 deep in a case file | Err naming the nesting limit, at the case file |
//! | billion laughs (9 levels of 9 aliases) in a case file | Err naming the alias/replay limit |
//! | 50 MB case file (sparse) | Err: `file is 52428800 bytes; … limited to 8388608` |
//! | 7.9 MB case file of 60,000 cases (under the size limit) | loads, or a clear budget error |
//! | 1 MB case name on one line | loads (the name is kept whole) |
//! | schema `$ref` cycle `A.json` → `B.json` → `A.json`, and `{"$ref": "#"}` | compiles or a clear error; validating terminates |
//! | legal recursive schemas (tree via `#`, list via two files) | validate deep valid and invalid instances |
//! | case variable `a: "{{a}}"`; `a: "{{b}}", b: "{{a}}"`; suite variable `s: "{{s}}"` | Err `undefined variable` |
//! | a template of 100,000 `{{x}}` | parses and renders in time (directly and in a planned request path) |
//!
//! The fuzz targets' bodies (`fuzz/src/lib.rs`) are included here: the kept corpora
//! (`fuzz/corpus/load_case`, `fuzz/corpus/template`) replay through them on stable, and
//! crash reproducers from `fuzz/artifacts/` belong next to them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conform::error::ExpectedError;
use conform::plan::PlannedSuite;
use conform::template::{JsonTemplate, Template, Vars};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use serde_json_path::JsonPath;

use crate::common::TempSuite;

/// How long one pathological input may take to load, plan or render (debug build).
/// A guard against hangs and blow-ups, not a performance test (those are in
/// `conform bench`): generous, because CI runs the debug build on 2 loaded cores,
/// where the ~8 MB file of 71,000 cases was seen to take 9 s.
const LIMIT: Duration = Duration::from_secs(30);

/// How long a child process may run before it counts as hung (more than [`LIMIT`], so a
/// slow row fails with its measurement rather than as a hang).
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Address-space cap of a child process (bytes).
const CHILD_MEMORY: u64 = 3 << 30;

/// Set in the child process that runs one row for real.
const CHILD_ENV: &str = "CONFORM_HOSTILE_INPUTS_CHILD";

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

/// Removes every `{{` so the text is a pure literal.
fn no_open(s: String) -> String {
    let mut s = s;
    while s.contains("{{") {
        s = s.replace("{{", "{");
    }
    s
}

/// Text biased towards template syntax.
fn template_ish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("{{".to_owned()),
                Just("}}".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("(".to_owned()),
                Just(")".to_owned()),
                Just(" ".to_owned()),
                Just("uuid".to_owned()),
                Just("random".to_owned()),
                Just("now".to_owned()),
                Just("unix_time".to_owned()),
                Just("unix_millis".to_owned()),
                "[0-9]{1,3}",
                "[a-zA-Z_-]{1,6}",
                "\\PC{1,3}",
            ],
            0..24,
        )
        .prop_map(|v| v.concat()),
    ]
}

fn var_name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_-]{0,15}"
}

/// Any JSON value; strings never contain `{{`.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(|s| Value::String(no_open(s))),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Replaces every leaf of `v` by `"{{vN}}"` and records `vN` → the leaf.
fn templatize(v: &Value, vars: &mut Vars) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(|i| templatize(i, vars)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), templatize(v, vars)))
                .collect(),
        ),
        leaf => {
            let name = format!("v{}", vars.len());
            vars.insert(name.clone(), leaf.clone());
            Value::String(format!("{{{{{name}}}}}"))
        }
    }
}

/// One step of a capture path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An RFC 9535 single-quoted name selector.
fn quote_name(k: &str) -> String {
    let mut out = String::from("['");
    for c in k.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("']");
    out
}

fn is_member_name_shorthand(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The JSONPath text for `segs`; `dots` picks `.name` over `['name']` where allowed.
fn path_text(segs: &[Seg], dots: &[bool]) -> String {
    let mut p = String::from("$");
    for (i, s) in segs.iter().enumerate() {
        match s {
            Seg::Key(k) if dots.get(i).copied().unwrap_or(false) && is_member_name_shorthand(k) => {
                p.push('.');
                p.push_str(k);
            }
            Seg::Key(k) => p.push_str(&quote_name(k)),
            Seg::Index(n) => p.push_str(&format!("[{n}]")),
        }
    }
    p
}

/// A document holding `leaf` at `segs`, with noise around every step.
fn build_doc(segs: &[Seg], leaf: Value, noise: &[Value]) -> Value {
    let mut v = leaf;
    for (depth, s) in segs.iter().enumerate().rev() {
        let n = noise
            .get(depth % noise.len().max(1))
            .cloned()
            .unwrap_or(Value::Null);
        v = match s {
            Seg::Key(k) => {
                let mut m = Map::new();
                m.insert(format!("{k}~noise"), n.clone());
                m.insert("noise".into(), n);
                // Inserted last, so it wins when `k` is one of the noise keys.
                m.insert(k.clone(), v);
                Value::Object(m)
            }
            Seg::Index(i) => {
                let mut items = vec![n; *i + 1 + depth % 2];
                items[*i] = v;
                Value::Array(items)
            }
        };
    }
    v
}

fn seg() -> impl Strategy<Value = Seg> {
    prop_oneof![
        any::<String>().prop_map(Seg::Key),
        "[a-z_][a-z0-9_]{0,6}".prop_map(Seg::Key),
        (0usize..5).prop_map(Seg::Index),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn literal_text_renders_to_itself(text in any::<String>().prop_map(no_open)) {
        let t = Template::parse(&text).expect("text without `{{` is a literal");
        prop_assert!(t.is_literal());
        prop_assert_eq!(t.vars().count(), 0);
        prop_assert_eq!(t.render(&Vars::new()).unwrap(), text.clone());
        prop_assert_eq!(t.render_value(&Vars::new()).unwrap(), Value::String(text));
    }

    #[test]
    fn a_variable_renders_its_value(
        name in var_name(),
        value in any::<String>(),
        before in any::<String>().prop_map(no_open),
        after in any::<String>().prop_map(no_open),
        pad_l in " {0,2}",
        pad_r in " {0,2}",
    ) {
        // `before` must not end in `{` and `after` must not start with `}` (they would
        // merge with the braces), and `after` must not contain `}}` right away.
        let before = before.trim_end_matches('{').to_owned();
        let text = format!("{before}{{{{{pad_l}{name}{pad_r}}}}}{after}");
        let t = Template::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        prop_assert_eq!(t.vars().collect::<Vec<_>>(), vec![name.as_str()]);
        let mut vars = Vars::new();
        vars.insert(name.clone(), Value::String(value.clone()));
        prop_assert_eq!(t.render(&vars).unwrap(), format!("{before}{value}{after}"));
        // Unset: the error names the variable.
        let err = t.render(&Vars::new()).unwrap_err();
        prop_assert!(err.contains(&format!("`{name}`")), "{}", err);
    }

    #[test]
    fn a_lone_variable_keeps_its_json_value(name in var_name(), value in json_value()) {
        let t = Template::parse(&format!("{{{{{name}}}}}")).unwrap();
        let mut vars = Vars::new();
        vars.insert(name, value.clone());
        prop_assert_eq!(t.render_value(&vars).unwrap(), value);
    }

    #[test]
    fn json_without_templates_renders_to_itself(v in json_value()) {
        let t = JsonTemplate::parse(&v).expect("no template inside");
        prop_assert!(matches!(t, JsonTemplate::Lit(_)), "{:?}", t);
        prop_assert!(t.vars().is_empty());
        prop_assert_eq!(t.render(&Vars::new()).unwrap(), v);
    }

    #[test]
    fn every_leaf_as_a_variable_renders_back(v in json_value()) {
        let mut vars = Vars::new();
        let templated = templatize(&v, &mut vars);
        let t = JsonTemplate::parse(&templated).expect("`{{vN}}` parses");
        prop_assert_eq!(t.vars().len(), vars.len());
        prop_assert_eq!(t.render(&vars).unwrap(), v);
    }

    #[test]
    fn template_parse_never_panics(text in template_ish()) {
        match Template::parse(&text) {
            Ok(t) => {
                // Every variable set: rendering succeeds.
                let vars: Vars = t.vars().map(|v| (v.to_owned(), json!("x"))).collect();
                t.render(&vars).unwrap();
                t.render_value(&vars).unwrap();
            }
            Err(e) => {
                prop_assert!(e.offset <= text.chars().count(), "{:?} in {:?}", e, text);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn json_template_parse_never_panics(texts in proptest::collection::vec(template_ish(), 0..6)) {
        let v = Value::Array(texts.into_iter().map(Value::String).collect());
        if let Ok(t) = JsonTemplate::parse(&v) {
            let vars: Vars = t.vars().into_iter().map(|v| (v.to_owned(), json!(1))).collect();
            t.render(&vars).unwrap();
        }
    }

    #[test]
    fn a_capture_path_finds_the_inserted_value(
        segs in proptest::collection::vec(seg(), 0..7),
        dots in proptest::collection::vec(any::<bool>(), 7),
        leaf in json_value(),
        noise in proptest::collection::vec(json_value(), 1..3),
    ) {
        let doc = build_doc(&segs, leaf.clone(), &noise);
        let text = path_text(&segs, &dots);
        // As the planner does: the capture's JSONPath is parsed once, at plan time.
        let path = JsonPath::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        // As the runner does: the body arrives as bytes and is parsed, then queried.
        let body: Value = serde_json::from_slice(&serde_json::to_vec(&doc).unwrap()).unwrap();
        let nodes = path.query(&body);
        prop_assert_eq!(nodes.len(), 1, "{} in {}", text, body);
        prop_assert_eq!(nodes.first().cloned(), Some(leaf));
    }
}

#[test]
fn a_capture_path_example() {
    // The shape the README shows, checked by hand once.
    let segs = [Seg::Key("a".into()), Seg::Key("b".into()), Seg::Index(0)];
    let text = path_text(&segs, &[true, true, true]);
    assert_eq!(text, "$.a.b[0]");
    let doc = build_doc(&segs, json!("x"), &[json!(1)]);
    assert_eq!(
        JsonPath::parse(&text).unwrap().query(&doc).first(),
        Some(&json!("x"))
    );
    assert_eq!(
        path_text(&[Seg::Key("it's \\ \n".into())], &[true]),
        r"$['it\'s \\ \n']"
    );
}

// ---------------------------------------------------------------------------
// Pathological inputs
// ---------------------------------------------------------------------------

/// Runs `body` in a child process (this test binary, `--exact <name>`), so a stack
/// overflow or an abort fails this test with its name instead of killing every test,
/// and a hang is killed after [`CHILD_LIMIT`].
fn isolated(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        // A runaway allocation fails this child, not the machine.
        let cap = libc::rlimit {
            rlim_cur: CHILD_MEMORY,
            rlim_max: CHILD_MEMORY,
        };
        // SAFETY: setrlimit with a valid struct only lowers this process's limit.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &cap) };
        body();
        return;
    }
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, m)| m);
    let full = format!("{module}::{name}");
    let out = tempfile::tempdir().unwrap();
    let stdout = std::fs::File::create(out.path().join("out")).unwrap();
    let stderr = std::fs::File::create(out.path().join("err")).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            full.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--include-ignored",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("the test binary re-runs itself");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap_or_default();
    let (o, e) = (read("out"), read("err"));
    let Some(status) = status else {
        panic!("`{full}` hung: killed after {CHILD_LIMIT:?}\n{o}\n{e}");
    };
    assert!(
        status.success(),
        "`{full}` failed or crashed in its own process ({status})\n--- stdout\n{o}\n--- stderr\n{e}"
    );
    assert!(o.contains("1 passed"), "the child ran no test: {o}{e}");
    // Show the child's measurements in this test's output.
    for line in o
        .lines()
        .chain(e.lines())
        .filter(|l| l.starts_with("[hostile]"))
    {
        eprintln!("{line}");
    }
}

/// Loads and plans `suite`, timing it; fails when it takes longer than [`LIMIT`].
fn plan_timed(label: &str, suite: &TempSuite) -> Result<Vec<PlannedSuite>, ExpectedError> {
    let t = Instant::now();
    let r = conform::app::load_and_plan(&suite.cases_dir());
    let took = t.elapsed();
    eprintln!("[hostile] {label}: load_and_plan took {took:?}");
    assert!(
        took < LIMIT,
        "{label}: load_and_plan took {took:?} (limit {LIMIT:?})"
    );
    r
}

/// The load error's text, asserting there is one pointing at `file`.
fn load_error(r: Result<Vec<PlannedSuite>, ExpectedError>, file: &Path) -> String {
    let d = match r {
        Ok(_) => panic!("expected a load error for {}", file.display()),
        Err(ExpectedError::Load(d)) => d,
        Err(other) => panic!("expected a load error, got {other:?}"),
    };
    assert!(!d.0.is_empty());
    assert!(
        d.0.iter().any(|x| x.file == file),
        "no diagnostic points at {}: {d}",
        file.display()
    );
    let text = conform::app::render(&d);
    // Bounded output: a diagnostic quotes at most a line, never the whole input.
    eprintln!(
        "[hostile]   -> {}",
        text.lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect::<String>()
    );
    text
}

fn suite(case_yaml: &str) -> TempSuite {
    TempSuite::new("http://127.0.0.1:9", case_yaml)
}

/// One case whose first request carries `json` (YAML text on one line).
fn case_with_json(json_yaml: &str) -> String {
    format!(
        "cases:\n  - name: hostile\n    steps:\n      - request:\n          method: POST\n          path: /x\n          json: {json_yaml}\n        expect: {{ status: 200 }}\n"
    )
}

fn assert_mentions(text: &str, any_of: &[&str]) {
    let lower = text.to_lowercase();
    assert!(
        any_of.iter().any(|w| lower.contains(w)),
        "the error should say what is wrong ({any_of:?}): {}",
        text.chars().take(2000).collect::<String>()
    );
}

#[test]
fn yaml_nested_10000_deep_flow_sequence() {
    isolated("yaml_nested_10000_deep_flow_sequence", || {
        let n = 10_000;
        let s = suite(&case_with_json(&format!(
            "{}{}",
            "[".repeat(n),
            "]".repeat(n)
        )));
        let text = load_error(plan_timed("[[[…]]] x10000", &s), &s.case_file());
        assert_mentions(&text, &["nest", "depth", "recursion"]);
    });
}

#[test]
fn yaml_nested_10000_deep_flow_mapping() {
    isolated("yaml_nested_10000_deep_flow_mapping", || {
        let n = 10_000;
        let s = suite(&case_with_json(&format!(
            "{}1{}",
            "{a: ".repeat(n),
            "}".repeat(n)
        )));
        let text = load_error(plan_timed("{a: {a: …}} x10000", &s), &s.case_file());
        assert_mentions(&text, &["nest", "depth", "recursion"]);
    });
}

#[test]
fn yaml_nested_10000_deep_block_sequence() {
    isolated("yaml_nested_10000_deep_block_sequence", || {
        // `- - - x`: compact nested block sequences, 10,000 levels on one line.
        let n = 10_000;
        let yaml = format!(
            "cases:\n  - name: hostile\n    steps:\n      - request:\n          method: POST\n          path: /x\n          json:\n            {}x\n        expect: {{ status: 200 }}\n",
            "- ".repeat(n)
        );
        let s = suite(&yaml);
        let text = load_error(plan_timed("- - - … x10000", &s), &s.case_file());
        assert_mentions(&text, &["nest", "depth", "recursion"]);
    });
}

#[test]
fn yaml_nested_10000_deep_as_the_whole_file() {
    isolated("yaml_nested_10000_deep_as_the_whole_file", || {
        let n = 10_000;
        let s = suite(&format!("{}{}", "[".repeat(n), "]".repeat(n)));
        let text = load_error(plan_timed("whole file [[[…]]]", &s), &s.case_file());
        assert_mentions(&text, &["nest", "depth", "recursion"]);
    });
}

/// `l0: &l0 "lol"`, `l1: &l1 [*l0 ×9]`, … `l9: &l9 [*l8 ×9]`: 9^9 ≈ 387 million strings.
fn billion_laughs() -> String {
    let mut y = String::from("{ l0: &l0 \"lol\"");
    for i in 1..=9 {
        let refs = vec![format!("*l{}", i - 1); 9].join(", ");
        y.push_str(&format!(", l{i}: &l{i} [{refs}]"));
    }
    y.push_str(" }");
    y
}

#[test]
fn billion_laughs_in_a_case_file() {
    isolated("billion_laughs_in_a_case_file", || {
        let s = suite(&case_with_json(&billion_laughs()));
        let text = load_error(plan_timed("billion laughs", &s), &s.case_file());
        assert_mentions(&text, &["alias", "replay", "budget", "limit"]);
    });
}

#[test]
fn billion_laughs_in_block_style_across_case_fields() {
    isolated("billion_laughs_in_block_style_across_case_fields", || {
        // Anchors defined in one case's variables-free JSON body, expanded in a tag list.
        let mut y = String::from(
            "cases:\n  - name: hostile\n    steps:\n      - request:\n          method: POST\n          path: /x\n          json:\n            l0: &l0 lol\n",
        );
        for i in 1..=9 {
            y.push_str(&format!("            l{i}: &l{i}\n"));
            for _ in 0..9 {
                y.push_str(&format!("              - *l{}\n", i - 1));
            }
        }
        y.push_str("        expect: { status: 200 }\n");
        let s = suite(&y);
        let text = load_error(plan_timed("billion laughs (block)", &s), &s.case_file());
        assert_mentions(&text, &["alias", "replay", "budget", "limit"]);
    });
}

#[test]
fn a_50_mb_case_file_is_refused_by_size() {
    isolated("a_50_mb_case_file_is_refused_by_size", || {
        let s = suite("cases: []\n");
        let size = 50 * 1024 * 1024;
        {
            // Sparse: a valid YAML start, then holes; nothing reads past the size check.
            use std::io::Write;
            let mut f = std::fs::File::create(s.case_file()).unwrap();
            f.write_all(b"cases:\n  - name: big\n    steps: []\n#")
                .unwrap();
            f.set_len(size).unwrap();
        }
        let text = load_error(plan_timed("50 MB case file", &s), &s.case_file());
        assert!(text.contains(&format!("file is {size} bytes")), "{text}");
        assert!(
            text.contains(&conform::case::load::MAX_FILE_BYTES.to_string()),
            "{text}"
        );
        std::fs::remove_file(s.case_file()).unwrap();
    });
}

#[test]
fn a_50_mb_suite_file_is_refused_by_size() {
    isolated("a_50_mb_suite_file_is_refused_by_size", || {
        let s = suite("cases: []\n");
        let suite_file = s.cases_dir().join("t/suite.yaml");
        let size = 50 * 1024 * 1024;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&suite_file)
            .unwrap()
            .set_len(size)
            .unwrap();
        let text = load_error(plan_timed("50 MB suite file", &s), &suite_file);
        assert!(text.contains(&format!("file is {size} bytes")), "{text}");
    });
}

#[test]
fn a_case_file_just_under_the_size_limit_loads_or_errors_clearly() {
    isolated(
        "a_case_file_just_under_the_size_limit_loads_or_errors_clearly",
        || {
            let one = |i: usize| {
                format!(
                    "  - name: case-{i:06}\n    steps:\n      - request: {{ method: GET, path: /users/{i} }}\n        expect: {{ status: 200 }}\n"
                )
            };
            let mut y = String::from("cases:\n");
            let mut i = 0;
            let max = conform::case::load::MAX_FILE_BYTES as usize - 4096;
            while y.len() + one(i).len() < max {
                y.push_str(&one(i));
                i += 1;
            }
            let s = suite(&y);
            eprintln!("[hostile] {} bytes, {i} cases", y.len());
            // Debug-build YAML parsing runs at ~1-2 MB/s: measured 4.5-9 s on 2 busy cores.
            match plan_timed("~8 MB of cases", &s) {
                Ok(planned) => assert_eq!(planned[0].cases.len(), i),
                Err(e) => {
                    let text = load_error(Err(e), &s.case_file());
                    assert_mentions(&text, &["budget", "limit", "too many", "nodes", "events"]);
                }
            }
        },
    );
}

#[test]
fn ten_thousand_cases_in_one_file_plan() {
    isolated("ten_thousand_cases_in_one_file_plan", || {
        let n = 10_000;
        let mut y = String::from("cases:\n");
        for i in 0..n {
            y.push_str(&format!(
                "  - name: case-{i:05}\n    steps:\n      - request: {{ method: GET, path: \"/users/{{{{id}}}}/{i}\" }}\n        expect: {{ status: 200 }}\n    variables: {{ id: \"{{{{random(8)}}}}\" }}\n"
            ));
        }
        let s = suite(&y);
        eprintln!("[hostile] {} bytes, {n} cases", y.len());
        // ~1.6 MB, ~200,000 YAML nodes: under serde-saphyr's 250,000-node budget.
        let planned = plan_timed("10,000 cases", &s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(planned[0].cases.len(), n);
    });
}

#[test]
fn a_1_mb_case_name_on_one_line() {
    isolated("a_1_mb_case_name_on_one_line", || {
        let name = "n".repeat(1024 * 1024);
        let s = suite(&format!(
            "cases:\n  - name: {name}\n    steps:\n      - request: {{ method: GET, path: /x }}\n        expect: {{ status: 200 }}\n"
        ));
        match plan_timed("1 MB case name", &s) {
            Ok(planned) => assert_eq!(planned[0].cases[0].id.name.len(), name.len()),
            Err(e) => {
                let text = load_error(Err(e), &s.case_file());
                assert!(text.len() < 1024 * 1024 * 2 + 4096, "{} bytes", text.len());
            }
        }
    });
}

#[test]
fn a_1_mb_key_on_one_line_errors_clearly() {
    isolated("a_1_mb_key_on_one_line_errors_clearly", || {
        // A plain key longer than YAML's simple-key limit, then an unknown-field error.
        let key = "k".repeat(1024 * 1024);
        let s = suite(&format!(
            "cases:\n  - name: x\n    {key}: 1\n    steps:\n      - request: {{ method: GET, path: /x }}\n        expect: {{ status: 200 }}\n"
        ));
        let text = load_error(plan_timed("1 MB key", &s), &s.case_file());
        assert_mentions(&text, &["key", "unknown field", "1024"]);
    });
}

/// A temp suite whose schemas folder also holds `files`; returns the planned suite
/// or the error text, with the schema diagnostics.
fn suite_with_schemas(files: &[(&str, &str)]) -> TempSuite {
    let s = suite(
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /x }\n        expect: { status: 200 }\n",
    );
    for (name, text) in files {
        std::fs::write(s.dir.path().join("schemas/t").join(name), text).unwrap();
    }
    s
}

/// Validates `instance` against `name` if it compiled, timed.
fn validate_timed(planned: &PlannedSuite, name: &str, instance: &Value) -> usize {
    let t = Instant::now();
    let v = planned.schemas.validate(name, instance);
    let took = t.elapsed();
    eprintln!(
        "[hostile] validate {name}: {} violations in {took:?}",
        v.len()
    );
    assert!(took < LIMIT, "validating against {name} took {took:?}");
    v.len()
}

#[test]
fn schema_ref_cycle_between_two_files() {
    isolated("schema_ref_cycle_between_two_files", || {
        let s = suite_with_schemas(&[
            ("A.json", r#"{"$ref": "B.json"}"#),
            ("B.json", r#"{"$ref": "A.json"}"#),
        ]);
        match plan_timed("$ref cycle A -> B -> A", &s) {
            Ok(planned) => {
                let p = &planned[0];
                for name in ["A", "B"] {
                    if p.schemas.contains(name) {
                        validate_timed(p, name, &json!({"x": 1}));
                    }
                }
            }
            Err(e) => {
                let text = format!("{e}");
                eprintln!("[hostile]   -> {}", text.lines().next().unwrap_or_default());
                assert!(text.contains("A.json") || text.contains("B.json"), "{text}");
            }
        }
    });
}

#[test]
fn schema_that_refers_to_itself() {
    isolated("schema_that_refers_to_itself", || {
        let s = suite_with_schemas(&[
            ("Self.json", r##"{"$ref": "#"}"##),
            ("SelfByName.json", r#"{"$ref": "SelfByName.json"}"#),
            (
                "AllOfSelf.json",
                r##"{"allOf": [{"$ref": "#"}], "type": "object"}"##,
            ),
        ]);
        match plan_timed("$ref: #", &s) {
            Ok(planned) => {
                let p = &planned[0];
                for name in ["Self", "SelfByName", "AllOfSelf"] {
                    if p.schemas.contains(name) {
                        validate_timed(p, name, &json!({"x": [1, 2, {"y": null}]}));
                    }
                }
            }
            Err(e) => {
                let text = format!("{e}");
                eprintln!("[hostile]   -> {}", text.lines().next().unwrap_or_default());
                assert!(text.contains("Self"), "{text}");
            }
        }
    });
}

#[test]
fn legal_recursive_schemas_validate() {
    isolated("legal_recursive_schemas_validate", || {
        let s = suite_with_schemas(&[
            (
                "Tree.json",
                r##"{"type": "object", "required": ["v"],
                    "properties": {"v": {"type": "integer"},
                                   "children": {"type": "array", "items": {"$ref": "#"}}}}"##,
            ),
            (
                "Node.json",
                r#"{"type": "object", "required": ["v"],
                   "properties": {"v": {"type": "string"}, "next": {"$ref": "Link.json"}}}"#,
            ),
            (
                "Link.json",
                r#"{"anyOf": [{"type": "null"}, {"$ref": "Node.json"}]}"#,
            ),
        ]);
        let planned = plan_timed("recursive schemas", &s).unwrap_or_else(|e| panic!("{e}"));
        let p = &planned[0];
        // 60 levels: deeper than any real case, within serde_json's 128 body limit.
        let depth = 60;
        let mut tree = json!({"v": 0});
        let mut list = json!({"v": "end", "next": null});
        for i in 1..depth {
            tree = json!({"v": i, "children": [tree, {"v": i}]});
            list = json!({"v": i.to_string(), "next": list});
        }
        assert_eq!(validate_timed(p, "Tree", &tree), 0);
        assert_eq!(validate_timed(p, "Node", &list), 0);
        // One wrong leaf at the bottom is found, with its path.
        let mut bad_tree = json!({"v": "not an integer"});
        let mut bad_list = json!({"v": 1, "next": null});
        for i in 1..depth {
            bad_tree = json!({"v": i, "children": [bad_tree]});
            bad_list = json!({"v": i.to_string(), "next": bad_list});
        }
        assert!(validate_timed(p, "Tree", &bad_tree) >= 1);
        assert!(validate_timed(p, "Node", &bad_list) >= 1);
        let v = p.schemas.validate("Tree", &bad_tree);
        assert!(
            v.iter()
                .any(|v| v.instance_path.matches("/children/0").count() == depth - 1),
            "{v:?}"
        );
        // A response body nested as deep as serde_json allows (127 < 128: each level is an
        // object and an array) still validates in time.
        let mut deep = json!({"v": 0});
        for i in 1..64 {
            deep = json!({"v": i, "children": [deep]});
        }
        let text = serde_json::to_string(&deep).unwrap();
        let parsed: Value = serde_json::from_str(&text).expect("within serde_json's limit");
        assert_eq!(validate_timed(p, "Tree", &parsed), 0);
    });
}

#[test]
fn a_case_variable_that_refers_to_itself() {
    isolated("a_case_variable_that_refers_to_itself", || {
        let s = suite(
            "cases:\n  - name: a\n    variables: { a: \"{{a}}\" }\n    steps:\n      - request: { method: GET, path: \"/{{a}}\" }\n        expect: { status: 200 }\n",
        );
        let text = load_error(plan_timed("a: {{a}}", &s), &s.case_file());
        assert!(text.contains("undefined variable `a`"), "{text}");
        assert!(
            text.contains(":3:"),
            "points at the variable's line: {text}"
        );
    });
}

#[test]
fn two_case_variables_that_refer_to_each_other() {
    isolated("two_case_variables_that_refer_to_each_other", || {
        let s = suite(
            "cases:\n  - name: a\n    variables:\n      a: \"x{{b}}\"\n      b: \"y{{a}}\"\n    steps:\n      - request: { method: GET, path: \"/{{a}}/{{b}}\" }\n        expect: { status: 200 }\n",
        );
        let text = load_error(plan_timed("a: {{b}}, b: {{a}}", &s), &s.case_file());
        // Evaluated in order: `a` reads `b` before it is set; `b` reading `a` is fine.
        assert!(text.contains("undefined variable `b`"), "{text}");
        assert!(!text.contains("undefined variable `a`"), "{text}");
        assert!(text.contains(":4:"), "points at `a`'s line: {text}");
    });
}

#[test]
fn a_suite_variable_that_refers_to_itself() {
    isolated("a_suite_variable_that_refers_to_itself", || {
        let s = suite(
            "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: \"/{{s}}\" }\n        expect: { status: 200 }\n",
        );
        let suite_file = s.cases_dir().join("t/suite.yaml");
        let mut text = std::fs::read_to_string(&suite_file).unwrap();
        text.push_str("variables:\n  s: \"{{s}}\"\n");
        std::fs::write(&suite_file, text).unwrap();
        let text = load_error(plan_timed("suite s: {{s}}", &s), &suite_file);
        assert!(text.contains("undefined variable `s`"), "{text}");
    });
}

#[test]
fn a_template_of_100000_variables_renders_in_time() {
    isolated("a_template_of_100000_variables_renders_in_time", || {
        let n = 100_000;
        let text = "{{x}}".repeat(n);
        let t0 = Instant::now();
        let t = Template::parse(&text).unwrap();
        let parsed = t0.elapsed();
        let mut vars = Vars::new();
        vars.insert("x".into(), json!("ab"));
        let out = t.render(&vars).unwrap();
        let total = t0.elapsed();
        eprintln!("[hostile] 100,000 x {{{{x}}}}: parse {parsed:?}, parse+render {total:?}");
        assert_eq!(out.len(), 2 * n);
        assert!(total < LIMIT, "parse {parsed:?}, parse+render {total:?}");
    });
}

#[test]
fn a_template_of_100000_variables_plans_in_time() {
    isolated("a_template_of_100000_variables_plans_in_time", || {
        let n = 100_000;
        let s = suite(&format!(
            "cases:\n  - name: a\n    variables: {{ x: ab }}\n    steps:\n      - request: {{ method: GET, path: \"/{}\" }}\n        expect: {{ status: 200 }}\n",
            "{{x}}".repeat(n)
        ));
        let planned = plan_timed("path of 100,000 x {{x}}", &s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(planned[0].cases.len(), 1);
    });
}

#[test]
fn an_error_deep_in_a_long_template_is_found_in_time() {
    isolated("an_error_deep_in_a_long_template_is_found_in_time", || {
        // 100,000 good placeholders, then an unclosed one: the offset counts characters.
        let n = 100_000;
        let text = format!("{}é{{{{x", "{{x}}".repeat(n));
        let t0 = Instant::now();
        let e = Template::parse(&text).unwrap_err();
        let took = t0.elapsed();
        eprintln!("[hostile] unclosed after 100,000 x {{{{x}}}}: {took:?}");
        assert_eq!(e.offset, 5 * n + 1);
        assert!(e.message.contains("unclosed"), "{e:?}");
        assert!(took < LIMIT, "{took:?}");
    });
}

// ---------------------------------------------------------------------------
// Bugs found here, fixed in src/ since: each test failed before its fix.
// ---------------------------------------------------------------------------

#[test]
fn a_repeated_undefined_variable_is_reported_once_in_time() {
    isolated(
        "a_repeated_undefined_variable_is_reported_once_in_time",
        || {
            let n = 20_000;
            let s = suite(&format!(
                "cases:\n  - name: a\n    steps:\n      - request: {{ method: GET, path: \"/{}\" }}\n        expect: {{ status: 200 }}\n",
                "{{u}}".repeat(n)
            ));
            let text = load_error(plan_timed("20,000 x undefined {{u}}", &s), &s.case_file());
            assert!(text.contains("undefined variable `u`"), "{}", &text[..200]);
        },
    );
}

#[test]
fn many_errors_in_one_file_are_reported_in_time() {
    isolated("many_errors_in_one_file_are_reported_in_time", || {
        let n = 15_000;
        let mut y = String::from("cases:\n");
        for i in 0..n {
            y.push_str(&format!(
                "  - name: case-{i:05}\n    steps:\n      - request: {{ method: GET, path: \"/users/{{{{nope}}}}\" }}\n        expect: {{ status: 200 }}\n"
            ));
        }
        let s = suite(&y);
        // Parsing alone takes ~3 s in debug; the errors must not add much to that.
        let r = plan_timed("15,000 errors", &s);
        let text = load_error(r, &s.case_file());
        assert!(
            text.contains(&format!("{n} problems found")),
            "{}",
            &text[text.len() - 200..]
        );
    });
}

#[test]
fn template_parse_is_linear() {
    isolated("template_parse_is_linear", || {
        let n = 400_000;
        let text = "{{x}}".repeat(n);
        let t0 = Instant::now();
        let t = Template::parse(&text).unwrap();
        let took = t0.elapsed();
        eprintln!("[hostile] 400,000 x {{{{x}}}}: parse {took:?}");
        assert_eq!(t.vars().count(), n);
        assert!(took < LIMIT, "{took:?}");
    });
}

#[test]
fn diagnostics_on_a_long_line_stay_short() {
    isolated("diagnostics_on_a_long_line_stay_short", || {
        let key = "k".repeat(1024 * 1024);
        let s = suite(&format!(
            "cases:\n  - name: x\n    {key}: 1\n    steps:\n      - request: {{ method: GET, path: /x }}\n        expect: {{ status: 200 }}\n"
        ));
        let text = load_error(plan_timed("1 MB key", &s), &s.case_file());
        assert!(
            text.len() < 4096,
            "a 1 MB line gave a {} byte diagnostic",
            text.len()
        );
        let n = 10_000;
        let s = suite(&case_with_json(&format!(
            "{}{}",
            "[".repeat(n),
            "]".repeat(n)
        )));
        let text = load_error(plan_timed("[[[…]]] x10000", &s), &s.case_file());
        assert!(
            text.len() < 4096,
            "a 20 KB line gave a {} byte diagnostic",
            text.len()
        );
    });
}

// ---------------------------------------------------------------------------
// Fuzz regressions: inputs found by `fuzz/` (cargo-fuzz), replayed here.
// ---------------------------------------------------------------------------

/// What the fuzz targets do with one input (`fuzz/src/lib.rs`, shared with them).
mod fuzz_bodies {
    include!(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/src/lib.rs"));
}

/// Every file of `fuzz/corpus/<target>`, through `run`, each caught so a failure names its file.
fn replay_corpus(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let t = Instant::now();
    let mut n = 0;
    let mut failed = Vec::new();
    for f in std::fs::read_dir(&dir).unwrap() {
        let p = f.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        if std::panic::catch_unwind(|| run(&bytes)).is_err() {
            failed.push(p.display().to_string());
        }
        n += 1;
    }
    eprintln!(
        "[hostile] replayed {n} {target} corpus inputs in {:?}",
        t.elapsed()
    );
    assert!(n > 0, "no corpus in {}", dir.display());
    assert!(failed.is_empty(), "the fuzz target fails on: {failed:#?}");
}

#[test]
fn fuzz_corpus_load_case_replays() {
    replay_corpus("load_case", fuzz_bodies::load_case);
}

#[test]
fn fuzz_corpus_template_replays() {
    replay_corpus("template", fuzz_bodies::template);
}

#[test]
fn fuzz_seeds_replay() {
    // The shipped case files (the load_case seeds) go through the fuzz target's path.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    for suite in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(suite.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "yaml") {
                fuzz_bodies::load_case(&std::fs::read(&p).unwrap());
            }
        }
    }
}
