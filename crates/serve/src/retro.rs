//! Retro-hunts on the server ([`hela_live::retro`]): a thread watches the standing rules,
//! and whenever some were never run over the lake's history (at start, and after each
//! reload), runs them over the events the lake holds. Their past detections are stored in
//! the `detections` table with the next fold (those a live detection already holds are
//! left out), and only then are the rules remembered as run, in `live/retro-hunted.json`:
//! a crash in between runs them again, and stores nothing twice.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hela_hunt::DETECTIONS_TABLE;
use hela_lake::{EVENTS_TABLE, Lake, RawEvents, Router};
use hela_live::Live;
use hela_live::retro::{Found, RetroHunt, pending};
use hela_live::rules::RuleBook;
use hela_sql::Session;

use crate::alerts::{sql_text, stored_detection_ids};
use crate::store::{Placed, Placer};

/// The catalog checkpoint counting the retro-hunts stored.
const RETRO_CHECKPOINT: &str = "retro-hunts";

/// How often the standing rules are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How long a retro-hunt that failed waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The thread running retro-hunts, and what they found.
pub struct RetroHunts {
    found: Mutex<BTreeMap<(String, String), Found>>,
    stop: AtomicBool,
}

impl RetroHunts {
    /// Starts watching the rules of `live` for those to run over the lake at `lake`.
    pub fn start(live: Arc<Live>, lake: &Lake, placer: Placer, session: Arc<Session>, runtime: tokio::runtime::Handle) -> std::io::Result<Arc<RetroHunts>> {
        let hunts = Arc::new(RetroHunts { found: Mutex::new(BTreeMap::new()), stop: AtomicBool::new(false) });
        let watcher = Watcher { hunts: hunts.clone(), live, root: lake.root().to_path_buf(), placer, session, runtime };
        // On a lake with no events yet, the rules standing now have no history to run
        // over: they are remembered before any event can arrive.
        let book = watcher.live.rules();
        let looked_at = match Lake::new(&watcher.root).catalog() {
            Ok(catalog) if !catalog.tables.contains_key(EVENTS_TABLE) => watcher.hunt(&book).is_ok().then_some(book),
            _ => None,
        };
        std::thread::Builder::new().name("hela-retro".into()).spawn(move || watcher.watch(looked_at))?;
        Ok(hunts)
    }

    /// What the retro-hunts of this run found for a rule (its id and title).
    pub fn found(&self, id: &str, title: &str) -> Option<Found> {
        self.found.lock().expect("not poisoned").get(&(id.to_string(), title.to_string())).cloned()
    }

    /// Stops watching (a retro-hunt under way is abandoned: the next start runs it again).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Watcher {
    hunts: Arc<RetroHunts>,
    live: Arc<Live>,
    root: PathBuf,
    placer: Placer,
    session: Arc<Session>,
    runtime: tokio::runtime::Handle,
}

impl Watcher {
    /// Looks at the standing rules until stopped (`looked_at`: the rules already seen to).
    fn watch(self, mut looked_at: Option<Arc<RuleBook>>) {
        crate::priority::lower_this_thread();
        while !self.stopping() {
            let book = self.live.rules();
            if !looked_at.as_ref().is_some_and(|b| Arc::ptr_eq(b, &book)) {
                match self.hunt(&book) {
                    Ok(()) => looked_at = Some(book),
                    Err(e) => {
                        eprintln!("error: retro-hunt: {e:#}; trying again in {} s", RETRY_AFTER.as_secs());
                        self.sleep(RETRY_AFTER);
                        continue;
                    }
                }
            }
            self.sleep(LOOK_EVERY);
        }
    }

    fn stopping(&self) -> bool {
        self.hunts.stop.load(Ordering::Relaxed)
    }

    fn sleep(&self, time: Duration) {
        let step = Duration::from_millis(100);
        let mut slept = Duration::ZERO;
        while slept < time && !self.stopping() {
            std::thread::sleep(step);
            slept += step;
        }
    }

