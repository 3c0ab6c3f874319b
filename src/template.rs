//! `{{var}}` templates and the built-in generators.
//!
//! Templates are parsed when cases are planned, so a typo in a generator or a
//! variable that no earlier step captures is a load error, not a mid-run
//! surprise. Rendering happens per step, with the case's variables.
//!
//! Syntax: `{{name}}` for a variable; generators `{{uuid()}}`,
//! `{{random(8)}}` (alphanumeric, 1–64 characters), `{{unix_time()}}`,
//! `{{unix_millis()}}` and `{{now()}}` (RFC 3339 UTC with milliseconds).
//! `{{run_id}}` is unique per run. A JSON string that is exactly one
//! `{{var}}` takes the variable's JSON value (numbers stay numbers).

use rand::Rng;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Variables in scope for one case.
pub type Vars = HashMap<String, Value>;

/// A built-in generator of unique data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generator {
    /// A random UUID v4.
    Uuid,
    /// N random ASCII letters and digits.
    Random(usize),
    /// Seconds since the Unix epoch.
    UnixTime,
    /// Milliseconds since the Unix epoch.
    UnixMillis,
    /// The current time, RFC 3339 in UTC with milliseconds.
    Now,
}

/// The generators' names, for messages.
pub const GENERATORS: &[&str] = &[
    "uuid()",
    "random(N)",
    "unix_time()",
    "unix_millis()",
    "now()",
];

impl Generator {
    fn generate(&self) -> String {
        match self {
            Generator::Uuid => uuid::Uuid::new_v4().to_string(),
            Generator::Random(n) => random_alnum(*n),
            Generator::UnixTime => unix_now().as_secs().to_string(),
            Generator::UnixMillis => unix_now().as_millis().to_string(),
            Generator::Now => humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
        }
    }
}

fn unix_now() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `n` random ASCII letters and digits.
pub fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(String),
    Gen(Generator),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template that did not parse: what is wrong and the character offset where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// What is wrong.
    pub message: String,
    /// Character offset in the template text.
    pub offset: usize,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Lit(rest[..start].to_owned()));
            }
            let inner_start = start + 2;
            let Some(len) = rest[inner_start..].find("}}") else {
                return Err(TemplateError {
                    message: "unclosed `{{`: expected `}}`".into(),
                    offset: text[..consumed + start].chars().count(),
                });
            };
            let inner = rest[inner_start..inner_start + len].trim();
            // The character offset is counted only for an error: counting it for every
            // `{{` made parsing quadratic in the template's length.
            parts.push(parse_expr(inner).map_err(|message| TemplateError {
                message,
                offset: text[..consumed + start].chars().count(),
            })?);
            let next = inner_start + len + 2;
            consumed += next;
            rest = &rest[next..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_owned()));
        }
        parts.shrink_to_fit();
        Ok(Template { parts })
    }

    /// Variables this template reads.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// True when the template has no `{{…}}`.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// Renders to text; a variable that is not set is an error naming it.
    pub fn render(&self, vars: &Vars) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Gen(g) => out.push_str(&g.generate()),
                Part::Var(name) => match vars.get(name) {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(other) => out.push_str(&other.to_string()),
                    None => return Err(format!("variable `{name}` is not set")),
                },
            }
        }
        Ok(out)
    }

    /// Renders to JSON: exactly one `{{var}}` keeps the variable's JSON type.
    pub fn render_value(&self, vars: &Vars) -> Result<Value, String> {
        if let [Part::Var(name)] = self.parts.as_slice() {
            return vars
                .get(name)
                .cloned()
                .ok_or_else(|| format!("variable `{name}` is not set"));
        }
        self.render(vars).map(Value::String)
    }
}

fn parse_expr(inner: &str) -> Result<Part, String> {
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(open) = inner.find('(') {
        let name = inner[..open].trim();
        let Some(arg) = inner[open + 1..].strip_suffix(')') else {
            return Err(format!("expected `)` to close `{name}(`"));
        };
        let arg = arg.trim();
        let no_arg = |g: Generator| {
            if arg.is_empty() {
                Ok(Part::Gen(g))
            } else {
                Err(format!("`{name}()` takes no argument"))
            }
        };
        return match name {
            "uuid" => no_arg(Generator::Uuid),
            "unix_time" => no_arg(Generator::UnixTime),
            "unix_millis" => no_arg(Generator::UnixMillis),
            "now" => no_arg(Generator::Now),
            "random" => match arg.parse::<usize>() {
                Ok(n @ 1..=64) => Ok(Part::Gen(Generator::Random(n))),
                _ => Err(format!(
                    "`random(N)` takes a length from 1 to 64, not `{arg}`"
                )),
            },
            _ => Err(format!(
                "unknown generator `{name}()`; the generators are {}",
                GENERATORS.join(", ")
            )),
        };
    }
    if valid_name(inner) {
        Ok(Part::Var(inner.to_owned()))
    } else {
        Err(format!(
            "`{{{{{inner}}}}}` is not a variable name (letters, digits, `_` and `-`)"
        ))
    }
}

