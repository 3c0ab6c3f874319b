//! The fast reader against serde-saphyr: whatever it accepts, it must read
//! exactly as serde-saphyr does (same model, same positions), and it must
//! never accept a file serde-saphyr refuses.

use super::parse;
use crate::case::load::parse_yaml;
use crate::case::model::CaseFile;
use crate::case::span::Source;
use std::path::Path;

/// serde-saphyr's reading, as text (`Debug` shows every value and position).
fn slow(text: &str) -> Result<String, String> {
    parse_yaml::<CaseFile>(&Source::new("c.yaml", text))
        .map(|f| format!("{f:#?}"))
        .map_err(|d| d.to_string())
}

/// The fast reading, as text; reading case by case ([`super::parse_items`],
/// as the planner does) must give the same cases, or fail alike.
fn fast(text: &str) -> Option<String> {
    let whole = parse::<CaseFile>(text).map(|f| format!("{f:#?}"));
    let mut cases = Vec::new();
    let each = super::parse_items(text, "cases", |c, n| {
        cases.reserve_exact(n);
        cases.push(c)
    })
    .map(|()| format!("{:#?}", CaseFile { cases }));
    assert_eq!(
        whole, each,
        "read whole and case by case differ on:\n{text}"
    );
    whole
}

/// Fails when the fast reader accepts `text` and reads it otherwise than
/// serde-saphyr; returns whether it accepted it.
#[track_caller]
fn agrees(text: &str) -> bool {
    let Some(f) = fast(text) else {
        return false;
    };
    match slow(text) {
        Ok(s) => {
            if s != f {
                let diff = similar::TextDiff::from_lines(&s, &f);
                panic!(
                    "serde-saphyr (-) and the fast reader (+) differ on:\n{text}\n{}",
                    diff.unified_diff().context_radius(4)
                );
            }
        }
        Err(e) => panic!("the fast reader accepted what serde-saphyr refuses ({e}):\n{text}"),
    }
    true
}

#[track_caller]
fn accepted(text: &str) {
    assert!(agrees(text), "the fast reader should take:\n{text}");
}

#[track_caller]
fn left(text: &str) {
    assert!(
        fast(text).is_none(),
        "the fast reader should leave to serde-saphyr:\n{text}"
    );
}

const STEP: &str = "cases:\n  - name: n\n    steps:\n      - request: { method: GET, path: /x }\n";

/// A case file with one step whose `expect` is `expect` (indented under it).
fn with_expect(expect: &str) -> String {
    format!("{STEP}        expect:\n{expect}")
}

fn is_case_file(f: &Path) -> bool {
    f.extension().is_some_and(|e| e == "yaml")
        && f.file_name()
            .is_some_and(|n| n != "suite.yaml" && n != crate::coverage::FILE_NAME)
}

#[test]
fn workload_w_is_read_as_serde_saphyr_reads_it() {
    let mut text = String::from("cases:\n");
    for n in 1..=300 {
        text.push_str(&format!(
            "  - name: get user {n}\n    steps:\n      - request: {{ method: GET, path: /v2/users/{n} }}\n        expect:\n          status: 200\n          schema: v2User\n          jsonpath:\n            - {{ path: $.status, equals: ACTIVATED }}\n            - {{ path: $.email, equals: jbloggs@gmail.com }}\n"
        ));
    }
    accepted(&text);
}

#[test]
fn every_shipped_case_file_agrees_and_most_are_taken() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let mut taken = 0;
    let mut files = 0;
    for suite in std::fs::read_dir(&root).unwrap() {
        let suite = suite.unwrap().path();
        for f in std::fs::read_dir(&suite).unwrap() {
            let f = f.unwrap().path();
            if is_case_file(&f) {
                files += 1;
                taken += usize::from(agrees(&std::fs::read_to_string(&f).unwrap()));
            }
        }
    }
    assert!(files >= 10, "{files} case files found");
    // Most shipped files use only the subset; the rest are left to serde-saphyr.
    assert!(
        taken * 2 >= files,
        "only {taken} of {files} shipped case files taken"
    );
}

