//! The top-level fields a statement text can read, told from its words, so that files
//! given as tables are read keeping only those fields.

use std::collections::HashSet;

use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use hela_schema::KeptFields;

use crate::spark;

/// Words that lead to fields the text does not name: a natural join joins on every field
/// its tables share, and the information schema lists every field.
const READS_UNNAMED_FIELDS: &[&str] = &["natural", "information_schema"];

/// The fields `sql` may read from any table: every word of it and every string literal, in
/// lower case. All fields when it may read fields it does not name: a statement that is
/// not a query (`DESCRIBE`, `CREATE VIEW`), a `*` other than `count(*)`, a natural join,
/// the information schema, or a call of one of `table_functions` (they take whole tables).
pub fn fields_read(sql: &str, table_functions: &HashSet<String>) -> KeptFields {
    let text = spark::readable_string_literals(sql);
    let Ok(tokens) = Tokenizer::new(&spark::SparkDialect, &text).tokenize() else { return KeptFields::All };
    let tokens: Vec<Token> = tokens.into_iter().filter(|token| !matches!(token, Token::Whitespace(_))).collect();
    let mut names = HashSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let before = |back: usize| i.checked_sub(back).map(|j| &tokens[j]);
        let statement_start = matches!(before(1), None | Some(Token::SemiColon));
        if statement_start && !matches!(token, Token::SemiColon | Token::LParen) && !is_word(token, &["select", "with"]) {
            return KeptFields::All;
        }
        let name = match token {
            Token::Mul if is_wildcard(before(1), tokens.get(i + 1), before(2)) => return KeptFields::All,
            Token::Word(word) => word.value.to_lowercase(),
            Token::SingleQuotedString(text) | Token::DoubleQuotedString(text) => text.to_lowercase(),
            _ => continue,
        };
        if READS_UNNAMED_FIELDS.contains(&name.as_str()) || table_functions.contains(&name) {
            return KeptFields::All;
        }
        names.insert(name);
    }
    KeptFields::Named(names)
}

/// Whether a `*` between `previous` and `next` stands for every column: anything but a
/// product (after a value) and `count(*)`.
fn is_wildcard(previous: Option<&Token>, next: Option<&Token>, before_previous: Option<&Token>) -> bool {
    match previous {
        Some(Token::Number(..) | Token::RParen | Token::SingleQuotedString(_) | Token::DoubleQuotedString(_)) => false,
        Some(word @ Token::Word(_)) => is_word(word, &["select", "distinct", "all"]),
        Some(Token::LParen) => !(next == Some(&Token::RParen) && before_previous.is_some_and(|t| is_word(t, &["count"]))),
        _ => true,
    }
}

/// Whether `token` is an unquoted word among `words` (in lower case).
fn is_word(token: &Token, words: &[&str]) -> bool {
    matches!(token, Token::Word(word) if word.quote_style.is_none() && words.contains(&word.value.to_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> Option<Vec<String>> {
        let functions: HashSet<String> = ["logon_graph".to_string()].into();
        match fields_read(sql, &functions) {
            KeptFields::All => None,
            KeptFields::Named(names) => {
                let mut names: Vec<String> = names.into_iter().collect();
                names.sort();
                Some(names)
            }
        }
    }

    #[test]
    fn a_query_reads_the_fields_it_names() {
        let names = read("SELECT `@timestamp`, Hostname, e.event_data.TargetUserName, count(*) * 2 FROM dataTable e WHERE lower(Channel) = \"security\" GROUP BY 1, 2, 3").unwrap();
        for name in ["@timestamp", "hostname", "e", "event_data", "targetusername", "channel", "security", "datatable"] {
            assert!(names.contains(&name.to_string()), "{name} in {names:?}");
        }
        assert!(read("WITH a AS (SELECT x FROM t) SELECT x * 3 FROM a; (SELECT y FROM t)").is_some());
    }

    #[test]
    fn every_field_when_the_text_may_read_fields_it_does_not_name() {
        for sql in [
            "SELECT * FROM t",
            "SELECT DISTINCT * FROM t",
            "SELECT a, t.* FROM t",
            "SELECT to_json(struct(*)) FROM t",
            "SELECT a FROM t NATURAL JOIN u",
            "SELECT column_name FROM information_schema.columns",
            "SELECT src FROM logon_graph(events)",
            "DESCRIBE t",
            "SELECT a FROM t; SHOW COLUMNS FROM t",
            "CREATE VIEW v AS SELECT a FROM t",
            "SELECT 'unclosed",
        ] {
            assert_eq!(read(sql), None, "{sql}");
        }
    }
}
