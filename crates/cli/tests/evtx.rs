//! Windows event logs (.evtx) written by the tests themselves, read by `sql --table`,
//! `ingest` and `hunt`; damaged files read as far as they go; and the Defender rules of
//! SigmaHQ, whose detections are compared with RSigma's on the same files.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn write_fixture(dir: &Path) -> String {
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

/// Rule files by name, and the record numbers of the events each one fired on.
type FiredByRuleFile = BTreeMap<String, Vec<u64>>;

/// Which events (by record number) each rule file under `rules` fires on in `file`.
fn fired_by_rule_file(rules: &[PathBuf], file: &Path) -> FiredByRuleFile {
    let mut args = vec!["hunt", "--format", "jsonl", "--quiet"];
    for rule in rules {
        args.extend(["--sigma", rule.to_str().unwrap()]);
    }
    args.push(file.to_str().unwrap());
    let hits = hela_ok(&args).lines().map(|line| serde_json::from_str::<Value>(line).unwrap()).collect();
    by_rule_file(rules, hits, |hit| &hit["EventRecordID"])
}

/// The hits (`rule_id`, and the record number `record` finds) under their rules' file names.
fn by_rule_file(rules: &[PathBuf], hits: Vec<Value>, record: impl Fn(&Value) -> &Value) -> FiredByRuleFile {
    let by_id: HashMap<String, String> = rules
        .iter()
        .map(|rule| {
            let text = std::fs::read_to_string(rule).unwrap();
            let id = text.lines().find_map(|l| l.strip_prefix("id: ")).unwrap().trim().to_string();
            (id, rule.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    let mut fired = FiredByRuleFile::new();
    for hit in &hits {
        let name = by_id[hit["rule_id"].as_str().unwrap()].clone();
        fired.entry(name).or_default().push(record(hit).as_u64().unwrap());
    }
    fired.values_mut().for_each(|records| records.sort());
    fired
}

/// RSigma's answer for the same rules over the same EVTX file (RSigma 0.23, the streaming
/// Sigma engine, built with its `evtx` feature; `.ci/run` installs it). RSigma decodes the
/// records itself, as nested XML-shaped JSON; they are put in the names Sigma's Windows rules
/// use (System fields flat, the provider as `Provider_Name`, event data names without their
/// spaces, and with underscores for them) and RSigma runs the rules over that.
fn rsigma_fired_by_rule_file(rules: &[PathBuf], file: &Path) -> FiredByRuleFile {
    let dir = tempfile::tempdir().unwrap();
    let every = dir.path().join("every-record.yml");
    std::fs::write(&every, "title: every record\nid: 00000000-0000-4000-8000-000000000000\nlogsource: {product: windows}\ndetection:\n  record:\n    Event|exists: true\n  condition: record\n").unwrap();
    let decoded = rsigma(&every, file);
    let events: String = decoded.iter().map(|hit| format!("{}\n", sigma_windows_event(&hit["event"]["Event"]))).collect();
    let flat = dir.path().join("events.ndjson");
    std::fs::write(&flat, events).unwrap();
    let rule_dir = dir.path().join("rules");
    std::fs::create_dir(&rule_dir).unwrap();
    for rule in rules {
        std::fs::copy(rule, rule_dir.join(rule.file_name().unwrap())).unwrap();
    }
    by_rule_file(rules, rsigma(&rule_dir, &flat), |hit| &hit["event"]["EventRecordID"])
}

/// RSigma's matches (each with its event) of the rules at `rules` over the events in `events`.
fn rsigma(rules: &Path, events: &Path) -> Vec<Value> {
    let program = cargo_installed("rsigma");
    let out = std::process::Command::new(&program)
        .args(["engine", "eval", "--quiet", "--include-event", "--output-format", "ndjson", "-r"])
        .arg(rules)
        .arg("-e")
        .arg(format!("@{}", events.display()))
        .output()
        .expect("rsigma runs (cargo install --locked rsigma@0.23.0 --features evtx; .ci/run installs it)");
    assert!(out.status.success(), "rsigma failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// An EVTX record as RSigma decodes it (`Event`: `System`, `EventData`), in the field names
/// Sigma's Windows rules are written for.
fn sigma_windows_event(event: &Value) -> Value {
    let system = &event["System"];
    let mut flat = serde_json::Map::new();
    for name in ["EventID", "EventRecordID", "Channel", "Computer", "Level", "Task", "Opcode", "Keywords"] {
        // A value with attributes (`EventID` with `Qualifiers`) keeps its text in `#text`.
        let value = system.get(name).map(|v| v.get("#text").unwrap_or(v).clone());
        flat.extend(value.map(|v| (name.to_string(), v)));
    }
    flat.insert("Provider_Name".into(), system["Provider"]["#attributes"]["Name"].clone());
    for (name, value) in event["EventData"].as_object().into_iter().flatten() {
        flat.insert(name.replace(' ', ""), value.clone());
        flat.insert(name.replace(' ', "_"), value.clone());
    }
    Value::Object(flat)
}

/// Every Microsoft Defender rule of SigmaHQ over an EVTX file of Defender events written as
/// Defender writes them: event data names with spaces (`Process Name`, `New Value`,
/// `Source Name`), which the rules write without (`ProcessName`, `NewValue`, `SourceName`)
/// or with underscores (`Feature_Name`).
#[test]
fn every_defender_rule_of_the_corpus_fires_on_its_defender_event() {
    let (Some(windefend), Some(redsun)) = (
        shared("sigma/rules-corpus/rules/windows/builtin/windefend"),
        shared("sigma/rules-corpus/rules-emerging-threats/2026/Exploits/RedSun/win_defender_exploit_redsun_tiering_engine_detected_as_eicar.yml"),
    ) else {
        return;
    };
    let mut rules: Vec<_> = std::fs::read_dir(&windefend).unwrap().map(|e| e.unwrap().path()).collect();
    rules.push(redsun);
    rules.sort();
    assert_eq!(rules.len(), 17, "the corpus's Defender rules: {rules:?}");
    let event = |event_id: u16, data: Vec<(&'static str, &'static str)>| EvtxEvent {
        provider: "Microsoft-Windows-Windows Defender",
        channel: "Microsoft-Windows-Windows Defender/Operational",
        event_id,
        computer: "WORKSTATION5.theshire.local",
        time: "2020-09-21T04:15:00.100Z",
        data,
    };
    let detection = |event_id: u16, source: &'static str, process: &'static str, path: &'static str, threat: &'static str| {
        event(event_id, vec![("Product Name", "Microsoft Defender Antivirus"), ("Threat Name", threat), ("Source Name", source), ("Process Name", process), ("Path", path)])
    };
    let change = |value: &'static str| event(5007, vec![("Old Value", ""), ("New Value", value)]);
    let events = vec![
        /* 1 */ detection(1116, "AMSI", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "amsi:_powershell", "Trojan:PowerShell/Mimikatz.A"),
        /* 2 */ detection(1116, "Real-Time Protection", "C:\\Users\\Public\\a.exe", "file:_C:\\Users\\Public\\a.exe", "Trojan:Win32/Test"),
        /* 3 */ event(1121, vec![("Process Name", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"), ("Path", "C:\\Windows\\System32\\lsass.exe")]),
        /* 4 */ event(1121, vec![("Process Name", "C:\\Users\\Public\\dump.exe"), ("Path", "C:\\Windows\\System32\\lsass.exe")]),
        /* 5 */ change("HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths\\C:\\Users\\Public = 0x0"),
        /* 6 */ change("HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Windows Defender Exploit Guard\\Controlled Folder Access\\AllowedApplications\\C:\\Users\\Public\\tool.exe = 0x0"),
        /* 7 */ change("HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection\\SubmitSamplesConsent = 0x0"),
        /* 8 */ change("HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\DisableAntiSpyware = 0x1"),
        /* 9 */ event(5013, vec![("Value", "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection\\DisableRealtimeMonitoring")]),
        /* 10 */ event(3002, vec![("Feature Name", "%%886"), ("Reason", "%%892")]),
        /* 11 */ event(3007, vec![("Feature Name", "%%885"), ("Reason", "%%858")]),
        /* 12 */
        detection(1119, "Real-Time Protection", "C:\\Windows\\System32\\svchost.exe", "file:_C:\\Users\\u\\AppData\\Local\\Temp\\1\\RS-{7D2F}\\TieringEngineService.exe", "Virus:DOS/EICAR_Test_File"),
        /* 13 */ event(5101, vec![]),
        /* 14 */ event(1013, vec![]),
        /* 15 */ event(5010, vec![]),
        /* 16 */ event(5001, vec![]),
        /* 17 */ event(1009, vec![]),
        /* 18 */ event(5012, vec![]),
        /* 19 */ event(1006, vec![]),
        /* 20 */ event(1015, vec![]),
        /* 21 */ event(1117, vec![]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Microsoft-Windows-Windows Defender%4Operational.evtx");
    std::fs::write(&file, evtx_file(&events)).unwrap();
    let expected: FiredByRuleFile = [
        ("win_defender_antimalware_platform_expired.yml", vec![13]),
        // WmiPrvSE is one of the rule's expected callers of lsass.
        ("win_defender_asr_lsass_access.yml", vec![4]),
        ("win_defender_asr_psexec_wmi.yml", vec![3]),
        ("win_defender_config_change_exclusion_added.yml", vec![5]),
        ("win_defender_config_change_exploit_guard_tamper.yml", vec![6]),
        ("win_defender_config_change_sample_submission_consent.yml", vec![7]),
        ("win_defender_exploit_redsun_tiering_engine_detected_as_eicar.yml", vec![12]),
        ("win_defender_history_delete.yml", vec![14]),
        ("win_defender_malware_and_pua_scan_disabled.yml", vec![15]),
        // `SourceName` is the event's `Source Name`, not the provider.
        ("win_defender_malware_detected_amsi_source.yml", vec![1]),
        ("win_defender_real_time_protection_disabled.yml", vec![16]),
        // The Network Inspection System's error for missing updates (`Feature_Name`) is left out.
        ("win_defender_real_time_protection_errors.yml", vec![11]),
        ("win_defender_restored_quarantine_file.yml", vec![17]),
        ("win_defender_suspicious_features_tampering.yml", vec![8]),
        ("win_defender_tamper_protection_trigger.yml", vec![9]),
        ("win_defender_threat.yml", vec![1, 2, 19, 20, 21]),
        ("win_defender_virus_scan_disabled.yml", vec![18]),
    ]
    .into_iter()
    .map(|(name, records)| (name.to_string(), records))
    .collect();
    assert_eq!(fired_by_rule_file(&rules, &file), expected);
    assert_eq!(rsigma_fired_by_rule_file(&rules, &file), expected, "RSigma's answer on the same file");

    // Defender's own log of an Atomic Red Team run: its 1116 and 1117 events are threats.
    let Some(real) = shared("datasets/evtx-attack-samples/AutomatedTestingTools/WinDefender_Events_1117_1116_AtomicRedTeam.evtx") else {
        return;
    };
    let table = format!("t={}", real.display());
    let threats = hela_ok(&["sql", "--table", &table, "--format", "csv", "SELECT EventRecordID FROM t WHERE EventID IN (1116, 1117) ORDER BY 1"]);
    let threats: Vec<u64> = threats.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert!(!threats.is_empty());
    let fired = fired_by_rule_file(&rules, &real);
    assert_eq!(fired.get("win_defender_threat.yml"), Some(&threats), "{fired:?}");
    assert_eq!(fired, rsigma_fired_by_rule_file(&rules, &real), "RSigma's answer on the same file");
}
