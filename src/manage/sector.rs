//! A registration's subject type (OpenID Connect Core 1.0 §8): `public`, or
//! `pairwise` with a usable sector. With a `sector_identifier_uri` the
//! document there is fetched once, at registration, through the same
//! guarded `GET` as a `jwks_uri` (`jwks::fetch::get_text`: https and public
//! addresses unless the development switch is on, no redirect, 64 KiB, 5 s),
//! and must list every redirect URI of the client (§8.1); the sector is its
//! host. Without one, the sector is the one host of the redirect URIs.
//! Called before the registration's transaction, never inside one.

use crate::domain::InvalidValue;
use crate::domain::subject::{self, Subject, SubjectType};
use crate::jwks::FetchError;

const FIELD: &str = "sector_identifier_uri";

/// The client's subject from what was registered. `redirect_uris` are the
/// checked ones; `fetch` gets a document's text (`jwks::fetch::get_text`
/// in the server).
pub fn subject_of(
    subject_type: SubjectType,
    sector_identifier_uri: Option<&str>,
    redirect_uris: &[String],
    allow_insecure: bool,
    fetch: impl FnOnce(&str) -> Result<String, FetchError>,
) -> Result<Subject, InvalidValue> {
    match (subject_type, sector_identifier_uri) {
        (SubjectType::Public, None) => Ok(Subject::Public),
        (SubjectType::Public, Some(_)) => Err(InvalidValue::new(
            FIELD,
            "a sector_identifier_uri is for pairwise clients: add --subject-type pairwise \
             (\"subject_type\": \"pairwise\")",
        )),
        (SubjectType::Pairwise, None) => Ok(Subject::Pairwise {
            sector: subject::sector_of_redirect_uris(redirect_uris)?,
            sector_identifier_uri: None,
        }),
        (SubjectType::Pairwise, Some(uri)) => {
            let url = crate::jwks::address::check_uri(uri, allow_insecure)
                .map_err(|why| InvalidValue::new(FIELD, format!("`{uri}` {why}")))?;
            let text = fetch(url.as_str()).map_err(|e| {
                InvalidValue::new(FIELD, format!("fetching `{}` failed: {e}", url.as_str()))
            })?;
            let document: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
                InvalidValue::new(
                    FIELD,
                    "the document is not JSON (a JSON array of redirect URIs)",
                )
            })?;
            subject::check_sector_document(&document, redirect_uris)?;
            let sector = subject::host_of(url.as_str())
                .ok_or_else(|| InvalidValue::new(FIELD, "has no host to serve as the sector"))?;
            Ok(Subject::Pairwise {
                sector,
                sector_identifier_uri: Some(url.to_string()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn never(_: &str) -> Result<String, FetchError> {
        panic!("nothing is fetched")
    }

    #[test]
    fn public_needs_nothing_and_refuses_a_sector_uri() {
        let r = uris(&["https://a.example/cb"]);
        assert_eq!(
            subject_of(SubjectType::Public, None, &r, false, never),
            Ok(Subject::Public)
        );
        let e = subject_of(
            SubjectType::Public,
            Some("https://s.example/x"),
            &r,
            false,
            never,
        )
        .unwrap_err();
        assert!(e.message.contains("pairwise"), "{}", e.message);
    }

    #[test]
    fn pairwise_without_a_uri_takes_the_redirect_host() {
        let r = uris(&["https://a.example/cb", "https://a.example/other"]);
        assert_eq!(
            subject_of(SubjectType::Pairwise, None, &r, false, never),
            Ok(Subject::Pairwise {
                sector: "a.example".into(),
                sector_identifier_uri: None
            })
        );
        let mixed = uris(&["https://a.example/cb", "https://b.example/cb"]);
        assert!(subject_of(SubjectType::Pairwise, None, &mixed, false, never).is_err());
    }

    #[test]
    fn pairwise_with_a_uri_takes_its_host_when_the_document_lists_every_redirect_uri() {
        let r = uris(&["https://a.example/cb", "https://b.example/cb"]);
        let doc = |_: &str| Ok(r#"["https://a.example/cb","https://b.example/cb"]"#.to_string());
        assert_eq!(
            subject_of(
                SubjectType::Pairwise,
                Some("https://Sector.example/s.json"),
                &r,
                false,
                doc
            ),
            Ok(Subject::Pairwise {
                sector: "sector.example".into(),
                sector_identifier_uri: Some("https://sector.example/s.json".into())
            })
        );
        let short = |_: &str| Ok(r#"["https://a.example/cb"]"#.to_string());
        let uri = Some("https://sector.example/s.json");
        let e = subject_of(SubjectType::Pairwise, uri, &r, false, short).unwrap_err();
        assert!(e.message.contains("https://b.example/cb"), "{}", e.message);
        let redirect = |_: &str| Err(FetchError::Status(302));
        let e = subject_of(SubjectType::Pairwise, uri, &r, false, redirect).unwrap_err();
        assert!(
            e.message.contains("redirects are not followed"),
            "{}",
            e.message
        );
        let not_json = |_: &str| Ok("<html>".to_string());
        let e = subject_of(SubjectType::Pairwise, uri, &r, false, not_json).unwrap_err();
        assert!(e.message.contains("not JSON"), "{}", e.message);
        // The guard refuses before anything is fetched.
        let local = Some("https://127.0.0.1/s.json");
        let e = subject_of(SubjectType::Pairwise, local, &r, false, never).unwrap_err();
        assert!(e.message.contains("loopback"), "{}", e.message);
        let plain = Some("http://sector.example/s.json");
        assert!(subject_of(SubjectType::Pairwise, plain, &r, false, never).is_err());
    }
}
