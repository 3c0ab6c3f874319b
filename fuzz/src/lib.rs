// What the fuzz targets do with one input, shared by `fuzz_targets/*.rs` and by
// `tests/it/hostile_inputs.rs`, which replays the kept corpus through it on stable
// (`include!`d there, so: no inner attributes or `//!` docs in this file).

use conform::case::load::parse_yaml;
use conform::case::model::{CaseFile, S, StepDef, SuiteFile};
use conform::case::{Diagnostic, Pos, Source};
use conform::check::header::HeaderCheck;
use conform::check::jsonpath::JsonPathCheck;
use conform::check::status::StatusCheck;
use conform::template::{JsonTemplate, Template, Vars};
use serde_json::{Value, json};

/// Bytes → a case file (and a suite file), as `conform` loads them, then every
/// string through the planner's parsers, in memory: templates, JSON templates,
/// statuses, header and JSONPath checks, capture paths and durations. Every error
/// is rendered as the user would see it (snippet and underline).
pub fn load_case(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source::new("cases/fuzz/c.yaml", text);
    match parse_yaml::<CaseFile>(&source) {
        Ok(file) => plan(&source, &file),
        Err(d) => {
            let _ = d.to_string();
        }
    }
    match parse_yaml::<SuiteFile>(&source) {
        Ok(suite) => {
            for v in suite.variables.values() {
                template_field(&source, v);
            }
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
}

/// Bytes → a template (parsed, rendered with a few variables and every variable it
/// reads), and the same bytes as JSON → a JSON template, rendered. A template that
/// parses renders once its variables are set; text without `{{` renders to itself.
pub fn template(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut vars = Vars::new();
        vars.insert("x".into(), json!("ab"));
        vars.insert("id".into(), json!(7));
        vars.insert("obj".into(), json!({"a": [1, null]}));
        match Template::parse(text) {
            Ok(t) => {
                let _ = t.render(&vars);
                let _ = t.render_value(&vars);
                for v in t.vars() {
                    vars.entry(v.to_owned()).or_insert(json!("v"));
                }
                let out = t.render(&vars).expect("every variable is set");
                if !text.contains("{{") {
                    assert_eq!(out, text, "literal text renders to itself");
                }
                let _ = t.render_value(&vars).expect("every variable is set");
            }
            Err(e) => {
                assert!(e.offset <= text.chars().count(), "offset inside the text");
                assert!(!e.message.is_empty());
            }
        }
    }
    if let Ok(v) = serde_json::from_slice::<Value>(data)
        && let Ok(t) = JsonTemplate::parse(&v)
    {
        let vars: Vars = t.vars().into_iter().map(|n| (n.to_owned(), json!(n))).collect();
        let out = t.render(&vars).expect("every variable is set");
        // Generators (`{{uuid()}}`) read no variable but do render fresh text, so only
        // JSON with no `{{` at all must render to itself.
        if !v.to_string().contains("{{") {
            assert_eq!(out, v, "JSON without templates renders to itself");
        }
    }
}

fn pos<T>(s: &S<T>) -> Pos {
    s.pos
}

fn report(source: &Source, at: Pos, message: impl Into<String>) {
    let _ = Diagnostic::at(source, at, message).to_string();
}

/// As the planner does: parse, place an error at the template's offset, render with its variables.
fn template_field(source: &Source, s: &S<String>) {
    match Template::parse(&s.value) {
        Ok(t) => {
            let vars: Vars = t.vars().map(|v| (v.to_owned(), Value::from(v))).collect();
            let _ = t.render(&vars).expect("every variable is set");
        }
        Err(e) => {
            let p = pos(s);
            report(source, Pos::new(p.line, p.column + e.offset), e.message);
        }
    }
}

fn json(source: &Source, v: &S<Value>) {
    match JsonTemplate::parse(&v.value) {
        Ok(t) => {
            let vars: Vars = t.vars().into_iter().map(|v| (v.to_owned(), Value::from(1))).collect();
            let _ = t.render(&vars).expect("every variable is set");
        }
        Err(e) => report(source, pos(v), e.message),
    }
}

fn plan(source: &Source, file: &CaseFile) {
    for c in &file.cases {
        let _ = Diagnostic::at(source, pos(&c.name), format!("case `{}`", c.name.value)).to_string();
        for v in c.variables.values() {
            template_field(source, v);
        }
        for t in &c.tags {
            let _ = t.value.len();
        }
        for s in c.steps.iter().chain(&c.cleanup) {
            step(source, s);
        }
    }
}

fn step(source: &Source, s: &StepDef) {
    let r = &s.request;
    if let Some(n) = &s.name {
        template_field(source, n);
    }
    template_field(source, &r.path);
    for v in r.headers.values() {
        template_field(source, v);
    }
    for v in r.query.values() {
        let _ = Template::parse(&v.value.0);
    }
    if let Some(j) = &r.json.0 {
        json(source, j);
    }
    if let Some(b) = &r.body {
        template_field(source, b);
    }
    for d in [&r.timeout, &s.delay].into_iter().flatten() {
        if let Err(m) = conform::plan::parse_duration(&d.value) {
            report(source, pos(d), m);
        }
    }
    let e = &s.expect;
    if let Some(st) = &e.status
        && let Err(err) = StatusCheck::compile(&st.value, pos(st))
    {
        report(source, err.pos, err.message);
    }
    for (name, h) in &e.headers {
        if let Err(err) = HeaderCheck::compile(name, &h.value, pos(h)) {
            report(source, err.pos, err.message);
        }
    }
    for b in [&e.body.0, &e.body_subset.0].into_iter().flatten() {
        json(source, b);
    }
    for jp in &e.jsonpath {
        if let Err(err) = JsonPathCheck::compile(jp) {
            report(source, err.pos, err.message);
        }
    }
    for (name, c) in &s.capture {
        if let Some(p) = &c.value.jsonpath
            && let Err(err) = serde_json_path::JsonPath::parse(p)
        {
            report(source, pos(c), format!("invalid JSONPath `{p}` for capture `{name}`: {err}"));
        }
    }
}
