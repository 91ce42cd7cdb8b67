//! Reads Sigma rules from files and directories. Every rule file either loads or is
//! rejected with the reason, so nothing is skipped silently.

use std::path::{Path, PathBuf};

use hela_source::walk::Walker;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::correlation::{self, Correlation, Reference, Source};
use crate::rule::{Meta, Rule};
use crate::scheduled::ScheduledQuery;

/// A rule that could not be used, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub path: PathBuf,
    pub title: Option<String>,
    pub reason: String,
}

/// The rules read from some paths: detection rules, correlations linked to them, and
/// scheduled queries.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub correlations: Vec<Correlation>,
    pub scheduled: Vec<ScheduledQuery>,
    pub rejected: Vec<Rejected>,
}

/// One rule document, read.
#[derive(Debug)]
pub enum Parsed {
    Rule(Rule),
    Correlation(Correlation),
    Scheduled(ScheduledQuery),
}

impl RuleSet {
    /// Links the correlations among `parsed` to the rules (those that cannot be linked are
    /// refused).
    pub fn new(parsed: impl IntoIterator<Item = Result<Parsed, Rejected>>, mut rejected: Vec<Rejected>) -> RuleSet {
        let mut rules = Vec::new();
        let mut correlations = Vec::new();
        let mut scheduled = Vec::new();
        for result in parsed {
            match result {
                Ok(Parsed::Rule(rule)) => rules.push(rule),
                Ok(Parsed::Scheduled(query)) => scheduled.push(query),
                Ok(Parsed::Correlation(mut correlation)) => {
                    // An aggregation's correlation follows the rule of its document.
                    for input in &mut correlation.inputs {
                        if input.reference == Reference::Itself {
                            input.source = Some(Source::Rule(rules.len() - 1));
                        }
                    }
                    correlations.push(correlation)
                }
                Err(refused) => rejected.push(refused),
            }
        }
        let (correlations, refused) = correlation::link(&mut rules, correlations);
        rejected.extend(refused);
        RuleSet { rules, correlations, scheduled, rejected }
    }

    /// The rules and correlations `keep` keeps, with the rules and correlations those
    /// correlations read (kept to feed them, raising detections of their own only when kept
    /// and no correlation reading them says otherwise with `generate: false`). Scheduled
    /// queries are left out: take them first.
    pub fn select(self, keep: &dyn Fn(&Meta) -> bool) -> (Vec<Rule>, Vec<Correlation>) {
        let RuleSet { rules, correlations, .. } = self;
        let mut needed_rules: Vec<bool> = rules.iter().map(|r| keep(&r.meta)).collect();
        let mut needed: Vec<bool> = correlations.iter().map(|c| keep(&c.meta)).collect();
        let chosen: Vec<bool> = needed.clone();
        // Correlations feed on correlations: follow the references until nothing is added.
        let mut changed = true;
        while changed {
            changed = false;
            for c in 0..correlations.len() {
                if !needed[c] {
                    continue;
                }
                for input in &correlations[c].inputs {
                    match input.source {
                        Some(Source::Correlation(d)) if !needed[d] => (needed[d], changed) = (true, true),
                        Some(Source::Rule(r)) => needed_rules[r] = true,
                        _ => {}
                    }
                }
            }
        }
        // A rule or correlation read by some correlation raises its own detections only when
        // one of those asks for it (`generate: true`).
        let mut read_by = vec![(false, false); rules.len()];
        let mut correlation_read_by = vec![(false, false); correlations.len()];
        for correlation in correlations.iter().enumerate().filter(|(c, _)| needed[*c]).map(|(_, c)| c) {
            for input in &correlation.inputs {
                let slot = match input.source {
                    Some(Source::Rule(r)) => &mut read_by[r],
                    Some(Source::Correlation(d)) => &mut correlation_read_by[d],
                    None => continue,
                };
                *slot = (true, slot.1 || correlation.generate);
            }
        }
        let rule_index = renumber(&needed_rules);
        let correlation_index = renumber(&needed);
        let kept_rules = rules
            .into_iter()
            .zip(needed_rules.iter().zip(&read_by))
            .filter(|(_, (needed, _))| **needed)
            .map(|(mut rule, (_, (read, generate)))| {
                rule.standalone = keep(&rule.meta) && (!read || *generate);
                rule
            })
            .collect();
        let kept_correlations = correlations
            .into_iter()
            .enumerate()
            .filter(|(c, _)| needed[*c])
            .map(|(c, mut correlation)| {
                let (read, generate) = correlation_read_by[c];
                correlation.standalone = chosen[c] && (!read || generate);
                for input in &mut correlation.inputs {
                    input.source = input.source.map(|source| match source {
                        Source::Rule(r) => Source::Rule(rule_index[r]),
                        Source::Correlation(d) => Source::Correlation(correlation_index[d]),
                    });
                }
                correlation
            })
            .collect();
        (kept_rules, kept_correlations)
    }
}

