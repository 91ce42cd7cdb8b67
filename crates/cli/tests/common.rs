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

/// `../shared/<relative>` beside the project, when it is there.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative);
    root.exists().then_some(root)
}
