//! Comparing a candidate's result with the expected one, by the rules of
//! docs/problem-format.md ("Comparison rules"). Pure functions over values: no SQLite here.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::problem::{ColumnNames, Compare, Numbers, Order, TextCase};
use crate::value::{Cell, ResultSet, Row, row_json_len, rows_within};

/// At most this many missing and extra rows are listed in feedback (the counts are exact),
/// and only while their JSON stays within `LISTED_BYTES`.
const LISTED_ROWS: usize = 20;
const LISTED_BYTES: usize = 256 << 10;
/// A differing row is shown only if its JSON fits in this many bytes (one row can hold
/// 500 columns of 100 KB each).
const SHOWN_ROW_BYTES: usize = 64 << 10;

/// How a result differs from the expected one (row-level feedback for sample datasets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    ColumnCount {
        expected: usize,
        actual: usize,
    },
    ColumnNames {
        expected: Vec<String>,
        actual: Vec<String>,
    },
    /// The rows differ as multisets.
    Rows {
        /// For DML problems: the check table whose contents differ.
        table: Option<String>,
        expected_rows: usize,
        actual_rows: usize,
        missing_count: usize,
        extra_count: usize,
        /// Expected rows the result lacks (first few).
        missing: Vec<Row>,
        /// Rows the result has but should not (first few).
        extra: Vec<Row>,
        /// The first place where the results differ, in the order they are compared.
        first_difference: Option<Difference>,
    },
    /// The right rows in the wrong order (only when the problem requires an order).
    Order {
        first_difference: Difference,
    },
}

/// The first differing row (1-based, in comparison order) and cell (1-based column, if the
/// rows have the same width).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub row: usize,
    pub column: Option<usize>,
    pub expected: Option<Row>,
    pub actual: Option<Row>,
}

/// Compares a select problem's result. `None` means the result is correct.
pub fn compare_result(
    expected: &ResultSet,
    actual: &ResultSet,
    rules: &Compare,
) -> Option<Mismatch> {
    if expected.columns.len() != actual.columns.len() {
        return Some(Mismatch::ColumnCount {
            expected: expected.columns.len(),
            actual: actual.columns.len(),
        });
    }
    if rules.column_names == ColumnNames::Required
        && !expected
            .columns
            .iter()
            .zip(&actual.columns)
            .all(|(e, a)| e.eq_ignore_ascii_case(a))
    {
        return Some(Mismatch::ColumnNames {
            expected: expected.columns.clone(),
            actual: actual.columns.clone(),
        });
    }
    let cmp = Comparer { rules };
    let (e, a) = (&expected.rows, &actual.rows);
    match rules.order {
        Order::Ignored => cmp.multiset(e, a, None),
        Order::Required if rules.order_by.is_empty() => {
            if cmp.same_sequence(e, a) {
                return None;
            }
            match cmp.multiset(e, a, None) {
                // Missing or extra rows: point at the first difference in sequence order
                // (the candidate's order matters here), not in sorted order.
                Some(mut m) => {
                    if let Mismatch::Rows {
                        first_difference, ..
                    } = &mut m
                    {
                        *first_difference = cmp.first_difference(e, a, None);
                    }
                    Some(m)
                }
                None => cmp
                    .first_difference(e, a, None)
                    .map(|first_difference| Mismatch::Order { first_difference }),
            }
        }
        Order::Required => {
            if let Some(m) = cmp.multiset(e, a, None) {
                return Some(m);
            }
            let keys: Vec<usize> = rules.order_by.iter().map(|c| c - 1).collect();
            cmp.first_difference(e, a, Some(&keys))
                .map(|first_difference| Mismatch::Order { first_difference })
        }
    }
}

