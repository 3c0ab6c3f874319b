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

    /// True when a key or value of `shape` holds a form of a secret. The
    /// answer for the last shape and secrets seen on this thread is kept
    /// (with the shape itself, so its address cannot be reused): the steps of
    /// a run mostly share one interned shape and one credential, and looking
    /// for each of three forms in every key and value of a user object took
    /// about a hundred substring searches a step.
    fn shape_leaks(&self, shape: &std::sync::Arc<crate::shape::Shape>) -> bool {
        type Last = Option<(std::sync::Arc<crate::shape::Shape>, Vec<String>, bool)>;
        thread_local! {
            static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
        }
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some((seen, forms, leaks)) = &*last
                && std::sync::Arc::ptr_eq(seen, shape)
                && *forms == self.forms
            {
                return *leaks;
            }
            let hit = |t: &str| self.forms.iter().any(|f| t.contains(f.as_str()));
            let leaks = shape
                .iter()
                .any(|(k, v)| hit(k) || v.iter().any(|x| hit(x)));
            *last = Some((shape.clone(), self.forms.clone(), leaks));
            leaks
        })
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
            let leaks = step.shape.as_ref().is_some_and(|sh| self.shape_leaks(sh));
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

    #[test]
    fn a_shape_is_judged_for_the_secrets_at_hand_even_when_it_was_the_last_seen() {
        use std::collections::BTreeSet;
        use std::sync::Arc;
        let shape = |pairs: &[(&str, &str)]| {
            Arc::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), BTreeSet::from([v.to_string()])))
                    .collect::<crate::shape::Shape>(),
            )
        };
        let leaky = shape(&[("$.token", "=sekret-1"), ("$.id", "string")]);
        let clean = shape(&[("$.id", "string")]);
        let (mut a, mut b) = (Redactor::default(), Redactor::default());
        a.add("sekret-1");
        b.add("other-22");
        for _ in 0..2 {
            assert!(a.shape_leaks(&leaky));
            assert!(a.shape_leaks(&leaky), "the kept answer");
            assert!(!b.shape_leaks(&leaky), "same shape, other secrets");
            assert!(a.shape_leaks(&leaky));
            assert!(!a.shape_leaks(&clean));
        }
        // The same content in another allocation is judged on its own.
        assert!(a.shape_leaks(&Arc::new((*leaky).clone())));
        assert!(!a.shape_leaks(&Arc::new((*clean).clone())));
    }
}
