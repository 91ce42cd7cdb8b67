//! API keys: who may ingest, query or administer the server. The keys file (`--auth FILE`)
//! holds each key's name, roles and the BLAKE3 hash of its secret, never the secret:
//!
//! ```toml
//! [[key]]
//! name = "winlogbeat"
//! roles = ["ingest"]
//! hash = "blake3:5f0c…"
//! ```
//!
//! A client presents `name:secret` as Elasticsearch's `Authorization: ApiKey
//! BASE64(name:secret)` or as HTTP Basic (user `name`, password `secret`). Secrets are 256
//! random bits made by `hela apikey add`, so a fast hash is safe; the comparison takes the
//! same time whatever the hashes.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use serde::{Deserialize, Serialize};

/// What a key may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Send documents (bulk and document requests, the start-up calls of shippers).
    Ingest,
    /// Run SQL, list tables and their schemas.
    Read,
    /// Everything, with the metrics.
    Admin,
}

impl Role {
    /// The role's name, as keys files and errors spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Role, String> {
        match name {
            "ingest" => Ok(Role::Ingest),
            "read" => Ok(Role::Read),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}`: ingest, read or admin")),
        }
    }
}

/// One key of the keys file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    pub name: String,
    pub roles: Vec<Role>,
    /// `blake3:` and the hex hash of the secret.
    pub hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysFile {
    #[serde(default)]
    key: Vec<Key>,
}

/// The keys a server accepts.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    keys: Vec<Key>,
}

/// A keys file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct KeysError {
    pub path: PathBuf,
    pub message: String,
}

/// Why a request is not let through.
#[derive(Debug, PartialEq)]
pub enum Denied {
    /// No credentials, or credentials that match no key (401).
    Unauthenticated,
    /// A valid key without the role (403), with the key's name.
    Forbidden(String),
}

impl Keys {
    /// Reads a keys file; a missing file is an error, an empty one accepts no one.
    pub fn load(path: &Path) -> Result<Keys, KeysError> {
        let error = |message: String| KeysError { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let file: KeysFile = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        for key in &file.key {
            if !key.hash.starts_with("blake3:") || key.hash.len() != "blake3:".len() + 64 {
                return Err(error(format!("key `{}`: hash is not `blake3:` and 64 hex digits", key.name)));
            }
        }
        Ok(Keys { keys: file.key })
    }

    /// Makes a new key with `roles`, adds it to the keys file at `path` (made if missing)
    /// and returns the credential to give the client: BASE64(name:secret).
    pub fn add(path: &Path, name: &str, roles: &[Role]) -> Result<String, KeysError> {
        let error = |message: String| KeysError { path: path.to_path_buf(), message };
        if name.is_empty() || name.contains(':') {
            return Err(error(format!("key name `{name}` must be non-empty without `:`")));
        }
        let mut file: KeysFile = match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| error(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => KeysFile::default(),
            Err(e) => return Err(error(e.to_string())),
        };
        if file.key.iter().any(|k| k.name == name) {
            return Err(error(format!("a key named `{name}` exists already")));
        }
        let mut random = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
            .map_err(|e| error(format!("cannot read random bytes: {e}")))?;
        let secret = URL_SAFE_NO_PAD.encode(random);
        file.key.push(Key { name: name.to_string(), roles: roles.to_vec(), hash: hash_of(&secret) });
        let text = toml::to_string(&file).map_err(|e| error(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| error(e.to_string()))?;
        Ok(STANDARD.encode(format!("{name}:{secret}")))
    }

    /// Checks an `Authorization` header's value for `role` (none: any key will do).
    pub fn check(&self, authorization: Option<&str>, role: Option<Role>) -> Result<(), Denied> {
        let (name, secret) = authorization.and_then(credentials).ok_or(Denied::Unauthenticated)?;
        let presented = blake3::hash(secret.as_bytes());
        let key = self
            .keys
            .iter()
            .filter(|k| k.name == name)
            .find(|k| blake3::Hash::from_hex(&k.hash["blake3:".len()..]).is_ok_and(|h| h == presented))
            .ok_or(Denied::Unauthenticated)?;
        match role.is_none_or(|role| key.roles.iter().any(|r| *r == role || *r == Role::Admin)) {
            true => Ok(()),
            false => Err(Denied::Forbidden(key.name.clone())),
        }
    }
}

fn hash_of(secret: &str) -> String {
    format!("blake3:{}", blake3::hash(secret.as_bytes()).to_hex())
}

/// Standard base64, with or without its padding (Go's Flight clients leave it out).
pub(crate) const LENIENT: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));

/// The name and secret of an `ApiKey` or `Basic` authorization.
fn credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("apikey") && !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(LENIENT.decode(encoded.trim()).ok()?).ok()?;
    let (name, secret) = decoded.split_once(':')?;
    Some((name.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_hashed_and_checked_by_role() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let shipper = Keys::add(&path, "winlogbeat", &[Role::Ingest]).unwrap();
        let hunter = Keys::add(&path, "hunter", &[Role::Read]).unwrap();
        let root = Keys::add(&path, "root", &[Role::Admin]).unwrap();
        assert!(Keys::add(&path, "hunter", &[Role::Read]).unwrap_err().message.contains("exists already"));
        let text = std::fs::read_to_string(&path).unwrap();
        let secret = String::from_utf8(STANDARD.decode(&shipper).unwrap()).unwrap().split_once(':').unwrap().1.to_string();
        assert!(!text.contains(&secret), "the secret is not stored");

        let keys = Keys::load(&path).unwrap();
        let api_key = |credential: &str| format!("ApiKey {credential}");
        assert_eq!(keys.check(Some(&api_key(&shipper)), Some(Role::Ingest)), Ok(()));
        assert_eq!(keys.check(Some(&api_key(&shipper)), Some(Role::Read)), Err(Denied::Forbidden("winlogbeat".into())));
        assert_eq!(keys.check(Some(&api_key(&hunter)), Some(Role::Read)), Ok(()));
        assert_eq!(keys.check(Some(&api_key(&root)), Some(Role::Ingest)), Ok(()), "admin may do everything");
        assert_eq!(keys.check(Some(&format!("Basic {hunter}")), Some(Role::Read)), Ok(()), "HTTP Basic: name and secret");
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(STANDARD.decode(&hunter).unwrap());
        assert_eq!(keys.check(Some(&format!("Basic {unpadded}")), Some(Role::Read)), Ok(()), "base64 without its padding");
        let wrong = STANDARD.encode(format!("hunter:{secret}"));
        assert_eq!(keys.check(Some(&api_key(&wrong)), Some(Role::Read)), Err(Denied::Unauthenticated), "another key's secret");
        assert_eq!(keys.check(None, Some(Role::Read)), Err(Denied::Unauthenticated));
        assert_eq!(keys.check(Some("Bearer x"), Some(Role::Read)), Err(Denied::Unauthenticated));
        assert_eq!(keys.check(Some("ApiKey !!!"), Some(Role::Read)), Err(Denied::Unauthenticated));
    }
}
