//! The server's ingest: documents are checked, logged in the write-ahead log (one sync for
//! every request waiting, so concurrent requests share it), acknowledged, and folded into
//! the lake in the background, each fold one atomic commit that also records the last
//! sequence number it holds. Messages consumed from Kafka skip the log (the broker keeps
//! them): each fold commits them with their partitions' next offsets.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hela_hunt::DETECTIONS_TABLE;
use hela_lake::{AppendBatch, Appender, Lake, LakeError, Router};
use hela_live::{Alert, Live, WINDOWS_CHECKPOINT};
use hela_schema::BadRecord;
use hela_source::Origin;
use hela_stream::kafka::{Consumed, Intake, Stopping};
use rayon::prelude::*;
use serde_json::{Map, Value};
use tokio::sync::{oneshot, watch};

use crate::ids::SeenIds;
use crate::lake_ids::recent_ids;
use crate::metrics::Metrics;
use crate::wal::{Body, Entry, Wal, WalError};

/// The catalog checkpoint of the write-ahead log.
pub const WAL_CHECKPOINT: &str = "wal";
/// The catalog checkpoint of the standing rules' detections: the number of the last one.
pub const DETECTIONS_CHECKPOINT: &str = "detections";
/// The log's directory in the lake.
const WAL_DIR: &str = "wal";

/// How the store behaves.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// A fold starts this long after the previous one.
    pub fold_interval: Duration,
    /// A fold starts early once this many bytes of documents wait.
    pub fold_bytes: usize,
    /// Past this many bytes of documents waiting for a fold, bulk requests are refused
    /// (429) until the lake catches up.
    pub max_pending_bytes: usize,
    /// Ids remembered to recognise documents sent again.
    pub remembered_ids: usize,
    /// The days to keep: the day partitions before them are dropped from every table (as
    /// `hela lake retain` drops them) at start and every [`RETENTION_INTERVAL`].
    pub retain_days: Option<u64>,
    /// How often each source's small files are merged across days, as `hela lake compact`
    /// merges them; never when unset. The first compaction is one period after start.
    pub compact_every: Option<Duration>,
}

/// How often a server with a retention period drops the days past it.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            fold_interval: Duration::from_millis(250),
            fold_bytes: 32 << 20,
            max_pending_bytes: 256 << 20,
            remembered_ids: 4_000_000,
            retain_days: None,
            compact_every: None,
        }
    }
}

/// Why a request's documents could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the server is behind in storing documents ({0} bytes wait); retry later")]
    Busy(usize),
    #[error("the write-ahead log cannot be written: {0}")]
    Log(String),
    #[error("the server is stopping")]
    Stopping,
}

/// Cannot open the store.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Wal(#[from] WalError),
}

/// What waits for a fold: the entries acknowledged, in sequence order, and the batches
/// consumed from Kafka.
#[derive(Default)]
struct Pending {
    taken: Taken,
    /// When the oldest of `taken` arrived.
    since: Option<Instant>,
    bytes: usize,
    stopping: bool,
}

/// What one fold stores.
#[derive(Default)]
struct Taken {
    entries: Vec<Entry>,
    consumed: Vec<Consumed>,
    /// Records for named tables, with the positions they bring their streams to.
    placed: Vec<Placed>,
}

/// Records the server made itself, for named tables (a retro-hunt's detections), and
/// detections to be numbered, stored and delivered as the standing rules' are (a scheduled
/// query's).
#[derive(Default)]
pub struct Placed {
    pub records: Vec<(Arc<str>, Map<String, Value>)>,
    /// Entries refused, for the quarantine.
    pub bad: Vec<BadRecord>,
    pub alerts: Vec<Map<String, Value>>,
    pub checkpoints: Vec<(String, u64)>,
    /// Told once the lake has committed these (a user's change, acknowledged only then).
    pub committed: Option<oneshot::Sender<()>>,
}

impl Pending {
    /// Takes what waits for a fold, with when the oldest of it arrived.
    fn take(&mut self) -> (Taken, Instant) {
        (std::mem::take(&mut self.taken), self.since.take().unwrap_or_else(Instant::now))
    }

    /// Notes that something arrived to be folded.
    fn arrived(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }
}