/// The new places of the items kept by `kept`.
fn renumber(kept: &[bool]) -> Vec<usize> {
    let mut next = 0;
    kept.iter()
        .map(|&k| {
            let at = next;
            next += usize::from(k);
            at
        })
        .collect()
}

/// Loads every `.yml`/`.yaml` file under `paths` (files are read whatever their name),
/// in path order, and links the correlations among them.
pub fn load_rules(paths: &[PathBuf]) -> RuleSet {
    let (files, rejected) = read_rule_files(paths);
    rules_of(&files, rejected)
}

/// A rule file as read: its path and text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleFile {
    pub path: PathBuf,
    pub text: String,
}

/// Reads the rule files under `paths` ([`rule_files`]), in path order; those that cannot
/// be read are rejected with the reason.
pub fn read_rule_files(paths: &[PathBuf]) -> (Vec<RuleFile>, Vec<Rejected>) {
    let (files, mut rejected) = rule_files(paths);
    let read: Vec<Result<RuleFile, Rejected>> = files
        .into_par_iter()
        .map(|path| match std::fs::read_to_string(&path) {
            Ok(text) => Ok(RuleFile { path, text }),
            Err(e) => Err(Rejected { path, title: None, reason: format!("cannot read: {e}") }),
        })
        .collect();
    let mut files = Vec::with_capacity(read.len());
    for file in read {
        match file {
            Ok(file) => files.push(file),
            Err(refused) => rejected.push(refused),
        }
    }
    (files, rejected)
}

/// The rules of `files` (with `rejected`, what could not be read), read as
/// [`load_rules`] reads them: the same files give the same rules in the same order.
pub fn rules_of(files: &[RuleFile], rejected: Vec<Rejected>) -> RuleSet {
    let parsed: Vec<Vec<Result<Parsed, Rejected>>> = files.par_iter().map(parse_file).collect();
    RuleSet::new(parsed.into_iter().flatten(), rejected)
}

/// The rule files under `paths`, in path order: files named, and `.yml`/`.yaml` files
/// under directories named (hidden ones left out); with the paths that cannot be read.
pub fn rule_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Rejected>) {
    let wanted = |path: &Path| is_yaml(path);
    let mut walker = Walker::new(&wanted);
    paths.iter().for_each(|path| walker.add(path));
    let files = walker.files.into_iter().map(|(path, _)| path).collect();
    let skipped = walker.skipped.into_iter().map(|(path, reason)| Rejected { path, title: None, reason: format!("skipped: {reason}") });
    let unreadable = walker.errors.into_iter().map(|(path, e)| Rejected { path, title: None, reason: format!("cannot read: {e}") });
    (files, skipped.chain(unreadable).collect())
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// The rules of one file: one per YAML document (two for a rule with an aggregation).
fn parse_file(file: &RuleFile) -> Vec<Result<Parsed, Rejected>> {
    let reject = |title: Option<String>, reason: String| Rejected { path: file.path.clone(), title, reason };
    parse_rules(&file.text, &file.path).into_iter().map(|r| r.map_err(|(title, reason)| reject(title, reason))).collect()
}

/// The rules and correlations in YAML `text`; a document that is not a usable rule gives
/// its title (when it has one) and the reason.
pub fn parse_rules(text: &str, path: &Path) -> Vec<Result<Parsed, (Option<String>, String)>> {
    let mut out = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = match serde_yaml::Value::deserialize(document) {
            Ok(value) => value,
            Err(e) => {
                out.push(Err((None, format!("not valid YAML: {e}"))));
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let title = value.get("title").and_then(|t| t.as_str()).map(str::to_string);
        if value.get("sql").is_some() {
            out.push(ScheduledQuery::from_yaml(&value, path).map(Parsed::Scheduled).map_err(|reason| (title, reason)));
            continue;
        }
        if value.get("correlation").is_some() {
            out.push(correlation::parse(&value, path).map(Parsed::Correlation).map_err(|reason| (title, reason)));
            continue;
        }
        match Rule::from_yaml(&value, path) {
            Ok((rule, aggregated)) => {
                out.push(Ok(Parsed::Rule(rule)));
                out.extend(aggregated.map(|c| Ok(Parsed::Correlation(c))));
            }
            Err(reason) => out.push(Err((title, reason))),
        }
    }
    out
}
