//! Sigma correlations run by `hela hunt` over hand-made event sequences (window edges,
//! ordering, groups, aliases, every correlation type, the older `| count()` aggregation and
//! a chain), each result checked against RSigma's answer on the same rules and events
//! (`tests/correlation/record_peer.py` recorded them in each case's `peer.jsonl`). Where
//! hela differs from RSigma by design, the test says why.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{hela, hela_ok, shared, stderr};
use serde_json::Value;

/// One correlation firing: the rule, its group (values present), the measured value and
/// the event times (seconds) of the detections behind it.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
struct Firing {
    rule_id: String,
    group: BTreeMap<String, String>,
    value: f64,
    events: Option<Vec<i64>>,
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/correlation");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    cases
}

/// hela's correlation detections for a case's rules over `events`.
fn hela_firings(rules: &Path, events: &Path) -> Vec<Firing> {
    let out = hela_ok(&["hunt", "--quiet", "--format", "jsonl", "--sigma", rules.to_str().unwrap(), events.to_str().unwrap()]);
    out.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter_map(|d| {
            let c = d.get("correlation")?;
            let group = c["group"].as_object().unwrap().iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
            let events = c["events"].as_array().unwrap().iter().map(|e| hela_hunt::event_time(e["@timestamp"].as_str().unwrap()).unwrap() / 1000).collect();
            Some(Firing { rule_id: d["rule_id"].as_str().unwrap().into(), group, value: c["value"].as_f64().unwrap(), events: Some(events) })
        })
        .collect()
}

/// RSigma's correlation results recorded for a case.
fn peer_firings(case: &Path) -> Vec<Firing> {
    let text = std::fs::read_to_string(case.join("peer.jsonl")).unwrap();
    text.lines()
        .map(|line| {
            let d: Value = serde_json::from_str(line).unwrap();
            let group = d["group_key"].as_array().unwrap().iter().map(|pair| (pair[0].as_str().unwrap().into(), pair[1].as_str().unwrap().into())).collect();
            let events = d["event_refs"].as_array().map(|refs| refs.iter().map(|r| r["timestamp"].as_i64().unwrap()).collect());
            Firing { rule_id: d["rule_id"].as_str().unwrap().into(), group, value: d["aggregated_value"].as_f64().unwrap(), events }
        })
        .collect()
}

/// Where hela and RSigma 0.23 differ by design on these cases.
fn as_hela_answers(mut peer: Vec<Firing>) -> Vec<Firing> {
    // RSigma returns a value_percentile's value without testing the condition's bounds
    // (rsigma-eval 0.23 correlation/window.rs returns early for it), so it fires on every
    // detection; hela tests `gte: 30`, so only RSigma's results meeting it are hela's.
    peer.retain(|f| f.rule_id != "20000000-0000-4000-8000-000000000012" || f.value >= 30.0);
    for firing in &mut peer {
        // A chained firing in RSigma carries no event references; hela's carries the newest
        // detection behind each inner firing. Those are checked apart.
        if firing.rule_id == "20000000-0000-4000-8000-000000000006" {
            firing.events = None;
        }
    }
    peer
}

fn sorted(mut firings: Vec<Firing>) -> Vec<Firing> {
    firings.sort_by(|a, b| a.partial_cmp(b).unwrap());
    firings
}

#[test]
fn every_case_gives_rsigmas_answers() {
    for case in cases() {
        let mut mine = hela_firings(&case.join("rules.yml"), &case.join("events.jsonl"));
        for firing in &mut mine {
            if firing.rule_id == "20000000-0000-4000-8000-000000000006" {
                assert_eq!(firing.events.take().map(|e| e.len()), Some(2), "one detection behind each inner firing");
            }
        }
        let expected = as_hela_answers(peer_firings(&case));
        assert!(!expected.is_empty(), "{}: RSigma found nothing to compare", case.display());
        assert_eq!(sorted(mine), sorted(expected), "{}", case.display());
    }
}

fn case(name: &str) -> PathBuf {
    cases().into_iter().find(|c| c.ends_with(name)).unwrap()
}

/// Writes `rules` into `dir` and returns the file.
fn rules_file(dir: &Path, rules: &str) -> PathBuf {
    let path = dir.join("rules.yml");
    std::fs::write(&path, rules).unwrap();
    path
}

#[test]
fn a_temporal_correlation_without_a_condition_needs_all_its_rules() {
    // The specification: "all events defined by the rules referred ... must occur". RSigma
    // 0.23 reads a missing condition as `gte: 1` and fires on any one of the rules.
    let dir = tempfile::tempdir().unwrap();
    let case = case("temporal_aliases");
    let text = std::fs::read_to_string(case.join("rules.yml")).unwrap();
    let without = rules_file(dir.path(), &text.replace("    condition: {gte: 2}\n", ""));
    let events = case.join("events.jsonl");
    assert_eq!(hela_firings(&without, &events), hela_firings(&case.join("rules.yml"), &events));
    assert_eq!(hela_firings(&without, &events).len(), 1);
}

