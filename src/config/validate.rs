//! [`RawConfig`] -> [`Config`], one function per setting or section. Keys are
//! checked in a fixed order and the first wrong one stops validation, so its
//! error is the one reported.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use url::Url;

use super::raw::{
    RawBreakGlassConfig, RawConfig, RawPasskeyConfig, RawPasswordConfig, RawSessionConfig,
    RawTokenConfig,
};
use super::{
    BreakGlassPolicy, Config, ConfigError, DatabaseUrl, LogFormat, MasterKeySource, PasskeyPolicy,
    PasswordParams, SessionLifetimes, SessionPolicy, TlsFiles, TokenLifetimes, mail,
};
use crate::crypto::keyring::MasterKey;
use crate::domain::acr::{ACR_VALUES, Acr};
use crate::domain::client::is_loopback_host;

pub(super) fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let (issuer, issuer_url) = validate_issuer(&raw.issuer)?;
    let listen = listen(&raw.listen)?;
    let data_dir = data_dir(&raw.data_dir)?;
    let database = database(&raw.database_url, &data_dir)?;
    let database_pool_size = in_range("database_pool_size", raw.database_pool_size, 1, 256)?;
    let master_key = master_key(&raw, &data_dir)?;
    let (log_format, log_level) = logging(&raw.log_format, &raw.log_level)?;
    let trusted_proxies = networks("trusted_proxies", &raw.trusted_proxies)?;
    let tls = tls(raw.tls_cert.trim(), raw.tls_key.trim())?;
    let password = password(&raw.password)?;
    let tokens = tokens(&raw.tokens)?;
    let session = session(&raw.session)?;
    let shared_workstation_networks = networks(
        "session.shared_workstation.networks",
        &raw.session.shared_workstation.networks,
    )?;
    let risk = raw
        .risk
        .validate()
        .map_err(|e| ConfigError::invalid("risk", e))?;
    let scope_min_acr = scope_min_acr(&raw.scope_min_acr)?;
    let mail = mail::validate_mail(&raw.mail, &data_dir)?;
    let reauth_seconds = in_range("reauth_seconds", raw.reauth_seconds, 1, 24 * 3600)?;
    let request_timeout_seconds = in_range(
        "request_timeout_seconds",
        raw.request_timeout_seconds,
        1,
        300,
    )?;
    let passkeys = passkeys(&raw.passkeys)?;
    let email_code_seconds = in_range("email_code_seconds", raw.email_code_seconds, 1, 3600)?;
    let admin_max_auth_age_seconds = in_range(
        "admin_max_auth_age_seconds",
        raw.admin_max_auth_age_seconds,
        60,
        24 * 3600,
    )?;
    let break_glass = break_glass(&raw.break_glass)?;
    let consent_policy_version = consent_policy_version(&raw.consent_policy_version)?;
    Ok(Config {
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
        consent_policy_version,
        request_timeout_seconds,
        admin_max_auth_age_seconds,
        admin_console_client_id: crate::domain::ClientId::parse(&raw.admin_console_client_id)
            .map_err(|e| ConfigError::invalid("admin_console_client_id", e.to_string()))?,
        passkeys,
        break_glass,
        allow_insecure_jwks_uri: raw.clients.allow_insecure_jwks_uri
            || raw.clients.allow_insecure_fetch,
        telemetry: telemetry(&raw.telemetry)?,
        disclosure_retention_days: retention_days(raw.privacy.disclosure_retention_days)?,
        warnings: Vec::new(),
    })
}

/// 1 to 64 visible ASCII characters (`2026-12`, `v3`): it is kept with
/// every consent record and shown to administrators.
fn consent_policy_version(value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ConfigError::invalid(
            "consent_policy_version",
            "must be 1 to 64 visible ASCII characters",
        ));
    }
    Ok(v.to_string())
}

fn data_dir(value: &str) -> Result<PathBuf, ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::invalid("data_dir", "must not be empty"));
    }
    Ok(PathBuf::from(value.trim()))
}

