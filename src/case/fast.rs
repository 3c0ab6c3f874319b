//! A fast reader for the plain subset of YAML that most case files are
//! written in, tried before serde-saphyr.
//!
//! serde-saphyr costs about 25 µs of CPU a case (its parser alone about
//! 400 ns an event), which made loading the slowest part of a cold run. This
//! reader builds a flat tree of the file and feeds it to the same
//! `Deserialize` impls at a fraction of that cost, most of it building the
//! model itself: a 400-case file of workload W took 1.5 ms on its first read
//! in a process and 0.64 ms after (one thread), against 22.5 ms for
//! serde-saphyr on the 1,000-case file (one thread).
//!
//! It is only ever a shortcut. It reads:
//! - block mappings with plain or quoted keys, and block sequences (also
//!   written at their key's indentation, and `- key: value` items);
//! - one-line flow mappings and sequences (`{ a: b, c: [1, 2] }`);
//! - one-line plain, single-quoted and double-quoted scalars (common escapes);
//! - comments and blank lines.
//!
//! Anything else (anchors, aliases, tags, block scalars, multi-line scalars,
//! document markers, tabs, a `key:` with no value, a duplicate key, a
//! number it does not fully understand) and every error, its own or the
//! model's, gives `None`: the caller then parses with serde-saphyr, which
//! reports errors exactly as before. So this reader never decides whether a
//! file is valid; it only has to give the same model as serde-saphyr for the
//! files it accepts, positions included. `tests` checks that against
//! serde-saphyr on every shipped case file and on many thousand mutated ones.
//!
//! Scalars resolve as serde-saphyr resolves them with conform's options
//! (`strict_booleans`, `leading_zero_numbers_as_strings`): read as text, a
//! plain scalar is its text unless it is null-like; read as any value, it is
//! null, a boolean (`true`, `True`, `TRUE`, …), an integer written in plain
//! decimal, or text. Text starting with a sign, a dot or a digit that could
//! be any other kind of number (`0x1F`, `1e3`, `.5`, `-0`) is left to
//! serde-saphyr.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Reads `text` as `T`, or `None` when the text leaves the subset this
/// reader handles or does not make a `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let (tree, root) = Reader::new(text)?.document()?;
    T::deserialize(At {
        tree: &tree,
        node: &tree.nodes[root as usize],
    })
    .ok()
}

/// Reads `text` as a mapping whose one key is `key`, holding a sequence, and
/// hands each item, read as `T`, to `each` in order, so a caller can use and
/// drop one item before the next is made (with the number of items, so it
/// can make room for what it makes of them). `None` when the text leaves the
/// subset, has another shape, or an item does not make a `T`: by then some
/// items may have been handed over, and the caller undoes what it did with
/// them. For a struct with that one field (and `deny_unknown_fields`), `Some`
/// exactly when [`parse`] gives the struct, with the same items.
pub fn parse_items<T: DeserializeOwned>(
    text: &str,
    key: &str,
    mut each: impl FnMut(T, usize),
) -> Option<()> {
    let (tree, root) = Reader::new(text)?.document()?;
    let Kind::Map { from, len: 1 } = tree.nodes[root as usize].kind else {
        return None;
    };
    let (k, v) = match *tree.kids(from, 2) {
        [k, v] => (&tree.nodes[k as usize], &tree.nodes[v as usize]),
        _ => return None,
    };
    if !matches!(k.kind, Kind::Plain(_) | Kind::Quoted(_) | Kind::Escaped(_)) || tree.text(k) != key
    {
        return None;
    }
    let Kind::Seq { from, len } = v.kind else {
        return None;
    };
    for &item in tree.kids(from, len) {
        let at = At {
            tree: &tree,
            node: &tree.nodes[item as usize],
        };
        each(T::deserialize(at).ok()?, len as usize);
    }
    Some(())
}

/// Most nodes a file may have here: half of serde-saphyr's default
/// `max_nodes`, so a file this reader accepts is never one serde-saphyr's
/// limits would refuse.
const MAX_NODES: usize = 125_000;
/// Deepest nesting, half of serde-saphyr's default `max_depth`.
const MAX_DEPTH: usize = 32;
/// Longest key (YAML's limit for an implicit key is 1024 characters).
const MAX_KEY: usize = 1000;

