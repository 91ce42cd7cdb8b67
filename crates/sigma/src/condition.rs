//! The `condition` of a Sigma detection: `and`, `or`, `not`, parentheses, search
//! identifiers, and `1 of`/`all of` a name pattern (`selection_*`) or `them`.

/// A parsed condition over the detection's search identifiers (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Search(usize),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    One,
    All,
    Name(String),
}

/// Parses `text` against the detection's search identifier `names`.
pub fn parse(text: &str, names: &[String]) -> Result<Condition, String> {
    if text.contains('|') {
        return Err("an aggregation (`| count() ...`) may only end a rule's single condition".into());
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0, names, depth: 0 };
    let condition = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(condition),
        Some(token) => Err(format!("unexpected {token:?} in condition `{text}`")),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(if c == '(' { Token::Open } else { Token::Close });
        } else if c.is_alphanumeric() || c == '_' || c == '*' || c == '-' || c == '.' {
            let mut word = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.')) {
                word.push(c);
                chars.next();
            }
            tokens.push(match word.to_ascii_lowercase().as_str() {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                "of" => Token::Of,
                "1" | "any" => Token::One,
                "all" => Token::All,
                _ => Token::Name(word),
            });
        } else {
            return Err(format!("unexpected character `{c}` in condition `{text}`"));
        }
    }
    Ok(tokens)
}

/// How deeply `not` and parentheses may nest: far beyond real rules, well within the stack.
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    names: &'a [String],
    /// Nesting of the term being parsed.
    depth: usize,
}

impl Parser<'_> {
    fn next_is(&mut self, token: &Token) -> bool {
        let found = self.tokens.get(self.at) == Some(token);
        if found {
            self.at += 1;
        }
        found
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.and()?];
        while self.next_is(&Token::Or) {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 { terms.pop().unwrap() } else { Condition::Or(terms) })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.not()?];
        while self.next_is(&Token::And) {
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 { terms.pop().unwrap() } else { Condition::And(terms) })
    }

    fn not(&mut self) -> Result<Condition, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("condition nests deeper than {MAX_DEPTH} levels"));
        }
        let term = if self.next_is(&Token::Not) { self.not().map(|c| Condition::Not(Box::new(c))) } else { self.primary() };
        self.depth -= 1;
        term
    }

    fn primary(&mut self) -> Result<Condition, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("condition ends too early")?;
        self.at += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                if !self.next_is(&Token::Close) {
                    return Err("missing `)` in condition".into());
                }
                Ok(inner)
            }
            Token::One | Token::All => {
                if !self.next_is(&Token::Of) {
                    return Err("expected `of` after `1`/`all`".into());
                }
                let Some(Token::Name(pattern)) = self.tokens.get(self.at).cloned() else {
                    return Err("expected a name pattern or `them` after `of`".into());
                };
                self.at += 1;
                let matched = self.matching(&pattern)?;
                let searches = matched.into_iter().map(Condition::Search).collect();
                Ok(if token == Token::All { Condition::And(searches) } else { Condition::Or(searches) })
            }
            Token::Name(name) => match self.names.iter().position(|n| *n == name) {
                Some(index) => Ok(Condition::Search(index)),
                None => Err(format!("condition names `{name}`, which the detection does not define")),
            },
            token => Err(format!("unexpected {token:?} in condition")),
        }
    }

    /// The searches a pattern names: `them` (all but those starting with `_`), or a name
    /// with `*` wildcards.
    fn matching(&self, pattern: &str) -> Result<Vec<usize>, String> {
        let indexes: Vec<usize> = if pattern == "them" {
            (0..self.names.len()).filter(|&i| !self.names[i].starts_with('_')).collect()
        } else {
            (0..self.names.len()).filter(|&i| glob_match(pattern, &self.names[i])).collect()
        };
        if indexes.is_empty() {
            return Err(format!("`{pattern}` matches no search identifier"));
        }
        Ok(indexes)
    }
}

/// `*` matches any run of characters; everything else matches itself. Linear in practice:
/// one backtrack point (the last `*`), no recursion, whatever the pattern.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        if pattern.get(p) == Some(&'*') {
            last_star = Some((p, n));
            p += 1;
        } else if pattern.get(p) == Some(&name[n]) {
            p += 1;
            n += 1;
        } else if let Some((star, from)) = last_star {
            // Let the last `*` take one more character and try again after it.
            last_star = Some((star, from + 1));
            p = star + 1;
            n = from + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let n = names(&["a", "b", "c"]);
        assert_eq!(
            parse("a or b and not c", &n).unwrap(),
            Condition::Or(vec![Condition::Search(0), Condition::And(vec![Condition::Search(1), Condition::Not(Box::new(Condition::Search(2)))])])
        );
        assert_eq!(parse("(a or b) and c", &n).unwrap(), Condition::And(vec![Condition::Or(vec![Condition::Search(0), Condition::Search(1)]), Condition::Search(2)]));
    }

    #[test]
    fn of_patterns() {
        let n = names(&["selection_img", "selection_cli", "filter_main_x", "filter_optional_y"]);
        assert_eq!(
            parse("all of selection_* and not 1 of filter_*", &n).unwrap(),
            Condition::And(vec![
                Condition::And(vec![Condition::Search(0), Condition::Search(1)]),
                Condition::Not(Box::new(Condition::Or(vec![Condition::Search(2), Condition::Search(3)]))),
            ])
        );
        assert_eq!(parse("1 of them", &n).unwrap(), Condition::Or((0..4).map(Condition::Search).collect()));
    }

    #[test]
    fn name_patterns_match_without_blowing_up() {
        for (pattern, name, expected) in [
            ("selection_*", "selection_img", true),
            ("*_img", "selection_img", true),
            ("sel*img", "selection_img", true),
            ("s*l*c*", "selection", true),
            ("selection_*", "selection", false),
            ("filter", "filter_main", false),
            ("", "", true),
            ("*", "", true),
        ] {
            assert_eq!(glob_match(pattern, name), expected, "{pattern} ~ {name}");
        }
        // Found by fuzzing: runs of stars that fail to match took exponential time, and a very
        // long run overflowed the stack.
        let stars = format!("{}I", "*".repeat(64));
        assert!(!glob_match(&stars, "selection_eid"));
        let long = format!("selection_eid{}", "*".repeat(200_000));
        assert!(glob_match(&long, "selection_eid"));
        assert!(parse(&format!("all of {stars}"), &names(&["selection_eid"])).unwrap_err().contains("matches no search identifier"));
    }

    #[test]
    fn errors_name_the_problem() {
        let n = names(&["selection"]);
        assert!(parse("selection and filter", &n).unwrap_err().contains("filter"));
        assert!(parse("selection | count() > 5", &n).unwrap_err().contains("aggregation"));
        assert!(parse("(selection", &n).unwrap_err().contains(")"));
        assert!(parse("1 of nothing*", &n).unwrap_err().contains("nothing*"));
        assert!(parse("", &n).is_err());
        assert!(parse("selection selection", &n).is_err());
        let deep = format!("{}selection{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep, &n).unwrap_err().contains("deeper"));
        assert!(parse(&format!("{}selection", "not ".repeat(100_000)), &n).unwrap_err().contains("deeper"));
        assert!(parse("not not (selection)", &n).is_ok());
    }
}