#[test]
fn each_construct_of_the_subset_is_taken_with_serde_saphyrs_positions() {
    // Block mapping in a sequence item, flow mappings and sequences, compact
    // sequences at the key's indentation, comments everywhere.
    accepted(
        "# top\ncases:\n- name: a   # trailing\n  tags: [x, 'y z', \"w\"]\n\n  steps:\n  # between\n  - request:\n      method: POST\n      path: /v2/users\n      json: { a: 1, b: [true, false, null, ~], c: { d: -5, e: \"x\" }, f: [] , g: {} }\n      headers: { X-A: b, 'X-B': \"c d\" }\n      query: { page: 1, q: text, on: true }\n    expect:\n      status: [200, 204, 4xx]\n      headers:\n        Content-Type: application/json\n        X-Req: { present: true }\n      body_subset: { name: \"Zoë\", n: 0, big: 18446744073709551615 }\n      jsonpath:\n      - path: $.a\n        equals: 1\n      - { path: $.b, one_of: [x, 2, false] }\n      - { path: $.c, length: 3, type: array }\n",
    );
    // Quoted scalars: escapes, doubled single quotes, `#` and `: ` inside.
    accepted(&with_expect(
        "          jsonpath:\n            - { path: \"$['a b']\", equals: 'it''s # not: a comment' }\n            - { path: $.x, equals: \"tab\\there \\\"q\\\" back\\\\slash \\/ \\n\" }\n",
    ));
    // Plain scalars with inner colons, hashes, brackets and spaces.
    accepted(&with_expect(
        "          jsonpath:\n            - path: $.url\n              equals: http://h:8080/a#b\n            - path: $.t\n              equals: a [b] {c}, d\n              matches: ^x{2}$\n",
    ));
    // Spans: a step name, a captured value in map form, an auth mode.
    accepted(
        "cases:\n  - name: n\n    steps:\n      - name: first\n        request:\n          method: GET\n          path: /x\n          auth: none\n          timeout: 5s\n        delay: 500ms\n        capture:\n          id: $.id\n          tok:\n            header: X-Token\n            secret: true\n    cleanup:\n      - request: { method: DELETE, path: /x, auth: { value: k } }\n",
    );
    // Non-ASCII text before a value moves its column by characters.
    accepted(
        "cases:\n  - name: \"Zoë Ünïcode\"\n    description: café ☕ ok\n    steps:\n      - request: { method: GET, path: /é/x }\n",
    );
}

#[test]
fn whatever_lies_outside_the_subset_is_left_to_serde_saphyr() {
    for text in [
        // Anchors, aliases, tags, merge keys.
        "cases:\n  - &a\n    name: n\n    steps: []\n",
        "cases:\n  - name: !!str n\n    steps: []\n",
        // Block scalars and multi-line plain scalars.
        "cases:\n  - name: |\n      n\n    steps: []\n",
        "cases:\n  - name: a\n      b\n    steps: []\n",
        // A key with no value, a duplicate key, a trailing comma.
        "cases:\n  - name:\n    steps: []\n",
        "cases:\n  - name: a\n    name: b\n    steps: []\n",
        "cases:\n  - name: a\n    steps: [x,]\n",
        // Tabs, carriage returns, document markers, directives.
        "cases:\n  - name: a\tb\n    steps: []\n",
        "cases:\r\n  - name: a\r\n    steps: []\r\n",
        "---\ncases: []\n",
        "%YAML 1.2\n---\ncases: []\n",
        // Numbers it does not parse itself.
        "cases:\n  - name: n\n    steps:\n      - request: { method: GET, path: /x, timeout: 1.5 }\n",
        "cases:\n  - name: n\n    steps:\n      - request: { method: GET, path: /x }\n        expect: { status: 0x1F }\n",
        // A multi-line flow collection.
        "cases:\n  - name: n\n    tags: [a,\n      b]\n    steps: []\n",
        // An empty file, and a file that is only a comment.
        "",
        "# nothing\n",
    ] {
        left(text);
        // And whatever serde-saphyr makes of it is what the loader reports.
        let _ = slow(text);
    }
}

#[test]
fn a_file_past_the_node_limit_is_left_to_serde_saphyr() {
    // About 13 nodes a case: 6,000 cases pass, 12,000 are past half
    // serde-saphyr's limit, which serde-saphyr itself still takes.
    let mut text = String::from("cases:\n");
    for n in 0..6000 {
        text.push_str(&format!(
            "  - name: c{n}\n    steps:\n      - request: {{ method: GET, path: /{n} }}\n"
        ));
    }
    assert!(super::parse::<CaseFile>(&text).is_some());
    let big = format!("{text}{}", &text["cases:\n".len()..]);
    assert!(slow(&big).is_ok());
    assert!(super::parse::<CaseFile>(&big).is_none());
}

#[test]
fn model_errors_are_left_to_serde_saphyr_for_its_message() {
    // Valid YAML that the model refuses: serde-saphyr must report it.
    left("cases:\n  - name: n\n    stepz: []\n");
    left("cases:\n  - name: n\n    steps:\n      - request: { method: GET }\n");
    left(&with_expect("          status: [ ]\n"));
    left(&with_expect("          status: -5\n"));
}

