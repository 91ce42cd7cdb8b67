//! `hela sample`: writes a small, realistic Windows dataset (NXLog-shaped JSON lines, as in
//! Security-Datasets) with background activity and one WMI lateral movement to find:
//! a network logon (4624, type 3) from 172.18.39.5 as THESHIRE\pgustavo, then WmiPrvSE.exe
//! starting PowerShell under that logon, which runs whoami. `--shape winlogbeat` writes the
//! same events as Winlogbeat 6 shipped them in 2019, with the event's fields in `event_data`.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::{SampleArgs, SampleShape};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const HOSTS: &[&str] = &["WORKSTATION5.theshire.local", "WORKSTATION6.theshire.local", "MORDORDC.theshire.local"];
const USERS: &[&str] = &["NT AUTHORITY\\SYSTEM", "THESHIRE\\pgustavo", "THESHIRE\\bbaggins", "NT AUTHORITY\\NETWORK SERVICE"];
const PROGRAMS: &[(&str, &str)] = &[
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\notepad.exe"),
    ("C:\\Windows\\System32\\services.exe", "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Windows\\explorer.exe", "C:\\Program Files\\Mozilla Firefox\\firefox.exe"),
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\System32\\taskhostw.exe"),
    ("C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\cmd.exe"),
];

pub fn run(args: SampleArgs) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::create(&args.out).map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    let events = generate(args.events);
    for event in &events {
        match args.shape {
            SampleShape::Nxlog => serde_json::to_writer(&mut out, event)?,
            SampleShape::Winlogbeat => serde_json::to_writer(&mut out, &winlogbeat(event))?,
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!("wrote {} events to {}", events.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// A small deterministic generator (no seed from the clock: the sample is the same every time).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

/// Generates `background` ordinary events with the lateral movement in the middle.
pub fn generate(background: usize) -> Vec<Value> {
    let mut rng = Rng(0x4e1a);
    let mut events = Vec::with_capacity(background + 4);
    let start = 1_600_650_000u64; // 2020-09-21T01:00:00Z
    for i in 0..background {
        let time = start + (i as u64 * 7) % 3600;
        let host = *rng.pick(HOSTS);
        let event = match rng.next() % 3 {
            0 => {
                let (parent, image) = *rng.pick(PROGRAMS);
                let user = *rng.pick(USERS);
                process_create(&mut rng, time, host, parent, image, image, user, "0x3e7")
            }
            1 => network_connect(&mut rng, time, host),
            _ => logon(&mut rng, time, host, 5, "-", "SYSTEM", "0x3e7"),
        };
        events.push(event);
    }
    let at = start + 1800;
    let victim = HOSTS[0];
    let logon_id = "0x3e8a1f2";
    let mut movement = [
        logon(&mut rng, at, victim, 3, "172.18.39.5", "pgustavo", logon_id),
        process_create(&mut rng, at + 1, victim, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "powershell -noP -sta -w 1 -enc SQBmACgAJABQAFMAVgBlAHIAcwBpAG8AbgBUAGEAYgBsAGUA", "THESHIRE\\pgustavo", logon_id),
        process_create(&mut rng, at + 2, victim, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "C:\\Windows\\System32\\conhost.exe",
            "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", "THESHIRE\\pgustavo", logon_id),
        process_create(&mut rng, at + 3, victim, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "C:\\Windows\\System32\\whoami.exe",
            "\"C:\\Windows\\system32\\whoami.exe\" /all", "THESHIRE\\pgustavo", logon_id),
    ];
    // PowerShell is the parent of conhost and whoami: the process tree wmiprvse.exe →
    // powershell.exe → conhost.exe, whoami.exe.
    let powershell = movement[1].clone();
    for child in &mut movement[2..] {
        for (field, from) in [("ParentProcessGuid", "ProcessGuid"), ("ParentProcessId", "ProcessId"), ("ParentCommandLine", "CommandLine")] {
            child[field] = powershell[from].clone();
        }
    }
    let middle = events.len() / 2;
    events.splice(middle..middle, movement);
    events
}

fn timestamp(seconds: u64, millis: u64) -> String {
    let (h, m, s) = ((seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60);
    format!("2020-09-21T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

fn guid(rng: &mut Rng) -> String {
    format!("{{d273d0f0-{:04x}-5f68-{:04x}-{:012x}}}", rng.next() & 0xffff, rng.next() & 0xffff, rng.next() & 0xffff_ffff_ffff)
}

fn base(rng: &mut Rng, seconds: u64, host: &str, channel: &str, event_id: u32) -> serde_json::Map<String, Value> {
    let ts = timestamp(seconds, rng.next() % 1000);
    let value = json!({
        "@timestamp": ts,
        "@version": "1",
        "Hostname": host,
        "Channel": channel,
        "EventID": event_id,
        "SourceName": if channel == SYSMON { "Microsoft-Windows-Sysmon" } else { "Microsoft-Windows-Security-Auditing" },
        "RecordNumber": rng.next() % 10_000_000,
        "EventTime": ts[..19].replace('T', " "),
        "Keywords": if channel == SYSMON { json!(-9223372036854775808i64) } else { json!(-9214364837600034816i64) },
        "Severity": "INFO",
        "SeverityValue": 2,
        "ExecutionProcessID": 3392,
        "ThreadID": rng.next() % 9000,
        "host": "wec.internal.cloudapp.net",
        "tags": ["mordorDataset"],
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[allow(clippy::too_many_arguments)]
fn process_create(rng: &mut Rng, seconds: u64, host: &str, parent: &str, image: &str, command: &str, user: &str, logon_id: &str) -> Value {
    let mut e = base(rng, seconds, host, SYSMON, 1);
    let fields = json!({
        "UtcTime": timestamp(seconds, 0)[..19].replace('T', " "),
        "ProcessGuid": guid(rng), "ProcessId": (rng.next() % 9000).to_string(),
        "Image": image, "CommandLine": command, "CurrentDirectory": "C:\\Windows\\system32\\",
        "User": user, "LogonId": logon_id, "TerminalSessionId": "0", "IntegrityLevel": "High",
        "Hashes": format!("SHA1={:016x},MD5={:016x}", rng.next(), rng.next()),
        "ParentProcessGuid": guid(rng), "ParentProcessId": (rng.next() % 9000).to_string(),
        "ParentImage": parent, "ParentCommandLine": parent,
        "RuleName": "-", "Category": "Process Create (rule: ProcessCreate)",
    });
    e.extend(fields.as_object().expect("object").clone());
    Value::Object(e)
}

fn network_connect(rng: &mut Rng, seconds: u64, host: &str) -> Value {
    let mut e = base(rng, seconds, host, SYSMON, 3);
    let fields = json!({
        "ProcessGuid": guid(rng), "ProcessId": (rng.next() % 9000).to_string(),
        "Image": "C:\\Windows\\System32\\svchost.exe", "User": "NT AUTHORITY\\NETWORK SERVICE",
        "Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false",
        "SourceIp": format!("172.18.39.{}", 2 + rng.next() % 8), "SourcePort": (49152 + rng.next() % 16000).to_string(),
        "DestinationIp": format!("172.18.38.{}", 2 + rng.next() % 4), "DestinationPort": *rng.pick(&["53", "88", "389", "445", "5985"]),
        "Category": "Network connection detected (rule: NetworkConnect)",
    });
    e.extend(fields.as_object().expect("object").clone());
    Value::Object(e)
}

fn logon(rng: &mut Rng, seconds: u64, host: &str, logon_type: u32, ip: &str, user: &str, logon_id: &str) -> Value {
    let mut e = base(rng, seconds, host, "security", 4624);
    let fields = json!({
        "SubjectUserSid": "S-1-5-18", "SubjectUserName": "WORKSTATION5$", "SubjectDomainName": "THESHIRE", "SubjectLogonId": "0x3e7",
        "TargetUserSid": "S-1-5-21-4228717743-1032521047-1810997296-1104", "TargetUserName": user, "TargetDomainName": "THESHIRE",
        "TargetLogonId": logon_id, "LogonType": logon_type.to_string(), "LogonProcessName": "NtLmSsp ",
        "AuthenticationPackageName": "NTLM", "WorkstationName": "-", "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "ProcessName": "-", "IpAddress": ip, "IpPort": if ip == "-" { "-".to_string() } else { (49152 + rng.next() % 16000).to_string() },
        "ImpersonationLevel": "%%1833", "Category": "Logon",
    });
    e.extend(fields.as_object().expect("object").clone());
    Value::Object(e)
}

/// NXLog's system fields and the Winlogbeat 6 fields they become; what is not here and not
/// dropped goes into `event_data`.
const WINLOGBEAT_FIELDS: &[(&str, &str)] = &[
    ("@timestamp", "@timestamp"),
    ("Hostname", "computer_name"),
    ("Channel", "log_name"),
    ("EventID", "event_id"),
    ("SourceName", "source_name"),
    ("RecordNumber", "record_number"),
    ("ThreadID", "thread_id"),
    ("ExecutionProcessID", "process_id"),
    ("Category", "task"),
];

/// NXLog fields Winlogbeat does not have.
const NXLOG_ONLY: &[&str] = &["@version", "EventTime", "Keywords", "Severity", "SeverityValue", "host", "tags"];

/// The event as Winlogbeat 6.7 wrote it (the 2019 Mordor datasets' shape).
fn winlogbeat(event: &Value) -> Value {
    let Value::Object(fields) = event else { return event.clone() };
    let mut out = serde_json::Map::new();
    let mut event_data = serde_json::Map::new();
    for (name, value) in fields {
        if let Some((_, renamed)) = WINLOGBEAT_FIELDS.iter().find(|(from, _)| from == name) {
            let value = match (*renamed, value) {
                ("log_name", Value::String(channel)) if channel == "security" => json!("Security"),
                ("record_number", Value::Number(n)) => json!(n.to_string()),
                _ => value.clone(),
            };
            out.insert(renamed.to_string(), value);
        } else if !NXLOG_ONLY.contains(&name.as_str()) {
            event_data.insert(name.clone(), value.clone());
        }
    }
    let task = out.get("task").and_then(Value::as_str).unwrap_or_default().to_string();
    let summary = task.split(" (").next().unwrap_or_default().to_string();
    let details: Vec<String> = event_data.iter().map(|(k, v)| format!("{k}: {}", v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect();
    out.insert("message".into(), json!(format!("{summary}:\n{}", details.join("\n"))));
    out.insert("event_data".into(), Value::Object(event_data));
    out.insert("@metadata".into(), json!({"beat": "winlogbeat", "type": "doc", "version": "6.7.0", "topic": "winlogbeat"}));
    out.insert("beat".into(), json!({"version": "6.7.0", "name": "WECserver", "hostname": "WECserver"}));
    out.insert("host".into(), json!({"name": "WECserver"}));
    out.insert("type".into(), json!("wineventlog"));
    out.insert("level".into(), json!("Information"));
    out.insert("opcode".into(), json!("Info"));
    out.insert("version".into(), json!(5));
    Value::Object(out)
}
