//! Recognises container formats by their leading bytes rather than by file name.

/// The container a byte stream is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gzip,
    Zip,
    Tar,
    /// A Windows event log file.
    Evtx,
    /// Anything else is read as JSON lines.
    Lines,
}

/// Sniffs the format from the first bytes of a stream (at least 262 are needed to see tar).
pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(&[0x1f, 0x8b]) {
        Format::Gzip
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Format::Zip
    } else if head.starts_with(crate::evtx::MAGIC) {
        Format::Evtx
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Format::Tar
    } else {
        Format::Lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_numbers() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Format::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Format::Zip);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Format::Tar);
        assert_eq!(sniff(b"ElfFile\0\0\0"), Format::Evtx);
        assert_eq!(sniff(b"{\"EventID\": 1}\n"), Format::Lines);
        assert_eq!(sniff(b""), Format::Lines);
    }
}
