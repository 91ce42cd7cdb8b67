//! Input written to hurt: compression bombs, deep nesting, huge lines, bytes that are not
//! UTF-8, repeated keys, link loops, odd and long channel names, ten thousand partitions,
//! crafted archives and event logs, pathological rules and queries. Each case asserts the
//! exact outcome (stored, quarantined with its reason, or a clear error) within bounded
//! time and memory, and that records in = records stored + records quarantined.

mod common;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// What a bounded run of `hela` did.
struct Bounded {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    peak_rss_mb: u64,
}

/// Runs `hela` (through `sh -c` when `shell` sets limits first) and insists it finishes
/// within `seconds` and `rss_mb` megabytes of peak resident memory.
fn bounded(args: &[&str], seconds: u64, rss_mb: u64) -> Bounded {
    bounded_with(args, seconds, rss_mb, None)
}

fn bounded_with(args: &[&str], seconds: u64, rss_mb: u64, open_files: Option<u32>) -> Bounded {
    let exe = env!("CARGO_BIN_EXE_hela");
    let mut command = match open_files {
        Some(limit) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\"")).arg(exe).args(args);
            c
        }
        None => {
            let mut c = Command::new(exe);
            c.args(args);
            c
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    // Reaped below with `wait4`, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = command
        .env_remove("HELA_LAKE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("hela runs");
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    loop {
        // SAFETY: `pid` is our child; status and usage are valid for writes.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break;
        }
        if started.elapsed() > Duration::from_secs(seconds) {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("hela {args:?} ran longer than {seconds} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let bounded = Bounded {
        status: ExitStatus::from_raw(status),
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
        peak_rss_mb: usage.ru_maxrss as u64 / 1024,
    };
    assert!(bounded.peak_rss_mb <= rss_mb, "hela {args:?} peaked at {} MB, more than {rss_mb} MB", bounded.peak_rss_mb);
    bounded
}

/// The summary's counts: (stored, quarantined).
fn counts(stderr: &str) -> (u64, u64) {
    let line = stderr.lines().find(|l| l.trim_start().starts_with("records")).unwrap_or_else(|| panic!("no summary: {stderr}"));
    let numbers: Vec<u64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1])
}

/// The lake's quarantine entries.
fn quarantine(lake: &Path) -> Vec<serde_json::Value> {
    let Ok(entries) = std::fs::read_dir(lake.join("quarantine")) else { return Vec::new() };
    let mut items = Vec::new();
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        items.extend(text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()));
    }
    items
}

fn ingest(lake: &Path, inputs: &[&Path], extra: &[&str], seconds: u64, rss_mb: u64) -> Bounded {
    let mut args = vec!["ingest", "--quiet", "--lake", lake.to_str().unwrap()];
    args.extend(extra);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    bounded(&args, seconds, rss_mb)
}

#[test]
fn a_compressed_line_without_end_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 200 MiB of one line, compressed to a fraction of a megabyte, between two good records.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(b"{\"n\":1}\n{\"bomb\":\"").unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..200 {
        encoder.write_all(&block).unwrap();
    }
    encoder.write_all(b"\"}\n{\"n\":2}\n").unwrap();
    let bomb = dir.path().join("bomb.json.gz");
    std::fs::write(&bomb, encoder.finish().unwrap()).unwrap();
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&bomb], &["--max-record-bytes", "16777216"], 120, 400);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (2, 1), "{}", run.stderr);
    let entries = quarantine(&lake);
    assert_eq!(entries[0]["line"], 2);
    let reason = entries[0]["reason"].as_str().unwrap();
    assert!(reason.contains("the line has 209715211 bytes, more than the largest record read (16777216 bytes)"), "{reason}");
    assert_eq!(entries[0]["text"].as_str().unwrap().len(), 64 << 10);
    assert_eq!(count(&lake, "events WHERE n IN (1, 2)"), 2);
}

