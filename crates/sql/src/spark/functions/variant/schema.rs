//! The schema of variants as Spark writes it (`BIGINT`, `DECIMAL(3,2)`,
//! `ARRAY<OBJECT<a: BIGINT>>`, ...): `schema_of_variant` of one, and the aggregate
//! `schema_of_variant_agg` merging those of a column (two shapes that do not merge are
//! `VARIANT`). The aggregate keeps one schema, whatever the number of rows.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};
use serde_json::{Value, json};

use crate::spark::functions::number_format::format::shortest_digits;

/// A variant's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Void,
    Bigint,
    Decimal(u32, u32),
    Double,
    Boolean,
    String,
    Array(Box<Shape>),
    Object(BTreeMap<String, Shape>),
    Variant,
}

/// The shape of `value`.
pub fn of(value: &Value) -> Shape {
    match value {
        Value::Null => Shape::Void,
        Value::Bool(_) => Shape::Boolean,
        Value::String(_) => Shape::String,
        Value::Number(n) if n.is_i64() => Shape::Bigint,
        Value::Number(n) => decimal_of(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Shape::Array(Box::new(items.iter().map(of).reduce(merge).unwrap_or(Shape::Void))),
        Value::Object(members) => Shape::Object(members.iter().map(|(k, v)| (k.clone(), of(v))).collect()),
    }
}

/// The decimal a fraction is written as, or a double when it has no decimal of 38 digits.
fn decimal_of(value: f64) -> Shape {
    let Some((units, scale)) = shortest_digits(value) else { return Shape::Double };
    // Digits before the point, and after it.
    let digits = units.unsigned_abs().to_string().len() as i64;
    let whole = (digits - scale).max(0);
    let scale = scale.max(0);
    let precision = (whole + scale).max(1);
    if precision > 38 { Shape::Double } else { Shape::Decimal(precision as u32, scale as u32) }
}

/// The shape both `a` and `b` fit.
pub fn merge(a: Shape, b: Shape) -> Shape {
    match (a, b) {
        (a, b) if a == b => a,
        (Shape::Void, other) | (other, Shape::Void) => other,
        (Shape::Bigint, Shape::Decimal(p, s)) | (Shape::Decimal(p, s), Shape::Bigint) => widen((20, 0), (p, s)),
        (Shape::Decimal(p1, s1), Shape::Decimal(p2, s2)) => widen((p1, s1), (p2, s2)),
        (Shape::Double, Shape::Bigint | Shape::Decimal(..)) | (Shape::Bigint | Shape::Decimal(..), Shape::Double) => Shape::Double,
        (Shape::Array(a), Shape::Array(b)) => Shape::Array(Box::new(merge(*a, *b))),
        (Shape::Object(mut a), Shape::Object(b)) => {
            for (key, shape) in b {
                let merged = match a.remove(&key) {
                    Some(existing) => merge(existing, shape),
                    None => shape,
                };
                a.insert(key, merged);
            }
            Shape::Object(a)
        }
        _ => Shape::Variant,
    }
}

fn widen((p1, s1): (u32, u32), (p2, s2): (u32, u32)) -> Shape {
    let scale = s1.max(s2);
    let whole = (p1 - s1).max(p2 - s2);
    if whole + scale > 38 { Shape::Double } else { Shape::Decimal(whole + scale, scale) }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Void => write!(f, "VOID"),
            Shape::Bigint => write!(f, "BIGINT"),
            Shape::Decimal(p, s) => write!(f, "DECIMAL({p},{s})"),
            Shape::Double => write!(f, "DOUBLE"),
            Shape::Boolean => write!(f, "BOOLEAN"),
            Shape::String => write!(f, "STRING"),
            Shape::Variant => write!(f, "VARIANT"),
            Shape::Array(item) => write!(f, "ARRAY<{item}>"),
            Shape::Object(members) => {
                write!(f, "OBJECT<")?;
                for (i, (key, shape)) in members.iter().enumerate() {
                    write!(f, "{}{key}: {shape}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, ">")
            }
        }
    }
}

impl Shape {
    /// The shape as JSON, to hand between partitions.
    fn to_json(&self) -> Value {
        match self {
            Shape::Decimal(p, s) => json!({ "decimal": [p, s] }),
            Shape::Array(item) => json!({ "array": item.to_json() }),
            Shape::Object(members) => json!({ "object": members.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>() }),
            other => Value::String(other.to_string()),
        }
    }

    fn from_json(value: &Value) -> Shape {
        match value {
            Value::String(name) => match name.as_str() {
                "VOID" => Shape::Void,
                "BIGINT" => Shape::Bigint,
                "DOUBLE" => Shape::Double,
                "BOOLEAN" => Shape::Boolean,
                "STRING" => Shape::String,
                _ => Shape::Variant,
            },
            Value::Object(o) if o.contains_key("decimal") => {
                let part = |i: usize| o["decimal"].get(i).and_then(Value::as_u64).unwrap_or(0) as u32;
                Shape::Decimal(part(0), part(1))
            }
            Value::Object(o) if o.contains_key("array") => Shape::Array(Box::new(Shape::from_json(&o["array"]))),
            Value::Object(o) => match o.get("object") {
                Some(Value::Object(members)) => Shape::Object(members.iter().map(|(k, v)| (k.clone(), Shape::from_json(v))).collect()),
                _ => Shape::Variant,
            },
            _ => Shape::Variant,
        }
    }
}

/// `schema_of_variant_agg`.
pub fn aggregate() -> AggregateUDF {
    AggregateUDF::new_from_impl(SchemaOfVariantAgg::new("schema_of_variant_agg"))
}

named_aggregate!(SchemaOfVariantAgg);

impl AggregateUDFImpl for SchemaOfVariantAgg {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [_] => Ok(vec![DataType::Utf8]),
            _ => plan_err!("{} takes one variant, not {} arguments", self.name, arg_types.len()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Merged(None)))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("shape", DataType::Utf8, true))])
    }
}