#[test]
fn the_rules_a_correlation_reads_raise_detections_of_their_own_only_with_generate() {
    // The specification's `generate` (false by default) says whether the rules a
    // correlation references are also raised on their own; RSigma raises them unless told
    // `--no-detections`.
    let dir = tempfile::tempdir().unwrap();
    let case = case("event_count");
    let events = case.join("events.jsonl");
    let text = std::fs::read_to_string(case.join("rules.yml")).unwrap();
    let count_rules = |rules: &Path| {
        let out = hela_ok(&["hunt", "--quiet", "--format", "jsonl", "--sigma", rules.to_str().unwrap(), events.to_str().unwrap()]);
        let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines.iter().filter(|d| d.get("correlation").is_none()).count(), lines.iter().filter(|d| d.get("correlation").is_some()).count())
    };
    assert_eq!(count_rules(&case.join("rules.yml")), (0, 4));
    let generating = rules_file(dir.path(), &text.replace("level: high\n---", "generate: true\nlevel: high\n---"));
    assert_eq!(count_rules(&generating), (13, 4), "13 failed logons, and the correlation's 4");
}

#[test]
fn events_out_of_order_are_correlated_in_event_time() {
    // A lake is read partition by partition, not in time order: hela queues the detections
    // and runs them in event time. RSigma takes events in arrival order.
    let dir = tempfile::tempdir().unwrap();
    let case = case("temporal_ordered");
    let text = std::fs::read_to_string(case.join("events.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let reversed = dir.path().join("reversed.jsonl");
    std::fs::write(&reversed, lines.join("\n")).unwrap();
    let rules = case.join("rules.yml");
    assert_eq!(sorted(hela_firings(&rules, &reversed)), sorted(hela_firings(&rules, &case.join("events.jsonl"))));
}

#[test]
fn correlations_that_cannot_stand_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let events = case("event_count").join("events.jsonl");
    let base = "title: Failed logon\nid: r1\nname: failed\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n";
    for (correlation, reason) in [
        ("title: c\ncorrelation: {type: event_count, rules: [missing], timespan: 1m, condition: {gte: 2}}\n", "references `missing`"),
        ("title: c\nid: c1\ncorrelation: {type: event_count, rules: [c2], timespan: 1m, condition: {gte: 2}}\n---\ntitle: d\nid: c2\ncorrelation: {type: event_count, rules: [c1], timespan: 1m, condition: {gte: 2}}\n", "cycle"),
        ("title: c\nid: c1\ncorrelation: {type: event_count, rules: [failed], timespan: 1m, condition: {gte: 2}}\n---\ntitle: d\ncorrelation: {type: value_sum, rules: [c1], timespan: 1m, condition: {gte: 2, field: n}}\n", "not the detections of another correlation"),
        ("title: c\ncorrelation: {type: event_count, rules: [failed], timespan: soon, condition: {gte: 2}}\n", "is not a timespan"),
    ] {
        let rules = rules_file(dir.path(), &format!("{base}---\n{correlation}"));
        let out = hela(&["hunt", "--list-rejected", "--sigma", rules.to_str().unwrap(), events.to_str().unwrap()], None);
        assert!(stderr(&out).contains(reason), "{reason}: {}", stderr(&out));
    }
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/correlations");

/// The shipped example's firings over `events`: the logon id and how many detections each.
fn lateral_movement(events: &Path) -> Vec<(String, f64, usize)> {
    hela_firings(Path::new(EXAMPLE), events)
        .into_iter()
        .map(|f| (f.group["logon_id"].clone(), f.value, f.events.map_or(0, |e| e.len())))
        .collect()
}

#[test]
fn helks_ksql_join_fires_on_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    hela_ok(&["sample", "--out", sample.to_str().unwrap()]);
    // The logon, then PowerShell, conhost and whoami started in its session: each process
    // after the logon fires the ordered correlation again.
    let expected: Vec<(String, f64, usize)> = (2..=4).map(|n| ("0x3e8a1f2".to_string(), 2.0, n)).collect();
    assert_eq!(lateral_movement(&sample), expected);
    let winlogbeat = dir.path().join("winlogbeat.json");
    hela_ok(&["sample", "--shape", "winlogbeat", "--out", winlogbeat.to_str().unwrap()]);
    assert_eq!(lateral_movement(&winlogbeat), expected);
}

#[test]
fn helks_ksql_join_fires_on_empire_wmi_lateral_movement() {
    let Some(dataset) = shared("datasets/security-datasets/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod.zip") else {
        return;
    };
    // Sysmon logged PowerShell and conhost 70 ms before Security logged the logon; whoami,
    // 20 s later, follows it.
    assert_eq!(lateral_movement(&dataset), [("0x32c5cb5".to_string(), 2.0, 4)]);
}
