//! Secrets out of every report: the credential, and values captured with
//! `secret: true`, are replaced by a fixed marker in everything a
//! [`CaseResult`] carries (request lines, expected and actual values, diffs,
//! body previews), so no reporter can leak them.

use crate::result::CaseResult;

/// Marker written in place of every secret.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not replaced: a one-letter "secret" would
/// blank out every occurrence of that letter and make reports unreadable.
const MIN_LEN: usize = 4;

/// The secrets of one case.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
    /// Every form of every secret (raw, JSON-escaped, percent-encoded), longest first.
    forms: Vec<String>,
}

impl Redactor {
    /// Adds a secret (ignored when too short to replace safely).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= MIN_LEN && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            for f in forms(secret) {
                if !self.forms.contains(&f) {
                    self.forms.push(f);
                }
            }
            // Longest first, so a secret containing another is replaced whole.
            self.forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every secret replaced, also in its percent-encoded and JSON-escaped forms.
    pub fn apply(&self, text: &str) -> String {
        self.apply_cow(text).into_owned()
    }

    /// Like [`apply`](Self::apply), allocating only when something is replaced.
    pub fn apply_cow<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(form.as_str(), REDACTED));
            }
        }
        out
    }

    /// Redacts every text of a case result in place.
    pub fn apply_to(&self, r: &mut CaseResult) {
        if self.secrets.is_empty() {
            return;
        }
        let fix = |s: &mut String| {
            if let std::borrow::Cow::Owned(new) = self.apply_cow(s) {
                *s = new;
            }
        };
        if let crate::result::Outcome::Skipped(why) = &mut r.outcome {
            fix(why);
        }
        for step in &mut r.steps {
            fix(&mut step.name);
            step.request_line.as_mut().map(fix);
            step.path.as_mut().map(fix);
            // Shapes are shared between steps: rebuild one only when a secret is in it.
            let leaks = step.shape.as_ref().is_some_and(|sh| {
                let hit = |t: &str| self.forms.iter().any(|f| t.contains(f.as_str()));
                sh.iter().any(|(k, v)| hit(k) || v.iter().any(|x| hit(x)))
            });
            if leaks && let Some(shape) = step.shape.take() {
                step.shape = Some(std::sync::Arc::new(
                    shape
                        .iter()
                        .map(|(k, v)| (self.apply(k), v.iter().map(|x| self.apply(x)).collect()))
                        .collect(),
                ));
            }
            match &mut step.outcome {
                crate::result::StepOutcome::Errored(e) | crate::result::StepOutcome::Skipped(e) => {
                    fix(e)
                }
                _ => {}
            }
            if let Some(extra) = &mut step.extra {
                extra.body_preview.as_mut().map(fix);
                extra.notes.iter_mut().for_each(fix);
                for c in &mut extra.checks {
                    fix(&mut c.label);
                    if let Some(f) = &mut c.failure {
                        fix(&mut f.expected);
                        fix(&mut f.actual);
                        f.detail.as_mut().map(fix);
                    }
                }
            }
        }
    }
}

fn forms(s: &str) -> Vec<String> {
    let mut v = vec![s.to_owned()];
    let json = serde_json::to_string(s).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    if json != s {
        v.push(json);
    }
    // The same encoding the runner gives a value in a path, so a secret in a URL is found.
    let encoded = crate::runner::encode_segment(s);
    if encoded != s {
        v.push(encoded);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_plain_encoded_and_escaped_forms() {
        let mut r = Redactor::default();
        r.add("s3cr3t/key\"x");
        r.add("ab");
        assert_eq!(r.apply("a s3cr3t/key\"x b"), "a [REDACTED] b");
        assert_eq!(r.apply("/t/s3cr3t%2Fkey%22x"), "/t/[REDACTED]");
        assert_eq!(r.apply(r#"{"k":"s3cr3t/key\"x"}"#), r#"{"k":"[REDACTED]"}"#);
        assert_eq!(r.apply("ab stays"), "ab stays");
    }
}