    /// Runs the rules of `book` never run over the lake's history, stores what they find
    /// and remembers them.
    fn hunt(&self, book: &RuleBook) -> anyhow::Result<()> {
        let marker = self.root.join(hela_lake::LIVE_DIR).join("retro-hunted.json");
        let mut done = read_done(&marker)?;
        let Some(hunt) = pending(book, &done) else { return Ok(()) };
        let catalog = Lake::new(&self.root).catalog()?;
        let huntable = catalog.schema == RawEvents::default().schema() && catalog.tables.contains_key(EVENTS_TABLE);
        if huntable {
            let found = hunt.run(&self.root, &mut |w| eprintln!("warning: retro-hunt: {w}"))?;
            let known = self.stored_ids(&hunt)?;
            let detected_at = hela_hunt::time_text(chrono::Utc::now().timestamp_millis());
            let documents: Vec<_> = hunt
                .documents(&found, &detected_at)
                .into_iter()
                .filter(|d| d.get("detection_id").and_then(|v| v.as_str()).is_some_and(|id| !known.contains(id)))
                .collect();
            let stored = documents.len();
            let number = self.placer.position(RETRO_CHECKPOINT).unwrap_or(0) + 1;
            let table: Arc<str> = Arc::from(DETECTIONS_TABLE);
            let placed = Placed { records: documents.into_iter().map(|d| (table.clone(), d)).collect(), checkpoints: vec![(RETRO_CHECKPOINT.into(), number)], ..Placed::default() };
            self.placer.place(placed)?;
            while self.placer.position(RETRO_CHECKPOINT).unwrap_or(0) < number {
                if self.stopping() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            self.report(&hunt, &found, stored);
        } else if catalog.tables.contains_key(EVENTS_TABLE) {
            eprintln!("retro-hunt: {} rules not run over the lake's history: its events are not in the raw schema", hunt.signatures.len());
        }
        done.extend(hunt.signatures.iter().cloned());
        write_done(&marker, &done)?;
        Ok(())
    }

    /// The ids of the detections the lake holds of the rules `hunt` runs.
    fn stored_ids(&self, hunt: &RetroHunt) -> anyhow::Result<HashSet<String>> {
        if !Lake::new(&self.root).catalog()?.tables.contains_key(DETECTIONS_TABLE) {
            return Ok(HashSet::new());
        }
        let ids: Vec<String> = (0..hunt.engine.len()).map(|i| sql_text(&hunt.engine.meta(i).id)).collect();
        stored_detection_ids(&self.session, &self.runtime, &format!("rule_id IN ({})", ids.join(", ")))
    }

    fn report(&self, hunt: &RetroHunt, found: &[hela_hunt::Detection], stored: usize) {
        let report = hunt.report(found);
        let firing: Vec<&Found> = report.iter().filter(|f| f.detections > 0).collect();
        eprintln!(
            "retro-hunt: {} rules run over the lake's history: {} past detections by {} rules ({stored} new to the lake)",
            report.len(),
            found.len(),
            firing.len()
        );
        for f in &firing {
            eprintln!("  {:>7}  {}  (first seen {})", f.detections, f.title, f.first_seen.as_deref().unwrap_or("at an unknown time"));
        }
        let mut known = self.hunts.found.lock().expect("not poisoned");
        for f in report {
            known.insert((f.rule_id.clone(), f.title.clone()), f);
        }
    }
}

fn read_done(path: &Path) -> anyhow::Result<BTreeSet<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// Writes the signatures of the rules run, replacing the file whole.
fn write_done(path: &Path, done: &BTreeSet<String>) -> anyhow::Result<()> {
    hela_live::replace_file(path, &serde_json::to_vec(done)?)?;
    std::fs::File::open(path.parent().expect("in the live directory"))?.sync_all()?;
    Ok(())
}
