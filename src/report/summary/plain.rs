//! The record of a plain passed case, written straight from its result: the
//! bytes [`CaseRecord::of`](super::CaseRecord::of) then the pretty writer give
//! at that depth, without the record's copies of every string or serde's walk
//! through it. Most cases of a run are such cases; this was most of the time
//! `summary.json` took (W, 1,000 cases: callgrind, see issue #6's notes).
//!
//! "Plain": passed at the first attempt, every step passed with no note and
//! no kept body, and every string free of what JSON escapes (`"`, `\` and
//! control characters). Any other case goes through serde, so a case that
//! failed, or whose text needs escaping, reads exactly as it always did.

use crate::coverage::SuiteOperations;
use crate::result::{CaseResult, Outcome, StepOutcome};

/// True when JSON writes `s` as it is between its quotes.
fn plain(s: &str) -> bool {
    // Without an early exit, so it vectorises: most strings are plain.
    s.bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
}

/// Whether the record of `r` can be written here (see the module's text).
/// Strings are checked as they are written, by [`Out::string`].
fn eligible(r: &CaseResult) -> bool {
    matches!(r.outcome, Outcome::Passed)
        && r.earlier.is_empty()
        && r.steps.iter().all(|s| {
            matches!(s.outcome, StepOutcome::Passed)
                && s.notes().is_empty()
                && s.body_preview().is_none()
                && s.checks().iter().all(|c| c.failure.is_none())
        })
}

/// `,`, a new line, the indent of a case record's fields (`key!(3, "id")`,
/// three containers deep) or a step's (`key!(5, …)`) and `"key": `, as one
/// string; `key!(first 3, "id")` leaves out the comma.
macro_rules! key {
    (first 3, $k:literal) => {
        concat!("\n      \"", $k, "\": ")
    };
    (first 5, $k:literal) => {
        concat!("\n          \"", $k, "\": ")
    };
    (3, $k:literal) => {
        concat!(",", key!(first 3, $k))
    };
    (5, $k:literal) => {
        concat!(",", key!(first 5, $k))
    };
}

/// The output and whether every string so far was plain.
struct Out<'a> {
    buf: &'a mut Vec<u8>,
    plain: bool,
}

impl Out<'_> {
    /// A key with what goes before it, made by [`key!`].
    fn key(&mut self, text: &'static str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// An unsigned number, as serde_json (itoa) writes it.
    fn number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[at..]);
    }

    fn string(&mut self, s: &str) {
        self.plain &= plain(s);
        self.buf.push(b'"');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(b'"');
    }

    fn seconds(&mut self, d: std::time::Duration) {
        // serde_json's own number text (ryu; `null` if not finite).
        serde_json::to_writer(&mut *self.buf, &super::seconds(d)).expect("writing to memory");
    }

    fn close(&mut self, depth: usize, bracket: u8) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 2 * depth, b' ');
        self.buf.push(bracket);
    }
}

