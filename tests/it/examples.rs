//! The CI examples in `examples/ci/` (GitHub Actions workflows, a GitLab pipeline) run the real
//! CLI: every `conform …` command in their `run:` and `script:` blocks parses with the current
//! flags, each file runs conform at least once, and each publishes its JUnit report. Their
//! schemas (check-jsonschema) and actionlint are checked by `.ci/check-examples.sh`.
//!
//! Commands are found with a small shell lexer: quotes, backslash-newline continuations,
//! comments, `;` `&&` `||` `|` `&` `(` `)` and redirections split a script into simple commands;
//! wrappers (`nohup`, `if`, `then`, `VAR=value`, …) before `conform` are skipped. Nothing is
//! executed: `$VAR` and GitHub `${{ expr }}` take a plausible value from a table, and a variable
//! without one inside a conform command fails the test (so add it to the table).

use std::path::{Path, PathBuf};

use clap::Parser;
use clap::error::ErrorKind;
use conform::cli::Cli;
use serde_json::Value;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci")
}

/// Every `.yml`/`.yaml` file under `examples/ci/` (dot-files such as `.gitlab-ci.yml` too), sorted.
fn example_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&examples_dir(), &mut out);
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

fn is_github(path: &Path) -> bool {
    path.parent().is_some_and(|p| p.ends_with("github"))
}

fn is_gitlab(path: &Path) -> bool {
    path.parent().is_some_and(|p| p.ends_with("gitlab"))
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", rel(path)))
}

/// Every shell script of a CI file: GitHub `run:`, GitLab `script:`, `before_script:` and
/// `after_script:` (a string or a list of strings, nested lists included).
fn scripts(v: &Value, out: &mut Vec<String>) {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            // e.g. GitHub `defaults: { run: { shell: bash } }`: not a script.
            other => scripts(other, out),
        }
    }
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if matches!(
                    k.as_str(),
                    "run" | "script" | "before_script" | "after_script"
                ) {
                    strings(v, out);
                } else {
                    scripts(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| scripts(v, out)),
        _ => {}
    }
}

/// A plausible value for a shell variable the examples use in conform commands.
fn variable(name: &str) -> Option<&'static str> {
    Some(match name {
        "CONFORM_BASE" => "http://127.0.0.1:8080",
        "SHARD" | "CI_NODE_INDEX" => "1",
        "CI_NODE_TOTAL" => "3",
        "CI_PROJECT_DIR" => "/builds/group/project",
        "GITHUB_WORKSPACE" => "/home/runner/work/project/project",
        "RUNNER_TEMP" => "/home/runner/work/_temp",
        "HOME" => "/home/runner",
        _ => return None,
    })
}

/// A plausible value for a GitHub `${{ expr }}` the examples use in conform commands.
fn expression(expr: &str) -> Option<&'static str> {
    Some(match expr {
        "matrix.shard" => "1",
        "github.workspace" => "/home/runner/work/project/project",
        "runner.temp" => "/home/runner/work/_temp",
        _ => return None,
    })
}

/// One simple shell command: its words, the variables or expressions in it that had no
/// plausible value, and its source text.
#[derive(Debug, Default, Clone, PartialEq)]
struct Command {
    words: Vec<String>,
    unknown: Vec<String>,
    text: String,
}

/// Splits a script into simple commands (see the module docs). Expands nothing but variables.
fn commands(script: &str) -> Vec<Command> {
    let mut lx = Lexer {
        c: script.chars().collect(),
        ..Lexer::default()
    };
    lx.run();
    lx.out
}

#[derive(Default)]
struct Lexer {
    c: Vec<char>,
    i: usize,
    out: Vec<Command>,
    words: Vec<String>,
    unknown: Vec<String>,
    word: String,
    in_word: bool,
    /// The next word is a redirection target, not an argument.
    skip_word: bool,
    start: usize,
}

