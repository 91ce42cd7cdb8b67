//! The write-ahead log: what a bulk request brings is appended here and synced to disk
//! before the request is answered, then folded into the lake in the background. Entries
//! carry increasing sequence numbers; the lake's catalog records the last one folded in
//! (in the same commit as the records), so a restart replays exactly the entries after it.
//!
//! ```text
//! LAKE/wal/SEQ.log    segments, named after their first entry's sequence number
//! entry: u32 length | u32 CRC-32 of the payload | payload
//! payload: u64 seq | u8 kind | u16 length + index | u16 length + id | body
//! ```
//!
//! A crash can leave the last segment with a torn entry at its end (one that was never
//! acknowledged); it is cut off at start. Damage anywhere else stops the start with the
//! segment and offset named.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A segment is closed and the next one begun past this size.
const SEGMENT_BYTES: u64 = 64 << 20;
const HEADER: usize = 8;
/// Larger entries are refused (documents are limited well below this).
const MAX_ENTRY: usize = 256 << 20;

/// One logged item: a document to store, or a document refused, for the quarantine.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub index: String,
    pub id: String,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// The document's JSON text, as received.
    Document(Vec<u8>),
    /// A document refused: where it came from, why, and its text.
    Refused { source: String, line: u64, reason: String, text: String },
}

impl Body {
    /// Bytes of the document's text.
    pub fn size(&self) -> usize {
        match self {
            Body::Document(json) => json.len(),
            Body::Refused { text, .. } => text.len(),
        }
    }
}

/// The log's segments in a directory, appended to at the end.
pub struct Wal {
    dir: PathBuf,
    /// Segments by first sequence number, oldest first; the last is being written.
    segments: Vec<(u64, PathBuf)>,
    file: File,
    /// Bytes of the segment being written, and of the closed ones together.
    written: u64,
    closed: u64,
    next_seq: u64,
}

/// Why the log cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: the write-ahead log is damaged at byte {offset} ({what}); this segment is not the last, so it is not a torn write: move it aside to start without its documents")]
    Damaged { path: PathBuf, offset: u64, what: &'static str },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WalError + '_ {
    move |source| WalError::Io { path: path.to_path_buf(), source }
}

impl Wal {
    /// Opens the log in `dir` (made if missing) and returns the entries after `folded`, the
    /// last sequence number the lake holds. A torn entry at the end of the last segment is
    /// cut off.
    pub fn open(dir: &Path, folded: u64) -> Result<(Wal, Vec<Entry>), WalError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut segments = list_segments(dir)?;
        let mut pending = Vec::new();
        let mut last_seq = folded;
        let mut closed = 0;
        let count = segments.len();
        for (position, (_, path)) in segments.iter().enumerate() {
            let bytes = std::fs::read(path).map_err(io_error(path))?;
            if position + 1 < count {
                closed += bytes.len() as u64;
            }
            let (entries, end) = decode_all(&bytes);
            if let Err((offset, what)) = end {
                if position + 1 < count {
                    return Err(WalError::Damaged { path: path.clone(), offset, what });
                }
                let file = OpenOptions::new().write(true).open(path).map_err(io_error(path))?;
                file.set_len(offset).and_then(|_| file.sync_all()).map_err(io_error(path))?;
            }
            for entry in entries {
                last_seq = last_seq.max(entry.seq);
                if entry.seq > folded {
                    pending.push(entry);
                }
            }
        }
        if segments.is_empty() {
            segments.push((last_seq + 1, segment_path(dir, last_seq + 1)));
        }
        let path = &segments.last().expect("at least one segment").1;
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_error(path))?;
        let written = file.metadata().map_err(io_error(path))?.len();
        sync_dir(dir)?;
        Ok((Wal { dir: dir.to_path_buf(), segments, file, written, closed, next_seq: last_seq + 1 }, pending))
    }

    /// Appends entries, giving each the next sequence number. They are durable once
    /// [`Wal::sync`] returns.
    pub fn append(&mut self, entries: &mut [Entry]) -> Result<(), WalError> {
        if self.written >= SEGMENT_BYTES {
            self.rotate()?;
        }
        let mut buffer = Vec::new();
        for entry in entries.iter_mut() {
            entry.seq = self.next_seq;
            self.next_seq += 1;
            encode(entry, &mut buffer);
        }
        let path = &self.segments.last().expect("a segment").1;
        self.file.write_all(&buffer).map_err(io_error(path))?;
        self.written += buffer.len() as u64;
        Ok(())
    }

    /// Makes everything appended durable.
    pub fn sync(&mut self) -> Result<(), WalError> {
        let path = &self.segments.last().expect("a segment").1;
        self.file.sync_data().map_err(io_error(path))
    }

    /// Removes the segments whose every entry is at or before `folded` (the lake holds them).
    pub fn release(&mut self, folded: u64) -> Result<(), WalError> {
        while self.segments.len() > 1 && self.segments[1].0 <= folded + 1 {
            let (_, path) = self.segments.remove(0);
            let bytes = path.metadata().map_err(io_error(&path))?.len();
            std::fs::remove_file(&path).map_err(io_error(&path))?;
            self.closed -= bytes.min(self.closed);
        }
        Ok(())
    }

    /// Bytes of the log on disk.
    pub fn bytes(&self) -> u64 {
        self.closed + self.written
    }

    fn rotate(&mut self) -> Result<(), WalError> {
        self.sync()?;
        let path = segment_path(&self.dir, self.next_seq);
        self.file = OpenOptions::new().create(true).append(true).open(&path).map_err(io_error(&path))?;
        sync_dir(&self.dir)?;
        self.segments.push((self.next_seq, path));
        self.closed += self.written;
        self.written = 0;
        Ok(())
    }
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.log"))
}

fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let first = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            segments.push((first, path));
        }
    }
    segments.sort();
    Ok(segments)
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))
}

const DOCUMENT: u8 = 0;
const REFUSED: u8 = 1;

fn encode(entry: &Entry, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    out.extend_from_slice(&entry.seq.to_le_bytes());
    let short = |out: &mut Vec<u8>, text: &str| {
        let text = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text);
    };
    let long = |out: &mut Vec<u8>, text: &str| {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    };
    match &entry.body {
        Body::Document(json) => {
            out.push(DOCUMENT);
            short(out, &entry.index);
            short(out, &entry.id);
            out.extend_from_slice(json);
        }
        Body::Refused { source, line, reason, text } => {
            out.push(REFUSED);
            short(out, &entry.index);
            short(out, &entry.id);
            out.extend_from_slice(&line.to_le_bytes());
            long(out, source);
            long(out, reason);
            out.extend_from_slice(text.as_bytes());
        }
    }
    let payload = &out[start + HEADER..];
    let (length, crc) = (payload.len() as u32, crc32fast::hash(payload));
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The entries of a segment, and where and why it stops early (`Err`) if it does.
pub fn decode_all(bytes: &[u8]) -> (Vec<Entry>, Result<(), (u64, &'static str)>) {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        if rest.len() < HEADER {
            return (entries, Err((offset as u64, "an entry's header is cut short")));
        }
        let length = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if length > MAX_ENTRY || rest.len() < HEADER + length {
            return (entries, Err((offset as u64, "an entry is cut short")));
        }
        let payload = &rest[HEADER..HEADER + length];
        if crc32fast::hash(payload) != crc {
            return (entries, Err((offset as u64, "an entry's checksum does not match")));
        }
        match decode(payload) {
            Some(entry) => entries.push(entry),
            None => return (entries, Err((offset as u64, "an entry is not well formed"))),
        }
        offset += HEADER + length;
    }
    (entries, Ok(()))
}

