//! Email: templates rendered with minijinja into multipart/alternative messages
//! (text and HTML), sent through the configured transport (docs/mail.md).
//!
//! Errors never carry a one-time code, a message body or the SMTP password.

mod templates;
mod transport;

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};

use crate::config::MailConfig;

use templates::Templates;
pub use templates::{Rendered, names as template_names};
use transport::Transport;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("email is disabled (mail.transport is `none`)")]
    Disabled,
    /// The recipient is not a single plain address (the address itself is not repeated).
    #[error("the recipient is not a valid email address")]
    InvalidRecipient,
    #[error("there is no email template `{0}`")]
    UnknownTemplate(String),
    /// A template failed to compile or render (e.g. a missing variable).
    #[error("email template `{template}`: {message}")]
    Template { template: String, message: String },
    #[error("the subject of email template `{0}` contains a line break or control character")]
    SubjectLineBreak(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("cannot write the message to standard output: {0}")]
    Stdout(String),
    #[error("the mail directory {} cannot be used: {message}", dir.display())]
    Directory { dir: PathBuf, message: String },
    #[error("cannot write the message into {}: {message}", dir.display())]
    File { dir: PathBuf, message: String },
    #[error("SMTP server {server}: {reason}")]
    Smtp { server: String, reason: String },
    #[error("the email worker stopped before sending")]
    Worker,
}

impl MailError {
    /// The template's name, the kind of problem and the line: minijinja's own
    /// message is left out because it may quote a value (a code).
    fn template(template: &str, e: &minijinja::Error) -> Self {
        let message = match e.line() {
            Some(line) => format!("{} (line {line})", e.kind()),
            None => e.kind().to_string(),
        };
        Self::Template {
            template: template.to_string(),
            message,
        }
    }
}

/// Sends the templated emails. Build one at start-up and share it (`Arc`).
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    templates: Templates,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &self.transport.name())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Compile the templates and prepare the transport (the file transport's
    /// directory is created here; SMTP connects only when sending).
    pub fn new(config: &MailConfig) -> Result<Mailer, MailError> {
        Ok(Self {
            from: config.from.clone(),
            transport: Transport::new(&config.transport)?,
            templates: Templates::new()?,
        })
    }

    /// False when `mail.transport` is `none`: sending would fail with [`MailError::Disabled`].
    pub fn enabled(&self) -> bool {
        !matches!(self.transport, Transport::None)
    }

    /// `none`, `stdout`, `file` or `smtp`.
    pub fn transport_name(&self) -> &'static str {
        self.transport.name()
    }

    /// Render `template` with `vars` without sending it.
    pub fn render(&self, template: &str, vars: &serde_json::Value) -> Result<Rendered, MailError> {
        self.templates.render(template, vars)
    }

    /// Render `template` with `vars` and send it to `to` (blocking: call from a
    /// blocking thread, or use [`Mailer::send_async`]).
    pub fn send(&self, to: &str, template: &str, vars: serde_json::Value) -> Result<(), MailError> {
        // The template names the kind of mail; the address is not recorded.
        let _span = tracing::info_span!("mail.send", template).entered();
        let message = self.message(to, template, &vars)?;
        self.transport.send(&message)?;
        tracing::debug!(template, transport = self.transport.name(), "email sent");
        Ok(())
    }

    /// [`Mailer::send`] on tokio's blocking pool.
    pub async fn send_async(
        self: &Arc<Self>,
        to: String,
        template: &'static str,
        vars: serde_json::Value,
    ) -> Result<(), MailError> {
        let mailer = Arc::clone(self);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| mailer.send(&to, template, vars)))
            .await
            .map_err(|_| MailError::Worker)?
    }

    /// The complete message: From, To, Subject, and a multipart/alternative body.
    fn message(
        &self,
        to: &str,
        template: &str,
        vars: &serde_json::Value,
    ) -> Result<Message, MailError> {
        let to = parse_recipient(to)?;
        let rendered = self.templates.render(template, vars)?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

/// One plain address (`user@example.org`), nothing else: no display name, no
/// list, no line break.
pub fn parse_recipient(to: &str) -> Result<Address, MailError> {
    if to.is_empty() || to.len() > 254 || to.contains(|c: char| c.is_control() || c.is_whitespace())
    {
        return Err(MailError::InvalidRecipient);
    }
    to.parse::<Address>()
        .map_err(|_| MailError::InvalidRecipient)
}

#[cfg(test)]
mod tests;
