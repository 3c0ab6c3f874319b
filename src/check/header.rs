//! `headers:` — equals (Content-Type by media type), matches, present, absent.

use regex::Regex;

use super::{CheckResult, PlanError};
use crate::case::Pos;
use crate::case::model::HeaderExpect;
use crate::exec::Exchange;
use crate::template::{Template, Vars};

/// One header expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderCheck {
    name: String,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    Equals(Template),
    Matches(Regex),
    Present(bool),
}

/// Regexes compare by their pattern.
impl PartialEq for Op {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Op::Equals(a), Op::Equals(b)) => a == b,
            (Op::Matches(a), Op::Matches(b)) => a.as_str() == b.as_str(),
            (Op::Present(a), Op::Present(b)) => a == b,
            _ => false,
        }
    }
}

impl HeaderCheck {
    /// Compiles one `headers:` entry into its checks (one per operator).
    pub fn compile(
        name: &str,
        spec: &HeaderExpect,
        pos: Pos,
    ) -> Result<Vec<HeaderCheck>, PlanError> {
        let mut ops = Vec::new();
        if let Some(eq) = &spec.equals {
            let t = Template::parse(eq).map_err(|e| PlanError::new(pos, e.message))?;
            ops.push(Op::Equals(t));
        }
        if let Some(re) = &spec.matches {
            let r = Regex::new(re).map_err(|e| {
                PlanError::new(
                    pos,
                    format!(
                        "invalid regex `{re}` for header `{name}`: {}",
                        super::jsonpath::regex_error(&e)
                    ),
                )
            })?;
            ops.push(Op::Matches(r));
        }
        match (spec.present, spec.absent) {
            (Some(p), Some(a)) if p == a => {
                return Err(PlanError::new(
                    pos,
                    format!("header `{name}`: `present` and `absent` contradict each other"),
                ));
            }
            (Some(p), _) => ops.push(Op::Present(p)),
            (None, Some(a)) => ops.push(Op::Present(!a)),
            (None, None) => {}
        }
        if ops.is_empty() {
            return Err(PlanError::new(
                pos,
                format!("header `{name}`: give `equals`, `matches`, `present` or `absent`"),
            ));
        }
        Ok(ops
            .into_iter()
            .map(|op| HeaderCheck {
                name: name.to_owned(),
                op,
            })
            .collect())
    }

    /// Judges the response headers.
    pub fn evaluate(&self, ex: &Exchange, vars: &Vars) -> CheckResult {
        let values: Vec<&str> = ex.response.header_all(&self.name).collect();
        let shown = if values.is_empty() {
            "(absent)".to_owned()
        } else {
            values.join(", ")
        };
        match &self.op {
            Op::Present(want) => {
                let label = format!(
                    "header `{}` {}",
                    self.name,
                    if *want { "present" } else { "absent" }
                );
                if values.is_empty() != *want {
                    CheckResult::pass(label)
                } else {
                    CheckResult::fail(label, if *want { "present" } else { "absent" }, shown)
                }
            }
            Op::Matches(re) => {
                let label = format!("header `{}` matches", self.name);
                if values.iter().any(|v| re.is_match(v)) {
                    CheckResult::pass(label)
                } else {
                    CheckResult::fail(label, format!("a value matching /{}/", re.as_str()), shown)
                }
            }
            Op::Equals(t) => {
                let label = format!("header `{}` equals", self.name);
                let want = match t.render(vars) {
                    Ok(w) => w,
                    Err(e) => return CheckResult::fail(label, e, shown),
                };
                let is_ct = self.name.eq_ignore_ascii_case("content-type");
                let ok = values.iter().any(|v| {
                    if is_ct {
                        media_type_matches(&want, v)
                    } else {
                        *v == want
                    }
                });
                if ok {
                    CheckResult::pass(label)
                } else {
                    CheckResult::fail(label, want, shown)
                }
            }
        }
    }
}

/// `application/json` matches `application/json; charset=utf-8`; parameters
/// are compared only when the expectation has some. Case-insensitive.
pub fn media_type_matches(expected: &str, actual: &str) -> bool {
    fn split(s: &str) -> (String, Vec<String>) {
        let mut parts = s.split(';');
        let mt = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut params: Vec<String> = parts
            .map(|p| p.trim().to_ascii_lowercase().replace('"', ""))
            .filter(|p| !p.is_empty())
            .collect();
        params.sort();
        (mt, params)
    }
    let (emt, eparams) = split(expected);
    let (amt, aparams) = split(actual);
    emt == amt && eparams.iter().all(|p| aparams.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::test_exchange;

    fn compile(name: &str, spec: HeaderExpect) -> Vec<HeaderCheck> {
        HeaderCheck::compile(name, &spec, Pos::default()).unwrap()
    }

    #[test]
    fn content_type_compares_media_types() {
        assert!(media_type_matches(
            "application/json",
            "Application/JSON; charset=utf-8"
        ));
        assert!(!media_type_matches("application/json", "text/plain"));
        assert!(!media_type_matches(
            "application/json",
            "application/json-seq"
        ));
        assert!(media_type_matches(
            "text/html; charset=UTF-8",
            "text/html;charset=utf-8"
        ));
        assert!(!media_type_matches("text/html; charset=utf-8", "text/html"));
    }

    #[test]
    fn equals_matches_present_absent() {
        let ex = test_exchange(
            200,
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("x-id", "abc-1"),
            ],
            b"{}",
        );
        let v = Vars::new();
        let eq = HeaderExpect {
            equals: Some("application/json".into()),
            ..Default::default()
        };
        assert!(compile("Content-Type", eq)[0].evaluate(&ex, &v).passed());
        let m = HeaderExpect {
            matches: Some("^abc-\\d$".into()),
            ..Default::default()
        };
        assert!(compile("X-Id", m)[0].evaluate(&ex, &v).passed());
        let absent = HeaderExpect {
            absent: Some(true),
            ..Default::default()
        };
        let r = compile("X-Id", absent)[0].evaluate(&ex, &v);
        assert_eq!(r.failure.unwrap().actual, "abc-1");
        let present = HeaderExpect {
            present: Some(true),
            ..Default::default()
        };
        let r = compile("Etag", present)[0].evaluate(&ex, &v);
        assert_eq!(r.failure.unwrap().actual, "(absent)");
        let wrong = HeaderExpect {
            equals: Some("text/plain".into()),
            ..Default::default()
        };
        assert!(!compile("content-type", wrong)[0].evaluate(&ex, &v).passed());
    }

    #[test]
    fn bad_regex_and_empty_spec_are_plan_errors() {
        let bad = HeaderExpect {
            matches: Some("(".into()),
            ..Default::default()
        };
        assert!(HeaderCheck::compile("X", &bad, Pos::default()).is_err());
        assert!(HeaderCheck::compile("X", &HeaderExpect::default(), Pos::default()).is_err());
    }
}
