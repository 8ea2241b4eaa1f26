//! Result cells as the UI needs them. The core writes a REAL as a JSON number with a
//! fraction (`2.0`) and an INTEGER without (`2`); JavaScript's JSON.parse makes both `2`.
//! For the UI only, reals inside result rows become `{"real": 2.0}`, so it can show them as
//! SQLite does. Pack files and the CLI's JSON keep the core's form.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// `T` serialized for the UI, with its result cells' reals tagged.
pub struct ForUi<T>(pub T);

impl<T: Serialize> Serialize for ForUi<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        tag_reals(value).serialize(serializer)
    }
}

/// Tags every float that is an element of an array. Cells are the only floats that sit in
/// arrays (rows, missing and extra rows, a first difference's rows); floats elsewhere
/// (`wall_ms`, limits) are object fields and stay numbers.
fn tag_reals(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Number(n) if n.is_f64() => {
                        let mut real = serde_json::Map::new();
                        real.insert("real".into(), Value::Number(n));
                        Value::Object(real)
                    }
                    other => tag_reals(other),
                })
                .collect(),
        ),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, tag_reals(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reals_in_rows_are_tagged_and_integers_and_fields_are_not() {
        let value = json!({
            "wall_ms": 2.5,
            "rows": [[1, 2.0, "x", null, {"blob": "00"}]],
            "first_difference": {"row": 1, "expected": [0.5], "actual": null}
        });
        let out = serde_json::to_value(ForUi(&value)).unwrap();
        assert_eq!(
            out,
            json!({
                "wall_ms": 2.5,
                "rows": [[1, {"real": 2.0}, "x", null, {"blob": "00"}]],
                "first_difference": {"row": 1, "expected": [{"real": 0.5}], "actual": null}
            })
        );
        assert_eq!(
            serde_json::to_string(&out["rows"][0][1]).unwrap(),
            r#"{"real":2.0}"#
        );
    }
}
