//! Spark's bitmap aggregates: `bitmap_construct_agg` (the bits at the positions given, as
//! `bitmap_bit_position` writes them), `bitmap_or_agg` and `bitmap_and_agg` (of bitmaps).
//! A bitmap is 4,096 bytes (32,768 bits), the first bit the lowest of the first byte;
//! a shorter one has zeros after its end.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature};

const BITMAP_BYTES: usize = 4096;

/// The bitmap aggregates.
pub fn all() -> Vec<AggregateUDF> {
    ["bitmap_construct_agg", "bitmap_or_agg", "bitmap_and_agg"].into_iter().map(|name| AggregateUDF::new_from_impl(BitmapAggregate::new(name))).collect()
}

named_aggregate!(BitmapAggregate);

impl AggregateUDFImpl for BitmapAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match (self.name, arg_types) {
            ("bitmap_construct_agg", [t]) if t.is_integer() || t.is_null() => Ok(vec![DataType::Int64]),
            ("bitmap_construct_agg", _) => plan_err!("bitmap_construct_agg takes one bit position (a whole number), not {arg_types:?}"),
            (_, [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) | DataType::Null]) => Ok(vec![DataType::Binary]),
            (name, _) => plan_err!("{name} takes one bitmap (binary), not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let fill = if self.name == "bitmap_and_agg" { 0xFF } else { 0 };
        Ok(Box::new(Bitmap { name: self.name, bits: vec![fill; BITMAP_BYTES] }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("bitmap", DataType::Binary, true))])
    }
}

#[derive(Debug)]
struct Bitmap {
    name: &'static str,
    bits: Vec<u8>,
}

impl Bitmap {
    fn combine(&mut self, other: &[u8]) {
        let and = self.name == "bitmap_and_agg";
        for (i, byte) in self.bits.iter_mut().enumerate() {
            let theirs = other.get(i).copied().unwrap_or(0);
            *byte = if and { *byte & theirs } else { *byte | theirs };
        }
    }
}

impl Accumulator for Bitmap {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if self.name != "bitmap_construct_agg" {
            values[0].as_binary::<i32>().iter().flatten().for_each(|bitmap| self.combine(bitmap));
            return Ok(());
        }
        for position in values[0].as_primitive::<Int64Type>().iter().flatten() {
            match usize::try_from(position).ok().filter(|p| *p < BITMAP_BYTES * 8) {
                Some(p) => self.bits[p / 8] |= 1 << (p % 8),
                None => return exec_err!("bitmap_construct_agg: the bit position {position} is outside 0 to {}", BITMAP_BYTES * 8 - 1),
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        // Partial bitmaps combine as their aggregate does (built ones by OR).
        states[0].as_binary::<i32>().iter().flatten().for_each(|bitmap| self.combine(bitmap));
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.bits.clone()))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.bits.clone())))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.bits.capacity()
    }
}
