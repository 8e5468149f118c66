use serde_json::json;

use super::*;
use crate::config::MailTransport;

/// Variables for every template: each value is distinctive, so a test can find it.
fn vars_for(template: &str) -> serde_json::Value {
    let all = json!({
        "name": "Dr Ada Lovelace",
        "code": "482913",
        "link": "https://id.example.org/verify?t=abc",
        "minutes": 15,
        "passkey_name": "Ward laptop",
        "when": "2025-03-04 10:15 UTC",
        "remaining": 7,
        "ip": "203.0.113.9",
        "user_agent": "Firefox on Linux",
        "user": "dr.grey",
        "tenant": "st-mary",
        "reason": "Unconscious patient, no consent possible",
        "expires": "2025-03-04 11:15 UTC",
        "id": "7d1c2f5e-0b7a-4c55-a1f4-3a9e7d2c1b00",
    });
    let needed: &[&str] = match template {
        "verify_email" => &["name", "code", "link", "minutes"],
        "sign_in_code" => &["name", "code", "minutes"],
        "passkey_added" => &["name", "passkey_name", "when"],
        "totp_enabled" | "totp_removed" | "recovery_codes_regenerated" | "password_changed" => {
            &["name", "when"]
        }
        "recovery_code_used" => &["name", "when", "remaining"],
        "new_device_sign_in" => &["name", "when", "ip", "user_agent"],
        "break_glass_elevated" => &["name", "user", "tenant", "when", "reason", "expires", "id"],
        other => panic!("no test variables for template {other}"),
    };
    let mut out = serde_json::Map::new();
    for key in needed {
        out.insert(key.to_string(), all[key].clone());
    }
    serde_json::Value::Object(out)
}

/// What minijinja's HTML auto-escaping makes of `s`.
fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn templates() -> Templates {
    Templates::new().expect("templates compile")
}

fn mailer(transport: MailTransport) -> Mailer {
    Mailer::new(&MailConfig {
        from: "Ward <ward@hospital.example>".parse().unwrap(),
        transport,
    })
    .expect("mailer")
}

#[test]
fn every_template_renders_its_variables_into_both_parts() {
    let t = templates();
    let names: Vec<_> = template_names().collect();
    assert_eq!(names.len(), 10);
    for name in names {
        let vars = vars_for(name);
        let r = t
            .render(name, &vars)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!r.subject.is_empty(), "{name}");
        assert!(!r.subject.contains(['\r', '\n']), "{name}");
        for (key, value) in vars.as_object().unwrap() {
            let value = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert!(r.text.contains(&value), "{name}: text lacks {key}");
            assert!(
                r.html.contains(&html_escaped(&value)),
                "{name}: html lacks {key}"
            );
        }
        assert!(r.html.contains("<html"), "{name}: html uses the layout");
        assert!(
            r.text.contains("contact your administrator"),
            "{name}: text must tell the reader whom to contact"
        );
        assert!(r.html.contains("contact your administrator"), "{name}");
        // Codes never go into the subject (lock screens show it).
        assert!(!r.subject.contains("482913"), "{name}");
    }
}

#[test]
fn notifications_end_with_the_administrator_line() {
    let t = templates();
    for name in template_names() {
        let r = t.render(name, &vars_for(name)).unwrap();
        let last = r.text.trim_end().lines().last().unwrap();
        assert!(
            last.contains("contact your administrator"),
            "{name}: last line is {last:?}"
        );
    }
}

#[test]
fn html_is_escaped_and_text_is_not() {
    let t = templates();
    let vars = json!({"name": "<b>Eve</b> & co", "when": "now"});
    let r = t.render("password_changed", &vars).unwrap();
    assert!(
        r.html.contains("&lt;b&gt;Eve&lt;&#x2f;b&gt; &amp; co"),
        "{}",
        r.html
    );
    assert!(!r.html.contains("<b>Eve"), "{}", r.html);
    assert!(r.text.contains("<b>Eve</b> & co"), "{}", r.text);
}

