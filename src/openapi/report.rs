//! Import — the outcome, as data and as text a person reads after
//! `conform import openapi`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::examples::ExampleResult;
use super::manifest::FileOutcome;
use super::negative::Checked;

/// What was added, removed and changed between two imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// New names.
    pub added: Vec<String>,
    /// Names gone.
    pub removed: Vec<String>,
    /// Names whose content differs, with how.
    pub changed: Vec<(String, String)>,
    /// How many are the same.
    pub unchanged: usize,
}

impl Changes {
    /// Compares two keyed sets; `describe(new, old)` says how a changed one differs.
    pub fn between<T: PartialEq>(
        old: &BTreeMap<String, T>,
        new: &BTreeMap<String, T>,
        describe: impl Fn(&T, &T) -> String,
    ) -> Changes {
        let mut c = Changes::default();
        for (k, v) in new {
            match old.get(k) {
                None => c.added.push(k.clone()),
                Some(o) if o != v => c.changed.push((k.clone(), describe(v, o))),
                Some(_) => c.unchanged += 1,
            }
        }
        c.removed = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        c
    }

    /// True when nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// How a schema changed, as JSON Pointers: `/properties/id/minLength added`
/// (the first few; the rest counted).
pub fn describe_change(old: &Value, new: &Value) -> String {
    let mut out = Vec::new();
    diff(old, new, "", &mut out);
    const SHOWN: usize = 4;
    let more = out.len().saturating_sub(SHOWN);
    out.truncate(SHOWN);
    let mut text = out.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

fn diff(old: &Value, new: &Value, at: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let here = format!("{at}/{}", super::names::escape_token(k));
                match a.get(k) {
                    None => out.push(format!("{here} added")),
                    Some(o) => diff(o, v, &here, out),
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{at}/{} removed", super::names::escape_token(k)));
            }
        }
        (a, b) if a != b => {
            let at = if at.is_empty() { "/" } else { at };
            out.push(format!("{at} changed"));
        }
        _ => {}
    }
}

/// The negative bodies of one operation.
#[derive(Debug, Clone)]
pub struct NegativeResult {
    /// `POST /v2/vaults`.
    pub operation: String,
    /// Bodies kept and dropped, rules skipped.
    pub checked: Checked,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Suite name.
    pub suite: String,
    /// "Palisade API 2.0 (OpenAPI 3.0.0)".
    pub source: String,
    /// No earlier import was recorded.
    pub first_import: bool,
    /// Component schemas written.
    pub component_schemas: usize,
    /// Inline request/response schemas written.
    pub inline_schemas: usize,
    /// Operations (one skeleton case each).
    pub operations: usize,
    /// Skeleton case files.
    pub case_files: usize,
    /// Schemas added, removed, changed since the last import.
    pub schema_changes: Changes,
    /// Operations added, removed, changed since the last import.
    pub operation_changes: Changes,
    /// Every file touched (relative to the root), with what happened.
    pub files: Vec<(String, FileOutcome)>,
    /// The description's examples against the generated schemas.
    pub examples: Vec<ExampleResult>,
    /// Negative bodies per operation with a request schema (when asked for).
    pub negative: Vec<NegativeResult>,
    /// Things converted imperfectly or left out.
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// Examples that do not validate.
    pub fn failing_examples(&self) -> impl Iterator<Item = &ExampleResult> {
        self.examples.iter().filter(|e| e.outcome.is_err())
    }

