//! Links correlations to the rules they reference (by `id` or `name`), refuses those whose
//! references cannot be resolved or go round in a cycle, and works out which fields of each
//! referenced rule's events a correlation reads (its `group-by` names through its
//! `aliases`, and its measured field).

use std::collections::HashMap;

use super::{Correlation, Reference, Source};
use crate::load::Rejected;
use crate::rule::{Meta, Rule};

/// Links `correlations` to `rules` and to each other. Returns those that stand; the others
/// are refused with the reason. The fields the correlations read are added to the key
/// fields of the rules they read them from, so that detections carry them.
pub fn link(rules: &mut [Rule], mut correlations: Vec<Correlation>) -> (Vec<Correlation>, Vec<Rejected>) {
    let mut rejected = Vec::new();
    loop {
        let names = directory(rules, &correlations);
        let mut refused: Vec<(usize, String)> = Vec::new();
        for (c, correlation) in correlations.iter_mut().enumerate() {
            for input in &mut correlation.inputs {
                match &input.reference {
                    Reference::Itself => {}
                    Reference::Named(name) => match names.get(name) {
                        Some(source) => input.source = Some(*source),
                        None => {
                            refused.push((c, format!("references `{name}`, which no rule loaded has as its id or name")));
                            break;
                        }
                    },
                }
            }
        }
        for (c, correlation) in correlations.iter().enumerate() {
            let reads_correlation = correlation.inputs.iter().any(|i| matches!(i.source, Some(Source::Correlation(_))));
            if reads_correlation && correlation.kind.reads_values() {
                refused.push((c, format!("a {} correlation measures a field of events, not the detections of another correlation", correlation.kind.as_str())));
            }
        }
        if refused.is_empty() {
            refused = cycles(&correlations).into_iter().map(|c| (c, "is part of a cycle of correlations referencing each other".to_string())).collect();
        }
        if refused.is_empty() {
            break;
        }
        refused.sort_by_key(|(c, _)| std::cmp::Reverse(*c));
        refused.dedup_by_key(|(c, _)| *c);
        for (c, reason) in refused {
            let correlation = correlations.remove(c);
            rejected.push(Rejected { path: correlation.meta.path.clone(), title: Some(correlation.meta.title.clone()), reason });
        }
        // Indices moved: resolve every reference again against what remains.
        for correlation in &mut correlations {
            for input in &mut correlation.inputs {
                if input.reference != Reference::Itself {
                    input.source = None;
                }
            }
        }
    }
    let identities: Vec<Vec<String>> = correlations.iter().map(|c| identity(&c.meta)).collect();
    let rule_identities: Vec<Vec<String>> = rules.iter().map(|r| identity(&r.meta)).collect();
    for correlation in &mut correlations {
        read_fields(correlation, &|source| match source {
            Source::Rule(r) => &rule_identities[r],
            Source::Correlation(c) => &identities[c],
        });
    }
    for correlation in &correlations {
        for input in &correlation.inputs {
            if let Some(Source::Rule(r)) = input.source {
                for field in input.group_fields.iter().chain(&input.value_fields) {
                    if !rules[r].key_fields.contains(field) {
                        rules[r].key_fields.push(field.clone());
                    }
                }
            }
        }
    }
    (correlations, rejected)
}

/// Every rule and correlation by id and by name; the first of a duplicate wins.
fn directory(rules: &[Rule], correlations: &[Correlation]) -> HashMap<String, Source> {
    let mut names = HashMap::new();
    let metas = rules.iter().enumerate().map(|(i, r)| (&r.meta, Source::Rule(i)));
    let metas = metas.chain(correlations.iter().enumerate().map(|(i, c)| (&c.meta, Source::Correlation(i))));
    for (meta, source) in metas {
        for name in [Some(meta.id.as_str()).filter(|id| !id.is_empty()), meta.name.as_deref()].into_iter().flatten() {
            names.entry(name.to_string()).or_insert(source);
        }
    }
    names
}

/// A rule's id and name, those it has.
fn identity(meta: &Meta) -> Vec<String> {
    [Some(meta.id.clone()).filter(|id| !id.is_empty()), meta.name.clone()].into_iter().flatten().collect()
}

/// Sets the fields each input reads: a `group-by` name or the measured field is an alias
/// when `aliases` defines it, mapped for the referenced rule by the reference as written or
/// the rule's id or name; otherwise the name itself.
fn read_fields<'a>(correlation: &mut Correlation, identity: &dyn Fn(Source) -> &'a Vec<String>) {
    let aliases = correlation.aliases.clone();
    let (group_by, fields) = (correlation.group_by.clone(), correlation.fields.clone());
    for input in &mut correlation.inputs {
        let mut known: Vec<String> = Vec::new();
        if let Reference::Named(name) = &input.reference {
            known.push(name.clone());
        }
        if let Some(source) = input.source {
            known.extend(identity(source).iter().cloned());
        }
        let resolve = |name: &String| -> String {
            aliases
                .iter()
                .find(|(alias, _)| alias == name)
                .and_then(|(_, per_rule)| per_rule.iter().find(|(rule, _)| known.contains(rule)))
                .map_or_else(|| name.clone(), |(_, field)| field.clone())
        };
        input.group_fields = group_by.iter().map(resolve).collect();
        input.value_fields = fields.iter().map(resolve).collect();
    }
}

/// The correlations on a cycle of references.
fn cycles(correlations: &[Correlation]) -> Vec<usize> {
    let edges: Vec<Vec<usize>> = correlations
        .iter()
        .map(|c| c.inputs.iter().filter_map(|i| if let Some(Source::Correlation(d)) = i.source { Some(d) } else { None }).collect())
        .collect();
    (0..correlations.len())
        .filter(|&start| {
            let mut seen = vec![false; correlations.len()];
            let mut stack = edges[start].clone();
            while let Some(next) = stack.pop() {
                if next == start {
                    return true;
                }
                if !std::mem::replace(&mut seen[next], true) {
                    stack.extend(&edges[next]);
                }
            }
            false
        })
        .collect()
}
