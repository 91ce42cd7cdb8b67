//! `aes_encrypt`, `aes_decrypt` and `try_aes_decrypt` as Spark has them: AES with a 16, 24
//! or 32 byte key in GCM (the default: a 12-byte IV, then the ciphertext, then the 16-byte
//! tag; optional additional data), CBC (a 16-byte IV, then the ciphertext, PKCS#7 padded)
//! or ECB (the ciphertext alone, PKCS#7 padded). Without an IV, one is drawn at random.

use std::sync::Arc;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::consts::{U12, U16};
use aes::cipher::{BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use aes_gcm::AesGcm;
use aes_gcm::aead::{Aead, Payload};
use arrow::array::{Array, ArrayRef, BinaryArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    use Kind::{Bytes, Text};
    [
        SparkFunction::new("aes_encrypt", &[Bytes, Bytes, Text, Text, Bytes, Bytes], 2, DataType::Binary, |name, call, rows| {
            each_row(name, call, rows, |values| {
                let mode = Mode::read(values.text(2), values.text(3))?;
                mode.encrypt(values.bytes(1), values.bytes(0), values.bytes(4), values.bytes(5))
            })
        }),
        SparkFunction::new("aes_decrypt", &[Bytes, Bytes, Text, Text, Bytes], 2, DataType::Binary, |name, call, rows| {
            each_row(name, call, rows, |values| Mode::read(values.text(2), values.text(3))?.decrypt(values.bytes(1), values.bytes(0), values.bytes(4)))
        }),
        SparkFunction::new("try_aes_decrypt", &[Bytes, Bytes, Text, Text, Bytes], 2, DataType::Binary, |name, call, rows| {
            each_row(name, call, rows, |values| Ok(Mode::read(values.text(2), values.text(3)).and_then(|mode| mode.decrypt(values.bytes(1), values.bytes(0), values.bytes(4))).ok()))
        }),
    ]
    .into_iter()
    .map(ScalarUDF::from)
    .collect()
}

/// The arguments of one row: text at the positions of text arguments, bytes at the others
/// (an argument not given reads as empty).
struct Row<'a> {
    texts: &'a [Option<StringArray>],
    bytes: &'a [Option<BinaryArray>],
    row: usize,
}

impl Row<'_> {
    fn text(&self, position: usize) -> &str {
        self.texts.get(position).and_then(|t| t.as_ref()).map_or("", |t| t.value(self.row))
    }

    fn bytes(&self, position: usize) -> &[u8] {
        self.bytes.get(position).and_then(|b| b.as_ref()).map_or(&[], |b| b.value(self.row))
    }
}

/// Runs `body` on each row whose given arguments are all present (NULL otherwise); an
/// error stops the query with the function's name.
fn each_row<T: Into<Option<Vec<u8>>>>(name: &str, call: &[ColumnarValue], rows: usize, body: impl Fn(&Row) -> Result<T, String>) -> Result<ArrayRef> {
    let texts: Vec<Option<StringArray>> = call.iter().enumerate().map(|(i, a)| (i == 2 || i == 3).then(|| args::text(a, rows)).transpose()).collect::<Result<_>>()?;
    let bytes: Vec<Option<BinaryArray>> = call.iter().enumerate().map(|(i, a)| (i != 2 && i != 3).then(|| args::bytes(a, rows)).transpose()).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let null = texts.iter().flatten().any(|t| t.is_null(row)) || bytes.iter().flatten().any(|b| b.is_null(row));
        if null {
            out.push(None);
            continue;
        }
        match body(&Row { texts: &texts, bytes: &bytes, row }) {
            Ok(answer) => out.push(answer.into()),
            Err(e) => return exec_err!("{name}: {e}"),
        }
    }
    Ok(Arc::new(out.into_iter().collect::<BinaryArray>()))
}

/// A mode of AES with its padding.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Gcm,
    Cbc,
    Ecb,
}

impl Mode {
    /// The mode and padding named (empty is the default: GCM, and each mode's own padding).
    fn read(mode: &str, padding: &str) -> Result<Mode, String> {
        let mode_name = if mode.is_empty() { "GCM".to_string() } else { mode.to_ascii_uppercase() };
        let padding_name = if padding.is_empty() { "DEFAULT".to_string() } else { padding.to_ascii_uppercase() };
        match (mode_name.as_str(), padding_name.as_str()) {
            ("GCM", "DEFAULT" | "NONE") => Ok(Mode::Gcm),
            ("CBC", "DEFAULT" | "PKCS") => Ok(Mode::Cbc),
            ("ECB", "DEFAULT" | "PKCS") => Ok(Mode::Ecb),
            _ => Err(format!("the mode {mode_name} with the padding {padding_name} is not one of GCM (NONE), CBC (PKCS) and ECB (PKCS)")),
        }
    }

    fn iv_length(self) -> usize {
        match self {
            Mode::Gcm => 12,
            Mode::Cbc => 16,
            Mode::Ecb => 0,
        }
    }

