//! Spark's `xpath` functions over XML text: `xpath` (the values of the nodes found),
//! `xpath_string`, `xpath_boolean`, and `xpath_number`/`_double`/`_float`/`_int`/`_long`/
//! `_short`. XML is read by quick-xml into a tree (at most [`MAX_NODES`] nodes); XPath 1.0 is
//! supported in the part event XML calls for: location paths (absolute, relative, `//`),
//! steps by name, `*`, `text()`, `node()`, `@name`, `@*`, `.` and `..`, position and
//! attribute-or-child-equals predicates (`[2]`, `[@Name='x']`, `[Name='x']`), and the
//! functions `count`, `sum`, `string`, `number`, `boolean` and `not`. Anything else is
//! refused with an error that says so.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanBuilder, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, ListBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};
use quick_xml::events::Event;

use super::args::{self, Kind};
use super::function::SparkFunction;

/// The most nodes one XML value may have.
pub const MAX_NODES: usize = 1 << 20;
/// The deepest an XPath expression may nest.
const MAX_DEPTH: usize = 32;

/// The functions of this module.
pub fn all() -> Vec<ScalarUDF> {
    let text2 = &[Kind::Text, Kind::Text];
    let mut all = vec![
        SparkFunction::new("xpath", text2, 2, DataType::new_list(DataType::Utf8, true), |name, call, rows| {
            let mut out = ListBuilder::new(StringBuilder::new());
            for value in evaluate_rows(name, call, rows)? {
                match value {
                    Some(Value::Nodes(nodes, document)) => out.append_value(nodes.iter().map(|n| document.node_value(*n))),
                    Some(_) => return exec_err!("{name}: the expression does not select nodes"),
                    None => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        SparkFunction::new("xpath_string", text2, 2, DataType::Utf8, |name, call, rows| {
            let mut out = StringBuilder::new();
            evaluate_rows(name, call, rows)?.into_iter().for_each(|v| out.append_option(v.map(|v| v.string())));
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        SparkFunction::new("xpath_boolean", text2, 2, DataType::Boolean, |name, call, rows| {
            let mut out = BooleanBuilder::new();
            evaluate_rows(name, call, rows)?.into_iter().for_each(|v| out.append_option(v.map(|v| v.boolean())));
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
    ];
    for (name, returns) in [("xpath_number", DataType::Float64), ("xpath_double", DataType::Float64), ("xpath_float", DataType::Float32), ("xpath_int", DataType::Int32), ("xpath_long", DataType::Int64), ("xpath_short", DataType::Int16)] {
        all.push(SparkFunction::new(name, text2, 2, returns, |name, call, rows| {
            let numbers: Vec<Option<f64>> = evaluate_rows(name, call, rows)?.into_iter().map(|v| v.map(|v| v.number())).collect();
            // Whole numbers as Java casts a double: NaN is 0, the rest truncated and saturated.
            Ok(match name {
                "xpath_float" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as f32)).collect::<Float32Array>()) as ArrayRef,
                "xpath_int" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i32)).collect::<Int32Array>()),
                "xpath_long" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i64)).collect::<Int64Array>()),
                "xpath_short" => Arc::new(numbers.into_iter().map(|n| n.map(|n| n as i32 as i16)).collect::<Int16Array>()),
                _ => Arc::new(numbers.into_iter().collect::<Float64Array>()),
            })
        }));
    }
    all.into_iter().map(ScalarUDF::from).collect()
}

/// Each row's XML evaluated with its expression (NULL where either is NULL).
fn evaluate_rows(name: &str, call: &[ColumnarValue], rows: usize) -> Result<Vec<Option<Value>>> {
    let (xml, paths) = (args::text(&call[0], rows)?, args::text(&call[1], rows)?);
    let mut compiled: Option<(String, Expression)> = None;
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if xml.is_null(row) || paths.is_null(row) {
            out.push(None);
            continue;
        }
        let path = paths.value(row);
        if compiled.as_ref().is_none_or(|(text, _)| text != path) {
            let expression = Parser::new(path).expression().map_err(|e| datafusion::common::DataFusionError::Execution(format!("{name}: the XPath '{path}' {e}")))?;
            compiled = Some((path.to_string(), expression));
        }
        let document = match Document::parse(xml.value(row)) {
            Ok(document) => Arc::new(document),
            Err(why) => return exec_err!("{name}: row {} is not XML: {why}", row + 1),
        };
        let expression = &compiled.as_ref().expect("compiled above").1;
        out.push(Some(expression.evaluate(&document, Document::ROOT)?));
    }
    Ok(out)
}

