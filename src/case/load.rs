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
    /// Where parsed case files are remembered between runs (`None`: not at all).
    pub cache: Option<super::cache::ParseCache>,
}

/// One case file, found but not yet parsed: the planner parses, plans and drops
/// one file at a time, so a large suite never holds every file's raw model at once.
#[derive(Debug)]
pub struct LoadedFile {
    /// The file.
    pub path: PathBuf,
}

impl LoadedFile {
    /// Reads the file's text; problems go to `diags`.
    pub fn read(&self, diags: &mut Diagnostics) -> Option<Source> {
        read_source(&self.path, diags)
    }

    /// Parses `source`, this file's text, which the fast reader did not take
    /// (files it takes never reach the cache: reading them is quicker than
    /// reading a cache entry back): from `cache` when its text has not
    /// changed, else with serde-saphyr.
    pub fn parse_beyond_the_subset(
        &self,
        source: Source,
        cache: Option<&super::cache::ParseCache>,
        diags: &mut Diagnostics,
    ) -> Option<(Source, CaseFile)> {
        if let Some(v) = cache.and_then(|c| c.get(&self.path, &source.text)) {
            return Some((source, v));
        }
        match parse_yaml_case_file(&source) {
            Ok(v) => {
                if let Some(c) = cache {
                    c.put(&self.path, &source.text, &v);
                }
                Some((source, v))
            }
            Err(d) => {
                diags.push(d);
                None
            }
        }
    }
}

/// Case files at least this large are parsed in chunks of whole cases, one
/// chunk per 128 KiB, at most [`MAX_CHUNKS`].
const CHUNK_BYTES: usize = 128 * 1024;
/// Most chunks one file is cut into.
const MAX_CHUNKS: usize = 8;

/// Parses a case file: with [`super::fast`] when the file keeps to the plain
/// subset of YAML it reads, otherwise (and for every error) with serde-saphyr.
// As for `parse_yaml`: a diagnostic is the cold path.
#[allow(clippy::result_large_err)]
pub fn parse_case_file(source: &Source) -> Result<CaseFile, Diagnostic> {
    match read_fast(&source.text) {
        Some(file) => Ok(file),
        None => parse_yaml_case_file(source),
    }
}

/// A case file read by [`super::fast`], or `None` when it leaves the fast
/// reader's subset. One thread: reading the parts of a large file on the
/// helper thread too saved under half a millisecond for 1,000 cases (the
/// work is mostly first-touched memory) and left 0.5–0.8 MB more resident
/// at the peak of a 10,000-case run with `--jobs 2` (quick builds, six runs
/// each), since the helper's allocator arena kept what the parts had used.
fn read_fast(text: &str) -> Option<CaseFile> {
    super::fast::parse(text)
}

/// Parses a case file with serde-saphyr (about 25 µs of CPU a case; unchanged
/// files skip it through [`super::cache`]), in parts when it is large. If any
/// part fails, the whole file is parsed again in one piece, so an error is
/// reported exactly as without parts.
#[allow(clippy::result_large_err)]
fn parse_yaml_case_file(source: &Source) -> Result<CaseFile, Diagnostic> {
    if let Some(texts) = in_parts(&source.text) {
        let parts = texts.len();
        if let Some(file) = join_parts(texts, move |t: &String| {
            parse_yaml_with::<CaseFile>(t, chunk_budget(parts)).ok()
        }) {
            return Ok(file);
        }
    }
    parse_yaml::<CaseFile>(source)
}

/// A large case file written as `cases:` followed by a block sequence, cut
/// between its cases into parts of about [`CHUNK_BYTES`] to be read on
/// several threads, or `None`. Each part is `cases:`, an empty line for each
/// line of the file before the part, then the part, so every line and column
/// is the file's own.
fn in_parts(text: &str) -> Option<Vec<String>> {
    let chunks = (text.len() / CHUNK_BYTES).min(MAX_CHUNKS);
    if chunks < 2 {
        return None;
    }
    split_cases(text, chunks)
}

