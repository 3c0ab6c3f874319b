//! JSON Schemas of the case-file and suite-file formats, for editors with the
//! YAML language server (`# yaml-language-server: $schema=…`). `conform schema`
//! prints them; a test validates every shipped file against them and checks
//! that a broken one fails, so they stay in step with [`crate::case::model`].

/// The case-file format (`cases/<suite>/*.yaml`).
pub const CASE_SCHEMA: &str = include_str!("../schemas/conform/case-file.json");

/// The suite-file format (`cases/<suite>/suite.yaml`).
pub const SUITE_SCHEMA: &str = include_str!("../schemas/conform/suite-file.json");
