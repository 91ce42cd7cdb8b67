//! Correlations over the detections of a hunt or of the server, in event time. Detections
//! of the rules correlations read are queued and run through the correlations' windows in
//! order of their events' time (a lake is read partition by partition, not in time
//! order); those raised on their own go on at once. A correlation's detection carries its
//! group, the value it measured and the newest detections behind it.

use std::io::{Read, Write};

use hela_sigma::correlation::Observed;
use hela_sigma::{Correlator, Engine, Fired};

use crate::detection::{Correlated, Detection, EventRef};

/// The most detections queued for the correlations; when full, the older half is run (so
/// events more out of order than this are seen late).
pub const QUEUE: usize = 1 << 20;

/// Fields naming an event's host, in order, for a correlation's detection.
const HOST_FIELDS: [&str; 3] = ["Hostname", "Computer", "computer_name"];

/// The correlations of an engine and their open windows.
pub struct Correlations {
    correlator: Correlator<EventRef>,
    queue: Vec<Queued>,
    arrivals: u64,
    /// Detections of correlated rules whose events have no time that could be read.
    untimed: u64,
}

/// A detection waiting to be run through the correlations.
struct Queued {
    time: i64,
    arrival: u64,
    rule: usize,
    fields: Vec<(String, String)>,
    event: EventRef,
}

impl Correlations {
    /// The correlations of `engine`; none when it has none.
    pub fn new(engine: &Engine) -> Option<Correlations> {
        if engine.correlations().is_empty() {
            return None;
        }
        Some(Correlations { correlator: Correlator::new(engine.correlations()), queue: Vec::new(), arrivals: 0, untimed: 0 })
    }

    /// Queues the detections correlations read and returns those raised on their own.
    pub fn take(&mut self, detections: Vec<Detection>, engine: &Engine) -> Vec<Detection> {
        let mut own = Vec::with_capacity(detections.len());
        for detection in detections {
            if self.correlator.reads(detection.rule) {
                match detection.timestamp.as_deref().and_then(event_time) {
                    Some(time) => {
                        self.arrivals += 1;
                        self.queue.push(Queued {
                            time,
                            arrival: self.arrivals,
                            rule: detection.rule,
                            fields: detection.fields.clone(),
                            event: EventRef::of(&detection),
                        });
                    }
                    None => self.untimed += 1,
                }
            }
            if engine.standalone(detection.rule) {
                own.push(detection);
            }
        }
        own
    }

    /// How many detections wait to be run through the correlations.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue is full and should be run.
    pub fn full(&self) -> bool {
        self.queue.len() >= QUEUE
    }

    /// Runs the queued detections through the correlations in event time (all of them
    /// when `everything`, else the older half) and returns the correlations' detections.
    pub fn run(&mut self, engine: &Engine, everything: bool) -> Vec<Detection> {
        self.queue.sort_unstable_by_key(|q| (q.time, q.arrival));
        let count = if everything { self.queue.len() } else { self.queue.len() / 2 };
        let mut out = Vec::new();
        for queued in self.queue.drain(..count) {
            let field = |name: &str| field_value(&queued.fields, name);
            for fired in self.correlator.observe(queued.rule, queued.time, &field, queued.event) {
                if engine.correlations()[fired.correlation].standalone {
                    out.push(detection(fired, engine));
                }
            }
        }
        out
    }

    /// What could not be correlated as it should, for a warning; empty when nothing.
    pub fn notes(&self) -> Vec<String> {
        let Observed { late, dropped, groups_dropped } = self.correlator.observed();
        let mut notes = Vec::new();
        if self.untimed > 0 {
            notes.push(format!(
                "{} detections read by correlations have no event time (@timestamp, timestamp, EventTime or TimeCreated) and were not correlated",
                self.untimed
            ));
        }
        if late > 0 {
            notes.push(format!("{late} detections arrived after their correlation window had passed and were not counted"));
        }
        if dropped > 0 {
            notes.push(format!("{dropped} detections were dropped from correlation windows holding their most detections"));
        }
        if groups_dropped > 0 {
            notes.push(format!("{groups_dropped} open correlation groups were dropped to bound memory"));
        }
        notes
    }

    /// Writes the open windows (see [`Correlator::save`]).
    pub fn save(&self, out: impl Write) -> serde_json::Result<()> {
        self.correlator.save(out)
    }

    /// Reads back windows saved before; returns how many groups were restored.
    pub fn restore(&mut self, input: impl Read) -> serde_json::Result<usize> {
        self.correlator.restore(input)
    }
}

/// A field's value among a detection's fields (exact name, else ignoring case).
fn field_value(fields: &[(String, String)], name: &str) -> Option<String> {
    let found = fields.iter().find(|(n, _)| n == name).or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
    found.map(|(_, v)| v.clone())
}

/// A correlation that fired, as a detection.
fn detection(fired: Fired<EventRef>, engine: &Engine) -> Detection {
    let group_host = HOST_FIELDS.iter().find_map(|h| fired.group.iter().find(|(k, _)| k == h).and_then(|(_, v)| v.clone()));
    let host = group_host.or_else(|| fired.evidence.last().and_then(|e| e.host.clone()));
    Detection {
        rule: engine.correlation_index(fired.correlation),
        timestamp: Some(time_text(fired.time)),
        host,
        channel: None,
        event_id: None,
        record_id: None,
        fields: fired.group.iter().filter_map(|(k, v)| Some((k.clone(), v.clone()?))).collect(),
        source: None,
        source_id: None,
        event: None,
        correlation: Some(Correlated { group: fired.group, value: fired.value, events: fired.evidence }),
    }
}

/// An event's time in milliseconds since 1970: RFC 3339 (`T` or a space between date and
/// time), a time without a zone (taken as UTC), or a number of seconds (of milliseconds
/// when above 10^12).
pub fn event_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(number) = text.parse::<f64>() {
        let ms = if number.abs() > 1e12 { number } else { number * 1000.0 };
        return ms.is_finite().then_some(ms as i64);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        return Some(time.timestamp_millis());
    }
    let bare = text.trim_end_matches(['Z', 'z']);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(bare, format).ok())
        .map(|time| time.and_utc().timestamp_millis())
}

/// A time in milliseconds since 1970 as RFC 3339 in UTC, to the millisecond.
pub fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_in_the_shapes_logs_write_them() {
        let at = 1_600_647_276_123;
        for text in [
            "2020-09-21T00:14:36.123Z",
            "2020-09-21T02:14:36.123+02:00",
            "2020-09-21 00:14:36.123Z",
            "2020-09-21 00:14:36.123",
            "2020-09-21T00:14:36.123",
            "1600647276.123",
            "1600647276123",
        ] {
            assert_eq!(event_time(text), Some(at), "{text}");
        }
        assert_eq!(event_time("2020-09-21 00:14:36"), Some(1_600_647_276_000));
        for bad in ["", "yesterday", "2020/09/21 00:14:36", "NaN"] {
            assert_eq!(event_time(bad), None, "{bad}");
        }
        assert_eq!(time_text(at), "2020-09-21T00:14:36.123Z");
    }
}
