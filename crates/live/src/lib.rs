//! Detection as events arrive. Sigma rules stand on the server ([`StandingRules`]), and
//! threat-intelligence indicators ([`Live::set_indicators`]); every batch on its way into
//! the lake, by whatever path it came, is run through them before it is committed
//! ([`Live::detect`]); the detections are committed with the batch into the
//! `detections` table and then delivered to the sinks ([`sinks`]). Rule files are watched
//! and reloaded when they change.

mod alert;
mod detect;
mod files;
pub mod retro;
pub mod rules;
mod sightings;
pub mod sinks;
mod windows;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::broadcast;

pub use alert::Alert;
pub use files::replace_file;
use hela_intel::Watchlist;
pub use rules::{Reload, RuleBook, StandingRules};
pub use sinks::{SinkError, SinkOptions, Sinks};
pub use windows::{WINDOWS_CHECKPOINT, Windows};

/// How often rule files are checked for changes.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// The standing rules with their correlations' windows, the sinks, and the thread watching
/// the rule files.
pub struct Live {
    rules: Arc<StandingRules>,
    indicators: RwLock<Option<Arc<Watchlist>>>,
    windows: Windows,
    sinks: Sinks,
    watcher: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

impl Live {
    /// Starts the sinks and the watch over the rules' files; `committed` is the number of
    /// the last alert the lake holds, and the correlations' windows are read from
    /// `windows` (the directory and the file number the lake's last commit records).
    pub fn start(rules: StandingRules, sinks: &SinkOptions, committed: u64, windows: (PathBuf, u64)) -> Result<Live, SinkError> {
        let rules = Arc::new(rules);
        let (dir, number) = windows;
        let windows = Windows::open(dir.clone(), number, &rules.current()).map_err(|e| SinkError::Windows(dir, e))?;
        let sinks = Sinks::start(sinks, committed)?;
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (rules, stop) = (rules.clone(), stop.clone());
            std::thread::Builder::new()
                .name("hela-rules".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::park_timeout(WATCH_INTERVAL);
                        if !stop.load(Ordering::Relaxed) {
                            report(&rules.reload(false));
                        }
                    }
                })
                .map_err(SinkError::Thread)?
        };
        Ok(Live { rules, indicators: RwLock::new(None), windows, sinks, watcher: Mutex::new(Some((stop, watcher))) })
    }

    /// The alerts the standing rules, their correlations and the standing indicators raise
    /// on `records`, which arrived from `taken` on, numbered from `first_seq`. The
    /// correlations' windows move on: the caller saves them with [`Live::windows`] before
    /// its commit.
    pub fn detect(&self, records: &[Map<String, Value>], first_seq: u64, taken: Instant) -> Vec<Alert> {
        let book = self.rules.current();
        let indicators = self.indicators.read().expect("not poisoned").clone();
        if book.engine.is_none() && indicators.is_none() {
            return Vec::new();
        }
        let found = detect::detections(book.engine.as_ref(), indicators.as_deref(), records, &|warning| eprintln!("warning: {warning}"));
        let detected_at = hela_hunt::time_text(chrono::Utc::now().timestamp_millis());
        let mut alerts = Vec::new();
        if let Some(engine) = &book.engine {
            let detections = self.windows.run(&book, found.detections);
            alerts.extend(detections.iter().zip(first_seq..).map(|(d, seq)| Alert::new(d, engine, seq, &detected_at, taken)));
        }
        let next = first_seq + alerts.len() as u64;
        alerts.extend(found.sightings.into_iter().zip(next..).map(|(document, seq)| Alert::sighted(document, seq, &detected_at, taken)));
        alerts
    }

    /// Makes `watchlist` the indicators standing (in place of any before it).
    pub fn set_indicators(&self, watchlist: Watchlist) {
        *self.indicators.write().expect("not poisoned") = Some(Arc::new(watchlist));
    }

    /// The correlations' windows, to be saved with each commit.
    pub fn windows(&self) -> &Windows {
        &self.windows
    }

    /// Hands alerts whose detections are committed to the sinks.
    pub fn deliver(&self, alerts: Vec<Alert>) {
        self.sinks.deliver(alerts);
    }

    /// The number of the last alert every sink delivered: those after it, committed
    /// before the server stopped, are read back and handed to [`Live::redeliver`].
    pub fn delivered(&self) -> Option<u64> {
        self.sinks.delivered()
    }

    /// Hands each sink what it has not delivered of `alerts`, which were committed before a
    /// restart.
    pub fn redeliver(&self, alerts: Vec<Alert>) {
        self.sinks.redeliver(alerts);
    }

    /// Reads the rule files again now (on SIGHUP), and reports what happened.
    pub fn reload(&self) -> Reload {
        let reload = self.rules.reload(true);
        report(&reload);
        reload
    }

    /// The rules standing now.
    pub fn rules(&self) -> Arc<RuleBook> {
        self.rules.current()
    }

    /// Every alert delivered from now on, as a line of JSON.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.sinks.subscribe()
    }

    /// The sinks' names with their delivery latencies.
    pub fn sinks(&self) -> &Sinks {
        &self.sinks
    }

    /// Stops watching the rule files, delivers what the sinks' queues hold and stops them.
    pub fn stop(&self) {
        if let Some((stop, watcher)) = self.watcher.lock().expect("not poisoned").take() {
            stop.store(true, Ordering::Relaxed);
            watcher.thread().unpark();
            let _ = watcher.join();
        }
        self.sinks.stop();
    }
}

/// Says on standard error what a reload did.
fn report(reload: &Reload) {
    match reload {
        Reload::Unchanged => {}
        Reload::Loaded { rules, rejected } => {
            eprintln!("rules reloaded: {rules} standing, {} refused", rejected.len());
            for r in rejected {
                eprintln!("  refused {}: {}", r.path.display(), r.reason);
            }
        }
        Reload::Kept { why, rejected } => {
            eprintln!("error: rules not reloaded ({why}); the rules standing stay");
            for r in rejected {
                eprintln!("  {}: {}", r.path.display(), r.reason);
            }
        }
    }
}
