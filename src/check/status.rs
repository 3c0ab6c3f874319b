//! `status:` — an exact code, a list, or a class such as `4xx`.

use super::{CheckResult, PlanError};
use crate::case::Pos;
use crate::case::model::{StatusItem, StatusSpec};
use crate::exec::Exchange;

/// Accepted statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCheck {
    accepted: Vec<Accept>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    Code(u16),
    Class(u16),
}

impl StatusCheck {
    /// Compiles `status:`.
    pub fn compile(spec: &StatusSpec, pos: Pos) -> Result<StatusCheck, PlanError> {
        let accepted = spec
            .0
            .iter()
            .map(|item| match item {
                StatusItem::Code(c @ 100..=599) => Ok(Accept::Code(*c as u16)),
                StatusItem::Code(c) => Err(PlanError::new(
                    pos,
                    format!("status {c} is not an HTTP status (100–599)"),
                )),
                StatusItem::Class(s) => parse_class(s).map(Accept::Class).ok_or_else(|| {
                    PlanError::new(
                        pos,
                        format!("`{s}` is not a status class: write 1xx, 2xx, 3xx, 4xx or 5xx"),
                    )
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(StatusCheck { accepted })
    }

    /// Judges the response status.
    pub fn evaluate(&self, ex: &Exchange) -> CheckResult {
        let got = ex.response.status;
        let ok = self.accepted.iter().any(|a| match a {
            Accept::Code(c) => *c == got,
            Accept::Class(k) => got / 100 == *k,
        });
        if ok {
            CheckResult::passed_check()
        } else {
            CheckResult::fail("status", self.describe(), got.to_string())
        }
    }

    fn describe(&self) -> String {
        let items: Vec<String> = self
            .accepted
            .iter()
            .map(|a| match a {
                Accept::Code(c) => c.to_string(),
                Accept::Class(k) => format!("{k}xx"),
            })
            .collect();
        match items.as_slice() {
            [one] => one.clone(),
            _ => format!("one of {}", items.join(", ")),
        }
    }
}

fn parse_class(s: &str) -> Option<u16> {
    let s = s.trim().to_ascii_lowercase();
    let digit = s.strip_suffix("xx")?;
    match digit {
        "1" | "2" | "3" | "4" | "5" => digit.parse().ok(),
        _ => s.parse::<u16>().ok().filter(|_| false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::test_exchange;

    fn check(items: Vec<StatusItem>) -> StatusCheck {
        StatusCheck::compile(&StatusSpec(items), Pos::default()).unwrap()
    }

    #[test]
    fn exact_list_and_class() {
        let ex = test_exchange(404, &[], b"");
        assert!(check(vec![StatusItem::Code(404)]).evaluate(&ex).passed());
        assert!(
            check(vec![StatusItem::Class("4xx".into())])
                .evaluate(&ex)
                .passed()
        );
        let r = check(vec![StatusItem::Code(200), StatusItem::Code(201)]).evaluate(&ex);
        let f = r.failure.unwrap();
        assert_eq!(
            (f.expected.as_str(), f.actual.as_str()),
            ("one of 200, 201", "404")
        );
        assert!(
            !check(vec![StatusItem::Class("2XX".into())])
                .evaluate(&ex)
                .passed()
        );
    }

    #[test]
    fn rejects_nonsense() {
        assert!(
            StatusCheck::compile(&StatusSpec(vec![StatusItem::Code(42)]), Pos::default()).is_err()
        );
        assert!(
            StatusCheck::compile(
                &StatusSpec(vec![StatusItem::Class("6xx".into())]),
                Pos::default()
            )
            .is_err()
        );
        assert!(
            StatusCheck::compile(
                &StatusSpec(vec![StatusItem::Class("ok".into())]),
                Pos::default()
            )
            .is_err()
        );
    }
}
