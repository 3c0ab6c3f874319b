//! Bytes → a template (parsed, rendered with a few variables and every variable it
//! reads), and the same bytes as JSON → a JSON template, rendered.
//!
//! Nothing may panic or hang; a template that parses renders once its variables are set,
//! and text without `{{` renders to itself.

#![no_main]

use conform::template::{JsonTemplate, Template, Vars};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut vars = Vars::new();
        vars.insert("x".into(), json!("ab"));
        vars.insert("id".into(), json!(7));
        vars.insert("obj".into(), json!({"a": [1, null]}));
        match Template::parse(text) {
            Ok(t) => {
                let _ = t.render(&vars);
                let _ = t.render_value(&vars);
                for v in t.vars() {
                    vars.entry(v.to_owned()).or_insert(json!("v"));
                }
                let out = t.render(&vars).expect("every variable is set");
                if !text.contains("{{") {
                    assert_eq!(out, text, "literal text renders to itself");
                }
                let _ = t.render_value(&vars).expect("every variable is set");
            }
            Err(e) => {
                assert!(e.offset <= text.chars().count(), "offset inside the text");
                assert!(!e.message.is_empty());
            }
        }
    }
    if let Ok(v) = serde_json::from_slice::<Value>(data)
        && let Ok(t) = JsonTemplate::parse(&v)
    {
        let vars: Vars = t.vars().into_iter().map(|n| (n.to_owned(), json!(n))).collect();
        let out = t.render(&vars).expect("every variable is set");
        // Generators (`{{uuid()}}`) read no variable but do render fresh text, so only
        // JSON with no `{{` at all must render to itself.
        if !v.to_string().contains("{{") {
            assert_eq!(out, v, "JSON without templates renders to itself");
        }
    }
});
