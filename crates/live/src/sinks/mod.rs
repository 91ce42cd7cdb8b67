//! Where alerts are delivered: each sink on a thread of its own behind a bounded queue (a
//! full queue holds the lake's commits back rather than dropping alerts), retried with
//! backoff, and written to the undelivered file when every attempt failed; and a stream
//! that event-stream clients subscribe to.

mod cursor;
mod file;
mod kafka;
mod latency;
mod webhook;

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;
use tokio::sync::broadcast;

use crate::alert::Alert;
use cursor::Cursor;
pub use latency::Latencies;

/// Where alerts go, besides the event stream.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// A URL each alert is POSTed to as a JSON object.
    pub webhook: Option<String>,
    /// A file alerts are appended to, one JSON object a line.
    pub file: Option<PathBuf>,
    /// Kafka brokers and the topic alerts are written to, keyed by their id.
    pub kafka: Option<(String, String)>,
    /// Where alerts go that a sink could not take after every attempt.
    pub undelivered: PathBuf,
    /// The directory where each sink keeps how far it delivered.
    pub cursors: PathBuf,
}

/// Why a sink could not take alerts.
#[derive(Debug)]
pub struct Failure {
    /// How many of the alerts it took first.
    pub sent: usize,
    pub error: String,
    /// Whether trying again cannot help (the receiver refused them).
    pub permanent: bool,
}

/// A place alerts are delivered to.
trait Sink: Send {
    /// Delivers `alerts` in order.
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure>;
}

/// Batches a sink's queue holds before delivering holds the lake back.
const QUEUED_BATCHES: usize = 64;
/// Alerts the event stream keeps for a client that reads slowly.
const STREAM_BACKLOG: usize = 4096;
/// Attempts at delivering a batch, the first retry after `FIRST_BACKOFF`, each later one
/// after twice as long as the one before, up to `MAX_BACKOFF`.
const ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Every sink, running.
pub struct Sinks {
    outlets: Mutex<Vec<Outlet>>,
    stream: broadcast::Sender<Arc<str>>,
}

struct Outlet {
    queue: SyncSender<Arc<[Alert]>>,
    cursor: Arc<Cursor>,
    thread: JoinHandle<()>,
    latencies: Arc<Latencies>,
    name: String,
}

/// A sink could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot open the alerts file {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("the webhook URL {0} is not an http:// or https:// URL")]
    Webhook(String),
    #[error(transparent)]
    Kafka(#[from] hela_stream::kafka::KafkaError),
    #[error("cannot start a sink's thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot read or write how far {0} delivered: {1}")]
    Cursor(String, std::io::Error),
    #[error("cannot read the correlations' windows in {0}: {1}")]
    Windows(PathBuf, std::io::Error),
}

impl Sinks {
    /// Opens the sinks `options` names and starts their threads; `committed` is the number
    /// of the last alert the lake holds, where a sink new to the server starts.
    pub fn start(options: &SinkOptions, committed: u64) -> Result<Sinks, SinkError> {
        let mut sinks: Vec<(String, Box<dyn Sink>)> = Vec::new();
        if let Some(url) = &options.webhook {
            sinks.push((format!("webhook {url}"), Box::new(webhook::Webhook::new(url)?)));
        }
        if let Some(path) = &options.file {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            sinks.push((format!("file {}", path.display()), Box::new(file::JsonLines::open(&path)?)));
        }
        if let Some((brokers, topic)) = &options.kafka {
            sinks.push((format!("kafka topic {topic} on {brokers}"), Box::new(kafka::KafkaTopic::new(brokers, topic)?)));
        }
        let undelivered = Arc::new(Mutex::new(options.undelivered.clone()));
        let outlets = sinks
            .into_iter()
            .map(|(name, sink)| {
                // Named by the sink, so that the same sink keeps its place across restarts.
                let file = format!("{}.delivered", &blake3::hash(name.as_bytes()).to_hex()[..16]);
                let cursor = Cursor::open(options.cursors.join(file), committed).map_err(|e| SinkError::Cursor(name.clone(), e))?;
                Outlet::start(name, sink, Arc::new(cursor), undelivered.clone())
            })
            .collect::<Result<_, _>>()?;
        Ok(Sinks { outlets: Mutex::new(outlets), stream: broadcast::channel(STREAM_BACKLOG).0 })
    }

