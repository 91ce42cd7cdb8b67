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
}
