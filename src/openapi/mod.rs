//! `conform import openapi`: turn an OpenAPI 3.0/3.1 description into a suite.
//!
//! [`import()`] reads the description ([`spec`]), converts each component
//! schema to a JSON Schema 2020-12 file ([`convert`]), writes a suite file,
//! the operation list for coverage and one skeleton case per operation
//! ([`emit`]), and on a re-import leaves files a user edited alone
//! ([`manifest`]), reporting what changed ([`report`]). [`examples`] checks
//! the description's own examples against the generated schemas;
//! [`negative`] derives invalid request bodies from a schema, each named by
//! the rule that produced it ([`instance`] builds the valid starting body,
//! [`pattern`] reasons about simple regexes).

mod cases;
pub mod convert;
pub mod emit;
pub mod examples;
pub mod import;
pub mod instance;
pub mod manifest;
pub mod names;
pub mod negative;
pub mod pattern;
pub mod report;
mod rules;
pub mod spec;

pub use examples::ExampleResult;
pub use import::{ImportError, ImportOptions, import, import_with};
pub use negative::{Checked, NegativeBody, negative_bodies};
pub use report::{Changes, ImportReport, NegativeResult};
