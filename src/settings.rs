//! Settings and their layers: defaults < config file (`conform.yaml` or
//! `--config PATH`) < environment (`CONFORM_*`) < flags.
//!
//! Each layer is a function from the settings so far to new settings; the
//! environment is injected as a function so tests never touch the process env.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::case::Diagnostics;
use crate::case::load::read_yaml;
use crate::case::model::S;
use crate::plan::TargetDef;

/// The config file's name, looked for in the working directory.
pub const CONFIG_FILE: &str = "conform.yaml";

/// `conform.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Default target name or URL.
    #[serde(default)]
    pub target: Option<String>,
    /// Cases at once.
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Default request timeout, seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// JUnit report path.
    #[serde(default)]
    pub junit: Option<PathBuf>,
    /// Reruns of a failed case.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Extra CA certificates (PEM), trusted besides the system roots.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// Largest response body, MB.
    #[serde(default)]
    pub max_body_mb: Option<f64>,
    /// Per-suite additions: targets by name.
    #[serde(default)]
    pub suites: IndexMap<String, SuiteConfig>,
}

/// A suite's section of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteConfig {
    /// Targets to add or move.
    #[serde(default)]
    pub targets: IndexMap<String, TargetConfig>,
}

/// A target in the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Base URL.
    pub url: S<String>,
    /// Policy; when omitted, a target the suite already knows keeps its policy.
    #[serde(default)]
    pub read_only: Option<bool>,
}

/// Where a target's URL came from, for `conform targets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The suite file.
    Suite,
    /// The config file.
    Config,
    /// An environment variable (named).
    Env(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Suite => f.write_str("suite file"),
            Origin::Config => f.write_str("config file"),
            Origin::Env(v) => write!(f, "${v}"),
        }
    }
}

/// Resolved settings for a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Target name or URL.
    pub target: String,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Cases at once.
    pub jobs: usize,
    /// Default request timeout.
    pub timeout: Duration,
    /// JUnit path.
    pub junit: PathBuf,
    /// Reruns of a failed case; one that then passes is flaky.
    pub retries: u32,
    /// Extra CA certificates.
    pub ca_certs: Vec<PathBuf>,
    /// Accept any certificate (loud warning).
    pub insecure: bool,
    /// Largest response body read.
    pub max_body_bytes: usize,
    /// Writes to read-only targets allowed.
    pub allow_writes: bool,
    /// Targets added or moved by the config file and the environment: suite → name → (target, origin).
    pub targets: TargetOverrides,
}

/// A target added or moved by settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOverride {
    /// Base URL.
    pub url: String,
    /// Policy, when given.
    pub read_only: Option<bool>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target: crate::target::MOCK.into(),
            base_url: None,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            timeout: Duration::from_secs(10),
            junit: PathBuf::from("reports/junit.xml"),
            retries: 0,
            ca_certs: Vec::new(),
            insecure: false,
            max_body_bytes: 10 * 1024 * 1024,
            allow_writes: false,
            targets: IndexMap::new(),
        }
    }
}

fn positive_secs(what: &str, v: f64) -> Result<Duration, String> {
    if v > 0.0 && v.is_finite() && v <= 86_400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!(
            "{what} must be a number of seconds between 0 and 86400, not {v}"
        ))
    }
}

fn body_bytes(what: &str, mb: f64) -> Result<usize, String> {
    if mb > 0.0 && mb.is_finite() && mb <= 4096.0 {
        Ok((mb * 1024.0 * 1024.0) as usize)
    } else {
        Err(format!(
            "{what} must be a size in MB between 0 and 4096, not {mb}"
        ))
    }
}

/// Reads the config file: `path` when given (it must exist), else `conform.yaml` if present.
pub fn read_config(path: Option<&Path>) -> Result<Option<ConfigFile>, Diagnostics> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(CONFIG_FILE), false),
    };
    if !path.exists() {
        if required {
            let mut d = Diagnostics::default();
            d.push(crate::case::Diagnostic::file(
                &path,
                "config file not found",
            ));
            return Err(d);
        }
        return Ok(None);
    }
    let mut d = Diagnostics::default();
    match read_yaml::<ConfigFile>(&path, &mut d) {
        Some((_, c)) => Ok(Some(c)),
        None => Err(d),
    }
}

