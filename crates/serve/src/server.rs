//! The HTTP server: its routes, who may call each, one log line per request, and the
//! headers Elasticsearch clients check on every response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::serve::{IncomingStream, Listener};
use hela_lake::Lake;
use hela_live::Live;
use hela_sql::Session;
use serde_json::json;

use crate::alerts;
use crate::auth::{Denied, Keys, Role};
use crate::es::{self, error};
use crate::metrics::Metrics;
use crate::query;
use crate::store::Store;
use crate::tls::TlsListener;

/// Limits on what one request may ask.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, after decompression.
    pub max_body_bytes: usize,
    /// Largest document.
    pub max_document_bytes: usize,
    pub query_timeout: Duration,
}

/// What every request handler shares.
pub struct AppState {
    pub store: Store,
    /// The session requests fork theirs from; it reads the lake's catalog after each commit.
    pub session: Arc<Session>,
    pub metrics: Arc<Metrics>,
    /// The keys accepted; none: every client may do everything (loopback only).
    pub keys: Option<Keys>,
    pub limits: Limits,
    pub lake: Lake,
    pub name: String,
    pub cluster_uuid: String,
    /// The standing rules and their sinks, if any.
    pub live: Option<Arc<Live>>,
    /// What the standing rules found in the lake's history.
    pub retro: Option<Arc<crate::retro::RetroHunts>>,
    /// How the scheduled queries last ran.
    pub scheduler: Option<Arc<crate::scheduled::Scheduler>>,
    /// Becomes true when the server stops; long-lived responses end then.
    pub stopped: tokio::sync::watch::Receiver<bool>,
    /// The web UI's page, answered at `/` to browsers, if the server has pages.
    pub index: Option<fn() -> Response>,
}

/// Pages served beside the API (the web UI): their routes, and the page answered at `/`
/// to a browser (a request that accepts `text/html`) instead of the cluster's banner.
/// Files read (GET) right under [`PUBLIC_PREFIX`] are served without credentials (the
/// page's code and styles, never data); routes under `/_hela/ui/` need a reading key.
pub struct Pages {
    pub routes: Router<Arc<AppState>>,
    pub index: fn() -> Response,
}

/// The path prefix of what pages load without credentials.
pub const PUBLIC_PREFIX: &str = "/ui/";

impl AppState {
    /// `message` without the server's own paths, for a client's eyes.
    pub fn scrub(&self, message: &str) -> String {
        message.replace(&*self.lake.root().to_string_lossy(), "<lake>")
    }

    /// Why a query was stopped at the server's time limit.
    pub fn timeout_message(&self) -> String {
        format!("the query ran past the server's limit of {} s (--query-timeout)", self.limits.query_timeout.as_secs())
    }
}

/// The address of the client a request came from, over TCP or TLS.
#[derive(Debug, Clone, Copy)]
pub struct Client(pub SocketAddr);

/// Plain TCP connections with TCP_NODELAY set: without it a response's last small write
/// waits for the client's delayed acknowledgment of the one before, some 40 ms on a
/// kept-alive connection.
pub struct TcpNoDelay(pub tokio::net::TcpListener);

impl Listener for TcpNoDelay {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, client) = Listener::accept(&mut self.0).await;
        let _ = stream.set_nodelay(true);
        (stream, client)
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Listener::local_addr(&self.0)
    }
}

