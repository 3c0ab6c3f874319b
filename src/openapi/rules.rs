//! Negative cases — the rules: walking a schema beside a valid body and
//! producing one changed body per rule (see [`super::negative`] for the list).

use serde_json::{Map, Value, json};

use super::instance::{Schemas, allowed_types, json_type, primary_type};
use super::negative::{Derived, NegativeBody};
use super::pattern::SimplePattern;

/// How deep nested objects and arrays are followed: the body's fields (1) and
/// their fields or items (2). Deeper rules multiply cases (a filter object of
/// filter objects gives hundreds) while testing the same validation code.
const MAX_DEPTH: usize = 2;
/// Longest string a boundary rule builds (a `maxLength: 1000000` is not worth a 1 MB body).
const MAX_STRING: usize = 65_536;

/// One step into a body.
#[derive(Debug, Clone)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

fn label(path: &[Seg]) -> String {
    if path.is_empty() {
        return "the body".to_owned();
    }
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    format!("field `{s}`")
}

/// `body` with the value at `path` replaced (or removed, for `None`).
fn with_at(body: &Value, path: &[Seg], new: Option<Value>) -> Value {
    let mut out = body.clone();
    let Some((last, parents)) = path.split_last() else {
        return new.unwrap_or(Value::Null);
    };
    let mut cur = &mut out;
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.entry(k.clone()).or_insert(json!({})),
            (Seg::Index(i), Value::Array(l)) => match l.get_mut(*i) {
                Some(x) => x,
                None => return out,
            },
            _ => return out,
        };
    }
    match (last, cur, new) {
        (Seg::Key(k), Value::Object(m), Some(v)) => {
            m.insert(k.clone(), v);
        }
        (Seg::Key(k), Value::Object(m), None) => {
            m.shift_remove(k);
        }
        (Seg::Index(i), Value::Array(l), Some(v)) => {
            if *i < l.len() {
                l[*i] = v;
            } else {
                l.push(v);
            }
        }
        (Seg::Index(i), Value::Array(l), None) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    out
}

/// Walks a schema and a body together, collecting bodies and skipped rules.
pub(super) struct Deriver<'s, 'a> {
    s: &'s Schemas<'a>,
    out: Derived,
}

impl<'s, 'a> Deriver<'s, 'a> {
    /// Every rule for `schema`, starting from the valid `base`.
    pub(super) fn run(s: &'s Schemas<'a>, schema: &Value, base: &Value) -> Derived {
        let mut d = Deriver {
            s,
            out: Derived::default(),
        };
        d.field(schema, base, &mut Vec::new(), 0);
        d.out
    }

    fn push(
        &mut self,
        body: &Value,
        path: &[Seg],
        new: Option<Value>,
        rule: String,
        keyword: &'static str,
        valid: bool,
    ) {
        self.out.bodies.push(NegativeBody {
            rule,
            keyword,
            body: with_at(body, path, new),
            valid,
        });
    }

    fn skip(&mut self, path: &[Seg], why: impl std::fmt::Display) {
        self.out.skipped.push(format!("{}: {why}", label(path)));
    }

    /// Every rule for the value at `path` of `body` (which holds a valid value there).
    fn field(&mut self, schema: &Value, body: &Value, path: &mut Vec<Seg>, depth: usize) {
        let Some(e) = self.s.effective(schema) else {
            self.skip(path, "its schema cannot be resolved");
            return;
        };
        let here = label(path);
        match allowed_types(&e) {
            Some(types) => match wrong_value(&types) {
                Some((t, v)) => self.push(
                    body,
                    path,
                    Some(v),
                    format!(
                        "{here} given a wrong JSON type ({t} instead of {})",
                        types.join(" or ")
                    ),
                    if e.contains_key("type") {
                        "type"
                    } else if e.contains_key("enum") {
                        "enum"
                    } else {
                        "const"
                    },
                    false,
                ),
                None => self.skip(path, "every JSON type is allowed"),
            },
            None if e.contains_key("anyOf") || e.contains_key("oneOf") => self.skip(
                path,
                "no wrong-type rule for an `anyOf`/`oneOf` without `type`",
            ),
            None => self.skip(path, "no wrong-type rule: its schema allows any JSON type"),
        }
        if let Some(list) = e.get("enum").and_then(Value::as_array) {
            match unlisted(list) {
                Some(v) => self.push(
                    body,
                    path,
                    Some(v.clone()),
                    format!("{here} given a value outside its enum ({v})"),
                    "enum",
                    false,
                ),
                None => self.skip(path, "no value outside its enum of the same type"),
            }
        }
        let value = value_at(body, path).cloned().unwrap_or(Value::Null);
        let kind = primary_type(&e);
        if kind == "string" && !e.contains_key("enum") && !e.contains_key("const") {
            self.strings(&e, body, path);
        }
        if depth >= MAX_DEPTH {
            return;
        }
        match kind.as_str() {
            "object" => self.object(&e, body, path, depth),
            "array" => {
                let Some(items) = e.get("items").filter(|i| i.is_object()) else {
                    return;
                };
                let body = match value.as_array().and_then(|l| l.first()) {
                    Some(_) => body.clone(),
                    None => {
                        if e.get("maxItems").and_then(Value::as_u64) == Some(0) {
                            return;
                        }
                        let Some(item) = self.s.valid(items) else {
                            self.skip(path, "no valid item could be built");
                            return;
                        };
                        with_at(body, path, Some(json!([item])))
                    }
                };
                path.push(Seg::Index(0));
                self.field(items, &body, path, depth + 1);
                path.pop();
            }
            _ => {}
        }
    }

