//! The case-file and suite-file formats, as written in YAML.
//!
//! These are the raw, span-carrying shapes that serde-saphyr fills; nothing
//! here is checked beyond YAML types. [`crate::plan`] turns them into
//! compiled, ready-to-run cases and reports every semantic problem at once.
//!
//! A suite file (`cases/<suite>/suite.yaml`):
//!
//! ```yaml
//! name: palisade
//! mock: palisade                 # which embedded mock serves the `mock` target
//! schemas: ../../schemas/palisade
//! auth: { header: Authorization, prefix: "Bearer ", env: PALISADE_API_KEY }
//! targets:
//!   mock: { url: mock }
//!   sandbox: { url: "https://api.sandbox.palisade.co" }
//!   live: { url: "https://api.palisade.co", read_only: true }
//! ```
//!
//! A case file holds `cases:`, each with `steps:` and optional `cleanup:`;
//! see the README's "Case files" section for every key.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

use super::span::Pos;

/// A value with the place it was written (where it is used, for a value
/// reached through a YAML alias).
///
/// serde-saphyr fills it the way it fills its own `Spanned`: asked for the
/// `__yaml_spanned` newtype, it answers with a map of the marker, `value`,
/// `referenced` and `defined`. Only the line and column of `referenced` are
/// kept: that is all a diagnostic needs, and it is a fifth of `Spanned`'s size.
#[derive(Debug, Clone, PartialEq)]
pub struct S<T> {
    /// The value as written.
    pub value: T,
    /// Where it was written.
    pub pos: Pos,
}

/// In the parse cache a spanned value is `[line, column, value]`.
impl<T: Serialize> Serialize for S<T> {
    fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        (self.pos.line, self.pos.column, &self.value).serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for S<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use std::marker::PhantomData;
        struct Newtype<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Newtype<T> {
            type Value = S<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value with its position")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<S<T>, D::Error> {
                d.deserialize_any(Fields(PhantomData))
            }
        }
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = S<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value with its position")
            }
            /// The parse cache's form, `[line, column, value]`.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<S<T>, A::Error> {
                let missing = || de::Error::custom("a spanned value needs [line, column, value]");
                let line = seq.next_element()?.ok_or_else(missing)?;
                let column = seq.next_element()?.ok_or_else(missing)?;
                let value = seq.next_element()?.ok_or_else(missing)?;
                Ok(S {
                    value,
                    pos: Pos { line, column },
                })
            }
            /// serde-saphyr's form: the marker, `value`, `referenced`, `defined`.
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<S<T>, A::Error> {
                let mut value = None;
                let mut pos = None;
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Value => value = Some(map.next_value::<T>()?),
                        Key::Referenced => {
                            let l = map.next_value::<serde_saphyr::Location>()?;
                            pos = Some(Pos::from_location(&l));
                        }
                        // serde-saphyr's location maps cannot be skipped, only read.
                        Key::Defined => {
                            map.next_value::<serde_saphyr::Location>()?;
                        }
                        Key::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(S {
                    value: value.ok_or_else(|| de::Error::missing_field("value"))?,
                    pos: pos.unwrap_or_default(),
                })
            }
        }
        /// The keys of serde-saphyr's span map; the marker is skipped.
        enum Key {
            Value,
            Referenced,
            Defined,
            Other,
        }
        impl<'de> Deserialize<'de> for Key {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct K;
                impl Visitor<'_> for K {
                    type Value = Key;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a field of a spanned value")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                        Ok(match v {
                            "value" => Key::Value,
                            "referenced" => Key::Referenced,
                            "defined" => Key::Defined,
                            _ => Key::Other,
                        })
                    }
                }
                d.deserialize_identifier(K)
            }
        }
        d.deserialize_newtype_struct("__yaml_spanned", Newtype(PhantomData))
    }
}

/// `cases/<suite>/suite.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// The suite's name; also the first part of every case id.
    pub name: S<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Folder of the suite's JSON Schemas, relative to the suite file
    /// (default `../../schemas/<name>`).
    #[serde(default)]
    pub schemas: Option<S<String>>,
    /// The embedded mock API that serves the `mock` target (`palisade`, `ledger-enterprise`).
    #[serde(default)]
    pub mock: Option<S<String>>,
    /// Known targets by name.
    #[serde(default)]
    pub targets: IndexMap<String, TargetFile>,
    /// How requests authenticate.
    #[serde(default)]
    pub auth: Option<AuthFile>,
    /// Constants available to every case as `{{name}}`.
    #[serde(default)]
    pub variables: IndexMap<String, S<String>>,
}