impl Connected<IncomingStream<'_, TcpNoDelay>> for Client {
    fn connect_info(stream: IncomingStream<'_, TcpNoDelay>) -> Client {
        Client(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Client {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Client {
        Client(*stream.remote_addr())
    }
}

/// Every route of the server.
pub fn routes(state: Arc<AppState>, pages: Router<Arc<AppState>>) -> Router {
    let setup = any(es::accepted_setup);
    pages
        .route("/", get(es::banner).head(es::banner))
        .route("/_bulk", post(es::bulk).put(es::bulk))
        .route("/{index}/_bulk", post(es::bulk).put(es::bulk))
        .route("/{index}/_doc", post(es::document))
        .route("/{index}/_doc/{id}", put(es::document).post(es::document))
        .route("/{index}/_create/{id}", put(es::document).post(es::document))
        .route("/_license", get(es::license))
        .route("/_xpack", get(es::xpack))
        .route("/_cluster/health", get(es::cluster_health))
        .route("/_index_template/{name}", setup.clone())
        .route("/_component_template/{name}", setup.clone())
        .route("/_template/{name}", setup.clone())
        .route("/_ilm/policy/{name}", setup.clone())
        .route("/_data_stream/{name}", setup)
        .route("/_sql", post(query::sql).get(query::sql))
        .route("/_hela/tables", get(tables))
        .route("/_hela/alerts", get(alerts::stream))
        .route("/_hela/rules", get(alerts::rules))
        .route("/_hela/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(es::unsupported)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// What a request needs of its credentials: nothing (the health check, the web UI's page
/// and assets), any key (the banner, which every client reads first), or a role.
fn role_for(method: &Method, path: &str, wants_page: bool) -> Option<Option<Role>> {
    let reads = method == Method::GET || method == Method::HEAD;
    // Only a file's own name: `/ui/_doc` posted is a document for index `ui`.
    let public_file = reads && path.strip_prefix(PUBLIC_PREFIX).is_some_and(|name| !name.is_empty() && !name.contains('/'));
    match path {
        "/_hela/health" => None,
        "/" if wants_page => None,
        "/" => Some(None),
        _ if public_file => None,
        "/_sql" | "/_hela/tables" | "/_hela/alerts" | "/_hela/rules" => Some(Some(Role::Read)),
        _ if path.starts_with("/_hela/ui/") => Some(Some(Role::Read)),
        "/metrics" => Some(Some(Role::Admin)),
        _ => Some(Some(Role::Ingest)),
    }
}

/// Whether a request is a browser's for a page: it accepts HTML.
pub fn wants_page(headers: &axum::http::HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// The header the web UI sends with its calls: a refusal then carries no
/// `WWW-Authenticate` challenge, so the browser shows the UI's login page rather than its
/// own password prompt.
const FROM_PAGE: &str = "x-hela-page";

/// Checks credentials, counts and logs each request, and adds the product header.
async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let client = request.extensions().get::<ConnectInfo<Client>>().map(|c| c.0.0.to_string()).unwrap_or_default();
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let from_page = request.headers().contains_key(FROM_PAGE);
    let wants_page = state.index.is_some() && method == Method::GET && wants_page(request.headers());
    let denied = match (&state.keys, role_for(&method, &path, wants_page)) {
        (Some(keys), Some(role)) => {
            let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            keys.check(authorization, role).err().map(|denied| (denied, role))
        }
        _ => None,
    };
    let mut response = match denied {
        None => next.run(request).await,
        Some((denied, role)) => {
            state.metrics.requests_rejected.fetch_add(1, Ordering::Relaxed);
            let mut response = refusal(denied, role, &method, &path);
            if from_page {
                response.headers_mut().remove(header::WWW_AUTHENTICATE);
            }
            response
        }
    };
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        state.metrics.requests_rejected.fetch_add(1, Ordering::Relaxed);
    }
    response.headers_mut().insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    eprintln!("{} {client} \"{method} {path}\" {} {:.1} ms", timestamp(), status.as_u16(), started.elapsed().as_secs_f64() * 1e3);
    response
}

/// The answer to a request without the credentials it needs: 401 names what is missing
/// and nothing of the server; 403 names the key and what it lacks.
fn refusal(denied: Denied, role: Option<Role>, method: &Method, path: &str) -> Response {
    match denied {
        Denied::Unauthenticated => {
            let reason = format!("missing or wrong credentials for REST request [{method} {path}]: send Authorization: ApiKey or Basic");
            let mut response = error(StatusCode::UNAUTHORIZED, "security_exception", reason);
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("ApiKey, Basic realm=\"hela\""));
            response
        }
        Denied::Forbidden(name) => {
            let role = role.map(Role::name).unwrap_or_default();
            let reason = format!("action [{method} {path}] is unauthorized for API key [{name}]: it needs the role [{role}]");
            error(StatusCode::FORBIDDEN, "security_exception", reason)
        }
    }
}

pub(crate) fn timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `GET /_hela/health`: the server answers and its lake is readable.
async fn health(State(state): State<Arc<AppState>>) -> Response {
    let lag = state.metrics.pending_bytes.load(Ordering::Relaxed);
    match state.lake.catalog() {
        Ok(_) => axum::Json(json!({"status": "green", "wal_lag_bytes": lag})).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "red", "reason": "the lake's catalog cannot be read"}))).into_response(),
    }
}

/// `GET /metrics`: Prometheus' text format.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    if let Some(live) = &state.live {
        text.push_str(&crate::metrics::render_sinks(&live.sinks().latencies()));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /_hela/tables`: each table with its rows, files and bytes.
async fn tables(State(state): State<Arc<AppState>>) -> Response {
    match state.lake.catalog() {
        Ok(catalog) => {
            let tables: Vec<_> = catalog
                .tables
                .iter()
                .map(|(name, table)| {
                    let rows: u64 = table.files.iter().map(|f| f.rows).sum();
                    let bytes: u64 = table.files.iter().map(|f| f.bytes).sum();
                    json!({"name": name, "rows": rows, "files": table.files.len(), "bytes": bytes})
                })
                .collect();
            axum::Json(json!({"tables": tables})).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "exception", state.scrub(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_their_files_are_public_and_their_data_needs_a_reading_key() {
        let (get, post, put) = (&Method::GET, &Method::POST, &Method::PUT);
        assert_eq!(role_for(get, "/", true), None, "a browser gets the page, which asks for a key");
        assert_eq!(role_for(get, "/", false), Some(None), "a client gets the banner with any key");
        assert_eq!(role_for(get, "/ui/app.js", false), None);
        assert_eq!(role_for(post, "/_hela/ui/search", false), Some(Some(Role::Read)));
        assert_eq!(role_for(post, "/_hela/ui/triage", true), Some(Some(Role::Read)));
        assert_eq!(role_for(get, "/_hela/health", false), None);
        assert_eq!(role_for(post, "/_bulk", true), Some(Some(Role::Ingest)));
        assert_eq!(role_for(get, "/uix", false), Some(Some(Role::Ingest)));
        // Index `ui` is an index like any other.
        assert_eq!(role_for(post, "/ui/_doc", false), Some(Some(Role::Ingest)));
        assert_eq!(role_for(post, "/ui/_bulk", false), Some(Some(Role::Ingest)));
        assert_eq!(role_for(put, "/ui/_doc/1", false), Some(Some(Role::Ingest)));
        assert_eq!(role_for(get, "/ui/_doc/1", false), Some(Some(Role::Ingest)));
    }
}