    /// Files left alone because they were edited, with where the new version went.
    pub fn kept(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().filter_map(|(f, o)| match o {
            FileOutcome::KeptEdited { new } => Some((f.as_str(), new.as_str())),
            _ => None,
        })
    }
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

fn changes(f: &mut fmt::Formatter<'_>, what: &str, c: &Changes) -> fmt::Result {
    if c.is_empty() {
        return writeln!(f, "    {what}: none ({} unchanged)", c.unchanged);
    }
    writeln!(
        f,
        "    {what}: {} added, {} removed, {} changed, {} unchanged",
        c.added.len(),
        c.removed.len(),
        c.changed.len(),
        c.unchanged
    )?;
    if !c.added.is_empty() {
        writeln!(f, "      added: {}", list(&c.added))?;
    }
    if !c.removed.is_empty() {
        writeln!(f, "      removed: {}", list(&c.removed))?;
    }
    for (name, how) in &c.changed {
        writeln!(f, "      changed: {name}: {how}")?;
    }
    Ok(())
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.suite;
        writeln!(f, "imported {} as suite `{s}`", self.source)?;
        writeln!(
            f,
            "  schemas: {} in schemas/{s}/ ({} components, {} inline bodies)",
            self.component_schemas + self.inline_schemas,
            self.component_schemas,
            self.inline_schemas
        )?;
        writeln!(
            f,
            "  operations: {}, one case each in {} generated-*.yaml files under cases/{s}/ (tagged `todo`)",
            self.operations, self.case_files
        )?;
        if self.first_import {
            writeln!(f, "  first import: no earlier import recorded")?;
        } else {
            writeln!(f, "  changes since the last import:")?;
            changes(f, "schemas", &self.schema_changes)?;
            changes(f, "operations", &self.operation_changes)?;
        }
        let n = |p: fn(&FileOutcome) -> bool| count(&self.files, p);
        writeln!(
            f,
            "  files: {} created, {} updated, {} unchanged, {} kept as edited, {} removed",
            n(|o| *o == FileOutcome::Created),
            n(|o| *o == FileOutcome::Updated),
            n(|o| *o == FileOutcome::Unchanged),
            n(|o| matches!(o, FileOutcome::KeptEdited { .. })),
            n(|o| *o == FileOutcome::Removed),
        )?;
        let kept: Vec<_> = self.kept().collect();
        if !kept.is_empty() {
            writeln!(
                f,
                "  not overwritten (edited since the last import; the new version is beside it):"
            )?;
            for (file, new) in kept {
                writeln!(f, "    {file} -> {new}")?;
            }
        }
        for (file, o) in &self.files {
            match o {
                FileOutcome::Removed => writeln!(f, "  removed (no longer generated): {file}")?,
                FileOutcome::KeptRemoved => writeln!(
                    f,
                    "  no longer generated, kept because it was edited: {file}"
                )?,
                _ => {}
            }
        }
        if !self.examples.is_empty() {
            let failing: Vec<_> = self.failing_examples().collect();
            writeln!(
                f,
                "  examples: {} checked against the generated schemas, {} do not validate",
                self.examples.len(),
                failing.len()
            )?;
            for e in failing {
                writeln!(f, "    {e}")?;
            }
        }
        if !self.negative.is_empty() {
            let kept: usize = self.negative.iter().map(|n| n.checked.kept.len()).sum();
            let dropped: usize = self.negative.iter().map(|n| n.checked.dropped.len()).sum();
            let skipped: usize = self.negative.iter().map(|n| n.checked.skipped.len()).sum();
            writeln!(
                f,
                "  negative cases: {kept} for {} operations ({dropped} bodies dropped by the schema check, {skipped} rules skipped)",
                self.negative.len()
            )?;
            for n in &self.negative {
                for (b, why) in &n.checked.dropped {
                    writeln!(f, "    dropped: {}: {}: {why}", n.operation, b.rule)?;
                }
                for why in &n.checked.skipped {
                    writeln!(f, "    skipped: {}: {why}", n.operation)?;
                }
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f, "  warnings:")?;
            for w in &self.warnings {
                writeln!(f, "    {w}")?;
            }
        }
        write!(
            f,
            "next: give the `todo_*` variables in cases/{s}/suite.yaml real values, then `conform check`"
        )
    }
}

/// How many files had an outcome matching `f`.
fn count(files: &[(String, FileOutcome)], f: impl Fn(&FileOutcome) -> bool) -> usize {
    files.iter().filter(|(_, o)| f(o)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_changes_are_described_by_pointer() {
        let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}}});
        let new = json!({"type": "object", "required": ["a"],
                         "properties": {"a": {"type": "integer"}}});
        assert_eq!(
            describe_change(&old, &new),
            "/required added, /properties/a/type changed, /properties/b removed"
        );
    }
}
