//! The server's counters, served on `/metrics` in Prometheus' text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hela_live::sinks::Latencies;

/// Counts and total seconds of something timed (Prometheus' summary without quantiles).
#[derive(Debug, Default)]
pub struct Timing {
    count: AtomicU64,
    micros: AtomicU64,
}

impl Timing {
    pub fn record(&self, took: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Everything `/metrics` reports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Documents acknowledged to bulk and document requests (logged durably).
    pub documents_acknowledged: AtomicU64,
    /// Documents refused (each answered with its error and quarantined).
    pub documents_refused: AtomicU64,
    /// Documents sent again with an id already stored, not stored twice.
    pub documents_duplicate: AtomicU64,
    /// Documents and bytes of them folded into the lake.
    pub documents_stored: AtomicU64,
    pub documents_quarantined: AtomicU64,
    pub bytes_stored: AtomicU64,
    /// Bytes of documents acknowledged and not yet in the lake.
    pub pending_bytes: AtomicU64,
    /// Bytes of the write-ahead log on disk.
    pub wal_bytes: AtomicU64,
    pub commits: Timing,
    pub queries: Timing,
    pub query_errors: AtomicU64,
    /// Detections of the standing rules, committed to the lake.
    pub detections: AtomicU64,
    /// Requests refused: unauthenticated, forbidden, too large, or too many.
    pub requests_rejected: AtomicU64,
    pub requests: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
            let _ = writeln!(out, "# HELP hela_{name} {help}\n# TYPE hela_{name} {kind}\nhela_{name} {value}");
        };
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed) as f64;
        metric("requests_total", "counter", "HTTP requests served.", get(&self.requests));
        metric("requests_rejected_total", "counter", "Requests refused: unauthenticated, forbidden, too large or too many.", get(&self.requests_rejected));
        metric("documents_acknowledged_total", "counter", "Documents acknowledged, durable in the write-ahead log.", get(&self.documents_acknowledged));
        metric("documents_refused_total", "counter", "Documents refused with an error item and quarantined.", get(&self.documents_refused));
        metric("documents_duplicate_total", "counter", "Documents sent again with an id already stored.", get(&self.documents_duplicate));
        metric("documents_stored_total", "counter", "Documents folded into the lake.", get(&self.documents_stored));
        metric("documents_quarantined_total", "counter", "Refused documents written to the lake's quarantine.", get(&self.documents_quarantined));
        metric("bytes_stored_total", "counter", "Bytes of JSON documents folded into the lake.", get(&self.bytes_stored));
        metric("wal_lag_bytes", "gauge", "Bytes of documents acknowledged and not yet in the lake.", get(&self.pending_bytes));
        metric("detections_total", "counter", "Detections of the standing rules committed to the lake.", get(&self.detections));
        metric("wal_bytes", "gauge", "Bytes of the write-ahead log on disk.", get(&self.wal_bytes));
        let mut timing = |name: &str, help: &str, timing: &Timing| {
            let (count, seconds) = (get(&timing.count), get(&timing.micros) / 1e6);
            let _ = writeln!(out, "# HELP hela_{name}_seconds {help}\n# TYPE hela_{name}_seconds summary");
            let _ = writeln!(out, "hela_{name}_seconds_sum {seconds}\nhela_{name}_seconds_count {count}");
        };
        timing("commit", "Time to fold documents into the lake, per commit.", &self.commits);
        timing("query", "Time to answer an SQL request.", &self.queries);
        let _ = writeln!(
            out,
            "# HELP hela_query_errors_total SQL requests that failed.\n# TYPE hela_query_errors_total counter\nhela_query_errors_total {}",
            get(&self.query_errors)
        );
        out
    }
}

/// Each sink's alerts delivered and the quantiles of their latency, from the arrival of the
/// oldest event of their batch to their delivery.
pub fn render_sinks(sinks: &[(String, Arc<Latencies>)]) -> String {
    let mut out = String::new();
    if sinks.is_empty() {
        return out;
    }
    let label = |name: &str| name.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(out, "# HELP hela_alerts_delivered_total Alerts delivered, by sink.\n# TYPE hela_alerts_delivered_total counter");
    for (name, latencies) in sinks {
        let _ = writeln!(out, "hela_alerts_delivered_total{{sink=\"{}\"}} {}", label(name), latencies.delivered());
    }
    let _ = writeln!(
        out,
        "# HELP hela_alert_latency_seconds From the arrival of an alert's event to its delivery, by sink.\n# TYPE hela_alert_latency_seconds summary"
    );
    for (name, latencies) in sinks {
        for q in [0.5, 0.99] {
            if let Some(took) = latencies.quantile(q) {
                let _ = writeln!(out, "hela_alert_latency_seconds{{sink=\"{}\",quantile=\"{q}\"}} {}", label(name), took.as_secs_f64());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let metrics = Metrics::default();
        metrics.documents_acknowledged.fetch_add(3, Ordering::Relaxed);
        metrics.commits.record(Duration::from_millis(250));
        let text = metrics.render();
        assert!(text.contains("# TYPE hela_documents_acknowledged_total counter\nhela_documents_acknowledged_total 3\n"), "{text}");
        assert!(text.contains("hela_commit_seconds_sum 0.25\nhela_commit_seconds_count 1\n"), "{text}");
    }
}