/// The file as a tree in three flat lists, so that reading a large file
/// makes a few large allocations, freed at once, rather than one per node.
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    /// The children of every collection, each collection's together: a
    /// mapping's as key, value, key, value…
    kids: Vec<u32>,
    /// Double-quoted scalars whose escapes made new text.
    owned: Vec<String>,
}

/// One node, with where it starts (1-based line and column).
#[derive(Debug, Clone, Copy)]
struct Node<'a> {
    line: u32,
    column: u32,
    kind: Kind<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Kind<'a> {
    /// `len` entries at `kids[from..from + 2 * len]`.
    Map {
        from: u32,
        len: u32,
    },
    /// `len` items at `kids[from..from + len]`.
    Seq {
        from: u32,
        len: u32,
    },
    Plain(&'a str),
    Quoted(&'a str),
    /// A quoted scalar at `owned[i]`.
    Escaped(u32),
}

/// A line holding something other than spaces and a comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    /// 1-based.
    no: usize,
    /// Leading spaces.
    indent: usize,
    text: &'a str,
}

impl Line<'_> {
    /// The 1-based line and column (in characters) of byte `at` of this line.
    fn pos(&self, at: usize) -> (u32, u32) {
        let prefix = &self.text[..at];
        let column = if prefix.is_ascii() {
            at
        } else {
            prefix.chars().count()
        };
        (self.no as u32, column as u32 + 1)
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }
}

/// No control character but line feeds, and no DEL. Judged 64 bytes at a
/// time without stopping early, which the compiler turns into vector
/// instructions: a byte at a time, this check was half of splitting a file
/// into lines (callgrind: ~13 instructions a byte).
fn is_clean(bytes: &[u8]) -> bool {
    let bad = |b: u8| (b < 0x20 && b != b'\n') | (b == 0x7f);
    bytes
        .chunks(64)
        .all(|chunk| !chunk.iter().fold(false, |acc, &b| acc | bad(b)))
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The next line to read.
    at: usize,
    tree: Tree<'a>,
    /// The children of the collections being read, innermost last.
    stack: Vec<u32>,
}

/// Stops a read: the text leaves the subset (or is not YAML at all).
type R<T> = Option<T>;

impl<'a> Reader<'a> {
    /// Splits `text` into its content lines, or `None` when it holds
    /// something this reader never takes (tabs, carriage returns, control or
    /// non-printable characters, a byte-order mark, document markers or
    /// directives).
    fn new(text: &'a str) -> R<Self> {
        if !is_clean(text.as_bytes()) || text.len() >= u32::MAX as usize {
            return None;
        }
        if !text.is_ascii()
            && text.chars().any(|c| {
                matches!(
                    c,
                    '\u{80}'
                        ..='\u{9f}'
                            | '\u{2028}'
                            | '\u{2029}'
                            | '\u{feff}'
                            | '\u{fffe}'
                            | '\u{ffff}'
                )
            })
        {
            return None;
        }
        let mut lines = Vec::with_capacity(text.len() / 24);
        for (i, l) in text.split('\n').enumerate() {
            if l.starts_with("---") || l.starts_with("...") || l.starts_with('%') {
                return None;
            }
            let indent = l.len() - l.trim_start_matches(' ').len();
            let rest = &l[indent..];
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            lines.push(Line {
                no: i + 1,
                indent,
                text: l,
            });
        }
        // About two nodes a line, each child listed once.
        let guess = lines.len() * 2;
        Some(Reader {
            lines,
            at: 0,
            tree: Tree {
                nodes: Vec::with_capacity(guess),
                kids: Vec::with_capacity(guess),
                owned: Vec::new(),
            },
            stack: Vec::with_capacity(64),
        })
    }

    /// The whole file: one block mapping or sequence at column 1.
    fn document(mut self) -> R<(Tree<'a>, u32)> {
        let first = *self.lines.first()?;
        if first.indent != 0 {
            return None;
        }
        let root = self.block(0, 0)?;
        (self.at == self.lines.len()).then_some((self.tree, root))
    }

