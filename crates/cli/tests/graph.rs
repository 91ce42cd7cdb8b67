//! The security graphs over a lake of hela's sample, raw and HELK: process trees against a
//! walk of the process creations the lake holds, and the logon graph's lateral movement.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{hela_ok, query};
use serde_json::Value;

/// A lake of hela's sample (with its WMI lateral movement) in `schema`.
fn sample_lake(dir: &Path, schema: &str) -> std::path::PathBuf {
    let sample = dir.join("sample.json");
    hela_ok(&["sample", "--out", sample.to_str().unwrap(), "--events", "3000"]);
    let lake = dir.join(format!("lake-{schema}"));
    hela_ok(&["ingest", "--schema", schema, "--lake", lake.to_str().unwrap(), sample.to_str().unwrap()]);
    lake
}

fn text(row: &Value, field: &str) -> String {
    row[field].as_str().unwrap_or_default().to_string()
}

/// Every process creation's (parent guid, guid), as the lake holds them.
fn creations(lake: &Path, table: &str, guid: &str, parent: &str, event_id: &str) -> Vec<(String, String)> {
    query(lake, &format!("SELECT {parent} AS parent, {guid} AS guid FROM {table} WHERE {event_id} = 1 AND {guid} IS NOT NULL AND {parent} IS NOT NULL"))
        .iter()
        .map(|row| (text(row, "parent"), text(row, "guid")))
        .collect()
}

/// The processes below `root`, by generation, walked directly over `creations`.
fn walk_down(creations: &[(String, String)], root: &str) -> BTreeMap<String, u64> {
    let mut depth = BTreeMap::new();
    let mut frontier = vec![root.to_string()];
    let mut generation = 0;
    while !frontier.is_empty() {
        generation += 1;
        let mut next = Vec::new();
        for (parent, child) in creations {
            if frontier.contains(parent) && child != root && !depth.contains_key(child) {
                depth.insert(child.clone(), generation);
                next.push(child.clone());
            }
        }
        frontier = next;
    }
    depth
}

#[test]
fn process_trees_match_a_walk_of_the_creations_raw_and_helk() {
    let dir = tempfile::tempdir().unwrap();
    for (schema, [table, guid, parent, event_id, parent_image]) in [
        ("raw", ["events", "ProcessGuid", "ParentProcessGuid", "EventID", "ParentImage"]),
        ("helk", ["`logs-endpoint-winevent-sysmon-*`", "process_guid", "process_parent_guid", "event_id", "process_parent_path"]),
    ] {
        let lake = sample_lake(dir.path(), schema);
        let all = creations(&lake, table, guid, parent, event_id);
        // The WMI provider host whose child is the lateral movement's PowerShell.
        let wmi = query(&lake, &format!("SELECT {parent} AS guid FROM {table} WHERE {event_id} = 1 AND lower({parent_image}) LIKE '%wmiprvse.exe' LIMIT 1"));
        let root = text(&wmi[0], "guid");
        let expected = walk_down(&all, &root);
        assert!(!expected.is_empty(), "{schema}: the WMI host has descendants");
        // The root's own creation (generation 0) is left out: the walk starts below it.
        let rows = query(&lake, &format!("SELECT depth, {guid} AS guid FROM process_descendants({table}, '{root}') WHERE depth > 0"));
        let found: BTreeMap<String, u64> = rows.iter().map(|r| (text(r, "guid"), r["depth"].as_u64().unwrap())).collect();
        assert_eq!(found, expected, "{schema}");

        // Up from the deepest descendant: its creation, its parent's, and so on.
        let (deepest, _) = expected.iter().max_by_key(|(_, d)| **d).unwrap();
        let parent_of: BTreeMap<&str, &str> = all.iter().map(|(p, c)| (c.as_str(), p.as_str())).collect();
        let (mut chain, mut at) = (BTreeMap::new(), deepest.as_str());
        while let Some(parent) = parent_of.get(at) {
            chain.insert(at.to_string(), chain.len() as u64);
            at = parent;
        }
        let up = query(&lake, &format!("SELECT depth, {guid} AS guid FROM process_ancestors({table}, '{deepest}')"));
        let found: BTreeMap<String, u64> = up.iter().map(|r| (text(r, "guid"), r["depth"].as_u64().unwrap())).collect();
        assert_eq!(found, chain, "{schema}");
        assert!(chain.contains_key(deepest) && chain.len() as u64 >= expected[deepest], "{schema}: {chain:?}");
        assert!(query(&lake, &format!("SELECT * FROM process_descendants({table}, '{{no-such-guid}}')")).is_empty());
    }
}

#[test]
fn the_logon_graph_holds_the_lateral_movement_and_bfs_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), "raw");
    let logons = query(&lake, "SELECT IpAddress, Hostname, TargetDomainName, TargetUserName FROM events WHERE EventID = 4624 AND CAST(LogonType AS INT) = 3");
    assert!(!logons.is_empty());
    let source = text(&logons[0], "IpAddress");
    let target = text(&logons[0], "Hostname").split('.').next().unwrap().to_uppercase();
    let account = format!("{}\\{}", text(&logons[0], "TargetDomainName"), text(&logons[0], "TargetUserName"));
    let edges = query(&lake, "SELECT src, dst, kind, account FROM logon_graph(events) WHERE kind = 'network logon'");
    assert!(edges.iter().any(|e| text(e, "src") == source && text(e, "dst") == target && text(e, "account") == account), "{edges:?}");
    let paths = query(
        &lake,
        &format!("SELECT hops, path FROM bfs((SELECT * FROM logon_graph(events) WHERE kind = 'network logon'), 'id = ''{source}''', 'id = ''{target}''')"),
    );
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(paths[0]["path"], serde_json::json!([source, target]));
    let to_host = query(&lake, &format!("SELECT count(*) AS n FROM logon_graph(events) WHERE kind = 'logon' AND dst = '{target}'"));
    assert!(to_host[0]["n"].as_i64().unwrap() > 0);
}

#[test]
fn the_analytics_playbook_runs_on_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path(), "raw");
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/analytics.md");
    let out = common::hela(&["playbook", "run", playbook.to_str().unwrap(), "--lake", lake.to_str().unwrap()], None);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("block 5/8 (line 48): 3 rows"), "the tree under the WMI provider host: {err}");
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains("8 blocks: 5 expectations held, 0 not, 0 failed"), "{report}");
    assert!(report.to_lowercase().contains("wmiprvse.exe") && report.to_lowercase().contains("powershell.exe"), "{report}");
}
