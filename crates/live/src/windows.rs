//! The standing correlations' open windows, saved with each commit: before a fold is
//! committed, windows changed by it are written (and synced) to `live/windows/<n>.json` in
//! the lake, and the commit records `n`; a restart reads the
//! windows of the last commit, so a half-open window is not forgotten, and a commit that
//! fails puts the windows back as that commit left them.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hela_hunt::{Correlations, Detection};

use crate::rules::RuleBook;

/// The catalog checkpoint naming the windows' file of the last commit.
pub const WINDOWS_CHECKPOINT: &str = "correlations";

/// The correlations' windows and where they are saved.
pub struct Windows {
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    /// The rules the correlations belong to.
    book: Option<Arc<RuleBook>>,
    correlations: Option<Correlations>,
    /// The number of the windows' file the lake's last commit records (0: none).
    committed: u64,
    /// Whether the windows changed since.
    dirty: bool,
    /// When what the correlations had to leave out was last reported.
    reported: Option<Instant>,
}

/// How often what the correlations leave out (late, untimed, dropped) is reported.
const REPORT_EVERY: Duration = Duration::from_secs(60);

impl Windows {
    /// The windows saved in `dir` as file `committed` (none when 0), for the rules of
    /// `book`.
    pub fn open(dir: PathBuf, committed: u64, book: &Arc<RuleBook>) -> std::io::Result<Windows> {
        let windows = Windows { dir, state: Mutex::new(State { book: None, correlations: None, committed, dirty: false, reported: None }) };
        windows.state.lock().expect("not poisoned").follow(book, &windows.dir)?;
        Ok(windows)
    }

    /// Where the windows are saved.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Feeds `detections` (in arrival order) to the correlations of `book`, in event time;
    /// returns the detections raised on their own, then the correlations'.
    pub fn run(&self, book: &Arc<RuleBook>, detections: Vec<Detection>) -> Vec<Detection> {
        let mut state = self.state.lock().expect("not poisoned");
        if let Err(e) = state.follow(book, &self.dir) {
            eprintln!("error: the correlations' windows could not be carried over to the reloaded rules: {e}");
        }
        let (Some(engine), Some(correlations)) = (book.engine.as_ref(), state.correlations.as_mut()) else { return detections };
        let mut out = correlations.take(detections, engine);
        let changed = correlations.queued() > 0;
        if changed {
            out.extend(correlations.run(engine, true));
        }
        let notes = correlations.notes();
        state.dirty |= changed;
        if !notes.is_empty() && state.reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            notes.iter().for_each(|note| eprintln!("warning: correlations since start: {note}"));
            state.reported = Some(Instant::now());
        }
        out
    }

    /// Writes the windows changed since the last commit, synced, and returns the number
    /// the next commit records; none when nothing changed.
    pub fn stage(&self) -> std::io::Result<Option<u64>> {
        let state = self.state.lock().expect("not poisoned");
        let Some(correlations) = state.correlations.as_ref().filter(|_| state.dirty) else { return Ok(None) };
        let next = state.committed + 1;
        std::fs::create_dir_all(&self.dir)?;
        let path = file(&self.dir, next);
        let mut out = BufWriter::new(File::create(&path)?);
        correlations.save(&mut out).map_err(std::io::Error::other)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        File::open(&self.dir)?.sync_all()?;
        Ok(Some(next))
    }

    /// The commit recording windows' file `number` (from [`Windows::stage`]) succeeded:
    /// older files go.
    pub fn committed(&self, number: u64) {
        let mut state = self.state.lock().expect("not poisoned");
        state.committed = number;
        state.dirty = false;
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let older = file_number(&entry.path()).is_some_and(|n| n < number);
                if older {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// The commit failed: the windows go back to those of the last commit.
    pub fn roll_back(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if !state.dirty {
            return;
        }
        let book = state.book.take();
        state.correlations = None;
        state.dirty = false;
        if let Some(book) = book
            && let Err(e) = state.follow(&book, &self.dir)
        {
            eprintln!("error: the correlations' windows of the last commit could not be read back: {e}");
        }
    }
}

impl State {
    /// Makes the correlations those of `book`: after a reload, the windows of correlations
    /// that did not change are carried over; at start, they are read from the last commit.
    fn follow(&mut self, book: &Arc<RuleBook>, dir: &Path) -> std::io::Result<()> {
        if self.book.as_ref().is_some_and(|b| Arc::ptr_eq(b, book)) {
            return Ok(());
        }
        let carried = match (&self.correlations, self.book.is_some()) {
            (Some(old), _) => {
                let mut bytes = Vec::new();
                old.save(&mut bytes).map_err(std::io::Error::other)?;
                Some(bytes)
            }
            (None, false) if self.committed > 0 => Some(std::fs::read(file(dir, self.committed))?),
            _ => None,
        };
        self.book = Some(book.clone());
        self.correlations = book.engine.as_ref().and_then(Correlations::new);
        if let (Some(correlations), Some(bytes)) = (self.correlations.as_mut(), carried) {
            correlations.restore(BufReader::new(bytes.as_slice())).map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

fn file(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.json"))
}

fn file_number(path: &Path) -> Option<u64> {
    path.file_name()?.to_str()?.strip_suffix(".json")?.parse().ok()
}
