//! Elasticsearch's bulk format: newline-delimited JSON, an action line (`{"index":
//! {"_index": "winlogbeat", "_id": "x"}}`) followed, for `index` and `create`, by the
//! document's line. Reading it never panics and never allocates beyond the body.

use serde_json::{Map, Value};

/// What a bulk action asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Index,
    Create,
    Update,
    Delete,
}

impl Op {
    /// The action's name, as items of the response are keyed.
    pub fn name(self) -> &'static str {
        match self {
            Op::Index => "index",
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// One action of a bulk body.
#[derive(Debug, PartialEq)]
pub struct Action<'a> {
    pub op: Op,
    /// `_index` of the action line (the request path's index applies when absent).
    pub index: Option<String>,
    pub id: Option<String>,
    /// The 1-based line of the document (of the action line, for `delete`).
    pub line: u64,
    /// The document's line; none for `delete`.
    pub source: Option<&'a [u8]>,
}

/// Why a whole bulk body is refused, as Elasticsearch refuses it (status 400).
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct BulkError {
    pub line: u64,
    pub reason: String,
}

/// Reads every action of a bulk body. Blank lines between actions are passed over.
pub fn parse(body: &[u8]) -> Result<Vec<Action<'_>>, BulkError> {
    let mut lines = body.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).zip(1u64..).peekable();
    let mut actions = Vec::new();
    while let Some((line, number)) = lines.next() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let refuse = |reason: String| BulkError { line: number, reason };
        let value: Value = serde_json::from_slice(line).map_err(|e| refuse(format!("the action line is not JSON: {e}")))?;
        let Value::Object(action) = value else {
            return Err(refuse("the action line is not a JSON object".into()));
        };
        let mut entries = action.into_iter();
        let (name, meta) = match (entries.next(), entries.next()) {
            (Some(entry), None) => entry,
            _ => return Err(refuse("an action line names exactly one action: index, create, update or delete".into())),
        };
        let op = match name.as_str() {
            "index" => Op::Index,
            "create" => Op::Create,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => return Err(refuse(format!("unknown action [{other}]: expected index, create, update or delete"))),
        };
        let Value::Object(meta) = meta else {
            return Err(refuse(format!("the [{name}] action's metadata is not a JSON object")));
        };
        let index = text_field(&meta, "_index").map_err(&refuse)?;
        let id = text_field(&meta, "_id").map_err(&refuse)?;
        let (source, line) = match op {
            Op::Delete => (None, number),
            _ => match lines.next() {
                Some((source, line)) => (Some(source), line),
                None => return Err(refuse(format!("the [{name}] action has no document line after it"))),
            },
        };
        actions.push(Action { op, index, id, line, source });
    }
    Ok(actions)
}

/// A metadata field that must be text when given (`_id` may be a number, as
/// Elasticsearch accepts).
fn text_field(meta: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match meta.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(n)) if name == "_id" => Ok(Some(n.to_string())),
        Some(other) => Err(format!("[{name}] must be text, not {other}")),
    }
}

/// Why one document is refused: Elasticsearch's error type and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: &'static str,
    pub reason: String,
}

/// Fields of a document that Elasticsearch keeps for itself (the request names them).
const METADATA_FIELDS: &[&str] = &["_id", "_index", "_source", "_routing", "_version", "_seq_no"];

/// Checks one document: a JSON object of at most `max_bytes`, naming no key twice, without
/// metadata fields. It is read as the lake will read it when it is stored, so what is
/// accepted here is stored.
pub fn document(source: &[u8], max_bytes: usize) -> Result<(), Refusal> {
    let refuse = |reason: String| Refusal { kind: "document_parsing_exception", reason };
    if source.len() > max_bytes {
        return Err(refuse(format!("the document has {} bytes, more than the limit of {max_bytes} (--max-document-bytes)", source.len())));
    }
    match hela_schema::parse_value(source) {
        Ok(serde_json::Value::Object(document)) => match METADATA_FIELDS.iter().find(|field| document.contains_key(**field)) {
            None => Ok(()),
            Some(field) => {
                Err(refuse(format!("field [{field}] is a metadata field and cannot be added inside a document; use the request's parameters")))
            }
        },
        Ok(_) => Err(refuse("the document is not a JSON object".into())),
        Err(e) => Err(refuse(format!("failed to parse the document: {e}"))),
    }
}