/// `[privacy] disclosure_retention_days`: 1 day to 100 years. HIPAA asks for
/// six years (the default); less is the operator's choice, and said in the docs.
fn retention_days(days: i64) -> Result<u32, ConfigError> {
    u32::try_from(days)
        .ok()
        .filter(|d| (1..=36_500).contains(d))
        .ok_or_else(|| {
            ConfigError::invalid(
                "privacy.disclosure_retention_days",
                "must be 1 to 36500 days (default 2190: six years, HIPAA 164.528)",
            )
        })
}

/// `[telemetry]`: an http(s) collector URL, or nothing.
fn telemetry(raw: &super::raw::RawTelemetryConfig) -> Result<super::TelemetryConfig, ConfigError> {
    let endpoint = raw.otlp_endpoint.trim();
    let otlp_endpoint = if endpoint.is_empty() {
        None
    } else {
        let url = Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::invalid(
                    "telemetry.otlp_endpoint",
                    "must be an http:// or https:// URL, e.g. http://127.0.0.1:4318",
                )
            })?;
        Some(url)
    };
    let service_name = raw.service_name.trim();
    if service_name.is_empty() || service_name.len() > 128 {
        return Err(ConfigError::invalid(
            "telemetry.service_name",
            "must be 1 to 128 characters",
        ));
    }
    Ok(super::TelemetryConfig {
        otlp_endpoint,
        service_name: service_name.to_string(),
    })
}

fn listen(value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| {
        ConfigError::invalid(
            "listen",
            "expected an address and port such as 127.0.0.1:8080",
        )
    })
}

fn database(url: &str, data_dir: &Path) -> Result<DatabaseUrl, ConfigError> {
    if url.trim().is_empty() {
        Ok(DatabaseUrl::Sqlite(data_dir.join("ward.db")))
    } else {
        DatabaseUrl::parse(url).map_err(|m| ConfigError::invalid("database_url", m))
    }
}

fn master_key(raw: &RawConfig, data_dir: &Path) -> Result<MasterKeySource, ConfigError> {
    Ok(if !raw.master_key.trim().is_empty() {
        // Never echo the value: it is the key to every sealed secret.
        MasterKeySource::Inline(MasterKey::from_base64(raw.master_key.trim()).map_err(|_| {
            ConfigError::invalid(
                "master_key",
                "expected the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)",
            )
        })?)
    } else if !raw.master_key_file.trim().is_empty() {
        MasterKeySource::File(PathBuf::from(raw.master_key_file.trim()))
    } else {
        MasterKeySource::File(data_dir.join("master.key"))
    })
}

fn logging(format: &str, level: &str) -> Result<(LogFormat, String), ConfigError> {
    let log_format = match format.trim() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(ConfigError::invalid(
                "log_format",
                format!("`{other}` is not one of: text, json"),
            ));
        }
    };
    let log_level = level.trim().to_string();
    tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| {
        ConfigError::invalid(
            "log_level",
            format!("not a valid filter ({e}); try `info` or `ward=debug,info`"),
        )
    })?;
    Ok((log_format, log_level))
}

fn networks(key: &str, values: &[String]) -> Result<Vec<IpNet>, ConfigError> {
    values.iter().map(|p| parse_network_for(key, p)).collect()
}

fn tls(cert: &str, key: &str) -> Result<Option<TlsFiles>, ConfigError> {
    match (cert, key) {
        ("", "") => Ok(None),
        ("", _) => Err(ConfigError::invalid(
            "tls_cert",
            "tls_key is set but tls_cert is not; set both or neither",
        )),
        (_, "") => Err(ConfigError::invalid(
            "tls_key",
            "tls_cert is set but tls_key is not; set both or neither",
        )),
        (cert, key) => {
            for (name, path) in [("tls_cert", cert), ("tls_key", key)] {
                if !Path::new(path).is_file() {
                    return Err(ConfigError::invalid(
                        name,
                        format!("file `{path}` does not exist"),
                    ));
                }
            }
            Ok(Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }))
        }
    }
}

