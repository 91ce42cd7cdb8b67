//! What one value of a Sigma field test becomes: a compiled string test (equality, prefix,
//! suffix, substring, wildcard or regular expression, case-insensitive unless `cased`), a
//! number comparison, a CIDR range, a field reference, or a null/existence test.

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};

use crate::value::Piece;

/// A compiled test of one field value.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Text tests run on the value as it is when `cased`, else on its lower-case form
    /// (the needle is lower-cased here, once).
    Text { test: TextTest, cased: bool },
    /// The field is absent or null.
    Null,
    /// `exists`: the field is present (true) or absent (false).
    Exists(bool),
    /// `lt`/`lte`/`gt`/`gte`: the value read as a number.
    Compare(Comparison, f64),
    /// `cidr`: the value is an IP address inside the network.
    Cidr(Network),
    /// `fieldref`: the value relates to another field of the same event as `test` says
    /// (`Equals`, `StartsWith`... with an empty needle: the other field's value is used).
    FieldRef { field: String, kind: TextKind, cased: bool },
}

/// How text is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Equals,
    StartsWith,
    EndsWith,
    Contains,
}

/// A string test with its needle.
#[derive(Debug, Clone)]
pub enum TextTest {
    Plain(TextKind, String),
    Regex(Regex),
}

impl TextTest {
    /// True when `value` (already lower-cased when the test is not cased) passes.
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            TextTest::Plain(kind, needle) => kind.test(value, needle),
            TextTest::Regex(regex) => regex.is_match(value),
        }
    }
}

impl TextKind {
    /// Compares `value` with `needle` this way.
    pub fn test(self, value: &str, needle: &str) -> bool {
        match self {
            TextKind::Equals => value == needle,
            TextKind::StartsWith => value.starts_with(needle),
            TextKind::EndsWith => value.ends_with(needle),
            TextKind::Contains => value.contains(needle),
        }
    }
}

