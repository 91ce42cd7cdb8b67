//! The XPath expressions hela reads, and their evaluation over a [`Document`].

use std::collections::HashSet;
use std::sync::Arc;

use super::document::{Document, Found, NodeKind};

/// The deepest an XPath expression may nest.
const MAX_DEPTH: usize = 32;

/// What an expression gives.
#[derive(Debug)]
pub enum Value {
    Nodes(Vec<Found>, Arc<Document>),
    Number(f64),
    Text(String),
    Boolean(bool),
}

impl Value {
    pub fn string(&self) -> String {
        match self {
            Value::Nodes(nodes, document) => nodes.first().map(|n| document.string_value(*n)).unwrap_or_default(),
            Value::Number(n) if n.fract() == 0.0 && n.is_finite() => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Text(text) => text.clone(),
            Value::Boolean(b) => b.to_string(),
        }
    }

    pub fn number(&self) -> f64 {
        match self {
            Value::Number(n) => *n,
            Value::Boolean(b) => f64::from(u8::from(*b)),
            other => other.string().trim().parse().unwrap_or(f64::NAN),
        }
    }

    pub fn boolean(&self) -> bool {
        match self {
            Value::Nodes(nodes, _) => !nodes.is_empty(),
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(text) => !text.is_empty(),
            Value::Boolean(b) => *b,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Test {
    Name(String),
    AnyElement,
    Text,
    AnyNode,
    Attribute(Option<String>),
    SelfNode,
    Parent,
}

#[derive(Debug, Clone)]
pub enum Predicate {
    Position(usize),
    /// `[@a='v']` (attribute) or `[a='v']` (child element's text); without a value, that it
    /// exists.
    Equals { attribute: bool, name: String, value: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Step {
    descendants: bool,
    test: Test,
    predicates: Vec<Predicate>,
}

#[derive(Debug, Clone)]
pub enum Expression {
    Path { absolute: bool, steps: Vec<Step> },
    Call(String, Vec<Expression>),
}

impl Expression {
    pub fn evaluate(&self, document: &Arc<Document>, context: usize) -> Result<Value, String> {
        match self {
            Expression::Path { absolute, steps } => {
                let mut current = vec![Found::Node(if *absolute { Document::ROOT } else { context })];
                for step in steps {
                    current = apply(document, &current, step);
                }
                Ok(Value::Nodes(current, document.clone()))
            }
            Expression::Call(function, arguments) => {
                let values = arguments.iter().map(|a| a.evaluate(document, context)).collect::<Result<Vec<_>, String>>()?;
                Ok(match (function.as_str(), values.as_slice()) {
                    ("count", [Value::Nodes(nodes, _)]) => Value::Number(nodes.len() as f64),
                    ("sum", [Value::Nodes(nodes, document)]) => Value::Number(nodes.iter().map(|n| document.string_value(*n).trim().parse::<f64>().unwrap_or(f64::NAN)).sum()),
                    ("string", [value]) => Value::Text(value.string()),
                    ("number", [value]) => Value::Number(value.number()),
                    ("boolean", [value]) => Value::Boolean(value.boolean()),
                    ("not", [value]) => Value::Boolean(!value.boolean()),
                    (other, _) => return Err(format!("the XPath function {other}() with these arguments is not supported by hela (count, sum, string, number, boolean and not are)")),
                })
            }
        }
    }
}

/// The nodes `step` selects from each of `from`, in document order, each once.
fn apply(document: &Document, from: &[Found], step: &Step) -> Vec<Found> {
    let starts: Vec<usize> = from.iter().filter_map(|f| if let Found::Node(n) = f { Some(*n) } else { None }).collect();
    let bases = if step.descendants { within(document, &starts) } else { starts };
    let mut out: Vec<Found> = Vec::new();
    let mut seen: HashSet<Found> = HashSet::new();
    for base in bases {
        let mut selected: Vec<Found> = match &step.test {
            Test::SelfNode => vec![Found::Node(base)],
            Test::Parent => (base != Document::ROOT).then(|| Found::Node(document.nodes[base].parent)).into_iter().collect(),
            Test::Attribute(name) => match &document.nodes[base].kind {
                NodeKind::Element { attributes, .. } => (0..attributes.len()).filter(|i| name.as_ref().is_none_or(|n| *n == attributes[*i].0)).map(|i| Found::Attribute(base, i)).collect(),
                _ => Vec::new(),
            },
            test => document.nodes[base]
                .children
                .iter()
                .filter(|c| match (test, &document.nodes[**c].kind) {
                    (Test::Name(name), NodeKind::Element { name: element, .. }) => element == name,
                    (Test::AnyElement, NodeKind::Element { .. }) => true,
                    (Test::Text, NodeKind::Text(_)) => true,
                    (Test::AnyNode, _) => true,
                    _ => false,
                })
                .map(|c| Found::Node(*c))
                .collect(),
        };
        for predicate in &step.predicates {
            selected = match predicate {
                Predicate::Position(position) => selected.get(position.wrapping_sub(1)).copied().into_iter().collect(),
                Predicate::Equals { attribute, name, value } => selected.into_iter().filter(|f| matches(document, *f, *attribute, name, value.as_deref())).collect(),
            };
        }
        for found in selected {
            if seen.insert(found) {
                out.push(found);
            }
        }
    }
    out
}

/// The nodes `starts` and every node inside them, each once, in document order: one walk
/// of the document, however the starts nest.
fn within(document: &Document, starts: &[usize]) -> Vec<usize> {
    let starts: HashSet<usize> = starts.iter().copied().collect();
    let mut out = Vec::new();
    let mut stack = vec![(Document::ROOT, false)];
    while let Some((node, inside)) = stack.pop() {
        let inside = inside || starts.contains(&node);
        if inside {
            out.push(node);
        }
        stack.extend(document.nodes[node].children.iter().rev().map(|c| (*c, inside)));
    }
    out
}

fn matches(document: &Document, found: Found, attribute: bool, name: &str, value: Option<&str>) -> bool {
    let Found::Node(node) = found else { return false };
    let candidates: Vec<String> = if attribute {
        match &document.nodes[node].kind {
            NodeKind::Element { attributes, .. } => attributes.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect(),
            _ => Vec::new(),
        }
    } else {
        document.nodes[node].children.iter().filter(|c| document.name_of(**c) == Some(name)).map(|c| document.string_value(Found::Node(*c))).collect()
    };
    match value {
        Some(value) => candidates.iter().any(|c| c == value),
        None => !candidates.is_empty(),
    }
}

/// A reader of the XPath expressions supported.
pub struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser { text, at: 0, depth: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        self.at = self.text.len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let length = self.rest().find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))).unwrap_or(self.rest().len());
        let name = &self.rest()[..length];
        (!name.is_empty() && !name.starts_with(['.', '-'])).then(|| {
            self.at += length;
            name
        })
    }

    fn quoted(&mut self) -> Result<String, String> {
        self.skip_spaces();
        let quote = self.rest().chars().next().filter(|c| matches!(c, '\'' | '"')).ok_or("expects a quoted value")?;
        let body = &self.rest()[1..];
        let end = body.find(quote).ok_or("has an unterminated string")?;
        let value = body[..end].to_string();
        self.at += end + 2;
        Ok(value)
    }

    pub fn expression(&mut self) -> Result<Expression, String> {
        let expression = self.expression_inner()?;
        self.skip_spaces();
        match self.rest().is_empty() {
            true => Ok(expression),
            false => Err(format!("has '{}' that hela's XPath does not read (location paths and count, sum, string, number, boolean, not)", self.rest())),
        }
    }

    fn expression_inner(&mut self) -> Result<Expression, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nests deeper than {MAX_DEPTH}"));
        }
        let start = self.at;
        if let Some(name) = self.name()
            && self.eat("(")
            && !matches!(name, "text" | "node")
        {
            let mut arguments = Vec::new();
            if !self.eat(")") {
                loop {
                    arguments.push(self.expression_inner()?);
                    if self.eat(")") {
                        break;
                    }
                    if !self.eat(",") {
                        return Err(format!("expects ',' or ')' in {name}()"));
                    }
                }
            }
            self.depth -= 1;
            return Ok(Expression::Call(name.to_string(), arguments));
        }
        self.at = start;
        let path = self.path();
        self.depth -= 1;
        path
    }

    fn path(&mut self) -> Result<Expression, String> {
        self.skip_spaces();
        let absolute = self.rest().starts_with('/');
        let mut steps = Vec::new();
        let mut descendants = false;
        if absolute {
            descendants = self.eat("//") || !self.eat("/");
        }
        loop {
            steps.push(self.step(descendants)?);
            if self.eat("//") {
                descendants = true;
            } else if self.eat("/") {
                descendants = false;
            } else {
                break;
            }
        }
        Ok(Expression::Path { absolute, steps })
    }

    fn step(&mut self, descendants: bool) -> Result<Step, String> {
        let test = if self.eat("..") {
            Test::Parent
        } else if self.eat(".") {
            Test::SelfNode
        } else if self.eat("@") {
            if self.eat("*") { Test::Attribute(None) } else { Test::Attribute(Some(self.name().ok_or("expects an attribute name after @")?.to_string())) }
        } else if self.eat("*") {
            Test::AnyElement
        } else {
            let name = self.name().ok_or_else(|| format!("expects a step at '{}'", self.rest()))?;
            match name {
                "text" | "node" => {
                    if !(self.eat("(") && self.eat(")")) {
                        return Err(format!("expects {name}()"));
                    }
                    if name == "text" { Test::Text } else { Test::AnyNode }
                }
                _ => Test::Name(name.to_string()),
            }
        };
        let mut predicates = Vec::new();
        while self.eat("[") {
            self.skip_spaces();
            let predicate = if let Some(digits) = self.rest().split(']').next().map(str::trim).filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) {
                let position = digits.parse().map_err(|_| "has a position too large".to_string())?;
                self.at += self.rest().find(']').unwrap_or(0);
                Predicate::Position(position)
            } else {
                let attribute = self.eat("@");
                let name = self.name().ok_or("expects a position, @name or name in a predicate")?.to_string();
                let value = if self.eat("=") { Some(self.quoted()?) } else { None };
                Predicate::Equals { attribute, name, value }
            };
            if !self.eat("]") {
                return Err("expects ']' to close a predicate".into());
            }
            predicates.push(predicate);
        }
        Ok(Step { descendants, test, predicates })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Parser, Value};
    use super::super::document::Document;

    fn evaluate(xml: &str, path: &str) -> Value {
        let document = Arc::new(Document::parse(xml).unwrap());
        Parser::new(path).expression().unwrap().evaluate(&document, Document::ROOT).unwrap()
    }

    #[test]
    fn reads_the_paths_event_xml_calls_for() {
        let event = r#"<Event><System><EventID>4624</EventID></System><EventData><Data Name="TargetUserName">bob &amp; co</Data><Data Name="LogonType">3</Data></EventData></Event>"#;
        assert_eq!(evaluate(event, "/Event/System/EventID").string(), "4624");
        assert_eq!(evaluate(event, "//Data[@Name='LogonType']").number(), 3.0);
        assert_eq!(evaluate(event, "Event/EventData/Data[1]/text()").string(), "bob & co");
        assert_eq!(evaluate(event, "count(//Data)").number(), 2.0);
        assert_eq!(evaluate(event, "//Data/@Name").string(), "TargetUserName");
        assert!(!evaluate(event, "//Missing").boolean());
        assert!(Document::parse("<a><b></a>").is_err());
        assert!(Parser::new("a[").expression().is_err());
        assert!(Parser::new("a | b").expression().is_err());
    }
}
