//! `schema: <name>` — the body validates against `schemas/<suite>/<name>.json`.

use super::CheckResult;
use super::result::not_json;
use crate::exec::Exchange;
use crate::schema::SchemaRegistry;

/// Violations listed in a failure before "and N more".
const MAX_LISTED: usize = 50;

/// A schema expectation; the name was checked against the registry at plan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaCheck {
    name: String,
}

impl SchemaCheck {
    /// A check against schema `name`.
    pub fn new(name: impl Into<String>) -> Self {
        SchemaCheck { name: name.into() }
    }

    /// Judges the body; every violation is listed with its instance path.
    pub fn evaluate(&self, ex: &Exchange, schemas: &SchemaRegistry) -> CheckResult {
        // Made only for a failure: a passed check is not reported.
        let label = || format!("schema `{}`", self.name);
        let body = match ex.response.json() {
            Ok(v) => v,
            Err(e) => {
                return CheckResult::fail(
                    label(),
                    format!("JSON valid against `{}`", self.name),
                    not_json(ex, e),
                );
            }
        };
        let violations = schemas.validate(&self.name, body);
        if violations.is_empty() {
            return CheckResult::passed_check();
        }
        let mut lines: Vec<String> = violations
            .iter()
            .take(MAX_LISTED)
            .map(|v| {
                let at = if v.instance_path.is_empty() {
                    "(root)"
                } else {
                    &v.instance_path
                };
                format!("at {at}: {} (schema {})", v.message, v.schema_path)
            })
            .collect();
        if violations.len() > MAX_LISTED {
            lines.push(format!("… and {} more", violations.len() - MAX_LISTED));
        }
        let n = violations.len();
        CheckResult::fail(
            label(),
            format!("a body valid against `{}`", self.name),
            format!("{n} violation{}", if n == 1 { "" } else { "s" }),
        )
        .with_detail(Some(lines.join("\n")))
    }
}
