//! Negative cases — the valid starting point: a schema with its `$ref`s and
//! `allOf`s merged into one map ([`Schemas::effective`]), and a value that
//! satisfies it ([`Schemas::valid`]).
//!
//! Building is best effort: what comes out is checked against the compiled
//! schema before anything is derived from it (see [`super::negative`]).

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::names::percent_decode;
use super::pattern::SimplePattern;

/// How deep `$ref` chains and nested values may go (recursive schemas stop here).
const MAX_DEPTH: usize = 24;

/// Gives a schema file by name.
type Loader<'a> = Box<dyn Fn(&str) -> Option<Value> + 'a>;

/// Schemas by file name, loaded on demand, with local `$ref`s made absolute.
pub struct Schemas<'a> {
    root: Value,
    load: Loader<'a>,
    cache: RefCell<BTreeMap<String, Option<Value>>>,
    /// Prefer a schema's `examples[0]` over a synthesized value.
    pub use_examples: bool,
}

impl<'a> Schemas<'a> {
    /// `root` is the schema to start from (its `#…` refs point into itself);
    /// `load` gives a schema file by name (`v2Role.json`).
    pub fn new(root: &Value, load: impl Fn(&str) -> Option<Value> + 'a) -> Schemas<'a> {
        Schemas {
            root: root.clone(),
            load: Box::new(load),
            cache: RefCell::new(BTreeMap::new()),
            use_examples: true,
        }
    }

    /// The schema a `$ref` names (`X.json`, `X.json#/properties/a`, `#/$defs/b`).
    pub fn resolve(&self, r: &str) -> Option<Value> {
        let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
        let doc = if file.is_empty() {
            self.root.clone()
        } else {
            let name = file.rsplit('/').next().unwrap_or(file).to_owned();
            let mut cache = self.cache.borrow_mut();
            cache
                .entry(name.clone())
                .or_insert_with(|| {
                    (self.load)(&name).map(|mut v| {
                        absolutize(&mut v, &name);
                        v
                    })
                })
                .clone()?
        };
        let pointer = percent_decode(fragment);
        if pointer.is_empty() {
            Some(doc)
        } else {
            doc.pointer(&pointer).cloned()
        }
    }

    /// The schema with `$ref` and `allOf` merged in; `None` for `false` or a dead ref.
    pub fn effective(&self, schema: &Value) -> Option<Map<String, Value>> {
        self.effective_at(schema, 0)
    }

    fn effective_at(&self, schema: &Value, depth: usize) -> Option<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let map = match schema {
            Value::Bool(true) => return Some(Map::new()),
            Value::Object(m) => m,
            _ => return None,
        };
        let mut out: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| *k != "$ref" && *k != "allOf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(r) = map.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(r)?;
            merge(&mut out, self.effective_at(&target, depth + 1)?);
        }
        for member in map
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            merge(&mut out, self.effective_at(member, depth + 1)?);
        }
        Some(out)
    }

    /// A value valid under `schema`, when one can be built.
    pub fn valid(&self, schema: &Value) -> Option<Value> {
        self.valid_at(schema, 0)
    }

    fn valid_at(&self, schema: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut e = self.effective(schema)?;
        if self.use_examples
            && let Some(x) = e
                .get("examples")
                .and_then(Value::as_array)
                .and_then(|l| l.first())
        {
            return Some(x.clone());
        }
        if let Some(c) = e.get("const") {
            return Some(c.clone());
        }
        if let Some(list) = e.get("enum").and_then(Value::as_array) {
            return list.iter().find(|v| !v.is_null()).or(list.first()).cloned();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = e.remove(key).and_then(|l| l.as_array()?.first().cloned()) {
                let mut merged = e.clone();
                merge(&mut merged, self.effective(&first)?);
                return self.valid_at(&Value::Object(merged), depth + 1);
            }
        }
        match primary_type(&e).as_str() {
            "null" => Some(Value::Null),
            "boolean" => Some(Value::Bool(true)),
            "integer" => Some(number(&e, true)),
            "number" => Some(number(&e, false)),
            "array" => {
                let n = e.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
                let item = match e.get("items") {
                    Some(s) if n > 0 => self.valid_at(s, depth + 1)?,
                    _ => json!("x"),
                };
                Some(Value::Array(vec![item; n]))
            }
            "object" => {
                let props = e.get("properties").and_then(Value::as_object);
                let mut out = Map::new();
                for r in e
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(r) = r.as_str() else { continue };
                    let v = match props.and_then(|p| p.get(r)) {
                        Some(s) => self.valid_at(s, depth + 1)?,
                        None => json!("x"),
                    };
                    out.insert(r.to_owned(), v);
                }
                Some(Value::Object(out))
            }
            _ => string(&e).map(Value::String),
        }
    }
}

