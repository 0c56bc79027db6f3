//! The PROXY protocol header, pure: framing (how many bytes, within which bounds) is
//! ours, the two formats are parsed by the `ppp` crate. No I/O here; the unit tests
//! feed bytes.

use std::net::SocketAddr;

use ppp::v1::Addresses as V1Addresses;
use ppp::v2::{Addresses as V2Addresses, Command};

/// The v2 (binary) header starts with these 12 bytes.
pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The v1 (text) header starts with these 6 bytes.
pub const V1_PREFIX: &[u8; 6] = b"PROXY ";
/// The longest v1 header the protocol allows, `\r\n` included.
pub const V1_MAX_BYTES: usize = 107;
/// The longest v2 header we take: 16 fixed bytes, 36 of IPv6 addresses, and room for
/// the TLVs a load balancer adds (HAProxy's are far below this). Longer is refused.
pub const V2_MAX_BYTES: usize = 536;
/// The most bytes read while looking for a header.
pub const MAX_HEADER_BYTES: usize = V2_MAX_BYTES;

/// Whose address a complete header gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The client's own address (v1 `TCP4`/`TCP6`, v2 `PROXY` over IPv4/IPv6).
    Client(SocketAddr),
    /// None: the proxy speaks for itself (v2 `LOCAL`, e.g. a health check; v1
    /// `UNKNOWN`; v2 with an unspecified or UNIX address). The proxy's address is used.
    Proxy,
}

/// What the bytes read so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A header may still come: read more.
    Incomplete,
    /// A header of `len` bytes; what follows it belongs to SSH.
    Header { source: Source, len: usize },
    /// Not a header, or a bad one: more bytes would not help.
    Invalid(HeaderError),
}

/// Why a connection from a trusted proxy is refused before SSH starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("no PROXY header")]
    Missing,
    #[error("PROXY header longer than {0} bytes")]
    TooLong(usize),
    #[error("malformed PROXY header ({0})")]
    Malformed(String),
    #[error("closed in the middle of its PROXY header")]
    Truncated,
    #[error("no complete PROXY header within {0} s")]
    TimedOut(u64),
    #[error("a PROXY header from an address that is not a trusted proxy (--trusted-proxy)")]
    Untrusted,
    /// Closed (or cut by the server) before sending a byte: a TCP health check, a port
    /// scan. Not logged, like any connection that never spoke.
    #[error("closed before sending anything")]
    Closed,
}

impl HeaderError {
    /// Whether this is worth a line in `server.txt`.
    pub fn is_logged(&self) -> bool {
        *self != HeaderError::Closed
    }
}

/// Whether the first bytes of a connection are a PROXY header's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// They start with a whole signature.
    Header,
    /// They can be nothing else (an SSH client starts `SSH-`).
    NotHeader,
    /// Too few bytes to tell.
    Undecided,
}

/// The longest signature: more bytes never need holding to tell.
pub const SIGNATURE_MAX_BYTES: usize = V2_SIGNATURE.len();

/// Tells from the first bytes whether a PROXY header is coming.
pub fn signature(bytes: &[u8]) -> Signature {
    let mut undecided = false;
    for sig in [&V1_PREFIX[..], &V2_SIGNATURE[..]] {
        let n = bytes.len().min(sig.len());
        if bytes[..n] == sig[..n] {
            if n == sig.len() {
                return Signature::Header;
            }
            undecided = true;
        }
    }
    match undecided {
        true => Signature::Undecided,
        false => Signature::NotHeader,
    }
}

/// Parses the header at the start of `buf`, never looking past the size bounds.
pub fn parse(buf: &[u8]) -> Parsed {
    match signature(buf) {
        Signature::Undecided => Parsed::Incomplete,
        Signature::NotHeader => Parsed::Invalid(HeaderError::Missing),
        Signature::Header if buf.starts_with(V2_SIGNATURE) => parse_v2(buf),
        Signature::Header => parse_v1(buf),
    }
}

