//! Targets: where a suite's requests go, with what credential and policy.
//!
//! A suite names its targets (`mock`, `sandbox`, `live`, …). `--target` picks
//! one by name or gives a URL; `--base-url` moves the chosen target and keeps
//! its policy. A read-only policy follows the host: a URL whose host is a
//! read-only target's host is read-only too.

use std::fmt;

use url::Url;

use crate::plan::PlannedSuite;

/// The target name that means "the embedded mock".
pub const MOCK: &str = "mock";

/// A secret whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::runner::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::runner::REDACTED)
    }
}

/// The credential a target's requests carry.
#[derive(Debug, Clone)]
pub struct ResolvedAuth {
    /// Header name.
    pub header: String,
    /// Prefix before the secret.
    pub prefix: String,
    /// The secret.
    pub secret: Secret,
    /// Where it came from, for `conform targets` and messages.
    pub source: String,
}

/// A resolved target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name (or the URL when given as one).
    pub name: String,
    /// Base URL.
    pub base_url: Url,
    /// Writes are skipped unless `--allow-writes`.
    pub read_only: bool,
    /// The credential, if the suite has an auth scheme.
    pub auth: Option<ResolvedAuth>,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    /// A target of the suite, by name.
    Named(String),
    /// A base URL.
    Url(String),
}

impl TargetChoice {
    /// `--target` text: a URL when it has `://`, a name otherwise.
    pub fn parse(s: &str) -> TargetChoice {
        if s.contains("://") {
            TargetChoice::Url(s.to_owned())
        } else {
            TargetChoice::Named(s.to_owned())
        }
    }

    /// True when this is the embedded mock (so the caller must start it).
    pub fn is_mock(&self, suite: &PlannedSuite) -> bool {
        match self {
            TargetChoice::Named(n) => suite.targets.get(n).is_some_and(|t| t.url == MOCK),
            TargetChoice::Url(_) => false,
        }
    }
}

/// Resolves the target of one suite. `mock` is the embedded mock's base URL and key
/// when the caller started one. `env` reads environment variables (injected for tests).
pub fn resolve(
    suite: &PlannedSuite,
    choice: &TargetChoice,
    base_url: Option<&str>,
    mock: Option<(&str, &str)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, String> {
    let (name, mut url_text, mut read_only, is_mock) = match choice {
        TargetChoice::Named(n) => {
            let Some(t) = suite.targets.get(n) else {
                let names: Vec<&str> = suite.targets.keys().map(String::as_str).collect();
                return Err(format!(
                    "suite `{}` has no target `{n}`; its targets are: {}",
                    suite.name,
                    names.join(", ")
                ));
            };
            if t.url == MOCK {
                let Some((url, _)) = mock else {
                    return Err(format!(
                        "suite `{}` has no embedded mock (`mock:` in its suite file)",
                        suite.name
                    ));
                };
                (n.clone(), url.to_owned(), t.read_only, true)
            } else {
                (n.clone(), t.url.clone(), t.read_only, false)
            }
        }
        TargetChoice::Url(u) => (u.clone(), u.clone(), false, false),
    };
    let moved = base_url.is_some();
    if let Some(b) = base_url {
        url_text = b.to_owned();
    }
    let base_url =
        Url::parse(&url_text).map_err(|e| format!("`{url_text}` is not a valid base URL: {e}"))?;
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(format!("`{url_text}` is not an http or https URL"));
    }
    // The guard follows the host: any target of the suite marked read-only makes its host read-only.
    let host = base_url.host_str().unwrap_or_default().to_ascii_lowercase();
    read_only |= suite.targets.values().any(|t| {
        t.read_only
            && Url::parse(&t.url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(&host)))
                .unwrap_or(false)
    });
    let auth = match &suite.auth {
        None => None,
        Some(a) if is_mock && !moved => {
            let (_, key) = mock.expect("a mock target has a mock");
            Some(ResolvedAuth {
                header: a.header.clone(),
                prefix: a.prefix.clone(),
                secret: Secret::new(key),
                source: "embedded mock key".into(),
            })
        }
        Some(a) => match env(&a.env).filter(|v| !v.is_empty()) {
            Some(v) => Some(ResolvedAuth {
                header: a.header.clone(),
                prefix: a.prefix.clone(),
                secret: Secret::new(v),
                source: format!("${}", a.env),
            }),
            None => {
                return Err(format!(
                    "suite `{}` needs a credential for target `{name}`: set the environment variable {}",
                    suite.name, a.env
                ));
            }
        },
    };
    Ok(Target {
        name,
        base_url,
        read_only,
        auth,
    })
}