/// Turns each part of a case file into its cases with `read`, the first half
/// of the parts here and the second half on the [`crate::helper`] thread, and
/// joins them in order; `None` when any part gives `None`.
pub(crate) fn join_parts<P, F>(mut parts: Vec<P>, read: F) -> Option<CaseFile>
where
    P: Send + 'static,
    F: Fn(&P) -> Option<CaseFile> + Clone + Send + 'static,
{
    let theirs = parts.split_off(parts.len() / 2);
    let pending = (!theirs.is_empty()).then(|| {
        let read = read.clone();
        crate::helper::spawn(move || theirs.iter().map(read).collect::<Option<Vec<_>>>())
    });
    let mut read: Vec<CaseFile> = parts.iter().map(read).collect::<Option<_>>()?;
    if let Some(p) = pending {
        read.extend(p.join().ok()??);
    }
    let mut cases = Vec::with_capacity(read.iter().map(|p| p.cases.len()).sum());
    for p in read {
        cases.extend(p.cases);
    }
    Some(CaseFile { cases })
}

/// The parser's default limits divided among `chunks`, so that chunks that all
/// pass never add up to a file the whole-file limits would refuse.
fn chunk_budget(chunks: usize) -> serde_saphyr::Budget {
    let mut b = serde_saphyr::Budget::default();
    b.max_events /= chunks;
    b.max_aliases /= chunks;
    b.max_anchors /= chunks;
    b.max_recorded_anchor_events /= chunks;
    b.max_recorded_anchor_bytes /= chunks;
    b.max_nodes /= chunks;
    b.max_total_scalar_bytes /= chunks;
    b.max_merge_keys /= chunks;
    b.alias_anchor_min_aliases /= chunks;
    b
}

