//! Retro-hunts: a rule standing on the server that was never run over the lake's history
//! (added, or changed, while the server runs, or standing on a lake that held events
//! before) is run once over the lake's `events` table, so that a new rule answers "has
//! this happened before?" at once. Its past detections are stored apart from live ones:
//! marked `retro_hunt`, without a detection number, and not delivered to the sinks.
//! Rules are known by a signature of their whole definition: a rule edited is a new rule.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use hela_hunt::{Detection, hunt_lake, to_json};
use hela_sigma::{Engine, Meta, RuleSet};
use serde_json::{Map, Value};

use crate::alert::detection_id;
use crate::rules::RuleBook;

/// Rules to run over the lake's history.
pub struct RetroHunt {
    /// The rules and correlations to run (with those they read), numbered as the
    /// detections are.
    pub engine: Engine,
    /// The signatures of the rules run, to remember once their detections are stored.
    pub signatures: Vec<String>,
}

/// What a retro-hunt found for one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub rule_id: String,
    pub title: String,
    /// Past detections.
    pub detections: u64,
    /// The event time of the earliest, as the event gives it.
    pub first_seen: Option<String>,
}

/// The signature of the `index`th rule or correlation of `engine`: a hash of its whole
/// definition.
pub fn signature(engine: &Engine, index: usize) -> String {
    let definition = match engine.correlation_at(index) {
        Some(correlation) => format!("{correlation:?}"),
        None => format!("{:?}", engine.rules()[index]),
    };
    blake3::hash(definition.as_bytes()).to_hex()[..32].to_string()
}

/// The rules of `book` raising detections of their own whose signatures are not in
/// `done`; none when every one was run over the history.
pub fn pending(book: &RuleBook, done: &BTreeSet<String>) -> Option<RetroHunt> {
    let engine = book.engine.as_ref()?;
    let (wanted, signatures): (Vec<usize>, Vec<String>) = (0..engine.len())
        .filter(|&i| engine.standalone(i))
        .map(|i| (i, signature(engine, i)))
        .filter(|(_, signature)| !done.contains(signature))
        .unzip();
    if wanted.is_empty() {
        return None;
    }
    let keys: HashSet<(String, String, &Path)> = wanted.iter().map(|&i| key(engine.meta(i))).collect();
    let set = RuleSet { rules: engine.rules().to_vec(), correlations: engine.correlations().to_vec(), ..RuleSet::default() };
    let (rules, correlations) = set.select(&|meta| keys.contains(&key(meta)));
    Some(RetroHunt { engine: Engine::with_correlations(rules, correlations), signatures })
}

fn key(meta: &Meta) -> (String, String, &Path) {
    (meta.id.clone(), meta.title.clone(), meta.path.as_path())
}

impl RetroHunt {
    /// Runs the rules over the events of the lake at `root`; returns their detections.
    pub fn run(&self, root: &Path, warn: &mut dyn FnMut(String)) -> anyhow::Result<Vec<Detection>> {
        let mut found = Vec::new();
        hunt_lake(root, &self.engine, false, &mut |detections| {
            found.extend(detections);
            Ok(())
        }, warn)?;
        Ok(found)
    }

    /// The detections as the `detections` table stores them, found at `detected_at`
    /// (RFC 3339).
    pub fn documents(&self, detections: &[Detection], detected_at: &str) -> Vec<Map<String, Value>> {
        detections
            .iter()
            .map(|detection| {
                let Value::Object(mut document) = to_json(detection, &self.engine) else { unreachable!("a detection is a JSON object") };
                let id = detection_id(&self.engine.meta(detection.rule).id, detection);
                document.insert("detection_id".into(), Value::from(id));
                document.insert("detected_at".into(), Value::from(detected_at));
                document.insert("retro_hunt".into(), Value::Bool(true));
                document
            })
            .collect()
    }

    /// What was found per rule run, in the rules' order.
    pub fn report(&self, detections: &[Detection]) -> Vec<Found> {
        let engine = &self.engine;
        (0..engine.len())
            .filter(|&i| engine.standalone(i))
            .map(|i| {
                let mine = detections.iter().filter(|d| d.rule == i);
                let earliest = mine.clone().filter_map(|d| Some((hela_hunt::event_time(d.timestamp.as_deref()?)?, d.timestamp.clone()))).min();
                Found {
                    rule_id: engine.meta(i).id.clone(),
                    title: engine.meta(i).title.clone(),
                    detections: mine.count() as u64,
                    first_seen: earliest.and_then(|(_, text)| text),
                }
            })
            .collect()
    }
}
