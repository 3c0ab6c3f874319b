//! Import — self-check: every example the description gives, validated against
//! the schema generated for it.
//!
//! Examples come from component schemas and their properties (`example`,
//! `examples`), and from operations: request and response media types
//! (`example`, `examples.<name>.value`) and parameters. An example written on
//! a member of an `allOf` (grpc-gateway writes `allOf: [{$ref: X}, {example: …}]`)
//! describes the whole `allOf`, so it is validated against the schema holding
//! the `allOf`.
//!
//! Validation goes through [`SchemaRegistry`]: the suite's schema files and one
//! small wrapper schema per example target (`{"$ref": "X.json#/properties/a"}`,
//! or an inline schema converted in place) are loaded together from a
//! temporary folder, so a property's example is judged by exactly the
//! subschema the registry compiles, formats included.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::convert::{Converter, SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_ONE};
use super::names::{SchemaNames, escape_token, fragment_encode};
use super::spec::{Dialect, component_ref, deref};
use crate::case::Diagnostics;
use crate::schema::SchemaRegistry;

/// One example and the schema it must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Where the example is written in the description (`#/components/schemas/X/properties/a/example`).
    pub pointer: String,
    /// The schema to validate against: a `$ref` into a suite file, or a converted inline schema.
    pub schema: Value,
    /// The example.
    pub value: Value,
}

/// The verdict on one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleResult {
    /// Where the example is written in the description.
    pub pointer: String,
    /// `Err` holds every violation, each with its instance path.
    pub outcome: Result<(), String>,
}

impl fmt::Display for ExampleResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(()) => write!(f, "ok   {}", self.pointer),
            Err(why) => write!(f, "FAIL {}: {why}", self.pointer),
        }
    }
}

/// Calls `f(pointer, schema)` for `v` and every subschema in it.
pub fn walk_schemas(v: &Value, ptr: &str, f: &mut impl FnMut(&str, &Map<String, Value>)) {
    let Value::Object(m) = v else { return };
    f(ptr, m);
    for (k, x) in m {
        let here = format!("{ptr}/{}", escape_token(k));
        if SCHEMA_MAPS.contains(&k.as_str()) {
            for (name, s) in x.as_object().into_iter().flatten() {
                walk_schemas(s, &format!("{here}/{}", escape_token(name)), f);
            }
        } else if SCHEMA_ONE.contains(&k.as_str()) {
            walk_schemas(x, &here, f);
        } else if SCHEMA_LISTS.contains(&k.as_str()) {
            for (i, s) in x.as_array().into_iter().flatten().enumerate() {
                walk_schemas(s, &format!("{here}/{i}"), f);
            }
        }
    }
}

/// The schema an example at `ptr` describes: climbs out of `allOf` members.
fn target_of(ptr: &str) -> &str {
    let mut p = ptr;
    loop {
        let Some((parent, last)) = p.rsplit_once('/') else {
            return p;
        };
        match parent.rsplit_once('/') {
            Some((owner, "allOf")) if last.parse::<usize>().is_ok() => p = owner,
            _ => return p,
        }
    }
}

/// Every example in the description. `components` are the converted component
/// schemas as written: (component name, file stem, converted schema).
pub fn collect(
    doc: &Value,
    dialect: Dialect,
    names: &SchemaNames,
    components: &[(String, String, Value)],
) -> Vec<Example> {
    let mut out = Vec::new();
    for (name, stem, schema) in components {
        walk_schemas(schema, "", &mut |ptr, m| {
            let Some(list) = m.get("examples").and_then(Value::as_array) else {
                return;
            };
            let target = target_of(ptr);
            let reference = if target.is_empty() {
                format!("{stem}.json")
            } else {
                format!("{stem}.json#{}", fragment_encode(target))
            };
            for (i, value) in list.iter().enumerate() {
                let key = match dialect {
                    Dialect::OpenApi30 => "example".to_owned(),
                    Dialect::OpenApi31 => format!("examples/{i}"),
                };
                out.push(Example {
                    pointer: format!("#/components/schemas/{}{ptr}/{key}", escape_token(name)),
                    schema: json!({ "$ref": reference }),
                    value: value.clone(),
                });
            }
        });
    }
    let mut conv = Converter::new(dialect, names);
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item = deref(doc, item);
        let at_path = format!("#/paths/{}", escape_token(path));
        params(doc, item, &at_path, &mut conv, &mut out);
        for (method, op) in item.as_object().into_iter().flatten() {
            if !op.is_object() || method == "parameters" {
                continue;
            }
            let at_op = format!("{at_path}/{method}");
            params(doc, op, &at_op, &mut conv, &mut out);
            if let Some(body) = op.get("requestBody") {
                media(
                    doc,
                    deref(doc, body),
                    &format!("{at_op}/requestBody"),
                    &mut conv,
                    &mut out,
                );
            }
            for (code, resp) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let at = format!("{at_op}/responses/{}", escape_token(code));
                media(doc, deref(doc, resp), &at, &mut conv, &mut out);
            }
        }
    }
    out
}

/// The schema to validate a value of `schema` against.
fn wrapper(conv: &mut Converter, schema: &Value, at: &str) -> Value {
    match component_ref(schema).and_then(|n| conv.stem(&n).map(str::to_owned)) {
        Some(stem) => json!({ "$ref": format!("{stem}.json") }),
        None => conv.document(schema, "inline schema", at),
    }
}

