use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::InvalidValue;

/// How a client is named as a subject in the authorization policy:
/// `g, client:<client_id>, role, tenant` (`authz::client_subject`).
pub const CLIENT_SUBJECT_PREFIX: &str = "client:";

/// An OAuth `client_id`: 1-128 visible ASCII characters without spaces
/// (RFC 6749 Appendix A.1 allows VSCHAR; Ward is stricter to keep ids URL-safe).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

/// Read back exactly (stored requests, the sign-in's progress): a value
/// `ClientId::exact` refuses is an error, never a client.
impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::exact(&s).ok_or_else(|| serde::de::Error::custom("not a client_id"))
    }
}

impl ClientId {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let v = value.trim();
        if v.is_empty() || v.len() > 128 {
            return Err(InvalidValue::new(
                "client_id",
                "must be 1 to 128 characters",
            ));
        }
        if uuid::Uuid::parse_str(v).is_ok() {
            // A client_credentials token's `sub` is the client_id; it must never be
            // mistaken for a user's id, which is a UUID (RFC 9068 §5).
            return Err(InvalidValue::new(
                "client_id",
                "must not look like a UUID (user ids are UUIDs)",
            ));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
        {
            return Err(InvalidValue::new(
                "client_id",
                "may contain only ASCII letters, digits and . _ - :",
            ));
        }
        Ok(Self(v.to_string()))
    }

    /// A `client_id` as a request or a stored row spells it: valid as is,
    /// with nothing trimmed. `parse` forgives the spaces a person types
    /// around an id; a protocol value or a column is taken exactly, so
    /// ` app` in a request never names `app` (it names no client).
    pub fn exact(value: &str) -> Option<Self> {
        Self::parse(value).ok().filter(|id| id.0 == value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    /// Can keep a secret (a server-side web app).
    Confidential,
    /// Cannot (a native or browser app); must use PKCE.
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }
}

impl FromStr for ClientType {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confidential" => Ok(Self::Confidential),
            "public" => Ok(Self::Public),
            _ => Err(InvalidValue::new(
                "client_type",
                format!("`{s}` is not confidential or public"),
            )),
        }
    }
}

/// Whether a client must use PKCE (RFC 7636) at the authorization endpoint.
///
/// `Required` is the default and the only choice for a public client: without
/// a secret, PKCE is what binds the code to the app that asked for it (RFC 9700
/// §2.1.1: public clients MUST use PKCE). A confidential OpenID Connect client
/// may be registered `Optional` and protect its codes with `nonce` instead
/// (RFC 9700 §2.1.1, §4.5.3.2); see docs/oidc.md.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PkcePolicy {
    #[default]
    Required,
    Optional,
}

impl PkcePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
        }
    }

    /// The one rule for registering a client's policy, for the CLI and the
    /// admin API alike: only a confidential client may make PKCE optional.
    pub fn check_for(self, client_type: ClientType) -> Result<Self, InvalidValue> {
        if self == Self::Optional && client_type == ClientType::Public {
            return Err(InvalidValue::new(
                "pkce",
                "a public client must use PKCE (RFC 9700 §2.1.1); \
                 `optional` is only for confidential clients",
            ));
        }
        Ok(self)
    }
}

impl FromStr for PkcePolicy {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            _ => Err(InvalidValue::new(
                "pkce",
                format!("`{s}` is not required or optional"),
            )),
        }
    }
}

/// Grant types Ward implements. `password` and `implicit` are deliberately absent (RFC 9700 §2.4, §2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

impl FromStr for GrantType {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "refresh_token" => Ok(Self::RefreshToken),
            "client_credentials" => Ok(Self::ClientCredentials),
            "password" | "implicit" => Err(InvalidValue::new(
                "grant_type",
                format!("`{s}` is not supported (OAuth 2.0 Security BCP, RFC 9700)"),
            )),
            _ => Err(InvalidValue::new(
                "grant_type",
                format!(
                    "`{s}` is not one of authorization_code, refresh_token, client_credentials"
                ),
            )),
        }
    }
}

