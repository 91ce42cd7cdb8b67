//! Ingest: inputs → records → partitioned Parquet files → atomic commits to the catalog.
//!
//! Every record read is either stored or quarantined (records in = stored + quarantined).
//! Inputs are committed whole: a commit holds only inputs read to their end, so an ingest
//! that is interrupted can simply be run again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arrow::datatypes::DataType;
use hela_schema::{BadRecord, JsonView, KeptFields, RecordEvent, RecordForm, Records, Shape, Tape, stream_records};
use hela_source::{Input, Origin, ReadOptions, Warning, discover};
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::catalog::sync_directory;
use crate::compact::{merge_files, plan_merges};
use crate::fingerprint::ReadFingerprint;
use crate::lake::{LakeLock, QUARANTINE_DIR, STAGING_DIR, TABLES_DIR};
use crate::maintenance::{RETIRED_FILES_KEPT, Retained, compaction_order, compaction_plan, drop_days, first_kept_day};
use crate::order::RowOrder;
use crate::partition::{PartitionKey, escape};
use crate::quarantine::QuarantineWriter;
use crate::rewrite::{needs_rewrite, rewrite_if_needed};
use crate::writer::{PartitionWriter, StagedFile};
use crate::router::{RawEvents, Router};
use crate::{Catalog, DataFile, IngestedInput, Lake, LakeError, TableEntry};

/// How an ingest behaves.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Ingest inputs even when the lake already holds them.
    pub force: bool,
    pub read: ReadOptions,
    /// Input bytes buffered across partitions before they are written out.
    pub buffer_bytes: usize,
    /// Input bytes after which completed inputs are committed.
    pub commit_bytes: u64,
    /// Memory the row groups being built may hold together, across all partitions; past
    /// it the largest are ended early (smaller row groups, the same rows).
    pub row_group_memory: usize,
    /// The table of each record, and the record to store.
    pub router: Arc<dyn Router>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            force: false,
            read: ReadOptions::default(),
            buffer_bytes: 32 << 20,
            commit_bytes: 256 << 20,
            row_group_memory: 192 << 20,
            router: Arc::new(RawEvents::default()),
        }
    }
}

/// Counters a progress display can poll while an ingest runs.
#[derive(Debug, Default)]
pub struct IngestProgress {
    /// Bytes of the inputs read from disk so far.
    pub bytes_read: AtomicU64,
    /// Bytes of all inputs on disk (standard input not counted).
    pub bytes_total: AtomicU64,
    pub records: AtomicU64,
    /// The input being read.
    pub current: Mutex<String>,
}

/// Something the user should hear about while the ingest goes on.
#[derive(Debug)]
pub enum Notice<'a> {
    Warning(&'a Warning),
    Quarantined(&'a BadRecord),
    /// An input the lake already holds.
    Skipped { path: &'a Path, reason: &'a str },
    InputFailed { path: &'a str, error: &'a str },
    Committed { inputs: usize, records: u64, files: usize },
}

impl Notice<'_> {
    /// The line to show the user (`quarantined: FILE:LINE: reason`, `skipped: ...`); none for
    /// a commit, which the summary counts.
    pub fn message(&self) -> Option<String> {
        Some(match self {
            Notice::Warning(w) => format!("warning: {w}"),
            Notice::Quarantined(bad) => format!("quarantined: {}:{}: {}", bad.origin, bad.line, bad.reason),
            Notice::Skipped { path, reason } => format!("skipped: {}: {reason}", path.display()),
            Notice::InputFailed { path, error } => format!("error: {path}: {error}"),
            Notice::Committed { .. } => return None,
        })
    }
}

/// What an ingest did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IngestSummary {
    pub inputs_read: u64,
    pub inputs_skipped: u64,
    pub inputs_failed: u64,
    /// Archive members none of which could be read (quarantined as unreadable).
    pub members_failed: u64,
    pub records_stored: u64,
    pub records_quarantined: u64,
    pub warnings: u64,
    /// Bytes read from the inputs (compressed size for archives).
    pub bytes_read: u64,
    /// Bytes of JSON records after decompression.
    pub bytes_decoded: u64,
    pub files_written: u64,
    /// Small files of a partition merged into others after the commits (see
    /// [`crate::compact`]): the files the lake holds fewer for it.
    pub files_merged: u64,
    pub seconds: f64,
}

