//! Where Ward may fetch a client's key set (or a pairwise client's sector
//! document) from: the URL's form, and the addresses its host may resolve to
//! (the server-side request forgery guard).
//!
//! A `jwks_uri` or `sector_identifier_uri` is a URL that a client (or whoever
//! registered it) chose, and Ward fetches it from inside the hospital's
//! network. Unless the development switch `clients.allow_insecure_fetch`
//! (also spelled `allow_insecure_jwks_uri`) is on, it must be `https` and its
//! host must resolve only to public unicast addresses: never loopback,
//! private (RFC 1918, RFC 4193), shared (RFC 6598), link-local (where cloud
//! metadata services live), multicast, unspecified, or reserved for
//! documentation or the future. The fetcher connects to exactly the addresses
//! checked here (`super::fetch`), so a name that resolves differently the
//! second time (DNS rebinding) changes nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest `jwks_uri` Ward registers.
pub const MAX_URI_LENGTH: usize = 2048;

/// Check a `jwks_uri` as registered and before each fetch; the parsed URL, or why not.
pub fn check_uri(uri: &str, allow_insecure: bool) -> Result<Url, &'static str> {
    if uri.len() > MAX_URI_LENGTH {
        return Err("is longer than 2048 characters");
    }
    let url = Url::parse(uri).map_err(|_| "is not an absolute URL")?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => {
            return Err(
                "must be https (http only with the development switch clients.allow_insecure_fetch)",
            );
        }
        _ => return Err("must be an https URL"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    let refused = |ip: IpAddr| !may_connect(ip, allow_insecure);
    match url.host() {
        None => return Err("has no host"),
        Some(Host::Ipv4(ip)) if refused(IpAddr::V4(ip)) => return Err(ADDRESS_REFUSED),
        Some(Host::Ipv6(ip)) if refused(IpAddr::V6(ip)) => return Err(ADDRESS_REFUSED),
        Some(Host::Domain(d)) if !allow_insecure && is_local_name(d) => {
            return Err(ADDRESS_REFUSED);
        }
        Some(_) => {}
    }
    Ok(url)
}

const ADDRESS_REFUSED: &str = "names a loopback, private, link-local or otherwise non-public address (allowed only with the development switch clients.allow_insecure_fetch)";

/// `localhost` and its subdomains always resolve to loopback (RFC 6761 §6.3).
fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Whether Ward may connect to `ip` for a key set. With the development
/// switch on, loopback and private addresses are allowed too; unspecified
/// and multicast addresses never are (nothing serves a key set there).
pub fn may_connect(ip: IpAddr, allow_insecure: bool) -> bool {
    let ip = canonical(ip);
    if ip.is_unspecified() || ip.is_multicast() || is_broadcast(ip) {
        return false;
    }
    allow_insecure || is_public(ip)
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

/// A public unicast address: none of the special-purpose ranges of the IANA
/// registries (RFC 6890) that a key set has no business living in.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network" (RFC 791)
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || (a == 198 && (18..20).contains(&b)) // benchmarking (RFC 2544)
        || a >= 240) // reserved (RFC 1112)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // An IPv4 address inside an IPv6 one (NAT64 64:ff9b::/96, 6to4 2002::/16)
    // is judged as that IPv4 address: it is where the packets go.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if s[0] == 0x2002 {
        let [_, _, a, b, c, d, ..] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated), ::/96
        || (s[0] & 0xfe00) == 0xfc00 // unique local (RFC 4193)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation (RFC 3849)
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments, Teredo
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only (RFC 6666)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)) // local NAT64 (RFC 8215)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "100.63.255.255",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(public)), "{public}");
            assert!(may_connect(ip(public), false), "{public}");
        }
        for private in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "100::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
            assert!(!may_connect(ip(private), false), "{private}");
        }
    }

    #[test]
    fn the_development_switch_allows_loopback_and_private_but_never_unspecified_or_multicast() {
        for allowed in ["127.0.0.1", "::1", "10.1.2.3", "192.168.0.10", "fd00::5"] {
            assert!(may_connect(ip(allowed), true), "{allowed}");
        }
        for never in [
            "0.0.0.0",
            "::",
            "224.0.0.251",
            "ff02::fb",
            "255.255.255.255",
        ] {
            assert!(!may_connect(ip(never), true), "{never}");
        }
    }

    #[test]
    fn a_jwks_uri_is_https_without_credentials_or_fragment() {
        assert!(check_uri("https://keys.example.org/jwks.json", false).is_ok());
        assert!(check_uri("https://93.184.215.14/jwks", false).is_ok());
        for (bad, needle) in [
            ("http://keys.example.org/jwks", "https"),
            ("ftp://keys.example.org/jwks", "https"),
            ("keys.example.org/jwks", "absolute"),
            ("https://user:pw@keys.example.org/jwks", "credentials"),
            ("https://keys.example.org/jwks#k", "fragment"),
            ("https://127.0.0.1/jwks", "loopback"),
            ("https://[::1]/jwks", "loopback"),
            ("https://10.0.0.8/jwks", "private"),
            ("https://169.254.169.254/latest", "link-local"),
            ("https://[::ffff:7f00:1]/jwks", "loopback"),
            ("https://localhost/jwks", "loopback"),
            ("https://a.localhost./jwks", "loopback"),
            ("https://0x7f.1/jwks", "loopback"),
        ] {
            let why = check_uri(bad, false).unwrap_err();
            assert!(why.contains(needle), "{bad}: {why}");
        }
        assert!(check_uri(&format!("https://k.example/{}", "a".repeat(2048)), false).is_err());
        // The development switch: http and loopback, still no credentials.
        assert!(check_uri("http://127.0.0.1:8081/jwks", true).is_ok());
        assert!(check_uri("http://localhost/jwks", true).is_ok());
        assert!(check_uri("http://u:p@127.0.0.1/jwks", true).is_err());
        assert!(check_uri("https://0.0.0.0/jwks", true).is_err());
    }
}
