//! IP addresses and CIDR networks, IPv4 and IPv6 in one space (IPv4 as `::ffff:a.b.c.d`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A network: an address and how many of its leading bits are the network's (all of them
/// for one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    /// The first address, as an IPv6 number (IPv4 mapped into `::ffff:0:0/96`).
    pub start: u128,
    /// Leading bits that are the network's, of 128.
    pub bits: u8,
    v4: bool,
}

impl Network {
    /// Reads `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32` or `::1`; host bits under the mask
    /// are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let address: IpAddr = address.trim_matches(['[', ']']).parse().map_err(|_| format!("`{text}` is not an IP address or CIDR network"))?;
        let (number, width, v4) = match address {
            IpAddr::V4(a) => (u128::from(a.to_ipv6_mapped()), 32u8, true),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => (u128::from(v4.to_ipv6_mapped()), 32, true),
                None => (u128::from(a), 128, false),
            },
        };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= width).ok_or_else(|| format!("`{text}`: the prefix must be 0 to {width}"))?,
            None => width,
        };
        let bits = prefix + (128 - width);
        Ok(Network { start: mask(number, bits), bits, v4 })
    }

    /// Whether `address` (an IPv6 number, as [`address`] gives) is in the network.
    pub fn contains(&self, address: u128) -> bool {
        mask(address, self.bits) == self.start
    }
}

/// `number` with all but its first `bits` bits cleared.
pub fn mask(number: u128, bits: u8) -> u128 {
    match bits {
        0 => 0,
        b => number & (u128::MAX << (128 - b as u32)),
    }
}

/// An address as an IPv6 number (IPv4 mapped), or None when `text` is not one. A port or
/// zone after it (`1.2.3.4:443`, `fe80::1%eth0`) is not read.
pub fn address(text: &str) -> Option<u128> {
    let text = text.trim();
    let address: IpAddr = text.parse().ok()?;
    Some(match address {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    })
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shown, width) = match self.v4 {
            true => (IpAddr::V4(Ipv4Addr::from((self.start & 0xffff_ffff) as u32)), 32),
            false => (IpAddr::V6(Ipv6Addr::from(self.start)), 128),
        };
        let prefix = self.bits - (128 - width);
        match prefix == width {
            true => write!(f, "{shown}"),
            false => write!(f, "{shown}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_hold_their_addresses_in_both_families() {
        let net = Network::parse("10.1.2.3/8").unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
        assert!(net.contains(address("10.200.0.1").unwrap()));
        assert!(!net.contains(address("11.0.0.1").unwrap()));
        assert!(net.contains(address("::ffff:10.0.0.9").unwrap()));
        let v6 = Network::parse("2001:DB8::/32").unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
        assert!(v6.contains(address("2001:db8:1::5").unwrap()));
        assert_eq!(Network::parse("1.2.3.4").unwrap().to_string(), "1.2.3.4");
        assert_eq!(Network::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert!(Network::parse("1.2.3.4/33").is_err());
        assert!(Network::parse("example.com").is_err());
        assert_eq!(address("1.2.3.4:80"), None);
    }
}
