//! Spark's text functions DataFusion lacks: `mask` (letters and digits replaced, as when
//! sharing evidence), base32 (`to_base32`, `from_base32`), `to_binary` and UTF-8 checks
//! (`validate_utf8`, `try_to_binary`, ...), `jaro_winkler_similarity`, `hmac`,
//! `sentences`, and `instr` with a start and an occurrence.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BinaryBuilder, Float64Builder, ListBuilder, StringBuilder};
use arrow::datatypes::DataType;
use base64::Engine;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let text5 = &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Text];
    [
        SparkFunction::new("mask", text5, 1, DataType::Utf8, mask),
        SparkFunction::new("to_base32", &[Kind::Bytes], 1, DataType::Utf8, |_, call, rows| {
            let bytes = args::bytes(&call[0], rows)?;
            Ok(Arc::new(bytes.iter().map(|b| b.map(to_base32)).collect::<arrow::array::StringArray>()) as ArrayRef)
        }),
        SparkFunction::new("from_base32", &[Kind::Text], 1, DataType::Binary, |name, call, rows| {
            binary_from_text(name, call, rows, |text| from_base32(text).ok_or("is not base32"), false)
        }),
        SparkFunction::new("to_binary", &[Kind::Text, Kind::Text], 1, DataType::Binary, |name, call, rows| to_binary(name, call, rows, false)),
        SparkFunction::new("try_to_binary", &[Kind::Text, Kind::Text], 1, DataType::Binary, |name, call, rows| to_binary(name, call, rows, true)),
        SparkFunction::new("validate_utf8", &[Kind::Bytes], 1, DataType::Utf8, |name, call, rows| utf8(name, call, rows, false)),
        SparkFunction::new("try_validate_utf8", &[Kind::Bytes], 1, DataType::Utf8, |name, call, rows| utf8(name, call, rows, true)),
        SparkFunction::new("jaro_winkler_similarity", &[Kind::Text, Kind::Text], 2, DataType::Float64, |_, call, rows| {
            let (a, b) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
            let mut out = Float64Builder::with_capacity(rows);
            for row in 0..rows {
                out.append_option((a.is_valid(row) && b.is_valid(row)).then(|| strsim::jaro_winkler(a.value(row), b.value(row))));
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        SparkFunction::new("hmac", &[Kind::Bytes, Kind::Bytes, Kind::Text], 2, DataType::Binary, hmac),
        SparkFunction::new("instr", &[Kind::Text, Kind::Text, Kind::Int, Kind::Int], 2, DataType::Int32, instr),
        SparkFunction::new("sentences", &[Kind::Text, Kind::Text, Kind::Text], 1, DataType::new_list(DataType::new_list(DataType::Utf8, true), true), |_, call, rows| {
            let text = args::text(&call[0], rows)?;
            let mut out = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
            for value in text.iter() {
                match value {
                    None => out.append_null(),
                    Some(value) => {
                        for sentence in sentences(value) {
                            out.values().append_value(sentence.into_iter().map(Some));
                        }
                        out.append(true);
                    }
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
    ]
    .into_iter()
    .map(ScalarUDF::from)
    .collect()
}

/// `instr(text, part[, start[, occurrence]])`: where (counting characters from 1) the
/// `occurrence`-th `part` begins at or after `start`, or, for a negative `start`, at or
/// before that many characters from the end, counting backwards; 0 when it is not there.
fn instr(name: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let (texts, parts) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
    let given = |i: usize| call.get(i).map(|a| args::int(a, rows)).transpose();
    let (starts, occurrences) = (given(2)?, given(3)?);
    let mut out = arrow::array::Int32Builder::with_capacity(rows);
    for row in 0..rows {
        let start = starts.as_ref().map_or(Some(1), |s| s.is_valid(row).then(|| s.value(row)));
        let occurrence = occurrences.as_ref().map_or(Some(1), |o| o.is_valid(row).then(|| o.value(row)));
        let (Some(start), Some(occurrence), true, true) = (start, occurrence, texts.is_valid(row), parts.is_valid(row)) else {
            out.append_null();
            continue;
        };
        if start == 0 || occurrence < 1 {
            return exec_err!("{name}: the start must not be 0 and the occurrence must be at least 1 (got {start} and {occurrence})");
        }
        let text: Vec<char> = texts.value(row).chars().collect();
        let part: Vec<char> = parts.value(row).chars().collect();
        let at = |i: usize| text.get(i..i + part.len()).is_some_and(|window| window == part.as_slice());
        let last_start = text.len().saturating_sub(part.len());
        let found = if start > 0 {
            (usize::try_from(start - 1).unwrap_or(usize::MAX)..=last_start).filter(|i| at(*i)).nth((occurrence - 1) as usize)
        } else {
            let from_end = usize::try_from(start.unsigned_abs() - 1).unwrap_or(usize::MAX);
            text.len().checked_sub(from_end + 1).and_then(|latest| (0..=latest.min(last_start)).rev().filter(|i| at(*i)).nth((occurrence - 1) as usize))
        };
        out.append_value(found.map_or(0, |i| i as i32 + 1));
    }
    Ok(Arc::new(out.finish()))
}

/// `hmac(key, message[, algorithm])`: the message's HMAC with SHA-256 (or `SHA-224`,
/// `SHA-384`, `SHA-512`).
fn hmac(name: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize) -> Result<ArrayRef> {
    use sha2::Digest;
    let (keys, messages) = (args::bytes(&call[0], rows)?, args::bytes(&call[1], rows)?);
    let algorithm = match call.get(2) {
        Some(algorithm) => args::text(algorithm, 1)?.iter().next().flatten().map(|a| a.to_ascii_uppercase()),
        None => Some("SHA-256".to_string()),
    };
    let Some(algorithm) = algorithm else { return Ok(arrow::array::new_null_array(&DataType::Binary, rows)) };
    type Hash = fn(&[u8]) -> Vec<u8>;
    let (block, hash): (usize, Hash) = match algorithm.as_str() {
        "SHA-224" | "SHA224" => (64, |d| sha2::Sha224::digest(d).to_vec()),
        "SHA-256" | "SHA256" => (64, |d| sha2::Sha256::digest(d).to_vec()),
        "SHA-384" | "SHA384" => (128, |d| sha2::Sha384::digest(d).to_vec()),
        "SHA-512" | "SHA512" => (128, |d| sha2::Sha512::digest(d).to_vec()),
        other => return exec_err!("{name}: the algorithm '{other}' is not one of SHA-224, SHA-256, SHA-384 and SHA-512"),
    };
    let mut out = BinaryBuilder::with_capacity(rows, rows * 64);
    for (key, message) in keys.iter().zip(messages.iter()) {
        let (Some(key), Some(message)) = (key, message) else {
            out.append_null();
            continue;
        };
        // RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)), K padded to the block.
        let mut padded = if key.len() > block { hash(key) } else { key.to_vec() };
        padded.resize(block, 0);
        let inner: Vec<u8> = padded.iter().map(|b| b ^ 0x36).chain(message.iter().copied()).collect();
        let outer: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).chain(hash(&inner)).collect();
        out.append_value(hash(&outer));
    }
    Ok(Arc::new(out.finish()))
}

/// The words of each sentence of `text`: sentences end at `.`, `!` or `?`; words are runs
/// of letters and digits (an apostrophe inside a word belongs to it).
fn sentences(text: &str) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for sentence in text.split(['.', '!', '?']) {
        let words: Vec<String> = sentence
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if !words.is_empty() {
            all.push(words);
        }
    }
    all
}

/// `mask(text[, upper[, lower[, digit[, other]]]])`: upper-case letters become `X`, lower-case
/// `x`, digits `n` and other characters stay, unless other characters are given; a NULL
/// given for one keeps those characters as they are.
fn mask(_: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let text = args::text(&call[0], rows)?;
    let defaults = [Some('X'), Some('x'), Some('n'), None];
    let mut replacements = Vec::with_capacity(4);
    for (position, default) in defaults.into_iter().enumerate() {
        replacements.push(match call.get(position + 1) {
            None => vec![default; rows],
            Some(arg) => args::text(arg, rows)?.iter().map(|r| r.and_then(|r| r.chars().next())).collect(),
        });
    }
    let mut out = StringBuilder::with_capacity(rows, text.value_data().len());
    for (row, value) in text.iter().enumerate() {
        let Some(value) = value else {
            out.append_null();
            continue;
        };
        let masked: String = value
            .chars()
            .map(|c| {
                let class = if c.is_uppercase() {
                    0
                } else if c.is_lowercase() {
                    1
                } else if c.is_ascii_digit() {
                    2
                } else {
                    3
                };
                replacements[class][row].unwrap_or(c)
            })
            .collect();
        out.append_value(masked);
    }
    Ok(Arc::new(out.finish()))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, padded with `=`.
fn to_base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let written = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            out.push(if i < written { BASE32[((bits >> (35 - 5 * i)) & 31) as usize] as char } else { '=' });
        }
    }
    out
}

/// The bytes of RFC 4648 base32 text (padding optional), or none when it is not base32.
fn from_base32(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(digits.len() * 5 / 8);
    let (mut bits, mut count) = (0u64, 0u32);
    for c in digits.bytes() {
        let value = BASE32.iter().position(|b| *b == c.to_ascii_uppercase())? as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// Reads each text into bytes with `read`; text it cannot read is NULL when `lenient`,
/// else an error naming the function and the text.
fn binary_from_text(name: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize, read: impl Fn(&str) -> Result<Vec<u8>, &'static str>, lenient: bool) -> Result<ArrayRef> {
    let text = args::text(&call[0], rows)?;
    let mut out = BinaryBuilder::with_capacity(rows, text.value_data().len());
    for value in text.iter() {
        match value.map(&read) {
            None => out.append_null(),
            Some(Ok(bytes)) => out.append_value(bytes),
            Some(Err(_)) if lenient => out.append_null(),
            Some(Err(why)) => return exec_err!("{name}: '{}' {why}", value.unwrap_or_default()),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `to_binary(text[, format])`: text read as `hex` (the default), `utf-8` or `base64`.
fn to_binary(name: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize, lenient: bool) -> Result<ArrayRef> {
    let format = match call.get(1) {
        None => "hex".to_string(),
        Some(format) => match args::text(format, 1)?.iter().next().flatten() {
            Some(format) => format.to_ascii_lowercase(),
            None => return Ok(arrow::array::new_null_array(&DataType::Binary, rows)),
        },
    };
    let read: fn(&str) -> Result<Vec<u8>, &'static str> = match format.as_str() {
        "hex" => |text| {
            let padded = if text.len() % 2 == 1 { format!("0{text}") } else { text.to_string() };
            (0..padded.len()).step_by(2).map(|i| padded.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok()).ok_or("is not hexadecimal")).collect()
        },
        "utf-8" | "utf8" => |text| Ok(text.as_bytes().to_vec()),
        "base64" => |text| base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| "is not base64"),
        _ if lenient => return Ok(arrow::array::new_null_array(&DataType::Binary, rows)),
        other => return exec_err!("{name}: the format '{other}' is not one of hex, utf-8, utf8 and base64"),
    };
    binary_from_text(name, call, rows, read, lenient)
}

/// The bytes as text when they are valid UTF-8; else NULL when `lenient`, or an error.
fn utf8(name: &str, call: &[datafusion::logical_expr::ColumnarValue], rows: usize, lenient: bool) -> Result<ArrayRef> {
    let bytes = args::bytes(&call[0], rows)?;
    let mut out = StringBuilder::with_capacity(rows, bytes.value_data().len());
    for value in bytes.iter() {
        match value.map(std::str::from_utf8) {
            None => out.append_null(),
            Some(Ok(text)) => out.append_value(text),
            Some(Err(_)) if lenient => out.append_null(),
            Some(Err(error)) => return exec_err!("{name}: the bytes are not valid UTF-8 ({error})"),
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::{from_base32, to_base32};

    #[test]
    fn finds_the_nth_part_forwards_or_backwards() {
        use std::sync::Arc;
        let text = |v: &str| datafusion::logical_expr::ColumnarValue::Scalar(datafusion::common::ScalarValue::Utf8(Some(v.into())));
        let int = |v: i64| datafusion::logical_expr::ColumnarValue::Scalar(datafusion::common::ScalarValue::Int64(Some(v)));
        let found = |args: &[datafusion::logical_expr::ColumnarValue]| {
            let answer = super::instr("instr", args, 1).unwrap();
            let answer: Arc<dyn arrow::array::Array> = answer;
            arrow::util::display::array_value_to_string(&answer, 0).unwrap()
        };
        assert_eq!(found(&[text("abcabc"), text("b"), int(1), int(2)]), "5");
        assert_eq!(found(&[text("abcabc"), text("b"), int(-1), int(1)]), "5");
        assert_eq!(found(&[text("abcabc"), text("b"), int(-3), int(1)]), "2");
        assert_eq!(found(&[text("abcabc"), text("z"), int(1), int(1)]), "0");
        assert_eq!(found(&[text("aaa"), text("aa"), int(1), int(2)]), "2");
    }

    #[test]
    fn splits_sentences_into_words() {
        assert_eq!(super::sentences("Hi there! Good morning."), vec![vec!["Hi", "there"], vec!["Good", "morning"]]);
        assert_eq!(super::sentences("Don't stop... 'quoted'"), vec![vec!["Don't", "stop"], vec!["quoted"]]);
    }

    #[test]
    fn base32_as_rfc_4648_writes_it() {
        for (bytes, text) in [("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======")] {
            assert_eq!(to_base32(bytes.as_bytes()), text);
            assert_eq!(from_base32(text).as_deref(), Some(bytes.as_bytes()));
        }
        assert_eq!(from_base32("MZ1W"), None);
    }
}
