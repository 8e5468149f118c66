//! Redirect URI matching: exact string comparison (RFC 9700 §2.1, OIDC Core
//! §3.1.2.1), except that the port of a loopback IP redirect may vary for native
//! apps (RFC 8252 §7.3).

use url::{Host, Url};

/// Is `requested` allowed by one of `registered`?
pub fn matches(registered: &[String], requested: &str) -> bool {
    registered
        .iter()
        .any(|r| r == requested || loopback_port_variant(r, requested))
}

fn loopback_port_variant(registered: &str, requested: &str) -> bool {
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback_ip = |u: &Url| match u.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    // Same everything but the port; only for http on a loopback IP literal.
    reg.scheme() == "http"
        && req.scheme() == "http"
        && loopback_ip(&reg)
        && reg.host() == req.host()
        && reg.path() == req.path()
        && reg.query() == req.query()
        && reg.username() == req.username()
        && reg.password() == req.password()
        && req.username().is_empty()
        && req.password().is_none()
        && req.fragment().is_none()
        // The raw text must also agree apart from the port, so that no
        // normalisation difference (case, dot segments, another spelling of the
        // address) slips through. Both must be plain `host[:port]` text.
        && matches!(
            (strip_port(registered), strip_port(requested)),
            (Some(a), Some(b)) if a == b
        )
}

fn strip_port(uri: &str) -> Option<String> {
    let u = Url::parse(uri).ok()?;
    let host = u.host_str()?;
    let scheme_end = uri.find("://")?;
    let rest = &uri[scheme_end + 3..];
    let path_start = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..path_start];
    // Only "host" or "host:port" (no user info).
    let host_part = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
        _ => authority,
    };
    // The scheme as written: `HTTP://` is not byte-equal to `http://`.
    (host_part == host).then(|| {
        format!(
            "{}://{}{}",
            &uri[..scheme_end],
            host_part,
            &rest[path_start..]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_match_only() {
        let r = reg(&["https://app.example.org/cb"]);
        assert!(matches(&r, "https://app.example.org/cb"));
        for bad in [
            "https://app.example.org/cb?x=1",
            "https://app.example.org/CB",
            "https://APP.example.org/cb",
            "https://app.example.org/cb/",
            "https://app.example.org/cb/../cb",
            "https://app.example.org/cb#f",
            "https://app.example.org.evil.org/cb",
            "https://app.example.org@evil.org/cb",
            "https://evil.org/https://app.example.org/cb",
            "https://app.example.org:443/cb",
            "http://app.example.org/cb",
        ] {
            assert!(!matches(&r, bad), "{bad}");
        }
    }

    #[test]
    fn loopback_ports_may_vary() {
        let r = reg(&["http://127.0.0.1/cb", "http://[::1]:8000/cb"]);
        assert!(matches(&r, "http://127.0.0.1:51234/cb"));
        assert!(matches(&r, "http://[::1]:9/cb"));
        assert!(!matches(&r, "http://127.0.0.1:51234/other"));
        assert!(!matches(&r, "http://127.0.0.1:51234/cb?x"));
        assert!(!matches(&r, "http://user@127.0.0.1:5/cb"));
        assert!(!matches(&r, "http://127.0.0.2:5/cb"));
        // localhost is a name, not a loopback IP literal: exact match only.
        let r = reg(&["http://localhost/cb"]);
        assert!(!matches(&r, "http://localhost:5/cb"));
    }

    /// Regression (found by tests/fuzz_parsers.rs): two spellings of a loopback
    /// address that neither are plain `host[:port]` text compared equal, and the
    /// scheme's case was ignored.
    #[test]
    fn other_spellings_of_a_loopback_address_do_not_match() {
        assert!(!matches(
            &reg(&["HTTP://2130706433/cb/"]),
            "HTTP://127.1/cb/"
        ));
        assert!(!matches(
            &reg(&["http://2130706433/cb"]),
            "http://127.1:80/cb"
        ));
        assert!(!matches(
            &reg(&["HTTP://127.0.0.1/cb"]),
            "http://127.0.0.1:5/cb"
        ));
        assert!(!matches(
            &reg(&["http://127.0.0.1/cb"]),
            "HTTP://127.0.0.1:5/cb"
        ));
        assert!(matches(
            &reg(&["HTTP://127.0.0.1/cb"]),
            "HTTP://127.0.0.1:5/cb"
        ));
    }
}