impl Lexer {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn end_word(&mut self) {
        if self.in_word {
            let w = std::mem::take(&mut self.word);
            if self.skip_word {
                self.skip_word = false;
            } else {
                self.words.push(w);
            }
            self.in_word = false;
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        let text: String = self.c[self.start..self.i.min(self.c.len())]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned();
        if !self.words.is_empty() {
            self.out.push(Command {
                words: std::mem::take(&mut self.words),
                unknown: std::mem::take(&mut self.unknown),
                text,
            });
        }
        self.words.clear();
        self.unknown.clear();
        self.skip_word = false;
        self.start = self.i + 1;
    }

    /// Reads up to (not including) `close` from `self.i`; returns it and moves past `close`.
    fn until(&mut self, close: &str) -> String {
        let close: Vec<char> = close.chars().collect();
        let mut s = String::new();
        while self.i < self.c.len() && !self.c[self.i..].starts_with(&close) {
            s.push(self.c[self.i]);
            self.i += 1;
        }
        self.i = (self.i + close.len()).min(self.c.len());
        s
    }

    /// `${{ expr }}` at `self.i`, substituted before the shell sees the script (even in '…').
    fn github_expression(&mut self) -> bool {
        if self.c[self.i..].starts_with(&['$', '{', '{']) {
            self.i += 3;
            let expr = self.until("}}");
            let expr = expr.trim();
            match expression(expr) {
                Some(v) => self.word.push_str(v),
                None => {
                    self.word.push_str(&format!("<{expr}>"));
                    self.unknown.push(format!("${{{{ {expr} }}}}"));
                }
            }
            self.in_word = true;
            return true;
        }
        false
    }

    /// `$NAME`, `${NAME}`, `$?`, `$(…)` at `self.i` (outside single quotes).
    fn dollar(&mut self) {
        if self.github_expression() {
            return;
        }
        self.in_word = true;
        let name = match self.peek(1) {
            Some('{') => {
                self.i += 2;
                self.until("}")
            }
            Some(ch) if ch == '_' || ch.is_ascii_alphabetic() => {
                self.i += 1;
                let mut name = String::new();
                while let Some(ch) = self
                    .peek(0)
                    .filter(|c| *c == '_' || c.is_ascii_alphanumeric())
                {
                    name.push(ch);
                    self.i += 1;
                }
                name
            }
            Some(ch) if "?#$!@*-".contains(ch) || ch.is_ascii_digit() => {
                self.i += 2;
                self.word.push('0');
                return;
            }
            Some('(') => {
                // Command substitution: kept as written, never run.
                let from = self.i;
                self.i += 2;
                let mut depth = 1;
                while depth > 0 && self.i < self.c.len() {
                    match self.c[self.i] {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
                let text: String = self.c[from..self.i].iter().collect();
                self.word.push_str(&text);
                self.unknown.push(text);
                return;
            }
            _ => {
                self.word.push('$');
                self.i += 1;
                return;
            }
        };
        match variable(&name) {
            Some(v) => self.word.push_str(v),
            None => {
                self.word.push_str(&format!("<{name}>"));
                self.unknown.push(format!("${name}"));
            }
        }
    }

    fn run(&mut self) {
        while self.i < self.c.len() {
            let ch = self.c[self.i];
            match ch {
                '\\' => {
                    // A backslash-newline joins lines; any other escaped character is literal.
                    if let Some(next) = self.peek(1).filter(|&n| n != '\n') {
                        self.word.push(next);
                        self.in_word = true;
                    }
                    self.i += 2;
                }
                '\'' => {
                    self.in_word = true;
                    self.i += 1;
                    while self.i < self.c.len() && self.c[self.i] != '\'' {
                        if !self.github_expression() {
                            self.word.push(self.c[self.i]);
                            self.i += 1;
                        }
                    }
                    self.i += 1;
                }
                '"' => {
                    self.in_word = true;
                    self.i += 1;
                    while self.i < self.c.len() && self.c[self.i] != '"' {
                        match self.c[self.i] {
                            '\\' if self.peek(1).is_some_and(|n| "$`\"\\\n".contains(n)) => {
                                let n = self.c[self.i + 1];
                                if n != '\n' {
                                    self.word.push(n);
                                }
                                self.i += 2;
                            }
                            '$' => self.dollar(),
                            other => {
                                self.word.push(other);
                                self.i += 1;
                            }
                        }
                    }
                    self.i += 1;
                }
                '`' => {
                    self.in_word = true;
                    self.i += 1;
                    let text = self.until("`");
                    self.word.push_str(&format!("`{text}`"));
                    self.unknown.push(format!("`{text}`"));
                }
                '$' => self.dollar(),
                '#' if !self.in_word => {
                    while self.i < self.c.len() && self.c[self.i] != '\n' {
                        self.i += 1;
                    }
                }
                ' ' | '\t' | '\r' => {
                    self.end_word();
                    self.i += 1;
                }
                '\n' | ';' | '&' | '|' | '(' | ')' => {
                    self.end_command();
                    self.i += 1;
                }
                '<' | '>' => {
                    // `2>&1`, `> file`, `>> "$GITHUB_OUTPUT"`, `2>/dev/null`: not arguments.
                    if self.in_word && self.word.chars().all(|c| c.is_ascii_digit()) {
                        self.word.clear();
                        self.in_word = false;
                    } else {
                        self.end_word();
                    }
                    self.i += 1;
                    while self
                        .peek(0)
                        .is_some_and(|c| c == '<' || c == '>' || c == '|')
                    {
                        self.i += 1;
                    }
                    if self.peek(0) == Some('&') {
                        self.i += 1;
                        while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '-') {
                            self.i += 1;
                        }
                    } else {
                        self.skip_word = true;
                    }
                }
                other => {
                    self.word.push(other);
                    self.in_word = true;
                    self.i += 1;
                }
            }
        }
        self.end_command();
    }
}

/// The argv of a command that runs conform (`conform …`, also after `nohup`, `then`, `VAR=x`, …).
fn conform_argv(cmd: &Command) -> Option<&[String]> {
    let is_assignment = |w: &str| {
        w.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        })
    };
    let skip = cmd
        .words
        .iter()
        .take_while(|w| {
            matches!(
                w.as_str(),
                "if" | "then"
                    | "else"
                    | "elif"
                    | "do"
                    | "while"
                    | "until"
                    | "!"
                    | "{"
                    | "time"
                    | "nohup"
                    | "exec"
                    | "command"
            ) || is_assignment(w)
        })
        .count();
    let argv = &cmd.words[skip..];
    (argv.first().map(String::as_str) == Some("conform")).then_some(argv)
}