/// Ingests `paths` (files, directories, `-`) into the lake, each record into the table its
/// router names (`events` by default).
pub fn ingest(
    lake: &Lake,
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &IngestProgress,
    notify: &mut dyn FnMut(Notice),
) -> Result<IngestSummary, LakeError> {
    if let Some(store) = lake.store() {
        return store.write(|working| ingest(working, paths, options, progress, notify));
    }
    let started = Instant::now();
    let (lock, catalog) = open_for_writing(lake, options.router.as_ref())?;
    let mut summary = IngestSummary::default();
    let mut run = Run::new(lake, catalog)?;

    let found = discover(paths);
    for (path, reason) in &found.skipped {
        notify(Notice::Skipped { path, reason });
        summary.warnings += 1;
    }
    for error in found.errors {
        let (path, message) = (error_path(&error), error.to_string());
        notify(Notice::InputFailed { path: &path, error: &message });
        run.txn.quarantine.input(&path, &message)?;
        summary.inputs_failed += 1;
    }
    let mut inputs = Vec::new();
    let mut fingerprints = Vec::new();
    let mut seen = HashSet::new();
    let unlike = lengths_unlike_any_other(&run.catalog, &found.inputs);
    for input in found.inputs {
        let fingerprint = match input.size {
            _ if input.is_stdin() => Fingerprint::None,
            Some(len) if unlike.contains(&len) => Fingerprint::WhileRead(Box::new(Mutex::new(ReadFingerprint::new(len)))),
            _ => match crate::fingerprint::fingerprint(&input.path) {
                Ok(fp) => Fingerprint::Known(fp),
                Err(e) => {
                    let (path, message) = (input.display_name(), format!("cannot read: {e}"));
                    notify(Notice::InputFailed { path: &path, error: &message });
                    run.txn.quarantine.input(&path, &message)?;
                    summary.inputs_failed += 1;
                    continue;
                }
            },
        };
        if let Fingerprint::Known(fp) = &fingerprint {
            // A lake made by an earlier hela recorded sampled fingerprints.
            let earlier = || crate::fingerprint::sampled_fingerprint(&input.path).ok().and_then(|old| run.catalog.inputs.get(&old));
            let known = run.catalog.inputs.get(fp).or_else(earlier);
            let known = known.map(|i| format!("already ingested as {}; use --force to ingest it again", i.path));
            let repeated = (!seen.insert(fp.clone())).then(|| "named twice; read once".to_string());
            if let Some(reason) = repeated.or(known.filter(|_| !options.force)) {
                notify(Notice::Skipped { path: &input.path, reason: &reason });
                summary.inputs_skipped += 1;
                continue;
            }
        }
        progress.bytes_total.fetch_add(input.size.unwrap_or(0), Ordering::Relaxed);
        fingerprints.push(fingerprint);
        inputs.push(input);
    }

    let mut per_input = vec![InputCounts::default(); inputs.len()];
    let mut current = usize::MAX;
    let watch = |input: usize, offset: u64, bytes: &[u8]| {
        if let Fingerprint::WhileRead(read) = &fingerprints[input] {
            read.lock().expect("not poisoned").read(offset, bytes);
        }
    };
    // Records stored as they are in one table are read onto tapes: no map is made of each.
    let one_table = options.router.one_table();
    let form = if one_table.is_some() { RecordForm::Tape } else { RecordForm::Maps(KeptFields::All) };
    stream_records(&inputs, &options.read, &form, &progress.bytes_read, Some(&watch), &mut |event| {
        let input = event_input(&event);
        if input != current {
            current = input;
            *progress.current.lock().expect("not poisoned") = inputs[input].display_name();
        }
        match event {
            RecordEvent::Records { records, bytes, .. } => {
                per_input[input].records += records.len() as u64;
                per_input[input].bytes += bytes as u64;
                progress.records.fetch_add(records.len() as u64, Ordering::Relaxed);
                match (records, &one_table) {
                    (Records::Tape(tape), Some(table)) => run.place_tape(table, tape),
                    (records, _) => run.place(routed(options.router.as_ref(), records.into_maps()).collect()),
                }
                run.buffered += bytes;
                if run.buffered >= options.buffer_bytes {
                    run.flush(options.row_group_memory)?;
                }
            }
            RecordEvent::Bad { record, .. } => {
                notify(Notice::Quarantined(&record));
                run.txn.quarantine.record(&record)?;
                per_input[input].quarantined += 1;
            }
            RecordEvent::Warning { warning, .. } => {
                notify(Notice::Warning(&warning));
                summary.warnings += 1;
            }
            RecordEvent::Unreadable { part, .. } => {
                let (path, message) = (part.origin.to_string(), part.reason);
                notify(Notice::InputFailed { path: &path, error: &message });
                run.txn.quarantine.input(&path, &message)?;
                summary.members_failed += 1;
            }
            RecordEvent::InputDone { result: Err(error), .. } => {
                let (path, message) = (inputs[input].display_name(), error.to_string());
                notify(Notice::InputFailed { path: &path, error: &message });
                run.txn.quarantine.input(&path, &message)?;
                summary.inputs_failed += 1;
                // What was read before the input failed is stored, and counted so.
                let counts = per_input[input];
                summary.records_stored += counts.records;
                summary.records_quarantined += counts.quarantined;
                summary.bytes_decoded += counts.bytes;
            }
            RecordEvent::InputDone { result: Ok(()), .. } => {
                let counts = per_input[input];
                summary.inputs_read += 1;
                summary.records_stored += counts.records;
                summary.records_quarantined += counts.quarantined;
                summary.bytes_decoded += counts.bytes;
                run.uncommitted_bytes += counts.bytes;
                if let Some(fp) = fingerprints[input].finish(&inputs[input].path) {
                    let entry = IngestedInput {
                        path: inputs[input].display_name(),
                        records: counts.records,
                        quarantined: counts.quarantined,
                        committed_at: unix_seconds(),
                        bytes: inputs[input].size,
                    };
                    run.completed.push((fp, entry));
                } else if !inputs[input].is_stdin() {
                    let warning = Warning {
                        origin: Origin::file(inputs[input].display_name()),
                        message: "cannot be read again to fingerprint it: ingesting it again will not be recognised".into(),
                    };
                    notify(Notice::Warning(&warning));
                    summary.warnings += 1;
                }
                if run.uncommitted_bytes >= options.commit_bytes {
                    summary.files_written += run.commit(notify)? as u64;
                }
            }
        }
        Ok::<(), LakeError>(())
    })?;
    summary.files_written += run.commit(notify)? as u64;
    summary.files_merged = run.merge_written(2)? as u64;
    run.close()?;
    summary.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
    summary.seconds = started.elapsed().as_secs_f64();
    drop(lock);
    Ok(summary)
}

/// Each record with the table `router` gives it, as it is to be stored there, and its partition.
fn routed(router: &dyn Router, records: Vec<Map<String, Value>>) -> impl IndexedParallelIterator<Item = (Arc<str>, PartitionKey, Map<String, Value>)> + '_ {
    records.into_par_iter().map(move |record| {
        let (table, record) = router.route(record);
        (table, PartitionKey::of(&record), record)
    })
}

/// How the fingerprint of an input is known.
enum Fingerprint {
    /// Standard input has none.
    None,
    /// Made before the input is read, to skip an input the lake holds.
    Known(String),
    /// Made from the bytes as they are read: the input cannot be one the lake holds.
    WhileRead(Box<Mutex<ReadFingerprint>>),
}

impl Fingerprint {
    /// The fingerprint of the input at `path`, once read: made from the file again when
    /// it was not read whole from its start (an archive read where its members are).
    fn finish(&self, path: &Path) -> Option<String> {
        match self {
            Fingerprint::None => None,
            Fingerprint::Known(fp) => Some(fp.clone()),
            Fingerprint::WhileRead(read) => {
                read.lock().expect("not poisoned").finish().or_else(|| crate::fingerprint::fingerprint(path).ok())
            }
        }
    }
}

