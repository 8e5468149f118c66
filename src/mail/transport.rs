//! Where a built message goes: nowhere, standard output, a directory, or SMTP.

use std::io::Write;
use std::path::{Path, PathBuf};

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};

use super::MailError;
use crate::config::{MailTransport, SmtpSettings, SmtpTls};

pub(super) enum Transport {
    None,
    Stdout,
    File {
        dir: PathBuf,
        inner: FileTransport,
    },
    Smtp {
        /// `host:port`, for error messages.
        server: String,
        inner: Box<SmtpTransport>,
    },
}

impl Transport {
    pub(super) fn new(config: &MailTransport) -> Result<Self, MailError> {
        Ok(match config {
            MailTransport::None => Self::None,
            MailTransport::Stdout => Self::Stdout,
            MailTransport::File { dir } => {
                create_private_dir(dir)?;
                Self::File {
                    dir: dir.clone(),
                    inner: FileTransport::new(dir),
                }
            }
            MailTransport::Smtp(settings) => Self::Smtp {
                server: server_name(settings),
                inner: Box::new(smtp(settings)?),
            },
        })
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Stdout => "stdout",
            Self::File { .. } => "file",
            Self::Smtp { .. } => "smtp",
        }
    }

    pub(super) fn send(&self, message: &Message) -> Result<(), MailError> {
        match self {
            Self::None => Err(MailError::Disabled),
            Self::Stdout => {
                // Development only: this prints one-time codes in clear.
                let formatted = message.formatted();
                let mut out = std::io::stdout().lock();
                out.write_all(b"----- ward mail (stdout transport, development only) -----\n")
                    .and_then(|()| out.write_all(&formatted))
                    .and_then(|()| out.write_all(b"\n----- end of message -----\n"))
                    .and_then(|()| out.flush())
                    .map_err(|e| MailError::Stdout(e.to_string()))
            }
            Self::File { dir, inner } => {
                inner.send(message).map_err(|e| MailError::File {
                    dir: dir.clone(),
                    message: e.to_string(),
                })?;
                Ok(())
            }
            Self::Smtp { server, inner } => {
                inner.send(message).map_err(|e| MailError::Smtp {
                    server: server.clone(),
                    reason: smtp_reason(&e),
                })?;
                Ok(())
            }
        }
    }
}

fn server_name(settings: &SmtpSettings) -> String {
    if settings.host.contains(':') {
        format!("[{}]:{}", settings.host, settings.port)
    } else {
        format!("{}:{}", settings.host, settings.port)
    }
}

fn smtp(settings: &SmtpSettings) -> Result<SmtpTransport, MailError> {
    let tls_parameters = || {
        TlsParameters::builder(settings.host.clone())
            .build_rustls()
            .map_err(|e| MailError::Config(format!("SMTP TLS settings: {e}")))
    };
    let tls = match settings.tls {
        // Required: no credentials and no message cross an unupgraded connection.
        SmtpTls::StartTls => Tls::Required(tls_parameters()?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
        // Validation allows this only for a loopback host.
        SmtpTls::None => Tls::None,
    };
    let mut builder = SmtpTransport::builder_dangerous(settings.host.clone())
        .port(settings.port)
        .tls(tls)
        .timeout(Some(settings.timeout));
    if let Some(c) = &settings.credentials {
        builder = builder.credentials(Credentials::new(
            c.username.clone(),
            c.password.as_str().to_owned(),
        ));
    }
    Ok(builder.build())
}

/// Why an SMTP exchange failed, without the server's free text (which could quote
/// what we sent) and never with the credentials or the message.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        let code = code.to_string();
        let what = match code.as_str() {
            "530" | "534" | "535" | "538" => "authentication failed",
            _ if e.is_permanent() => "the server refused",
            _ => "the server refused for now (try again later)",
        };
        return format!("{what} (reply {code})");
    }
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_response() {
        return "the server's reply could not be understood".into();
    }
    // Connection, network, TLS and client errors: the message of the innermost cause
    // (an I/O or TLS error, or lettre's own description).
    let mut reason = e.to_string();
    let mut tls = e.is_tls();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        tls |= is_rustls_error(s);
        source = s.source();
    }
    if tls {
        format!("TLS failed: {reason}")
    } else {
        reason
    }
}

/// A TLS failure surfaces as a `rustls::Error`, possibly inside an `io::Error`.
fn is_rustls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    e.is::<rustls::Error>()
        || e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<rustls::Error>())
}

/// The file transport's directory holds messages with codes in them: owner only.
fn create_private_dir(dir: &Path) -> Result<(), MailError> {
    let error = |e: std::io::Error| MailError::Directory {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    };
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(error)?;
        }
    }
    if !dir.is_dir() {
        return Err(error(std::io::Error::other("not a directory")));
    }
    Ok(())
}
