//! Streams one input through the decompressors and archive readers it needs, cutting the
//! decompressed bytes into chunks of whole lines. A stream that breaks off (a truncated
//! gzip or tar, a corrupt zip member) keeps every line read before the break and raises a
//! warning; it never fails the input.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::format::{Format, sniff};
use crate::{Chunk, ChunkEvent, Input, Origin, SourceError, Warning};

/// How an input is cut into chunks.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Target size of a chunk in bytes; a chunk ends at the first line end past this size.
    pub chunk_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { chunk_bytes: 4 << 20 }
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
    let name: Arc<str> = input.display_name().into();
    let mut reader = Reader { options, emit, damaged: false };
    if input.is_stdin() {
        let stdin = Counting { inner: io::stdin().lock(), progress };
        return reader.read_stream(Origin::file(name), Box::new(stdin), 0, None);
    }
    let io_error = |source| SourceError::Io { path: input.path.clone(), source };
    let mut file = File::open(&input.path).map_err(io_error)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file).take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(io_error)?;
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let counted = Counting { inner: file, progress };
    match sniff(&head) {
        Format::Zip => {
            let archive = zip::ZipArchive::new(counted).map_err(|e| SourceError::Zip {
                path: input.path.clone(),
                message: e.to_string(),
            })?;
            reader.read_zip(name, archive);
            Ok(())
        }
        Format::Evtx => {
            crate::evtx::read_evtx(&Origin::file(name), counted, options.chunk_bytes, reader.emit);
            Ok(())
        }
        _ => reader.read_stream(Origin::file(name), Box::new(counted), 0, None),
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

    fn read_zip<R: Read + Seek>(mut self, file: Arc<str>, mut archive: zip::ZipArchive<R>) {
        for index in 0..archive.len() {
            let member = match archive.by_index(index) {
                Ok(member) => member,
                Err(e) => {
                    let origin = Origin::file(file.clone());
                    self.warn(&origin, format!("zip member #{index} cannot be read: {e}"));
                    continue;
                }
            };
            if !member.is_file() {
                continue;
            }
            let name = member.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("member #{index}"));
            let origin = Origin::member(file.clone(), name);
            // A member that cannot be decompressed at all is reported and skipped.
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
                self.warn(&origin, format!("cannot be read: {e}"));
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
            let member_name = entry.path().map(|p| p.display().to_string()).unwrap_or_default();
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
    /// member is read into memory first (EVTX files are tens of megabytes at most).
    fn read_evtx_member(&mut self, origin: Origin, mut stream: Box<dyn Read + '_>) {
        let mut data = Vec::new();
        if let Err(e) = stream.read_to_end(&mut data) {
            self.damaged = true;
            self.warn(&origin, format!("stream is truncated or corrupt after {} bytes; the EVTX data before that is read ({e})", data.len()));
        }
        crate::evtx::read_evtx(&origin, Cursor::new(data), self.options.chunk_bytes, self.emit);
    }

    /// Cuts a decompressed stream into chunks of whole lines.
    fn read_lines(&mut self, origin: Origin, mut stream: Box<dyn Read + '_>) {
        let chunk_bytes = self.options.chunk_bytes.max(1);
        let mut buffer: Vec<u8> = Vec::with_capacity(chunk_bytes + (64 << 10));
        let mut next_line = 1u64;
        let mut bytes_read = 0u64;
        loop {
            let filled = buffer.len();
            let want = (chunk_bytes + (64 << 10)).saturating_sub(filled).max(64 << 10);
            buffer.resize(filled + want, 0);
            let result = stream.read(&mut buffer[filled..]);
            let n = *result.as_ref().unwrap_or(&0);
            buffer.truncate(filled + n);
            bytes_read += n as u64;
            match result {
                Ok(0) => break,
                Ok(_) if buffer.len() < chunk_bytes => continue,
                Ok(_) => {
                    if let Some(end) = memchr::memrchr(b'\n', &buffer) {
                        let rest = buffer.split_off(end + 1);
                        next_line = self.emit_chunk(&origin, next_line, std::mem::replace(&mut buffer, rest));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
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
        if !buffer.is_empty() {
            self.emit_chunk(&origin, next_line, buffer);
        }
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

/// Adds the bytes read through it to a shared counter.
struct Counting<'p, R> {
    inner: R,
    progress: &'p AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}
