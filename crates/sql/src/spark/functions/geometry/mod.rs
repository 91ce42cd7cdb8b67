//! Spark's geometry and geography values from well-known binary (WKB):
//! `st_geomfromwkb(wkb[, srid])`, `st_geogfromwkb(wkb)` (SRID 4326), `st_asbinary(value[,
//! 'NDR' | 'XDR'])`, `st_srid(value)` and `st_setsrid(value, srid)`. A value is a struct of
//! its SRID and its WKB; WKB is checked when read (ISO WKB: points, lines, polygons, their
//! multi forms and collections, in 2 to 4 dimensions, nested at most 64 deep) and written
//! back in the byte order asked for.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, Int32Array, StructArray};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args;

mod wkb;

use wkb::{Order, rewrite};

const GEOGRAPHY_SRID: i32 = 4326;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    [Which::GeomFromWkb, Which::GeogFromWkb, Which::AsBinary, Which::Srid, Which::SetSrid]
        .into_iter()
        .map(|which| ScalarUDF::new_from_impl(Geometry { which, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect()
}

fn fields() -> Fields {
    Fields::from(vec![Field::new("srid", DataType::Int32, true), Field::new("wkb", DataType::Binary, true)])
}

fn value_type() -> DataType {
    DataType::Struct(fields())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Which {
    GeomFromWkb,
    GeogFromWkb,
    AsBinary,
    Srid,
    SetSrid,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Geometry {
    which: Which,
    signature: Signature,
}

fn is_bytes(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) | DataType::Null)
}

impl ScalarUDFImpl for Geometry {
    fn name(&self) -> &str {
        match self.which {
            Which::GeomFromWkb => "st_geomfromwkb",
            Which::GeogFromWkb => "st_geogfromwkb",
            Which::AsBinary => "st_asbinary",
            Which::Srid => "st_srid",
            Which::SetSrid => "st_setsrid",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let geometry = |t: &DataType| *t == value_type() || t.is_null();
        let whole = |t: &DataType| t.is_integer() || t.is_null();
        match (self.which, arg_types) {
            (Which::GeomFromWkb, [wkb]) | (Which::GeogFromWkb, [wkb]) if is_bytes(wkb) => Ok(vec![DataType::Binary]),
            (Which::GeomFromWkb, [wkb, srid]) if is_bytes(wkb) && whole(srid) => Ok(vec![DataType::Binary, DataType::Int64]),
            (Which::AsBinary, [value]) | (Which::Srid, [value]) if geometry(value) => Ok(vec![value_type()]),
            (Which::AsBinary, [value, order]) if geometry(value) && (args::is_text(order) || order.is_null()) => Ok(vec![value_type(), DataType::Utf8]),
            (Which::SetSrid, [value, srid]) if geometry(value) && whole(srid) => Ok(vec![value_type(), DataType::Int64]),
            (Which::GeomFromWkb | Which::GeogFromWkb, _) => plan_err!("{name} takes well-known binary (and for st_geomfromwkb an SRID), not {arg_types:?}"),
            _ => plan_err!("{name} takes a geometry or geography (from st_geomfromwkb or st_geogfromwkb), not {arg_types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.which {
            Which::AsBinary => DataType::Binary,
            Which::Srid => DataType::Int32,
            _ => value_type(),
        })
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name();
        let arrays = call.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let answer: ArrayRef = match self.which {
            Which::GeomFromWkb | Which::GeogFromWkb => {
                let wkb = arrays[0].as_binary::<i32>();
                let srids: Vec<Option<i32>> = match (self.which, arrays.get(1)) {
                    (Which::GeogFromWkb, _) => vec![Some(GEOGRAPHY_SRID); rows],
                    (_, None) => vec![Some(0); rows],
                    (_, Some(srids)) => srids.as_primitive::<Int64Type>().iter().map(|s| s.and_then(|s| i32::try_from(s).ok())).collect(),
                };
                for bytes in wkb.iter().flatten() {
                    if let Err(why) = rewrite(bytes, Order::Little) {
                        return exec_err!("{name}: the bytes are not well-known binary: {why}");
                    }
                }
                let srids = Int32Array::from(srids);
                let nulls = wkb.logical_nulls();
                Arc::new(StructArray::try_new(fields(), vec![Arc::new(srids), arrays[0].clone()], nulls)?)
            }
            Which::AsBinary => {
                let values = arrays[0].as_struct();
                let wkb = values.column(1).as_binary::<i32>();
                let order = match arrays.get(1) {
                    None => Some(Order::Little),
                    Some(order) => match order.as_string::<i32>().iter().next().flatten().map(str::to_ascii_uppercase).as_deref() {
                        Some("NDR") => Some(Order::Little),
                        Some("XDR") => Some(Order::Big),
                        None => None,
                        Some(other) => return exec_err!("{name}: the byte order '{other}' is not NDR or XDR"),
                    },
                };
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    out.push(match (values.is_valid(row) && wkb.is_valid(row), order) {
                        (true, Some(order)) => Some(rewrite(wkb.value(row), order).map_err(|why| datafusion::common::DataFusionError::Execution(format!("{name}: {why}")))?),
                        _ => None,
                    });
                }
                Arc::new(BinaryArray::from_iter(out))
            }
            Which::Srid => {
                let values = arrays[0].as_struct();
                let srids = values.column(0).as_primitive::<Int32Type>();
                Arc::new((0..rows).map(|row| (values.is_valid(row) && srids.is_valid(row)).then(|| srids.value(row))).collect::<Int32Array>())
            }
            Which::SetSrid => {
                let values = arrays[0].as_struct();
                let srids = arrays[1].as_primitive::<Int64Type>().iter().map(|s| s.and_then(|s| i32::try_from(s).ok()));
                Arc::new(StructArray::try_new(fields(), vec![Arc::new(srids.collect::<Int32Array>()), values.column(1).clone()], values.logical_nulls())?)
            }
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}
