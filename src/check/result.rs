//! What a check says about one response.

use crate::case::Pos;
use crate::exec::Exchange;

/// The outcome of one check: its label and, when it failed, expected and actual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// What was checked, e.g. ``jsonpath `$.status` equals``.
    pub label: String,
    /// `None` when the check passed.
    pub failure: Option<CheckFailure>,
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// What the case expected.
    pub expected: String,
    /// What came back.
    pub actual: String,
    /// A unified diff or a list of violations, when one helps.
    pub detail: Option<String>,
}

impl CheckResult {
    /// A passed check.
    pub fn pass(label: impl Into<String>) -> Self {
        CheckResult {
            label: label.into(),
            failure: None,
        }
    }

    /// A passed check, without its label: only failures are reported, so
    /// the checks run for every response do not spell out what passed.
    pub fn passed_check() -> Self {
        CheckResult {
            label: String::new(),
            failure: None,
        }
    }

    /// A failed check.
    pub fn fail(
        label: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        CheckResult {
            label: label.into(),
            failure: Some(CheckFailure {
                expected: expected.into(),
                actual: actual.into(),
                detail: None,
            }),
        }
    }

    /// Adds a detail to a failure.
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        if let Some(f) = &mut self.failure {
            f.detail = detail;
        }
        self
    }

    /// True when the check passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// A problem found while compiling a check: where, what, and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// Where in the case file.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// "did you mean …?"
    pub help: Option<String>,
}

impl PlanError {
    /// A plan error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        PlanError {
            pos,
            message: message.into(),
            help: None,
        }
    }
}

/// Bytes shown of a body that is not JSON.
pub const BODY_PREVIEW_BYTES: usize = 2048;

/// The first 2 KB of the body as text, control characters escaped, for messages.
pub fn body_preview(ex: &Exchange) -> String {
    preview_bytes(&ex.response.body)
}

/// The first 2 KB of `bytes` as text, control characters escaped.
pub fn preview_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty body)".into();
    }
    let cut = &bytes[..bytes.len().min(BODY_PREVIEW_BYTES)];
    let text = String::from_utf8_lossy(cut);
    let mut out: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect();
    if bytes.len() > BODY_PREVIEW_BYTES {
        out.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    out
}

/// "the body is not JSON" as the `actual` of a JSON check.
pub fn not_json(ex: &Exchange, err: &str) -> String {
    format!("a body that is not JSON ({err}): {}", body_preview(ex))
}

/// JSON rendered compactly, cut at 1 KB for one-line messages.
pub fn short_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 1024 {
        let mut end = 1024;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}
