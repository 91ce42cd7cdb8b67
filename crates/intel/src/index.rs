//! The indicators of a query in one index, so each event value is looked up, not compared
//! with every indicator: addresses by network (a lookup per prefix length the indicators
//! use), domains by the name and each parent domain, the rest by exact value.

use std::collections::{BTreeMap, HashMap};

use crate::kind::{Kind, file_name, url};
use crate::net::{Network, address, mask};

/// Indicators by value; each entry is the indicator's row in its table.
#[derive(Debug, Default)]
pub struct Index {
    networks: BTreeMap<u8, HashMap<u128, Vec<u32>>>,
    exact: HashMap<(Kind, String), Vec<u32>>,
    len: usize,
}

/// What an event field holds, so that it is looked up as the right kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An IP address.
    Address,
    /// A host or domain name.
    Domain,
    /// A URL.
    Url,
    /// A hash, or Sysmon's list of them (`SHA1=...,MD5=...,SHA256=...`).
    Hashes,
    /// A file's path or name.
    File,
    /// Anything: looked up as every kind its text can be.
    Any,
}

impl Index {
    /// Adds the indicator at `row`; false when `value` is not of `kind`.
    pub fn add(&mut self, row: u32, kind: Kind, value: &str) -> bool {
        let Ok(value) = kind.normalise(value) else { return false };
        if kind == Kind::Ip {
            let Ok(network) = Network::parse(&value) else { return false };
            self.networks.entry(network.bits).or_default().entry(network.start).or_default().push(row);
        } else {
            self.exact.entry((kind, value)).or_default().push(row);
        }
        self.len += 1;
        true
    }

    /// The number of indicators held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no indicator is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds to `found` the rows of the indicators `value` matches, read as `field` holds it.
    pub fn lookup(&self, field: FieldKind, value: &str, found: &mut Vec<u32>) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        match field {
            FieldKind::Address => self.address(value, found),
            FieldKind::Domain => self.domain(value, found),
            FieldKind::Url => self.exact(Kind::Url, url(value), found),
            FieldKind::Hashes => self.hashes(value, found),
            FieldKind::File => self.exact(Kind::FileName, file_name(value), found),
            FieldKind::Any => {
                self.address(value, found);
                self.domain(value, found);
                self.exact(Kind::Url, url(value), found);
                self.hashes(value, found);
                self.exact(Kind::FileName, file_name(value), found);
            }
        }
    }

    fn exact(&self, kind: Kind, value: Option<String>, found: &mut Vec<u32>) {
        if let Some(rows) = value.and_then(|v| self.exact.get(&(kind, v))) {
            found.extend_from_slice(rows);
        }
    }

    fn address(&self, value: &str, found: &mut Vec<u32>) {
        let Some(number) = address(value) else { return };
        for (&bits, networks) in &self.networks {
            if let Some(rows) = networks.get(&mask(number, bits)) {
                found.extend_from_slice(rows);
            }
        }
    }

    /// The name and every parent domain (`a.evil.com`, `evil.com`, `com`).
    fn domain(&self, value: &str, found: &mut Vec<u32>) {
        let name = value.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = name.as_str();
        loop {
            if let Some(rows) = self.exact.get(&(Kind::Domain, rest.to_string())) {
                found.extend_from_slice(rows);
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => return,
            }
        }
    }

    /// A hash by its length, or each `ALGORITHM=hash` of a list.
    fn hashes(&self, value: &str, found: &mut Vec<u32>) {
        for part in value.split(',') {
            let (algorithm, hash) = match part.split_once('=') {
                Some((algorithm, hash)) => (Some(algorithm.trim().to_ascii_uppercase()), hash.trim()),
                None => (None, part.trim()),
            };
            let kind = match (algorithm.as_deref(), hash.len()) {
                (Some("MD5") | None, 32) => Kind::Md5,
                (Some("SHA1") | None, 40) => Kind::Sha1,
                (Some("SHA256") | None, 64) => Kind::Sha256,
                _ => continue,
            };
            self.exact(kind, Some(hash.to_ascii_lowercase()), found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        let mut index = Index::default();
        for (row, (kind, value)) in [
            (Kind::Ip, "10.0.0.0/8"),
            (Kind::Ip, "10.1.2.3"),
            (Kind::Ip, "2001:db8::/32"),
            (Kind::Domain, "evil.com"),
            (Kind::Md5, "D41D8CD98F00B204E9800998ECF8427E"),
            (Kind::FileName, "mimikatz.exe"),
            (Kind::Url, "http://evil.com/a"),
        ]
        .into_iter()
        .enumerate()
        {
            assert!(index.add(row as u32, kind, value));
        }
        assert!(!index.add(9, Kind::Sha1, "not a hash"));
        index
    }

    fn lookup(index: &Index, field: FieldKind, value: &str) -> Vec<u32> {
        let mut found = Vec::new();
        index.lookup(field, value, &mut found);
        found.sort();
        found
    }

    #[test]
    fn each_kind_matches_as_its_values_compare() {
        let index = index();
        assert_eq!(index.len(), 7);
        assert_eq!(lookup(&index, FieldKind::Address, "10.1.2.3"), [0, 1]);
        assert_eq!(lookup(&index, FieldKind::Address, "10.9.9.9"), [0]);
        assert_eq!(lookup(&index, FieldKind::Address, "::ffff:10.9.9.9"), [0]);
        assert_eq!(lookup(&index, FieldKind::Address, "2001:db8::1"), [2]);
        assert_eq!(lookup(&index, FieldKind::Address, "11.0.0.1"), [] as [u32; 0]);
        assert_eq!(lookup(&index, FieldKind::Domain, "A.B.Evil.COM."), [3]);
        assert_eq!(lookup(&index, FieldKind::Domain, "notevil.com"), [] as [u32; 0]);
        assert_eq!(lookup(&index, FieldKind::Hashes, "SHA1=AAAA,MD5=d41d8cd98f00b204e9800998ecf8427e,IMPHASH=X"), [4]);
        assert_eq!(lookup(&index, FieldKind::File, r"C:\Users\x\MIMIKATZ.exe"), [5]);
        assert_eq!(lookup(&index, FieldKind::Url, "HTTP://EVIL.COM/a"), [6]);
        assert_eq!(lookup(&index, FieldKind::Url, "http://evil.com/A"), [] as [u32; 0]);
        assert_eq!(lookup(&index, FieldKind::Any, "evil.com"), [3]);
    }
}
