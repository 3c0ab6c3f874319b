//! Negative cases: invalid request bodies derived from a request schema, each
//! named by the rule that produced it, for cases that expect a `4xx`.
//!
//! Starting from a valid body ([`super::instance`]), the rules are:
//!
//! - each required field removed (`required`);
//! - each field, and the body itself, given a JSON type its schema does not allow (`type`);
//! - each enum given a value it does not list (`enum`);
//! - strings with `minLength`/`maxLength`/`pattern`: a value just inside each bound
//!   (labelled "boundary, valid": it must be accepted) and just outside it;
//!   for a simple pattern also a value with a character it does not allow
//!   ([`super::pattern`] says which patterns are simple enough to be sure).
//!
//! Fields of nested objects and the first item of arrays are treated alike,
//! two levels down (a field's fields, an array field's items).
//! A rule that cannot be applied with certainty is skipped and listed in
//! [`Derived::skipped`]. [`check`] then validates every body against the
//! compiled schema: an invalid body must fail *at the rule's keyword*, a
//! "boundary, valid" one must pass; any other is dropped and reported, so no
//! case expects a refusal the schema does not call for.

use std::path::Path;

use serde_json::Value;

use super::instance::Schemas;
use super::rules::Deriver;
use crate::schema::SchemaRegistry;

/// One derived body.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeBody {
    /// What was done, e.g. "required field `email` removed".
    pub rule: String,
    /// The JSON Schema keyword the body must violate (`required`, `type`, `enum`,
    /// `minLength`, `maxLength`, `pattern`); for a valid body, the one it is at the edge of.
    pub keyword: &'static str,
    /// The request body.
    pub body: Value,
    /// `true` for a "boundary, valid" body: the server must accept it.
    pub valid: bool,
}

/// The bodies derived from one schema, and the rules that could not be applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// The valid body the others were derived from (`None`: none could be built).
    pub base: Option<Value>,
    /// The bodies, in schema order.
    pub bodies: Vec<NegativeBody>,
    /// Rules skipped, with why.
    pub skipped: Vec<String>,
}

/// The invalid (and boundary-valid) bodies for `schema`; `resolve` gives a
/// schema file by name (`v2Role.json`). Unchecked: see [`check`].
pub fn negative_bodies(
    schema: &Value,
    resolve: impl Fn(&str) -> Option<Value>,
) -> Vec<NegativeBody> {
    derive(schema, resolve, true).bodies
}

/// Like [`negative_bodies`], with the base body and the skipped rules;
/// `use_examples` starts from the schema's examples where it has them.
pub fn derive(
    schema: &Value,
    resolve: impl Fn(&str) -> Option<Value>,
    use_examples: bool,
) -> Derived {
    let mut schemas = Schemas::new(schema, resolve);
    schemas.use_examples = use_examples;
    let Some(base) = schemas.valid(schema) else {
        return Derived {
            skipped: vec!["no valid body could be built from the schema".to_owned()],
            ..Derived::default()
        };
    };
    let mut out = Deriver::run(&schemas, schema, &base);
    out.base = Some(base);
    let mut seen = Vec::new();
    out.bodies.retain(|b| {
        let fresh = !seen.contains(&b.body);
        seen.push(b.body.clone());
        fresh
    });
    out
}

/// Bodies checked against the compiled schema.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Schema name (file stem).
    pub schema: String,
    /// The valid starting body.
    pub base: Option<Value>,
    /// Bodies that behave as their rule says.
    pub kept: Vec<NegativeBody>,
    /// Bodies that did not, with why (an invalid one that passes, or fails for another reason).
    pub dropped: Vec<(NegativeBody, String)>,
    /// Rules skipped while deriving, and problems with the base body.
    pub skipped: Vec<String>,
}

