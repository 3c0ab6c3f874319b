//! Import — read: an OpenAPI 3.0 or 3.1 document, as plain JSON, and the parts
//! of it the importer needs (component schemas, operations, servers, auth).
//!
//! The document is kept as a [`serde_json::Value`] rather than a typed model:
//! descriptions in the wild carry extensions and oddities a strict model would
//! reject, and the converter must see every keyword anyway.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::names::{percent_decode, unescape_token};

/// Which flavour of schema object the document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAPI 3.0.x: an extended subset of JSON Schema draft 4/5 (`nullable`, boolean `exclusiveMinimum`).
    OpenApi30,
    /// OpenAPI 3.1.x: schema objects are JSON Schema 2020-12.
    OpenApi31,
}

/// Parses a description: JSON when it looks like JSON, YAML otherwise.
///
/// YAML mapping keys that are not strings (`200:` unquoted) become strings, as
/// OpenAPI means them.
pub fn parse(text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"));
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 20_000_000,
            max_nodes: 10_000_000,
            max_depth: 256,
        },
    };
    serde_saphyr::from_str_with_options::<Loose>(text, options)
        .map(|l| l.0)
        .map_err(|e| format!("invalid YAML: {}", e.without_snippet()))
}

/// The dialect of a parsed document, from its `openapi` field.
pub fn dialect(doc: &Value) -> Result<Dialect, String> {
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") => Ok(Dialect::OpenApi30),
        Some(v) if v.starts_with("3.1") || v.starts_with("3.2") => Ok(Dialect::OpenApi31),
        Some(v) => Err(format!(
            "unsupported OpenAPI version `{v}` (3.0 and 3.1 are)"
        )),
        None if doc.get("swagger").is_some() => {
            Err("Swagger 2.0 is not supported; convert it to OpenAPI 3 first".to_owned())
        }
        None => Err("not an OpenAPI document: no `openapi` field".to_owned()),
    }
}

/// A JSON value whose map keys may be any YAML scalar.
struct Loose(Value);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor).map(Loose)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Loose(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Loose(k)) = map.next_key()? {
            let key = match k {
                Value::String(s) => s,
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            };
            let Loose(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Where a request or response schema lives.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaSource {
    /// `$ref: '#/components/schemas/<name>'`.
    Component(String),
    /// Written in place (raw, not yet converted).
    Inline(Value),
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Parameter name.
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    #[serde(rename = "in")]
    pub location: String,
    /// Whether the request must carry it.
    pub required: bool,
}

/// One operation of the description.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// HTTP method, uppercase.
    pub method: String,
    /// Path template, e.g. `/v2/vaults/{vaultId}`.
    pub path: String,
    /// `operationId`, when given.
    pub operation_id: Option<String>,
    /// `summary`, when given.
    pub summary: Option<String>,
    /// Tags, in order.
    pub tags: Vec<String>,
    /// Path-level and operation-level parameters (operation wins on a clash).
    pub params: Vec<Param>,
    /// The JSON request body's schema.
    pub request: Option<SchemaSource>,
    /// Declared response keys (`200`, `404`, `default`, `2XX`), in document order.
    pub statuses: Vec<String>,
    /// The success status: the first `2xx` code, else a `2XX` range as `2xx`.
    pub success: Option<String>,
    /// The JSON schema of the success response.
    pub response: Option<SchemaSource>,
    /// The operation declares `security: []`: it takes no credential.
    pub no_auth: bool,
}

impl Operation {
    /// `GET /v2/vaults/{vaultId}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// A name for files and cases: the `operationId`, else method and path.
    pub fn name(&self) -> String {
        match &self.operation_id {
            Some(id) if !id.trim().is_empty() => id.clone(),
            _ => {
                let path = self
                    .path
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join("_");
                format!("{}_{path}", self.method.to_ascii_lowercase())
            }
        }
    }
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Follows local `$ref`s of non-schema objects (responses, parameters, request bodies).
pub fn deref<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match r
                .strip_prefix('#')
                .and_then(|p| doc.pointer(&percent_decode(p)))
            {
                Some(t) => v = t,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

/// The name of the component a `$ref` names, when it is `#/components/schemas/<name>` exactly.
pub fn component_ref(v: &Value) -> Option<String> {
    let r = v.get("$ref")?.as_str()?;
    let rest = r.strip_prefix("#/components/schemas/")?;
    (!rest.contains('/')).then(|| unescape_token(&percent_decode(rest)))
}

/// The schema of the JSON media type of a `content` map: `application/json`,
/// else any `…json` type, else `*/*`.
fn json_schema_of(content: Option<&Value>) -> Option<&Value> {
    let content = content?.as_object()?;
    let pick = content
        .get("application/json")
        .or_else(|| {
            content
                .iter()
                .find(|(k, _)| k.contains("json"))
                .map(|(_, v)| v)
        })
        .or_else(|| content.get("*/*"))?;
    pick.get("schema")
}

fn source(schema: &Value) -> SchemaSource {
    match component_ref(schema) {
        Some(name) => SchemaSource::Component(name),
        None => SchemaSource::Inline(schema.clone()),
    }
}

/// Every operation, in document order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item = deref(doc, item);
        let shared = params_of(doc, item.get("parameters"));
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let mut params = shared.clone();
            for p in params_of(doc, op.get("parameters")) {
                params.retain(|q| !(q.name == p.name && q.location == p.location));
                params.push(p);
            }
            let request = op
                .get("requestBody")
                .map(|b| deref(doc, b))
                .and_then(|b| json_schema_of(b.get("content")))
                .map(source);
            let responses = op.get("responses").and_then(Value::as_object);
            let statuses: Vec<String> = responses
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            let success = statuses
                .iter()
                .filter(|s| s.len() == 3 && s.starts_with('2') && s.parse::<u16>().is_ok())
                .min()
                .cloned()
                .or_else(|| {
                    statuses
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case("2xx"))
                        .then(|| "2xx".to_owned())
                });
            let response = success.as_ref().and_then(|s| {
                let r = responses?
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(s))?
                    .1;
                json_schema_of(deref(doc, r).get("content")).map(source)
            });
            out.push(Operation {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                operation_id: op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                summary: op.get("summary").and_then(Value::as_str).map(str::to_owned),
                tags: op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                params,
                request,
                statuses,
                success,
                response,
                no_auth: op
                    .get("security")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty),
            });
        }
    }
    out
}

