//! `[mail]`: the typed email settings and their validation.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use zeroize::Zeroizing;

use super::ConfigError;
use super::raw::RawMailConfig;
use super::validate::in_range;

/// How Ward sends email (see docs/mail.md).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The `From` of every message.
    pub from: Mailbox,
    pub transport: MailTransport,
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// Email is off: sending fails with `MailError::Disabled`.
    None,
    /// Development: print every message to standard output.
    Stdout,
    /// Development: write every message as an `.eml` file into this directory.
    File { dir: PathBuf },
    /// An SMTP relay.
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub credentials: Option<SmtpCredentials>,
    /// Connect and command timeout.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused when the server does not offer it.
    StartTls,
    /// TLS from the first byte (implicit TLS, usually port 465).
    Tls,
    /// No encryption: only allowed for a loopback host.
    None,
}

/// SMTP credentials. `Debug` never shows the password.
#[derive(Clone)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: Zeroizing<String>,
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

impl MailTransport {
    /// The name used in the configuration (`none`, `stdout`, `file`, `smtp`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Stdout => "stdout",
            Self::File { .. } => "file",
            Self::Smtp(_) => "smtp",
        }
    }
}

/// Unencrypted SMTP is allowed only to these: `localhost` or a loopback address.
fn is_loopback_smtp_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

pub(super) fn validate_mail(
    raw: &RawMailConfig,
    data_dir: &Path,
) -> Result<MailConfig, ConfigError> {
    let from_value = raw.from.trim();
    if from_value.chars().any(char::is_control) {
        return Err(ConfigError::invalid(
            "mail.from",
            "must not contain control characters or line breaks",
        ));
    }
    let from: Mailbox = from_value.parse().map_err(|_| {
        ConfigError::invalid(
            "mail.from",
            format!(
                "`{from_value}` is not an email address such as `Ward <ward@hospital.example>` or `ward@hospital.example`"
            ),
        )
    })?;

    let tls = match raw.smtp_tls.trim() {
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        "none" => SmtpTls::None,
        other => {
            return Err(ConfigError::invalid(
                "mail.smtp_tls",
                format!("`{other}` is not one of: starttls, tls, none"),
            ));
        }
    };
    let port = in_range("mail.smtp_port", raw.smtp_port, 1, 65535)? as u16;
    let timeout = Duration::from_secs(u64::from(in_range(
        "mail.timeout_seconds",
        raw.timeout_seconds,
        1,
        300,
    )?));

    let transport = match raw.transport.trim() {
        "none" => MailTransport::None,
        "stdout" => MailTransport::Stdout,
        "file" => MailTransport::File {
            dir: match raw.file_dir.trim() {
                "" => data_dir.join("mail"),
                dir => PathBuf::from(dir),
            },
        },
        "smtp" => MailTransport::Smtp(smtp(raw, tls, port, timeout)?),
        other => {
            return Err(ConfigError::invalid(
                "mail.transport",
                format!("`{other}` is not one of: none, stdout, file, smtp"),
            ));
        }
    };

    Ok(MailConfig { from, transport })
}

/// The `smtp` transport's settings; `tls`, `port` and `timeout` are checked already.
fn smtp(
    raw: &RawMailConfig,
    tls: SmtpTls,
    port: u16,
    timeout: Duration,
) -> Result<SmtpSettings, ConfigError> {
    let host = raw.smtp_host.trim();
    // `[::1]` -> `::1`: the port is a key of its own.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(ConfigError::invalid(
            "mail.smtp_host",
            "must be set when mail.transport is `smtp`",
        ));
    }
    if host.contains(|c: char| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(ConfigError::invalid(
            "mail.smtp_host",
            format!("`{host}` is not a host name or IP address"),
        ));
    }
    if host.contains(':') && host.parse::<IpAddr>().is_err() {
        return Err(ConfigError::invalid(
            "mail.smtp_host",
            format!("`{host}` is not a host name or IP address; set the port in mail.smtp_port"),
        ));
    }
    if tls == SmtpTls::None && !is_loopback_smtp_host(host) {
        return Err(ConfigError::invalid(
            "mail.smtp_tls",
            format!(
                "`none` (unencrypted SMTP) is only allowed for 127.0.0.1, ::1 or localhost, not `{host}`; \
                 use `starttls` or `tls`"
            ),
        ));
    }
    let credentials = smtp_credentials(raw)?;
    Ok(SmtpSettings {
        host: host.to_string(),
        port,
        tls,
        credentials,
        timeout,
    })
}

/// `mail.smtp_username` and `mail.smtp_password`: both or neither.
fn smtp_credentials(raw: &RawMailConfig) -> Result<Option<SmtpCredentials>, ConfigError> {
    let username = raw.smtp_username.trim();
    // Never echo the password, not even its length.
    let credentials = match (username.is_empty(), raw.smtp_password.is_empty()) {
        (true, true) => None,
        (true, false) => {
            return Err(ConfigError::invalid(
                "mail.smtp_username",
                "mail.smtp_password is set but mail.smtp_username is not; set both or neither",
            ));
        }
        (false, true) => {
            return Err(ConfigError::invalid(
                "mail.smtp_password",
                "mail.smtp_username is set but mail.smtp_password is not; set both or neither",
            ));
        }
        (false, false) => Some(SmtpCredentials {
            username: username.to_string(),
            password: Zeroizing::new(raw.smtp_password.clone()),
        }),
    };
    Ok(credentials)
}
