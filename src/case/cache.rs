//! The parse cache: a case file whose text has not changed since the last run
//! is read back from its parsed model instead of going through the YAML
//! parser, the slowest step of loading (about 25 µs of CPU a case, against
//! about 5 µs to read the model back).
//!
//! The cache lives in `<cases>/.conform-cache/`, which holds a `.gitignore`
//! of `*` and a `CACHEDIR.TAG`, as ruff's and pytest's caches do. Each case file has
//! one entry, named by a hash of its path, holding:
//!
//! ```text
//! conform parse cache 1
//! <stamp: this conform's version and executable>
//! <text length> <number of parts>
//! <the file's text, byte for byte>
//! <part length>\n<part: a JSON CaseFile>...
//! ```
//!
//! An entry is used only when its stamp is this executable's (so a rebuilt
//! conform never reads a model another build wrote) and its text is exactly
//! the file's text: no hash collision can hand back another file's cases.
//! Anything unexpected (a missing, short or garbled entry, an unwritable
//! folder) means a miss and a normal parse, never an error. `CONFORM_CACHE=off`
//! turns the cache off.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::model::{CaseDef, CaseFile};

/// The cache folder's name inside the cases folder.
pub const DIR_NAME: &str = ".conform-cache";
/// The environment variable that turns the cache off (`off`, `0`, `false`, `no`).
pub const ENV: &str = "CONFORM_CACHE";
/// The first line of every entry; the number changes when the layout does.
const MAGIC: &str = "conform parse cache 1";
/// Cases per part: parts are read back on several threads.
const CASES_PER_PART: usize = 256;

/// The parse cache of one cases folder.
#[derive(Debug, Clone)]
pub struct ParseCache {
    dir: PathBuf,
    stamp: String,
}

impl ParseCache {
    /// The cache for `cases_dir`, unless `CONFORM_CACHE` turns it off or this
    /// executable cannot be identified.
    pub fn for_cases_dir(cases_dir: &Path) -> Option<ParseCache> {
        let off = std::env::var(ENV).is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "0" | "false" | "no"
            )
        });
        if off {
            return None;
        }
        Some(ParseCache {
            dir: cases_dir.join(DIR_NAME),
            stamp: exe_stamp()?,
        })
    }

    /// The cache in `dir` with an explicit stamp (tests).
    pub fn at(dir: impl Into<PathBuf>, stamp: impl Into<String>) -> ParseCache {
        ParseCache {
            dir: dir.into(),
            stamp: stamp.into(),
        }
    }

    fn entry(&self, path: &Path) -> PathBuf {
        // FNV-1a: stable across builds, unlike std's hasher; a collision only
        // means two files take turns in one entry.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in path.as_os_str().as_encoded_bytes() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.dir.join(format!("{h:016x}.case"))
    }

    /// The cached model of the file at `path` whose text is `text`, if there is one.
    pub fn get(&self, path: &Path, text: &str) -> Option<CaseFile> {
        let bytes: std::sync::Arc<[u8]> = fs::read(self.entry(path)).ok()?.into();
        let mut rest = &bytes[..];
        if line(&mut rest)? != MAGIC.as_bytes() || line(&mut rest)? != self.stamp.as_bytes() {
            return None;
        }
        let sizes = std::str::from_utf8(line(&mut rest)?).ok()?;
        let (len, parts) = sizes.split_once(' ')?;
        let (len, parts): (usize, usize) = (len.parse().ok()?, parts.parse().ok()?);
        if len != text.len() || rest.get(..len)? != text.as_bytes() {
            return None;
        }
        rest = &rest[len..];
        // Each part as a range of the entry, which both threads share.
        let mut docs = Vec::with_capacity(parts);
        for _ in 0..parts {
            let n: usize = std::str::from_utf8(line(&mut rest)?).ok()?.parse().ok()?;
            rest.get(..n)?;
            let at = bytes.len() - rest.len();
            docs.push((bytes.clone(), at..at + n));
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            return None;
        }
        super::load::join_parts(
            docs,
            |(bytes, range): &(std::sync::Arc<[u8]>, std::ops::Range<usize>)| {
                serde_json::from_slice::<CaseFile>(&bytes[range.clone()]).ok()
            },
        )
    }

    /// Remembers `file` as the model of `text` at `path`. Failing to write is not
    /// an error: the next run parses the file again.
    pub fn put(&self, path: &Path, text: &str, file: &CaseFile) {
        #[derive(Serialize)]
        struct Part<'a> {
            cases: &'a [CaseDef],
        }
        let mut out = Vec::with_capacity(text.len() * 2 + 256);
        let parts: Vec<&[CaseDef]> = if file.cases.is_empty() {
            vec![&[]]
        } else {
            file.cases.chunks(CASES_PER_PART).collect()
        };
        let _ = writeln!(
            out,
            "{MAGIC}\n{}\n{} {}",
            self.stamp,
            text.len(),
            parts.len()
        );
        out.extend_from_slice(text.as_bytes());
        for cases in parts {
            let Ok(doc) = serde_json::to_vec(&Part { cases }) else {
                return;
            };
            let _ = writeln!(out, "{}", doc.len());
            out.extend_from_slice(&doc);
        }
        let _ = self.write(&self.entry(path), &out);
    }

    fn write(&self, entry: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if !self.dir.is_dir() {
            fs::create_dir_all(&self.dir)?;
            fs::write(self.dir.join(".gitignore"), "# conform's parse cache\n*\n")?;
            fs::write(
                self.dir.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55\n\
                 # This folder is conform's parse cache; see https://bford.info/cachedir/\n",
            )?;
        }
        // Written beside (a name no other process or thread uses) and renamed
        // into place: a reader sees the old entry or the new one, never half of one.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = entry.with_extension(format!("tmp.{}.{n}", std::process::id()));
        fs::write(&tmp, bytes)?;
        fs::rename(&tmp, entry).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }
}

