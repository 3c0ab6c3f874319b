//! Stage 5 — report: pure functions of the run's [`CaseResult`](crate::result::CaseResult)s.

pub mod human;
pub mod junit;
