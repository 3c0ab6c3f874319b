//! Shards: a deterministic slice of the selected cases for one CI machine.
//!
//! Every case lands in exactly one shard; the same case always lands in the
//! same shard for the same selection; a case (steps and cleanup) is never
//! split. By count (default) cases are dealt round-robin in id order; by
//! duration, a previous `summary.json` gives each case's time and cases go,
//! longest first, to the shard with the least time so far.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::plan::PlannedSuite;

/// Which shard a run is, recorded in its reports so `conform merge` can check the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// K of K/N, from 1.
    pub index: u32,
    /// N of K/N.
    pub total: u32,
    /// Fingerprint of the whole case selection.
    pub selection: String,
    /// Cases in the whole selection.
    pub cases: usize,
}

/// How shards are balanced.
#[derive(Debug, Clone, PartialEq)]
pub enum Balance {
    /// Round-robin by case count.
    Count,
    /// Greedy longest-first by the durations in a previous summary.json.
    Duration(PathBuf),
}

impl Balance {
    /// `count` or `duration:PATH`.
    pub fn parse(s: &str) -> Result<Balance, String> {
        match s.split_once(':') {
            None if s == "count" => Ok(Balance::Count),
            Some(("duration", p)) if !p.is_empty() => Ok(Balance::Duration(PathBuf::from(p))),
            _ => Err(format!(
                "--shard-by takes `count` or `duration:PATH`, not `{s}`"
            )),
        }
    }
}

/// `K/N`, or `auto` read from the CI runner's variables; returns (K, N, where it came from).
pub fn parse(
    spec: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(u32, u32, String), String> {
    let kn = |s: &str, from: &str| -> Result<(u32, u32, String), String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{from}: expected K/N such as 2/3, not `{s}`"))?;
        let k: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("{from}: `{k}` is not a shard number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{from}: `{n}` is not a shard count"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!(
                "{from}: shard {k}/{n} does not exist (K runs from 1 to N)"
            ));
        }
        Ok((k, n, from.to_owned()))
    };
    if spec != "auto" {
        return kn(spec, "--shard");
    }
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let (Some(i), Some(t)) = (get("CI_NODE_INDEX"), get("CI_NODE_TOTAL")) {
        // GitLab `parallel:` numbers nodes from 1.
        return kn(&format!("{i}/{t}"), "GitLab CI_NODE_INDEX/CI_NODE_TOTAL");
    }
    if let (Some(i), Some(t)) = (
        get("BUILDKITE_PARALLEL_JOB"),
        get("BUILDKITE_PARALLEL_JOB_COUNT"),
    ) {
        // Buildkite numbers parallel jobs from 0.
        let i: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("BUILDKITE_PARALLEL_JOB: `{i}` is not a number"))?;
        return kn(
            &format!("{}/{t}", i + 1),
            "Buildkite BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT",
        );
    }
    if let Some(v) = get("CONFORM_SHARD") {
        return kn(&v, "CONFORM_SHARD");
    }
    Err("--shard auto: none of CI_NODE_INDEX/CI_NODE_TOTAL (GitLab), BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT (Buildkite) or CONFORM_SHARD=K/N is set".into())
}

/// A stable fingerprint (FNV-1a 64) of the selected case ids, in order.
pub fn fingerprint(ids: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Which shard (0-based) each id goes to.
pub fn assign(ids: &[String], n: u32, durations: Option<&HashMap<String, f64>>) -> Vec<u32> {
    match durations {
        None => (0..ids.len()).map(|i| (i as u32) % n).collect(),
        Some(d) => {
            let mut known: Vec<f64> = ids.iter().filter_map(|id| d.get(id).copied()).collect();
            known.sort_by(|a, b| a.total_cmp(b));
            let fallback = known.get(known.len() / 2).copied().unwrap_or(1.0);
            let mut order: Vec<usize> = (0..ids.len()).collect();
            let time = |i: usize| d.get(&ids[i]).copied().unwrap_or(fallback);
            // Longest first; ties by id so the assignment is deterministic.
            order.sort_by(|&a, &b| {
                time(b)
                    .total_cmp(&time(a))
                    .then_with(|| ids[a].cmp(&ids[b]))
            });
            let mut load = vec![0.0f64; n as usize];
            let mut out = vec![0u32; ids.len()];
            for i in order {
                let (shard, _) = load
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(b.1).then_with(|| a.0.cmp(&b.0)))
                    .expect("at least one shard");
                load[shard] += time(i);
                out[i] = shard as u32;
            }
            out
        }
    }
}

/// Keeps only shard `k` of `n` of the selected cases; returns what the reports record.
pub fn apply(
    suites: &mut [PlannedSuite],
    k: u32,
    n: u32,
    durations: Option<&HashMap<String, f64>>,
) -> ShardInfo {
    let ids: Vec<String> = suites
        .iter()
        .flat_map(|s| s.cases.iter().map(|c| c.id.to_string()))
        .collect();
    let assigned = assign(&ids, n, durations);
    let mut i = 0;
    for s in suites.iter_mut() {
        s.cases.retain(|_| {
            let keep = assigned[i] == k - 1;
            i += 1;
            keep
        });
    }
    ShardInfo {
        index: k,
        total: n,
        selection: fingerprint(&ids),
        cases: ids.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s::f::case {i:03}")).collect()
    }

    #[test]
    fn every_case_in_exactly_one_shard_and_stable() {
        let ids = ids(10);
        let a = assign(&ids, 3, None);
        assert_eq!(a, assign(&ids, 3, None));
        for k in 0..3 {
            assert!(a.contains(&k));
        }
        assert_eq!(a.len(), 10);
    }

    #[test]
    fn duration_balancing_keeps_shards_even() {
        let ids = ids(12);
        let mut d = HashMap::new();
        // One slow case and many quick ones: count balancing would be lopsided.
        for (i, id) in ids.iter().enumerate() {
            d.insert(id.clone(), if i < 3 { 10.0 } else { 1.0 + (i % 4) as f64 });
        }
        let a = assign(&ids, 3, Some(&d));
        let mut load = [0.0; 3];
        for (i, s) in a.iter().enumerate() {
            load[*s as usize] += d[&ids[i]];
        }
        let (max, min) = (
            load.iter().cloned().fold(0.0, f64::max),
            load.iter().cloned().fold(f64::MAX, f64::min),
        );
        assert!(max / min <= 1.5, "{load:?}");
    }

    #[test]
    fn parses_explicit_and_auto() {
        let none = |_: &str| None;
        assert_eq!(parse("2/3", &none).unwrap().0, 2);
        assert!(
            parse("0/3", &none).is_err()
                && parse("4/3", &none).is_err()
                && parse("x", &none).is_err()
        );
        assert!(parse("auto", &none).is_err());
        let gl = |k: &str| match k {
            "CI_NODE_INDEX" => Some("3".to_owned()),
            "CI_NODE_TOTAL" => Some("3".to_owned()),
            _ => None,
        };
        assert_eq!(parse("auto", &gl).unwrap().0, 3);
        let bk = |k: &str| match k {
            "BUILDKITE_PARALLEL_JOB" => Some("0".to_owned()),
            "BUILDKITE_PARALLEL_JOB_COUNT" => Some("2".to_owned()),
            _ => None,
        };
        assert_eq!(parse("auto", &bk).unwrap().0, 1);
        let cs = |k: &str| (k == "CONFORM_SHARD").then(|| "1/4".to_owned());
        assert_eq!(parse("auto", &cs).unwrap().1, 4);
    }
}
