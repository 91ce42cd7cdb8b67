//! The quick-filter bar's language (a Kibana-like subset of Lucene's) and the SQL condition
//! it stands for, over a result's columns:
//!
//! - `field:value` equals (case as written); `field:"a value"` quotes spaces, `\"` and `\\`
//!   escape inside quotes; a bare value is taken as written (`Image:C:\Windows\x.exe`).
//! - `*` and `?` in a bare value are wildcards, matched without regard to case.
//! - `field:>N`, `>=`, `<`, `<=` compare; `_exists_:field` holds when the field has a value.
//! - Terms side by side must all hold (`AND` may be written); `OR` joins alternatives;
//!   `NOT` (or `-`) negates; parentheses group.

/// Why a filter cannot be read, with the character position it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the filter at character {}: {}", self.position + 1, self.message)
    }
}

/// Nesting deeper than this is refused (a filter is typed by hand).
const MAX_DEPTH: usize = 32;
/// Longest filter read.
const MAX_LENGTH: usize = 16 << 10;

/// The SQL condition `filter` stands for, over a result with `columns`, or none when the
/// filter is blank.
pub fn condition(filter: &str, columns: &[String]) -> Result<Option<String>, FilterError> {
    if filter.len() > MAX_LENGTH {
        return Err(FilterError { position: MAX_LENGTH, message: format!("longer than {MAX_LENGTH} bytes") });
    }
    let mut parser = Parser { tokens: tokens(filter)?, at: 0, columns, depth: 0 };
    if parser.tokens.is_empty() {
        return Ok(None);
    }
    let sql = parser.any()?;
    match parser.tokens.get(parser.at) {
        None => Ok(Some(sql)),
        Some(token) => Err(FilterError { position: token.position, message: "unexpected `)`".into() }),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    Not,
    And,
    Or,
    /// `field:value`, with the value as written and whether it was quoted.
    Term { field: String, value: String, quoted: bool },
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    position: usize,
}

/// Splits `text` into tokens.
fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (position, c) = chars[i];
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Kind::Open,
            ')' => Kind::Close,
            '-' if chars.get(i + 1).is_some_and(|(_, n)| !n.is_whitespace()) => Kind::Not,
            _ => {
                let (kind, next) = word(&chars, i)?;
                tokens.push(Token { kind, position });
                i = next;
                continue;
            }
        };
        tokens.push(Token { kind, position });
        i += 1;
    }
    Ok(tokens)
}

