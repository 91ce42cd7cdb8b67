//! Reading real container formats written by the standard libraries for them.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use hela_source::{ChunkEvent, ReadOptions, discover, read_input};

const RECORDS: &str = "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"}\n\
{\"EventID\":4624,\"Channel\":\"Security\"}\n\
{\"EventID\":3,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"}\n";

/// Reads a path and returns (origin, line, text) for every line, and the warnings.
fn read_all(path: &Path, chunk_bytes: usize) -> (Vec<(String, u64, String)>, Vec<String>) {
    let found = discover(&[path.to_path_buf()]);
    let (inputs, errors) = (found.inputs, found.errors);
    assert!(errors.is_empty(), "{errors:?}");
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let progress = AtomicU64::new(0);
    for input in &inputs {
        read_input(input, &ReadOptions { chunk_bytes, ..ReadOptions::default() }, &progress, &mut |event| match event {
            ChunkEvent::Chunk(chunk) => {
                for (n, line) in chunk.lines() {
                    lines.push((chunk.origin.to_string(), n, String::from_utf8_lossy(line).into_owned()));
                }
            }
            ChunkEvent::Warning(w) => warnings.push(w.to_string()),
            ChunkEvent::Refused(r) => warnings.push(format!("refused: {r}")),
        })
        .unwrap();
    }
    assert!(progress.into_inner() > 0);
    (lines, warnings)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn tar_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, name, data).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn plain_lines_keep_line_numbers_across_small_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, format!("{RECORDS}\n\n{RECORDS}")).unwrap();
    let (lines, warnings) = read_all(&path, 16);
    assert!(warnings.is_empty());
    let numbers: Vec<u64> = lines.iter().map(|l| l.1).collect();
    assert_eq!(numbers, [1, 2, 3, 6, 7, 8]);
    assert!(lines[4].2.contains("4624"));
}

#[test]
fn gzip_and_crlf_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.json.gz");
    std::fs::write(&path, gzip(RECORDS.replace('\n', "\r\n").as_bytes())).unwrap();
    let (lines, warnings) = read_all(&path, 1 << 20);
    assert!(warnings.is_empty());
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.2.ends_with('}')));
}

#[test]
fn zip_members_are_named_in_the_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dataset.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("first.json", opts).unwrap();
    zip.write_all(RECORDS.as_bytes()).unwrap();
    zip.add_directory("sub/", opts).unwrap();
    zip.start_file("sub/second.json", opts).unwrap();
    zip.write_all(b"{\"EventID\":7}\n").unwrap();
    zip.finish().unwrap();
    let (lines, warnings) = read_all(&path, 1 << 20);
    assert!(warnings.is_empty());
    assert_eq!(lines.len(), 4);
    assert!(lines[0].0.ends_with("dataset.zip:first.json"));
    assert_eq!((lines[3].0.ends_with(":sub/second.json"), lines[3].1), (true, 1));
}

#[test]
fn truncated_tar_gz_keeps_complete_records_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let body = RECORDS.repeat(2000);
    let full = gzip(&tar_of("dataset.json", body.as_bytes()));
    // Cut the archive inside the compressed data, the way an interrupted download does.
    let cut = &full[..full.len() * 2 / 3];
    let path = dir.path().join("dataset.tar.gz");
    std::fs::write(&path, cut).unwrap();
    let (lines, warnings) = read_all(&path, 4096);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("truncated"), "{}", warnings[0]);
    assert!(lines.len() > 100 && lines.len() < 6000, "{}", lines.len());
    // Every line but possibly the last, cut mid-record, is whole.
    assert!(lines[..lines.len() - 1].iter().all(|l| l.2.ends_with('}')));
    assert!(lines.iter().all(|l| l.0.ends_with("dataset.tar.gz:dataset.json")));
}

#[test]
fn tar_gz_missing_only_its_trailer_reads_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let full = gzip(&tar_of("dataset.json", RECORDS.as_bytes()));
    let path = dir.path().join("dataset.tar.gz");
    std::fs::write(&path, &full[..full.len() - 8]).unwrap();
    let (lines, warnings) = read_all(&path, 1 << 20);
    assert_eq!(lines.len(), 3);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn unreadable_zip_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.zip");
    std::fs::write(&path, b"PK\x03\x04 this is not really a zip").unwrap();
    let inputs = discover(std::slice::from_ref(&path)).inputs;
    let err = read_input(&inputs[0], &ReadOptions::default(), &AtomicU64::new(0), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("broken.zip"), "{err}");
}

#[test]
fn a_watcher_sees_every_byte_of_a_plain_or_gzip_file_read_in_order_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let lines = RECORDS.repeat(2_000);
    for (name, bytes) in [("events.json", lines.as_bytes().to_vec()), ("events.json.gz", gzip(lines.as_bytes()))] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let input = &discover(&[path]).inputs[0];
        // Bytes read again (the first ones, to recognise the format) are read where they were.
        let mut seen = Vec::new();
        let mut watch = |offset: u64, read: &[u8]| {
            assert!(offset as usize <= seen.len(), "{name}: no gap");
            seen.truncate(offset as usize);
            seen.extend_from_slice(read);
        };
        let options = ReadOptions { chunk_bytes: 4096, ..ReadOptions::default() };
        hela_source::read_input_watched(input, &options, &AtomicU64::new(0), &mut watch, &mut |_| {}).unwrap();
        assert!(seen == bytes, "{name}: the file, whole");
    }
}
