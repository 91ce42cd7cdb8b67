//! Scheduled query rules, hela's own beside Sigma's (what ElastAlert's and Kibana's query
//! rules do): a YAML document with the usual metadata, a Spark SQL query (`sql`), how often
//! it runs (`every`) and over how much of the recent past (`lookback`). The server runs
//! them; here they are only read.

use std::path::Path;

use serde_yaml::Value;

use crate::correlation::timespan_ms;
use crate::rule::Meta;

/// A scheduled query rule.
#[derive(Debug, Clone)]
pub struct ScheduledQuery {
    pub meta: Meta,
    /// Spark SQL over the lake's tables, which it sees holding only the events of the
    /// lookback window.
    pub sql: String,
    /// Milliseconds between runs.
    pub every_ms: i64,
    /// How far back from each run's time the events it sees go, in milliseconds.
    pub lookback_ms: i64,
}

impl ScheduledQuery {
    /// The scheduled query of a YAML document with `sql`; the error says why it cannot be
    /// used.
    pub fn from_yaml(document: &Value, path: &Path) -> Result<ScheduledQuery, String> {
        let meta = Meta::from_yaml(document, path)?;
        let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let sql = text("sql").ok_or("`sql` is not a query")?.to_string();
        let every_ms = timespan_ms(text("every").ok_or("a scheduled query needs `every` (how often it runs: `1m`)")?)?;
        let lookback_ms = match text("lookback") {
            Some(span) => timespan_ms(span)?,
            None => every_ms,
        };
        if lookback_ms < every_ms {
            return Err(format!(
                "`lookback` ({}) is shorter than `every` ({}): events between runs would never be seen",
                text("lookback").unwrap_or_default(),
                text("every").unwrap_or_default()
            ));
        }
        Ok(ScheduledQuery { meta, sql, every_ms, lookback_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(yaml: &str) -> Result<ScheduledQuery, String> {
        ScheduledQuery::from_yaml(&serde_yaml::from_str(yaml).unwrap(), Path::new("q.yml"))
    }

    #[test]
    fn a_scheduled_query_reads_and_what_is_missing_is_named() {
        let q = query("title: t\nsql: SELECT 1\nevery: 1m\nlookback: 1h\n").unwrap();
        assert_eq!((q.sql.as_str(), q.every_ms, q.lookback_ms), ("SELECT 1", 60_000, 3_600_000));
        assert_eq!(query("title: t\nsql: SELECT 1\nevery: 5m\n").unwrap().lookback_ms, 300_000, "the lookback defaults to the interval");
        assert!(query("title: t\nsql: SELECT 1\n").unwrap_err().contains("needs `every`"));
        assert!(query("title: t\nsql: ''\nevery: 1m\n").unwrap_err().contains("not a query"));
        assert!(query("title: t\nsql: SELECT 1\nevery: 1h\nlookback: 1m\n").unwrap_err().contains("shorter than `every`"));
    }
}
