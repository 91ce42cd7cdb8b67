//! Recognises an input file that was ingested before by a hash of all of its bytes.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A content fingerprint of a file: a BLAKE3 hash of its length and all of its bytes. The
/// same file under another name has the same fingerprint; any change anywhere in it makes
/// another. (BLAKE3 hashes at GB/s per core, a fraction of the time the ingest takes.)
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut hasher = hasher_of_length(len);
    // Read in large blocks, each hashed on every core while the next is read. (Not mapped:
    // a log file cut short while mapped would end the process.) A small file's blocks are
    // its size: zeroing two large blocks for each of many small files costs more than
    // hashing them.
    let block_bytes = usize::try_from(len).unwrap_or(BLOCK_BYTES).clamp(1, BLOCK_BYTES);
    let (mut block, mut next) = (vec![0u8; block_bytes], vec![0u8; block_bytes]);
    let mut filled = read_block(&mut file, &mut block)?;
    while filled > 0 {
        let (_, read) = rayon::join(|| hasher.update_rayon(&block[..filled]), || read_block(&mut file, &mut next));
        filled = read?;
        std::mem::swap(&mut block, &mut next);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// The [`fingerprint`] of a file made from its bytes as they are read for another purpose,
/// so that it is not read twice. It is made only when the file is read from its start to
/// its end without a gap (bytes read again are passed over) and is as long as it was.
#[derive(Debug)]
pub struct ReadFingerprint {
    hasher: blake3::Hasher,
    len: u64,
    hashed: u64,
    gap: bool,
}

impl ReadFingerprint {
    /// For a file of `len` bytes.
    pub fn new(len: u64) -> ReadFingerprint {
        ReadFingerprint { hasher: hasher_of_length(len), len, hashed: 0, gap: false }
    }

    /// Takes `bytes` read at `offset`.
    pub fn read(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset + bytes.len() as u64;
        if self.gap || end <= self.hashed {
            return;
        }
        if offset > self.hashed {
            self.gap = true;
            return;
        }
        self.hasher.update(&bytes[(self.hashed - offset) as usize..]);
        self.hashed = end;
    }

    /// The fingerprint, when every byte of the file was read and no more.
    pub fn finish(&self) -> Option<String> {
        (!self.gap && self.hashed == self.len).then(|| self.hasher.finalize().to_hex().to_string())
    }
}

/// A fingerprint's hasher, given the file's length: the length is hashed first.
fn hasher_of_length(len: u64) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
    hasher
}

/// Bytes read and hashed at a time.
const BLOCK_BYTES: usize = 8 << 20;

/// Fills `block` as far as the file goes; returns how many bytes it holds.
fn read_block(file: &mut File, block: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < block.len() {
        match file.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The fingerprint lakes made by earlier versions of hela recorded: the length and a
/// BLAKE3 hash of the first and last MiB only (the whole file up to 2 MiB, where it equals
/// [`fingerprint`]). Read so that such a lake still recognises what it holds.
pub fn sampled_fingerprint(path: &Path) -> std::io::Result<String> {
    const SAMPLE: u64 = 1 << 20;
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut hasher = hasher_of_length(len);
    let mut buffer = Vec::with_capacity(SAMPLE as usize);
    (&mut file).take(SAMPLE).read_to_end(&mut buffer)?;
    hasher.update(&buffer);
    if len > 2 * SAMPLE {
        file.seek(SeekFrom::End(-(SAMPLE as i64)))?;
    }
    buffer.clear();
    file.take(SAMPLE).read_to_end(&mut buffer)?;
    hasher.update(&buffer);
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_fingerprint_any_change_another() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..(2 * BLOCK_BYTES + 12345)).map(|i| (i % 251) as u8).collect();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        // Lakes keep these: the hash of the length and every byte, however they are read.
        let whole = [&(big.len() as u64).to_le_bytes()[..], &big].concat();
        assert_eq!(fingerprint(&a).unwrap(), blake3::hash(&whole).to_hex().to_string());
        for place in [0, big.len() / 2, big.len() - 1] {
            let mut changed = big.clone();
            changed[place] ^= 1;
            std::fs::write(&b, &changed).unwrap();
            assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap(), "a byte changed at {place}");
        }
        std::fs::write(&b, b"small").unwrap();
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        assert_eq!(fingerprint(&b).unwrap(), blake3::hash(&[&5u64.to_le_bytes()[..], b"small"].concat()).to_hex().to_string());
        std::fs::write(&b, b"").unwrap();
        assert_eq!(fingerprint(&b).unwrap(), blake3::hash(&0u64.to_le_bytes()).to_hex().to_string(), "an empty file");
        std::fs::write(&b, b"small").unwrap();
        assert_eq!(sampled_fingerprint(&b).unwrap(), fingerprint(&b).unwrap(), "the same up to 2 MiB");
        // Read in pieces, some read again, the same; with a gap or cut short, none.
        let pieces = |reads: &[(usize, usize)]| {
            let mut read = ReadFingerprint::new(big.len() as u64);
            reads.iter().for_each(|&(start, end)| read.read(start as u64, &big[start..end]));
            read.finish()
        };
        let (n, whole) = (big.len(), Some(fingerprint(&a).unwrap()));
        assert_eq!(pieces(&[(0, 512), (0, 1000), (1000, n / 2), (n / 3, n)]), whole);
        assert_eq!(pieces(&[(0, 512), (1000, n)]), None, "a gap");
        assert_eq!(pieces(&[(0, n - 1)]), None, "cut short");
        let mut longer = ReadFingerprint::new(n as u64 - 1);
        longer.read(0, &big);
        assert_eq!(longer.finish(), None, "longer than it was");
        let mut middle = big.clone();
        middle[big.len() / 2] ^= 1;
        std::fs::write(&b, &middle).unwrap();
        assert_eq!(sampled_fingerprint(&a).unwrap(), sampled_fingerprint(&b).unwrap(), "why it was replaced");
    }
}
