//! TLS for both of the server's ports: a certificate chain and its private key from PEM
//! files (`--tls-cert`, `--tls-key`), and a listener that completes each client's handshake
//! on its own task, so a slow or silent client never holds up the others.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// A client that has not finished its handshake after this long is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes under way at once; more clients wait in the kernel's accept queue.
const MAX_HANDSHAKES: usize = 256;

/// The server's certificate and key files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// TLS files that cannot be used: which file, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsError {
    pub path: PathBuf,
    pub message: String,
}

/// The protocol a port speaks inside TLS, offered to clients by ALPN.
#[derive(Debug, Clone, Copy)]
pub enum Alpn {
    /// The HTTP port (Elasticsearch's API, SQL): HTTP/1.1.
    Http1,
    /// The Flight SQL port: gRPC over HTTP/2.
    H2,
}

impl TlsFiles {
    /// Reads the certificate chain and key and checks that they belong together.
    pub fn config(&self, alpn: Alpn) -> Result<Arc<ServerConfig>, TlsError> {
        let cert_error = |message: String| TlsError { path: self.cert.clone(), message };
        let key_error = |message: String| TlsError { path: self.key.clone(), message };
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| cert_error(pem_message(&self.cert, e)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cert_error(pem_message(&self.cert, e)))?;
        if chain.is_empty() {
            return Err(cert_error("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| key_error(pem_message(&self.key, e)))?;
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| cert_error(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| key_error(format!("cannot serve this key with {}: {e}", self.cert.display())))?;
        config.alpn_protocols = match alpn {
            Alpn::Http1 => vec![b"http/1.1".to_vec()],
            Alpn::H2 => vec![b"h2".to_vec()],
        };
        Ok(Arc::new(config))
    }
}

fn pem_message(path: &Path, error: tokio_rustls::rustls::pki_types::pem::Error) -> String {
    use tokio_rustls::rustls::pki_types::pem::Error;
    match error {
        Error::Io(e) => e.to_string(),
        Error::NoItemsFound => format!("{} holds no PEM private key (-----BEGIN PRIVATE KEY-----)", path.display()),
        other => format!("not a PEM file: {other:?}"),
    }
}

/// Connections whose TLS handshake has completed, from a TCP listener.
pub struct TlsListener {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` in a task of its own until this listener is dropped.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (sender, connections) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let permit = tokio::select! {
                    _ = sender.closed() => return,
                    permit = handshakes.clone().acquire_owned() => match permit { Ok(permit) => permit, Err(_) => return },
                };
                let (stream, client) = tokio::select! {
                    _ = sender.closed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: wait for some to close.
                            eprintln!("warning: cannot accept a connection on {local}: {e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            drop(permit);
                            let _ = sender.send((tls, client)).await;
                        }
                        Ok(Err(e)) => eprintln!("warning: TLS handshake with {client} failed: {e}"),
                        Err(_) => eprintln!("warning: TLS handshake with {client} did not finish within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                    }
                });
            }
        });
        Ok(TlsListener { connections, local })
    }

    /// The next connection, or none once the accepting task has stopped.
    pub async fn next(&mut self) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
        self.connections.recv().await
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.next().await {
            Some(connection) => connection,
            // The accepting task only stops once this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