impl Taken {
    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.consumed.is_empty() && self.placed.is_empty()
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.body.size()).sum::<usize>() + self.consumed.iter().map(|c| c.bytes).sum::<usize>()
    }

    /// Puts `newer` after these.
    fn extend(&mut self, newer: Taken) {
        self.entries.extend(newer.entries);
        self.consumed.extend(newer.consumed);
        self.placed.extend(newer.placed);
    }
}

struct Shared {
    ids: Mutex<SeenIds>,
    /// The standing rules run over each fold, if any.
    live: Option<Arc<Live>>,
    pending: Mutex<Pending>,
    /// Woken when a fold should start early, or the store stops.
    wake: Condvar,
    /// Woken when a fold made room, or the store stops.
    room: Condvar,
    /// The streams' positions the lake has committed.
    positions: Mutex<BTreeMap<String, u64>>,
    /// The last sequence number the lake holds.
    folded: watch::Sender<u64>,
    metrics: Arc<Metrics>,
    options: StoreOptions,
}

/// The entries' sequence numbers, or why they could not be logged with the entries back.
type Reply = oneshot::Sender<Result<Vec<u64>, (String, Vec<Entry>)>>;

enum LogRequest {
    Append(Vec<Entry>, Reply),
    /// The lake holds every entry up to this sequence number.
    Release(u64),
    Stop,
}

/// The ingest side of the server.
pub struct Store {
    shared: Arc<Shared>,
    log: SyncSender<LogRequest>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Store {
    /// Opens the store over `lake`: takes the lake's lock, replays the write-ahead log's
    /// entries the lake does not hold yet, and starts the logging and folding threads.
    /// Each fold is run through the standing rules of `live`, when given, and
    /// `on_commit` runs after each fold is committed.
    pub fn open(
        lake: &Lake,
        router: Arc<dyn Router>,
        options: StoreOptions,
        metrics: Arc<Metrics>,
        live: Option<Arc<Live>>,
        on_commit: Box<dyn Fn() + Send>,
    ) -> Result<Store, OpenError> {
        let mut appender = Appender::open(lake, router)?;
        let folded = appender.catalog().checkpoints.get(WAL_CHECKPOINT).copied().unwrap_or(0);
        let (mut wal, replayed) = Wal::open(&lake.root().join(WAL_DIR), folded)?;
        let mut ids = SeenIds::new(options.remembered_ids);
        for (index, id) in recent_ids(lake, appender.catalog(), options.remembered_ids)? {
            ids.insert(&index, &id);
        }
        let mut pending = Pending::default();
        for entry in replayed {
            if let Body::Document(_) = entry.body {
                ids.insert(&entry.index, &entry.id);
            }
            pending.bytes += entry.body.size();
            pending.taken.entries.push(entry);
        }
        metrics.pending_bytes.store(pending.bytes as u64, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            ids: Mutex::new(ids),
            live,
            pending: Mutex::new(pending),
            wake: Condvar::new(),
            room: Condvar::new(),
            positions: Mutex::new(appender.catalog().checkpoints.clone()),
            folded: watch::Sender::new(folded),
            metrics,
            options,
        });
        // What the log holds beyond the lake is stored before the first request, so that
        // every document acknowledged before a restart is queryable from the start.
        let (replayed, since) = shared.pending.lock().expect("not poisoned").take();
        if !replayed.is_empty() {
            let seq = fold(&mut appender, replayed, since, &shared).map_err(|(error, _)| error)?.expect("entries were folded");
            wal.release(seq)?;
            shared.folded.send_replace(seq);
        }
        let (log, requests) = sync_channel(1024);
        let logger = {
            let shared = shared.clone();
            std::thread::Builder::new().name("hela-wal".into()).spawn(move || log_loop(wal, requests, &shared))
        };
        let folder = {
            let (shared, log) = (shared.clone(), log.clone());
            std::thread::Builder::new()
                .name("hela-fold".into())
                .spawn(move || fold_loop(appender, &shared, &log, on_commit.as_ref()))
        };
        let spawned = |r: std::io::Result<JoinHandle<()>>| r.map_err(|e| OpenError::Lake(LakeError::io(lake.root())(e)));
        Ok(Store { shared, log, threads: Mutex::new(vec![spawned(folder)?, spawned(logger)?]) })
    }

    /// Claims `(index, id)` for a document about to be logged; false when a document with
    /// that id was stored already.
    pub fn claim_id(&self, index: &str, id: &str) -> bool {
        self.shared.ids.lock().expect("not poisoned").insert(index, id)
    }

