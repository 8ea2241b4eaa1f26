//! Problem sources that break the format get one clear error naming file and line.

use std::fs;
use std::path::Path;

use sqlexam_core::problem::load_problem_in_context;

use crate::data;

/// Copies the dept-count fixture into a temporary folder and applies `edit` to it.
fn broken(edit: impl FnOnce(&Path)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dept-count");
    copy_dir(&data("company/dept-count"), &dir);
    edit(&dir);
    match load_problem_in_context(&dir) {
        Ok(_) => panic!("the broken problem loaded"),
        Err(e) => e.to_string(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut s = fs::read_to_string(path).unwrap();
    s.push_str(text);
    fs::write(path, s).unwrap();
}

#[test]
fn unknown_key_is_an_error_with_line() {
    let e = broken(|d| {
        append(
            &d.join("problem.toml"),
            "\n[compare]\nordr = \"required\"\n",
        )
    });
    assert!(e.contains("problem.toml:") && e.contains("ordr"), "{e}");
}

#[test]
fn schema_error_names_file_line_and_column() {
    let e = broken(|d| {
        fs::write(
            d.join("schema.sql"),
            "CREATE TABLE dept (id INTEGER);\nCREATE TABLE emp (id INTEGR PRIMARY KEY,, x);\n",
        )
        .unwrap()
    });
    assert!(e.contains("schema.sql:2:"), "{e}");
}

#[test]
fn dataset_error_names_the_dataset_file_and_line() {
    let e = broken(|d| {
        fs::write(
            d.join("data/secret/01-basic.sql"),
            "INSERT INTO dept VALUES (1, 'a');\nINSERT INTO dept VALUES (1, 'dup');\n",
        )
        .unwrap()
    });
    assert!(e.contains("01-basic.sql:2:") && e.contains("UNIQUE"), "{e}");
}

#[test]
fn random_in_a_dataset_is_refused() {
    let e = broken(|d| {
        fs::write(
            d.join("data/secret/01-basic.sql"),
            "INSERT INTO dept VALUES (abs(random()) % 10, 'a');\n",
        )
        .unwrap()
    });
    assert!(e.contains("random") && e.contains("deterministic"), "{e}");
}

#[test]
fn missing_japanese_statement_is_an_error() {
    let e = broken(|d| fs::remove_file(d.join("statement.ja.md")).unwrap());
    assert!(e.contains("statement.ja.md"), "{e}");
}

#[test]
fn stray_file_in_data_folder_is_an_error() {
    let e = broken(|d| fs::write(d.join("data/secret/notes.txt"), "x").unwrap());
    assert!(
        e.contains("notes.txt") && e.contains("unexpected file"),
        "{e}"
    );
}

#[test]
fn group_naming_unknown_dataset_is_an_error() {
    let e = broken(|d| {
        append(
            &d.join("problem.toml"),
            "\n[[group]]\nname = \"x\"\npoints = 1\ndatasets = [\"secret/99-none\"]\n",
        )
    });
    assert!(e.contains("secret/99-none"), "{e}");
}

#[test]
fn broken_reference_names_the_dataset() {
    let e = broken(|d| {
        fs::write(
            d.join("solution.sql"),
            "SELECT name, 1 / 0 + nosuch FROM dept",
        )
        .unwrap()
    });
    assert!(e.contains("solution.sql") && e.contains("nosuch"), "{e}");
}

#[test]
fn order_by_without_required_order_is_an_error() {
    let e = broken(|d| append(&d.join("problem.toml"), "\n[compare]\norder_by = [1]\n"));
    assert!(e.contains("order_by") && e.contains("required"), "{e}");
}

#[test]
fn a_wall_clock_allowance_past_the_maximum_is_an_error() {
    // The server's grading lease is derived from the maximum (crates/server/src/regrade.rs).
    let e = broken(|d| append(&d.join("problem.toml"), "\n[limits]\nwall_ms = 60_001\n"));
    assert!(
        e.contains("problem.toml") && e.contains("wall_ms") && e.contains("60000"),
        "{e}"
    );
}
