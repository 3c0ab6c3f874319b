//! Import — convert: an OpenAPI schema object → a JSON Schema 2020-12 schema,
//! one file per component, `$ref`s rewritten between the files.
//!
//! What changes (OpenAPI 3.0):
//!
//! | OpenAPI 3.0 | JSON Schema 2020-12 |
//! |---|---|
//! | `$ref: '#/components/schemas/X'` | `$ref: X.json` (a pointer further in is kept: `X.json#/properties/a`) |
//! | `type: T, nullable: true` | `type: [T, "null"]` (and `null` added to an `enum`) |
//! | `nullable: true` without `type` | `anyOf: [{…the constraints…}, {type: "null"}]`, annotations stay outside |
//! | `example: v` | `examples: [v]` |
//! | `exclusiveMinimum: true` + `minimum: m` | `exclusiveMinimum: m` (same for maximum) |
//! | `format: int32`/`int64`/`uint32`/`uint64` on an integer | the format stays (an annotation: jsonschema ignores formats it does not know) and `minimum`/`maximum` give its range |
//! | `x-…` extensions | dropped: they are vendor annotations no validator reads |
//!
//! Everything else is kept as written: `description`, `title`, `default`,
//! `readOnly`, `writeOnly`, `deprecated`, an `allOf` with annotations beside it,
//! and the OpenAPI-only `discriminator`, `xml` and `externalDocs` (unknown
//! keywords are annotations in 2020-12). OpenAPI 3.1 schema objects already are
//! 2020-12: only their `$ref`s, `example` and `x-…` keys are rewritten.

use serde_json::{Map, Value, json};

use super::names::{SchemaNames, escape_token, percent_decode, unescape_token};
use super::spec::Dialect;

/// The `$schema` of every written file.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Keywords whose value is a map of name → schema.
pub(super) const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// Keywords whose value is one schema.
pub(super) const SCHEMA_ONE: &[&str] = &[
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "contentSchema",
];

/// Keywords whose value is a list of schemas.
pub(super) const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// Keywords that describe and never constrain.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "default",
    "readOnly",
    "writeOnly",
    "deprecated",
    "externalDocs",
    "xml",
    "discriminator",
    "$comment",
];

/// Integer formats and the range each one stands for.
fn format_range(format: &str) -> Option<(Value, Value)> {
    Some(match format {
        "int8" => (json!(i8::MIN), json!(i8::MAX)),
        "int16" => (json!(i16::MIN), json!(i16::MAX)),
        "int32" => (json!(i32::MIN), json!(i32::MAX)),
        "int64" => (json!(i64::MIN), json!(i64::MAX)),
        "uint8" => (json!(0), json!(u8::MAX)),
        "uint16" => (json!(0), json!(u16::MAX)),
        "uint32" => (json!(0), json!(u32::MAX)),
        "uint64" => (json!(0), json!(u64::MAX)),
        _ => return None,
    })
}

/// Converts schema objects of one document; collects what it could not convert.
#[derive(Debug)]
pub struct Converter<'a> {
    dialect: Dialect,
    names: &'a SchemaNames,
    /// Problems found, each with the place in the description (`components/schemas/X/...`).
    pub warnings: Vec<String>,
}

