//! Verdicts, scores and feedback as a candidate sees them.

use sqlexam_core::grade::{Detail, Diagnostic, Mismatch, Produced, Refusal, Scope, Verdict, grade};
use sqlexam_core::problem::Visibility;
use sqlexam_core::value::Cell;

use crate::{colleagues, dept_count, raise};

const REFERENCE: &str =
    "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id";

#[test]
fn equivalent_query_is_accepted_with_full_score() {
    let g = grade(
        dept_count(),
        "select name, (select count(*) from emp where dept_id = dept.id) as n from dept order by n",
        Scope::All,
    );
    assert_eq!(g.verdict, Verdict::Accepted, "{g:#?}");
    assert_eq!((g.score, g.max_score), (100, 100));
    assert_eq!(g.datasets.len(), 4);
    assert!(
        g.datasets.iter().all(|d| d.steps.is_some_and(|s| s > 0)),
        "the full grading has every figure"
    );
}

#[test]
fn inner_join_fails_only_the_group_with_an_empty_department() {
    let g = grade(
        dept_count(),
        &REFERENCE.replace("LEFT JOIN", "JOIN"),
        Scope::All,
    );
    assert_eq!(g.verdict, Verdict::WrongAnswer);
    assert_eq!(
        g.score, 40,
        "basic group still earns its points: {:?}",
        g.groups
    );
    let failed: Vec<&str> = g
        .datasets
        .iter()
        .filter(|d| d.verdict != Verdict::Accepted)
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(failed, ["secret/02-empty-dept", "secret/03-big"]);
}

#[test]
fn secret_datasets_give_pass_fail_only() {
    let g = grade(dept_count(), "SELECT name, 1 FROM dept", Scope::All).for_candidate();
    for d in &g.datasets {
        if d.visibility == Visibility::Secret {
            assert!(
                d.detail.is_none() && d.produced.is_none(),
                "{} leaks detail",
                d.name
            );
            assert!(
                d.steps.is_none() && d.wall_ms.is_none(),
                "{} leaks figures",
                d.name
            );
        } else {
            assert!(d.steps.is_some());
        }
    }
    let sample_steps: u64 = g.datasets.iter().filter_map(|d| d.steps).sum();
    assert_eq!(g.steps, sample_steps, "totals cover only what is shown");
}

#[test]
fn step_counts_can_encode_secret_data_so_candidates_do_not_see_them() {
    // A reviewer's probe: the step count grows with a hidden salary.
    let sql = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c \
               WHERE n < (SELECT salary FROM emp WHERE id = 1)) SELECT 'x', count(*) FROM c";
    let full = grade(dept_count(), sql, Scope::All);
    let secret_steps: Vec<u64> = full
        .datasets
        .iter()
        .filter(|d| d.visibility == Visibility::Secret)
        .filter_map(|d| d.steps)
        .collect();
    assert!(
        secret_steps.windows(2).any(|w| w[0] != w[1]),
        "the probe does vary with the data"
    );
    let seen = full.for_candidate();
    assert!(
        seen.datasets
            .iter()
            .filter(|d| d.visibility == Visibility::Secret)
            .all(|d| d.steps.is_none())
    );
}

#[test]
fn a_byte_order_mark_is_not_sql() {
    let g = grade(dept_count(), &format!("\u{feff}{REFERENCE}"), Scope::All);
    assert_eq!(g.verdict, Verdict::Accepted);
}

#[test]
fn math_functions_are_available() {
    let sql = "SELECT name, floor(2.7) + ceil(0.2) + sqrt(4) + pow(2, 2) + mod(7, 5) - 9 FROM dept";
    let g = grade(dept_count(), sql, Scope::Samples);
    match &g.datasets[0].produced {
        Some(Produced::Rows(r)) => assert_eq!(r.rows[0][1], Cell::Real(2.0), "{r:?}"),
        other => panic!("math functions failed: {other:?} {:?}", g.diagnostic),
    }
}