/// The JSON types a schema allows, or `None` when it does not restrict them.
/// `integer` is listed when `number` is (an integer is a number).
pub fn allowed_types(e: &Map<String, Value>) -> Option<Vec<String>> {
    let mut types: Vec<String> = match e.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(l)) => l
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            let values = e
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .or_else(|| e.get("const").map(|c| vec![c.clone()]))?;
            values.iter().map(|v| json_type(v).to_owned()).collect()
        }
    };
    if types.iter().any(|t| t == "number") {
        types.push("integer".to_owned());
    }
    types.sort();
    types.dedup();
    Some(types)
}

/// The JSON type of a value (`integer` for whole numbers).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The type a value is built as: the first non-null `type`, else guessed from the keywords.
pub fn primary_type(e: &Map<String, Value>) -> String {
    let declared: Vec<&str> = match e.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(l)) => l.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if let Some(t) = declared.iter().find(|t| **t != "null") {
        return (*t).to_owned();
    }
    if !declared.is_empty() {
        return "null".to_owned();
    }
    let has = |k: &str| e.contains_key(k);
    if has("properties") || has("required") || has("additionalProperties") {
        "object"
    } else if has("items") || has("prefixItems") || has("minItems") {
        "array"
    } else if has("minimum") || has("maximum") || has("multipleOf") {
        "number"
    } else {
        "string"
    }
    .to_owned()
}

fn number(e: &Map<String, Value>, integer: bool) -> Value {
    let f = |k: &str| e.get(k).and_then(Value::as_f64);
    let lo = f("minimum").or(f("exclusiveMinimum").map(|x| x + 1.0));
    let hi = f("maximum").or(f("exclusiveMaximum").map(|x| x - 1.0));
    let mut x = 1.0_f64;
    if let Some(lo) = lo {
        x = x.max(lo.ceil());
    }
    if let Some(hi) = hi {
        x = x.min(hi.floor());
    }
    if let Some(m) = f("multipleOf").filter(|m| *m > 0.0) {
        x = (x / m).ceil() * m;
    }
    if integer || x.fract() == 0.0 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// A string for a `format` the registry checks.
pub fn format_example(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2024-01-02T03:04:05Z",
        "date" => "2024-01-02",
        "time" => "03:04:05Z",
        "email" => "conform@example.com",
        "idn-email" => "conform@example.com",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "uri" | "iri" => "https://example.com/conform",
        "uri-reference" | "iri-reference" => "/conform",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "duration" => "P1D",
        "json-pointer" => "/a",
        "regex" => "^a$",
        _ => return None,
    })
}

fn string(e: &Map<String, Value>) -> Option<String> {
    if let Some(s) = e
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_example)
    {
        return Some(s.to_owned());
    }
    let min = e.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = e
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    if let Some(p) = e.get("pattern").and_then(Value::as_str) {
        let p = SimplePattern::parse(p).ok()?;
        let (plo, _) = p.bounds();
        return p.matching(plo.max(min));
    }
    let len = 7.clamp(min, max.unwrap_or(usize::MAX).max(min));
    Some("conform".chars().cycle().take(len).collect())
}

