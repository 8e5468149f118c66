//! What counts as "the same network" for the new-network signal, and
//! membership in the configured allow and deny lists.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// IPv4 addresses are grouped by /24 and IPv6 by /48: a household or office
/// keeps its prefix while single addresses change (DHCP leases, IPv6 privacy
/// addresses), so remembering exact addresses would flag every reconnect.
const V4_PREFIX: u8 = 24;
const V6_PREFIX: u8 = 48;

/// The network an address belongs to, as it is stored among a user's known
/// networks: "203.0.113.0/24" or "2001:db8:1::/48". An IPv4-mapped IPv6
/// address (what a dual-stack socket reports for an IPv4 client) is the IPv4
/// address it carries, so one client does not look like two networks.
pub fn prefix(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => Ipv4Net::new(v4, V4_PREFIX)
            .expect("24 is a valid IPv4 prefix length")
            .trunc()
            .to_string(),
        IpAddr::V6(v6) => Ipv6Net::new(v6, V6_PREFIX)
            .expect("48 is a valid IPv6 prefix length")
            .trunc()
            .to_string(),
    }
}

/// Whether `ip` lies in any of `nets`. An IPv4-mapped IPv6 address matches
/// both an IPv4 entry and an entry written in its mapped form.
pub fn contains_any(nets: &[IpNet], ip: IpAddr) -> bool {
    let canonical = ip.to_canonical();
    nets.iter()
        .any(|net| net.contains(&ip) || net.contains(&canonical))
}