    /// Whether more may be logged now: [`StoreError::Busy`] while folding into the lake is
    /// too far behind, so that a request is refused before it is read.
    pub fn has_room(&self) -> Result<(), StoreError> {
        let waiting = self.shared.pending.lock().expect("not poisoned").bytes;
        match waiting > self.shared.options.max_pending_bytes {
            true => Err(StoreError::Busy(waiting)),
            false => Ok(()),
        }
    }

    /// Logs `entries` durably and returns their sequence numbers. The ids claimed for their
    /// documents are given back when they cannot be logged.
    pub async fn log(&self, entries: Vec<Entry>) -> Result<Vec<u64>, StoreError> {
        let (error, entries) = if let Err(busy) = self.has_room() {
            (busy, entries)
        } else {
            let (reply, answer) = oneshot::channel();
            match self.log.send(LogRequest::Append(entries, reply)) {
                Ok(()) => match answer.await {
                    Ok(Ok(seqs)) => return Ok(seqs),
                    Ok(Err((message, entries))) => (StoreError::Log(message), entries),
                    Err(_) => (StoreError::Stopping, Vec::new()),
                },
                Err(std::sync::mpsc::SendError(LogRequest::Append(entries, _))) => (StoreError::Stopping, entries),
                Err(_) => (StoreError::Stopping, Vec::new()),
            }
        };
        let mut ids = self.shared.ids.lock().expect("not poisoned");
        for entry in entries.iter().filter(|e| matches!(e.body, Body::Document(_))) {
            ids.remove(&entry.index, &entry.id);
        }
        Err(error)
    }

    /// The side of the store the server's own records go in by.
    pub fn placer(&self) -> Placer {
        Placer(self.shared.clone())
    }

    /// The side of the store a Kafka consumer hands its batches to.
    pub fn intake(&self) -> Arc<dyn Intake> {
        Arc::new(ConsumerIntake(self.shared.clone()))
    }

    /// Waits until the lake holds sequence number `seq` (a request's `refresh=wait_for`).
    pub async fn wait_folded(&self, seq: u64) {
        let mut folded = self.shared.folded.subscribe();
        let _ = folded.wait_for(|&f| f >= seq).await;
    }

    /// Folds what waits into the lake, merges each partition's small files, and stops
    /// logging: requests after it are refused.
    pub fn stop(&self) {
        self.shared.pending.lock().expect("not poisoned").stopping = true;
        self.shared.wake.notify_all();
        self.shared.room.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().expect("not poisoned"));
        for (position, thread) in threads.into_iter().enumerate() {
            if position == 1 {
                let _ = self.log.send(LogRequest::Stop);
            }
            let _ = thread.join();
        }
    }
}

/// The server's way to store records it made itself (a retro-hunt's detections).
pub struct Placer(Arc<Shared>);

impl Placer {
    /// Stores `placed` with the next fold (not logged: what the server makes itself it can
    /// make again).
    pub fn place(&self, placed: Placed) -> Result<(), StoreError> {
        let mut pending = self.0.pending.lock().expect("not poisoned");
        if pending.stopping {
            return Err(StoreError::Stopping);
        }
        pending.taken.placed.push(placed);
        pending.arrived();
        drop(pending);
        self.0.wake.notify_all();
        Ok(())
    }

    /// Stores `placed` with the next fold and returns once the lake has committed it (the
    /// commit syncs it to disk): for what a user asks to keep.
    pub async fn place_committed(&self, placed: Placed) -> Result<(), StoreError> {
        let (committed, done) = oneshot::channel();
        self.place(Placed { committed: Some(committed), ..placed })?;
        done.await.map_err(|_| StoreError::Stopping)
    }

    /// The position of stream `key` the lake's last commit records.
    pub fn position(&self, key: &str) -> Option<u64> {
        self.0.positions.lock().expect("not poisoned").get(key).copied()
    }
}

/// A Kafka consumer's way into the store: its batches wait with the acknowledged documents
/// and are folded with them.
struct ConsumerIntake(Arc<Shared>);

impl Intake for ConsumerIntake {
    fn stored_position(&self, key: &str) -> Option<u64> {
        self.0.positions.lock().expect("not poisoned").get(key).copied()
    }

