//! Import — the cases: one skeleton per operation (inputs left as `todo_*`
//! variables, a request body built from the schema and checked), and the
//! negative cases of an operation from its checked bodies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::emit::{self, CaseText, TodoVar};
use super::instance::Schemas;
use super::negative::{self, Checked};
use super::spec::Operation;
use crate::schema::SchemaRegistry;

/// The case file an operation goes to: its first tag, else its first path segment that is not a version.
pub(super) fn group_of(op: &Operation) -> String {
    let from_tag = op
        .tags
        .first()
        .map(|t| emit::slug(t))
        .filter(|s| !s.is_empty());
    from_tag
        .or_else(|| {
            op.path
                .split('/')
                .map(emit::slug)
                .find(|s| !s.is_empty() && !is_version(s))
        })
        .unwrap_or_else(|| "default".to_owned())
}

/// `v1`, `v2`, …: a path segment that says nothing about the resource.
fn is_version(s: &str) -> bool {
    s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit())
}

/// The suite variable of each path parameter: `todo_<name>`, or
/// `todo_<segment>_<name>` when the same name follows different segments
/// (`/vaults/{id}` and `/counterparties/{id}` are not the same id).
#[derive(Debug, Default)]
pub(super) struct PathVars {
    after: BTreeMap<String, BTreeSet<String>>,
}

impl PathVars {
    /// Learns which segments each parameter name follows.
    pub(super) fn new(ops: &[Operation]) -> PathVars {
        let mut after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for op in ops {
            for (prev, name) in emit::path_params(&op.path) {
                after.entry(name).or_default().insert(prev);
            }
        }
        PathVars { after }
    }

    /// The variable for parameter `name` after segment `prev`.
    pub(super) fn var(&self, prev: &str, name: &str) -> String {
        let ambiguous = self.after.get(name).is_some_and(|s| s.len() > 1);
        if ambiguous && !prev.is_empty() {
            emit::todo_var(&format!("{}_{name}", emit::slug(prev).replace('-', "_")))
        } else {
            emit::todo_var(name)
        }
    }
}

/// The skeleton case of an operation (its body and schema are added by the caller).
pub(super) fn skeleton(
    op: &Operation,
    path_vars: &PathVars,
    vars: &mut BTreeMap<String, TodoVar>,
    auth_header: Option<&str>,
) -> CaseText {
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for (prev, name) in emit::path_params(&op.path) {
        let var = path_vars.var(&prev, &name);
        let what = if var == emit::todo_var(&name) {
            format!("path parameter `{name}`")
        } else {
            format!("path parameter `{name}` after `/{prev}/`")
        };
        vars.entry(var)
            .or_insert_with(|| TodoVar { what, uses: 0 })
            .uses += 1;
    }
    for p in &op.params {
        if !p.required || p.location == "cookie" || p.location == "path" {
            continue;
        }
        if p.location == "header" && Some(p.name.to_ascii_lowercase().as_str()) == auth_header {
            continue;
        }
        let var = emit::todo_var(&p.name);
        let entry = vars.entry(var.clone()).or_insert_with(|| TodoVar {
            what: format!("{} parameter `{}`", p.location, p.name),
            uses: 0,
        });
        entry.uses += 1;
        let template = format!("{{{{{var}}}}}");
        match p.location.as_str() {
            "query" => query.push((p.name.clone(), template)),
            "header" => headers.push((p.name.clone(), template)),
            _ => {}
        }
    }
    let (status, status_note) = match &op.success {
        Some(s) => (s.clone(), None),
        None => (
            "2xx".to_owned(),
            Some("TODO: the description declares no success status".to_owned()),
        ),
    };
    CaseText {
        name: op.name(),
        description: Some(match &op.summary {
            Some(s) => format!("{s} ({})", op.key()),
            None => op.key(),
        }),
        tags: vec!["generated".to_owned(), "todo".to_owned()],
        method: op.method.clone(),
        path: emit::templated_path(&op.path, |prev, name| path_vars.var(prev, name)),
        auth_none: op.no_auth,
        query,
        headers,
        json: None,
        status,
        status_note,
        schema: None,
    }
}

/// A request body for the skeleton: from the schema's examples, else synthesized, checked.
pub(super) fn request_body(registry: &SchemaRegistry, dir: &Path, stem: &str) -> (Value, String) {
    let read = |f: &str| negative::read_schema(dir, f);
    let Some(root) = read(&format!("{stem}.json")) else {
        return (
            Value::Object(Default::default()),
            format!("TODO: write the body ({stem}.json is missing)"),
        );
    };
    for use_examples in [true, false] {
        let mut s = Schemas::new(&root, read);
        s.use_examples = use_examples;
        if let Some(v) = s.valid(&root)
            && registry.contains(stem)
            && registry.validate(stem, &v).is_empty()
        {
            let from = if use_examples {
                "the description's examples"
            } else {
                "the schema"
            };
            return (
                v,
                format!("TODO: check this body (built from {from}; it validates against {stem})"),
            );
        }
    }
    (
        Value::Object(Default::default()),
        format!("TODO: write a body valid against {stem} (none could be built)"),
    )
}

/// The negative cases of one operation.
pub(super) fn negative_cases(base: &CaseText, checked: &Checked) -> Vec<CaseText> {
    checked
        .kept
        .iter()
        .map(|b| CaseText {
            name: format!("{}: {}", base.name, b.rule),
            description: Some(format!(
                "{} with a body that breaks `{}`",
                base.description.as_deref().unwrap_or(""),
                b.keyword
            )),
            tags: vec![
                "generated".to_owned(),
                "negative".to_owned(),
                "todo".to_owned(),
            ],
            json: Some((b.body.clone(), format!("rule: {}", b.rule))),
            status: if b.valid {
                base.status.clone()
            } else {
                "4xx".to_owned()
            },
            status_note: None,
            schema: if b.valid { base.schema.clone() } else { None },
            ..base.clone()
        })
        .collect()
}

/// Case names unique within a file: a repeat gets ` (2)`, ` (3)`, …
pub(super) fn unique_names(cases: &mut [CaseText]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases {
        let n = seen.entry(c.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            c.name = format!("{} ({n})", c.name);
        }
    }
}