    /// Adds a node, or `None` past the node limit.
    fn node(&mut self, (line, column): (u32, u32), kind: Kind<'a>) -> R<u32> {
        if self.tree.nodes.len() >= MAX_NODES {
            return None;
        }
        self.tree.nodes.push(Node { line, column, kind });
        Some(self.tree.nodes.len() as u32 - 1)
    }

    /// A scalar node for quoted text.
    fn quoted_node(&mut self, pos: (u32, u32), text: Cow<'a, str>) -> R<u32> {
        let kind = match text {
            Cow::Borrowed(t) => Kind::Quoted(t),
            Cow::Owned(t) => {
                self.tree.owned.push(t);
                Kind::Escaped(self.tree.owned.len() as u32 - 1)
            }
        };
        self.node(pos, kind)
    }

    /// Ends collection `node`, whose children are on the stack from `mark`.
    fn close(&mut self, node: u32, mark: usize, map: bool) -> R<u32> {
        let from = self.tree.kids.len() as u32;
        let count = (self.stack.len() - mark) as u32;
        self.tree.kids.extend(self.stack.drain(mark..));
        self.tree.nodes[node as usize].kind = if map {
            let kind = Kind::Map {
                from,
                len: count / 2,
            };
            no_duplicates(&self.tree, kind)?;
            kind
        } else {
            Kind::Seq { from, len: count }
        };
        Some(node)
    }