/// Whether clap accepts `argv` (`--help` and `--version` count as accepted).
fn parses(argv: &[String]) -> Result<(), String> {
    match Cli::try_parse_from(argv) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => Ok(()),
        Err(e) => Err(e.render().to_string()),
    }
}

/// Every conform command of a file, with its argv.
fn conform_commands(path: &Path) -> Vec<(Command, Vec<String>)> {
    let mut texts = Vec::new();
    scripts(&load(path), &mut texts);
    texts
        .iter()
        .flat_map(|s| commands(s))
        .filter_map(|c| {
            let argv = conform_argv(&c)?.to_vec();
            Some((c, argv))
        })
        .collect()
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_examples_are_all_there_and_parse_as_yaml() {
    let files = example_files();
    let names: Vec<String> = files.iter().map(|p| rel(p)).collect();
    for want in [
        "examples/ci/github/pr-gate.yml",
        "examples/ci/github/nightly-sandbox.yml",
        "examples/ci/github/sharded.yml",
        "examples/ci/gitlab/.gitlab-ci.yml",
    ] {
        assert!(names.iter().any(|n| n == want), "missing {want}: {names:?}");
    }
    for path in &files {
        let doc = load(path);
        let top = doc
            .as_object()
            .unwrap_or_else(|| panic!("{}: not a mapping", rel(path)));
        if is_github(path) {
            for key in ["name", "on", "jobs"] {
                assert!(top.contains_key(key), "{}: no `{key}:`", rel(path));
            }
        } else if is_gitlab(path) {
            assert!(top.contains_key("stages"), "{}: no `stages:`", rel(path));
        } else {
            panic!("{}: neither under github/ nor gitlab/", rel(path));
        }
    }
}

#[test]
fn every_conform_command_in_the_examples_parses_with_the_current_cli() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in example_files() {
        let found = conform_commands(&path);
        assert!(
            !found.is_empty(),
            "{}: runs no `conform …` command",
            rel(&path)
        );
        for (cmd, argv) in found {
            checked += 1;
            println!("{}: {}", rel(&path), argv.join(" "));
            if !cmd.unknown.is_empty() {
                failures.push(format!(
                    "{}: `{}`\n  no plausible value for {} (add one to examples.rs)",
                    rel(&path),
                    cmd.text,
                    cmd.unknown.join(", ")
                ));
                continue;
            }
            if let Err(e) = parses(&argv) {
                failures.push(format!(
                    "{}: `{}`\n  argv: {argv:?}\n{e}",
                    rel(&path),
                    cmd.text
                ));
            }
        }
    }
    println!("{checked} conform commands checked");
    assert!(
        failures.is_empty(),
        "conform commands in examples/ci/ that the CLI rejects:\n\n{}",
        failures.join("\n\n")
    );
}

