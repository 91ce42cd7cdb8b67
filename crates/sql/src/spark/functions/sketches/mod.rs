//! Spark's sketches: HyperLogLog (`hll_*`) and theta (`theta_*`) sketches of distinct
//! counts, tuple sketches (`tuple_*`, distinct keys with a summary each) and KLL quantile
//! sketches (`kll_*`). An aggregate builds or merges sketches into bytes; scalar functions
//! combine them and read estimates. Each sketch's memory is bounded by its size parameter,
//! whatever the number of rows. The bytes are hela's own format (a header names the kind
//! of sketch), not Apache DataSketches' that Spark writes: sketches move between hela's
//! queries and tables, not between hela and Spark.

mod codec;
mod hashing;
mod hll;
mod kll;
mod kmv;
mod theta;
mod tuple;

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, ScalarUDF, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

/// The scalar functions over sketches.
pub fn scalars() -> Vec<ScalarUDF> {
    hll::scalars().into_iter().chain(theta::scalars()).chain(tuple::scalars()).chain(kll::scalars()).collect()
}

/// The aggregates that build and merge sketches.
pub fn aggregates() -> Vec<AggregateUDF> {
    hll::aggregates().into_iter().chain(theta::aggregates()).chain(tuple::aggregates()).chain(kll::aggregates()).collect()
}

/// A number type sketches read from columns and answer in: `bigint`, `float`, `double`.
trait Number: Copy + PartialOrd + Debug + std::fmt::Display + Send + Sync + 'static {
    fn data_type() -> DataType;
    /// The values of a column of [`Number::data_type`].
    fn read_column(column: &ArrayRef) -> Vec<Option<Self>>;
    fn column(values: Vec<Option<Self>>) -> ArrayRef;
}

macro_rules! number {
    ($number:ty, $arrow:ty, $array:ty, $data_type:expr) => {
        impl Number for $number {
            fn data_type() -> DataType {
                $data_type
            }
            fn read_column(column: &ArrayRef) -> Vec<Option<Self>> {
                column.as_primitive::<$arrow>().iter().collect()
            }
            fn column(values: Vec<Option<Self>>) -> ArrayRef {
                Arc::new(<$array>::from(values))
            }
        }
    };
}

number!(i64, arrow::datatypes::Int64Type, arrow::array::Int64Array, DataType::Int64);
number!(f32, arrow::datatypes::Float32Type, arrow::array::Float32Array, DataType::Float32);
number!(f64, arrow::datatypes::Float64Type, arrow::array::Float64Array, DataType::Float64);

/// A sketch being built by an aggregate.
trait State: Debug + Send + Sync {
    /// Adds a batch of the aggregate's rows (its arguments, cast as `coerce` said).
    fn update(&mut self, args: &[ArrayRef]) -> Result<()>;
    /// Merges a sketch of the same aggregate (another partition's state).
    fn merge(&mut self, sketch: &[u8]) -> Result<()>;
    /// The sketch as bytes.
    fn to_bytes(&self) -> Vec<u8>;
    /// The state handed to another partition: the sketch, or none before any input where
    /// an empty sketch would mean something else (an intersection's start is everything).
    fn partial(&self) -> Option<Vec<u8>> {
        Some(self.to_bytes())
    }
    /// Bytes held.
    fn size(&self) -> usize;
}

/// Checks an aggregate's argument types, giving those they are cast to.
type Coerce = fn(name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>>;
/// A new state from the aggregate's constant arguments (none where one is not constant).
type Start = fn(name: &'static str, constants: &[Option<ScalarValue>]) -> Result<Box<dyn State>>;

/// An aggregate whose answer is a sketch's bytes.
#[derive(Debug)]
struct SketchAggregate {
    name: &'static str,
    coerce: Coerce,
    start: Start,
    signature: Signature,
}

impl SketchAggregate {
    fn udaf(name: &'static str, coerce: Coerce, start: Start) -> AggregateUDF {
        AggregateUDF::new_from_impl(SketchAggregate { name, coerce, start, signature: Signature::user_defined(Volatility::Immutable) })
    }
}

impl PartialEq for SketchAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SketchAggregate {}

impl Hash for SketchAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl AggregateUDFImpl for SketchAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        (self.coerce)(self.name, arg_types)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let constants: Vec<_> = args.exprs.iter().map(|e| e.downcast_ref::<Literal>().map(|l| l.value().clone())).collect();
        Ok(Box::new(SketchAccumulator((self.start)(self.name, &constants)?)))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("sketch", DataType::Binary, true))])
    }
}

