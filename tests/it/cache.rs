//! The parse cache seen from outside: a run reads a case file's model back
//! only while the file is unchanged, and says exactly what a fresh parse says.

use std::path::Path;
use std::process::Output;

use crate::common::TempSuite;

const CACHE: &str = "cases/.conform-cache";

fn check(dir: &Path, cache: bool) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(["check", "--cases", "cases"])
        .current_dir(dir)
        .env("NO_COLOR", "1");
    if cache {
        cmd.env_remove("CONFORM_CACHE");
    } else {
        cmd.env("CONFORM_CACHE", "off");
    }
    cmd.output().expect("the binary runs")
}

fn said(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join(CACHE))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "case"))
                .collect()
        })
        .unwrap_or_default()
}

/// A block scalar takes the file out of the subset the fast reader handles:
/// only files that serde-saphyr parses are cached.
const GOOD: &str = "cases:\n  - name: one\n    description: >-\n      read one user\n    steps:\n      - request: { method: GET, path: /users/1 }\n        expect: { status: 200, schema: User }\n";

#[test]
fn an_edited_case_file_is_parsed_again_and_reports_the_same_positions() {
    let suite = TempSuite::new("http://127.0.0.1:9", GOOD);
    let dir = suite.dir.path();
    let first = check(dir, true);
    assert_eq!(first.status.code(), Some(0), "{}", said(&first));
    assert_eq!(entries(dir).len(), 1, "the first run remembers the file");
    let ignore = std::fs::read_to_string(dir.join(CACHE).join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

    // Same length, one word changed: only comparing the text tells them apart.
    let bad = GOOD.replace("schema: User", "schema: Usxr");
    assert_eq!(bad.len(), GOOD.len());
    std::fs::write(suite.case_file(), &bad).unwrap();
    let fresh = check(dir, false);
    let edited = check(dir, true);
    let cached = check(dir, true);
    assert_eq!(fresh.status.code(), Some(2), "{}", said(&fresh));
    assert!(
        said(&fresh).contains("c.yaml:7:40") && said(&fresh).contains("unknown schema `Usxr`"),
        "{}",
        said(&fresh)
    );
    assert_eq!(said(&edited), said(&fresh), "the edit was not seen");
    assert_eq!(
        said(&cached),
        said(&fresh),
        "the cached model says otherwise"
    );

    // And back: the first text is cached no more, and is seen as it is.
    std::fs::write(suite.case_file(), GOOD).unwrap();
    let back = check(dir, true);
    assert_eq!(back.status.code(), Some(0), "{}", said(&back));
}

#[test]
fn a_damaged_entry_is_only_a_miss_and_is_written_again() {
    let suite = TempSuite::new("http://127.0.0.1:9", GOOD);
    let dir = suite.dir.path();
    assert_eq!(check(dir, true).status.code(), Some(0));
    let entry = entries(dir).pop().expect("an entry");
    let good = std::fs::read(&entry).unwrap();
    let cut = &good[..good.len() - 7];
    std::fs::write(&entry, cut).unwrap();
    let o = check(dir, true);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert_eq!(
        std::fs::read(&entry).unwrap(),
        good,
        "the entry was not repaired"
    );
}

#[test]
fn conform_cache_off_writes_nothing() {
    let suite = TempSuite::new("http://127.0.0.1:9", GOOD);
    let o = check(suite.dir.path(), false);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(!suite.dir.path().join(CACHE).exists());
}

#[test]
fn a_cases_folder_that_cannot_hold_the_cache_still_runs() {
    let suite = TempSuite::new("http://127.0.0.1:9", GOOD);
    // A file where the cache folder would go.
    std::fs::write(suite.dir.path().join(CACHE), "not a folder").unwrap();
    let o = check(suite.dir.path(), true);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    let second = check(suite.dir.path(), true);
    assert_eq!(said(&second), said(&o));
}

#[test]
fn a_file_the_fast_reader_takes_is_never_cached() {
    let plain = GOOD.replace("    description: >-\n      read one user\n", "");
    let suite = TempSuite::new("http://127.0.0.1:9", &plain);
    let dir = suite.dir.path();
    let o = check(dir, true);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(entries(dir).is_empty(), "{:?}", entries(dir));
    // An error in it points at the same place.
    std::fs::write(
        suite.case_file(),
        plain.replace("schema: User", "schema: Usxr"),
    )
    .unwrap();
    let o = check(dir, true);
    assert_eq!(o.status.code(), Some(2), "{}", said(&o));
    assert!(said(&o).contains("c.yaml:5:40"), "{}", said(&o));
}

/// A plain file is read and planned one case at a time; when a later case
/// turns out to be outside the subset or invalid, what the earlier cases
/// added is undone and the file is read whole: each problem is reported
/// once, where serde-saphyr or the planner puts it, and no case is planned twice.
#[test]
fn a_file_read_case_by_case_that_fails_late_is_read_whole_and_said_once() {
    let plain = GOOD.replace("    description: >-\n      read one user\n", "");
    let case = |n: &str, schema: &str| {
        plain
            .replace("cases:\n", "")
            .replace("name: one", &format!("name: {n}"))
            .replace("schema: User", &format!("schema: {schema}"))
    };
    // A planning problem in case 1, then a key the model does not know in case 3.
    let text = format!(
        "cases:\n{}{}{}",
        case("a", "Usxr"),
        case("b", "User"),
        case("c", "User").replace("expect:", "expct:")
    );
    let suite = TempSuite::new("http://127.0.0.1:9", &text);
    let o = check(suite.dir.path(), false);
    let out = said(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    // serde-saphyr's message for the unknown key, once; the planner's problem
    // is not reached (a file that does not parse is not planned), as before.
    assert_eq!(out.matches("unknown field `expct`").count(), 1, "{out}");
    assert!(out.contains("c.yaml:13:9"), "{out}");
    assert!(!out.contains("Usxr"), "{out}");

    // Only planning problems: each said once, at its place.
    let text = format!(
        "cases:\n{}{}{}",
        case("a", "Usxr"),
        case("b", "User"),
        case("a", "Usyr")
    );
    std::fs::write(suite.case_file(), &text).unwrap();
    let o = check(suite.dir.path(), false);
    let out = said(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert_eq!(out.matches("unknown schema `Usxr`").count(), 1, "{out}");
    assert_eq!(out.matches("unknown schema `Usyr`").count(), 1, "{out}");
    assert_eq!(out.matches("also named `a`").count(), 1, "{out}");
    assert!(out.contains("c.yaml:5:40"), "{out}");

    // An anchor in the last case: outside the subset, read whole, all fine.
    let text = format!(
        "cases:\n{}{}{}",
        case("a", "User"),
        case("b", "User"),
        case("c", "User").replace("path: /users/1", "path: &p /users/1")
    );
    std::fs::write(suite.case_file(), &text).unwrap();
    let o = check(suite.dir.path(), false);
    assert_eq!(o.status.code(), Some(0), "{}", said(&o));
    assert!(said(&o).contains("3 cases"), "{}", said(&o));
}
