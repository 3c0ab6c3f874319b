//! Pretty JSON for the report files: two-space indents like
//! `serde_json::to_string_pretty`, but arrays of scalars stay on one line
//! (`"seen": [200, 404]`, `"$.status": ["=ACTIVATED", "string"]`), so a
//! response shape or a status list reads at a glance and diffs line by line.
//!
//! Written by a serde_json [`Formatter`] straight to the output, with no JSON
//! tree in between: a summary of 10,000 cases streams to disk. An array's
//! layout is chosen by its first element (a scalar: one line; an array or
//! object: one element per line); the report types never mix the two in one
//! array.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// `value` as pretty JSON with a final newline.
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_pretty(&mut out, value).expect("report types serialize to JSON: plain data");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes `value` as pretty JSON (no final newline) to `w`.
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(w: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, ScalarArraysInline::default());
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// `value` as [`write_pretty`] writes it `depth` containers deep (as an
/// object's value or an array's element there): text a writer at that depth
/// can copy in as it is, as `summary.json` does for each distinct response
/// shape instead of writing it again for every step.
pub fn pretty_at_depth<T: Serialize + ?Sized>(value: &T, depth: usize) -> io::Result<String> {
    let formatter = ScalarArraysInline {
        depth,
        open: vec![(Layout::Block, true); depth],
        owed: Owed::Nothing,
    };
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut ser).map_err(io::Error::other)?;
    String::from_utf8(out).map_err(io::Error::other)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// No element seen yet.
    Undecided,
    /// Scalars: `[a, b]`.
    Inline,
    /// Containers: one per line.
    Block,
}

/// The separator owed before an array element, written once the element's
/// first token shows whether the array is inline or block.
#[derive(Debug, Clone, Copy)]
enum Owed {
    Nothing,
    First,
    Next,
}

/// Pretty-printing with arrays of scalars kept on one line.
#[derive(Debug)]
struct ScalarArraysInline {
    depth: usize,
    /// One entry per open array or object: (layout, has a value). Objects are Block.
    open: Vec<(Layout, bool)>,
    owed: Owed,
}

impl Default for ScalarArraysInline {
    fn default() -> Self {
        Self {
            depth: 0,
            open: Vec::new(),
            owed: Owed::Nothing,
        }
    }
}

/// `,` then a newline then spaces: a line break and its indent are written as
/// one slice of this (or, deeper than it reaches, a slice then more spaces),
/// not one `write_all` per level. A report line is a few bytes; its indent was
/// most of its writes (W, 1,000 cases: about 85 small writes a case record).
const BREAK: &[u8; 2 + 2 * 32] =
    b",\n                                                                ";

impl ScalarArraysInline {
    /// A newline (after a comma when `comma`) and the indent of `depth`.
    fn newline<W: ?Sized + Write>(w: &mut W, comma: bool, depth: usize) -> io::Result<()> {
        let start = usize::from(!comma);
        let spaces = 2 * depth;
        if 2 + spaces <= BREAK.len() {
            return w.write_all(&BREAK[start..2 + spaces]);
        }
        w.write_all(&BREAK[start..])?;
        let mut left = spaces - (BREAK.len() - 2);
        while left > 0 {
            let n = left.min(BREAK.len() - 2);
            w.write_all(&BREAK[2..2 + n])?;
            left -= n;
        }
        Ok(())
    }

    /// Pays the separator owed before an array element whose first token is a
    /// scalar (`scalar`) or a container.
    fn pay<W: ?Sized + Write>(&mut self, w: &mut W, scalar: bool) -> io::Result<()> {
        let owed = std::mem::replace(&mut self.owed, Owed::Nothing);
        if matches!(owed, Owed::Nothing) {
            return Ok(());
        }
        let top = self.open.last_mut().expect("an element is inside an array");
        if top.0 == Layout::Undecided {
            top.0 = if scalar {
                Layout::Inline
            } else {
                Layout::Block
            };
        }
        match (top.0, owed) {
            (Layout::Inline, Owed::First) => Ok(()),
            (Layout::Inline, _) => w.write_all(b", "),
            (_, Owed::First) => Self::newline(w, false, self.depth),
            _ => Self::newline(w, true, self.depth),
        }
    }

