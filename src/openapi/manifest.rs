//! Import — re-import safety: a manifest of what the importer wrote, so a file
//! someone edited since is never overwritten.
//!
//! `cases/<suite>/.conform-import.json` records, for every generated file, a
//! hash of the text as written, and the fingerprint of every schema and
//! operation (to report what changed in the description). On a re-import a
//! file is overwritten only when its current text still hashes to the
//! recorded value; otherwise the new version is written beside it as
//! `<file>.new` (neither the case loader nor the schema registry reads that
//! extension). A file the manifest does not know (hand-written before the
//! first import) counts as edited.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spec::Param;

/// The manifest's file name, in `cases/<suite>/`.
pub const FILE_NAME: &str = ".conform-import.json";

/// Bumped on an incompatible change of the manifest format.
pub const VERSION: u32 = 1;

/// What one import wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The description's title and version, for people reading the file.
    pub source: String,
    /// Generated file (relative to the project root, `/`-separated) → hash of the text written.
    pub files: BTreeMap<String, String>,
    /// Schema file stem → hash of its generated text.
    pub schemas: BTreeMap<String, String>,
    /// `METHOD /path` → what the description says about it.
    pub operations: BTreeMap<String, OperationPrint>,
}

/// The parts of an operation whose change is worth reporting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationPrint {
    /// Declared response keys.
    pub statuses: Vec<String>,
    /// Success status.
    pub success: Option<String>,
    /// Request body schema (file stem).
    pub request: Option<String>,
    /// Success response schema (file stem).
    pub response: Option<String>,
    /// Parameters.
    pub params: Vec<Param>,
}

