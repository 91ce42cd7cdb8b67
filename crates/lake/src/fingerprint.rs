//! Recognises an input file that was ingested before, without reading all of it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes hashed from each end of a file.
const SAMPLE: u64 = 1 << 20;

/// A content fingerprint of a file: its length and a BLAKE3 hash of its first and last MiB
/// (the whole file when smaller). The same file under another name has the same
/// fingerprint; a log that grew, or any change near its ends, has another.
pub fn fingerprint(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
    let mut buffer = Vec::with_capacity(SAMPLE as usize);
    (&mut file).take(SAMPLE).read_to_end(&mut buffer)?;
    hasher.update(&buffer);
    if len > 2 * SAMPLE {
        file.seek(SeekFrom::End(-(SAMPLE as i64)))?;
        buffer.clear();
        file.take(SAMPLE).read_to_end(&mut buffer)?;
        hasher.update(&buffer);
    } else if len > SAMPLE {
        buffer.clear();
        file.read_to_end(&mut buffer)?;
        hasher.update(&buffer);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_same_fingerprint_any_change_another() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..3 * SAMPLE as usize).map(|i| (i % 251) as u8).collect();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        let mut changed = big.clone();
        *changed.last_mut().unwrap() ^= 1;
        std::fs::write(&b, &changed).unwrap();
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
        std::fs::write(&b, b"small").unwrap();
        assert_ne!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
    }
}
