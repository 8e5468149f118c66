//! How a client's users are named to it (OpenID Connect Core 1.0 §8): the
//! same `sub` for every client (`public`, Ward's local user id), or a
//! `pairwise` one per sector, so that apps of different sectors cannot link
//! a person by `sub`. The value itself is `oidc::subject`'s to compute.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::InvalidValue;

/// The registration's `subject_type` (OIDC Dynamic Client Registration 1.0 §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    #[default]
    Public,
    Pairwise,
}

impl SubjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Pairwise => "pairwise",
        }
    }
}

impl fmt::Display for SubjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubjectType {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Self::Public),
            "pairwise" => Ok(Self::Pairwise),
            _ => Err(InvalidValue::new(
                "subject_type",
                format!("`{s}` is not public or pairwise"),
            )),
        }
    }
}

/// A client's subject type as registered, with what a pairwise one needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "subject_type", rename_all = "lowercase")]
pub enum Subject {
    /// Every client sees the local user id.
    #[default]
    Public,
    /// The `sub` is derived from the sector and the local user id.
    Pairwise {
        /// The Sector Identifier (§8.1): the host of the
        /// `sector_identifier_uri`, or else of every redirect URI.
        sector: String,
        /// Where the client lists its redirect URIs (§8.1, fetched and checked
        /// at registration); None when the sector is the redirect URIs' host.
        sector_identifier_uri: Option<String>,
    },
}

impl Subject {
    pub fn subject_type(&self) -> SubjectType {
        match self {
            Self::Public => SubjectType::Public,
            Self::Pairwise { .. } => SubjectType::Pairwise,
        }
    }

    pub fn sector(&self) -> Option<&str> {
        match self {
            Self::Public => None,
            Self::Pairwise { sector, .. } => Some(sector),
        }
    }

    pub fn sector_identifier_uri(&self) -> Option<&str> {
        match self {
            Self::Pairwise {
                sector_identifier_uri: Some(uri),
                ..
            } => Some(uri),
            _ => None,
        }
    }
}

/// The host of a URL, lowercase, as a sector (§8.1: "the host component").
pub fn host_of(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// §8.1: without a `sector_identifier_uri` the sector is the host of the
/// redirect URIs, which must then all have the same one.
pub fn sector_of_redirect_uris(redirect_uris: &[String]) -> Result<String, InvalidValue> {
    let refuse = |why: String| Err(InvalidValue::new("sector_identifier_uri", why));
    let none = || {
        refuse(
            "a pairwise client needs a sector: register a redirect URI or a sector_identifier_uri \
             (OpenID Connect Core 1.0 §8.1)"
                .into(),
        )
    };
    let mut sector: Option<String> = None;
    for uri in redirect_uris {
        let Some(host) = host_of(uri) else {
            return refuse(format!(
                "the redirect URI `{uri}` has no host to serve as the sector; \
                 register a sector_identifier_uri (OpenID Connect Core 1.0 §8.1)"
            ));
        };
        match &sector {
            None => sector = Some(host),
            Some(s) if *s == host => {}
            Some(s) => {
                return refuse(format!(
                    "the redirect URIs have different hosts (`{s}`, `{host}`); a pairwise client \
                     with several hosts needs a sector_identifier_uri listing them \
                     (OpenID Connect Core 1.0 §8.1)"
                ));
            }
        }
    }
    sector.map_or_else(none, Ok)
}

/// §8.1 and Dynamic Client Registration 1.0 §5: the document at a
/// `sector_identifier_uri` is a JSON array of redirect URIs, and every
/// redirect URI of the client must be in it.
pub fn check_sector_document(
    document: &serde_json::Value,
    redirect_uris: &[String],
) -> Result<(), InvalidValue> {
    let refuse = |why: String| Err(InvalidValue::new("sector_identifier_uri", why));
    let Some(listed) = document.as_array() else {
        return refuse("the document is not a JSON array of redirect URIs".into());
    };
    let mut uris = Vec::with_capacity(listed.len());
    for v in listed {
        let Some(u) = v.as_str() else {
            return refuse("the document holds an entry that is not a URI string".into());
        };
        uris.push(u);
    }
    if let Some(missing) = redirect_uris.iter().find(|r| !uris.contains(&r.as_str())) {
        return refuse(format!(
            "the document does not list the redirect URI `{missing}`; it must list every one \
             (OpenID Connect Core 1.0 §8.1)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn subject_types_parse_and_print() {
        assert_eq!("public".parse(), Ok(SubjectType::Public));
        assert_eq!("pairwise".parse(), Ok(SubjectType::Pairwise));
        let err = "Pairwise".parse::<SubjectType>().unwrap_err();
        assert_eq!(err.field, "subject_type");
        assert_eq!(SubjectType::Pairwise.to_string(), "pairwise");
    }

    #[test]
    fn the_sector_is_the_one_host_of_the_redirect_uris() {
        let one = uris(&[
            "https://App.example.org/cb",
            "https://app.example.org:8443/other",
        ]);
        assert_eq!(sector_of_redirect_uris(&one).unwrap(), "app.example.org");
        for (bad, needle) in [
            (uris(&[]), "needs a sector"),
            (
                uris(&["https://a.example/cb", "https://b.example/cb"]),
                "different hosts",
            ),
            (uris(&["org.example.app:/cb"]), "no host"),
        ] {
            let e = sector_of_redirect_uris(&bad).unwrap_err();
            assert_eq!(e.field, "sector_identifier_uri");
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

    #[test]
    fn a_sector_document_lists_every_redirect_uri() {
        let mine = uris(&["https://a.example/cb", "https://b.example/cb"]);
        let doc = json!([
            "https://b.example/cb",
            "https://a.example/cb",
            "https://c.example/"
        ]);
        assert!(check_sector_document(&doc, &mine).is_ok());
        for (doc, needle) in [
            (json!(["https://a.example/cb"]), "`https://b.example/cb`"),
            (json!({"redirect_uris": []}), "not a JSON array"),
            (json!(["https://a.example/cb", 7]), "not a URI string"),
        ] {
            let e = check_sector_document(&doc, &mine).unwrap_err();
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }
}
