//! `hela serve`: one long-running hela that shippers write to and hunters query.
//!
//! - Ingest speaks Elasticsearch's API ([`es`]): documents are logged durably in a
//!   write-ahead log before they are acknowledged ([`wal`]), then folded into the lake in
//!   the background by its atomic commit ([`store`]).
//! - Queries arrive on `POST /_sql` ([`query`]), each in its own session forked from one
//!   that follows the lake's commits.
//! - On loopback no credentials are needed; any other address needs API keys ([`auth`]).

pub mod auth;
mod body;
pub mod bulk;
pub mod es;
pub mod ids;
mod lake_ids;
pub mod metrics;
pub mod query;
pub mod server;
pub mod store;
pub mod wal;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use hela_lake::{Lake, Router};
use hela_sql::Session;

pub use server::Limits;
pub use store::StoreOptions;

/// How `hela serve` runs.
pub struct ServeOptions {
    pub lake: PathBuf,
    /// `HOST:PORT`; port 0 takes a free port (the address is printed).
    pub listen: String,
    pub router: Arc<dyn Router>,
    /// The API keys file; required to listen beyond loopback.
    pub auth: Option<PathBuf>,
    pub store: StoreOptions,
    pub limits: Limits,
    /// Memory all queries together may hold, in bytes.
    pub query_memory: usize,
}

/// Why the server cannot start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Keys(#[from] auth::KeysError),
    #[error(transparent)]
    Open(#[from] store::OpenError),
    #[error(transparent)]
    Sql(#[from] hela_sql::SqlError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Runs the server until SIGTERM or SIGINT, then stops accepting requests, lets those
/// under way finish, folds every acknowledged document into the lake and returns.
/// `ready` is called with the address listened on once requests are accepted.
pub fn run(options: ServeOptions, ready: &mut dyn FnMut(SocketAddr)) -> Result<(), ServeError> {
    let addresses: Vec<SocketAddr> =
        options.listen.to_socket_addrs().map_err(|e| ServeError::Io(format!("cannot resolve --listen {}", options.listen), e))?.collect();
    let address = *addresses.first().ok_or_else(|| ServeError::Refused(format!("--listen {} names no address", options.listen)))?;
    if addresses.iter().any(|a| !a.ip().is_loopback()) {
        return Err(ServeError::Refused(format!(
            "refusing to listen on {address}: beyond loopback hela serve needs API keys (--auth FILE) and TLS, and it does not serve TLS yet; listen on 127.0.0.1 and put a TLS-terminating proxy on this host in front of it"
        )));
    }
    let keys = options.auth.as_deref().map(auth::Keys::load).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hela-serve")
        .build()
        .map_err(|e| ServeError::Io("cannot start the runtime".into(), e))?;
    let lake = Lake::new(&options.lake);
    let metrics = Arc::new(metrics::Metrics::default());
    let session = Arc::new(Session::for_network(&lake, options.router.as_ref(), options.query_memory)?);
    let reloading = session.clone();
    let on_commit = Box::new(move || {
        if let Err(e) = reloading.reload_lake() {
            eprintln!("error: cannot read the lake's catalog after a commit: {e}");
        }
    });
    let store = store::Store::open(&lake, options.router.clone(), options.store.clone(), metrics.clone(), on_commit)?;
    session.reload_lake()?;
    let state = Arc::new(server::AppState {
        store,
        session,
        metrics,
        keys,
        limits: options.limits.clone(),
        name: hostname(),
        cluster_uuid: cluster_uuid(&lake),
        lake,
    });
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| ServeError::Io(format!("cannot listen on {address}"), e))?;
        let bound = listener.local_addr().map_err(|e| ServeError::Io(format!("cannot listen on {address}"), e))?;
        ready(bound);
        let app = server::routes(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(stop_signal()).await.map_err(|e| ServeError::Io("the server failed".into(), e))
    });
    eprintln!("stopping: storing every acknowledged document in the lake");
    state.store.stop();
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

/// Resolves on SIGTERM or SIGINT.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "hela".into())
}

/// A stable identifier of the lake, as a cluster's uuid.
fn cluster_uuid(lake: &Lake) -> String {
    let hash = blake3::hash(lake.root().to_string_lossy().as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &hash.as_bytes()[..16])
}