    fn deliver(&self, consumed: Consumed) -> Result<(), Stopping> {
        let shared = &self.0;
        let mut pending = shared.pending.lock().expect("not poisoned");
        while !pending.stopping && pending.bytes > shared.options.max_pending_bytes {
            pending = shared.room.wait(pending).expect("not poisoned");
        }
        if pending.stopping {
            return Err(Stopping);
        }
        pending.bytes += consumed.bytes;
        pending.taken.consumed.push(consumed);
        pending.arrived();
        shared.metrics.pending_bytes.store(pending.bytes as u64, Ordering::Relaxed);
        if pending.bytes >= shared.options.fold_bytes {
            shared.wake.notify_all();
        }
        Ok(())
    }
}

/// The document as stored: its fields, with its index and id in `_index` and `_id`.
pub fn with_metadata(mut record: Map<String, Value>, index: &str, id: &str) -> Map<String, Value> {
    record.insert("_index".into(), Value::String(index.to_string()));
    record.insert("_id".into(), Value::String(id.to_string()));
    record
}

/// Appends every request waiting, syncs once for all of them, hands their entries to the
/// folder and answers them.
fn log_loop(mut wal: Wal, requests: Receiver<LogRequest>, shared: &Shared) {
    let mut stop = false;
    while let Ok(first) = requests.recv() {
        let mut appended = Vec::new();
        let mut release = None;
        for request in std::iter::once(first).chain(requests.try_iter()) {
            match request {
                LogRequest::Stop => stop = true,
                LogRequest::Release(seq) => release = Some(release.unwrap_or(0).max(seq)),
                LogRequest::Append(mut entries, reply) => match wal.append(&mut entries) {
                    Ok(()) => appended.push((entries, reply)),
                    Err(e) => {
                        let _ = reply.send(Err((e.to_string(), entries)));
                    }
                },
            }
        }
        let synced = match appended.is_empty() {
            true => Ok(()),
            false => wal.sync().map_err(|e| e.to_string()),
        };
        if let Err(message) = &synced {
            eprintln!("error: {message}");
        }
        let mut replies = Vec::with_capacity(appended.len());
        {
            let mut pending = shared.pending.lock().expect("not poisoned");
            for (entries, reply) in appended {
                match &synced {
                    Ok(()) => {
                        replies.push((reply, Ok(entries.iter().map(|e| e.seq).collect::<Vec<_>>())));
                        pending.bytes += entries.iter().map(|e| e.body.size()).sum::<usize>();
                        pending.taken.entries.extend(entries);
                        pending.arrived();
                    }
                    Err(message) => replies.push((reply, Err((message.clone(), entries)))),
                }
            }
            shared.metrics.pending_bytes.store(pending.bytes as u64, Ordering::Relaxed);
            if pending.bytes >= shared.options.fold_bytes {
                shared.wake.notify_all();
            }
        }
        for (reply, answer) in replies {
            let _ = reply.send(answer);
        }
        if let Some(seq) = release
            && let Err(e) = wal.release(seq)
        {
            eprintln!("error: {e}");
        }
        shared.metrics.wal_bytes.store(wal.bytes(), Ordering::Relaxed);
        if stop {
            return;
        }
    }
}