impl<'a> Converter<'a> {
    /// A converter for a document of `dialect` whose components get the file stems in `names`.
    pub fn new(dialect: Dialect, names: &'a SchemaNames) -> Converter<'a> {
        Converter {
            dialect,
            names,
            warnings: Vec::new(),
        }
    }

    /// The file stem of a component schema.
    pub fn stem(&self, name: &str) -> Option<&str> {
        self.names.stem(name)
    }

    /// A whole file: the converted schema with `$schema` first and a `title`
    /// (the component's name) when it has none. `at` names the place for warnings.
    pub fn document(&mut self, schema: &Value, title: &str, at: &str) -> Value {
        let converted = match self.schema(schema, at) {
            Value::Bool(true) => json!({}),
            Value::Bool(false) => json!({"not": {}}),
            other => other,
        };
        let mut out = Map::new();
        out.insert(
            "$schema".to_owned(),
            Value::String(DRAFT_2020_12.to_owned()),
        );
        if let Value::Object(m) = &converted
            && !m.contains_key("title")
        {
            out.insert("title".to_owned(), Value::String(title.to_owned()));
        }
        if let Value::Object(m) = converted {
            for (k, v) in m {
                if k != "$schema" {
                    out.insert(k, v);
                }
            }
        }
        Value::Object(out)
    }

    /// One schema object (recursively).
    pub fn schema(&mut self, schema: &Value, at: &str) -> Value {
        let Value::Object(map) = schema else {
            return schema.clone();
        };
        let mut out = Map::new();
        let mut example = None;
        for (k, v) in map {
            let here = format!("{at}/{}", escape_token(k));
            match k.as_str() {
                k if k.starts_with("x-") => {}
                "nullable" if self.dialect == Dialect::OpenApi30 => {}
                "example" => example = Some(v.clone()),
                "$ref" => {
                    let r = v.as_str().unwrap_or_default();
                    let new = self.rewrite_ref(r, at);
                    out.insert(k.clone(), Value::String(new));
                }
                "$schema" => {
                    if v.as_str() != Some(DRAFT_2020_12) {
                        self.warnings.push(format!(
                            "{at}: `$schema: {v}` dropped; the file is read as 2020-12"
                        ));
                    }
                }
                "discriminator" => {
                    let mut d = v.clone();
                    if let Some(Value::Object(mapping)) = d.get_mut("mapping") {
                        for target in mapping.values_mut() {
                            if let Some(t) = target.as_str()
                                && t.starts_with('#')
                            {
                                *target = Value::String(self.rewrite_ref(t, &here));
                            }
                        }
                    }
                    out.insert(k.clone(), d);
                }
                k if SCHEMA_MAPS.contains(&k) && v.is_object() => {
                    let m: Map<String, Value> = v
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(name, s)| {
                            let sub = format!("{here}/{}", escape_token(name));
                            (name.clone(), self.schema(s, &sub))
                        })
                        .collect();
                    out.insert(k.to_owned(), Value::Object(m));
                }
                k if SCHEMA_ONE.contains(&k) && (v.is_object() || v.is_boolean()) => {
                    out.insert(k.to_owned(), self.schema(v, &here));
                }
                k if SCHEMA_LISTS.contains(&k) && v.is_array() => {
                    let list = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, s)| self.schema(s, &format!("{here}/{i}")))
                        .collect();
                    out.insert(k.to_owned(), Value::Array(list));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(e) = example {
            match out.get_mut("examples") {
                Some(Value::Array(list)) => {
                    if !list.contains(&e) {
                        list.push(e);
                    }
                }
                _ => {
                    out.insert("examples".to_owned(), Value::Array(vec![e]));
                }
            }
        }
        if self.dialect == Dialect::OpenApi30 {
            exclusive_bounds(&mut out);
            out = nullable(out, map.get("nullable") == Some(&Value::Bool(true)));
        }
        integer_bounds(&mut out);
        Value::Object(out)
    }

    /// `#/components/schemas/X[/rest]` → `X.json[#/rest]`; anything else is left and reported.
    fn rewrite_ref(&mut self, r: &str, at: &str) -> String {
        if let Some(rest) = r.strip_prefix("#/components/schemas/") {
            let (token, tail) = match rest.split_once('/') {
                Some((t, tail)) => (t, Some(tail)),
                None => (rest, None),
            };
            let name = unescape_token(&percent_decode(token));
            if let Some(stem) = self.names.stem(&name) {
                return match tail {
                    Some(tail) => format!("{stem}.json#/{tail}"),
                    None => format!("{stem}.json"),
                };
            }
            self.warnings.push(format!(
                "{at}: `$ref: {r}` names no component schema; left as written"
            ));
            return r.to_owned();
        }
        self.warnings.push(format!(
            "{at}: `$ref: {r}` is not a local component schema; left as written (it will not resolve)"
        ));
        r.to_owned()
    }
}

/// OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` → 2020-12's numeric form.
fn exclusive_bounds(out: &mut Map<String, Value>) {
    for (ex, base) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match out.get(ex) {
            Some(Value::Bool(true)) => match out.remove(base) {
                Some(m) => {
                    out.insert(ex.to_owned(), m);
                }
                None => {
                    out.remove(ex);
                }
            },
            Some(Value::Bool(false)) => {
                out.remove(ex);
            }
            _ => {}
        }
    }
}

/// `nullable: true` → `null` allowed.
fn nullable(mut out: Map<String, Value>, nullable: bool) -> Map<String, Value> {
    if !nullable {
        return out;
    }
    match out.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            out.insert("type".to_owned(), json!([t, "null"]));
        }
        Some(Value::Array(list)) => {
            if !list.contains(&json!("null")) {
                list.push(json!("null"));
            }
        }
        Some(_) => {}
        None => {
            let (annotations, constraints): (Map<String, Value>, Map<String, Value>) = out
                .into_iter()
                .partition(|(k, _)| ANNOTATIONS.contains(&k.as_str()));
            let mut wrapped = annotations;
            if !constraints.is_empty() {
                wrapped.insert(
                    "anyOf".to_owned(),
                    json!([Value::Object(constraints), {"type": "null"}]),
                );
            }
            return wrapped;
        }
    }
    if let Some(Value::Array(list)) = out.get_mut("enum")
        && !list.contains(&Value::Null)
    {
        list.push(Value::Null);
    }
    out
}

