//! What a configuration file or the environment may say: plain values, with
//! the defaults. Unknown keys are refused; `Config::validate` types them.

use serde::{Deserialize, Serialize};

/// Environment variables that start with `WARD_` but are not configuration keys.
pub(super) const NON_KEY_VARIABLES: &[&str] =
    &["WARD_CONFIG", "WARD_TEST_DATABASE_URL", "WARD_LOG"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub issuer: String,
    pub listen: String,
    pub data_dir: String,
    pub database_url: String,
    pub database_pool_size: i64,
    pub migrate_on_start: bool,
    pub master_key: String,
    pub master_key_file: String,
    pub log_format: String,
    pub log_level: String,
    pub trusted_proxies: Vec<String>,
    pub tls_cert: String,
    pub tls_key: String,
    pub require_par: bool,
    pub password: RawPasswordConfig,
    pub tokens: RawTokenConfig,
    pub session: RawSessionConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSessionConfig {
    pub idle_seconds: i64,
    pub absolute_seconds: i64,
}

impl Default for RawSessionConfig {
    fn default() -> Self {
        // NIST SP 800-63B §4.2.3 (AAL2): reauthenticate after 30 minutes idle, 12 hours at most.
        Self {
            idle_seconds: 30 * 60,
            absolute_seconds: 12 * 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPasswordConfig {
    pub memory_kib: i64,
    pub iterations: i64,
    pub parallelism: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTokenConfig {
    pub access_token_seconds: i64,
    pub id_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub authorization_code_seconds: i64,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: "./ward-data".into(),
            database_url: String::new(),
            database_pool_size: 8,
            migrate_on_start: true,
            master_key: String::new(),
            master_key_file: String::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            trusted_proxies: Vec::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            require_par: false,
            password: RawPasswordConfig::default(),
            tokens: RawTokenConfig::default(),
            session: RawSessionConfig::default(),
        }
    }
}

impl Default for RawPasswordConfig {
    fn default() -> Self {
        // OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Default for RawTokenConfig {
    fn default() -> Self {
        Self {
            access_token_seconds: 300,
            id_token_seconds: 300,
            refresh_token_seconds: 30 * 24 * 3600,
            authorization_code_seconds: 60,
        }
    }
}
