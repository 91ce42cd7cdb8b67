//! Request bodies: gzip- or deflate-compressed as shippers send them (Beats compress by
//! default), decompressed within the size limit so that a small body cannot unpack into an
//! unbounded one.

use std::io::Read;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use crate::es::error;

/// The request's body, decompressed, or the error response when it is over `limit` bytes or
/// its encoding is unknown or damaged.
pub fn request_body(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, Response> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity").trim().to_ascii_lowercase();
    let reader: Box<dyn Read> = match encoding.as_str() {
        "identity" | "" => return Ok(body),
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(&body[..])),
        "deflate" => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
        other => {
            let reason = format!("unsupported Content-Encoding [{other}]: send identity, gzip or deflate");
            return Err(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "illegal_argument_exception", reason));
        }
    };
    let mut decoded = Vec::new();
    match reader.take(limit as u64 + 1).read_to_end(&mut decoded) {
        Ok(_) if decoded.len() > limit => {
            let reason = format!("the request body decompresses to more than {limit} bytes (--max-body-bytes)");
            Err(error(StatusCode::PAYLOAD_TOO_LARGE, "content_too_long_exception", reason))
        }
        Ok(_) => Ok(Bytes::from(decoded)),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, "illegal_argument_exception", format!("cannot decompress the request body ({encoding}): {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        Bytes::from(encoder.finish().unwrap())
    }

    #[test]
    fn compressed_bodies_are_read_within_the_limit() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_body(&headers, Bytes::from_static(b"plain"), 10).unwrap(), "plain");
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(request_body(&headers, gzip(b"{\"a\":1}\n"), 100).unwrap(), "{\"a\":1}\n");
        let bomb = gzip(&vec![b' '; 1 << 20]);
        assert!(bomb.len() < 20_000, "{} bytes", bomb.len());
        assert_eq!(request_body(&headers, bomb, 1000).unwrap_err().status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(request_body(&headers, Bytes::from_static(b"not gzip"), 100).unwrap_err().status(), StatusCode::BAD_REQUEST);
        headers.insert(header::CONTENT_ENCODING, "br".parse().unwrap());
        assert_eq!(request_body(&headers, Bytes::from_static(b"x"), 100).unwrap_err().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