    /// Hands `alerts` to every sink, waiting while a sink's queue is full, and to the
    /// event stream's subscribers.
    pub fn deliver(&self, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        if self.stream.receiver_count() > 0 {
            for alert in &alerts {
                let _ = self.stream.send(Arc::from(alert.to_json_line()));
            }
        }
        let alerts: Arc<[Alert]> = Arc::from(alerts);
        for outlet in self.outlets.lock().expect("not poisoned").iter() {
            let _ = outlet.queue.send(alerts.clone());
        }
    }

    /// The number of the last alert every sink delivered.
    pub fn delivered(&self) -> Option<u64> {
        self.outlets.lock().expect("not poisoned").iter().map(|o| o.cursor.delivered()).min()
    }

    /// Hands each sink the alerts among `alerts` it has not delivered (read back from the
    /// lake after a restart).
    pub fn redeliver(&self, alerts: Vec<Alert>) {
        for outlet in self.outlets.lock().expect("not poisoned").iter() {
            let missed: Vec<Alert> = alerts.iter().filter(|a| a.seq > outlet.cursor.delivered()).cloned().collect();
            if !missed.is_empty() {
                eprintln!("delivering {} alerts to {} that a stop kept from it", missed.len(), outlet.name);
                let _ = outlet.queue.send(Arc::from(missed));
            }
        }
    }

    /// A receiver of every alert delivered from now on, as a line of JSON.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.stream.subscribe()
    }

    /// Each sink's name and its delivery latencies.
    pub fn latencies(&self) -> Vec<(String, Arc<Latencies>)> {
        self.outlets.lock().expect("not poisoned").iter().map(|o| (o.name.clone(), o.latencies.clone())).collect()
    }

    /// Delivers what the queues hold and stops the sinks; alerts delivered after are only
    /// streamed.
    pub fn stop(&self) {
        let outlets = std::mem::take(&mut *self.outlets.lock().expect("not poisoned"));
        for outlet in outlets {
            drop(outlet.queue);
            let _ = outlet.thread.join();
        }
    }
}

impl Outlet {
    fn start(name: String, mut sink: Box<dyn Sink>, cursor: Arc<Cursor>, undelivered: Arc<Mutex<PathBuf>>) -> Result<Outlet, SinkError> {
        let (queue, batches) = sync_channel::<Arc<[Alert]>>(QUEUED_BATCHES);
        let latencies = Arc::new(Latencies::default());
        let thread = {
            let (name, latencies, cursor) = (name.clone(), latencies.clone(), cursor.clone());
            std::thread::Builder::new()
                .name("hela-sink".into())
                .spawn(move || drain(&name, sink.as_mut(), &batches, &latencies, &cursor, &undelivered))
                .map_err(SinkError::Thread)?
        };
        Ok(Outlet { queue, cursor, thread, latencies, name })
    }
}

