//! The report of a playbook run: the playbook's prose, and after each SQL block its result
//! table, chart and verdict; as Markdown or as one self-contained HTML page.

use std::fmt::Write;
use std::path::Path;

use base64::Engine;

use crate::parse::Part;

/// Whether a block's expectation held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The block has no expectation (or did not run).
    #[default]
    None,
    Held(String),
    Unmet(String),
}

/// What one block returned.
#[derive(Debug, Default)]
pub struct Outcome {
    pub columns: Vec<String>,
    /// The first rows, as text.
    pub rows: Vec<Vec<String>>,
    pub total_rows: u64,
    pub millis: f64,
    /// The chart as SVG, or why it could not be drawn.
    pub chart: Option<Result<String, String>>,
    pub error: Option<String>,
    pub verdict: Verdict,
}

impl Outcome {
    /// One line: rows, time, and the verdict or error.
    pub fn summary(&self) -> String {
        if let Some(error) = &self.error {
            return format!("error: {error}");
        }
        let rows = format!("{} row{}, {:.0} ms", self.total_rows, if self.total_rows == 1 { "" } else { "s" }, self.millis);
        match &self.verdict {
            Verdict::None => rows,
            Verdict::Held(what) => format!("{rows}; {what}: held"),
            Verdict::Unmet(what) => format!("{rows}; NOT AS EXPECTED: {what}"),
        }
    }

    fn state(&self) -> State {
        match (&self.error, &self.verdict) {
            (Some(_), _) => State::Failed,
            (_, Verdict::Unmet(_)) => State::Unmet,
            (_, Verdict::Held(_)) => State::Held,
            _ => State::Plain,
        }
    }

    fn mark(&self) -> &'static str {
        match self.state() {
            State::Failed | State::Unmet => "✗",
            State::Held => "✓",
            State::Plain => "·",
        }
    }
}

/// How a block ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Failed,
    Unmet,
    Held,
    /// It ran and expected nothing.
    Plain,
}

impl State {
    /// The HTML class of its verdict line.
    fn class(self) -> &'static str {
        match self {
            State::Failed => "error",
            State::Unmet => "unmet",
            State::Held => "held",
            State::Plain => "plain",
        }
    }
}

/// Blocks whose expectation held, did not hold, and that failed.
pub struct Tally {
    pub held: usize,
    pub unmet: usize,
    pub failed: usize,
}

impl Tally {
    pub fn of(outcomes: &[Outcome]) -> Tally {
        let count = |state: State| outcomes.iter().filter(|o| o.state() == state).count();
        Tally { held: count(State::Held), unmet: count(State::Unmet), failed: count(State::Failed) }
    }
}

/// What the report says about the run as a whole.
pub struct Header<'a> {
    pub playbook: &'a str,
    pub lake: &'a Path,
    pub when: String,
}

impl Header<'_> {
    fn line(&self, outcomes: &[Outcome]) -> String {
        let Tally { held, unmet, failed } = Tally::of(outcomes);
        format!(
            "hela playbook run {} · {} · lake {} · {} blocks: {held} expectations held, {unmet} not, {failed} failed",
            self.playbook,
            self.when,
            self.lake.display(),
            outcomes.len()
        )
    }
}

/// The time now, in UTC, to the second.
pub fn now() -> String {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let date = hela_lake::partition::civil_date(days as i64);
    format!("{date} {:02}:{:02}:{:02} UTC", rest / 3600, rest / 60 % 60, rest % 60)
}

/// The report as Markdown; charts are SVG images inlined as data URLs.
pub fn markdown(header: &Header, parts: &[Part], outcomes: &[Outcome]) -> String {
    let mut out = format!("> {}\n\n", header.line(outcomes));
    let mut outcomes = outcomes.iter();
    for part in parts {
        match part {
            Part::Prose(text) => out.push_str(text),
            Part::Query(block) => {
                let Some(outcome) = outcomes.next() else { break };
                let _ = write!(out, "```{}\n{}```\n\n> {} {}\n\n", block.info, block.sql, outcome.mark(), outcome.summary());
                if !outcome.columns.is_empty() && outcome.error.is_none() {
                    out.push_str(&markdown_table(outcome));
                }
                match &outcome.chart {
                    Some(Ok(svg)) => {
                        let data = base64::engine::general_purpose::STANDARD.encode(svg);
                        let _ = write!(out, "![chart](data:image/svg+xml;base64,{data})\n\n");
                    }
                    Some(Err(error)) => {
                        let _ = write!(out, "> chart not drawn: {error}\n\n");
                    }
                    None => {}
                }
            }
        }
    }
    out
}

fn markdown_table(outcome: &Outcome) -> String {
    // Backslashes (Windows paths) are doubled so that `\?` or `\*` stay as written.
    let escape = |cell: &str| cell.replace('\\', "\\\\").replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", outcome.columns.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(outcome.columns.len()));
    for row in &outcome.rows {
        let _ = writeln!(out, "| {} |", row.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | "));
    }
    let more = outcome.total_rows.saturating_sub(outcome.rows.len() as u64);
    if more > 0 {
        let _ = writeln!(out, "\n… {more} more rows");
    }
    out.push('\n');
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}\
pre{background:#f4f4f4;padding:.6rem;overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}\
td,th{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}th{background:#eee}\
.result{overflow-x:auto}.status{font-weight:600}.held{color:#176f2c}.unmet,.error{color:#b00020}.run{color:#555;font-size:.9rem}";

/// The report as one HTML page: prose rendered from Markdown, tables, charts inline.
pub fn html(header: &Header, parts: &[Part], outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<p class=\"run\">{}</p>\n",
        escape_html(header.playbook),
        escape_html(&header.line(outcomes))
    );
    let mut outcomes = outcomes.iter();
    for part in parts {
        match part {
            Part::Prose(text) => pulldown_cmark::html::push_html(&mut out, pulldown_cmark::Parser::new(text)),
            Part::Query(block) => {
                let Some(outcome) = outcomes.next() else { break };
                let class = outcome.state().class();
                let _ = write!(
                    out,
                    "<pre><code class=\"language-sql\">{}</code></pre>\n<p class=\"status {class}\">{} {}</p>\n",
                    escape_html(&block.sql),
                    outcome.mark(),
                    escape_html(&outcome.summary())
                );
                if !outcome.columns.is_empty() && outcome.error.is_none() {
                    out.push_str(&html_table(outcome));
                }
                match &outcome.chart {
                    Some(Ok(svg)) => out.push_str(svg),
                    Some(Err(error)) => {
                        let _ = writeln!(out, "<p class=\"error\">chart not drawn: {}</p>", escape_html(error));
                    }
                    None => {}
                }
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn html_table(outcome: &Outcome) -> String {
    let mut out = String::from("<div class=\"result\"><table><tr>");
    for column in &outcome.columns {
        let _ = write!(out, "<th>{}</th>", escape_html(column));
    }
    out.push_str("</tr>\n");
    for row in &outcome.rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape_html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    let more = outcome.total_rows.saturating_sub(outcome.rows.len() as u64);
    if more > 0 {
        let _ = writeln!(out, "<p>… {more} more rows</p>");
    }
    out
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_cells_and_sql() {
        assert_eq!(escape_html("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }
}
