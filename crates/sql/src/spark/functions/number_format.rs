//! Numbers written and read by pattern: Spark's `to_char`/`to_varchar` (numbers by a
//! number format, dates by a date-time pattern, bytes as base64, hex or UTF-8),
//! `to_number`/`try_to_number`, and `format_number` (Java's decimal format: grouped
//! thousands and a number of decimals, or a `#,##0.00` pattern).
//!
//! A number format is made of `0`/`9` (digits; a leading `0` pads with zeros, a `9` with
//! spaces), `.`/`D` (the decimal point), `,`/`G` (a group separator), `$`, and a sign:
//! `S` at either end (`+` or `-`), `MI` at the end (`-` or a space) or `PR` at the end
//! (a negative number in angle brackets).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, StringBuilder};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type};
use base64::Engine;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let mut all: Vec<ScalarUDF> = ["to_number", "try_to_number"]
        .into_iter()
        .map(|name| ScalarUDF::new_from_impl(ToNumber { name, signature: Signature::user_defined(Volatility::Immutable) }))
        .collect();
    all.extend(["to_char", "to_varchar"].into_iter().map(|name| ScalarUDF::new_from_impl(ToChar { name, signature: Signature::user_defined(Volatility::Immutable) })));
    all.push(ScalarUDF::from(SparkFunction::new("format_number", &[Kind::Float, Kind::Text], 2, DataType::Utf8, format_number)));
    all
}

/// A number as decimal digits: `units` × 10^-`scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Decimal {
    negative: bool,
    units: u128,
    scale: u32,
}

impl Decimal {
    /// The decimal a double is written as (its shortest form, as Java's `Double.toString`).
    fn of_double(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        let written = format!("{:e}", value.abs());
        let (mantissa, exponent) = written.split_once('e')?;
        let exponent: i64 = exponent.parse().ok()?;
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let fraction_digits = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
        let units: u128 = digits.parse().ok()?;
        let scale = fraction_digits - exponent;
        let decimal = if scale >= 0 {
            Decimal { negative: false, units, scale: scale as u32 }
        } else {
            Decimal { negative: false, units: units.checked_mul(10u128.checked_pow((-scale) as u32)?)?, scale: 0 }
        };
        Some(Decimal { negative: value < 0.0, ..decimal })
    }

    /// Rounded to `scale` decimals, a half to the even digit.
    fn rounded_half_even(self, scale: u32) -> Decimal {
        if scale >= self.scale {
            let factor = 10u128.pow((scale - self.scale).min(30));
            return Decimal { units: self.units.saturating_mul(factor), scale, ..self };
        }
        let Some(unit) = 10u128.checked_pow(self.scale - scale) else { return Decimal { units: 0, scale, ..self } };
        let (quotient, remainder) = (self.units / unit, self.units % unit);
        let up = remainder * 2 > unit || (remainder * 2 == unit && quotient % 2 == 1);
        Decimal { units: quotient + u128::from(up), scale, ..self }
    }

    /// The digits before and after the decimal point.
    fn digits(self) -> (String, String) {
        let all = format!("{:0>width$}", self.units, width = self.scale as usize + 1);
        let (whole, fraction) = all.split_at(all.len() - self.scale as usize);
        (whole.trim_start_matches('0').to_string(), fraction.to_string())
    }
}

