//! Typed configuration: defaults < `ward.toml` < `WARD_*` environment variables.
//!
//! Loading happens once at start-up in two steps. [`RawConfig`] is what a file or
//! the environment may say (plain strings and numbers, unknown keys refused);
//! [`Config::validate`] turns it into typed values or a [`ConfigError`] that names
//! the key and says what is wrong. Every key `a.b` can be set through the
//! environment variable `WARD_A_B`; the mapping is derived from the key names, so
//! the two can never drift apart.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use url::Url;

use crate::domain::acr::Acr;
// Moved to `domain` (a redirect URI check needs it too); kept here for callers.
pub use crate::domain::client::is_loopback_host;

mod layers;
mod mail;
mod raw;
#[cfg(test)]
mod tests;
mod validate;
mod values;

pub use mail::{MailConfig, MailTransport, SmtpCredentials, SmtpSettings, SmtpTls};
pub use raw::RawMailConfig;
pub use raw::{RawClientsConfig, RawConfig, RawPasswordConfig, RawSessionConfig, RawTokenConfig};
pub use values::{
    BreakGlassPolicy, DatabaseUrl, LogFormat, MasterKeySource, PasskeyPolicy, PasswordParams,
    SessionLifetimes, SessionPolicy, TlsFiles, TokenLifetimes,
};

use layers::{leaves, located, merge, parse_env_value, set_path};
use raw::NON_KEY_VARIABLES;
use serde::Deserialize;
#[cfg(test)]
use validate::validate_issuer;

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
    pub scope_min_acr: std::collections::BTreeMap<String, Acr>,
    /// Email (`[mail]`); the SMTP password inside never appears in `Debug`.
    pub mail: MailConfig,
    /// Self-service sign-up of patient accounts with a passkey.
    pub signup_enabled: bool,
    /// Factor changes need a sign-in at most this old.
    pub reauth_seconds: u32,
    /// Lifetime of codes sent by email.
    pub email_code_seconds: u32,
    /// Kept with every consent record: which consent policy it was given under.
    pub consent_policy_version: String,
    /// A request whose body has not arrived this long after its head gets 408.
    pub request_timeout_seconds: u32,
    /// The admin API needs a multi-factor sign-in at most this old (docs/admin-api.md).
    pub admin_max_auth_age_seconds: u32,
    /// Ward's admin console client: the admin API takes only its tokens, and
    /// only with the `ward:admin` scope, which no other client may register.
    pub admin_console_client_id: crate::domain::ClientId,
    pub passkeys: PasskeyPolicy,
    pub break_glass: BreakGlassPolicy,
    /// `clients.allow_insecure_fetch` (or its older name
    /// `allow_insecure_jwks_uri`): development only; the URLs Ward fetches for
    /// a client (`jwks_uri`, `sector_identifier_uri`) may then be `http://`
    /// and reach loopback and private addresses.
    pub allow_insecure_jwks_uri: bool,
    /// `[telemetry]`: where traces go, if anywhere.
    pub telemetry: TelemetryConfig,
    /// `[privacy] disclosure_retention_days`: how long a disclosure row is
    /// kept, in days (docs/privacy.md, "Accounting of disclosures").
    pub disclosure_retention_days: u32,
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
        validate::validate(raw)
    }

    /// HSTS is sent when the browser reaches Ward over HTTPS (directly or via a proxy).
    pub fn serves_https(&self) -> bool {
        self.tls.is_some() || self.issuer_url.scheme() == "https"
    }
}

/// `[telemetry]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// The OTLP/HTTP collector's base URL; None: traces are off.
    pub otlp_endpoint: Option<url::Url>,
    pub service_name: String,
}
