//! Email through the library (`ward::mail::Mailer`) into a real SMTP listener and
//! a directory, and the `[mail]` settings as the `ward` binary sees them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Backend;
use common::app::TestApp;
use common::smtp::SmtpListener;
use serde_json::json;
use ward::config::{Config, MailTransport};
use ward::mail::{MailError, Mailer};

const WAIT: Duration = Duration::from_secs(10);

/// The configuration `WARD_*` variables `vars` give (through the real loader).
fn config(vars: &[(&str, String)]) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let mut env: Vec<(String, String)> = vec![(
        "WARD_DATA_DIR".into(),
        dir.path().join("data").display().to_string(),
    )];
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Config::load(Some(&empty), &env).expect("configuration")
}

/// An SMTP relay on loopback `port` with `tls` and the relay's credentials
/// (user ward-relay, password relay-pass-5524), and `extra` settings.
fn relay_config(port: u16, tls: &str, extra: &[(&str, String)]) -> Config {
    let mut vars: Vec<(&str, String)> = vec![
        ("WARD_MAIL_TRANSPORT", "smtp".into()),
        ("WARD_MAIL_SMTP_HOST", "127.0.0.1".into()),
        ("WARD_MAIL_SMTP_PORT", port.to_string()),
        ("WARD_MAIL_SMTP_TLS", tls.into()),
        ("WARD_MAIL_SMTP_USERNAME", "ward-relay".into()),
        ("WARD_MAIL_SMTP_PASSWORD", "relay-pass-5524".into()),
    ];
    vars.extend_from_slice(extra);
    config(&vars)
}

/// Send Ada's sign-in code 736251 with `config`: the error it must fail with.
fn send_code_fails(config: &Config) -> MailError {
    Mailer::new(&config.mail)
        .unwrap()
        .send(
            "ada@hospital.example",
            "sign_in_code",
            json!({"name": "Ada", "code": "736251", "minutes": 5}),
        )
        .unwrap_err()
}

fn smtp_mailer(listener: &SmtpListener, extra: &[(&str, &str)]) -> Mailer {
    let mut vars = listener.env();
    vars.push((
        "WARD_MAIL_FROM",
        "Ward Sign-in <ward@hospital.example>".into(),
    ));
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Mailer::new(&config(&vars).mail).expect("mailer")
}

#[test]
fn a_message_arrives_over_smtp_with_headers_and_both_parts() {
    let listener = SmtpListener::start();
    let mailer = smtp_mailer(&listener, &[]);
    assert!(mailer.enabled());
    mailer
        .send(
            "ada@hospital.example",
            "sign_in_code",
            json!({"name": "Zoë <Müller> & Co", "code": "482913", "minutes": 10}),
        )
        .expect("send");

    let m = listener
        .wait_for("ada@hospital.example", WAIT)
        .expect("the message arrives");
    assert_eq!(m.from, "ward@hospital.example");
    assert_eq!(m.to, vec!["ada@hospital.example".to_string()]);
    assert_eq!(m.auth_user, None);
    let from = m.header("From").unwrap();
    assert!(from.contains("<ward@hospital.example>"), "{from}");
    assert_eq!(m.header("To").as_deref(), Some("ada@hospital.example"));
    assert_eq!(m.header("Subject").as_deref(), Some("Your sign-in code"));
    assert_eq!(m.content_type(), "multipart/alternative");

    let text = m.text_body().expect("a text/plain part");
    assert!(text.contains("482913"), "{text}");
    assert!(text.contains("Hello Zoë <Müller> & Co,"), "{text}");
    assert!(text.contains("10 minutes"), "{text}");
    let html = m.html_body().expect("a text/html part");
    assert!(html.contains("482913"), "{html}");
    assert!(html.contains("Zoë &lt;Müller&gt; &amp; Co"), "{html}");
    assert!(!html.contains("<Müller>"), "{html}");
}

#[test]
fn credentials_are_sent_when_configured() {
    let listener = SmtpListener::start();
    let mailer = smtp_mailer(
        &listener,
        &[
            ("WARD_MAIL_SMTP_USERNAME", "ward-relay"),
            ("WARD_MAIL_SMTP_PASSWORD", "relay-pass-5524"),
        ],
    );
    mailer
        .send(
            "bob@hospital.example",
            "password_changed",
            json!({"name": "Bob", "when": "2025-03-04 10:15 UTC"}),
        )
        .expect("send");
    let m = listener.wait_for("bob@hospital.example", WAIT).unwrap();
    assert_eq!(m.auth_user.as_deref(), Some("ward-relay"));
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Your password was changed")
    );
    assert!(!format!("{mailer:?}").contains("relay-pass-5524"));
}

#[tokio::test]
async fn send_async_runs_on_the_blocking_pool() {
    let listener = SmtpListener::start();
    let mailer = Arc::new(smtp_mailer(&listener, &[]));
    mailer
        .send_async(
            "carol@hospital.example".into(),
            "totp_enabled",
            json!({"name": "Carol", "when": "today"}),
        )
        .await
        .expect("send_async");
    let m = listener.wait_for("carol@hospital.example", WAIT).unwrap();
    assert!(
        m.text_body()
            .unwrap()
            .contains("contact your administrator")
    );
}