/// What a number format is made of.
#[derive(Clone, Debug, PartialEq)]
enum Element {
    Digit { zero: bool },
    Point,
    Group,
    Dollar,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sign {
    None,
    Leading,
    Trailing,
    Minus,
    Brackets,
}

#[derive(Debug)]
struct NumberFormat {
    elements: Vec<Element>,
    sign: Sign,
}

impl NumberFormat {
    fn parse(format: &str) -> Result<NumberFormat, String> {
        let upper = format.to_ascii_uppercase();
        let (mut body, mut sign) = (upper.as_str(), Sign::None);
        if let Some(rest) = body.strip_prefix('S') {
            (body, sign) = (rest, Sign::Leading);
        } else if let Some(rest) = body.strip_suffix('S') {
            (body, sign) = (rest, Sign::Trailing);
        } else if let Some(rest) = body.strip_suffix("MI") {
            (body, sign) = (rest, Sign::Minus);
        } else if let Some(rest) = body.strip_suffix("PR") {
            (body, sign) = (rest, Sign::Brackets);
        }
        let elements = body
            .chars()
            .map(|c| match c {
                '0' => Ok(Element::Digit { zero: true }),
                '9' => Ok(Element::Digit { zero: false }),
                '.' | 'D' => Ok(Element::Point),
                ',' | 'G' => Ok(Element::Group),
                '$' => Ok(Element::Dollar),
                other => Err(format!("the number format '{format}' has '{other}', which is not one of 0 9 . D , G $ S MI PR")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let points = elements.iter().filter(|e| **e == Element::Point).count();
        if points > 1 || elements.iter().filter(|e| **e == Element::Dollar).count() > 1 || !elements.iter().any(|e| matches!(e, Element::Digit { .. })) {
            return Err(format!("the number format '{format}' needs digits (0 or 9), and at most one decimal point and one $"));
        }
        Ok(NumberFormat { elements, sign })
    }

    fn split(&self) -> (&[Element], &[Element]) {
        match self.elements.iter().position(|e| *e == Element::Point) {
            Some(point) => (&self.elements[..point], &self.elements[point + 1..]),
            None => (&self.elements[..], &[]),
        }
    }

    fn digits_in(elements: &[Element]) -> usize {
        elements.iter().filter(|e| matches!(e, Element::Digit { .. })).count()
    }

    /// The decimal type a number read by this format has.
    fn decimal_type(&self) -> DataType {
        let (whole, fraction) = self.split();
        let scale = Self::digits_in(fraction);
        DataType::Decimal128((Self::digits_in(whole) + scale).clamp(1, 38) as u8, scale.min(38) as i8)
    }

    /// `number` written by this format; `#` in every digit when it has more digits than the
    /// format on either side of the point (it is not rounded).
    fn write(&self, number: Decimal) -> String {
        let (whole, fraction) = self.split();
        let (digits, fraction_digits) = number.digits();
        let fraction_digits = fraction_digits.trim_end_matches('0').to_string();
        let slots = Self::digits_in(whole);
        let overflow = digits.len() > slots || fraction_digits.len() > Self::digits_in(fraction);
        let pad_zero = whole.iter().find_map(|e| if let Element::Digit { zero } = e { Some(*zero) } else { None }).unwrap_or(false);
        let mut out = String::new();
        let mut digit_at = 0;
        let mut started = false;
        for element in whole {
            match element {
                Element::Digit { .. } => {
                    let index = digit_at as isize - (slots - digits.len().min(slots)) as isize;
                    digit_at += 1;
                    if overflow {
                        out.push('#');
                    } else if index >= 0 {
                        started = true;
                        out.push(digits.as_bytes()[index as usize] as char);
                    } else if pad_zero || (digit_at == slots && digits.is_empty() && !fraction.is_empty()) {
                        started = true;
                        out.push('0');
                    } else {
                        out.push(' ');
                    }
                }
                Element::Group => out.push(if started || overflow { ',' } else { ' ' }),
                Element::Dollar => out.push('$'),
                Element::Point => {}
            }
        }
        if !fraction.is_empty() || self.elements.contains(&Element::Point) {
            out.push('.');
        }
        let mut fraction_at = 0;
        for element in fraction {
            match element {
                Element::Digit { .. } => {
                    out.push(if overflow { '#' } else { fraction_digits.as_bytes().get(fraction_at).map_or('0', |d| *d as char) });
                    fraction_at += 1;
                }
                Element::Group => out.push(','),
                Element::Dollar => out.push('$'),
                Element::Point => {}
            }
        }
        let negative = number.negative && number.units != 0;
        // A leading sign or bracket goes next to the number, after the padding.
        let number = out.trim_start();
        let padding = &out[..out.len() - number.len()];
        match self.sign {
            // Without a sign in the format, none is written (as in Spark).
            Sign::None => out,
            Sign::Leading => format!("{padding}{}{number}", if negative { '-' } else { '+' }),
            Sign::Trailing => format!("{out}{}", if negative { '-' } else { '+' }),
            Sign::Minus => format!("{out}{}", if negative { '-' } else { ' ' }),
            Sign::Brackets if negative => format!("{padding}<{number}>"),
            Sign::Brackets => format!("{out}  "),
        }
    }

    /// The number `text` holds by this format (units at the format's scale), or why not.
    fn read(&self, text: &str) -> Result<i128, String> {
        let mismatch = || format!("'{text}' does not match the number format");
        let mut body = text.trim();
        let mut negative = false;
        match self.sign {
            Sign::Leading => {
                if let Some(rest) = body.strip_prefix('-') {
                    (body, negative) = (rest, true);
                } else if let Some(rest) = body.strip_prefix('+') {
                    body = rest;
                }
            }
            Sign::Trailing | Sign::Minus => {
                if let Some(rest) = body.strip_suffix('-') {
                    (body, negative) = (rest, true);
                } else if let Some(rest) = body.strip_suffix('+') {
                    body = rest;
                }
            }
            Sign::Brackets => {
                if let Some(rest) = body.strip_prefix('<').and_then(|b| b.strip_suffix('>')) {
                    (body, negative) = (rest, true);
                }
            }
            Sign::None => {}
        }
        if self.elements.contains(&Element::Dollar) {
            body = body.strip_prefix('$').ok_or_else(mismatch)?;
        }
        let (whole_format, fraction_format) = self.split();
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        // The whole part, right-aligned against the format's: digits against digits,
        // separators against separators.
        let format: Vec<&Element> = whole_format.iter().filter(|e| **e != Element::Dollar).collect();
        if whole.len() > format.len() {
            return Err(mismatch());
        }
        for (c, element) in whole.chars().rev().zip(format.iter().rev()) {
            let fits = match element {
                Element::Digit { .. } => c.is_ascii_digit(),
                _ => c == ',',
            };
            if !fits {
                return Err(mismatch());
            }
        }
        let scale = Self::digits_in(fraction_format);
        if fraction.len() > scale || !fraction.chars().all(|c| c.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
            return Err(mismatch());
        }
        let digits: String = whole.chars().filter(char::is_ascii_digit).chain(format!("{fraction:0<scale$}").chars()).collect();
        let units: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| mismatch())? };
        Ok(if negative { -units } else { units })
    }
}

/// The format argument: a constant text.
fn constant_format(name: &str, arg: Option<&ColumnarValue>) -> Result<Option<String>> {
    match arg {
        Some(ColumnarValue::Scalar(value)) => match value.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(format) => Ok(format),
            _ => exec_err!("{name}: the format must be text"),
        },
        _ => exec_err!("{name}: the format must be a constant"),
    }
}

/// `to_number(text, format)` and `try_to_number` (NULL where the text does not match).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToNumber {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for ToNumber {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            n => plan_err!("{} takes (text, format), not {n} arguments", self.name),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{}: the result's type depends on the format", self.name)
    }

    fn return_field_from_args(&self, args: datafusion::logical_expr::ReturnFieldArgs) -> Result<arrow::datatypes::FieldRef> {
        let format = match args.scalar_arguments.get(1) {
            Some(Some(value)) => value.cast_to(&DataType::Utf8)?,
            _ => return plan_err!("{}: the format must be a constant", self.name),
        };
        let ScalarValue::Utf8(Some(format)) = format else { return plan_err!("{}: the format must not be NULL", self.name) };
        let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Plan(format!("{}: {e}", self.name)))?;
        Ok(Arc::new(arrow::datatypes::Field::new(self.name, format.decimal_type(), true)))
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let Some(format) = constant_format(self.name, call.args.get(1))? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(call.return_field.data_type())?));
        };
        let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{}: {e}", self.name)))?;
        let DataType::Decimal128(precision, scale) = format.decimal_type() else { unreachable!("a number format reads decimals") };
        let text = args::text(&call.args[0], rows)?;
        let mut out = Decimal128Builder::with_capacity(rows);
        for value in text.iter() {
            match value.map(|v| format.read(v)) {
                None => out.append_null(),
                Some(Ok(units)) => out.append_value(units),
                Some(Err(_)) if self.name.starts_with("try_") => out.append_null(),
                Some(Err(why)) => return exec_err!("{}: {why} (try_to_number gives NULL instead)", self.name),
            }
        }
        let numbers = out.finish().with_precision_and_scale(precision, scale)?;
        args::finish(Arc::new(numbers), args::all_scalar(&call.args))
    }
}

