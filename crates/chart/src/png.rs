//! A PNG encoder for the RGB pixel buffer the bitmap backend draws into:
//! 8-bit truecolor, no filtering, one zlib stream.

use std::io::{self, Write};

use flate2::Compression;
use flate2::Crc;
use flate2::write::ZlibEncoder;

/// The eight bytes every PNG file starts with.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Encodes `width` x `height` pixels of 3 bytes (R, G, B), row by row, as a PNG file.
pub(crate) fn encode_rgb(pixels: &[u8], width: u32, height: u32) -> io::Result<Vec<u8>> {
    let row_len = width as usize * 3;
    if row_len == 0 || pixels.len() != row_len * height as usize {
        return Err(io::Error::other(format!(
            "{} bytes do not make {width}x{height} RGB pixels",
            pixels.len()
        )));
    }

    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, color type 2 (RGB), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut deflate = ZlibEncoder::new(Vec::new(), Compression::default());
    for row in pixels.chunks_exact(row_len) {
        deflate.write_all(&[0])?; // filter type None
        deflate.write_all(row)?;
    }
    let image_data = deflate.finish()?;

    let mut png = SIGNATURE.to_vec();
    push_chunk(&mut png, b"IHDR", &header)?;
    push_chunk(&mut png, b"IDAT", &image_data)?;
    push_chunk(&mut png, b"IEND", &[])?;
    Ok(png)
}

/// Appends one chunk: length, type, data and the CRC-32 of type and data.
fn push_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len()).map_err(|_| io::Error::other("PNG chunk over 4 GiB"))?;
    png.extend_from_slice(&len.to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Splits a PNG file into (type, data) chunks, checking each CRC.
    fn chunks(png: &[u8]) -> Vec<(String, Vec<u8>)> {
        assert_eq!(&png[..8], &SIGNATURE);
        let mut rest = &png[8..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let kind = &rest[4..8];
            let data = &rest[8..8 + len];
            let crc = u32::from_be_bytes(rest[8 + len..12 + len].try_into().unwrap());
            let mut check = Crc::new();
            check.update(kind);
            check.update(data);
            assert_eq!(crc, check.sum(), "CRC of {}", String::from_utf8_lossy(kind));
            out.push((String::from_utf8_lossy(kind).into_owned(), data.to_vec()));
            rest = &rest[12 + len..];
        }
        out
    }

    #[test]
    fn encodes_header_and_rows() {
        // 2x2: red, green / blue, white.
        let pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255];
        let png = encode_rgb(&pixels, 2, 2).unwrap();
        let chunks = chunks(&png);
        let kinds: Vec<&str> = chunks.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
        assert_eq!(chunks[0].1, [0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);

        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(chunks[1].1.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw, [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
    }

    #[test]
    fn rejects_a_buffer_of_the_wrong_size() {
        assert!(encode_rgb(&[0; 5], 1, 2).is_err());
        assert!(encode_rgb(&[], 0, 0).is_err());
    }
}