/// One entry's payload, or `None` when it is not well formed.
pub fn decode(payload: &[u8]) -> Option<Entry> {
    let mut reader = payload;
    let seq = u64::from_le_bytes(take(&mut reader, 8)?.try_into().ok()?);
    let kind = take(&mut reader, 1)?[0];
    let short = |reader: &mut &[u8]| -> Option<String> {
        let length = u16::from_le_bytes(take(reader, 2)?.try_into().ok()?) as usize;
        String::from_utf8(take(reader, length)?.to_vec()).ok()
    };
    let index = short(&mut reader)?;
    let id = short(&mut reader)?;
    let body = match kind {
        DOCUMENT => Body::Document(reader.to_vec()),
        REFUSED => {
            let line = u64::from_le_bytes(take(&mut reader, 8)?.try_into().ok()?);
            let long = |reader: &mut &[u8]| -> Option<String> {
                let length = u32::from_le_bytes(take(reader, 4)?.try_into().ok()?) as usize;
                String::from_utf8(take(reader, length)?.to_vec()).ok()
            };
            let source = long(&mut reader)?;
            let reason = long(&mut reader)?;
            let mut text = String::new();
            reader.read_to_string(&mut text).ok()?;
            Body::Refused { source, line, reason, text }
        }
        _ => return None,
    };
    Some(Entry { seq, index, id, body })
}

fn take<'a>(reader: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if reader.len() < n {
        return None;
    }
    let (head, rest) = reader.split_at(n);
    *reader = rest;
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(id: &str) -> Entry {
        Entry { seq: 0, index: "winlogbeat".into(), id: id.into(), body: Body::Document(format!("{{\"n\":\"{id}\"}}").into_bytes()) }
    }

    #[test]
    fn replays_what_the_lake_does_not_hold_and_cuts_a_torn_end() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, pending) = Wal::open(dir.path(), 0).unwrap();
        assert!(pending.is_empty());
        let refused = Body::Refused { source: "POST /_bulk".into(), line: 4, reason: "not JSON".into(), text: "{x".into() };
        let mut entries = vec![document("a"), document("b"), Entry { seq: 0, index: "w".into(), id: String::new(), body: refused }];
        wal.append(&mut entries).unwrap();
        wal.sync().unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        let on_disk = || list_segments(dir.path()).unwrap().iter().map(|(_, p)| p.metadata().unwrap().len()).sum::<u64>();
        assert_eq!(wal.bytes(), on_disk());
        drop(wal);

        // A torn entry at the end, as a crash in the middle of a write leaves it.
        let segment = list_segments(dir.path()).unwrap()[0].1.clone();
        let mut torn = Vec::new();
        encode(&document("c"), &mut torn);
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(&torn[..torn.len() - 3]).unwrap();

        let (mut wal, pending) = Wal::open(dir.path(), 1).unwrap();
        assert_eq!(pending, entries[1..].to_vec(), "the entries after the one folded in");
        let mut more = vec![document("d")];
        wal.append(&mut more).unwrap();
        wal.sync().unwrap();
        assert_eq!(more[0].seq, 4, "sequence numbers go on after the torn entry");
        assert_eq!(wal.bytes(), on_disk(), "the torn entry was cut off");
        drop(wal);
        let (_, pending) = Wal::open(dir.path(), 3).unwrap();
        assert_eq!(pending, more);
    }

    #[test]
    fn damage_before_the_end_stops_the_start_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Vec::new();
        encode(&Entry { seq: 1, ..document("a") }, &mut first);
        first[HEADER + 9] ^= 1;
        std::fs::write(segment_path(dir.path(), 1), &first).unwrap();
        std::fs::write(segment_path(dir.path(), 2), b"").unwrap();
        let err = Wal::open(dir.path(), 0).err().expect("refused").to_string();
        assert!(err.contains("00000000000000000001.log") && err.contains("byte 0") && err.contains("checksum"), "{err}");
    }

    #[test]
    fn segments_the_lake_holds_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 0).unwrap();
        for _ in 0..3 {
            wal.append(&mut [document("a"), document("b")]).unwrap();
            wal.written = SEGMENT_BYTES;
        }
        wal.sync().unwrap();
        assert_eq!(list_segments(dir.path()).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [1, 3, 5]);
        wal.release(3).unwrap();
        assert_eq!(list_segments(dir.path()).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [3, 5], "entry 4 is not folded yet");
        wal.release(6).unwrap();
        assert_eq!(list_segments(dir.path()).unwrap().iter().map(|s| s.0).collect::<Vec<_>>(), [5], "the segment being written stays");
    }
}