/// Compares a DML problem's check tables (as multisets). `names` are the table names.
pub fn compare_tables(
    names: &[String],
    expected: &[ResultSet],
    actual: &[ResultSet],
    rules: &Compare,
) -> Option<Mismatch> {
    let cmp = Comparer { rules };
    for ((name, e), a) in names.iter().zip(expected).zip(actual) {
        if e.columns.len() != a.columns.len() {
            return Some(Mismatch::ColumnCount {
                expected: e.columns.len(),
                actual: a.columns.len(),
            });
        }
        if let Some(m) = cmp.multiset(&e.rows, &a.rows, Some(name)) {
            return Some(m);
        }
    }
    None
}

/// The first few rows of `rows`, as many as fit the feedback's byte budget.
fn listed(rows: &[&Row]) -> Vec<Row> {
    let first = &rows[..rows.len().min(LISTED_ROWS)];
    let (fit, _) = rows_within(first, LISTED_BYTES);
    first[..fit].iter().map(|r| (*r).clone()).collect()
}

/// A copy of a differing row to show, unless it is too large to show.
fn shown(row: &[Cell]) -> Option<Row> {
    (row_json_len(row) <= SHOWN_ROW_BYTES).then(|| row.to_vec())
}

/// Reals in numeric order, with -0.0 = 0.0 (SQLite never produces NaN).
fn real_cmp(x: f64, y: f64) -> Ordering {
    x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y))
}

/// An integer against a real, exactly: `i as f64` rounds above 2^53 and would make the
/// order intransitive (and the sort panic).
fn int_real_cmp(i: i64, r: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if r.is_nan() {
        return Ordering::Less;
    }
    if r >= TWO_63 {
        return Ordering::Less;
    }
    if r < -TWO_63 {
        return Ordering::Greater;
    }
    let whole = r.trunc();
    // |whole| < 2^63 here, so the cast is exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal if r > whole => Ordering::Less,
        Ordering::Equal if r < whole => Ordering::Greater,
        other => other,
    }
}

struct Comparer<'a> {
    rules: &'a Compare,
}

