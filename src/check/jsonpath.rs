//! `jsonpath:` — RFC 9535 JSONPath assertions on the response body.
//!
//! A singular path (`$.a.b`, `$.a[0]`) selects one node; any other path
//! (wildcards, filters, slices) selects the list of matched nodes, compared
//! as a JSON array, so `contains` on `$.users[*].id` asks "is this id among them".

use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;
use std::borrow::Cow;

use super::result::{not_json, short_json};
use super::{CheckResult, PlanError};
use crate::case::Pos;
use crate::case::model::JsonPathDef;
use crate::exec::Exchange;
use crate::template::{JsonTemplate, Template, Vars};

/// One operator applied to one path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPathCheck {
    path_text: String,
    path: PathSpec,
    singular: bool,
    op: Op,
}

#[derive(Debug, Clone, PartialEq)]
enum PathSpec {
    /// Shared between every check with the same text (see [`parse_shared`]).
    Fixed(std::sync::Arc<JsonPath>),
    Templated(Template),
}

/// Parses a fixed JSONPath once per text and thread: a generated suite repeats
/// the same few paths in thousands of cases, and each parsed path is a tree.
fn parse_shared(text: &str) -> Result<std::sync::Arc<JsonPath>, String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::Arc;
    /// Distinct paths remembered; past this the cache starts over.
    const MAX: usize = 4096;
    thread_local! {
        static PATHS: RefCell<HashMap<String, Arc<JsonPath>>> = RefCell::new(HashMap::new());
    }
    PATHS.with(|cache| {
        if let Some(p) = cache.borrow().get(text) {
            return Ok(p.clone());
        }
        let p = Arc::new(JsonPath::parse(text).map_err(|e| e.to_string())?);
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX {
            cache.clear();
        }
        cache.insert(text.to_owned(), p.clone());
        Ok(p)
    })
}

#[derive(Debug, Clone)]
enum Op {
    Equals(JsonTemplate),
    NotEquals(JsonTemplate),
    OneOf(Vec<JsonTemplate>),
    Exists(bool),
    Matches(Regex),
    Type(JsonType),
    Length(u64),
    Contains(JsonTemplate),
    LaterThan(Template),
}

/// Regexes compare by their pattern.
impl PartialEq for Op {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Op::Equals(a), Op::Equals(b))
            | (Op::NotEquals(a), Op::NotEquals(b))
            | (Op::Contains(a), Op::Contains(b)) => a == b,
            (Op::OneOf(a), Op::OneOf(b)) => a == b,
            (Op::Exists(a), Op::Exists(b)) => a == b,
            (Op::Matches(a), Op::Matches(b)) => a.as_str() == b.as_str(),
            (Op::Type(a), Op::Type(b)) => a == b,
            (Op::Length(a), Op::Length(b)) => a == b,
            (Op::LaterThan(a), Op::LaterThan(b)) => a == b,
            _ => false,
        }
    }
}

/// JSON types for `type:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// A string.
    String,
    /// Any number.
    Number,
    /// A number without a fractional part.
    Integer,
    /// true or false.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
    /// null.
    Null,
}

const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

impl JsonType {
    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    fn of(v: &Value) -> &'static str {
        match v {
            Value::String(_) => "string",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Null => "null",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match self {
            JsonType::Number => v.is_number(),
            JsonType::Integer => v.as_f64().is_some_and(|f| f.fract() == 0.0),
            other => JsonType::of(v) == format!("{other:?}").to_lowercase(),
        }
    }
}

/// The last line of a regex error ("unclosed group"), which says what is wrong.
pub fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&text)
        .trim_start_matches("error: ")
        .to_owned()
}

