//! `lpad`, `rpad` and `overlay` of text (by characters) or of bytes (by bytes), as Spark
//! has them: the bytes forms take bytes to pad or place (`lpad(unhex('aabb'), 5)` pads
//! with zero bytes), where the text forms would refuse bytes that are not UTF-8.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BinaryArray, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, is_bytes, is_text};

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    [Splice::new("lpad"), Splice::new("rpad"), Splice::new("overlay")].into_iter().map(ScalarUDF::new_from_impl).collect()
}

/// One of the functions, known by its name.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Splice {
    name: &'static str,
    signature: Signature,
}

impl Splice {
    fn new(name: &'static str) -> Self {
        Splice { name, signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// Whether each argument is text or bytes (`true`) or a whole number (`false`).
    fn pieces(&self) -> &'static [bool] {
        match self.name {
            "overlay" => &[true, true, false, false],
            _ => &[true, false, true],
        }
    }

    fn required(&self) -> usize {
        if self.name == "overlay" { 3 } else { 2 }
    }
}

impl ScalarUDFImpl for Splice {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let pieces = self.pieces();
        if arg_types.len() < self.required() || arg_types.len() > pieces.len() {
            return plan_err!("{} takes {} to {} arguments, not {}", self.name, self.required(), pieces.len(), arg_types.len());
        }
        // Bytes when every piece given is bytes; text otherwise.
        let bytes = arg_types.iter().zip(pieces).filter(|(_, piece)| **piece).all(|(t, _)| is_bytes(t) || t.is_null())
            && arg_types.iter().any(is_bytes);
        let piece_type = if bytes { DataType::Binary } else { DataType::Utf8 };
        arg_types
            .iter()
            .zip(pieces)
            .enumerate()
            .map(|(position, (given, piece))| match piece {
                true if is_text(given) || is_bytes(given) || given.is_null() || !bytes => Ok(piece_type.clone()),
                false if given.is_integer() || given.is_null() => Ok(DataType::Int64),
                _ => plan_err!("argument {} of {} must be {}, not {given}", position + 1, self.name, if *piece { "text or bytes" } else { "a whole number" }),
            })
            .collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let bytes = call.args[0].data_type() == DataType::Binary;
        let pieces: Vec<Option<Vec<Option<Units>>>> = call
            .args
            .iter()
            .zip(self.pieces())
            .map(|(arg, piece)| piece.then(|| units(arg, rows, bytes)).transpose())
            .collect::<Result<_>>()?;
        let numbers: Vec<Option<Int64Array>> =
            call.args.iter().zip(self.pieces()).map(|(arg, piece)| (!piece).then(|| args::int(arg, rows)).transpose()).collect::<Result<_>>()?;
        let piece = |position: usize, row: usize| pieces.get(position).and_then(|p| p.as_ref()).map(|p| p[row].as_ref());
        let number = |position: usize, row: usize| numbers.get(position).and_then(|n| n.as_ref()).map(|n| n.is_valid(row).then(|| n.value(row)));
        let mut answers: Vec<Option<Units>> = Vec::with_capacity(rows);
        for row in 0..rows {
            let answer = match self.name {
                "overlay" => match (piece(0, row).flatten(), piece(1, row).flatten(), number(2, row).flatten(), number(3, row).unwrap_or(Some(-1))) {
                    (Some(input), Some(placed), Some(from), Some(length)) => Some(overlay(input, placed, from, length)),
                    _ => None,
                },
                _ => {
                    let default_pad = if bytes { Units::Bytes(vec![0]) } else { Units::Chars(vec![' ']) };
                    match (piece(0, row).flatten(), number(1, row).flatten(), piece(2, row).unwrap_or(Some(&default_pad))) {
                        (Some(input), Some(length), Some(pad)) => Some(padded(input, length, pad, self.name == "lpad")),
                        _ => None,
                    }
                }
            };
            answers.push(answer);
        }
        let answer: ArrayRef = if bytes {
            Arc::new(answers.iter().map(|a| a.as_ref().map(Units::to_bytes)).collect::<BinaryArray>())
        } else {
            Arc::new(answers.iter().map(|a| a.as_ref().map(Units::to_text)).collect::<StringArray>())
        };
        args::finish(answer, args::all_scalar(&call.args))
    }
}

/// A value cut into the units the functions count: characters of text, or bytes.
#[derive(Clone)]
enum Units {
    Chars(Vec<char>),
    Bytes(Vec<u8>),
}

impl Units {
    fn len(&self) -> usize {
        match self {
            Units::Chars(c) => c.len(),
            Units::Bytes(b) => b.len(),
        }
    }