impl Comparer<'_> {
    fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let s = if self.rules.text_trim { s.trim() } else { s };
        match self.rules.text_case {
            TextCase::Sensitive => Cow::Borrowed(s),
            TextCase::Fold => Cow::Owned(s.to_lowercase()),
        }
    }

    fn floats_equal(&self, a: f64, b: f64) -> bool {
        if a == b {
            return true;
        }
        // An infinity is equal only to itself: a tolerance relative to it is infinite.
        if !a.is_finite() || !b.is_finite() {
            return false;
        }
        let tolerance = self
            .rules
            .float_abs
            .max(self.rules.float_rel * a.abs().max(b.abs()));
        (a - b).abs() <= tolerance
    }

    fn cell_eq(&self, a: &Cell, b: &Cell) -> bool {
        match (a, b) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Integer(x), Cell::Integer(y)) => x == y,
            (Cell::Real(x), Cell::Real(y)) => self.floats_equal(*x, *y),
            (Cell::Integer(i), Cell::Real(r)) | (Cell::Real(r), Cell::Integer(i)) => {
                self.rules.numbers == Numbers::Numeric && self.floats_equal(*i as f64, *r)
            }
            (Cell::Text(x), Cell::Text(y)) => self.text(x) == self.text(y),
            (Cell::Blob(x), Cell::Blob(y)) => x == y,
            _ => false,
        }
    }

    /// A total order consistent with `cell_eq` up to float tolerance, used to sort rows
    /// before a multiset comparison.
    fn cell_cmp(&self, a: &Cell, b: &Cell) -> Ordering {
        let rank = |c: &Cell| match (c, self.rules.numbers) {
            (Cell::Null, _) => 0,
            (Cell::Integer(_), _) | (Cell::Real(_), Numbers::Numeric) => 1,
            (Cell::Real(_), Numbers::Exact) => 2,
            (Cell::Text(_), _) => 3,
            (Cell::Blob(_), _) => 4,
        };
        match (a, b) {
            (Cell::Integer(x), Cell::Integer(y)) => x.cmp(y),
            (Cell::Real(x), Cell::Real(y)) => real_cmp(*x, *y),
            (Cell::Integer(i), Cell::Real(r)) if self.rules.numbers == Numbers::Numeric => {
                int_real_cmp(*i, *r)
            }
            (Cell::Real(r), Cell::Integer(i)) if self.rules.numbers == Numbers::Numeric => {
                int_real_cmp(*i, *r).reverse()
            }
            (Cell::Text(x), Cell::Text(y)) => self.text(x).cmp(&self.text(y)),
            (Cell::Blob(x), Cell::Blob(y)) => x.cmp(y),
            _ => rank(a).cmp(&rank(b)),
        }
    }

    fn row_eq(&self, a: &[Cell], b: &[Cell]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.cell_eq(x, y))
    }

    fn row_cmp(&self, a: &[Cell], b: &[Cell]) -> Ordering {
        a.iter()
            .zip(b)
            .map(|(x, y)| self.cell_cmp(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.len().cmp(&b.len()))
    }

    fn same_sequence(&self, e: &[Row], a: &[Row]) -> bool {
        e.len() == a.len() && e.iter().zip(a).all(|(x, y)| self.row_eq(x, y))
    }

    /// `None` when `e` and `a` are equal as multisets; otherwise the missing and extra rows.
    fn multiset(&self, e: &[Row], a: &[Row], table: Option<&str>) -> Option<Mismatch> {
        // Most correct answers come out in the reference's order: no sort needed then.
        if self.same_sequence(e, a) {
            return None;
        }
        let mut es: Vec<&Row> = e.iter().collect();
        let mut acts: Vec<&Row> = a.iter().collect();
        es.sort_by(|x, y| self.row_cmp(x, y));
        acts.sort_by(|x, y| self.row_cmp(x, y));
        let (mut i, mut j) = (0, 0);
        let (mut missing, mut extra) = (Vec::new(), Vec::new());
        while i < es.len() || j < acts.len() {
            match (es.get(i), acts.get(j)) {
                (Some(x), Some(y)) if self.row_eq(x, y) => {
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if self.row_cmp(x, y).is_lt() => {
                    missing.push(*x);
                    i += 1;
                }
                (Some(x), None) => {
                    missing.push(*x);
                    i += 1;
                }
                (_, Some(y)) => {
                    extra.push(*y);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        // Rows equal within float tolerance can sort apart when an earlier column differs
        // by less than the tolerance; pair what is left directly (small sets only: large
        // leftovers are genuine differences).
        if !missing.is_empty() && missing.len() == extra.len() && missing.len() <= 2_000 {
            let mut unpaired: Vec<Option<&Row>> = extra.iter().map(|r| Some(*r)).collect();
            missing.retain(|m| {
                match unpaired
                    .iter_mut()
                    .find(|x| x.is_some_and(|x| self.row_eq(m, x)))
                {
                    Some(slot) => {
                        *slot = None;
                        false
                    }
                    None => true,
                }
            });
            extra = unpaired.into_iter().flatten().collect();
        }
        if missing.is_empty() && extra.is_empty() {
            return None;
        }
        Some(Mismatch::Rows {
            table: table.map(str::to_owned),
            expected_rows: e.len(),
            actual_rows: a.len(),
            missing_count: missing.len(),
            extra_count: extra.len(),
            missing: listed(&missing),
            extra: listed(&extra),
            first_difference: self.first_difference(&es, &acts, None),
        })
    }

    /// The first row where `e` and `a` differ, comparing only `keys` columns when given.
    /// Works on borrowed rows: nothing but the rows shown is copied.
    fn first_difference<R: AsRef<[Cell]>>(
        &self,
        e: &[R],
        a: &[R],
        keys: Option<&[usize]>,
    ) -> Option<Difference> {
        let same = |x: &[Cell], y: &[Cell]| match keys {
            Some(k) => k.iter().all(|&c| match (x.get(c), y.get(c)) {
                (Some(p), Some(q)) => self.cell_eq(p, q),
                (p, q) => p.is_none() && q.is_none(),
            }),
            None => self.row_eq(x, y),
        };
        let n = e.len().max(a.len());
        (0..n).find_map(|i| {
            let (x, y) = (e.get(i).map(AsRef::as_ref), a.get(i).map(AsRef::as_ref));
            if let (Some(x), Some(y)) = (x, y)
                && same(x, y)
            {
                return None;
            }
            let column = match (x, y) {
                (Some(x), Some(y)) if x.len() == y.len() => x
                    .iter()
                    .zip(y)
                    .position(|(p, q)| !self.cell_eq(p, q))
                    .map(|c| c + 1),
                _ => None,
            };
            Some(Difference {
                row: i + 1,
                column,
                expected: x.and_then(shown),
                actual: y.and_then(shown),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Cell::{Integer as I, Null, Real as R};

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }
    fn rs(rows: Vec<Row>) -> ResultSet {
        let width = rows.first().map_or(1, Vec::len);
        ResultSet {
            columns: (0..width).map(|i| format!("c{i}")).collect(),
            rows,
            ..ResultSet::default()
        }
    }
    fn same(e: Vec<Row>, a: Vec<Row>, rules: &Compare) -> bool {
        compare_result(&rs(e), &rs(a), rules).is_none()
    }
    fn ordered() -> Compare {
        Compare {
            order: Order::Required,
            ..Compare::default()
        }
    }

    #[test]
    fn row_order_is_ignored_by_default() {
        assert!(same(
            vec![vec![I(1)], vec![I(2)]],
            vec![vec![I(2)], vec![I(1)]],
            &Compare::default()
        ));
    }

    #[test]
    fn wrong_order_is_rejected_only_when_order_required() {
        let m = compare_result(
            &rs(vec![vec![I(1)], vec![I(2)]]),
            &rs(vec![vec![I(2)], vec![I(1)]]),
            &ordered(),
        );
        match m {
            Some(Mismatch::Order { first_difference }) => {
                assert_eq!(first_difference.row, 1);
                assert_eq!(first_difference.column, Some(1));
            }
            other => panic!("expected an order mismatch, got {other:?}"),
        }
    }

    #[test]
    fn order_by_keys_let_ties_come_in_any_order() {
        let rules = Compare {
            order_by: vec![2],
            ..ordered()
        };
        let e = vec![vec![t("a"), I(1)], vec![t("b"), I(1)], vec![t("c"), I(2)]];
        let tie_swapped = vec![vec![t("b"), I(1)], vec![t("a"), I(1)], vec![t("c"), I(2)]];
        assert!(same(e.clone(), tie_swapped, &rules));
        let key_swapped = vec![vec![t("c"), I(2)], vec![t("a"), I(1)], vec![t("b"), I(1)]];
        assert!(matches!(
            compare_result(&rs(e), &rs(key_swapped), &rules),
            Some(Mismatch::Order { .. })
        ));
    }

    #[test]
    fn duplicates_count_in_multisets() {
        let m = compare_result(
            &rs(vec![vec![I(1)], vec![I(1)]]),
            &rs(vec![vec![I(1)]]),
            &Compare::default(),
        );
        match m {
            Some(Mismatch::Rows {
                missing_count: 1,
                extra_count: 0,
                missing,
                ..
            }) => assert_eq!(missing, vec![vec![I(1)]]),
            other => panic!("expected one missing row, got {other:?}"),
        }
    }

    #[test]
    fn column_count_must_match() {
        let e = ResultSet {
            columns: vec!["a".into()],
            rows: vec![],
            ..ResultSet::default()
        };
        let a = ResultSet {
            columns: vec!["a".into(), "b".into()],
            rows: vec![],
            ..ResultSet::default()
        };
        assert_eq!(
            compare_result(&e, &a, &Compare::default()),
            Some(Mismatch::ColumnCount {
                expected: 1,
                actual: 2
            })
        );
    }

    #[test]
    fn column_names_are_ignored_unless_required() {
        let e = ResultSet {
            columns: vec!["total".into()],
            rows: vec![vec![I(1)]],
            ..ResultSet::default()
        };
        let a = ResultSet {
            columns: vec!["TOTAL".into()],
            rows: vec![vec![I(1)]],
            ..ResultSet::default()
        };
        let b = ResultSet {
            columns: vec!["sum".into()],
            rows: vec![vec![I(1)]],
            ..ResultSet::default()
        };
        let required = Compare {
            column_names: ColumnNames::Required,
            ..Compare::default()
        };
        assert!(compare_result(&e, &b, &Compare::default()).is_none());
        assert!(
            compare_result(&e, &a, &required).is_none(),
            "names compare case-insensitively"
        );
        assert!(matches!(
            compare_result(&e, &b, &required),
            Some(Mismatch::ColumnNames { .. })
        ));
    }

    #[test]
    fn integer_equals_real_in_numeric_mode_only() {
        assert!(same(
            vec![vec![I(2)]],
            vec![vec![R(2.0)]],
            &Compare::default()
        ));
        let exact = Compare {
            numbers: Numbers::Exact,
            ..Compare::default()
        };
        assert!(!same(vec![vec![I(2)]], vec![vec![R(2.0)]], &exact));
        assert!(same(vec![vec![R(2.0)]], vec![vec![R(2.0)]], &exact));
    }

    #[test]
    fn integers_compare_exactly_even_when_huge() {
        assert!(!same(
            vec![vec![I(9_007_199_254_740_993)]],
            vec![vec![I(9_007_199_254_740_992)]],
            &Compare::default()
        ));
    }

    #[test]
    fn floats_compare_within_tolerance() {
        assert!(same(
            vec![vec![R(2.0 / 3.0)]],
            vec![vec![R(0.6666666666666667)]],
            &Compare::default()
        ));
        assert!(
            same(
                vec![vec![R(1e6)]],
                vec![vec![R(1e6 + 1e-4)]],
                &Compare::default()
            ),
            "relative 1e-9 of 1e6 is 1e-3"
        );
        assert!(!same(
            vec![vec![R(0.67)]],
            vec![vec![R(0.6667)]],
            &Compare::default()
        ));
        let loose = Compare {
            float_abs: 0.01,
            ..Compare::default()
        };
        assert!(same(vec![vec![R(0.67)]], vec![vec![R(0.6667)]], &loose));
        let relative = Compare {
            float_abs: 0.0,
            float_rel: 0.01,
            ..Compare::default()
        };
        assert!(same(vec![vec![R(100.0)]], vec![vec![R(100.9)]], &relative));
        assert!(!same(vec![vec![R(100.0)]], vec![vec![R(101.1)]], &relative));
    }

    #[test]
    fn infinity_equals_only_itself() {
        let inf = f64::INFINITY;
        assert!(!same(
            vec![vec![R(2.5)]],
            vec![vec![R(inf)]],
            &Compare::default()
        ));
        assert!(!same(
            vec![vec![I(3)]],
            vec![vec![R(-inf)]],
            &Compare::default()
        ));
        assert!(same(
            vec![vec![R(inf)]],
            vec![vec![R(inf)]],
            &Compare::default()
        ));
    }

    #[test]
    fn integers_and_reals_beyond_2_pow_53_sort_without_panicking() {
        let big = 1i64 << 53;
        let mut rows = Vec::new();
        for k in 0..60 {
            rows.push(vec![if k % 2 == 0 {
                I(big + k)
            } else {
                R((big + k) as f64)
            }]);
        }
        let mut reversed = rows.clone();
        reversed.reverse();
        reversed.pop();
        assert!(!same(rows, reversed, &Compare::default()));
        assert_eq!(
            int_real_cmp(big + 1, (big + 1) as f64),
            Ordering::Greater,
            "2^53+1 > 2^53 as a real"
        );
        assert_eq!(int_real_cmp(3, 3.5), Ordering::Less);
        assert_eq!(int_real_cmp(-3, -3.5), Ordering::Greater);
        assert_eq!(int_real_cmp(i64::MAX, 9.3e18), Ordering::Less);
    }

    #[test]
    fn rows_equal_within_tolerance_match_whatever_order_they_sort_in() {
        // 0.15 vs 0.15000000000000002 in the first column sorts the pairs apart.
        let e = vec![vec![R(0.15), t("a")], vec![R(0.15000000000000002), t("b")]];
        let a = vec![vec![R(0.15000000000000002), t("a")], vec![R(0.15), t("b")]];
        assert!(same(e, a, &Compare::default()));
        assert!(same(
            vec![vec![R(-0.0)], vec![R(0.0)]],
            vec![vec![R(0.0)], vec![R(-0.0)]],
            &Compare::default()
        ));
    }

    #[test]
    fn text_is_never_equal_to_a_number() {
        assert!(!same(
            vec![vec![I(2)]],
            vec![vec![t("2")]],
            &Compare::default()
        ));
    }

    #[test]
    fn null_equals_null_and_nothing_else() {
        assert!(same(
            vec![vec![Null]],
            vec![vec![Null]],
            &Compare::default()
        ));
        assert!(!same(
            vec![vec![Null]],
            vec![vec![I(0)]],
            &Compare::default()
        ));
        assert!(!same(
            vec![vec![Null]],
            vec![vec![t("")]],
            &Compare::default()
        ));
    }

    #[test]
    fn text_is_case_sensitive_unless_folded_and_trimmed_only_on_request() {
        assert!(!same(
            vec![vec![t("Tokyo")]],
            vec![vec![t("tokyo")]],
            &Compare::default()
        ));
        let fold = Compare {
            text_case: TextCase::Fold,
            ..Compare::default()
        };
        assert!(same(vec![vec![t("Tokyo")]], vec![vec![t("tokyo")]], &fold));
        assert!(!same(
            vec![vec![t("a")]],
            vec![vec![t(" a ")]],
            &Compare::default()
        ));
        let trim = Compare {
            text_trim: true,
            ..Compare::default()
        };
        assert!(same(vec![vec![t("a")]], vec![vec![t(" a ")]], &trim));
    }

    #[test]
    fn blobs_compare_byte_for_byte() {
        assert!(same(
            vec![vec![Cell::Blob(vec![1])]],
            vec![vec![Cell::Blob(vec![1])]],
            &Compare::default()
        ));
        assert!(!same(
            vec![vec![Cell::Blob(vec![1])]],
            vec![vec![t("\u{1}")]],
            &Compare::default()
        ));
    }

    #[test]
    fn missing_and_extra_rows_are_listed_with_first_difference() {
        let e = vec![vec![t("a"), I(1)], vec![t("b"), I(2)]];
        let a = vec![vec![t("a"), I(1)], vec![t("b"), I(3)]];
        match compare_result(&rs(e), &rs(a), &Compare::default()) {
            Some(Mismatch::Rows {
                missing,
                extra,
                first_difference: Some(d),
                ..
            }) => {
                assert_eq!(missing, vec![vec![t("b"), I(2)]]);
                assert_eq!(extra, vec![vec![t("b"), I(3)]]);
                assert_eq!((d.row, d.column), (2, Some(2)));
            }
            other => panic!("expected a rows mismatch, got {other:?}"),
        }
    }

    #[test]
    fn empty_results_match_and_missing_all_rows_is_reported() {
        assert!(same(vec![], vec![], &Compare::default()));
        assert!(!same(vec![vec![I(1)]], vec![], &Compare::default()));
    }

    #[test]
    fn dml_tables_compare_as_multisets_and_name_the_table() {
        let e = [rs(vec![vec![I(1)], vec![I(2)]])];
        let a = [rs(vec![vec![I(2)]])];
        let names = ["stock".to_string()];
        assert!(
            compare_tables(
                &names,
                &e,
                &[rs(vec![vec![I(2)], vec![I(1)]])],
                &Compare::default()
            )
            .is_none()
        );
        match compare_tables(&names, &e, &a, &Compare::default()) {
            Some(Mismatch::Rows { table: Some(t), .. }) => assert_eq!(t, "stock"),
            other => panic!("expected a table mismatch, got {other:?}"),
        }
    }
}