/// The merged shape of the variants so far.
#[derive(Debug)]
struct Merged(Option<Shape>);

impl Merged {
    fn add(&mut self, shape: Shape) {
        self.0 = Some(match self.0.take() {
            Some(so_far) => merge(so_far, shape),
            None => shape,
        });
    }
}

impl Accumulator for Merged {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for value in super::variants("schema_of_variant_agg", &values[0])?.into_iter().flatten() {
            self.add(of(&value));
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for shape in states[0].as_string::<i32>().iter().flatten() {
            self.add(Shape::from_json(&serde_json::from_str(shape).unwrap_or(Value::Null)));
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(self.0.as_ref().map(|s| s.to_json().to_string()))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(self.0.as_ref().map(Shape::to_string)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.0.as_ref().map_or(0, |s| s.to_string().len())
    }
}

#[cfg(test)]
mod tests {
    use super::{Shape, merge, of};

    fn shape(json: &str) -> Shape {
        of(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn describes_and_merges_as_spark() {
        assert_eq!(shape(r#"[{"b":true,"a":0}]"#).to_string(), "ARRAY<OBJECT<a: BIGINT, b: BOOLEAN>>");
        assert_eq!(shape("1.23").to_string(), "DECIMAL(3,2)");
        assert_eq!(shape("0.8").to_string(), "DECIMAL(1,1)");
        assert_eq!(shape("12.5").to_string(), "DECIMAL(3,1)");
        assert_eq!(shape("null").to_string(), "VOID");
        let merged = [r#"{"a": 1}"#, r#"{"b": true}"#, r#"{"c": 1.23}"#].into_iter().map(shape).reduce(merge).unwrap();
        assert_eq!(merged.to_string(), "OBJECT<a: BIGINT, b: BOOLEAN, c: DECIMAL(3,2)>");
        assert_eq!(merge(shape("1"), shape(r#""x""#)), Shape::Variant);
        assert_eq!(Shape::from_json(&merged.to_json()), merged);
    }
}
