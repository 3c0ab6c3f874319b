//! Pretty JSON for the report files: two-space indents like
//! `serde_json::to_string_pretty`, but arrays of scalars stay on one line
//! (`"seen": [200, 404]`, `"$.status": ["=ACTIVATED", "string"]`), so a
//! response shape or a status list reads at a glance and diffs line by line.

use serde::Serialize;
use serde_json::Value;

/// `value` as pretty JSON with a final newline.
pub fn pretty<T: Serialize>(value: &T) -> String {
    let v = serde_json::to_value(value).expect("report types serialize to JSON: plain data");
    let mut out = String::new();
    write(&v, 0, &mut out);
    out.push('\n');
    out
}

/// `value` as pretty JSON whose nested lines are indented for `depth`, without
/// a final newline: one element of a larger document written piece by piece.
pub fn pretty_at<T: Serialize + ?Sized>(value: &T, depth: usize) -> String {
    let v = serde_json::to_value(value).expect("report types serialize to JSON: plain data");
    let mut out = String::new();
    write(&v, depth, &mut out);
    out
}

fn scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn write(v: &Value, depth: usize, out: &mut String) {
    let pad = |d: usize| "  ".repeat(d);
    match v {
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) if items.iter().all(scalar) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&item.to_string());
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (k, item)) in map.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write(item, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_scalar_arrays_on_one_line_and_parses_back() {
        let v = json!({"a": [1, 2], "b": [{"c": []}, {}], "d": {"e": "x\"y"}, "f": [[1]]});
        let text = pretty(&v);
        assert_eq!(
            text,
            "{\n  \"a\": [1, 2],\n  \"b\": [\n    {\n      \"c\": []\n    },\n    {}\n  ],\n  \"d\": {\n    \"e\": \"x\\\"y\"\n  },\n  \"f\": [\n    [1]\n  ]\n}\n"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }
}
