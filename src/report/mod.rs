//! Stage 5 — report: pure functions of the run's [`CaseResult`](crate::result::CaseResult)s.

pub mod coverage;
pub mod drift;
pub mod exit;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;
