//! The motif language of GraphFrames, read into terms and checked by its rules.
//!
//! A motif is terms joined by `;`. A term is a vertex `(a)`, an edge `(a)-[e]->(b)`, or a
//! negated edge `!(a)-[]->(b)`. Names (letters, digits, `_`) may be left out: `()` and `[]`
//! are anonymous and give no column. A vertex name used again means the same vertex.

use std::fmt;

/// A vertex of a term: named, or anonymous `()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vertex {
    /// `(name)`.
    Named(String),
    /// `()`.
    Anonymous,
}

/// One term of a motif.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `(a)`: a vertex on its own.
    Vertex(String),
    /// `(a)-[e]->(b)`, `(a)-[]->(b)`, or, negated, `!(a)-[]->(b)`.
    Edge { name: Option<String>, src: Vertex, dst: Vertex, negated: bool },
}

/// A named element of a motif, which becomes a column of the matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A vertex, whose column holds the vertex's row.
    Vertex(String),
    /// An edge, whose column holds the edge's row.
    Edge(String),
}

impl Element {
    /// The element's name, which is its column's.
    pub fn name(&self) -> &str {
        match self {
            Element::Vertex(name) | Element::Edge(name) => name,
        }
    }
}

/// A motif read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motif {
    /// The terms in order, with any vertex named only in negated terms first, as a vertex
    /// term of its own (in name order), as GraphFrames does.
    pub terms: Vec<Term>,
    /// The named elements in the order they first appear (an edge's source, the edge, its
    /// destination): the columns of the matches.
    pub elements: Vec<Element>,
}

/// Why a motif cannot be used: where in the text, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The character position the problem was found at.
    pub at: usize,
    /// What is wrong, and what is allowed.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "motif pattern, at character {}: {}", self.at + 1, self.message)
    }
}

impl std::error::Error for PatternError {}

/// The longest pattern read, in characters.
const MAX_PATTERN: usize = 10_000;

impl Motif {
    /// Reads `text` as GraphFrames does and checks its rules: no term of anonymous elements
    /// only (`()-[]->()`, a lone `()`), no named edge in a negated term, no name for both a
    /// vertex and an edge, no edge name twice.
    pub fn parse(text: &str) -> Result<Motif, PatternError> {
        if text.chars().count() > MAX_PATTERN {
            return Err(PatternError { at: 0, message: format!("the pattern is longer than {MAX_PATTERN} characters") });
        }
        let mut reader = Reader { chars: text.chars().collect(), at: 0 };
        let mut terms = Vec::new();
        loop {
            reader.blank();
            let start = reader.at;
            terms.push((start, reader.term()?));
            reader.blank();
            if reader.done() {
                break;
            }
            reader.expect(';', "`;` between terms")?;
        }
        check(terms)
    }
}

struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn done(&self) -> bool {
        self.at == self.chars.len()
    }

    fn blank(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, PatternError> {
        Err(PatternError { at: self.at, message: message.into() })
    }

    fn eat(&mut self, text: &str) -> bool {
        self.blank();
        let wanted: Vec<char> = text.chars().collect();
        if self.chars[self.at..].starts_with(&wanted) {
            self.at += wanted.len();
            return true;
        }
        false
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), PatternError> {
        if self.eat(&c.to_string()) {
            return Ok(());
        }
        match self.chars.get(self.at) {
            Some(found) => self.error(format!("expected {what}, found `{found}`")),
            None => self.error(format!("expected {what}, found the end of the pattern")),
        }
    }

    fn name(&mut self) -> Option<String> {
        self.blank();
        let start = self.at;
        while self.chars.get(self.at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
            self.at += 1;
        }
        (self.at > start).then(|| self.chars[start..self.at].iter().collect())
    }

    fn vertex(&mut self) -> Result<Vertex, PatternError> {
        self.expect('(', "a vertex `(name)` or `()`")?;
        let name = self.name();
        self.expect(')', "`)` closing the vertex (names are letters, digits and `_`)")?;
        Ok(name.map_or(Vertex::Anonymous, Vertex::Named))
    }

    fn term(&mut self) -> Result<Term, PatternError> {
        let negated = self.eat("!");
        let src = self.vertex()?;
        self.blank();
        if self.done() || self.chars[self.at] == ';' {
            if negated {
                return self.error("a negated term must be an edge `!(a)-[]->(b)`: a vertex cannot be negated");
            }
            return match src {
                Vertex::Named(name) => Ok(Term::Vertex(name)),
                Vertex::Anonymous => self.error("a lone anonymous vertex `()` matches any vertex: name it, or drop the term"),
            };
        }
        if self.eat("<-") {
            return self.error("edges point forward only: write `(b)-[e]->(a)` for `(a)<-[e]-(b)`");
        }
        self.expect('-', "`-[name]->` after a vertex, or `;`")?;
        self.expect('[', "`[` opening the edge")?;
        let name = self.name();
        if self.eat("*") {
            return self.error("edges of variable length (`[e*1..3]`) are not supported: write each hop as a term");
        }
        self.expect(']', "`]` closing the edge (names are letters, digits and `_`)")?;
        if !self.eat("->") {
            if self.eat("-") {
                return self.error("undirected edges (`-[e]-`) are not supported: write both directions as two motifs");
            }
            return self.error("expected `->` after the edge");
        }
        let dst = self.vertex()?;
        Ok(Term::Edge { name, src, dst, negated })
    }
}