#[test]
fn local_time_does_not_depend_on_the_machine() {
    // SQLite is built without localtime: the modifiers give NULL on every machine.
    let sql = "SELECT datetime('now', 'localtime'), date('now', 'utc') FROM dept";
    let g = grade(dept_count(), sql, Scope::Samples);
    match &g.datasets[0].produced {
        Some(Produced::Rows(r)) => assert_eq!(r.rows[0], vec![Cell::Null, Cell::Null]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sample_feedback_names_missing_and_extra_rows() {
    let g = grade(dept_count(), "SELECT name, 1 FROM dept", Scope::Samples);
    assert_eq!(g.verdict, Verdict::WrongAnswer);
    assert_eq!(g.datasets.len(), 1, "run on sample runs only samples");
    let sample = &g.datasets[0];
    match &sample.detail {
        Some(Detail::Mismatch {
            mismatch:
                Mismatch::Rows {
                    missing,
                    extra,
                    first_difference: Some(d),
                    ..
                },
        }) => {
            assert_eq!(
                missing,
                &vec![vec![Cell::Text("Dev".into()), Cell::Integer(2)]]
            );
            assert_eq!(
                extra,
                &vec![vec![Cell::Text("Dev".into()), Cell::Integer(1)]]
            );
            assert_eq!(d.column, Some(2));
        }
        other => panic!("expected row feedback, got {other:?}"),
    }
    assert!(matches!(&sample.produced, Some(Produced::Rows(r)) if r.rows.len() == 2));
}

#[test]
fn column_count_mismatch_is_reported_on_samples() {
    let g = grade(dept_count(), "SELECT name FROM dept", Scope::Samples);
    assert!(matches!(
        g.datasets[0].detail,
        Some(Detail::Mismatch {
            mismatch: Mismatch::ColumnCount {
                expected: 2,
                actual: 1
            }
        })
    ));
}

#[test]
fn syntax_error_reports_line_and_column() {
    let g = grade(dept_count(), "SELECT name,\n  cnt(*) FROM dept", Scope::All);
    assert_eq!(g.verdict, Verdict::RuntimeError);
    match g.diagnostic {
        Some(Diagnostic::SqlError {
            message,
            line,
            column,
        }) => {
            assert!(message.contains("cnt"), "{message}");
            assert_eq!((line, column), (2, 3));
        }
        other => panic!("expected an SQL error, got {other:?}"),
    }
    assert!(g.datasets.is_empty());
}

#[test]
fn runtime_error_message_is_shown_on_samples_only() {
    // abs() of the smallest integer overflows: a data-dependent runtime error.
    let sql = "SELECT name, abs(-9223372036854775807 - 1 + id - id) FROM dept";
    let g = grade(dept_count(), sql, Scope::All);
    assert_eq!(g.verdict, Verdict::RuntimeError);
    let sample = g
        .datasets
        .iter()
        .find(|d| d.visibility == Visibility::Sample)
        .unwrap();
    assert!(
        matches!(&sample.detail, Some(Detail::RuntimeError { message, .. }) if message.contains("overflow"))
    );
    assert!(
        g.datasets
            .iter()
            .filter(|d| d.visibility == Visibility::Secret)
            .all(|d| d.detail.is_none())
    );
}

#[test]
fn date_now_reads_the_problems_fixed_clock() {
    let g = grade(
        dept_count(),
        "SELECT date('now'), CURRENT_TIMESTAMP FROM dept",
        Scope::Samples,
    );
    match &g.datasets[0].produced {
        Some(Produced::Rows(r)) => {
            assert_eq!(
                r.rows[0],
                vec![
                    Cell::Text("2025-04-01".into()),
                    Cell::Text("2025-04-01 09:00:00".into())
                ]
            );
        }
        other => panic!("expected rows, got {other:?}"),
    }
}

#[test]
fn dml_problem_compares_final_table_contents() {
    let ok = grade(
        raise(),
        "UPDATE emp SET salary = round(salary * 1.1) WHERE dept_id = 2",
        Scope::All,
    );
    assert_eq!(
        ok.verdict,
        Verdict::Accepted,
        "2.0-style reals equal integers: {ok:#?}"
    );
    let two_steps = "UPDATE emp SET salary = salary * 11 WHERE dept_id = 2;\nUPDATE emp SET salary = round(salary / 10.0) WHERE dept_id = 2;";
    assert_eq!(
        grade(raise(), two_steps, Scope::All).verdict,
        Verdict::Accepted
    );
    let wrong = grade(raise(), "UPDATE emp SET salary = salary * 1.1", Scope::All);
    assert_eq!(wrong.verdict, Verdict::WrongAnswer);
    assert!(matches!(
        &wrong.datasets[0].detail,
        Some(Detail::Mismatch { mismatch: Mismatch::Rows { table: Some(t), .. } }) if t == "emp"
    ));
}

#[test]
fn dml_changes_do_not_reach_the_next_grading() {
    grade(raise(), "DELETE FROM emp", Scope::All);
    let g = grade(
        raise(),
        "UPDATE emp SET salary = round(salary * 1.1) WHERE dept_id = 2",
        Scope::All,
    );
    assert_eq!(g.verdict, Verdict::Accepted);
}

#[test]
fn select_problem_refuses_writes() {
    let g = grade(dept_count(), "DELETE FROM emp", Scope::All);
    assert_eq!(g.verdict, Verdict::Forbidden);
    assert_eq!(
        g.diagnostic,
        Some(Diagnostic::Forbidden {
            refusal: Refusal::Statement {
                keyword: "DELETE".into()
            }
        })
    );
}

#[test]
fn reference_steps_are_recorded_per_dataset() {
    assert!(dept_count().datasets.iter().all(|d| d.reference_steps > 0));
    let big = dept_count().dataset("secret/03-big").unwrap();
    let small = dept_count().dataset("sample/01-small").unwrap();
    assert!(big.reference_steps > 10 * small.reference_steps);
}

#[test]
fn the_candidate_view_never_shows_the_references_column_expressions() {
    let view = dept_count().candidate_view();
    match &view.samples[0].expected {
        sqlexam_core::problem::Expected::Rows(r) => assert_eq!(r.columns, ["#1", "#2"]),
        other => panic!("{other:?}"),
    }
    assert!(
        view.samples[0]
            .tables
            .iter()
            .any(|(t, rows)| t == "dept" && rows.rows.len() == 2)
    );
}

#[test]
fn a_correct_quadratic_answer_over_thousands_of_rows_fits_the_default_time_limit() {
    let p = colleagues();
    assert_eq!(p.limits, sqlexam_core::problem::Limits::default());
    let sql = "SELECT e.id, (SELECT COUNT(*) FROM emp x WHERE x.salary > e.salary) FROM emp e";
    let g = grade(p, sql, Scope::All);
    assert_eq!(g.verdict, Verdict::Accepted, "{:?}", g.datasets);
    let used = g.datasets.iter().filter_map(|d| d.steps).max().unwrap();
    assert!(used > 50_000_000, "the fixture is quadratic: {used} steps");
}

#[test]
fn the_statement_view_states_the_time_limit_in_typical_seconds() {
    let view = colleagues().candidate_view();
    assert_eq!(view.limits.steps, 250_000_000);
    assert_eq!(view.limits.typical_seconds, 2.0);
}

#[test]
fn incomplete_input_is_pointed_at_where_it_ends() {
    let g = grade(
        dept_count(),
        "SELECT d.name, 1\nFROM dept d WHERE d.id > 1 AND",
        Scope::All,
    );
    match g.diagnostic {
        Some(Diagnostic::SqlError { line, column, .. }) => assert_eq!((line, column), (2, 31)),
        other => panic!("{other:?}"),
    }
}
