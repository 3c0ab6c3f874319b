//! `body:` (exact JSON) and `body_subset:` (the body contains this JSON).

use serde_json::Value;

use super::CheckResult;
use super::result::{not_json, short_json};
use crate::exec::Exchange;
use crate::template::{JsonTemplate, Vars};

/// A whole-body JSON expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyCheck {
    expected: JsonTemplate,
    subset: bool,
}

impl BodyCheck {
    /// The body must equal `expected`.
    pub fn exact(expected: JsonTemplate) -> Self {
        BodyCheck {
            expected,
            subset: false,
        }
    }

    /// The body must contain `expected`: every key of an object, every element of an
    /// array (same length, element by element), every scalar equal.
    pub fn subset(expected: JsonTemplate) -> Self {
        BodyCheck {
            expected,
            subset: true,
        }
    }

    /// Judges the body.
    pub fn evaluate(&self, ex: &Exchange, vars: &Vars) -> CheckResult {
        let label = if self.subset {
            "body contains"
        } else {
            "body equals"
        };
        let expected = match self.expected.render(vars) {
            Ok(v) => v,
            Err(e) => return CheckResult::fail(label, e, "(not compared)"),
        };
        let actual = match ex.response.json() {
            Ok(v) => v,
            Err(e) => return CheckResult::fail(label, short_json(&expected), not_json(ex, e)),
        };
        if self.subset {
            let mut problems = Vec::new();
            subset_problems(&expected, actual, String::new(), &mut problems);
            if problems.is_empty() {
                return CheckResult::pass(label);
            }
            let projected = project(&expected, actual);
            let mut detail = problems.join("\n");
            detail.push_str("\n\n");
            detail.push_str(&json_diff(&expected, &projected));
            CheckResult::fail(label, short_json(&expected), short_json(actual))
                .with_detail(Some(detail))
        } else if &expected == actual {
            CheckResult::pass(label)
        } else {
            CheckResult::fail(label, short_json(&expected), short_json(actual))
                .with_detail(Some(json_diff(&expected, actual)))
        }
    }
}

/// A unified diff of two JSON values, pretty-printed, `expected` first.
pub fn json_diff(expected: &Value, actual: &Value) -> String {
    let e = serde_json::to_string_pretty(expected).unwrap_or_default();
    let a = serde_json::to_string_pretty(actual).unwrap_or_default();
    similar::TextDiff::from_lines(&format!("{e}\n"), &format!("{a}\n"))
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Where `actual` does not contain `expected`, as JSON Pointer lines.
pub fn subset_problems(expected: &Value, actual: &Value, at: String, out: &mut Vec<String>) {
    let here = if at.is_empty() {
        "/".to_owned()
    } else {
        at.clone()
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match a.get(k) {
                    Some(av) => subset_problems(ev, av, path, out),
                    None => out.push(format!("{path}: missing (expected {})", short_json(ev))),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{here}: expected {} elements, got {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                subset_problems(ev, av, format!("{at}/{i}"), out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!(
            "{here}: expected {}, got {}",
            short_json(e),
            short_json(a)
        )),
    }
}

/// `actual` reduced to the keys `expected` names, so a diff shows only what matters.
fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => Value::Object(
            e.iter()
                .filter_map(|(k, ev)| a.get(k).map(|av| (k.clone(), project(ev, av))))
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            Value::Array(e.iter().zip(a).map(|(ev, av)| project(ev, av)).collect())
        }
        (_, a) => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::test_exchange;
    use serde_json::json;

    fn lit(v: Value) -> JsonTemplate {
        JsonTemplate::parse(&v).unwrap()
    }

    #[test]
    fn exact_shows_a_unified_diff() {
        let ex = test_exchange(200, &[], br#"{"a":1,"b":"x"}"#);
        let r = BodyCheck::exact(lit(json!({"a": 1, "b": "y"}))).evaluate(&ex, &Vars::new());
        let f = r.failure.unwrap();
        let d = f.detail.unwrap();
        assert!(
            d.contains("-  \"b\": \"y\"") && d.contains("+  \"b\": \"x\""),
            "{d}"
        );
        assert!(
            BodyCheck::exact(lit(json!({"b": "x", "a": 1})))
                .evaluate(&ex, &Vars::new())
                .passed()
        );
    }

    #[test]
    fn subset_allows_extra_fields_and_names_the_difference() {
        let ex = test_exchange(200, &[], br#"{"a":1,"b":{"c":[1,2],"d":true},"e":0}"#);
        assert!(
            BodyCheck::subset(lit(json!({"b": {"c": [1, 2]}})))
                .evaluate(&ex, &Vars::new())
                .passed()
        );
        let r =
            BodyCheck::subset(lit(json!({"b": {"d": false}, "z": 1}))).evaluate(&ex, &Vars::new());
        let d = r.failure.unwrap().detail.unwrap();
        assert!(d.contains("/b/d: expected false, got true"), "{d}");
        assert!(d.contains("/z: missing"), "{d}");
    }

    #[test]
    fn non_json_body_is_shown() {
        let ex = test_exchange(200, &[], b"<html>oops</html>");
        let r = BodyCheck::exact(lit(json!({}))).evaluate(&ex, &Vars::new());
        assert!(r.failure.unwrap().actual.contains("<html>oops</html>"));
    }
}