#[derive(Debug)]
enum NodeKind {
    Root,
    Element { name: String, attributes: Vec<(String, String)> },
    Text(String),
}

#[derive(Debug)]
struct Node {
    kind: NodeKind,
    parent: usize,
    children: Vec<usize>,
}

/// An XML document as a tree of nodes; attribute nodes are (element, index) pairs.
#[derive(Debug)]
struct Document {
    nodes: Vec<Node>,
}

/// A node found: an element or text node, or an element's attribute.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Found {
    Node(usize),
    Attribute(usize, usize),
}

impl Document {
    const ROOT: usize = 0;

    fn parse(xml: &str) -> Result<Document, String> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut nodes = vec![Node { kind: NodeKind::Root, parent: 0, children: Vec::new() }];
        let mut open = vec![Document::ROOT];
        let add = |nodes: &mut Vec<Node>, parent: usize, kind: NodeKind| -> Result<usize, String> {
            if nodes.len() >= MAX_NODES {
                return Err(format!("it has more than {MAX_NODES} nodes"));
            }
            nodes.push(Node { kind, parent, children: Vec::new() });
            let id = nodes.len() - 1;
            nodes[parent].children.push(id);
            Ok(id)
        };
        let text = |nodes: &mut Vec<Node>, parent: usize, value: &str| -> Result<(), String> {
            if let Some(&last) = nodes[parent].children.last()
                && let NodeKind::Text(existing) = &mut nodes[last].kind
            {
                existing.push_str(value);
                return Ok(());
            }
            add(nodes, parent, NodeKind::Text(value.to_string())).map(|_| ())
        };
        loop {
            let parent = *open.last().expect("the root stays open");
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Start(start) => {
                    let kind = element(&start)?;
                    open.push(add(&mut nodes, parent, kind)?);
                }
                Event::Empty(start) => {
                    let kind = element(&start)?;
                    add(&mut nodes, parent, kind)?;
                }
                Event::End(_) => {
                    if open.len() == 1 {
                        return Err("an end tag closes nothing".into());
                    }
                    open.pop();
                }
                Event::Text(t) => text(&mut nodes, parent, &t.decode().map_err(|e| e.to_string())?)?,
                Event::CData(t) => text(&mut nodes, parent, &t.decode().map_err(|e| e.to_string())?)?,
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = reference.decode().map_err(|e| e.to_string())?;
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(value) => value.to_string(),
                                None => return Err(format!("the entity &{name}; is not defined")),
                            }
                        }
                    };
                    text(&mut nodes, parent, &resolved)?;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if open.len() > 1 {
            return Err("an element is not closed".into());
        }
        if !nodes[Document::ROOT].children.iter().any(|c| matches!(nodes[*c].kind, NodeKind::Element { .. })) {
            return Err("it has no element".into());
        }
        Ok(Document { nodes })
    }

    /// XPath's string value: a text's or attribute's own, an element's every text inside.
    fn string_value(&self, found: Found) -> String {
        match found {
            Found::Attribute(element, index) => match &self.nodes[element].kind {
                NodeKind::Element { attributes, .. } => attributes[index].1.clone(),
                _ => String::new(),
            },
            Found::Node(id) => match &self.nodes[id].kind {
                NodeKind::Text(text) => text.clone(),
                _ => {
                    let mut out = String::new();
                    let mut stack = vec![id];
                    while let Some(node) = stack.pop() {
                        if let NodeKind::Text(text) = &self.nodes[node].kind {
                            out.push_str(text);
                        }
                        stack.extend(self.nodes[node].children.iter().rev());
                    }
                    out
                }
            },
        }
    }

    /// What Java's `Node.getNodeValue` gives: a text's or attribute's value; none for an element.
    fn node_value(&self, found: Found) -> Option<String> {
        match found {
            Found::Node(id) if !matches!(self.nodes[id].kind, NodeKind::Text(_)) => None,
            _ => Some(self.string_value(found)),
        }
    }

    fn name_of(&self, id: usize) -> Option<&str> {
        match &self.nodes[id].kind {
            NodeKind::Element { name, .. } => Some(name),
            _ => None,
        }
    }
}

