//! STIX 2.1 patterns, read for the single values they name: `[ipv4-addr:value =
//! '198.51.100.1']`, `[file:hashes.'SHA-256' = '...' OR file:name = 'x.exe']`,
//! `[ipv4-addr:value ISSUBSET '10.0.0.0/8']`. A pattern is a set of indicators when it
//! matches if any one of its comparisons does (comparisons joined by OR, in one observation
//! or several); a pattern that needs several things at once (AND, FOLLOWEDBY, a qualifier)
//! or compares otherwise than by equality is refused with the reason.

use crate::kind::Kind;

/// Nesting deeper than this is refused (the pattern is read recursively).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenParen,
    CloseParen,
    Comma,
    Word(String),
    Text(String),
    Operator(String),
}

fn tokens(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let single = match c {
            '[' => Some(Token::Open),
            ']' => Some(Token::Close),
            '(' => Some(Token::OpenParen),
            ')' => Some(Token::CloseParen),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            out.push(token);
            i += 1;
            continue;
        }
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a string is not closed with `'`".into()),
                        Some('\\') => {
                            let Some(&next) = chars.get(i + 1) else { return Err("a string ends in `\\`".into()) };
                            text.push(next);
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            text.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(text));
            }
            '=' | '!' | '<' | '>' => {
                let two = chars.get(i + 1) == Some(&'=');
                out.push(Token::Operator(chars[i..i + 1 + two as usize].iter().collect()));
                i += 1 + two as usize;
            }
            c if c.is_alphanumeric() || "_-:.".contains(c) => {
                let start = i;
                // An object path runs on through quoted keys (`file:hashes.'SHA-256'`).
                while i < chars.len() && (chars[i].is_alphanumeric() || "_-:.*".contains(chars[i]) || (chars[i] == '\'' && i > start && chars[i - 1] == '.')) {
                    if chars[i] == '\'' {
                        let close = chars[i + 1..].iter().position(|&c| c == '\'').ok_or("a quoted key is not closed with `'`")?;
                        i += close + 2;
                    } else {
                        i += 1;
                    }
                }
                let word: String = chars[start..i].iter().collect();
                // Typed literals: t'...', h'...', b'...'.
                if ["t", "h", "b"].contains(&word.as_str()) && chars.get(i) == Some(&'\'') {
                    continue;
                }
                out.push(Token::Word(word));
            }
            other => return Err(format!("`{other}` is not part of a STIX pattern")),
        }
    }
    Ok(out)
}

/// The indicators a pattern stands for: each a kind and a value (normalised), or why the
/// pattern cannot be matched value by value.
pub fn indicators(pattern: &str) -> Result<Vec<(Kind, String)>, String> {
    let tokens = tokens(pattern)?;
    let mut reader = Reader { tokens, at: 0 };
    let mut found = Vec::new();
    reader.pattern(&mut found, 0)?;
    if reader.at != reader.tokens.len() {
        return Err(format!("unexpected {:?} after the pattern", reader.tokens[reader.at]));
    }
    if found.is_empty() {
        return Err("the pattern names no value".into());
    }
    Ok(found)
}

struct Reader {
    tokens: Vec<Token>,
    at: usize,
}

