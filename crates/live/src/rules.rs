//! The Sigma rules standing on the server: loaded once, swapped whole when their files
//! change. A reload that would lose a rule that works (its file no longer loads) or leave
//! no rule at all is refused, and the rules standing stay.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use hela_hunt::rules::{LoadedRules, Selection, load};
use hela_sigma::{Engine, Rejected, ScheduledQuery, rule_files};

/// One loaded set of rules.
pub struct RuleBook {
    /// The rules kept; none when no rule was kept.
    pub engine: Option<Engine>,
    /// The scheduled queries kept.
    pub scheduled: Vec<ScheduledQuery>,
    /// Rule files refused, with the reason.
    pub rejected: Vec<Rejected>,
    /// Files holding a rule that loaded.
    files: BTreeSet<PathBuf>,
}

impl RuleBook {
    fn new(loaded: LoadedRules) -> RuleBook {
        let mut files: BTreeSet<PathBuf> = loaded.engine.iter().flat_map(|e| (0..e.len()).map(|i| e.meta(i).path.clone())).collect();
        files.extend(loaded.scheduled.iter().map(|q| q.meta.path.clone()));
        RuleBook { engine: loaded.engine, scheduled: loaded.scheduled, rejected: loaded.rejected, files }
    }

    /// How many rules, correlations and scheduled queries stand.
    pub fn len(&self) -> usize {
        self.engine.as_ref().map_or(0, |e| e.len()) + self.scheduled.len()
    }

    /// Whether no rule stands.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a reload did.
#[derive(Debug)]
pub enum Reload {
    /// No rule file changed.
    Unchanged,
    /// The new rules stand; `rejected` are the files refused among them.
    Loaded { rules: usize, rejected: Vec<Rejected> },
    /// The rules standing stay: `why`, with the files that failed.
    Kept { why: String, rejected: Vec<Rejected> },
}

/// The rules standing, and where they are read from.
pub struct StandingRules {
    paths: Vec<PathBuf>,
    selection: Selection,
    book: RwLock<Arc<RuleBook>>,
    /// The rule files' names, sizes and modification times at the last load.
    stamp: Mutex<Vec<(PathBuf, u64, Option<SystemTime>)>>,
}

/// Why rules cannot stand at start.
#[derive(Debug, thiserror::Error)]
#[error("no Sigma rule to stand in {paths}{}", rejected_summary(.rejected))]
pub struct NoRules {
    pub paths: String,
    pub rejected: Vec<Rejected>,
}

fn rejected_summary(rejected: &[Rejected]) -> String {
    match rejected.first() {
        Some(first) => format!(" ({} refused; {}: {})", rejected.len(), first.path.display(), first.reason),
        None => String::new(),
    }
}

impl StandingRules {
    /// Loads the rules under `paths` that `selection` keeps; an error when none is kept.
    pub fn load(paths: Vec<PathBuf>, selection: Selection) -> Result<StandingRules, NoRules> {
        let stamp = stamp(&paths);
        let book = RuleBook::new(load(&paths, &selection));
        if book.is_empty() {
            return Err(NoRules { paths: hela_hunt::display(&paths), rejected: book.rejected });
        }
        Ok(StandingRules { paths, selection, book: RwLock::new(Arc::new(book)), stamp: Mutex::new(stamp) })
    }

    /// No rules, for a server where only indicators stand.
    pub fn none() -> StandingRules {
        let book = RuleBook::new(LoadedRules { engine: None, scheduled: Vec::new(), loaded: 0, rejected: Vec::new() });
        StandingRules { paths: Vec::new(), selection: Selection::default(), book: RwLock::new(Arc::new(book)), stamp: Mutex::new(Vec::new()) }
    }

    /// The rules standing now.
    pub fn current(&self) -> Arc<RuleBook> {
        self.book.read().expect("not poisoned").clone()
    }

    /// Reads the rules again when a rule file was added, changed or removed since the last
    /// load (`force` reads them regardless).
    pub fn reload(&self, force: bool) -> Reload {
        if self.paths.is_empty() {
            return Reload::Unchanged;
        }
        let mut stamp_now = self.stamp.lock().expect("not poisoned");
        let fresh = stamp(&self.paths);
        if !force && fresh == *stamp_now {
            return Reload::Unchanged;
        }
        *stamp_now = fresh;
        let book = RuleBook::new(load(&self.paths, &self.selection));
        let current = self.current();
        let broken: Vec<Rejected> = book.rejected.iter().filter(|r| current.files.contains(&r.path)).cloned().collect();
        if !broken.is_empty() {
            return Reload::Kept { why: "a rule file that loaded before no longer does".into(), rejected: broken };
        }
        if book.is_empty() {
            return Reload::Kept { why: "no rule would stand".into(), rejected: book.rejected };
        }
        let (rules, rejected) = (book.len(), book.rejected.clone());
        *self.book.write().expect("not poisoned") = Arc::new(book);
        Reload::Loaded { rules, rejected }
    }
}

/// The rule files' names, sizes and modification times.
fn stamp(paths: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let (files, _) = rule_files(paths);
    files
        .into_iter()
        .map(|file| {
            let meta = std::fs::metadata(&file).ok();
            let (len, modified) = meta.map_or((0, None), |m| (m.len(), m.modified().ok()));
            (file, len, modified)
        })
        .collect()
}