/// The lengths of `inputs` that no other input has and no input the lake holds had, so
/// that an input of one of them is none of those and need not be hashed before it is read.
/// None when the lake holds an input whose length it did not record (a lake made by an
/// earlier version of hela), as that could be any.
fn lengths_unlike_any_other(catalog: &Catalog, inputs: &[Input]) -> HashSet<u64> {
    let Some(held) = catalog.inputs.values().map(|input| input.bytes).collect::<Option<HashSet<u64>>>() else {
        return HashSet::new();
    };
    let mut count: HashMap<u64, usize> = HashMap::new();
    inputs.iter().filter_map(|input| input.size).for_each(|len| *count.entry(len).or_default() += 1);
    count.into_iter().filter(|&(len, n)| n == 1 && !held.contains(&len)).map(|(len, _)| len).collect()
}

/// Takes the lake's lock and reads its catalog, whose schema must be the router's (a new
/// lake takes it), and removes what interrupted writers left.
fn open_for_writing(lake: &Lake, router: &dyn Router) -> Result<(LakeLock, Catalog), LakeError> {
    let (lock, mut catalog) = open_tidied(lake)?;
    let asked = router.schema();
    if catalog.tables.is_empty() {
        catalog.schema = asked.to_string();
    } else if catalog.schema != asked {
        let (have, asked) = (catalog.schema.clone(), asked.to_string());
        return Err(LakeError::SchemaMismatch { path: lake.root().to_path_buf(), lake: have, asked });
    }
    Ok((lock, catalog))
}

/// Takes the lake's lock, reads its catalog, forgets the retired files that expired and
/// removes what interrupted writers left.
pub(crate) fn open_tidied(lake: &Lake) -> Result<(LakeLock, Catalog), LakeError> {
    let lock = lake.lock()?;
    let mut catalog = lake.catalog()?;
    catalog.expire_retired(unix_seconds(), RETIRED_FILES_KEPT.as_secs());
    lake.sweep(&lock, &catalog)?;
    Ok((lock, catalog))
}

/// Records handed to an [`Appender`] to be stored in one commit.
#[derive(Debug, Default)]
pub struct AppendBatch {
    pub records: Vec<Map<String, Value>>,
    /// Records stored as they are in the table named with each, not routed (detections
    /// committed with the events they were found in).
    pub placed: Vec<(Arc<str>, Map<String, Value>)>,
    /// Records that cannot be stored, for the quarantine.
    pub bad: Vec<BadRecord>,
    /// The streams these come from and the positions they bring them to, committed with
    /// them into [`Catalog::checkpoints`] (a later position of a stream replaces an earlier).
    pub checkpoints: Vec<(String, u64)>,
}

/// What one [`Appender::append`] stored.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct AppendSummary {
    pub records_stored: u64,
    pub records_quarantined: u64,
    pub files_written: u64,
    pub files_merged: u64,
}

/// A writer that holds the lake's lock for as long as it lives and stores batches of
/// records handed to it (not read from files), each batch one atomic commit together with a
/// checkpoint of each stream it came from. A long-running server appends through one.
pub struct Appender {
    lake: Lake,
    lock: LakeLock,
    catalog: Catalog,
    router: Arc<dyn Router>,
}

/// Small files of a partition an appender leaves unmerged: each append commits a file per
/// partition it brings rows, so merging at every append would rewrite the same rows over
/// and over.
const APPEND_MERGE_MIN_FILES: usize = 8;
/// The most partition files an ingest keeps open between writes (the usual limit of open
/// files is 1,024); with more partitions than this, each write closes its file.
const MAX_OPEN_FILES: usize = 256;

impl Appender {
    /// Takes the lake's lock (refused while another writer holds it) and removes what
    /// interrupted writers left.
    pub fn open(lake: &Lake, router: Arc<dyn Router>) -> Result<Appender, LakeError> {
        let (lock, catalog) = open_for_writing(lake, router.as_ref())?;
        Ok(Appender { lake: lake.clone(), lock, catalog, router })
    }

    /// The catalog as last committed.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Stores `batch` in one commit: its records in their tables, its bad records in the
    /// quarantine, its checkpoints in the catalog. Then merges the small files of the
    /// partitions it wrote once they are many.
    pub fn append(&mut self, batch: AppendBatch) -> Result<AppendSummary, LakeError> {
        let lake = self.lake.clone();
        let mut run = Run::new(&lake, self.catalog.clone())?;
        let stored = batch.records.len() + batch.placed.len();
        let mut summary = AppendSummary { records_stored: stored as u64, ..AppendSummary::default() };
        for bad in &batch.bad {
            run.txn.quarantine.record(bad)?;
        }
        summary.records_quarantined = batch.bad.len() as u64;
        let placed = batch.placed.into_par_iter().map(|(table, record)| (table, PartitionKey::of(&record), record));
        run.place(routed(self.router.as_ref(), batch.records).chain(placed).collect());
        run.checkpoints = batch.checkpoints;
        summary.files_written = run.commit(&mut |_| {})? as u64;
        summary.files_merged = run.merge_written(APPEND_MERGE_MIN_FILES)? as u64;
        self.finish(run)?;
        Ok(summary)
    }

    /// Merges every partition's small files, as an ingest does at its end; for a server
    /// that stops.
    pub fn merge_all(&mut self) -> Result<u64, LakeError> {
        let lake = self.lake.clone();
        let mut run = Run::new(&lake, self.catalog.clone())?;
        let fewer = run.merge_small_files(2, |_, _| true)?;
        self.finish(run)?;
        Ok(fewer as u64)
    }

    /// Merges each source's small files across days, as [`crate::maintenance::compact`]
    /// does, in one commit when any are merged: for a writer that holds the lake's lock
    /// while it runs (a server).
    pub fn compact(&mut self) -> Result<Merged, LakeError> {
        let lake = self.lake.clone();
        let mut run = Run::new(&lake, self.catalog.clone())?;
        let merged = run.merge_groups(compaction_plan(None), compaction_order())?;
        self.finish(run)?;
        Ok(merged)
    }

