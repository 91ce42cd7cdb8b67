//! Spark's vector functions over arrays of numbers (`array<float>` in Spark): similarity
//! and distance of two vectors, a vector's norm and its normalized form, and the
//! element-wise sum and mean of a column of vectors. Computed in doubles, answered as
//! floats, as Spark's are. Vectors of different lengths are an error naming both lengths;
//! a norm's degree is 1, 2 or infinity.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float32Array, Float32Builder, ListArray, ListBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Float32Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args;

/// The scalar vector functions.
pub fn all() -> Vec<ScalarUDF> {
    [Measure::CosineSimilarity, Measure::InnerProduct, Measure::L2Distance, Measure::Norm, Measure::Normalize]
        .into_iter()
        .map(|measure| ScalarUDF::new_from_impl(VectorFunction { measure, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect()
}

/// `vector_sum` and `vector_avg`.
pub fn aggregates() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(VectorTotal::new("vector_sum")), AggregateUDF::new_from_impl(VectorTotal::new("vector_avg"))]
}

fn float_list() -> DataType {
    DataType::new_list(DataType::Float32, true)
}

fn is_number_list(data_type: &DataType) -> bool {
    match data_type {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => item.data_type().is_numeric() || item.data_type().is_null(),
        DataType::Null => true,
        _ => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Measure {
    CosineSimilarity,
    InnerProduct,
    L2Distance,
    Norm,
    Normalize,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::CosineSimilarity => "vector_cosine_similarity",
            Measure::InnerProduct => "vector_inner_product",
            Measure::L2Distance => "vector_l2_distance",
            Measure::Norm => "vector_norm",
            Measure::Normalize => "vector_normalize",
        }
    }

    /// Whether the second argument is the norm's degree rather than a second vector.
    fn takes_degree(self) -> bool {
        matches!(self, Measure::Norm | Measure::Normalize)
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VectorFunction {
    measure: Measure,
    signature: Signature,
}

/// The 1-, 2- or infinity-norm of `v` (the sum of magnitudes, the length, the largest
/// magnitude).
fn norm(v: &[f64], p: f64) -> f64 {
    if p == 1.0 {
        v.iter().map(|x| x.abs()).sum()
    } else if p == 2.0 {
        v.iter().map(|x| x * x).sum::<f64>().sqrt()
    } else {
        v.iter().fold(0.0, |m, x| m.max(x.abs()))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The vectors of a list column, each as doubles (none for a null row).
fn vectors(list: &ListArray) -> Result<Vec<Option<Vec<f64>>>> {
    let values = cast(list.values(), &DataType::Float64)?;
    let values = values.as_primitive::<arrow::datatypes::Float64Type>();
    let offsets = list.value_offsets();
    Ok((0..list.len())
        .map(|row| {
            list.is_valid(row).then(|| (offsets[row] as usize..offsets[row + 1] as usize).map(|i| if values.is_null(i) { f64::NAN } else { values.value(i) }).collect())
        })
        .collect())
}

fn as_list(value: &ColumnarValue, rows: usize) -> Result<ListArray> {
    Ok(cast(&value.to_array(rows)?, &float_list())?.as_list::<i32>().clone())
}

impl ScalarUDFImpl for VectorFunction {
    fn name(&self) -> &str {
        self.measure.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        match (self.measure.takes_degree(), arg_types) {
            (true, [v]) if is_number_list(v) => Ok(vec![float_list()]),
            (true, [v, p]) if is_number_list(v) && (p.is_numeric() || p.is_null()) => Ok(vec![float_list(), DataType::Float64]),
            (false, [a, b]) if is_number_list(a) && is_number_list(b) => Ok(vec![float_list(), float_list()]),
            (true, _) => plan_err!("{name} takes an array of numbers and optionally the norm's degree, not {arg_types:?}"),
            (false, _) => plan_err!("{name} takes two arrays of numbers, not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.measure == Measure::Normalize { float_list() } else { DataType::Float32 })
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name();
        let first = vectors(&as_list(&call.args[0], rows)?)?;
        let answer: ArrayRef = if self.measure.takes_degree() {
            let degrees = match call.args.get(1) {
                Some(p) => args::float(p, rows)?.iter().collect::<Vec<_>>(),
                None => vec![Some(2.0); rows],
            };
            let norms = first.iter().zip(&degrees).map(|(v, p)| Ok(match (v, p) {
                (Some(v), Some(p)) if *p == 1.0 || *p == 2.0 || *p == f64::INFINITY => Some((v, norm(v, *p))),
                (Some(_), Some(p)) => return exec_err!("{name}: the norm's degree must be 1, 2 or float('inf'), not {p}"),
                _ => None,
            }));
            if self.measure == Measure::Norm {
                Arc::new(norms.map(|n| n.map(|n| n.map(|(_, n)| n as f32))).collect::<Result<Float32Array>>()?)
            } else {
                let mut out = ListBuilder::new(Float32Builder::new());
                for row in norms {
                    match row? {
                        Some((v, n)) if n > 0.0 => out.append_value(v.iter().map(|x| Some((x / n) as f32))),
                        // A vector of length 0 has no direction.
                        Some(_) | None => out.append_null(),
                    }
                }
                Arc::new(out.finish())
            }
        } else {
            let second = vectors(&as_list(&call.args[1], rows)?)?;
            let mut out = Float32Builder::with_capacity(rows);
            for (a, b) in first.iter().zip(&second) {
                let (Some(a), Some(b)) = (a, b) else {
                    out.append_null();
                    continue;
                };
                if a.len() != b.len() {
                    return exec_err!("{name}: the vectors have different lengths ({} and {})", a.len(), b.len());
                }
                let value = match self.measure {
                    Measure::InnerProduct => Some(dot(a, b)),
                    Measure::L2Distance => Some(a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()),
                    _ => {
                        let norms = norm(a, 2.0) * norm(b, 2.0);
                        (norms > 0.0).then(|| dot(a, b) / norms)
                    }
                };
                out.append_option(value.map(|v| v as f32));
            }
            Arc::new(out.finish())
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}

named_aggregate!(VectorTotal);

impl AggregateUDFImpl for VectorTotal {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [v] if is_number_list(v) => Ok(vec![float_list()]),
            _ => plan_err!("{} takes one array of numbers, not {arg_types:?}", self.name),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(float_list())
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Totals { name: self.name, sums: None, count: 0 }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let sums = DataType::new_list(DataType::Float64, true);
        Ok(vec![Arc::new(Field::new("sums", sums, true)), Arc::new(Field::new("count", DataType::Int64, true))])
    }
}

/// The element-wise sums of the vectors seen, and how many there were. Its size is one
/// vector's, whatever the number of rows.
#[derive(Debug)]
struct Totals {
    name: &'static str,
    sums: Option<Vec<f64>>,
    count: i64,
}

impl Totals {
    fn add(&mut self, vector: &[f64], count: i64) -> Result<()> {
        match &mut self.sums {
            None => self.sums = Some(vector.to_vec()),
            Some(sums) if sums.len() != vector.len() => return exec_err!("{}: the vectors have different lengths ({} and {})", self.name, sums.len(), vector.len()),
            Some(sums) => sums.iter_mut().zip(vector).for_each(|(s, x)| *s += x),
        }
        self.count += count;
        Ok(())
    }
}

impl Accumulator for Totals {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for vector in vectors(values[0].as_list::<i32>())?.into_iter().flatten() {
            self.add(&vector, 1)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = states[1].as_primitive::<arrow::datatypes::Int64Type>();
        for (row, sums) in vectors(states[0].as_list::<i32>())?.into_iter().enumerate() {
            if let Some(sums) = sums {
                self.add(&sums, counts.value(row))?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sums = match &self.sums {
            Some(sums) => ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<arrow::datatypes::Float64Type, _, _>([Some(sums.iter().map(|s| Some(*s)))]))),
            None => ScalarValue::try_from(DataType::new_list(DataType::Float64, true))?,
        };
        Ok(vec![sums, ScalarValue::Int64(Some(self.count))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let Some(sums) = &self.sums else { return ScalarValue::try_from(float_list()) };
        let divisor = if self.name == "vector_avg" { self.count as f64 } else { 1.0 };
        let values = sums.iter().map(|s| Some((s / divisor) as f32));
        Ok(ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<Float32Type, _, _>([Some(values)]))))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.sums.as_ref().map_or(0, |s| s.capacity() * 8)
    }
}
