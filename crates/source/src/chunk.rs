//! Chunks of complete JSON-lines records, and the warnings raised while reading them.

use std::fmt;
use std::sync::Arc;

/// Where records come from: a file, or a member inside an archive file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file on disk (or `-` for standard input).
    pub file: Arc<str>,
    /// The member inside an archive, when the file is a zip or tar archive.
    pub member: Option<Arc<str>>,
}

impl Origin {
    /// An origin for a plain file (or `-`).
    pub fn file(file: impl Into<Arc<str>>) -> Self {
        Self { file: file.into(), member: None }
    }

    /// An origin for a member of an archive.
    pub fn member(file: Arc<str>, member: impl Into<Arc<str>>) -> Self {
        Self { file, member: Some(member.into()) }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.member {
            Some(member) => write!(f, "{}:{}", self.file, member),
            None => f.write_str(&self.file),
        }
    }
}

/// A block of whole lines from one origin. `data` holds complete lines only (the last one
/// may lack its newline at the end of a stream); `first_line` is the 1-based number of the
/// first of them.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub origin: Origin,
    pub first_line: u64,
    pub data: Vec<u8>,
}

impl Chunk {
    /// Iterates the non-blank lines of the chunk with their 1-based line numbers.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let ends = memchr::memchr_iter(b'\n', &self.data).chain(std::iter::once(self.data.len()));
        let mut start = 0;
        ends.zip(self.first_line..)
            .map(move |(end, line_no)| {
                let line = &self.data[start..end];
                start = end + 1;
                (line_no, line.strip_suffix(b"\r").unwrap_or(line))
            })
            .filter(|(_, line)| line.iter().any(|b| !b.is_ascii_whitespace()))
    }
}

/// Something worth telling the user that did not stop the input: a truncated archive, a
/// member that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Bytes that cannot become records, set aside with where they were and why: a line longer
/// than the largest record read, an archive member that cannot be decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub origin: Origin,
    /// The 1-based line, when one line is refused; none for a whole member.
    pub line: Option<u64>,
    pub reason: String,
    /// The first bytes of what was refused (at most [`REFUSED_HEAD_BYTES`]).
    pub head: Vec<u8>,
}

/// How many of a refused line's bytes are kept to show what it was.
pub const REFUSED_HEAD_BYTES: usize = 64 << 10;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.origin, self.reason),
            None => write!(f, "{}: {}", self.origin, self.reason),
        }
    }
}

/// What reading an input yields, in order.
#[derive(Debug)]
pub enum ChunkEvent {
    Chunk(Chunk),
    Warning(Warning),
    Refused(Refused),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_the_first_and_blank_ones_are_left_out() {
        let chunk = Chunk { origin: Origin::file("f"), first_line: 7, data: b"{\"a\":1}\r\n\n  \t\n{\"b\":2}\n{\"c\":3}".to_vec() };
        let lines: Vec<(u64, &[u8])> = chunk.lines().collect();
        assert_eq!(lines, [(7, &b"{\"a\":1}"[..]), (10, b"{\"b\":2}"), (11, b"{\"c\":3}")]);
        let ended = Chunk { data: b"x\n".to_vec(), ..chunk.clone() };
        assert_eq!(ended.lines().collect::<Vec<_>>(), [(7, &b"x"[..])]);
        assert_eq!(Chunk { data: Vec::new(), ..chunk }.lines().count(), 0);
    }
}