/// A small deterministic generator (xorshift64*), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Characters that change how YAML reads a line.
const TRICKY: &[&str] = &[
    " ", "  ", "\n", ":", ": ", "-", "- ", "#", " #", "{", "}", "[", "]", ",", "\"", "'", "\\",
    "&", "*", "!", "|", ">", "?", "%", "@", "`", "~", "0", "1", "-1", ".", "e", "x", "null",
    "true", "é", "\t", "''",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut t = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let bounds: Vec<usize> = (0..=t.len()).filter(|&i| t.is_char_boundary(i)).collect();
        let at = bounds[rng.below(bounds.len())];
        match rng.below(6) {
            0 | 1 => t.insert_str(at, TRICKY[rng.below(TRICKY.len())]),
            2 => {
                let end = bounds.iter().copied().find(|&b| b > at).unwrap_or(at);
                t.replace_range(at..end, "");
            }
            3 => {
                let end = bounds.iter().copied().find(|&b| b > at).unwrap_or(at);
                t.replace_range(at..end, TRICKY[rng.below(TRICKY.len())]);
            }
            4 => {
                // Indent or dedent one line.
                let lines: Vec<&str> = t.split('\n').collect();
                let n = rng.below(lines.len());
                let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                if rng.below(2) == 0 {
                    out[n].insert(0, ' ');
                } else if out[n].starts_with(' ') {
                    out[n].remove(0);
                }
                t = out.join("\n");
            }
            _ => {
                // Duplicate a line.
                let lines: Vec<&str> = t.split('\n').collect();
                let n = rng.below(lines.len());
                let mut out: Vec<&str> = lines.clone();
                out.insert(n, lines[n]);
                t = out.join("\n");
            }
        }
    }
    t
}

#[test]
fn mutated_case_files_are_read_as_serde_saphyr_reads_them_or_left_to_it() {
    let mut seeds: Vec<String> = vec![
        with_expect("          status: 200\n          schema: v2User\n          jsonpath:\n            - { path: $.status, equals: ACTIVATED }\n            - { path: $.email, equals: jbloggs@gmail.com }\n"),
        "cases:\n- name: a\n  tags: [x, 'y', \"z\"]\n  steps:\n  - request:\n      method: POST\n      path: /p\n      json: { a: 1, b: [true, null], c: { d: -5 } }\n    expect:\n      status: [200, 4xx]\n      headers:\n        Content-Type: application/json\n".into(),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    for suite in ["palisade", "ledger-enterprise"] {
        for f in std::fs::read_dir(root.join(suite)).unwrap() {
            let f = f.unwrap().path();
            if is_case_file(&f) {
                // The first three cases: small seeds keep serde-saphyr's side
                // of each comparison quick.
                let text = std::fs::read_to_string(&f).unwrap();
                let cut = text
                    .match_indices("\n  - name:")
                    .nth(3)
                    .map_or(text.len(), |(i, _)| i + 1);
                seeds.push(text[..cut].to_string());
            }
        }
    }
    for (i, s) in seeds.iter().enumerate() {
        assert!(agrees(s), "seed {i} is not taken:\n{s}");
    }
    let rounds = if cfg!(debug_assertions) {
        8_000
    } else {
        50_000
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut taken = 0;
    for round in 0..rounds {
        let seed = &seeds[round % seeds.len()];
        let text = mutate(&mut rng, seed);
        taken += usize::from(agrees(&text));
    }
    // Most mutations keep the text in the subset or make it invalid; enough
    // must be taken for the comparison to mean something.
    assert!(
        taken * 10 >= rounds,
        "only {taken} of {rounds} mutated files taken"
    );
}

#[test]
fn the_clean_check_judges_every_byte_at_every_offset() {
    let simple = |b: &[u8]| b.iter().all(|&b| b >= 0x20 && b != 0x7f || b == b'\n');
    let mut text: Vec<u8> = (0..200u32).map(|i| b"ab c\n-:"[(i % 7) as usize]).collect();
    assert!(super::is_clean(&text) && simple(&text));
    for at in [0, 1, 63, 64, 65, 127, 128, 199] {
        for b in [0u8, b'\t', b'\r', 0x1b, 0x1f, 0x7f, b' ', b'\n', 0x80, 0xff] {
            let keep = text[at];
            text[at] = b;
            assert_eq!(super::is_clean(&text), simple(&text), "byte {b:#x} at {at}");
            text[at] = keep;
        }
    }
    assert!(super::is_clean(b""));
}