    /// Opens an array (`Undecided` until its first element) or an object (`Block`).
    fn open_container<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        layout: Layout,
        bracket: &[u8],
    ) -> io::Result<()> {
        self.pay(w, false)?;
        self.depth += 1;
        self.open.push((layout, false));
        w.write_all(bracket)
    }

    /// Closes the innermost container; a block with values ends on its own line.
    fn close_container<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        let (layout, has_value) = self.open.pop().expect("balanced arrays and objects");
        if has_value && layout == Layout::Block {
            Self::newline(w, false, self.depth)?;
        }
        w.write_all(bracket)
    }
}

macro_rules! scalar_writes {
    ($($name:ident($t:ty)),* $(,)?) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, w: &mut W, value: $t) -> io::Result<()> {
                self.pay(w, true)?;
                serde_json::ser::CompactFormatter.$name(w, value)
            }
        )*
    };
}

impl Formatter for ScalarArraysInline {
    fn write_null<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pay(w, true)?;
        w.write_all(b"null")
    }

    scalar_writes!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str),
        write_byte_array(&[u8]),
        write_raw_fragment(&str),
    );

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pay(w, true)?;
        w.write_all(b"\"")
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        serde_json::ser::CompactFormatter.write_char_escape(w, escape)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open_container(w, Layout::Undecided, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close_container(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, _w: &mut W, first: bool) -> io::Result<()> {
        self.owed = if first { Owed::First } else { Owed::Next };
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        if let Some(top) = self.open.last_mut() {
            top.1 = true;
        }
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open_container(w, Layout::Block, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close_container(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        Self::newline(w, !first, self.depth)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        if let Some(top) = self.open.last_mut() {
            top.1 = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The layout rule spelled out over a JSON tree: the reference the
    /// streaming formatter must match byte for byte.
    fn reference(v: &Value, depth: usize, out: &mut String) {
        let pad = |d: usize| "  ".repeat(d);
        let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
        match v {
            Value::Array(items) if items.is_empty() => out.push_str("[]"),
            Value::Array(items) if items.iter().all(scalar) => {
                let parts: Vec<String> = items.iter().map(Value::to_string).collect();
                out.push_str(&format!("[{}]", parts.join(", ")));
            }
            Value::Array(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(depth + 1));
                    reference(item, depth + 1, out);
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
                    reference(item, depth + 1, out);
                    out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(depth));
                out.push('}');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }

    fn check(v: &Value) {
        let mut want = String::new();
        reference(v, 0, &mut want);
        want.push('\n');
        assert_eq!(pretty(v), want);
        assert_eq!(&serde_json::from_str::<Value>(&pretty(v)).unwrap(), v);
    }

    #[test]
    fn keeps_scalar_arrays_on_one_line_and_parses_back() {
        let v = json!({"a": [1, 2], "b": [{"c": []}, {}], "d": {"e": "x\"y"}, "f": [[1]]});
        assert_eq!(
            pretty(&v),
            "{\n  \"a\": [1, 2],\n  \"b\": [\n    {\n      \"c\": []\n    },\n    {}\n  ],\n  \"d\": {\n    \"e\": \"x\\\"y\"\n  },\n  \"f\": [\n    [1]\n  ]\n}\n"
        );
        check(&v);
    }

    #[test]
    fn matches_the_tree_rule_on_every_kind_of_value() {
        for v in [
            json!(null),
            json!(1.5),
            json!("s\n\u{1}"),
            json!([]),
            json!({}),
            json!([null, true, -3, 2.25, "x"]),
            json!([[], [[]], [{}], [{"a": [1]}]]),
            json!({"k": {"j": {"i": [{"h": ["=A", "string"]}]}}, "e": [], "o": {}}),
            json!([{"a": 1}, {"b": [true, false]}, {"c": {"d": null}}]),
            json!({"big": 18446744073709551615u64, "neg": i64::MIN, "f": 1e300}),
        ] {
            check(&v);
        }
    }

    #[test]
    fn indents_past_the_prepared_spaces() {
        // Around and past the 32 levels one slice of `BREAK` indents, in
        // objects and in arrays, with a scalar array at the bottom.
        for levels in [30, 31, 32, 33, 34, 65, 70] {
            let mut v = json!(["=A", "string"]);
            for i in 0..levels {
                v = if i % 2 == 0 {
                    json!({ "k": v, "n": i })
                } else {
                    json!([v, {}])
                };
            }
            check(&v);
        }
    }
}
