//! `decode(bytes, charset)` and `encode(text, charset)` with Spark's character sets:
//! `US-ASCII`, `ISO-8859-1`, `UTF-8`, `UTF-16BE`, `UTF-16LE`, `UTF-16` (big-endian unless a
//! byte-order mark says otherwise; written with one) and `UTF-32`, named in any case. As in
//! Spark 4, bytes that are not valid in the character set (or text it cannot hold) stop
//! the query with the row's fault rather than being replaced. `decode(unbase64(x),
//! 'UTF-16LE')` reads PowerShell's `-EncodedCommand`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BinaryBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ColumnarValue;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The character sets Spark knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Charset {
    Ascii,
    Latin1,
    Utf8,
    Utf16Be,
    Utf16Le,
    /// UTF-16 with an optional byte-order mark; big-endian without one.
    Utf16,
    Utf32,
}

impl Charset {
    fn named(function: &str, name: &str) -> Result<Charset> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "US-ASCII" => Charset::Ascii,
            "ISO-8859-1" => Charset::Latin1,
            "UTF-8" => Charset::Utf8,
            "UTF-16BE" => Charset::Utf16Be,
            "UTF-16LE" => Charset::Utf16Le,
            "UTF-16" => Charset::Utf16,
            "UTF-32" => Charset::Utf32,
            _ => return exec_err!("{function}: no character set '{name}': US-ASCII, ISO-8859-1, UTF-8, UTF-16BE, UTF-16LE, UTF-16 or UTF-32"),
        })
    }

    /// The text `bytes` hold, or what is wrong with them.
    fn decode(self, bytes: &[u8]) -> Result<String, String> {
        let units16 = |bytes: &[u8], big: bool| -> Result<String, String> {
            if !bytes.len().is_multiple_of(2) {
                return Err(format!("{} bytes are not whole UTF-16 code units", bytes.len()));
            }
            let units = bytes.chunks(2).map(|p| if big { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) });
            char::decode_utf16(units).collect::<Result<String, _>>().map_err(|e| format!("an unpaired UTF-16 surrogate {:#06x}", e.unpaired_surrogate()))
        };
        match self {
            Charset::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                None => Ok(bytes.iter().map(|&b| b as char).collect()),
                Some(at) => Err(format!("byte {:#04x} at {at} is not US-ASCII", bytes[at])),
            },
            Charset::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
            Charset::Utf8 => std::str::from_utf8(bytes).map(str::to_string).map_err(|e| format!("not UTF-8: {e}")),
            Charset::Utf16Be => units16(bytes, true),
            Charset::Utf16Le => units16(bytes, false),
            Charset::Utf16 => match bytes {
                [0xFE, 0xFF, rest @ ..] => units16(rest, true),
                [0xFF, 0xFE, rest @ ..] => units16(rest, false),
                _ => units16(bytes, true),
            },
            Charset::Utf32 => {
                if !bytes.len().is_multiple_of(4) {
                    return Err(format!("{} bytes are not whole UTF-32 code units", bytes.len()));
                }
                let body = if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) { &bytes[4..] } else { bytes };
                body.chunks(4)
                    .map(|p| {
                        let unit = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                        char::from_u32(unit).ok_or_else(|| format!("{unit:#x} is not a character"))
                    })
                    .collect()
            }
        }
    }

    /// The bytes of `text`, or the character the set cannot hold.
    fn encode(self, text: &str) -> Result<Vec<u8>, String> {
        let narrow = |limit: u32, set: &str| {
            text.chars()
                .map(|c| u8::try_from(c as u32).ok().filter(|&b| u32::from(b) <= limit).ok_or_else(|| format!("'{c}' is not in {set}")))
                .collect::<Result<Vec<u8>, String>>()
        };
        Ok(match self {
            Charset::Ascii => narrow(0x7F, "US-ASCII")?,
            Charset::Latin1 => narrow(0xFF, "ISO-8859-1")?,
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Charset::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Charset::Utf16 => [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect(),
            Charset::Utf32 => text.chars().flat_map(|c| (c as u32).to_be_bytes()).collect(),
        })
    }
}

/// Spark's `decode(bytes, charset)`: the text the bytes hold in that character set.
pub fn decode() -> SparkFunction {
    SparkFunction::new("decode", &[Kind::Bytes, Kind::Text], 2, DataType::Utf8, decode_rows)
}

/// Spark's `encode(text, charset)`: the bytes of the text in that character set.
pub fn encode() -> SparkFunction {
    SparkFunction::new("encode", &[Kind::Text, Kind::Text], 2, DataType::Binary, encode_rows)
}

fn decode_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (values, charsets) = (args::bytes(&call[0], rows)?, args::text(&call[1], rows)?);
    let mut out = StringBuilder::new();
    for row in 0..rows {
        if values.is_null(row) || charsets.is_null(row) {
            out.append_null();
            continue;
        }
        match Charset::named(name, charsets.value(row))?.decode(values.value(row)) {
            Ok(text) => out.append_value(text),
            Err(fault) => return exec_err!("{name}: the bytes of row {} are not {}: {fault}", row + 1, charsets.value(row)),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn encode_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (texts, charsets) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
    let mut out = BinaryBuilder::new();
    for row in 0..rows {
        if texts.is_null(row) || charsets.is_null(row) {
            out.append_null();
            continue;
        }
        match Charset::named(name, charsets.value(row))?.encode(texts.value(row)) {
            Ok(bytes) => out.append_value(bytes),
            Err(fault) => return exec_err!("{name}: the text of row {} cannot be written in {}: {fault}", row + 1, charsets.value(row)),
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_faults() {
        for charset in [Charset::Utf8, Charset::Utf16Be, Charset::Utf16Le, Charset::Utf16, Charset::Utf32] {
            assert_eq!(charset.decode(&charset.encode("whoami /all é €").unwrap()).unwrap(), "whoami /all é €");
        }
        assert_eq!(Charset::Utf16Le.decode(b"w\0h\0o\0").unwrap(), "who");
        assert_eq!(Charset::Utf16.decode(&[0xFF, 0xFE, b'h', 0]).unwrap(), "h");
        assert_eq!(Charset::Latin1.decode(&[0x48, 0xE9]).unwrap(), "Hé");
        assert!(Charset::Ascii.decode(&[0xE9]).unwrap_err().contains("not US-ASCII"));
        assert!(Charset::Utf16Le.decode(b"abc").unwrap_err().contains("not whole"));
        assert!(Charset::Latin1.encode("€").unwrap_err().contains("not in ISO-8859-1"));
        assert!(Charset::named("decode", "EBCDIC").is_err());
    }
}
