//! Spark's reading of string literals: backslash escapes.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{Expr, Value, ValueWithSpan, visit_expressions_mut};

/// Applies Spark's reading of string literals to every literal of `statement`: `\\` is one
/// backslash, `\'` `\"` `\n` `\t` `\r` `\b` `\0` `\Z` `\uXXXX` are what they are in Spark, `\%`
/// and `\_` stay escaped for LIKE, and a backslash before any other character is dropped.
pub fn unescape_string_literals(statement: &mut Statement) {
    if let Statement::Statement(inner) = statement {
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(s) | Value::DoubleQuotedString(s), .. }) = expr
                && s.contains('\\')
            {
                *s = unescape(s);
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => out.push('\\'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('Z') => out.push('\u{1a}'),
            Some(kept @ ('%' | '_')) => {
                out.push('\\');
                out.push(kept);
            }
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4).and_then(char::from_u32) {
                    Some(unicode) => {
                        out.push(unicode);
                        chars.nth(3);
                    }
                    None => out.push('u'),
                }
            }
            Some(other) => out.push(other),
        }
    }
    out
}

/// Spark's string literals the parser does not read, written as ones it reads: raw
/// strings, `r'C:\Windows'` and `R"\d+"` (no escapes inside), as ordinary literals whose
/// backslashes are escaped; a quote escaped with a backslash (`'Don\'t'`) also doubled, so
/// that it does not end the literal ([`unescape_string_literals`] then reads `\'` as `'`).
/// Everything else (quoted text, identifiers in backticks, comments) is left as it is.
pub fn readable_string_literals(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains(['r', 'R', '\\']) {
        return std::borrow::Cow::Borrowed(sql);
    }
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                // Copy the quoted text whole (a backslash escapes the next character in
                // strings; a doubled backtick is one in identifiers).
                let end = closing(&chars, i, c);
                let mut j = i;
                while j < end {
                    out.push(chars[j]);
                    if chars[j] == '\\' && c != '`' && j + 1 < end {
                        out.push(chars[j + 1]);
                        if chars[j + 1] == c {
                            out.push(c);
                            changed = true;
                        }
                        j += 1;
                    }
                    j += 1;
                }
                i = end;
            }
            '-' if next == Some('-') => {
                let end = chars[i..].iter().position(|&ch| ch == '\n').map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if next == Some('*') => {
                let end = (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == '*' && chars[j + 1] == '/').map_or(chars.len(), |j| j + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            'r' | 'R' if matches!(next, Some('\'' | '"')) && !chars[..i].last().is_some_and(|p| p.is_alphanumeric() || *p == '_') => {
                let quote = next.expect("matched");
                let Some(length) = chars[i + 2..].iter().position(|&ch| ch == quote) else {
                    out.extend(&chars[i..]);
                    break;
                };
                out.push(quote);
                for &ch in &chars[i + 2..i + 2 + length] {
                    if ch == '\\' {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push(quote);
                changed = true;
                i += length + 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if changed { std::borrow::Cow::Owned(out) } else { std::borrow::Cow::Borrowed(sql) }
}

/// Where the quoted text opening at `start` with `quote` ends (just past its closing quote,
/// or the end of the text).
fn closing(chars: &[char], start: usize, quote: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' if quote != '`' => j += 2,
            ch if ch == quote => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_as_spark_reads_literals() {
        assert_eq!(unescape(r"c:\\windows\\system32"), r"c:\windows\system32");
        assert_eq!(unescape(r"%\\services.exe"), r"%\services.exe");
        assert_eq!(unescape(r"50\% \_x \'q\' \n\u0041\q"), "50\\% \\_x 'q' \nAq");
        assert_eq!(unescape(r"\u00"), "u00");
        assert_eq!(unescape("end\\"), "end\\");
    }

    #[test]
    fn raw_strings_and_escaped_quotes_become_literals_the_parser_reads() {
        assert_eq!(readable_string_literals(r"SELECT r'C:\Windows\x', R'\d+'"), r"SELECT 'C:\\Windows\\x', '\\d+'");
        assert_eq!(readable_string_literals(r#"SELECT r"a\b""#), r#"SELECT "a\\b""#);
        assert_eq!(readable_string_literals(r#"SELECT 'Don\'t', "a\"b", 'c\\'"#), r#"SELECT 'Don\''t', "a\""b", 'c\\'"#);
        for unchanged in [r"SELECT 'r\\x', `r'`, user'", "SELECT lower('R') -- r'x'", "SELECT /* r'x' */ 1", "SELECT bar'x'", "SELECT r'open"] {
            assert_eq!(readable_string_literals(unchanged), unchanged);
        }
    }
}