/// True for paths that can select at most one node: `$` followed only by
/// `.name`, `[index]`, `['name']` or `["name"]` segments. (Written out rather
/// than as a regex: compiling that regex took longer than planning a
/// thousand cases' paths.)
fn is_singular(path: &str) -> bool {
    let Some(mut rest) = path.trim().strip_prefix('$') else {
        return false;
    };
    while !rest.is_empty() {
        let b = rest.as_bytes();
        let used = match b[0] {
            b'.' => {
                let name = b[1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                    .count();
                if name == 0 || b[1].is_ascii_digit() || b[1] == b'-' {
                    return false;
                }
                1 + name
            }
            b'[' if matches!(b.get(1), Some(b'\'' | b'"')) => {
                let quote = b[1];
                let mut i = 2;
                loop {
                    match b.get(i) {
                        None => return false,
                        Some(b'\\') if i + 1 < b.len() => i += 2,
                        Some(c) if *c == quote => break,
                        Some(_) => i += 1,
                    }
                }
                if b.get(i + 1) != Some(&b']') {
                    return false;
                }
                i + 2
            }
            b'[' => {
                let sign = usize::from(b.get(1) == Some(&b'-'));
                let digits = b[1 + sign..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits == 0 || b.get(1 + sign + digits) != Some(&b']') {
                    return false;
                }
                2 + sign + digits
            }
            _ => return false,
        };
        rest = &rest[used..];
    }
    true
}

fn json_template(v: &Value, pos: Pos) -> Result<JsonTemplate, PlanError> {
    JsonTemplate::parse(v).map_err(|e| PlanError::new(pos, e.message))
}

impl JsonPathCheck {
    /// Compiles one `jsonpath:` item into one check per operator.
    pub fn compile(def: &JsonPathDef) -> Result<Vec<JsonPathCheck>, PlanError> {
        let pos = def.path.pos;
        let text = def.path.value.trim().to_owned();
        let template = Template::parse(&text).map_err(|e| PlanError::new(pos, e.message))?;
        let path = if template.is_literal() {
            PathSpec::Fixed(
                parse_shared(&text)
                    .map_err(|e| PlanError::new(pos, format!("invalid JSONPath `{text}`: {e}")))?,
            )
        } else {
            // Check the shape now with every variable as a plain word.
            let mut probe = Vars::new();
            for v in template.vars() {
                probe.insert(v.to_owned(), Value::String("x".into()));
            }
            let sample = template.render(&probe).unwrap_or_default();
            JsonPath::parse(&sample)
                .map_err(|e| PlanError::new(pos, format!("invalid JSONPath `{text}`: {e}")))?;
            PathSpec::Templated(template)
        };
        let mut ops = Vec::new();
        if let Some(v) = &def.equals.0 {
            ops.push(Op::Equals(json_template(v, pos)?));
        }
        if let Some(v) = &def.not_equals.0 {
            ops.push(Op::NotEquals(json_template(v, pos)?));
        }
        if let Some(list) = &def.one_of {
            ops.push(Op::OneOf(
                list.iter()
                    .map(|v| json_template(v, pos))
                    .collect::<Result<_, _>>()?,
            ));
        }
        match (def.exists, def.absent) {
            (Some(e), Some(a)) if e == a => {
                return Err(PlanError::new(
                    pos,
                    "`exists` and `absent` contradict each other",
                ));
            }
            (Some(e), _) => ops.push(Op::Exists(e)),
            (None, Some(a)) => ops.push(Op::Exists(!a)),
            (None, None) => {}
        }
        if let Some(re) = &def.matches {
            let rpos = re.pos;
            ops.push(Op::Matches(Regex::new(&re.value).map_err(|e| {
                PlanError::new(rpos, format!("invalid regex: {e}"))
            })?));
        }
        if let Some(t) = &def.type_ {
            let tpos = t.pos;
            let ty = JsonType::parse(&t.value).ok_or_else(|| PlanError {
                pos: tpos,
                message: format!(
                    "unknown JSON type `{}`; expected one of {}",
                    t.value,
                    TYPES.join(", ")
                ),
                help: crate::case::span::did_you_mean(&t.value, TYPES.iter().copied()),
            })?;
            ops.push(Op::Type(ty));
        }
        if let Some(n) = def.length {
            ops.push(Op::Length(n));
        }
        if let Some(v) = &def.contains.0 {
            ops.push(Op::Contains(json_template(v, pos)?));
        }
        if let Some(t) = &def.later_than {
            let tpos = t.pos;
            ops.push(Op::LaterThan(
                Template::parse(&t.value).map_err(|e| PlanError::new(tpos, e.message))?,
            ));
        }
        if ops.is_empty() {
            return Err(PlanError::new(
                pos,
                "a jsonpath assertion needs an operator: equals, not_equals, one_of, exists, absent, matches, type, length, contains or later_than",
            ));
        }
        let singular = is_singular(&text);
        Ok(ops
            .into_iter()
            .map(|op| JsonPathCheck {
                path_text: text.clone(),
                path: path.clone(),
                singular,
                op,
            })
            .collect())
    }

    /// Variables the path and operator read.
    pub fn vars(&self) -> Vec<&str> {
        let mut out: Vec<&str> = match &self.path {
            PathSpec::Templated(t) => t.vars().collect(),
            PathSpec::Fixed(_) => Vec::new(),
        };
        match &self.op {
            Op::Equals(t) | Op::NotEquals(t) | Op::Contains(t) => out.extend(t.vars()),
            Op::OneOf(ts) => ts.iter().for_each(|t| out.extend(t.vars())),
            Op::LaterThan(t) => out.extend(t.vars()),
            _ => {}
        }
        out
    }

    fn op_name(&self) -> &'static str {
        match self.op {
            Op::Equals(_) => "equals",
            Op::NotEquals(_) => "not_equals",
            Op::OneOf(_) => "one_of",
            Op::Exists(true) => "exists",
            Op::Exists(false) => "absent",
            Op::Matches(_) => "matches",
            Op::Type(_) => "type",
            Op::Length(_) => "length",
            Op::Contains(_) => "contains",
            Op::LaterThan(_) => "later_than",
        }
    }

    /// Judges the body.
    pub fn evaluate(&self, ex: &Exchange, vars: &Vars) -> CheckResult {
        // Made only for a failure: a passed check is not reported.
        let label = || format!("jsonpath `{}` {}", self.path_text, self.op_name());
        let body = match ex.response.json() {
            Ok(b) => b,
            Err(e) => return CheckResult::fail(label(), self.describe(vars), not_json(ex, e)),
        };
        let rendered;
        let path = match &self.path {
            PathSpec::Fixed(p) => &**p,
            PathSpec::Templated(t) => {
                let parsed = t.render(vars).and_then(|s| {
                    JsonPath::parse(&s).map_err(|e| format!("invalid JSONPath `{s}`: {e}"))
                });
                match parsed {
                    Ok(p) => {
                        rendered = p;
                        &rendered
                    }
                    Err(e) => return CheckResult::fail(label(), e, "(not evaluated)"),
                }
            }
        };
        let nodes = path.query(body).all();
        if let Op::Exists(want) = self.op {
            let found = !nodes.is_empty();
            return if found == want {
                CheckResult::passed_check()
            } else if want {
                CheckResult::fail(label(), "at least one match", "no match")
            } else {
                let shown: Vec<Value> = nodes.iter().map(|v| (*v).clone()).collect();
                CheckResult::fail(
                    label(),
                    "no match",
                    format!(
                        "{} match(es): {}",
                        nodes.len(),
                        short_json(&Value::Array(shown))
                    ),
                )
            };
        }
        let all;
        let node: &Value = if self.singular {
            match nodes.first() {
                Some(v) => v,
                None => {
                    return CheckResult::fail(
                        label(),
                        self.describe(vars),
                        "no match (the path selects nothing)",
                    );
                }
            }
        } else {
            all = Value::Array(nodes.into_iter().cloned().collect());
            &all
        };
        match self.judge(node, vars) {
            Ok(()) => CheckResult::passed_check(),
            Err(expected) => CheckResult::fail(label(), expected, short_json(node)),
        }
    }

    fn describe(&self, vars: &Vars) -> String {
        let r = |t: &JsonTemplate| t.render(vars).map(|v| short_json(&v)).unwrap_or_else(|e| e);
        match &self.op {
            Op::Equals(t) => r(t),
            Op::NotEquals(t) => format!("anything but {}", r(t)),
            Op::OneOf(ts) => format!("one of {}", ts.iter().map(r).collect::<Vec<_>>().join(", ")),
            Op::Exists(true) => "at least one match".into(),
            Op::Exists(false) => "no match".into(),
            Op::Matches(re) => format!("a string matching /{}/", re.as_str()),
            Op::Type(t) => format!("a value of type {}", format!("{t:?}").to_lowercase()),
            Op::Length(n) => format!("length {n}"),
            Op::Contains(t) => format!("a value containing {}", r(t)),
            Op::LaterThan(t) => format!(
                "a date-time later than {}",
                t.render(vars).unwrap_or_else(|e| e)
            ),
        }
    }

    /// `Err(expected)` when the node does not satisfy the operator.
    fn judge(&self, node: &Value, vars: &Vars) -> Result<(), String> {
        let fail = || Err(self.describe(vars));
        fn render<'t>(t: &'t JsonTemplate, vars: &Vars) -> Result<Cow<'t, Value>, String> {
            t.render_cow(vars)
        }
        match &self.op {
            Op::Equals(t) => {
                if *render(t, vars)? == *node {
                    Ok(())
                } else {
                    fail()
                }
            }
            Op::NotEquals(t) => {
                if *render(t, vars)? != *node {
                    Ok(())
                } else {
                    fail()
                }
            }
            Op::OneOf(ts) => {
                for t in ts {
                    if *render(t, vars)? == *node {
                        return Ok(());
                    }
                }
                fail()
            }
            Op::Exists(_) => Ok(()),
            Op::Matches(re) => match node {
                Value::String(s) if re.is_match(s) => Ok(()),
                _ => fail(),
            },
            Op::Type(t) => {
                if t.matches(node) {
                    Ok(())
                } else {
                    fail()
                }
            }
            Op::Length(n) => {
                let len = match node {
                    Value::Array(a) => a.len(),
                    Value::String(s) => s.chars().count(),
                    Value::Object(o) => o.len(),
                    _ => return fail(),
                };
                if len as u64 == *n {
                    Ok(())
                } else {
                    Err(format!("length {n} (got length {len})"))
                }
            }
            Op::Contains(t) => {
                let want = render(t, vars)?;
                let ok = match (node, &*want) {
                    (Value::Array(items), w) => items.contains(w),
                    (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
                    (Value::Object(o), Value::Object(w)) => {
                        w.iter().all(|(k, v)| o.get(k) == Some(v))
                    }
                    _ => false,
                };
                if ok { Ok(()) } else { fail() }
            }
            Op::LaterThan(t) => {
                let bound = t.render(vars)?;
                let Some(b) = parse_rfc3339(&bound) else {
                    return Err(format!(
                        "a date-time later than {bound} (which is not an RFC 3339 date-time)"
                    ));
                };
                match node.as_str().and_then(parse_rfc3339) {
                    Some(v) if v > b => Ok(()),
                    _ => fail(),
                }
            }
        }
    }
}

