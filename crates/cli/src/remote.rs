//! Asking a `hela serve` instead of reading a lake here: SQL results come back as an Arrow
//! IPC stream and are written with the same formats as local ones.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use serde_json::Value;
use ureq::tls::{PemItem, RootCerts, TlsConfig, parse_pem};

use crate::cli::ServerArgs;

/// A server to ask, with its key.
pub struct Remote {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Remote {
    /// The server `--server` names, if it does.
    pub fn of(args: &ServerArgs) -> anyhow::Result<Option<Remote>> {
        let Some(server) = &args.server else { return Ok(None) };
        let base = server.trim_end_matches('/').to_string();
        let mut config = ureq::Agent::config_builder().http_status_as_error(false).timeout_connect(Some(Duration::from_secs(10)));
        if let Some(ca) = &args.server_ca {
            config = config.tls_config(TlsConfig::builder().root_certs(trusted(ca)?).build());
        }
        Ok(Some(Remote { base, token: args.token.clone(), agent: config.build().into() }))
    }

    /// Runs `sql` on the server; its result's schema and a reader of its batches as they
    /// arrive.
    pub fn query(&self, sql: &str) -> anyhow::Result<(SchemaRef, impl Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>)> {
        let body = serde_json::json!({ "query": sql }).to_string();
        let mut request = self.agent.post(format!("{}/_sql?format=arrow", self.base)).header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("ApiKey {token}"));
        }
        let response = request.send(body.as_bytes()).map_err(|e| self.unreachable(e))?;
        let reader = self.body(response)?;
        let stream = StreamReader::try_new(reader, None).with_context(|| format!("{}: the answer is not an Arrow stream", self.base))?;
        Ok((stream.schema(), stream))
    }

    /// `GET path` as JSON.
    pub fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("ApiKey {token}"));
        }
        let response = request.call().map_err(|e| self.unreachable(e))?;
        let mut text = String::new();
        self.body(response)?.read_to_string(&mut text)?;
        serde_json::from_str(&text).with_context(|| format!("{}{path}: the answer is not JSON", self.base))
    }

    /// The response's body, or the server's error as an error.
    fn body(&self, response: ureq::http::Response<ureq::Body>) -> anyhow::Result<Box<dyn Read + Send>> {
        let status = response.status();
        let reader = response.into_body().into_reader();
        if status.is_success() {
            return Ok(Box::new(reader));
        }
        let mut text = String::new();
        reader.take(1 << 20).read_to_string(&mut text)?;
        let reason = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"]["reason"].as_str().map(str::to_string))
            .unwrap_or(text);
        bail!("{} answered {status}: {reason}", self.base)
    }

    fn unreachable(&self, error: ureq::Error) -> anyhow::Error {
        let hint = match error.to_string() {
            e if e.contains("CaUsedAsEndEntity") => {
                " (the server presents a CA's certificate: serve a server certificate, e.g. made with `openssl req -x509 -addext basicConstraints=critical,CA:FALSE`)"
            }
            e if e.contains("UnknownIssuer") => " (for a self-signed certificate, trust it with --server-ca FILE)",
            _ => "",
        };
        anyhow::anyhow!("cannot reach the hela server at {}: {error}{hint}", self.base)
    }
}

/// The certificates of a PEM file, to trust.
fn trusted(path: &Path) -> anyhow::Result<RootCerts> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read --server-ca {}", path.display()))?;
    let certificates = parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(certificate)) => Some(Ok(certificate)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--server-ca {}: not a PEM file", path.display()))?;
    if certificates.is_empty() {
        bail!("--server-ca {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display());
    }
    Ok(RootCerts::new_with_certs(&certificates))
}
