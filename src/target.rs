//! Targets: where a suite's requests go, with what credential and policy.
//!
//! A suite names its targets (`mock`, `sandbox`, `live`, …); a config file
//! and the environment may add or move them (see [`crate::settings`]).
//! `--target` picks one by name or gives a URL; `--base-url` moves the chosen
//! target and keeps its policy. A read-only policy follows the host: a URL
//! whose host is a read-only target's host is read-only too.

use std::sync::Arc;

use indexmap::IndexMap;
use url::Url;

use crate::auth::TokenManager;
pub use crate::auth::{Credential, ResolvedAuth, Secret};
use crate::plan::{AuthDef, PlannedSuite, TargetDef};

/// The target name that means "the embedded mock".
pub const MOCK: &str = "mock";

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
    /// `name` and `base_url` as text, shared by every case result of the suite.
    pub labels: (std::sync::Arc<str>, std::sync::Arc<str>),
    /// The mock this process started: it answers on the run's own thread(s).
    pub embedded: bool,
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
    pub fn is_mock(&self, targets: &IndexMap<String, TargetDef>) -> bool {
        match self {
            TargetChoice::Named(n) => targets.get(n).is_some_and(|t| t.url == MOCK),
            TargetChoice::Url(_) => false,
        }
    }
}

/// True when `url`'s host is the host of a read-only target.
pub fn host_is_read_only(url: &Url, targets: &IndexMap<String, TargetDef>) -> bool {
    let host = url.host_str().unwrap_or_default();
    targets.values().any(|t| {
        t.read_only
            && Url::parse(&t.url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(host)))
                .unwrap_or(false)
    })
}

/// How a suite's target will authenticate, without touching any secret: for
/// `conform targets` and for the "set this variable" message.
pub fn auth_source(auth: &AuthDef, is_mock: bool, env: &dyn Fn(&str) -> Option<String>) -> String {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if is_mock {
        return "embedded mock key".into();
    }
    if set(&auth.env) {
        return format!("${} ({})", auth.env, auth.header);
    }
    if let Some(t) = &auth.token
        && set(&t.id_env)
        && set(&t.secret_env)
    {
        return format!(
            "token flow via {} (${}, ${})",
            t.path, t.id_env, t.secret_env
        );
    }
    match &auth.token {
        Some(t) => format!(
            "missing: set ${} (or ${} and ${})",
            auth.env, t.id_env, t.secret_env
        ),
        None => format!("missing: set ${}", auth.env),
    }
}

/// Resolves the target of one suite among `targets` (the suite's, merged with
/// the settings'). `mock` is the embedded mock's base URL and key when the
/// caller started one. `env` reads environment variables (injected for tests).
pub fn resolve(
    suite: &PlannedSuite,
    targets: &IndexMap<String, TargetDef>,
    choice: &TargetChoice,
    base_url: Option<&str>,
    mock: Option<(&str, &str)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Target, String> {
    let (name, mut url_text, mut read_only, is_mock) = match choice {
        TargetChoice::Named(n) => {
            let Some(t) = targets.get(n) else {
                let names: Vec<&str> = targets.keys().map(String::as_str).collect();
                let help = crate::case::span::did_you_mean(n, names.iter().copied())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(format!(
                    "suite `{}` has no target `{n}`{help}; its targets are: {} (add one in conform.yaml)",
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
    read_only |= host_is_read_only(&base_url, targets);
    let auth = match &suite.auth {
        None => None,
        Some(a) => Some(credential(
            suite,
            a,
            &name,
            &base_url,
            if is_mock && !moved {
                mock.map(|m| m.1)
            } else {
                None
            },
            env,
        )?),
    };
    Ok(Target {
        labels: (name.as_str().into(), base_url.as_str().into()),
        name,
        base_url,
        read_only,
        auth,
        embedded: is_mock && !moved,
    })
}

fn credential(
    suite: &PlannedSuite,
    a: &AuthDef,
    target: &str,
    base_url: &Url,
    mock_key: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ResolvedAuth, String> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(key) = mock_key {
        return Ok(ResolvedAuth {
            header: a.header.clone(),
            prefix: a.prefix.clone(),
            credential: Credential::Static(Secret::new(key)),
            source: "embedded mock key".into(),
        });
    }
    if let Some(v) = get(&a.env) {
        return Ok(ResolvedAuth {
            header: a.header.clone(),
            prefix: a.prefix.clone(),
            credential: Credential::Static(Secret::new(v)),
            source: format!("${}", a.env),
        });
    }
    if let Some(t) = &a.token
        && let (Some(id), Some(secret)) = (get(&t.id_env), get(&t.secret_env))
    {
        let join = |p: &str| {
            let base = base_url.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}/{}", p.trim_start_matches('/')))
                .map_err(|e| format!("invalid token URL: {e}"))
        };
        let manager = TokenManager::new(
            t.flow,
            join(&t.path)?,
            t.refresh_path.as_deref().map(join).transpose()?,
            Secret::new(id),
            Secret::new(secret),
        );
        return Ok(ResolvedAuth {
            header: "Authorization".into(),
            prefix: "Bearer ".into(),
            credential: Credential::Token(Arc::new(manager)),
            source: format!(
                "token flow via {} (${}, ${})",
                t.path, t.id_env, t.secret_env
            ),
        });
    }
    let how = match &a.token {
        Some(t) => format!(
            "set the environment variable {} (or {} and {} for the token flow)",
            a.env, t.id_env, t.secret_env
        ),
        None => format!("set the environment variable {}", a.env),
    };
    Err(format!(
        "suite `{}` needs a credential for target `{target}`: {how}",
        suite.name
    ))
}