/// A numeric comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub fn test(self, value: f64, bound: f64) -> bool {
        match self {
            Comparison::Less => value < bound,
            Comparison::LessOrEqual => value <= bound,
            Comparison::Greater => value > bound,
            Comparison::GreaterOrEqual => value >= bound,
        }
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `10.0.0.0/8`, `fe80::/10` or a bare address.
    pub fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, prefix.parse::<u8>().ok()?),
            None => {
                let address = text.parse::<IpAddr>().ok()?;
                (address, if address.is_ipv4() { 32 } else { 128 })
            }
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Network { address, prefix })
    }

    /// True when `text` is an address inside this network.
    pub fn contains(&self, text: &str) -> bool {
        let Ok(address) = text.trim().parse::<IpAddr>() else { return false };
        let (a, b, bits) = match (self.address, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) as u128, u32::from(a) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

/// Compiles a wildcard string into a text test of `kind` (`contains` and friends add
/// wildcards at the ends). Plain prefixes, suffixes and substrings stay plain; anything
/// else becomes an anchored regular expression.
pub fn text_matcher(mut pieces: Vec<Piece>, kind: TextKind, cased: bool) -> Result<Matcher, String> {
    if matches!(kind, TextKind::EndsWith | TextKind::Contains) && pieces.first() != Some(&Piece::AnyRun) {
        pieces.insert(0, Piece::AnyRun);
    }
    if matches!(kind, TextKind::StartsWith | TextKind::Contains) && pieces.last() != Some(&Piece::AnyRun) {
        pieces.push(Piece::AnyRun);
    }
    let fold = |text: &str| if cased { text.to_string() } else { text.to_lowercase() };
    let test = match pieces.as_slice() {
        [] => TextTest::Plain(TextKind::Equals, String::new()),
        [Piece::AnyRun] => TextTest::Plain(TextKind::StartsWith, String::new()),
        [Piece::Text(t)] => TextTest::Plain(TextKind::Equals, fold(t)),
        [Piece::Text(t), Piece::AnyRun] => TextTest::Plain(TextKind::StartsWith, fold(t)),
        [Piece::AnyRun, Piece::Text(t)] => TextTest::Plain(TextKind::EndsWith, fold(t)),
        [Piece::AnyRun, Piece::Text(t), Piece::AnyRun] => TextTest::Plain(TextKind::Contains, fold(t)),
        pieces => {
            let mut pattern = String::from("^");
            for piece in pieces {
                match piece {
                    Piece::Text(t) => pattern.push_str(&regex::escape(&fold(t))),
                    Piece::AnyRun => pattern.push_str(".*"),
                    Piece::AnyOne => pattern.push('.'),
                }
            }
            pattern.push('$');
            TextTest::Regex(regex(&pattern, false, false, true)?)
        }
    };
    Ok(Matcher::Text { test, cased })
}

/// Compiles a `re` value. Sigma regular expressions are case-sensitive unless `re|i`.
pub fn regex_matcher(pattern: &str, insensitive: bool, multi_line: bool, dot_all: bool) -> Result<Matcher, String> {
    let regex = regex(pattern, insensitive, multi_line, dot_all)?;
    Ok(Matcher::Text { test: TextTest::Regex(regex), cased: true })
}

fn regex(pattern: &str, insensitive: bool, multi_line: bool, dot_all: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(insensitive)
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("regular expression `{pattern}` is not supported: {}", first_line(&e.to_string())))
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::pieces;

    fn passes(matcher: &Matcher, value: &str) -> bool {
        let Matcher::Text { test, cased } = matcher else { panic!("not a text matcher") };
        test.is_match(&if *cased { value.to_string() } else { value.to_lowercase() })
    }

    #[test]
    fn plain_shapes_stay_plain_and_ignore_case() {
        let m = text_matcher(pieces(r"\cmd.exe"), TextKind::EndsWith, false).unwrap();
        assert!(matches!(&m, Matcher::Text { test: TextTest::Plain(TextKind::EndsWith, n), .. } if n == r"\cmd.exe"));
        assert!(passes(&m, r"C:\Windows\System32\CMD.EXE"));
        assert!(!passes(&m, r"C:\Windows\System32\cmd.exe.bak"));
        let exact = text_matcher(pieces("Whoami.exe"), TextKind::Equals, true).unwrap();
        assert!(passes(&exact, "Whoami.exe") && !passes(&exact, "whoami.exe"));
    }

    #[test]
    fn inner_wildcards_become_anchored_regexes() {
        let m = text_matcher(pieces(r"C:\Users\\*\AppData\\?ocal\\*.exe"), TextKind::Equals, false).unwrap();
        assert!(passes(&m, r"c:\users\bob\appdata\Local\x.EXE"));
        assert!(!passes(&m, r"d:\c:\users\bob\appdata\local\x.exe"));
        let contains = text_matcher(pieces("a*b"), TextKind::Contains, false).unwrap();
        assert!(passes(&contains, "xxAyyBzz"));
    }

    #[test]
    fn regex_flags_and_unsupported_syntax() {
        let m = regex_matcher("^powershell", true, false, false).unwrap();
        assert!(passes(&m, "PowerShell.exe -enc"));
        assert!(!passes(&regex_matcher("^powershell", false, false, false).unwrap(), "PowerShell"));
        let error = regex_matcher("(?<!a)b", false, false, false).unwrap_err();
        assert!(error.contains("not supported"), "{error}");
    }

    #[test]
    fn networks() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3") && !n.contains("11.0.0.1") && !n.contains("fe80::1") && !n.contains("x"));
        let v6 = Network::parse("fe80::/10").unwrap();
        assert!(v6.contains("fe80::1") && !v6.contains("2001:db8::1"));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains("8.8.8.8"));
        assert!(Network::parse("10.0.0.0/33").is_none());
    }
}
