//! Stage 1 — load: read suite and case files from `cases/` into the raw model.
//!
//! Every file is read and parsed even when an earlier one failed, so one run
//! shows every YAML problem at once. serde stops at the first structural
//! problem inside one file; semantic problems (regexes, JSONPaths, schema
//! names, variables) are all collected later by [`crate::plan`].

use std::fs;
use std::path::{Path, PathBuf};

use super::model::{CaseFile, SuiteFile};
use super::span::{Diagnostic, Diagnostics, Pos, Source, did_you_mean};

/// Largest case or suite file accepted, so a stray 1 GB file is an error and not a stall.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// A suite and its case files, as written.
#[derive(Debug)]
pub struct LoadedSuite {
    /// Folder holding `suite.yaml`.
    pub dir: PathBuf,
    /// The suite file's text.
    pub source: Source,
    /// The suite file.
    pub def: SuiteFile,
    /// Case files in name order.
    pub files: Vec<LoadedFile>,
}

/// One case file, found but not yet parsed: the planner parses, plans and drops
/// one file at a time, so a large suite never holds every file's raw model at once.
#[derive(Debug)]
pub struct LoadedFile {
    /// The file.
    pub path: PathBuf,
}

impl LoadedFile {
    /// Reads and parses the file; problems go to `diags`.
    pub fn parse(&self, diags: &mut Diagnostics) -> Option<(Source, CaseFile)> {
        read_yaml::<CaseFile>(&self.path, diags)
    }
}

/// A case file while it is being planned.
#[derive(Debug)]
pub struct ParsedFile {
    /// File text and path.
    pub source: Source,
    /// Its cases.
    pub def: CaseFile,
}

/// Loads every suite under `cases_dir` (each sub-folder with a `suite.yaml`).
pub fn load_dir(cases_dir: &Path) -> Result<Vec<LoadedSuite>, Diagnostics> {
    let (suites, mut diags) = load_dir_partial(cases_dir);
    if diags.is_empty() {
        Ok(suites)
    } else {
        diags.sort();
        Err(diags)
    }
}

/// Loads what can be loaded and returns it with the problems found, so the
/// planner can still report the semantic problems of the files that parsed.
pub fn load_dir_partial(cases_dir: &Path) -> (Vec<LoadedSuite>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut suites = Vec::new();
    let entries = match sorted_entries(cases_dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(Diagnostic::file(
                cases_dir,
                format!("cannot read the cases folder: {e}"),
            ));
            return (suites, diags);
        }
    };
    for dir in entries.into_iter().filter(|p| p.is_dir()) {
        let suite_path = dir.join("suite.yaml");
        if !suite_path.is_file() {
            continue;
        }
        if let Some(suite) = load_suite(&dir, &mut diags) {
            suites.push(suite);
        }
    }
    if suites.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::file(
            cases_dir,
            "no suite found: expected `<suite>/suite.yaml` folders here",
        ));
    }
    (suites, diags)
}

/// Loads one suite folder; problems go to `diags`.
pub fn load_suite(dir: &Path, diags: &mut Diagnostics) -> Option<LoadedSuite> {
    let suite_file = dir.join("suite.yaml");
    let suite = read_yaml::<SuiteFile>(&suite_file, diags);
    let mut files = Vec::new();
    match sorted_entries(dir) {
        Ok(entries) => {
            for path in entries {
                let is_yaml = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                );
                // suite.yaml and the suite's declared operations (crate::coverage) are not case files.
                let reserved = ["suite.yaml", crate::coverage::FILE_NAME]
                    .iter()
                    .any(|n| path.file_name() == Some(n.as_ref()));
                if !is_yaml || reserved || !path.is_file() {
                    continue;
                }
                files.push(LoadedFile { path });
            }
        }
        Err(e) => diags.push(Diagnostic::file(dir, format!("cannot read folder: {e}"))),
    }
    let (source, def) = suite?;
    Some(LoadedSuite {
        dir: dir.to_path_buf(),
        source,
        def,
        files,
    })
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// Reads and parses one YAML file; on failure records a diagnostic and returns `None`.
pub fn read_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    diags: &mut Diagnostics,
) -> Option<(Source, T)> {
    match fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            diags.push(Diagnostic::file(
                path,
                format!(
                    "file is {} bytes; case and suite files are limited to {MAX_FILE_BYTES}",
                    m.len()
                ),
            ));
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::file(path, format!("cannot read file: {e}")));
            return None;
        }
        Ok(_) => {}
    }
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::file(path, format!("cannot read file: {e}")));
            return None;
        }
    };
    let source = Source::new(path, text);
    match parse_yaml::<T>(&source) {
        Ok(v) => Some((source, v)),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// Parses YAML text into `T`, turning a serde-saphyr error into a diagnostic.
// A diagnostic is the cold path, built once per file that fails: its size does not matter.
#[allow(clippy::result_large_err)]
pub fn parse_yaml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<T>(&source.text, options).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos::from_location(&l))
            .unwrap_or_default();
        let message = clean_message(&e.without_snippet().to_string());
        let help = unknown_field_help(&message);
        Diagnostic::at(source, pos, message).with_help_opt(help)
    })
}

