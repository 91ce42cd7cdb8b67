//! The UI's files, built into the binary: the page, its script and its styles. They hold
//! no data, so they are served without credentials; the page asks for a key itself.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A file of the UI.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset { name: "index.html", media_type: "text/html; charset=utf-8", bytes: include_bytes!("../assets/index.html") },
    Asset { name: "app.js", media_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../assets/app.js") },
    Asset { name: "app.css", media_type: "text/css; charset=utf-8", bytes: include_bytes!("../assets/app.css") },
];

/// What the page may load and run: only its own files (no CDN, nothing inline but styles
/// and the charts' images), and it may not be framed by another site.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self' about:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page, at `/` for browsers.
pub fn index() -> Response {
    serve(&ASSETS[0], &HeaderMap::new())
}

/// `GET /ui/{name}`.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => serve(asset, &headers),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let tag = format!("\"{}\"", &blake3::hash(asset.bytes).to_hex()[..16]);
    let fresh = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == tag);
    let mut response = match fresh {
        true => StatusCode::NOT_MODIFIED.into_response(),
        false => ([(header::CONTENT_TYPE, asset.media_type)], asset.bytes).into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_str(&tag).expect("a hex tag is a header value"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
