//! Java date-time patterns (`yyyy-MM-dd HH:mm:ss.SSS`), the ones Spark's date-time
//! functions take, turned into chrono's format items.

use chrono::format::{Item, StrftimeItems};

/// What a pattern is compiled for: the two differ in how zone offsets are read and written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Writing UTC times: an `X` offset is `Z`, as Java writes a zero offset.
    Format,
    /// Reading times: any offset form is accepted (`Z`, `+02`, `+0200`, `+02:00`).
    Parse,
}

/// A Java date-time pattern compiled for formatting or parsing with chrono.
pub struct JavaPattern {
    items: Vec<Item<'static>>,
}

impl JavaPattern {
    /// Compiles `pattern`, or says which letter is not supported.
    pub fn new(pattern: &str, purpose: Use) -> Result<JavaPattern, String> {
        let strftime = to_strftime(pattern, purpose)?;
        let items = StrftimeItems::new(&strftime)
            .parse_to_owned()
            .map_err(|_| format!("the date-time pattern '{pattern}' is not supported"))?;
        Ok(JavaPattern { items })
    }

    /// The compiled items.
    pub fn items(&self) -> &[Item<'static>] {
        &self.items
    }
}

/// The chrono `strftime` equivalent of a Java pattern: runs of one letter are fields
/// (`yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`, `a`, `EEE`, `XXX`...), text in single
/// quotes is literal (`''` is a quote), and other characters stand for themselves.
fn to_strftime(pattern: &str, purpose: Use) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        if c == '\'' {
            if run >= 2 {
                out.push('\'');
                i += 2;
                continue;
            }
            i = push_quoted(&mut out, &chars, i + 1)
                .ok_or_else(|| format!("the date-time pattern '{pattern}' has an unclosed quote"))?;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            push_literal(&mut out, c);
            i += 1;
            continue;
        }
        let field = match (c, run) {
            ('y' | 'u', 2) => "%y",
            ('y' | 'u', _) => "%Y",
            ('M' | 'L', 1) => "%-m",
            ('M' | 'L', 2) => "%m",
            ('M' | 'L', 3) => "%b",
            ('M' | 'L', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('X' | 'x' | 'Z', _) if purpose == Use::Parse => "%#z",
            ('X', _) => "Z",
            ('x', 1) => "+00",
            ('x', 2) | ('Z', 1..=3) => "%z",
            ('x', _) | ('Z', _) => "%:z",
            ('z' | 'V', _) => "%Z",
            _ => return Err(format!("the date-time pattern '{pattern}' uses '{}', which hela does not support", c.to_string().repeat(run))),
        };
        out.push_str(field);
        i += run;
    }
    Ok(out)
}

/// Copies quoted text that starts at `start` (after the opening quote) and returns where the
/// pattern goes on, or `None` when the quote is never closed. `''` inside is one quote.
fn push_quoted(out: &mut String, chars: &[char], start: usize) -> Option<usize> {
    let mut i = start;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('\'', Some('\'')) => {
                out.push('\'');
                i += 2;
            }
            ('\'', _) => return Some(i + 1),
            (literal, _) => {
                push_literal(out, literal);
                i += 1;
            }
        }
    }
    None
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::{Use, to_strftime};

    #[test]
    fn java_patterns_become_strftime() {
        let format = |p| to_strftime(p, Use::Format);
        assert_eq!(format("yyyy-MM-dd HH:mm:ss").unwrap(), "%Y-%m-%d %H:%M:%S");
        assert_eq!(format("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap(), "%Y-%m-%dT%H:%M:%S.%3fZ");
        assert_eq!(to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSSX", Use::Parse).unwrap(), "%Y-%m-%dT%H:%M:%S.%3f%#z");
        assert_eq!(format("d MMM yy, h a 'o''clock' 100% Z").unwrap(), "%-d %b %y, %-I %p o'clock 100%% %z");
        assert!(format("yyyy-MM-dd'T").is_err());
        assert!(format("qqq").unwrap_err().contains("'qqq'"));
    }
}
