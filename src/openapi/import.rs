//! Import — the command: `conform import openapi SPEC --suite NAME`.
//!
//! Writes, under the project root:
//!
//! - `schemas/<suite>/<Name>.json`: one JSON Schema 2020-12 file per component
//!   schema, plus `<OperationId>Request.json`/`<OperationId>Response.json` for
//!   inline request bodies and success responses;
//! - `cases/<suite>/suite.yaml`: servers as targets, the security scheme as auth,
//!   a `todo_*` variable per parameter the skeletons need;
//! - `cases/<suite>/operations.yaml`: the operations, for spec coverage;
//! - `cases/<suite>/generated-<tag>.yaml`: one case per operation, tagged
//!   `[generated, todo]`, expecting its success status and response schema;
//! - with [`ImportOptions::generate_negative`], `cases/<suite>/generated-negative-<tag>.yaml`:
//!   the checked bodies of [`super::negative`], expecting a `4xx`;
//! - `cases/<suite>/.conform-import.json`: the [`super::manifest`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cases::{PathVars, group_of, negative_cases, request_body, skeleton, unique_names};
use super::convert::Converter;
use super::emit::{self, CaseText, SuiteText, TodoVar};
use super::examples::{self, ExampleResult};
use super::manifest::{self, Manifest, OperationPrint, Writer};
use super::names::{SchemaNames, escape_token};
use super::negative;
use super::report::{Changes, ImportReport, NegativeResult, describe_change};
use super::spec::{self, SchemaSource};
use crate::case::Diagnostics;
use crate::error::ExpectedError;
use crate::schema::SchemaRegistry;

/// What an import does beyond the schemas and skeletons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Validate the description's examples against the generated schemas.
    pub check_examples: bool,
    /// Write negative cases derived from the request schemas.
    pub generate_negative: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            check_examples: true,
            generate_negative: false,
        }
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The description could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The description.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The description is not an OpenAPI 3.0/3.1 document.
    #[error("cannot import {path}: {message}")]
    Parse {
        /// The description.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The suite name cannot name a folder and case ids.
    #[error("invalid suite name `{0}`: use letters, digits, `_` and `-`")]
    SuiteName(String),
    /// The previous import's manifest is unreadable.
    #[error("cannot read the previous import's manifest {0}; move it away to import afresh")]
    Manifest(String),
    /// Writing a file failed.
    #[error("cannot write under {path}: {source}")]
    Write {
        /// The project root.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<ImportError> for ExpectedError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Write { .. } => ExpectedError::Io(e.to_string()),
            other => ExpectedError::Usage(other.to_string()),
        }
    }
}

/// [`import_with`] with the default options (examples checked, no negative cases).
pub fn import(spec_path: &Path, suite: &str, root: &Path) -> Result<ImportReport, ImportError> {
    import_with(spec_path, suite, root, &ImportOptions::default())
}