#[test]
fn a_missing_variable_is_an_error_that_quotes_no_value() {
    let t = templates();
    let err = t
        .render("sign_in_code", &json!({"name": "Ada", "code": "917364"}))
        .unwrap_err();
    assert!(matches!(err, MailError::Template { .. }), "{err}");
    assert!(err.to_string().contains("sign_in_code"), "{err}");
    assert!(!err.to_string().contains("917364"), "{err}");
}

#[test]
fn unknown_templates_are_refused() {
    let err = templates().render("nope", &json!({})).unwrap_err();
    assert!(
        matches!(err, MailError::UnknownTemplate(ref n) if n == "nope"),
        "{err}"
    );
}

#[test]
fn a_subject_with_a_line_break_is_refused() {
    let mut t = templates();
    t.add_for_test(
        "greeting",
        "Hello {{ name }}\n",
        "Hi {{ name }}",
        "<p>Hi {{ name }}</p>",
    );
    assert_eq!(
        t.render("greeting", &json!({"name": "Ada"}))
            .unwrap()
            .subject,
        "Hello Ada"
    );
    for evil in [
        "Ada\r\nBcc: eve@example.org",
        "Ada\nX: y",
        "Ada\rX",
        "Ada\u{0}",
    ] {
        let err = t.render("greeting", &json!({"name": evil})).unwrap_err();
        assert!(
            matches!(err, MailError::SubjectLineBreak(_)),
            "{evil:?}: {err}"
        );
    }
}

#[test]
fn recipients_must_be_one_plain_address() {
    assert!(parse_recipient("ada@hospital.example").is_ok());
    for bad in [
        "",
        "ada",
        "ada@hospital.example\r\nBcc: eve@example.org",
        "ada@hospital.example\n",
        "Ada <ada@hospital.example>",
        "ada@hospital.example, eve@example.org",
        " ada@hospital.example",
    ] {
        let err = parse_recipient(bad).unwrap_err();
        assert!(matches!(err, MailError::InvalidRecipient), "{bad:?}");
        assert!(
            !err.to_string().contains("ada@"),
            "the address is not echoed"
        );
    }
}

#[test]
fn the_none_transport_is_disabled() {
    let m = mailer(MailTransport::None);
    assert!(!m.enabled());
    let err = m
        .send(
            "ada@hospital.example",
            "sign_in_code",
            vars_for("sign_in_code"),
        )
        .unwrap_err();
    assert!(matches!(err, MailError::Disabled), "{err}");
    assert!(mailer(MailTransport::Stdout).enabled());
}

#[test]
fn messages_are_multipart_alternative_with_headers_from_config_and_template() {
    let m = mailer(MailTransport::None);
    let message = m
        .message(
            "ada@hospital.example",
            "sign_in_code",
            &vars_for("sign_in_code"),
        )
        .unwrap();
    let text = String::from_utf8(message.formatted()).unwrap();
    assert!(
        text.contains("From: Ward <ward@hospital.example>\r\n"),
        "{text}"
    );
    assert!(text.contains("To: ada@hospital.example\r\n"), "{text}");
    assert!(text.contains("Subject: Your sign-in code\r\n"), "{text}");
    assert!(text.contains("multipart/alternative"), "{text}");
    assert!(text.contains("text/plain"), "{text}");
    assert!(text.contains("text/html"), "{text}");
}

#[test]
fn the_file_transport_writes_one_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");
    let m = mailer(MailTransport::File {
        dir: mail_dir.clone(),
    });
    m.send(
        "ada@hospital.example",
        "password_changed",
        vars_for("password_changed"),
    )
    .unwrap();
    let files: Vec<_> = std::fs::read_dir(&mail_dir).unwrap().collect();
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&mail_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn debug_output_holds_no_body() {
    let t = templates();
    let r = t.render("sign_in_code", &vars_for("sign_in_code")).unwrap();
    assert!(!format!("{r:?}").contains("482913"));
}