    /// The units from `start` to `end` (clamped to the value).
    fn slice(&self, start: usize, end: usize) -> Units {
        let end = end.min(self.len());
        let start = start.min(end);
        match self {
            Units::Chars(c) => Units::Chars(c[start..end].to_vec()),
            Units::Bytes(b) => Units::Bytes(b[start..end].to_vec()),
        }
    }

    fn concat(parts: &[&Units]) -> Units {
        match parts[0] {
            Units::Chars(_) => Units::Chars(parts.iter().flat_map(|p| if let Units::Chars(c) = p { c.clone() } else { vec![] }).collect()),
            Units::Bytes(_) => Units::Bytes(parts.iter().flat_map(|p| if let Units::Bytes(b) = p { b.clone() } else { vec![] }).collect()),
        }
    }

    /// `count` units of this value repeated.
    fn cycled(&self, count: usize) -> Units {
        match self {
            Units::Chars(c) => Units::Chars(c.iter().cycle().take(count).copied().collect()),
            Units::Bytes(b) => Units::Bytes(b.iter().cycle().take(count).copied().collect()),
        }
    }

    fn to_text(&self) -> String {
        match self {
            Units::Chars(c) => c.iter().collect(),
            Units::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        match self {
            Units::Chars(c) => c.iter().collect::<String>().into_bytes(),
            Units::Bytes(b) => b.clone(),
        }
    }
}

/// An argument's values as units: characters of text, or bytes.
fn units(arg: &ColumnarValue, rows: usize, bytes: bool) -> Result<Vec<Option<Units>>> {
    Ok(if bytes {
        args::bytes(arg, rows)?.iter().map(|b| b.map(|b| Units::Bytes(b.to_vec()))).collect()
    } else {
        args::text(arg, rows)?.iter().map(|t| t.map(|t| Units::Chars(t.chars().collect()))).collect()
    })
}

/// `input` cut or padded to `length` units, the padding (`pad` repeated) on the left or the
/// right; with nothing to pad with, `input` as it is.
fn padded(input: &Units, length: i64, pad: &Units, left: bool) -> Units {
    let length = length.max(0) as usize;
    if length <= input.len() {
        return input.slice(0, length);
    }
    if pad.len() == 0 {
        return input.clone();
    }
    let padding = pad.cycled(length - input.len());
    if left { Units::concat(&[&padding, input]) } else { Units::concat(&[input, &padding]) }
}

/// `input` with `length` units from position `from` (1-based; negative counts from the
/// end) replaced by `placed`; a negative `length` replaces as many units as `placed` has.
fn overlay(input: &Units, placed: &Units, from: i64, length: i64) -> Units {
    let length = if length < 0 { placed.len() as i64 } else { length };
    let before = substring(input, 1, from.saturating_sub(1));
    let after = substring(input, from.saturating_add(length), i64::MAX);
    Units::concat(&[&before, placed, &after])
}

/// Spark's `substring(value, position, length)` on units: position 1 is the first unit, 0
/// too, and a negative position counts from the end.
fn substring(value: &Units, position: i64, length: i64) -> Units {
    let total = value.len() as i64;
    let start = match position {
        p if p > 0 => p - 1,
        p if p < 0 => total + p,
        _ => 0,
    };
    let end = start.saturating_add(length);
    let start = start.max(0);
    if start >= end {
        return value.slice(0, 0);
    }
    value.slice(start as usize, end.clamp(0, total) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Units {
        Units::Chars(s.chars().collect())
    }

    #[test]
    fn overlay_places_over_the_units_from_a_position() {
        assert_eq!(overlay(&text("Spark SQL"), &text("_"), 6, -1).to_text(), "Spark_SQL");
        assert_eq!(overlay(&text("Spark SQL"), &text("ANSI "), 7, 0).to_text(), "Spark ANSI SQL");
        assert_eq!(overlay(&text("Spark SQL"), &text("tructured"), 2, 4).to_text(), "Structured SQL");
        assert_eq!(overlay(&text("ab"), &text("X"), 9, 1).to_text(), "abX");
    }

    #[test]
    fn padding_cuts_or_fills_by_characters() {
        assert_eq!(padded(&text("hé"), 5, &text("??"), true).to_text(), "???hé");
        assert_eq!(padded(&text("hé"), 1, &text("??"), false).to_text(), "h");
        assert_eq!(padded(&text("hé"), 5, &text(""), false).to_text(), "hé");
        assert_eq!(padded(&text("hé"), -3, &text("?"), false).to_text(), "");
    }
}