/// Checks an index name as Elasticsearch does: lower case, no `\ / * ? " < > | , #` or
/// spaces, not starting with `-`, `_` or `+`, not `.` or `..`, at most 255 bytes.
pub fn check_index_name(name: &str) -> Result<(), Refusal> {
    let refuse = |why: &str| Err(Refusal { kind: "invalid_index_name_exception", reason: format!("Invalid index name [{name}], {why}") });
    if name.is_empty() {
        return refuse("must not be empty");
    }
    if name.len() > 255 {
        return refuse("index name is too long, (255 bytes at most)");
    }
    if name != name.to_lowercase() {
        return refuse("must be lowercase");
    }
    if let Some(c) = name.chars().find(|c| "\\/*?\"<>| ,#:".contains(*c)) {
        return refuse(&format!("must not contain [{c}]"));
    }
    if name.starts_with(['-', '_', '+']) {
        return refuse("must not start with '_', '-', or '+'");
    }
    if name == "." || name == ".." {
        return refuse("must not be '.' or '..'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_their_documents() {
        let body = b"{\"index\":{\"_index\":\"winlogbeat\",\"_id\":\"a\"}}\n{\"EventID\":1}\r\n\n{\"create\":{\"_id\":7}}\n{\"x\":2}\n{\"delete\":{\"_id\":\"a\"}}\n";
        let actions = parse(body).unwrap();
        assert_eq!(actions.len(), 3);
        assert_eq!(actions[0], Action { op: Op::Index, index: Some("winlogbeat".into()), id: Some("a".into()), line: 2, source: Some(b"{\"EventID\":1}") });
        assert_eq!((actions[1].op, actions[1].index.as_deref(), actions[1].id.as_deref(), actions[1].line), (Op::Create, None, Some("7"), 5));
        assert_eq!((actions[2].op, actions[2].source, actions[2].line), (Op::Delete, None, 6));
    }

    #[test]
    fn a_malformed_action_line_refuses_the_body_with_its_line() {
        let cases: [(&[u8], u64, &str); 5] = [
            (b"{\"index\":{}}\n{}\nnot json\n", 3, "not JSON"),
            (b"[1]\n", 1, "not a JSON object"),
            (b"{\"upsert\":{}}\n{}\n", 1, "unknown action [upsert]"),
            (b"{\"index\":{}}", 1, "no document line"),
            (b"{\"index\":{\"_index\":[1]}}\n{}\n", 1, "[_index] must be text"),
        ];
        for (body, line, reason) in cases {
            let err = parse(body).unwrap_err();
            assert_eq!(err.line, line, "{err}");
            assert!(err.reason.contains(reason), "{err}");
        }
    }

    #[test]
    fn documents_are_objects_within_the_limit_without_metadata_fields() {
        assert_eq!(document(br#"{"a": {"b": [1, "\u00e9", null]}, "c\"d": 2.5}"#, 100), Ok(()));
        let reason = |source: &[u8]| document(source, 10).unwrap_err().reason;
        assert!(reason(b"{\"a\":\"0123456789\"}").contains("more than the limit of 10"));
        assert!(reason(b"{\"a\":").contains("failed to parse"));
        assert!(reason(b"[1]").contains("not a JSON object"));
        assert!(reason(b"\"text\"").contains("not a JSON object"));
        assert!(reason(b"{} x").contains("failed to parse"), "trailing characters");
        assert!(reason(b"{\"a\":1,}").contains("failed to parse"));
        // What the lake would fail to read is refused here, not acknowledged.
        let reason = |source: &[u8]| document(source, 1000).unwrap_err().reason;
        assert!(reason(b"{\"a\":1e999}").contains("failed to parse"), "a number out of range");
        assert!(reason(b"{\"a\":\"\\ud800\"}").contains("failed to parse"), "a lone surrogate");
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(reason(deep.as_bytes()).contains("failed to parse"), "deeper than the lake reads");
        assert!(reason(b"{\"_id\":1}").contains("[_id] is a metadata field"));
        assert!(reason(b"{\"a\":{\"k\":1,\"k\":2}}").contains("the key `k` appears twice"), "Elasticsearch refuses duplicate fields too");
    }

    #[test]
    fn index_names_as_elasticsearch_allows_them() {
        assert!(check_index_name("logs-endpoint-winevent-sysmon-2020.09.21").is_ok());
        for bad in ["", "Upper", "a b", "a*", "_x", "..", &"x".repeat(256)] {
            assert!(check_index_name(bad).is_err(), "{bad}");
        }
    }
}
