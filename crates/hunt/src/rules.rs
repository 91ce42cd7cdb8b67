//! Which Sigma rules a hunt runs: those read from files and directories, narrowed by
//! level, status and tag; and the same rules read again in another process (a cluster's
//! executors) from what was read here ([`RuleSource`]).

use std::io::{Read, Write};
use std::path::PathBuf;

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use hela_sigma::{Engine, Level, Meta, Rejected, RuleFile, ScheduledQuery, read_rule_files, rules_of};
use serde::{Deserialize, Serialize};

/// The rules a hunt keeps of those it reads; an empty list keeps every value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Only rules of this level or above.
    pub min_level: Option<Level>,
    /// Only rules with one of these statuses (compared ignoring case).
    pub status: Vec<String>,
    /// Only rules with a tag containing one of these (ignoring case).
    pub tags: Vec<String>,
}

impl Selection {
    /// Whether the rule or correlation `rule` is kept.
    pub fn keeps(&self, rule: &Meta) -> bool {
        let level_ok = self.min_level.is_none_or(|min| rule.level >= min);
        let status_ok = self.status.is_empty() || self.status.iter().any(|s| s.eq_ignore_ascii_case(&rule.status));
        let tag_ok = self.tags.is_empty()
            || self.tags.iter().any(|want| rule.tags.iter().any(|t| t.to_ascii_lowercase().contains(&want.to_ascii_lowercase())));
        level_ok && status_ok && tag_ok
    }
}

/// The rules read for a hunt.
pub struct LoadedRules {
    /// An engine over the rules and correlations kept; none when none was kept.
    pub engine: Option<Engine>,
    /// The scheduled queries kept (which only the server runs).
    pub scheduled: Vec<ScheduledQuery>,
    /// Rules, correlations and scheduled queries read and accepted, kept or not.
    pub loaded: usize,
    /// Rule files refused, with the reason.
    pub rejected: Vec<Rejected>,
}

/// Reads the Sigma rules under `paths` and keeps those `selection` keeps (with the rules
/// the correlations kept read).
pub fn load(paths: &[PathBuf], selection: &Selection) -> LoadedRules {
    RuleSource::read(paths, selection).load()
}

/// The rule files of a hunt as read, and its selection: what another process needs to load
/// the very rules of this one, numbered alike.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleSource {
    files: Vec<RuleFile>,
    /// Rule files that could not be read, with the reason.
    #[serde(skip)]
    unreadable: Vec<Rejected>,
    selection: Selection,
}

impl RuleSource {
    /// Reads the rule files under `paths`.
    pub fn read(paths: &[PathBuf], selection: &Selection) -> RuleSource {
        let (files, unreadable) = read_rule_files(paths);
        RuleSource { files, unreadable, selection: selection.clone() }
    }

    /// The rules of the files, kept as the selection keeps them.
    pub fn load(&self) -> LoadedRules {
        let mut set = rules_of(&self.files, self.unreadable.clone());
        let loaded = set.rules.len() + set.correlations.len() + set.scheduled.len();
        let rejected = std::mem::take(&mut set.rejected);
        let scheduled = std::mem::take(&mut set.scheduled).into_iter().filter(|q| self.selection.keeps(&q.meta)).collect();
        let (rules, correlations) = set.select(&|meta| self.selection.keeps(meta));
        let engine = (!rules.is_empty()).then(|| Engine::with_correlations(rules, correlations));
        LoadedRules { engine, scheduled, loaded, rejected }
    }

    /// The files and selection as bytes (compressed: a corpus of Sigma rules is megabytes
    /// of YAML).
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::fast());
        serde_json::to_writer(&mut encoder, self)?;
        encoder.flush()?;
        encoder.finish()
    }

    /// The files and selection [`RuleSource::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> std::io::Result<RuleSource> {
        let mut json = Vec::new();
        DeflateDecoder::new(bytes).read_to_end(&mut json)?;
        Ok(serde_json::from_slice(&json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_from_bytes_are_the_rules_read_from_files_numbered_alike() {
        let dir = tempfile::tempdir().unwrap();
        let rule = |title: &str, image: &str, level: &str| {
            format!(
                "title: {title}\nid: rule-{title}\nlevel: {level}\nstatus: test\nlogsource: {{product: windows, category: process_creation}}\n\
                 detection:\n  sel: {{Image|endswith: '{image}'}}\n  condition: sel\n"
            )
        };
        std::fs::write(dir.path().join("a.yml"), rule("A", "\\a.exe", "high")).unwrap();
        std::fs::write(dir.path().join("b.yml"), rule("B", "\\b.exe", "low") + "---\n" + &rule("C", "\\c.exe", "critical")).unwrap();
        std::fs::write(dir.path().join("bad.yml"), "title: [").unwrap();
        let selection = Selection { min_level: Some(Level::High), ..Selection::default() };
        let source = RuleSource::read(&[dir.path().to_path_buf()], &selection);
        let again = RuleSource::from_bytes(&source.to_bytes().unwrap()).unwrap();
        assert_eq!(again.files, source.files);
        assert_eq!(again.selection, selection);
        let titles = |s: &RuleSource| s.load().engine.unwrap().rules().iter().map(|r| r.meta.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles(&source), ["A", "C"]);
        assert_eq!(titles(&again), titles(&source));
        assert_eq!(source.load().rejected.len(), 1);
        assert!(RuleSource::from_bytes(b"not deflate").is_err());
    }
}