/// Derives and checks the bodies of schema `name` of `registry` (files read from its folder).
pub fn check(registry: &SchemaRegistry, name: &str) -> Checked {
    let mut out = Checked {
        schema: name.to_owned(),
        ..Checked::default()
    };
    if !registry.contains(name) {
        out.skipped.push(format!(
            "schema `{name}` is not in the registry (it did not compile?)"
        ));
        return out;
    }
    let dir = registry.dir().to_path_buf();
    let read = move |file: &str| read_schema(&dir, file);
    let Some(root) = read(&format!("{name}.json")) else {
        out.skipped.push(format!("cannot read `{name}.json`"));
        return out;
    };
    // Examples first (realistic values); when they do not validate, synthesized values.
    let mut derived = derive(&root, &read, true);
    let base_ok = |d: &Derived| {
        d.base
            .as_ref()
            .is_some_and(|b| registry.validate(name, b).is_empty())
    };
    if !base_ok(&derived) {
        let again = derive(&root, &read, false);
        if !base_ok(&again) {
            let why = match &again.base {
                Some(b) => registry
                    .validate(name, b)
                    .iter()
                    .map(|v| format!("{} ({})", v.message, v.instance_path))
                    .collect::<Vec<_>>()
                    .join("; "),
                None => "none could be built".to_owned(),
            };
            out.skipped
                .push(format!("no valid starting body: {why}; no rule applied"));
            out.skipped.extend(again.skipped);
            return out;
        }
        derived = again;
    }
    out.base = derived.base;
    out.skipped = derived.skipped;
    for b in derived.bodies {
        let violations = registry.validate(name, &b.body);
        let verdict = if b.valid {
            (!violations.is_empty()).then(|| {
                format!(
                    "meant to be valid, but: {}",
                    violations
                        .iter()
                        .map(|v| v.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })
        } else if violations.is_empty() {
            Some("meant to be invalid, but the schema accepts it".to_owned())
        } else if !violations
            .iter()
            .any(|v| v.schema_path.ends_with(&format!("/{}", b.keyword)))
        {
            Some(format!(
                "invalid, but not at `{}`: {}",
                b.keyword,
                violations
                    .iter()
                    .map(|v| v.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        } else {
            None
        };
        match verdict {
            None => out.kept.push(b),
            Some(why) => out.dropped.push((b, why)),
        }
    }
    out
}

/// Reads `dir/file` as JSON.
pub fn read_schema(dir: &Path, file: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Diagnostics;
    use serde_json::json;

    fn registry(suite: &str) -> SchemaRegistry {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(suite);
        let mut d = Diagnostics::default();
        let reg = SchemaRegistry::load(suite, &dir, &mut d);
        assert!(d.is_empty(), "{d}");
        reg
    }

    fn rules(c: &Checked) -> Vec<String> {
        c.kept
            .iter()
            .map(|b| format!("{} => {}", b.rule, b.body))
            .collect()
    }

    #[test]
    fn shipped_request_schemas() {
        for (suite, name) in [
            ("palisade", "v2CreateUserRequest"),
            ("palisade", "v2UpdateUserStatusRequest"),
            ("ledger-enterprise", "CreateApiUserRequest"),
        ] {
            let reg = registry(suite);
            let c = check(&reg, name);
            println!(
                "== {name}\n{}\nskipped: {:?}",
                rules(&c).join("\n"),
                c.skipped
            );
            assert!(c.dropped.is_empty(), "{name}: {:?}", c.dropped);
            assert!(c.kept.len() >= 3, "{name}: {:?}", rules(&c));
        }
    }

    #[test]
    fn length_bounds_skips_and_the_safety_net() {
        let tmp = tempfile::tempdir().unwrap();
        let schema = json!({"type": "object", "required": ["code", "n"], "properties": {
            "code": {"type": "string", "minLength": 2, "maxLength": 4, "not": {"const": "aa"}},
            "word": {"type": "string", "pattern": "^(a|b)+$"},
            "n": {"type": "integer", "enum": [1, 2]},
            "any": {},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}});
        std::fs::write(tmp.path().join("T.json"), schema.to_string()).unwrap();
        let mut d = Diagnostics::default();
        let reg = SchemaRegistry::load("t", tmp.path(), &mut d);
        assert!(d.is_empty(), "{d}");
        let c = check(&reg, "T");
        let kept: Vec<&str> = c.kept.iter().map(|b| b.rule.as_str()).collect();
        for want in [
            "field `code`: minLength 2: 1 character (invalid)",
            "field `code`: maxLength 4: 4 characters (boundary, valid)",
            "field `code`: maxLength 4: 5 characters (invalid)",
            "field `n` given a value outside its enum (3)",
            "field `n` given a wrong JSON type (string instead of integer)",
        ] {
            assert!(kept.contains(&want), "no `{want}` in {kept:#?}");
        }
        // "aa" is the shortest length but the schema forbids it: the check drops it.
        let dropped: Vec<&str> = c.dropped.iter().map(|(b, _)| b.rule.as_str()).collect();
        assert_eq!(
            dropped,
            ["field `code`: minLength 2: 2 characters (boundary, valid)"],
            "{:?}",
            c.dropped
        );
        let skipped = c.skipped.join("\n");
        assert!(
            skipped.contains("field `word`: pattern `^(a|b)+$` is not handled"),
            "{skipped}"
        );
        assert!(
            skipped.contains("field `any`: no wrong-type rule"),
            "{skipped}"
        );
        assert!(
            skipped.contains("field `either`: no wrong-type rule for an `anyOf`"),
            "{skipped}"
        );
    }
}
