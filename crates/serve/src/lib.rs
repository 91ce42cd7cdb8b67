//! `hela serve`: one long-running hela that shippers write to and hunters query.
//!
//! - Ingest speaks Elasticsearch's API ([`es`]): documents are logged durably in a
//!   write-ahead log before they are acknowledged ([`wal`]), then folded into the lake in
//!   the background by its atomic commit ([`store`]).
//! - Queries arrive on `POST /_sql` ([`query`]), each in its own session forked from one
//!   that follows the lake's commits.
//! - The same queries are served over Arrow Flight SQL on a port of its own ([`flight`]).
//! - Topics of a Kafka broker can be consumed into the lake, exactly once each record
//!   ([`hela_stream::kafka`]).
//! - Sigma rules can stand on the server: each batch is run through them before it is
//!   committed, and their detections are stored with it and delivered ([`hela_live`]); a
//!   rule new to the lake is also run once over its history ([`retro`]); scheduled SQL
//!   queries run at their intervals over the recent events ([`scheduled`]).
//! - On loopback no credentials are needed; any other address needs API keys ([`auth`])
//!   and TLS ([`tls`]).

mod alerts;
pub mod auth;
mod body;
pub mod bulk;
pub mod es;
pub mod flight;
pub mod ids;
mod intel;
mod lake_ids;
pub mod metrics;
mod priority;
pub mod query;
mod retro;
mod scheduled;
pub mod server;
pub mod store;
pub mod tls;
pub mod wal;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use hela_lake::{Lake, LakeError, Router};
use hela_sql::Session;
use hela_hunt::rules::Selection;
use hela_live::{Live, SinkOptions, StandingRules};
use hela_stream::kafka::{KafkaIntake, KafkaOptions};

pub use server::{Limits, Pages};
pub use store::StoreOptions;

/// How `hela serve` runs.
pub struct ServeOptions {
    pub lake: PathBuf,
    /// `HOST:PORT`; port 0 takes a free port (the address is printed).
    pub listen: String,
    pub router: Arc<dyn Router>,
    /// `HOST:PORT` for Arrow Flight SQL, if it is served.
    pub flight: Option<String>,
    /// The API keys file; required to listen beyond loopback.
    pub auth: Option<PathBuf>,
    /// The certificate and key to serve TLS with, on both ports; required beyond loopback.
    pub tls: Option<tls::TlsFiles>,
    pub store: StoreOptions,
    pub limits: Limits,
    /// Memory all queries together may hold, in bytes.
    pub query_memory: usize,
    /// The Kafka topics to consume, if any.
    pub kafka: Option<KafkaOptions>,
    /// The Sigma rules to stand and where their alerts go, if any.
    pub live: Option<LiveOptions>,
    /// The web UI, if served.
    pub pages: Option<Pages>,
    /// Each adds SQL functions to the server's session (hela's graph functions, say).
    pub sql_functions: Vec<fn(&Session)>,
    /// Makes the server's session one whose queries run elsewhere (on a cluster), if set.
    pub queries_on: Option<QueriesOn>,
}

/// Makes of a session one that plans its queries as it does and runs them elsewhere.
pub type QueriesOn = Box<dyn Fn(Session) -> Result<Session, hela_sql::SqlError> + Send + Sync>;

/// Rules and indicators standing on the server.
pub struct LiveOptions {
    /// Rule files and directories, watched for changes.
    pub rules: Vec<PathBuf>,
    /// Indicator files (STIX, MISP, OTX, CSV), loaded into the lake's `indicators` table
    /// and watched for changes: with any, every event stored is looked up in that table.
    pub intel: Vec<PathBuf>,
    pub selection: Selection,
    /// The sinks; alerts a sink cannot take go to `alerts-undelivered.jsonl` in the lake
    /// when left unset; each sink keeps how far it delivered in the lake's `sinks`.
    pub sinks: SinkOptions,
}

