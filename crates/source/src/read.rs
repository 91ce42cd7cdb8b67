//! Streams one input through the decompressors and archive readers it needs, cutting the
//! decompressed bytes into chunks of whole lines. A stream that breaks off (a truncated
//! gzip or tar, a corrupt zip member) keeps every line read before the break and raises a
//! warning; a member or stream none of which can be read, and a line longer than the
//! largest record, are refused with the reason. None of these fails the input.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::format::{Format, sniff};
use crate::{Chunk, ChunkEvent, Input, Origin, REFUSED_HEAD_BYTES, Refused, SourceError, Warning};

/// How an input is cut into chunks.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Target size of a chunk in bytes; a chunk ends at the first line end past this size.
    pub chunk_bytes: usize,
    /// The longest line read as a record; a longer one is refused (its first bytes kept).
    pub max_record_bytes: usize,
    /// The largest EVTX file read from inside an archive or compressed stream (it is
    /// decompressed to a temporary file first, as the EVTX reader needs to seek).
    pub max_evtx_member_bytes: u64,
}

/// The longest record line read by default: 64 MiB (Windows events run to some kilobytes).
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// The largest EVTX file read from an archive by default: 4 GiB (Windows caps a log well
/// below that unless told otherwise).
pub const MAX_EVTX_MEMBER_BYTES: u64 = 4 << 30;

impl Default for ReadOptions {
    fn default() -> Self {
        Self { chunk_bytes: 4 << 20, max_record_bytes: MAX_RECORD_BYTES, max_evtx_member_bytes: MAX_EVTX_MEMBER_BYTES }
    }
}

/// How many bytes are looked at to recognise a format (tar's magic sits at offset 257).
const SNIFF_BYTES: usize = 512;
/// Containers nested deeper than this (a gzip in a tar in a gzip ...) are not opened.
const MAX_NESTING: usize = 4;

/// Reads `input` to the end, handing chunks and warnings to `emit` in order. `progress`
/// counts the input's bytes read from disk (compressed size), for progress reporting.
/// Fails only when the input cannot be opened at all.
pub fn read_input(
    input: &Input,
    options: &ReadOptions,
    progress: &AtomicU64,
    emit: &mut dyn FnMut(ChunkEvent),
) -> Result<(), SourceError> {
    read_input_watched(input, options, progress, &mut |_, _| {}, emit)
}

/// Reads `input` as [`read_input`] does, handing `watch` each run of bytes read from disk
/// with the offset it starts at: in order, except that a file's first bytes, read to
/// recognise its format, are read again from its start, and an archive is read where its
/// members are.
pub fn read_input_watched(
    input: &Input,
    options: &ReadOptions,
    progress: &AtomicU64,
    watch: &mut dyn FnMut(u64, &[u8]),
    emit: &mut dyn FnMut(ChunkEvent),
) -> Result<(), SourceError> {
    if input.is_stdin() {
        let mut reader = Reader { options, emit, damaged: false };
        let stdin = Counting { inner: io::stdin().lock(), progress, position: 0, watch };
        return reader.read_stream(Origin::file(input.display_name()), Box::new(stdin), 0, None);
    }
    let io_error = |source| SourceError::Io { path: input.path.clone(), source };
    let file = File::open(&input.path).map_err(io_error)?;
    read_seekable(&input.path, Counting { inner: file, progress, position: 0, watch }, options, emit)
}

/// Reads a seekable input (a file, or bytes in memory) named `path` as [`read_input`] does.
pub fn read_seekable<R: Read + Seek>(
    path: &Path,
    mut input: R,
    options: &ReadOptions,
    emit: &mut dyn FnMut(ChunkEvent),
) -> Result<(), SourceError> {
    let name: Arc<str> = path.display().to_string().into();
    let mut reader = Reader { options, emit, damaged: false };
    let io_error = |source| SourceError::Io { path: path.to_path_buf(), source };
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut input).take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(io_error)?;
    input.seek(SeekFrom::Start(0)).map_err(io_error)?;
    match sniff(&head) {
        Format::Zip => {
            let archive = zip::ZipArchive::new(input).map_err(|e| SourceError::Zip { path: path.to_path_buf(), message: e.to_string() })?;
            reader.read_zip(name, archive);
            Ok(())
        }
        Format::Evtx => {
            crate::evtx::read_evtx(&Origin::file(name), input, options.chunk_bytes, reader.emit);
            Ok(())
        }
        _ => reader.read_stream(Origin::file(name), Box::new(input), 0, None),
    }
}

struct Reader<'a> {
    options: &'a ReadOptions,
    emit: &'a mut dyn FnMut(ChunkEvent),
    /// Set when a stream broke off and was reported, so the containers around it stop
    /// without reporting the same damage again.
    damaged: bool,
}