/// Reads a keyword or a `field:value` term starting at `start`; returns it and where the
/// next token starts.
fn word(chars: &[(usize, char)], start: usize) -> Result<(Kind, usize), FilterError> {
    let ends = |c: char| c.is_whitespace() || c == '(' || c == ')';
    let mut i = start;
    let mut field = String::new();
    if chars[i].1 == '`' {
        i += 1;
        while i < chars.len() && chars[i].1 != '`' {
            field.push(chars[i].1);
            i += 1;
        }
        if i == chars.len() {
            return Err(FilterError { position: chars[start].0, message: "a field in backticks is not closed".into() });
        }
        i += 1;
    } else {
        while i < chars.len() && chars[i].1 != ':' && !ends(chars[i].1) {
            field.push(chars[i].1);
            i += 1;
        }
    }
    if i == chars.len() || chars[i].1 != ':' {
        return match field.as_str() {
            "NOT" => Ok((Kind::Not, i)),
            "AND" | "&&" => Ok((Kind::And, i)),
            "OR" | "||" => Ok((Kind::Or, i)),
            _ => Err(FilterError {
                position: chars[start].0,
                message: format!("`{field}` names no field: write field:value (Image:*powershell*), or search in the SQL"),
            }),
        };
    }
    if field.is_empty() {
        return Err(FilterError { position: chars[start].0, message: "a field name is missing before `:`".into() });
    }
    i += 1;
    let mut value = String::new();
    let quoted = i < chars.len() && chars[i].1 == '"';
    if quoted {
        let open = chars[i].0;
        i += 1;
        loop {
            match chars.get(i).map(|c| c.1) {
                None => return Err(FilterError { position: open, message: "a quoted value is not closed".into() }),
                Some('"') => break,
                Some('\\') if matches!(chars.get(i + 1).map(|c| c.1), Some('"' | '\\')) => {
                    value.push(chars[i + 1].1);
                    i += 2;
                }
                Some(c) => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        i += 1;
    } else {
        while i < chars.len() && !ends(chars[i].1) {
            value.push(chars[i].1);
            i += 1;
        }
        if value.is_empty() {
            return Err(FilterError { position: chars[start].0, message: format!("no value after `{field}:`") });
        }
    }
    Ok((Kind::Term { field, value, quoted }, i))
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    columns: &'a [String],
    depth: usize,
}

impl Parser<'_> {
    /// Alternatives joined by `OR`.
    fn any(&mut self) -> Result<String, FilterError> {
        let mut alternatives = vec![self.all()?];
        while self.peek() == Some(&Kind::Or) {
            self.at += 1;
            alternatives.push(self.all()?);
        }
        if alternatives.len() == 1 {
            return Ok(alternatives.remove(0).0);
        }
        let grouped = alternatives.into_iter().map(|(sql, terms)| if terms > 1 { format!("({sql})") } else { sql });
        Ok(grouped.collect::<Vec<_>>().join(" OR "))
    }

    /// Terms that must all hold, and how many there are.
    fn all(&mut self) -> Result<(String, usize), FilterError> {
        let mut terms = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Kind::Or | Kind::Close) => break,
                Some(Kind::And) => self.at += 1,
                Some(_) => {}
            }
            terms.push(self.unary()?);
        }
        Ok((terms.join(" AND "), terms.len()))
    }

    fn unary(&mut self) -> Result<String, FilterError> {
        let Some(token) = self.tokens.get(self.at).cloned() else {
            let position = self.tokens.last().map_or(0, |t| t.position);
            return Err(FilterError { position, message: "the filter ends where a term was expected".into() });
        };
        self.at += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError { position: token.position, message: format!("nested deeper than {MAX_DEPTH}") });
        }
        let sql = match token.kind {
            Kind::Not => format!("NOT ({})", self.unary()?),
            Kind::Open => {
                let inner = self.any()?;
                match self.peek() {
                    Some(Kind::Close) => self.at += 1,
                    _ => return Err(FilterError { position: token.position, message: "`(` is not closed".into() }),
                }
                format!("({inner})")
            }
            Kind::Term { field, value, quoted } => self.term(&field, &value, quoted),
            Kind::Close | Kind::And | Kind::Or => {
                return Err(FilterError { position: token.position, message: "a term was expected here".into() });
            }
        };
        self.depth -= 1;
        Ok(sql)
    }

    fn term(&self, field: &str, value: &str, quoted: bool) -> String {
        if field == "_exists_" {
            return format!("{} IS NOT NULL", self.column(value));
        }
        let column = self.column(field);
        if !quoted {
            for operator in [">=", "<=", ">", "<"] {
                if let Some(bound) = value.strip_prefix(operator) {
                    return format!("{column} {operator} {}", literal(bound));
                }
            }
            if value.contains(['*', '?']) {
                return format!("CAST({column} AS STRING) ILIKE {}", spark_string(&like_pattern(value)));
            }
        }
        format!("{column} = {}", spark_string(value))
    }

    /// The column `field` names: a column of that name, else a path into nested fields.
    fn column(&self, field: &str) -> String {
        if self.columns.iter().any(|c| c == field) || !field.contains('.') {
            return identifier(field);
        }
        field.split('.').map(identifier).collect::<Vec<_>>().join(".")
    }

    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }
}