/// Splits off the first line of `rest` (without its `\n`).
fn line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let end = rest.iter().position(|b| *b == b'\n')?;
    let l = &rest[..end];
    *rest = &rest[end + 1..];
    Some(l)
}

/// This build of conform: its version and its executable's size and
/// modification time, so any rebuild starts a fresh cache.
fn exe_stamp() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "conform {} exe {} {}.{:09}",
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        mtime.as_secs(),
        mtime.subsec_nanos()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Source;
    use crate::case::load::parse_case_file;

    /// Every key of the case-file format, each written in every shape it takes.
    const EVERY_KEY: &str = r#"cases:
  - name: every key
    description: all of them
    tags: [smoke, "write"]
    variables: { who: "{{uuid}}", n: "3" }
    steps:
      - name: first
        delay: 500ms
        request:
          method: POST
          path: /v2/users/{{who}}
          query: { page: 1, flag: true, ratio: 0.5, text: "x", empty: "" }
          headers: { X-One: "1", Accept: application/json }
          json: { a: [1, 2.5, null, true], b: { c: "d" }, e: ~ }
          schema: v2UserCreate
          timeout: 5s
          auth: { value: "s3cret" }
        expect:
          status: [200, "2xx", 204]
          headers:
            Content-Type: application/json
            X-Req: { matches: "^[a-z]+$", present: true }
            X-Gone: { absent: true }
          body: null
          body_subset: { id: "{{who}}" }
          jsonpath:
            - { path: $.a, equals: null }
            - { path: $.b, not_equals: [1, { x: 2 }] }
            - { path: "$.c", one_of: [1, "two", null] }
            - { path: $.d, exists: false }
            - { path: $.e, absent: true }
            - { path: $.f, matches: "^x", type: string, length: 3 }
            - { path: $.g, contains: { k: v } }
            - { path: $.h, later_than: "{{start}}" }
          schema: v2User
        capture:
          id: $.id
          etag: { header: ETag, secret: true, optional: true }
      - request: { method: GET, path: /x, json_file: body.json, auth: none }
        expect: { status: 4xx }
      - request: { method: PUT, path: /y, body: "{not json", auth: default, timeout: 2 }
        expect: { status: 400, body: { exact: [] } }
    cleanup:
      - request: { method: DELETE, path: "/v2/users/{{id}}" }
        expect: { status: [204, 404] }
  - name: "second, with \"quotes\" and ünïcode"
    steps:
      - request: { method: GET, path: '/z?q=a%20b' }
        expect: { status: 200 }
