//! Negative cases — patterns: a model of the simple regexes whose language can
//! be reasoned about with certainty, to build strings that match a `pattern`
//! and strings that certainly do not.
//!
//! Handled: `^…$`-anchored sequences of single-character atoms (a literal, an
//! escaped character, `.`, `\d`, `\w`, `\s`, or a class such as `[A-Za-z0-9_]`
//! or `[^,]`), each with an optional quantifier (`?`, `*`, `+`, `{n}`, `{n,}`,
//! `{n,m}`). Anything else (groups, alternation, look-around, `\p{…}`, an
//! unanchored end) is refused, and the caller skips the pattern's rules.
//!
//! Why the results are certain under ECMA-262 semantics (what JSON Schema
//! means) and under the Rust engine jsonschema uses: every generated string is
//! printable ASCII, where `\d`, `\w` and `\s` mean the same in both (they differ
//! only beyond ASCII); each atom consumes exactly one character per
//! repetition, so a match has between Σmin and Σmax characters; and a string
//! holding a character that no atom accepts cannot match an anchored pattern.

/// One character set.
#[derive(Debug, Clone, PartialEq)]
enum Set {
    /// `.`: any character but a line terminator.
    Any,
    /// Ranges, possibly negated.
    Ranges {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

impl Set {
    fn contains(&self, c: char) -> bool {
        match self {
            Set::Any => c != '\n' && c != '\r',
            Set::Ranges { ranges, negated } => {
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Atom {
    set: Set,
    min: usize,
    max: Option<usize>,
}

/// A pattern this module can reason about.
#[derive(Debug, Clone, PartialEq)]
pub struct SimplePattern {
    atoms: Vec<Atom>,
}

/// Characters preferred for matching strings (no `{`/`}`: case files template `{{…}}`).
const GOOD: &str = "abcxyzABCXYZ0123456789_-.:@+=,;/!#$%&*()[]^|~<>?'\" ";
/// Characters tried, in order, as one no atom accepts.
const BAD: &str = "!#%&*+,;<=>?@^|~/:.-_ $()[]'\"zZ9a0";

const D: &[(char, char)] = &[('0', '9')];
const W: &[(char, char)] = &[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
const S: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

impl SimplePattern {
    /// Parses `pattern`; `Err` says why it is not handled.
    pub fn parse(pattern: &str) -> Result<SimplePattern, String> {
        let body = pattern
            .strip_prefix('^')
            .ok_or("it is not anchored with `^`")?;
        let body = body
            .strip_suffix('$')
            .filter(|b| !b.ends_with('\\') || b.ends_with("\\\\"))
            .ok_or("it is not anchored with `$`")?;
        let chars: Vec<char> = body.chars().collect();
        let mut atoms = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (set, next) = match chars[i] {
                '[' => class(&chars, i + 1)?,
                '\\' => (escape(chars.get(i + 1).copied())?, i + 2),
                '.' => (Set::Any, i + 1),
                c @ ('(' | ')' | '|' | '^' | '$' | '{' | '}' | '*' | '+' | '?' | ']') => {
                    return Err(format!("it uses `{c}` outside a simple sequence"));
                }
                c => (lit(c), i + 1),
            };
            let (min, max, next) = quantifier(&chars, next)?;
            atoms.push(Atom { set, min, max });
            i = next;
        }
        Ok(SimplePattern { atoms })
    }

    /// Shortest and longest matching length (`None`: unbounded).
    pub fn bounds(&self) -> (usize, Option<usize>) {
        let min = self.atoms.iter().map(|a| a.min).sum();
        let max = self
            .atoms
            .iter()
            .try_fold(0usize, |acc, a| a.max.map(|m| acc + m));
        (min, max)
    }

    /// A matching string of exactly `len` characters, when there is one this model can build.
    pub fn matching(&self, len: usize) -> Option<String> {
        let (min, max) = self.bounds();
        if len < min || max.is_some_and(|m| len > m) {
            return None;
        }
        let mut extra = len - min;
        let mut out = String::new();
        for a in &self.atoms {
            let c = GOOD.chars().find(|c| a.set.contains(*c))?;
            let room = a.max.map_or(extra, |m| (m - a.min).min(extra));
            extra -= room;
            out.extend(std::iter::repeat_n(c, a.min + room));
        }
        (extra == 0).then_some(out)
    }

    /// A printable ASCII character no atom accepts, when there is one.
    pub fn foreign_char(&self) -> Option<char> {
        BAD.chars()
            .find(|c| self.atoms.iter().all(|a| !a.set.contains(*c)))
    }
}

fn lit(c: char) -> Set {
    Set::Ranges {
        ranges: vec![(c, c)],
        negated: false,
    }
}

fn escape(c: Option<char>) -> Result<Set, String> {
    let c = c.ok_or("it ends with `\\`")?;
    Ok(match c {
        'd' => Set::Ranges {
            ranges: D.to_vec(),
            negated: false,
        },
        'w' => Set::Ranges {
            ranges: W.to_vec(),
            negated: false,
        },
        's' => Set::Ranges {
            ranges: S.to_vec(),
            negated: false,
        },
        'D' | 'W' | 'S' => Set::Ranges {
            ranges: match c {
                'D' => D.to_vec(),
                'W' => W.to_vec(),
                _ => S.to_vec(),
            },
            negated: true,
        },
        c if c.is_ascii_punctuation() => lit(c),
        c => return Err(format!("it uses the escape `\\{c}`")),
    })
}

/// Parses a class starting after `[`; returns the set and the index after `]`.
fn class(chars: &[char], mut i: usize) -> Result<(Set, usize), String> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i).ok_or("a class is not closed")?;
        if c == ']' && !first {
            return Ok((Set::Ranges { ranges, negated }, i + 1));
        }
        first = false;
        let (lo, next) = match c {
            '\\' => {
                let e = *chars.get(i + 1).ok_or("a class is not closed")?;
                match e {
                    'd' => {
                        ranges.extend_from_slice(D);
                        i += 2;
                        continue;
                    }
                    'w' => {
                        ranges.extend_from_slice(W);
                        i += 2;
                        continue;
                    }
                    's' => {
                        ranges.extend_from_slice(S);
                        i += 2;
                        continue;
                    }
                    e if e.is_ascii_punctuation() => (e, i + 2),
                    e => return Err(format!("it uses the escape `\\{e}` in a class")),
                }
            }
            '[' => return Err("it nests `[` in a class".to_owned()),
            c => (c, i + 1),
        };
        if chars.get(next) == Some(&'-') && chars.get(next + 1).is_some_and(|c| *c != ']') {
            let hi = chars[next + 1];
            if hi == '\\' || hi == '[' {
                return Err("it uses an escape as a range end".to_owned());
            }
            if hi < lo {
                return Err(format!("it has the empty range `{lo}-{hi}`"));
            }
            ranges.push((lo, hi));
            i = next + 2;
        } else {
            ranges.push((lo, lo));
            i = next;
        }
    }
}

/// Parses an optional quantifier at `i`; returns (min, max, index after it).
fn quantifier(chars: &[char], i: usize) -> Result<(usize, Option<usize>, usize), String> {
    let (min, max, mut next) = match chars.get(i) {
        Some('?') => (0, Some(1), i + 1),
        Some('*') => (0, None, i + 1),
        Some('+') => (1, None, i + 1),
        Some('{') => {
            let close = chars[i..]
                .iter()
                .position(|c| *c == '}')
                .ok_or("a `{` is not closed")?
                + i;
            let inner: String = chars[i + 1..close].iter().collect();
            let num = |s: &str| {
                s.parse::<usize>()
                    .map_err(|_| format!("it has the quantifier `{{{inner}}}`"))
            };
            let (min, max) = match inner.split_once(',') {
                None => {
                    let n = num(&inner)?;
                    (n, Some(n))
                }
                Some((a, "")) => (num(a)?, None),
                Some((a, b)) => (num(a)?, Some(num(b)?)),
            };
            if max.is_some_and(|m| m < min) {
                return Err(format!("it has the quantifier `{{{inner}}}`"));
            }
            (min, max, close + 1)
        }
        _ => return Ok((1, Some(1), i)),
    };
    if chars.get(next) == Some(&'?') {
        next += 1; // lazy: same language when anchored
    }
    if matches!(chars.get(next), Some('?' | '*' | '+' | '{')) {
        return Err("it stacks quantifiers".to_owned());
    }
    Ok((min, max, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_patterns_build_matching_and_foreign_strings() {
        let p = SimplePattern::parse("^[A-Za-z0-9_]{1,20}$").unwrap();
        assert_eq!(p.bounds(), (1, Some(20)));
        assert_eq!(p.matching(3).as_deref(), Some("aaa"));
        assert_eq!(p.matching(21), None);
        assert_eq!(p.foreign_char(), Some('!'));

        let p = SimplePattern::parse(r"^\w{3}-\d+$").unwrap();
        assert_eq!(p.bounds(), (5, None));
        assert_eq!(p.matching(7).as_deref(), Some("aaa-000"));
        assert_eq!(p.foreign_char(), Some('!'));

        let p = SimplePattern::parse("^[^,]*$").unwrap();
        assert_eq!(p.foreign_char(), Some(','));
        assert_eq!(p.matching(2).as_deref(), Some("aa"));

        assert!(
            SimplePattern::parse("^.+$")
                .unwrap()
                .foreign_char()
                .is_none()
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for p in [
            "[a-z]+",
            "^[a-z]+",
            "^(ab)+$",
            "^a|b$",
            r"^\p{L}+$",
            r"^\bx$",
            "^a{2,1}$",
            "^a**$",
        ] {
            assert!(SimplePattern::parse(p).is_err(), "{p}");
        }
    }

    /// What the model claims agrees with the regex engine jsonschema uses.
    #[test]
    fn claims_agree_with_the_engine() {
        for pat in [
            "^[A-Za-z0-9_]{1,20}$",
            r"^\w{3}-\d+$",
            "^[^,]*$",
            r"^[a-f\d]{2,4}x?$",
            r"^\.[\-a]{0,3}$",
        ] {
            let re = regex::Regex::new(pat).unwrap();
            let p = SimplePattern::parse(pat).unwrap();
            let (lo, hi) = p.bounds();
            for len in 0..12 {
                if let Some(s) = p.matching(len) {
                    assert!(re.is_match(&s), "{pat} {s}");
                    if let Some(c) = p.foreign_char() {
                        let bad: String = std::iter::once(c).chain(s.chars().skip(1)).collect();
                        if len > 0 {
                            assert!(!re.is_match(&bad), "{pat} {bad}");
                        }
                    }
                }
                if len < lo || hi.is_some_and(|h| len > h) {
                    assert!(p.matching(len).is_none());
                }
            }
        }
    }
}