/// One scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let valid = !value.is_empty()
            && value.len() <= 128
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !valid {
            return Err(InvalidValue::new(
                "scope",
                format!("`{value}` is not a valid scope token"),
            ));
        }
        Ok(Self(value.to_string()))
    }

    /// A space-separated list; duplicates are dropped, order kept.
    pub fn parse_list(value: &str) -> Result<Vec<Self>, InvalidValue> {
        let mut out: Vec<Self> = Vec::new();
        for token in value.split(' ').filter(|t| !t.is_empty()) {
            let s = Self::parse(token)?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered redirect URI.
///
/// RFC 6749 §3.1.2: absolute, no fragment. RFC 9700 §2.1 / RFC 8252 §7-8: https,
/// or http only to a loopback host, or a private-use scheme (reverse domain name,
/// containing a dot) for native apps. Schemes a browser would execute are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let err = |m: &str| InvalidValue::new("redirect_uri", format!("`{value}` {m}"));
        if value.len() > Self::MAX_LEN {
            return Err(InvalidValue::new(
                "redirect_uri",
                format!("must be at most {} bytes", Self::MAX_LEN),
            ));
        }
        let url = Url::parse(value).map_err(|_| err("is not an absolute URI"))?;
        if url.fragment().is_some() || value.contains('#') {
            return Err(err("must not contain a fragment (RFC 6749 §3.1.2)"));
        }
        match url.scheme() {
            "https" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(err("has no host"));
                }
            }
            "http" => {
                let host = url.host_str().unwrap_or_default();
                if !is_loopback_host(host) {
                    return Err(err(
                        "uses plain http on a non-loopback host; use https (RFC 9700 §2.6)",
                    ));
                }
            }
            "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ws" | "wss"
            | "ftp" => {
                return Err(err("uses a scheme that cannot be a redirect target"));
            }
            scheme if scheme.contains('.') => {}
            _ => {
                return Err(err(
                    "uses a custom scheme that is not a reverse domain name (e.g. org.example.app:/cb, RFC 8252 §7.1)",
                ));
            }
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_rfcs() {
        for ok in [
            "https://app.example.org/callback",
            "http://127.0.0.1:4000/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "org.example.app:/oauth2redirect",
        ] {
            RedirectUri::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("/callback", "absolute"),
            ("https://app.example.org/cb#frag", "fragment"),
            ("http://app.example.org/cb", "plain http"),
            ("javascript:alert(1)", "scheme"),
            ("myapp:/cb", "reverse domain"),
        ] {
            let err = RedirectUri::parse(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        assert!(RedirectUri::parse(&format!("https://a.org/{}", "x".repeat(3000))).is_err());
    }

    #[test]
    fn scopes_follow_rfc6749_syntax() {
        let s = Scope::parse_list("openid  profile openid email").unwrap();
        assert_eq!(
            s.iter().map(Scope::as_str).collect::<Vec<_>>(),
            ["openid", "profile", "email"]
        );
        assert!(Scope::parse("bad\"quote").is_err());
        assert!(Scope::parse("back\\slash").is_err());
    }

    #[test]
    fn unsafe_grants_are_refused_with_a_reason() {
        assert!(
            "password"
                .parse::<GrantType>()
                .unwrap_err()
                .to_string()
                .contains("RFC 9700")
        );
        assert_eq!(
            "refresh_token".parse::<GrantType>().unwrap(),
            GrantType::RefreshToken
        );
    }

    #[test]
    fn only_confidential_clients_may_make_pkce_optional() {
        assert_eq!(PkcePolicy::default(), PkcePolicy::Required);
        let optional: PkcePolicy = "optional".parse().unwrap();
        assert_eq!(
            optional.check_for(ClientType::Confidential),
            Ok(PkcePolicy::Optional)
        );
        let err = optional.check_for(ClientType::Public).unwrap_err();
        assert_eq!(err.field, "pkce");
        assert!(err.message.contains("public client"), "{err}");
        assert_eq!(
            PkcePolicy::Required.check_for(ClientType::Public),
            Ok(PkcePolicy::Required)
        );
        assert!("sometimes".parse::<PkcePolicy>().is_err());
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(ClientId::parse("ehr-portal").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("has space").is_err());
        assert!(ClientId::parse(&"a".repeat(129)).is_err());
        assert_eq!(ClientId::parse(" app ").unwrap().as_str(), "app");
        assert_eq!(ClientId::exact("app").unwrap().as_str(), "app");
        assert_eq!(ClientId::exact(" app"), None);
        assert_eq!(ClientId::exact("a b"), None);
        // Read back (a stored request, the sign-in's progress) exactly, or not at all.
        let read = |json: &str| serde_json::from_str::<ClientId>(json).ok();
        assert_eq!(read("\"app\""), ClientId::exact("app"));
        assert_eq!(
            serde_json::to_string(&ClientId::exact("app")).unwrap(),
            "\"app\""
        );
        assert_eq!(read("\" app\""), None);
        assert_eq!(read("\"0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c\""), None);
        assert!(
            ClientId::parse("0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").is_err(),
            "UUIDs are user ids"
        );
    }
}