"#;

    fn parsed(text: &str) -> CaseFile {
        parse_case_file(&Source::new("c.yaml", text)).expect("parses")
    }

    /// Puts `text`'s model in a fresh cache, reads it back, and compares.
    fn round_trip(name: &str, text: &str) {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::at(dir.path(), "test stamp");
        let path = Path::new(name);
        assert!(
            cache.get(path, text).is_none(),
            "{name}: an empty cache hits"
        );
        let fresh = parsed(text);
        cache.put(path, text, &fresh);
        let back = cache
            .get(path, text)
            .unwrap_or_else(|| panic!("{name}: no hit"));
        // Debug shows every field, positions included; a difference is shown
        // as the first line that differs, with the lines before it.
        let (a, b) = (format!("{fresh:#?}"), format!("{back:#?}"));
        let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            let from = i.saturating_sub(12);
            panic!(
                "{name}: the cached model differs at line {i} of its Debug form\n{}\n- parsed: {:?}\n+ cached: {:?}",
                a[from..i].join("\n"),
                a.get(i),
                b.get(i)
            );
        }
    }

    /// Every list of the model holds no more room than its elements, parsed or
    /// read back: a step is a kilobyte, and serde would leave room for four.
    fn assert_exact(name: &str, file: &CaseFile) {
        let exact = |what: &str, len: usize, cap: usize| {
            assert_eq!(cap, len, "{name}: {what} has room for {cap}, holds {len}");
        };
        exact("cases", file.cases.len(), file.cases.capacity());
        for c in &file.cases {
            exact("steps", c.steps.len(), c.steps.capacity());
            exact("cleanup", c.cleanup.len(), c.cleanup.capacity());
            exact("tags", c.tags.len(), c.tags.capacity());
            for s in c.steps.iter().chain(&c.cleanup) {
                let jp = &s.expect.jsonpath;
                exact("jsonpath", jp.len(), jp.capacity());
            }
        }
    }

    #[test]
    fn lists_are_read_to_their_exact_length() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::at(dir.path(), "s");
        let fresh = parsed(EVERY_KEY);
        assert_exact("parsed", &fresh);
        cache.put(Path::new("c.yaml"), EVERY_KEY, &fresh);
        assert_exact(
            "cached",
            &cache.get(Path::new("c.yaml"), EVERY_KEY).unwrap(),
        );
    }

    #[test]
    fn every_key_reads_back_as_parsed() {
        round_trip("every.yaml", EVERY_KEY);
    }

    #[test]
    fn every_shipped_case_file_reads_back_as_parsed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let mut n = 0;
        for suite in fs::read_dir(&root).unwrap() {
            for f in fs::read_dir(suite.unwrap().path()).unwrap() {
                let p = f.unwrap().path();
                let name = p.file_name().unwrap().to_str().unwrap().to_owned();
                if p.extension().is_some_and(|e| e == "yaml")
                    && name != "suite.yaml"
                    && name != crate::coverage::FILE_NAME
                {
                    round_trip(&name, &fs::read_to_string(&p).unwrap());
                    n += 1;
                }
            }
        }
        assert!(
            n >= 10,
            "only {n} case files found under {}",
            root.display()
        );
    }

    #[test]
    fn a_large_file_is_kept_in_parts_and_reads_back_whole_and_in_order() {
        let mut text = String::from("cases:\n");
        for i in 0..1000 {
            text.push_str(&format!(
                "  - name: case {i}\n    steps:\n      - request: {{ method: GET, path: /u/{i} }}\n        expect: {{ status: 200 }}\n"
            ));
        }
        round_trip("large.yaml", &text);
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::at(dir.path(), "s");
        cache.put(Path::new("large.yaml"), &text, &parsed(&text));
        let entry = fs::read(cache.entry(Path::new("large.yaml"))).unwrap();
        let header = String::from_utf8_lossy(&entry[..60]).into_owned();
        assert!(
            header.contains(&format!("\n{} 4\n", text.len())),
            "{header}"
        );
    }

    #[test]
    fn changed_text_another_stamp_or_a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::at(dir.path(), "stamp A");
        let path = Path::new("c.yaml");
        cache.put(path, EVERY_KEY, &parsed(EVERY_KEY));
        assert!(cache.get(path, EVERY_KEY).is_some());
        // One byte changed, same length: the text is compared, not hashed.
        let edited = EVERY_KEY.replacen("status: 4xx", "status: 5xx", 1);
        assert_eq!(edited.len(), EVERY_KEY.len());
        assert!(cache.get(path, &edited).is_none(), "an edited file hits");
        assert!(
            ParseCache::at(dir.path(), "stamp B")
                .get(path, EVERY_KEY)
                .is_none(),
            "another build's entry hits"
        );
        assert!(
            cache.get(Path::new("other.yaml"), EVERY_KEY).is_none(),
            "another path hits"
        );
        let entry = cache.entry(path);
        let good = fs::read(&entry).unwrap();
        for cut in [0, 10, good.len() / 2, good.len() - 1] {
            fs::write(&entry, &good[..cut]).unwrap();
            assert!(cache.get(path, EVERY_KEY).is_none(), "cut at {cut} hits");
        }
        let mut extra = good.clone();
        extra.extend_from_slice(b"{}");
        fs::write(&entry, &extra).unwrap();
        assert!(cache.get(path, EVERY_KEY).is_none(), "trailing bytes hit");
        let mut garbled = good.clone();
        let at = garbled.len() - 20;
        garbled[at] = b'\x01';
        fs::write(&entry, &garbled).unwrap();
        assert!(cache.get(path, EVERY_KEY).is_none(), "garbled JSON hits");
    }

    #[test]
    fn the_cache_folder_ignores_itself_and_an_unwritable_one_is_only_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ParseCache::at(dir.path().join("cases").join(DIR_NAME), "s");
        cache.put(Path::new("c.yaml"), EVERY_KEY, &parsed(EVERY_KEY));
        let ignore = fs::read_to_string(dir.path().join("cases").join(DIR_NAME).join(".gitignore"));
        assert!(ignore.unwrap().lines().any(|l| l == "*"));
        // A file where the folder should be: nothing can be written, nothing fails.
        fs::write(dir.path().join("blocked"), "").unwrap();
        let blocked = ParseCache::at(dir.path().join("blocked"), "s");
        blocked.put(Path::new("c.yaml"), EVERY_KEY, &parsed(EVERY_KEY));
        assert!(blocked.get(Path::new("c.yaml"), EVERY_KEY).is_none());
    }
}