#[test]
fn odd_lines_are_quarantined_exactly_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let nested = format!("{{\"n\":3,\"d\":{}1{}}}", "{\"x\":".repeat(100), "}".repeat(100));
    let huge_field = format!("{{\"n\":4,\"big\":\"{}\"}}", "x".repeat(10 << 20));
    let mut lines: Vec<Vec<u8>> = vec![
        b"{\"n\":1}".to_vec(),
        b"{\"n\":2,\"s\":\"caf\xe9\"}".to_vec(),
        b"{\"n\":2,\"k\":1,\"k\":2}".to_vec(),
        b"[]".to_vec(),
        deep.into_bytes(),
        nested.into_bytes(),
        huge_field.into_bytes(),
        b"\xff\xfe{".to_vec(),
        b"{\"n\":5,\"big\":9007199254740993}".to_vec(),
        b"{\"n\":6,\"big\":0.5}".to_vec(),
        b"{\"n\":7,\"u\":18446744073709551615}".to_vec(),
    ];
    lines.push(b"{\"n\":8,\"nul\":\"a\\u0000b\"}".to_vec());
    let path = dir.path().join("odd.json");
    std::fs::write(&path, lines.join(&b"\n"[..])).unwrap();
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&path], &[], 60, 600);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (7, 5), "{}", run.stderr);
    let entries = quarantine(&lake);
    let reasons: Vec<(u64, &str)> = entries.iter().map(|e| (e["line"].as_u64().unwrap(), e["reason"].as_str().unwrap())).collect();
    assert_eq!(reasons[0], (2, "the line is not UTF-8 text (byte 16 is not); its exact bytes are kept"));
    assert!(reasons[1].0 == 3 && reasons[1].1.contains("the key `k` appears twice"), "{reasons:?}");
    assert_eq!(reasons[2], (4, "the line is an empty JSON array: it holds no record"));
    assert!(reasons[3].0 == 5 && reasons[3].1.contains("recursion limit"), "{reasons:?}");
    assert_eq!(reasons[4].0, 8);
    // The exact bytes of a line that is not UTF-8 are kept.
    assert_eq!(entries[0]["base64"], "eyJuIjoyLCJzIjoiY2Fm6SJ9");
    // Whole numbers beyond 2^53 mixed with fractions, and beyond 64 bits, stay exact.
    let rows = query(&lake, "SELECT n, big, u, length(big) AS len, length(nul) AS nul FROM events WHERE n >= 4 ORDER BY n");
    assert_eq!(rows[0]["len"], 10 << 20);
    assert_eq!(rows[1]["big"], "9007199254740993");
    assert_eq!(rows[2]["big"], "0.5");
    assert_eq!(rows[3]["u"], "18446744073709551615");
    assert_eq!(rows[4]["nul"], 3);
    let nested = query(&lake, "SELECT d FROM events WHERE n = 3");
    assert!(nested[0]["d"].to_string().matches("\"x\"").count() == 100, "{}", nested[0]["d"]);
}

#[test]
fn links_back_to_what_was_read_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("a/b")).unwrap();
    std::fs::write(data.join("a/b/events.json"), "{\"Channel\":\"Security\",\"n\":1}\n{\"Channel\":\"Security\",\"n\":2}\n").unwrap();
    std::os::unix::fs::symlink(&data, data.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink(data.join("a"), data.join("again")).unwrap();
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&data, &data], &[], 30, 300);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (2, 0));
    let skipped = run.stderr.lines().filter(|l| l.starts_with("skipped:") && l.contains("already read")).count();
    assert_eq!(skipped, 3, "{}", run.stderr);
    // The hunt reads each file once too: two events, not many.
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("any.yml"), "title: Any\nid: 1\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    n: [1, 2]\n  condition: sel\nlevel: low\n").unwrap();
    std::os::unix::fs::symlink(&rules, rules.join("loop")).unwrap();
    let out = hela(&["hunt", "--sigma", rules.to_str().unwrap(), "--format", "jsonl", data.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2, "{}", stderr(&out));
}

#[test]
fn any_channel_name_is_stored_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Microsoft-Windows-".repeat(40);
    let channels = [long.as_str(), "../../etc/passwd", "con", "a/b\\c", "", " ", ".", "..", "Ünïcödé/日本", "nul\u{0}byte", "tab\tand\nline"];
    let lines: Vec<String> = channels
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({"Channel": c, "i": i, "@timestamp": "2020-09-21T04:14:38Z"}).to_string())
        .collect();
    let path = dir.path().join("channels.json");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&path], &[], 30, 300);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (channels.len() as u64, 0));
    let rows = query(&lake, "SELECT i, Channel FROM events ORDER BY i");
    for (row, channel) in rows.iter().zip(channels) {
        assert_eq!(row["Channel"], channel);
    }
    assert_eq!(count(&lake, &format!("events WHERE Channel = '{long}'")), 1);
    // Nothing was written outside the lake.
    assert!(!dir.path().join("etc").exists());
}