/// Adds the range of an integer format unless a bound is already written.
fn integer_bounds(out: &mut Map<String, Value>) {
    let numeric = match out.get("type") {
        Some(Value::String(t)) => t == "integer" || t == "number",
        Some(Value::Array(l)) => l.iter().any(|t| t == "integer" || t == "number"),
        _ => false,
    };
    let Some((min, max)) = out
        .get("format")
        .and_then(Value::as_str)
        .and_then(format_range)
    else {
        return;
    };
    if !numeric {
        return;
    }
    if !out.contains_key("minimum") && !out.contains_key("exclusiveMinimum") {
        out.insert("minimum".to_owned(), min);
    }
    if !out.contains_key("maximum") && !out.contains_key("exclusiveMaximum") {
        out.insert("maximum".to_owned(), max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Diagnostics;
    use crate::schema::SchemaRegistry;

    fn conv(dialect: Dialect, v: Value) -> (Value, Vec<String>) {
        let names = SchemaNames::new(["Pet", "a/b"]);
        let mut c = Converter::new(dialect, &names);
        let out = c.schema(&v, "components/schemas/T");
        (out, c.warnings)
    }

    #[test]
    fn openapi_30_keywords_become_2020_12() {
        let (out, warnings) = conv(
            Dialect::OpenApi30,
            json!({
                "type": "object",
                "x-internal": true,
                "properties": {
                    "x-name": {"type": "string", "nullable": true, "example": "n"},
                    "pet": {"$ref": "#/components/schemas/Pet"},
                    "deep": {"$ref": "#/components/schemas/a~1b/properties/c"},
                    "maybe": {"allOf": [{"$ref": "#/components/schemas/Pet"}], "nullable": true, "description": "d"},
                    "kind": {"type": "string", "enum": ["A"], "nullable": true},
                    "n": {"type": "integer", "format": "int32", "minimum": 0, "exclusiveMinimum": true},
                    "big": {"type": "integer", "format": "int64", "readOnly": true},
                    "s": {"type": "string", "format": "int64"}
                }
            }),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "x-name": {"type": ["string", "null"], "examples": ["n"]},
                    "pet": {"$ref": "Pet.json"},
                    "deep": {"$ref": "a_b.json#/properties/c"},
                    "maybe": {"description": "d", "anyOf": [{"allOf": [{"$ref": "Pet.json"}]}, {"type": "null"}]},
                    "kind": {"type": ["string", "null"], "enum": ["A", null]},
                    "n": {"type": "integer", "format": "int32", "exclusiveMinimum": 0, "maximum": 2147483647},
                    "big": {"type": "integer", "format": "int64", "readOnly": true,
                            "minimum": i64::MIN, "maximum": i64::MAX},
                    "s": {"type": "string", "format": "int64"}
                }
            })
        );
    }

    #[test]
    fn openapi_31_passes_through_with_refs_rewritten() {
        let (out, warnings) = conv(
            Dialect::OpenApi31,
            json!({"type": ["string", "null"], "nullable": true, "x-a": 1,
                   "items": {"$ref": "#/components/schemas/Pet"}, "enum": ["a", null],
                   "allOf": [{"$ref": "other.yaml#/X"}]}),
        );
        assert_eq!(
            out,
            json!({"type": ["string", "null"], "nullable": true,
                   "items": {"$ref": "Pet.json"}, "enum": ["a", null],
                   "allOf": [{"$ref": "other.yaml#/X"}]})
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("other.yaml"), "{warnings:?}");
    }

    #[test]
    fn document_gets_schema_and_title() {
        let names = SchemaNames::new(["Pet"]);
        let mut c = Converter::new(Dialect::OpenApi30, &names);
        let doc = c.document(&json!({"type": "string"}), "Pet", "components/schemas/Pet");
        assert_eq!(
            doc,
            json!({"$schema": DRAFT_2020_12, "title": "Pet", "type": "string"})
        );
        assert_eq!(
            c.document(&json!(true), "T", "t"),
            json!({"$schema": DRAFT_2020_12, "title": "T"})
        );
    }

    /// The registry validates formats, but ignores those it does not know
    /// (`int32`, `byte`, `double`, …): keeping them as annotations is safe,
    /// and the bounds added for integer formats are what is checked.
    #[test]
    fn unknown_formats_compile_and_are_annotations() {
        let tmp = tempfile::tempdir().unwrap();
        let names = SchemaNames::new(["N"]);
        let mut c = Converter::new(Dialect::OpenApi30, &names);
        let doc = c.document(
            &json!({"type": "object", "properties": {
                "i": {"type": "integer", "format": "int32"},
                "b": {"type": "string", "format": "byte"},
                "d": {"type": "number", "format": "double"}}}),
            "N",
            "n",
        );
        std::fs::write(tmp.path().join("N.json"), doc.to_string()).unwrap();
        let mut d = Diagnostics::default();
        let reg = SchemaRegistry::load("s", tmp.path(), &mut d);
        assert!(d.is_empty(), "{d}");
        assert!(
            reg.validate("N", &json!({"i": 1, "b": "not base64 !", "d": 1.5}))
                .is_empty()
        );
        let v = reg.validate("N", &json!({"i": 2147483648_i64}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].schema_path.ends_with("/maximum"), "{v:?}");
    }
}
