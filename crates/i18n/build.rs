//! Generates the catalogue's keys and texts from `locales/en.json` and `locales/ja.json`
//! (the files the UI and the dashboard read too). A key missing from either language, a
//! placeholder one language has and the other lacks, or a key that is not
//! `lowercase.words_like_this` stops the build with the key's name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

use serde_json::Value;

/// One text: a sentence, or plural forms (`one`, `other`) chosen by the value `n`.
enum Text {
    Plain(String),
    Plural { one: String, other: String },
}

fn load(path: &PathBuf) -> BTreeMap<String, Text> {
    let raw = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: cannot read the catalogue: {e}", path.display()));
    let json: BTreeMap<String, Value> = serde_json::from_str(&raw)
        .unwrap_or_else(|e| panic!("{}: not a JSON object of texts: {e}", path.display()));
    json.into_iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => Text::Plain(s),
                Value::Object(forms) => {
                    let form = |name: &str| match forms.get(name) {
                        Some(Value::String(s)) => s.clone(),
                        _ => panic!(
                            "{}: {key}: a plural text needs \"one\" and \"other\" strings",
                            path.display()
                        ),
                    };
                    Text::Plural {
                        one: form("one"),
                        other: form("other"),
                    }
                }
                _ => panic!(
                    "{}: {key}: a text is a string or {{one, other}}",
                    path.display()
                ),
            };
            (key, text)
        })
        .collect()
}

/// The `{name}`s a text fills in.
fn placeholders(text: &Text) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut scan = |s: &str| {
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            out.insert(rest[open + 1..open + close].to_owned());
            rest = &rest[open + close + 1..];
        }
    };
    match text {
        Text::Plain(s) => scan(s),
        Text::Plural { one, other } => {
            scan(one);
            scan(other);
        }
    }
    out
}

fn const_name(key: &str) -> String {
    key.replace('.', "__").to_ascii_uppercase()
}

fn literal(text: &Text) -> String {
    match text {
        Text::Plain(s) => format!("Text::Plain({s:?})"),
        Text::Plural { one, other } => format!("Text::Plural {{ one: {one:?}, other: {other:?} }}"),
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("../../locales");
    let (en_path, ja_path) = (root.join("en.json"), root.join("ja.json"));
    println!("cargo::rerun-if-changed={}", en_path.display());
    println!("cargo::rerun-if-changed={}", ja_path.display());
    let (en, ja) = (load(&en_path), load(&ja_path));
    let mut problems = Vec::new();
    for key in en.keys().filter(|k| !ja.contains_key(*k)) {
        problems.push(format!("{key} is in en.json but not in ja.json"));
    }
    for key in ja.keys().filter(|k| !en.contains_key(*k)) {
        problems.push(format!("{key} is in ja.json but not in en.json"));
    }
    for (key, text) in &en {
        let well_formed = key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        if !well_formed {
            problems.push(format!(
                "{key}: a key is lowercase words, digits and _ joined by ."
            ));
        }
        if let Some(other) = ja.get(key)
            && placeholders(text) != placeholders(other)
        {
            problems.push(format!(
                "{key}: en fills in {:?}, ja fills in {:?}",
                placeholders(text),
                placeholders(other)
            ));
        }
    }
    if !problems.is_empty() {
        panic!("locales/ is inconsistent:\n  {}", problems.join("\n  "));
    }
    let mut out = String::new();
    out.push_str(
        "/// Every key of the catalogue, as a constant.\npub mod k {\n    use super::Key;\n",
    );
    for (i, key) in en.keys().enumerate() {
        let _ = writeln!(
            out,
            "    /// `{key}`\n    pub const {}: Key = Key({i});",
            const_name(key)
        );
    }
    out.push_str("}\n\n");
    let table = |name: &str, texts: &BTreeMap<String, Text>| {
        let mut t = format!("static {name}: [Text; {}] = [\n", texts.len());
        for text in texts.values() {
            let _ = writeln!(t, "    {},", literal(text));
        }
        t.push_str("];\n");
        t
    };
    out.push_str(&table("EN", &en));
    out.push_str(&table("JA", &ja));
    let _ = writeln!(
        out,
        "static NAMES: [&str; {}] = {:?};",
        en.len(),
        en.keys().collect::<Vec<_>>()
    );
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("catalogue.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
