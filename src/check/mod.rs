//! Stage 4 — check: each expectation of a step, compiled at plan time and
//! evaluated against an [`Exchange`]. A failed check is data ([`CheckResult`]),
//! never an `Err`: the report shows what was expected and what came back.
//!
//! One check kind per file, each with `compile` and `evaluate`.

pub mod body;
pub mod header;
pub mod jsonpath;
pub mod result;
pub mod schema;
pub mod status;

pub use result::{CheckResult, PlanError};

use crate::exec::Exchange;
use crate::schema::SchemaRegistry;
use crate::template::Vars;

/// One compiled expectation. Equal checks judge every response alike, so the
/// planner shares one list of them between steps that expect the same.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `status:`
    Status(status::StatusCheck),
    /// One operator of `headers:`
    Header(header::HeaderCheck),
    /// `body:` or `body_subset:`
    Body(body::BodyCheck),
    /// One operator of `jsonpath:`
    JsonPath(jsonpath::JsonPathCheck),
    /// `schema:`
    Schema(schema::SchemaCheck),
}

impl Check {
    /// Judges one response. A failure says what was checked, expected and
    /// found; a pass may leave its label empty (only failures are reported,
    /// and this runs for every response).
    pub fn evaluate(&self, ex: &Exchange, vars: &Vars, schemas: &SchemaRegistry) -> CheckResult {
        match self {
            Check::Status(c) => c.evaluate(ex),
            Check::Header(c) => c.evaluate(ex, vars),
            Check::Body(c) => c.evaluate(ex, vars),
            Check::JsonPath(c) => c.evaluate(ex, vars),
            Check::Schema(c) => c.evaluate(ex, schemas),
        }
    }
}
