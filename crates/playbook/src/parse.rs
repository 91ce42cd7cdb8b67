//! A playbook is Markdown (THP / MyST style): prose, and fenced ```sql blocks run in order.
//!
//! A block's info string may add, after `sql`:
//! - `expect=hits`: the block must return at least one row (a scheduled check fails if not);
//! - `expect=none`: the block must return no rows;
//! - `chart=bar|line|hist|graph x=COLUMN [y=COLUMN]`: draw the result in the report;
//! - `title="..."`: the chart's title.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// What a block's result must be for the playbook to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// At least one row.
    Hits,
    /// No rows.
    Nothing,
}

/// The chart a block asks for, as written (checked when it is drawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    pub kind: String,
    pub x: Option<String>,
    pub y: Option<String>,
    pub title: Option<String>,
}

/// One ```sql block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The line of the opening fence, counted from 1.
    pub line: usize,
    /// The fence's info string (`sql expect=hits`), as written.
    pub info: String,
    pub sql: String,
    pub expect: Option<Expect>,
    pub chart: Option<ChartRequest>,
}

/// A piece of the playbook, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Markdown copied into the report as it is.
    Prose(String),
    Query(Block),
}

/// Splits a playbook into prose and SQL blocks. Fenced blocks in other languages stay prose.
/// An unknown or malformed option of a sql block is an error naming its line.
pub fn parse(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut prose_from = 0;
    let mut open: Option<(Range<usize>, String, String)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if is_sql(&info) => {
                open = Some((range, info.to_string(), String::new()));
            }
            Event::Text(code) => {
                if let Some((_, _, sql)) = open.as_mut() {
                    sql.push_str(&code);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((range, info, sql)) = open.take() else { continue };
                let line = text[..range.start].matches('\n').count() + 1;
                let (expect, chart) = options(&info).map_err(|e| format!("line {line}: {e}"))?;
                push_prose(&mut parts, &text[prose_from..range.start]);
                parts.push(Part::Query(Block { line, info, sql, expect, chart }));
                prose_from = range.end;
            }
            _ => {}
        }
    }
    push_prose(&mut parts, &text[prose_from..]);
    Ok(parts)
}

fn push_prose(parts: &mut Vec<Part>, text: &str) {
    if !text.trim().is_empty() {
        parts.push(Part::Prose(text.to_string()));
    }
}

/// `sql`, MyST's `{sql}`, or `{code-cell} sql`.
fn is_sql(info: &str) -> bool {
    let mut words = info.split_whitespace();
    match words.next() {
        Some("sql" | "{sql}") => true,
        Some("{code-cell}") => words.next() == Some("sql"),
        _ => false,
    }
}

fn options(info: &str) -> Result<(Option<Expect>, Option<ChartRequest>), String> {
    let mut expect = None;
    let mut chart: Option<ChartRequest> = None;
    let (mut x, mut y, mut title) = (None, None, None);
    for word in words(info).into_iter().skip_while(|w| w != "sql" && w != "{sql}").skip(1) {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!("sql block option `{word}` is not KEY=VALUE (expect=hits, chart=bar, x=..., y=..., title=...)"));
        };
        match key {
            "expect" => {
                expect = Some(match value {
                    "hits" => Expect::Hits,
                    "none" => Expect::Nothing,
                    other => return Err(format!("expect={other}: expect takes hits or none")),
                })
            }
            "chart" => chart = Some(ChartRequest { kind: value.to_string(), x: None, y: None, title: None }),
            "x" => x = Some(value.to_string()),
            "y" => y = Some(value.to_string()),
            "title" => title = Some(value.to_string()),
            other => return Err(format!("unknown sql block option `{other}`: the options are expect, chart, x, y, title")),
        }
    }
    if let Some(chart) = chart.as_mut() {
        (chart.x, chart.y, chart.title) = (x, y, title);
    } else if x.is_some() || y.is_some() || title.is_some() {
        return Err("x=, y= and title= describe a chart: add chart=bar, line or hist".into());
    }
    Ok((expect, chart))
}

/// Splits on spaces, keeping `"quoted text"` (after `=`) as one word without its quotes.
fn words(info: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in info.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAYBOOK: &str = "# Hunt\n\nProse with `code`.\n\n```sql expect=hits chart=bar x=Image y=n title=\"Images by count\"\nSELECT 1\n```\n\n```python\nprint(1)\n```\n\n```{code-cell} sql\nSELECT 2\n```\nEnd.\n";

    #[test]
    fn finds_sql_blocks_with_their_lines_and_options() {
        let parts = parse(PLAYBOOK).unwrap();
        let blocks: Vec<&Block> = parts.iter().filter_map(|p| if let Part::Query(b) = p { Some(b) } else { None }).collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!((blocks[0].line, blocks[0].sql.as_str(), blocks[0].expect), (5, "SELECT 1\n", Some(Expect::Hits)));
        let chart = blocks[0].chart.as_ref().unwrap();
        assert_eq!((chart.kind.as_str(), chart.x.as_deref(), chart.y.as_deref(), chart.title.as_deref()), ("bar", Some("Image"), Some("n"), Some("Images by count")));
        assert_eq!((blocks[1].line, blocks[1].sql.as_str(), blocks[1].expect), (13, "SELECT 2\n", None));
        let prose: String = parts.iter().filter_map(|p| if let Part::Prose(t) = p { Some(t.as_str()) } else { None }).collect();
        assert!(prose.contains("# Hunt") && prose.contains("```python\nprint(1)\n```") && prose.contains("End."), "{prose}");
    }

    #[test]
    fn bad_options_name_their_line() {
        assert_eq!(parse("a\n\n```sql expect=maybe\nSELECT 1\n```\n").unwrap_err(), "line 3: expect=maybe: expect takes hits or none");
        assert!(parse("```sql colour=red\nSELECT 1\n```").unwrap_err().starts_with("line 1: unknown sql block option `colour`"));
        assert!(parse("```sql x=a\nSELECT 1\n```").unwrap_err().contains("add chart=bar"));
    }
}
