//! `conform run --generate-negative`: for each step that names its request
//! body's schema (`request: { schema: … }`), invalid bodies derived from that
//! schema ([`crate::openapi::negative`]) are sent in extra cases, each
//! expecting a 4xx and named after the rule that produced it. Only bodies that
//! fail the schema as written are kept, so a correct server is never blamed.
//! Each (schema, method, path) is expanded once per suite, from the first case
//! that uses it: the steps before it run as written, the step itself is sent
//! with the invalid body, and the case's cleanup still runs (captures become
//! optional, so a server that wrongly accepts the body gets its record deleted).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::case::Pos;
use crate::case::model::{StatusItem, StatusSpec};
use crate::check::Check;
use crate::check::status::StatusCheck;
use crate::plan::{BodySpec, PlannedCase, PlannedSuite};
use crate::template::JsonTemplate;

/// Adds the negative cases to every suite; returns how many were added.
pub fn expand(suites: &mut [PlannedSuite]) -> usize {
    let mut added = 0;
    for suite in suites.iter_mut() {
        let dir = suite.schemas.dir().to_path_buf();
        let mut done = BTreeSet::new();
        let mut extra = Vec::new();
        for case in &suite.cases {
            for (j, step) in case.steps.iter().enumerate() {
                let Some(schema) = &step.request_schema else {
                    continue;
                };
                if !done.insert((schema.clone(), step.method.clone(), step.path_text.clone())) {
                    continue;
                }
                for (rule, body) in bodies(&dir, schema) {
                    extra.push(negative_case(case, j, &rule, body));
                }
            }
        }
        added += extra.len();
        suite.cases.extend(extra);
    }
    added
}

/// The invalid bodies for `schema` (a file stem in `dir`), with their rules.
pub fn bodies(dir: &Path, schema: &str) -> Vec<(String, Value)> {
    let read = |name: &str| -> Option<Value> {
        let file = name.split('#').next().unwrap_or(name);
        let file = if file.ends_with(".json") {
            file.to_owned()
        } else {
            format!("{file}.json")
        };
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).ok()?).ok()
    };
    let Some(root) = read(schema) else {
        return Vec::new();
    };
    crate::openapi::negative_bodies(&root, read)
        .into_iter()
        .filter(|b| !b.valid)
        .map(|b| (b.rule, b.body))
        .collect()
}

fn negative_case(case: &PlannedCase, j: usize, rule: &str, body: Value) -> PlannedCase {
    let mut c = case.clone();
    c.id.name = format!("{} [negative: {rule}]", case.id.name);
    c.tags
        .extend(["negative".to_owned(), "generated".to_owned()]);
    c.steps.truncate(j + 1);
    let step = &mut c.steps[j];
    step.name = format!("{} with an invalid body ({rule})", step.name);
    step.body = Some(Box::new(BodySpec::Json(JsonTemplate::Lit(body))));
    let four_xx = StatusCheck::compile(
        &StatusSpec(vec![StatusItem::Class("4xx".into())]),
        Pos::default(),
    )
    .expect("4xx is a valid status class");
    step.checks = vec![Check::Status(four_xx)].into();
    for cap in &mut step.captures {
        cap.optional = true;
    }
    c
}
