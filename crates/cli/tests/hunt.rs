//! `hela hunt`: Sigma rules over event logs and the lake, on project-made events and rules,
//! and the SigmaHQ regression samples and rule corpus in ../shared when present.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

const WHOAMI_RULE: &str = r#"title: Whoami Run From PowerShell
id: 0f6e5b1a-5c8e-4b8e-9a55-5b3c2f0d7a11
status: test
level: high
tags: [attack.discovery, attack.t1033]
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
        ParentImage|endswith: '\powershell.exe'
    condition: selection
fields: [Image, ParentImage, LogonId]
"#;

const NETWORK_LOGON_RULE: &str = r#"title: Network Logon From A Private Address
id: 9c1d2e3f-0000-4a4a-8b8b-111122223333
status: experimental
level: low
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4624
        LogonType: 3
        IpAddress|cidr: '172.16.0.0/12'
    condition: selection
"#;

const LINUX_RULE: &str = r#"title: Not For Windows
id: 1
logsource: {product: linux, category: process_creation}
detection: {selection: {Image: x}, condition: selection}
"#;

/// A rules directory with two Windows rules and one that cannot load, and the NXLog events.
fn fixture(dir: &Path) -> (String, String) {
    let rules = dir.join("rules");
    std::fs::create_dir_all(rules.join("nested")).unwrap();
    std::fs::write(rules.join("whoami.yml"), WHOAMI_RULE).unwrap();
    std::fs::write(rules.join("nested/logon.yaml"), NETWORK_LOGON_RULE).unwrap();
    std::fs::write(rules.join("linux.yml"), LINUX_RULE).unwrap();
    std::fs::write(rules.join("notes.txt"), "not a rule").unwrap();
    let events = dir.join("events.json");
    std::fs::write(&events, nxlog_lines()).unwrap();
    (rules.to_str().unwrap().to_string(), events.to_str().unwrap().to_string())
}

fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn detections_name_rule_level_event_and_key_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, events) = fixture(dir.path());
    let out = hela(&["hunt", "--sigma", &rules, "--format", "jsonl", &events], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("2 rules loaded, 1 rejected"), "{err}");
    let hits = jsonl(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(hits.len(), 2, "{hits:?}");
    let whoami = hits.iter().find(|h| h["rule_id"] == "0f6e5b1a-5c8e-4b8e-9a55-5b3c2f0d7a11").unwrap();
    assert_eq!(whoami["rule_title"], "Whoami Run From PowerShell");
    assert_eq!(whoami["level"], "high");
    assert_eq!(whoami["tags"], serde_json::json!(["attack.discovery", "attack.t1033"]));
    assert_eq!(whoami["Hostname"], "WORKSTATION5.theshire.local");
    assert_eq!(whoami["EventID"], 1);
    assert_eq!(whoami["Channel"], "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(whoami["@timestamp"], "2020-09-22T10:00:00.000Z");
    assert_eq!(whoami["fields"]["LogonId"], "0x3e8a1f2");
    assert_eq!(whoami["event"]["Image"], "C:\\Windows\\System32\\whoami.exe");
    assert!(whoami["source"].as_str().unwrap().ends_with("events.json"));
    // The logon rule: only the type 3 logon from 172.18.39.5 (the lower-case `security`
    // channel of the dataset counts as Security).
    let logon = hits.iter().find(|h| h["level"] == "low").unwrap();
    assert_eq!(logon["fields"]["IpAddress"], "172.18.39.5");
    assert!(err.contains("2 detections by 2 rules"), "{err}");
    assert!(err.contains("by level: high 1, low 1"), "{err}");
}

#[test]
fn filters_formats_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, events) = fixture(dir.path());
    let csv = hela_ok(&["hunt", "--sigma", &rules, "--format", "csv", "--min-level", "medium", "--quiet", &events]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("@timestamp,Hostname,level,rule_title"));
    assert!(lines[1].contains(",high,Whoami Run From PowerShell,"), "{csv}");
    let by_tag = hela_ok(&["hunt", "--sigma", &rules, "--tag", "t1033", "--format", "json", "--quiet", &events]);
    let array: Vec<serde_json::Value> = serde_json::from_str(&by_tag).unwrap();
    assert_eq!(array.len(), 1);
    let table = hela_ok(&["hunt", "--sigma", &rules, "--status", "experimental", "--quiet", &events]);
    assert!(table.lines().next().unwrap().starts_with("time"), "{table}");
    assert!(table.contains("Network Logon From A Private Address") && !table.contains("Whoami"), "{table}");
    let out = hela(&["hunt", "--sigma", &rules, "--list-rejected", &events], None);
    let err = stderr(&out);
    assert!(err.contains("rejected:") && err.contains("linux.yml (Not For Windows): logsource product `linux` has no mapping"), "{err}");
    let none = hela(&["hunt", "--sigma", &rules, "--min-level", "critical", &events], None);
    assert!(!none.status.success() && stderr(&none).contains("no rules to run"), "{}", stderr(&none));
}

