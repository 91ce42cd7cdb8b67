//! Reading the charted columns out of Arrow record batches: as numbers, as
//! times or as text, one `Option` per row (`None` for a null).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::ChartError;

/// Milliseconds in a day, for Date32 values (days since the epoch).
const MS_PER_DAY: f64 = 86_400_000.0;

/// One column of the result, across all its batches.
pub(crate) struct Column {
    /// The column's name as the result spells it.
    pub name: String,
    /// Its Arrow type.
    pub data_type: DataType,
    arrays: Vec<ArrayRef>,
}

impl Column {
    /// The column called `name`, matched exactly or else, if only one column
    /// matches so, ignoring ASCII case. `batches` must not be empty.
    pub fn find(batches: &[RecordBatch], name: &str) -> Result<Column, ChartError> {
        let schema = batches.first().ok_or(ChartError::Empty)?.schema();
        let fields = schema.fields();
        let mut folded = fields
            .iter()
            .filter(|f| f.name().eq_ignore_ascii_case(name));
        let field = match fields.iter().find(|f| f.name() == name) {
            Some(exact) => exact,
            None => match (folded.next(), folded.next()) {
                (Some(only), None) => only,
                _ => return Err(missing(name, fields.iter().map(|f| f.name()))),
            },
        };
        let arrays = batches
            .iter()
            .map(|batch| {
                batch.column_by_name(field.name()).cloned().ok_or_else(|| {
                    missing(
                        field.name(),
                        batch.schema_ref().fields().iter().map(|f| f.name()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Column {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            arrays,
        })
    }

    /// The values cast to f64; NaN and infinities count as nulls.
    pub fn numbers(&self) -> Result<Vec<Option<f64>>, ChartError> {
        let mut out = Vec::new();
        for array in &self.arrays {
            let floats = cast(array, &DataType::Float64)?;
            let floats = floats
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| unexpected(&self.name, "Float64"))?;
            out.extend(floats.iter().map(|v| v.filter(|v| v.is_finite())));
        }
        Ok(out)
    }

    /// Timestamp or date values as milliseconds since the Unix epoch, given
    /// the milliseconds per stored unit from [`ms_per_unit`].
    pub fn times_ms(&self, ms_per_unit: f64) -> Result<Vec<Option<f64>>, ChartError> {
        let mut out = Vec::new();
        for array in &self.arrays {
            let raw = cast(array, &DataType::Int64)?;
            let raw = raw
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| unexpected(&self.name, "Int64"))?;
            out.extend(raw.iter().map(|v| v.map(|v| v as f64 * ms_per_unit)));
        }
        Ok(out)
    }

    /// The values as text, as the result table would show them.
    pub fn labels(&self) -> Result<Vec<Option<String>>, ChartError> {
        let mut out = Vec::new();
        for array in &self.arrays {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::new())?;
            let nulls = array.logical_nulls();
            for row in 0..array.len() {
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    out.push(None);
                } else {
                    out.push(Some(formatter.value(row).try_to_string()?));
                }
            }
        }
        Ok(out)
    }
}

/// For timestamps and dates, the milliseconds one stored unit stands for;
/// None for other types.
pub(crate) fn ms_per_unit(data_type: &DataType) -> Option<f64> {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, _) => Some(1_000.0),
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => Some(1.0),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some(1e-3),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(1e-6),
        DataType::Date32 => Some(MS_PER_DAY),
        _ => None,
    }
}

/// The number of rows in all batches.
pub(crate) fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn missing<'a>(name: &str, columns: impl Iterator<Item = &'a String>) -> ChartError {
    let available: Vec<&str> = columns.map(String::as_str).collect();
    ChartError::MissingColumn {
        name: name.to_string(),
        available: available.join(", "),
    }
}

fn unexpected(column: &str, wanted: &str) -> ChartError {
    ChartError::Arrow(ArrowError::CastError(format!(
        "column `{column}` did not cast to {wanted}"
    )))
}