    /// A block node starting on the current line, indented at least `min`.
    fn block(&mut self, min: usize, depth: usize) -> R<u32> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = *self.lines.get(self.at)?;
        if line.indent < min {
            return None;
        }
        if is_entry(line.text, line.indent) {
            self.block_seq(line.indent, depth)
        } else {
            self.block_map(line.indent, depth)
        }
    }

    /// A block mapping whose keys are at byte `indent` of their lines; the
    /// first key is on the current line.
    fn block_map(&mut self, indent: usize, depth: usize) -> R<u32> {
        let first = self.lines[self.at];
        let node = self.node(first.pos(indent), Kind::Seq { from: 0, len: 0 })?;
        let mark = self.stack.len();
        loop {
            let line = self.lines[self.at];
            let (key, after) = self.key(line, indent)?;
            self.stack.push(key);
            let value_at = skip_spaces(line.text, after);
            let value = if value_at == line.text.len() || line.byte(value_at) == Some(b'#') {
                // The value is the block below: more indented, or a sequence
                // at the key's own indentation.
                self.at += 1;
                let next = *self.lines.get(self.at)?;
                if next.indent > indent {
                    self.block(indent + 1, depth + 1)?
                } else if next.indent == indent && is_entry(next.text, indent) {
                    self.block_seq(indent, depth + 1)?
                } else {
                    return None;
                }
            } else {
                let v = self.inline(line, value_at, depth + 1)?;
                self.at += 1;
                v
            };
            self.stack.push(value);
            match self.lines.get(self.at) {
                None => break,
                Some(n) if n.indent < indent => break,
                Some(n) if n.indent == indent && !is_entry(n.text, indent) => continue,
                Some(_) => return None,
            }
        }
        self.close(node, mark, true)
    }

    /// A block sequence whose `-` are at byte `indent`; the first is on the
    /// current line.
    fn block_seq(&mut self, indent: usize, depth: usize) -> R<u32> {
        let node = self.node(
            self.lines[self.at].pos(indent),
            Kind::Seq { from: 0, len: 0 },
        )?;
        let mark = self.stack.len();
        loop {
            let line = self.lines[self.at];
            let at = skip_spaces(line.text, indent + 1);
            if at == line.text.len() || line.byte(at) == Some(b'#') || is_entry(line.text, at) {
                // `-` alone on its line, or `- - x`.
                return None;
            }
            let item = if key_at(line.text, at).is_some() {
                self.block_map(at, depth + 1)?
            } else {
                let v = self.inline(line, at, depth + 1)?;
                self.at += 1;
                v
            };
            self.stack.push(item);
            match self.lines.get(self.at) {
                None => break,
                Some(n) if n.indent < indent => break,
                Some(n) if n.indent == indent && is_entry(n.text, indent) => continue,
                // The key of the mapping this sequence is the value of.
                Some(n) if n.indent == indent => break,
                Some(_) => return None,
            }
        }
        self.close(node, mark, false)
    }

    /// The key of a block mapping entry at byte `at` of `line`, and the byte
    /// after its `:`.
    fn key(&mut self, line: Line<'a>, at: usize) -> R<(u32, usize)> {
        let (text, after) = key_at(line.text, at)?;
        let node = match text {
            Key::Plain(t) => self.node(line.pos(at), Kind::Plain(t))?,
            Key::Quoted(t) => self.quoted_node(line.pos(at), t)?,
        };
        Some((node, after))
    }

    /// A value written on the rest of the line from byte `at`: a flow
    /// collection or a scalar, then only spaces and a comment.
    fn inline(&mut self, line: Line<'a>, at: usize, depth: usize) -> R<u32> {
        let s = line.text;
        let b = line.byte(at)?;
        let (node, end) = match b {
            b'[' | b'{' => self.flow(line, at, depth)?,
            b'"' | b'\'' => {
                let (text, end) = quoted(s, at)?;
                (self.quoted_node(line.pos(at), text)?, end)
            }
            b if starts_plain(s, at, b, false) => {
                let (end, stop) = plain_end(s, at, false);
                if stop == Stop::Colon {
                    return None;
                }
                (self.node(line.pos(at), Kind::Plain(&s[at..end]))?, end)
            }
            _ => return None,
        };
        rest_is_blank(s, end).then_some(node)
    }

    /// A one-line flow collection starting at byte `at` (`[` or `{`) and the
    /// byte after its closing bracket.
    fn flow(&mut self, line: Line<'a>, at: usize, depth: usize) -> R<(u32, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let node = self.node(line.pos(at), Kind::Seq { from: 0, len: 0 })?;
        let mark = self.stack.len();
        let s = line.text;
        let is_map = line.byte(at)? == b'{';
        let close = if is_map { b'}' } else { b']' };
        let mut i = skip_spaces(s, at + 1);
        if line.byte(i)? != close {
            loop {
                if is_map {
                    let (key, end) = self.flow_scalar(line, i)?;
                    // `key: value`, with a space after the colon.
                    if s.as_bytes().get(end) != Some(&b':')
                        || s.as_bytes().get(end + 1) != Some(&b' ')
                        || end - i > MAX_KEY
                    {
                        return None;
                    }
                    self.stack.push(key);
                    i = skip_spaces(s, end + 1);
                }
                let (value, end) = self.flow_value(line, i, depth + 1)?;
                self.stack.push(value);
                i = skip_spaces(s, end);
                match line.byte(i)? {
                    b',' => {
                        i = skip_spaces(s, i + 1);
                        // A trailing comma is left to serde-saphyr.
                        if line.byte(i)? == close {
                            return None;
                        }
                    }
                    b if b == close => break,
                    _ => return None,
                }
            }
        }
        Some((self.close(node, mark, is_map)?, i + 1))
    }

    /// A value inside a flow collection, and the byte after it.
    fn flow_value(&mut self, line: Line<'a>, at: usize, depth: usize) -> R<(u32, usize)> {
        match line.byte(at)? {
            b'[' | b'{' => self.flow(line, at, depth),
            _ => {
                let (node, end) = self.flow_scalar(line, at)?;
                // `[a: b]` is a one-entry mapping: left to serde-saphyr.
                if line.byte(end) == Some(b':') {
                    return None;
                }
                Some((node, end))
            }
        }
    }

    /// A scalar inside a flow collection, and the byte after it (plain
    /// scalars end before `,`, a bracket, `: ` or ` #`).
    fn flow_scalar(&mut self, line: Line<'a>, at: usize) -> R<(u32, usize)> {
        let s = line.text;
        let b = line.byte(at)?;
        if b == b'"' || b == b'\'' {
            let (text, end) = quoted(s, at)?;
            Some((self.quoted_node(line.pos(at), text)?, end))
        } else if starts_plain(s, at, b, true) {
            let (end, stop) = plain_end(s, at, true);
            if stop == Stop::Comment || end == at {
                return None;
            }
            Some((self.node(line.pos(at), Kind::Plain(&s[at..end]))?, end))
        } else {
            None
        }
    }
}