#[test]
fn the_lake_is_hunted_and_detections_are_saved_for_sql() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, events) = fixture(dir.path());
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake_arg, &events]);
    let out = hela_ok(&["hunt", "--sigma", &rules, "--lake", lake_arg, "--format", "jsonl", "--save"]);
    assert_eq!(jsonl(&out).len(), 2);
    let joined = query(
        &lake,
        "SELECT d.rule_title, e.ParentImage FROM detections d JOIN events e \
         ON d.Hostname = e.Hostname AND d.`@timestamp` = e.`@timestamp` WHERE d.level = 'high'",
    );
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert!(joined[0]["ParentImage"].as_str().unwrap().ends_with("powershell.exe"));
    // Saving the same detections again stores nothing new.
    hela_ok(&["hunt", "--sigma", &rules, "--lake", lake_arg, "--quiet", "--save"]);
    assert_eq!(count(&lake, "detections"), 2);
}

#[test]
fn helk_lakes_and_missing_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, events) = fixture(dir.path());
    let lake = dir.path().join("helk");
    hela_ok(&["ingest", "--quiet", "--schema", "helk", "--lake", lake.to_str().unwrap(), &events]);
    let out = hela(&["hunt", "--sigma", &rules, "--lake", lake.to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("holds the helk schema"), "{}", stderr(&out));
    let out = hela(&["hunt", "--sigma", &rules, "--lake", dir.path().join("none").to_str().unwrap()], None);
    assert!(stderr(&out).contains("no lake at"), "{}", stderr(&out));
}

/// Every SigmaHQ regression sample (an .evtx and the id of the rule it must fire), hunted
/// with the whole SigmaHQ corpus. Prints each miss; at least 95% must fire.
#[test]
fn sigma_regression_samples_fire_their_rules() {
    let (Some(regression), Some(corpus)) = (shared("sigma/regression"), shared("sigma/rules-corpus")) else {
        return;
    };
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for info in files_under(&regression).into_iter().filter(|p| p.ends_with("info.yml")) {
        let folder = info.parent().unwrap();
        let Some(evtx) = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "evtx")) else {
            continue;
        };
        let text = std::fs::read_to_string(&info).unwrap();
        let ids = text.lines().filter_map(|l| l.trim().strip_prefix("- id:")).map(|id| id.trim().to_string()).collect();
        expected.insert(evtx.to_str().unwrap().to_string(), ids);
    }
    assert!(expected.len() >= 100, "only {} samples found", expected.len());
    let out = hela(&["hunt", "--sigma", corpus.to_str().unwrap(), "--format", "jsonl", regression.to_str().unwrap()], None);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for hit in jsonl(&String::from_utf8(out.stdout).unwrap()) {
        let source = hit["source"].as_str().unwrap().to_string();
        fired.entry(source).or_default().insert(hit["rule_id"].as_str().unwrap().to_string());
    }
    let misses: Vec<&String> = expected.iter().filter(|(evtx, ids)| fired.get(*evtx).is_none_or(|f| f.is_disjoint(ids))).map(|(e, _)| e).collect();
    for miss in &misses {
        eprintln!("miss: {miss} should fire {:?}", expected[*miss]);
    }
    let rate = 1.0 - misses.len() as f64 / expected.len() as f64;
    eprintln!("{} of {} regression samples fire their rule ({:.1}%)", expected.len() - misses.len(), expected.len(), rate * 100.0);
    assert!(rate >= 0.95, "{:.1}% of samples fire their rule", rate * 100.0);
}