/// One target of a suite.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Base URL, or `mock` for the embedded mock.
    pub url: S<String>,
    /// A read-only target never receives POST, PUT, PATCH or DELETE without `--allow-writes`.
    #[serde(default)]
    pub read_only: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A suite's auth scheme: one header whose value comes from an environment variable.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    /// Header name, e.g. `Authorization` or `X-Ledger-API-Key`.
    pub header: S<String>,
    /// Text put before the secret, e.g. `"Bearer "`.
    #[serde(default)]
    pub prefix: String,
    /// Environment variable holding the secret.
    pub env: S<String>,
    /// A token flow used instead when `env` is unset and the flow's variables are set.
    #[serde(default)]
    pub token: Option<TokenFile>,
}

/// A token flow: POST credentials to `path`, send `Authorization: Bearer <token>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    /// `oauth-client-credentials` (Palisade: clientId/clientSecret → accessToken, expiresIn)
    /// or `ledger` (api_key_id/api_key_secret → access_token, expires_in, refresh_token).
    pub flow: S<String>,
    /// Token endpoint, relative to the target's base URL.
    pub path: S<String>,
    /// Refresh endpoint (`ledger` flow).
    #[serde(default)]
    pub refresh_path: Option<S<String>>,
    /// Environment variable holding the client or key id.
    pub id_env: S<String>,
    /// Environment variable holding the client or key secret.
    pub secret_env: S<String>,
}

/// A case file: `cases/<suite>/<file>.yaml`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, run independently of each other.
    #[serde(deserialize_with = "exact_vec")]
    pub cases: Vec<CaseDef>,
}

/// One case: steps run in order, cleanup steps always run afterwards.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDef {
    /// Unique within the file.
    pub name: S<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags for `--tag`.
    #[serde(
        default,
        deserialize_with = "exact_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<S<String>>,
    /// Variables evaluated once when the case starts (may use generators and suite variables).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub variables: IndexMap<String, S<String>>,
    /// The steps, in order; a failed step skips the rest.
    #[serde(deserialize_with = "exact_vec")]
    pub steps: Vec<StepDef>,
    /// Steps that always run after `steps`, even when one failed.
    #[serde(
        default,
        deserialize_with = "exact_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cleanup: Vec<StepDef>,
}

/// One request and what its response must look like.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Shown in reports (default: the request line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    /// What to send.
    pub request: RequestDef,
    /// What must come back.
    #[serde(default)]
    pub expect: ExpectDef,
    /// Variables taken from the response for later steps.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub capture: IndexMap<String, S<CaptureDef>>,
    /// Wait this long before sending (`500ms`, `2s`): for eventually consistent servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<S<Scalar>>,
}

/// The request of a step.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    /// HTTP method.
    pub method: S<String>,
    /// Path relative to the target's base URL, with `{{var}}` templates.
    pub path: S<String>,
    /// Query parameters (templated).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, S<Scalar>>,
    /// Extra headers (templated).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, S<String>>,
    /// Inline JSON body (strings templated).
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub json: Explicit<S<Value>>,
    /// JSON body from a file, relative to the case file (strings templated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_file: Option<S<String>>,
    /// Raw body text (templated), sent as is: for malformed-JSON cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<S<String>>,
    /// The request body's schema (a name in the suite's schemas folder): with
    /// `--generate-negative`, invalid bodies derived from it are sent too, each expecting a 4xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<S<String>>,
    /// Per-step timeout: `5s`, `500ms` or a number of seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<S<Scalar>>,
    /// `default` (the suite's credential), `none` (no auth header) or `{ value: "..." }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<S<AuthMode>>,
}

/// What a step's response must satisfy.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectDef {
    /// `200`, `[200, 204]` or a class such as `4xx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<S<StatusSpec>>,
    /// Header name → expectation; Content-Type compares media types.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, S<HeaderExpect>>,
    /// The body must equal this JSON exactly.
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub body: Explicit<S<Value>>,
    /// The body must contain this JSON (extra fields allowed).
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub body_subset: Explicit<S<Value>>,
    /// JSONPath assertions.
    #[serde(
        default,
        deserialize_with = "exact_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub jsonpath: Vec<JsonPathDef>,
    /// Name of a schema in the suite's schemas folder (file stem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<S<String>>,
}

