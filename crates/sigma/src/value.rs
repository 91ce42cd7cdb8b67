//! Sigma values: the wildcards and escapes of a plain string, and the value-changing
//! modifiers (`base64`, `base64offset`, `utf16le`/`utf16be`/`wide`, `windash`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One piece of a Sigma string: literal text or a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `*`: any run of characters.
    AnyRun,
    /// `?`: any one character.
    AnyOne,
}

/// Splits a plain Sigma string into text and wildcards. A backslash escapes a following `*`,
/// `?` or backslash; before anything else it is an ordinary character (`C:\Windows`).
pub fn pieces(value: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    text.push(next);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            '*' | '?' => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(if c == '*' { Piece::AnyRun } else { Piece::AnyOne });
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// The text of a value whose wildcards mean nothing (after `base64`, say), escaped so that
/// [`pieces`] gives it back as one literal.
pub fn literal(text: &str) -> Vec<Piece> {
    if text.is_empty() { Vec::new() } else { vec![Piece::Text(text.to_string())] }
}

/// A byte-level transform from a modifier, applied to every variant of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    /// Command-line dashes in any of the forms Windows accepts.
    WinDash,
}

/// The characters Windows programs accept where a command-line option starts with `-`.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

impl Transform {
    /// Applies the transform to one variant, giving one or more variants.
    pub fn apply(self, value: &[u8]) -> Vec<Vec<u8>> {
        match self {
            Transform::Base64 => vec![BASE64.encode(value).into_bytes()],
            Transform::Base64Offset => base64_offsets(value),
            Transform::Utf16Le => vec![utf16(value, u16::to_le_bytes)],
            Transform::Utf16Be => vec![utf16(value, u16::to_be_bytes)],
            Transform::WinDash => windash(value),
        }
    }

    /// True when the result is encoded text whose `*` and `?` are not wildcards.
    pub fn encodes(self) -> bool {
        matches!(self, Transform::Base64 | Transform::Base64Offset)
    }
}

fn utf16(value: &[u8], bytes: fn(u16) -> [u8; 2]) -> Vec<u8> {
    String::from_utf8_lossy(value).encode_utf16().flat_map(bytes).collect()
}

/// The three base64 renderings of `value` as it can appear inside a longer encoded text,
/// at each offset modulo three, with the characters that depend on its neighbours cut off.
fn base64_offsets(value: &[u8]) -> Vec<Vec<u8>> {
    const START: [usize; 3] = [0, 2, 3];
    const END_CUT: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut padded = vec![b' '; shift];
            padded.extend_from_slice(value);
            let encoded = BASE64.encode(&padded).into_bytes();
            let end = encoded.len().saturating_sub(END_CUT[(value.len() + shift) % 3]);
            encoded.get(START[shift]..end).unwrap_or_default().to_vec()
        })
        .collect()
}

/// Every dash that starts an option (a `-` or `/` not preceded by a word character and
/// followed by one) in each of the forms Windows accepts; all such dashes in one variant
/// take the same form.
fn windash(value: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(value);
    let chars: Vec<char> = text.chars().collect();
    let is_word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let option_dash = |i: usize| {
        matches!(chars[i], '-' | '/') && !is_word(i.checked_sub(1).and_then(|p| chars.get(p))) && is_word(chars.get(i + 1))
    };
    let positions: Vec<usize> = (0..chars.len()).filter(|&i| option_dash(i)).collect();
    if positions.is_empty() {
        return vec![value.to_vec()];
    }
    DASHES
        .iter()
        .map(|dash| {
            let mut variant = chars.clone();
            positions.iter().for_each(|&i| variant[i] = *dash);
            variant.into_iter().collect::<String>().into_bytes()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(pieces(r"C:\Windows\\*.exe"), vec![Piece::Text(r"C:\Windows\".into()), Piece::AnyRun, Piece::Text(".exe".into())]);
        assert_eq!(pieces(r" -Filter \*"), vec![Piece::Text(" -Filter *".into())]);
        assert_eq!(pieces(r"a\*b\?c\\"), vec![Piece::Text(r"a*b?c\".into())]);
        assert_eq!(pieces("?x"), vec![Piece::AnyOne, Piece::Text("x".into())]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn base64offset_matches_the_value_inside_any_encoded_text() {
        let variants = Transform::Base64Offset.apply(b"Invoke-Mimikatz");
        for prefix in ["", "x", "xy", "IEX (", "powershell "] {
            let whole = BASE64.encode(format!("{prefix}Invoke-Mimikatz and more"));
            assert!(
                variants.iter().any(|v| whole.contains(std::str::from_utf8(v).unwrap())),
                "{prefix:?}: {whole} has none of {variants:?}"
            );
        }
    }

    #[test]
    fn utf16_and_base64_compose_like_powershell_encoded_commands() {
        let wide = Transform::Utf16Le.apply(b"IEX")[0].clone();
        assert_eq!(wide, b"I\0E\0X\0");
        assert_eq!(Transform::Base64.apply(&wide)[0], b"SQBFAFgA");
    }

    #[test]
    fn windash_varies_option_dashes_only() {
        let variants: Vec<String> = Transform::WinDash.apply(b" -enc x-y").into_iter().map(|v| String::from_utf8(v).unwrap()).collect();
        assert_eq!(variants.len(), 5);
        assert!(variants.contains(&" /enc x-y".to_string()));
        assert!(variants.contains(&" \u{2013}enc x-y".to_string()));
        assert_eq!(Transform::WinDash.apply(b"plain"), vec![b"plain".to_vec()]);
    }
}