fn reject<T>(at: usize, message: String) -> Result<T, PatternError> {
    Err(PatternError { at, message })
}

/// The names a motif has given so far.
#[derive(Default)]
struct Names {
    vertices: Vec<String>,
    edges: Vec<String>,
    elements: Vec<Element>,
    positive: Vec<String>,
    negated: Vec<String>,
}

impl Names {
    fn vertex(&mut self, at: usize, v: &Vertex, negated: bool) -> Result<(), PatternError> {
        let Vertex::Named(name) = v else { return Ok(()) };
        if self.edges.contains(name) {
            return reject(at, format!("the name `{name}` is used for both a vertex and an edge"));
        }
        if !self.vertices.contains(name) {
            self.vertices.push(name.clone());
            self.elements.push(Element::Vertex(name.clone()));
        }
        if negated { &mut self.negated } else { &mut self.positive }.push(name.clone());
        Ok(())
    }

    fn edge(&mut self, at: usize, name: &str) -> Result<(), PatternError> {
        if self.vertices.iter().any(|v| v == name) {
            return reject(at, format!("the name `{name}` is used for both a vertex and an edge"));
        }
        if self.edges.iter().any(|e| e == name) {
            return reject(at, format!("the edge name `{name}` is used twice: each named edge is a different edge"));
        }
        self.edges.push(name.to_string());
        self.elements.push(Element::Edge(name.to_string()));
        Ok(())
    }
}

/// Applies GraphFrames' rules to the terms read and orders the named elements.
fn check(terms: Vec<(usize, Term)>) -> Result<Motif, PatternError> {
    let mut names = Names::default();
    for (at, term) in &terms {
        match term {
            Term::Vertex(name) => names.vertex(*at, &Vertex::Named(name.clone()), false)?,
            Term::Edge { name, src, dst, negated } => {
                if name.is_none() && *src == Vertex::Anonymous && *dst == Vertex::Anonymous {
                    return reject(*at, "a term of anonymous elements only (`()-[]->()`) is not allowed: name an element".into());
                }
                if let (Some(name), true) = (name, *negated) {
                    return reject(*at, format!("a negated edge cannot be named (`[{name}]`): it never appears in a match; write `[]`"));
                }
                names.vertex(*at, src, *negated)?;
                if let Some(name) = name {
                    names.edge(*at, name)?;
                }
                names.vertex(*at, dst, *negated)?;
            }
        }
    }
    let mut only_negated: Vec<String> = names.negated.into_iter().filter(|v| !names.positive.contains(v)).collect();
    only_negated.sort();
    only_negated.dedup();
    let terms = only_negated.into_iter().map(Term::Vertex).chain(terms.into_iter().map(|(_, term)| term)).collect();
    Ok(Motif { terms, elements: names.elements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(motif: &Motif) -> Vec<&str> {
        motif.elements.iter().map(Element::name).collect()
    }

    #[test]
    fn elements_come_in_order_of_first_appearance() {
        let motif = Motif::parse(" (a)-[e]->(b) ; (b)-[e2]->(c);!(c)-[]->(a)").unwrap();
        assert_eq!(names(&motif), ["a", "e", "b", "e2", "c"]);
        assert_eq!(motif.terms.len(), 3);
        assert_eq!(motif.terms[2], Term::Edge { name: None, src: Vertex::Named("c".into()), dst: Vertex::Named("a".into()), negated: true });
    }

    #[test]
    fn vertices_named_only_in_negations_come_first() {
        let motif = Motif::parse("(a)-[]->(b); !(b)-[]->(z); !(y)-[]->(a)").unwrap();
        assert_eq!(motif.terms[..2], [Term::Vertex("y".into()), Term::Vertex("z".into())]);
        assert_eq!(names(&motif), ["a", "b", "z", "y"]);
    }

    #[test]
    fn the_rules_of_graphframes_are_enforced() {
        for (pattern, said) in [
            ("()-[]->()", "anonymous elements only"),
            ("!()-[]->()", "anonymous elements only"),
            ("()", "lone anonymous vertex"),
            ("!(a)-[e]->(b)", "cannot be named"),
            ("(a)-[a]->(b)", "both a vertex and an edge"),
            ("(a)-[e]->(b); (b)-[e]->(c)", "used twice"),
            ("!(a)", "cannot be negated"),
            ("(a)-[e]-(b)", "undirected"),
            ("(a)<-[e]-(b)", "forward only"),
            ("(a)-[e*1..3]->(b)", "variable length"),
            ("(a)-[e]->(b) (c)", "`;` between terms"),
            ("(a)-[e]->", "found the end"),
            ("(a b)", "`)` closing"),
            ("", "a vertex"),
        ] {
            let error = Motif::parse(pattern).unwrap_err();
            assert!(error.to_string().contains(said), "{pattern}: {error}");
        }
    }
}