/// A block mapping key as written.
enum Key<'a> {
    Plain(&'a str),
    Quoted(Cow<'a, str>),
}

/// The key of a block mapping entry at byte `at` of `s` and the byte after
/// its `:`, or `None` when there is no such key there.
fn key_at(s: &str, at: usize) -> R<(Key<'_>, usize)> {
    let (key, end) = match *s.as_bytes().get(at)? {
        b'"' | b'\'' => {
            let (text, end) = quoted(s, at)?;
            (Key::Quoted(text), end)
        }
        b if starts_plain(s, at, b, false) => {
            let (end, stop) = plain_end(s, at, false);
            if stop != Stop::Colon {
                return None;
            }
            (Key::Plain(&s[at..end]), end)
        }
        _ => return None,
    };
    if end - at > MAX_KEY || s.as_bytes().get(end) != Some(&b':') {
        return None;
    }
    if !matches!(s.as_bytes().get(end + 1), None | Some(b' ')) {
        return None;
    }
    Some((key, end + 1))
}

/// Whether byte `at` of `s` begins a block sequence entry (`-` then a space
/// or the end of the line).
fn is_entry(s: &str, at: usize) -> bool {
    let b = s.as_bytes();
    b.get(at) == Some(&b'-') && matches!(b.get(at + 1), None | Some(b' '))
}

fn skip_spaces(s: &str, mut at: usize) -> usize {
    let b = s.as_bytes();
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Whether only spaces and a comment follow byte `at`.
fn rest_is_blank(s: &str, at: usize) -> bool {
    let next = skip_spaces(s, at);
    next == s.len() || (next > at && s.as_bytes()[next] == b'#')
}

/// Whether a plain scalar may start with byte `b` at `at`: not an indicator,
/// except `-` before a character that is not a space (`-5`, `-x`).
fn starts_plain(s: &str, at: usize, b: u8, flow: bool) -> bool {
    match b {
        b'-' => match s.as_bytes().get(at + 1) {
            None | Some(b' ') => false,
            Some(b',' | b'[' | b']' | b'{' | b'}') => !flow,
            Some(_) => true,
        },
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        _ => true,
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Stop {
    /// The end of the line, or (in a flow collection) a `,` or bracket.
    End,
    /// A `:` followed by a space or the end of the line (or, in a flow, by a
    /// `,` or bracket).
    Colon,
    /// ` #`.
    Comment,
}

/// Where a plain scalar starting at byte `at` ends (trailing spaces
/// excluded), and why.
fn plain_end(s: &str, at: usize, flow: bool) -> (usize, Stop) {
    let b = s.as_bytes();
    let mut i = at;
    let stop = loop {
        let Some(&c) = b.get(i) else {
            break Stop::End;
        };
        match c {
            b':' => match b.get(i + 1) {
                None | Some(b' ') => break Stop::Colon,
                Some(b',' | b'[' | b']' | b'{' | b'}') if flow => break Stop::Colon,
                _ => {}
            },
            b'#' if b[i - 1] == b' ' => break Stop::Comment,
            b',' | b'[' | b']' | b'{' | b'}' if flow => break Stop::End,
            _ => {}
        }
        i += 1;
    };
    let mut end = i;
    while end > at && b[end - 1] == b' ' {
        end -= 1;
    }
    (end, stop)
}

/// A one-line quoted scalar starting at byte `at` (its quote) and the byte
/// after its closing quote.
fn quoted(s: &str, at: usize) -> R<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    let q = b[at];
    let start = at + 1;
    let mut i = start;
    let mut owned: Option<String> = None;
    let mut from = start;
    loop {
        let c = *b.get(i)?;
        if c == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                let o = owned.get_or_insert_with(String::new);
                o.push_str(&s[from..=i]);
                i += 2;
                from = i;
                continue;
            }
            let text = match owned {
                None => Cow::Borrowed(&s[start..i]),
                Some(mut o) => {
                    o.push_str(&s[from..i]);
                    Cow::Owned(o)
                }
            };
            return Some((text, i + 1));
        }
        if c == b'\\' && q == b'"' {
            let e = match *b.get(i + 1)? {
                b'0' => '\0',
                b'a' => '\x07',
                b'b' => '\x08',
                b't' => '\t',
                b'n' => '\n',
                b'v' => '\x0b',
                b'f' => '\x0c',
                b'r' => '\r',
                b'e' => '\x1b',
                b' ' => ' ',
                b'"' => '"',
                b'/' => '/',
                b'\\' => '\\',
                _ => return None,
            };
            let o = owned.get_or_insert_with(String::new);
            o.push_str(&s[from..i]);
            o.push(e);
            i += 2;
            from = i;
            continue;
        }
        i += 1;
    }
}

/// `None` when two keys of mapping `map` are the same text (serde-saphyr's
/// default is to refuse the file).
fn no_duplicates(tree: &Tree<'_>, map: Kind<'_>) -> R<()> {
    let Kind::Map { from, len } = map else {
        return Some(());
    };
    let kids = tree.kids(from, 2 * len);
    let key = |i: usize| tree.text(&tree.nodes[kids[2 * i] as usize]);
    let len = len as usize;
    if len <= 16 {
        for i in 1..len {
            if (0..i).any(|j| key(i) == key(j)) {
                return None;
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(len);
        if !(0..len).all(|i| seen.insert(key(i))) {
            return None;
        }
    }
    Some(())
}

impl<'a> Tree<'a> {
    /// A scalar's text ("" for a collection).
    fn text<'t>(&'t self, n: &Node<'a>) -> &'t str {
        match n.kind {
            Kind::Plain(s) | Kind::Quoted(s) => s,
            Kind::Escaped(i) => &self.owned[i as usize],
            Kind::Map { .. } | Kind::Seq { .. } => "",
        }
    }

    fn kids(&self, from: u32, len: u32) -> &[u32] {
        &self.kids[from as usize..][..len as usize]
    }
}

// ---- the tree as a serde Deserializer ----

/// Any error: the model refused the tree, or a scalar was asked for as a type
/// this reader leaves to serde-saphyr. The caller only sees `None`.
#[derive(Debug)]
struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("left to serde-saphyr")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

/// What a plain scalar is when read as any value.
enum Plain<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Text(&'a str),
}

/// Resolves a plain scalar as serde-saphyr's `deserialize_any` does, or
/// `None` for a spelling that might be a number this reader does not parse.
fn resolve(s: &str) -> Option<Plain<'_>> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Plain::Null),
        "true" | "True" | "TRUE" => return Some(Plain::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Plain::Bool(false)),
        _ => {}
    }
    let b = s.as_bytes();
    let digits = |t: &[u8]| !t.is_empty() && t.iter().all(u8::is_ascii_digit);
    match b[0] {
        b'1'..=b'9' if digits(b) => s.parse().ok().map(Plain::Unsigned),
        b'0' if s == "0" => Some(Plain::Unsigned(0)),
        b'-' if b.len() > 1 && b[1] != b'0' && digits(&b[1..]) => s.parse().ok().map(Plain::Signed),
        // Not an integer in any radix (no radix prefix, not only digits and
        // underscores) and not a float by Rust's parser, which is
        // serde-saphyr's fallback: text, such as `2xx` or `5s`.
        b'1'..=b'9'
            if !b.iter().all(|c| c.is_ascii_digit() || *c == b'_') && s.parse::<f64>().is_err() =>
        {
            Some(Plain::Text(s))
        }
        b'0'..=b'9' | b'+' | b'-' | b'.' => None,
        _ => Some(Plain::Text(s)),
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// A node of the tree, as serde reads it.
#[derive(Clone, Copy)]
struct At<'t, 'a> {
    tree: &'t Tree<'a>,
    node: &'t Node<'a>,
}

impl<'t, 'a> At<'t, 'a> {
    fn at(&self, i: u32) -> At<'t, 'a> {
        At {
            tree: self.tree,
            node: &self.tree.nodes[i as usize],
        }
    }

    /// A scalar's text and whether it was plain, or `None` for a collection.
    fn scalar(&self) -> Option<(&'t str, bool)> {
        match self.node.kind {
            Kind::Plain(s) => Some((s, true)),
            Kind::Quoted(s) => Some((s, false)),
            Kind::Escaped(i) => Some((&self.tree.owned[i as usize], false)),
            Kind::Map { .. } | Kind::Seq { .. } => None,
        }
    }

    fn map<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.node.kind {
            Kind::Map { from, len } => v.visit_map(MapAccess {
                at: self,
                kids: self.tree.kids(from, 2 * len).iter(),
            }),
            _ => Err(Bail),
        }
    }

    fn seq<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.node.kind {
            Kind::Seq { from, len } => v.visit_seq(SeqAccess {
                at: self,
                kids: self.tree.kids(from, len).iter(),
            }),
            _ => Err(Bail),
        }
    }
}

impl<'de> de::Deserializer<'de> for At<'_, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.scalar() {
            None if matches!(self.node.kind, Kind::Map { .. }) => self.map(v),
            None => self.seq(v),
            Some((s, false)) => v.visit_str(s),
            Some((s, true)) => match resolve(s).ok_or(Bail)? {
                Plain::Null => v.visit_unit(),
                Plain::Bool(b) => v.visit_bool(b),
                Plain::Unsigned(n) => v.visit_u64(n),
                Plain::Signed(n) => v.visit_i64(n),
                Plain::Text(t) => v.visit_str(t),
            },
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.scalar() {
            Some((s, plain)) if !(plain && is_null(s)) => v.visit_str(s),
            _ => Err(Bail),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_str(v)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.scalar() {
            Some((s, true)) => match resolve(s) {
                Some(Plain::Bool(b)) => v.visit_bool(b),
                _ => Err(Bail),
            },
            _ => Err(Bail),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.scalar() {
            Some((s, true)) => match resolve(s) {
                Some(Plain::Unsigned(n)) => v.visit_u64(n),
                _ => Err(Bail),
            },
            _ => Err(Bail),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.scalar() {
            Some((s, true)) if is_null(s) => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Bail> {
        if name == "__yaml_spanned" {
            v.visit_newtype_struct(Spanned(self))
        } else if name.starts_with("__yaml") {
            Err(Bail)
        } else {
            v.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.map(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bail> {
        self.map(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        v.visit_unit()
    }

    // Every other type is left to serde-saphyr.
    fn deserialize_i8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_unit<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }
}

struct SeqAccess<'t, 'a> {
    at: At<'t, 'a>,
    kids: std::slice::Iter<'t, u32>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, '_> {
    type Error = Bail;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        self.kids
            .next()
            .map(|&k| seed.deserialize(self.at.at(k)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.kids.len())
    }
}

/// Keys and values alternate in `kids`.
struct MapAccess<'t, 'a> {
    at: At<'t, 'a>,
    kids: std::slice::Iter<'t, u32>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, '_> {
    type Error = Bail;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        self.kids
            .next()
            .map(|&k| seed.deserialize(self.at.at(k)))
            .transpose()
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        let &k = self.kids.next().ok_or(Bail)?;
        seed.deserialize(self.at.at(k))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.kids.len() / 2)
    }
}

/// A node asked for with its position: conform's `S<T>` takes
/// `[line, column, value]`, the form it also reads from the parse cache.
struct Spanned<'t, 'a>(At<'t, 'a>);

impl<'de> de::Deserializer<'de> for Spanned<'_, '_> {
    type Error = Bail;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        v.visit_seq(SpannedSeq {
            node: self.0,
            next: 0,
        })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct SpannedSeq<'t, 'a> {
    node: At<'t, 'a>,
    next: u8,
}

impl<'de> de::SeqAccess<'de> for SpannedSeq<'_, '_> {
    type Error = Bail;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        self.next += 1;
        let n = |x: u32| -> de::value::U64Deserializer<Bail> { u64::from(x).into_deserializer() };
        match self.next {
            1 => seed.deserialize(n(self.node.node.line)).map(Some),
            2 => seed.deserialize(n(self.node.node.column)).map(Some),
            3 => seed.deserialize(self.node).map(Some),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests;