/// Merges `from` into `into`: properties and required are united, types
/// intersected, bounds tightened; any other keyword keeps its first value.
pub fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        let Some(cur) = into.get_mut(&k) else {
            into.insert(k, v);
            continue;
        };
        match k.as_str() {
            "properties" => {
                if let (Value::Object(a), Value::Object(b)) = (cur, v) {
                    for (name, s) in b {
                        match a.get_mut(&name) {
                            Some(existing) => {
                                *existing = json!({"allOf": [existing.clone(), s]});
                            }
                            None => {
                                a.insert(name, s);
                            }
                        }
                    }
                }
            }
            "required" => {
                if let (Value::Array(a), Value::Array(b)) = (cur, v) {
                    for r in b {
                        if !a.contains(&r) {
                            a.push(r);
                        }
                    }
                }
            }
            "type" => {
                let list = |v: &Value| -> Vec<Value> {
                    match v {
                        Value::Array(l) => l.clone(),
                        other => vec![other.clone()],
                    }
                };
                let b = list(&v);
                let both: Vec<Value> = list(cur).into_iter().filter(|t| b.contains(t)).collect();
                *cur = match both.as_slice() {
                    [one] => one.clone(),
                    _ => Value::Array(both),
                };
            }
            "minLength" | "minimum" | "minItems" | "minProperties" if v.as_f64() > cur.as_f64() => {
                *cur = v;
            }
            "maxLength" | "maximum" | "maxItems" | "maxProperties" if v.as_f64() < cur.as_f64() => {
                *cur = v;
            }
            _ => {}
        }
    }
}

/// Rewrites `$ref: "#…"` inside the file `name` to `name#…`, so a schema taken
/// out of its file still names the same thing.
fn absolutize(v: &mut Value, name: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = x
                    && r.starts_with('#')
                {
                    *r = format!("{name}{r}");
                } else if !matches!(k.as_str(), "examples" | "enum" | "const" | "default") {
                    absolutize(x, name);
                }
            }
        }
        Value::Array(l) => l.iter_mut().for_each(|x| absolutize(x, name)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(name: &str) -> Option<Value> {
        match name {
            "Role.json" => Some(json!({"type": "string", "enum": ["A", "B"]})),
            "Base.json" => Some(json!({"type": "object", "required": ["id"],
                "properties": {"id": {"type": "string", "format": "uuid"}, "me": {"$ref": "#"}}})),
            _ => None,
        }
    }

    #[test]
    fn valid_values_follow_refs_allof_and_formats() {
        let root = json!({"allOf": [{"$ref": "Base.json"}, {"type": "object",
            "required": ["role", "n", "name", "code"],
            "properties": {"role": {"$ref": "Role.json"},
                           "n": {"type": "integer", "minimum": 5, "multipleOf": 5},
                           "name": {"type": "string", "minLength": 10, "maxLength": 12},
                           "code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}]});
        let s = Schemas::new(&root, files);
        assert_eq!(
            s.valid(&root),
            Some(
                json!({"id": "00000000-0000-4000-8000-000000000000", "role": "A", "n": 5,
                        "name": "conformcon", "code": "AAA"})
            )
        );
        let e = s.effective(&root).unwrap();
        assert_eq!(e["required"], json!(["id", "role", "n", "name", "code"]));
        // A local ref inside a loaded file keeps naming that file.
        assert_eq!(
            s.resolve("Base.json#/properties/me"),
            Some(json!({"$ref": "Base.json#"}))
        );
    }

    #[test]
    fn allowed_types_from_type_or_enum() {
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            allowed_types(&m(json!({"type": ["number", "null"]}))),
            Some(vec!["integer".into(), "null".into(), "number".into()])
        );
        assert_eq!(
            allowed_types(&m(json!({"enum": ["a", 1]}))),
            Some(vec!["integer".into(), "string".into()])
        );
        assert_eq!(allowed_types(&m(json!({"description": "x"}))), None);
    }
}