#[test]
fn ten_thousand_partitions_fit_in_a_small_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("{{\"Channel\":\"channel-{i}\",\"i\":{i}}}\n"));
    }
    let path = dir.path().join("many.json");
    std::fs::write(&path, text).unwrap();
    let lake = dir.path().join("lake");
    let args = ["ingest", "--quiet", "--lake", lake.to_str().unwrap(), path.to_str().unwrap()];
    let run = bounded_with(&args, 300, 1000, Some(256));
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (10_000, 0));
    assert_eq!(count(&lake, "events"), 10_000);
    assert_eq!(count(&lake, "events WHERE Channel = 'channel-9999' AND i = 9999"), 1);
}

#[test]
fn crafted_archives_fail_the_member_not_the_ingest() {
    let dir = tempfile::tempdir().unwrap();
    // A zip whose second member's deflate data is damaged from its first byte.
    let path = dir.path().join("crafted.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("good.json", deflated).unwrap();
    zip.write_all(b"{\"n\":1}\n{\"n\":2}\n").unwrap();
    zip.start_file("bad.json", deflated).unwrap();
    zip.write_all(&b"{\"n\":3}\n".repeat(1000)).unwrap();
    zip.finish().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let bad_header = bytes.windows(8).position(|w| w == b"bad.json").unwrap();
    bytes[bad_header + 8] = 0xff;
    std::fs::write(&path, &bytes).unwrap();
    // A tar whose member's name is not UTF-8, and a truncated gzip.
    let mut header = tar::Header::new_gnu();
    let data = b"{\"n\":4}\n";
    header.as_gnu_mut().unwrap().name[..7].copy_from_slice(b"ev\xffnt.j");
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, &data[..]).unwrap();
    let tar_path = dir.path().join("names.tar");
    std::fs::write(&tar_path, builder.into_inner().unwrap()).unwrap();
    let truncated = gzip(&b"{\"n\":5}\n".repeat(20_000));
    let truncated_path = dir.path().join("cut.json.gz");
    std::fs::write(&truncated_path, &truncated[..truncated.len() / 2]).unwrap();
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&path, &tar_path, &truncated_path], &[], 30, 300);
    assert_eq!(run.status.code(), Some(1), "an unreadable member fails the ingest: {}", run.stderr);
    assert!(run.stderr.contains("crafted.zip:bad.json: cannot be decompressed"), "{}", run.stderr);
    assert!(run.stderr.contains("(1 archive member unreadable)"), "{}", run.stderr);
    assert!(run.stderr.contains("cut.json.gz: stream is truncated or corrupt"), "{}", run.stderr);
    let entries = quarantine(&lake);
    assert!(entries.iter().any(|e| e["source"] == format!("{}:bad.json", path.display()) && e["line"].is_null()), "{entries:?}");
    assert_eq!(count(&lake, "events WHERE n IN (1, 2)"), 2);
    assert_eq!(count(&lake, "events WHERE n = 4"), 1);
    assert!(count(&lake, "events WHERE n = 5") > 0);
}

#[test]
fn crafted_event_logs_are_refused_or_read_as_far_as_they_go() {
    let dir = tempfile::tempdir().unwrap();
    let good = evtx_file(&lateral_movement_events());
    // The magic bytes and nothing readable after them.
    let mut header_only = good[..8].to_vec();
    header_only.extend([0xa5; 120]);
    let header_path = dir.path().join("header-only.evtx");
    std::fs::write(&header_path, &header_only).unwrap();
    // Every byte of the chunk's records flipped in turn in copies: never a crash.
    let lake = dir.path().join("lake");
    let mut damaged = Vec::new();
    for (n, at) in (4096 + 512..good.len().min(4096 + 512 + 2048)).step_by(97).enumerate() {
        let mut bytes = good.clone();
        bytes[at] ^= 0x5a;
        let path = dir.path().join(format!("damaged-{n}.evtx"));
        std::fs::write(&path, bytes).unwrap();
        damaged.push(path);
    }
    let mut inputs: Vec<&Path> = damaged.iter().map(|p| p.as_path()).collect();
    inputs.push(&header_path);
    let run = ingest(&lake, &inputs, &[], 60, 400);
    assert!(run.status.code() == Some(0) || run.status.code() == Some(1), "{:?}: {}", run.status, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let entries = quarantine(&lake);
    assert!(entries.iter().any(|e| e["source"].as_str().unwrap().ends_with("header-only.evtx")), "{entries:?}");
}

#[test]
fn pathological_rules_are_rejected_quickly_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let chain = "|base64offset".repeat(8);
    std::fs::write(
        rules.join("explode.yml"),
        format!("title: Explode\nid: 1\nlogsource: {{product: windows, service: security}}\ndetection:\n  sel:\n    CommandLine|windash|windash{chain}|contains: '-a -b -c -d'\n  condition: sel\n"),
    )
    .unwrap();
    let laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    std::fs::write(rules.join("laughs.yml"), format!("title: Laughs\nid: 2\n{laughs}logsource: {{product: windows, service: security}}\ndetection:\n  sel:\n    x: 1\n  condition: sel\n")).unwrap();
    std::fs::write(rules.join("fine.yml"), "title: Fine\nid: 3\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    n: 1\n  condition: sel\n").unwrap();
    let events = dir.path().join("events.json");
    std::fs::write(&events, "{\"Channel\":\"Security\",\"n\":1}\n").unwrap();
    let args = ["hunt", "--list-rejected", "--sigma", rules.to_str().unwrap(), "--format", "jsonl", events.to_str().unwrap()];
    let run = bounded(&args, 30, 500);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "the fine rule still hunts: {}", run.stdout);
    assert!(run.stderr.contains("explode.yml") && run.stderr.contains("more than 1000 variants"), "{}", run.stderr);
    assert!(run.stderr.contains("laughs.yml"), "{}", run.stderr);
}

