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
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;
use std::fmt;

/// A value with the place it was written.
pub type S<T> = Spanned<T>;

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, run independently of each other.
    pub cases: Vec<CaseDef>,
}

/// One case: steps run in order, cleanup steps always run afterwards.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDef {
    /// Unique within the file.
    pub name: S<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags for `--tag`.
    #[serde(default)]
    pub tags: Vec<S<String>>,
    /// Variables evaluated once when the case starts (may use generators and suite variables).
    #[serde(default)]
    pub variables: IndexMap<String, S<String>>,
    /// The steps, in order; a failed step skips the rest.
    pub steps: Vec<StepDef>,
    /// Steps that always run after `steps`, even when one failed.
    #[serde(default)]
    pub cleanup: Vec<StepDef>,
}

/// One request and what its response must look like.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Shown in reports (default: the request line).
    #[serde(default)]
    pub name: Option<S<String>>,
    /// What to send.
    pub request: RequestDef,
    /// What must come back.
    #[serde(default)]
    pub expect: ExpectDef,
    /// Variables taken from the response for later steps.
    #[serde(default)]
    pub capture: IndexMap<String, S<CaptureDef>>,
    /// Wait this long before sending (`500ms`, `2s`): for eventually consistent servers.
    #[serde(default)]
    pub delay: Option<S<Scalar>>,
}

/// The request of a step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    /// HTTP method.
    pub method: S<String>,
    /// Path relative to the target's base URL, with `{{var}}` templates.
    pub path: S<String>,
    /// Query parameters (templated).
    #[serde(default)]
    pub query: IndexMap<String, S<Scalar>>,
    /// Extra headers (templated).
    #[serde(default)]
    pub headers: IndexMap<String, S<String>>,
    /// Inline JSON body (strings templated).
    #[serde(default)]
    pub json: Explicit<S<Value>>,
    /// JSON body from a file, relative to the case file (strings templated).
    #[serde(default)]
    pub json_file: Option<S<String>>,
    /// Raw body text (templated), sent as is: for malformed-JSON cases.
    #[serde(default)]
    pub body: Option<S<String>>,
    /// The request body's schema (a name in the suite's schemas folder): with
    /// `--generate-negative`, invalid bodies derived from it are sent too, each expecting a 4xx.
    #[serde(default)]
    pub schema: Option<S<String>>,
    /// Per-step timeout: `5s`, `500ms` or a number of seconds.
    #[serde(default)]
    pub timeout: Option<S<Scalar>>,
    /// `default` (the suite's credential), `none` (no auth header) or `{ value: "..." }`.
    #[serde(default)]
    pub auth: Option<S<AuthMode>>,
}

/// What a step's response must satisfy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectDef {
    /// `200`, `[200, 204]` or a class such as `4xx`.
    #[serde(default)]
    pub status: Option<S<StatusSpec>>,
    /// Header name → expectation; Content-Type compares media types.
    #[serde(default)]
    pub headers: IndexMap<String, S<HeaderExpect>>,
    /// The body must equal this JSON exactly.
    #[serde(default)]
    pub body: Explicit<S<Value>>,
    /// The body must contain this JSON (extra fields allowed).
    #[serde(default)]
    pub body_subset: Explicit<S<Value>>,
    /// JSONPath assertions.
    #[serde(default)]
    pub jsonpath: Vec<JsonPathDef>,
    /// Name of a schema in the suite's schemas folder (file stem).
    #[serde(default)]
    pub schema: Option<S<String>>,
}

/// One JSONPath assertion; several operators may be combined.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPathDef {
    /// RFC 9535 JSONPath (templated).
    pub path: S<String>,
    /// The node equals this JSON.
    #[serde(default)]
    pub equals: Explicit<Value>,
    /// The node differs from this JSON.
    #[serde(default)]
    pub not_equals: Explicit<Value>,
    /// The node equals one of these.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// The path matches at least one node (`true`) or none (`false`).
    #[serde(default)]
    pub exists: Option<bool>,
    /// The path matches no node.
    #[serde(default)]
    pub absent: Option<bool>,
    /// The node is a string matching this regex.
    #[serde(default)]
    pub matches: Option<S<String>>,
    /// JSON type: string, number, integer, boolean, array, object, null.
    #[serde(default, rename = "type")]
    pub type_: Option<S<String>>,
    /// Length of an array, string or object.
    #[serde(default)]
    pub length: Option<u64>,
    /// An array holding this element, or a string holding this substring.
    #[serde(default)]
    pub contains: Explicit<Value>,
    /// An RFC 3339 date-time strictly later than this one (templated).
    #[serde(default)]
    pub later_than: Option<S<String>>,
}

/// A field that distinguishes "not written" from "written as null".
#[derive(Debug, Clone, PartialEq)]
pub struct Explicit<T>(pub Option<T>);

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
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct HeaderExpect {
    /// Equals (Content-Type: same media type).
    #[serde(default)]
    pub equals: Option<String>,
    /// Matches this regex.
    #[serde(default)]
    pub matches: Option<String>,
    /// Present (`true`) or absent (`false`).
    #[serde(default)]
    pub present: Option<bool>,
    /// Absent.
    #[serde(default)]
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
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CaptureDef {
    /// A JSONPath into the response body (a bare string means this).
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// A response header.
    #[serde(default)]
    pub header: Option<String>,
    /// Treat the captured value as a secret (redacted in every report).
    #[serde(default)]
    pub secret: bool,
    /// Not finding the value is fine: the variable stays unset (cleanup steps using it are skipped).
    #[serde(default)]
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
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AuthMode {
    /// Send this secret instead of the configured one (the suite's prefix still applies).
    #[serde(default)]
    pub value: Option<String>,
    /// Send no auth header at all.
    #[serde(default)]
    pub none: bool,
}

string_or_map!(AuthMode, "`default`, `none` or a map with `value`", |s| {
    AuthMode {
        none: s == "none",
        value: (s != "none" && s != "default").then_some(s),
    }
});