#[derive(Debug)]
struct SketchAccumulator(Box<dyn State>);

impl Accumulator for SketchAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.update(values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        states[0].as_binary::<i32>().iter().flatten().try_for_each(|sketch| self.0.merge(sketch))
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(self.0.partial())])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.0.to_bytes())))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.0.size()
    }
}

/// The sketches in a column of bytes, each read with `read` (NULL stays NULL).
fn each_sketch<T>(column: &ArrayRef, read: impl Fn(&[u8]) -> Result<T>) -> Result<Vec<Option<T>>> {
    let bytes = arrow::compute::cast(column, &DataType::Binary)?;
    let bytes = bytes.as_binary::<i32>();
    (0..bytes.len()).map(|row| if bytes.is_null(row) { Ok(None) } else { read(bytes.value(row)).map(Some) }).collect()
}

/// The whole-number constant `position` of an aggregate, `default` when not given.
fn constant_int(name: &str, constants: &[Option<ScalarValue>], position: usize, default: i64, what: &str) -> Result<i64> {
    match constants.get(position) {
        None => Ok(default),
        Some(Some(value)) => match value.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(v)) => Ok(v),
            _ => datafusion::common::plan_err!("{name}: {what} must not be NULL"),
        },
        Some(None) => datafusion::common::plan_err!("{name}: {what} must be a constant"),
    }
}

/// The text constant `position` of an aggregate, `default` when not given.
fn constant_text(name: &str, constants: &[Option<ScalarValue>], position: usize, default: &str, what: &str) -> Result<String> {
    match constants.get(position) {
        None => Ok(default.to_string()),
        Some(Some(ScalarValue::Utf8(Some(v)) | ScalarValue::Utf8View(Some(v)) | ScalarValue::LargeUtf8(Some(v)))) => Ok(v.clone()),
        _ => datafusion::common::plan_err!("{name}: {what} must be constant text"),
    }
}

/// The sketch type `data_type` is read as (bytes), or an error naming the function.
fn sketch_bytes(name: &str, data_type: &DataType) -> Result<DataType> {
    match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null => Ok(DataType::Binary),
        other => datafusion::common::plan_err!("{name} takes a sketch (binary), not {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::hll::Hll;
    use super::kll::Kll;
    use super::kmv::{Kmv, Mode};

    /// Every prefix of `bytes`, and `bytes` with bytes changed at random, read without a
    /// panic (an error or a sketch).
    fn survives_mutations<T>(bytes: &[u8], read: impl Fn(&[u8]) -> datafusion::common::Result<T>) {
        for end in 0..bytes.len() {
            let _ = read(&bytes[..end]);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let mut changed = bytes.to_vec();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % changed.len() as u64) as usize;
                changed[at] = (state >> 32) as u8;
            }
            let _ = read(&changed);
        }
    }

    #[test]
    fn bytes_that_are_not_a_sketch_are_an_error_never_a_panic() {
        let mut hll = Hll::new(8);
        (0..500u64).for_each(|v| hll.add(v.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        survives_mutations(&hll.to_bytes(), |b| Hll::read("t", b));
        let mut theta = Kmv::<()>::new(5);
        (0..100u64).for_each(|v| theta.add(v.wrapping_mul(0x9E37_79B9_7F4A_7C15), (), Mode::Sum));
        survives_mutations(&theta.to_bytes(), |b| Kmv::<()>::read("t", b));
        let mut tuple = Kmv::<f64>::new(5);
        (0..100u64).for_each(|v| tuple.add(v.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1.5, Mode::Sum));
        survives_mutations(&tuple.to_bytes(), |b| Kmv::<f64>::read("t", b));
        let mut kll = Kll::<i64>::new(8);
        (0..300).for_each(|v| kll.add(v));
        survives_mutations(&kll.to_bytes(), |b| Kll::<i64>::read("t", b));
    }
}