/// Each example does what its name says: a gate, a nightly with a baseline, shards and a merge.
#[test]
fn the_examples_run_what_they_promise() {
    let has = |path: &str, pred: &dyn Fn(&[String]) -> bool, what: &str| {
        let path = examples_dir().join(path);
        let cmds = conform_commands(&path);
        assert!(
            cmds.iter().any(|(_, a)| pred(a)),
            "{}: no {what} among {:?}",
            rel(&path),
            cmds.iter().map(|(c, _)| &c.text).collect::<Vec<_>>()
        );
    };
    let sub = |a: &[String], s: &str| a.get(1).is_some_and(|w| w == s);
    let flag = |a: &[String], f: &str| a.iter().any(|w| w == f || w.starts_with(&format!("{f}=")));
    let run_with = |f: &'static str| move |a: &[String]| sub(a, "run") && flag(a, f);
    let merge = |a: &[String]| sub(a, "merge") && flag(a, "--out");

    has(
        "github/pr-gate.yml",
        &run_with("--target"),
        "`conform run --target`",
    );
    has(
        "github/nightly-sandbox.yml",
        &run_with("--baseline"),
        "`conform run --baseline`",
    );
    has(
        "github/sharded.yml",
        &run_with("--shard"),
        "`conform run --shard`",
    );
    has("github/sharded.yml", &merge, "`conform merge … --out`");
    let gitlab = "gitlab/.gitlab-ci.yml";
    has(gitlab, &run_with("--target"), "`conform run --target`");
    has(gitlab, &run_with("--baseline"), "`conform run --baseline`");
    has(
        gitlab,
        &|a: &[String]| sub(a, "run") && a.windows(2).any(|w| w[0] == "--shard" && w[1] == "auto"),
        "`conform run --shard auto`",
    );
    has(gitlab, &merge, "`conform merge … --out`");
}

/// Each GitHub workflow publishes `reports/junit.xml` (a step `with:` naming it); the GitLab
/// pipeline gives it to `artifacts: reports: junit:`.
#[test]
fn the_examples_publish_the_junit_report() {
    fn mentions(v: &Value, needle: &str) -> bool {
        match v {
            Value::String(s) => s.contains(needle),
            Value::Array(a) => a.iter().any(|v| mentions(v, needle)),
            Value::Object(m) => m.values().any(|v| mentions(v, needle)),
            _ => false,
        }
    }
    for path in example_files() {
        let doc = load(&path);
        let jobs = doc
            .get("jobs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| doc.as_object().cloned().unwrap());
        let published = jobs.values().any(|job| {
            if is_github(&path) {
                job.get("steps")
                    .and_then(Value::as_array)
                    .is_some_and(|steps| {
                        steps.iter().any(|s| {
                            s.get("uses").is_some()
                                && s.get("with")
                                    .is_some_and(|w| mentions(w, "reports/junit.xml"))
                        })
                    })
            } else {
                job.pointer("/artifacts/reports/junit")
                    .is_some_and(|j| mentions(j, "junit.xml"))
            }
        });
        assert!(published, "{}: publishes no JUnit report", rel(&path));
    }
}

/// `uses: owner/repo@vN`: a pinned major version, never a branch.
#[test]
fn github_actions_are_pinned_to_a_major_version() {
    fn uses(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("uses", Value::String(s)) => out.push(s.clone()),
                        _ => uses(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| uses(v, out)),
            _ => {}
        }
    }
    let pinned = regex::Regex::new(r"^[\w.-]+/[\w./-]+@v\d+$").unwrap();
    for path in example_files().into_iter().filter(|p| is_github(p)) {
        let mut found = Vec::new();
        uses(&load(&path), &mut found);
        assert!(!found.is_empty(), "{}: uses no action", rel(&path));
        for u in found {
            assert!(
                pinned.is_match(&u),
                "{}: `uses: {u}` is not pinned to @vN",
                rel(&path)
            );
        }
    }
}