fn params_of(doc: &Value, list: Option<&Value>) -> Vec<Param> {
    list.and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| deref(doc, p))
                .filter_map(|p| {
                    let location = p.get("in")?.as_str()?.to_owned();
                    Some(Param {
                        name: p.get("name")?.as_str()?.to_owned(),
                        required: location == "path"
                            || p.get("required").and_then(Value::as_bool) == Some(true),
                        location,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A server of the description, with its variables replaced by their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Base URL.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
}

/// The servers, in order.
pub fn servers(doc: &Value) -> Vec<Server> {
    let Some(list) = doc.get("servers").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let mut url = s.get("url")?.as_str()?.to_owned();
            if let Some(vars) = s.get("variables").and_then(Value::as_object) {
                for (k, v) in vars {
                    if let Some(d) = v.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{k}}}"), d);
                    }
                }
            }
            Some(Server {
                url,
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// How requests authenticate, as far as conform can express it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// One header carrying the secret (apiKey in header, http bearer, oauth2, openIdConnect).
    Header {
        /// The scheme's name in `components.securitySchemes`.
        scheme: String,
        /// Header name.
        header: String,
        /// Text before the secret (`Bearer `).
        prefix: String,
    },
    /// A scheme conform cannot send (apiKey in a query or cookie, http basic).
    Unsupported {
        /// The scheme's name.
        scheme: String,
        /// Why.
        reason: String,
    },
}

/// The scheme the document applies globally (its first requirement), else the first declared one.
pub fn security(doc: &Value) -> Option<Security> {
    let schemes = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)?;
    let global = doc
        .get("security")
        .and_then(Value::as_array)
        .and_then(|reqs| {
            reqs.iter()
                .filter_map(Value::as_object)
                .flat_map(|r| r.keys())
                .find(|k| schemes.contains_key(*k))
        });
    let (name, scheme) = match global {
        Some(k) => (k, &schemes[k]),
        None => schemes.iter().next()?,
    };
    let scheme = deref(doc, scheme);
    let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
    let unsupported = |reason: String| Security::Unsupported {
        scheme: name.clone(),
        reason,
    };
    Some(match kind {
        "apiKey" => match scheme.get("in").and_then(Value::as_str) {
            Some("header") => Security::Header {
                scheme: name.clone(),
                header: scheme
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("Authorization")
                    .to_owned(),
                prefix: String::new(),
            },
            other => unsupported(format!(
                "apiKey in {} (conform sends the secret in a header only)",
                other.unwrap_or("an unknown place")
            )),
        },
        "http" => match scheme.get("scheme").and_then(Value::as_str) {
            Some(s) if s.eq_ignore_ascii_case("bearer") => Security::Header {
                scheme: name.clone(),
                header: "Authorization".to_owned(),
                prefix: "Bearer ".to_owned(),
            },
            other => unsupported(format!(
                "http scheme `{}` (conform sends a bearer token or a raw header)",
                other.unwrap_or("?")
            )),
        },
        "oauth2" | "openIdConnect" => Security::Header {
            scheme: name.clone(),
            header: "Authorization".to_owned(),
            prefix: "Bearer ".to_owned(),
        },
        other => unsupported(format!("security scheme type `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_with_integer_keys_parses() {
        let doc = parse("openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n        default: {description: err}\n").unwrap();
        assert_eq!(dialect(&doc), Ok(Dialect::OpenApi30));
        let ops = operations(&doc);
        assert_eq!(ops[0].statuses, ["200", "default"]);
        assert_eq!(ops[0].success.as_deref(), Some("200"));
        assert_eq!(ops[0].name(), "get_a");
    }

    #[test]
    fn component_refs() {
        assert_eq!(
            component_ref(&json!({"$ref": "#/components/schemas/a~1b"})).as_deref(),
            Some("a/b")
        );
        assert_eq!(
            component_ref(&json!({"$ref": "#/components/schemas/X/properties/y"})),
            None
        );
    }
}