impl OperationPrint {
    /// What differs from `old`, as short phrases.
    pub fn differences(&self, old: &OperationPrint) -> Vec<String> {
        let mut out = Vec::new();
        if self.statuses != old.statuses {
            out.push(format!(
                "statuses {} → {}",
                old.statuses.join(","),
                self.statuses.join(",")
            ));
        }
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".to_owned());
        if self.success != old.success {
            out.push(format!(
                "success {} → {}",
                opt(&old.success),
                opt(&self.success)
            ));
        }
        if self.request != old.request {
            out.push(format!(
                "request schema {} → {}",
                opt(&old.request),
                opt(&self.request)
            ));
        }
        if self.response != old.response {
            out.push(format!(
                "response schema {} → {}",
                opt(&old.response),
                opt(&self.response)
            ));
        }
        if self.params != old.params {
            let show = |ps: &[Param]| {
                ps.iter()
                    .map(|p| {
                        format!(
                            "{}:{}{}",
                            p.location,
                            p.name,
                            if p.required { "*" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            out.push(format!(
                "parameters {} → {}",
                show(&old.params),
                show(&self.params)
            ));
        }
        out
    }
}

/// A stable 64-bit FNV-1a hash, as hex (std's hasher may change between releases).
pub fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// Reads the manifest; a missing one is empty, an unreadable one is an error.
pub fn read(path: &Path) -> Result<Manifest, String> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// What happened to one generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// It did not exist.
    Created,
    /// It was as last generated, and is now the new version.
    Updated,
    /// It already holds exactly the new version.
    Unchanged,
    /// It was edited since the last import (or never generated): left alone,
    /// the new version written beside it.
    KeptEdited {
        /// Where the new version went (`<file>.new`).
        new: String,
    },
    /// No longer generated and unedited: deleted.
    Removed,
    /// No longer generated, but edited: left alone.
    KeptRemoved,
}

/// Writes generated files under `root`, honouring the previous manifest.
#[derive(Debug)]
pub struct Writer<'a> {
    root: PathBuf,
    old: &'a Manifest,
    /// Hashes of the files of this import.
    pub files: BTreeMap<String, String>,
    /// Every file touched, in order.
    pub outcomes: Vec<(String, FileOutcome)>,
}

impl<'a> Writer<'a> {
    /// A writer for `root`, knowing what the last import wrote.
    pub fn new(root: &Path, old: &'a Manifest) -> Writer<'a> {
        Writer {
            root: root.to_path_buf(),
            old,
            files: BTreeMap::new(),
            outcomes: Vec::new(),
        }
    }

    /// Writes `text` to `rel` (relative to the root) unless someone edited the file.
    pub fn write(&mut self, rel: &str, text: &str) -> io::Result<()> {
        let path = self.root.join(rel);
        let new_path = self.root.join(format!("{rel}.new"));
        let outcome = match fs::read_to_string(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::write(&path, text)?;
                FileOutcome::Created
            }
            Err(e) => return Err(e),
            Ok(current) if current == text => FileOutcome::Unchanged,
            Ok(current) if self.old.files.get(rel) == Some(&hash(&current)) => {
                fs::write(&path, text)?;
                FileOutcome::Updated
            }
            Ok(_) => {
                fs::write(&new_path, text)?;
                FileOutcome::KeptEdited {
                    new: format!("{rel}.new"),
                }
            }
        };
        if !matches!(outcome, FileOutcome::KeptEdited { .. }) && new_path.is_file() {
            // A `.new` from an earlier import is stale now that the file is current.
            fs::remove_file(&new_path)?;
        }
        self.files.insert(rel.to_owned(), hash(text));
        self.outcomes.push((rel.to_owned(), outcome));
        Ok(())
    }

    /// Deletes files the last import wrote and this one did not, unless edited.
    pub fn remove_stale(&mut self) -> io::Result<()> {
        for (rel, old_hash) in &self.old.files {
            if self.files.contains_key(rel) {
                continue;
            }
            let path = self.root.join(rel);
            match fs::read_to_string(&path) {
                Ok(current) if hash(&current) == *old_hash => {
                    fs::remove_file(&path)?;
                    self.outcomes.push((rel.clone(), FileOutcome::Removed));
                }
                Ok(_) => self.outcomes.push((rel.clone(), FileOutcome::KeptRemoved)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edited_files_are_kept_and_unedited_ones_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let empty = Manifest::default();
        let mut w = Writer::new(root, &empty);
        w.write("a/x.yaml", "one\n").unwrap();
        w.write("a/y.yaml", "one\n").unwrap();
        w.write("a/gone.yaml", "g\n").unwrap();
        w.write("a/gone-edited.yaml", "g\n").unwrap();
        let first = Manifest {
            files: w.files.clone(),
            ..Manifest::default()
        };
        fs::write(root.join("a/y.yaml"), "edited\n").unwrap();
        fs::write(root.join("a/gone-edited.yaml"), "mine\n").unwrap();
        fs::write(root.join("a/hand.yaml"), "hand\n").unwrap();

        let mut w = Writer::new(root, &first);
        w.write("a/x.yaml", "two\n").unwrap();
        w.write("a/y.yaml", "two\n").unwrap();
        w.write("a/hand.yaml", "gen\n").unwrap();
        w.remove_stale().unwrap();
        let outcomes: Vec<_> = w
            .outcomes
            .iter()
            .map(|(f, o)| (f.as_str(), o.clone()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("a/x.yaml", FileOutcome::Updated),
                (
                    "a/y.yaml",
                    FileOutcome::KeptEdited {
                        new: "a/y.yaml.new".into()
                    }
                ),
                (
                    "a/hand.yaml",
                    FileOutcome::KeptEdited {
                        new: "a/hand.yaml.new".into()
                    }
                ),
                ("a/gone-edited.yaml", FileOutcome::KeptRemoved),
                ("a/gone.yaml", FileOutcome::Removed),
            ]
        );
        assert_eq!(
            fs::read_to_string(root.join("a/y.yaml")).unwrap(),
            "edited\n"
        );
        assert_eq!(
            fs::read_to_string(root.join("a/y.yaml.new")).unwrap(),
            "two\n"
        );
        assert!(!root.join("a/gone.yaml").exists());
        assert_eq!(hash("a"), "fnv1a64:af63dc4c8601ec8c");
    }
}
