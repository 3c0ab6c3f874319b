//! The compact shape of a JSON response: which paths occur, with which JSON
//! types and which enum-like values. Recorded per step so a nightly run can
//! report "the sandbox started sending a new status value" (drift) without
//! keeping any response body.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Path (`$.users[*].status`) → what was seen there: type names (`string`,
/// `integer`, …) and enum-like string values written as `=VALUE`.
pub type Shape = BTreeMap<String, BTreeSet<String>>;

/// Paths kept per response; deeper or wider documents are cut, never unbounded.
pub const MAX_PATHS: usize = 256;
/// Distinct enum-like values kept per path.
pub const MAX_VALUES: usize = 32;
const MAX_DEPTH: usize = 16;

/// Distinct shapes kept for sharing; beyond this, shapes are still recorded, just not shared.
const MAX_INTERNED: usize = 4096;

/// The shape of `v`, shared with every earlier identical shape: ten thousand
/// responses of one form cost one shape in memory, not ten thousand.
pub fn interned(v: &Value) -> std::sync::Arc<Shape> {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashSet<Arc<Shape>>>> = OnceLock::new();
    let shape = of(v);
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get(&shape) {
        return found.clone();
    }
    let arc = Arc::new(shape);
    if cache.len() < MAX_INTERNED {
        cache.insert(arc.clone());
    }
    arc
}

/// The shape of `v`.
pub fn of(v: &Value) -> Shape {
    let mut out = Shape::new();
    walk(v, "$".to_owned(), 0, &mut out);
    out
}

/// Upper-case identifiers such as `ACTIVATED` or `BLOCK_APPROVAL_PENDING`: the values of enums.
fn enum_like(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=64).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

fn type_name(v: &Value) -> &'static str {
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

fn walk(v: &Value, path: String, depth: usize, out: &mut Shape) {
    if out.len() >= MAX_PATHS && !out.contains_key(&path) {
        return;
    }
    let seen = out.entry(path.clone()).or_default();
    seen.insert(type_name(v).to_owned());
    if let Value::String(s) = v
        && enum_like(s)
        && seen.len() < MAX_VALUES
    {
        seen.insert(format!("={s}"));
    }
    if depth >= MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty()
                {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\\', "\\\\").replace('\'', "\\'"))
                };
                walk(child, p, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(child, format!("{path}[*]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_paths_types_and_enum_values() {
        let s = of(
            &json!({"users": [{"status": "ACTIVATED", "n": 1}, {"status": "BLOCKED", "n": 1.5, "note": "Lost device"}], "@type": "x"}),
        );
        let get = |p: &str| {
            s.get(p)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            get("$.users[*].status"),
            ["=ACTIVATED", "=BLOCKED", "string"]
        );
        assert_eq!(get("$.users[*].n"), ["integer", "number"]);
        assert_eq!(get("$.users[*].note"), ["string"]);
        assert_eq!(get("$['@type']"), ["string"]);
        assert_eq!(get("$"), ["object"]);
    }

    #[test]
    fn is_bounded() {
        let wide: serde_json::Map<String, Value> =
            (0..1000).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(of(&Value::Object(wide)).len() <= MAX_PATHS);
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        assert!(of(&deep).len() <= MAX_DEPTH + 1);
    }
}
