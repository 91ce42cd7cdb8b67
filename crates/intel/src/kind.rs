//! The kinds of indicator hela matches, and how each kind's values are compared.

use std::fmt;

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An IPv4 or IPv6 address, or a network of them in CIDR form (`10.0.0.0/8`).
    Ip,
    /// A domain name: it matches the domain and every name under it.
    Domain,
    /// A URL, compared without regard to the case of its scheme and host.
    Url,
    /// File hashes, compared without regard to case.
    Md5,
    Sha1,
    Sha256,
    /// A file's name (no directory), compared without regard to case.
    FileName,
}

/// Every kind, by the name the `indicators` table gives it.
pub const KINDS: [(Kind, &str); 7] = [
    (Kind::Ip, "ip"),
    (Kind::Domain, "domain"),
    (Kind::Url, "url"),
    (Kind::Md5, "md5"),
    (Kind::Sha1, "sha1"),
    (Kind::Sha256, "sha256"),
    (Kind::FileName, "file_name"),
];

impl Kind {
    /// The kind's name in the `indicators` table.
    pub fn name(self) -> &'static str {
        KINDS.iter().find(|(k, _)| *k == self).map(|(_, n)| *n).expect("every kind is named")
    }

    /// The kind named `name` (the table's names, and common others: `ipv4`, `sha-256`, ...).
    pub fn named(name: &str) -> Option<Kind> {
        let name = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match name.as_str() {
            "ip" | "ipv4" | "ipv6" | "cidr" | "ip_src" | "ip_dst" | "ipv4_addr" | "ipv6_addr" => Kind::Ip,
            "domain" | "hostname" | "domain_name" | "fqdn" => Kind::Domain,
            "url" | "uri" | "link" => Kind::Url,
            "md5" | "filehash_md5" => Kind::Md5,
            "sha1" | "sha_1" | "filehash_sha1" => Kind::Sha1,
            "sha256" | "sha_256" | "filehash_sha256" => Kind::Sha256,
            "file_name" | "filename" | "file" => Kind::FileName,
            _ => return None,
        })
    }

    /// `value` as this kind compares it, or why it is not one.
    pub fn normalise(self, value: &str) -> Result<String, String> {
        let value = value.trim();
        let hex = |len: usize| {
            if value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(value.to_ascii_lowercase())
            } else {
                Err(format!("`{value}` is not a {} ({len} hex digits)", self.name()))
            }
        };
        match self {
            Kind::Ip => crate::net::Network::parse(value).map(|n| n.to_string()),
            Kind::Domain => {
                let domain = value.trim_end_matches('.').to_ascii_lowercase();
                if domain.is_empty() || domain.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
                    return Err(format!("`{value}` is not a domain name"));
                }
                Ok(domain)
            }
            Kind::Url => url(value).ok_or_else(|| format!("`{value}` is not a URL (scheme://host/...)")),
            Kind::Md5 => hex(32),
            Kind::Sha1 => hex(40),
            Kind::Sha256 => hex(64),
            Kind::FileName => file_name(value).ok_or_else(|| format!("`{value}` is not a file name")),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A URL with its scheme and host in lower case, as URLs compare.
pub fn url(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once("://")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    if host.is_empty() {
        return None;
    }
    Some(format!("{}://{}{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), path))
}

/// The name of a file, without its directory (`\` or `/`), in lower case.
pub fn file_name(value: &str) -> Option<String> {
    let name = value.trim().rsplit(['\\', '/']).next()?.trim();
    (!name.is_empty()).then(|| name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_by_kind() {
        assert_eq!(Kind::Md5.normalise(" D41D8CD98F00B204E9800998ECF8427E ").unwrap(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(Kind::Sha1.normalise("abc").is_err());
        assert_eq!(Kind::Domain.normalise("Evil.Example.COM.").unwrap(), "evil.example.com");
        assert_eq!(Kind::Url.normalise("HTTP://Evil.com/Path?Q=1").unwrap(), "http://evil.com/Path?Q=1");
        assert_eq!(Kind::FileName.normalise(r"C:\Temp\Mimikatz.EXE").unwrap(), "mimikatz.exe");
        assert_eq!(Kind::named("FileHash-SHA256"), Some(Kind::Sha256));
        assert_eq!(Kind::named("IPv4"), Some(Kind::Ip));
        assert_eq!(Kind::named("mutex"), None);
    }
}