/// Writes the record of `r` as an element of `cases` (two containers deep)
/// and returns true, or returns false (with `buf` holding a partial record)
/// when `r` is not plain. `file` is the case file as the summary shows it.
pub(super) fn write_case(
    buf: &mut Vec<u8>,
    r: &CaseResult,
    ops: Option<&SuiteOperations>,
    file: &str,
) -> bool {
    if !eligible(r) {
        return false;
    }
    let mut o = Out { buf, plain: true };
    o.buf.push(b'{');
    o.key(key!(first 3, "id"));
    // `CaseId`'s Display (`suite::file::name`), without the formatting
    // machinery; the suite and the name are checked where they are written below.
    let id = &r.id;
    o.plain &= plain(&id.file);
    for (i, part) in [&*id.suite, &*id.file, &*id.name].into_iter().enumerate() {
        o.buf.extend_from_slice(if i == 0 { b"\"" } else { b"::" });
        o.buf.extend_from_slice(part.as_bytes());
    }
    o.buf.push(b'"');
    o.key(key!(3, "suite"));
    o.string(&id.suite);
    o.key(key!(3, "file"));
    o.string(file);
    o.key(key!(3, "name"));
    o.string(&id.name);
    o.key(key!(3, "tags"));
    o.buf.push(b'[');
    for (i, t) in r.tags.iter().enumerate() {
        if i > 0 {
            o.buf.extend_from_slice(b", ");
        }
        o.string(t);
    }
    o.buf.push(b']');
    o.key(key!(3, "target"));
    o.string(&r.target);
    o.key(key!(3, "outcome"));
    o.buf.extend_from_slice(b"\"pass\"");
    o.key(key!(3, "duration_seconds"));
    o.seconds(r.duration);
    o.key(key!(3, "attempts"));
    o.number(u64::from(r.attempts.max(1)));
    o.key(key!(3, "failures"));
    o.buf.extend_from_slice(b"[]");
    o.key(key!(3, "steps"));
    if r.steps.is_empty() {
        o.buf.extend_from_slice(b"[]");
    }
    for (i, s) in r.steps.iter().enumerate() {
        o.buf.extend_from_slice(if i == 0 { b"[" } else { b"," });
        o.close(4, b'{');
        o.key(key!(first 5, "index"));
        o.number(s.index as u64);
        o.key(key!(5, "cleanup"));
        o.buf
            .extend_from_slice(if s.cleanup { b"true" } else { b"false" });
        o.key(key!(5, "name"));
        o.string(&s.name);
        o.key(key!(5, "method"));
        o.string(&s.method);
        o.key(key!(5, "path_template"));
        o.string(&s.path_template);
        if let Some(op) = ops.and_then(|c| c.operation_for_step(s)) {
            o.key(key!(5, "operation"));
            o.string(&op.path);
        }
        if let Some(line) = &s.request_line {
            o.key(key!(5, "request"));
            o.string(line);
        }
        if let Some(status) = s.status {
            o.key(key!(5, "status"));
            o.number(u64::from(status));
        }
        o.key(key!(5, "outcome"));
        o.buf.extend_from_slice(b"\"pass\"");
        o.key(key!(5, "duration_seconds"));
        o.seconds(s.duration);
        if let Some(shape) = &s.shape {
            o.key(key!(5, "shape"));
            // The text serde would write there: shared with it through the cache.
            if super::shapes::append_text(o.buf, shape).is_err() {
                return false;
            }
        }
        o.close(4, b'}');
        if i + 1 == r.steps.len() {
            o.close(3, b']');
        }
    }
    o.close(2, b'}');
    o.plain
}

