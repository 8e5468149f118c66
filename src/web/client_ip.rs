//! The client's address: the TCP peer, unless the peer is a trusted proxy, in
//! which case the right-most untrusted address of X-Forwarded-For. Forwarded
//! headers from anyone else are ignored (they are trivially forged).

use std::net::IpAddr;

use ipnet::IpNet;

/// All `X-Forwarded-For` header lines joined in order (a proxy may add a line
/// instead of extending the first one).
pub fn forwarded_for<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let joined = values.collect::<Vec<_>>().join(",");
    (!joined.is_empty()).then_some(joined)
}

pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let hops: Vec<IpAddr> = header
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .or(Some(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn several_header_lines_form_one_chain() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let chain = forwarded_for(["6.6.6.6", "198.51.100.7, 10.0.0.5"].into_iter());
        assert_eq!(
            resolve(Some(ip("10.0.0.2")), chain.as_deref(), &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(forwarded_for(std::iter::empty()), None);
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(Some(ip("203.0.113.9")), Some("1.2.3.4"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(
                Some(ip("10.0.0.2")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.5"),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            resolve(Some(ip("10.0.0.2")), None, &trusted),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            resolve(Some(ip("10.0.0.2")), Some("garbage"), &trusted),
            Some(ip("10.0.0.2"))
        );
    }
}