/// `to_char(value, format)` (and `to_varchar`): a number by a number format, a date or
/// timestamp by a date-time pattern, bytes as `base64`, `hex` or `utf-8` text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToChar {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = match arg_types {
            [v, _] if v.is_numeric() || v.is_null() => match v {
                DataType::Decimal128(..) => v.clone(),
                _ => DataType::Float64,
            },
            [v, _] if v.is_temporal() => args::timestamp_type(),
            [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_), _] => DataType::Binary,
            [v, _] => return plan_err!("{} writes numbers, dates, timestamps or bytes, not {v}", self.name),
            _ => return plan_err!("{} takes (value, format), not {} arguments", self.name, arg_types.len()),
        };
        Ok(vec![value, DataType::Utf8])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, call: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args::row_count(&call.args);
        let name = self.name;
        let Some(format) = constant_format(name, call.args.get(1))? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        let values = call.args[0].to_array(rows)?;
        let written: ArrayRef = match values.data_type() {
            DataType::Timestamp(..) => return super::datetime::date_format().invoke_with_args(call),
            DataType::Binary => {
                let bytes = values.as_binary::<i32>();
                let write: fn(&[u8]) -> Option<String> = match format.to_ascii_lowercase().as_str() {
                    "base64" => |b| Some(base64::engine::general_purpose::STANDARD.encode(b)),
                    "hex" => |b| Some(b.iter().map(|x| format!("{x:02X}")).collect()),
                    "utf-8" | "utf8" => |b| std::str::from_utf8(b).ok().map(str::to_string),
                    other => return exec_err!("{name}: bytes are written as base64, hex or utf-8, not '{other}'"),
                };
                let mut out = StringBuilder::with_capacity(rows, bytes.value_data().len() * 2);
                for value in bytes.iter() {
                    match value.map(|b| write(b).ok_or(b)) {
                        None => out.append_null(),
                        Some(Ok(text)) => out.append_value(text),
                        Some(Err(_)) => return exec_err!("{name}: the bytes are not valid UTF-8"),
                    }
                }
                Arc::new(out.finish())
            }
            data_type => {
                let format = NumberFormat::parse(&format).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: {e}")))?;
                let numbers: Vec<Option<Decimal>> = match data_type {
                    DataType::Decimal128(_, scale) => values
                        .as_primitive::<Decimal128Type>()
                        .iter()
                        .map(|v| v.map(|v| Decimal { negative: v < 0, units: v.unsigned_abs(), scale: (*scale).max(0) as u32 }))
                        .collect(),
                    _ => values.as_primitive::<Float64Type>().iter().map(|v| v.and_then(Decimal::of_double)).collect(),
                };
                Arc::new(numbers.into_iter().map(|n| n.map(|n| format.write(n))).collect::<arrow::array::StringArray>())
            }
        };
        args::finish(written, args::all_scalar(&call.args))
    }
}

