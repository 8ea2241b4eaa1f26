//! Result values as the grader sees them: SQLite's five storage classes, and result sets.
//!
//! JSON form (used by `--json` output and pack files): NULL → `null`, INTEGER → a JSON
//! integer, REAL → a JSON number that always carries a fraction or exponent (`2.0`), TEXT →
//! a string, BLOB → `{"blob": "<hex>"}`. Integers and reals therefore stay distinct.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{hex_upper, unhex};

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A row: one cell per column.
pub type Row = Vec<Cell>;

/// The column names and rows a statement produced (or a table's contents).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Rows left out of `rows` because what is shown is capped in bytes (see
    /// `keep_within`); absent in JSON when none were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ResultSet {
    /// Keeps the first rows whose JSON fits in `budget` bytes and counts the others in
    /// `omitted_rows`. Returns the budget left. What is emitted (to a terminal, a web view)
    /// must be capped in emitted bytes: text of control characters grows sixfold in JSON.
    pub fn keep_within(&mut self, budget: usize) -> usize {
        let (kept, left) = rows_within(&self.rows, budget);
        self.omitted_rows += (self.rows.len() - kept) as u64;
        self.rows.truncate(kept);
        self.rows.shrink_to_fit();
        left
    }
}

/// How many of `rows`, from the first, fit in `budget` bytes of JSON, and the budget left.
pub(crate) fn rows_within<R: AsRef<[Cell]>>(rows: &[R], budget: usize) -> (usize, usize) {
    let mut left = budget;
    let fit = rows
        .iter()
        .take_while(|r| match left.checked_sub(row_json_len(r.as_ref())) {
            Some(l) => {
                left = l;
                true
            }
            None => false,
        })
        .count();
    (fit, left)
}

/// An upper bound of the bytes of a row's JSON form.
pub fn row_json_len(row: &[Cell]) -> usize {
    2 + row.iter().map(|c| c.json_len() + 1).sum::<usize>()
}

impl Cell {
    /// Converts a value read from SQLite. Text that is not UTF-8 (possible from hostile SQL
    /// through CAST of a blob) is kept as a blob so no byte is lost or invented.
    pub(crate) fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Cell {
        use rusqlite::types::ValueRef;
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => Cell::Text(s.to_owned()),
                Err(_) => Cell::Blob(t.to_vec()),
            },
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }

    /// An upper bound of the bytes of this cell's JSON form (escapes counted).
    pub fn json_len(&self) -> usize {
        match self {
            Cell::Null => 4,
            Cell::Integer(_) => 20,
            Cell::Real(_) => 24,
            Cell::Text(s) => {
                2 + s
                    .chars()
                    .map(|c| match c {
                        '"' | '\\' => 2,
                        c if (c as u32) < 0x20 => 6,
                        c => c.len_utf8(),
                    })
                    .sum::<usize>()
            }
            Cell::Blob(b) => 12 + 2 * b.len(),
        }
    }

    /// Memory this cell takes (itself and what it owns), for output caps.
    pub(crate) fn memory_size(&self) -> usize {
        std::mem::size_of::<Cell>()
            + match self {
                Cell::Null | Cell::Integer(_) | Cell::Real(_) => 0,
                Cell::Text(s) => s.len(),
                Cell::Blob(b) => b.len(),
            }
    }
}

impl fmt::Display for Cell {
    /// How a cell is shown to people: NULL, 2, 2.0, text as is, blobs as X'…'.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Integer(i) => write!(f, "{i}"),
            Cell::Real(r) => write!(f, "{}", real_text(*r)),
            Cell::Text(s) => f.write_str(s),
            Cell::Blob(b) => write!(f, "X'{}'", hex_upper(b)),
        }
    }
}

/// A real shown the way SQLite's shell shows it: always with a fraction or exponent.
fn real_text(r: f64) -> String {
    let s = format!("{r:?}");
    if s.contains(['.', 'e', 'E', 'i', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_unit(),
            Cell::Integer(i) => serializer.serialize_i64(*i),
            Cell::Real(r) => serializer.serialize_f64(*r),
            Cell::Text(s) => serializer.serialize_str(s),
            Cell::Blob(b) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("blob", &hex_upper(b))?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Cell, D::Error> {
        struct CellVisitor;
        impl<'de> Visitor<'de> for CellVisitor {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, a number, a string or {\"blob\": hex}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Cell, E> {
                Ok(Cell::Null)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
                Ok(Cell::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
                i64::try_from(v)
                    .map(Cell::Integer)
                    .map_err(|_| E::custom("integer out of SQLite's 64-bit range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
                Ok(Cell::Real(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
                Ok(Cell::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
                Ok(Cell::Text(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("empty object is not a cell"))?;
                if key != "blob" {
                    return Err(de::Error::unknown_field(&key, &["blob"]));
                }
                let text: String = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("a blob cell has exactly one key"));
                }
                unhex(&text)
                    .map(Cell::Blob)
                    .ok_or_else(|| de::Error::custom("blob is not an even-length hex string"))
            }
        }
        deserializer.deserialize_any(CellVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_keeps_integer_real_and_blob_apart() {
        let row = vec![
            Cell::Null,
            Cell::Integer(2),
            Cell::Real(2.0),
            Cell::Text("x".into()),
            Cell::Blob(vec![0, 255]),
        ];
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(json, r#"[null,2,2.0,"x",{"blob":"00FF"}]"#);
        let back: Vec<Cell> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, row);
    }

    #[test]
    fn reals_display_with_a_fraction() {
        assert_eq!(Cell::Real(2.0).to_string(), "2.0");
        assert_eq!(Cell::Real(0.1).to_string(), "0.1");
        assert_eq!(Cell::Integer(2).to_string(), "2");
        assert_eq!(Cell::Blob(vec![1, 171]).to_string(), "X'01AB'");
    }
}
