//! Typed configuration: defaults < `ward.toml` < `WARD_*` environment variables.
//!
//! Loading happens once at start-up in two steps. [`RawConfig`] is what a file or
//! the environment may say (plain strings and numbers, unknown keys refused);
//! [`Config::validate`] turns it into typed values or a [`ConfigError`] that names
//! the key and says what is wrong. Every key `a.b` can be set through the
//! environment variable `WARD_A_B`; the mapping is derived from the key names, so
//! the two can never drift apart.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use url::Url;

use crate::crypto::keyring::MasterKey;

mod layers;
mod mail;
mod raw;
#[cfg(test)]
mod tests;

pub use mail::{MailConfig, MailTransport, SmtpCredentials, SmtpSettings, SmtpTls};
pub use raw::RawMailConfig;
pub use raw::{RawConfig, RawPasswordConfig, RawSessionConfig, RawTokenConfig};

use layers::{leaves, located, merge, parse_env_value, set_path};
use raw::NON_KEY_VARIABLES;
use serde::Deserialize;

/// A configuration value that is wrong, with the key that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read or parsed (syntax, unknown key, wrong type).
    File { path: PathBuf, message: String },
    /// A key has a value Ward cannot use.
    Invalid { key: String, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, message } => {
                write!(f, "configuration file {}: {message}", path.display())
            }
            Self::Invalid { key, message } => write!(
                f,
                "configuration key `{key}` (environment variable {}): {message}",
                env_name(key)
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The environment variable that sets configuration key `key` (`a.b` -> `WARD_A_B`).
pub fn env_name(key: &str) -> String {
    format!("WARD_{}", key.replace('.', "_").to_ascii_uppercase())
}

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
    pub fn limits(&self, acr: &str, shared: bool) -> SessionLifetimes {
        let mut l = match crate::authn::factors::nist_aal(acr) {
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

/// The validated configuration, passed explicitly to whatever needs it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer identifier exactly as it appears in tokens (no trailing slash).
    pub issuer: String,
    pub issuer_url: Url,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub database_pool_size: u32,
    pub migrate_on_start: bool,
    pub master_key: MasterKeySource,
    pub log_format: LogFormat,
    pub log_level: String,
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<TlsFiles>,
    pub password: PasswordParams,
    pub tokens: TokenLifetimes,
    /// Require pushed authorization requests from every client (RFC 9126 §5).
    pub require_par: bool,
    pub session: SessionPolicy,
    /// Address ranges of shared workstations (`session.shared_workstation.networks`).
    pub shared_workstation_networks: Vec<ipnet::IpNet>,
    /// The risk engine's rules and weights (docs/risk.md).
    pub risk: crate::risk::RiskPolicy,
    /// The weakest acr each listed scope may be issued from.
    pub scope_min_acr: std::collections::BTreeMap<String, String>,
    /// Email (`[mail]`); the SMTP password inside never appears in `Debug`.
    pub mail: MailConfig,
    /// Self-service sign-up of patient accounts with a passkey.
    pub signup_enabled: bool,
    /// Factor changes need a sign-in at most this old.
    pub reauth_seconds: u32,
    /// Lifetime of codes sent by email.
    pub email_code_seconds: u32,
    /// A request whose body has not arrived this long after its head gets 408.
    pub request_timeout_seconds: u32,
    /// The admin API needs a multi-factor sign-in at most this old (docs/admin-api.md).
    pub admin_max_auth_age_seconds: u32,
    pub passkeys: PasskeyPolicy,
    pub break_glass: BreakGlassPolicy,
    /// Problems that do not stop Ward (e.g. an unknown `WARD_*` variable), logged at start.
    pub warnings: Vec<String>,
}

impl Config {
    /// Load from an optional file and the given environment.
    ///
    /// `file`: the path from `--config`/`WARD_CONFIG`; when `None`, `./ward.toml` is
    /// read if it exists.
    pub fn load(file: Option<&Path>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut table = toml::Table::try_from(RawConfig::default()).map_err(|e| {
            ConfigError::invalid("(defaults)", format!("cannot serialise defaults: {e}"))
        })?;
        let default_leaves = leaves(&table);

        let file = match file {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("ward.toml")).filter(|p| p.is_file()),
        };
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.clone(),
                message: format!("cannot read: {e}"),
            })?;
            let from_file: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::File {
                        path: path.clone(),
                        message: e.message().to_string(),
                    })?;
            // Check keys and types against the schema before merging.
            // Parse the text (not the table) to know where the problem is; report the
            // line and toml's message but never the source line, which may hold a secret.
            toml::from_str::<RawConfig>(&text).map_err(|e| ConfigError::File {
                path: path.clone(),
                message: located(&text, &e),
            })?;
            merge(&mut table, from_file);
        }

        let mut warnings = Vec::new();
        for (name, value) in env {
            if !name.starts_with("WARD_") || NON_KEY_VARIABLES.contains(&name.as_str()) {
                continue;
            }
            let Some((key, kind)) = default_leaves.iter().find(|(k, _)| env_name(k) == *name)
            else {
                warnings.push(format!(
                    "ignoring unknown environment variable {name} (not a configuration key)"
                ));
                continue;
            };
            let parsed = parse_env_value(key, kind, value)?;
            set_path(&mut table, key, parsed);
        }

        let raw = RawConfig::deserialize(table)
            .map_err(|e| ConfigError::invalid("(environment)", e.message().to_string()))?;
        let mut config = Self::validate(raw)?;
        config.warnings = warnings;
        Ok(config)
    }

    /// Load from the process environment.
    pub fn from_process(file: Option<&Path>) -> Result<Self, ConfigError> {
        // vars_os: a non-UTF-8 variable elsewhere in the environment must not panic;
        // a non-UTF-8 WARD_* variable is reported as invalid by name.
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let k = k.into_string().ok()?;
                let v = v
                    .into_string()
                    .unwrap_or_else(|_| "\u{FFFD}(not UTF-8)".into());
                Some((k, v))
            })
            .collect();
        Self::load(file, &env)
    }

    /// Turn raw values into typed ones; the first wrong key stops here.
    pub fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let (issuer, issuer_url) = validate_issuer(&raw.issuer)?;

        let listen: SocketAddr = raw.listen.trim().parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                "expected an address and port such as 127.0.0.1:8080",
            )
        })?;

        if raw.data_dir.trim().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        let data_dir = PathBuf::from(raw.data_dir.trim());

        let database = if raw.database_url.trim().is_empty() {
            DatabaseUrl::Sqlite(data_dir.join("ward.db"))
        } else {
            DatabaseUrl::parse(&raw.database_url)
                .map_err(|m| ConfigError::invalid("database_url", m))?
        };
        let database_pool_size = in_range("database_pool_size", raw.database_pool_size, 1, 256)?;

        let master_key = if !raw.master_key.trim().is_empty() {
            // Never echo the value: it is the key to every sealed secret.
            MasterKeySource::Inline(MasterKey::from_base64(raw.master_key.trim()).map_err(
                |_| ConfigError::invalid("master_key", "expected the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)"),
            )?)
        } else if !raw.master_key_file.trim().is_empty() {
            MasterKeySource::File(PathBuf::from(raw.master_key_file.trim()))
        } else {
            MasterKeySource::File(data_dir.join("master.key"))
        };

        let log_format = match raw.log_format.trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::invalid(
                    "log_format",
                    format!("`{other}` is not one of: text, json"),
                ));
            }
        };
        let log_level = raw.log_level.trim().to_string();
        tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| {
            ConfigError::invalid(
                "log_level",
                format!("not a valid filter ({e}); try `info` or `ward=debug,info`"),
            )
        })?;

        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|p| parse_network_for("trusted_proxies", p))
            .collect::<Result<Vec<_>, _>>()?;

        let tls = match (raw.tls_cert.trim(), raw.tls_key.trim()) {
            ("", "") => None,
            ("", _) => {
                return Err(ConfigError::invalid(
                    "tls_cert",
                    "tls_key is set but tls_cert is not; set both or neither",
                ));
            }
            (_, "") => {
                return Err(ConfigError::invalid(
                    "tls_key",
                    "tls_cert is set but tls_key is not; set both or neither",
                ));
            }
            (cert, key) => {
                for (name, path) in [("tls_cert", cert), ("tls_key", key)] {
                    if !Path::new(path).is_file() {
                        return Err(ConfigError::invalid(
                            name,
                            format!("file `{path}` does not exist"),
                        ));
                    }
                }
                Some(TlsFiles {
                    cert: cert.into(),
                    key: key.into(),
                })
            }
        };

        let password = PasswordParams {
            memory_kib: in_range(
                "password.memory_kib",
                raw.password.memory_kib,
                8 * 1024,
                4 * 1024 * 1024,
            )?,
            iterations: in_range("password.iterations", raw.password.iterations, 1, 100)?,
            parallelism: in_range("password.parallelism", raw.password.parallelism, 1, 64)?,
        };

        let tokens = TokenLifetimes {
            access_token_seconds: in_range(
                "tokens.access_token_seconds",
                raw.tokens.access_token_seconds,
                10,
                24 * 3600,
            )?,
            id_token_seconds: in_range(
                "tokens.id_token_seconds",
                raw.tokens.id_token_seconds,
                10,
                24 * 3600,
            )?,
            refresh_token_seconds: in_range(
                "tokens.refresh_token_seconds",
                raw.tokens.refresh_token_seconds,
                60,
                365 * 24 * 3600,
            )?,
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
            authorization_code_seconds: in_range(
                "tokens.authorization_code_seconds",
                raw.tokens.authorization_code_seconds,
                5,
                600,
            )?,
        };

        let level = |prefix: &str, idle: i64, absolute: i64| {
            Ok::<_, ConfigError>(SessionLifetimes {
                idle_seconds: in_range(&format!("{prefix}idle_seconds"), idle, 60, 24 * 3600)?,
                absolute_seconds: in_range(
                    &format!("{prefix}absolute_seconds"),
                    absolute,
                    300,
                    30 * 24 * 3600,
                )?,
            })
        };
        let s = &raw.session;
        let session = SessionPolicy {
            aal1: level("session.", s.idle_seconds, s.absolute_seconds)?,
            aal2: level(
                "session.aal2.",
                s.aal2.idle_seconds,
                s.aal2.absolute_seconds,
            )?,
            aal3: level(
                "session.aal3.",
                s.aal3.idle_seconds,
                s.aal3.absolute_seconds,
            )?,
            shared_idle_seconds: in_range(
                "session.shared_workstation.idle_seconds",
                s.shared_workstation.idle_seconds,
                60,
                24 * 3600,
            )?,
        };
        let shared_workstation_networks = s
            .shared_workstation
            .networks
            .iter()
            .map(|n| parse_network_for("session.shared_workstation.networks", n))
            .collect::<Result<Vec<_>, _>>()?;
        let risk = raw
            .risk
            .validate()
            .map_err(|e| ConfigError::invalid("risk", e))?;
        if let Some((scope, acr)) = raw
            .scope_min_acr
            .iter()
            .find(|(_, acr)| !crate::authn::factors::ACR_VALUES.contains(&acr.as_str()))
        {
            return Err(ConfigError::invalid(
                &format!("scope_min_acr.{scope}"),
                format!(
                    "`{acr}` is not an acr Ward issues ({})",
                    crate::authn::factors::ACR_VALUES.join(", ")
                ),
            ));
        }
        let scope_min_acr = raw.scope_min_acr.clone();

        let mail = mail::validate_mail(&raw.mail, &data_dir)?;
        let reauth_seconds = in_range("reauth_seconds", raw.reauth_seconds, 1, 24 * 3600)?;
        let request_timeout_seconds = in_range(
            "request_timeout_seconds",
            raw.request_timeout_seconds,
            1,
            300,
        )?;
        let passkeys = PasskeyPolicy {
            staff_aaguids: raw
                .passkeys
                .staff_aaguids
                .iter()
                .map(|a| {
                    uuid::Uuid::parse_str(a.trim()).map_err(|_| {
                        ConfigError::invalid(
                            "passkeys.staff_aaguids",
                            "not a list of AAGUIDs (UUIDs)",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            ceremony_seconds: in_range(
                "passkeys.ceremony_seconds",
                raw.passkeys.ceremony_seconds,
                1,
                3600,
            )?,
        };
        let email_code_seconds = in_range("email_code_seconds", raw.email_code_seconds, 1, 3600)?;
        let admin_max_auth_age_seconds = in_range(
            "admin_max_auth_age_seconds",
            raw.admin_max_auth_age_seconds,
            60,
            24 * 3600,
        )?;
        let break_glass = BreakGlassPolicy {
            seconds: in_range("break_glass.seconds", raw.break_glass.seconds, 1, 24 * 3600)?,
            max_auth_age_seconds: in_range(
                "break_glass.max_auth_age_seconds",
                raw.break_glass.max_auth_age_seconds,
                1,
                3600,
            )?,
            notify: raw
                .break_glass
                .notify
                .iter()
                .map(|a| {
                    crate::domain::Email::parse(a.trim())
                        .map(|e| e.as_str().to_string())
                        .map_err(|_| {
                            ConfigError::invalid(
                                "break_glass.notify",
                                "not a list of email addresses",
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };

        Ok(Self {
            issuer,
            issuer_url,
            listen,
            data_dir,
            database,
            database_pool_size,
            migrate_on_start: raw.migrate_on_start,
            master_key,
            log_format,
            log_level,
            trusted_proxies,
            tls,
            password,
            tokens,
            require_par: raw.require_par,
            session,
            shared_workstation_networks,
            risk,
            scope_min_acr,
            mail,
            signup_enabled: raw.signup_enabled,
            reauth_seconds,
            email_code_seconds,
            request_timeout_seconds,
            admin_max_auth_age_seconds,
            passkeys,
            break_glass,
            warnings: Vec::new(),
        })
    }

    /// HSTS is sent when the browser reaches Ward over HTTPS (directly or via a proxy).
    pub fn serves_https(&self) -> bool {
        self.tls.is_some() || self.issuer_url.scheme() == "https"
    }
}

fn validate_issuer(value: &str) -> Result<(String, Url), ConfigError> {
    let key = "issuer";
    let url = Url::parse(value.trim())
        .map_err(|e| ConfigError::invalid(key, format!("not an absolute URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() {
        // OpenID Connect Discovery 1.0 §3: the issuer has no query or fragment.
        return Err(ConfigError::invalid(
            key,
            "must not have a query or fragment",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid(key, "must not contain credentials"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| ConfigError::invalid(key, "has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "plain http:// is only allowed for localhost or a loopback address, not `{host}`; \
                     tokens and session cookies would cross the network unencrypted. Use https:// \
                     (directly with tls_cert/tls_key, or behind a TLS-terminating proxy)"
                ),
            ));
        }
        other => {
            return Err(ConfigError::invalid(
                key,
                format!("scheme `{other}` is not http or https"),
            ));
        }
    }
    let issuer = url.as_str().trim_end_matches('/').to_string();
    Ok((issuer, url))
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

/// A CIDR range, or a single address as its own range; `key` names the setting.
fn parse_network_for(key: &str, value: &str) -> Result<IpNet, ConfigError> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            ConfigError::invalid(
                key,
                format!("`{value}` is not an IP address or CIDR network (e.g. 10.0.0.0/8)"),
            )
        })
}

fn in_range(key: &str, value: i64, min: i64, max: i64) -> Result<u32, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            key,
            format!("{value} is out of range; expected {min} to {max}"),
        ));
    }
    Ok(value as u32)
}