/// `name` as a Spark SQL identifier in backticks.
pub fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `text` as a Spark SQL string literal (where a backslash escapes).
pub fn spark_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('\'');
    for c in text.chars() {
        match c {
            '\\' => literal.push_str("\\\\"),
            '\'' => literal.push_str("\\'"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            c => literal.push(c),
        }
    }
    literal.push('\'');
    literal
}

/// A number as written, anything else as a string.
fn literal(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => text.to_string(),
        _ => spark_string(text),
    }
}

/// A wildcard value as a LIKE pattern: `*` any run, `?` one character, the rest literal.
fn like_pattern(value: &str) -> String {
    let mut pattern = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => pattern.push('%'),
            '?' => pattern.push('_'),
            '%' | '_' | '\\' => {
                pattern.push('\\');
                pattern.push(c);
            }
            c => pattern.push(c),
        }
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(filter: &str) -> String {
        condition(filter, &["Image".into(), "winlog.event_id".into()]).unwrap().unwrap_or_default()
    }

    #[test]
    fn terms_become_conditions() {
        assert_eq!(sql("EventID:1"), "`EventID` = '1'");
        assert_eq!(sql(r#"User:"NT AUTHORITY\\SYSTEM""#), r"`User` = 'NT AUTHORITY\\SYSTEM'");
        assert_eq!(sql(r"Image:C:\Windows\whoami.exe"), r"`Image` = 'C:\\Windows\\whoami.exe'");
        assert_eq!(sql("Image:*power?hell*"), "CAST(`Image` AS STRING) ILIKE '%power_hell%'");
        assert_eq!(sql("Image:*100%_done*"), r"CAST(`Image` AS STRING) ILIKE '%100\\%\\_done%'");
        assert_eq!(sql("EventID:>=4624"), "`EventID` >= 4624");
        assert_eq!(sql("LogonId:>0x3e7"), "`LogonId` > '0x3e7'");
        assert_eq!(sql("_exists_:CommandLine"), "`CommandLine` IS NOT NULL");
        assert_eq!(sql("O'Brien:x"), "`O'Brien` = 'x'");
        assert_eq!(sql("x:\"it's\""), r"`x` = 'it\'s'");
    }

    #[test]
    fn nested_fields_unless_a_column_has_the_dotted_name() {
        assert_eq!(sql("winlog.event_id:1"), "`winlog.event_id` = '1'");
        assert_eq!(sql("process.name:cmd.exe"), "`process`.`name` = 'cmd.exe'");
        assert_eq!(sql("`odd:name`:1"), "`odd:name` = '1'");
    }

    #[test]
    fn boolean_structure() {
        assert_eq!(sql("a:1 b:2"), "`a` = '1' AND `b` = '2'");
        assert_eq!(sql("a:1 AND NOT b:2"), "`a` = '1' AND NOT (`b` = '2')");
        assert_eq!(sql("-b:2"), "NOT (`b` = '2')");
        assert_eq!(sql("a:1 OR b:2 c:3"), "`a` = '1' OR (`b` = '2' AND `c` = '3')");
        assert_eq!(sql("(a:1 OR b:2) c:3"), "(`a` = '1' OR `b` = '2') AND `c` = '3'");
        assert_eq!(sql("   "), "");
    }

    #[test]
    fn mistakes_are_named_with_their_position() {
        let error = |filter: &str| condition(filter, &[]).unwrap_err();
        assert_eq!(error("a:1 powershell").position, 4);
        assert!(error("a:1 powershell").message.contains("`powershell` names no field"));
        assert_eq!(error("(a:1").message, "`(` is not closed");
        assert_eq!(error("a:1)").message, "unexpected `)`");
        assert_eq!(error("a:\"open").position, 2);
        assert!(error("a:").message.contains("no value"));
        assert!(error("NOT").message.contains("ends where a term"));
        assert!(error(&"(".repeat(100)).message.contains("nested deeper"));
        assert_eq!(error(":x").message, "a field name is missing before `:`");
        assert!(error(&"a:b ".repeat(10_000)).message.contains("longer than"));
    }
}