    /// Drops the days before the one `days` days before today from every table, as
    /// [`crate::maintenance::retain`] does, in one commit when any goes.
    pub fn retain(&mut self, days: u64) -> Result<Retained, LakeError> {
        let mut catalog = self.catalog.clone();
        let retained = drop_days(&mut catalog, None, &first_kept_day(days));
        if retained.files > 0 {
            catalog.save(&self.lake.catalog_path())?;
            self.catalog = catalog;
        }
        Ok(retained)
    }

    /// Takes what a run committed, and removes the files retired long enough ago (the
    /// catalog forgets them with the next commit).
    fn finish(&mut self, mut run: Run) -> Result<(), LakeError> {
        self.catalog = std::mem::take(&mut run.catalog);
        run.close()?;
        let expired = self.catalog.expire_retired(unix_seconds(), RETIRED_FILES_KEPT.as_secs());
        self.lake.remove_unlisted(&self.lock, &self.catalog, &expired)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct InputCounts {
    records: u64,
    quarantined: u64,
    bytes: u64,
}

/// Files merged, and the files they were merged into; and files of a row group or more
/// rewritten alone with their rows sorted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub files: usize,
    pub into: usize,
    pub sorted: usize,
}

impl Merged {
    /// True when nothing was merged or sorted.
    pub fn is_empty(&self) -> bool {
        *self == Merged::default()
    }
}

impl std::fmt::Display for Merged {
    /// `merged 9 files into 2, sorted 1 full file`, each part when it happened.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let merged = (self.into > 0).then(|| format!("merged {} files into {}", self.files, self.into));
        let sorted = (self.sorted > 0).then(|| format!("sorted {} full file{}", self.sorted, plural(self.sorted)));
        f.write_str(&merged.into_iter().chain(sorted).collect::<Vec<_>>().join(", "))
    }
}

/// The state of an ingest between commits.
pub(crate) struct Run<'a> {
    lake: &'a Lake,
    catalog: Catalog,
    txn: Transaction,
    writers: HashMap<(Arc<str>, PartitionKey), PartitionWriter>,
    staged: Vec<StagedFile>,
    completed: Vec<(String, IngestedInput)>,
    /// The checkpoints the next commit records.
    checkpoints: Vec<(String, u64)>,
    buffered: usize,
    uncommitted_bytes: u64,
}

/// One commit in the making: its name, staging directory and quarantine file.
struct Transaction {
    id: String,
    staging: PathBuf,
    quarantine: QuarantineWriter,
    next_file: AtomicU64,
}

impl Transaction {
    fn begin(lake: &Lake) -> Result<Transaction, LakeError> {
        let id = transaction_id();
        let staging = lake.root().join(STAGING_DIR).join(&id);
        std::fs::create_dir_all(&staging).map_err(LakeError::io(&staging))?;
        let quarantine = QuarantineWriter::new(staging.join("quarantine.jsonl"));
        Ok(Transaction { id, staging, quarantine, next_file: AtomicU64::new(0) })
    }

    fn file_name(&self) -> String {
        format!("part-{}-{:05}.parquet", self.id, self.next_file.fetch_add(1, Ordering::Relaxed))
    }
}

impl<'a> Run<'a> {
    pub(crate) fn new(lake: &'a Lake, catalog: Catalog) -> Result<Self, LakeError> {
        Ok(Run {
            lake,
            catalog,
            txn: Transaction::begin(lake)?,
            writers: HashMap::new(),
            staged: Vec::new(),
            completed: Vec::new(),
            checkpoints: Vec::new(),
            buffered: 0,
            uncommitted_bytes: 0,
        })
    }

    /// Hands each record to the writer of its table and partition.
    fn place(&mut self, records: Vec<(Arc<str>, PartitionKey, Map<String, Value>)>) {
        for (table, key, record) in records {
            self.writer(table, key).push(record);
        }
    }

    /// Hands the records of `tape`, stored as they are in `table`, to the writers of their
    /// partitions.
    fn place_tape(&mut self, table: &Arc<str>, tape: Tape) {
        let keys: Vec<PartitionKey> = (0..tape.len() as u32).into_par_iter().map(|row| PartitionKey::of_members(tape.record(row).members())).collect();
        let mut rows_of: HashMap<PartitionKey, Vec<u32>> = HashMap::new();
        for (row, key) in (0..).zip(keys) {
            rows_of.entry(key).or_default().push(row);
        }
        let tape = Arc::new(tape);
        for (key, rows) in rows_of {
            self.writer(table.clone(), key).push_on_tape(tape.clone(), rows);
        }
    }

    /// The writer of partition `key` of `table`, made when it is new.
    fn writer(&mut self, table: Arc<str>, key: PartitionKey) -> &mut PartitionWriter {
        self.writers.entry((table, key)).or_insert_with_key(|(table, key)| PartitionWriter::new(table.clone(), key.clone()))
    }

    /// Writes every partition's buffered records to the staging area, in parallel, and
    /// keeps the row groups being built within `limit` bytes.
    fn flush(&mut self, limit: usize) -> Result<(), LakeError> {
        self.write_partitions(false)?;
        self.bound_row_group_memory(limit)
    }

    /// Ends the largest unfinished row groups early while together they hold more than
    /// `limit` bytes: a partition that grows for the whole of a long input would
    /// otherwise keep a row group of up to [`crate::writer::ROWS_PER_ROW_GROUP`] rows in
    /// memory, and every partition at once.
    fn bound_row_group_memory(&mut self, limit: usize) -> Result<(), LakeError> {
        let mut writers: Vec<(usize, &mut PartitionWriter)> = self.writers.values_mut().map(|w| (w.row_group_bytes(), w)).collect();
        let mut held: usize = writers.iter().map(|(bytes, _)| bytes).sum();
        writers.sort_by_key(|(bytes, _)| std::cmp::Reverse(*bytes));
        for (bytes, writer) in writers {
            if held <= limit {
                break;
            }
            writer.end_row_group()?;
            held -= bytes;
        }
        Ok(())
    }