/// `example` and `examples.<name>.value` next to a `schema`.
fn push_examples(
    doc: &Value,
    holder: &Value,
    schema: &Value,
    at: &str,
    conv: &mut Converter,
    out: &mut Vec<Example>,
) {
    let mut found: Vec<(String, Value)> = Vec::new();
    if let Some(v) = holder.get("example") {
        found.push((format!("{at}/example"), v.clone()));
    }
    for (name, ex) in holder
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(v) = deref(doc, ex).get("value") {
            found.push((
                format!("{at}/examples/{}/value", escape_token(name)),
                v.clone(),
            ));
        }
    }
    if found.is_empty() {
        return;
    }
    let schema = wrapper(conv, schema, at);
    for (pointer, value) in found {
        out.push(Example {
            pointer,
            schema: schema.clone(),
            value,
        });
    }
}

fn media(doc: &Value, holder: &Value, at: &str, conv: &mut Converter, out: &mut Vec<Example>) {
    for (mt, m) in holder
        .get("content")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !(mt.contains("json") || mt == "*/*") {
            continue;
        }
        if let Some(schema) = m.get("schema") {
            let here = format!("{at}/content/{}", escape_token(mt));
            push_examples(doc, m, schema, &here, conv, out);
        }
    }
}

fn params(doc: &Value, holder: &Value, at: &str, conv: &mut Converter, out: &mut Vec<Example>) {
    for (i, p) in holder
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = deref(doc, p);
        if let Some(schema) = p.get("schema") {
            push_examples(doc, p, schema, &format!("{at}/parameters/{i}"), conv, out);
        }
    }
}

/// Validates every example against its schema, with the suite's schema files
/// from `schemas_dir`; one result per example, in order.
pub fn check(
    examples: &[Example],
    suite: &str,
    schemas_dir: &Path,
) -> std::io::Result<Vec<ExampleResult>> {
    let tmp = TempDir::new()?;
    for entry in fs::read_dir(schemas_dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            fs::copy(&path, tmp.0.join(path.file_name().unwrap_or_default()))?;
        }
    }
    let mut prefix = "__conform_example_".to_owned();
    while fs::read_dir(&tmp.0)?
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
    {
        prefix.push('_');
    }
    // One wrapper per distinct schema.
    let mut wrappers: Vec<String> = Vec::new();
    let mut which = Vec::with_capacity(examples.len());
    for ex in examples {
        let text = serde_json::to_string(&ex.schema).unwrap_or_default();
        let i = match wrappers.iter().position(|w| *w == text) {
            Some(i) => i,
            None => {
                fs::write(
                    tmp.0.join(format!("{prefix}{}.json", wrappers.len())),
                    &text,
                )?;
                wrappers.push(text);
                wrappers.len() - 1
            }
        };
        which.push(format!("{prefix}{i}"));
    }
    let mut diags = Diagnostics::default();
    let registry = SchemaRegistry::load(suite, &tmp.0, &mut diags);
    Ok(examples
        .iter()
        .zip(which)
        .map(|(ex, name)| {
            let outcome = if !registry.contains(&name) {
                let why = diags
                    .0
                    .iter()
                    .find(|d| {
                        d.file
                            .file_stem()
                            .is_some_and(|s| s.to_string_lossy() == name)
                    })
                    .map_or_else(
                        || "its schema did not compile".to_owned(),
                        |d| d.message.clone(),
                    );
                Err(why)
            } else {
                let v = registry.validate(&name, &ex.value);
                if v.is_empty() {
                    Ok(())
                } else {
                    Err(v
                        .iter()
                        .map(|v| {
                            let at = if v.instance_path.is_empty() {
                                "/"
                            } else {
                                &v.instance_path
                            };
                            format!("{at}: {}", v.message)
                        })
                        .collect::<Vec<_>>()
                        .join("; "))
                }
            };
            ExampleResult {
                pointer: ex.pointer.clone(),
                outcome,
            }
        })
        .collect())
}

/// A folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "conform-examples-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allof_members_climb_to_their_owner() {
        assert_eq!(target_of("/properties/a/allOf/1"), "/properties/a");
        assert_eq!(target_of("/allOf/0/allOf/1"), "");
        assert_eq!(target_of("/properties/allOf"), "/properties/allOf");
        assert_eq!(target_of("/properties/a/anyOf/1"), "/properties/a/anyOf/1");
    }

    #[test]
    fn examples_are_checked_against_their_subschema() {
        let doc = json!({"openapi": "3.0.0",
            "components": {"schemas": {
                "S": {"type": "string", "enum": ["A"]},
                "T": {"type": "object", "properties": {
                    "s": {"allOf": [{"$ref": "#/components/schemas/S"}, {"example": "B"}]},
                    "n": {"type": "integer", "format": "int32", "example": 5},
                    "at": {"type": "string", "format": "date-time", "example": "2022-13-01"}}}}},
            "paths": {"/t": {"get": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "integer"}, "example": "x"}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/T"},
                    "examples": {"one": {"value": {"n": 1}}}}}}}}}}});
        let names = SchemaNames::new(["S", "T"]);
        let mut conv = Converter::new(Dialect::OpenApi30, &names);
        let tmp = TempDir::new().unwrap();
        let mut comps = Vec::new();
        for n in ["S", "T"] {
            let v = conv.document(&doc["components"]["schemas"][n], n, n);
            fs::write(tmp.0.join(format!("{n}.json")), v.to_string()).unwrap();
            comps.push((n.to_owned(), n.to_owned(), v));
        }
        let examples = collect(&doc, Dialect::OpenApi30, &names, &comps);
        let results = check(&examples, "t", &tmp.0).unwrap();
        let text: Vec<String> = results.iter().map(ToString::to_string).collect();
        assert_eq!(results.len(), 5, "{text:#?}");
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| r.outcome.is_err())
            .map(|r| r.pointer.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "#/components/schemas/T/properties/s/allOf/1/example",
                "#/components/schemas/T/properties/at/example",
                "#/paths/~1t/get/parameters/0/example",
            ],
            "{text:#?}"
        );
    }
}
