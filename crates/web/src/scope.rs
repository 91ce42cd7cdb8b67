//! What a Discover request asks: a query, the quick filter over its result, and the time
//! range every table's events are held to.

use hela_serve::server::AppState;
use hela_sql::Session;
use serde::Deserialize;

use crate::answer::{Failure, columns};
use crate::filter;

/// The time range of a request: ISO 8601 times in UTC, either end open.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Range {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// The field every table's events are timed by.
pub const TIME_FIELD: &str = "@timestamp";

impl Range {
    /// A session of its own in which every table with a `@timestamp` holds only the rows
    /// within the range.
    pub async fn session(&self, state: &AppState) -> Result<Session, Failure> {
        let session = state.session.fork();
        if self.from.is_some() || self.to.is_some() {
            let from = self.from.as_deref().map(checked_time).transpose()?.unwrap_or_default();
            let to = self.to.as_deref().map(checked_time).transpose()?.unwrap_or_else(|| "~".into());
            crate::answer::within_limit(state, session.within(TIME_FIELD, &from, &to)).await?;
        }
        Ok(session)
    }
}

/// `text` if it is an RFC 3339 time, in the lake's form (UTC, milliseconds, `Z`).
fn checked_time(text: &str) -> Result<String, Failure> {
    let time = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| Failure::bad(format!("the time {text:?} is not RFC 3339: {e}")))?;
    Ok(hela_hunt::time_text(time.timestamp_millis()))
}

/// A query, its quick filter and its time range.
#[derive(Debug, Clone, Deserialize)]
pub struct Scope {
    pub sql: String,
    #[serde(default)]
    pub filter: String,
    #[serde(flatten)]
    pub range: Range,
}

/// A scope made ready: its session, and the SQL of the query with its filter applied.
pub struct Scoped {
    pub session: Session,
    pub sql: String,
    pub columns: Vec<String>,
}

impl Scope {
    /// Plans the query, reads the filter over its columns and writes the SQL of both.
    pub async fn prepare(&self, state: &AppState) -> Result<Scoped, Failure> {
        let session = self.range.session(state).await?;
        let sql = self.sql.trim().trim_end_matches(';').trim();
        if sql.is_empty() {
            return Err(Failure::bad("no SQL to run"));
        }
        let columns = columns(state, &session, sql).await?;
        let condition = filter::condition(&self.filter, &columns).map_err(|e| Failure::bad(e.to_string()))?;
        let sql = match condition {
            Some(condition) => format!("SELECT * FROM ({sql}) AS found WHERE {condition}"),
            None => sql.to_string(),
        };
        Ok(Scoped { session, sql, columns })
    }
}