    /// Writes every partition's buffered records, in parallel, closing the open files when
    /// `close_files` is set, or when the partitions are too many to keep a file open each.
    fn write_partitions(&mut self, close_files: bool) -> Result<(), LakeError> {
        let close_files = close_files || self.writers.len() > MAX_OPEN_FILES;
        let txn = &self.txn;
        let name = || txn.file_name();
        let staging = &txn.staging;
        let closed: Vec<Vec<StagedFile>> = self
            .writers
            .par_iter_mut()
            .map(|(_, writer)| if close_files { writer.finish(staging, &name) } else { writer.flush(staging, &name) })
            .collect::<Result<_, _>>()?;
        self.staged.extend(closed.into_iter().flatten());
        self.buffered = 0;
        Ok(())
    }

    /// Makes everything staged so far part of the lake in one atomic catalog replacement.
    /// Returns the number of data files committed.
    fn commit(&mut self, notify: &mut dyn FnMut(Notice)) -> Result<usize, LakeError> {
        self.write_partitions(true)?;
        let quarantined = self.txn.quarantine.finish()?.map(Path::to_path_buf);
        if self.staged.is_empty() && quarantined.is_none() && self.completed.is_empty() && self.checkpoints.is_empty() {
            return Ok(0);
        }
        let mut catalog = self.catalog.clone();
        let mut directories = HashSet::new();
        let files = std::mem::take(&mut self.staged);
        let file_count = files.len();
        let mut by_table: HashMap<Arc<str>, Vec<StagedFile>> = HashMap::new();
        for file in files {
            by_table.entry(file.table.clone()).or_default().push(file);
        }
        let mut records = 0;
        let mut retired = Vec::new();
        for (name, files) in by_table {
            let table = catalog.tables.entry(name.to_string()).or_insert_with(|| TableEntry { shape: Shape::Null, files: Vec::new() });
            records += self.commit_table(&name, table, files, &mut directories, &mut retired)?;
        }
        if let Some(staged) = quarantined {
            let relative = format!("{QUARANTINE_DIR}/{}.jsonl", self.txn.id);
            directories.insert(move_into_lake(self.lake, &staged, &relative)?);
            catalog.quarantine.push(relative);
        }
        let inputs = self.completed.len();
        catalog.inputs.extend(self.completed.drain(..));
        for (stream, position) in std::mem::take(&mut self.checkpoints) {
            catalog.checkpoints.insert(stream, position);
        }
        catalog.retire(retired, unix_seconds());
        self.publish(catalog, &directories)?;
        notify(Notice::Committed { inputs, records, files: file_count });
        std::fs::remove_dir_all(&self.txn.staging).map_err(LakeError::io(&self.txn.staging))?;
        self.txn = Transaction::begin(self.lake)?;
        self.uncommitted_bytes = 0;
        Ok(file_count)
    }

    /// Moves a table's staged files into the lake and adds them to its catalog entry,
    /// rewriting older files the widened schema cannot read. Returns the rows added.
    fn commit_table(
        &self,
        name: &str,
        table: &mut TableEntry,
        files: Vec<StagedFile>,
        directories: &mut HashSet<PathBuf>,
        retired: &mut Vec<String>,
    ) -> Result<u64, LakeError> {
        let mut shape = std::mem::take(&mut table.shape);
        let before = shape.clone();
        let existing_files = table.files.len();
        let mut records = 0;
        // The files of this commit whose own schema the merged one cannot read (a partition
        // that saw objects where another saw text), found before they move.
        let mut mixed = Vec::new();
        for file in &files {
            shape.merge(file.shape.clone());
        }
        for file in &files {
            let file_name = file.path.file_name().expect("staged files have names").to_string_lossy();
            let relative = format!("{TABLES_DIR}/{}/{}/{file_name}", escape(name), file.key.directory());
            directories.insert(move_into_lake(self.lake, &file.path, &relative)?);
            if needs_rewrite(&DataType::Struct(file.schema.fields().clone()), &shape.storage_type()) {
                mixed.push(table.files.len());
            }
            records += file.rows;
            table.files.push(DataFile {
                path: relative,
                rows: file.rows,
                bytes: file.bytes,
                source: file.key.source.clone(),
                day: file.key.day.clone(),
                last_day: None,
                event_ids: file.event_ids.clone(),
                channel: Some(file.channel),
                sorted: false,
            });
        }
        let older_need_it = needs_rewrite(&before.storage_type(), &shape.storage_type());
        if older_need_it || !mixed.is_empty() {
            let target = shape.storage_schema();
            let older = if older_need_it { 0..existing_files } else { 0..0 };
            for index in older.chain(mixed) {
                let entry = &mut table.files[index];
                let staged = self.txn.staging.join(self.txn.file_name());
                if let Some(bytes) = rewrite_if_needed(self.lake, entry, &target, &staged)? {
                    retired.push(entry.path.clone());
                    entry.path = move_in_place_of(self.lake, &staged, &entry.path, directories)?;
                    entry.bytes = bytes;
                }
            }
        }
        table.shape = shape;
        Ok(records)
    }

    /// Merges the small files of the partitions this run wrote (see
    /// [`Run::merge_small_files`]). Files that are not here are left alone: in the working
    /// copy of a lake on an object store, those the store held before.
    fn merge_written(&mut self, min_files: usize) -> Result<usize, LakeError> {
        let written: Vec<(Arc<str>, PartitionKey)> = self.writers.keys().cloned().collect();
        let touched: HashSet<(&str, &str, &str)> =
            written.iter().map(|(table, key)| (table.as_ref(), key.source.as_str(), key.day.as_str())).collect();
        let lake = self.lake;
        self.merge_small_files(min_files, |table, f| touched.contains(&(table, f.source.as_str(), f.day.as_str())) && lake.path_of(&f.path).is_file())
    }