/// Imports the description at `spec_path` as suite `suite` under the project `root`.
pub fn import_with(
    spec_path: &Path,
    suite: &str,
    root: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    if suite.is_empty()
        || !suite
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ImportError::SuiteName(suite.to_owned()));
    }
    let parse_err = |message: String| ImportError::Parse {
        path: spec_path.to_path_buf(),
        message,
    };
    let text = fs::read_to_string(spec_path).map_err(|source| ImportError::Read {
        path: spec_path.to_path_buf(),
        source,
    })?;
    let doc = spec::parse(&text).map_err(parse_err)?;
    let dialect = spec::dialect(&doc).map_err(parse_err)?;
    let info = |k: &str| {
        doc.pointer(&format!("/info/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let title = format!("{} {}", info("title"), info("version"))
        .trim()
        .to_owned();
    // Generated text names the API without its version or file name, so that a
    // re-import of the next release leaves unchanged files unchanged.
    let api = match info("title") {
        t if t.trim().is_empty() => "the API".to_owned(),
        t => t,
    };
    let openapi = doc
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or("3")
        .to_owned();
    let source_name = spec_path.file_name().map_or_else(
        || "the description".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let write_err = |source| ImportError::Write {
        path: root.to_path_buf(),
        source,
    };

    // 1. Schemas: components, then inline request and response bodies.
    let empty = serde_json::Map::new();
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut names = SchemaNames::new(components.keys().map(String::as_str));
    let ops = spec::operations(&doc);
    let mut inline: Vec<(String, Value, String)> = Vec::new(); // (stem, raw schema, where)
    let mut request_stem = Vec::new();
    let mut response_stem = Vec::new();
    for op in &ops {
        let mut stem_of = |src: &Option<SchemaSource>, suffix: &str, at: &str| match src {
            Some(SchemaSource::Component(n)) => names.stem(n).map(str::to_owned),
            Some(SchemaSource::Inline(raw)) => {
                let key = format!("{} {suffix}", op.key());
                let stem = names.claim(&key, &format!("{}{suffix}", op.name()));
                inline.push((stem.clone(), raw.clone(), at.to_owned()));
                Some(stem)
            }
            None => None,
        };
        let at = format!(
            "paths/{}/{}",
            escape_token(&op.path),
            op.method.to_ascii_lowercase()
        );
        request_stem.push(stem_of(
            &op.request,
            "Request",
            &format!("{at}/requestBody"),
        ));
        response_stem.push(stem_of(
            &op.response,
            "Response",
            &format!("{at}/responses"),
        ));
    }
    let mut conv = Converter::new(dialect, &names);
    let mut converted: Vec<(String, String, Value)> = Vec::new(); // (component name, stem, schema)
    for (name, schema) in components {
        let stem = names
            .stem(name)
            .expect("every component has a stem")
            .to_owned();
        let at = format!("components/schemas/{}", escape_token(name));
        converted.push((name.clone(), stem, conv.document(schema, name, &at)));
    }
    let mut inline_docs = Vec::new();
    for (stem, raw, at) in &inline {
        inline_docs.push((stem.clone(), conv.document(raw, stem, at)));
    }
    let mut warnings = std::mem::take(&mut conv.warnings);
    let schema_texts: BTreeMap<String, String> = converted
        .iter()
        .map(|(_, stem, v)| (stem.clone(), v))
        .chain(inline_docs.iter().map(|(s, v)| (s.clone(), v)))
        .map(|(stem, v)| (stem, pretty(v)))
        .collect();

    // 2. Compare with the last import.
    let cases_rel = format!("cases/{suite}");
    let manifest_path = root.join(&cases_rel).join(manifest::FILE_NAME);
    let old = manifest::read(&manifest_path).map_err(ImportError::Manifest)?;
    let first_import = old.files.is_empty();
    let new_schemas: BTreeMap<String, String> = schema_texts
        .iter()
        .map(|(k, v)| (k.clone(), manifest::hash(v)))
        .collect();
    let mut schema_changes = Changes::between(&old.schemas, &new_schemas, |_, _| String::new());
    for (stem, how) in &mut schema_changes.changed {
        // The last generated version is still on disk unless someone edited it.
        let rel = format!("schemas/{suite}/{stem}.json");
        let on_disk = fs::read_to_string(root.join(&rel))
            .ok()
            .filter(|t| old.files.get(&rel) == Some(&manifest::hash(t)))
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        let new = schema_texts
            .get(stem.as_str())
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        *how = match (on_disk, new) {
            (Some(old), Some(new)) => describe_change(&old, &new),
            _ => "differs (the file on disk was edited, so not compared)".to_owned(),
        };
    }
    let prints: BTreeMap<String, OperationPrint> = ops
        .iter()
        .zip(request_stem.iter().zip(&response_stem))
        .map(|(op, (req, resp))| {
            (
                op.key(),
                OperationPrint {
                    statuses: op.statuses.clone(),
                    success: op.success.clone(),
                    request: req.clone(),
                    response: resp.clone(),
                    params: op.params.clone(),
                },
            )
        })
        .collect();
    let operation_changes = Changes::between(&old.operations, &prints, |new, old| {
        new.differences(old).join("; ")
    });

    // 3. Write the schemas, then compile them (bodies and checks use what is on disk).
    let mut writer = Writer::new(root, &old);
    let schemas_rel = format!("schemas/{suite}");
    for (stem, text) in &schema_texts {
        writer
            .write(&format!("{schemas_rel}/{stem}.json"), text)
            .map_err(write_err)?;
    }
    let schemas_dir = root.join(&schemas_rel);
    let mut diags = Diagnostics::default();
    let registry = SchemaRegistry::load(suite, &schemas_dir, &mut diags);
    warnings.extend(
        diags
            .0
            .iter()
            .map(|d| format!("{}: {}", d.file.display(), d.message)),
    );

    // 4. Suite file, operations, skeleton cases.
    let mut vars: BTreeMap<String, TodoVar> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<CaseText>> = BTreeMap::new();
    let mut negative_groups: BTreeMap<String, Vec<CaseText>> = BTreeMap::new();
    let mut negative_results = Vec::new();
    let security = spec::security(&doc);
    let auth_header = match &security {
        Some(spec::Security::Header { header, .. }) => Some(header.to_ascii_lowercase()),
        _ => None,
    };
    let path_vars = PathVars::new(&ops);
    for (i, op) in ops.iter().enumerate() {
        let mut base = skeleton(op, &path_vars, &mut vars, auth_header.as_deref());
        base.schema = response_stem[i].clone().filter(|s| registry.contains(s));
        if let Some(stem) = &request_stem[i] {
            base.json = Some(request_body(&registry, &schemas_dir, stem));
        }
        let group = group_of(op);
        if options.generate_negative
            && let Some(stem) = &request_stem[i]
        {
            let checked = negative::check(&registry, stem);
            let cases = negative_cases(&base, &checked);
            negative_groups
                .entry(group.clone())
                .or_default()
                .extend(cases);
            negative_results.push(NegativeResult {
                operation: op.key(),
                checked,
            });
        }
        groups.entry(group).or_default().push(base);
    }
    let servers = spec::servers(&doc);
    let (suite_text, w) = emit::suite_yaml(&SuiteText {
        suite,
        title: &api,
        servers: &servers,
        security: security.as_ref(),
        vars: &vars,
    });
    warnings.extend(w);
    writer
        .write(&format!("{cases_rel}/suite.yaml"), &suite_text)
        .map_err(write_err)?;
    let (ops_text, w) = emit::operations_yaml(&api, &ops);
    warnings.extend(w);
    writer
        .write(
            &format!("{cases_rel}/{}", crate::coverage::FILE_NAME),
            &ops_text,
        )
        .map_err(write_err)?;
    let header = format!(
        "Generated by `conform import openapi` from the OpenAPI description of {api}.\n\
         One case per operation, tagged `todo`: give the `todo_*` variables in suite.yaml real values,\n\
         check each request body, then drop the tag. Once you edit this file, a re-import leaves it alone."
    );
    let neg_header = format!(
        "Generated by `conform import openapi --generate-negative` from the description of {api}.\n\
         Request bodies that break one rule of the request schema each (the case name says which),\n\
         expecting a 4xx; \"boundary, valid\" bodies sit just inside a bound and expect success.\n\
         Every body was checked against the schema. Fill in the `todo_*` variables first: an unknown id\n\
         also answers 4xx, for the wrong reason."
    );
    let case_files = groups.len();
    for (group, mut cases) in groups {
        unique_names(&mut cases);
        writer
            .write(
                &format!("{cases_rel}/generated-{group}.yaml"),
                &emit::case_file(&header, &cases),
            )
            .map_err(write_err)?;
    }
    for (group, mut cases) in negative_groups {
        unique_names(&mut cases);
        writer
            .write(
                &format!("{cases_rel}/generated-negative-{group}.yaml"),
                &emit::case_file(&neg_header, &cases),
            )
            .map_err(write_err)?;
    }
    writer.remove_stale().map_err(write_err)?;

    // 5. The manifest, then the examples.
    let new_manifest = Manifest {
        version: manifest::VERSION,
        source: format!("{title} ({source_name})"),
        files: writer.files.clone(),
        schemas: new_schemas,
        operations: prints,
    };
    let manifest_text =
        serde_json::to_string_pretty(&new_manifest).expect("the manifest serializes") + "\n";
    fs::write(&manifest_path, manifest_text).map_err(write_err)?;
    let examples: Vec<ExampleResult> = if options.check_examples {
        let found = examples::collect(&doc, dialect, &names, &converted);
        examples::check(&found, suite, &schemas_dir).map_err(write_err)?
    } else {
        Vec::new()
    };
    Ok(ImportReport {
        suite: suite.to_owned(),
        source: format!("{title} (OpenAPI {openapi})"),
        first_import,
        component_schemas: converted.len(),
        inline_schemas: inline_docs.len(),
        operations: ops.len(),
        case_files,
        schema_changes,
        operation_changes,
        files: writer.outcomes,
        examples,
        negative: negative_results,
        warnings,
    })
}

/// Pretty JSON with a final newline (serde_json indents with 2 spaces; key order is the description's).
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value serializes") + "\n"
}
