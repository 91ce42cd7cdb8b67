//! XML text as a tree of nodes (at most [`MAX_NODES`], nested at most [`MAX_DEPTH`] deep),
//! read by quick-xml: elements with their attributes, and text (character data, CDATA and
//! entities joined).

use quick_xml::events::Event;

/// The most nodes one XML value may have.
pub const MAX_NODES: usize = 1 << 20;
/// The deepest elements may nest (so that every node's text is read in bounded time).
pub const MAX_DEPTH: usize = 256;

#[derive(Debug)]
pub enum NodeKind {
    Root,
    Element { name: String, attributes: Vec<(String, String)> },
    Text(String),
}

#[derive(Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub parent: usize,
    pub children: Vec<usize>,
}

/// An XML document as a tree of nodes; attribute nodes are (element, index) pairs.
#[derive(Debug)]
pub struct Document {
    pub nodes: Vec<Node>,
}

/// A node found: an element or text node, or an element's attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Found {
    Node(usize),
    Attribute(usize, usize),
}

impl Document {
    pub const ROOT: usize = 0;

    pub fn parse(xml: &str) -> Result<Document, String> {
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
                    if open.len() > MAX_DEPTH {
                        return Err(format!("its elements nest deeper than {MAX_DEPTH}"));
                    }
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
    pub fn string_value(&self, found: Found) -> String {
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
    pub fn node_value(&self, found: Found) -> Option<String> {
        match found {
            Found::Node(id) if !matches!(self.nodes[id].kind, NodeKind::Text(_)) => None,
            _ => Some(self.string_value(found)),
        }
    }

    pub fn name_of(&self, id: usize) -> Option<&str> {
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