    fn object(&mut self, e: &Map<String, Value>, body: &Value, path: &mut Vec<Seg>, depth: usize) {
        let Some(obj) = value_at(body, path).and_then(Value::as_object).cloned() else {
            return;
        };
        let required: Vec<String> = e
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        for r in &required {
            if obj.contains_key(r) {
                path.push(Seg::Key(r.clone()));
                let rule = format!("required {} removed", label(path));
                self.push(body, path, None, rule, "required", false);
                path.pop();
            }
        }
        let props = e
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, sub) in &props {
            path.push(Seg::Key(name.clone()));
            // An optional field is added with a valid value, so rules inside it
            // start from a valid body; when none can be built it stays absent
            // (its own rules set it to an invalid value, which needs none).
            let body = if obj.contains_key(name) {
                body.clone()
            } else {
                self.s
                    .valid(sub)
                    .map_or_else(|| body.clone(), |v| with_at(body, path, Some(v)))
            };
            self.field(sub, &body, path, depth + 1);
            path.pop();
        }
    }

    fn strings(&mut self, e: &Map<String, Value>, body: &Value, path: &[Seg]) {
        let here = label(path);
        let min = e
            .get("minLength")
            .and_then(Value::as_u64)
            .map(|n| n as usize);
        let max = e
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|n| n as usize);
        let pattern = e.get("pattern").and_then(Value::as_str);
        let format = e.get("format").and_then(Value::as_str);
        if min.is_none() && max.is_none() && pattern.is_none() {
            return;
        }
        let simple = match pattern.map(SimplePattern::parse) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(why)) => {
                self.skip(
                    path,
                    format!(
                        "pattern `{}` is not handled ({why}): no pattern cases and no valid boundaries, as a value cannot be shown to match or not under ECMA-262",
                        pattern.unwrap_or_default()
                    ),
                );
                None
            }
        };
        // Valid strings can be built only when every constraint is understood.
        let can_build_valid = format.is_none() && (pattern.is_none() || simple.is_some());
        if format.is_some() {
            self.skip(
                path,
                format!(
                    "format `{}`: only the invalid length boundaries are generated",
                    format.unwrap_or_default()
                ),
            );
        }
        let (plo, phi) = simple.as_ref().map_or((0, None), SimplePattern::bounds);
        let build = |len: usize| -> String {
            simple
                .as_ref()
                .and_then(|p| p.matching(len))
                .unwrap_or_else(|| "a".repeat(len))
        };
        let valid_at = |len: usize| -> Option<String> {
            let ok = len >= min.unwrap_or(0) && max.is_none_or(|m| len <= m);
            if !ok || !can_build_valid || len > MAX_STRING {
                return None;
            }
            match &simple {
                Some(p) => p.matching(len),
                None => Some("a".repeat(len)),
            }
        };
        let emit = |d: &mut Self, len: usize, valid: bool, keyword: &'static str, what: String| {
            let s = if valid {
                match valid_at(len) {
                    Some(s) => s,
                    None => return,
                }
            } else if len > MAX_STRING {
                d.skip(
                    path,
                    format!("{what}: longer than {MAX_STRING} characters, not generated"),
                );
                return;
            } else {
                build(len)
            };
            let tag = if valid { "boundary, valid" } else { "invalid" };
            let unit = if len == 1 { "character" } else { "characters" };
            d.push(
                body,
                path,
                Some(Value::String(s)),
                format!("{here}: {what}: {len} {unit} ({tag})"),
                keyword,
                valid,
            );
        };
        if let Some(n) = min {
            emit(self, n, true, "minLength", format!("minLength {n}"));
            if n > 0 {
                emit(self, n - 1, false, "minLength", format!("minLength {n}"));
            }
        }
        if let Some(n) = max {
            emit(self, n, true, "maxLength", format!("maxLength {n}"));
            emit(self, n + 1, false, "maxLength", format!("maxLength {n}"));
        }
        let Some(p) = simple.as_ref() else { return };
        let pat = pattern.unwrap_or_default();
        if plo > min.unwrap_or(0) {
            emit(
                self,
                plo,
                true,
                "pattern",
                format!("pattern `{pat}` (shortest match)"),
            );
            emit(
                self,
                plo - 1,
                false,
                "pattern",
                format!("pattern `{pat}` (one shorter than its shortest match)"),
            );
        }
        if let Some(h) = phi
            && max.is_none_or(|m| h < m)
        {
            emit(
                self,
                h,
                true,
                "pattern",
                format!("pattern `{pat}` (longest match)"),
            );
            emit(
                self,
                h + 1,
                false,
                "pattern",
                format!("pattern `{pat}` (one longer than its longest match)"),
            );
        }
        let lo = plo.max(min.unwrap_or(0)).max(1);
        match (p.foreign_char(), valid_at(lo).or_else(|| p.matching(lo))) {
            (Some(c), Some(s)) if phi.is_none_or(|h| lo <= h) => {
                let bad: String = std::iter::once(c).chain(s.chars().skip(1)).collect();
                self.push(
                    body,
                    path,
                    Some(Value::String(bad)),
                    format!("{here}: pattern `{pat}`: character `{c}` it does not allow (invalid)"),
                    "pattern",
                    false,
                );
            }
            (None, _) => self.skip(
                path,
                format!("pattern `{pat}` accepts every printable character"),
            ),
            _ => {}
        }
    }
}

