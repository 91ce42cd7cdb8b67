//! The top-level fields a statement text can read, told from its words, so that files
//! given as tables are read keeping only those fields.

use std::collections::HashSet;

use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use hela_schema::KeptFields;

use crate::spark;

/// Words that lead to fields the text does not name: a natural join joins on every field
/// its tables share, and the information schema lists every field.
const READS_UNNAMED_FIELDS: &[&str] = &["natural", "information_schema"];

/// Words that combine the rows of queries by the position of their columns.
const SET_OPERATIONS: &[&str] = &["union", "intersect", "except", "minus"];

/// The fields `sql` may read from any table: every word of it and every string literal, in
/// lower case. All fields when it may read fields it does not name: a statement that is
/// neither a query nor a view's definition (`DESCRIBE`, `SHOW`), a `*` other than
/// `count(*)`, a natural join, the information schema, or a call of one of
/// `table_functions` (they take whole tables).
///
/// A view's columns are read only where a later statement names them, so a `*` that
/// selects columns in a view's definition (`CREATE TEMP VIEW v AS SELECT * FROM t`, as
/// notebooks begin) reads only the fields named elsewhere; one given to a function
/// (`struct(*)`), or beside a set operation that pairs columns by position, reads all.
pub fn fields_read(sql: &str, table_functions: &HashSet<String>) -> KeptFields {
    let text = spark::readable_string_literals(sql);
    let Ok(tokens) = Tokenizer::new(&spark::SparkDialect, &text).tokenize() else { return KeptFields::All };
    let tokens: Vec<Token> = tokens.into_iter().filter(|token| !matches!(token, Token::Whitespace(_))).collect();
    let mut names = HashSet::new();
    let mut view = ViewBody::default();
    for (i, token) in tokens.iter().enumerate() {
        let before = |back: usize| i.checked_sub(back).map(|j| &tokens[j]);
        if matches!(before(1), None | Some(Token::SemiColon)) {
            view = ViewBody::default();
            match view_head_length(&tokens[i..]) {
                Some(length) => view.ends_head_at = Some(i + length),
                None if matches!(token, Token::SemiColon | Token::LParen) || is_word(token, &["select", "with"]) => {}
                None => return KeptFields::All,
            }
        }
        if view.ends_head_at.is_some_and(|end| i < end) {
            continue;
        }
        let name = match token {
            Token::Mul if is_wildcard(before(1), tokens.get(i + 1), before(2)) => match view.ends_head_at {
                Some(_) if !matches!(before(1), Some(Token::LParen)) && !view.set_operation => {
                    view.wildcard = true;
                    continue;
                }
                _ => return KeptFields::All,
            },
            Token::Word(word) if view.ends_head_at.is_some() && is_word(token, SET_OPERATIONS) => {
                if view.wildcard {
                    return KeptFields::All;
                }
                view.set_operation = true;
                word.value.to_lowercase()
            }
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

/// What has been seen of the statement being read, when it defines a view.
#[derive(Default)]
struct ViewBody {
    /// The index of the token after `CREATE ... VIEW name AS`, when the statement defines a view.
    ends_head_at: Option<usize>,
    /// A `*` has selected columns in its query.
    wildcard: bool,
    /// Its query holds a set operation.
    set_operation: bool,
}

/// The number of tokens of `CREATE [OR REPLACE] [GLOBAL] [TEMP | TEMPORARY] VIEW [IF NOT
/// EXISTS] name AS` that `tokens` begin with, when they do. A view whose columns are
/// listed (`VIEW v (a, b) AS`) names them by position, so it is not one of these.
fn view_head_length(tokens: &[Token]) -> Option<usize> {
    let mut at = 0;
    let take = |at: &mut usize, words: &[&str]| {
        let taken = tokens.get(*at).is_some_and(|token| is_word(token, words));
        *at += usize::from(taken);
        taken
    };
    if !take(&mut at, &["create"]) || (take(&mut at, &["or"]) && !take(&mut at, &["replace"])) {
        return None;
    }
    take(&mut at, &["global"]);
    take(&mut at, &["temp", "temporary"]);
    if !take(&mut at, &["view"]) || (take(&mut at, &["if"]) && !(take(&mut at, &["not"]) && take(&mut at, &["exists"]))) {
        return None;
    }
    // The view's name, qualified or not.
    while matches!(tokens.get(at), Some(Token::Word(_))) {
        at += 1;
        if !matches!(tokens.get(at), Some(Token::Period)) {
            return take(&mut at, &["as"]).then_some(at);
        }
        at += 1;
    }
    None
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

/// The names of `state`'s table functions in lower case, as [`fields_read`] takes them.
pub(crate) fn table_function_names(state: &SessionState) -> HashSet<String> {
    state.table_functions().keys().map(|name| name.to_lowercase()).collect()
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
            "CREATE TABLE v AS SELECT a FROM t",
            "CREATE VIEW v (a) AS SELECT * FROM t",
            "CREATE VIEW v AS SELECT to_json(struct(*)) AS row FROM t",
            "CREATE VIEW v AS SELECT * FROM t UNION ALL SELECT a FROM u",
            "CREATE VIEW v AS SELECT a FROM t UNION SELECT * FROM u",
            "CREATE VIEW v AS SELECT * FROM t; SELECT * FROM v",
            "CREATE VIEW v AS SELECT * FROM t; DESCRIBE v",
            "SELECT 'unclosed",
        ] {
            assert_eq!(read(sql), None, "{sql}");
        }
    }

    #[test]
    fn a_view_of_every_column_reads_the_fields_later_statements_name() {
        for sql in [
            "CREATE OR REPLACE TEMP VIEW dataTable AS SELECT * FROM t; SELECT Hostname FROM dataTable",
            "CREATE GLOBAL TEMPORARY VIEW IF NOT EXISTS db.v AS SELECT x.*, 1 AS one FROM t x; SELECT Hostname FROM v",
            "CREATE VIEW v AS (SELECT DISTINCT * FROM t WHERE EventID = 1); SELECT count(*), Hostname FROM v GROUP BY 2",
        ] {
            let names = read(sql).unwrap_or_else(|| panic!("{sql}"));
            assert!(names.contains(&"hostname".to_string()) && !names.contains(&"*".to_string()), "{sql}: {names:?}");
        }
        assert!(read("CREATE VIEW v AS SELECT * FROM t; SELECT a FROM v UNION SELECT b FROM v").is_some());
    }
}