#[test]
fn a_recipient_with_a_line_break_is_refused_and_nothing_is_sent() {
    let listener = SmtpListener::start();
    let mailer = smtp_mailer(&listener, &[]);
    for evil in [
        "ada@hospital.example\r\nBcc: eve@example.org",
        "ada@hospital.example\nBcc: eve@example.org",
        "ada@hospital.example\r",
        "Ada <ada@hospital.example>",
        "not an address",
    ] {
        let err = mailer
            .send(
                evil,
                "sign_in_code",
                json!({"name": "Ada", "code": "111222", "minutes": 5}),
            )
            .unwrap_err();
        assert!(
            matches!(err, MailError::InvalidRecipient),
            "{evil:?}: {err}"
        );
    }
    // A good message afterwards is the only one that arrives.
    mailer
        .send(
            "ada@hospital.example",
            "totp_removed",
            json!({"name": "Ada", "when": "now"}),
        )
        .unwrap();
    listener.wait_for("ada@hospital.example", WAIT).unwrap();
    let all = listener.messages();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(!all[0].data.contains("eve@example.org"));
}

#[test]
fn encryption_is_required_when_configured() {
    // The listener offers neither STARTTLS nor TLS: nothing may be sent in clear.
    let listener = SmtpListener::start();
    for (tls, expected) in [("starttls", "STARTTLS"), ("tls", "TLS")] {
        let config = relay_config(
            listener.port(),
            tls,
            &[("WARD_MAIL_TIMEOUT_SECONDS", "3".into())],
        );
        let err = send_code_fails(&config);
        let text = err.to_string();
        assert!(matches!(err, MailError::Smtp { .. }), "{tls}: {text}");
        assert!(text.contains(expected), "{tls}: {text}");
        assert!(!text.contains("736251") && !text.contains("relay-pass-5524"));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(listener.messages().is_empty());
}

#[test]
fn the_file_transport_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("outbox");
    let config = config(&[
        ("WARD_MAIL_TRANSPORT", "file".into()),
        ("WARD_MAIL_FILE_DIR", mail_dir.display().to_string()),
    ]);
    assert!(matches!(config.mail.transport, MailTransport::File { ref dir } if *dir == mail_dir));
    let mailer = Mailer::new(&config.mail).unwrap();
    mailer
        .send(
            "dan@hospital.example",
            "new_device_sign_in",
            json!({"name": "Dan", "when": "now", "ip": "203.0.113.9", "user_agent": "Firefox"}),
        )
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let content = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        content.contains("Subject: New sign-in to your account"),
        "{content}"
    );
    assert!(content.contains("To: dan@hospital.example"), "{content}");
}

#[test]
fn the_file_transport_defaults_to_data_dir_mail() {
    let config = config(&[("WARD_MAIL_TRANSPORT", "file".into())]);
    match &config.mail.transport {
        MailTransport::File { dir } => assert!(dir.ends_with("data/mail"), "{}", dir.display()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreachable_server_is_reported_without_secrets() {
    // A port that nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = relay_config(port, "none", &[]);
    let err = send_code_fails(&config);
    let text = err.to_string();
    assert!(matches!(err, MailError::Smtp { .. }), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("736251"), "{text}");
    assert!(!text.contains("relay-pass-5524"), "{text}");
    assert!(!format!("{err:?}").contains("relay-pass-5524"));
    assert!(!format!("{config:?}").contains("relay-pass-5524"));
}

fn the_server_starts_with_smtp_settings(backend: Backend) {
    let app = TestApp::new(backend).smtp().start();
    let (status, _, _) = common::get(&app.server.url("/healthz"));
    assert_eq!(status, 200);
}

fn unencrypted_smtp_to_a_remote_host_is_a_configuration_error(backend: Backend) {
    // Unencrypted SMTP to a remote host: a configuration error naming the variable.
    let bad = TestApp::new(backend)
        .env("WARD_MAIL_TRANSPORT", "smtp")
        .env("WARD_MAIL_SMTP_HOST", "smtp.example.org")
        .env("WARD_MAIL_SMTP_TLS", "none")
        .env("WARD_MAIL_SMTP_PASSWORD", "relay-pass-5524")
        .env("WARD_MAIL_SMTP_USERNAME", "ward");
    let out = bad.run(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WARD_MAIL_SMTP_TLS"), "{stderr}");
    assert!(!stderr.contains("relay-pass-5524"), "{stderr}");
}

fn a_mail_directory_that_cannot_exist_stops_the_start(backend: Backend) {
    // A file transport directory that cannot exist: a start-up error about email.
    let blocked = TestApp::new(backend);
    let file = blocked.dir().join("a-file");
    std::fs::write(&file, "").unwrap();
    let blocked = blocked.env("WARD_MAIL_TRANSPORT", "file").env(
        "WARD_MAIL_FILE_DIR",
        &file.join("mail").display().to_string(),
    );
    let err = match blocked.try_start() {
        Ok(_) => panic!("ward serve started with an unusable mail directory"),
        Err(e) => e,
    };
    assert!(err.contains("email"), "{err}");
}

per_backend!(
    the_server_starts_with_smtp_settings,
    unencrypted_smtp_to_a_remote_host_is_a_configuration_error,
    a_mail_directory_that_cannot_exist_stops_the_start,
);