impl Reader {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// Observations joined by OR.
    fn pattern(&mut self, found: &mut Vec<(Kind, String)>, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the pattern nests deeper than {MAX_DEPTH}"));
        }
        loop {
            match self.next() {
                Some(Token::Open) => {
                    self.comparisons(found, depth + 1)?;
                    if self.next() != Some(Token::Close) {
                        return Err("an observation is not closed with `]`".into());
                    }
                }
                Some(Token::OpenParen) => {
                    self.pattern(found, depth + 1)?;
                    if self.next() != Some(Token::CloseParen) {
                        return Err("a group is not closed with `)`".into());
                    }
                }
                other => return Err(format!("expected `[` opening an observation, found {other:?}")),
            }
            match self.peek_word().as_deref() {
                Some("OR") => self.at += 1,
                Some(word @ ("AND" | "FOLLOWEDBY")) => return Err(format!("observations joined by {word} need several events at once; hela matches single values")),
                Some(word @ ("WITHIN" | "REPEATS" | "START")) => return Err(format!("the qualifier {word} is about several events; hela matches single values")),
                _ => return Ok(()),
            }
        }
    }

    /// Comparisons inside one observation, joined by OR.
    fn comparisons(&mut self, found: &mut Vec<(Kind, String)>, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the pattern nests deeper than {MAX_DEPTH}"));
        }
        loop {
            if self.tokens.get(self.at) == Some(&Token::OpenParen) {
                self.at += 1;
                self.comparisons(found, depth + 1)?;
                if self.next() != Some(Token::CloseParen) {
                    return Err("a group is not closed with `)`".into());
                }
            } else {
                self.comparison(found)?;
            }
            match self.peek_word().as_deref() {
                Some("OR") => self.at += 1,
                Some("AND") => return Err("comparisons joined by AND need one object to have several values; hela matches single values".into()),
                _ => return Ok(()),
            }
        }
    }

    fn comparison(&mut self, found: &mut Vec<(Kind, String)>) -> Result<(), String> {
        let Some(Token::Word(path)) = self.next() else { return Err("expected an object path such as `ipv4-addr:value`".into()) };
        if self.peek_word().as_deref() == Some("NOT") {
            return Err(format!("`{path} NOT ...` matches what is not a value; hela matches values"));
        }
        let operator = match self.next() {
            Some(Token::Operator(op)) => op,
            Some(Token::Word(word)) => word.to_ascii_uppercase(),
            other => return Err(format!("expected a comparison after `{path}`, found {other:?}")),
        };
        let kind = kind_of(&path, &operator)?;
        let values = match operator.as_str() {
            "=" | "ISSUBSET" => match self.next() {
                Some(Token::Text(value)) => vec![value],
                other => return Err(format!("`{path} {operator}` needs a string, found {other:?}")),
            },
            "IN" => self.list()?,
            other => return Err(format!("`{path} {other}` is not a comparison hela matches (=, IN, and ISSUBSET for addresses)")),
        };
        for value in values {
            found.push((kind, kind.normalise(&value)?));
        }
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        if self.next() != Some(Token::OpenParen) {
            return Err("IN needs a list `('a', 'b')`".into());
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::Text(value)) => values.push(value),
                other => return Err(format!("a list holds strings, found {other:?}")),
            }
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::CloseParen) => return Ok(values),
                other => return Err(format!("expected `,` or `)` in a list, found {other:?}")),
            }
        }
    }
}

/// The kind of indicator an object path names.
fn kind_of(path: &str, operator: &str) -> Result<Kind, String> {
    let lower = path.to_ascii_lowercase();
    let kind = match lower.as_str() {
        "ipv4-addr:value" | "ipv6-addr:value" | "network-traffic:dst_ref.value" | "network-traffic:src_ref.value" => Kind::Ip,
        "domain-name:value" => Kind::Domain,
        "url:value" => Kind::Url,
        "file:name" => Kind::FileName,
        "file:hashes.md5" | "file:hashes.'md5'" => Kind::Md5,
        "file:hashes.sha1" | "file:hashes.'sha1'" | "file:hashes.'sha-1'" => Kind::Sha1,
        "file:hashes.sha256" | "file:hashes.'sha256'" | "file:hashes.'sha-256'" => Kind::Sha256,
        _ => return Err(format!("`{path}` is not an object path hela matches (addresses, domains, URLs, file names and hashes)")),
    };
    if operator == "ISSUBSET" && kind != Kind::Ip {
        return Err(format!("ISSUBSET is for addresses, not `{path}`"));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjunctions_of_values_are_read() {
        let found = indicators("[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value ISSUBSET '10.0.0.0/8'] OR [domain-name:value = 'Evil.example']").unwrap();
        assert_eq!(found, [(Kind::Ip, "198.51.100.1".into()), (Kind::Ip, "10.0.0.0/8".into()), (Kind::Domain, "evil.example".into())]);
        let hashes = indicators("[file:hashes.'SHA-256' = 'AA3E0C6B8B3F2E63EBC06D4C4D5B5A1B7C7C5E4D3F2A1B0C9D8E7F6A5B4C3D2E' OR file:hashes.MD5 IN ('d41d8cd98f00b204e9800998ecf8427e')]").unwrap();
        assert_eq!(hashes[0].0, Kind::Sha256);
        assert_eq!(hashes[1], (Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e".into()));
        assert_eq!(indicators("[file:name = 'it\\'s.exe']").unwrap(), [(Kind::FileName, "it's.exe".into())]);
    }

    #[test]
    fn patterns_that_need_more_than_one_value_are_refused_with_the_reason() {
        for (pattern, said) in [
            ("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.com']", "AND"),
            ("[file:name = 'a' AND file:size > 5]", "AND"),
            ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "REPEATS"),
            ("[process:name = 'x']", "not an object path"),
            ("[domain-name:value MATCHES '.*']", "not a comparison"),
            ("[ipv4-addr:value != '1.2.3.4']", "not a comparison"),
            ("[ipv4-addr:value = 'nope']", "not an IP"),
            ("[ipv4-addr:value = '1.2.3.4'", "not closed"),
            ("[file:name = 'open]", "not closed"),
            ("", "expected `[`"),
        ] {
            let error = indicators(pattern).unwrap_err();
            assert!(error.contains(said), "{pattern}: {error}");
        }
        let deep = format!("{}[file:name = 'x']{}", "(".repeat(200), ")".repeat(200));
        assert!(indicators(&deep).unwrap_err().contains("deeper"));
    }
}