/// serde-saphyr appends " at line L column C"; the diagnostic shows the position itself.
fn clean_message(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    let cut = first
        .rfind(" at line ")
        .filter(|i| first[*i..].contains("column"))
        .map_or(first, |i| &first[..i]);
    let cut = cut.strip_prefix("error: ").unwrap_or(cut);
    budget_message(cut).unwrap_or_else(|| cut.to_owned())
}

/// serde-saphyr's safety limits speak Rust (`budget breached: Depth { depth: 65 }`);
/// this says which limit the file hit and what to do about it.
fn budget_message(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("budget breached: ")?;
    let (kind, fields) = rest.split_once(' ').unwrap_or((rest, ""));
    // The first number in `{ field: N, … }`.
    let n = fields
        .split(|c: char| !c.is_ascii_digit())
        .find(|t| !t.is_empty())
        .unwrap_or("?");
    let text = match kind {
        "Depth" => format!(
            "the YAML nests {n} levels deep, past the limit of {} levels; flatten the body or split it",
            n.parse::<usize>().map_or(64, |d| d.saturating_sub(1))
        ),
        "Nodes" => format!(
            "the file has more than {n} YAML nodes, past the per-file limit (about 15,000 generated cases); split it into several case files"
        ),
        "Events" => format!(
            "the file produced {n} YAML parser events, past the per-file limit; split it into several case files"
        ),
        "Aliases" | "AliasAnchorRatio" | "RecordedAnchorEvents" | "RecordedAnchorBytes" => format!(
            "the file replays aliases (`*name`) too often ({n} uses), past the limit that stops alias bombs; write the values out or use fewer aliases"
        ),
        "Anchors" => format!("the file defines {n} anchors (`&name`), past the per-file limit"),
        "MergeKeys" => format!("the file uses {n} merge keys (`<<`), past the per-file limit"),
        "ScalarBytes" | "InputBytes" => format!(
            "the file holds {n} bytes of text, past the per-file limit; split it into several case files"
        ),
        "Documents" => format!(
            "the file holds {n} YAML documents (`---`), past the limit; a case file is one document"
        ),
        _ => format!("the YAML breaks a safety limit of the parser ({rest})"),
    };
    Some(text)
}

/// "unknown field `x`, expected one of `a`, `b`" → "did you mean `a`?" when close.
fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (word, rest) = rest.split_once('`')?;
    let list = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))?
        .1;
    let candidates: Vec<&str> = list
        .split(',')
        .map(|c| c.trim().trim_matches('`'))
        .filter(|c| !c.is_empty())
        .collect();
    did_you_mean(word, candidates.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_breaches_are_said_in_words() {
        let depth = clean_message("budget breached: Depth { depth: 65 } at line 4 column 108");
        assert_eq!(
            depth,
            "the YAML nests 65 levels deep, past the limit of 64 levels; flatten the body or split it"
        );
        assert!(
            clean_message("budget breached: Nodes { nodes: 250001 }").contains("250001 YAML nodes")
        );
        assert!(
            clean_message("budget breached: AliasAnchorRatio { aliases: 500, anchors: 2 }")
                .contains("aliases (`*name`) too often (500 uses)")
        );
        assert!(clean_message("budget breached: SequenceUnbalanced").contains("safety limit"));
        assert_eq!(clean_message("unknown field `x`"), "unknown field `x`");
    }

    #[test]
    fn unknown_key_names_the_place_and_suggests() {
        let src = Source::new(
            "c.yaml",
            "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: / }\n        expct: {}\n",
        );
        let d = parse_yaml::<CaseFile>(&src).unwrap_err();
        assert_eq!((d.pos.line, d.pos.column), (5, 9), "{d}");
        assert!(d.message.contains("unknown field `expct`"), "{d}");
        assert_eq!(d.help.as_deref(), Some("did you mean `expect`?"), "{d:?}");
    }

    #[test]
    fn wrong_type_is_reported_with_position() {
        let src = Source::new(
            "c.yaml",
            "cases:\n  - name: a\n    tags: 3\n    steps: []\n",
        );
        let d = parse_yaml::<CaseFile>(&src).unwrap_err();
        assert_eq!(d.pos.line, 3, "{d}");
    }

    #[test]
    fn yaml_syntax_error_is_reported() {
        let src = Source::new("c.yaml", "cases:\n  - name: [unclosed\n");
        let d = parse_yaml::<CaseFile>(&src).unwrap_err();
        assert!(d.pos.line >= 2, "{d}");
    }
}