/// `format_number(x, d)`: `x` with groups of thousands and `d` decimals (rounded half to
/// even); `format_number(x, pattern)`: by a decimal-format pattern such as `#,##0.00`.
fn format_number(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let numbers = args::float(&call[0], rows)?;
    let shapes = args::text(&call[1], rows)?;
    let mut out = StringBuilder::with_capacity(rows, rows * 12);
    for row in 0..rows {
        if numbers.is_null(row) || shapes.is_null(row) {
            out.append_null();
            continue;
        }
        let shape = shapes.value(row);
        let pattern = match shape.parse::<i64>() {
            Ok(decimals) if decimals < 0 => {
                out.append_null();
                continue;
            }
            Ok(decimals) => DecimalPattern { min_whole: 1, group: Some(3), min_fraction: decimals as u32, max_fraction: decimals as u32 },
            Err(_) if shape.is_empty() => DecimalPattern { min_whole: 1, group: Some(3), min_fraction: 0, max_fraction: 0 },
            Err(_) => DecimalPattern::parse(shape).map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: {e}")))?,
        };
        out.append_option(Decimal::of_double(numbers.value(row)).map(|n| pattern.write(n)));
    }
    Ok(Arc::new(out.finish()))
}

/// Java's `DecimalFormat` pattern, in its common part: `#`, `0`, `,` and `.`.
struct DecimalPattern {
    min_whole: usize,
    group: Option<usize>,
    min_fraction: u32,
    max_fraction: u32,
}

