//! Which Sigma rules a hunt runs: those read from files and directories, narrowed by
//! level, status and tag.

use std::path::PathBuf;

use hela_sigma::{Engine, Level, Meta, Rejected, ScheduledQuery, load_rules};

/// The rules a hunt keeps of those it reads; an empty list keeps every value.
#[derive(Debug, Clone, Default)]
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
    let mut set = load_rules(paths);
    let loaded = set.rules.len() + set.correlations.len() + set.scheduled.len();
    let rejected = std::mem::take(&mut set.rejected);
    let scheduled = std::mem::take(&mut set.scheduled).into_iter().filter(|q| selection.keeps(&q.meta)).collect();
    let (rules, correlations) = set.select(&|meta| selection.keeps(meta));
    let engine = (!rules.is_empty()).then(|| Engine::with_correlations(rules, correlations));
    LoadedRules { engine, scheduled, loaded, rejected }
}
