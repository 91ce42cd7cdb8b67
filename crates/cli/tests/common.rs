//! Helpers shared by the command-line tests: running `hela`, and writing fixtures in the
//! shapes real security datasets ship in.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `hela` with `args` (and `stdin`, if given) and returns what it did.
pub fn hela(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hela"))
        .args(args)
        .env_remove("HELA_LAKE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hela runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(data) = stdin {
        pipe.write_all(data).expect("stdin written");
    }
    drop(pipe);
    child.wait_with_output().expect("hela finishes")
}

/// Runs `hela` and insists that it succeeds; returns its stdout.
pub fn hela_ok(args: &[&str]) -> String {
    let out = hela(args, None);
    assert!(out.status.success(), "hela {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs a query and returns its rows as JSON objects.
pub fn query(lake: &Path, sql: &str) -> Vec<serde_json::Value> {
    let text = hela_ok(&["sql", "--lake", lake.to_str().unwrap(), "--format", "json", sql]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `SELECT count(*)` of a query's FROM/WHERE part, as a number.
pub fn count(lake: &Path, from_where: &str) -> i64 {
    let rows = query(lake, &format!("SELECT count(*) AS n FROM {from_where}"));
    rows[0]["n"].as_i64().expect("a count")
}

/// The lake's catalog (`catalog.json`), as JSON.
pub fn catalog(lake: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(lake.join("catalog.json")).unwrap()).unwrap()
}

/// The names of the top-level columns of the Parquet file at `path`, in the file's order.
/// Every file under `dir`, at any depth, sorted (none when there is no `dir`).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

pub fn parquet_columns(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    reader.schema().fields().iter().map(|f| f.name().clone()).collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// NXLog-flat Windows events (Security-Datasets 2020 shape).
pub fn nxlog_lines() -> String {
    [
        r#"{"@timestamp":"2020-09-21T04:14:38.806Z","Hostname":"WORKSTATION6.theshire.local","Channel":"Microsoft-Windows-Sysmon/Operational","EventID":10,"SourceProcessGUID":"{d273d0f0-e866-5f64-1100-000000000800}","SourceImage":"C:\\windows\\system32\\svchost.exe","GrantedAccess":"0x1000","Keywords":-9223372036854775808,"tags":["mordorDataset"]}"#,
        r#"{"@timestamp":"2020-09-21T04:14:39.001Z","Hostname":"WORKSTATION6.theshire.local","Channel":"Microsoft-Windows-Sysmon/Operational","EventID":10,"SourceProcessGuid":"{d273d0f0-e866-5f64-1100-000000000801}","SourceImage":"C:\\windows\\system32\\lsass.exe","GrantedAccess":"0x1410","Keywords":-9223372036854775808,"tags":["mordorDataset"]}"#,
        r#"{"@timestamp":"2020-09-21T04:15:00.100Z","Hostname":"WORKSTATION5.theshire.local","Channel":"security","EventID":4624,"TargetUserName":"pgustavo","TargetLogonId":"0x3e8a1f2","LogonType":3,"IpAddress":"172.18.39.5"}"#,
        r#"{"@timestamp":"2020-09-21T04:15:01.200Z","Hostname":"WORKSTATION5.theshire.local","Channel":"security","EventID":4624,"TargetUserName":"SYSTEM","TargetLogonId":"0x3e7","LogonType":"5","IpAddress":"-"}"#,
        r#"{"@timestamp":"2020-09-22T10:00:00.000Z","Hostname":"WORKSTATION5.theshire.local","Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\System32\\whoami.exe","ParentImage":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","LogonId":"0x3e8a1f2","Score":1.5}"#,
    ]
    .join("\n")
        + "\n"
}

/// Winlogbeat 6.x-nested Windows events (Security-Datasets 2019 shape).
pub fn winlogbeat_lines() -> String {
    [
        r#"{"@timestamp":"2019-05-18T20:36:46.254Z","log_name":"Microsoft-Windows-Sysmon/Operational","source_name":"Microsoft-Windows-Sysmon","event_id":1,"computer_name":"IT001.shire.com","record_number":"5402080","user":{"name":"SYSTEM","domain":"NT AUTHORITY"},"event_data":{"ProcessGuid":"{905CC552-2045-5CC5-0000-00105B2A0100}","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","ParentImage":"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe","CommandLine":"powershell -noP -sta -w 1 -enc SQBmACgAJABQAFMA","LogonId":"0x4b5c3"},"beat":{"hostname":"WECserver","version":"6.7.0"}}"#,
        r#"{"@timestamp":"2019-05-18T20:36:47.000Z","log_name":"Security","source_name":"Microsoft-Windows-Security-Auditing","event_id":4624,"computer_name":"IT001.shire.com","record_number":"5402081","event_data":{"TargetUserName":"pgustavo","TargetLogonId":"0x4b5c3","LogonType":"3","IpAddress":"172.18.39.106"},"beat":{"hostname":"WECserver","version":"6.7.0"}}"#,
    ]
    .join("\n")
        + "\n"
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A tar.gz holding one JSON-lines member.
pub fn tar_gz(member: &str, data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, member, data).unwrap();
    gzip(&builder.into_inner().unwrap())
}

/// A zip holding one JSON-lines member.
pub fn zip_of(path: &Path, member: &str, data: &[u8]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file(member, zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(data).unwrap();
    zip.finish().unwrap();
}

/// `../shared/<relative>` beside the project, when it is there; when it is not, says that
/// the test is skipped where the test run shows it (past the output capture).
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative);
    if !root.exists() {
        let _ = writeln!(std::io::stderr(), "skipped: ../shared/{relative} is not present");
    }
    root.exists().then_some(root)
}

/// A program `cargo install` put in `~/.cargo/bin`, or else the name alone, found on the PATH.
pub fn cargo_installed(program: &str) -> PathBuf {
    let installed = std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo/bin").join(program));
    installed.filter(|p| p.exists()).unwrap_or_else(|| program.into())
}

/// A value in a generated Windows event.
#[derive(Debug, Clone)]
pub enum EvtxValue {
    Text(String),
    U16(u16),
    U32(u32),
    U64(u64),
}

/// One Windows event for [`evtx_file`]: system fields and `EventData` pairs.
#[derive(Debug, Clone)]
pub struct EvtxEvent {
    pub provider: &'static str,
    pub channel: &'static str,
    pub event_id: u16,
    pub computer: &'static str,
    /// `2020-09-21T04:15:00.100Z`.
    pub time: &'static str,
    pub data: Vec<(&'static str, &'static str)>,
}

/// A Windows event log file holding `events` in one chunk, written in the EVTX binary
/// format (file header, chunk header with CRC32s, records of binary XML with inline names),
/// as a small fixture that needs no Windows machine.
pub fn evtx_file(events: &[EvtxEvent]) -> Vec<u8> {
    const HEADER: usize = 4096;
    const CHUNK: usize = 65536;
    const CHUNK_HEADER: usize = 512;
    let mut chunk = vec![0u8; CHUNK];
    let mut at = CHUNK_HEADER;
    let mut last_record_at = at;
    for (i, event) in events.iter().enumerate() {
        let record_id = i as u64 + 1;
        let mut xml = BinXml { buf: Vec::new(), base: at + 24 };
        xml.buf.extend_from_slice(&[0x0f, 1, 1, 0]);
        xml.element("Event", &[("xmlns", EvtxValue::Text("http://schemas.microsoft.com/win/2004/08/events/event".into()))], |x| {
            x.element("System", &[], |x| {
                x.empty("Provider", &[("Name", EvtxValue::Text(event.provider.into()))]);
                x.text_element("EventID", EvtxValue::U16(event.event_id));
                x.empty("TimeCreated", &[("SystemTime", EvtxValue::Text(event.time.into()))]);
                x.text_element("EventRecordID", EvtxValue::U64(record_id));
                x.empty("Execution", &[("ProcessID", EvtxValue::U32(4)), ("ThreadID", EvtxValue::U32(8))]);
                x.text_element("Channel", EvtxValue::Text(event.channel.into()));
                x.text_element("Computer", EvtxValue::Text(event.computer.into()));
            });
            x.element("EventData", &[], |x| {
                for (name, value) in &event.data {
                    x.element("Data", &[("Name", EvtxValue::Text(name.to_string()))], |x| x.value(EvtxValue::Text(value.to_string())));
                }
            });
        });
        xml.buf.push(0x00);
        let size = 24 + xml.buf.len() + 4;
        let record = &mut chunk[at..at + size];
        record[0..4].copy_from_slice(&[0x2a, 0x2a, 0, 0]);
        record[4..8].copy_from_slice(&(size as u32).to_le_bytes());
        record[8..16].copy_from_slice(&record_id.to_le_bytes());
        record[16..24].copy_from_slice(&132_450_000_000_000_000u64.to_le_bytes());
        record[24..size - 4].copy_from_slice(&xml.buf);
        record[size - 4..].copy_from_slice(&(size as u32).to_le_bytes());
        last_record_at = at;
        at += size;
    }
    let last = events.len() as u64;
    chunk[0..8].copy_from_slice(b"ElfChnk\0");
    for (offset, value) in [(8, 1u64), (16, last), (24, 1), (32, last)] {
        chunk[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    }
    for (offset, value) in [(40, 128u32), (44, last_record_at as u32), (48, at as u32)] {
        chunk[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }
    let events_crc = crc32(&chunk[CHUNK_HEADER..at]);
    chunk[52..56].copy_from_slice(&events_crc.to_le_bytes());
    let header_crc = crc32(&[&chunk[..120], &chunk[128..CHUNK_HEADER]].concat());
    chunk[124..128].copy_from_slice(&header_crc.to_le_bytes());

    let mut file = vec![0u8; HEADER];
    file[0..8].copy_from_slice(b"ElfFile\0");
    file[16..24].copy_from_slice(&0u64.to_le_bytes());
    file[24..32].copy_from_slice(&(last + 1).to_le_bytes());
    file[32..36].copy_from_slice(&128u32.to_le_bytes());
    file[36..38].copy_from_slice(&1u16.to_le_bytes());
    file[38..40].copy_from_slice(&3u16.to_le_bytes());
    file[40..42].copy_from_slice(&(HEADER as u16).to_le_bytes());
    file[42..44].copy_from_slice(&1u16.to_le_bytes());
    let crc = crc32(&file[..120]);
    file[124..128].copy_from_slice(&crc.to_le_bytes());
    file.extend_from_slice(&chunk);
    file
}

/// Binary XML being written at chunk offset `base`.
struct BinXml {
    buf: Vec<u8>,
    base: usize,
}

impl BinXml {
    /// A name stored inline, right after its (chunk-relative) offset.
    fn name(&mut self, name: &str) {
        let offset = (self.base + self.buf.len() + 4) as u32;
        self.buf.extend_from_slice(&offset.to_le_bytes());
        self.buf.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let units: Vec<u16> = name.encode_utf16().collect();
        self.buf.extend_from_slice(&(units.len() as u16).to_le_bytes());
        units.iter().for_each(|u| self.buf.extend_from_slice(&u.to_le_bytes()));
        self.buf.extend_from_slice(&[0, 0]);
    }

    fn value(&mut self, value: EvtxValue) {
        self.buf.push(0x05);
        match value {
            EvtxValue::Text(text) => {
                let units: Vec<u16> = text.encode_utf16().collect();
                self.buf.push(0x01);
                self.buf.extend_from_slice(&(units.len() as u16).to_le_bytes());
                units.iter().for_each(|u| self.buf.extend_from_slice(&u.to_le_bytes()));
            }
            EvtxValue::U16(n) => {
                self.buf.push(0x06);
                self.buf.extend_from_slice(&n.to_le_bytes());
            }
            EvtxValue::U32(n) => {
                self.buf.push(0x08);
                self.buf.extend_from_slice(&n.to_le_bytes());
            }
            EvtxValue::U64(n) => {
                self.buf.push(0x0a);
                self.buf.extend_from_slice(&n.to_le_bytes());
            }
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, EvtxValue)]) {
        self.buf.push(if attributes.is_empty() { 0x01 } else { 0x41 });
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.name(name);
        if !attributes.is_empty() {
            self.buf.extend_from_slice(&0u32.to_le_bytes());
            for (i, (name, value)) in attributes.iter().enumerate() {
                self.buf.push(if i + 1 < attributes.len() { 0x46 } else { 0x06 });
                self.name(name);
                self.value(value.clone());
            }
        }
    }

    fn element(&mut self, name: &str, attributes: &[(&str, EvtxValue)], children: impl FnOnce(&mut Self)) {
        self.open(name, attributes);
        self.buf.push(0x02);
        children(self);
        self.buf.push(0x04);
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, EvtxValue)]) {
        self.open(name, attributes);
        self.buf.push(0x03);
    }

    fn text_element(&mut self, name: &str, value: EvtxValue) {
        self.element(name, &[], |x| x.value(value));
    }
}

/// CRC-32 (IEEE), as EVTX headers carry it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Sysmon and Security events of a lateral movement through WMI, for EVTX fixtures.
pub fn lateral_movement_events() -> Vec<EvtxEvent> {
    let sysmon = |image: &'static str, parent: &'static str, command_line: &'static str| EvtxEvent {
        provider: "Microsoft-Windows-Sysmon",
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        computer: "WORKSTATION5.theshire.local",
        time: "2020-09-21T04:15:02.000Z",
        data: vec![("Image", image), ("ParentImage", parent), ("CommandLine", command_line), ("LogonId", "0x3e8a1f2"), ("User", "THESHIRE\\pgustavo")],
    };
    vec![
        EvtxEvent {
            provider: "Microsoft-Windows-Security-Auditing",
            channel: "Security",
            event_id: 4624,
            computer: "WORKSTATION5.theshire.local",
            time: "2020-09-21T04:15:00.100Z",
            data: vec![("TargetUserName", "pgustavo"), ("TargetLogonId", "0x3e8a1f2"), ("LogonType", "3"), ("IpAddress", "172.18.39.5")],
        },
        sysmon("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "powershell -noP -sta -w 1 -enc SQBmACgAJABQAFMA"),
        sysmon("C:\\Windows\\System32\\whoami.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "whoami /all"),
    ]
}