fn parse_v2(buf: &[u8]) -> Parsed {
    let Some(length) = buf.get(14..16) else {
        return Parsed::Incomplete;
    };
    let len = 16 + usize::from(u16::from_be_bytes([length[0], length[1]]));
    if len > V2_MAX_BYTES {
        return Parsed::Invalid(HeaderError::TooLong(V2_MAX_BYTES));
    }
    let Some(header) = buf.get(..len) else {
        return Parsed::Incomplete;
    };
    match ppp::v2::Header::try_from(header) {
        Ok(header) => {
            let source = match (header.command, header.addresses) {
                (Command::Local, _) => Source::Proxy,
                (Command::Proxy, V2Addresses::IPv4(a)) => {
                    Source::Client(SocketAddr::from((a.source_address, a.source_port)))
                }
                (Command::Proxy, V2Addresses::IPv6(a)) => {
                    Source::Client(SocketAddr::from((a.source_address, a.source_port)))
                }
                (Command::Proxy, V2Addresses::Unspecified | V2Addresses::Unix(_)) => Source::Proxy,
            };
            Parsed::Header { source, len }
        }
        Err(e) => Parsed::Invalid(HeaderError::Malformed(e.to_string())),
    }
}

fn parse_v1(buf: &[u8]) -> Parsed {
    let window = &buf[..buf.len().min(V1_MAX_BYTES)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return match buf.len() >= V1_MAX_BYTES {
            true => Parsed::Invalid(HeaderError::TooLong(V1_MAX_BYTES)),
            false => Parsed::Incomplete,
        };
    };
    let len = end + 2;
    match ppp::v1::Header::try_from(&buf[..len]) {
        Ok(header) => {
            let source = match header.addresses {
                V1Addresses::Tcp4(a) => {
                    Source::Client(SocketAddr::from((a.source_address, a.source_port)))
                }
                V1Addresses::Tcp6(a) => {
                    Source::Client(SocketAddr::from((a.source_address, a.source_port)))
                }
                V1Addresses::Unknown => Source::Proxy,
            };
            Parsed::Header { source, len }
        }
        Err(e) => Parsed::Invalid(HeaderError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(command: u8, family: u8, addresses: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.push(0x20 | command);
        out.push(family);
        out.extend((addresses.len() as u16).to_be_bytes());
        out.extend(addresses);
        out
    }

    fn client(addr: &str, len: usize) -> Parsed {
        Parsed::Header {
            source: Source::Client(addr.parse().unwrap()),
            len,
        }
    }

    #[test]
    fn v1_tcp4_and_tcp6_give_the_source_and_leave_what_follows() {
        let line = b"PROXY TCP4 192.0.2.7 10.0.0.1 51234 9999\r\n";
        let mut buf = line.to_vec();
        buf.extend(b"SSH-2.0-OpenSSH\r\n");
        assert_eq!(parse(&buf), client("192.0.2.7:51234", line.len()));
        let line = b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 9999\r\n";
        assert_eq!(parse(line), client("[2001:db8::7]:40000", line.len()));
    }

    #[test]
    fn v2_ipv4_and_ipv6_give_the_source() {
        let mut addresses = vec![192, 0, 2, 9, 10, 0, 0, 1];
        addresses.extend(40001u16.to_be_bytes());
        addresses.extend(9999u16.to_be_bytes());
        let mut buf = v2(1, 0x11, &addresses);
        let len = buf.len();
        buf.extend(b"SSH-2.0-x\r\n");
        assert_eq!(parse(&buf), client("192.0.2.9:40001", len));

        let mut addresses = "2001:db8::9"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .to_vec();
        addresses.extend([0u8; 16]);
        addresses.extend(40002u16.to_be_bytes());
        addresses.extend(9999u16.to_be_bytes());
        let buf = v2(1, 0x21, &addresses);
        assert_eq!(parse(&buf), client("[2001:db8::9]:40002", buf.len()));
    }

    #[test]
    fn v2_tlvs_are_skipped() {
        let mut addresses = vec![192, 0, 2, 9, 10, 0, 0, 1, 0, 80, 0, 81];
        addresses.extend([0x04, 0, 3, 1, 2, 3]); // a NOOP TLV
        let buf = v2(1, 0x11, &addresses);
        assert_eq!(parse(&buf), client("192.0.2.9:80", buf.len()));
    }

    #[test]
    fn local_and_unknown_mean_the_proxy_itself() {
        let local = v2(0, 0x00, &[]);
        let proxy = Parsed::Header {
            source: Source::Proxy,
            len: 16,
        };
        assert_eq!(parse(&local), proxy);
        let unknown = b"PROXY UNKNOWN\r\n";
        assert_eq!(
            parse(unknown),
            Parsed::Header {
                source: Source::Proxy,
                len: unknown.len()
            }
        );
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let v1 = b"PROXY TCP4 192.0.2.7 10.0.0.1 51234 9999\r\n".to_vec();
        let v2 = v2(1, 0x11, &[192, 0, 2, 9, 10, 0, 0, 1, 0, 80, 0, 81]);
        for whole in [v1, v2] {
            for cut in 0..whole.len() {
                assert_eq!(parse(&whole[..cut]), Parsed::Incomplete, "{cut}");
            }
        }
    }

    #[test]
    fn oversized_headers_are_refused_at_the_bound() {
        let mut endless = b"PROXY TCP4 ".to_vec();
        endless.resize(V1_MAX_BYTES, b'1');
        assert_eq!(
            parse(&endless),
            Parsed::Invalid(HeaderError::TooLong(V1_MAX_BYTES))
        );
        // A v2 length field of 65535 is refused from the first 16 bytes.
        let mut huge = V2_SIGNATURE.to_vec();
        huge.extend([0x21, 0x11, 0xff, 0xff]);
        assert_eq!(
            parse(&huge),
            Parsed::Invalid(HeaderError::TooLong(V2_MAX_BYTES))
        );
        let just_fits = v2(0, 0x00, &vec![0; V2_MAX_BYTES - 16]);
        assert!(matches!(parse(&just_fits), Parsed::Header { .. }));
        let one_more = v2(0, 0x00, &vec![0; V2_MAX_BYTES - 15]);
        assert!(matches!(parse(&one_more), Parsed::Invalid(_)));
    }

    #[test]
    fn garbage_and_ssh_are_not_headers() {
        assert_eq!(
            parse(b"SSH-2.0-OpenSSH_9.2\r\n"),
            Parsed::Invalid(HeaderError::Missing)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1"),
            Parsed::Invalid(HeaderError::Missing)
        );
        for bad in [
            &b"PROXY TCP4 banana 10.0.0.1 1 2\r\n"[..],
            b"PROXY TCP9 1.2.3.4 1.2.3.4 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n",
        ] {
            assert!(
                matches!(parse(bad), Parsed::Invalid(HeaderError::Malformed(_))),
                "{bad:?}"
            );
        }
        // Version 3, and command 7.
        let mut v3 = v2(1, 0x11, &[0; 12]);
        v3[12] = 0x31;
        assert!(matches!(
            parse(&v3),
            Parsed::Invalid(HeaderError::Malformed(_))
        ));
        let mut bad_command = v2(1, 0x11, &[0; 12]);
        bad_command[12] = 0x27;
        assert!(matches!(
            parse(&bad_command),
            Parsed::Invalid(HeaderError::Malformed(_))
        ));
        // An IPv4 header too short for its addresses.
        let short = v2(1, 0x11, &[1, 2, 3]);
        assert!(matches!(
            parse(&short),
            Parsed::Invalid(HeaderError::Malformed(_))
        ));
    }

    #[test]
    fn signatures_are_told_from_the_fewest_bytes() {
        assert_eq!(signature(b""), Signature::Undecided);
        assert_eq!(signature(b"S"), Signature::NotHeader);
        assert_eq!(signature(b"PROX"), Signature::Undecided);
        assert_eq!(signature(b"PROXY "), Signature::Header);
        assert_eq!(signature(b"PROXX"), Signature::NotHeader);
        assert_eq!(signature(b"\r\n\r\n\0"), Signature::Undecided);
        assert_eq!(signature(&V2_SIGNATURE[..]), Signature::Header);
        assert_eq!(signature(b"\r\n\r\nX"), Signature::NotHeader);
    }
}
