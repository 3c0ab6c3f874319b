//! Stage 2 — plan: the suite's JSON Schemas, loaded and compiled once per run.
//!
//! Every `*.json` file of a suite's schemas folder goes into one offline
//! registry under `https://conform.invalid/schemas/<suite>/<file>`, so a
//! relative `$ref: "v2Role.json"` resolves between files and nothing is ever
//! fetched. Formats (`date-time`, `email`, `uuid`) are validated: under draft
//! 2020-12 they are annotations unless switched on. This is the only module
//! that imports jsonschema, whose API changes between versions.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonschema::{Draft, Registry, Validator};
use serde_json::Value;

use crate::case::{Diagnostic, Diagnostics, Pos, Source};

/// Base of the URIs the schemas are registered under; never contacted.
pub const BASE_URI: &str = "https://conform.invalid/schemas/";

/// A schema violation: where in the instance, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer into the response body (`""` for the root).
    pub instance_path: String,
    /// JSON Pointer into the schema.
    pub schema_path: String,
    /// What is wrong.
    pub message: String,
}

/// The compiled schemas of one suite, by file stem.
#[derive(Clone, Default)]
pub struct SchemaRegistry {
    dir: PathBuf,
    validators: BTreeMap<String, Arc<Validator>>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("dir", &self.dir)
            .field("schemas", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SchemaRegistry {
    /// Loads and compiles every `*.json` in `dir`; problems go to `diags`.
    /// A missing folder gives an empty registry (a suite may have no schemas).
    pub fn load(suite: &str, dir: &Path, diags: &mut Diagnostics) -> SchemaRegistry {
        let mut reg = SchemaRegistry {
            dir: dir.to_path_buf(),
            validators: BTreeMap::new(),
        };
        let Ok(entries) = fs::read_dir(dir) else {
            return reg;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        paths.sort();

        let mut docs: Vec<(String, Source, Value)> = Vec::new();
        for path in paths {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    diags.push(Diagnostic::file(&path, format!("cannot read schema: {e}")));
                    continue;
                }
            };
            let source = Source::new(&path, text);
            match serde_json::from_str::<Value>(&source.text) {
                Ok(v) => docs.push((stem, source, v)),
                Err(e) => diags.push(Diagnostic::at(
                    &source,
                    Pos::new(e.line(), e.column()),
                    format!("schema is not valid JSON: {e}"),
                )),
            }
        }

        let uri = |stem: &str| format!("{BASE_URI}{suite}/{stem}.json");
        let resources = docs.iter().map(|(stem, _, v)| (uri(stem), v.clone()));
        let registry = match Registry::new()
            .draft(Draft::Draft202012)
            .extend(resources)
            .and_then(|b| b.prepare())
        {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::file(
                    dir,
                    format!("cannot build the schema registry: {e}"),
                ));
                return reg;
            }
        };
        for (stem, source, value) in &docs {
            let built = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .with_registry(&registry)
                .with_base_uri(uri(stem))
                .build(value);
            match built {
                Ok(v) => {
                    reg.validators.insert(stem.clone(), Arc::new(v));
                }
                Err(e) => diags.push(schema_diagnostic(source, &e.to_string())),
            }
        }
        reg
    }

    /// The folder the schemas came from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Schema names (file stems).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.validators.keys().map(String::as_str)
    }

    /// True when a schema of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.validators.contains_key(name)
    }

    /// Validates `instance` against schema `name`; every violation, in order.
    /// Panics if `name` was not checked with [`contains`](Self::contains) at plan time.
    pub fn validate(&self, name: &str, instance: &Value) -> Vec<Violation> {
        let validator = self
            .validators
            .get(name)
            .expect("schema names are checked when cases are planned");
        // The common case, a valid body, takes the validator's short-circuiting
        // path; only an invalid one pays for collecting every error with its paths.
        if validator.is_valid(instance) {
            return Vec::new();
        }
        validator
            .iter_errors(instance)
            .map(|e| Violation {
                instance_path: e.instance_path().to_string(),
                schema_path: e.schema_path().to_string(),
                message: violation_message(&e.to_string(), || e.masked().to_string()),
            })
            .collect()
    }
}

/// The violation with the offending value when it is short; the value-free
/// wording when printing the value would flood the report (a whole object).
fn violation_message(full: &str, masked: impl FnOnce() -> String) -> String {
    if full.len() <= 240 && !full.contains('\n') {
        full.to_owned()
    } else {
        masked()
    }
}

/// Points a compile error at the `$ref` it names, when it names one.
fn schema_diagnostic(source: &Source, message: &str) -> Diagnostic {
    let needle = message
        .split('\'')
        .nth(1)
        .or_else(|| message.split('`').nth(1))
        .and_then(|s| s.rsplit('/').next())
        .filter(|s| !s.is_empty());
    let pos = needle.and_then(|n| {
        source.text.lines().enumerate().find_map(|(i, line)| {
            (line.contains("$ref") && line.contains(n))
                .then(|| Pos::new(i + 1, line.find("\"$ref\"").map_or(1, |c| c + 1)))
        })
    });
    let message = format!("schema does not compile: {message}");
    match pos {
        Some(p) => Diagnostic::at(source, p, message),
        None => Diagnostic::file(&source.path, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, v: &str) {
        fs::write(dir.join(name), v).unwrap();
    }

    #[test]
    fn refs_resolve_between_files_and_formats_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "Role.json",
            r#"{"type":"string","enum":["A","B"]}"#,
        );
        write(
            tmp.path(),
            "User.json",
            r#"{"type":"object","required":["role","at"],
               "properties":{"role":{"$ref":"Role.json"},"at":{"type":"string","format":"date-time"}}}"#,
        );
        let mut d = Diagnostics::default();
        let reg = SchemaRegistry::load("s", tmp.path(), &mut d);
        assert!(d.is_empty(), "{d}");
        assert!(
            reg.validate("User", &json!({"role":"A","at":"2022-03-29T10:22:22.420Z"}))
                .is_empty()
        );
        let v = reg.validate("User", &json!({"role":"C","at":"29/03/2022"}));
        let mut paths: Vec<_> = v.iter().map(|v| v.instance_path.as_str()).collect();
        paths.sort();
        assert_eq!(paths, ["/at", "/role"], "{v:?}");
    }

    #[test]
    fn unresolvable_ref_and_bad_json_are_load_errors() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "A.json", "{\n  \"$ref\": \"Missing.json\"\n}");
        write(tmp.path(), "B.json", "{\n  \"type\": \n}");
        let mut d = Diagnostics::default();
        let reg = SchemaRegistry::load("s", tmp.path(), &mut d);
        assert_eq!(d.0.len(), 2, "{d}");
        assert!(!reg.contains("A") && !reg.contains("B"));
        let text = d.to_string();
        assert!(text.contains("Missing.json"), "{text}");
        assert!(text.contains("B.json:3:"), "{text}");
    }
}