impl DecimalPattern {
    fn parse(pattern: &str) -> Result<DecimalPattern, String> {
        if !pattern.chars().all(|c| matches!(c, '#' | '0' | ',' | '.')) || pattern.matches('.').count() > 1 {
            return Err(format!("the pattern '{pattern}' is not made of #, 0, ',' and at most one '.'"));
        }
        let (whole, fraction) = pattern.split_once('.').unwrap_or((pattern, ""));
        let group = whole.rfind(',').map(|at| whole.len() - at - 1).filter(|g| *g > 0);
        Ok(DecimalPattern {
            min_whole: whole.chars().filter(|c| *c == '0').count(),
            group,
            min_fraction: fraction.chars().filter(|c| *c == '0').count() as u32,
            max_fraction: fraction.chars().filter(|c| matches!(c, '0' | '#')).count() as u32,
        })
    }

    fn write(&self, number: Decimal) -> String {
        let number = number.rounded_half_even(self.max_fraction);
        let (whole, fraction) = number.digits();
        let whole = format!("{whole:0>width$}", width = self.min_whole);
        let grouped = match self.group {
            Some(size) => {
                let digits: Vec<char> = whole.chars().collect();
                let first = digits.len() % size;
                let mut out = String::new();
                for (i, c) in digits.iter().enumerate() {
                    if i > 0 && (i + size - first).is_multiple_of(size) {
                        out.push(',');
                    }
                    out.push(*c);
                }
                out
            }
            None => whole,
        };
        let mut fraction = fraction;
        while fraction.len() as u32 > self.min_fraction && fraction.ends_with('0') {
            fraction.pop();
        }
        let sign = if number.negative && number.units != 0 { "-" } else { "" };
        if fraction.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{fraction}") }
    }
}

#[cfg(test)]
mod tests {
    use super::{Decimal, DecimalPattern, NumberFormat};

    fn written(value: f64, format: &str) -> String {
        NumberFormat::parse(format).unwrap().write(Decimal::of_double(value).unwrap())
    }

    #[test]
    fn writes_and_reads_numbers_by_format() {
        assert_eq!(written(454.0, "999"), "454");
        assert_eq!(written(454.0, "000D00"), "454.00");
        assert_eq!(written(12454.0, "99G999"), "12,454");
        assert_eq!(written(78.12, "$99.99"), "$78.12");
        assert_eq!(written(-12454.8, "99G999D9S"), "12,454.8-");
        assert_eq!(written(12454.0, "99"), "##");
        assert_eq!(written(0.25, "0.9"), "#.#");
        assert_eq!(written(0.0, "999"), "   ");
        assert_eq!(written(0.5, "9.99"), "0.50");
        assert_eq!(written(-5.0, "999PR"), "  <5>");
        let format = NumberFormat::parse("99,999.9S").unwrap();
        assert_eq!(format.read("12,454.8-"), Ok(-124548));
        assert!(NumberFormat::parse("999").unwrap().read("1a2").is_err());
        assert!(NumberFormat::parse("9X9").is_err());
    }

    #[test]
    fn formats_as_java_decimal_format() {
        let grouped = |d| DecimalPattern { min_whole: 1, group: Some(3), min_fraction: d, max_fraction: d };
        assert_eq!(grouped(4).write(Decimal::of_double(12332.123456).unwrap()), "12,332.1235");
        assert_eq!(grouped(0).write(Decimal::of_double(-1234.5).unwrap()), "-1,234");
        assert_eq!(DecimalPattern::parse("##################.###").unwrap().write(Decimal::of_double(12332.123456).unwrap()), "12332.123");
    }
}
