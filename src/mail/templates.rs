//! Email templates (minijinja), compiled into the binary: `templates/email/<name>/`
//! `subject.txt`, `body.txt` (not escaped) and `body.html` (HTML auto-escaped).

use minijinja::{Environment, UndefinedBehavior, Value};

use super::MailError;

/// (name, subject.txt, body.txt, body.html)
const TEMPLATES: &[(&str, &str, &str, &str)] = &[
    (
        "verify_email",
        include_str!("../../templates/email/verify_email/subject.txt"),
        include_str!("../../templates/email/verify_email/body.txt"),
        include_str!("../../templates/email/verify_email/body.html"),
    ),
    (
        "sign_in_code",
        include_str!("../../templates/email/sign_in_code/subject.txt"),
        include_str!("../../templates/email/sign_in_code/body.txt"),
        include_str!("../../templates/email/sign_in_code/body.html"),
    ),
    (
        "passkey_added",
        include_str!("../../templates/email/passkey_added/subject.txt"),
        include_str!("../../templates/email/passkey_added/body.txt"),
        include_str!("../../templates/email/passkey_added/body.html"),
    ),
    (
        "totp_enabled",
        include_str!("../../templates/email/totp_enabled/subject.txt"),
        include_str!("../../templates/email/totp_enabled/body.txt"),
        include_str!("../../templates/email/totp_enabled/body.html"),
    ),
    (
        "totp_removed",
        include_str!("../../templates/email/totp_removed/subject.txt"),
        include_str!("../../templates/email/totp_removed/body.txt"),
        include_str!("../../templates/email/totp_removed/body.html"),
    ),
    (
        "recovery_code_used",
        include_str!("../../templates/email/recovery_code_used/subject.txt"),
        include_str!("../../templates/email/recovery_code_used/body.txt"),
        include_str!("../../templates/email/recovery_code_used/body.html"),
    ),
    (
        "recovery_codes_regenerated",
        include_str!("../../templates/email/recovery_codes_regenerated/subject.txt"),
        include_str!("../../templates/email/recovery_codes_regenerated/body.txt"),
        include_str!("../../templates/email/recovery_codes_regenerated/body.html"),
    ),
    (
        "new_device_sign_in",
        include_str!("../../templates/email/new_device_sign_in/subject.txt"),
        include_str!("../../templates/email/new_device_sign_in/body.txt"),
        include_str!("../../templates/email/new_device_sign_in/body.html"),
    ),
    (
        "password_changed",
        include_str!("../../templates/email/password_changed/subject.txt"),
        include_str!("../../templates/email/password_changed/body.txt"),
        include_str!("../../templates/email/password_changed/body.html"),
    ),
    (
        "break_glass_elevated",
        include_str!("../../templates/email/break_glass_elevated/subject.txt"),
        include_str!("../../templates/email/break_glass_elevated/body.txt"),
        include_str!("../../templates/email/break_glass_elevated/body.html"),
    ),
];

const LAYOUT: &str = include_str!("../../templates/email/layout.html");

/// The names of every email template.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(name, ..)| *name)
}

/// One message, rendered: what goes into the headers and the two parts.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, without CR or LF.
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Rendered {
    // The bodies may hold one-time codes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, MailError> {
        let mut env = Environment::new();
        // A missing variable is an error, never an empty string in a message.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // The default auto-escape callback escapes `.html` and nothing else: the
        // subject and the text part are plain text.
        let add = |env: &mut Environment<'static>, name: String, source: &'static str| {
            env.add_template_owned(name.clone(), source)
                .map_err(|e| MailError::template(&name, &e))
        };
        add(&mut env, "layout.html".into(), LAYOUT)?;
        for (name, subject, text, html) in TEMPLATES {
            add(&mut env, format!("{name}/subject.txt"), subject)?;
            add(&mut env, format!("{name}/body.txt"), text)?;
            add(&mut env, format!("{name}/body.html"), html)?;
        }
        Ok(Self { env })
    }

    /// Render template `name` with `vars` (a JSON object).
    pub fn render(&self, name: &str, vars: &serde_json::Value) -> Result<Rendered, MailError> {
        if self
            .env
            .get_template(&format!("{name}/subject.txt"))
            .is_err()
        {
            return Err(MailError::UnknownTemplate(name.to_string()));
        }
        let context = Value::from_serialize(vars);
        let render = |part: &str| {
            let full = format!("{name}/{part}");
            self.env
                .get_template(&full)
                .and_then(|t| t.render(&context))
                .map_err(|e| MailError::template(&full, &e))
        };
        let subject = render("subject.txt")?;
        let subject = subject.trim();
        // CR/LF would start a new header; no control character belongs in a subject.
        if subject.contains(char::is_control) {
            return Err(MailError::SubjectLineBreak(name.to_string()));
        }
        Ok(Rendered {
            subject: subject.to_string(),
            text: ensure_final_newline(render("body.txt")?),
            html: ensure_final_newline(render("body.html")?),
        })
    }
}

#[cfg(test)]
impl Templates {
    /// Add a template (for tests of the rendering rules themselves).
    pub(super) fn add_for_test(&mut self, name: &str, subject: &str, text: &str, html: &str) {
        for (part, source) in [
            ("subject.txt", subject),
            ("body.txt", text),
            ("body.html", html),
        ] {
            self.env
                .add_template_owned(format!("{name}/{part}"), source.to_string())
                .expect("test template");
        }
    }
}

fn ensure_final_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