fn password(raw: &RawPasswordConfig) -> Result<PasswordParams, ConfigError> {
    Ok(PasswordParams {
        memory_kib: in_range(
            "password.memory_kib",
            raw.memory_kib,
            8 * 1024,
            4 * 1024 * 1024,
        )?,
        iterations: in_range("password.iterations", raw.iterations, 1, 100)?,
        parallelism: in_range("password.parallelism", raw.parallelism, 1, 64)?,
    })
}

fn tokens(raw: &RawTokenConfig) -> Result<TokenLifetimes, ConfigError> {
    Ok(TokenLifetimes {
        access_token_seconds: in_range(
            "tokens.access_token_seconds",
            raw.access_token_seconds,
            10,
            24 * 3600,
        )?,
        id_token_seconds: in_range(
            "tokens.id_token_seconds",
            raw.id_token_seconds,
            10,
            24 * 3600,
        )?,
        refresh_token_seconds: in_range(
            "tokens.refresh_token_seconds",
            raw.refresh_token_seconds,
            60,
            365 * 24 * 3600,
        )?,
        // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
        authorization_code_seconds: in_range(
            "tokens.authorization_code_seconds",
            raw.authorization_code_seconds,
            5,
            600,
        )?,
        // SMART App Launch: a launch is used within moments of the EHR making it.
        smart_launch_seconds: in_range(
            "tokens.smart_launch_seconds",
            raw.smart_launch_seconds,
            10,
            3600,
        )?,
    })
}

fn session(s: &RawSessionConfig) -> Result<SessionPolicy, ConfigError> {
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
    Ok(SessionPolicy {
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
    })
}

/// `[scope_min_acr]`: every value must be an acr Ward issues.
fn scope_min_acr(raw: &BTreeMap<String, String>) -> Result<BTreeMap<String, Acr>, ConfigError> {
    raw.iter()
        .map(|(scope, acr)| match Acr::parse(acr) {
            Ok(a) => Ok((scope.clone(), a)),
            Err(_) => Err(ConfigError::invalid(
                &format!("scope_min_acr.{scope}"),
                format!(
                    "`{acr}` is not an acr Ward issues ({})",
                    ACR_VALUES.join(", ")
                ),
            )),
        })
        .collect()
}

fn passkeys(raw: &RawPasskeyConfig) -> Result<PasskeyPolicy, ConfigError> {
    Ok(PasskeyPolicy {
        staff_aaguids: raw
            .staff_aaguids
            .iter()
            .map(|a| {
                uuid::Uuid::parse_str(a.trim()).map_err(|_| {
                    ConfigError::invalid("passkeys.staff_aaguids", "not a list of AAGUIDs (UUIDs)")
                })
            })
            .collect::<Result<_, _>>()?,
        ceremony_seconds: in_range("passkeys.ceremony_seconds", raw.ceremony_seconds, 1, 3600)?,
    })
}

fn break_glass(raw: &RawBreakGlassConfig) -> Result<BreakGlassPolicy, ConfigError> {
    Ok(BreakGlassPolicy {
        seconds: in_range("break_glass.seconds", raw.seconds, 1, 24 * 3600)?,
        max_auth_age_seconds: in_range(
            "break_glass.max_auth_age_seconds",
            raw.max_auth_age_seconds,
            1,
            3600,
        )?,
        notify: raw
            .notify
            .iter()
            .map(|a| {
                crate::domain::Email::parse(a.trim())
                    .map(|e| e.as_str().to_string())
                    .map_err(|_| {
                        ConfigError::invalid("break_glass.notify", "not a list of email addresses")
                    })
            })
            .collect::<Result<_, _>>()?,
    })
}

pub(super) fn validate_issuer(value: &str) -> Result<(String, Url), ConfigError> {
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

pub(super) fn in_range(key: &str, value: i64, min: i64, max: i64) -> Result<u32, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            key,
            format!("{value} is out of range; expected {min} to {max}"),
        ));
    }
    Ok(value as u32)
}
