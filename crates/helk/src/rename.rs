//! Step 4: source field -> HELK field, with precedence, and without losing a value.
//!
//! 1. Every field that some rule names (top level, or a dotted path into a nested header
//!    object such as `user.identifier`) is a candidate. A source named by several tables uses
//!    the most specific one: `[events.N.rename]` > `[all.rename]` > common `[rename]` >
//!    common `[header_rename]`.
//! 2. Candidates are grouped by target. In a group the highest rank wins; ties go to the rule
//!    written first in its table.
//! 3. The winner's value goes to the target, unless the record has a field of that name that no
//!    rule renames (that field stays, and the whole group keeps its source names).
//! 4. Each loser stays under its source name; if that name is taken (it is the target itself,
//!    as for a Winlogbeat header `process_id` that loses to Sysmon's `ProcessId`), it goes to
//!    `header.<name>` for a `[header_rename]` rule and `event_data.<name>` for the others (with
//!    `_2`, `_3`, ... should that be taken too). A nested loser goes back into its object.
//! 5. Header objects left empty are removed; the fields no rule names stay nested in them.
//!
//! Renames are done in place on the [`Row`]: no field is removed and inserted again.

use serde_json::Value;

use crate::plan::{NestedSource, Plan, rank};
use crate::row::Row;

/// A field some rule renames.
struct Candidate<'p> {
    /// Its position in the row, for a top-level field.
    field: Option<usize>,
    /// Its path, for a field inside a nested object.
    nested: Option<&'p NestedSource>,
    /// The source name (the key of the rule).
    source: &'p str,
    target: &'p str,
    target_hash: u64,
    rank: u8,
    order: u32,
}

/// Applies the renames of `plan` to `row`.
pub(crate) fn apply(row: &mut Row, plan: &Plan) {
    let mut candidates: Vec<Candidate<'_>> = Vec::with_capacity(row.len());
    for (i, f) in row.fields().iter().enumerate() {
        if let Some((source, rule)) = plan.renames.get_key_value(f.name()) {
            candidates.push(Candidate {
                field: Some(i),
                nested: None,
                source,
                target: &rule.target,
                target_hash: rule.target_hash,
                rank: rule.rank,
                order: rule.order,
            });
        }
    }
    for nested in &plan.nested {
        let Some((head, rest)) = nested.path.split_first() else { continue };
        if row.contains(&nested.name) || row.get(head).and_then(|v| get_nested(v, rest)).is_none() {
            continue;
        }
        if let Some(rule) = plan.renames.get(&*nested.name) {
            candidates.push(Candidate {
                field: None,
                nested: Some(nested),
                source: &nested.name,
                target: &rule.target,
                target_hash: rule.target_hash,
                rank: rule.rank,
                order: rule.order,
            });
        }
    }
    if candidates.is_empty() {
        return;
    }
    // Group by target, best first in each group: by integers (target hash, rank, order), and
    // only if two different targets share a hash, by names too.
    let key = |c: &Candidate<'_>| {
        u128::from(c.target_hash) << 64
            | u128::from(u8::MAX - c.rank) << 40
            | u128::from(c.order) << 1
            | u128::from(c.nested.is_some())
    };
    candidates.sort_unstable_by_key(key);
    if candidates.windows(2).any(|w| w[0].target_hash == w[1].target_hash && w[0].target != w[1].target) {
        candidates.sort_unstable_by(|a, b| {
            (a.target_hash.cmp(&b.target_hash))
                .then_with(|| a.target.cmp(b.target))
                .then(b.rank.cmp(&a.rank))
                .then(a.order.cmp(&b.order))
                .then_with(|| a.source.cmp(b.source))
        });
    }

    // Which candidate of each group (same target) wins, judged on the names as they are now:
    // the target must be free, or held by a field that is itself renamed.
    let mut is_candidate = vec![false; row.len()];
    for c in &candidates {
        if let Some(i) = c.field {
            is_candidate[i] = true;
        }
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    let mut start = 0;
    while start < candidates.len() {
        let (target, hash) = (candidates[start].target, candidates[start].target_hash);
        let end = start + candidates[start..].iter().take_while(|c| c.target_hash == hash && c.target == target).count();
        let free = row.find_hashed(hash, target).is_none_or(|i| is_candidate.get(i).copied().unwrap_or(false));
        if free {
            winners.push(start);
            losers.extend(start + 1..end);
        } else {
            losers.extend(start..end);
        }
        start = end;
    }

    // Winners take their target names.
    let mut taken: Vec<(u64, &str)> = Vec::with_capacity(winners.len());
    let mut emptied = Vec::new();
    for &w in &winners {
        let c = &candidates[w];
        match (c.field, c.nested) {
            (Some(i), _) => row.rename_at_hashed(i, c.target, c.target_hash),
            (None, Some(n)) => {
                if let Some(value) = take_nested(row, &n.path) {
                    row.push_hashed(c.target.to_owned(), c.target_hash, value);
                    emptied.push(n);
                }
            }
            (None, None) => continue,
        }
        taken.push((c.target_hash, c.target));
    }

    // Losers keep their names, unless a winner took it; nested losers stay in their objects.
    for &l in &losers {
        let c = &candidates[l];
        let Some(i) = c.field else { continue };
        let (hash, name) = (row.field(i).hash(), row.field(i).name());
        if taken.iter().any(|&(h, t)| h == hash && t == name) {
            let prefix = if c.rank == rank::HEADER { "header" } else { "event_data" };
            let name = row.free_name(format!("{prefix}.{}", c.source));
            row.rename_at(i, &name);
        }
    }

    for n in emptied {
        remove_empty_parents(row, &n.path);
    }
}

/// The value at `path` inside `value`.
fn get_nested<'v>(value: &'v Value, path: &[Box<str>]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, p| v.as_object()?.get(&**p))
}

/// Takes the value at a nested path out of its object.
fn take_nested(row: &mut Row, path: &[Box<str>]) -> Option<Value> {
    let (head, rest) = path.split_first()?;
    let (last, between) = rest.split_last()?;
    let mut obj = row.get_mut(head)?.as_object_mut()?;
    for p in between {
        obj = obj.get_mut(&**p)?.as_object_mut()?;
    }
    obj.remove(&**last)
}

/// Removes the objects along `path` that are now empty, innermost first (the top-level field too).
fn remove_empty_parents(row: &mut Row, path: &[Box<str>]) {
    let Some((head, rest)) = path.split_first() else { return };
    if let Some(value) = row.get_mut(head) {
        prune_empty(value, rest.split_last().map_or(&[][..], |(_, between)| between));
    }
    if row.get(head).and_then(Value::as_object).is_some_and(serde_json::Map::is_empty) {
        row.remove(head);
    }
}

/// Removes the empty objects along `path` below `value`.
fn prune_empty(value: &mut Value, path: &[Box<str>]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(obj) = value.as_object_mut() else { return };
    if let Some(child) = obj.get_mut(&**first) {
        prune_empty(child, rest);
        if child.as_object().is_some_and(serde_json::Map::is_empty) {
            obj.remove(&**first);
        }
    }
}
