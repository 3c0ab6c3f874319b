//! Import — names: component names as file stems, and the escaping rules of
//! JSON Pointers and URI fragments that `$ref`s are written in.

use std::collections::{BTreeMap, BTreeSet};

/// A component name as a file stem: letters, digits, `.`, `_` and `-` kept,
/// anything else `_`; never empty, never starting with `.`.
pub fn file_stem(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// Component schema name → file stem, unique even when two names map to the same stem.
#[derive(Debug, Clone, Default)]
pub struct SchemaNames {
    by_name: BTreeMap<String, String>,
}

impl SchemaNames {
    /// Stems for `names`, in order; a later clash gets `_2`, `_3`, …
    /// (compared case-insensitively, for case-insensitive file systems).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> SchemaNames {
        let mut taken = BTreeSet::new();
        let mut by_name = BTreeMap::new();
        for name in names {
            let base = file_stem(name);
            let mut stem = base.clone();
            let mut n = 2;
            while !taken.insert(stem.to_ascii_lowercase()) {
                stem = format!("{base}_{n}");
                n += 1;
            }
            by_name.insert(name.to_owned(), stem);
        }
        SchemaNames { by_name }
    }

    /// Claims a stem for a schema that is not a component (an inline body), unique among all.
    pub fn claim(&mut self, key: &str, wanted: &str) -> String {
        let base = file_stem(wanted);
        let taken: BTreeSet<String> = self
            .by_name
            .values()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let mut stem = base.clone();
        let mut n = 2;
        while taken.contains(&stem.to_ascii_lowercase()) {
            stem = format!("{base}_{n}");
            n += 1;
        }
        self.by_name.insert(key.to_owned(), stem.clone());
        stem
    }

    /// The stem of a component.
    pub fn stem(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(String::as_str)
    }
}

/// Decodes `%XX` escapes (a `$ref` is a URI reference).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16)),
                bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON Pointer token, unescaped (`~1` → `/`, `~0` → `~`).
pub fn unescape_token(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// A JSON Pointer token, escaped.
pub fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

/// A JSON Pointer made safe for a URI fragment: characters outside RFC 3986's
/// fragment set are percent-encoded.
pub fn fragment_encode(pointer: &str) -> String {
    let mut out = String::new();
    for b in pointer.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_unique() {
        let mut names = SchemaNames::new(["a/b", "a_b", "A_B"]);
        assert_eq!(names.stem("a/b"), Some("a_b"));
        assert_eq!(names.stem("a_b"), Some("a_b_2"));
        assert_eq!(names.stem("A_B"), Some("A_B_3"));
        assert_eq!(names.claim("op", "a_b"), "a_b_4");
        assert_eq!(file_stem(".hidden"), "_.hidden");
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
        assert_eq!(fragment_encode("/properties/a b"), "/properties/a%20b");
    }
}