/// Folds what the log has acknowledged into the lake, every interval or sooner when much
/// waits; drops the days past the retention period and compacts the lake at their periods
/// when these are set; on stop, folds the rest and merges small files.
fn fold_loop(mut appender: Appender, shared: &Shared, log: &SyncSender<LogRequest>, on_commit: &dyn Fn()) {
    crate::priority::lower_this_thread();
    let interval = shared.options.fold_interval;
    let mut last = Instant::now();
    let mut retention = Every::starting_now(shared.options.retain_days.map(|_| RETENTION_INTERVAL));
    let mut compaction = Every::after_one_period(shared.options.compact_every);
    loop {
        if let Some(days) = shared.options.retain_days.filter(|_| retention.due()) {
            retain(&mut appender, days, on_commit);
            retention.ran();
        }
        if compaction.due() {
            compact(&mut appender, on_commit);
            compaction.ran();
        }
        let (taken, since, stopping) = {
            let mut pending = shared.pending.lock().expect("not poisoned");
            while !(pending.stopping
                || pending.bytes >= shared.options.fold_bytes
                || (!pending.taken.is_empty() && last.elapsed() >= interval)
                || retention.due()
                || compaction.due())
            {
                let wait = interval.saturating_sub(last.elapsed()).max(Duration::from_millis(5));
                pending = shared.wake.wait_timeout(pending, wait).expect("not poisoned").0;
            }
            let (taken, since) = pending.take();
            (taken, since, pending.stopping)
        };
        last = Instant::now();
        if !taken.is_empty() {
            match fold(&mut appender, taken, since, shared) {
                Ok(seq) => {
                    on_commit();
                    if let Some(seq) = seq {
                        shared.folded.send_replace(seq);
                        let _ = log.send(LogRequest::Release(seq));
                    }
                }
                Err((error, taken)) => {
                    eprintln!("error: cannot store documents in the lake: {error}");
                    let mut pending = shared.pending.lock().expect("not poisoned");
                    let newer = std::mem::replace(&mut pending.taken, taken);
                    pending.taken.extend(newer);
                    pending.since = Some(since);
                    drop(pending);
                    if stopping {
                        eprintln!("error: stopping with documents only in the write-ahead log; the next start stores them");
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
        }
        if stopping {
            if let Err(e) = appender.merge_all() {
                eprintln!("error: cannot merge small files: {e}");
            }
            on_commit();
            return;
        }
    }
}

/// A task of the fold loop that runs every `period`, when it has one.
struct Every {
    period: Option<Duration>,
    /// When it is due next; never when unset (no period, or one past the clock's range).
    next: Option<Instant>,
}

impl Every {
    fn starting_now(period: Option<Duration>) -> Every {
        Every { period, next: period.map(|_| Instant::now()) }
    }

    fn after_one_period(period: Option<Duration>) -> Every {
        Every { period, next: period.and_then(|p| Instant::now().checked_add(p)) }
    }

    fn due(&self) -> bool {
        self.next.is_some_and(|at| Instant::now() >= at)
    }

    fn ran(&mut self) {
        self.next = self.period.and_then(|p| Instant::now().checked_add(p));
    }
}

/// Merges each source's small files across days, says what was merged, and runs
/// `on_commit` when anything was.
fn compact(appender: &mut Appender, on_commit: &dyn Fn()) {
    let started = Instant::now();
    match appender.compact() {
        Ok(merged) if !merged.is_empty() => {
            let seconds = started.elapsed().as_secs_f64();
            eprintln!("compaction: {merged} in {seconds:.1} s");
            on_commit();
        }
        Ok(_) => {}
        Err(e) => eprintln!("error: cannot compact the lake: {e}"),
    }
}

/// Drops the days before the last `days` from the lake, says what went, and runs `on_commit`
/// when anything did.
fn retain(appender: &mut Appender, days: u64, on_commit: &dyn Fn()) {
    match appender.retain(days) {
        Ok(retained) if retained.files > 0 => {
            let (first, last) = (retained.first_day.unwrap_or_default(), retained.last_day.unwrap_or_default());
            eprintln!("retention: dropped the days {first} to {last} ({} files, {} rows), older than {days} days", retained.files, retained.rows);
            on_commit();
        }
        Ok(_) => {}
        Err(e) => eprintln!("error: cannot drop the days older than {days} days: {e}"),
    }
}

/// Stores `taken` (arrived since `since`) in one commit, with the last sequence number of its
/// entries, the next offsets of its Kafka partitions and the detections of the standing
/// rules on it, which are delivered once committed; returns that sequence number (none
/// without entries). Gives `taken` back with the error when the commit fails.
fn fold(appender: &mut Appender, taken: Taken, since: Instant, shared: &Shared) -> Result<Option<u64>, (LakeError, Taken)> {
    let started = Instant::now();
    let last = taken.entries.last().map(|e| e.seq);
    let bytes = taken.bytes();
    let mut stored: Vec<Result<Map<String, Value>, BadRecord>> = taken.entries.par_iter().map(stored_form).collect();
    for consumed in &taken.consumed {
        stored.par_extend(consumed.messages.par_iter().map(|m| m.record()));
    }
    let mut checkpoints: Vec<(String, u64)> = last.map(|seq| (WAL_CHECKPOINT.to_string(), seq)).into_iter().collect();
    checkpoints.extend(taken.consumed.iter().flat_map(|c| c.positions.iter().cloned()));
    checkpoints.extend(taken.placed.iter().flat_map(|p| p.checkpoints.iter().cloned()));
    let mut batch = AppendBatch { checkpoints, ..AppendBatch::default() };
    for item in stored {
        match item {
            Ok(record) => batch.records.push(record),
            Err(bad) => batch.bad.push(bad),
        }
    }
    let numbered = shared.positions.lock().expect("not poisoned").get(DETECTIONS_CHECKPOINT).copied().unwrap_or(0);
    let mut alerts = shared.live.as_ref().map(|live| live.detect(&batch.records, numbered + 1, since)).unwrap_or_default();
    let made_alerts = taken.placed.iter().flat_map(|p| p.alerts.iter().cloned());
    for (document, seq) in made_alerts.zip(numbered + alerts.len() as u64 + 1..) {
        let mut document = document;
        document.insert("detection_seq".into(), Value::from(seq));
        alerts.extend(Alert::stored(document).map(|alert| Alert { taken: since, ..alert }));
    }
    if let Some(last) = alerts.last() {
        batch.checkpoints.push((DETECTIONS_CHECKPOINT.to_string(), last.seq));
    }
    let windows = shared.live.as_ref().map(|live| live.windows());
    if let Some(windows) = windows {
        match windows.stage() {
            Ok(staged) => batch.checkpoints.extend(staged.map(|n| (WINDOWS_CHECKPOINT.to_string(), n))),
            Err(e) => {
                windows.roll_back();
                return Err((LakeError::io(windows.dir())(e), taken));
            }
        }
    }
    let detections: Arc<str> = Arc::from(DETECTIONS_TABLE);
    batch.placed = alerts.iter().map(|alert| (detections.clone(), alert.document.clone())).collect();
    let made = taken.placed.iter().map(|p| p.records.len() as u64).sum::<u64>();
    batch.placed.extend(taken.placed.iter().flat_map(|p| p.records.iter().cloned()));
    batch.bad.extend(taken.placed.iter().flat_map(|p| p.bad.iter().cloned()));
    let checkpoints = batch.checkpoints.clone();
    let staged = batch.checkpoints.iter().find(|(name, _)| name == WINDOWS_CHECKPOINT).map(|(_, n)| *n);
    match appender.append(batch) {
        Ok(summary) => {
            if let (Some(windows), Some(number)) = (windows, staged) {
                windows.committed(number);
            }
            let metrics = &shared.metrics;
            let detected = alerts.len() as u64;
            metrics.detections.fetch_add(detected, Ordering::Relaxed);
            if let Some(live) = &shared.live {
                live.deliver(alerts);
            }
            metrics.documents_stored.fetch_add(summary.records_stored.saturating_sub(detected + made), Ordering::Relaxed);
            metrics.documents_quarantined.fetch_add(summary.records_quarantined, Ordering::Relaxed);
            metrics.bytes_stored.fetch_add(bytes as u64, Ordering::Relaxed);
            metrics.commits.record(started.elapsed());
            shared.positions.lock().expect("not poisoned").extend(checkpoints);
            let mut pending = shared.pending.lock().expect("not poisoned");
            pending.bytes = pending.bytes.saturating_sub(bytes);
            metrics.pending_bytes.store(pending.bytes as u64, Ordering::Relaxed);
            shared.room.notify_all();
            drop(pending);
            for committed in taken.placed.into_iter().filter_map(|p| p.committed) {
                let _ = committed.send(());
            }
            Ok(last)
        }
        Err(error) => {
            windows.into_iter().for_each(|w| w.roll_back());
            Err((error, taken))
        }
    }
}

/// A logged entry as the lake stores it: the document with its `_index` and `_id`, or the
/// quarantine's record of a document refused. Documents were checked before they were
/// logged; one that does not read now is quarantined, not lost.
fn stored_form(entry: &Entry) -> Result<Map<String, Value>, BadRecord> {
    match &entry.body {
        Body::Document(json) => match hela_schema::parse_value(json) {
            Ok(Value::Object(record)) => Ok(with_metadata(record, &entry.index, &entry.id)),
            Ok(_) => Err(BadRecord::new(Origin::file("write-ahead log"), entry.seq, "not a JSON object when read back".into(), json)),
            Err(e) => Err(BadRecord::new(Origin::file("write-ahead log"), entry.seq, format!("not a JSON object when read back: {e}"), json)),
        },
        Body::Refused { source, line, reason, text } => {
            Err(BadRecord::new(Origin::file(source.as_str()), *line, reason.clone(), text.as_bytes()))
        }
    }
}
