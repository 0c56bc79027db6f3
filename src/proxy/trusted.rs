//! `--trusted-proxy`: the addresses (an IP, or a CIDR range) whose connections must
//! start with a PROXY header.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One trusted address or range, e.g. `10.0.0.5`, `10.0.0.0/24`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    /// Whether `ip` is in this range; an IPv4 address seen as `::ffff:a.b.c.d` (a
    /// dual-stack listener) counts as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Whether `ip` is one of `trusted`.
pub fn is_trusted(trusted: &[ProxyNet], ip: IpAddr) -> bool {
    trusted.iter().any(|net| net.contains(ip))
}

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("\"{text}\" is not an IP address or a CIDR range like 10.0.0.0/24");
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let most = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(bad)?,
            None => most,
        };
        Ok(ProxyNet { addr, prefix })
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = if self.addr.is_ipv4() { 32 } else { 128 };
        match self.prefix == whole {
            true => write!(f, "{}", self.addr),
            false => write!(f, "{}/{}", self.addr, self.prefix),
        }
    }
}

impl serde::Serialize for ProxyNet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> ProxyNet {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges() {
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!net("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(net("10.1.0.0/16").contains(ip("10.1.200.3")));
        assert!(!net("10.1.0.0/16").contains(ip("10.2.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.1")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!net("2001:db8::/32").contains(ip("127.0.0.1")));
        assert!(net("::/0").contains(ip("::1")));
        // A dual-stack listener sees IPv4 peers as mapped IPv6 addresses.
        assert!(net("192.0.2.1").contains(ip("::ffff:192.0.2.1")));
        assert!(is_trusted(
            &[net("10.0.0.1"), net("10.0.0.2")],
            ip("10.0.0.2")
        ));
        assert!(!is_trusted(&[], ip("10.0.0.2")));
    }

    #[test]
    fn parse_and_show() {
        for (text, shown) in [
            ("10.0.0.1", "10.0.0.1"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.1/32", "10.0.0.1"),
            ("::1", "::1"),
            ("2001:db8::/32", "2001:db8::/32"),
        ] {
            assert_eq!(net(text).to_string(), shown);
        }
        for bad in [
            "",
            "haproxy",
            "10.0.0.0/33",
            "10.0.0.1/x",
            "::/129",
            "10.0.0.1:80",
        ] {
            let err = bad.parse::<ProxyNet>().unwrap_err();
            assert!(err.contains("CIDR"), "{err}");
        }
    }
}
