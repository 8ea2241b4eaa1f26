//! docs/ARCHITECTURE.md's crate map follows the tree: every path a line names exists, every
//! `.rs` file a folder's line mentions is in that folder, and every Rust source file of the
//! workspace is covered by a line (its own, or its folder's).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The map: the code block under "## Crates".
fn crate_map(doc: &str) -> Vec<&str> {
    let section = doc
        .split_once("\n## Crates\n")
        .expect("ARCHITECTURE.md has a \"## Crates\" section")
        .1;
    let block = section
        .split_once("```\n")
        .expect("the section opens a code block")
        .1;
    block
        .split_once("\n```")
        .expect("the code block closes")
        .0
        .lines()
        .collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The `.rs` names a description mentions (`auth.rs`, `store/tx.rs`).
fn rust_files(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_./".contains(c)))
        .filter(|w| w.ends_with(".rs"))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_crate_map_in_architecture_md_matches_the_tree() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let mut problems = Vec::new();
    let check_mentions = |folder: &Path, text: &str, problems: &mut Vec<String>| {
        for name in rust_files(text) {
            if !folder.join(name).exists() {
                problems.push(format!(
                    "{} mentions {name}, which is not there",
                    folder.strip_prefix(&root).unwrap_or(folder).display()
                ));
            }
        }
    };
    // Entries as (path, is a folder, has lines under it).
    let mut entries: Vec<(PathBuf, bool, bool)> = Vec::new();
    let mut top: Option<usize> = None;
    // The folder a continuation line describes, if its entry is one.
    let mut describing: Option<PathBuf> = None;
    for line in crate_map(&doc) {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        let rest = &line.trim_start()[first.len()..];
        let path = match indent(line) {
            0 => root.join(first.trim_end_matches('/')),
            2 => match top {
                Some(t) => {
                    entries[t].2 = true;
                    entries[t].0.join(first.trim_end_matches('/'))
                }
                None => {
                    problems.push(format!("{first:?} is indented under nothing"));
                    continue;
                }
            },
            _ => {
                if let Some(folder) = &describing {
                    check_mentions(folder, line, &mut problems);
                }
                continue;
            }
        };
        if !path.exists() {
            problems.push(format!(
                "names {}, which does not exist",
                path.strip_prefix(&root).unwrap().display()
            ));
        }
        let folder = first.ends_with('/') || path.is_dir();
        // A crate's own line speaks of its files relative to its src/: only the folders
        // inside a crate are checked for the files they mention.
        let inner = indent(line) == 2 && folder;
        describing = inner.then(|| path.clone());
        if inner {
            check_mentions(&path, rest, &mut problems);
        }
        if indent(line) == 0 {
            top = Some(entries.len());
        }
        entries.push((path, folder, false));
    }
    // A file is covered by its own line, or by a folder's line that has no lines under it.
    let covers = |file: &Path| {
        entries.iter().any(|(path, folder, has_lines)| {
            path == file || (*folder && !has_lines && file.starts_with(path))
        })
    };
    let mut all = Vec::new();
    for crate_dir in [
        "crates/core",
        "crates/cli",
        "crates/export",
        "crates/i18n",
        "crates/relay",
        "crates/server",
        "crates/sync",
        "src-tauri",
        "tests",
        "bench/empty-app",
    ] {
        for sub in ["src", "tests", "benches"] {
            sources(&root.join(crate_dir).join(sub), &mut all);
        }
    }
    assert!(
        all.len() > 100,
        "the tree was not found from {}",
        root.display()
    );
    for file in all {
        if !covers(&file) {
            problems.push(format!(
                "{} is in no line of the crate map",
                file.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/ARCHITECTURE.md's crate map and the tree disagree:\n  {}",
        problems.join("\n  ")
    );
}
