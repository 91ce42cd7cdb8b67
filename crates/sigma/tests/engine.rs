//! Rules written as Sigma YAML, run over hand-made batches of Windows events.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use hela_sigma::{Engine, Parsed, Rule, parse_rules};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// Events as (column, values) pairs; every value is text except `EventID`.
fn batch(columns: &[(&str, Vec<Option<&str>>)], event_ids: &[i64]) -> RecordBatch {
    let mut fields = vec![Field::new("EventID", DataType::Int64, true)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(event_ids.to_vec()))];
    for (name, values) in columns {
        fields.push(Field::new(*name, DataType::Utf8, true));
        arrays.push(Arc::new(StringArray::from(values.clone())));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

fn rule(yaml: &str) -> Rule {
    match parse_rules(yaml, Path::new("test.yml")).pop().unwrap() {
        Ok(Parsed::Rule(rule)) => rule,
        Ok(other) => panic!("not a detection rule: {other:?}"),
        Err((_, reason)) => panic!("{reason}"),
    }
}

fn rejection(yaml: &str) -> String {
    match parse_rules(yaml, Path::new("test.yml")).pop().unwrap() {
        Ok(_) => panic!("rule loaded"),
        Err((_, reason)) => reason,
    }
}

/// The rows each rule fires on.
fn fired(rules: Vec<Rule>, batch: &RecordBatch) -> Vec<Vec<usize>> {
    let count = rules.len();
    let engine = Engine::new(rules);
    let mut rows = vec![Vec::new(); count];
    for hit in engine.evaluate(batch) {
        rows[hit.rule].push(hit.row);
    }
    rows
}

const WHOAMI: &str = r#"
title: Whoami Execution
id: 11111111-1111-1111-1111-111111111111
level: medium
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        - Image|endswith: '\whoami.exe'
        - OriginalFileName: 'whoami.exe'
    filter_main_system:
        User|contains: 'SYSTEM'
    condition: selection and not filter_main_system
"#;

#[test]
fn process_creation_covers_sysmon_1_and_security_4688_with_its_field_names() {
    let events = batch(
        &[
            ("Channel", vec![Some(SYSMON), Some(SYSMON), Some("Security"), Some(SYSMON), Some("Security")]),
            ("Image", vec![Some(r"C:\Windows\System32\WHOAMI.EXE"), Some(r"C:\Windows\System32\whoami.exe"), None, Some(r"C:\x\whoami.exe"), None]),
            ("NewProcessName", vec![None, None, Some(r"C:\Windows\System32\whoami.exe"), None, Some(r"C:\Windows\System32\cmd.exe")]),
            ("User", vec![Some(r"CORP\alice"), Some(r"NT AUTHORITY\SYSTEM"), None, Some(r"CORP\bob"), None]),
        ],
        &[1, 1, 4688, 3, 4688],
    );
    // Row 3 is Sysmon 3 (a network connection), not a process creation.
    assert_eq!(fired(vec![rule(WHOAMI)], &events), vec![vec![0, 2]]);
}

#[test]
fn modifiers_all_windash_base64offset_cidr_and_numbers() {
    let rules = vec![
        rule(r#"
title: all
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains|all: ['-nop', 'hidden']
    condition: selection
"#),
        rule(r#"
title: windash
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|windash|contains: ' -encodedcommand '
    condition: selection
"#),
        rule(r#"
title: base64offset
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|base64offset|contains: 'IEX'
    condition: selection
"#),
        rule(r#"
title: cidr and numbers
logsource: {category: network_connection, product: windows}
detection:
    selection:
        DestinationIp|cidr: '10.0.0.0/8'
        DestinationPort|gte: 1024
    condition: selection
"#),
    ];
    // base64 of "xIEX(..." at offset 1.
    let encoded = "powershell -e eElFWCg=";
    let events = batch(
        &[
            ("Channel", vec![Some(SYSMON); 5]),
            ("CommandLine", vec![Some("powershell -NoP -W Hidden"), Some("powershell /EncodedCommand AAAA "), Some(encoded), Some("cmd -nop"), None]),
            ("DestinationIp", vec![None, None, None, None, Some("10.2.3.4")]),
            ("DestinationPort", vec![None, None, None, None, Some("8080")]),
        ],
        &[1, 1, 1, 1, 3],
    );
    assert_eq!(fired(rules, &events), vec![vec![0], vec![1], vec![2], vec![4]]);
}

#[test]
fn keywords_one_of_patterns_null_exists_and_fieldref() {
    let rules = vec![
        rule(r#"
title: keywords
logsource: {product: windows, service: security}
detection:
    keywords: ['mimikatz', 'sekurlsa::']
    condition: keywords
"#),
        rule(r#"
title: patterns
logsource: {product: windows, service: security}
detection:
    selection_a: {TargetUserName: 'admin'}
    selection_b: {SubjectUserName: 'admin'}
    condition: 1 of selection_*
"#),
        rule(r#"
title: null and exists
logsource: {product: windows, service: security}
detection:
    selection:
        TargetUserName: null
        SubjectUserName|exists: true
    condition: selection
"#),
        rule(r#"
title: fieldref
logsource: {product: windows, service: security}
detection:
    selection:
        TargetUserName|fieldref: SubjectUserName
    condition: selection
"#),
    ];
    let events = batch(
        &[
            ("Channel", vec![Some("Security"); 4]),
            ("TargetUserName", vec![Some("ADMIN"), None, Some("bob"), Some("x")]),
            ("SubjectUserName", vec![Some("x"), Some("y"), Some("bob"), Some("run Mimikatz now")]),
        ],
        &[4624, 4624, 4624, 4688],
    );
    assert_eq!(fired(rules, &events), vec![vec![3], vec![0], vec![1], vec![2]]);
}

#[test]
fn unusable_rules_say_why() {
    let base = "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n";
    let cases = [
        ("    sel: {Image|frobnicate: x}\n    condition: sel\n", "frobnicate"),
        ("    sel: {Image: x}\n    condition: sel | max(Size) > 3\n", "no correlation equivalent"),
        ("    sel: {Image: x}\n    condition: [sel | count() > 3]\n", "may only end a rule's single condition"),
        ("    sel: {Image|re: '(?<=a)b'}\n    condition: sel\n", "not supported"),
        ("    sel: {Image|expand: '%admins%'}\n    condition: sel\n", "placeholder"),
        ("    sel: {Image: x}\n    condition: other\n", "other"),
    ];
    for (detection, expected) in cases {
        let reason = rejection(&format!("{base}{detection}"));
        assert!(reason.contains(expected), "{reason} should mention {expected}");
    }
    assert!(rejection("title: t\nlogsource: {product: linux, category: process_creation}\ndetection: {s: {a: b}, condition: s}\n").contains("linux"));
    assert!(rejection("title: [unclosed\n").contains("YAML"));
}

/// Microsoft Defender's event data names have spaces (`Process Name`, `Source Name`); its
/// rules write them without (`ProcessName`, `SourceName`) or with underscores
/// (`Feature_Name`). Its `SourceName` is the event data's, not the provider's.
#[test]
fn defender_rules_read_event_data_names_written_without_spaces() {
    const DEFENDER: &str = "Microsoft-Windows-Windows Defender/Operational";
    let rules = vec![
        rule("title: ASR WMI\nlogsource: {product: windows, service: windefend}\ndetection:\n  s: {EventID: 1121, ProcessName|endswith: '\\wmiprvse.exe'}\n  condition: s\n"),
        rule("title: AMSI\nlogsource: {product: windows, service: windefend}\ndetection:\n  s: {EventID: 1116, SourceName: AMSI}\n  condition: s\n"),
        rule("title: Provider\nlogsource: {product: windows, service: windefend}\ndetection:\n  s: {Provider_Name: 'Microsoft-Windows-Windows Defender'}\n  condition: s\n"),
        rule("title: NIS\nlogsource: {product: windows, service: windefend}\ndetection:\n  s: {EventID: 3002, Feature_Name: '%%886'}\n  condition: s\n"),
        // Elsewhere `SourceName` is still the provider.
        rule("title: Sysmon provider\nlogsource: {product: windows}\ndetection:\n  s: {SourceName: 'Microsoft-Windows-Sysmon'}\n  condition: s\n"),
    ];
    let provider = "Microsoft-Windows-Windows Defender";
    let events = batch(
        &[
            ("Channel", vec![Some(DEFENDER), Some(DEFENDER), Some(DEFENDER), Some(DEFENDER), Some(SYSMON)]),
            ("SourceName", vec![Some(provider), Some(provider), Some(provider), Some(provider), Some("Microsoft-Windows-Sysmon")]),
            ("Source Name", vec![None, Some("AMSI"), Some("Real-Time Protection"), None, None]),
            ("Process Name", vec![Some("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"), None, None, None, None]),
            ("Feature Name", vec![None, None, None, Some("%%886"), None]),
        ],
        &[1121, 1116, 1116, 3002, 1],
    );
    assert_eq!(fired(rules, &events), vec![vec![0], vec![1], vec![0, 1, 2, 3], vec![3], vec![4]]);
}