    fn encrypt(self, key: &[u8], data: &[u8], iv: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
        let iv = match (self, iv.len()) {
            (Mode::Ecb, 0) => vec![],
            (Mode::Ecb, _) => return Err("ECB takes no IV".into()),
            (_, 0) => {
                let mut drawn = vec![0; self.iv_length()];
                getrandom::fill(&mut drawn).map_err(|e| format!("no random IV: {e}"))?;
                drawn
            }
            (_, n) if n == self.iv_length() => iv.to_vec(),
            (_, n) => return Err(format!("the IV is {n} bytes; {self:?} takes {}", self.iv_length())),
        };
        if self != Mode::Gcm && !aad.is_empty() {
            return Err(format!("{self:?} takes no additional authenticated data"));
        }
        let sealed = match key.len() {
            16 => seal::<aes::Aes128>(self, key, &iv, data, aad),
            24 => seal::<aes::Aes192>(self, key, &iv, data, aad),
            32 => seal::<aes::Aes256>(self, key, &iv, data, aad),
            n => return Err(key_length_error(n)),
        }?;
        Ok([iv, sealed].concat())
    }

    fn decrypt(self, key: &[u8], data: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
        if data.len() < self.iv_length() {
            return Err(format!("the input is {} bytes, shorter than the IV", data.len()));
        }
        let (iv, sealed) = data.split_at(self.iv_length());
        match key.len() {
            16 => open::<aes::Aes128>(self, key, iv, sealed, aad),
            24 => open::<aes::Aes192>(self, key, iv, sealed, aad),
            32 => open::<aes::Aes256>(self, key, iv, sealed, aad),
            n => Err(key_length_error(n)),
        }
    }
}

fn key_length_error(length: usize) -> String {
    format!("the key is {length} bytes; AES takes 16, 24 or 32")
}

/// `data` encrypted with the cipher `C` in `mode` (without the IV in front).
fn seal<C>(mode: Mode, key: &[u8], iv: &[u8], data: &[u8], aad: &[u8]) -> Result<Vec<u8>, String>
where
    C: BlockCipher<BlockSize = U16> + BlockEncrypt + BlockDecrypt + KeyInit,
{
    let bad_key = |_| key_length_error(key.len());
    Ok(match mode {
        Mode::Gcm => AesGcm::<C, U12>::new_from_slice(key).map_err(bad_key)?.encrypt(iv.into(), Payload { msg: data, aad }).map_err(|_| "GCM encryption failed".to_string())?,
        Mode::Cbc => cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| key_length_error(key.len()))?.encrypt_padded_vec_mut::<Pkcs7>(data),
        Mode::Ecb => ecb::Encryptor::<C>::new_from_slice(key).map_err(bad_key)?.encrypt_padded_vec_mut::<Pkcs7>(data),
    })
}

/// `sealed` decrypted with the cipher `C` in `mode`; an error when the key, tag or padding
/// does not fit.
fn open<C>(mode: Mode, key: &[u8], iv: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, String>
where
    C: BlockCipher<BlockSize = U16> + BlockEncrypt + BlockDecrypt + KeyInit,
{
    let bad_key = |_| key_length_error(key.len());
    let wrong = || "the key, IV or input is not the one the data was encrypted with (or the data was changed)".to_string();
    match mode {
        Mode::Gcm => AesGcm::<C, U12>::new_from_slice(key).map_err(bad_key)?.decrypt(iv.into(), Payload { msg: sealed, aad }).map_err(|_| wrong()),
        Mode::Cbc => cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| key_length_error(key.len()))?.decrypt_padded_vec_mut::<Pkcs7>(sealed).map_err(|_| wrong()),
        Mode::Ecb => ecb::Decryptor::<C>::new_from_slice(key).map_err(bad_key)?.decrypt_padded_vec_mut::<Pkcs7>(sealed).map_err(|_| wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_reads_back_what_it_wrote() {
        for mode in [Mode::Gcm, Mode::Cbc, Mode::Ecb] {
            for key in [&b"0123456789abcdef"[..], b"0123456789abcdef01234567", b"0123456789abcdef0123456789abcdef"] {
                let aad: &[u8] = if mode == Mode::Gcm { b"context" } else { b"" };
                let sealed = mode.encrypt(key, b"Spark SQL", b"", aad).unwrap();
                assert_eq!(mode.decrypt(key, &sealed, aad).unwrap(), b"Spark SQL");
                let mut changed = sealed.clone();
                *changed.last_mut().unwrap() ^= 1;
                assert!(mode.decrypt(key, &changed, aad).map_or(true, |plain| plain != b"Spark SQL"));
            }
        }
    }

    #[test]
    fn wrong_keys_and_modes_are_named() {
        assert!(Mode::Gcm.encrypt(b"short", b"x", b"", b"").unwrap_err().contains("16, 24 or 32"));
        assert!(Mode::read("CBC", "NONE").is_err());
        assert!(Mode::Gcm.decrypt(b"0123456789abcdef", b"too short", b"").is_err());
    }
}
