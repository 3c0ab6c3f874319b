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
///
/// Responses are looked up by their signature: the walk that [`of`] makes,
/// written into bytes (keys, types, enum-like values), which determines the
/// shape and costs no allocation per node. Only a signature not seen before
/// builds a shape.
pub fn interned(v: &Value) -> std::sync::Arc<Shape> {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex, OnceLock};
    #[derive(Default)]
    struct Cache {
        /// The signature found last: responses in a row mostly share their
        /// shape, and comparing bytes is cheaper than hashing them (SipHash
        /// of a ~500-byte signature showed in `perf`).
        last: Option<(Box<[u8]>, Arc<Shape>)>,
        by_signature: HashMap<Box<[u8]>, Arc<Shape>>,
        signature_bytes: usize,
        shapes: HashSet<Arc<Shape>>,
    }
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let lock = || {
        CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    };
    let mut sig = Vec::with_capacity(512);
    let fits = signature(v, 0, &mut sig);
    if fits {
        let mut cache = lock();
        if let Some((last, found)) = &cache.last
            && **last == *sig
        {
            return found.clone();
        }
        if let Some(found) = cache.by_signature.get(sig.as_slice()).cloned() {
            cache.last = Some((sig.into_boxed_slice(), found.clone()));
            return found;
        }
    }
    let shape = of(v);
    let mut cache = lock();
    let arc = match cache.shapes.get(&shape) {
        Some(found) => found.clone(),
        None => {
            let arc = Arc::new(shape);
            if cache.shapes.len() < MAX_INTERNED {
                cache.shapes.insert(arc.clone());
            }
            arc
        }
    };
    if fits && cache.signature_bytes + sig.len() <= MAX_SIGNATURE_BYTES {
        cache.signature_bytes += sig.len();
        cache
            .by_signature
            .insert(sig.into_boxed_slice(), arc.clone());
    }
    arc
}

/// Bytes of signatures remembered in all; past this, responses still share
/// shapes, they only build them to find out.
const MAX_SIGNATURE_BYTES: usize = 1024 * 1024;

/// Longest signature kept; a larger body builds its shape every time.
const MAX_SIGNATURE: usize = 16 * 1024;

/// Appends the signature of `v` to `out`; false when it grew past [`MAX_SIGNATURE`].
/// Every input of [`walk`] is in it: object keys in order, each node's type,
/// enum-like string values, and the same depth limit, so equal signatures
/// give equal shapes.
fn signature(v: &Value, depth: usize, out: &mut Vec<u8>) -> bool {
    if out.len() > MAX_SIGNATURE {
        return false;
    }
    match v {
        Value::Null => out.push(b'n'),
        Value::Bool(_) => out.push(b'b'),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push(b'i'),
        Value::Number(_) => out.push(b'f'),
        Value::String(s) if enum_like(s) => {
            out.push(b'=');
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        Value::String(_) => out.push(b's'),
        Value::Array(items) => {
            out.push(b'[');
            if depth < MAX_DEPTH {
                // An element like the one before adds nothing to the shape: it
                // is left out, so lists of any length share a signature.
                let mut previous: Option<usize> = None;
                for child in items {
                    let start = out.len();
                    if !signature(child, depth + 1, out) {
                        return false;
                    }
                    match previous {
                        Some(p) if out[p..start] == out[start..] => out.truncate(start),
                        _ => previous = Some(start),
                    }
                }
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            if depth < MAX_DEPTH {
                for (k, child) in map {
                    // Keys are text: a 0 byte in one is escaped so keys cannot run together.
                    for &b in k.as_bytes() {
                        if b <= 1 {
                            out.push(1);
                        }
                        out.push(b);
                    }
                    out.push(0);
                    if !signature(child, depth + 1, out) {
                        return false;
                    }
                }
            }
            out.push(b'}');
        }
    }
    true
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
    fn equal_signatures_share_one_shape_and_different_ones_do_not() {
        let a = json!({"id": "x1", "status": "ACTIVATED", "n": 1, "tags": ["a"]});
        let b = json!({"id": "y2", "status": "ACTIVATED", "n": 7, "tags": ["b", "c"]});
        let c = json!({"id": "y2", "status": "BLOCKED", "n": 7, "tags": ["b"]});
        let d = json!({"id": "y2", "status": "ACTIVATED", "n": 7.5, "tags": ["b"]});
        let e = json!({"id": "y2", "status": "ACTIVATED", "n": 7, "tags": [1]});
        // Keys that would run together without a separator.
        let f = json!({"ab": 1, "c": 1});
        let g = json!({"a": 1, "bc": 1});
        assert!(std::sync::Arc::ptr_eq(&interned(&a), &interned(&b)));
        for (x, y) in [(&a, &c), (&a, &d), (&a, &e), (&f, &g)] {
            assert_ne!(*interned(x), *interned(y), "{x} vs {y}");
            assert_eq!(*interned(x), of(x));
            assert_eq!(*interned(y), of(y));
        }
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