    /// Merges the small files of each partition this ingest wrote into files of at most
    /// one row group, and commits the merge. Returns how many fewer files the lake holds.
    /// The files merged stay on disk, retired, for readers of the catalog before (see
    /// [`RETIRED_FILES_KEPT`]). `touched` says which files (of which table) may be merged;
    /// groups of fewer than `min_files` files are left alone.
    fn merge_small_files(&mut self, min_files: usize, touched: impl Fn(&str, &DataFile) -> bool) -> Result<usize, LakeError> {
        let merged = self.merge_groups(|name, table| plan_merges(table, min_files, |f| touched(name, f)), RowOrder::AsStored)?;
        Ok(merged.files - merged.into)
    }

    /// Merges the groups of files `plan` gives for each table (as indices into its files),
    /// each into one file of rows in `order` that takes the place of its first, and commits
    /// them together. The files merged are retired.
    pub(crate) fn merge_groups(&mut self, plan: impl Fn(&str, &TableEntry) -> Vec<Vec<usize>>, order: RowOrder) -> Result<Merged, LakeError> {
        let mut catalog = self.catalog.clone();
        let mut directories = HashSet::new();
        let mut merged = Merged::default();
        let mut retired = Vec::new();
        let (lake, txn) = (self.lake, &self.txn);
        for (name, table) in catalog.tables.iter_mut() {
            let groups = plan(name, table);
            let written: Vec<(PathBuf, DataFile)> = groups
                .par_iter()
                .map(|group| {
                    let staged = txn.staging.join(txn.file_name());
                    let files: Vec<&DataFile> = group.iter().map(|&i| &table.files[i]).collect();
                    let file = merge_files(lake, &files, order, &staged)?;
                    Ok((staged, file))
                })
                .collect::<Result<_, LakeError>>()?;
            let mut replaced: HashSet<usize> = HashSet::new();
            for (group, (staged, mut file)) in groups.iter().zip(written) {
                retired.extend(group.iter().map(|&i| table.files[i].path.clone()));
                file.path = move_in_place_of(lake, &staged, &table.files[group[0]].path, &mut directories)?;
                table.files[group[0]] = file;
                replaced.extend(&group[1..]);
                match group.len() {
                    1 => merged.sorted += 1,
                    files => (merged.files, merged.into) = (merged.files + files, merged.into + 1),
                }
            }
            let mut index = 0;
            table.files.retain(|_| {
                index += 1;
                !replaced.contains(&(index - 1))
            });
        }
        if !retired.is_empty() {
            catalog.retire(retired, unix_seconds());
            self.publish(catalog, &directories)?;
        }
        Ok(merged)
    }

    /// Makes `catalog` the lake's, once the files moved into `directories` are durable.
    fn publish(&mut self, catalog: Catalog, directories: &HashSet<PathBuf>) -> Result<(), LakeError> {
        for directory in directories {
            sync_directory(directory)?;
        }
        catalog.save(&self.lake.catalog_path())?;
        self.catalog = catalog;
        Ok(())
    }

    /// Removes the staging area of the transaction that was begun but will not be used.
    pub(crate) fn close(self) -> Result<(), LakeError> {
        let staging = &self.txn.staging;
        std::fs::remove_dir_all(staging).map_err(LakeError::io(staging))?;
        let parent = staging.parent().expect("staging is inside the lake");
        // Another writer cannot be staging here (we hold the lock), so an empty parent goes too.
        let _ = std::fs::remove_dir(parent);
        Ok(())
    }
}

/// Moves a staged file into the directory of the lake file `replaced` (relative to the
/// lake), which it replaces, keeping its staged name; returns its path relative to the lake
/// and adds its directory to `directories`.
fn move_in_place_of(lake: &Lake, staged: &Path, replaced: &str, directories: &mut HashSet<PathBuf>) -> Result<String, LakeError> {
    let directory = replaced.rsplit_once('/').map_or("", |(d, _)| d);
    let name = staged.file_name().expect("staged files have names").to_string_lossy();
    let relative = format!("{directory}/{name}");
    directories.insert(move_into_lake(lake, staged, &relative)?);
    Ok(relative)
}

/// Moves a staged file to its place in the lake; returns the directory it went to.
fn move_into_lake(lake: &Lake, staged: &Path, relative: &str) -> Result<PathBuf, LakeError> {
    let target = lake.path_of(relative);
    let directory = target.parent().expect("lake paths have a directory").to_path_buf();
    std::fs::create_dir_all(&directory).map_err(LakeError::io(&directory))?;
    std::fs::rename(staged, &target).map_err(LakeError::io(&target))?;
    Ok(directory)
}

fn event_input(event: &RecordEvent) -> usize {
    match event {
        RecordEvent::Records { input, .. }
        | RecordEvent::Bad { input, .. }
        | RecordEvent::Warning { input, .. }
        | RecordEvent::Unreadable { input, .. }
        | RecordEvent::InputDone { input, .. } => *input,
    }
}

fn error_path(error: &hela_source::SourceError) -> String {
    match error {
        hela_source::SourceError::Io { path, .. } | hela_source::SourceError::Zip { path, .. } | hela_source::SourceError::Failed { path, .. } => path.display().to_string(),
    }
}