fn element(start: &quick_xml::events::BytesStart) -> Result<NodeKind, String> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let value = attribute.unescape_value().map_err(|e| e.to_string())?.into_owned();
        attributes.push((String::from_utf8_lossy(attribute.key.as_ref()).into_owned(), value));
    }
    Ok(NodeKind::Element { name, attributes })
}

/// What an expression gives.
#[derive(Debug)]
enum Value {
    Nodes(Vec<Found>, Arc<Document>),
    Number(f64),
    Text(String),
    Boolean(bool),
}

impl Value {
    fn string(&self) -> String {
        match self {
            Value::Nodes(nodes, document) => nodes.first().map(|n| document.string_value(*n)).unwrap_or_default(),
            Value::Number(n) if n.fract() == 0.0 && n.is_finite() => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Text(text) => text.clone(),
            Value::Boolean(b) => b.to_string(),
        }
    }

    fn number(&self) -> f64 {
        match self {
            Value::Number(n) => *n,
            Value::Boolean(b) => f64::from(u8::from(*b)),
            other => other.string().trim().parse().unwrap_or(f64::NAN),
        }
    }

    fn boolean(&self) -> bool {
        match self {
            Value::Nodes(nodes, _) => !nodes.is_empty(),
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(text) => !text.is_empty(),
            Value::Boolean(b) => *b,
        }
    }
}

#[derive(Debug, Clone)]
enum Test {
    Name(String),
    AnyElement,
    Text,
    AnyNode,
    Attribute(Option<String>),
    SelfNode,
    Parent,
}

#[derive(Debug, Clone)]
enum Predicate {
    Position(usize),
    /// `[@a='v']` (attribute) or `[a='v']` (child element's text); without a value, that it
    /// exists.
    Equals { attribute: bool, name: String, value: Option<String> },
}

#[derive(Debug, Clone)]
struct Step {
    descendants: bool,
    test: Test,
    predicates: Vec<Predicate>,
}

#[derive(Debug, Clone)]
enum Expression {
    Path { absolute: bool, steps: Vec<Step> },
    Call(String, Vec<Expression>),
}

impl Expression {
    fn evaluate(&self, document: &Arc<Document>, context: usize) -> Result<Value> {
        match self {
            Expression::Path { absolute, steps } => {
                let mut current = vec![Found::Node(if *absolute { Document::ROOT } else { context })];
                for step in steps {
                    current = apply(document, &current, step);
                }
                Ok(Value::Nodes(current, document.clone()))
            }
            Expression::Call(function, arguments) => {
                let values = arguments.iter().map(|a| a.evaluate(document, context)).collect::<Result<Vec<_>>>()?;
                Ok(match (function.as_str(), values.as_slice()) {
                    ("count", [Value::Nodes(nodes, _)]) => Value::Number(nodes.len() as f64),
                    ("sum", [Value::Nodes(nodes, document)]) => Value::Number(nodes.iter().map(|n| document.string_value(*n).trim().parse::<f64>().unwrap_or(f64::NAN)).sum()),
                    ("string", [value]) => Value::Text(value.string()),
                    ("number", [value]) => Value::Number(value.number()),
                    ("boolean", [value]) => Value::Boolean(value.boolean()),
                    ("not", [value]) => Value::Boolean(!value.boolean()),
                    (other, _) => return exec_err!("the XPath function {other}() with these arguments is not supported by hela (count, sum, string, number, boolean and not are)"),
                })
            }
        }
    }
}

/// The nodes `step` selects from each of `from`, in document order, each once.
fn apply(document: &Document, from: &[Found], step: &Step) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for &found in from {
        let Found::Node(node) = found else { continue };
        let mut bases = vec![node];
        if step.descendants {
            let mut stack = vec![node];
            bases.clear();
            while let Some(n) = stack.pop() {
                bases.push(n);
                stack.extend(document.nodes[n].children.iter().rev());
            }
        }
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
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
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
struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
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

    fn expression(&mut self) -> Result<Expression, String> {
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

    use super::{Document, Parser, Value};

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