impl Settings {
    /// Layer 2: the config file.
    pub fn with_config(mut self, c: ConfigFile) -> Result<Settings, String> {
        if let Some(t) = c.target {
            self.target = t;
        }
        if let Some(j) = c.jobs {
            self.jobs = j;
        }
        if let Some(t) = c.timeout {
            self.timeout = positive_secs("timeout in the config file", t)?;
        }
        if let Some(j) = c.junit {
            self.junit = j;
        }
        if let Some(r) = c.retries {
            self.retries = r;
        }
        if let Some(p) = c.ca_cert {
            self.ca_certs.push(p);
        }
        if let Some(mb) = c.max_body_mb {
            self.max_body_bytes = body_bytes("max_body_mb in the config file", mb)?;
        }
        for (suite, sc) in c.suites {
            for (name, t) in sc.targets {
                if t.url.value != crate::target::MOCK && url::Url::parse(&t.url.value).is_err() {
                    return Err(format!(
                        "config file: target `{name}` of suite `{suite}`: `{}` is not an absolute URL",
                        t.url.value
                    ));
                }
                self.targets.entry(suite.clone()).or_default().insert(
                    name,
                    (
                        TargetOverride {
                            url: t.url.value,
                            read_only: t.read_only,
                        },
                        Origin::Config,
                    ),
                );
            }
        }
        Ok(self)
    }

    /// Layer 3: `CONFORM_*` variables, and `CONFORM_TARGET_<SUITE>_<NAME>_URL` for
    /// each target of `known` (suite → target names), which moves that target.
    pub fn with_env(
        mut self,
        env: &dyn Fn(&str) -> Option<String>,
        known: &[(String, Vec<String>)],
    ) -> Result<Settings, String> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if let Some(t) = get("CONFORM_TARGET") {
            self.target = t;
        }
        if let Some(b) = get("CONFORM_BASE_URL") {
            self.base_url = Some(b);
        }
        if let Some(j) = get("CONFORM_JOBS") {
            self.jobs = j
                .trim()
                .parse()
                .map_err(|_| format!("CONFORM_JOBS must be a number, not `{j}`"))?;
        }
        if let Some(t) = get("CONFORM_TIMEOUT") {
            let v = t
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("CONFORM_TIMEOUT must be seconds, not `{t}`"))?;
            self.timeout = positive_secs("CONFORM_TIMEOUT", v)?;
        }
        if let Some(j) = get("CONFORM_JUNIT") {
            self.junit = PathBuf::from(j);
        }
        if let Some(r) = get("CONFORM_RETRIES") {
            self.retries = r
                .trim()
                .parse()
                .map_err(|_| format!("CONFORM_RETRIES must be a number, not `{r}`"))?;
        }
        if let Some(c) = get("CONFORM_CA_CERT") {
            self.ca_certs.push(PathBuf::from(c));
        }
        for (suite, names) in known {
            for name in names {
                let var = env_var_for(suite, name);
                if let Some(url) = get(&var) {
                    let entry = self.targets.entry(suite.clone()).or_default();
                    let read_only = entry.get(name).and_then(|(t, _)| t.read_only);
                    entry.insert(
                        name.clone(),
                        (TargetOverride { url, read_only }, Origin::Env(var)),
                    );
                }
            }
        }
        Ok(self)
    }

    /// The suite's targets with the settings' additions applied; a moved target keeps its
    /// policy unless the config file sets one.
    pub fn targets_for(
        &self,
        suite: &str,
        own: &IndexMap<String, TargetDef>,
    ) -> IndexMap<String, (TargetDef, Origin)> {
        merge_targets(&self.targets, suite, own)
    }
}

/// Targets added or moved by settings: suite → name → (target, origin).
pub type TargetOverrides = IndexMap<String, IndexMap<String, (TargetOverride, Origin)>>;

