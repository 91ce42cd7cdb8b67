//! Indicators standing on the server (`--intel FILE`): each file is loaded into the lake's
//! `indicators` table once (its fingerprint is committed with it), through the store like
//! everything the server stores; then the whole table is the watchlist every event stored
//! is looked up in. The files are read again when they change and on SIGHUP.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, concat_batches, take_record_batch};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use hela_intel::{INDICATORS_TABLE, Watchlist, checkpoint, read_file};
use hela_live::{Live, WATCH_INTERVAL};
use hela_sql::Session;

use crate::store::{Placed, Placer};

/// The indicator files, and what they were when last read.
pub(crate) struct StandingIntel {
    files: Vec<PathBuf>,
    stamp: Vec<Option<(u64, SystemTime)>>,
}

impl StandingIntel {
    pub(crate) fn new(files: Vec<PathBuf>) -> StandingIntel {
        StandingIntel { files, stamp: Vec::new() }
    }

    /// Loads the files not loaded yet and makes the lake's indicators stand; at start an
    /// error stops the server, later it is reported and the indicators standing stay.
    pub(crate) async fn refresh(&mut self, placer: &Placer, session: &Session, live: &Live) -> Result<(), String> {
        self.stamp = self.files.iter().map(stamp).collect();
        let mut loaded = 0;
        for file in &self.files {
            let checkpoint = checkpoint(file)?;
            if placer.position(&checkpoint).is_some() {
                continue;
            }
            let read = read_file(file, checkpoint)?;
            for bad in read.bad() {
                eprintln!("warning: {}: refused (quarantined): {}", file.display(), bad.reason);
            }
            let (stored, refused) = (read.batch.records.len(), read.bad().len());
            let table: Arc<str> = Arc::from(INDICATORS_TABLE);
            let placed = Placed {
                records: read.batch.records.into_iter().map(|r| (table.clone(), r)).collect(),
                bad: read.batch.bad,
                checkpoints: read.batch.checkpoints,
                ..Placed::default()
            };
            placer.place_committed(placed).await.map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!("{}: {stored} indicators loaded ({}), {refused} refused", file.display(), read.format);
            loaded += 1;
        }
        if loaded > 0 {
            session.reload_lake().map_err(|e| e.to_string())?;
        }
        let watchlist = watchlist(session).await?;
        eprintln!("{} indicators standing", watchlist.len());
        live.set_indicators(watchlist);
        Ok(())
    }

    /// Whether a file changed since it was last read.
    fn changed(&self) -> bool {
        self.files.iter().map(stamp).ne(self.stamp.iter().copied())
    }

    /// Reads the files again when they change, and on each SIGHUP, until the server stops.
    pub(crate) async fn watch(mut self, placer: Placer, session: Arc<Session>, live: Arc<Live>) {
        #[cfg(unix)]
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let hung_up = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await.is_some(),
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hung_up = std::future::pending::<bool>();
            let forced = tokio::select! {
                _ = tokio::time::sleep(WATCH_INTERVAL) => false,
                got = hung_up => got,
            };
            if (forced || self.changed())
                && let Err(e) = self.refresh(&placer, &session, &live).await
            {
                eprintln!("error: indicators not reloaded ({e}); the indicators standing stay");
            }
        }
    }
}

/// The lake's indicators, indexed; none when nothing was loaded.
async fn watchlist(session: &Session) -> Result<Watchlist, String> {
    let context = session.context();
    if !context.table_exist(INDICATORS_TABLE).map_err(|e| e.to_string())? {
        return Ok(Watchlist::empty());
    }
    let frame = context.table(INDICATORS_TABLE).await.map_err(|e| e.to_string())?;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await.map_err(|e| e.to_string())?;
    let rows = concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
    Watchlist::new(latest_of_each(&rows).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

/// One row per indicator (type, value and source), the last stored: a file loaded again
/// after a change repeats the indicators it kept, which must not raise two alerts.
fn latest_of_each(rows: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let text = |name: &str| rows.column_by_name(name).map(|c| cast(c, &DataType::Utf8)).transpose();
    let columns = [text("type")?, text("value")?, text("source")?];
    let mut last: HashMap<[Option<&str>; 3], u32> = HashMap::new();
    for row in 0..rows.num_rows() {
        let key = [0, 1, 2].map(|i| columns[i].as_ref().and_then(|c| c.as_string::<i32>().is_valid(row).then(|| c.as_string::<i32>().value(row))));
        last.insert(key, row as u32);
    }
    let mut keep: Vec<u32> = last.into_values().collect();
    keep.sort_unstable();
    take_record_batch(rows, &UInt32Array::from(keep))
}

/// A file's size and modification time; none when it cannot be read.
fn stamp(file: &PathBuf) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(file).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}
