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
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
    // Read in large blocks, each hashed on every core while the next is read. (Not mapped:
    // a log file cut short while mapped would end the process.)
    let (mut block, mut next) = (vec![0u8; BLOCK_BYTES], vec![0u8; BLOCK_BYTES]);
    let mut filled = read_block(&mut file, &mut block)?;
    while filled > 0 {
        let (_, read) = rayon::join(|| hasher.update_rayon(&block[..filled]), || read_block(&mut file, &mut next));
        filled = read?;
        std::mem::swap(&mut block, &mut next);
    }
    Ok(hasher.finalize().to_hex().to_string())
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
    let mut hasher = blake3::Hasher::new();
    hasher.update(&len.to_le_bytes());
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
        assert_eq!(sampled_fingerprint(&b).unwrap(), fingerprint(&b).unwrap(), "the same up to 2 MiB");
        let mut middle = big.clone();
        middle[big.len() / 2] ^= 1;
        std::fs::write(&b, &middle).unwrap();
        assert_eq!(sampled_fingerprint(&a).unwrap(), sampled_fingerprint(&b).unwrap(), "why it was replaced");
    }
}