/// Delivers each batch queued, retrying what the sink did not take, and notes how far it
/// got.
fn drain(
    name: &str,
    sink: &mut dyn Sink,
    batches: &Receiver<Arc<[Alert]>>,
    latencies: &Latencies,
    cursor: &Cursor,
    undelivered: &Mutex<PathBuf>,
) {
    for batch in batches {
        let mut done = 0;
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            match sink.send(&batch[done..]) {
                Ok(()) => {
                    latencies.record_all(&batch[done..]);
                    done = batch.len();
                    break;
                }
                Err(failure) => {
                    latencies.record_all(&batch[done..done + failure.sent]);
                    done += failure.sent;
                    if failure.permanent || attempt == ATTEMPTS {
                        set_aside(name, &batch[done..], &failure.error, undelivered);
                        done = batch.len();
                        break;
                    }
                    eprintln!("warning: alerts to {name}: {} (attempt {attempt} of {ATTEMPTS}; retrying in {backoff:?})", failure.error);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        debug_assert_eq!(done, batch.len());
        if let Some(last) = batch.iter().map(|a| a.seq).max() {
            cursor.advance(last);
        }
    }
}

/// Writes alerts a sink could not take to the undelivered file, so none is lost.
fn set_aside(name: &str, alerts: &[Alert], error: &str, undelivered: &Mutex<PathBuf>) {
    let path = undelivered.lock().expect("not poisoned");
    eprintln!("error: {} alerts not delivered to {name}: {error}; they are in {}", alerts.len(), path.display());
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&*path)?;
        for alert in alerts {
            let line = json!({"sink": name, "error": error, "alert": alert.document});
            writeln!(file, "{line}")?;
        }
        file.sync_data()
    })();
    if let Err(e) = written {
        eprintln!("error: cannot write undelivered alerts to {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// A sink that fails as told, then takes what it is sent.
    struct Flaky {
        failures: Vec<Failure>,
        taken: Arc<Mutex<Vec<u64>>>,
    }

    impl Sink for Flaky {
        fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
            if self.failures.is_empty() {
                self.taken.lock().unwrap().extend(alerts.iter().map(|a| a.seq));
                return Ok(());
            }
            let failure = self.failures.remove(0);
            self.taken.lock().unwrap().extend(alerts[..failure.sent].iter().map(|a| a.seq));
            Err(failure)
        }
    }

    fn alerts(seqs: std::ops::RangeInclusive<u64>) -> Vec<Alert> {
        seqs.map(|seq| {
            let document = json!({"detection_id": format!("id-{seq}"), "detection_seq": seq});
            Alert::stored(document.as_object().unwrap().clone()).unwrap()
        })
        .collect()
    }

    fn outlet(dir: &std::path::Path, failures: Vec<Failure>) -> (Outlet, Arc<Mutex<Vec<u64>>>) {
        let taken = Arc::new(Mutex::new(Vec::new()));
        let sink = Box::new(Flaky { failures, taken: taken.clone() });
        let cursor = Arc::new(Cursor::open(dir.join("sink.delivered"), 0).unwrap());
        let undelivered = Arc::new(Mutex::new(dir.join("undelivered.jsonl")));
        (Outlet::start("flaky".into(), sink, cursor, undelivered).unwrap(), taken)
    }

    fn finish(outlet: Outlet) -> u64 {
        let cursor = outlet.cursor.clone();
        drop(outlet.queue);
        outlet.thread.join().unwrap();
        cursor.delivered()
    }

    #[test]
    fn what_a_sink_did_not_take_is_retried_from_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let transient = |sent| Failure { sent, error: "503".into(), permanent: false };
        let (outlet, taken) = outlet(dir.path(), vec![transient(2), transient(0)]);
        let started = Instant::now();
        outlet.queue.send(Arc::from(alerts(1..=5))).unwrap();
        assert_eq!(finish(outlet), 5, "the cursor is at the last alert");
        assert_eq!(*taken.lock().unwrap(), [1, 2, 3, 4, 5], "each alert taken once, in order");
        assert!(started.elapsed() >= FIRST_BACKOFF * 3, "it waited between attempts");
        assert!(!dir.path().join("undelivered.jsonl").exists());
    }

    #[test]
    fn alerts_a_receiver_refuses_are_set_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let refused = Failure { sent: 1, error: "http://x answered 400".into(), permanent: true };
        let (outlet, taken) = outlet(dir.path(), vec![refused]);
        outlet.queue.send(Arc::from(alerts(1..=3))).unwrap();
        assert_eq!(finish(outlet), 3, "set aside counts as handled");
        assert_eq!(*taken.lock().unwrap(), [1]);
        let aside: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("undelivered.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(aside.iter().map(|a| a["alert"]["detection_seq"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3]);
        assert!(aside.iter().all(|a| a["sink"] == "flaky" && a["error"] == "http://x answered 400"));
    }
}
