//! Hostile SQL: every input gets a clear, non-accepted verdict within the limits, memory
//! stays bounded, and the next grading is unaffected. The list follows SQLite's "Defense
//! Against the Dark Arts" and docs/SECURITY.md.

use sqlexam_core::grade::{Diagnostic, Grading, Refusal, Scope, Verdict, grade, grade_bytes};
use sqlexam_core::problem::Problem;

use crate::{dept_count, raise};

const GOOD_SELECT: &str =
    "SELECT d.name, COUNT(e.id) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id";
const GOOD_DML: &str = "UPDATE emp SET salary = round(salary * 1.1) WHERE dept_id = 2";

/// What a hostile input must get.
#[derive(Debug)]
pub(crate) enum Want {
    /// Refused before running, for this reason.
    Refused(Refusal),
    /// Refused before running, for a reason matching this predicate (stated in `why`).
    RefusedAs(fn(&Refusal) -> bool, &'static str),
    /// One of these verdicts.
    OneOf(&'static [Verdict]),
    /// Refused or not compiled: SQLite says the (virtual) table does not exist here.
    Unavailable,
    /// At least one dataset gets this verdict (the small sample may just be wrong).
    SomeDataset(&'static [Verdict]),
}

use Verdict::{
    OutputLimitExceeded as Ole, RuntimeError as Rte, TimeLimitExceeded as Tle, WrongAnswer as Wa,
};

fn function(name: &'static str) -> Want {
    Want::Refused(Refusal::Function { name: name.into() })
}
fn statement(keyword: &'static str) -> Want {
    Want::Refused(Refusal::Statement {
        keyword: keyword.into(),
    })
}

pub(crate) fn select_cases() -> Vec<(String, Want)> {
    let nested = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let long = format!("SELECT 1 {}", "-- padding\n".repeat(200_000));
    let unions = (0..200)
        .map(|i| format!("SELECT {i}, 1"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let s = |x: &str| x.to_string();
    vec![
        (
            s(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*), 1 FROM r",
            ),
            Want::OneOf(&[Tle]),
        ),
        (
            s("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n, n FROM r"),
            Want::OneOf(&[Tle, Ole]),
        ),
        (
            s("SELECT count(*), 1 FROM emp a, emp b, emp c, emp d"),
            Want::SomeDataset(&[Tle]),
        ),
        (
            s("SELECT a.name, b.name FROM emp a, emp b, emp c ORDER BY a.name || b.name || c.name"),
            Want::SomeDataset(&[Tle]),
        ),
        (
            s(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10000000) SELECT n, n FROM r",
            ),
            Want::OneOf(&[Ole]),
        ),
        (
            s("SELECT randomblob(2000000000), 1"),
            function("randomblob"),
        ),
        (s("SELECT random(), 1"), function("random")),
        (
            s("SELECT name, 1 FROM emp ORDER BY random()"),
            function("random"),
        ),
        (s("SELECT zeroblob(1000000000), 1"), Want::OneOf(&[Rte])),
        (
            s("SELECT printf('%.*c', 500000000, 'x'), 1"),
            Want::OneOf(&[Wa]),
        ),
        (
            s("SELECT replace(hex(zeroblob(1000000)), '0', 'aaaaaaaaaa'), 1"),
            Want::OneOf(&[Rte]),
        ),
        (
            s(
                "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) SELECT length(s), 1 FROM r",
            ),
            Want::OneOf(&[Rte, Tle]),
        ),
        (
            s("SELECT group_concat(hex(zeroblob(10000))), 1 FROM emp a, emp b"),
            Want::SomeDataset(&[Rte, Tle]),
        ),
        (
            s("ATTACH DATABASE '/tmp/sqlexam-evil.db' AS evil"),
            statement("ATTACH"),
        ),
        (s("ATTACH 'file:x?vfs=memdb' AS m"), statement("ATTACH")),
        (
            s("ATTACH 'file:x?mode=memory&cache=shared' AS s"),
            statement("ATTACH"),
        ),
        (
            s("SELECT * FROM sqlite_master"),
            Want::Refused(Refusal::SchemaTable {
                name: "sqlite_master".into(),
            }),
        ),
        (
            s("SELECT name, sql FROM sqlite_schema"),
            Want::Refused(Refusal::SchemaTable {
                name: "sqlite_master".into(),
            }),
        ),
        (
            s("SELECT name, 1 FROM temp.sqlite_master"),
            Want::RefusedAs(|r| matches!(r, Refusal::SchemaTable { .. }), "schema table"),
        ),
        (
            s("SELECT name, type FROM pragma_table_info('emp')"),
            Want::Unavailable,
        ),
        (s("PRAGMA table_info(emp)"), statement("PRAGMA")),
        (
            s("SELECT value, 1 FROM json_each('[1,2]')"),
            Want::Unavailable,
        ),
        (
            s("SELECT count(*), 1 FROM json_each('[1,2]')"),
            Want::Unavailable,
        ),
        (s("SELECT name, 1 FROM dbstat"), Want::Unavailable),
        (
            s("SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6'), 1"),
            function("load_extension"),
        ),
        (
            s("SELECT fts3_tokenizer('simple'), 1"),
            function("fts3_tokenizer"),
        ),
        (s("SELECT sqlite_version(), 1"), function("sqlite_version")),
        (
            s("SELECT sqlite_offset(name), 1 FROM dept"),
            Want::OneOf(&[Rte, Verdict::Forbidden]),
        ),
        (s("CREATE TEMP TABLE x(a)"), statement("CREATE")),
        (
            s("CREATE TRIGGER t AFTER INSERT ON emp BEGIN DELETE FROM dept; END"),
            statement("CREATE"),
        ),
        (s("BEGIN; SELECT name, 1 FROM dept"), statement("BEGIN")),
        (s("SAVEPOINT a"), statement("SAVEPOINT")),
        (
            s("SELECT name, 1 FROM dept; SELECT 2"),
            Want::Refused(Refusal::MultipleStatements { count: 2 }),
        ),
        (
            s("SELECT name, 1 FROM dept; DROP TABLE emp"),
            statement("DROP"),
        ),
        (s("DELETE FROM emp"), statement("DELETE")),
        (
            s("WITH x AS (SELECT 1) DELETE FROM emp"),
            Want::RefusedAs(
                |r| matches!(r, Refusal::Write { .. } | Refusal::NotAQuery),
                "write",
            ),
        ),
        (
            s("INSERT INTO emp VALUES (99, 'x', 1, 1)"),
            statement("INSERT"),
        ),
        (s("REINDEX"), statement("REINDEX")),
        (s("ANALYZE"), statement("ANALYZE")),
        (s("EXPLAIN SELECT 1, 2"), statement("EXPLAIN")),
        (s("VACUUM"), statement("VACUUM")),
        (s("SELECT ?, ?"), Want::OneOf(&[Rte])),
        (
            s("SELECT name, 1 FROM emp WHERE name LIKE printf('%.*c', 5000, '%')"),
            Want::OneOf(&[Rte]),
        ),
        (nested, Want::OneOf(&[Rte])),
        (
            long,
            Want::RefusedAs(|r| matches!(r, Refusal::TooLong { .. }), "too long"),
        ),
        (unions, Want::OneOf(&[Rte])),
        (
            s("SELECT 1\0; DROP TABLE emp"),
            Want::Refused(Refusal::NulByte { offset: 8 }),
        ),
        (
            s("   -- nothing but a comment"),
            Want::Refused(Refusal::Empty),
        ),
        (s("SELECT * FROM nosuch"), Want::OneOf(&[Rte])),
        // An infinity must not equal every number under the float tolerance.
        (
            s("SELECT d.name, 1e999 FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id"),
            Want::OneOf(&[Wa]),
        ),
        // Quadratic inside one VM step: bounded by the 100,000-byte LENGTH limit.
        (
            s("SELECT name, instr(hex(zeroblob(800000)), hex(zeroblob(400000)) || '1') FROM dept"),
            Want::OneOf(&[Rte]),
        ),
        (
            s("SELECT name, instr(hex(zeroblob(49000)), hex(zeroblob(24000)) || '1') FROM dept"),
            Want::OneOf(&[Wa]),
        ),
        (
            format!("CREATE TRIGGER t {}", ";".repeat(99_000)),
            statement("CREATE"),
        ),
    ]
}

pub(crate) fn dml_cases() -> Vec<(String, Want)> {
    let s = |x: &str| x.to_string();
    vec![
        (
            s("VACUUM INTO '/tmp/sqlexam-stolen.db'"),
            statement("VACUUM"),
        ),
        // SQLite itself refuses this at compile time ("table sqlite_master may not be modified").
        (
            s("UPDATE sqlite_master SET sql = ''"),
            Want::OneOf(&[Rte, Verdict::Forbidden]),
        ),
        (
            s("DELETE FROM sqlite_sequence"),
            Want::OneOf(&[Rte, Verdict::Forbidden]),
        ),
        (
            s("CREATE TRIGGER t AFTER UPDATE ON emp BEGIN DELETE FROM dept; END"),
            statement("CREATE"),
        ),
        (s("DROP TABLE emp"), statement("DROP")),
        (
            s("BEGIN; UPDATE emp SET salary = 0; COMMIT"),
            statement("BEGIN"),
        ),
        (
            s("UPDATE emp SET salary = 0; ROLLBACK"),
            statement("ROLLBACK"),
        ),
        (
            s(
                "INSERT INTO emp (name) WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT hex(zeroblob(100000)) FROM r",
            ),
            Want::OneOf(&[Rte, Tle]),
        ),
        (s("DELETE FROM dept"), Want::OneOf(&[Rte])),
        (
            s("UPDATE emp SET salary = (SELECT count(*) FROM emp a, emp b, emp c)"),
            Want::SomeDataset(&[Tle]),
        ),
        (
            s("INSERT INTO dept VALUES (100, 'x'); SELECT 1"),
            Want::OneOf(&[Wa]),
        ),
    ]
}

fn check(problem: &Problem, sql: &str, want: &Want, good: &str) {
    let g: Grading = grade(problem, sql, Scope::All);
    let label = sql.chars().take(80).collect::<String>();
    assert_ne!(g.verdict, Verdict::Accepted, "{label}: accepted");
    match want {
        Want::Refused(r) => assert_eq!(
            g.diagnostic,
            Some(Diagnostic::Forbidden { refusal: r.clone() }),
            "{label}: verdict {:?}",
            g.verdict
        ),
        Want::RefusedAs(pred, why) => match &g.diagnostic {
            Some(Diagnostic::Forbidden { refusal }) if pred(refusal) => {}
            other => panic!(
                "{label}: wanted a refusal ({why}), got {:?} / {other:?}",
                g.verdict
            ),
        },
        Want::OneOf(verdicts) => assert!(
            verdicts.contains(&g.verdict),
            "{label}: got {:?} ({:?})",
            g.verdict,
            g.diagnostic
        ),
        Want::Unavailable => match &g.diagnostic {
            Some(Diagnostic::Forbidden {
                refusal: Refusal::VirtualTable | Refusal::Table { .. } | Refusal::Pragma { .. },
            }) => {}
            Some(Diagnostic::SqlError { message, .. }) if message.starts_with("no such table") => {}
            other => panic!("{label}: wanted 'no such table' or a refusal, got {other:?}"),
        },
        Want::SomeDataset(v) => assert!(
            g.datasets.iter().any(|d| v.contains(&d.verdict)),
            "{label}: no dataset got {v:?}: {:?}",
            g.datasets
        ),
    }
    // Limits held: no dataset used more than its step budget. The budget is checked every
    // 100 VM steps; those steps may have allocated (a string of up to 100 KB each, a
    // sorter's buffer doubling), which is charged too.
    for d in &g.datasets {
        let steps = d.steps.unwrap_or(0);
        assert!(
            steps <= problem.limits.steps + (32 << 20),
            "{label}: {} used {steps} steps",
            d.name
        );
    }
    // The next grading is unaffected.
    assert_eq!(
        grade(problem, good, Scope::All).verdict,
        Verdict::Accepted,
        "after {label}"
    );
}

#[test]
fn hostile_select_inputs_get_clear_verdicts_and_leave_no_trace() {
    let cases = select_cases();
    assert!(cases.len() >= 40, "the suite keeps at least 40 inputs");
    for (sql, want) in &cases {
        check(dept_count(), sql, want, GOOD_SELECT);
    }
    assert!(!std::path::Path::new("/tmp/sqlexam-evil.db").exists());
}

#[test]
fn hostile_dml_inputs_get_clear_verdicts_and_leave_no_trace() {
    for (sql, want) in &dml_cases() {
        check(raise(), sql, want, GOOD_DML);
    }
    assert!(!std::path::Path::new("/tmp/sqlexam-stolen.db").exists());
}

#[test]
fn invalid_utf8_is_refused_with_its_offset() {
    let g = grade_bytes(dept_count(), b"SELECT '\xff', 1", Scope::All);
    assert_eq!(
        g.diagnostic,
        Some(Diagnostic::Forbidden {
            refusal: Refusal::InvalidUtf8 { offset: 8 }
        })
    );
}

#[test]
fn printf_precision_limit_is_compiled_in() {
    // Without SQLITE_PRINTF_PRECISION_LIMIT (from .cargo/config.toml) this is 500,000,000
    // characters (or, under the LENGTH limit, an error); with it, printf stops at 50,000.
    let g = grade(
        dept_count(),
        "SELECT length(printf('%.*c', 500000000, 'x')), 1",
        Scope::Samples,
    );
    match &g.datasets[0].produced {
        Some(sqlexam_core::grade::Produced::Rows(r)) => {
            assert_eq!(r.rows[0][0], sqlexam_core::value::Cell::Integer(50_000));
        }
        other => panic!("expected a result, got {other:?} ({:?})", g.diagnostic),
    }
}

#[test]
fn memory_stays_bounded_under_hostile_load() {
    let big = [
        "SELECT a.name, b.name FROM emp a, emp b, emp c ORDER BY a.name || b.name || c.name",
        "SELECT group_concat(hex(zeroblob(10000))), 1 FROM emp a, emp b",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10000000) SELECT n, n FROM r",
    ];
    for sql in big {
        assert_ne!(
            grade(dept_count(), sql, Scope::All).verdict,
            Verdict::Accepted
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    // Many empty cells: the output cap counts what they cost in memory, not their text.
    let wide = format!(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 200000) SELECT {} FROM r",
        vec!["''"; 400].join(", ")
    );
    assert_eq!(
        grade(dept_count(), &wide, Scope::All).verdict,
        Verdict::OutputLimitExceeded
    );
    // SQLite's heap is capped at 512 MiB; the whole test process must stay well under 1.5 GiB.
    assert!(peak_kib < 1536 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn building_and_sorting_huge_rows_is_charged_and_stops_at_the_same_step_every_time() {
    // Few VM steps, many bytes: each row is a 50 KB string, and the sort copies it.
    let sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000) \
               SELECT n, printf('%.*c', 50000, 'x') || n FROM r ORDER BY 2 DESC";
    let runs: Vec<Grading> = (0..2)
        .map(|_| grade(dept_count(), sql, Scope::All))
        .collect();
    for g in &runs {
        assert_eq!(g.verdict, Tle, "{:?}", g.datasets);
        for d in &g.datasets {
            assert_eq!(d.verdict, Tle, "{}", d.name);
        }
    }
    let steps = |g: &Grading| g.datasets.iter().map(|d| d.steps).collect::<Vec<_>>();
    assert_eq!(steps(&runs[0]), steps(&runs[1]), "the cut is deterministic");
    match &runs[0].datasets[0].detail {
        Some(sqlexam_core::grade::Detail::TimeLimit { by_wall_clock, .. }) => {
            assert!(!by_wall_clock, "stopped by the budget, not the clock")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_check_table_filled_past_the_output_cap_is_output_limit_exceeded() {
    let sql = "INSERT INTO emp (name) WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 800000) SELECT 'x' FROM r";
    let g = grade(raise(), sql, Scope::All);
    assert!(
        g.datasets.iter().all(|d| d.verdict == Ole),
        "{:?}",
        g.datasets.iter().map(|d| d.verdict).collect::<Vec<_>>()
    );
}

#[test]
fn output_shown_to_the_candidate_is_capped_in_emitted_bytes() {
    // 600 rows of 50,000 ESC characters: 30 MB in memory, 180 MB as JSON escapes.
    let sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 600) \
               SELECT n, printf('%.*c', 50000, char(27)) FROM r";
    let g = grade(dept_count(), sql, Scope::Samples);
    let json = serde_json::to_string(&g).unwrap();
    assert!(json.len() < 2 << 20, "{} bytes of JSON", json.len());
    match &g.datasets[0].produced {
        Some(sqlexam_core::grade::Produced::Rows(r)) => {
            assert_eq!(r.rows.len() as u64 + r.omitted_rows, 600);
            assert!(r.omitted_rows > 0);
        }
        other => panic!("{other:?}"),
    }
}