#[test]
fn pathological_queries_answer_or_fail_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.json");
    std::fs::write(&events, format!("{{\"s\":\"{}\",\"l\":[1,2]}}\n", "a".repeat(100_000))).unwrap();
    let table = format!("t={}", events.display());
    let sql = |query: &str| bounded(&["sql", "--table", &table, "--format", "json", query], 30, 500);
    let run = sql("SELECT l[3] AS x FROM t");
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "[{\"x\":null}]");
    for index in ["9223372036854775807", "-9223372036854775808"] {
        let run = sql(&format!("SELECT l[{index}] AS x FROM t"));
        assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("array_element got invalid index"), "{}", run.stderr);
    }
    let run = sql("SELECT s RLIKE '^(a+)+$' AS r, s LIKE '%a%a%a%a%a%a%a%a%a%a%b' AS l FROM t");
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "[{\"r\":true,\"l\":false}]");
    let nested = format!("SELECT {}1{} AS n FROM t", "(".repeat(5000), ")".repeat(5000));
    let run = sql(&nested);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("RecursionLimitExceeded"), "{}", run.stderr);
    // An index pattern with many stars over many tables of a lake.
    let lake = dir.path().join("lake");
    hela_ok(&["ingest", "--quiet", "--schema", "helk", "--lake", lake.to_str().unwrap(), events.to_str().unwrap()]);
    let pattern = format!("`{}b`", "*a".repeat(40));
    let run = bounded(&["sql", "--lake", lake.to_str().unwrap(), &format!("SELECT count(*) FROM {pattern}")], 30, 500);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
}

#[test]
fn an_empty_lake_says_how_to_fill_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    hela_ok(&["ingest", "--quiet", "--lake", lake.to_str().unwrap(), empty.to_str().unwrap()]);
    let out = hela(&["sql", "--lake", lake.to_str().unwrap(), "SELECT count(*) FROM events"], None);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("table `events` not found: the lake at") && text.contains("holds no tables yet; ingest events into it first with `hela ingest --lake"), "{text}");
}

#[test]
fn files_that_differ_only_in_the_middle_are_both_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..200_000).map(|i| format!("{{\"i\":{i},\"pad\":\"{:020}\"}}", 0)).collect();
    let a = dir.path().join("a.json");
    std::fs::write(&a, lines.join("\n")).unwrap();
    let mut changed = lines.clone();
    changed[100_000] = changed[100_000].replace("\"i\":100000", "\"i\":-10000");
    let b = dir.path().join("b.json");
    std::fs::write(&b, changed.join("\n")).unwrap();
    assert_eq!(std::fs::metadata(&a).unwrap().len(), std::fs::metadata(&b).unwrap().len());
    let lake = dir.path().join("lake");
    let run = ingest(&lake, &[&a, &b], &[], 120, 1000);
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(counts(&run.stderr), (400_000, 0), "{}", run.stderr);
    assert_eq!(count(&lake, "events WHERE i = -10000"), 1);
}

#[test]
fn saved_detections_make_a_new_lake() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rule.yml");
    std::fs::write(&rules, "title: One\nid: 1\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    n: 1\n  condition: sel\n").unwrap();
    let events = dir.path().join("events.json");
    std::fs::write(&events, "{\"Channel\":\"Security\",\"n\":1}\n{\"Channel\":\"Security\",\"n\":2}\n").unwrap();
    let lake = dir.path().join("new-lake");
    let out = hela(&["hunt", "--sigma", rules.to_str().unwrap(), "--save", "--lake", lake.to_str().unwrap(), events.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&lake, "detections"), 1);
}