/// A JSON value whose strings are templates.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A value with no template in it.
    Lit(Value),
    /// A templated string.
    Str(Template),
    /// An array with templates inside.
    Array(Vec<JsonTemplate>),
    /// An object with templates inside (keys are literal).
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Parses every string in `value`; returns the first error.
    pub fn parse(value: &Value) -> Result<JsonTemplate, TemplateError> {
        Ok(match value {
            Value::String(s) => {
                let t = Template::parse(s)?;
                if t.is_literal() {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Str(t)
                }
            }
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(JsonTemplate::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| matches!(i, JsonTemplate::Lit(_))) {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Array(items)
                }
            }
            Value::Object(map) => {
                let fields = map
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::parse(v)?)))
                    .collect::<Result<Vec<_>, _>>()?;
                if fields
                    .iter()
                    .all(|(_, v)| matches!(v, JsonTemplate::Lit(_)))
                {
                    JsonTemplate::Lit(value.clone())
                } else {
                    JsonTemplate::Object(fields)
                }
            }
            other => JsonTemplate::Lit(other.clone()),
        })
    }

    /// Every variable read anywhere inside.
    pub fn vars(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            JsonTemplate::Lit(_) => {}
            JsonTemplate::Str(t) => out.extend(t.vars()),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.collect_vars(out)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.collect_vars(out)),
        }
    }

    /// Renders to a JSON value, borrowed when it is a literal (the common
    /// case of a check's expected value: no copy per response).
    pub fn render_cow(&self, vars: &Vars) -> Result<std::borrow::Cow<'_, Value>, String> {
        match self {
            JsonTemplate::Lit(v) => Ok(std::borrow::Cow::Borrowed(v)),
            _ => self.render(vars).map(std::borrow::Cow::Owned),
        }
    }

    /// Renders to a JSON value.
    pub fn render(&self, vars: &Vars) -> Result<Value, String> {
        Ok(match self {
            JsonTemplate::Lit(v) => v.clone(),
            JsonTemplate::Str(t) => t.render_value(vars)?,
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(vars))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(vars)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.insert("id".into(), json!("abc"));
        v.insert("n".into(), json!(7));
        v
    }

    #[test]
    fn renders_variables_and_literals() {
        let t = Template::parse("/v2/users/{{ id }}/info?n={{n}}").unwrap();
        assert_eq!(t.render(&vars()).unwrap(), "/v2/users/abc/info?n=7");
        assert_eq!(t.vars().collect::<Vec<_>>(), ["id", "n"]);
    }

    #[test]
    fn a_lone_variable_keeps_its_json_type() {
        let t = JsonTemplate::parse(&json!({"count": "{{n}}", "name": "x{{n}}"})).unwrap();
        assert_eq!(
            t.render(&vars()).unwrap(),
            json!({"count": 7, "name": "x7"})
        );
    }

    #[test]
    fn generators_make_fresh_values() {
        let t = Template::parse("{{random(12)}}").unwrap();
        let a = t.render(&Vars::new()).unwrap();
        let b = t.render(&Vars::new()).unwrap();
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        let u = Template::parse("{{uuid()}}")
            .unwrap()
            .render(&Vars::new())
            .unwrap();
        assert!(uuid::Uuid::parse_str(&u).is_ok());
        let now = Template::parse("{{now()}}")
            .unwrap()
            .render(&Vars::new())
            .unwrap();
        assert!(humantime::parse_rfc3339(&now).is_ok(), "{now}");
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = Template::parse("ab{{uuid").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("unclosed"));
        let e = Template::parse("x {{ rand(3) }}").unwrap_err();
        assert!(
            e.message.contains("unknown generator `rand()`"),
            "{}",
            e.message
        );
        assert!(Template::parse("{{random(0)}}").is_err());
        assert!(Template::parse("{{random(65)}}").is_err());
        assert!(Template::parse("{{a b}}").is_err());
    }

    #[test]
    fn unset_variable_is_a_render_error() {
        let t = Template::parse("{{missing}}").unwrap();
        assert_eq!(
            t.render(&Vars::new()).unwrap_err(),
            "variable `missing` is not set"
        );
    }
}