/// One JSONPath assertion; several operators may be combined.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPathDef {
    /// RFC 9535 JSONPath (templated).
    pub path: S<String>,
    /// The node equals this JSON.
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub equals: Explicit<Value>,
    /// The node differs from this JSON.
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub not_equals: Explicit<Value>,
    /// The node equals one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    /// The path matches at least one node (`true`) or none (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// The path matches no node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<bool>,
    /// The node is a string matching this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<S<String>>,
    /// JSON type: string, number, integer, boolean, array, object, null.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<S<String>>,
    /// Length of an array, string or object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// An array holding this element, or a string holding this substring.
    #[serde(default, skip_serializing_if = "Explicit::is_absent")]
    pub contains: Explicit<Value>,
    /// An RFC 3339 date-time strictly later than this one (templated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later_than: Option<S<String>>,
}

/// A list read to its exact length. serde grows a list to at least four
/// elements and a step is about a kilobyte, so without this a one-step case
/// held four steps' room and a case's raw model took 6.3 KB instead of 2.4 KB
/// (measured with mallinfo2 on workload W's file).
fn exact_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let mut v = Vec::<T>::deserialize(d)?;
    v.shrink_to_fit();
    Ok(v)
}

/// A field that distinguishes "not written" from "written as null".
#[derive(Debug, Clone, PartialEq)]
pub struct Explicit<T>(pub Option<T>);

impl<T> Explicit<T> {
    /// Not written at all.
    pub fn is_absent(&self) -> bool {
        self.0.is_none()
    }
}

/// Only a written value is serialized: the field itself is skipped otherwise.
impl<T: Serialize> Serialize for Explicit<T> {
    fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        self.0.serialize(s)
    }
}

impl<T> Default for Explicit<T> {
    fn default() -> Self {
        Explicit(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Explicit<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|v| Explicit(Some(v)))
    }
}

/// A YAML scalar taken as text (`page: 1` and `page: "1"` both give `1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub String);

impl Serialize for Scalar {
    fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One accepted status: a code or a class such as `4xx`.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusItem {
    /// An exact code.
    Code(u64),
    /// A class written as text (`2xx`), checked when the case is planned.
    Class(String),
}

/// `status:` — one code, a class, or a list of either.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusSpec(pub Vec<StatusItem>);

/// Written back as a list of codes and classes, which reads back the same.
impl Serialize for StatusSpec {
    fn serialize<Se: Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in &self.0 {
            match item {
                StatusItem::Code(c) => seq.serialize_element(c)?,
                StatusItem::Class(c) => seq.serialize_element(c)?,
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status code (200), a class (4xx) or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![StatusItem::Code(v)]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                u64::try_from(v)
                    .map(|v| StatusSpec(vec![StatusItem::Code(v)]))
                    .map_err(|_| E::custom(format!("invalid status code {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![StatusItem::Class(v.to_owned())]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut items = Vec::new();
                while let Some(one) = seq.next_element::<StatusSpec>()? {
                    items.extend(one.0);
                }
                if items.is_empty() {
                    return Err(de::Error::custom(
                        "an empty list of statuses accepts nothing",
                    ));
                }
                Ok(StatusSpec(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// A header expectation: a string (equals) or a map of operators.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct HeaderExpect {
    /// Equals (Content-Type: same media type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Matches this regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// Present (`true`) or absent (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// Absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<bool>,
}

string_or_map!(
    HeaderExpect,
    "a header value or a map of equals/matches/present/absent",
    |s| {
        HeaderExpect {
            equals: Some(s),
            ..HeaderExpect::default()
        }
    }
);

/// Where a captured variable comes from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CaptureDef {
    /// A JSONPath into the response body (a bare string means this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonpath: Option<String>,
    /// A response header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Treat the captured value as a secret (redacted in every report).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Not finding the value is fine: the variable stays unset (cleanup steps using it are skipped).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

string_or_map!(
    CaptureDef,
    "a JSONPath or a map with `jsonpath` or `header`",
    |s| {
        CaptureDef {
            jsonpath: Some(s),
            ..CaptureDef::default()
        }
    }
);

/// How a step authenticates.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AuthMode {
    /// Send this secret instead of the configured one (the suite's prefix still applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Send no auth header at all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub none: bool,
}

string_or_map!(AuthMode, "`default`, `none` or a map with `value`", |s| {
    AuthMode {
        none: s == "none",
        value: (s != "none" && s != "default").then_some(s),
    }
});
