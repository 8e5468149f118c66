//! The typed values a [`Config`](super::Config) holds, one type per setting or
//! section, with what they answer (which timeouts apply to a session, the
//! database URL without its password, ...).

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::crypto::keyring::MasterKey;
use crate::domain::acr::Acr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl DatabaseUrl {
    /// Parse a database URL. `postgres://` and `postgresql://` select PostgreSQL;
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path select SQLite.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Url::parse(value).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(value.to_string()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.is_empty() {
            return Err("the SQLite path is empty".into());
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(format!(
                "unsupported database scheme `{scheme}://`; use postgres://, postgresql:// or sqlite://"
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The URL without any password, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => match Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "postgres://(unparseable)".into(),
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Where the master key comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// `WARD_MASTER_KEY` / `master_key`: base64 of 32 bytes, already decoded.
    Inline(MasterKey),
    /// A key file; generated on first start when missing.
    File(PathBuf),
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(k) => write!(f, "Inline(key id {})", k.id()),
            Self::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub access_token_seconds: u32,
    pub id_token_seconds: u32,
    pub refresh_token_seconds: u32,
    pub authorization_code_seconds: u32,
    /// How long an EHR's SMART launch value may be used (docs/smart.md).
    pub smart_launch_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    pub idle_seconds: u32,
    pub absolute_seconds: u32,
}

/// Session timeouts per assurance level (docs/sessions.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub aal1: SessionLifetimes,
    pub aal2: SessionLifetimes,
    pub aal3: SessionLifetimes,
    /// The idle timeout of sessions on shared workstations (when shorter).
    pub shared_idle_seconds: u32,
}

impl SessionPolicy {
    /// The limits of a session at `acr`, shortened on a shared workstation.
    pub fn limits(&self, acr: Acr, shared: bool) -> SessionLifetimes {
        let mut l = match acr.nist_aal() {
            3 => self.aal3,
            2 => self.aal2,
            _ => self.aal1,
        };
        if shared {
            l.idle_seconds = l.idle_seconds.min(self.shared_idle_seconds);
        }
        l
    }
}

impl TokenLifetimes {
    /// The longest any signed token lives: how long a retired signing key stays published.
    pub fn longest_signed_token_seconds(&self) -> u32 {
        self.access_token_seconds.max(self.id_token_seconds)
    }
}

/// Break-glass emergency access.
#[derive(Debug, Clone, Default)]
pub struct BreakGlassPolicy {
    pub seconds: u32,
    pub max_auth_age_seconds: u32,
    pub notify: Vec<String>,
}

/// Rules for passkey registration.
#[derive(Debug, Clone, Default)]
pub struct PasskeyPolicy {
    pub staff_aaguids: Vec<uuid::Uuid>,
    pub ceremony_seconds: u32,
}
