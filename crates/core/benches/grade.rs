//! Grading benchmark (BENCHMARKS.md). Prints figures; asserts nothing about time.
//!
//! 1. p50 submit→verdict on a typical problem: 5 datasets × 1,000 rows.
//! 2. Overhead on a 100,000-row dataset: grading ÷ running the same query on an
//!    already-loaded rusqlite connection (the physical floor), measured interleaved.
//!
//! Last line: `grade_p50_ms=… grade_overhead_ratio=…`.
#![allow(clippy::unwrap_used)] // a bench panics on broken setup

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, MAIN_DB};
use sqlexam_core::grade::{Scope, Verdict, grade};
use sqlexam_core::problem::{Problem, Settings, load_problem};

const SCHEMA: &str =
    "CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer(id),
  amount REAL NOT NULL, placed_on TEXT NOT NULL);
";

/// A dataset of `orders` rows (and orders/10 customers), spread deterministically by `seed`.
fn data(orders: u32, seed: u32) -> String {
    let customers = (orders / 10).max(1);
    format!(
        "INSERT INTO customer WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {customers})
           SELECT i, 'Customer ' || i, 'R' || ((i * {seed}) % 7) FROM n;
         INSERT INTO orders WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {orders})
           SELECT i, (i * 7919 + {seed}) % {customers} + 1, ((i * 31 + {seed}) % 1000) / 10.0,
                  date('2025-01-01', '+' || (i % 365) || ' days') FROM n;"
    )
}

fn write_problem(
    root: &Path,
    id: &str,
    solution: &str,
    sample_rows: u32,
    secret: &[u32],
) -> Problem {
    let dir = root.join(id);
    fs::create_dir_all(dir.join("data/sample")).unwrap();
    fs::create_dir_all(dir.join("data/secret")).unwrap();
    fs::write(
        dir.join("problem.toml"),
        "title = { en = \"Bench\", ja = \"ベンチ\" }\nkind = \"select\"\n",
    )
    .unwrap();
    fs::write(dir.join("statement.en.md"), "Bench.").unwrap();
    fs::write(dir.join("statement.ja.md"), "ベンチ。").unwrap();
    fs::write(dir.join("schema.sql"), SCHEMA).unwrap();
    fs::write(dir.join("solution.sql"), solution).unwrap();
    fs::write(dir.join("data/sample/01-sample.sql"), data(sample_rows, 3)).unwrap();
    for (i, rows) in secret.iter().enumerate() {
        fs::write(
            dir.join(format!("data/secret/{:02}-secret.sql", i + 1)),
            data(*rows, 11 + i as u32),
        )
        .unwrap();
    }
    load_problem(&dir, &Settings::default()).expect("bench problem loads")
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The physical floor: the same query on a connection that already holds the data.
fn floor(conn: &Connection, sql: &str) -> usize {
    let mut stmt = conn.prepare(sql).unwrap();
    let width = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let cells: Vec<rusqlite::types::Value> = (0..width).map(|i| row.get(i).unwrap()).collect();
        out.push(cells);
    }
    out.len()
}

/// Median grading time and median floor time, measured alternately.
fn overhead(problem: &Problem, sql: &str, runs: usize) -> (Duration, Duration) {
    let image = &problem.datasets[0].image;
    let mut conn = Connection::open_in_memory().unwrap();
    conn.deserialize_read_exact(MAIN_DB, &image[..], image.len(), true)
        .unwrap();
    // Same temp store as the grader, so the floor is not slowed by temp files.
    conn.pragma_update(None, "temp_store", "MEMORY").unwrap();
    let (mut graded, mut floors) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let g = grade(problem, sql, Scope::Samples);
        graded.push(t.elapsed());
        assert_eq!(g.verdict, Verdict::Accepted, "{g:?}");
        let t = Instant::now();
        floor(&conn, sql);
        floors.push(t.elapsed());
    }
    (percentile(&mut graded, 0.5), percentile(&mut floors, 0.5))
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let aggregate = "SELECT c.region, COUNT(o.id), ROUND(SUM(o.amount), 2) FROM customer c \
                     LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.region";
    let candidate = "SELECT region, (SELECT count(*) FROM orders o JOIN customer c2 ON c2.id = o.customer_id \
                     WHERE c2.region = c.region) AS n, ROUND(SUM(amount), 2) AS total FROM customer c \
                     LEFT JOIN orders ON orders.customer_id = c.id GROUP BY region";

    let typical = write_problem(
        tmp.path(),
        "typical",
        aggregate,
        1_000,
        &[1_000, 1_000, 1_000, 1_000],
    );
    let mut times = Vec::new();
    for _ in 0..10 {
        grade(&typical, aggregate, Scope::All); // warm up
    }
    for _ in 0..200 {
        let t = Instant::now();
        let g = grade(&typical, aggregate, Scope::All);
        times.push(t.elapsed());
        assert_eq!(g.verdict, Verdict::Accepted);
    }
    let p50 = percentile(&mut times, 0.5);
    let p90 = percentile(&mut times, 0.9);
    println!(
        "typical problem, 5 datasets x 1,000 rows: submit->verdict p50 {:.2} ms, p90 {:.2} ms (200 runs)",
        ms(p50),
        ms(p90)
    );
    let t = Instant::now();
    let g = grade(&typical, candidate, Scope::All);
    println!(
        "  a correlated-subquery answer: {:?} in {:.2} ms",
        g.verdict,
        ms(t.elapsed())
    );

    let big = write_problem(tmp.path(), "big-aggregate", aggregate, 100_000, &[10]);
    let (g, f) = overhead(&big, aggregate, 30);
    let ratio = ms(g) / ms(f);
    println!(
        "100,000 rows, aggregate query: grade p50 {:.2} ms, floor p50 {:.2} ms, ratio {ratio:.3}",
        ms(g),
        ms(f)
    );

    let rows_query = "SELECT id, customer_id, amount FROM orders WHERE amount >= 50";
    let wide = write_problem(tmp.path(), "big-rows", rows_query, 100_000, &[10]);
    let (g2, f2) = overhead(&wide, rows_query, 30);
    println!(
        "100,000 rows, 50,000-row result: grade p50 {:.2} ms, floor p50 {:.2} ms, ratio {:.3}",
        ms(g2),
        ms(f2),
        ms(g2) / ms(f2)
    );
    println!(
        "grade_p50_ms={:.2} grade_overhead_ratio={ratio:.3}",
        ms(p50)
    );
}