impl Reader<'_> {
    fn warn(&mut self, origin: &Origin, message: String) {
        (self.emit)(ChunkEvent::Warning(Warning { origin: origin.clone(), message }));
    }

    /// Sets aside a member (or stream) none of which can be read.
    fn refuse_member(&mut self, origin: &Origin, reason: String) {
        (self.emit)(ChunkEvent::Refused(Refused { origin: origin.clone(), line: None, reason, head: Vec::new() }));
    }

    fn read_zip<R: Read + Seek>(mut self, file: Arc<str>, mut archive: zip::ZipArchive<R>) {
        for index in 0..archive.len() {
            let name = match archive.name_for_index(index) {
                Some(Ok(name)) => name.into_owned(),
                _ => format!("member #{index}"),
            };
            let origin = Origin::member(file.clone(), name);
            let member = match archive.by_index(index) {
                Ok(member) => member,
                Err(e) => {
                    self.refuse_member(&origin, format!("cannot be decompressed: {e}"));
                    continue;
                }
            };
            if !member.is_file() {
                continue;
            }
            let _ = self.read_stream(origin, Box::new(member), 1, None);
        }
    }

    /// Reads a non-seekable stream, opening gzip and tar layers as it finds them.
    /// `format` skips sniffing when the caller already knows it.
    fn read_stream(
        &mut self,
        origin: Origin,
        stream: Box<dyn Read + '_>,
        depth: usize,
        format: Option<Format>,
    ) -> Result<(), SourceError> {
        let (head, stream) = match peek(stream) {
            Ok(peeked) => peeked,
            Err(e) => {
                self.refuse_member(&origin, format!("cannot be decompressed or read: {e}"));
                return Ok(());
            }
        };
        let format = format.unwrap_or_else(|| sniff(&head));
        if depth >= MAX_NESTING && format != Format::Lines {
            self.warn(&origin, format!("skipped: containers nested deeper than {MAX_NESTING} levels"));
            return Ok(());
        }
        match format {
            Format::Gzip => self.read_stream(origin, Box::new(MultiGzDecoder::new(stream)), depth + 1, None),
            Format::Tar => {
                self.read_tar(origin, stream, depth);
                Ok(())
            }
            Format::Zip => {
                self.warn(&origin, "skipped: a zip archive inside a stream cannot be read; extract it or name it directly".into());
                Ok(())
            }
            Format::Evtx => {
                self.read_evtx_member(origin, stream);
                Ok(())
            }
            Format::Lines => {
                self.read_lines(origin, stream);
                Ok(())
            }
        }
    }

    fn read_tar(&mut self, origin: Origin, stream: Box<dyn Read + '_>, depth: usize) {
        let mut archive = tar::Archive::new(stream);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => return self.warn(&origin, format!("not a readable tar archive: {e}")),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return self.warn(&origin, truncated(&e)),
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let member = Origin::member(origin.file.clone(), member_name);
            let _ = self.read_stream(member, Box::new(entry), depth + 1, None);
            if self.damaged {
                return;
            }
        }
        // The tar archive ended; whatever follows it must still decompress cleanly.
        if let Err(e) = io::copy(&mut archive.into_inner(), &mut io::sink()) {
            self.warn(&origin, truncated(&e));
        }
    }

    /// An EVTX file inside an archive or compressed stream: the parser needs to seek, so the
    /// member is decompressed to a temporary file first, up to a limit.
    fn read_evtx_member(&mut self, origin: Origin, stream: Box<dyn Read + '_>) {
        let mut spill = match tempfile::tempfile() {
            Ok(file) => file,
            Err(e) => return self.refuse_member(&origin, format!("cannot make a temporary file to read the EVTX member from: {e}")),
        };
        let limit = self.options.max_evtx_member_bytes;
        let mut limited = stream.take(limit + 1);
        let copied = io::copy(&mut limited, &mut spill);
        let written = spill.stream_position().unwrap_or(0);
        match copied {
            Ok(_) if written > limit => {
                return self.refuse_member(&origin, format!(
                    "the EVTX member decompresses to more than {} MiB, the limit; extract it and name the .evtx file itself",
                    limit >> 20
                ));
            }
            Ok(_) => {}
            Err(e) => {
                self.damaged = true;
                self.warn(&origin, format!("stream is truncated or corrupt after {written} bytes; the EVTX data before that is read ({e})"));
            }
        }
        if let Err(e) = spill.seek(SeekFrom::Start(0)) {
            return self.refuse_member(&origin, format!("cannot read back the temporary copy of the EVTX member: {e}"));
        }
        crate::evtx::read_evtx(&origin, spill, self.options.chunk_bytes, self.emit);
    }

    /// Cuts a decompressed stream into chunks of whole lines.
    fn read_lines(&mut self, origin: Origin, mut stream: Box<dyn Read + '_>) {
        let chunk_bytes = self.options.chunk_bytes.max(1);
        // The buffer is read into past `filled`, its first bytes; the rest is zeroed once,
        // when it is made, however many reads it takes to fill.
        let fresh = |holding: &[u8]| {
            let mut buffer = vec![0u8; (chunk_bytes + (64 << 10)).max(holding.len() + (64 << 10))];
            buffer[..holding.len()].copy_from_slice(holding);
            buffer
        };
        let mut buffer = fresh(&[]);
        let mut filled = 0;
        let mut next_line = 1u64;
        let mut bytes_read = 0u64;
        loop {
            if filled == buffer.len() {
                buffer.resize(filled + (64 << 10), 0);
            }
            let result = stream.read(&mut buffer[filled..]);
            let n = *result.as_ref().unwrap_or(&0);
            filled += n;
            bytes_read += n as u64;
            match result {
                Ok(0) => break,
                Ok(_) if filled < chunk_bytes => continue,
                Ok(_) => {
                    if let Some(end) = memchr::memrchr(b'\n', &buffer[..filled]) {
                        let rest = fresh(&buffer[end + 1..filled]);
                        filled -= end + 1;
                        buffer.truncate(end + 1);
                        next_line = self.emit_chunk(&origin, next_line, std::mem::replace(&mut buffer, rest));
                    } else if filled > self.options.max_record_bytes {
                        buffer.truncate(filled);
                        match self.refuse_long_line(&origin, next_line, &mut buffer, &mut stream) {
                            Ok(()) => next_line += 1,
                            Err(e) => {
                                self.damaged = true;
                                return self.warn(&origin, format!("stream is truncated or corrupt inside the over-long line {next_line} ({e})"));
                            }
                        }
                        filled = buffer.len();
                        buffer = fresh(&buffer);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buffer.truncate(filled);
                    let lines_before = next_line + memchr::memchr_iter(b'\n', &buffer).count() as u64;
                    self.emit_chunk(&origin, next_line, std::mem::take(&mut buffer));
                    self.damaged = true;
                    self.warn(&origin, format!(
                        "stream is truncated or corrupt after {bytes_read} bytes (line {lines_before}); every complete record before that was read ({e})"
                    ));
                    return;
                }
            }
        }
        if filled > 0 {
            buffer.truncate(filled);
            self.emit_chunk(&origin, next_line, buffer);
        }
    }

    /// Refuses the line `buffer` begins, which is longer than the largest record: keeps its
    /// first bytes, reads past its end, and leaves in `buffer` what follows it.
    fn refuse_long_line(&mut self, origin: &Origin, line: u64, buffer: &mut Vec<u8>, stream: &mut Box<dyn Read + '_>) -> io::Result<()> {
        let head = buffer[..buffer.len().min(REFUSED_HEAD_BYTES)].to_vec();
        let mut length = buffer.len() as u64;
        let rest = loop {
            buffer.resize(64 << 10, 0);
            let n = match stream.read(buffer) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', &buffer[..n]) {
                Some(end) => {
                    length += end as u64;
                    break buffer[end + 1..n].to_vec();
                }
                None if n == 0 => break Vec::new(),
                None => length += n as u64,
            }
        };
        *buffer = rest;
        let reason = format!(
            "the line has {length} bytes, more than the largest record read ({} bytes); its first {} bytes are kept here",
            self.options.max_record_bytes,
            head.len()
        );
        (self.emit)(ChunkEvent::Refused(Refused { origin: origin.clone(), line: Some(line), reason, head }));
        Ok(())
    }

    /// Emits a chunk and returns the line number that follows it.
    fn emit_chunk(&mut self, origin: &Origin, first_line: u64, data: Vec<u8>) -> u64 {
        let next = first_line + memchr::memchr_iter(b'\n', &data).count() as u64;
        (self.emit)(ChunkEvent::Chunk(Chunk { origin: origin.clone(), first_line, data }));
        next
    }
}

fn truncated(error: &io::Error) -> String {
    format!("archive is truncated or corrupt; every complete record before the damage was read ({error})")
}

/// Reads the first bytes of a stream and gives back a reader that still yields them.
fn peek<'a>(mut stream: Box<dyn Read + 'a>) -> io::Result<(Vec<u8>, Box<dyn Read + 'a>)> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut stream).take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    let chained = Cursor::new(head.clone()).chain(stream);
    Ok((head, Box::new(chained)))
}

/// Adds the bytes read through it to a shared counter, and shows them to a watcher with
/// where they were read.
struct Counting<'p, R> {
    inner: R,
    progress: &'p AtomicU64,
    position: u64,
    watch: &'p mut dyn FnMut(u64, &[u8]),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        (self.watch)(self.position, &buf[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.position = self.inner.seek(pos)?;
        Ok(self.position)
    }
}