/// Parses an RFC 3339 date-time into (seconds since the epoch, nanoseconds).
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() {
            return None;
        }
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = digits.parse().ok()?;
    }
    let offset_secs = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let oh: i64 = tz[1..3].parse().ok()?;
            let om: i64 = tz[4..6].parse().ok()?;
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (yy, mm) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((
        days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs,
        nanos,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::{Explicit, JsonPathDef};
    use crate::exec::test_exchange;
    use serde_json::json;

    fn def(path: &str) -> JsonPathDef {
        serde_saphyr::from_str(&format!("path: '{path}'\nexists: true\n")).unwrap()
    }

    fn run(mut d: JsonPathDef, body: &str, vars: &Vars) -> CheckResult {
        if d.equals.0.is_some()
            || d.contains.0.is_some()
            || d.type_.is_some()
            || d.length.is_some()
            || d.matches.is_some()
            || d.later_than.is_some()
            || d.one_of.is_some()
        {
            d.exists = None;
        }
        let checks = JsonPathCheck::compile(&d).unwrap();
        assert_eq!(checks.len(), 1);
        checks[0].evaluate(&test_exchange(200, &[], body.as_bytes()), vars)
    }

    const USERS: &str = r#"{"users":[{"id":"a","roles":["VIEWER"],"n":1},{"id":"b","roles":["OWNER","VIEWER"],"n":2.5}],"at":"2022-03-29T10:22:22.420Z"}"#;

    #[test]
    fn singular_paths_are_told_from_the_others() {
        for p in [
            "$",
            " $.a ",
            "$.a.b_c-d",
            "$._x",
            "$[0]",
            "$[-1]",
            "$.a[12].b",
            "$['a b']",
            r#"$["x\"y"]"#,
            r"$['it\'s']",
            "$['']",
            "$.a['b'][3]",
            "$['ünï']",
        ] {
            assert!(is_singular(p), "{p} is singular");
        }
        for p in [
            "",
            "a",
            "$.",
            "$..a",
            "$.*",
            "$[*]",
            "$[0,1]",
            "$[0:2]",
            "$[?@.a]",
            "$.1a",
            "$.-a",
            "$[]",
            "$[-]",
            "$['a'",
            "$['a']x",
            "$[\"a]",
            "$.a b",
            "$['a']['b",
            "$.ü",
            "$[1",
        ] {
            assert!(!is_singular(p), "{p} is not singular");
        }
    }

    /// The hand-written test agrees with the regex it replaced on 200,000
    /// strings built from the characters that matter.
    #[test]
    fn singular_agrees_with_the_regex_it_replaced() {
        let re = Regex::new(
            r#"^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[-?\d+\]|\['(?:[^'\\]|\\.)*'\]|\["(?:[^"\\]|\\.)*"\])*$"#,
        )
        .unwrap();
        let alphabet: Vec<char> = "$$..[[]]''\"\\-a1_Z*? ü".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 9) as usize;
            let mut p = String::from("$");
            let mut x = seed;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                p.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            assert_eq!(is_singular(&p), re.is_match(p.trim()), "{p:?}");
        }
    }

    #[test]
    fn equals_on_singular_and_list_paths() {
        let mut d = def("$.users[0].id");
        d.equals = Explicit(Some(json!("a")));
        assert!(run(d, USERS, &Vars::new()).passed());
        let mut d = def("$.users[*].id");
        d.equals = Explicit(Some(json!(["a", "b"])));
        assert!(run(d, USERS, &Vars::new()).passed());
        let mut d = def("$.users[1].id");
        d.equals = Explicit(Some(json!("{{want}}")));
        let mut vars = Vars::new();
        vars.insert("want".into(), json!("zz"));
        let f = run(d, USERS, &vars).failure.unwrap();
        assert_eq!(
            (f.expected.as_str(), f.actual.as_str()),
            ("\"zz\"", "\"b\"")
        );
    }

    #[test]
    fn contains_on_a_node_list_is_membership_not_substring() {
        let mut d = def("$.users[*].id");
        d.contains = Explicit(Some(json!("b")));
        assert!(run(d, USERS, &Vars::new()).passed());
        let mut d = def("$.users[?@.n > 2].id");
        d.contains = Explicit(Some(json!("")));
        assert!(!run(d, USERS, &Vars::new()).passed());
    }

    #[test]
    fn filters_absent_type_length_matches() {
        let d: JsonPathDef =
            serde_saphyr::from_str("path: \"$.users[?!@.roles[?@ == 'VIEWER']]\"\nabsent: true\n")
                .unwrap();
        assert!(run(d, USERS, &Vars::new()).passed());
        let d: JsonPathDef =
            serde_saphyr::from_str("path: \"$.users[?!@.roles[?@ == 'OWNER']]\"\nabsent: true\n")
                .unwrap();
        let f = run(d, USERS, &Vars::new()).failure.unwrap();
        assert!(f.actual.contains("\"a\""), "{}", f.actual);
        let d: JsonPathDef = serde_saphyr::from_str("path: $.users[1].n\ntype: integer\n").unwrap();
        assert!(!run(d, USERS, &Vars::new()).passed());
        let d: JsonPathDef = serde_saphyr::from_str("path: $.users\nlength: 2\n").unwrap();
        assert!(run(d, USERS, &Vars::new()).passed());
        let d: JsonPathDef = serde_saphyr::from_str("path: $.at\nmatches: '^2022-'\n").unwrap();
        assert!(run(d, USERS, &Vars::new()).passed());
        let d: JsonPathDef = serde_saphyr::from_str("path: $.nope\nequals: 1\n").unwrap();
        assert!(
            run(d, USERS, &Vars::new())
                .failure
                .unwrap()
                .actual
                .contains("no match")
        );
    }

    #[test]
    fn later_than_compares_instants() {
        let d: JsonPathDef =
            serde_saphyr::from_str("path: $.at\nlater_than: '2022-03-29T10:22:22.419Z'\n").unwrap();
        assert!(run(d, USERS, &Vars::new()).passed());
        let d: JsonPathDef =
            serde_saphyr::from_str("path: $.at\nlater_than: '2022-03-29T12:22:22.420+02:00'\n")
                .unwrap();
        assert!(
            !run(d, USERS, &Vars::new()).passed(),
            "same instant is not later"
        );
        assert!(parse_rfc3339("2022-03-29 10:22").is_none());
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01Z"), Some((1, 0)));
    }

    #[test]
    fn bad_paths_regexes_and_types_fail_to_compile() {
        for yaml in [
            "path: '$.a['\nexists: true",
            "path: $.a\nmatches: '('",
            "path: $.a\ntype: strng",
            "path: $.a",
            "path: '$.{{x}}['\nexists: true",
        ] {
            let d: JsonPathDef = serde_saphyr::from_str(yaml).unwrap();
            assert!(JsonPathCheck::compile(&d).is_err(), "{yaml}");
        }
        let d: JsonPathDef = serde_saphyr::from_str("path: $.a\ntype: strng").unwrap();
        assert_eq!(
            JsonPathCheck::compile(&d).unwrap_err().help.as_deref(),
            Some("did you mean `string`?")
        );
    }
}
