//! Windows event logs (.evtx) written by the tests themselves, read by `sql --table`,
//! `ingest` and `hunt`; and damaged files read as far as they go.

mod common;

use common::*;

fn write_fixture(dir: &std::path::Path) -> String {
    let path = dir.join("Security.evtx");
    std::fs::write(&path, evtx_file(&lateral_movement_events())).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn evtx_events_are_flat_records_with_nxlog_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path());
    let table = format!("t={file}");
    let text = hela_ok(&["sql", "--table", &table, "--format", "json",
        "SELECT EventRecordID, EventID, Channel, Hostname, SourceName, `@timestamp`, ProcessID, Image, TargetLogonId FROM t ORDER BY EventRecordID"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(rows[0]["EventID"], 4624);
    assert_eq!(rows[0]["Channel"], "Security");
    assert_eq!(rows[0]["Hostname"], "WORKSTATION5.theshire.local");
    assert_eq!(rows[0]["SourceName"], "Microsoft-Windows-Security-Auditing");
    assert_eq!(rows[0]["TargetLogonId"], "0x3e8a1f2");
    assert_eq!(rows[0]["@timestamp"], "2020-09-21T04:15:00.100Z");
    assert_eq!(rows[0]["ProcessID"], 4);
    assert_eq!(rows[1]["EventRecordID"], 2);
    assert_eq!(rows[2]["Image"], "C:\\Windows\\System32\\whoami.exe");
}

#[test]
fn an_evtx_lake_answers_the_lateral_movement_join_and_the_hunt() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_fixture(dir.path());
    let lake = dir.path().join("lake");
    let lake_arg = lake.to_str().unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake_arg, dir.path().to_str().unwrap()]);
    let rows = query(&lake, "SELECT s.IpAddress, p.ParentImage, p.Image FROM events s JOIN events p ON s.TargetLogonId = p.LogonId \
        WHERE s.EventID = 4624 AND s.LogonType = 3 AND p.EventID = 1 ORDER BY p.Image");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0]["ParentImage"].as_str().unwrap().ends_with("WmiPrvSE.exe"));
    let rule = dir.path().join("wmi_child.yml");
    std::fs::write(&rule, "title: PowerShell Child Of WmiPrvSE\nid: 2b1c\nlevel: high\nlogsource: {category: process_creation, product: windows}\n\
        detection:\n  selection:\n    ParentImage|endswith: '\\wmiprvse.exe'\n    CommandLine|contains|windash: ' -enc '\n  condition: selection\n").unwrap();
    for target in [vec!["--lake", lake_arg], vec![file.as_str()]] {
        let mut args = vec!["hunt", "--sigma", rule.to_str().unwrap(), "--format", "jsonl", "--quiet"];
        args.extend(target);
        let out = hela_ok(&args);
        let hits: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(hits.len(), 1, "{out}");
        assert_eq!(hits[0]["EventRecordID"], 2);
        assert_eq!(hits[0]["rule_id"], "2b1c");
    }
}

#[test]
fn a_damaged_record_is_reported_and_the_others_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = evtx_file(&lateral_movement_events());
    // The second record's magic, somewhere after the first record.
    let second = 4096 + 512 + bytes[4096 + 512 + 4..4096 + 512 + 8].iter().rev().fold(0usize, |n, b| n * 256 + *b as usize);
    bytes[second..second + 4].copy_from_slice(b"XXXX");
    let path = dir.path().join("damaged.evtx");
    std::fs::write(&path, &bytes).unwrap();
    let table = format!("t={}", path.display());
    let out = hela(&["sql", "--table", &table, "--format", "csv", "SELECT EventRecordID FROM t ORDER BY 1"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "EventRecordID\n1\n3\n");
    let err = stderr(&out);
    assert!(err.contains("damaged.evtx") && err.contains("damaged EVTX data skipped after record 1"), "{err}");
}

#[test]
fn a_file_that_only_starts_like_evtx_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.evtx");
    std::fs::write(&path, b"ElfFile\0 and nothing else").unwrap();
    let table = format!("t={}", path.display());
    let out = hela(&["sql", "--table", &table, "SELECT 1"], None);
    assert!(stderr(&out).contains("not a readable EVTX file"), "{}", stderr(&out));
}