/// Cuts `text` into about `chunks` texts that each parse as a case file, or
/// `None` when the file is not plainly `cases:` followed by a block sequence
/// (then it is parsed whole). A cut is made only before a line that starts a
/// sequence item at the sequence's own indentation: no block scalar, plain
/// scalar or mapping inside an item can hold such a line, and a cut inside a
/// quoted or flow scalar leaves the chunk before it unterminated, which fails
/// and sends the file back to a whole-file parse.
fn split_cases(text: &str, chunks: usize) -> Option<Vec<String>> {
    let blank_or_comment = |l: &str| {
        let t = l.trim_start_matches(' ');
        t.is_empty() || t == "\n" || t == "\r\n" || t.starts_with('#')
    };
    // (byte offset, text) of each line.
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .collect();
    let mut content = lines.iter().filter(|(_, l)| !blank_or_comment(l));
    let &(head_at, head) = content.next()?;
    if head.trim_end() != "cases:" {
        return None;
    }
    let indent = leading_spaces(content.next()?.1);
    let mut items = Vec::new();
    for &(offset, l) in &lines {
        if offset == head_at || blank_or_comment(l) || leading_spaces(l) > indent {
            continue;
        }
        let rest = &l[leading_spaces(l)..];
        let item = leading_spaces(l) == indent
            && rest.starts_with('-')
            && rest[1..].starts_with([' ', '\n', '\r']);
        if !item {
            // A directive, a document marker, another key, a tab or a less
            // indented line: not the simple shape, so the file is parsed whole.
            return None;
        }
        items.push(offset);
    }
    if items.len() < chunks * 2 {
        return None;
    }
    let mut starts = vec![items[0]];
    for k in 1..chunks {
        let want = text.len() * k / chunks;
        let i = items.partition_point(|o| *o < want).min(items.len() - 1);
        if starts.last().is_some_and(|s| items[i] > *s) {
            starts.push(items[i]);
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        if k == 0 {
            out.push(text[..end].to_owned());
            continue;
        }
        // `cases:` and one line break for each line before the chunk: every line
        // and column of the chunk is the file's own (byte offsets are not, and
        // nothing reads them), at the cost of one byte a line, not the text.
        let line = text[..start].bytes().filter(|b| *b == b'\n').count();
        let mut chunk = String::with_capacity(6 + line + end - start);
        chunk.push_str("cases:");
        chunk.extend(std::iter::repeat_n('\n', line));
        chunk.push_str(&text[start..end]);
        out.push(chunk);
    }
    Some(out)
}

fn leading_spaces(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
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
    let cache = super::cache::ParseCache::for_cases_dir(cases_dir);
    for dir in entries.into_iter().filter(|p| p.is_dir()) {
        let suite_path = dir.join("suite.yaml");
        if !suite_path.is_file() {
            continue;
        }
        if let Some(mut suite) = load_suite(&dir, &mut diags) {
            suite.cache = cache.clone();
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
        cache: None,
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
    let source = read_source(path, diags)?;
    match parse_yaml::<T>(&source) {
        Ok(v) => Some((source, v)),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// Reads one file within [`MAX_FILE_BYTES`]; on failure records a diagnostic.
fn read_source(path: &Path, diags: &mut Diagnostics) -> Option<Source> {
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
    Some(Source::new(path, text))
}

/// Parses YAML text into `T`, turning a serde-saphyr error into a diagnostic.
// A diagnostic is the cold path, built once per file that fails: its size does not matter.
#[allow(clippy::result_large_err)]
pub fn parse_yaml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, Diagnostic> {
    parse_yaml_with(&source.text, serde_saphyr::Budget::default()).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos::from_location(&l))
            .unwrap_or_default();
        let message = clean_message(&e.without_snippet().to_string());
        let help = unknown_field_help(&message);
        Diagnostic::at(source, pos, message).with_help_opt(help)
    })
}

fn parse_yaml_with<T: serde::de::DeserializeOwned>(
    text: &str,
    budget: serde_saphyr::Budget,
) -> Result<T, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
        budget: Some(budget),
    };
    serde_saphyr::from_str_with_options::<T>(text, options)
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

    /// A case file of `n` cases in every block form a case uses, about 250 bytes a case.
    fn many_cases(n: usize) -> String {
        let mut t = String::from("# generated\n\ncases:\n");
        for i in 0..n {
            t.push_str(&match i % 4 {
                0 => format!(
                    "  - name: get {i}\n    tags: [a, b]\n    steps:\n      - request: {{ method: GET, path: /v2/users/{i} }}\n        expect:\n          status: 200\n          jsonpath:\n            - {{ path: $.status, equals: ACTIVATED }}\n"
                ),
                1 => format!(
                    "  # a comment line at the item's indentation\n  - name: \"post {i}\"\n    description: |\n      a block scalar\n\n      - that looks like an item\n    steps:\n      - request:\n          method: POST\n          path: /v2/users\n          json: {{ email: 'x{i}@example.com', roles: [ADMIN] }}\n"
                ),
                2 => format!(
                    "  -   name: spaced {i}\n      steps:\n        - request: {{ method: GET, path: /x }}\n          expect: {{ status: [200, 4xx] }}\n"
                ),
                _ => format!(
                    "  - name: >-\n      folded {i}\n    steps:\n      - request: {{ method: DELETE, path: '/v2/users/{i}' }}\n    cleanup:\n      - request: {{ method: GET, path: /y }}\n"
                ),
            });
        }
        t
    }

    #[allow(clippy::result_large_err)]
    fn chunked(text: &str) -> Result<CaseFile, Diagnostic> {
        parse_yaml_case_file(&Source::new("c.yaml", text))
    }

    #[allow(clippy::result_large_err)]
    fn whole(text: &str) -> Result<CaseFile, Diagnostic> {
        parse_yaml::<CaseFile>(&Source::new("c.yaml", text))
    }

    /// Every value with its line and column; byte offsets, which chunks do not
    /// keep and nothing reads, left out.
    fn shown(f: &CaseFile) -> String {
        let spans = regex::Regex::new(r"span: Span \{[^}]*\}").unwrap();
        spans.replace_all(&format!("{f:?}"), "").into_owned()
    }

    #[test]
    fn a_large_file_parsed_in_chunks_is_the_file_parsed_whole() {
        let text = many_cases(3000);
        let chunks = text.len() / CHUNK_BYTES;
        assert!(chunks >= 2, "{} bytes", text.len());
        let parts = split_cases(&text, chunks).expect("the generated file has the simple shape");
        assert_eq!(parts.len(), chunks);
        let (a, b) = (chunked(&text).unwrap(), whole(&text).unwrap());
        assert_eq!(a.cases.len(), 3000);
        assert_eq!(shown(&a), shown(&b));
        // A case in the last chunk sits where the file has it.
        let at = text.find("name: get 2996\n").unwrap();
        let case = a.cases.iter().find(|c| c.name.value == "get 2996").unwrap();
        let line = text[..at].matches('\n').count() + 1;
        assert!(line > 10_000);
        let pos = case.name.pos;
        assert_eq!((pos.line, pos.column), (line, 11));
    }

    #[test]
    fn a_large_plain_file_is_read_fast_as_serde_saphyr_reads_it() {
        let mut text = String::from("# W\ncases:\n");
        for n in 0..1500 {
            text.push_str(&format!(
                "  - name: get {n}\n    steps:\n      - request: {{ method: GET, path: /v2/users/{n} }}\n        expect:\n          status: 200\n          jsonpath:\n            - {{ path: $.status, equals: ACTIVATED }}\n"
            ));
        }
        assert!(
            in_parts(&text).is_some(),
            "large enough to be cut for serde-saphyr"
        );
        let (a, b) = (read_fast(&text).unwrap(), whole(&text).unwrap());
        assert_eq!(a.cases.len(), 1500);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn an_error_in_a_later_chunk_is_reported_as_a_whole_parse_reports_it() {
        let good = many_cases(3000);
        for (from, to) in [
            ("name: get 2800", "nme: get 2800"),
            ("path: /v2/users/2800 }", "path: /v2/users/2800 "),
            ("status: [200, 4xx] }", "status: [200, 4xx }"),
        ] {
            // The first occurrence after case 2800, in the file's last chunk.
            let cut = good.find("name: get 2800").unwrap();
            assert!(good[cut..].contains(from));
            let bad = format!("{}{}", &good[..cut], good[cut..].replacen(from, to, 1));
            let (a, b) = (chunked(&bad).unwrap_err(), whole(&bad).unwrap_err());
            assert_eq!((a.pos, &a.message), (b.pos, &b.message), "{to}");
            assert!(a.pos.line > 10_000, "{a}");
        }
    }

    #[test]
    fn files_of_other_shapes_are_parsed_whole_with_the_same_result() {
        let good = many_cases(3000);
        // An anchor in the first case used by the last: the last chunk alone cannot resolve it.
        let aliased = good.replacen("tags: [a, b]", "tags: &t [a, b]", 1)
            + "  - name: last\n    tags: *t\n    steps: []\n";
        let (a, b) = (chunked(&aliased).unwrap(), whole(&aliased).unwrap());
        assert_eq!(shown(&a), shown(&b));
        assert_eq!(a.cases.last().unwrap().tags.len(), 2);
        for other in [
            format!("{good}other: 1\n"),
            format!("---\n{good}"),
            format!("{good}...\n"),
            good.replacen("cases:\n", "cases: # the cases\n", 1),
            good.replace("\n  - name", "\n\t- name"),
        ] {
            assert_eq!(split_cases(&other, 2), None);
            match (chunked(&other), whole(&other)) {
                (Ok(a), Ok(b)) => assert_eq!(shown(&a), shown(&b)),
                (Err(a), Err(b)) => assert_eq!((a.pos, a.message), (b.pos, b.message)),
                (a, b) => panic!("chunked {:?} but whole {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }

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