/// Every field of a case and a step record, named: a field added to either
/// breaks the build here until [`write_case`] writes it (or declines the
/// cases that have it) and the tests below cover it.
#[cfg(test)]
const _: fn(super::CaseRecord, super::StepRecord) = |case, step| {
    let super::CaseRecord {
        id: _,
        suite: _,
        file: _,
        name: _,
        tags: _,
        target: _,
        outcome: _,
        skip_reason: _,
        error: _,
        duration_seconds: _,
        attempts: _,
        earlier_attempts: _,
        failures: _,
        steps: _,
    } = case;
    let super::StepRecord {
        index: _,
        cleanup: _,
        name: _,
        method: _,
        path_template: _,
        operation: _,
        request: _,
        status: _,
        outcome: _,
        message: _,
        notes: _,
        duration_seconds: _,
        shape: _,
        body_preview: _,
    } = step;
};

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::check::CheckResult;
    use crate::coverage::{Catalog, Operation};
    use crate::report::Relative;
    use crate::report::json::pretty_at_depth;
    use crate::report::summary::{CaseRecord, shapes};
    use crate::result::{StepExtra, StepResult};

    fn step(index: usize, name: &str, shape: Option<Arc<crate::shape::Shape>>) -> StepResult {
        StepResult {
            index,
            cleanup: index > 2,
            name: name.into(),
            method: "GET".into(),
            path_template: "/a/{{id}}".into(),
            path: Some(format!("/a/{index}")),
            request_line: Some(format!("GET http://127.0.0.1:1/a/{index}")),
            shape,
            status: Some(200),
            outcome: StepOutcome::Passed,
            duration: Duration::from_micros(1500 * index as u64),
            extra: None,
        }
    }

    fn case(name: &str, tags: &[&str], steps: Vec<StepResult>) -> CaseResult {
        CaseResult {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            duration: Duration::from_micros(12_345),
            ..CaseResult::passed_for_test(name, steps)
        }
    }

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.insert(SuiteOperations {
            suite: "s".into(),
            file: "o.yaml".into(),
            operations: vec![Operation::new("GET", "/a/{id}", [200], []).unwrap()],
        });
        c
    }

    /// What serde writes for `r`'s record as an element of `cases`, and what
    /// [`write_case`] writes (`None` when it declines), with the shape cache
    /// on for both, as `summary.json` is written.
    fn both(r: &CaseResult, catalog: Option<&Catalog>) -> (String, Option<String>) {
        let paths = Relative::new();
        shapes::with_cache(|| {
            let ops = catalog.and_then(|c| c.get(&r.id.suite));
            let mut buf = Vec::new();
            let fast = write_case(&mut buf, r, ops, &paths.show(&r.file))
                .then(|| String::from_utf8(buf).unwrap());
            let record = CaseRecord::of(r, catalog, &paths);
            (pretty_at_depth(&record, 2).unwrap(), fast)
        })
    }

    #[test]
    fn a_plain_passed_case_is_written_as_serde_writes_it() {
        let shape = Arc::new(crate::shape::of(
            &serde_json::json!({"s": "ON", "l": [1, {"k": null}]}),
        ));
        let mut no_request = step(2, "second", None);
        no_request.request_line = None;
        no_request.status = None;
        for r in [
            case("no steps", &[], vec![]),
            case("one", &["smoke"], vec![step(1, "get", Some(shape.clone()))]),
            case(
                "three, ünïcode ✓",
                &["a", "b c"],
                vec![
                    step(1, "get", Some(shape.clone())),
                    no_request,
                    step(3, "cleanup", Some(shape)),
                ],
            ),
        ] {
            for cat in [None, Some(&catalog())] {
                let (serde, fast) = both(&r, cat);
                assert_eq!(fast.as_deref(), Some(serde.as_str()), "{}", r.id.name);
            }
        }
    }

    #[test]
    fn any_other_case_is_left_to_serde() {
        let plain = || case("c", &[], vec![step(1, "get", None)]);
        let mut quote = plain();
        quote.id.name = "say \"hi\"".into();
        let mut stem = plain();
        stem.id.file = "a\\b".into();
        let mut control = plain();
        control.tags = vec!["tab\there".into()];
        let mut backslash = plain();
        backslash.steps[0].path_template = "/a\\b".into();
        let mut failed = plain();
        failed.outcome = Outcome::Failed;
        failed.steps[0].outcome = StepOutcome::Failed;
        failed.steps[0].extra = Some(Box::new(StepExtra {
            body_preview: Some("{}".into()),
            checks: vec![CheckResult::fail("status", "201", "200")],
            notes: Vec::new(),
        }));
        let mut noted = plain();
        noted.steps[0].extra_mut().notes.push("waited 1s".into());
        let mut flaky = plain();
        flaky.attempts = 2;
        flaky.earlier.push(crate::result::EarlierAttempt {
            outcome: Outcome::Failed,
            message: "m".into(),
            detail: "d".into(),
            duration: Duration::from_millis(3),
        });
        for r in [quote, stem, control, backslash, failed, noted, flaky] {
            assert_eq!(both(&r, None).1, None, "{:?}", r.id.name);
        }
        assert!(both(&plain(), None).1.is_some());
    }

    #[test]
    fn numbers_read_as_rust_writes_them() {
        for n in [0, 7, 9, 10, 99, 100, 65_535, 4_294_967_295, u64::MAX] {
            let mut buf = Vec::new();
            Out {
                buf: &mut buf,
                plain: true,
            }
            .number(n);
            assert_eq!(String::from_utf8(buf).unwrap(), n.to_string());
        }
    }

    proptest! {
        /// Whatever the text and times, the fast writer either declines or
        /// writes serde's bytes; and it declines only what needs escaping.
        #[test]
        fn writes_serde_bytes_or_declines(
            name in "[ -~é\"\\\\\t\u{1}]{0,12}",
            tags in proptest::collection::vec("[a-z \"]{0,4}", 0..3),
            step_name in "[ -~\n]{0,8}",
            micros in proptest::collection::vec(0u64..5_000_000_000, 2),
            status in proptest::option::of(100u16..600),
            attempts in 0u32..3,
            with_catalog: bool,
        ) {
            let mut s = step(1, &step_name, Some(Arc::new(crate::shape::of(&serde_json::json!({"n": 1})))));
            s.status = status;
            s.duration = Duration::from_micros(micros[0]);
            let mut r = case(&name, &tags.iter().map(String::as_str).collect::<Vec<_>>(), vec![s]);
            r.duration = Duration::from_micros(micros[1]);
            r.attempts = attempts;
            let cat = catalog();
            let (serde, fast) = both(&r, with_catalog.then_some(&cat));
            let needs_escape = [name.as_str(), step_name.as_str()]
                .into_iter()
                .chain(tags.iter().map(String::as_str))
                .any(|t| !plain(t));
            match fast {
                Some(fast) => {
                    prop_assert!(!needs_escape);
                    prop_assert_eq!(fast, serde);
                }
                None => prop_assert!(needs_escape),
            }
        }
    }
}
