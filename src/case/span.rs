//! Source positions and load diagnostics.
//!
//! Every problem found while loading or planning case files, suite files and
//! schemas becomes a [`Diagnostic`] with the file, line and column it points
//! at and a rustc-style snippet of the source, so a user can fix all of them
//! in one go.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a source file (1-based line and column, in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: usize, column: usize) -> Self {
        Pos { line, column }
    }

    pub(crate) fn from_location(loc: &serde_saphyr::Location) -> Self {
        Pos {
            line: loc.line() as usize,
            column: loc.column() as usize,
        }
    }
}

/// A loaded source file, shared by everything that points into it.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path as given to the loader (relative to the working directory when possible).
    pub path: PathBuf,
    /// The full text.
    pub text: Arc<str>,
    /// Byte offsets of line starts, indexed once on first use (many diagnostics in one
    /// file must not each re-scan it).
    line_starts: Arc<std::sync::OnceLock<Vec<usize>>>,
}

impl Source {
    /// A source from its path and text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
            line_starts: Arc::default(),
        }
    }

    /// Line `n` (1-based), without its line break.
    pub fn line(&self, n: usize) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(n.checked_sub(1)?)?;
        if start > self.text.len() || (start == self.text.len() && n > 1) {
            return None;
        }
        let end = starts.get(n).map_or(self.text.len(), |e| e - 1);
        Some(self.text[start..end].trim_end_matches('\r'))
    }
}

/// Longest stretch of a source line a diagnostic quotes.
const WINDOW: usize = 120;
/// Longest message kept (a message may quote an enormous key).
const MAX_MESSAGE: usize = 400;

fn cut_message(m: String) -> String {
    if m.chars().count() <= MAX_MESSAGE {
        return m;
    }
    let kept: String = m.chars().take(MAX_MESSAGE).collect();
    format!("{kept}… ({} characters in all)", m.chars().count())
}

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Where in the file.
    pub pos: Pos,
    /// Column of the caret within `line_text` (differs from `pos.column` when a long line is windowed).
    pub caret: usize,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// The offending source line, when known.
    pub line_text: Option<String>,
    /// Width of the underline, in characters.
    pub width: usize,
    /// A hint such as "did you mean `schema`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at `pos` in `source`; the underline spans the token found there.
    pub fn at(source: &Source, pos: Pos, message: impl Into<String>) -> Self {
        let full = (pos.line > 0).then(|| source.line(pos.line)).flatten();
        let (line_text, caret, width) = match full {
            None => (None, pos.column, 1),
            Some(line) => {
                let width = token_width(line, pos.column);
                let len = line.chars().count();
                if len <= WINDOW {
                    (Some(line.to_owned()), pos.column, width)
                } else {
                    // A window around the column, so a 1 MB line gives a short diagnostic.
                    let col0 = pos.column.saturating_sub(1).min(len);
                    let start = col0.saturating_sub(WINDOW / 3);
                    let end = (start + WINDOW).min(len);
                    let mut text: String = line.chars().skip(start).take(end - start).collect();
                    let mut caret = col0 - start + 1;
                    if start > 0 {
                        text.insert(0, '…');
                        caret += 1;
                    }
                    if end < len {
                        text.push('…');
                    }
                    let width = width.min(end.saturating_sub(col0).max(1));
                    (Some(text), caret, width)
                }
            }
        };
        Diagnostic {
            file: source.path.clone(),
            pos,
            caret,
            message: cut_message(message.into()),
            line_text,
            width,
            help: None,
        }
    }

    /// A diagnostic about a whole file (no position).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            file: path.to_path_buf(),
            pos: Pos::default(),
            caret: 0,
            message: cut_message(message.into()),
            line_text: None,
            width: 0,
            help: None,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a hint when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Width of the token starting at 1-based character `column`: up to the next
/// whitespace (or the end of a quoted string), at least 1.
fn token_width(line: &str, column: usize) -> usize {
    // At most a window's worth is looked at: a token on a 1 MB line is not walked whole.
    let rest: Vec<char> = line
        .chars()
        .skip(column.saturating_sub(1))
        .take(WINDOW + 1)
        .collect();
    match rest.first() {
        None => 1,
        Some(&q @ ('"' | '\'')) => rest[1..]
            .iter()
            .position(|&c| c == q)
            .map(|i| i + 2)
            .unwrap_or(rest.len()),
        Some(_) => rest
            .iter()
            .position(|c| c.is_whitespace())
            .unwrap_or(rest.len())
            .max(1),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let file = self.file.display();
        if self.pos.line == 0 {
            writeln!(f, "  --> {file}")?;
        } else {
            writeln!(f, "  --> {file}:{}:{}", self.pos.line, self.pos.column)?;
        }
        if let Some(text) = &self.line_text {
            let num = self.pos.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {}", text.trim_end())?;
            let indent: String = text
                .chars()
                .take(self.caret.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} | {indent}{}", "^".repeat(self.width.max(1)))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in one load, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by file, then position, and drops exact duplicates.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (&a.file, a.pos.line, a.pos.column).cmp(&(&b.file, b.pos.line, b.pos.column))
        });
        self.0.dedup();
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "error: could not load the cases: {n} problem{} found; nothing was sent",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// "did you mean `x`?" for a word close to one of `candidates` (Levenshtein, as hurl does).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_snippet_with_underline() {
        let src = Source::new("cases/a.yaml", "cases:\n  - name: x\n    schema: v2Usr\n");
        let d = Diagnostic::at(&src, Pos::new(3, 13), "unknown schema `v2Usr`")
            .with_help("did you mean `v2User`?");
        let text = d.to_string();
        assert_eq!(
            text,
            "error: unknown schema `v2Usr`\n  --> cases/a.yaml:3:13\n  |\n3 |     schema: v2Usr\n  |             ^^^^^\n  = help: did you mean `v2User`?\n"
        );
    }

    #[test]
    fn quoted_token_width_covers_the_quotes() {
        assert_eq!(token_width(r#"  path: "$.a b" x"#, 9), 7);
        assert_eq!(token_width("abc", 10), 1);
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("shcema", ["schema", "status"]),
            Some("did you mean `schema`?".into())
        );
        assert_eq!(did_you_mean("zzzzzz", ["schema", "status"]), None);
    }
}