/// Why the server cannot start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Keys(#[from] auth::KeysError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Open(#[from] store::OpenError),
    #[error(transparent)]
    Sql(#[from] hela_sql::SqlError),
    #[error(transparent)]
    Kafka(#[from] hela_stream::kafka::KafkaError),
    #[error(transparent)]
    Rules(#[from] hela_live::rules::NoRules),
    #[error(transparent)]
    Sink(#[from] hela_live::SinkError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Where the server listens, once it does.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub http: SocketAddr,
    pub flight: Option<SocketAddr>,
    /// Whether both ports speak TLS.
    pub tls: bool,
}

/// Runs the server until SIGTERM or SIGINT, then stops accepting requests, lets those
/// under way finish, folds every acknowledged document into the lake and returns.
/// `ready` is called with the addresses listened on once requests are accepted.
pub fn run(options: ServeOptions, ready: &mut dyn FnMut(Bound)) -> Result<(), ServeError> {
    let http = resolve("--listen", &options.listen)?;
    let flight = options.flight.as_deref().map(|flight| resolve("--flight", flight)).transpose()?;
    for address in std::iter::once(&http).chain(&flight) {
        check_exposure(address, options.auth.is_some(), options.tls.is_some())?;
    }
    let keys = options.auth.as_deref().map(auth::Keys::load).transpose()?;
    let tls = match &options.tls {
        Some(files) => Some((files.config(tls::Alpn::Http1)?, files.config(tls::Alpn::H2)?)),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hela-serve")
        .build()
        .map_err(|e| ServeError::Io("cannot start the runtime".into(), e))?;
    priority::lower_rayon_threads();
    let lake = Lake::new(&options.lake);
    // Its write-ahead log and state live beside the lake, in a directory.
    if let Some(store) = lake.store() {
        return Err(store::OpenError::Lake(LakeError::WriteOnStore(store.url().to_string())).into());
    }
    let metrics = Arc::new(metrics::Metrics::default());
    let session = Session::for_network(&lake, options.router.as_ref(), options.query_memory)?;
    for add in &options.sql_functions {
        add(&session);
    }
    let session = Arc::new(match &options.queries_on {
        Some(connect) => connect(session)?,
        None => session,
    });
    let reloading = session.clone();
    let on_commit = Box::new(move || {
        if let Err(e) = reloading.reload_lake() {
            eprintln!("error: cannot read the lake's catalog after a commit: {e}");
        }
    });
    let intel_files = options.live.as_ref().filter(|live| !live.intel.is_empty()).map(|live| live.intel.clone());
    let live = match options.live {
        Some(live) => {
            let committed = alerts::committed(&lake)?;
            let live = Arc::new(start_live(live, &lake, committed)?);
            runtime.block_on(alerts::redeliver(&live, &session, committed)).inspect_err(|_| live.stop())?;
            Some(live)
        }
        None => None,
    };
    let store = store::Store::open(&lake, options.router.clone(), options.store.clone(), metrics.clone(), live.clone(), on_commit)
        .inspect_err(|_| stop_live(&live))?;
    session.reload_lake()?;
    let intel = match (&live, intel_files) {
        (Some(live), Some(files)) => {
            let mut intel = intel::StandingIntel::new(files);
            runtime.block_on(intel.refresh(&store.placer(), &session, live)).map_err(|e| {
                store.stop();
                stop_live(&Some(live.clone()));
                ServeError::Refused(format!("cannot load the indicators: {e}"))
            })?;
            Some(intel)
        }
        _ => None,
    };
    let (retro, scheduler) = match &live {
        Some(live) => {
            let thread_failed = |e| ServeError::Io("cannot start the standing rules' threads".into(), e);
            let handle = runtime.handle().clone();
            let retro = retro::RetroHunts::start(live.clone(), &lake, store.placer(), session.clone(), handle.clone()).map_err(thread_failed)?;
            let scheduler = scheduled::Scheduler::start(live.clone(), store.placer(), session.clone(), handle).map_err(thread_failed)?;
            (Some(retro), Some(scheduler))
        }
        None => (None, None),
    };
    let consumer = match options.kafka {
        Some(mut kafka) => {
            // The lake names the consumer: a server restarted on it is the same member.
            kafka.instance.get_or_insert_with(|| format!("hela-{}-{}", hostname(), cluster_uuid(&lake)));
            let what = format!("{} from {} as group {}", kafka.topics.join(", "), kafka.brokers, kafka.group);
            let consumer = KafkaIntake::start(kafka, store.intake()).inspect_err(|_| {
                store.stop();
                stop_live(&live);
            })?;
            eprintln!("consuming kafka topics {what}");
            Some(consumer)
        }
        None => None,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (pages, index) = match options.pages {
        Some(pages) => (pages.routes, Some(pages.index)),
        None => (axum::Router::new(), None),
    };
    let state = Arc::new(server::AppState {
        index,
        store,
        live: live.clone(),
        retro: retro.clone(),
        scheduler: scheduler.clone(),
        stopped: stopped.clone(),
        session,
        metrics,
        keys,
        limits: options.limits.clone(),
        name: hostname(),
        cluster_uuid: cluster_uuid(&lake),
        lake,
    });
    let served = runtime.block_on(async {
        let bind = |address: SocketAddr| async move {
            tokio::net::TcpListener::bind(address).await.map_err(|e| ServeError::Io(format!("cannot listen on {address}"), e))
        };
        let http_listener = bind(http[0]).await?;
        let flight_listener = match &flight {
            Some(flight) => Some(bind(flight[0]).await?),
            None => None,
        };
        let local = |listener: &tokio::net::TcpListener| listener.local_addr().map_err(|e| ServeError::Io("cannot read the bound address".into(), e));
        let bound = Bound { http: local(&http_listener)?, flight: flight_listener.as_ref().map(local).transpose()?, tls: tls.is_some() };
        let stopping = stop_signal();
        tokio::spawn(async move {
            stopping.await;
            let _ = stop.send(true);
        });
        if let Some(live) = live.clone() {
            if let Some(intel) = intel {
                tokio::spawn(intel.watch(state.store.placer(), state.session.clone(), live.clone()));
            }
            tokio::spawn(reload_on_hangup(live));
        }
        let flight_served = flight_listener.map(|listener| {
            let config = tls.as_ref().map(|(_, h2)| h2.clone());
            tokio::spawn(serve_flight(listener, config, state.clone(), stopped.clone()))
        });
        ready(bound);
        let http_served = serve_http(http_listener, tls.map(|(http1, _)| http1), state.clone(), pages, stopped).await;
        if let Some(flight_served) = flight_served {
            match flight_served.await {
                Ok(result) => result?,
                Err(e) => return Err(ServeError::Io("the Flight SQL server failed".into(), std::io::Error::other(e))),
            }
        }
        http_served
    });
    eprintln!("stopping: storing every acknowledged document in the lake");
    if let Some(consumer) = consumer {
        consumer.stop();
    }
    if let Some(retro) = &retro {
        retro.stop();
    }
    if let Some(scheduler) = &scheduler {
        scheduler.stop();
    }
    state.store.stop();
    stop_live(&state.live);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

/// Loads the standing rules and starts their sinks; `committed` is the number of the last
/// detection the lake holds.
fn start_live(options: LiveOptions, lake: &Lake, committed: u64) -> Result<Live, ServeError> {
    let rules = match options.rules.is_empty() {
        true => StandingRules::none(),
        false => StandingRules::load(options.rules, options.selection)?,
    };
    let book = rules.current();
    let sigma = book.engine.as_ref().map_or(0, |e| e.len());
    eprintln!("{sigma} Sigma rules and correlations standing, {} scheduled queries, {} rule files refused", book.scheduled.len(), book.rejected.len());
    let mut sinks = options.sinks;
    if sinks.undelivered.as_os_str().is_empty() {
        sinks.undelivered = lake.root().join("alerts-undelivered.jsonl");
    }
    sinks.cursors = lake.root().join(hela_lake::SINKS_DIR);
    let windows = alerts::checkpoint(lake, hela_live::WINDOWS_CHECKPOINT)?;
    Ok(Live::start(rules, &sinks, committed, (lake.root().join(hela_lake::LIVE_DIR).join("windows"), windows))?)
}

/// Delivers what the sinks hold and stops them.
fn stop_live(live: &Option<Arc<Live>>) {
    if let Some(live) = live {
        live.stop();
    }
}

/// Reloads the standing rules on each SIGHUP, listening from the call on (a SIGHUP before
/// would otherwise end the process).
fn reload_on_hangup(live: Arc<Live>) -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    async move {
        #[cfg(unix)]
        {
            let Ok(mut hangup) = hangup else { return };
            while hangup.recv().await.is_some() {
                let live = live.clone();
                let _ = tokio::task::spawn_blocking(move || live.reload()).await;
            }
        }
        #[cfg(not(unix))]
        drop(live);
    }
}

fn resolve(flag: &str, address: &str) -> Result<Vec<SocketAddr>, ServeError> {
    let addresses: Vec<SocketAddr> = address.to_socket_addrs().map_err(|e| ServeError::Io(format!("cannot resolve {flag} {address}"), e))?.collect();
    match addresses.is_empty() {
        true => Err(ServeError::Refused(format!("{flag} {address} names no address"))),
        false => Ok(addresses),
    }
}

/// Beyond loopback a server needs API keys and TLS: without them anyone on the network
/// could read every event or write into the lake, and keys would cross it in clear.
fn check_exposure(addresses: &[SocketAddr], auth: bool, tls: bool) -> Result<(), ServeError> {
    let Some(exposed) = addresses.iter().find(|a| !a.ip().is_loopback()) else { return Ok(()) };
    let missing = match (auth, tls) {
        (true, true) => return Ok(()),
        (false, false) => "API keys (--auth FILE) and TLS (--tls-cert FILE --tls-key FILE)",
        (false, true) => "API keys (--auth FILE)",
        (true, false) => "TLS (--tls-cert FILE --tls-key FILE)",
    };
    Err(ServeError::Refused(format!(
        "refusing to listen on {exposed}: beyond loopback hela serve needs {missing}, so that only key holders reach the lake and keys never cross the network in clear"
    )))
}

/// Serves the HTTP API on `listener` until `stopped`.
async fn serve_http(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    state: Arc<server::AppState>,
    pages: axum::Router<Arc<server::AppState>>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let app = server::routes(state, pages).into_make_service_with_connect_info::<server::Client>();
    let served = match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config).map_err(|e| ServeError::Io("cannot listen".into(), e))?;
            axum::serve(listener, app).with_graceful_shutdown(until_stopped(stopped)).await
        }
        None => axum::serve(server::TcpNoDelay(listener), app).with_graceful_shutdown(until_stopped(stopped)).await,
    };
    served.map_err(|e| ServeError::Io("the server failed".into(), e))
}

/// Serves Flight SQL on `listener` until `stopped`.
async fn serve_flight(
    listener: tokio::net::TcpListener,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    state: Arc<server::AppState>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let failed = |e: tonic::transport::Error| ServeError::Io("the Flight SQL server failed".into(), std::io::Error::other(e));
    let router = tonic::transport::Server::builder().add_service(flight::service(state));
    match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config).map_err(|e| ServeError::Io("cannot listen".into(), e))?;
            let incoming = futures::stream::unfold(listener, |mut listener| async move {
                let (connection, _) = listener.next().await?;
                Some((Ok::<_, std::io::Error>(connection), listener))
            });
            router.serve_with_incoming_shutdown(incoming, until_stopped(stopped)).await.map_err(failed)
        }
        None => {
            let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
            router.serve_with_incoming_shutdown(incoming, until_stopped(stopped)).await.map_err(failed)
        }
    }
}

/// Resolves once the stop signal has come.
pub(crate) async fn until_stopped(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Resolves on SIGTERM or SIGINT. It listens from the call, not from its first poll, so a
/// signal sent as soon as the server says it listens stops it cleanly.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listening = signal(SignalKind::terminate()).and_then(|terminate| Ok((terminate, signal(SignalKind::interrupt())?)));
        async move {
            match listening {
                Ok((mut terminate, mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(_) => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "hela".into())
}

/// A stable identifier of the lake, as a cluster's uuid.
fn cluster_uuid(lake: &Lake) -> String {
    let hash = blake3::hash(lake.root().to_string_lossy().as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &hash.as_bytes()[..16])
}