fn value_at<'v>(body: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(body, |cur, seg| match seg {
        Seg::Key(k) => cur.get(k),
        Seg::Index(i) => cur.get(i),
    })
}

/// A value of a type not in `types`, preferring one a careless server might coerce.
fn wrong_value(types: &[String]) -> Option<(&'static str, Value)> {
    let allowed = |t: &str| types.iter().any(|x| x == t);
    let candidates: Vec<(&'static str, Value)> = if allowed("string") {
        vec![
            ("integer", json!(12345)),
            ("boolean", json!(true)),
            ("object", json!({})),
            ("array", json!([])),
            ("null", Value::Null),
        ]
    } else if allowed("integer") || allowed("number") {
        vec![
            ("string", json!("12345")),
            ("boolean", json!(true)),
            ("number", json!(12.5)),
            ("object", json!({})),
            ("null", Value::Null),
        ]
    } else if allowed("boolean") {
        vec![
            ("string", json!("true")),
            ("integer", json!(1)),
            ("object", json!({})),
            ("null", Value::Null),
        ]
    } else if allowed("object") {
        vec![
            ("array", json!([])),
            ("string", json!("{}")),
            ("integer", json!(1)),
            ("null", Value::Null),
        ]
    } else if allowed("array") {
        vec![
            ("object", json!({})),
            ("string", json!("[]")),
            ("integer", json!(1)),
            ("null", Value::Null),
        ]
    } else {
        vec![
            ("string", json!("x")),
            ("integer", json!(1)),
            ("object", json!({})),
        ]
    };
    candidates.into_iter().find(|(_, v)| !allowed(json_type(v)))
}

/// A value of the enum's own type that the enum does not list.
fn unlisted(list: &[Value]) -> Option<Value> {
    if let Some(first) = list.iter().find_map(Value::as_str) {
        let mut v = format!("{first}_UNLISTED");
        while list.contains(&Value::String(v.clone())) {
            v.push('X');
        }
        return Some(Value::String(v));
    }
    let ints: Vec<i64> = list.iter().filter_map(Value::as_i64).collect();
    if let Some(m) = ints.iter().max() {
        return Some(json!(m.checked_add(1).unwrap_or(i64::MIN)));
    }
    None
}