/// A suite's targets with `extra` applied (see [`Settings::targets_for`]).
pub fn merge_targets(
    extra: &TargetOverrides,
    suite: &str,
    own: &IndexMap<String, TargetDef>,
) -> IndexMap<String, (TargetDef, Origin)> {
    {
        let mut out: IndexMap<String, (TargetDef, Origin)> = own
            .iter()
            .map(|(k, t)| (k.clone(), (t.clone(), Origin::Suite)))
            .collect();
        if let Some(extra) = extra.get(suite) {
            for (name, (o, origin)) in extra {
                let read_only = o
                    .read_only
                    .unwrap_or_else(|| own.get(name).is_some_and(|t| t.read_only));
                out.insert(
                    name.clone(),
                    (
                        TargetDef {
                            url: o.url.clone(),
                            read_only,
                        },
                        origin.clone(),
                    ),
                );
            }
        }
        out
    }
}

/// `CONFORM_TARGET_<SUITE>_<NAME>_URL`, upper case, `-` as `_`.
pub fn env_var_for(suite: &str, target: &str) -> String {
    let up = |s: &str| s.to_ascii_uppercase().replace(['-', '.', ' '], "_");
    format!("CONFORM_TARGET_{}_{}_URL", up(suite), up(target))
}

/// Layer 2 applied to a byte budget: `--max-body-mb`.
pub fn max_body_from_mb(mb: f64) -> Result<usize, String> {
    body_bytes("--max-body-mb", mb)
}

/// Layer 4 helper: `--timeout`.
pub fn timeout_from_secs(v: f64) -> Result<Duration, String> {
    positive_secs("--timeout", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> ConfigFile {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn layers_apply_in_order_and_later_wins() {
        let s = Settings::default()
            .with_config(cfg("target: sandbox\njobs: 3\ntimeout: 4\nsuites:\n  ledger-enterprise:\n    targets:\n      sandbox: { url: 'https://ledger.example' }\n      live: { url: 'https://vault.example', read_only: true }\n"))
            .unwrap();
        assert_eq!(
            (s.target.as_str(), s.jobs, s.timeout),
            ("sandbox", 3, Duration::from_secs(4))
        );
        let env = |k: &str| match k {
            "CONFORM_JOBS" => Some("5".to_owned()),
            "CONFORM_TARGET_LEDGER_ENTERPRISE_LIVE_URL" => {
                Some("https://127.0.0.1:9443".to_owned())
            }
            _ => None,
        };
        let known = vec![(
            "ledger-enterprise".to_owned(),
            vec!["sandbox".to_owned(), "live".to_owned()],
        )];
        let s = s.with_env(&env, &known).unwrap();
        assert_eq!(s.jobs, 5);
        let t = s.targets_for("ledger-enterprise", &IndexMap::new());
        assert_eq!(
            t["sandbox"].0,
            TargetDef {
                url: "https://ledger.example".into(),
                read_only: false
            }
        );
        // Moved by the environment, it keeps the config file's read-only policy.
        assert_eq!(
            t["live"].0,
            TargetDef {
                url: "https://127.0.0.1:9443".into(),
                read_only: true
            }
        );
        assert_eq!(
            t["live"].1,
            Origin::Env("CONFORM_TARGET_LEDGER_ENTERPRISE_LIVE_URL".into())
        );
    }

    #[test]
    fn a_moved_suite_target_keeps_its_policy() {
        let s = Settings::default()
            .with_config(cfg(
                "suites:\n  palisade:\n    targets:\n      live: { url: 'http://127.0.0.1:1' }\n",
            ))
            .unwrap();
        let mut own = IndexMap::new();
        own.insert(
            "live".to_owned(),
            TargetDef {
                url: "https://api.palisade.co".into(),
                read_only: true,
            },
        );
        assert!(s.targets_for("palisade", &own)["live"].0.read_only);
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(Settings::default().with_config(cfg("timeout: -1")).is_err());
        assert!(
            Settings::default()
                .with_config(cfg("suites:\n  x:\n    targets:\n      a: { url: nope }\n"))
                .is_err()
        );
        assert!(
            Settings::default()
                .with_env(&|k| (k == "CONFORM_JOBS").then(|| "many".into()), &[])
                .is_err()
        );
        let d = serde_saphyr::from_str::<ConfigFile>("targt: x")
            .unwrap_err()
            .to_string();
        assert!(d.contains("unknown field"), "{d}");
    }
}