pub(crate) fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A name unique to this commit: time, process and a counter.
pub(crate) fn transaction_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos:x}-{:x}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    /// The row groups of each file of the lake's `events` table, and its rows.
    fn ingest_with(row_group_memory: usize) -> (Vec<usize>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("events.json");
        let lines: String = (0..40_000)
            .map(|i| format!("{{\"EventID\":{},\"Channel\":\"Security\",\"CommandLine\":\"cmd.exe /c echo {i:08}\"}}\n", i % 7))
            .collect();
        std::fs::write(&input, lines).unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let read = ReadOptions { chunk_bytes: 16 << 10, ..ReadOptions::default() };
        let options = IngestOptions { read, buffer_bytes: 16 << 10, row_group_memory, ..IngestOptions::default() };
        let summary = ingest(&lake, &[input], &options, &IngestProgress::default(), &mut |_| {}).unwrap();
        let files = &lake.catalog().unwrap().tables["events"].files;
        let groups = files
            .iter()
            .map(|f| SerializedFileReader::new(File::open(lake.path_of(&f.path)).unwrap()).unwrap().metadata().num_row_groups())
            .collect();
        (groups, summary.records_stored)
    }

    /// Stores every record as it is in `events`, as the raw schema does, but is not known to:
    /// an ingest hands it each record as a map.
    #[derive(Debug, Default)]
    struct RawAsMaps(RawEvents);

    impl Router for RawAsMaps {
        fn schema(&self) -> &str {
            self.0.schema()
        }

        fn route(&self, record: Map<String, Value>) -> (Arc<str>, Map<String, Value>) {
            self.0.route(record)
        }
    }

    /// Each file of the lake's `events` table as cataloged, without its name, with its bytes;
    /// and the quarantine's lines.
    fn stored(lake: &Lake) -> (Vec<(DataFile, Vec<u8>)>, Vec<String>) {
        let catalog = lake.catalog().unwrap();
        let mut files: Vec<_> = catalog.tables["events"]
            .files
            .iter()
            .map(|file| (DataFile { path: String::new(), ..file.clone() }, std::fs::read(lake.path_of(&file.path)).unwrap()))
            .collect();
        files.sort_by(|a, b| (&a.0.source, &a.0.day, &a.1).cmp(&(&b.0.source, &b.0.day, &b.1)));
        let quarantine = catalog.quarantine.iter().flat_map(|q| std::fs::read_to_string(lake.path_of(q)).unwrap().lines().map(String::from).collect::<Vec<_>>()).collect();
        (files, quarantine)
    }

    #[test]
    fn records_read_onto_tapes_are_stored_as_records_read_as_maps_are() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("events.json");
        let mut lines = String::new();
        for i in 0..3000u64 {
            let line = match i % 10 {
                0 => format!(r#"{{"EventID":{},"Channel":"Security","@timestamp":"2020-09-2{}T01:02:03Z","CommandLine":"cmd.exe /c \"echo {i}\"","n":{i}}}"#, i % 7, i % 3),
                1 => format!(r#"{{"Channel":"Microsoft-Windows-Sysmon/Operational","n":{}.5,"event_data":{{"Image":"C:\\x.exe","ProcessId":{i},"Tags":["a",{i}]}},"@timestamp":"2020-09-21T01:00:00Z"}}"#, i),
                2 => format!(r#"{{"log_name":"Security","event_data":{{"ProcessId":"0x{i:x}","Nested":{{"deep":[{{"x":null}},{{"x":1}}]}}}},"n":{}}}"#, (1u64 << 53) + i),
                3 => format!(r#"{{"@stream":"conn","ts":{}.25,"id.orig_h":"10.0.0.{}","big":18446744073709551615}}"#, 1_600_000_000 + i, i % 255),
                4 => format!(r#"[{{"_path":"dns","query":"a{i}.example"}},{{"_path":"dns","query":"b{i}.example","n":"text"}}]"#),
                5 => format!(r#"{{"Channel":{},"EventID":"{i}","n":null,"e":{{}},"l":[]}}"#, i % 3),
                6 => format!(r#"{{"Channel":null,"log_name":"System","caf\u00e9":"\u00e9t\u00e9","EventID":{}}}"#, i % 70),
                7 => r#"{"a":1,"a":2}"#.to_string(),
                8 => format!(r#"{{"EventID":{},"Channel":"Security","@timestamp":"2020-09-21T0","x":{{"y":{i}}}}}"#, i % 7),
                _ => "not json".to_string(),
            };
            lines.push_str(&line);
            lines.push('\n');
        }
        std::fs::write(&input, lines).unwrap();
        let read = ReadOptions { chunk_bytes: 8 << 10, ..ReadOptions::default() };
        let ingest_as = |router: Arc<dyn Router>, name: &str| {
            let lake = Lake::new(dir.path().join(name));
            let options = IngestOptions { read: read.clone(), buffer_bytes: 64 << 10, router, ..IngestOptions::default() };
            let summary = ingest(&lake, std::slice::from_ref(&input), &options, &IngestProgress::default(), &mut |_| {}).unwrap();
            (summary.records_stored, summary.records_quarantined, stored(&lake))
        };
        let on_tapes = ingest_as(Arc::new(RawEvents::default()), "tapes");
        let as_maps = ingest_as(Arc::new(RawAsMaps::default()), "maps");
        assert_eq!((on_tapes.0, on_tapes.1), (2700, 600));
        assert_eq!(on_tapes.2.0.len(), 11, "the partitions of the sources and days above");
        assert_eq!(on_tapes.2.1.len(), 600);
        assert!(on_tapes == as_maps, "the same files, byte for byte, and the same quarantine");
    }

    #[test]
    fn row_groups_end_early_when_together_they_outgrow_their_memory() {
        assert_eq!(ingest_with(192 << 20), (vec![1], 40_000), "one row group while memory allows");
        let (groups, rows) = ingest_with(1);
        assert_eq!((groups.len(), rows), (1, 40_000), "the same file and rows");
        assert!(groups[0] > 10, "{groups:?} row groups: one per flush of the buffered input");
    }

    fn record(n: u64) -> Map<String, Value> {
        let value = serde_json::json!({"@timestamp": "2020-09-21T19:00:00Z", "Channel": "Security", "EventID": 4624, "n": n});
        value.as_object().unwrap().clone()
    }

    #[test]
    fn whole_numbers_beyond_two_to_the_53_stay_exact_when_a_later_commit_brings_fractions() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let options = IngestOptions::default();
        for (name, line) in [("big.json", "{\"n\":9007199254740993}\n"), ("fraction.json", "{\"n\":0.5}\n")] {
            let input = dir.path().join(name);
            std::fs::write(&input, line).unwrap();
            ingest(&lake, &[input], &options, &IngestProgress::default(), &mut |_| {}).unwrap();
        }
        let Shape::Object(fields) = &lake.catalog().unwrap().tables["events"].shape else { panic!("an object shape") };
        assert_eq!(fields["n"], Shape::Str, "text, not a double that cannot hold 2^53 + 1");
    }

    #[test]
    fn a_lake_of_sampled_fingerprints_still_recognises_its_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("events.json");
        let lines: String = (0..300_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
        assert!(lines.len() > 2 << 20, "long enough for the two fingerprints to differ");
        std::fs::write(&input, lines).unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let options = IngestOptions::default();
        let run = |lake: &Lake| ingest(lake, std::slice::from_ref(&input), &options, &IngestProgress::default(), &mut |_| {}).unwrap();
        assert_eq!(run(&lake).records_stored, 300_000);
        // As an earlier hela recorded it: with no length, so that the input is hashed before it is read.
        let mut catalog = lake.catalog().unwrap();
        let mut entry = catalog.inputs.pop_first().unwrap().1;
        entry.bytes = None;
        let sampled = crate::fingerprint::sampled_fingerprint(&input).unwrap();
        assert_ne!(sampled, crate::fingerprint::fingerprint(&input).unwrap());
        catalog.inputs.insert(sampled, entry);
        catalog.save(&lake.catalog_path()).unwrap();
        let again = run(&lake);
        assert_eq!((again.inputs_skipped, again.records_stored), (1, 0));
    }

    #[test]
    fn inputs_no_other_is_as_long_as_are_fingerprinted_while_they_are_read() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let lines: String = (0..50_000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
        let plain = dir.path().join("events.json");
        std::fs::write(&plain, &lines).unwrap();
        let gzip = dir.path().join("events.json.gz");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&gzip).unwrap(), flate2::Compression::fast());
        encoder.write_all(lines.as_bytes()).unwrap();
        encoder.finish().unwrap();
        // A zip archive is read where its members are, so it is hashed again once read.
        let zipped = dir.path().join("events.zip");
        let mut archive = zip::ZipWriter::new(File::create(&zipped).unwrap());
        archive.start_file("events.json", zip::write::SimpleFileOptions::default()).unwrap();
        archive.write_all(lines.as_bytes()).unwrap();
        archive.finish().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let inputs = [plain.clone(), gzip.clone(), zipped.clone()];
        let run = |lake: &Lake, inputs: &[PathBuf]| ingest(lake, inputs, &IngestOptions::default(), &IngestProgress::default(), &mut |_| {}).unwrap();
        let first = run(&lake, &inputs);
        assert_eq!((first.inputs_read, first.records_stored, first.warnings), (3, 150_000, 0));
        let catalog = lake.catalog().unwrap();
        for input in &inputs {
            let recorded = &catalog.inputs[&crate::fingerprint::fingerprint(input).unwrap()];
            assert_eq!(recorded.bytes, Some(std::fs::metadata(input).unwrap().len()), "{}", input.display());
        }
        // The lake now holds inputs of these lengths: they are hashed first, and skipped.
        let (copy, second_copy) = (dir.path().join("copy.json"), dir.path().join("second copy.json"));
        std::fs::copy(&plain, &copy).unwrap();
        std::fs::copy(&plain, &second_copy).unwrap();
        let again = run(&lake, &[plain, gzip, zipped, copy.clone()]);
        assert_eq!((again.inputs_skipped, again.records_stored), (4, 0));
        // Two inputs of one length are hashed first, and the same file is read once.
        let copies = run(&Lake::new(dir.path().join("another lake")), &[copy, second_copy]);
        assert_eq!((copies.inputs_read, copies.inputs_skipped, copies.records_stored), (1, 1, 50_000));
    }

    #[test]
    fn an_append_commits_its_records_quarantine_and_checkpoint_together_and_merges_once_files_are_many() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::new(dir.path().join("lake"));
        let mut appender = Appender::open(&lake, Arc::new(RawEvents::default())).unwrap();
        assert!(matches!(Appender::open(&lake, Arc::new(RawEvents::default())), Err(LakeError::Locked(_))), "one writer");
        let bad = BadRecord::new(hela_source::Origin::file("POST /_bulk"), 3, "not JSON".into(), b"{x");
        let batch = AppendBatch {
            records: vec![record(1), record(2)],
            placed: vec![(Arc::from("detections"), record(3))],
            bad: vec![bad],
            checkpoints: vec![("wal".into(), 7), ("kafka/t/0".into(), 3)],
        };
        let summary = appender.append(batch).unwrap();
        assert_eq!((summary.records_stored, summary.records_quarantined, summary.files_written), (3, 1, 2));
        let catalog = lake.catalog().unwrap();
        assert_eq!(catalog.checkpoints["wal"], 7);
        assert_eq!(catalog.checkpoints["kafka/t/0"], 3);
        assert_eq!(catalog.tables["events"].files.iter().map(|f| f.rows).sum::<u64>(), 2);
        assert_eq!(catalog.tables["detections"].files.iter().map(|f| f.rows).sum::<u64>(), 1, "placed, not routed");
        let quarantine = std::fs::read_to_string(lake.path_of(&catalog.quarantine[0])).unwrap();
        assert!(quarantine.contains("POST /_bulk") && quarantine.contains("not JSON"), "{quarantine}");

        for n in 0..APPEND_MERGE_MIN_FILES as u64 - 2 {
            appender.append(AppendBatch { records: vec![record(n)], checkpoints: vec![("wal".into(), 8 + n)], ..AppendBatch::default() }).unwrap();
        }
        assert_eq!(lake.catalog().unwrap().tables["events"].files.len(), APPEND_MERGE_MIN_FILES - 1, "a few small files stay");
        let summary = appender.append(AppendBatch { records: vec![record(99)], checkpoints: vec![("wal".into(), 20)], ..AppendBatch::default() }).unwrap();
        assert_eq!(summary.files_merged, APPEND_MERGE_MIN_FILES as u64 - 1);
        let catalog = lake.catalog().unwrap();
        assert_eq!((catalog.tables["events"].files.len(), catalog.tables["events"].files[0].rows), (1, 2 + APPEND_MERGE_MIN_FILES as u64 - 1));
        assert_eq!(catalog.checkpoints["wal"], 20);
        drop(appender);
        assert!(lake.lock().is_ok(), "the lock goes with the appender");
        let on_disk = |dir: &Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let partition = lake.path_of(&catalog.tables["events"].files[0].path).parent().unwrap().to_path_buf();
        assert_eq!(on_disk(&partition), APPEND_MERGE_MIN_FILES + 1, "the merged files stay for the queries reading them");
    }
}
