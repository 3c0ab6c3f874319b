//! Bytes → a case file (and a suite file), as `conform` loads them, then every
//! string through the planner's parsers, in memory: templates, JSON templates,
//! statuses, header and JSONPath checks, capture paths and durations. Every error
//! is rendered as the user would see it (snippet and underline).
//!
//! Nothing may panic, overflow the stack or hang.

#![no_main]

use conform::case::load::parse_yaml;
use conform::case::model::{CaseFile, S, StepDef, SuiteFile};
use conform::case::{Diagnostic, Pos, Source};
use conform::check::header::HeaderCheck;
use conform::check::jsonpath::JsonPathCheck;
use conform::check::status::StatusCheck;
use conform::template::{JsonTemplate, Template, Vars};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
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
                template(&source, v);
            }
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
});

fn pos<T>(s: &S<T>) -> Pos {
    Pos::new(s.referenced.line() as usize, s.referenced.column() as usize)
}

fn report(source: &Source, at: Pos, message: impl Into<String>) {
    let _ = Diagnostic::at(source, at, message).to_string();
}

/// As the planner does: parse, place an error at the template's offset, render with its variables.
fn template(source: &Source, s: &S<String>) {
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
            template(source, v);
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
        template(source, n);
    }
    template(source, &r.path);
    for v in r.headers.values() {
        template(source, v);
    }
    for v in r.query.values() {
        let _ = Template::parse(&v.value.0);
    }
    if let Some(j) = &r.json.0 {
        json(source, j);
    }
    if let Some(b) = &r.body {
        template(source, b);
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