#[test]
fn the_shell_lexer_splits_like_a_shell() {
    let argv = |script: &str| -> Vec<Vec<String>> {
        commands(script).into_iter().map(|c| c.words).collect()
    };
    // Continuations, both quote kinds, a comment.
    assert_eq!(
        argv("conform run --filter 'a b' \\\n  --tag \"x y\" # not an argument\n"),
        vec![words(&[
            "conform", "run", "--filter", "a b", "--tag", "x y"
        ])]
    );
    // Control operators end a command; redirections are not arguments.
    assert_eq!(
        argv("conform check > out.log 2>&1 || code=$?; echo done >> \"$GITHUB_OUTPUT\""),
        vec![
            words(&["conform", "check"]),
            words(&["code=0"]),
            words(&["echo", "done"])
        ]
    );
    assert_eq!(
        argv("nohup conform mock --suite palisade --port 8080 > server.log 2>&1 &"),
        vec![words(&[
            "nohup", "conform", "mock", "--suite", "palisade", "--port", "8080"
        ])]
    );
    // Variables and GitHub expressions take plausible values; unknown ones are reported.
    let cmds = commands(
        "conform run --shard \"${{ matrix.shard }}/3\" --target \"$CONFORM_BASE\" --reports shard-${CI_NODE_INDEX} --junit '$literal'",
    );
    assert_eq!(
        cmds[0].words,
        words(&[
            "conform",
            "run",
            "--shard",
            "1/3",
            "--target",
            "http://127.0.0.1:8080",
            "--reports",
            "shard-1",
            "--junit",
            "$literal"
        ])
    );
    assert!(cmds[0].unknown.is_empty());
    let cmds = commands("conform run --jobs \"$NO_SUCH_VAR\" --tag ${{ github.event.x }}");
    assert_eq!(
        cmds[0].unknown,
        vec![
            "$NO_SUCH_VAR".to_string(),
            "${{ github.event.x }}".to_string()
        ]
    );
    // Wrappers and keywords before conform.
    let cmds = commands("if true; then\n  CONFORM_JOBS=2 conform check\nfi");
    let found: Vec<_> = cmds.iter().filter_map(conform_argv).collect();
    assert_eq!(found, vec![words(&["conform", "check"]).as_slice()]);
    // Not a conform command.
    assert!(
        commands("echo \"conform exited $code\"")
            .iter()
            .all(|c| conform_argv(c).is_none())
    );
}

/// The check has teeth: a flag the CLI does not have, or a missing argument, is rejected.
#[test]
fn a_wrong_conform_command_is_rejected() {
    assert!(
        parses(&words(&[
            "conform",
            "run",
            "--shard",
            "auto",
            "--reports",
            "r"
        ]))
        .is_ok()
    );
    assert!(parses(&words(&["conform", "--version"])).is_ok());
    for bad in [
        &["conform", "run", "--shards", "1/3"][..],
        &["conform", "run", "--jobs", "many"],
        &["conform", "run", "--fail-on", "sometimes"],
        &["conform", "merge", "--out", "reports"],
        &["conform"],
    ] {
        assert!(parses(&words(bad)).is_err(), "{bad:?} should not parse");
    }
}
