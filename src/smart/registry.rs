//! FHIR servers Ward issues tokens for. The `aud` parameter of a SMART
//! authorization request must equal a registered base URL exactly (SMART App
//! Launch 2.2.0 §"Authorization request": the server SHALL reject an `aud` it
//! does not recognise, so that a token never goes to a forged server).

/// Longest base URL accepted.
pub const MAX_BASE_URL: usize = 1024;

/// A registered FHIR server's base URL: absolute https (http only for a
/// loopback host), no user name, query or fragment, no trailing slash, at
/// most 1,024 characters, and already in the one form a URL parser writes it
/// (lower-case scheme and host, no default port, no `.` segments), so that
/// the exact comparison with `aud` is not defeated by spelling. Returns why not.
pub fn check_base_url(text: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("the FHIR base URL {why}"));
    if text.is_empty() || text.len() > MAX_BASE_URL {
        return bad("must be 1 to 1024 characters");
    }
    super::launch::check_url("the FHIR base URL", text)?;
    let url = url::Url::parse(text).map_err(|_| "the FHIR base URL is not a URL".to_string())?;
    if url.query().is_some() {
        return bad("must have no query");
    }
    if text.ends_with('/') {
        return bad("must not end with `/` (apps append `/Patient/…` to it)");
    }
    // The parser writes a host-only URL with a `/` path; anything else must
    // come back exactly as given.
    let normal = url.as_str();
    if normal != text && normal.strip_suffix('/') != Some(text) {
        return Err(format!(
            "the FHIR base URL is not in canonical form; write it as `{}`",
            normal.trim_end_matches('/')
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_absolute_https_in_canonical_form() {
        for ok in [
            "https://fhir.example.org/r4",
            "https://fhir.example.org",
            "https://fhir.example.org:8443/baseR4",
            "http://127.0.0.1:8080/fhir",
            "http://localhost/fhir",
            "http://[::1]:9000/fhir",
        ] {
            assert_eq!(check_base_url(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "1 to 1024"),
            ("fhir.example.org/r4", "absolute"),
            ("http://fhir.example.org/r4", "https"),
            ("ftp://fhir.example.org/r4", "https"),
            ("https://fhir.example.org/r4?x=1", "query"),
            ("https://fhir.example.org/r4#top", "fragment"),
            ("https://user@fhir.example.org/r4", "user name"),
            ("https://fhir.example.org/r4/", "end with"),
            ("https://FHIR.example.org/r4", "canonical"),
            ("https://fhir.example.org:443/r4", "canonical"),
            ("https://fhir.example.org/a/../r4", "canonical"),
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!("https://fhir.example.org/{}", "a".repeat(1024));
        assert!(check_base_url(&long).is_err());
    }
}
